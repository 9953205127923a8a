"""Independent verifier for volunteer ↔ task assignments.

:func:`is_valid_assignment` checks an :class:`~commgov.matching.Assignment` against its
:class:`~commgov.matching.MatchingProblem` from the records alone. It imports no solver code
(neither the flow model nor OR-Tools): it shares with the solver only the public definitions of
travel distance, skill, availability and day in :mod:`commgov.matching.problem`. Property
tests use it as the oracle, and a mutation suite shows it rejects each kind of broken result.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import NamedTuple

from commgov.errors import expect_type
from commgov.matching.problem import (
    Assignment,
    MatchingProblem,
    Task,
    has_skill,
    is_available,
    task_day,
    travel_distance_m,
)
from commgov.results import Reason, ReasonCode

__all__ = [
    "MatchingObjective",
    "VerificationReport",
    "Violation",
    "ViolationCode",
    "is_valid_assignment",
]


class ViolationCode(StrEnum):
    """Kinds of fault :func:`is_valid_assignment` reports."""

    DROPPED_TASK = "DROPPED_TASK"
    """A task of the problem is neither matched nor listed as unmatched."""
    DUPLICATE_TASK = "DUPLICATE_TASK"
    """A task appears more than once across matches and unmatched."""
    UNKNOWN_ID = "UNKNOWN_ID"
    """A task or volunteer id that is not in the problem."""
    SKILL_MISSING = "SKILL_MISSING"
    """The assigned volunteer lacks the skill or the level."""
    TOO_FAR = "TOO_FAR"
    """The travel distance exceeds ``max_distance_m``."""
    OUT_OF_WINDOW = "OUT_OF_WINDOW"
    """No availability window of the volunteer contains the task's window."""
    DOUBLE_BOOKED = "DOUBLE_BOOKED"
    """A volunteer has more tasks in one slot than ``capacity_per_slot``."""
    OVER_DAY_CAPACITY = "OVER_DAY_CAPACITY"
    """A volunteer has more tasks on one day than ``capacity_per_day``."""
    COST_MISMATCH = "COST_MISMATCH"
    """A reported distance, total, load or objective differs from the recomputed value."""
    RECORD_MISMATCH = "RECORD_MISMATCH"
    """A match or unmatched entry misreports the task's priority or slot."""
    REASON_FALSE = "REASON_FALSE"
    """An unmatched task's reason is missing, malformed, or its predicate does not hold."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One fault found in an assignment.

    Attributes
    ----------
    code : ViolationCode
        The kind of fault.
    record : str
        The task or volunteer id at fault (``"totals"``, ``"info"`` for aggregates).
    detail : str
        What is wrong, in words.
    """

    code: ViolationCode
    record: str
    detail: str


class MatchingObjective(NamedTuple):
    """The ``min_cost`` objective recomputed from an assignment (compare lexicographically).

    Attributes
    ----------
    priority_served : int
        Sum of priorities of distinct matched tasks (maximised).
    travel_m : int
        Sum of recomputed travel distances of the matches, in metres (minimised).
    """

    priority_served: int
    travel_m: int


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """Outcome of :func:`is_valid_assignment`; truthy exactly when no violation was found.

    Attributes
    ----------
    violations : list of Violation
        Every fault found, in a deterministic order.
    objective : MatchingObjective
        ``(priority_served, travel_m)`` recomputed from the assignment's matches.
    """

    violations: list[Violation] = field(default_factory=list)
    objective: MatchingObjective = field(default_factory=lambda: MatchingObjective(0, 0))

    @property
    def ok(self) -> bool:
        """Whether the assignment passed every check."""
        return not self.violations

    @property
    def codes(self) -> set[ViolationCode]:
        """The distinct violation codes found."""
        return {v.code for v in self.violations}

    def __bool__(self) -> bool:
        return self.ok


def _num_eq(a: object, b: float) -> bool:
    return isinstance(a, int | float) and not isinstance(a, bool) and float(a) == float(b)


def is_valid_assignment(problem: MatchingProblem, assignment: Assignment) -> VerificationReport:
    """Check an assignment against its problem, independently of the solver.

    Checks that every task appears exactly once (matched or unmatched) and every id exists;
    that each match is eligible (skill and level, travel ≤ ``max_distance_m`` metres, window
    inside an availability window) and reports the task's priority and slot; that no volunteer
    exceeds ``capacity_per_slot`` in a slot or ``capacity_per_day`` on a day (problem time
    zone); that reported distances, totals, loads and objective equal the values recomputed
    from the matches; and that each unmatched task's reason predicate holds:

    * ``SKILL_MISSING(skill, level)``: no volunteer has the skill at that level;
    * ``TOO_FAR(distance_m, limit_m)``: no skilled volunteer is within the limit, and
      ``distance_m`` is the nearest skilled volunteer's distance;
    * ``OUT_OF_WINDOW``: no skilled volunteer within the limit is available in the window;
    * ``CAPACITY_USED(eligible)``: there are ``eligible`` ≥ 1 eligible volunteers and each is
      at its slot or day capacity in this assignment.

    Optimality is not checked here (compare :attr:`VerificationReport.objective` with a
    reference solve for that).

    Parameters
    ----------
    problem : MatchingProblem
        The problem that was solved.
    assignment : Assignment
        The result to check.

    Returns
    -------
    VerificationReport
        ``.ok`` (and truthiness), ``.violations`` and the recomputed ``.objective``.
    """
    expect_type(problem, MatchingProblem, "problem")
    expect_type(assignment, Assignment, "assignment")
    out: list[Violation] = []

    def bad(code: ViolationCode, record: str, detail: str) -> None:
        out.append(Violation(code, record, detail))

    tasks = {t.id: t for t in problem.tasks}
    vols = {v.id: v for v in problem.volunteers}
    limit = problem.max_distance_m
    detour = problem.detour_factor

    # ---- coverage: each task exactly once
    seen: Counter[str] = Counter()
    for m in assignment.matches:
        seen[m.task_id] += 1
    for u in assignment.unmatched:
        seen[u.task_id] += 1
    for tid in sorted(seen):
        if tid not in tasks:
            bad(ViolationCode.UNKNOWN_ID, tid, "task id not in the problem")
        elif seen[tid] > 1:
            bad(ViolationCode.DUPLICATE_TASK, tid, f"task listed {seen[tid]} times")
    for tid in sorted(tasks):
        if tid not in seen:
            bad(ViolationCode.DROPPED_TASK, tid, "task neither matched nor listed as unmatched")

    # ---- each match
    per_slot: Counter[tuple[str, datetime, datetime]] = Counter()
    per_day: Counter[tuple[str, date]] = Counter()
    loads: Counter[str] = Counter()
    travel = 0
    served_ids: set[str] = set()
    for m in assignment.matches:
        task = tasks.get(m.task_id)
        vol = vols.get(m.volunteer_id)
        if vol is None:
            bad(ViolationCode.UNKNOWN_ID, m.volunteer_id, f"volunteer of task {m.task_id} unknown")
        if task is None or vol is None:
            continue
        loads[vol.id] += 1
        if task.id not in served_ids:
            served_ids.add(task.id)
        if m.priority != task.priority:
            bad(
                ViolationCode.RECORD_MISMATCH,
                task.id,
                f"priority reported {m.priority}, task has {task.priority}",
            )
        # compare instants in UTC: PEP 495 makes a repeated-hour time unequal across zones
        if m.slot_start.astimezone(UTC) != task.window.start:
            bad(
                ViolationCode.RECORD_MISMATCH,
                task.id,
                f"slot_start reported {m.slot_start.isoformat()}, task window starts "
                f"{task.window.start.isoformat()}",
            )
        if not has_skill(task, vol):
            bad(
                ViolationCode.SKILL_MISSING,
                task.id,
                f"volunteer {vol.id} has {task.skill} level {vol.skills.get(task.skill, 0)}, "
                f"task needs {task.min_level}",
            )
        dist = travel_distance_m(task, vol, detour)
        travel += dist
        if dist > limit:
            bad(ViolationCode.TOO_FAR, task.id, f"volunteer {vol.id} is {dist} m away > {limit} m")
        if not is_available(task, vol):
            bad(
                ViolationCode.OUT_OF_WINDOW,
                task.id,
                f"volunteer {vol.id} is not available for the whole task window",
            )
        if m.distance_m != dist:
            bad(
                ViolationCode.COST_MISMATCH,
                task.id,
                f"distance_m reported {m.distance_m}, recomputed {dist}",
            )
        per_slot[(vol.id, task.window.start, task.window.end)] += 1
        per_day[(vol.id, task_day(problem, task))] += 1

    for (vid, start, end), n in sorted(per_slot.items()):
        cap = vols[vid].capacity_per_slot
        if n > cap:
            bad(
                ViolationCode.DOUBLE_BOOKED,
                vid,
                f"{n} tasks in slot [{start.isoformat()}, {end.isoformat()}), capacity {cap}",
            )
    for (vid, day), n in sorted(per_day.items()):
        cap = vols[vid].capacity_per_day
        if n > cap:
            bad(ViolationCode.OVER_DAY_CAPACITY, vid, f"{n} tasks on {day}, capacity {cap}")

    # ---- aggregates
    served = sum(tasks[t].priority for t in served_ids)
    objective = MatchingObjective(served, travel)
    tot = assignment.totals
    expected = {
        "tasks": len(problem.tasks),
        "matched": len(assignment.matches),
        "unmatched": len(assignment.unmatched),
        "priority_served": served,
        "priority_total": sum(t.priority for t in problem.tasks),
        "travel_m": travel,
    }
    for name, value in expected.items():
        got = getattr(tot, name)
        if got != value:
            bad(ViolationCode.COST_MISMATCH, "totals", f"{name} reported {got}, recomputed {value}")
    for name, value in (("priority_served", served), ("travel_m", travel)):
        got_obj = assignment.info.objective.get(name)
        if not _num_eq(got_obj, value):
            bad(
                ViolationCode.COST_MISMATCH,
                "info",
                f"objective {name} reported {got_obj}, recomputed {value}",
            )
    reported: dict[str, int] = defaultdict(int)
    for load in assignment.loads:
        if load.volunteer_id not in vols:
            bad(ViolationCode.UNKNOWN_ID, load.volunteer_id, "load for an unknown volunteer")
        reported[load.volunteer_id] += load.tasks
    for vid in sorted(vols):
        if reported.get(vid, 0) != loads[vid]:
            bad(
                ViolationCode.COST_MISMATCH,
                vid,
                f"load reported {reported.get(vid, 0)}, recomputed {loads[vid]}",
            )

    # ---- reasons of unmatched tasks
    for u in assignment.unmatched:
        task = tasks.get(u.task_id)
        if task is None:
            continue
        if u.priority != task.priority:
            bad(
                ViolationCode.RECORD_MISMATCH,
                task.id,
                f"priority reported {u.priority}, task has {task.priority}",
            )
        if not u.reasons:
            bad(ViolationCode.REASON_FALSE, task.id, "unmatched task without a reason")
        for reason in u.reasons:
            why = _reason_false(problem, task, reason, per_slot, per_day)
            if why:
                bad(ViolationCode.REASON_FALSE, task.id, f"{reason.code.value}: {why}")

    return VerificationReport(violations=out, objective=objective)


def _reason_false(
    problem: MatchingProblem,
    task: Task,
    reason: Reason,
    per_slot: Counter[tuple[str, datetime, datetime]],
    per_day: Counter[tuple[str, date]],
) -> str:
    """Why the reason's predicate fails for this task, or ``""`` if it holds."""
    limit = problem.max_distance_m
    skilled = [v for v in sorted(problem.volunteers, key=lambda v: v.id) if has_skill(task, v)]
    dists = {v.id: travel_distance_m(task, v, problem.detour_factor) for v in skilled}
    near = [v for v in skilled if dists[v.id] <= limit]
    params = reason.params
    code = reason.code
    if code is ReasonCode.SKILL_MISSING:
        if params.get("skill") != task.skill or params.get("level") != task.min_level:
            return f"params {params} do not name skill {task.skill!r} level {task.min_level}"
        if skilled:
            return f"volunteer {skilled[0].id} has the skill at that level"
        return ""
    if code is ReasonCode.TOO_FAR:
        if not skilled:
            return "no volunteer has the skill at all"
        if near:
            return f"volunteer {near[0].id} is within {limit} m ({dists[near[0].id]} m)"
        nearest = min(dists.values())
        if params.get("distance_m") != nearest:
            return f"distance_m {params.get('distance_m')} but the nearest is {nearest} m"
        if not _num_eq(params.get("limit_m"), limit):
            return f"limit_m {params.get('limit_m')} but max_distance_m is {limit}"
        return ""
    if code is ReasonCode.OUT_OF_WINDOW:
        avail = [v for v in near if is_available(task, v)]
        if avail:
            return f"volunteer {avail[0].id} is skilled, near and available"
        return ""
    if code is ReasonCode.CAPACITY_USED:
        eligible = [v for v in near if is_available(task, v)]
        if not eligible:
            return "no eligible volunteer at all"
        if params.get("eligible") != len(eligible):
            return f"eligible {params.get('eligible')} but {len(eligible)} volunteers are eligible"
        day = task_day(problem, task)
        for v in eligible:
            slot_full = per_slot[(v.id, task.window.start, task.window.end)] >= v.capacity_per_slot
            day_full = per_day[(v.id, day)] >= v.capacity_per_day
            if not (slot_full or day_full):
                return f"eligible volunteer {v.id} has spare capacity in the slot and the day"
        return ""
    return f"{code.value} is not a volunteer-matching reason"
