"""Planning on a live state: re-match, re-plan, candidates, hours served (private).

Each function reads a :class:`~commgov.live.CommunityState` and calls the planners through
their public entry points with the existing re-planning tiers: matching keeps claims as pins
and changes as few previous assignments as possible (``MatchingProblem.previous``); sampling
re-plans the rest of the window for sealed buildings with the fewest changed notices
(:func:`commgov.scheduling.replan_sampling`).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, Field

from commgov._control import CancelToken, ProgressCallback
from commgov._files import write_csv
from commgov._records import FrozenModel
from commgov.errors import InvalidParameterError, UnknownIdError, expect_type
from commgov.live._state import CommunityState, TaskState
from commgov.matching import (
    Assignment,
    MatchingProblem,
    Pin,
    ScopeLevel,
    Task,
    Volunteer,
    has_skill,
    is_available,
    is_eligible,
    match_volunteers,
    matching_problem_from_org,
    pair_cost_m,
    scope_level,
    task_day,
    travel_distance_m,
)
from commgov.org._args import instant
from commgov.results import LeftOut, LeftOutReasonCode
from commgov.scheduling import Replan, SamplingPlan, SamplingProblem, replan_sampling
from commgov.types import Id, TimeWindow

__all__ = [
    "Candidate",
    "HoursServed",
    "MatchChange",
    "Rematch",
    "TeamServed",
    "VolunteerServed",
    "candidates",
    "hours_served",
    "live_matching_problem",
    "rematch",
    "replan_after_events",
]


# ------------------------------------------------------------------------ matching

#: The keywords of matching_problem_from_org a live problem passes on.
_BUILDER_KEYWORDS = frozenset(
    {"max_distance_m", "capacity_per_slot", "capacity_per_day", "scope_penalties"}
)


def live_matching_problem(
    state: CommunityState,
    *,
    window: TimeWindow | None = None,
    at: datetime | None = None,
    previous: Assignment | None = None,
    **builder: Any,
) -> MatchingProblem:
    """The matching problem of a live state: open and claimed tasks, present volunteers.

    Built by :func:`commgov.matching.matching_problem_from_org` on the state's model and
    community, then:

    * tasks: the open and claimed ones (done and cancelled tasks are not matched);
    * volunteers away at ``at`` are left out (``left_out``, ``NOT_AVAILABLE``);
    * each claim is a pin (kept by every solution) when the claimer is in the problem, the
      pair is eligible and the claims fit the claimer's capacities; a claim that cannot be a
      pin (the claimer lives outside the builder's scope, say) takes its task out of the
      problem, listed in ``left_out`` (kind ``task``, ``CLAIM_NOT_PINNED``): it is served by
      its claimer, not matched;
    * ``previous``: the matches of an earlier assignment whose task is still open become the
      previous plan, so the solver changes as few as possible;
    * ``declined``: every (task, volunteer) pair a ``task_declined`` event recorded, so the
      task is never offered to that volunteer again.

    Parameters
    ----------
    state : CommunityState
    window : TimeWindow, optional
        Passed to the builder (volunteers available in it).
    at : datetime, optional
        Tz-aware instant for absences; default the latest event's ``at`` (every absence
        counts when there is none).
    previous : Assignment, optional
        The assignment in force.
    **builder
        Further keywords of :func:`~commgov.matching.matching_problem_from_org`
        (``max_distance_m``, ``capacity_per_slot``, ``capacity_per_day``, ``scope_penalties``).

    Returns
    -------
    MatchingProblem

    Raises
    ------
    commgov.errors.ProblemError
        As the builder.
    TypeError, ValueError
        If ``state`` or ``previous`` has the wrong type, ``at`` is not a tz-aware datetime,
        or a builder keyword is unknown (:class:`~commgov.errors.InvalidParameterError`).
    """
    expect_type(state, CommunityState, "state")
    if previous is not None:
        expect_type(previous, Assignment, "previous")
    at = state.status.last_at if at is None else instant(at, "at")
    unknown = sorted(set(builder) - _BUILDER_KEYWORDS)
    if unknown:
        raise InvalidParameterError(
            unknown[0],
            builder[unknown[0]],
            f"one of {', '.join(sorted(_BUILDER_KEYWORDS))}",
            "live matching problem",
        )
    away = set(state.away_volunteer_ids(at))
    statuses = {s.task_id: s for s in state.status.tasks}
    live = state.tasks_in(TaskState.OPEN, TaskState.CLAIMED)
    base = matching_problem_from_org(
        state.model, state.community_id, tasks=live, window=window, **builder
    )
    volunteers = [v for v in base.volunteers if v.id not in away]
    left_out = list(base.left_out) + [
        LeftOut(record=v.id, kind="person", code=LeftOutReasonCode.NOT_AVAILABLE)
        for v in base.volunteers
        if v.id in away
    ]
    by_id = {v.id: v for v in volunteers}
    pins, dropped = _claims_as_pins(base, [t for t in base.tasks], statuses, by_id)
    tasks = [t for t in base.tasks if t.id not in dropped]
    left_out.extend(
        LeftOut(
            record=t,
            kind="task",
            code=LeftOutReasonCode.CLAIM_NOT_PINNED,
            params={"volunteer_id": statuses[t].volunteer_id or ""},
        )
        for t in sorted(dropped)
    )
    kept = {t.id for t in tasks}
    pinned_ids = {p.task_id for p in pins}
    prev: list[Pin] = []
    if previous is not None:
        for m in previous.matches:
            if m.task_id in kept and m.task_id not in pinned_ids:
                prev.append(Pin(task_id=m.task_id, volunteer_id=m.volunteer_id))
    vol_ids = set(by_id)
    declined = [
        Pin(task_id=t.id, volunteer_id=v)
        for t in tasks
        for v in statuses[t.id].declined_by
        if v in vol_ids
    ]
    data = base.model_dump(
        exclude={"tasks", "volunteers", "pinned", "previous", "left_out", "declined"}
    )
    return MatchingProblem.model_validate(
        {
            **data,
            "tasks": tasks,
            "volunteers": volunteers,
            "pinned": pins,
            "previous": prev,
            "declined": declined,
            "left_out": left_out,
        }
    )


def _claims_as_pins(
    problem: MatchingProblem,
    tasks: list[Task],
    statuses: dict[str, Any],
    volunteers: dict[str, Volunteer],
) -> tuple[list[Pin], set[str]]:
    pins: list[Pin] = []
    dropped: set[str] = set()
    slot_load: Counter[tuple[str, datetime]] = Counter()
    day_load: Counter[tuple[str, Any]] = Counter()
    for t in tasks:
        s = statuses[t.id]
        if s.state is not TaskState.CLAIMED:
            continue
        v = volunteers.get(s.volunteer_id or "")
        ok = v is not None and is_eligible(problem, t, v)
        if ok and v is not None:
            slot = (v.id, t.window.start)
            day = (v.id, task_day(problem, t))
            ok = slot_load[slot] < v.capacity_per_slot and day_load[day] < v.capacity_per_day
            if ok:
                slot_load[slot] += 1
                day_load[day] += 1
        if ok and v is not None:
            pins.append(Pin(task_id=t.id, volunteer_id=v.id))
        else:
            dropped.add(t.id)
    return pins, dropped


class MatchChange(FrozenModel):
    """A task whose volunteer changed between the assignment in force and the re-match."""

    task_id: Id
    before: Id | None
    after: Id | None


class Rematch(FrozenModel):
    """What :func:`rematch` returns.

    Attributes
    ----------
    problem : MatchingProblem
        The live matching problem (see :func:`live_matching_problem`).
    assignment : Assignment
        The new assignment (verify it with :func:`commgov.matching.is_valid_assignment`);
        ``info.model_hash`` and ``info.problem_hash`` name the state's model and the live
        problem it was computed from.
    changes : tuple of MatchChange
        Tasks of the problem whose volunteer changed from the previous assignment (or that
        lost theirs), and tasks newly matched; sorted by task id. Tasks done, cancelled or
        left to their claimer since are not changes.
    """

    problem: MatchingProblem
    assignment: Assignment
    changes: tuple[MatchChange, ...] = ()


def rematch(
    state: CommunityState,
    previous: Assignment | None = None,
    *,
    window: TimeWindow | None = None,
    at: datetime | None = None,
    method: str | None = None,
    time_limit_s: float = 30.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    **builder: Any,
) -> Rematch:
    """Re-match a live state's tasks, changing as little of ``previous`` as possible.

    The objective is :func:`commgov.matching.match_volunteers`' ``min_cost`` one: most
    priority served → fewest changes to the previous assignment → least scope penalty and
    travel; claims are pins, volunteers away are out (see :func:`live_matching_problem`).

    Parameters
    ----------
    state : CommunityState
    previous : Assignment, optional
        The assignment in force (``None``: a first match).
    window, at, **builder
        As in :func:`live_matching_problem`.
    method, time_limit_s, seed, progress, cancel
        As in :func:`~commgov.matching.match_volunteers` (seconds for ``time_limit_s``).

    Returns
    -------
    Rematch

    Raises
    ------
    commgov.errors.ProblemError
        If the live problem cannot be built.
    commgov.errors.InvalidParameterError
        For a bad option.

    Notes
    -----
    The cost is that of one matching solve (a min-cost flow: see
    :func:`~commgov.matching.match_volunteers`). Minimal perturbation after Sakkout &
    Wallace, "Probe backtrack search for minimal perturbation in dynamic scheduling",
    Constraints 5 (2000) 359–388.
    """
    problem = live_matching_problem(state, window=window, at=at, previous=previous, **builder)
    result = match_volunteers(
        problem,
        method=method,
        time_limit_s=time_limit_s,
        seed=seed,
        progress=progress,
        cancel=cancel,
    )
    # the result carries the hashes of what it came from (a cache knows when it is stale)
    stamped = result.stamped(problem=problem)
    result = stamped.model_copy(
        update={"info": stamped.info.model_copy(update={"model_hash": state.model_hash()})}
    )
    live = {t.id for t in problem.tasks}
    before = {m.task_id: m.volunteer_id for m in previous.matches} if previous else {}
    after = {m.task_id: m.volunteer_id for m in result.matches}
    changes = tuple(
        MatchChange(task_id=t, before=before.get(t), after=after.get(t))
        for t in sorted((set(before) & live) | set(after))
        if before.get(t) != after.get(t)
    )
    return Rematch(problem=problem, assignment=result, changes=changes)


# ------------------------------------------------------------------------ sampling


def replan_after_events(
    state: CommunityState,
    problem: SamplingProblem,
    plan: SamplingPlan,
    *,
    at: datetime,
    time_limit_s: float = 10.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Replan:
    """Re-plan the rest of a sampling window for the buildings sealed in a live state.

    The buildings of ``problem`` sealed in ``state`` at or before ``at`` are passed to
    :func:`commgov.scheduling.replan_sampling` (slots before ``at`` frozen; max served →
    fewest changed notices → least walking); one sealed later waits for a re-plan at its
    sealing time. A building released after the plan was made is not brought back by a
    re-plan: make a new plan for that.

    Parameters
    ----------
    state : CommunityState
    problem, plan : SamplingProblem, SamplingPlan
        The plan in force and its problem.
    at : datetime
        Tz-aware instant of the re-plan.
    time_limit_s, seed, progress, cancel
        As in :func:`~commgov.scheduling.replan_sampling`.

    Returns
    -------
    Replan

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``at`` is not tz-aware or an option is bad.
    """
    expect_type(state, CommunityState, "state")
    at = instant(at, "at")
    in_plan = {b.id for b in problem.buildings}
    sealed = [
        s.building_id for s in state.status.sealed if s.building_id in in_plan and s.since <= at
    ]
    return replan_sampling(
        problem,
        plan,
        at=at,
        seal_buildings=sealed,
        time_limit_s=time_limit_s,
        seed=seed,
        progress=progress,
        cancel=cancel,
    )


# ------------------------------------------------------------------------ candidates

Why = Literal["", "SKILL_MISSING", "OUT_OF_SCOPE", "TOO_FAR", "OUT_OF_WINDOW", "DECLINED", "FULL"]


class Candidate(FrozenModel):
    """A volunteer for a task, with what taking it would cost and why (not).

    Attributes
    ----------
    volunteer_id : str
    rank : int
        1 for the best candidate.
    eligible : bool
        Skill, scope, reach and window all hold, and the volunteer has not declined.
    free : bool
        Eligible and with room in the task's slot and day (claims counted).
    why_not : str
        ``""`` for a free candidate; else the first rule that fails, in the order
        ``DECLINED``, ``SKILL_MISSING``, ``OUT_OF_SCOPE``, ``TOO_FAR``, ``OUT_OF_WINDOW``,
        ``FULL``.
    distance_m : int
        Travel metres (:func:`commgov.matching.travel_distance_m`).
    scope : ScopeLevel or None
        The organisation level of the pair (``None``: out of scope).
    cost_m : int or None
        The pair's cost in the matching objective (scope penalty + travel, metre-equivalents);
        ``None`` when out of scope.
    slot_load, day_load : int
        Tasks the volunteer has claimed in the task's slot and day.
    slot_capacity, day_capacity : int
    """

    volunteer_id: Id
    rank: int = Field(ge=1)
    eligible: bool
    free: bool
    why_not: Why = ""
    distance_m: int
    scope: ScopeLevel | None
    cost_m: int | None
    slot_load: int
    day_load: int
    slot_capacity: int
    day_capacity: int


def candidates(
    state: CommunityState,
    task_id: str,
    *,
    k: int = 5,
    window: TimeWindow | None = None,
    at: datetime | None = None,
    include_ineligible: bool = False,
    **builder: Any,
) -> tuple[Candidate, ...]:
    """The best ``k`` volunteers for one task, each with its cost and reasons.

    Every volunteer of the live matching problem (:func:`live_matching_problem`; away ones
    excluded) is scored on the pair: free candidates first, by the matching objective's pair
    cost (scope penalty + travel) then id; then eligible but full ones; with
    ``include_ineligible``, then the rest with the rule they break. This is the
    recommendation view of Timefold Solver's "assignment recommendation" API: what each
    choice would cost, best first.

    Parameters
    ----------
    state : CommunityState
    task_id : str
        An open or claimed task of the state.
    k : int, default 5
        How many to return (1–1000).
    window, at, **builder
        As in :func:`live_matching_problem`.
    include_ineligible : bool, default False
        Also rank volunteers who may not take the task (``why_not`` says why).

    Returns
    -------
    tuple of Candidate
        At most ``k``, best first.

    Raises
    ------
    commgov.errors.UnknownIdError
        If the task is not in the state.
    commgov.errors.InvalidParameterError
        If ``k`` is out of range or the task is done or cancelled.

    Notes
    -----
    O(V) pair checks after building the problem (O(model)).

    References
    ----------
    Timefold Solver documentation, "Recommendations API" (assignment recommendation).
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
        raise InvalidParameterError("k", k, "a whole number in [1, 1000]", "candidates")
    status = state.task_status(task_id)
    if status.state not in (TaskState.OPEN, TaskState.CLAIMED):
        raise InvalidParameterError(
            "task_id", task_id, f"an open or claimed task (it is {status.state.value})"
        )
    problem = live_matching_problem(state, window=window, at=at, **builder)
    # the problem's version of the task: the builder fills in its building, compound and
    # community from its household, as the matcher scores it
    task = next((t for t in problem.tasks if t.id == task_id), None)
    if task is None:
        task = next((t for t in state.tasks if t.id == task_id), None)
    if task is None:  # pragma: no cover - task_status found it
        raise UnknownIdError(task_id, "task_id")
    claimed_slot: Counter[str] = Counter()
    claimed_day: Counter[str] = Counter()
    day = task_day(problem, task)
    by_task = {t.id: t for t in state.tasks}
    for s in state.status.tasks:
        if s.state is TaskState.CLAIMED and s.volunteer_id and s.task_id != task_id:
            other = by_task[s.task_id]
            if other.window.start == task.window.start:
                claimed_slot[s.volunteer_id] += 1
            if task_day(problem, other) == day:
                claimed_day[s.volunteer_id] += 1
    declined = set(status.declined_by)
    scored: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for v in problem.volunteers:
        level = scope_level(task, v)
        dist = travel_distance_m(task, v, problem.detour_factor)
        elig = v.id not in declined and is_eligible(problem, task, v)
        room = claimed_slot[v.id] < v.capacity_per_slot and claimed_day[v.id] < v.capacity_per_day
        why: str = ""
        if v.id in declined:
            why = "DECLINED"
        elif not has_skill(task, v):
            why = "SKILL_MISSING"
        elif level is None:
            why = "OUT_OF_SCOPE"
        elif dist > problem.max_distance_m:
            why = "TOO_FAR"
        elif not is_available(task, v):
            why = "OUT_OF_WINDOW"
        elif not room:
            why = "FULL"
        if not elig and not include_ineligible:
            continue
        cost = pair_cost_m(problem, task, v) if level is not None else None
        group = 0 if why == "" else 1 if elig else 2
        key = (group, cost if cost is not None else 2**62, v.id)
        scored.append(
            (
                key,
                {
                    "volunteer_id": v.id,
                    "eligible": elig,
                    "free": why == "",
                    "why_not": why,
                    "distance_m": dist,
                    "scope": level,
                    "cost_m": cost,
                    "slot_load": claimed_slot[v.id],
                    "day_load": claimed_day[v.id],
                    "slot_capacity": v.capacity_per_slot,
                    "day_capacity": v.capacity_per_day,
                },
            )
        )
    scored.sort(key=lambda x: x[0])
    return tuple(Candidate(rank=i + 1, **row) for i, (_, row) in enumerate(scored[:k]))


# ------------------------------------------------------------------------ hours served


class VolunteerServed(FrozenModel):
    """Time one volunteer served: shifts, minutes on duty and tasks done."""

    volunteer_id: Id
    team_ids: tuple[Id, ...] = ()
    shifts: int
    minutes: int
    tasks_done: int
    on_duty: bool


class TeamServed(FrozenModel):
    """Time a team's members served (a volunteer in two teams counts in both)."""

    team_id: Id
    volunteers: int
    minutes: int
    tasks_done: int


class HoursServed(FrozenModel):
    """Hours served per volunteer and per team, from check-ins, check-outs and tasks done.

    Attributes
    ----------
    as_of : datetime or None
        Open shifts were counted up to this tz-aware instant (not counted when ``None``).
    volunteers : tuple of VolunteerServed
        Every volunteer with a shift or a task done, sorted by id.
    teams : tuple of TeamServed
        Every team with such a member, sorted by id.
    """

    VOLUNTEER_COLUMNS: ClassVar[tuple[str, ...]] = (
        "volunteer_id",
        "team_ids",
        "shifts",
        "minutes",
        "hours",
        "tasks_done",
        "on_duty",
    )
    TEAM_COLUMNS: ClassVar[tuple[str, ...]] = (
        "team_id",
        "volunteers",
        "minutes",
        "hours",
        "tasks_done",
    )

    as_of: AwareDatetime | None = None
    volunteers: tuple[VolunteerServed, ...] = ()
    teams: tuple[TeamServed, ...] = ()

    def rows(self, by: Literal["volunteer", "team"] = "volunteer") -> list[dict[str, Any]]:
        """One row per volunteer (columns :attr:`VOLUNTEER_COLUMNS`) or team
        (:attr:`TEAM_COLUMNS`); ``hours`` is minutes / 60 to two decimals.

        Raises
        ------
        commgov.errors.InvalidParameterError
            If ``by`` is neither ``"volunteer"`` nor ``"team"``.
        """
        if by == "volunteer":
            return [
                {
                    "volunteer_id": v.volunteer_id,
                    "team_ids": " ".join(v.team_ids),
                    "shifts": v.shifts,
                    "minutes": v.minutes,
                    "hours": round(v.minutes / 60, 2),
                    "tasks_done": v.tasks_done,
                    "on_duty": v.on_duty,
                }
                for v in self.volunteers
            ]
        if by == "team":
            return [
                {
                    "team_id": t.team_id,
                    "volunteers": t.volunteers,
                    "minutes": t.minutes,
                    "hours": round(t.minutes / 60, 2),
                    "tasks_done": t.tasks_done,
                }
                for t in self.teams
            ]
        raise InvalidParameterError("by", by, "'volunteer' or 'team'", "HoursServed.rows")

    def write_csv(self, path: str | Path, by: Literal["volunteer", "team"] = "volunteer") -> Path:
        """Write :meth:`rows` to a CSV file, atomically (formula-safe)."""
        columns = self.VOLUNTEER_COLUMNS if by == "volunteer" else self.TEAM_COLUMNS
        return write_csv(self.rows(by), path, columns)


def hours_served(state: CommunityState, *, as_of: datetime | None = None) -> HoursServed:
    """Hours served per volunteer and team, from a live state's shifts and tasks done.

    A shift runs from a check-in to its check-out; an open one counts up to ``as_of`` (not
    at all without it). Minutes are summed per volunteer from seconds, then rounded to whole
    minutes; a team's minutes are its members' rounded minutes summed.

    Parameters
    ----------
    state : CommunityState
    as_of : datetime, optional
        Tz-aware instant up to which open shifts count.

    Returns
    -------
    HoursServed

    Raises
    ------
    commgov.errors.InvalidParameterError
        If ``as_of`` is not tz-aware.

    Notes
    -----
    O(shifts + tasks + memberships).
    """
    if as_of is not None and (not isinstance(as_of, datetime) or as_of.tzinfo is None):
        raise InvalidParameterError("as_of", as_of, "a tz-aware datetime", "hours_served")
    seconds: dict[str, float] = {}
    shifts: Counter[str] = Counter()
    for s in state.status.shifts:
        shifts[s.volunteer_id] += 1
        seconds[s.volunteer_id] = seconds.get(s.volunteer_id, 0.0) + s.minutes(as_of) * 60
    done: Counter[str] = Counter(
        s.volunteer_id for s in state.status.tasks if s.state is TaskState.DONE and s.volunteer_id
    )
    teams_of: dict[str, tuple[str, ...]] = state.index()["teams_of"]
    on = set(state.on_duty())
    people = sorted(set(shifts) | set(done))
    vols = tuple(
        VolunteerServed(
            volunteer_id=p,
            team_ids=teams_of.get(p, ()),
            shifts=shifts[p],
            minutes=round(seconds.get(p, 0.0) / 60),
            tasks_done=done[p],
            on_duty=p in on,
        )
        for p in people
    )
    team_rows: dict[str, list[VolunteerServed]] = {}
    for v in vols:
        for t in v.team_ids:
            team_rows.setdefault(t, []).append(v)
    teams = tuple(
        TeamServed(
            team_id=t,
            volunteers=len(rows),
            minutes=sum(r.minutes for r in rows),
            tasks_done=sum(r.tasks_done for r in rows),
        )
        for t, rows in sorted(team_rows.items())
    )
    return HoursServed(as_of=as_of, volunteers=vols, teams=teams)
