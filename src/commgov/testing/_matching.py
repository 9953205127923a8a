"""Hypothesis strategies and mutation operators for volunteer ↔ task matching.

Public API (re-exported by :mod:`commgov.testing`):

* :func:`matching_problems` — a Hypothesis strategy of small, valid
  :class:`~commgov.matching.MatchingProblem` instances on a slot grid (slots may straddle local
  midnight, so day capacities are exercised);
* :data:`MATCHING_MUTATIONS` — ``name → (operator, expected ViolationCode)``: each operator
  takes ``(problem, assignment)`` and returns a broken copy of the assignment that
  :func:`~commgov.matching.is_valid_assignment` must reject with the expected code, or ``None``
  when the operator does not apply to this instance.

Hypothesis is imported only here, so the runtime never needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from commgov.matching import (
    Assignment,
    Match,
    MatchingProblem,
    MatchingTotals,
    Task,
    Unmatched,
    ViolationCode,
    Volunteer,
    VolunteerLoad,
    has_skill,
    is_available,
    is_eligible,
    task_day,
    travel_distance_m,
)
from commgov.results import Reason, ReasonCode
from commgov.types import GeoPoint, TimeWindow

__all__ = ["MATCHING_MUTATIONS", "MatchingMutation", "matching_problems"]

MatchingMutation = Callable[[MatchingProblem, Assignment], Assignment | None]

_CENTRE = (120.62, 31.31)  # Gusu, Suzhou
_STEP_DEG = 0.0005  # about 50 m of latitude, 47 m of longitude


@st.composite
def matching_problems(
    draw: st.DrawFn,
    *,
    max_tasks: int = 8,
    max_volunteers: int = 5,
    max_slots: int = 3,
    skills: Sequence[str] = ("cook", "drive", "medic"),
    timezone: str = "Asia/Shanghai",
) -> MatchingProblem:
    """Draw a small valid matching problem.

    Tasks sit on a grid of hour-long slots starting at 22:00 local time (so some fall on the
    next day); places lie on a ~50 m lattice within about 750 m of a centre in Suzhou.

    Parameters
    ----------
    draw : callable
        Supplied by Hypothesis.
    max_tasks, max_volunteers, max_slots : int
        Upper bounds on sizes (at least 0 tasks and volunteers, 1 slot).
    skills : sequence of str
        Skill names to draw from.
    timezone : str
        IANA time zone of the problem.

    Returns
    -------
    MatchingProblem
        A valid problem.
    """
    tz = ZoneInfo(timezone)
    base = datetime(2022, 4, 9, 22, 0, tzinfo=tz)
    starts = draw(
        st.lists(st.integers(0, 4), min_size=1, max_size=max(1, max_slots), unique=True)
    )
    starts.sort()
    slots = [
        TimeWindow(start=base + timedelta(hours=h), end=base + timedelta(hours=h + 1))
        for h in starts
    ]

    def place() -> GeoPoint:
        dx = draw(st.integers(-15, 15))
        dy = draw(st.integers(-15, 15))
        return GeoPoint(lon=_CENTRE[0] + dx * _STEP_DEG, lat=_CENTRE[1] + dy * _STEP_DEG)

    n_tasks = draw(st.integers(0, max_tasks))
    tasks = [
        Task(
            id=f"t{i:03d}",
            skill=draw(st.sampled_from(list(skills))),
            min_level=draw(st.integers(1, 3)),
            location=place(),
            window=draw(st.sampled_from(slots)),
            priority=draw(st.integers(1, 3)),
        )
        for i in range(n_tasks)
    ]
    n_vols = draw(st.integers(0, max_volunteers))
    volunteers = []
    for j in range(n_vols):
        chosen = draw(st.lists(st.sampled_from(list(skills)), max_size=len(skills), unique=True))
        levels = {s: draw(st.integers(1, 5)) for s in sorted(chosen)}
        # availability: one contiguous block of hours covering zero or more slots, maybe more
        lo = draw(st.integers(0, 4))
        hi = draw(st.integers(lo, 5))
        avail = (
            [TimeWindow(start=base + timedelta(hours=lo), end=base + timedelta(hours=hi))]
            if hi > lo
            else []
        )
        volunteers.append(
            Volunteer(
                id=f"v{j:03d}",
                location=place(),
                skills=levels,
                availability=avail,
                capacity_per_slot=draw(st.integers(1, 2)),
                capacity_per_day=draw(st.integers(1, 3)),
            )
        )
    return MatchingProblem(
        timezone=timezone,
        tasks=tasks,
        volunteers=volunteers,
        max_distance_m=draw(st.sampled_from([300.0, 600.0, 1000.0])),
        detour_factor=draw(st.sampled_from([1.0, 1.3])),
    )


# ------------------------------------------------------------------------------ mutations


def _rebuild(
    problem: MatchingProblem,
    base: Assignment,
    matches: list[Match],
    unmatched: list[Unmatched],
) -> Assignment:
    """A copy of ``base`` with new matches/unmatched and self-consistent totals and loads."""
    tasks = {t.id: t for t in problem.tasks}
    served = sum(tasks[m.task_id].priority for m in matches if m.task_id in tasks)
    travel = sum(m.distance_m for m in matches)
    loads: dict[str, int] = {v.id: 0 for v in problem.volunteers}
    for m in matches:
        loads[m.volunteer_id] = loads.get(m.volunteer_id, 0) + 1
    totals = MatchingTotals(
        tasks=len(problem.tasks),
        matched=len(matches),
        unmatched=len(unmatched),
        priority_served=served,
        priority_total=sum(t.priority for t in problem.tasks),
        travel_m=travel,
    )
    info = base.info.model_copy(
        update={"objective": {"priority_served": float(served), "travel_m": float(travel)}}
    )
    return base.model_copy(
        update={
            "matches": sorted(matches, key=lambda m: m.task_id),
            "unmatched": sorted(unmatched, key=lambda u: u.task_id),
            "totals": totals,
            "loads": [VolunteerLoad(volunteer_id=k, tasks=n) for k, n in sorted(loads.items())],
            "info": info,
        }
    )


def _reassign(problem: MatchingProblem, m: Match, vol: Volunteer) -> Match:
    task = next(t for t in problem.tasks if t.id == m.task_id)
    return m.model_copy(
        update={
            "volunteer_id": vol.id,
            "distance_m": travel_distance_m(task, vol, problem.detour_factor),
        }
    )


def _reassign_to_first(
    problem: MatchingProblem,
    assignment: Assignment,
    wanted: Callable[[Task, Volunteer], bool],
) -> Assignment | None:
    tasks = {t.id: t for t in problem.tasks}
    vols = sorted(problem.volunteers, key=lambda v: v.id)
    for i, m in enumerate(assignment.matches):
        task = tasks[m.task_id]
        for vol in vols:
            if vol.id != m.volunteer_id and wanted(task, vol):
                matches = list(assignment.matches)
                matches[i] = _reassign(problem, m, vol)
                return _rebuild(problem, assignment, matches, list(assignment.unmatched))
    return None


def mutate_skill_missing(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Reassign a matched task to a volunteer lacking the skill or level."""
    return _reassign_to_first(problem, assignment, lambda t, v: not has_skill(t, v))


def mutate_too_far(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Reassign a matched task to a volunteer beyond ``max_distance_m``."""
    return _reassign_to_first(
        problem,
        assignment,
        lambda t, v: travel_distance_m(t, v, problem.detour_factor) > problem.max_distance_m,
    )


def mutate_out_of_window(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Reassign a matched task to a volunteer not available in its window."""
    return _reassign_to_first(problem, assignment, lambda t, v: not is_available(t, v))


def mutate_double_booked(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give every task of some slot to one volunteer, beyond ``capacity_per_slot``."""
    vols = {v.id: v for v in problem.volunteers}
    for m in assignment.matches:
        task0 = next(t for t in problem.tasks if t.id == m.task_id)
        same = sorted(t.id for t in problem.tasks if t.window == task0.window)
        vol = vols[m.volunteer_id]
        if len(same) <= vol.capacity_per_slot:
            continue
        tasks = {t.id: t for t in problem.tasks}
        matches = [x for x in assignment.matches if x.task_id not in same]
        unmatched = [u for u in assignment.unmatched if u.task_id not in same]
        for tid in same:
            t = tasks[tid]
            matches.append(
                Match(
                    task_id=tid,
                    volunteer_id=vol.id,
                    distance_m=travel_distance_m(t, vol, problem.detour_factor),
                    slot_start=t.window.start,
                    priority=t.priority,
                )
            )
        return _rebuild(problem, assignment, matches, unmatched)
    return None


def mutate_over_day_capacity(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Give one volunteer more tasks on one day than ``capacity_per_day`` (within slot caps)."""
    tasks = {t.id: t for t in problem.tasks}
    for vol in sorted(problem.volunteers, key=lambda v: v.id):
        by_day: dict[object, list[Task]] = {}
        for t in sorted(problem.tasks, key=lambda t: t.id):
            by_day.setdefault(task_day(problem, t), []).append(t)
        for day_tasks in by_day.values():
            per_slot: dict[object, int] = {}
            chosen: list[Task] = []
            for t in day_tasks:
                key = (t.window.start, t.window.end)
                if per_slot.get(key, 0) < vol.capacity_per_slot:
                    per_slot[key] = per_slot.get(key, 0) + 1
                    chosen.append(t)
            if len(chosen) <= vol.capacity_per_day:
                continue
            ids = {t.id for t in chosen}
            matches = [
                x for x in assignment.matches if x.task_id not in ids and x.volunteer_id != vol.id
            ]
            freed = {x.task_id for x in assignment.matches} - ids - {x.task_id for x in matches}
            unmatched = [u for u in assignment.unmatched if u.task_id not in ids]
            unmatched += [
                Unmatched(
                    task_id=tid,
                    priority=tasks[tid].priority,
                    reasons=[Reason(code=ReasonCode.OUT_OF_WINDOW)],
                )
                for tid in sorted(freed)
            ]
            for t in chosen:
                matches.append(
                    Match(
                        task_id=t.id,
                        volunteer_id=vol.id,
                        distance_m=travel_distance_m(t, vol, problem.detour_factor),
                        slot_start=t.window.start,
                        priority=t.priority,
                    )
                )
            return _rebuild(problem, assignment, matches, unmatched)
    return None


def mutate_cost_mismatch(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Report one match's distance 1 m longer than it is (totals left as they were)."""
    if not assignment.matches:
        return None
    matches = list(assignment.matches)
    matches[0] = matches[0].model_copy(update={"distance_m": matches[0].distance_m + 1})
    return assignment.model_copy(update={"matches": matches})


def mutate_totals_mismatch(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Report a total travel 1 m off."""
    totals = assignment.totals.model_copy(update={"travel_m": assignment.totals.travel_m + 1})
    return assignment.model_copy(update={"totals": totals})


def mutate_dropped_task(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Remove one task from the result altogether (totals made consistent)."""
    if assignment.matches:
        return _rebuild(
            problem, assignment, list(assignment.matches[1:]), list(assignment.unmatched)
        )
    if assignment.unmatched:
        return _rebuild(problem, assignment, [], list(assignment.unmatched[1:]))
    return None


def mutate_duplicate_task(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """List a matched task a second time, as unmatched."""
    if not assignment.matches:
        return None
    m = assignment.matches[0]
    extra = Unmatched(
        task_id=m.task_id, priority=m.priority, reasons=[Reason(code=ReasonCode.OUT_OF_WINDOW)]
    )
    return _rebuild(
        problem, assignment, list(assignment.matches), [*assignment.unmatched, extra]
    )


def mutate_unknown_volunteer(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Give a matched task to a volunteer id not in the problem."""
    if not assignment.matches:
        return None
    matches = list(assignment.matches)
    matches[0] = matches[0].model_copy(update={"volunteer_id": "ghost-volunteer"})
    return assignment.model_copy(update={"matches": matches})


def mutate_reason_false(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Replace an unmatched task's reason by one whose predicate is false."""
    tasks = {t.id: t for t in problem.tasks}
    for i, u in enumerate(assignment.unmatched):
        task = tasks[u.task_id]
        skilled = [v for v in problem.volunteers if has_skill(task, v)]
        if skilled:
            reason = Reason(
                code=ReasonCode.SKILL_MISSING,
                params={"skill": task.skill, "level": task.min_level},
            )
        else:
            reason = Reason(
                code=ReasonCode.CAPACITY_USED,
                params={"eligible": sum(is_eligible(problem, task, v) for v in problem.volunteers)},
            )
        unmatched = list(assignment.unmatched)
        unmatched[i] = u.model_copy(update={"reasons": [reason]})
        return assignment.model_copy(update={"unmatched": unmatched})
    return None


def mutate_unmatch_servable(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Unmatch a served task and claim ``CAPACITY_USED`` although its volunteer is now free."""
    tasks = {t.id: t for t in problem.tasks}
    if not assignment.matches:
        return None
    m = assignment.matches[0]
    task = tasks[m.task_id]
    n = sum(is_eligible(problem, task, v) for v in problem.volunteers)
    extra = Unmatched(
        task_id=m.task_id,
        priority=m.priority,
        reasons=[Reason(code=ReasonCode.CAPACITY_USED, params={"eligible": n})],
    )
    return _rebuild(
        problem, assignment, list(assignment.matches[1:]), [*assignment.unmatched, extra]
    )


#: name → (operator, code the verifier must report).
MATCHING_MUTATIONS: dict[str, tuple[MatchingMutation, ViolationCode]] = {
    "skill_missing": (mutate_skill_missing, ViolationCode.SKILL_MISSING),
    "too_far": (mutate_too_far, ViolationCode.TOO_FAR),
    "out_of_window": (mutate_out_of_window, ViolationCode.OUT_OF_WINDOW),
    "double_booked": (mutate_double_booked, ViolationCode.DOUBLE_BOOKED),
    "over_day_capacity": (mutate_over_day_capacity, ViolationCode.OVER_DAY_CAPACITY),
    "cost_mismatch": (mutate_cost_mismatch, ViolationCode.COST_MISMATCH),
    "totals_mismatch": (mutate_totals_mismatch, ViolationCode.COST_MISMATCH),
    "dropped_task": (mutate_dropped_task, ViolationCode.DROPPED_TASK),
    "duplicate_task": (mutate_duplicate_task, ViolationCode.DUPLICATE_TASK),
    "unknown_volunteer": (mutate_unknown_volunteer, ViolationCode.UNKNOWN_ID),
    "reason_false": (mutate_reason_false, ViolationCode.REASON_FALSE),
    "unmatch_servable": (mutate_unmatch_servable, ViolationCode.REASON_FALSE),
}
