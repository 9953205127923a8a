"""Mutation operators for volunteer ↔ task matching results (testing only).

* :data:`MATCHING_MUTATION_SPECS` — ``name →`` :class:`MutationSpec`: an operator taking
  ``(problem, assignment)`` and returning a copy of the assignment broken in exactly one way
  (or ``None`` when it does not apply to this instance), the code
  :func:`~commgov.matching.is_valid_assignment` must report, and the codes the fault
  necessarily brings with it (documented per operator);
* the table of :class:`~commgov.testing.Mutation` records,
  :data:`~commgov.testing.MATCHING_MUTATIONS`, is built from these specs in ``_mut_matching.py``;
* :data:`UNREACHABLE_CODES` — violation codes no operator produces, with the reason (empty:
  every code has an operator).

Every operator starts from a valid assignment and returns one that is self-consistent in every
respect except the injected fault: whenever the pairs change,
:func:`~commgov.testing._matching.rebuild_assignment` recomputes the reported figures from the
public predicates alone; and an operator that moves pairs only picks moves that keep every
other rule (capacities other than the one it breaks, ``CAPACITY_USED`` reasons of unmatched
tasks, pins) intact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from commgov.matching import (
    SCOPE_ORDER,
    Assignment,
    MatchingProblem,
    MatchingReasonCode,
    MatchingViolationCode,
    ScopeLevel,
    Task,
    Unmatched,
    Volunteer,
    has_skill,
    is_eligible,
    scope_level,
    travel_distance_m,
)
from commgov.results import CommonReasonCode, Reason, SolveStatus
from commgov.testing._matching import (
    MatchingMutation,
    _clean,
    _eligible,
    _move,
    _only_fails,
    _pinned_tasks,
    rebuild_assignment,
)
from commgov.testing._mutation import bumped, with_first

__all__ = [
    "MATCHING_MUTATION_SPECS",
    "UNREACHABLE_CODES",
    "MutationSpec",
]

# ------------------------------------------------------------------------------ mutations


@dataclass(frozen=True)
class MutationSpec:
    """A mutation operator and the codes the verifier must report for its result.

    Attributes
    ----------
    operator : MatchingMutation
        ``(problem, assignment) → broken copy`` or ``None`` when it does not apply.
    code : MatchingViolationCode
        The injected fault's code.
    implies : frozenset of MatchingViolationCode
        Codes the fault necessarily brings with it (see ``why``); the verifier must report
        exactly ``{code} | implies``.
    why : str
        Why ``implies`` is not empty.
    moves_pairs : bool
        Whether the operator changes who serves what. On a result of ``objective="stable"``
        that may also create blocking pairs, so ``BLOCKING_PAIR`` is then allowed on top.
    """

    operator: MatchingMutation
    code: MatchingViolationCode
    implies: frozenset[MatchingViolationCode] = frozenset()
    why: str = ""
    moves_pairs: bool = False

    def expected(
        self, assignment: Assignment
    ) -> tuple[frozenset[MatchingViolationCode], frozenset[MatchingViolationCode]]:
        """``(required, allowed)`` codes for the operator's result on ``assignment``."""
        required = frozenset({self.code}) | self.implies
        allowed = required
        if self.moves_pairs and assignment.info.options.get("objective") == "stable":
            allowed = allowed | {MatchingViolationCode.BLOCKING_PAIR}
        return required, allowed


def mutate_skill_missing(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to a volunteer lacking the skill or level (otherwise eligible, with room)."""
    return _move(problem, assignment, _only_fails(problem, "skill"))


def mutate_out_of_scope(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to an out-of-scope volunteer (otherwise eligible, with room)."""
    return _move(problem, assignment, _only_fails(problem, "scope"))


def mutate_too_far(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to a volunteer beyond ``max_distance_m`` (otherwise eligible, with room)."""
    return _move(problem, assignment, _only_fails(problem, "distance"))


def mutate_out_of_window(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to a volunteer not available in its window (otherwise eligible, with room)."""
    return _move(problem, assignment, _only_fails(problem, "window"))


def mutate_declined_pair(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to a volunteer who declined it (otherwise eligible, with room)."""
    if not problem.declined:
        return None
    declined = problem.declined_pairs
    open_ = problem.model_copy(update={"declined": []})
    return _move(
        problem,
        assignment,
        lambda t, v: (t.id, v.id) in declined and is_eligible(open_, t, v),
    )


def mutate_double_booked(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to an eligible volunteer already full in its slot (day and minutes fit)."""
    return _move(problem, assignment, _eligible(problem), over=frozenset({"slot"}))


def mutate_over_day_capacity(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Give a task to an eligible volunteer already full on its day (slot and minutes fit)."""
    return _move(problem, assignment, _eligible(problem), over=frozenset({"day"}))


def mutate_over_minutes(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Give a task to an eligible volunteer whose minute budget it exceeds (counts fit)."""
    return _move(problem, assignment, _eligible(problem), over=frozenset({"minutes"}))


def mutate_pin_broken(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Move a pinned task to another eligible volunteer with room."""
    return _move(problem, assignment, _eligible(problem), pinned_only=True)


def mutate_blocking_pair(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """On a ``stable`` result, move a task from its volunteer to one it likes strictly less.

    The volunteer left behind now has room in the task's slot and day, and the task prefers
    it: that pair blocks. The new volunteer is eligible and has room, so nothing else breaks.
    """
    if assignment.info.options.get("objective") != "stable":
        return None
    by_id = {v.id: v for v in problem.volunteers}
    rank = {level: i for i, level in enumerate(SCOPE_ORDER)}

    def key(task: Task, vol: Volunteer) -> tuple[int, int]:
        level = scope_level(task, vol)
        return (len(SCOPE_ORDER) if level is None else rank[level],
                travel_distance_m(task, vol, problem.detour_factor))

    pinned = _pinned_tasks(problem)
    current = {m.task_id: m.volunteer_id for m in assignment.matches}
    return _move(
        problem,
        assignment,
        lambda t, v: (
            t.id in current
            and t.id not in pinned
            and current[t.id] in by_id
            and is_eligible(problem, t, v)
            and key(t, by_id[current[t.id]]) < key(t, v)
        ),
    )


def mutate_cost_mismatch(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Report one match's distance 1 m longer than it is."""
    return with_first(assignment, "matches", lambda x: bumped(x, "distance_m"))


def mutate_match_cost_mismatch(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Report one match's ``cost_m`` 1 m-equivalent higher than it is."""
    return with_first(assignment, "matches", lambda x: bumped(x, "cost_m"))


def _totals_off(assignment: Assignment, name: str) -> Assignment:
    return assignment.model_copy(update={"totals": bumped(assignment.totals, name)})


def mutate_totals_mismatch(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Report a total travel 1 m off."""
    return _totals_off(assignment, "travel_m")


def mutate_changes_mismatch(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Report one change to the previous plan more than there are."""
    return _totals_off(assignment, "changes")


def mutate_load_mismatch(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Report one volunteer's load one task higher."""
    return with_first(assignment, "loads", lambda x: bumped(x, "tasks"))


def _tiers_changed(assignment: Assignment, tiers: dict[str, float]) -> Assignment:
    return assignment.model_copy(
        update={"info": assignment.info.model_copy(update={"objective": tiers})}
    )


def mutate_objective_mismatch(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Report the ``cost_m`` objective tier 1 higher than the matches give."""
    tiers = dict(assignment.info.objective)
    if "cost_m" not in tiers:
        return None
    tiers["cost_m"] += 1.0
    return _tiers_changed(assignment, tiers)


def mutate_objective_order(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """List the objective tiers in reverse order (values unchanged)."""
    tiers = dict(assignment.info.objective)
    if len(tiers) < 2:
        return None
    return _tiers_changed(assignment, dict(reversed(list(tiers.items()))))


def _first_match(
    problem: MatchingProblem, assignment: Assignment, pinned: bool | None
) -> int | None:
    pins = {(p.task_id, p.volunteer_id) for p in problem.pinned}
    for i, m in enumerate(assignment.matches):
        if pinned is None or ((m.task_id, m.volunteer_id) in pins) == pinned:
            return i
    return None


def _with_match(assignment: Assignment, i: int, **update: Any) -> Assignment:
    matches = list(assignment.matches)
    matches[i] = matches[i].model_copy(update=update)
    return assignment.model_copy(update={"matches": matches})


def mutate_priority_mismatch(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Report one match's priority 1 higher than its task's."""
    if not assignment.matches:
        return None
    return _with_match(assignment, 0, priority=assignment.matches[0].priority + 1)


def mutate_slot_mismatch(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Report one match's slot start an hour late."""
    if not assignment.matches:
        return None
    m = assignment.matches[0]
    return _with_match(assignment, 0, slot_start=m.slot_start + timedelta(hours=1))


def mutate_scope_mismatch(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Report one match's ``scope`` as another level (cost and MATCHED params unchanged)."""
    if not assignment.matches:
        return None
    m = assignment.matches[0]
    other = next(level for level in SCOPE_ORDER if level != m.scope)
    return _with_match(assignment, 0, scope=ScopeLevel(other))


def mutate_matched_reason_false(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Report one match's ``MATCHED`` day load one task higher than it is."""
    for i, m in enumerate(assignment.matches):
        for j, r in enumerate(m.reasons):
            if r.code is MatchingReasonCode.MATCHED and isinstance(r.params.get("day_load"), int):
                params = {**r.params, "day_load": int(r.params["day_load"]) + 1}
                reasons = list(m.reasons)
                reasons[j] = r.model_copy(update={"params": params})
                return _with_match(assignment, i, reasons=reasons)
    return None


def mutate_pinned_reason_missing(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Drop the ``PINNED`` reason of a pinned pair (its flag kept)."""
    i = _first_match(problem, assignment, pinned=True)
    if i is None:
        return None
    reasons = [r for r in assignment.matches[i].reasons if r.code is not MatchingReasonCode.PINNED]
    return _with_match(assignment, i, reasons=reasons)


def mutate_pinned_flag_false(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Clear the ``pinned`` flag of a pinned pair (its ``PINNED`` reason kept)."""
    i = _first_match(problem, assignment, pinned=True)
    return None if i is None else _with_match(assignment, i, pinned=False)


def mutate_pin_claimed(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Flag an unpinned match ``pinned`` (no ``PINNED`` reason added)."""
    i = _first_match(problem, assignment, pinned=False)
    return None if i is None else _with_match(assignment, i, pinned=True)


def mutate_dropped_task(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Leave one task out of the result: an unmatched entry, else an unpinned match whose
    volunteer's freed room falsifies no ``CAPACITY_USED`` reason."""
    if assignment.unmatched:
        return rebuild_assignment(
            problem, assignment, assignment.matches, assignment.unmatched[1:]
        )
    pinned = _pinned_tasks(problem)
    for i, m in enumerate(assignment.matches):
        cand = [*assignment.matches[:i], *assignment.matches[i + 1:]]
        if m.task_id not in pinned and _clean(problem, cand, assignment.unmatched):
            return rebuild_assignment(problem, assignment, cand, assignment.unmatched)
    return None


def mutate_duplicate_task(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """List a task twice: an unmatched entry again, else a match again where its volunteer has
    room for a second copy."""
    if assignment.unmatched:
        u = assignment.unmatched[0]
        return rebuild_assignment(
            problem, assignment, assignment.matches, [*assignment.unmatched, u]
        )
    for m in assignment.matches:
        cand = [*assignment.matches, m]
        if _clean(problem, cand, assignment.unmatched):
            return rebuild_assignment(problem, assignment, cand, assignment.unmatched)
    return None


def mutate_unknown_volunteer(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Give an unpinned matched task to a volunteer id not in the problem (the freed volunteer
    falsifies no ``CAPACITY_USED`` reason)."""
    pinned = _pinned_tasks(problem)
    for i, m in enumerate(assignment.matches):
        ghost = m.model_copy(update={"volunteer_id": "ghost-volunteer"})
        cand = [*assignment.matches[:i], ghost, *assignment.matches[i + 1:]]
        if m.task_id not in pinned and _clean(problem, cand, assignment.unmatched):
            return rebuild_assignment(problem, assignment, cand, assignment.unmatched)
    return None


def mutate_unknown_task(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """List a task id not in the problem as unmatched."""
    ghost = Unmatched(task_id="ghost-task", priority=1,
                      reasons=[Reason(code=MatchingReasonCode.OUT_OF_WINDOW)])
    return rebuild_assignment(
        problem, assignment, assignment.matches, [*assignment.unmatched, ghost]
    )


def mutate_reason_false(problem: MatchingProblem, assignment: Assignment) -> Assignment | None:
    """Replace an unmatched task's reason by one whose predicate is false."""
    tasks = {t.id: t for t in problem.tasks}
    for i, u in enumerate(assignment.unmatched):
        task = tasks[u.task_id]
        skilled = [v for v in problem.volunteers if has_skill(task, v)]
        if skilled:
            reason = Reason(
                code=MatchingReasonCode.SKILL_MISSING,
                params={"skill": task.skill, "level": task.min_level},
            )
        else:
            reason = Reason(
                code=MatchingReasonCode.CAPACITY_USED,
                params={"eligible": sum(is_eligible(problem, task, v) for v in problem.volunteers)},
            )
        unmatched = list(assignment.unmatched)
        unmatched[i] = u.model_copy(update={"reasons": [reason]})
        return assignment.model_copy(update={"unmatched": unmatched})
    return None


def mutate_time_limit_false(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """On an ``OPTIMAL`` result, blame an unmatched task on the time limit."""
    if assignment.info.status is not SolveStatus.OPTIMAL or not assignment.unmatched:
        return None
    unmatched = list(assignment.unmatched)
    reason = Reason(code=CommonReasonCode.TIME_LIMIT_REACHED, params={"time_limit_s": 10})
    unmatched[0] = unmatched[0].model_copy(update={"reasons": [reason]})
    return assignment.model_copy(update={"unmatched": unmatched})


def mutate_cancelled_false(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """On a result that was not cancelled, blame an unmatched task on a cancellation."""
    if assignment.info.status is SolveStatus.CANCELLED or not assignment.unmatched:
        return None
    unmatched = list(assignment.unmatched)
    reason = Reason(code=CommonReasonCode.CANCELLED)
    unmatched[0] = unmatched[0].model_copy(update={"reasons": [reason]})
    return assignment.model_copy(update={"unmatched": unmatched})


def mutate_unmatch_servable(
    problem: MatchingProblem, assignment: Assignment
) -> Assignment | None:
    """Unmatch an unpinned served task and claim ``CAPACITY_USED`` although its volunteer is
    now free."""
    tasks = {t.id: t for t in problem.tasks}
    i = _first_match(problem, assignment, pinned=False)
    if i is None:
        return None
    m = assignment.matches[i]
    task = tasks[m.task_id]
    n = sum(is_eligible(problem, task, v) for v in problem.volunteers)
    extra = Unmatched(
        task_id=m.task_id,
        priority=m.priority,
        reasons=[Reason(code=MatchingReasonCode.CAPACITY_USED, params={"eligible": n})],
    )
    return rebuild_assignment(
        problem,
        assignment,
        [*assignment.matches[:i], *assignment.matches[i + 1:]],
        [*assignment.unmatched, extra],
    )


_V = MatchingViolationCode

#: name → :class:`MutationSpec`: the operator and the exact codes the verifier must report.
MATCHING_MUTATION_SPECS: dict[str, MutationSpec] = {
    # eligibility of a match (one condition broken, capacities kept)
    "skill_missing": MutationSpec(mutate_skill_missing, _V.SKILL_MISSING, moves_pairs=True),
    "out_of_scope": MutationSpec(mutate_out_of_scope, _V.OUT_OF_SCOPE, moves_pairs=True),
    "too_far": MutationSpec(mutate_too_far, _V.TOO_FAR, moves_pairs=True),
    "out_of_window": MutationSpec(mutate_out_of_window, _V.OUT_OF_WINDOW, moves_pairs=True),
    "declined_pair": MutationSpec(mutate_declined_pair, _V.DECLINED_PAIR, moves_pairs=True),
    # capacities (one broken, the others kept)
    "double_booked": MutationSpec(mutate_double_booked, _V.DOUBLE_BOOKED, moves_pairs=True),
    "over_day_capacity": MutationSpec(
        mutate_over_day_capacity, _V.OVER_DAY_CAPACITY, moves_pairs=True
    ),
    "over_minutes": MutationSpec(mutate_over_minutes, _V.OVER_MINUTES, moves_pairs=True),
    # pins
    "pin_broken": MutationSpec(mutate_pin_broken, _V.PIN_BROKEN, moves_pairs=True),
    "pinned_flag_false": MutationSpec(mutate_pinned_flag_false, _V.PIN_BROKEN),
    "pin_claimed": MutationSpec(mutate_pin_claimed, _V.PIN_BROKEN),
    # stability
    "blocking_pair": MutationSpec(mutate_blocking_pair, _V.BLOCKING_PAIR, moves_pairs=True),
    # reported figures
    "cost_mismatch": MutationSpec(mutate_cost_mismatch, _V.COST_MISMATCH),
    "match_cost_mismatch": MutationSpec(mutate_match_cost_mismatch, _V.COST_MISMATCH),
    "totals_mismatch": MutationSpec(mutate_totals_mismatch, _V.COST_MISMATCH),
    "changes_mismatch": MutationSpec(mutate_changes_mismatch, _V.COST_MISMATCH),
    "load_mismatch": MutationSpec(mutate_load_mismatch, _V.COST_MISMATCH),
    "objective_mismatch": MutationSpec(mutate_objective_mismatch, _V.COST_MISMATCH),
    "objective_order": MutationSpec(mutate_objective_order, _V.COST_MISMATCH),
    "priority_mismatch": MutationSpec(mutate_priority_mismatch, _V.RECORD_MISMATCH),
    "slot_mismatch": MutationSpec(mutate_slot_mismatch, _V.RECORD_MISMATCH),
    "scope_mismatch": MutationSpec(mutate_scope_mismatch, _V.RECORD_MISMATCH),
    # coverage and ids
    "dropped_task": MutationSpec(mutate_dropped_task, _V.DROPPED_TASK, moves_pairs=True),
    "duplicate_task": MutationSpec(mutate_duplicate_task, _V.DUPLICATE_TASK, moves_pairs=True),
    "unknown_volunteer": MutationSpec(mutate_unknown_volunteer, _V.UNKNOWN_ID, moves_pairs=True),
    "unknown_task": MutationSpec(mutate_unknown_task, _V.UNKNOWN_ID),
    # reasons
    "reason_false": MutationSpec(mutate_reason_false, _V.REASON_FALSE),
    "time_limit_false": MutationSpec(mutate_time_limit_false, _V.REASON_FALSE),
    "cancelled_false": MutationSpec(mutate_cancelled_false, _V.REASON_FALSE),
    "unmatch_servable": MutationSpec(mutate_unmatch_servable, _V.REASON_FALSE, moves_pairs=True),
    "matched_reason_false": MutationSpec(mutate_matched_reason_false, _V.REASON_FALSE),
    "pinned_reason_missing": MutationSpec(mutate_pinned_reason_missing, _V.REASON_FALSE),
}

#: Violation codes no operator produces, with the reason (none: every code is covered).
UNREACHABLE_CODES: dict[MatchingViolationCode, str] = {}
