"""Duty-roster records and the rules solver and verifier share (private).

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

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import ClassVar, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from commgov._problem import CheckedProblem
from commgov._records import FrozenRecord
from commgov.errors import InputIssue, ProblemError
from commgov.types import Headcount, Id, SkillLevel, TimeWindow, is_iana_zone

__all__ = [
    "SCHEMA_VERSION",
    "Post",
    "PostTask",
    "RosterPolicy",
    "RosterProblem",
    "Staff",
    "available_slots",
    "check_roster_problem",
    "hours_to_slots",
    "is_eligible",
]

#: Schema version of the persisted roster records.
SCHEMA_VERSION: Literal["1.0"] = "1.0"

_WHAT = "roster problem"

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


class Post(FrozenRecord):
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


class Staff(FrozenRecord):
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
    max_hours_total: float | None = Field(default=None, ge=0, le=24 * 366, allow_inf_nan=False)
    preferred_post_ids: list[Id] = Field(default_factory=list)


class RosterPolicy(FrozenRecord):
    """Working-time rules of a roster.

    Defaults are assumptions for volunteers at gate posts (swabbers in protective equipment
    worked shifts of about 4-6 h): shifts of 2-4 h, at least 4 h rest between two shifts, at
    most 8 h a day.

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


class RosterProblem(CheckedProblem, FrozenRecord):
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

    def cross_issues(self) -> list[InputIssue]:
        """Every cross-record rule the problem breaks (see the class's ``Raises``)."""
        return _cross_issues(self)

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
    n_t = problem.n_slots
    start = problem.window.start
    out = [False] * n_t
    for w in _merge(person.availability):
        # slot t = [start + tΔ, start + (t+1)Δ) lies in w when ⌈(w.start − start)/Δ⌉ ≤ t and
        # t + 1 ≤ ⌊(w.end − start)/Δ⌋ (exact timedelta arithmetic)
        first = max(0, -((start - w.start) // delta))
        last = min(n_t, (w.end - start) // delta)
        if first < last:
            out[first:last] = [True] * (last - first)
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
    """Check the cross-record rules of a roster problem (construction runs them too).

    Parameters
    ----------
    problem : RosterProblem

    Raises
    ------
    ProblemError
        With every issue found (see :class:`RosterProblem`).
    """
    issues = _cross_issues(problem)
    if issues:
        raise ProblemError(issues, what=_WHAT)


def _cross_issues(problem: RosterProblem) -> list[InputIssue]:
    issues: list[InputIssue] = []
    rec = "roster_problem"
    if not is_iana_zone(problem.timezone):
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
    return issues

