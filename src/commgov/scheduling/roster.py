"""Duty rosters for gate posts and sampling marshals: records, shared definitions, CP-SAT plan.

A roster problem has posts (门岗 / 卡口 gate posts with their tasks — health-code check 查码,
temperature 测温, registration 登记, patrol 巡逻 — and sampling marshals), each with a demand
of staff per slot of a time grid (hourly by default), and staff (volunteers) with availability
windows, skills and the tasks they may do. :func:`plan_roster` assigns staff to posts in
contiguous shifts with CP-SAT:

* hard rules: a person works at most one post at a time, only in slots they are available for
  (the whole slot), only at posts they are eligible for (tasks and skill level); a shift is a
  maximal run of worked slots, stays at one post, lasts between the policy's minimum and
  maximum shift length, and is followed by at least the minimum rest before the next; at most
  the maximum hours per (local) day and, when set, per horizon; cover never exceeds demand
  unless the policy allows over-cover;
* objective, lexicographic (each tier fixes the previous optimum; no big-M weights):
  1. minimise the shortfall Σ (demand − cover) in staff-slots (cover per post and slot);
  2. (only when over-cover is allowed) minimise over-cover;
  3. fairness: minimise the largest number of hours anyone works;
  4. preferences: maximise the hours people work at their preferred posts.

Demand that cannot be covered is not an error: every (post, slot) left short is listed with
a reason (:class:`RosterReasonCode`), each a predicate :func:`~commgov.scheduling.roster_verify
.is_valid_roster` checks.

This module holds everything the solver and the independent verifier must agree on (slot
times, availability, eligibility, hours → slots); OR-Tools is imported only inside
:func:`plan_roster`.

Shared definitions
------------------
* slots ``t = 0 … T-1``, ``slot t = [window.start + tΔ, window.start + (t+1)Δ)``;
* a person is available in slot ``t`` when one of their (merged) availability windows
  contains the whole slot (:func:`available_slots`);
* a person is eligible for a post when they may do every task of the post (``tasks=None``:
  any task) and hold the post's skill at ``min_level`` or above (:func:`is_eligible`);
* the day of a slot is the local calendar date of its start in the problem's time zone;
* hours convert to slots exactly: minima round up, maxima round down (:func:`hours_to_slots`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from commgov._problem import CheckedProblem
from commgov.errors import InfeasibleError, InputIssue, ProblemError, SizeLimitError, SolverError
from commgov.errors import expect_type as _expect_type
from commgov.results import SolveInfo, SolveStatus, library_versions
from commgov.types import Headcount, Id, SkillLevel, TimeWindow

__all__ = [
    "REASON_PARAMS",
    "REASON_TEXT",
    "SCHEMA_VERSION",
    "Post",
    "PostTask",
    "Roster",
    "RosterPolicy",
    "RosterProblem",
    "RosterReason",
    "RosterReasonCode",
    "RosterShift",
    "RosterTotals",
    "Shortfall",
    "Staff",
    "StaffLoad",
    "TierResult",
    "available_slots",
    "check_roster_problem",
    "hours_to_slots",
    "is_eligible",
    "plan_roster",
    "roster_problem_from_org",
]

log = logging.getLogger("commgov.scheduling")

#: Schema version of the persisted roster records.
SCHEMA_VERSION: Literal["1.0"] = "1.0"

_WHAT = "roster problem"

#: Most assignment variables (person × post × slot) a roster model may have.
MAX_ASSIGNMENT_VARS = 2_000_000


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


# ---- records ------------------------------------------------------------------------------


class PostTask(StrEnum):
    """What is done at a post.

    The duty-post tasks of :class:`commgov.org.DutyTask` (查码 ``HEALTH_CODE_CHECK``, 测温
    ``TEMPERATURE``, 登记 ``REGISTRATION``, 巡逻 ``PATROL``) and the sampling marshal
    (采样点秩序维护 ``SAMPLING_MARSHAL``: queue order and one-metre spacing at a sampling point).
    """

    HEALTH_CODE_CHECK = "health_code_check"
    TEMPERATURE = "temperature"
    REGISTRATION = "registration"
    PATROL = "patrol"
    SAMPLING_MARSHAL = "sampling_marshal"


class Post(_Model):
    """A post to staff: a gate post, checkpoint or a sampling point's marshal position.

    Attributes
    ----------
    id : str
    name : str
        Display name (``"第1小区门岗"``).
    tasks : list of PostTask
        What is done there; a person must be allowed every one of them.
    skill : str or None
        Skill a person needs (``"sampling_marshal"``), at ``min_level`` or above.
    min_level : int
        Skill level 1-5 (default 1).
    demand : list of int
        Staff needed in each slot of the problem's window (one entry per slot), ≥ 0.
    """

    id: Id
    name: str = ""
    tasks: list[PostTask] = Field(default_factory=list)
    skill: str | None = None
    min_level: SkillLevel = 1
    demand: list[Headcount]


class Staff(_Model):
    """A person who can be rostered (a volunteer, a community worker ...).

    Attributes
    ----------
    id : str
        Pseudonymous id (no names: rosters are shared widely).
    availability : list of TimeWindow
        When the person can serve (half-open, tz-aware); overlapping or back-to-back windows
        are merged.
    skills : dict of str to int
        Skill name → level 1-5.
    tasks : list of PostTask or None
        Tasks the person may do; ``None`` (default) means any task.
    max_hours_per_day : float or None
        Overrides the policy's daily maximum for this person (hours, ≥ 0).
    max_hours_total : float or None
        Maximum hours over the whole window (hours, ≥ 0); ``None``: no limit.
    preferred_post_ids : list of str
        Posts the person prefers (tier 4 of the objective).
    """

    id: Id
    availability: list[TimeWindow] = Field(default_factory=list)
    skills: dict[str, SkillLevel] = Field(default_factory=dict)
    tasks: list[PostTask] | None = None
    max_hours_per_day: float | None = Field(default=None, ge=0, le=24, allow_inf_nan=False)
    max_hours_total: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    preferred_post_ids: list[Id] = Field(default_factory=list)


class RosterPolicy(_Model):
    """Working-time rules of a roster.

    Defaults are assumptions for volunteers at gate posts (reference/scheduling.md §2.2 F5:
    PPE shifts of about 4-6 h for swabbers): shifts of 2-4 h, at least 4 h rest between two
    shifts, at most 8 h a day.

    Attributes
    ----------
    slot_minutes : int
        Length of a slot in minutes; divides 24 h (default 60: an hourly grid).
    min_shift_hours, max_shift_hours : float
        Shortest and longest shift, hours (defaults 2 and 4). A shift starting near the end
        of the window must still fit in it.
    min_rest_hours : float
        Least rest between two shifts of one person, hours (default 4; at least one slot).
    max_hours_per_day : float
        Most hours one person works per local calendar day (default 8).
    allow_overcover : bool
        Whether a post may get more staff than it asks for (default ``False``).
    """

    slot_minutes: int = Field(default=60, ge=1, le=24 * 60)
    min_shift_hours: float = Field(default=2.0, gt=0, le=24 * 7, allow_inf_nan=False)
    max_shift_hours: float = Field(default=4.0, gt=0, le=24 * 7, allow_inf_nan=False)
    min_rest_hours: float = Field(default=4.0, ge=0, le=24 * 7, allow_inf_nan=False)
    max_hours_per_day: float = Field(default=8.0, ge=0, le=24, allow_inf_nan=False)
    allow_overcover: bool = False

    @model_validator(mode="after")
    def _grid(self) -> Self:
        if (24 * 60) % self.slot_minutes:
            raise ValueError(f"slot_minutes={self.slot_minutes} must divide 24 h (1440 min)")
        return self


def hours_to_slots(hours: float, slot_minutes: int, *, at_least: bool) -> int:
    """Convert hours to a whole number of slots, exactly.

    Parameters
    ----------
    hours : float
        Hours (the decimal meant: ``0.1`` is 1/10).
    slot_minutes : int
        Slot length in minutes.
    at_least : bool
        ``True`` for a minimum (round up: a 1.5 h minimum on an hourly grid is 2 slots),
        ``False`` for a maximum (round down).

    Returns
    -------
    int

    Examples
    --------
    >>> hours_to_slots(1.5, 60, at_least=True), hours_to_slots(1.5, 60, at_least=False)
    (2, 1)
    """
    value = Fraction(repr(float(hours))) * 60 / slot_minutes
    return math.ceil(value) if at_least else math.floor(value)


class RosterProblem(CheckedProblem, _Model):
    """Posts, staff and rules: who works where and when over a window.

    Constructing one (directly, with ``model_validate`` or ``model_validate_json``) checks
    every cross-record rule and raises :class:`ProblemError` listing all issues.

    Attributes
    ----------
    schema_version : str
    timezone : str
        IANA zone of the days and of the result's instants (``"Asia/Shanghai"``).
    window : TimeWindow
        The rostered period; a whole number of slots.
    posts : list of Post
    staff : list of Staff
    policy : RosterPolicy

    Raises
    ------
    ProblemError
        Unknown time zone; a window that is not a whole number of slots; duplicate post or
        staff ids; a post whose demand does not have one entry per slot; an unknown
        preferred post; a minimum shift longer than the maximum (after rounding to slots), or
        a maximum shift shorter than one slot.
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    timezone: str = "Asia/Shanghai"
    window: TimeWindow
    posts: list[Post] = Field(default_factory=list)
    staff: list[Staff] = Field(default_factory=list)
    policy: RosterPolicy = Field(default_factory=RosterPolicy)

    problem_what: ClassVar[str] = _WHAT
    problem_record: ClassVar[str] = "roster_problem"

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ProblemError.from_validation(
                exc, data, record="roster_problem", what=_WHAT) from None
        check_roster_problem(self)

    @property
    def tz(self) -> ZoneInfo:
        """The problem's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def n_slots(self) -> int:
        """Number of slots T."""
        return int(self.window.duration // timedelta(minutes=self.policy.slot_minutes))

    @property
    def slot_hours(self) -> Fraction:
        """Hours per slot, exactly."""
        return Fraction(self.policy.slot_minutes, 60)

    def slot_start(self, t: int) -> datetime:
        """Start of slot ``t`` (``t`` may be ``T`` for the window's end), aware, local."""
        start = self.window.start + t * timedelta(minutes=self.policy.slot_minutes)
        return start.astimezone(self.tz)

    def slot_day(self, t: int) -> date:
        """Local calendar date of the start of slot ``t``."""
        return self.slot_start(t).date()

    def limits(self) -> dict[str, int]:
        """The policy in slots: ``min_shift``, ``max_shift``, ``min_rest`` (≥ 1), ``max_day``."""
        p = self.policy
        m = p.slot_minutes
        return {
            "min_shift": max(1, hours_to_slots(p.min_shift_hours, m, at_least=True)),
            "max_shift": hours_to_slots(p.max_shift_hours, m, at_least=False),
            "min_rest": max(1, hours_to_slots(p.min_rest_hours, m, at_least=True)),
            "max_day": hours_to_slots(p.max_hours_per_day, m, at_least=False),
        }

    def max_day_slots(self, person: Staff) -> int:
        """Most slots ``person`` may work per local day."""
        if person.max_hours_per_day is None:
            return self.limits()["max_day"]
        return hours_to_slots(person.max_hours_per_day, self.policy.slot_minutes,
                              at_least=False)

    def max_total_slots(self, person: Staff) -> int | None:
        """Most slots ``person`` may work over the window (``None``: no limit)."""
        if person.max_hours_total is None:
            return None
        return hours_to_slots(person.max_hours_total, self.policy.slot_minutes, at_least=False)

    def canonical(self) -> Self:
        """The same problem with posts and staff sorted by id, windows merged, lists sorted."""
        staff = [
            s.model_copy(update={
                "availability": _merge(s.availability),
                "tasks": None if s.tasks is None else sorted(set(s.tasks)),
                "preferred_post_ids": sorted(set(s.preferred_post_ids)),
            })
            for s in sorted(self.staff, key=lambda s: s.id)
        ]
        posts = [p.model_copy(update={"tasks": sorted(set(p.tasks))})
                 for p in sorted(self.posts, key=lambda p: p.id)]
        return self.model_copy(update={"posts": posts, "staff": staff})


def _merge(windows: Sequence[TimeWindow]) -> list[TimeWindow]:
    out: list[TimeWindow] = []
    for w in sorted(windows, key=lambda w: (w.start, w.end)):
        if out and w.start <= out[-1].end:
            if w.end > out[-1].end:
                out[-1] = TimeWindow(start=out[-1].start, end=w.end)
        else:
            out.append(w)
    return out


def available_slots(problem: RosterProblem, person: Staff) -> list[bool]:
    """Whether ``person`` is available for the whole of each slot.

    Parameters
    ----------
    problem : RosterProblem
    person : Staff

    Returns
    -------
    list of bool
        One entry per slot: some merged availability window contains ``[start, end)``.
    """
    delta = timedelta(minutes=problem.policy.slot_minutes)
    windows = _merge(person.availability)
    out = []
    for t in range(problem.n_slots):
        lo = problem.window.start + t * delta
        hi = lo + delta
        out.append(any(w.start <= lo and hi <= w.end for w in windows))
    return out


def is_eligible(post: Post, person: Staff) -> bool:
    """Whether ``person`` may work at ``post``: every task allowed, skill level high enough.

    Parameters
    ----------
    post : Post
    person : Staff

    Returns
    -------
    bool
    """
    if person.tasks is not None and not set(post.tasks) <= set(person.tasks):
        return False
    return post.skill is None or person.skills.get(post.skill, 0) >= post.min_level


def check_roster_problem(problem: RosterProblem) -> None:
    """Check the cross-record rules of a roster problem.

    Parameters
    ----------
    problem : RosterProblem

    Raises
    ------
    ProblemError
        With every issue found (see :class:`RosterProblem`).
    """
    issues: list[InputIssue] = []
    rec = "roster_problem"
    try:
        ZoneInfo(problem.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        issues.append(InputIssue(rec, "timezone", problem.timezone,
                                 "must be an IANA time zone name"))
    delta = timedelta(minutes=problem.policy.slot_minutes)
    if problem.window.duration % delta or problem.window.duration < delta:
        issues.append(InputIssue(rec, "window", problem.window.minutes,
                                 f"window length (minutes) must be a positive multiple of "
                                 f"slot_minutes={problem.policy.slot_minutes}"))
    n = problem.n_slots
    post_ids: set[str] = set()
    for p in problem.posts:
        if p.id in post_ids:
            issues.append(InputIssue(p.id, "id", p.id, "duplicate post id"))
        post_ids.add(p.id)
        if len(p.demand) != n:
            issues.append(InputIssue(p.id, "demand", f"<list of {len(p.demand)}>",
                                     f"must have one entry per slot ({n})"))
    staff_ids: set[str] = set()
    for s in problem.staff:
        if s.id in staff_ids:
            issues.append(InputIssue(s.id, "id", s.id, "duplicate staff id"))
        staff_ids.add(s.id)
        for pid in s.preferred_post_ids:
            if pid not in post_ids:
                issues.append(InputIssue(s.id, "preferred_post_ids", pid,
                                         "must name a post of the problem"))
    pol = problem.policy
    lo = hours_to_slots(pol.min_shift_hours, pol.slot_minutes, at_least=True)
    hi = hours_to_slots(pol.max_shift_hours, pol.slot_minutes, at_least=False)
    if hi < 1:
        issues.append(InputIssue(rec, "policy.max_shift_hours", pol.max_shift_hours,
                                 f"must be at least one slot ({pol.slot_minutes} min)"))
    elif lo > hi:
        issues.append(InputIssue(rec, "policy.min_shift_hours", pol.min_shift_hours,
                                 f"must not exceed max_shift_hours={pol.max_shift_hours} "
                                 f"on a {pol.slot_minutes}-minute grid"))
    if issues:
        raise ProblemError(issues, what=_WHAT)


# ---- reasons ------------------------------------------------------------------------------


class RosterReasonCode(StrEnum):
    """Why a post is short of staff in a slot; each a predicate the verifier checks.

    ``NO_ELIGIBLE_STAFF``: nobody in the problem may work at the post (tasks or skill).
    ``NO_STAFF_AVAILABLE``: ``eligible`` people may, but none is available in the slot.
    ``TOO_FEW_AVAILABLE``: only ``available`` eligible people are available in the slot,
    fewer than the ``demand``.
    ``RULES_BIND``: ``available`` ≥ ``demand`` eligible people are available, but shift
    length, rest, daily or total hours and the cover of other posts and slots leave the slot
    short; the roster minimises the total shortfall (proven when the status is ``OPTIMAL``).
    ``TIME_LIMIT_REACHED``: the solver found no roster within ``time_limit_s`` (status
    ``LIMIT``).
    """

    NO_ELIGIBLE_STAFF = "NO_ELIGIBLE_STAFF"
    NO_STAFF_AVAILABLE = "NO_STAFF_AVAILABLE"
    TOO_FEW_AVAILABLE = "TOO_FEW_AVAILABLE"
    RULES_BIND = "RULES_BIND"


#: Parameter names of each code.
REASON_PARAMS: dict[RosterReasonCode, frozenset[str]] = {
    RosterReasonCode.NO_ELIGIBLE_STAFF: frozenset({"tasks", "skill", "min_level"}),
    RosterReasonCode.NO_STAFF_AVAILABLE: frozenset({"eligible"}),
    RosterReasonCode.TOO_FEW_AVAILABLE: frozenset({"available", "demand"}),
    RosterReasonCode.RULES_BIND: frozenset({"available", "demand"}),
}

#: English and Chinese templates.
REASON_TEXT: dict[RosterReasonCode, tuple[str, str]] = {
    RosterReasonCode.NO_ELIGIBLE_STAFF: (
        "nobody may work at this post (tasks: {tasks}; skill: {skill} ≥ {min_level})",
        "无人可在此岗位值守（任务：{tasks}；技能：{skill}≥{min_level}）",
    ),
    RosterReasonCode.NO_STAFF_AVAILABLE: (
        "none of the {eligible} people who may work here is available in this hour",
        "可在此岗位值守的{eligible}人在该时段均无空",
    ),
    RosterReasonCode.TOO_FEW_AVAILABLE: (
        "only {available} of the {demand} people needed are eligible and available",
        "需要{demand}人，符合条件且有空的只有{available}人",
    ),
    RosterReasonCode.RULES_BIND: (
        "{available} eligible people are available for {demand} places, but shift length, "
        "rest, maximum hours and the other posts leave this slot short (total shortfall "
        "minimised)",
        "有{available}名符合条件的人员可排{demand}个岗位，但受班次长度、休息、工时上限及其他岗位"
        "约束，该时段仍缺人（总缺口已最小化）",
    ),
}


class RosterReason(_Model):
    """A roster reason code with its parameters.

    Parameters
    ----------
    code : RosterReasonCode
    params : dict of str to str, int or float
        Exactly the code's parameters (:data:`REASON_PARAMS`).

    Raises
    ------
    pydantic.ValidationError
        If a parameter is missing or unknown.

    Examples
    --------
    >>> RosterReason(code="NO_STAFF_AVAILABLE", params={"eligible": 3}).text("zh")
    '可在此岗位值守的3人在该时段均无空'
    """

    code: RosterReasonCode
    params: dict[str, str | int | float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> Self:
        want = REASON_PARAMS[self.code]
        if set(self.params) != want:
            raise ValueError(f"params of {self.code.value} must be exactly "
                             f"{', '.join(sorted(want))}")
        return self

    def text(self, lang: str = "en") -> str:
        """Render in ``"en"`` or ``"zh"``.

        Raises
        ------
        ValueError
            For another language.
        """
        if lang not in ("en", "zh"):
            raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
        return REASON_TEXT[self.code][0 if lang == "en" else 1].format(**self.params)


# ---- the roster ---------------------------------------------------------------------------


class RosterShift(_Model):
    """One shift: a person at one post over contiguous slots ``[start_slot, end_slot)``.

    Attributes
    ----------
    staff_id, post_id : str
    start_slot, end_slot : int
        Slot indices, end exclusive.
    start, end : datetime
        Aware, in the problem's time zone.
    hours : float
    """

    staff_id: Id
    post_id: Id
    start_slot: int
    end_slot: int
    start: AwareDatetime
    end: AwareDatetime
    hours: float


class StaffLoad(_Model):
    """Hours one person works.

    Attributes
    ----------
    staff_id : str
    hours : float
        Over the window.
    hours_by_day : dict of str to float
        Local ISO date → hours (days with work only).
    shifts : int
    preferred_hours : float
        Hours at preferred posts.
    """

    staff_id: Id
    hours: float
    hours_by_day: dict[str, float]
    shifts: int
    preferred_hours: float


class Shortfall(_Model):
    """A post short of staff in a slot.

    Attributes
    ----------
    post_id : str
    slot : int
    start : datetime
        Start of the slot, aware, local.
    demand, covered, short : int
        Staff asked for, rostered, and missing (``demand - covered``).
    reasons : list of RosterReason
    """

    post_id: Id
    slot: int
    start: AwareDatetime
    demand: int
    covered: int
    short: int
    reasons: list[RosterReason]


class RosterTotals(_Model):
    """Totals of a roster (hours are staff-hours).

    Attributes
    ----------
    demand_hours, covered_hours, shortfall_hours, overcover_hours : float
        ``covered_hours`` counts cover up to demand; ``overcover_hours`` what is above it.
    max_staff_hours : float
        Largest load of one person.
    staff_used : int
        People with at least one shift.
    preferred_hours : float
        Hours worked at preferred posts.
    """

    demand_hours: float
    covered_hours: float
    shortfall_hours: float
    overcover_hours: float
    max_staff_hours: float
    staff_used: int
    preferred_hours: float


class TierResult(_Model):
    """Outcome of one objective tier.

    Attributes
    ----------
    name : str
        ``shortfall_slots``, ``overcover_slots``, ``max_staff_slots`` or ``preferred_slots``.
    status : str
        CP-SAT status name (``OPTIMAL``, ``FEASIBLE``, ``UNKNOWN``, ``NOT_RUN``).
    value, bound : float or None
        Objective value and CP-SAT's best bound, in slots.
    """

    name: str
    status: str
    value: float | None
    bound: float | None


class Roster(_Model):
    """A duty roster: shifts, loads, shortfalls with reasons, totals and solve information.

    Attributes
    ----------
    schema_version : str
    shifts : list of RosterShift
        By staff id, then start slot.
    loads : list of StaffLoad
        Every person, by id.
    shortfalls : list of Shortfall
        Every (post, slot) with ``covered < demand``, by post id then slot.
    totals : RosterTotals
    tiers : list of TierResult
        The objective tiers in order.
    info : SolveInfo
        ``objective``: ``shortfall_hours``, ``overcover_hours``, ``max_staff_hours``,
        ``preferred_hours``; ``bound`` and ``gap`` on ``shortfall_hours``.
    """

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    shifts: list[RosterShift]
    loads: list[StaffLoad]
    shortfalls: list[Shortfall]
    totals: RosterTotals
    tiers: list[TierResult]
    info: SolveInfo

    def to_json(self, *, indent: int | None = None) -> str:
        """The roster as JSON (byte-identical for identical rosters)."""
        return self.model_dump_json(indent=indent)


# ---- figures shared by solver and verifier -----------------------------------------------


def _hours(problem: RosterProblem, slots: int) -> float:
    return float(slots * problem.slot_hours)


def shortfall_reason(problem: RosterProblem, post: Post, t: int,
                     available: dict[str, list[bool]]) -> RosterReason:
    """The reason a post is short in slot ``t`` (first true of the codes, in order).

    Parameters
    ----------
    problem : RosterProblem
    post : Post
    t : int
    available : dict of str to list of bool
        :func:`available_slots` of each person, by id.

    Returns
    -------
    RosterReason
    """
    eligible = [s for s in problem.staff if is_eligible(post, s)]
    if not eligible:
        return RosterReason(code=RosterReasonCode.NO_ELIGIBLE_STAFF, params={
            "tasks": ",".join(sorted(post.tasks)) or "-", "skill": post.skill or "-",
            "min_level": post.min_level})
    free = sum(1 for s in eligible if available[s.id][t])
    if free == 0:
        return RosterReason(code=RosterReasonCode.NO_STAFF_AVAILABLE,
                            params={"eligible": len(eligible)})
    code = (RosterReasonCode.TOO_FEW_AVAILABLE if free < post.demand[t]
            else RosterReasonCode.RULES_BIND)
    return RosterReason(code=code, params={"available": free, "demand": post.demand[t]})


def build_roster(problem: RosterProblem, work: dict[str, list[str | None]],
                 status: SolveStatus, tiers: list[TierResult], bound_slots: float | None,
                 options: dict[str, Any], seed: int | None) -> Roster:
    """Roster records from ``work[staff_id][t]`` = post id or ``None`` (private helper)."""
    n_t = problem.n_slots
    prefs = {s.id: set(s.preferred_post_ids) for s in problem.staff}
    cover: dict[tuple[str, int], int] = {}
    shifts: list[RosterShift] = []
    loads: list[StaffLoad] = []
    for s in sorted(problem.staff, key=lambda s: s.id):
        row = work.get(s.id, [None] * n_t)
        by_day: dict[str, int] = {}
        n_shifts = 0
        pref = 0
        t = 0
        while t < n_t:
            pid = row[t]
            if pid is None:
                t += 1
                continue
            u = t
            while u < n_t and row[u] == pid:
                cover[pid, u] = cover.get((pid, u), 0) + 1
                day = problem.slot_day(u).isoformat()
                by_day[day] = by_day.get(day, 0) + 1
                if pid in prefs[s.id]:
                    pref += 1
                u += 1
            shifts.append(RosterShift(
                staff_id=s.id, post_id=pid, start_slot=t, end_slot=u,
                start=problem.slot_start(t), end=problem.slot_start(u),
                hours=_hours(problem, u - t)))
            n_shifts += 1
            t = u
        total = sum(by_day.values())
        loads.append(StaffLoad(
            staff_id=s.id, hours=_hours(problem, total),
            hours_by_day={d: _hours(problem, v) for d, v in sorted(by_day.items())},
            shifts=n_shifts, preferred_hours=_hours(problem, pref)))
    available = {s.id: available_slots(problem, s) for s in problem.staff}
    shortfalls = []
    demand = covered = over = 0
    for p in sorted(problem.posts, key=lambda p: p.id):
        for t in range(n_t):
            d = p.demand[t]
            c = cover.get((p.id, t), 0)
            demand += d
            covered += min(c, d)
            over += max(0, c - d)
            if c < d:
                reason = shortfall_reason(problem, p, t, available)
                shortfalls.append(Shortfall(post_id=p.id, slot=t, start=problem.slot_start(t),
                                            demand=d, covered=c, short=d - c,
                                            reasons=[reason]))
    max_load = max((ld.hours for ld in loads), default=0.0)
    totals = RosterTotals(
        demand_hours=_hours(problem, demand), covered_hours=_hours(problem, covered),
        shortfall_hours=_hours(problem, demand - covered),
        overcover_hours=_hours(problem, over), max_staff_hours=max_load,
        staff_used=sum(1 for ld in loads if ld.shifts),
        preferred_hours=sum(ld.preferred_hours for ld in loads))
    bound = None if bound_slots is None else float(
        Fraction(bound_slots) * problem.slot_hours)
    short = totals.shortfall_hours
    gap: float | None = None
    if bound is not None:
        gap = (short - bound) / bound if bound > 0 else (0.0 if short == 0 else None)
    info = SolveInfo(
        status=status, solver="cp-sat",
        objective={"shortfall_hours": short, "overcover_hours": totals.overcover_hours,
                   "max_staff_hours": max_load, "preferred_hours": totals.preferred_hours},
        bound=bound, gap=gap, options=options, seed=seed,
        versions=library_versions("ortools"))
    return Roster(shifts=shifts, loads=loads, shortfalls=shortfalls, totals=totals,
                  tiers=tiers, info=info)


# ---- the solver ---------------------------------------------------------------------------


def plan_roster(
    problem: RosterProblem,
    *,
    time_limit_s: float = 30.0,
    seed: int = 0,
    deterministic_time: float | None = None,
    strict: bool = False,
) -> Roster:
    """Roster staff to posts with CP-SAT (lexicographic: shortfall, fairness, preferences).

    Model (OR-Tools ``shift_scheduling_sat`` pattern; reference/scheduling.md §2.2 F5):
    ``x[s,p,t]`` ∈ {0,1} for person ``s`` at post ``p`` in slot ``t``, created only where
    ``s`` is eligible for ``p``, available in ``t``, the post asks for staff in ``t`` (unless
    over-cover is allowed) and such slots form a run at least one minimum shift long;
    ``w[s,t] = Σ_p x[s,p,t] ≤ 1``. A shift is a maximal run of ``w``; it keeps its post
    (``x[s,p,t] ∧ w[s,t+1] → x[s,p,t+1]``), starts only where a minimum shift fits, has at
    most ``max_shift`` slots in any window of ``max_shift + 1``, and an end at ``t`` forces
    ``min_rest`` free slots after it. Daily and total maxima are sums over ``w``. Cover
    ``Σ_s x[s,p,t] ≤ demand`` unless over-cover is allowed.

    Tiers, each solved with the previous optimum fixed and hinted with the previous
    solution (the first with a greedy roster, a complete and feasible hint):
    (1) min shortfall Σ (demand − cover)⁺; (2) min over-cover (only when allowed);
    (3) min the largest load of one person; (4) max hours at preferred posts (only when
    someone has preferences).

    Deterministic: one CP-SAT worker, ``random_seed=seed``, the model built from the
    canonical problem (posts and staff by id), and a *deterministic-time* budget
    (``deterministic_time``, split over the tiers — 50/30/20 % with three — and unused
    budget carried on). Presolve probing is off (:data:`PROBING_LEVEL`).
    The wall-clock ``time_limit_s`` is only a safety cap: as long as it is not what stops a
    tier, the same input in any order gives byte-identical roster JSON.

    Parameters
    ----------
    problem : RosterProblem
    time_limit_s : float
        Wall-clock cap in seconds on the solver (default 30).
    seed : int
        CP-SAT random seed (default 0).
    deterministic_time : float or None
        CP-SAT deterministic-time budget in its own units; default ``time_limit_s / 4``
        (one unit took 1.5-3 s of wall clock on a week of gate posts on a 2-core machine, so
        the default leaves the wall-clock cap as a margin, not the binding limit).
    strict : bool
        Raise :class:`~commgov.errors.InfeasibleError` if any demand is left uncovered.

    Returns
    -------
    Roster
        ``info.status``: ``OPTIMAL`` when every tier is proven optimal; ``FEASIBLE`` when
        some tier is not proven (a budget ran out) — the roster still keeps every hard rule:
        CP-SAT starts from a greedy roster (slot by slot, least-loaded person first), which
        is returned when no tier improves on it. ``LIMIT`` and ``INFEASIBLE`` are never
        returned: uncovered demand is listed with reasons. ``info.bound``/``info.gap`` are on
        ``shortfall_hours`` (tier 1; ``bound`` is ``None`` when tier 1 did not run).

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`RosterProblem` or a limit is not a number.
    ValueError
        For a non-positive or non-finite limit.
    ProblemError
        If the problem breaks a cross-record rule.
    SizeLimitError
        Above :data:`MAX_ASSIGNMENT_VARS` assignment variables.
    InfeasibleError
        If ``strict`` and some demand is uncovered.
    SolverError
        If CP-SAT reports the model invalid or infeasible (the empty roster is always
        feasible, so this is a bug).
    """
    _expect_type(problem, RosterProblem, "problem", "build one with RosterProblem(...) or "
                 "roster_problem_from_org")
    for name, value in (("time_limit_s", time_limit_s), ("deterministic_time",
                                                         deterministic_time)):
        if value is None and name == "deterministic_time":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
        if not 0 < value < math.inf:
            raise ValueError(f"{name} must be a positive, finite number, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, not {type(seed).__name__}")
    check_roster_problem(problem)
    canon = problem.canonical()
    dtime = float(time_limit_s / 4 if deterministic_time is None else deterministic_time)
    options: dict[str, Any] = {
        "time_limit_s": float(time_limit_s), "deterministic_time": dtime, "num_workers": 1,
        "random_seed": seed, "strict": strict}
    work, status, tiers, bound = _solve(canon, float(time_limit_s), dtime, seed)
    roster = build_roster(canon, work, status, tiers, bound, options, seed)
    if strict and roster.shortfalls:
        raise InfeasibleError(
            f"{len(roster.shortfalls)} post-slots short of staff "
            f"({roster.totals.shortfall_hours:g} staff-hours)",
            [f"{s.post_id}@{s.slot}" for s in roster.shortfalls])
    return roster


#: CP-SAT presolve probing level: 0 skips probing, which on a week of gate posts spends most
#: of a small budget without fixing anything (measured: 3 rounds, ≈1 deterministic unit each).
PROBING_LEVEL = 0

#: Share of the deterministic-time budget of each tier, by number of tiers.
_SHARES = {1: [1.0], 2: [0.6, 0.4], 3: [0.5, 0.3, 0.2], 4: [0.4, 0.2, 0.25, 0.15]}


def _shift_options(problem: RosterProblem) -> list[tuple[int, int, int, int]]:
    """Every shift a person may work: ``(staff index, post index, start slot, length)``.

    A shift at post ``p`` from ``t`` for ``ℓ`` slots is possible when the person is eligible,
    available in every slot of it, ``min_shift ≤ ℓ ≤ max_shift``, it ends inside the window
    and (unless over-cover is allowed) the post asks for staff in every slot of it.
    """
    n_t = problem.n_slots
    lim = problem.limits()
    lo, hi = lim["min_shift"], lim["max_shift"]
    over_ok = problem.policy.allow_overcover
    out = []
    for i, s in enumerate(problem.staff):
        avail = available_slots(problem, s)
        for j, p in enumerate(problem.posts):
            if not is_eligible(p, s):
                continue
            ok = [avail[t] and (over_ok or p.demand[t] > 0) for t in range(n_t)]
            run = 0  # length of the run of usable slots ending at t
            runs = [0] * n_t
            for t in range(n_t - 1, -1, -1):  # run of usable slots starting at t
                run = run + 1 if ok[t] else 0
                runs[t] = run
            for t in range(n_t):
                for length in range(lo, min(hi, runs[t]) + 1):
                    out.append((i, j, t, length))
    return out


def _greedy(problem: RosterProblem, options: list[tuple[int, int, int, int]]) -> list[int]:
    """A feasible roster to start from, built slot by slot.

    Post by post (by id), what is still uncovered is filled with the allowed shift of the
    least-loaded person (longest first, then id).

    Each chosen shift respects every hard rule: its blocked interval ``[t, t + ℓ + rest)``
    meets no other of the person's, daily and total maxima hold, and (without over-cover) it
    only covers slots still short.
    """
    n_t = problem.n_slots
    rest = problem.limits()["min_rest"]
    over_ok = problem.policy.allow_overcover
    staff, posts = problem.staff, problem.posts
    days = [problem.slot_day(t) for t in range(n_t)]
    starting: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for k, (i, j, t, n) in enumerate(options):
        starting.setdefault((j, t), []).append((i, n, k))
    left = [list(p.demand) for p in posts]
    blocks: list[list[tuple[int, int]]] = [[] for _ in staff]
    per_day: list[dict[date, int]] = [{} for _ in staff]
    load = [0] * len(staff)
    day_cap = [problem.max_day_slots(s) for s in staff]
    total_cap = [problem.max_total_slots(s) for s in staff]
    chosen = [0] * len(options)

    def fits(i: int, j: int, t: int, n: int) -> bool:
        lo, hi = t, t + n + rest
        if any(a < hi and lo < b for a, b in blocks[i]):
            return False
        if not over_ok and any(left[j][u] <= 0 for u in range(t, t + n)):
            return False
        cap = total_cap[i]
        if cap is not None and load[i] + n > cap:
            return False
        need: dict[date, int] = {}
        for u in range(t, t + n):
            need[days[u]] = need.get(days[u], 0) + 1
        return all(per_day[i].get(d, 0) + k <= day_cap[i] for d, k in need.items())

    for t in range(n_t):
        for j in range(len(posts)):
            cands = sorted(starting.get((j, t), []), key=lambda c: (load[c[0]], -c[1], c[0]))
            for i, n, k in cands:
                if left[j][t] <= 0:
                    break
                if not fits(i, j, t, n):
                    continue
                chosen[k] = 1
                blocks[i].append((t, t + n + rest))
                load[i] += n
                for u in range(t, t + n):
                    left[j][u] -= 1
                    per_day[i][days[u]] = per_day[i].get(days[u], 0) + 1
    return chosen


def _solve(problem: RosterProblem, wall_s: float, dtime: float, seed: int) -> tuple[
        dict[str, list[str | None]], SolveStatus, list[TierResult], float | None]:
    """Shift-based CP-SAT model, solved tier by tier.

    ``y[i,j,t,ℓ]`` = person ``i`` works post ``j`` from slot ``t`` for ``ℓ`` slots. A shift
    *blocks* its slots and the ``min_rest`` slots after it, ``[t, t + ℓ + rest)``; for each
    person and slot at most one chosen shift blocks it, which is at once "one post at a
    time", "shifts are maximal runs" and "rest between shifts" (an interval-matrix clique,
    whose LP relaxation is tight per person).
    """
    from ortools.sat.python import cp_model

    start_clock = time.monotonic()
    n_t = problem.n_slots
    rest = problem.limits()["min_rest"]
    over_ok = problem.policy.allow_overcover
    posts, staff = problem.posts, problem.staff
    options = _shift_options(problem)
    n_cells = sum(length for *_rest, length in options)
    if n_cells > MAX_ASSIGNMENT_VARS:
        raise SizeLimitError(f"roster model has {n_cells} person-post-slot cells "
                             f"(limit {MAX_ASSIGNMENT_VARS})")
    m = cp_model.CpModel()
    y = [m.new_bool_var(f"y[{i},{j},{t},{n}]") for i, j, t, n in options]
    block: dict[tuple[int, int], list[Any]] = {}
    cover: dict[tuple[int, int], list[Any]] = {}
    day_load: dict[tuple[int, date], list[tuple[int, Any]]] = {}
    load: dict[int, list[tuple[int, Any]]] = {}
    pref: list[tuple[int, Any]] = []
    prefs = [set(s.preferred_post_ids) for s in staff]
    days = [problem.slot_day(t) for t in range(n_t)]
    for (i, j, t, n), v in zip(options, y, strict=True):
        for u in range(t, min(n_t, t + n + rest)):
            block.setdefault((i, u), []).append(v)
        per_day: dict[date, int] = {}
        for u in range(t, t + n):
            cover.setdefault((j, u), []).append(v)
            per_day[days[u]] = per_day.get(days[u], 0) + 1
        for day, k in per_day.items():
            day_load.setdefault((i, day), []).append((k, v))
        load.setdefault(i, []).append((n, v))
        if posts[j].id in prefs[i]:
            pref.append((n, v))
    for key in sorted(block):
        if len(block[key]) > 1:
            m.add_at_most_one(block[key])
    for (i, _day), terms in sorted(day_load.items()):
        cap = problem.max_day_slots(staff[i])
        if sum(k for k, _v in terms) > cap:
            m.add(sum(k * v for k, v in terms) <= cap)
    hours: list[Any] = []
    for i, s in enumerate(staff):
        terms = load.get(i, [])
        if not terms:
            continue
        total = problem.max_total_slots(s)
        expr = sum(k * v for k, v in terms)
        if total is not None and sum(k for k, _v in terms) > total:
            m.add(expr <= total)
        hours.append(expr)
    short_vars: list[Any] = []
    over_vars: list[Any] = []
    cells: list[tuple[int, int, Any, Any]] = []  # (post, slot, short var, over var or None)
    const_short = 0
    for j, p in enumerate(posts):
        for t in range(n_t):
            d = p.demand[t]
            vs = cover.get((j, t), [])
            if not vs:
                const_short += d
                continue
            if d == 0 and not over_ok:
                raise SolverError("a shift covers a slot without demand")  # ruled out above
            sh = m.new_int_var(0, d, f"short[{j},{t}]")
            ov = None
            if over_ok:
                ov = m.new_int_var(0, len(vs), f"over[{j},{t}]")
                m.add(sum(vs) + sh - ov == d)
                over_vars.append(ov)
            else:
                m.add(sum(vs) + sh == d)
            short_vars.append(sh)
            cells.append((j, t, sh, ov))
    maxh = m.new_int_var(0, n_t, "max_staff_slots")
    for h in hours:
        m.add(maxh >= h)
    tier_defs: list[tuple[str, Any, bool]] = [
        ("shortfall_slots", sum(short_vars) + const_short, False)]
    if over_ok:
        tier_defs.append(("overcover_slots", sum(over_vars), False))
    tier_defs.append(("max_staff_slots", maxh, False))
    if pref:
        tier_defs.append(("preferred_slots", sum(k * v for k, v in pref), True))
    shares = _SHARES[len(tier_defs)]
    tiers: list[TierResult] = []
    chosen = _greedy(problem, options)
    greedy_only = True  # no tier has improved on (or confirmed) the greedy start yet

    def hint(sol: list[int]) -> None:
        """A complete, feasible hint: the shifts and the cover, shortfall and load they give."""
        m.clear_hints()  # type: ignore[no-untyped-call]
        cov: dict[tuple[int, int], int] = {}
        load_of = [0] * len(staff)
        for (i, j, t, n), v, val in zip(options, y, sol, strict=True):
            m.add_hint(v, val)
            if val:
                load_of[i] += n
                for u in range(t, t + n):
                    cov[j, u] = cov.get((j, u), 0) + 1
        for j, t, sh, ov in cells:
            c, d = cov.get((j, t), 0), posts[j].demand[t]
            m.add_hint(sh, max(0, d - c))
            if ov is not None:
                m.add_hint(ov, max(0, c - d))
        m.add_hint(maxh, max(load_of, default=0))

    bound: float | None = None
    carried = 0.0
    all_optimal = True
    work: dict[str, list[str | None]] = {s.id: [None] * n_t for s in staff}
    if not y:  # nothing to decide: every tier is at its only value
        for name, _expr, _max in tier_defs:
            value = float(const_short) if name == "shortfall_slots" else 0.0
            tiers.append(TierResult(name=name, status="OPTIMAL", value=value, bound=value))
        return work, SolveStatus.OPTIMAL, tiers, float(const_short)
    for k, (name, expr, maximise) in enumerate(tier_defs):
        left = wall_s - (time.monotonic() - start_clock)
        budget = dtime * shares[k] + carried
        if left <= 0.01:
            tiers.append(TierResult(name=name, status="NOT_RUN", value=None, bound=None))
            all_optimal = False
            continue
        if maximise:
            m.maximize(expr)
        else:
            m.minimize(expr)
        hint(chosen)
        solver = cp_model.CpSolver()
        prm = solver.parameters
        prm.num_workers = 1
        prm.random_seed = seed
        prm.max_time_in_seconds = max(0.01, left)
        prm.max_deterministic_time = max(0.01, budget)
        prm.cp_model_probing_level = PROBING_LEVEL
        st = solver.solve(m)
        carried = max(0.0, budget - solver.response_proto.deterministic_time)
        if st in (cp_model.MODEL_INVALID, cp_model.INFEASIBLE):
            raise SolverError(f"CP-SAT returned {solver.status_name(st)} on roster tier "
                              f"{name!r}: {m.validate()}")
        if st == cp_model.UNKNOWN:
            tiers.append(TierResult(name=name, status="UNKNOWN", value=None,
                                    bound=_finite(solver.best_objective_bound)))
            all_optimal = False
            break
        value = round(solver.objective_value)
        b = _finite(solver.best_objective_bound)
        tiers.append(TierResult(name=name, status=solver.status_name(st), value=float(value),
                                bound=b))
        if k == 0 and b is not None:
            bound = float(max(0, math.ceil(b - 1e-6)))
        if st != cp_model.OPTIMAL:
            all_optimal = False
        chosen = [int(solver.boolean_value(v)) for v in y]
        greedy_only = False
        m.add(expr >= value if maximise else expr <= value)
    for (i, j, t, n), val in zip(options, chosen, strict=True):
        if val:
            for u in range(t, t + n):
                work[staff[i].id][u] = posts[j].id
    done = len(tiers) == len(tier_defs)
    status = SolveStatus.OPTIMAL if all_optimal and done else SolveStatus.FEASIBLE
    if greedy_only:
        log.info("roster: CP-SAT found nothing in its budget; the greedy roster is returned")
    return work, status, tiers, bound


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


# ---- from the organisation model ----------------------------------------------------------


def roster_problem_from_org(
    model: Any,
    community_id: str,
    day: date,
    *,
    hours: tuple[int, int] = (0, 24),
    gate_staff: int = 1,
    marshals_per_point: int = 1,
    marshal_skill: str | None = "sampling_marshal",
    policy: RosterPolicy | None = None,
) -> RosterProblem:
    """Build the duty roster problem of one community for one day from its organisation model.

    Posts:

    * each :class:`~commgov.org.DutyPost` at a site of the community becomes a post with the
      duty post's tasks, asking for ``staff_per_shift`` in every slot that overlaps one of its
      shifts;
    * when the community has no duty posts (the embedded Gusu dataset has none), each
      compound (小区) gets one gate post ``<compound>/GATE`` (门岗: health-code check,
      temperature, registration) asking for ``gate_staff`` people in every slot of the
      window — lanes and courtyards are open streets without a gate;
    * each site of the community with the emergency function ``SAMPLING_POINT`` gets a
      marshal post ``<site>/MARSHAL`` asking for ``marshals_per_point`` people with skill
      ``marshal_skill`` (any level; ``None``: no skill needed) in every slot that overlaps
      the site's opening (the whole window when it has none).

    Staff: people of the community (``home_id`` inside it) with the role ``VOLUNTEER``, their
    availability and skills as recorded, any task allowed.

    Parameters
    ----------
    model : OrgModel or OrgGraph
    community_id : str
        Twelve-digit community code (``"320508017016"``, 虎池苑社区).
    day : datetime.date
        The local day to roster (in the community's time zone).
    hours : tuple of int
        First and last local hour of the window, ``0 ≤ first < last ≤ 24`` (default a whole
        day).
    gate_staff : int
        Staff per slot at a generated compound gate post, ≥ 0.
    marshals_per_point : int
        Marshals per slot at an open sampling point, ≥ 0.
    marshal_skill : str or None
        Skill a marshal needs.
    policy : RosterPolicy, optional
        Working-time rules (default :class:`RosterPolicy`).

    Returns
    -------
    RosterProblem

    Raises
    ------
    ProblemError
        If ``community_id`` is not a community of the model, the hours or headcounts are out
        of range, or a record cannot be converted.
    """
    from commgov.org import OrgGraph, Role, SiteFunction
    from commgov.org._queries import community_scope
    from commgov.org.territory import NeighbourhoodKind

    what = _WHAT
    first, last = hours
    for name, value, ok in (("hours", hours, 0 <= first < last <= 24),
                            ("gate_staff", gate_staff, isinstance(gate_staff, int)
                             and not isinstance(gate_staff, bool) and gate_staff >= 0),
                            ("marshals_per_point", marshals_per_point,
                             isinstance(marshals_per_point, int)
                             and not isinstance(marshals_per_point, bool)
                             and marshals_per_point >= 0)):
        if not ok:
            raise ProblemError.single("roster_problem_from_org", name, value,
                                      "out of range (hours: 0 ≤ first < last ≤ 24; "
                                      "headcounts: whole numbers ≥ 0)", what)
    graph = model if isinstance(model, OrgGraph) else OrgGraph(model)
    graph, scope = community_scope(graph, community_id, what)
    community = next(c for c in graph.model.communities if c.id == community_id)
    tzname = getattr(community, "timezone", None) or graph.model.timezone or "Asia/Shanghai"
    tz = ZoneInfo(tzname)
    window = TimeWindow(start=datetime(day.year, day.month, day.day, tzinfo=tz)
                        + timedelta(hours=first),
                        end=datetime(day.year, day.month, day.day, tzinfo=tz)
                        + timedelta(hours=last))
    pol = policy or RosterPolicy()
    delta = timedelta(minutes=pol.slot_minutes)
    n_t = int(window.duration // delta)

    def overlapping(windows: Sequence[TimeWindow], staff_n: int) -> list[int]:
        out = [0] * n_t
        for t in range(n_t):
            lo = window.start + t * delta
            hi = lo + delta
            if any(w.start < hi and lo < w.end for w in windows):
                out[t] = staff_n
        return out

    sites = {s.id: s for s in graph.model.sites if s.parent_id in scope}
    posts: list[Post] = []
    duty = [d for d in graph.model.duty_posts if d.site_id in sites]
    for d in sorted(duty, key=lambda d: d.id):
        posts.append(Post(id=d.id, name=d.title, tasks=[PostTask(t.value) for t in d.tasks],
                          demand=overlapping(d.shifts, d.staff_per_shift)))
    if not duty:
        for u in sorted(graph.model.units, key=lambda u: u.id):
            if u.id in scope and u.kind is NeighbourhoodKind.COMPOUND and gate_staff:
                posts.append(Post(
                    id=f"{u.id}/GATE", name=f"{u.name}门岗",
                    tasks=[PostTask.HEALTH_CODE_CHECK, PostTask.TEMPERATURE,
                           PostTask.REGISTRATION],
                    demand=[gate_staff] * n_t))
    for s in sorted(sites.values(), key=lambda s: s.id):
        if SiteFunction.SAMPLING_POINT in s.emergency_functions and marshals_per_point:
            opening = [s.opening] if s.opening is not None else [window]
            posts.append(Post(
                id=f"{s.id}/MARSHAL", name=f"{s.name}采样点秩序维护",
                tasks=[PostTask.SAMPLING_MARSHAL], skill=marshal_skill,
                demand=overlapping(opening, marshals_per_point)))
    staff: list[Staff] = []
    for p in sorted(graph.model.people, key=lambda q: q.id):
        if Role.VOLUNTEER not in p.roles or p.home_id not in scope:
            continue
        staff.append(Staff(id=p.id, availability=list(p.availability), skills=dict(p.skills)))
    return RosterProblem(timezone=tzname, window=window, posts=posts, staff=staff, policy=pol)
