"""Relay delivery (接力配送): gate-to-door trips of one delivery wave.

A delivery is two legs: a rider brings a parcel to the compound gate (leg 1, ending at the
parcel's ``arrival``), then a gate volunteer carries it to the door (leg 2). Volunteers carry
several parcels per trip, grouped by building. This module holds the problem and plan records
and the rules that the solver (:func:`plan_relay`) and the independent verifier
(:func:`commgov.matching.is_valid_relay_plan`) share; nothing here imports a solver.

The model (``DESIGN.md``, "Matching", relay tasks):

* a **trip** is one volunteer carrying 1 … ``max_parcels_per_trip`` parcels of **one
  building**; it starts at the gate (``depart``), takes ``handover_minutes`` at the gate, walks
  to the building, spends :func:`door_seconds` per parcel there (stairs, knock, contact-free
  handover), and walks back (``back``). Its length in whole seconds is
  :func:`trip_seconds`; every parcel of the trip counts as delivered at the trip's ``door``
  time, when the last handover ends (:func:`door_offset_seconds`, conservative and independent
  of the order of doors);
* **leg 2 follows leg 1**: a trip departs no earlier than the latest ``arrival`` of its parcels;
* a trip lies inside one of the volunteer's on-duty windows (:func:`on_duty`, availability
  windows merged), and one volunteer's trips do not overlap (half-open ``[depart, back)``);
* the walk from the gate is the building's ``walk_m`` when given, else the great-circle
  distance from the gate times ``detour_factor``, rounded half up to whole metres
  (:func:`walk_metres`); at ``walking_speed_m_per_min`` (default 80 m/min, ``DESIGN.md``)
  it takes :func:`walk_seconds`;
* a parcel's **target door time** is its ``due`` when given, else ``arrival +
  max_wait_minutes`` (:func:`target_door_time`); lateness is counted past it in whole seconds
  (:func:`lateness_seconds`) and is a cost, not a hard rule.

Durations given in minutes are converted to whole seconds by rounding up (:func:`to_seconds`).
Instants are timezone-aware and stored in UTC.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from commgov._problem import CheckedProblem
from commgov.errors import InputIssue, ProblemError
from commgov.results import Reason, SolveInfo
from commgov.types import GeoPoint, Id, TimeWindow, TimeZoneName, haversine_m, to_seconds

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "RELAY_SCHEMA_VERSION",
    "GateVolunteer",
    "Parcel",
    "RelayBuilding",
    "RelayDelivery",
    "RelayPlan",
    "RelayProblem",
    "RelayTotals",
    "RelayTrip",
    "UndeliveredParcel",
    "VolunteerHours",
    "door_offset_seconds",
    "door_seconds",
    "lateness_seconds",
    "on_duty",
    "plan_relay",
    "target_door_time",
    "to_seconds",
    "trip_seconds",
    "walk_metres",
    "walk_seconds",
]

#: Version of the JSON layout of :class:`RelayProblem` and :class:`RelayPlan`.
RELAY_SCHEMA_VERSION: Literal["1.0"] = "1.0"

_WHAT = "relay problem"
_MAX_CAPACITY = 100


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class Parcel(BaseModel):
    """One parcel of a delivery wave, at the gate after leg 1.

    Parameters
    ----------
    id : str
        Stable id (no whitespace or commas).
    household_id : str
        The household it is for (pseudonymous id); a household may have several parcels.
    building_id : str
        The building of the household; must be one of the problem's buildings.
    arrival : datetime
        Timezone-aware instant the rider leaves it at the gate (end of leg 1); stored in UTC.
    due : datetime or None
        Timezone-aware latest door time wanted (medicine, a meal); ``None``: ``arrival +
        max_wait_minutes``. Not before ``arrival``. Lateness past it is minimised, not forbidden.
    priority : int, default 1
        Weight of delivering it (1–1,000,000; e.g. 3 for a resident living alone).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: Id
    household_id: Id
    building_id: Id
    arrival: AwareDatetime
    due: AwareDatetime | None = None
    priority: int = Field(default=1, ge=1, le=1_000_000)

    @field_validator("arrival", "due", mode="after")
    @classmethod
    def _as_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _utc(value)


class RelayBuilding(BaseModel):
    """A building served from the gate.

    Parameters
    ----------
    id : str
        Stable id (``320508017016/C01/B03``).
    location : GeoPoint or None
        WGS84 point (longitude first); needed unless ``walk_m`` is given.
    walk_m : float or None
        Walking distance from the gate in metres (0–10,000), overriding the computed one.
    floors : int, default 1
        Storeys (1–200); without a lift each parcel costs ``stair_minutes_per_floor`` per floor
        above the ground floor.
    has_lift : bool, default False
        Whether a lift serves the floors.
    door_minutes : float or None
        Minutes spent in the building per parcel (0–120), overriding the problem's
        ``door_minutes`` and the stair allowance.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: Id
    location: GeoPoint | None = None
    walk_m: float | None = Field(default=None, ge=0.0, le=10_000.0, allow_inf_nan=False)
    floors: int = Field(default=1, ge=1, le=200)
    has_lift: bool = False
    door_minutes: float | None = Field(default=None, ge=0.0, le=120.0, allow_inf_nan=False)


class GateVolunteer(BaseModel):
    """A volunteer carrying parcels from the gate.

    Parameters
    ----------
    id : str
        Stable, pseudonymous id.
    availability : list of TimeWindow
        When the volunteer is on duty at the gate (half-open, tz-aware); overlapping or
        touching windows are merged (:func:`on_duty`).
    max_parcels_per_trip : int or None
        Most parcels carried at once (1–100); ``None``: the problem's ``max_parcels_per_trip``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: Id
    availability: list[TimeWindow] = Field(default_factory=list)
    max_parcels_per_trip: int | None = Field(default=None, ge=1, le=_MAX_CAPACITY)


class RelayProblem(CheckedProblem):
    """Gate-to-door relay delivery of one wave at one gate.

    Construction validates everything at once and raises :class:`commgov.errors.ProblemError`
    listing every issue (record id, field, value, rule): field values, unique ids, parcels
    naming known buildings, ``due`` not before ``arrival``, and a walk for every building
    (``walk_m``, or a ``location`` and the problem's ``gate``).

    Parameters
    ----------
    schema_version : str, default "1.0"
        Layout version of the record.
    timezone : str
        IANA time zone of the compound (``"Asia/Shanghai"``), for display.
    gate : GeoPoint or None
        The gate (门岗) or supply transit station (物资中转站) where riders drop parcels.
    parcels : list of Parcel
        The wave; ids unique.
    buildings : list of RelayBuilding
        Buildings served; ids unique.
    volunteers : list of GateVolunteer
        Gate volunteers; ids unique.
    walking_speed_m_per_min : float, default 80
        Walking speed carrying parcels, metres per minute (``DESIGN.md``: 80 m/min).
    detour_factor : float, default 1.3
        Great-circle → walking distance multiplier (as sampling plans).
    handover_minutes : float, default 2
        Minutes at the gate per trip (collecting and checking the parcels), 0–120.
    door_minutes : float, default 1.5
        Minutes per parcel at the building on the ground floor (knock, contact-free handover).
    stair_minutes_per_floor : float, default 0.5
        Extra minutes per parcel per floor above the ground floor without a lift.
    max_parcels_per_trip : int, default 4
        Default trip capacity of volunteers (1–100).
    max_wait_minutes : float, default 60
        Target door time of parcels without ``due``: arrival plus this many minutes.

    Raises
    ------
    commgov.errors.ProblemError
        If any field or cross-record rule is broken; ``.issues`` lists them all.

    Examples
    --------
    >>> RelayProblem(timezone="Asia/Shanghai", parcels=[], buildings=[],
    ...              volunteers=[], walking_speed_m_per_min=0)
    Traceback (most recent call last):
    ...
    commgov.errors.ProblemError: relay problem: 1 problem
      - problem.walking_speed_m_per_min = 0: Input should be greater than 0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal["1.0"] = RELAY_SCHEMA_VERSION
    timezone: TimeZoneName
    gate: GeoPoint | None = None
    parcels: list[Parcel] = Field(default_factory=list)
    buildings: list[RelayBuilding] = Field(default_factory=list)
    volunteers: list[GateVolunteer] = Field(default_factory=list)
    walking_speed_m_per_min: float = Field(default=80.0, gt=0.0, le=1000.0, allow_inf_nan=False)
    detour_factor: float = Field(default=1.3, ge=1.0, le=100.0, allow_inf_nan=False)
    handover_minutes: float = Field(default=2.0, ge=0.0, le=120.0, allow_inf_nan=False)
    door_minutes: float = Field(default=1.5, ge=0.0, le=120.0, allow_inf_nan=False)
    stair_minutes_per_floor: float = Field(default=0.5, ge=0.0, le=10.0, allow_inf_nan=False)
    max_parcels_per_trip: int = Field(default=4, ge=1, le=_MAX_CAPACITY)
    max_wait_minutes: float = Field(default=60.0, ge=0.0, le=10_080.0, allow_inf_nan=False)

    problem_what: ClassVar[str] = _WHAT
    problem_record: ClassVar[str] = "problem"

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ProblemError.from_validation(exc, data, record="problem", what=_WHAT) from None
        issues = _cross_issues(self)
        if issues:
            raise ProblemError(issues, what=_WHAT)

    def building(self, building_id: str) -> RelayBuilding:
        """The building with this id (``KeyError`` if none)."""
        for b in self.buildings:
            if b.id == building_id:
                return b
        raise KeyError(building_id)

    def capacity(self, volunteer: GateVolunteer) -> int:
        """Most parcels ``volunteer`` carries per trip."""
        if volunteer.max_parcels_per_trip is not None:
            return volunteer.max_parcels_per_trip
        return self.max_parcels_per_trip


def _cross_issues(problem: RelayProblem) -> list[InputIssue]:
    issues: list[InputIssue] = []
    groups: Iterable[tuple[str, list[Any]]] = (
        ("parcel", problem.parcels),
        ("building", problem.buildings),
        ("volunteer", problem.volunteers),
    )
    for kind, records in groups:
        counts = Counter(r.id for r in records)
        for rid in sorted(k for k, n in counts.items() if n > 1):
            issues.append(InputIssue(rid, "id", rid, f"duplicate {kind} id"))
    known = {b.id for b in problem.buildings}
    for p in problem.parcels:
        for name in ("arrival", "due"):
            value = getattr(p, name)
            if value is not None and value.microsecond:
                issues.append(InputIssue(p.id, name, value.isoformat(), "must be a whole second"))
        if p.building_id not in known:
            issues.append(InputIssue(p.id, "building_id", p.building_id, "unknown building id"))
        if p.due is not None and p.due < p.arrival:
            issues.append(
                InputIssue(
                    p.id,
                    "due",
                    p.due.isoformat(),
                    f"must not be before arrival {p.arrival.isoformat()}",
                )
            )
    for v in problem.volunteers:
        for k, w in enumerate(v.availability):
            if w.start.microsecond or w.end.microsecond:
                issues.append(
                    InputIssue(
                        v.id,
                        f"availability.{k}",
                        f"[{w.start.isoformat()}, {w.end.isoformat()})",
                        "bounds must be whole seconds",
                    )
                )
    for b in problem.buildings:
        if b.walk_m is None and (b.location is None or problem.gate is None):
            what = "location" if b.location is None else "walk_m"
            issues.append(
                InputIssue(
                    b.id,
                    what,
                    None,
                    "needs walk_m, or a location and the problem's gate, to know the walk",
                )
            )
    return issues


# ------------------------------------------------------------------------- shared rules


def walk_metres(problem: RelayProblem, building: RelayBuilding) -> int:
    """One-way walk from the gate to the building, in whole metres.

    ``building.walk_m`` rounded half up when given; otherwise the great-circle distance from
    ``problem.gate`` to ``building.location`` (:func:`commgov.types.haversine_m`) times
    ``problem.detour_factor``, rounded half up.

    Parameters
    ----------
    problem : RelayProblem
        Supplies the gate and detour factor.
    building : RelayBuilding
        The building.

    Returns
    -------
    int
        Metres.
    """
    if building.walk_m is not None:
        return math.floor(building.walk_m + 0.5)
    gate, loc = problem.gate, building.location
    if gate is None or loc is None:  # refused by RelayProblem's checks
        raise ValueError(f"building {building.id} has no walk_m and no location/gate")
    d = haversine_m(gate.lon, gate.lat, loc.lon, loc.lat) * problem.detour_factor
    return math.floor(d + 0.5)


def walk_seconds(problem: RelayProblem, building: RelayBuilding) -> int:
    """One-way walking time gate → building in whole seconds (rounded up).

    ``walk_metres / walking_speed_m_per_min`` minutes, converted by :func:`to_seconds`.
    """
    return to_seconds(walk_metres(problem, building) / problem.walking_speed_m_per_min)


def door_seconds(problem: RelayProblem, building: RelayBuilding) -> int:
    """Seconds spent in the building per parcel.

    ``building.door_minutes`` when given, else ``problem.door_minutes`` plus, without a lift,
    ``stair_minutes_per_floor × (floors − 1)``; converted by :func:`to_seconds`.
    """
    if building.door_minutes is not None:
        return to_seconds(building.door_minutes)
    stairs = 0.0 if building.has_lift else problem.stair_minutes_per_floor * (building.floors - 1)
    return to_seconds(problem.door_minutes + stairs)


def door_offset_seconds(problem: RelayProblem, building: RelayBuilding, parcels: int) -> int:
    """Seconds from a trip's departure to its last handover (its ``door`` time).

    ``handover + walk + parcels × door`` seconds (:func:`to_seconds` of ``handover_minutes``,
    :func:`walk_seconds`, :func:`door_seconds`).
    """
    return (
        to_seconds(problem.handover_minutes)
        + walk_seconds(problem, building)
        + parcels * door_seconds(problem, building)
    )


def trip_seconds(problem: RelayProblem, building: RelayBuilding, parcels: int) -> int:
    """Length of a trip carrying ``parcels`` parcels to ``building``, in whole seconds.

    ``handover + 2 × walk + parcels × door``: :func:`door_offset_seconds` plus the walk back.

    Examples
    --------
    >>> p = RelayProblem(timezone="Asia/Shanghai", buildings=[RelayBuilding(id="b", walk_m=240)])
    >>> trip_seconds(p, p.buildings[0], 2)  # 2 min + 2 × 3 min + 2 × 1.5 min
    660
    """
    return door_offset_seconds(problem, building, parcels) + walk_seconds(problem, building)


def target_door_time(problem: RelayProblem, parcel: Parcel) -> datetime:
    """The parcel's target door time (UTC): ``due``, else ``arrival + max_wait_minutes``."""
    if parcel.due is not None:
        return parcel.due
    return parcel.arrival + timedelta(seconds=to_seconds(problem.max_wait_minutes))


def lateness_seconds(door: datetime, target: datetime) -> int:
    """Whole seconds (rounded up) by which ``door`` is after ``target``; 0 if not late."""
    late = (door - target).total_seconds()
    return max(0, math.ceil(round(late, 6)))


def on_duty(volunteer: GateVolunteer) -> list[TimeWindow]:
    """The volunteer's availability merged: sorted, overlapping or touching windows joined.

    A trip must lie inside one of these windows, so a trip may run across two back-to-back
    availability windows.
    """
    merged: list[tuple[datetime, datetime]] = []
    for w in sorted(volunteer.availability, key=lambda w: (w.start, w.end)):
        if merged and w.start <= merged[-1][1]:
            if w.end > merged[-1][1]:
                merged[-1] = (merged[-1][0], w.end)
        else:
            merged.append((w.start, w.end))
    return [TimeWindow(start=s, end=e) for s, e in merged]


# --------------------------------------------------------------------------------- results


class RelayTrip(BaseModel):
    """One gate-to-door trip.

    Attributes
    ----------
    volunteer_id, building_id : str
        Who carries, and to which building.
    parcel_ids : list of str
        The parcels carried, sorted by id (1 … the volunteer's trip capacity).
    depart, door, back : datetime
        UTC instants: leaving the gate (after the last parcel's arrival), the last handover,
        and the return to the gate; the trip occupies ``[depart, back)``.
    walk_m : int
        One-way walk in metres (:func:`walk_metres`).
    duration_s : int
        ``back − depart`` in seconds (:func:`trip_seconds`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    volunteer_id: str
    building_id: str
    parcel_ids: list[str]
    depart: AwareDatetime
    door: AwareDatetime
    back: AwareDatetime
    walk_m: int
    duration_s: int


class RelayDelivery(BaseModel):
    """A delivered parcel.

    Attributes
    ----------
    parcel_id, volunteer_id, building_id : str
        The parcel, its carrier and building.
    door : datetime
        UTC instant it is handed over (its trip's ``door``).
    late_s : int
        Seconds past its target door time (:func:`target_door_time`), 0 if on time.
    priority : int
        The parcel's priority.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    parcel_id: str
    volunteer_id: str
    building_id: str
    door: AwareDatetime
    late_s: int
    priority: int


class UndeliveredParcel(BaseModel):
    """A parcel the plan does not deliver, with its reason.

    Attributes
    ----------
    parcel_id : str
        The parcel.
    priority : int
        Its priority.
    reasons : list of Reason
        One reason: ``RELAY_NO_SHIFT`` (no volunteer is on duty after its arrival long enough
        for a one-parcel trip to its building) or ``RELAY_VOLUNTEERS_BUSY(eligible)`` (each of
        the ``eligible`` volunteers who could make that trip has no free time for it and no
        trip to the building with room that departs after the arrival and can be lengthened).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    parcel_id: str
    priority: int
    reasons: list[Reason]


class VolunteerHours(BaseModel):
    """Work of one volunteer in the plan (every volunteer is listed, idle ones too).

    Attributes
    ----------
    volunteer_id : str
        The volunteer.
    trips, parcels : int
        Trips made and parcels delivered.
    busy_s : int
        Sum of trip lengths in seconds.
    hours : float
        ``busy_s / 3600``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    volunteer_id: str
    trips: int
    parcels: int
    busy_s: int
    hours: float


class RelayTotals(BaseModel):
    """Totals of a relay plan.

    Attributes
    ----------
    parcels, delivered, undelivered, trips : int
        Counts.
    priority_delivered, priority_total : int
        Sum of priorities delivered, and of all parcels.
    late_parcels : int
        Delivered parcels past their target door time.
    late_s, weighted_late_s : int
        Sum of lateness in seconds, plain and weighted by priority.
    volunteer_s : int
        Sum of trip lengths in seconds (volunteer time spent carrying).
    volunteer_hours : float
        ``volunteer_s / 3600``.
    parcels_per_volunteer_hour : float
        ``delivered / volunteer_hours`` rounded to 3 decimals (0 when nothing is delivered).
    last_door : datetime or None
        Latest handover (UTC), ``None`` when nothing is delivered.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    parcels: int
    delivered: int
    undelivered: int
    trips: int
    priority_delivered: int
    priority_total: int
    late_parcels: int
    late_s: int
    weighted_late_s: int
    volunteer_s: int
    volunteer_hours: float
    parcels_per_volunteer_hour: float
    last_door: AwareDatetime | None


class RelayPlan(BaseModel):
    """Result of :func:`plan_relay`.

    Attributes
    ----------
    schema_version : str
        Layout version.
    trips : list of RelayTrip
        Sorted by volunteer id, then departure.
    deliveries : list of RelayDelivery
        Delivered parcels, sorted by parcel id.
    undelivered : list of UndeliveredParcel
        The other parcels, sorted by parcel id, one reason each.
    volunteers : list of VolunteerHours
        Every volunteer of the problem, sorted by id.
    totals : RelayTotals
        Counts, lateness, volunteer time and parcels per volunteer-hour.
    info : SolveInfo
        Status, objective tiers ``priority_delivered``, ``weighted_late_s``, ``volunteer_s``,
        bound and gap on ``volunteer_s``, options, seed, versions.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal["1.0"] = RELAY_SCHEMA_VERSION
    trips: list[RelayTrip]
    deliveries: list[RelayDelivery]
    undelivered: list[UndeliveredParcel]
    volunteers: list[VolunteerHours]
    totals: RelayTotals
    info: SolveInfo

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise as JSON (byte-identical for the same input, seed, options and versions)."""
        return self.model_dump_json(indent=indent)


def plan_relay(
    problem: RelayProblem,
    *,
    time_limit_s: float = 30.0,
    deterministic_time: float = 0.3,
    seed: int = 0,
    strict: bool = False,
) -> RelayPlan:
    """Plan the gate-to-door trips of a relay-delivery wave.

    Objective, lexicographic (each tier optimised with the previous ones fixed):

    1. ``priority_delivered``: maximise the sum of priorities of delivered parcels;
    2. ``weighted_late_s``: minimise Σ priority × seconds past each parcel's target door time;
    3. ``volunteer_s``: minimise total trip time (so parcels of a building share trips).

    Method: a greedy insertion plan (each parcel, by priority then target time, joins a trip to
    its building that departs after its arrival and can be lengthened, or starts a one-parcel
    trip at the earliest free moment of any volunteer) is the warm start of a CP-SAT model
    (OR-Tools; Laborie et al., "IBM ILOG CP optimizer for scheduling", *Constraints* 23, 2018,
    for the interval formulation): per building, as many candidate trips as parcels, each with
    a departure, a parcel count and a duration affine in it, an optional interval per
    (volunteer, on-duty window) and one ``NoOverlap`` per volunteer. The three tiers are solved
    in turn, each fixing the previous optimum and hinted with the previous solution. A final
    repair inserts any parcel the greedy rule can still place, so every undelivered parcel's
    reason holds. The model is built from records sorted by id; CP-SAT runs with one worker,
    ``random_seed = seed`` and a deterministic-time budget, so the same input, seed and options
    give byte-identical JSON whatever the input order. ``time_limit_s`` is only a wall-clock
    safety cap: if it cuts a tier short, the result is still valid but may depend on timing.

    Parameters
    ----------
    problem : RelayProblem
        The validated problem.
    time_limit_s : float, default 30
        Wall-clock safety cap in seconds for all CP-SAT tiers together (> 0).
    deterministic_time : float, default 0.3
        CP-SAT deterministic-time budget for all tiers together (> 0), split equally among
        the tiers solved (a few seconds of wall-clock time for a wave of 400 parcels).
    seed : int, default 0
        CP-SAT ``random_seed`` (0 ≤ seed < 2³¹).
    strict : bool, default False
        If ``True``, raise :class:`~commgov.errors.InfeasibleError` when a parcel is undelivered.

    Returns
    -------
    RelayPlan
        Trips, deliveries (door times, lateness), undelivered parcels with a reason each,
        volunteer hours, totals including parcels per volunteer-hour, and
        :class:`~commgov.results.SolveInfo`: ``OPTIMAL`` when all three tiers are proven
        optimal, else ``FEASIBLE``. ``bound`` is a proven lower bound on ``volunteer_s`` over
        the plans as good in the higher tiers, and ``gap = (volunteer_s − bound) / bound``:
        CP-SAT's bound when tiers 1 and 2 are proven optimal, else, when every parcel that
        can be delivered is, the counting bound Σ over buildings of the fewest trips
        (parcels ÷ largest capacity, rounded up) × (handover + 2 walks) + parcels × door time;
        ``None`` otherwise.

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`RelayProblem` or an option has the wrong type.
    ValueError
        If an option is out of range.
    commgov.errors.SizeLimitError
        If the wave has more than :data:`~commgov.matching._relay_solver.MAX_PARCELS` parcels.
    commgov.errors.InfeasibleError
        If ``strict`` and some parcel is undelivered.

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> at = datetime(2022, 4, 12, 8, 0, tzinfo=tz)
    >>> shift = TimeWindow(start=at, end=datetime(2022, 4, 12, 10, 0, tzinfo=tz))
    >>> p = RelayProblem(
    ...     timezone="Asia/Shanghai",
    ...     buildings=[RelayBuilding(id="b1", walk_m=160)],
    ...     parcels=[Parcel(id=f"p{i}", household_id=f"h{i}", building_id="b1", arrival=at)
    ...              for i in range(3)],
    ...     volunteers=[GateVolunteer(id="v1", availability=[shift])])
    >>> plan = plan_relay(p)
    >>> [(t.volunteer_id, t.parcel_ids, t.duration_s) for t in plan.trips]
    [('v1', ['p0', 'p1', 'p2'], 630)]
    >>> plan.info.status.value, plan.totals.parcels_per_volunteer_hour
    ('OPTIMAL', 17.143)
    """
    from commgov.matching._relay_solver import solve_relay

    return solve_relay(
        problem,
        time_limit_s=time_limit_s,
        deterministic_time=deterministic_time,
        seed=seed,
        strict=strict,
    )
