"""Sampling-timeslot problems and plans: records, capacity and walking distance.

This module holds everything the solver (:mod:`commgov.scheduling._solver`) and the
independent verifier (:mod:`commgov.scheduling.verify`) must agree on: the input records, the
result records, and the three definitions shared on purpose (DESIGN, "Scheduling"):

* :func:`slot_capacity`: people one point can swab in one slot,
  ``c = floor(lanes · rate · Δ/60 · ρ)``, computed in exact decimal arithmetic;
* :func:`walk_distance_m`: great-circle distance × detour factor, rounded to whole metres;
* :func:`reach_limit_m`: ``max_walk_minutes × walking_speed_m_per_min``.

Slots are ``t = 0 … T-1`` with ``slot t = [window.start + tΔ, window.start + (t+1)Δ)``; the
window length must be a whole number of slots. A point is open in slot ``t`` when the slot lies
inside its opening window (clipped to the problem window); a point without an opening window
is open all window long.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from commgov._problem import CheckedProblem
from commgov.errors import InputIssue, ProblemError
from commgov.org.zones import ZoneRegime
from commgov.results import Reason, SolveInfo
from commgov.types import GeoPoint, Headcount, Id, TimeWindow, haversine_m

__all__ = [
    "SCHEMA_VERSION",
    "BatchAssignment",
    "DoorToDoorBuilding",
    "HomeVisit",
    "PointSlotLoad",
    "SamplingBatch",
    "SamplingBound",
    "SamplingBuilding",
    "SamplingPlan",
    "SamplingPoint",
    "SamplingPolicy",
    "SamplingProblem",
    "SamplingTotals",
    "UnservedBatch",
    "check_problem",
    "reach_limit_m",
    "slot_capacity",
    "walk_distance_m",
]

#: Schema version of the persisted sampling records.
SCHEMA_VERSION: Literal["1.0"] = "1.0"

_WHAT = "sampling problem"


def _exact(x: float) -> Fraction:
    """The decimal a user meant by a float (``0.85`` → 17/20, not 0.8499999…)."""
    return Fraction(repr(float(x)))


def slot_capacity(lanes: int, rate: float, slot_minutes: int, utilisation: float) -> int:
    """People one sampling point can swab in one slot.

    ``c = floor(lanes · rate · slot_minutes / 60 · utilisation)``, the slot capacity of the
    DESIGN ("Scheduling") and of reference/scheduling.md §2.1. The product is computed with
    exact fractions of the decimal values given, so ``2 · 100 · 30/60 · 0.85`` is 85, never
    84.99999.

    Parameters
    ----------
    lanes : int
        Sampling lanes (tables) open at the point, ≥ 0.
    rate : float
        Swabs per lane per hour (default in :class:`SamplingPoint`: 100/h).
    slot_minutes : int
        Slot length Δ in minutes.
    utilisation : float
        Target utilisation ρ in (0, 1].

    Returns
    -------
    int
        Capacity in people per slot.

    Examples
    --------
    >>> slot_capacity(2, 100.0, 30, 0.85)
    85
    >>> slot_capacity(3, 100.0, 30, 0.85)
    127
    """
    value = Fraction(int(lanes)) * _exact(rate) * Fraction(int(slot_minutes), 60) * _exact(
        utilisation
    )
    return max(0, math.floor(value))


def reach_limit_m(policy: SamplingPolicy) -> float:
    """Longest walk allowed, in metres: ``max_walk_minutes × walking_speed_m_per_min``.

    Parameters
    ----------
    policy : SamplingPolicy

    Returns
    -------
    float
        The limit in metres (1,200 m with the defaults 15 min × 80 m/min).
    """
    return float(_exact(policy.max_walk_minutes) * _exact(policy.walking_speed_m_per_min))


def walk_distance_m(
    building: SamplingBuilding, point: SamplingPoint, policy: SamplingPolicy
) -> int:
    """Walking distance from a building to a sampling point, in whole metres.

    Great-circle distance (haversine, :func:`commgov.types.haversine_m`) times the policy's
    detour factor (default 1.3, reference/scheduling.md §4.1), rounded half to even to an
    integer so that solver costs are exact integers.

    Parameters
    ----------
    building : SamplingBuilding
    point : SamplingPoint
    policy : SamplingPolicy

    Returns
    -------
    int
        Metres.
    """
    d = haversine_m(building.location.lon, building.location.lat, point.location.lon,
                    point.location.lat)
    return round(d * policy.detour_factor)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class SamplingPoint(_Model):
    """A sampling point (采样点) with lanes (tables) and an optional opening window.

    Attributes
    ----------
    id : str
    location : GeoPoint
        WGS84, longitude first.
    lanes : int
        Sampling lanes, ≥ 1.
    rate_per_lane_per_hour : float
        Swabs per lane per hour (default 100, Beijing 2020: ~30 s per swab).
    opening : TimeWindow or None
        When the point is open; clipped to the problem window. ``None``: the whole window.
    """

    id: Id
    location: GeoPoint
    lanes: int = Field(ge=1)
    rate_per_lane_per_hour: float = Field(default=100.0, gt=0, allow_inf_nan=False)
    opening: TimeWindow | None = None


class SamplingBatch(_Model):
    """A batch of residents who are called together: an entrance, or ≤ N households.

    Attributes
    ----------
    id : str
    building_id : str
        The building the batch belongs to.
    households : int
        Households in the batch, ≥ 0.
    people : int
        Walk-in residents (mobility-limited residents are counted on the building), ≥ 0.
    """

    id: Id
    building_id: Id
    households: Headcount
    people: Headcount


class SamplingBuilding(_Model):
    """A building (楼栋) with its batches, zone regime and mobility-limited residents.

    Attributes
    ----------
    id : str
    location : GeoPoint
    zone : ZoneRegime
        Regimes of rank 2 (``SEALED`` 封控区, ``HIGH`` 高风险区: residents stay home) are
        sampled door to door; other buildings walk to a point, only to ``allowed_point_ids``
        when given (the designated points of a ``CONTROLLED``/``MEDIUM`` zone).
    batches : list of SamplingBatch
    mobility_limited : int
        Residents sampled at home (not part of any batch), ≥ 0.
    allowed_point_ids : list of str or None
        Designated points; ``None`` means any point.
    """

    id: Id
    location: GeoPoint
    zone: ZoneRegime = ZoneRegime.PRECAUTIONARY
    batches: list[SamplingBatch] = Field(default_factory=list)
    mobility_limited: Headcount = 0
    allowed_point_ids: list[Id] | None = None


class SamplingPolicy(_Model):
    """Operating rules of a sampling round.

    Attributes
    ----------
    slot_minutes : int
        Slot length Δ in minutes (default 30).
    utilisation : float
        Target lane utilisation ρ in (0, 1] (default 0.85).
    max_queue : int
        Largest backlog a point may carry from one slot to the next, in people (default 200,
        the waiting area of guideline v3).
    max_walk_minutes : float
        Longest walk in minutes (default 15, the "15-minute sampling circle").
    walking_speed_m_per_min : float
        Walking speed in metres per minute (default 80).
    detour_factor : float
        Street distance / great-circle distance (default 1.3), ≥ 1.
    """

    slot_minutes: int = Field(default=30, ge=1, le=24 * 60)
    utilisation: float = Field(default=0.85, gt=0, le=1, allow_inf_nan=False)
    max_queue: Headcount = 200
    max_walk_minutes: float = Field(default=15.0, gt=0, allow_inf_nan=False)
    walking_speed_m_per_min: float = Field(default=80.0, gt=0, allow_inf_nan=False)
    detour_factor: float = Field(default=1.3, ge=1, allow_inf_nan=False)


class SamplingProblem(CheckedProblem, _Model):
    """A sampling-timeslot problem: buildings and batches → (sampling point, slot).

    Constructing one — directly, with ``model_validate`` or with ``model_validate_json`` —
    checks every cross-record rule and raises :class:`ProblemError` listing all issues
    (record id, field, value, rule); field-level errors are reported the same way.

    Attributes
    ----------
    schema_version : str
    timezone : str
        IANA time zone of the plan's instants (``"Asia/Shanghai"``).
    window : TimeWindow
        The sampling window; its length must be a whole number of slots.
    buildings : list of SamplingBuilding
    points : list of SamplingPoint
    policy : SamplingPolicy

    Raises
    ------
    ProblemError
        Duplicate ids, a batch filed under another building, unknown designated points, an
        unknown time zone, or a window that is not a whole number of slots.
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    timezone: str = "Asia/Shanghai"
    window: TimeWindow
    buildings: list[SamplingBuilding] = Field(default_factory=list)
    points: list[SamplingPoint] = Field(default_factory=list)
    policy: SamplingPolicy = Field(default_factory=SamplingPolicy)

    problem_what: ClassVar[str] = _WHAT
    problem_record: ClassVar[str] = "sampling_problem"

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            # an error inside a building or point names that record's id
            raise ProblemError.from_validation(
                exc, data, record="sampling_problem", what=_WHAT
            ) from None
        check_problem(self)

    # ---- derived quantities (pure functions of the data) ---------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The problem's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def n_slots(self) -> int:
        """Number of slots T = window length / slot length."""
        return int(self.window.duration // timedelta(minutes=self.policy.slot_minutes))

    def slot_start(self, t: int) -> datetime:
        """Start of slot ``t`` as an aware datetime in the problem's time zone."""
        start = self.window.start + t * timedelta(minutes=self.policy.slot_minutes)
        return start.astimezone(self.tz)

    def open_slots(self, point: SamplingPoint) -> list[int]:
        """Slots ``t`` whose interval lies inside the point's opening (clipped to the window)."""
        delta = timedelta(minutes=self.policy.slot_minutes)
        out = []
        for t in range(self.n_slots):
            s = self.window.start + t * delta
            op = point.opening
            if op is None or (op.start <= s and s + delta <= op.end):
                out.append(t)
        return out

    def capacity(self, point: SamplingPoint) -> int:
        """:func:`slot_capacity` of ``point`` under the problem's policy (people per slot)."""
        return slot_capacity(point.lanes, point.rate_per_lane_per_hour,
                             self.policy.slot_minutes, self.policy.utilisation)

    def canonical(self) -> Self:
        """The same problem with buildings, batches and points sorted by id."""
        buildings = [
            b.model_copy(update={
                "batches": sorted(b.batches, key=lambda k: k.id),
                "allowed_point_ids": None if b.allowed_point_ids is None
                else sorted(set(b.allowed_point_ids)),
            })
            for b in sorted(self.buildings, key=lambda b: b.id)
        ]
        points = sorted(self.points, key=lambda p: p.id)
        return self.model_copy(update={"buildings": buildings, "points": points})


def check_problem(problem: SamplingProblem) -> None:
    """Check the cross-record rules of a sampling problem.

    Parameters
    ----------
    problem : SamplingProblem

    Raises
    ------
    ProblemError
        With every issue found: unknown time zone; duplicate building, batch or point ids; a
        batch whose ``building_id`` is not its building; designated points that do not exist;
        a window that is not a whole number of slots (or shorter than one slot).
    """
    issues: list[InputIssue] = []
    try:
        ZoneInfo(problem.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        issues.append(InputIssue("sampling_problem", "timezone", problem.timezone,
                                 "must be an IANA time zone name"))
    delta = timedelta(minutes=problem.policy.slot_minutes)
    if problem.window.duration % delta or problem.window.duration < delta:
        issues.append(InputIssue("sampling_problem", "window", problem.window.minutes,
                                 f"window length (minutes) must be a positive multiple of "
                                 f"slot_minutes={problem.policy.slot_minutes}"))
    point_ids: set[str] = set()
    for p in problem.points:
        if p.id in point_ids:
            issues.append(InputIssue(p.id, "id", p.id, "duplicate point id"))
        point_ids.add(p.id)
    building_ids: set[str] = set()
    batch_ids: set[str] = set()
    for b in problem.buildings:
        if b.id in building_ids:
            issues.append(InputIssue(b.id, "id", b.id, "duplicate building id"))
        building_ids.add(b.id)
        for k in b.batches:
            if k.id in batch_ids:
                issues.append(InputIssue(k.id, "id", k.id, "duplicate batch id"))
            batch_ids.add(k.id)
            if k.building_id != b.id:
                issues.append(InputIssue(k.id, "building_id", k.building_id,
                                         f"must equal the id of its building {b.id!r}"))
        for pid in b.allowed_point_ids or []:
            if pid not in point_ids:
                issues.append(InputIssue(b.id, "allowed_point_ids", pid,
                                         "must name a sampling point of the problem"))
    if issues:
        raise ProblemError(issues, what=_WHAT)


# ---- the plan ---------------------------------------------------------------------------


class BatchAssignment(_Model):
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


class PointSlotLoad(_Model):
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


class DoorToDoorBuilding(_Model):
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


class HomeVisit(_Model):
    """Mobility-limited residents of a non-sealed building, sampled at home.

    Attributes
    ----------
    building_id : str
    residents : int
    """

    building_id: Id
    residents: int


class UnservedBatch(_Model):
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


class SamplingTotals(_Model):
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


class SamplingBound(_Model):
    """The splittable relaxation of a sampling problem (:func:`commgov.scheduling.lower_bound`).

    Residents may be split person by person over points and slots, with the plan's arcs
    (allowed, open points within the walk limit), slot capacities and backlog cap. Any plan
    serves at most ``served_people``, and any plan that serves that many walks at least
    ``walk_person_m``.

    Attributes
    ----------
    walk_in_people : int
        People in batches of buildings that walk to a point (not sealed or high-risk).
    reachable_people : int
        Of those, people of buildings with at least one allowed, open point in reach.
    served_people : int
        Most people the relaxation serves (an upper bound for any plan).
    walk_person_m : int
        Least Σ people · walk_m (person-metres) of the relaxation serving ``served_people``
        (a lower bound for any plan serving as many).
    """

    walk_in_people: int
    reachable_people: int
    served_people: int
    walk_person_m: int


class SamplingPlan(_Model):
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
        short (see :func:`commgov.scheduling.plan_sampling`).
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

    def to_json(self, *, indent: int | None = None) -> str:
        """The plan as JSON (byte-identical for identical plans).

        Parameters
        ----------
        indent : int or None
            Pretty-print indentation.

        Returns
        -------
        str
        """
        return self.model_dump_json(indent=indent)

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

    def rows(self, lang: str = "en") -> list[dict[str, str | int]]:
        """One flat row per batch and per building sampled at home, for CSV export.

        Parameters
        ----------
        lang : {"en", "zh"}, default "en"
            Language of the reason text.

        Returns
        -------
        list of dict
            Keys :attr:`ROW_COLUMNS`, empty strings where not applicable. ``kind`` is one of

            * ``"assignment"``: a batch sent to ``point_id`` in ``slot`` (starting at
              ``slot_start``, ISO 8601), ``people`` walking ``walk_m`` metres;
            * ``"unserved"``: a batch left unserved, with its reason;
            * ``"door_to_door"``: a sealed building, ``households`` and ``people`` (walk-in
              plus mobility-limited residents) sampled door to door, reason ``SEALED_ZONE``;
            * ``"home_visit"``: the mobility-limited residents (``people``) of a building that
              is not sealed, sampled at home.

            ``reason_code`` is the machine code (:class:`~commgov.results.ReasonCode`) and
            ``reason`` its text in ``lang`` (several reasons joined by ``"; "``, codes by
            ``";"``). Batch rows come first, by batch id, then the door-to-door and home-visit
            rows, by building id (a building has at most one of them).

        Raises
        ------
        ValueError
            If ``lang`` is neither ``"en"`` nor ``"zh"``.
        """
        if lang not in ("en", "zh"):
            raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")

        def row(kind: str, **values: str | int) -> dict[str, str | int]:
            out: dict[str, str | int] = dict.fromkeys(self.ROW_COLUMNS, "")
            out.update(kind=kind, **values)
            return out

        def reasons(rs: list[Reason]) -> dict[str, str | int]:
            return {"reason_code": ";".join(r.code.value for r in rs),
                    "reason": "; ".join(r.text(lang) for r in rs)}

        batches = [
            row("assignment", batch_id=a.batch_id, building_id=a.building_id,
                point_id=a.point_id, slot=a.slot, slot_start=a.slot_start.isoformat(),
                people=a.people, walk_m=a.walk_m)
            for a in self.assignments
        ]
        batches.extend(
            row("unserved", batch_id=u.batch_id, building_id=u.building_id, people=u.people,
                **reasons(u.reasons))
            for u in self.unserved
        )
        batches.sort(key=lambda r: str(r["batch_id"]))
        buildings = [
            row("door_to_door", building_id=d.building_id, households=d.households,
                people=d.residents, **reasons([d.reason]))
            for d in self.door_to_door
        ]
        buildings.extend(
            row("home_visit", building_id=h.building_id, people=h.residents)
            for h in self.home_visits
        )
        buildings.sort(key=lambda r: str(r["building_id"]))
        return batches + buildings
