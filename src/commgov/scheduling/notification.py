"""Notification plans (通知): which volunteer tells which buildings, in what order.

When a sampling round is called, the community's volunteers (海棠先锋 Haitang Pioneers in
Gusu) must reach every household: in 虎池苑社区 20 pioneers notified 1,765 households within
half an hour through building WeChat groups (楼栋微信群), knocking on the doors of households
without a phone (reference/domain.md §1). This module holds the problem and plan records and
the rules that the planner (:func:`plan_notification`) and the independent verifier
(:func:`commgov.scheduling.notify_verify.is_valid_notification_plan`) share; nothing here
imports a solver.

The model:

* each **volunteer** leaves their start place (home) at their start time (never before the
  problem's ``start``, the moment the notice is issued) and walks from building to building
  at their walking speed; a route is open (nobody walks back);
* at each **building** the volunteer spends :func:`notify_seconds`: with
  ``mode="group_message"`` a message in the building group plus a door knock for each
  household the group does not reach (:func:`knocked_households`), with
  ``mode="door_knock"`` a knock on every door; plus the climb of the stairs (or a lift ride)
  in each entrance where doors are knocked;
* a building counts as **notified** when its last household is reached, i.e. when the
  volunteer leaves it (``finish``), and the plan's **makespan** is the time from ``start``
  until the last household of all is reached;
* walking distance is great-circle distance × ``detour_factor`` in whole metres
  (:func:`walk_metres`, as :func:`commgov.scheduling.walk_distance_m`), walking time whole
  seconds rounded up (:func:`walk_seconds`).

All durations are whole seconds (minutes are converted by :func:`to_seconds`, rounding up);
instants are timezone-aware, stored in UTC in the problem and shown in the problem's time zone
in the plan.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from commgov._problem import CheckedProblem
from commgov.errors import InputIssue, ProblemError
from commgov.results import SolveInfo
from commgov.types import MAX_HEADCOUNT, GeoPoint, Id, TimeZoneName, haversine_m, to_seconds

if TYPE_CHECKING:
    from commgov.org import OrgGraph, OrgModel

__all__ = [
    "NOTIFICATION_SCHEMA_VERSION",
    "BuildingNotice",
    "NotificationBuilding",
    "NotificationPlan",
    "NotificationProblem",
    "NotificationStop",
    "NotificationTotals",
    "Notifier",
    "NotifyMode",
    "VolunteerRoute",
    "knocked_households",
    "notification_lower_bound",
    "notification_problem_from_org",
    "notify_minutes",
    "notify_seconds",
    "plan_notification",
    "start_offset_seconds",
    "to_seconds",
    "walk_metres",
    "walk_seconds",
]

#: Version of the JSON layout of :class:`NotificationProblem` and :class:`NotificationPlan`.
NOTIFICATION_SCHEMA_VERSION: Literal["1.0"] = "1.0"

_WHAT = "notification problem"


class NotifyMode(StrEnum):
    """How a building is told.

    ``GROUP_MESSAGE``: a message in the building's group (楼栋微信群) reaches the households in
    it at once; the others are knocked on. ``DOOR_KNOCK``: every door is knocked on (敲门).
    """

    GROUP_MESSAGE = "group_message"
    DOOR_KNOCK = "door_knock"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class NotificationBuilding(_Record):
    """A building (楼栋) whose households must be told.

    Parameters
    ----------
    id : str
        Stable id (``320508017016/C01/B03``).
    location : GeoPoint
        WGS84 point (longitude first) where the volunteer arrives.
    households : int
        Households to tell, ≥ 1 (leave empty buildings out).
    floors : int, default 1
        Storeys (1–200).
    entrances : int, default 1
        Entrances (单元, stairwells), 1–100; each climbed separately.
    has_lift : bool, default False
        Whether a lift serves the floors (then a climb is a lift ride).
    has_group : bool, default True
        Whether the building has a group (WeChat) for messages; without one every door is
        knocked on, whatever the mode.
    offline_households : int or None
        Households the group does not reach (no phone, not in the group), knocked on in
        ``group_message`` mode; ≤ ``households``. ``None``: the problem's ``offline_share``
        of the households, rounded up.
    notify_minutes : float or None
        Minutes spent in the building (0–600), overriding :func:`notify_minutes`.
    """

    id: Id
    location: GeoPoint
    households: int = Field(ge=1, le=MAX_HEADCOUNT)
    floors: int = Field(default=1, ge=1, le=200)
    entrances: int = Field(default=1, ge=1, le=100)
    has_lift: bool = False
    has_group: bool = True
    offline_households: int | None = Field(default=None, ge=0, le=MAX_HEADCOUNT)
    notify_minutes: float | None = Field(default=None, ge=0.0, le=600.0, allow_inf_nan=False)


class Notifier(_Record):
    """A volunteer who notifies buildings.

    Parameters
    ----------
    id : str
        Stable, pseudonymous id.
    location : GeoPoint
        Where the volunteer sets out from (home, or the community office).
    start : datetime or None
        Timezone-aware instant the volunteer can set out, a whole second; ``None`` or an
        instant before the problem's ``start``: at ``start``.
    walking_speed_m_per_min : float or None
        Metres per minute (1–1,000); ``None``: the problem's ``walking_speed_m_per_min``.
    """

    id: Id
    location: GeoPoint
    start: AwareDatetime | None = None
    walking_speed_m_per_min: float | None = Field(
        default=None, ge=1.0, le=1000.0, allow_inf_nan=False
    )

    @field_validator("start", mode="after")
    @classmethod
    def _as_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else value.astimezone(UTC)


class NotificationProblem(CheckedProblem):
    """Tell every household of a set of buildings, as early as possible.

    Construction validates everything at once and raises :class:`commgov.errors.ProblemError`
    listing every issue (record id, field, value, rule): field values, unique building and
    volunteer ids, ``offline_households ≤ households``, whole-second instants, and at least
    one volunteer when there is a building.

    Parameters
    ----------
    schema_version : str, default "1.0"
        Layout version of the record.
    timezone : str
        IANA time zone (``"Asia/Shanghai"``) in which the plan shows its instants.
    start : datetime
        Timezone-aware instant the notice is issued (a whole second); stored in UTC.
    buildings : list of NotificationBuilding
        Buildings to notify; ids unique.
    volunteers : list of Notifier
        Volunteers; ids unique.
    mode : NotifyMode, default "group_message"
        How buildings are told (:class:`NotifyMode`).
    knock_minutes : float, default 1.0
        Minutes per door knocked on: knock, wait, tell, note (0–60). An assumption: no rate
        for notification was found; door-to-door *sampling* takes 3–4 min a household
        (reference/scheduling.md §1.5), telling takes far less.
    group_message_minutes : float, default 2.0
        Minutes to post the notice in a building's group and check it went out (0–60).
    offline_share : float, default 0.15
        Share of households a building group does not reach (0–1), for buildings without
        ``offline_households`` (an assumption: mostly elderly residents without a phone).
    stair_minutes_per_floor : float, default 0.5
        Minutes per floor above the ground floor to climb up and back down one entrance
        without a lift (0–10; as relay deliveries).
    lift_minutes_per_entrance : float, default 1.0
        Minutes of lift waiting and riding per entrance climbed with a lift (0–30).
    walking_speed_m_per_min : float, default 80
        Default walking speed, metres per minute (``DESIGN.md``: 80 m/min).
    detour_factor : float, default 1.3
        Great-circle → walking distance multiplier (as sampling plans).

    Raises
    ------
    commgov.errors.ProblemError
        If any field or cross-record rule is broken; ``.issues`` lists them all.

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> at = datetime(2022, 4, 12, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> NotificationProblem(timezone="Asia/Shanghai", start=at, knock_minutes=-1)
    Traceback (most recent call last):
    ...
    commgov.errors.ProblemError: notification problem: 1 problem
      - problem.knock_minutes = -1: Input should be greater than or equal to 0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal["1.0"] = NOTIFICATION_SCHEMA_VERSION
    timezone: TimeZoneName
    start: AwareDatetime
    buildings: list[NotificationBuilding] = Field(default_factory=list)
    volunteers: list[Notifier] = Field(default_factory=list)
    mode: NotifyMode = NotifyMode.GROUP_MESSAGE
    knock_minutes: float = Field(default=1.0, ge=0.0, le=60.0, allow_inf_nan=False)
    group_message_minutes: float = Field(default=2.0, ge=0.0, le=60.0, allow_inf_nan=False)
    offline_share: float = Field(default=0.15, ge=0.0, le=1.0, allow_inf_nan=False)
    stair_minutes_per_floor: float = Field(default=0.5, ge=0.0, le=10.0, allow_inf_nan=False)
    lift_minutes_per_entrance: float = Field(default=1.0, ge=0.0, le=30.0, allow_inf_nan=False)
    walking_speed_m_per_min: float = Field(default=80.0, ge=1.0, le=1000.0, allow_inf_nan=False)
    detour_factor: float = Field(default=1.3, ge=1.0, le=100.0, allow_inf_nan=False)

    problem_what: ClassVar[str] = _WHAT
    problem_record: ClassVar[str] = "problem"

    @field_validator("start", mode="after")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ProblemError.from_validation(exc, data, record="problem", what=_WHAT) from None
        issues = _cross_issues(self)
        if issues:
            raise ProblemError(issues, what=_WHAT)

    @property
    def tz(self) -> ZoneInfo:
        """The problem's time zone."""
        return ZoneInfo(self.timezone)

    def speed(self, volunteer: Notifier) -> float:
        """Walking speed of ``volunteer`` in metres per minute."""
        if volunteer.walking_speed_m_per_min is not None:
            return volunteer.walking_speed_m_per_min
        return self.walking_speed_m_per_min

    def at(self, seconds: int) -> datetime:
        """The instant ``seconds`` after ``start``, in the problem's time zone."""
        return (self.start + timedelta(seconds=seconds)).astimezone(self.tz)


def _cross_issues(problem: NotificationProblem) -> list[InputIssue]:
    issues: list[InputIssue] = []
    for kind, records in (("building", problem.buildings), ("volunteer", problem.volunteers)):
        counts = Counter(r.id for r in records)
        for rid in sorted(k for k, n in counts.items() if n > 1):
            issues.append(InputIssue(rid, "id", rid, f"duplicate {kind} id"))
    if problem.start.microsecond:
        issues.append(
            InputIssue("problem", "start", problem.start.isoformat(), "must be a whole second")
        )
    for b in problem.buildings:
        if b.offline_households is not None and b.offline_households > b.households:
            issues.append(
                InputIssue(
                    b.id,
                    "offline_households",
                    b.offline_households,
                    f"must not exceed households ({b.households})",
                )
            )
    for v in problem.volunteers:
        if v.start is not None and v.start.microsecond:
            issues.append(InputIssue(v.id, "start", v.start.isoformat(), "must be a whole second"))
    if problem.buildings and not problem.volunteers:
        issues.append(
            InputIssue(
                "problem",
                "volunteers",
                0,
                f"at least one volunteer is needed to notify {len(problem.buildings)} buildings",
            )
        )
    return issues


# ---------------------------------------------------------------------------- shared rules


def _exact(x: float) -> Fraction:
    """The decimal a user meant by a float (``0.15`` → 3/20)."""
    return Fraction(repr(float(x)))


def knocked_households(problem: NotificationProblem, building: NotificationBuilding) -> int:
    """Households of ``building`` told by a knock on the door.

    ``households`` in ``door_knock`` mode or when the building has no group; otherwise
    ``offline_households`` when given, else ``⌈households × offline_share⌉`` (exact decimal
    arithmetic, so 20 × 0.15 is 3).

    Parameters
    ----------
    problem : NotificationProblem
    building : NotificationBuilding

    Returns
    -------
    int
        Households, 0 … ``building.households``.
    """
    if problem.mode is NotifyMode.DOOR_KNOCK or not building.has_group:
        return building.households
    if building.offline_households is not None:
        return building.offline_households
    return math.ceil(Fraction(building.households) * _exact(problem.offline_share))


def notify_minutes(problem: NotificationProblem, building: NotificationBuilding) -> float:
    """Minutes a volunteer spends telling the households of ``building``.

    ``building.notify_minutes`` when given, otherwise, with ``k`` =
    :func:`knocked_households` and ``c = min(entrances, k)`` entrances climbed (the knocked
    doors are spread over as many entrances as possible, one climb each)::

        message   = group_message_minutes  (group_message mode and the building has a group)
        knocks    = k × knock_minutes
        climbs    = c × stair_minutes_per_floor × (floors − 1)   without a lift
                  = c × lift_minutes_per_entrance                with a lift and floors > 1
        minutes   = message + knocks + climbs

    The message is counted on the spot: the volunteer posts it on arrival and is at the door
    for questions (a message posted from home beforehand would reach the online households
    sooner, but not the last household).

    Parameters
    ----------
    problem : NotificationProblem
    building : NotificationBuilding

    Returns
    -------
    float
        Minutes (≥ 0); the solver and verifier use :func:`notify_seconds`.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> p = NotificationProblem(timezone="UTC", start=datetime(2022, 4, 12, tzinfo=UTC))
    >>> b = NotificationBuilding(id="b", location=GeoPoint(lon=120.6, lat=31.3),
    ...                          households=20, floors=6, entrances=2)
    >>> notify_minutes(p, b)  # 2 + 3 knocks × 1 + 2 climbs × 0.5 × 5 floors
    10.0
    >>> notify_minutes(p.model_copy(update={"mode": "door_knock"}), b)  # 20 + 2 × 2.5
    25.0
    """
    if building.notify_minutes is not None:
        return building.notify_minutes
    knocks = knocked_households(problem, building)
    message = (
        problem.group_message_minutes
        if problem.mode is NotifyMode.GROUP_MESSAGE and building.has_group
        else 0.0
    )
    climbs = min(building.entrances, knocks)
    if building.floors <= 1:
        per_climb = Fraction(0)
    elif building.has_lift:
        per_climb = _exact(problem.lift_minutes_per_entrance)
    else:
        per_climb = _exact(problem.stair_minutes_per_floor) * (building.floors - 1)
    total = _exact(message) + knocks * _exact(problem.knock_minutes) + climbs * per_climb
    return float(total)


def notify_seconds(problem: NotificationProblem, building: NotificationBuilding) -> int:
    """Whole seconds spent at ``building``: :func:`to_seconds` of :func:`notify_minutes`."""
    return to_seconds(notify_minutes(problem, building))


def walk_metres(problem: NotificationProblem, a: GeoPoint, b: GeoPoint) -> int:
    """Walking distance between two points in whole metres.

    Great-circle distance (:func:`commgov.types.haversine_m`) × ``problem.detour_factor``,
    rounded half to even, as :func:`commgov.scheduling.walk_distance_m`.
    """
    return round(haversine_m(a.lon, a.lat, b.lon, b.lat) * problem.detour_factor)


def walk_seconds(problem: NotificationProblem, volunteer: Notifier, metres: int) -> int:
    """Seconds ``volunteer`` takes to walk ``metres``: :func:`to_seconds` of metres ÷ speed."""
    return to_seconds(metres / problem.speed(volunteer))


def start_offset_seconds(problem: NotificationProblem, volunteer: Notifier) -> int:
    """Whole seconds from the problem's ``start`` until ``volunteer`` sets out (≥ 0)."""
    if volunteer.start is None:
        return 0
    return max(0, int((volunteer.start - problem.start).total_seconds()))


class NotificationTimes:
    """Whole-second times of a problem, in id order (shared by planner, bound and verifier).

    Attributes
    ----------
    building_ids, volunteer_ids : list of str
        Sorted ids; indices below refer to these lists.
    offsets : list of int
        :func:`start_offset_seconds` per volunteer.
    service : list of int
        :func:`notify_seconds` per building.
    home_m : list of list of int
        ``home_m[v][b]``: :func:`walk_metres` from volunteer ``v``'s start place to ``b``.
    between_m : list of list of int
        ``between_m[a][b]``: metres from building ``a`` to ``b``.
    speed_class : list of int
        Per volunteer, the index of its walking speed in ``speeds``.
    speeds : list of float
        Distinct walking speeds (m/min), fastest first.
    home_s : list of list of int
        ``home_s[v][b]``: :func:`walk_seconds` for ``home_m[v][b]``.
    between_s : list of list of list of int
        ``between_s[c][a][b]``: seconds from ``a`` to ``b`` at speed ``speeds[c]``.
    """

    def __init__(self, problem: NotificationProblem) -> None:
        buildings = sorted(problem.buildings, key=lambda r: r.id)
        volunteers = sorted(problem.volunteers, key=lambda r: r.id)
        self.building_ids = [b.id for b in buildings]
        self.volunteer_ids = [v.id for v in volunteers]
        self.offsets = [start_offset_seconds(problem, v) for v in volunteers]
        self.service = [notify_seconds(problem, b) for b in buildings]
        self.home_m = [[walk_metres(problem, v.location, b.location) for b in buildings]
                       for v in volunteers]
        self.between_m = [[0 if a is b else walk_metres(problem, a.location, b.location)
                           for b in buildings] for a in buildings]
        self.speeds = sorted({problem.speed(v) for v in volunteers}, reverse=True)
        self.speed_class = [self.speeds.index(problem.speed(v)) for v in volunteers]
        cache: dict[tuple[int, float], int] = {}

        def secs(metres: int, speed: float) -> int:
            key = (metres, speed)
            if key not in cache:
                cache[key] = to_seconds(metres / speed)
            return cache[key]

        self.home_s = [[secs(m, problem.speed(v)) for m in row]
                       for v, row in zip(volunteers, self.home_m, strict=True)]
        self.between_s = [[[secs(m, speed) for m in row] for row in self.between_m]
                          for speed in self.speeds]

    def reach(self) -> list[list[int]]:
        """``reach[v][b]``: earliest time (s after ``start``) ``v`` could finish building ``b``.

        Shortest path from ``v``'s start place over the buildings, each building passed
        through costing its notify time (Dijkstra on the same whole-second walks a route
        uses, so it is exact where the triangle inequality fails by rounding).
        """
        n = len(self.building_ids)
        out = []
        for v, off in enumerate(self.offsets):
            walk = self.between_s[self.speed_class[v]]
            arrive = [off + t for t in self.home_s[v]]
            done = [False] * n
            for _ in range(n):
                a = min((b for b in range(n) if not done[b]), key=lambda b: arrive[b])
                done[a] = True
                leave = arrive[a] + self.service[a]
                row = walk[a]
                for b in range(n):
                    if not done[b] and leave + row[b] < arrive[b]:
                        arrive[b] = leave + row[b]
            out.append([arrive[b] + self.service[b] for b in range(n)])
        return out

    def walk_in(self) -> list[list[int]]:
        """``walk_in[v][b]``: the least walk into ``b`` for ``v`` (from home or a building)."""
        n = len(self.building_ids)
        out = []
        for v in range(len(self.offsets)):
            walk = self.between_s[self.speed_class[v]]
            out.append([
                min([self.home_s[v][b], *(walk[a][b] for a in range(n) if a != b)])
                for b in range(n)
            ])
        return out


def notification_lower_bound(problem: NotificationProblem) -> int:
    """A proven lower bound on the makespan of any plan, in seconds after ``start``.

    The larger of two bounds (``s_v``: :func:`start_offset_seconds` of volunteer ``v``;
    ``t_v(a, b)``: :func:`walk_seconds` of :func:`walk_metres` at ``v``'s speed; ``n_b``:
    :func:`notify_seconds`):

    * **reach**: ``max_b min_v r_vb``, where ``r_vb`` is the earliest ``v`` could finish
      ``b`` on any path from home, every building on the way costing its notify time
      (:meth:`NotificationTimes.reach`; at least ``s_v + t_v(home_v, b) + n_b``);
    * **work**: a plan finishing at ``M`` gives volunteer ``v`` at most ``max(0, M − s_v)``
      seconds, which must cover all notify times plus all walking: ``Σ_v max(0, M − s_v) ≥
      W = Σ_b n_b + L``; the bound is the least integer ``M`` with this (:func:`water_fill`;
      ``⌈(Σ_v s_v + W) / V⌉`` when all ``V`` volunteers start by then). ``L`` is the largest
      of three lower bounds on the total walking of any plan:

      - Σ_b ``in_b``, the least walk into each building from a start place or another
        building;
      - a **predecessor assignment**: each building gets a distinct predecessor (another
        building or a start place), as the routes give it; a linear assignment (OR-Tools);
      - a **1-tree bound** (Held & Karp, *Operations Research* 18, 1970): the routes plus a
        root joined to their first buildings form a spanning tree in which each building has
        degree ≤ 2; the Lagrangian ``MST(c_ab + π_a + π_b) − 2 Σ π`` with integer ``π ≥ 0``
        found by subgradient steps.

      Walks between buildings are taken at the fastest volunteer's speed.

    Parameters
    ----------
    problem : NotificationProblem

    Returns
    -------
    int
        Seconds (0 without buildings).

    Notes
    -----
    O(B² · V) for B buildings and V volunteers, plus the assignment and spanning trees
    (O(B²) each round). Imports OR-Tools (linear assignment) when called.
    """
    if not problem.buildings:
        return 0
    from commgov.scheduling._notify_solver import lower_bound

    return lower_bound(NotificationTimes(problem))


def combinatorial_bound(
    times: NotificationTimes,
    reach: list[list[int]] | None = None,
    walk_in: list[list[int]] | None = None,
) -> int:
    """The reach and work bounds of :func:`notification_lower_bound` from precomputed times.

    ``reach`` and ``walk_in`` are :meth:`NotificationTimes.reach` and
    :meth:`NotificationTimes.walk_in`, computed here when not given.
    """
    reach = times.reach() if reach is None else reach
    walk_in = times.walk_in() if walk_in is None else walk_in
    n = len(times.building_ids)
    reach_bound = max(min(r[b] for r in reach) for b in range(n))
    work = sum(times.service[b] + min(w[b] for w in walk_in) for b in range(n))
    return max(reach_bound, water_fill(times.offsets, work))


def water_fill(offsets: list[int], work: int) -> int:
    """Least integer ``M`` with ``Σ max(0, M − s) ≥ work`` over ``offsets`` (non-empty).

    Examples
    --------
    >>> water_fill([0, 0], 10), water_fill([0, 100], 10), water_fill([0, 10], 30)
    (5, 10, 20)
    """
    ordered = sorted(offsets)
    total = 0
    for k, s in enumerate(ordered, start=1):
        total += s
        m = -(-(work + total) // k)  # ⌈(work + Σ first k starts) / k⌉
        if k == len(ordered) or m <= ordered[k]:
            return max(m, ordered[0])
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------------- results


class NotificationStop(_Record):
    """One building on a volunteer's route.

    Attributes
    ----------
    building_id : str
        The building.
    order : int
        Position on the route, from 1.
    arrive, finish : datetime
        Arrival and the moment its last household is reached (the volunteer leaves), in the
        problem's time zone.
    walk_m : int
        Metres walked from the previous building (or the start place).
    walk_s, notify_s : int
        Seconds walking there and telling its households (:func:`notify_seconds`).
    households, knocked : int
        Households of the building, and how many were knocked on.
    """

    building_id: str
    order: int
    arrive: AwareDatetime
    finish: AwareDatetime
    walk_m: int
    walk_s: int
    notify_s: int
    households: int
    knocked: int


class VolunteerRoute(_Record):
    """A volunteer's buildings in visiting order (every volunteer is listed, idle ones too).

    Attributes
    ----------
    volunteer_id : str
        The volunteer.
    start : datetime
        When the volunteer sets out (problem's time zone).
    finish : datetime
        When the last building of the route is notified; ``start`` for an idle volunteer.
    stops : list of NotificationStop
        The route, in order.
    households : int
        Households of the route's buildings.
    walk_m, walk_s, notify_s : int
        Totals over the route (metres, seconds).
    """

    volunteer_id: str
    start: AwareDatetime
    finish: AwareDatetime
    stops: list[NotificationStop]
    households: int
    walk_m: int
    walk_s: int
    notify_s: int


class BuildingNotice(_Record):
    """When a building is notified, and by whom.

    Attributes
    ----------
    building_id, volunteer_id : str
        The building and its volunteer.
    order : int
        The building's position on the volunteer's route (from 1).
    notified_at : datetime
        When its last household is reached (problem's time zone).
    notified_s : int
        Seconds from the problem's ``start`` to ``notified_at``.
    households : int
        Households of the building.
    """

    building_id: str
    volunteer_id: str
    order: int
    notified_at: AwareDatetime
    notified_s: int
    households: int


class NotificationTotals(_Record):
    """Totals of a notification plan.

    Attributes
    ----------
    buildings, households, knocked : int
        Buildings and households notified; households knocked on.
    volunteers, volunteers_used : int
        Volunteers of the problem, and those with at least one building.
    walk_m, walk_s, notify_s : int
        Metres and seconds walked, seconds spent telling, over all routes.
    makespan_s : int
        Seconds from ``start`` until the last household is reached (0 without buildings).
    makespan_minutes : float
        ``makespan_s / 60`` rounded to 0.01.
    last_notified : datetime or None
        ``start + makespan_s`` (problem's time zone); ``None`` without buildings.
    bound_s : int
        Proven lower bound on the makespan of any plan, in seconds.
    gap : float or None
        ``(makespan_s − bound_s) / bound_s``; 0 when both are equal, ``None`` when the bound
        is 0 and the makespan is not.
    """

    buildings: int
    households: int
    knocked: int
    volunteers: int
    volunteers_used: int
    walk_m: int
    walk_s: int
    notify_s: int
    makespan_s: int
    makespan_minutes: float
    last_notified: AwareDatetime | None
    bound_s: int
    gap: float | None


class NotificationPlan(_Record):
    """Result of :func:`plan_notification`.

    Attributes
    ----------
    schema_version : str
        Layout version.
    start : datetime
        The problem's ``start`` (problem's time zone).
    routes : list of VolunteerRoute
        One per volunteer, sorted by volunteer id.
    buildings : list of BuildingNotice
        One per building, sorted by building id.
    totals : NotificationTotals
        Makespan, bound and gap, walking and telling time.
    info : SolveInfo
        Status (``OPTIMAL`` when the makespan equals a proven bound, else ``FEASIBLE``),
        objective tiers ``makespan_s`` and ``walk_m``, ``bound`` and ``gap`` on ``makespan_s``
        (the same as in ``totals``), options and versions.
    """

    schema_version: Literal["1.0"] = NOTIFICATION_SCHEMA_VERSION
    start: AwareDatetime
    routes: list[VolunteerRoute]
    buildings: list[BuildingNotice]
    totals: NotificationTotals
    info: SolveInfo

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise as JSON (byte-identical for the same input, options and versions)."""
        return self.model_dump_json(indent=indent)

    def route(self, volunteer_id: str) -> VolunteerRoute:
        """The route of ``volunteer_id`` (``KeyError`` if the plan has none)."""
        for r in self.routes:
            if r.volunteer_id == volunteer_id:
                return r
        raise KeyError(volunteer_id)


def plan_notification(
    problem: NotificationProblem,
    *,
    time_limit_s: float = 30.0,
    effort: int = 20,
) -> NotificationPlan:
    """Plan who notifies which buildings in what order, so the last household is told soonest.

    Objective: minimise the makespan (seconds until the last household is reached), then,
    as a secondary guide of the search, total walking.

    Method (min-makespan open multi-vehicle routing with start times, speeds and service
    times):

    1. **Exact for small problems**: with at most 9 buildings, a Held–Karp dynamic program
       (Held & Karp, *J. SIAM* 10, 1962) gives each volunteer's best open path over every
       subset of buildings, a subset-partition program over volunteers the minimum makespan,
       and a second one the least walking among plans with that makespan (``OPTIMAL``).
    2. Otherwise a **construction** (list scheduling: the volunteer who is free first walks to
       the nearest unnotified building, ties by id), improved by a **balancing local search**:
       move or swap a building of the route that finishes last to another route when both
       then finish earlier, else move a building to shorten the walking without passing the
       makespan; routes touched are re-ordered by 2-opt and or-opt.
    3. **OR-Tools routing** (``pywrapcp``): open routes ending at a dummy node, one transit
       matrix per walking speed holding notify times and start delays, a global span cost of
       100 per second of makespan plus walking seconds as arc cost, guided local search
       (Voudouris & Tsang 1999) from the balanced routes, stopped after ``effort`` solutions
       — a deterministic budget — or at ``time_limit_s``; then the balancing search again.
       The better plan (makespan, then walking) is kept.
    4. **Bound**: :func:`notification_lower_bound` (reach, and work with the walking bounded
       by a predecessor assignment and a 1-tree); ``gap = (makespan − bound) / bound``;
       ``OPTIMAL`` when the makespan equals the bound.

    Records are sorted by id before any model is built, so the same problem in any order
    gives byte-identical JSON. No step is random; only the wall-clock cap ``time_limit_s``
    (a safety net) can make two runs differ.

    Parameters
    ----------
    problem : NotificationProblem
        The validated problem.
    time_limit_s : float, default 30
        Wall-clock safety cap in seconds for the routing search (> 0).
    effort : int, default 20
        Solutions the routing search may visit (≥ 0; 0 skips it and keeps the balanced
        construction). About 5 s for the 158 buildings of 虎池苑社区.

    Returns
    -------
    NotificationPlan
        Routes with arrival and finish times, per building the notify time, totals (makespan,
        bound, gap) and :class:`~commgov.results.SolveInfo`.

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`NotificationProblem` or an option has the wrong type.
    ValueError
        If an option is out of range.
    commgov.errors.SizeLimitError
        If the problem has more than :data:`~commgov.scheduling._notify_solver.MAX_BUILDINGS`
        buildings or :data:`~commgov.scheduling._notify_solver.MAX_VOLUNTEERS` volunteers.

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> at = datetime(2022, 4, 12, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> home = GeoPoint(lon=120.6200, lat=31.3400)
    >>> p = NotificationProblem(
    ...     timezone="Asia/Shanghai", start=at,
    ...     buildings=[NotificationBuilding(id=f"b{i}", households=12, floors=5,
    ...                                     location=GeoPoint(lon=120.6200 + i / 2000, lat=31.34))
    ...                for i in range(4)],
    ...     volunteers=[Notifier(id="v1", location=home), Notifier(id="v2", location=home)])
    >>> plan = plan_notification(p)
    >>> [[s.building_id for s in r.stops] for r in plan.routes]
    [['b0', 'b3'], ['b1', 'b2']]
    >>> plan.totals.makespan_minutes, plan.info.status.value
    (14.32, 'OPTIMAL')
    """
    from commgov.scheduling._notify_solver import solve_notification

    return solve_notification(problem, time_limit_s=time_limit_s, effort=effort)


# ------------------------------------------------------------------------ from the org model


def notification_problem_from_org(
    model: OrgModel | OrgGraph,
    community_id: str,
    start: datetime,
    *,
    enrolment: str | None = None,
    use_availability: bool = True,
    **parameters: Any,
) -> NotificationProblem:
    """Build the notification problem of one community from its organisation model.

    Buildings are the community's buildings with at least one household: households are the
    sum over its entrances (单元), else the building's own counts, else its household records;
    floors, entrances (at least 1) and lift come from the records. Volunteers are the people
    with the ``volunteer`` role, a location and a home in the community (only those enrolled
    in ``enrolment`` when given, e.g. ``"海棠先锋"``). A volunteer with availability windows
    sets out at the start of the first window that ends after ``start`` (never before
    ``start``) and is left out when none does; one without windows sets out at ``start``.

    Parameters
    ----------
    model : OrgModel or OrgGraph
        The organisation model.
    community_id : str
        The community (12-digit code) to notify.
    start : datetime
        Timezone-aware instant the notice is issued (a whole second).
    enrolment : str, optional
        Keep only volunteers with this enrolment (brand), e.g. ``"海棠先锋"``.
    use_availability : bool, default True
        ``False``: every volunteer sets out at ``start`` whatever their windows say (a
        call-out of all volunteers, as in 虎池苑社区's half-hour notice).
    **parameters
        Further fields of :class:`NotificationProblem` (``mode``, ``knock_minutes``,
        ``offline_share``, ``walking_speed_m_per_min`` ...).

    Returns
    -------
    NotificationProblem
        In the community's time zone.

    Raises
    ------
    commgov.errors.ProblemError
        If the community is unknown, has no building with households or no volunteer, a
        record holds a value the notification records refuse (naming the record, field and
        value), or a parameter is invalid.
    commgov.errors.OrgStructureError
        If the model itself is invalid.
    """
    from commgov.org import Building, Entrance, Household, NodeKind, Role
    from commgov.org._queries import community_scope

    graph, scope = community_scope(model, community_id, _WHAT)
    issues: list[InputIssue] = []
    for name in ("timezone", "start", "buildings", "volunteers"):
        if name in parameters:
            issues.append(
                InputIssue(community_id, name, "<given>", "is set from the model; do not pass it")
            )
    if not isinstance(start, datetime) or start.tzinfo is None:
        issues.append(InputIssue(community_id, "start", str(start), "must be timezone-aware"))
    if issues:
        raise ProblemError(issues, what=_WHAT)
    buildings: list[NotificationBuilding] = []
    for bid in sorted(graph.descendants(community_id, NodeKind.BUILDING)):
        record = graph.record(bid)
        assert isinstance(record, Building)
        entrances = [graph.record(e) for e in graph.children(bid)
                     if graph.kind(e) is NodeKind.ENTRANCE]
        if entrances:
            households = sum(e.counts.households for e in entrances if isinstance(e, Entrance))
        elif record.counts is not None:
            households = record.counts.households
        else:
            households = sum(
                1 for h in graph.descendants(bid, NodeKind.HOUSEHOLD)
                if isinstance(graph.record(h), Household)
            )
        if households == 0:
            continue
        try:
            buildings.append(
                NotificationBuilding(
                    id=bid,
                    location=record.location,
                    households=households,
                    floors=record.floors,
                    entrances=max(1, len(entrances)),
                    has_lift=record.has_lift,
                )
            )
        except ValidationError as exc:
            issues.extend(ProblemError.from_validation(exc, record=bid, what=_WHAT).issues)
    aware = start.astimezone(UTC)
    volunteers: list[Notifier] = []
    for p in sorted(graph.model.people, key=lambda q: q.id):
        if (
            Role.VOLUNTEER not in p.roles
            or p.location is None
            or p.home_id not in scope
            or (enrolment is not None and enrolment not in p.enrolments)
        ):
            continue
        sets_out: datetime | None = aware
        if p.availability and use_availability:
            later = sorted((w for w in p.availability if w.end > aware), key=lambda w: w.start)
            sets_out = max(aware, later[0].start) if later else None
        if sets_out is None:
            continue
        try:
            volunteers.append(Notifier(id=p.id, location=p.location, start=sets_out))
        except ValidationError as exc:
            issues.extend(ProblemError.from_validation(exc, record=p.id, what=_WHAT).issues)
    if not buildings and not issues:
        issues.append(InputIssue(community_id, "buildings", 0,
                                 "the community has no building with households"))
    if buildings and not volunteers and not issues:
        who = f"volunteer enrolled in {enrolment!r}" if enrolment else "volunteer"
        issues.append(InputIssue(community_id, "volunteers", 0,
                                 f"the community has no {who} with a location who is "
                                 "available after start"))
    if issues:
        raise ProblemError(issues, what=_WHAT)
    timezone = getattr(graph.record(community_id), "timezone", graph.model.timezone)
    return NotificationProblem(
        timezone=timezone, start=start, buildings=buildings, volunteers=volunteers, **parameters
    )
