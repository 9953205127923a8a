"""Sampling-timeslot plans: the result records (private)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime

from commgov._records import FrozenRecord
from commgov.results import PlanResult, Reason, SolveInfo
from commgov.scheduling.sampling._problem import SCHEMA_VERSION
from commgov.types import Id

__all__ = [
    "BatchAssignment",
    "DoorToDoorBuilding",
    "HomeVisit",
    "PointSlotLoad",
    "SamplingPlan",
    "SamplingTotals",
    "UnservedBatch",
]


class BatchAssignment(FrozenRecord):
    """One batch sent to a point in a slot.

    Attributes
    ----------
    batch_id, building_id, point_id : str
    slot : int
        Slot index ``t`` (0-based).
    slot_start : datetime
        Start of the slot, aware, in the problem's time zone.
    people : int
        Walk-in residents of the batch.
    walk_m : int
        Walking distance building → point in metres (:func:`walk_distance_m`).
    """

    batch_id: Id
    building_id: Id
    point_id: Id
    slot: int
    slot_start: AwareDatetime
    people: int
    walk_m: int


class PointSlotLoad(FrozenRecord):
    """Fluid queue figures of one open (point, slot) (F2 time-expanded queue).

    ``served = min(backlog_before + arrivals, capacity)`` and
    ``backlog = backlog_before + arrivals - served``, where ``backlog_before`` is the backlog
    of the previous slot of the same point (0 before the first slot).

    Attributes
    ----------
    point_id : str
    slot : int
    arrivals, capacity, served, backlog : int
        People.
    """

    point_id: Id
    slot: int
    arrivals: int
    capacity: int
    served: int
    backlog: int


class DoorToDoorBuilding(FrozenRecord):
    """A sealed building, sampled door to door.

    Attributes
    ----------
    building_id : str
    households : int
        Households of its batches.
    residents : int
        Walk-in residents of its batches plus its mobility-limited residents.
    reason : Reason
        ``SEALED_ZONE(residents=…)``.
    """

    building_id: Id
    households: int
    residents: int
    reason: Reason


class HomeVisit(FrozenRecord):
    """Mobility-limited residents of a non-sealed building, sampled at home.

    Attributes
    ----------
    building_id : str
    residents : int
    """

    building_id: Id
    residents: int


class UnservedBatch(FrozenRecord):
    """A batch of a non-sealed building that the plan could not place.

    Attributes
    ----------
    batch_id, building_id : str
    people : int
    reasons : list of Reason
        ``NO_POINT_IN_REACH(limit_m, distance_m)`` when no allowed, open point is within the
        walk limit (``distance_m`` is the nearest allowed open point, omitted if there is
        none); otherwise ``POINT_CAPACITY_USED(people)``.
    """

    batch_id: Id
    building_id: Id
    people: int
    reasons: list[Reason]


class SamplingTotals(FrozenRecord):
    """Totals of a plan.

    Attributes
    ----------
    walk_in_people : int
        People in batches of non-sealed buildings.
    served_people, unserved_people : int
    walk_person_m : int
        Σ people · walk_m over assignments (person-metres).
    person_slots : int
        Σ people · slot over assignments.
    max_backlog : int
        Largest backlog over all (point, slot).
    last_slot : int
        Last slot with an arrival, -1 when nothing is assigned.
    """

    walk_in_people: int
    served_people: int
    unserved_people: int
    walk_person_m: int
    person_slots: int
    max_backlog: int
    last_slot: int


class SamplingPlan(PlanResult, FrozenRecord):
    """A sampling-timeslot plan: who goes where and when, loads, door-to-door, unserved.

    Attributes
    ----------
    schema_version : str
    assignments : list of BatchAssignment
        Sorted by batch id.
    building_points : dict of str to str
        Building id → its one point (buildings with at least one assigned batch).
    loads : list of PointSlotLoad
        Every open (point, slot), sorted by point id then slot.
    door_to_door : list of DoorToDoorBuilding
        Sealed buildings, by id.
    home_visits : list of HomeVisit
        Mobility-limited residents of non-sealed buildings, by building id.
    unserved : list of UnservedBatch
        By batch id.
    totals : SamplingTotals
    info : SolveInfo
        Status, objective tiers ``served``, ``walk_person_m``, ``person_slots``, bound and gap
        on the walking tier, options and versions. ``OPTIMAL``: tiers 1-2 proven;
        ``FEASIBLE``: valid, not proven; ``LIMIT``: the deadline cut the greedy completion
        short; ``CANCELLED``: the caller's ``cancel`` token stopped the run (see
        :func:`commgov.scheduling.sampling.plan_sampling`).
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    assignments: list[BatchAssignment]
    building_points: dict[str, str]
    loads: list[PointSlotLoad]
    door_to_door: list[DoorToDoorBuilding]
    home_visits: list[HomeVisit]
    unserved: list[UnservedBatch]
    totals: SamplingTotals
    info: SolveInfo

    #: Column names of :meth:`rows`, in order (so an empty plan still has a CSV header).
    ROW_COLUMNS: ClassVar[tuple[str, ...]] = (
        "kind",
        "batch_id",
        "building_id",
        "point_id",
        "slot",
        "slot_start",
        "households",
        "people",
        "walk_m",
        "reason_code",
        "reason",
    )

    def _rows(self, lang: str) -> list[dict[str, Any]]:
        """One flat row per batch and per building sampled at home (:meth:`rows`).

        Keys :attr:`ROW_COLUMNS`, empty strings where not applicable. ``kind`` is one of

        * ``"assignment"``: a batch sent to ``point_id`` in ``slot`` (starting at
          ``slot_start``, ISO 8601), ``people`` walking ``walk_m`` metres;
        * ``"unserved"``: a batch left unserved, with its reason;
        * ``"door_to_door"``: a sealed building, ``households`` and ``people`` (walk-in
          plus mobility-limited residents) sampled door to door, reason ``SEALED_ZONE``;
        * ``"home_visit"``: the mobility-limited residents (``people``) of a building that
          is not sealed, sampled at home.

        ``reason_code`` is the machine code
        (:class:`~commgov.scheduling.sampling.SamplingReasonCode` or
        :class:`~commgov.results.CommonReasonCode`) and ``reason`` its text in ``lang``
        (several reasons joined by ``"; "``, codes by ``";"``). Batch rows come first, by
        batch id, then the door-to-door and home-visit rows, by building id (a building has
        at most one of them).
        """

        def row(kind: str, **values: str | int) -> dict[str, Any]:
            out: dict[str, Any] = dict.fromkeys(self.ROW_COLUMNS, "")
            out.update(kind=kind, **values)
            return out

        def reasons(rs: list[Reason]) -> dict[str, str | int]:
            return {
                "reason_code": ";".join(str(r.code) for r in rs),
                "reason": "; ".join(r.text(lang) for r in rs),
            }

        batches = [
            row(
                "assignment",
                batch_id=a.batch_id,
                building_id=a.building_id,
                point_id=a.point_id,
                slot=a.slot,
                slot_start=a.slot_start.isoformat(),
                people=a.people,
                walk_m=a.walk_m,
            )
            for a in self.assignments
        ]
        batches.extend(
            row(
                "unserved",
                batch_id=u.batch_id,
                building_id=u.building_id,
                people=u.people,
                **reasons(u.reasons),
            )
            for u in self.unserved
        )
        batches.sort(key=lambda r: str(r["batch_id"]))
        buildings = [
            row(
                "door_to_door",
                building_id=d.building_id,
                households=d.households,
                people=d.residents,
                **reasons([d.reason]),
            )
            for d in self.door_to_door
        ]
        buildings.extend(
            row("home_visit", building_id=h.building_id, people=h.residents)
            for h in self.home_visits
        )
        buildings.sort(key=lambda r: str(r["building_id"]))
        return batches + buildings
