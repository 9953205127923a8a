"""Weak stability of an assignment under the ``stable`` objective's preferences (private).

Gale & Shapley 1962; weak stability under ties: Irving 1994; capacities as in Roth 1984, here
two nested counts per volunteer. No solver code.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from commgov.errors import expect_type
from commgov.matching.volunteers._problem import SCOPE_ORDER, Assignment, MatchingProblem
from commgov.matching.volunteers._rules import travel_distance_m
from commgov.matching.volunteers._verify_pairs import _NO_SCOPE, _PairFinder, _rank

__all__ = ["BlockingPair", "blocking_pairs", "is_stable"]


class BlockingPair(NamedTuple):
    """A (task, volunteer) pair that blocks an assignment (:func:`blocking_pairs`).

    Attributes
    ----------
    task_id, volunteer_id : str
        The pair, not matched together, that would both rather be.
    displaced_task_id : str or None
        The task the volunteer would drop to make room (its least preferred one in the binding
        slot or day), or ``None`` when the volunteer has room.
    """

    task_id: str
    volunteer_id: str
    displaced_task_id: str | None


def blocking_pairs(
    problem: MatchingProblem, assignment: Assignment, *, limit: int | None = None
) -> list[BlockingPair]:
    """Pairs that block an assignment under the ``stable`` objective's preferences.

    Preferences (those of ``match_volunteers(objective="stable")``): a task ranks eligible
    volunteers by
    (scope rank in :data:`~commgov.matching.SCOPE_ORDER`, travel metres); a volunteer ranks
    eligible tasks by (priority descending, travel metres). Ties are *not* broken: a pair
    blocks only under strict preference on both sides (weak stability; Gale & Shapley 1962,
    Irving 1994 for ties; capacities as in Roth 1984, here two nested counts per volunteer).

    An eligible pair (task ``t``, volunteer ``v``), not matched together, blocks when

    * ``t`` is unmatched or strictly prefers ``v`` to its current volunteer, and
    * ``v`` would take ``t``: ``v`` has room in ``t``'s slot and day; or the slot is full and
      ``v`` holds a task in that slot it strictly prefers less than ``t`` (dropping it frees
      both the slot and the day); or the slot has room, the day is full and ``v`` holds a task
      that day it strictly prefers less than ``t``.

    Pinned pairs never move: a pinned task does not block, and a volunteer cannot drop a
    pinned task. Minute budgets are not considered (``match_volunteers`` solves ``stable``
    without them). Eligibility is :func:`~commgov.matching.is_eligible`, found with the exact
    method of :func:`is_valid_assignment`; ids of the assignment not in the problem are
    ignored.

    Parameters
    ----------
    problem : MatchingProblem
        The problem.
    assignment : Assignment
        The assignment to check.
    limit : int, optional
        Stop after this many blocking pairs (≥ 1); all of them by default.

    Returns
    -------
    list of BlockingPair
        Sorted by (task id, volunteer id) — the first ``limit`` of that order.

    Raises
    ------
    TypeError
        If ``problem`` or ``assignment`` has the wrong type.
    ValueError
        If ``limit`` is not a whole number ≥ 1.
    """
    expect_type(problem, MatchingProblem, "problem")
    expect_type(assignment, Assignment, "assignment")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a whole number ≥ 1 or None, got {limit!r}")
    return _blocking(problem, assignment, _PairFinder(problem), limit)


def is_stable(problem: MatchingProblem, assignment: Assignment) -> bool:
    """Whether no pair blocks the assignment (weak stability, see :func:`blocking_pairs`).

    ``problem``, ``assignment`` and the ``TypeError`` for a wrong type are as in
    :func:`blocking_pairs`.

    Returns
    -------
    bool
        ``True`` when :func:`blocking_pairs` finds none.
    """
    return not blocking_pairs(problem, assignment, limit=1)


def _blocking(
    problem: MatchingProblem, assignment: Assignment, finder: _PairFinder, limit: int | None
) -> list[BlockingPair]:
    tasks, vols = finder.tasks, finder.vols
    t_index, v_index = finder.t_index, finder.v_index
    detour = problem.detour_factor
    pinned = {p.task_id: p.volunteer_id for p in problem.pinned}
    t_slot = finder.t_slot.tolist()
    t_day = finder.t_day.tolist()
    held: dict[int, int] = {}
    for m in assignment.matches:
        ti, vi = t_index.get(m.task_id), v_index.get(m.volunteer_id)
        if ti is not None and vi is not None:
            held.setdefault(ti, vi)
    slot_load: Counter[tuple[int, int]] = Counter()
    day_load: Counter[tuple[int, int]] = Counter()
    worst_slot: dict[tuple[int, int], tuple[int, int, str]] = {}
    worst_day: dict[tuple[int, int], tuple[int, int, str]] = {}
    current: dict[int, tuple[int, int]] = {}
    for ti, vi in held.items():
        task, vol = tasks[ti], vols[vi]
        dist = travel_distance_m(task, vol, detour)
        rank = _rank(task, vol)
        current[ti] = (len(SCOPE_ORDER) if rank == _NO_SCOPE else rank, dist)
        ks, kd = (vi, t_slot[ti]), (vi, t_day[ti])
        slot_load[ks] += 1
        day_load[kd] += 1
        if pinned.get(task.id) == vol.id:
            continue  # a pinned task cannot be dropped
        key = (-task.priority, dist, task.id)
        if ks not in worst_slot or key > worst_slot[ks]:
            worst_slot[ks] = key
        if kd not in worst_day or key > worst_day[kd]:
            worst_day[kd] = key
    pairs = finder.pairs(list(range(len(tasks))), available_only=True)
    eligible = pairs.avail
    found: list[BlockingPair] = []
    for ti, vi, dist, rank in zip(
        pairs.t[eligible].tolist(),
        pairs.v[eligible].tolist(),
        pairs.d[eligible].tolist(),
        pairs.rank[eligible].tolist(),
        strict=True,
    ):
        task = tasks[ti]
        if task.id in pinned or held.get(ti) == vi:
            continue
        if ti in current and not (rank, dist) < current[ti]:
            continue
        vol = vols[vi]
        ks, kd = (vi, t_slot[ti]), (vi, t_day[ti])
        slot_full = slot_load[ks] >= vol.capacity_per_slot
        day_full = day_load[kd] >= vol.capacity_per_day
        displaced: str | None = None
        if slot_full or day_full:
            worst = worst_slot.get(ks) if slot_full else worst_day.get(kd)
            if worst is None or not (-task.priority, dist) < worst[:2]:
                continue
            displaced = worst[2]
        found.append(BlockingPair(task.id, vol.id, displaced))
        if limit is not None and len(found) >= limit:
            break
    return found
