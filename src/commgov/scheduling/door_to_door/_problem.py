"""Records of a door-to-door rounds problem (private; see :mod:`commgov.scheduling.door_to_door`).

A **building** here is one stairwell: the households reached from one ground-floor door by one
stair or lift (a walk-up building with three entrances is three records). Households sit on a
floor of a building; two-person teams share a shift; the policy holds the timing rules that
:mod:`._rules` turns into whole seconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self

from pydantic import Field

from commgov._problem import CheckedProblem
from commgov._records import FrozenRecord
from commgov.errors import InputIssue
from commgov.types import MAX_HEADCOUNT, GeoPoint, Id, TimeWindow, TimeZoneName

__all__ = [
    "BASE",
    "SCHEMA_VERSION",
    "Access",
    "DoorToDoorProblem",
    "RoundBuilding",
    "RoundHousehold",
    "RoundPolicy",
    "RoundTeam",
    "VisitKind",
]

#: Version of the JSON layout of :class:`DoorToDoorProblem` and the plan.
SCHEMA_VERSION: Literal["1.0"] = "1.0"

WHAT = "door-to-door problem"
#: Place key of the base in :func:`walk_matrix`.
BASE = "<base>"


class Access(StrEnum):
    """How the floors of a building are reached: ``STAIRS`` (walk-up) or ``LIFT``."""

    STAIRS = "stairs"
    LIFT = "lift"


class VisitKind(StrEnum):
    """Why a household is visited.

    ``SEALED``: a sealed or high-risk building, every household. ``HOME_VISIT``: registered
    mobility-limited residents of a building that is not sealed.
    """

    SEALED = "sealed"
    HOME_VISIT = "home_visit"


class RoundBuilding(FrozenRecord):
    """A building, or one stairwell (单元) of it: households reached from one ground-floor door.

    Attributes
    ----------
    id : str
        Stable id (an entrance id such as ``320508017016/C01/B03/E2`` in the org model).
    location : GeoPoint
        The ground-floor door, WGS84 (longitude first).
    floors : int
        Storeys above ground, 1–200.
    access : Access
        ``stairs`` (default) or ``lift``.
    minutes_per_floor : float or None
        Minutes to climb (or descend) one floor, 0–30; ``None``: the policy's
        ``stairs_minutes_per_floor`` or ``lift_minutes_per_floor``.
    """

    id: Id
    location: GeoPoint
    floors: int = Field(default=1, ge=1, le=200)
    access: Access = Access.STAIRS
    minutes_per_floor: float | None = Field(default=None, ge=0.0, le=30.0, allow_inf_nan=False)


class RoundHousehold(FrozenRecord):
    """A household (户) to visit at its door.

    Attributes
    ----------
    id : str
        Stable, pseudonymous id.
    building_id : str
        Its :class:`RoundBuilding`.
    floor : int
        Its floor, 1 (ground) … the building's ``floors``.
    residents : int
        Residents to sample, ≥ 1.
    service_minutes : float or None
        Minutes at the door (0–240); ``None``: ``minutes_per_household + minutes_per_resident ×
        residents`` of the policy.
    kind : VisitKind
        ``sealed`` (default) or ``home_visit``.
    """

    id: Id
    building_id: Id
    floor: int = Field(default=1, ge=1, le=200)
    residents: int = Field(default=1, ge=1, le=MAX_HEADCOUNT)
    service_minutes: float | None = Field(default=None, ge=0.0, le=240.0, allow_inf_nan=False)
    kind: VisitKind = VisitKind.SEALED


class RoundTeam(FrozenRecord):
    """Two-person sampling teams sharing one shift.

    Attributes
    ----------
    id : str
        Stable id.
    shift : TimeWindow
        ``[start, end)``, timezone-aware, whole seconds: the units depart the base at ``start``
        and must be back by ``end``.
    count : int
        Identical units (teams) of this record, 1–100 (default 1); unit ``k`` is numbered
        1 … ``count`` in routes.
    persons : int
        People per unit (default 2: one swabs, one registers); recorded, not used in timing.
    max_minutes : float or None
        Longest round in minutes (a PPE shift, 4–6 h), > 0; ``None``: the whole shift.
    """

    id: Id
    shift: TimeWindow
    count: int = Field(default=1, ge=1, le=100)
    persons: int = Field(default=2, ge=1, le=10)
    max_minutes: float | None = Field(default=None, gt=0.0, le=7 * 24 * 60, allow_inf_nan=False)


class RoundPolicy(FrozenRecord):
    """Timing rules of door-to-door rounds (minutes, metres per minute).

    The defaults give 3–4.5 minutes at a door and 2 minutes a floor in walk-ups, the figures
    field teams reported for the 2022 rounds.

    Attributes
    ----------
    minutes_per_household : float
        Fixed minutes at each door (knock, hand hygiene, barcode), default 2.5.
    minutes_per_resident : float
        Minutes per resident swabbed, default 0.5.
    minutes_between_doors : float
        Minutes between two doors of the same building, on top of floors climbed, default 0.5.
    stairs_minutes_per_floor : float
        Minutes per floor by stairs (up or down, average), default 2.0.
    lift_minutes_per_floor : float
        Minutes per floor by lift, default 0.1.
    walking_speed_m_per_min : float
        Walking speed in metres per minute, default 80.
    detour_factor : float
        Walking distance / great-circle distance, ≥ 1, default 1.3.
    """

    minutes_per_household: float = Field(default=2.5, ge=0.0, le=240.0, allow_inf_nan=False)
    minutes_per_resident: float = Field(default=0.5, ge=0.0, le=60.0, allow_inf_nan=False)
    minutes_between_doors: float = Field(default=0.5, ge=0.0, le=60.0, allow_inf_nan=False)
    stairs_minutes_per_floor: float = Field(default=2.0, ge=0.0, le=30.0, allow_inf_nan=False)
    lift_minutes_per_floor: float = Field(default=0.1, ge=0.0, le=30.0, allow_inf_nan=False)
    walking_speed_m_per_min: float = Field(default=80.0, gt=0.0, le=1000.0, allow_inf_nan=False)
    detour_factor: float = Field(default=1.3, ge=1.0, le=100.0, allow_inf_nan=False)


class DoorToDoorProblem(CheckedProblem, FrozenRecord):
    """Door-to-door rounds: households, their buildings, the base and the teams.

    Construction — directly, with ``model_validate`` or ``model_validate_json`` — validates
    everything and raises :class:`~commgov.errors.ProblemError` listing every issue (record id,
    field, value, rule): field values, unique ids (buildings, households, teams), households
    naming a known building and a floor it has, and whole-second shifts.

    Attributes
    ----------
    schema_version : str
    timezone : str
        IANA time zone, for display (instants are stored in UTC).
    base : GeoPoint
        Where the teams start and end (community office, sampling point), WGS84.
    buildings : list of RoundBuilding
    households : list of RoundHousehold
    teams : list of RoundTeam
    policy : RoundPolicy

    Raises
    ------
    commgov.errors.ProblemError
        If any field or cross-record rule is broken; ``.issues`` lists them all.

    Notes
    -----
    The checks take O(buildings + households + teams).

    Examples
    --------
    >>> DoorToDoorProblem(base=GeoPoint(lon=120.6, lat=31.3), households=[
    ...     RoundHousehold(id="h1", building_id="b9")])
    Traceback (most recent call last):
    ...
    commgov.errors.ProblemError: door-to-door problem: 1 problem
      - h1.building_id = 'b9': unknown building id
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    timezone: TimeZoneName = "Asia/Shanghai"
    base: GeoPoint
    buildings: list[RoundBuilding] = Field(default_factory=list)
    households: list[RoundHousehold] = Field(default_factory=list)
    teams: list[RoundTeam] = Field(default_factory=list)
    policy: RoundPolicy = Field(default_factory=RoundPolicy)

    problem_what: ClassVar[str] = WHAT
    problem_record: ClassVar[str] = "problem"

    def cross_issues(self) -> list[InputIssue]:
        """Duplicate ids, unknown buildings, floors above the building, fractional shifts."""
        issues: list[InputIssue] = []
        groups: tuple[tuple[str, Sequence[Any]], ...] = (
            ("building", self.buildings),
            ("household", self.households),
            ("team", self.teams),
        )
        for kind, records in groups:
            counts = Counter(r.id for r in records)
            for rid in sorted(k for k, n in counts.items() if n > 1):
                issues.append(InputIssue(rid, "id", rid, f"duplicate {kind} id"))
        buildings = self.building_map()
        for h in self.households:
            b = buildings.get(h.building_id)
            if b is None:
                issues.append(InputIssue(h.id, "building_id", h.building_id,
                                         "unknown building id"))
            elif h.floor > b.floors:
                issues.append(InputIssue(h.id, "floor", h.floor,
                                         f"must be at most the {b.floors} floors of {b.id!r}"))
        for t in self.teams:
            w = t.shift
            if w.start.microsecond or w.end.microsecond:
                issues.append(InputIssue(t.id, "shift", f"[{w.start.isoformat()}, "
                                         f"{w.end.isoformat()})", "bounds must be whole seconds"))
        return issues

    def canonical(self) -> Self:
        """The same problem with buildings, households and teams sorted by id."""
        return self.model_copy(update={
            "buildings": sorted(self.buildings, key=lambda b: b.id),
            "households": sorted(self.households, key=lambda h: h.id),
            "teams": sorted(self.teams, key=lambda t: t.id),
        })

    def building_map(self) -> dict[str, RoundBuilding]:
        """Building id → building."""
        return {b.id: b for b in self.buildings}

    def origin(self) -> datetime | None:
        """The earliest shift start of any team (UTC), ``None`` without teams.

        Makespans are counted from it.
        """
        return min((t.shift.start for t in self.teams), default=None)
