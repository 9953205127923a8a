"""Records of the notification family: problem, volunteers, buildings and the plan.

When a sampling round is called, the community's volunteers (海棠先锋 Haitang Pioneers in
Gusu) must reach every household: in 虎池苑社区 20 pioneers notified 1,765 households within
half an hour through building WeChat groups (楼栋微信群), knocking on the doors of households
without a phone (as reported by 姑苏区 in spring 2022). The time rules the planner and the
verifier share are in :mod:`._rules`; nothing here imports a solver.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, ConfigDict, Field, field_validator

from commgov._problem import CheckedProblem
from commgov._records import FrozenRecord
from commgov.errors import InputIssue
from commgov.results import PlanResult, SolveInfo
from commgov.types import MAX_HEADCOUNT, GeoPoint, Id, TimeZoneName

__all__ = [
    "SCHEMA_VERSION",
    "BuildingNotice",
    "NotificationBuilding",
    "NotificationPlan",
    "NotificationProblem",
    "NotificationStop",
    "NotificationTotals",
    "Notifier",
    "NotifyMode",
    "VolunteerRoute",
]

#: Version of the JSON layout of :class:`NotificationProblem` and :class:`NotificationPlan`.
SCHEMA_VERSION: Literal["1.0"] = "1.0"

_WHAT = "notification problem"


class NotifyMode(StrEnum):
    """How a building is told.

    ``GROUP_MESSAGE``: a message in the building's group (楼栋微信群) reaches the households in
    it at once; the others are knocked on. ``DOOR_KNOCK``: every door is knocked on (敲门).
    """

    GROUP_MESSAGE = "group_message"
    DOOR_KNOCK = "door_knock"


class NotificationBuilding(FrozenRecord):
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


class Notifier(FrozenRecord):
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
        for notification was found; door-to-door *sampling* takes a few minutes a
        household, telling takes far less.
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
        Default walking speed, metres per minute (80 m/min: an unhurried adult walk).
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

    schema_version: Literal["1.0"] = SCHEMA_VERSION
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

    def cross_issues(self) -> list[InputIssue]:
        """Unique ids, whole-second instants, ``offline_households ≤ households``, and a
        volunteer when there is a building."""
        return _cross_issues(self)


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


# --------------------------------------------------------------------------------- results


class NotificationStop(FrozenRecord):
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


class VolunteerRoute(FrozenRecord):
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


class BuildingNotice(FrozenRecord):
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


class NotificationTotals(FrozenRecord):
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


class NotificationPlan(PlanResult):
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
        Status (``OPTIMAL`` when the makespan equals a proven bound, else ``FEASIBLE``;
        ``CANCELLED`` when the caller's token stopped the run: the plan is complete and valid,
        only less improved), objective tiers ``makespan_s`` and ``walk_m``, ``bound`` and
        ``gap`` on ``makespan_s`` (the same as in ``totals``), options, versions and
        ``stopped_by``.

    Notes
    -----
    :meth:`rows` gives one row per stop (columns :attr:`ROW_COLUMNS`), :meth:`to_json` the
    whole plan (compact by default; pass ``indent=2`` for files read by people).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    start: AwareDatetime
    routes: list[VolunteerRoute]
    buildings: list[BuildingNotice]
    totals: NotificationTotals
    info: SolveInfo

    ROW_COLUMNS: ClassVar[tuple[str, ...]] = (
        "volunteer_id", "order", "building_id", "arrive", "finish", "notified_s", "walk_m",
        "walk_s", "notify_s", "households", "knocked",
    )

    def _rows(self, lang: str) -> list[dict[str, Any]]:
        """One row per stop, routes by volunteer id, stops in visiting order; instants as
        ISO 8601 strings in the problem's time zone (no text to translate: ``lang`` is not
        used)."""
        start = self.start
        return [
            {"volunteer_id": r.volunteer_id, "order": s.order, "building_id": s.building_id,
             "arrive": s.arrive.isoformat(), "finish": s.finish.isoformat(),
             "notified_s": int((s.finish - start).total_seconds()), "walk_m": s.walk_m,
             "walk_s": s.walk_s, "notify_s": s.notify_s, "households": s.households,
             "knocked": s.knocked}
            for r in self.routes for s in r.stops
        ]

    def route(self, volunteer_id: str) -> VolunteerRoute:
        """The route of ``volunteer_id`` (``KeyError`` if the plan has none)."""
        for r in self.routes:
            if r.volunteer_id == volunteer_id:
                return r
        raise KeyError(volunteer_id)

