"""Relay records (private): the problem of one delivery wave and the plan of its trips.

A delivery is two legs: a rider brings a parcel to the compound gate (leg 1, ending at the
parcel's ``arrival``), then a gate volunteer carries it to the door (leg 2). Volunteers carry
several parcels per trip, grouped by building. The time rules that the planner and the
verifier share are in :mod:`commgov.matching.relay._rules`. Instants are timezone-aware and
stored in UTC.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import AwareDatetime, ConfigDict, Field, field_validator

from commgov._problem import CheckedProblem
from commgov._records import FrozenModel, FrozenRecord
from commgov.errors import InputIssue
from commgov.results import PlanResult, Reason, SolveInfo
from commgov.types import GeoPoint, Id, TimeWindow, TimeZoneName

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "SCHEMA_VERSION",
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
]

#: Version of the JSON layout of :class:`RelayProblem` and :class:`RelayPlan`.
SCHEMA_VERSION: Literal["1.0"] = "1.0"

_MAX_CAPACITY = 100


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class Parcel(FrozenRecord):
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


class RelayBuilding(FrozenRecord):
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

    id: Id
    location: GeoPoint | None = None
    walk_m: float | None = Field(default=None, ge=0.0, le=10_000.0, allow_inf_nan=False)
    floors: int = Field(default=1, ge=1, le=200)
    has_lift: bool = False
    door_minutes: float | None = Field(default=None, ge=0.0, le=120.0, allow_inf_nan=False)


class GateVolunteer(FrozenRecord):
    """A volunteer carrying parcels from the gate.

    Parameters
    ----------
    id : str
        Stable, pseudonymous id.
    availability : list of TimeWindow
        When the volunteer is on duty at the gate (half-open, tz-aware); overlapping or
        touching windows are merged (:func:`~commgov.matching.relay.on_duty`).
    max_parcels_per_trip : int or None
        Most parcels carried at once (1–100); ``None``: the problem's ``max_parcels_per_trip``.
    """

    id: Id
    availability: list[TimeWindow] = Field(default_factory=list)
    max_parcels_per_trip: int | None = Field(default=None, ge=1, le=_MAX_CAPACITY)


class RelayProblem(CheckedProblem):
    """Gate-to-door relay delivery of one wave at one gate.

    Construction validates everything at once and raises :class:`commgov.errors.ProblemError`
    listing every issue (record id, field, value, rule): field values, unique ids, parcels
    naming known buildings, ``due`` not before ``arrival``, whole-second instants, and a walk
    for every building (``walk_m``, or a ``location`` and the problem's ``gate``).

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
        Walking speed carrying parcels, metres per minute.
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

    Notes
    -----
    The checks take O(parcels + buildings + volunteers' windows) time.

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

    schema_version: Literal["1.0"] = SCHEMA_VERSION
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

    problem_what: ClassVar[str] = "relay problem"
    problem_record: ClassVar[str] = "problem"

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

    def cross_issues(self) -> list[InputIssue]:
        """Unique ids, known buildings, ``due`` after ``arrival``, whole seconds, walks."""
        issues: list[InputIssue] = []
        groups: Iterable[tuple[str, list[Any]]] = (
            ("parcel", self.parcels),
            ("building", self.buildings),
            ("volunteer", self.volunteers),
        )
        for kind, records in groups:
            counts = Counter(r.id for r in records)
            for rid in sorted(k for k, n in counts.items() if n > 1):
                issues.append(InputIssue(rid, "id", rid, f"duplicate {kind} id"))
        known = {b.id for b in self.buildings}
        for p in self.parcels:
            for name in ("arrival", "due"):
                value = getattr(p, name)
                if value is not None and value.microsecond:
                    issues.append(
                        InputIssue(p.id, name, value.isoformat(), "must be a whole second")
                    )
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
        for v in self.volunteers:
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
        for b in self.buildings:
            if b.walk_m is None and (b.location is None or self.gate is None):
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


# --------------------------------------------------------------------------------- results


class RelayTrip(FrozenModel):
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
        One-way walk in metres (:func:`~commgov.matching.relay.walk_metres`).
    duration_s : int
        ``back − depart`` in seconds (:func:`~commgov.matching.relay.trip_seconds`).
    """

    volunteer_id: str
    building_id: str
    parcel_ids: list[str]
    depart: AwareDatetime
    door: AwareDatetime
    back: AwareDatetime
    walk_m: int
    duration_s: int


class RelayDelivery(FrozenModel):
    """A delivered parcel.

    Attributes
    ----------
    parcel_id, volunteer_id, building_id : str
        The parcel, its carrier and building.
    door : datetime
        UTC instant it is handed over (its trip's ``door``).
    late_s : int
        Seconds past its target door time (:func:`~commgov.matching.relay.target_door_time`),
        0 if on time.
    priority : int
        The parcel's priority.
    """

    parcel_id: str
    volunteer_id: str
    building_id: str
    door: AwareDatetime
    late_s: int
    priority: int


class UndeliveredParcel(FrozenModel):
    """A parcel the plan does not deliver, with its reason.

    Attributes
    ----------
    parcel_id : str
        The parcel.
    priority : int
        Its priority.
    reasons : list of Reason
        One reason: ``RELAY_NO_SHIFT`` (no volunteer is on duty after its arrival long enough
        for a one-parcel trip to its building), ``RELAY_VOLUNTEERS_BUSY(eligible)`` (each of
        the ``eligible`` volunteers who could make that trip has no free time for it and no
        trip to the building with room that departs after the arrival and can be lengthened),
        or, only in a cancelled run, ``CANCELLED`` (the run stopped before it was placed).
    """

    parcel_id: str
    priority: int
    reasons: list[Reason]


class VolunteerHours(FrozenModel):
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

    volunteer_id: str
    trips: int
    parcels: int
    busy_s: int
    hours: float


class RelayTotals(FrozenModel):
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


class RelayPlan(PlanResult):
    """Result of :func:`~commgov.matching.relay.plan_relay`.

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

    #: Column names of :meth:`rows`, in order (so an empty plan still has a CSV header).
    ROW_COLUMNS: ClassVar[tuple[str, ...]] = (
        "parcel_id",
        "status",
        "volunteer_id",
        "building_id",
        "depart",
        "door",
        "late_s",
        "priority",
        "reason_code",
        "reason",
    )

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    trips: list[RelayTrip]
    deliveries: list[RelayDelivery]
    undelivered: list[UndeliveredParcel]
    volunteers: list[VolunteerHours]
    totals: RelayTotals
    info: SolveInfo

    def _rows(self, lang: str) -> list[dict[str, Any]]:
        """One row per parcel, sorted by parcel id: ``delivered`` or ``undelivered``.

        A delivered parcel's row has its carrier, building, the trip's ``depart`` and the
        ``door`` time (ISO 8601, UTC) and ``late_s``; an undelivered one's has its reason code
        and text in ``lang`` (several joined by ``"; "``, codes by ``";"``). Empty strings
        where not applicable.
        """
        depart = {pid: t.depart for t in self.trips for pid in t.parcel_ids}
        out: list[dict[str, Any]] = []
        for d in self.deliveries:
            row: dict[str, Any] = dict.fromkeys(self.ROW_COLUMNS, "")
            when = depart.get(d.parcel_id)
            row.update(
                parcel_id=d.parcel_id,
                status="delivered",
                volunteer_id=d.volunteer_id,
                building_id=d.building_id,
                depart=when.isoformat() if when is not None else "",
                door=d.door.isoformat(),
                late_s=d.late_s,
                priority=d.priority,
            )
            out.append(row)
        for u in self.undelivered:
            row = dict.fromkeys(self.ROW_COLUMNS, "")
            row.update(
                parcel_id=u.parcel_id,
                status="undelivered",
                priority=u.priority,
                reason_code=";".join(r.code for r in u.reasons),
                reason="; ".join(r.text(lang) for r in u.reasons),
            )
            out.append(row)
        out.sort(key=lambda r: str(r["parcel_id"]))
        return out
