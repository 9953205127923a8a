"""Sampling-timeslot problems: the input records (private).

Slots are ``t = 0 … T-1`` with ``slot t = [window.start + tΔ, window.start + (t+1)Δ)``; the
window length must be a whole number of slots. A point is open in slot ``t`` when the slot lies
inside its opening window (clipped to the problem window); a point without an opening window
is open all window long. The definitions the solver and the verifier share (slot capacity,
walking distance, reach) are in :mod:`commgov.scheduling.sampling._rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field

from commgov._problem import CheckedProblem
from commgov._records import FrozenRecord
from commgov.errors import InputIssue, ProblemError
from commgov.org import ZoneRegime
from commgov.scheduling.sampling._limits import MAX_BATCHES, MAX_BUILDINGS, check_record_counts
from commgov.scheduling.sampling._rules import slot_capacity
from commgov.types import (
    GeoPoint,
    Headcount,
    Id,
    Line,
    TimeWindow,
    is_iana_zone,
    no_personal_number,
)

__all__ = [
    "SCHEMA_VERSION",
    "SamplingBatch",
    "SamplingBuilding",
    "SamplingPoint",
    "SamplingPolicy",
    "SamplingProblem",
    "check_problem",
]

#: Schema version of the persisted sampling records.
SCHEMA_VERSION: Literal["1.0"] = "1.0"

_WHAT = "sampling problem"

#: A display name: one printable line of 1–80 characters, no phone or identity number.
DisplayName = Annotated[
    Line, Field(min_length=1, max_length=80), AfterValidator(no_personal_number)
]


class SamplingPoint(FrozenRecord):
    """A sampling point (采样点) with lanes (tables) and an optional opening window.

    Attributes
    ----------
    id : str
    location : GeoPoint
        WGS84, longitude first.
    lanes : int
        Sampling lanes, 1 … 1,000.
    rate_per_lane_per_hour : float
        Swabs per lane per hour, > 0 and ≤ 10,000 (default 100, Beijing 2020: ~30 s per
        swab).
    opening : TimeWindow or None
        When the point is open; clipped to the problem window. ``None``: the whole window.
    name : str or None
        Display name residents know (``春晖苑门岗采样点``): notices, calendars and CSV files
        show it instead of the id (not written when absent).
    """

    id: Id
    location: GeoPoint
    lanes: int = Field(ge=1, le=1000)
    rate_per_lane_per_hour: float = Field(default=100.0, gt=0, le=10_000, allow_inf_nan=False)
    opening: TimeWindow | None = None
    name: DisplayName | None = Field(default=None, exclude_if=lambda v: v is None)


class SamplingBatch(FrozenRecord):
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


class SamplingBuilding(FrozenRecord):
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
    name : str or None
        Display name residents know (``春晖苑 3幢``), shown instead of the id (not written
        when absent).
    """

    id: Id
    location: GeoPoint
    zone: ZoneRegime = ZoneRegime.PRECAUTIONARY
    batches: list[SamplingBatch] = Field(default_factory=list)
    mobility_limited: Headcount = 0
    allowed_point_ids: list[Id] | None = None
    name: DisplayName | None = Field(default=None, exclude_if=lambda v: v is None)


class SamplingPolicy(FrozenRecord):
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
    max_walk_minutes: float = Field(default=15.0, gt=0, le=1440, allow_inf_nan=False)
    walking_speed_m_per_min: float = Field(default=80.0, gt=0, le=1000, allow_inf_nan=False)
    detour_factor: float = Field(default=1.3, ge=1, le=10, allow_inf_nan=False)


class SamplingProblem(CheckedProblem, FrozenRecord):
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
    commgov.errors.SizeLimitError
        More than :data:`~commgov.scheduling.sampling._limits.MAX_BUILDINGS` buildings,
        ``MAX_BATCHES`` batches or ``MAX_POINTS`` points: counted in the raw data before any
        record is validated, O(buildings), so a huge problem is refused at once.
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    timezone: str = "Asia/Shanghai"
    window: TimeWindow
    buildings: list[SamplingBuilding] = Field(default_factory=list)
    points: list[SamplingPoint] = Field(default_factory=list)
    policy: SamplingPolicy = Field(default_factory=SamplingPolicy)

    problem_what: ClassVar[str] = _WHAT
    problem_record: ClassVar[str] = "sampling_problem"

    def __init__(self, /, **data: Any) -> None:
        _check_counts(data)
        super().__init__(**data)

    def cross_issues(self) -> list[InputIssue]:
        """The cross-record rules the problem breaks (none for a problem that was constructed).

        Unknown time zone; duplicate building, batch or point ids; a batch whose
        ``building_id`` is not its building; designated points that do not exist; a window
        that is not a whole number of slots (or shorter than one slot).
        """
        issues: list[InputIssue] = []
        if not is_iana_zone(self.timezone):
            issues.append(
                InputIssue(
                    "sampling_problem", "timezone", self.timezone, "must be an IANA time zone name"
                )
            )
        delta = timedelta(minutes=self.policy.slot_minutes)
        if self.window.duration % delta or self.window.duration < delta:
            issues.append(
                InputIssue(
                    "sampling_problem",
                    "window",
                    self.window.minutes,
                    f"window length (minutes) must be a positive multiple of "
                    f"slot_minutes={self.policy.slot_minutes}",
                )
            )
        point_ids: set[str] = set()
        for p in self.points:
            if p.id in point_ids:
                issues.append(InputIssue(p.id, "id", p.id, "duplicate point id"))
            point_ids.add(p.id)
        building_ids: set[str] = set()
        batch_ids: set[str] = set()
        for b in self.buildings:
            if b.id in building_ids:
                issues.append(InputIssue(b.id, "id", b.id, "duplicate building id"))
            building_ids.add(b.id)
            for k in b.batches:
                if k.id in batch_ids:
                    issues.append(InputIssue(k.id, "id", k.id, "duplicate batch id"))
                batch_ids.add(k.id)
                if k.building_id != b.id:
                    issues.append(
                        InputIssue(
                            k.id,
                            "building_id",
                            k.building_id,
                            f"must equal the id of its building {b.id!r}",
                        )
                    )
            for pid in b.allowed_point_ids or []:
                if pid not in point_ids:
                    issues.append(
                        InputIssue(
                            b.id,
                            "allowed_point_ids",
                            pid,
                            "must name a sampling point of the problem",
                        )
                    )
        return issues

    # ---- derived quantities (pure functions of the data) ---------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The problem's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def display_names(self) -> dict[str, str]:
        """Id → display name of the points and buildings that have one (O(records))."""
        out = {p.id: p.name for p in self.points if p.name is not None}
        out.update((b.id, b.name) for b in self.buildings if b.name is not None)
        return out

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
        return slot_capacity(
            point.lanes,
            point.rate_per_lane_per_hour,
            self.policy.slot_minutes,
            self.policy.utilisation,
        )

    def canonical(self) -> Self:
        """The same problem with buildings, batches and points sorted by id.

        ``self`` itself when it is canonical already (records in id order, designated points
        sorted without repeats), and only the buildings out of order are copied otherwise:
        O(buildings + batches + points) to check, no copy of a problem in id order.
        """
        changed = False
        buildings = []
        for b in self.buildings:
            batches = b.batches
            apids = b.allowed_point_ids
            batches_sorted = all(batches[i].id < batches[i + 1].id for i in range(len(batches) - 1))
            apids_sorted = apids is None or all(
                apids[i] < apids[i + 1] for i in range(len(apids) - 1)
            )
            if batches_sorted and apids_sorted:
                buildings.append(b)
                continue
            changed = True
            buildings.append(
                b.model_copy(
                    update={
                        "batches": sorted(batches, key=lambda k: k.id),
                        "allowed_point_ids": None if apids is None else sorted(set(apids)),
                    }
                )
            )
        if any(buildings[i].id >= buildings[i + 1].id for i in range(len(buildings) - 1)):
            buildings.sort(key=lambda b: b.id)
            changed = True
        points = self.points
        if any(points[i].id >= points[i + 1].id for i in range(len(points) - 1)):
            points = sorted(points, key=lambda p: p.id)
            changed = True
        if not changed:
            return self
        return self.model_copy(update={"buildings": buildings, "points": points})


def _count(value: object) -> int:
    """Records in a raw list (anything else is left to validation, which refuses it)."""
    return len(value) if isinstance(value, list | tuple) else 0


def _check_counts(data: Mapping[str, Any]) -> None:
    """The record-count guards, on the raw data (records or mappings), before validation."""
    buildings = data.get("buildings")
    n_batches = 0
    records: list[Any] | tuple[Any, ...] = buildings if isinstance(buildings, list | tuple) else []
    if len(records) > MAX_BUILDINGS:
        records = []  # refused for its buildings before its batches are counted
    for b in records:
        batches = b.get("batches") if isinstance(b, Mapping) else getattr(b, "batches", None)
        n_batches += _count(batches)
        if n_batches > MAX_BATCHES:
            break
    check_record_counts(_count(buildings), _count(data.get("points")), n_batches)


def check_problem(problem: SamplingProblem) -> None:
    """Check the cross-record rules of a sampling problem.

    A problem built with its constructor, ``model_validate`` or ``model_validate_json`` has
    been checked already; this checks one made otherwise (``model_construct``).

    Parameters
    ----------
    problem : SamplingProblem

    Raises
    ------
    ProblemError
        With every issue found (:meth:`SamplingProblem.cross_issues`).

    Notes
    -----
    O(buildings + batches + points).
    """
    issues = problem.cross_issues()
    if issues:
        raise ProblemError(issues, what=_WHAT)
