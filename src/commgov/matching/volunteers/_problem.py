"""Volunteer ↔ task matching: the problem and result records (private).

The model:

* a :class:`Task` needs one volunteer with a skill at a minimum level, at a place, in a time
  window; tasks sit on a **slot grid**: two tasks' windows are either identical (the same slot)
  or disjoint. A task's *day* is the calendar date of its window start in the problem's time
  zone;
* a :class:`Volunteer` has a place, skills with levels 1–5, availability windows, and
  capacities counted in tasks per slot and per day;
* the pair (task, volunteer) is **eligible** when the volunteer's level in the task's skill is
  at least ``min_level``, the volunteer is in the task's organisation scope, the travel
  distance is at most ``max_distance_m`` metres, and the task's window lies inside one of the
  volunteer's availability windows (the predicates are in ``_rules.py``).

The solvers and the independent verifier share only this module and ``_rules.py``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from commgov._problem import CheckedProblem
from commgov._records import FrozenModel, FrozenRecord
from commgov.errors import InputIssue
from commgov.results import PlanResult, Reason, SolveInfo
from commgov.types import (
    GeoPoint,
    Id,
    Line,
    SkillLevel,
    Text,
    TimeWindow,
    is_iana_zone,
    no_personal_number,
)

__all__ = [
    "SCHEMA_VERSION",
    "SCOPE_ORDER",
    "Assignment",
    "Match",
    "MatchingProblem",
    "MatchingTotals",
    "Pin",
    "ScopeLevel",
    "ScopePenalties",
    "Task",
    "Unmatched",
    "Volunteer",
    "VolunteerLoad",
]

#: Version of the JSON layout of :class:`MatchingProblem` and :class:`Assignment`.
SCHEMA_VERSION: Literal["1.0"] = "1.0"

Level = SkillLevel
#: A skill name (``"delivery"``, ``"medic"``): one printable line of 1–100 characters, nothing
#: that looks like a phone or identity number (skills are shown in results and exports).
Skill = Annotated[
    Line, StringConstraints(min_length=1, max_length=100), AfterValidator(no_personal_number)
]
"""A skill level, 1 (basic) to 5 (expert)."""


class ScopeLevel(StrEnum):
    """Organisation scope at which a volunteer serves a task, first choice first.

    The escalation order of the Gusu practice: the
    building's own pioneer team, then the compound, then the community pool, then partner teams
    and riders. See :func:`scope_level` for how a pair's level is determined.
    """

    BUILDING = "building"
    COMPOUND = "compound"
    COMMUNITY = "community"
    PARTNER = "partner"


#: Scope levels in escalation order (index = rank, 0 = first choice).
SCOPE_ORDER: tuple[ScopeLevel, ...] = (
    ScopeLevel.BUILDING,
    ScopeLevel.COMPOUND,
    ScopeLevel.COMMUNITY,
    ScopeLevel.PARTNER,
)

_WHAT = "matching problem"


class Task(FrozenRecord):
    """One unit of work needing one volunteer in one slot.

    Parameters
    ----------
    id : str
        Stable id (no whitespace or commas).
    skill : str
        The skill needed (``"delivery"``, ``"medic"`` ...).
    min_level : int, default 1
        Minimum skill level, 1–5.
    location : GeoPoint
        Where the task is done (WGS84, longitude first).
    window : TimeWindow
        The slot, half-open ``[start, end)``; tasks' windows must be identical or disjoint.
    priority : int, default 1
        Weight of serving the task (≥ 1); the solver maximises the sum served.
    household_id : str or None
        The household served, if any (pseudonymous id).
    building_id, compound_id, community_id : str or None
        Where the task belongs in the organisation (see :func:`scope_level`); ``None`` when
        unknown. A task with none of them is *unscoped*: any volunteer serves it at the
        ``community`` level.
    duration_min : int or None
        Minutes of work the task takes (1–1440), counted against volunteers'
        ``minutes_per_day`` budgets; ``None`` counts as 0. The task starts in its slot; a
        volunteer's lone task in a slot may run past the slot's end (a long visit), but two or
        more tasks of one volunteer in one slot are done one after the other and must fit the
        slot together (the problem refuses capacities that would allow otherwise).
    note : str, default ""
        Free text, not used by the solver: at most 1,000 printable characters (new lines and
        tabs allowed), no phone or identity number (it is shown in results and exports).
    """

    id: Id
    skill: Skill
    min_level: Level = 1
    location: GeoPoint
    window: TimeWindow
    priority: int = Field(default=1, ge=1, le=1_000_000)
    household_id: Id | None = None
    building_id: Id | None = None
    compound_id: Id | None = None
    community_id: Id | None = None
    duration_min: int | None = Field(default=None, ge=1, le=1440)
    note: Annotated[Text, Field(max_length=1000), AfterValidator(no_personal_number)] = ""


class Volunteer(FrozenRecord):
    """A volunteer who can take tasks.

    Parameters
    ----------
    id : str
        Stable, pseudonymous id.
    location : GeoPoint
        Where the volunteer starts from (WGS84, longitude first).
    skills : dict of str to int
        Skill name → level 1–5.
    availability : list of TimeWindow
        When the volunteer can work; a task's window must lie inside one of them.
    capacity_per_slot : int, default 1
        Most tasks the volunteer takes in one slot (≥ 0; 0 takes nothing). A volunteer is never
        in two places at once: when two or more tasks of a slot that the volunteer may take
        (skill and level, availability) have ``duration_min`` summing past the slot's length
        within this many, the problem is refused (``ProblemError`` naming the volunteer).
    capacity_per_day : int, default 8
        Most tasks the volunteer takes on one calendar day of the problem's time zone (≥ 0).
    minutes_per_day : int or None
        Budget of task minutes (:attr:`Task.duration_min`) per calendar day (0–1440); ``None``
        means no minute budget. Any budget makes the problem NP-hard: ``match_volunteers``
        then solves it with CP-SAT and reports status and gap.
    team_id : str or None
        The volunteer's team (informational).
    building_ids : list of str
        Buildings the volunteer's team is responsible for (building level of
        :func:`scope_level`).
    compound_id, community_id : str or None
        The compound and community the volunteer serves.
    partner : bool, default False
        A partner-team member or rider: serves any task at the ``partner`` level, across
        communities.
    """

    id: Id
    location: GeoPoint
    skills: dict[Skill, Level] = Field(default_factory=dict)
    availability: list[TimeWindow] = Field(default_factory=list)
    capacity_per_slot: int = Field(default=1, ge=0, le=1_000_000)
    capacity_per_day: int = Field(default=8, ge=0, le=1_000_000)
    minutes_per_day: int | None = Field(default=None, ge=0, le=1440)
    team_id: Id | None = None
    building_ids: list[Id] = Field(default_factory=list)
    compound_id: Id | None = None
    community_id: Id | None = None
    partner: bool = False


class ScopePenalties(FrozenModel):
    """Penalty of serving a task at each scope level, in metre-equivalents.

    Added to the travel metres of a match in the ``min_cost`` cost tier, so one level further
    out is worth that many metres of extra walking. Defaults: building 0, compound 100,
    community 300, partner 600 m (a nearer pool first, as in the Gusu practice, but never at
    the price of an unserved task: priority served is a higher tier). Values 0–100,000,
    non-decreasing in escalation order.
    """

    building: int = Field(default=0, ge=0, le=100_000)
    compound: int = Field(default=100, ge=0, le=100_000)
    community: int = Field(default=300, ge=0, le=100_000)
    partner: int = Field(default=600, ge=0, le=100_000)

    @model_validator(mode="after")
    def _non_decreasing(self) -> ScopePenalties:
        values = [self.building, self.compound, self.community, self.partner]
        if values != sorted(values):
            raise ValueError(
                "penalties must not decrease from building to compound to community to partner"
            )
        return self

    def of(self, level: ScopeLevel) -> int:
        """The penalty of ``level`` in metre-equivalents."""
        return int(getattr(self, level.value))


class Pin(FrozenRecord):
    """A (task, volunteer) pair: a confirmed assignment to keep, or one from a previous plan.

    Attributes
    ----------
    task_id, volunteer_id : str
        The pair.
    """

    task_id: Id
    volunteer_id: Id


class MatchingProblem(CheckedProblem):
    """A volunteer ↔ task matching problem.

    Construction validates everything at once and raises :class:`commgov.errors.ProblemError`
    listing every issue (record id, field, value, rule): field values, unique ids, the time
    zone, the slot grid (two tasks' windows must be identical or disjoint), and capacities per
    slot that would let a volunteer's tasks of one slot overrun it in time.

    Parameters
    ----------
    schema_version : str, default "1.0"
        Layout version of the record.
    timezone : str
        IANA time zone (``"Asia/Shanghai"``) that defines calendar days.
    tasks : list of Task
        The tasks; ids unique.
    volunteers : list of Volunteer
        The volunteers; ids unique.
    max_distance_m : float, default 1000
        Longest travel distance allowed between volunteer and task, in metres (≥ 0).
    detour_factor : float, default 1.0
        Multiplier from great-circle to travel distance (≥ 1).
    scope_penalties : ScopePenalties
        Metre-equivalent penalty per scope level (:class:`ScopePenalties`).
    pinned : list of Pin
        Confirmed assignments that every solution keeps. Each must name known records, be
        eligible, and the pins together must fit every capacity; a task is pinned at most once.
    previous : list of Pin
        The previous plan, for re-matching: among solutions serving the most priority, the
        solver changes as few of these as possible (a change is a previous task now served by
        another volunteer or not at all). Task ids must be known and appear at most once (drop
        the entries of cancelled tasks); a volunteer id may be absent (that volunteer dropped
        out: its tasks must change).

    Raises
    ------
    commgov.errors.ProblemError
        If any field or cross-record rule is broken; ``.issues`` lists them all.

    Examples
    --------
    >>> MatchingProblem(timezone="Mars/Olympus", tasks=[], volunteers=[])
    Traceback (most recent call last):
    ...
    commgov.errors.ProblemError: matching problem: 1 problem
      - problem.timezone = 'Mars/Olympus': Value error, unknown IANA time zone
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    timezone: str
    tasks: list[Task] = Field(default_factory=list)
    volunteers: list[Volunteer] = Field(default_factory=list)
    max_distance_m: float = Field(default=1000.0, ge=0.0, le=1e7, allow_inf_nan=False)
    detour_factor: float = Field(default=1.0, ge=1.0, le=100.0, allow_inf_nan=False)
    scope_penalties: ScopePenalties = Field(default_factory=ScopePenalties)
    pinned: list[Pin] = Field(default_factory=list)
    previous: list[Pin] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not is_iana_zone(value):
            raise ValueError("unknown IANA time zone")
        return value

    problem_what: ClassVar[str] = _WHAT
    problem_record: ClassVar[str] = "problem"

    def cross_issues(self) -> list[InputIssue]:
        """Unique ids, the slot grid, buildings listed once, and the pins (known, once per
        task, eligible, within every capacity) and previous plan (known tasks, once each)."""
        from commgov.matching.volunteers._rules import problem_issues

        return problem_issues(self)

    @property
    def zone(self) -> ZoneInfo:
        """The problem's time zone as a :class:`zoneinfo.ZoneInfo`."""
        return ZoneInfo(self.timezone)


# --------------------------------------------------------------------------------- results


class Match(FrozenModel):
    """One task served by one volunteer.

    Attributes
    ----------
    task_id, volunteer_id : str
        The pair.
    distance_m : int
        Travel distance in metres (:func:`travel_distance_m`).
    slot_start : datetime
        Start of the task's window (the slot).
    priority : int
        The task's priority.
    scope : ScopeLevel
        The organisation level used (:func:`scope_level`).
    cost_m : int
        Scope penalty plus travel, in metre-equivalents (:func:`pair_cost_m`).
    pinned : bool
        Whether the pair was pinned in the problem.
    reasons : list of Reason
        Why this volunteer may take this task: one ``MATCHED`` reason with the skill and level,
        the distance and limit, the slot, the volunteer's load in the slot and on the day with
        their capacities, and the scope level; plus ``PINNED`` for pinned pairs.
    """

    task_id: str
    volunteer_id: str
    distance_m: int
    slot_start: AwareDatetime
    priority: int
    scope: ScopeLevel = ScopeLevel.COMMUNITY
    cost_m: int = 0
    pinned: bool = False
    reasons: list[Reason] = Field(default_factory=list)


class Unmatched(FrozenModel):
    """A task left unserved, with its primary reason.

    Attributes
    ----------
    task_id : str
        The task.
    priority : int
        The task's priority.
    reasons : list of Reason
        Exactly one primary reason from the solver: ``SKILL_MISSING(skill, level)``,
        ``TOO_FAR(distance_m, limit_m)``, ``OUT_OF_WINDOW``, ``NO_CAPACITY(eligible)`` or
        ``CAPACITY_USED(eligible[, no_capacity])``.
    """

    task_id: str
    priority: int
    reasons: list[Reason]


class MatchingTotals(FrozenModel):
    """Counts and sums over an assignment.

    Attributes
    ----------
    tasks, matched, unmatched : int
        Counts of tasks.
    priority_served, priority_total : int
        Sum of priorities of the matched tasks, and of all tasks.
    travel_m : int
        Sum of travel distances of the matches, in metres.
    cost_m : int
        Sum of match costs (scope penalty + travel), in metre-equivalents.
    scope_penalty_m : int
        ``cost_m - travel_m``.
    changes : int
        Tasks of ``problem.previous`` not served by their previous volunteer.
    """

    tasks: int
    matched: int
    unmatched: int
    priority_served: int
    priority_total: int
    travel_m: int
    cost_m: int = 0
    scope_penalty_m: int = 0
    changes: int = 0


class VolunteerLoad(FrozenModel):
    """How many tasks a volunteer received."""

    volunteer_id: str
    tasks: int


class Assignment(PlanResult):
    """Result of :func:`commgov.matching.match_volunteers`.

    A :class:`~commgov.results.PlanResult`: ``to_json(indent=None)``, ``rows(lang)`` (one row
    per task, columns :attr:`ROW_COLUMNS`) and ``to_frame(lang)``.

    Attributes
    ----------
    schema_version : str
        Layout version.
    matches : list of Match
        Served tasks, sorted by task id.
    unmatched : list of Unmatched
        Unserved tasks with one reason each, sorted by task id.
    totals : MatchingTotals
        Counts, priority served and total, travel in metres.
    loads : list of VolunteerLoad
        Tasks per volunteer (every volunteer, sorted by id).
    info : SolveInfo
        Status, solver, objective tiers (``priority_served`` first), options, versions.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    matches: list[Match]
    unmatched: list[Unmatched]
    totals: MatchingTotals
    loads: list[VolunteerLoad]
    info: SolveInfo

    #: Column names of :meth:`rows`, in order: ``task_id``, ``status``
    #: (``matched``/``unmatched``), ``volunteer_id``, ``distance_m`` (metres), ``slot_start``
    #: (ISO 8601), ``priority``, ``reason_code``, ``reason``; empty strings where not
    #: applicable. Rows are sorted by task id.
    ROW_COLUMNS: ClassVar[tuple[str, ...]] = (
        "task_id",
        "status",
        "volunteer_id",
        "distance_m",
        "slot_start",
        "priority",
        "reason_code",
        "reason",
    )

    def _rows(self, lang: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for m in self.matches:
            out.append(
                {
                    "task_id": m.task_id,
                    "status": "matched",
                    "volunteer_id": m.volunteer_id,
                    "distance_m": m.distance_m,
                    "slot_start": m.slot_start.isoformat(),
                    "priority": m.priority,
                    "reason_code": "",
                    "reason": "",
                }
            )
        texts: dict[tuple[str, tuple[tuple[str, Any], ...]], str] = {}  # one text per reason
        for u in self.unmatched:
            reason = u.reasons[0] if u.reasons else None
            text = ""
            if reason is not None:
                key = (str(reason.code), tuple(sorted(reason.params.items())))
                text = texts.get(key, "")
                if not text:
                    text = texts[key] = reason.text(lang)
            out.append(
                {
                    "task_id": u.task_id,
                    "status": "unmatched",
                    "volunteer_id": "",
                    "distance_m": "",
                    "slot_start": "",
                    "priority": u.priority,
                    "reason_code": str(reason.code) if reason else "",
                    "reason": text,
                }
            )
        out.sort(key=lambda r: str(r["task_id"]))
        return out
