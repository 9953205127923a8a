"""Records of a door-to-door plan (private; see :mod:`commgov.scheduling.door_to_door`)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime

from commgov._records import FrozenRecord
from commgov.results import ObjectiveBound, PlanResult, Reason, SolveInfo
from commgov.scheduling.door_to_door._problem import SCHEMA_VERSION, VisitKind
from commgov.types import Id

__all__ = ["DoorToDoorPlan", "RoundStop", "RoundTotals", "TeamRoute", "UncoveredHousehold"]


class RoundStop(FrozenRecord):
    """One household visited on a route.

    Attributes
    ----------
    household_id, building_id : str
    floor : int
    arrive : datetime
        UTC instant the team reaches the door (service starts at once).
    leave : datetime
        ``arrive + service_s``.
    travel_s : int
        The leg into this door (:func:`leg_seconds`).
    service_s : int
        :func:`service_seconds`.
    """

    household_id: Id
    building_id: Id
    floor: int
    arrive: AwareDatetime
    leave: AwareDatetime
    travel_s: int
    service_s: int


class TeamRoute(FrozenRecord):
    """The round of one team unit: base → households → base (used units only).

    Attributes
    ----------
    team_id : str
    unit : int
        1 … the team's ``count``.
    depart, back : datetime
        UTC: leaving the base (the shift start) and returning.
    duration_s : int
        ``back − depart``: ``travel_s + service_s``.
    travel_s : int
        All legs, the return included.
    service_s : int
    stops : list of RoundStop
        In visiting order.
    """

    team_id: Id
    unit: int
    depart: AwareDatetime
    back: AwareDatetime
    duration_s: int
    travel_s: int
    service_s: int
    stops: list[RoundStop]


class UncoveredHousehold(FrozenRecord):
    """A household the plan leaves out, with one reason.

    Attributes
    ----------
    household_id, building_id : str
    kind : VisitKind
    alone_s : int
        Its round trip alone: base → door, service, door → base (seconds).
    reasons : list of Reason
        ``NO_TEAM_IN_TIME(alone_min)``: no team unit can serve it even alone within its limit
        (``alone_s`` exceeds every unit's time from departure to limit).
        ``TEAMS_FULL(eligible)``: the ``eligible`` units that could serve it alone are all
        used, and inserting it anywhere in any route (an unused unit's empty route included)
        would break that unit's limit. ``TIME_LIMIT_REACHED(time_limit_s)``: not tried before
        the deadline (status ``LIMIT``); ``CANCELLED``: not tried before the run was cancelled
        (status ``CANCELLED``).
    """

    household_id: Id
    building_id: Id
    kind: VisitKind
    alone_s: int
    reasons: list[Reason]


class RoundTotals(FrozenRecord):
    """Totals of a plan.

    Attributes
    ----------
    households, covered, uncovered : int
    residents_covered : int
    units, units_used : int
        Team units in the problem and with a route.
    makespan_s : int
        Latest return − origin, seconds (0 when nothing is covered).
    makespan_minutes : float
        ``makespan_s / 60`` rounded to 2 decimals.
    last_back : datetime or None
        Latest return (UTC).
    travel_s, service_s : int
        Over all routes.
    """

    households: int
    covered: int
    uncovered: int
    residents_covered: int
    units: int
    units_used: int
    makespan_s: int
    makespan_minutes: float
    last_back: AwareDatetime | None
    travel_s: int
    service_s: int


class DoorToDoorPlan(PlanResult):
    """Result of :func:`plan_door_to_door`.

    Attributes
    ----------
    schema_version : str
    origin : datetime or None
        Earliest shift start (UTC); makespans are seconds after it.
    routes : list of TeamRoute
        Used units, by team id then unit.
    uncovered : list of UncoveredHousehold
        By household id.
    bound : commgov.results.ObjectiveBound
        :func:`door_to_door_lower_bound` of the covered households (``tiers["makespan_s"]``:
        the least makespan of any plan covering exactly them).
    totals : RoundTotals
    info : SolveInfo
        Objective tiers ``uncovered``, ``makespan_s``, ``travel_s``; ``bound`` = the analytic
        bound on ``makespan_s`` and ``gap = (makespan − bound) / bound``. ``OPTIMAL`` when every
        household is covered and the makespan equals the bound (travel, the last tier, is then
        minimised heuristically, not proven); ``FEASIBLE`` otherwise; ``LIMIT`` when the
        deadline stopped the final insertion pass; ``CANCELLED`` when the caller's ``cancel``
        token stopped the run (the routes found by then, the rest uncovered with reason
        ``CANCELLED``). ``stopped_by`` says whether the wall clock or ``cancel`` cut a
        search short.

    Examples
    --------
    >>> DoorToDoorPlan.ROW_COLUMNS[:4]
    ('row', 'team_id', 'unit', 'stop')
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    origin: AwareDatetime | None
    routes: list[TeamRoute]
    uncovered: list[UncoveredHousehold]
    bound: ObjectiveBound
    totals: RoundTotals
    info: SolveInfo

    ROW_COLUMNS: ClassVar[tuple[str, ...]] = (
        "row", "team_id", "unit", "stop", "household_id", "building_id", "floor", "arrive",
        "leave", "travel_s", "service_s", "reason_code", "reason")

    def _rows(self, lang: str) -> list[dict[str, Any]]:
        """One row per visit (route order) and per uncovered household (with its reason)."""
        out: list[dict[str, Any]] = []
        for r in self.routes:
            for k, s in enumerate(r.stops, start=1):
                out.append({"row": "visit", "team_id": r.team_id, "unit": r.unit, "stop": k,
                            "household_id": s.household_id, "building_id": s.building_id,
                            "floor": s.floor, "arrive": s.arrive.isoformat(),
                            "leave": s.leave.isoformat(), "travel_s": s.travel_s,
                            "service_s": s.service_s, "reason_code": "", "reason": ""})
        for u in self.uncovered:
            reason = u.reasons[0] if u.reasons else None
            out.append({"row": "uncovered", "team_id": "", "unit": None, "stop": None,
                        "household_id": u.household_id, "building_id": u.building_id,
                        "floor": None, "arrive": "", "leave": "", "travel_s": None,
                        "service_s": None,
                        "reason_code": str(reason.code) if reason else "",
                        "reason": reason.text(lang) if reason else ""})
        return out
