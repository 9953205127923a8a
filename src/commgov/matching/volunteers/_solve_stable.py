"""Deferred acceptance for the ``stable`` objective: many-to-one with nested count capacities.

Preferences (as in ``match_volunteers``' docstring):

* a task ranks its eligible volunteers by (scope rank ascending, travel metres ascending,
  volunteer id);
* a volunteer ranks its eligible tasks by (priority descending, travel metres ascending,
  task id).

The ids only break ties. The true preferences (without ids) have ties. A matching that is
stable for the tie-broken strict preferences is *weakly stable* for the true ones (Irving,
"Stable marriage and indifference", 1994). No pair blocks it where both sides strictly
prefer each other.

Volunteer capacities are counts per slot (``capacity_per_slot``) and per calendar day
(``capacity_per_day``). A day's slots partition the day, so the limits form a laminar family
and the sets of tasks a volunteer may hold are the independent sets of a laminar matroid. A
volunteer chooses from a set of offers greedily by preference, keeping each task that still
fits both caps. That is the maximum-weight basis of the matroid restricted to the offers. The
choice function is substitutable, so deferred acceptance ends in a stable matching, optimal
for the proposing side (Gale & Shapley, "College admissions and the stability of marriage",
1962; Roth, "Stability and polarization of interests in job matching", 1984; Fleiner, "A
fixed-point approach to stable matchings and some applications", 2003, for matroid
constraints).

Two matroid facts make each step cheap. Let ``H`` be the set a volunteer holds.

* **Adding a task ``t``** (task-proposing). If ``H + t`` is independent the volunteer keeps
  it. Otherwise ``H + t`` contains exactly one circuit: the held tasks of ``t``'s slot plus
  ``t`` when the slot is full, else the held tasks of ``t``'s day plus ``t``. The volunteer
  drops the worst task of that circuit, which may be ``t`` itself. A max-heap per
  (volunteer, slot) and per (volunteer, day), with lazy deletion, finds it.
* **Removing a task ``t``** (volunteer-proposing, when ``t`` rejects the volunteer). The new
  choice is ``H - t + y``, where ``y`` is the best task not yet offered with ``H - t + y``
  independent, if one exists. Such a ``y`` lies in ``t``'s day: in ``t``'s slot, or in a slot
  of that day that is not full. The greedy choice takes a *prefix* of each slot's
  preference-ordered list (once a slot or its day is full, every later task of that slot is
  skipped). So one pointer per (volunteer, slot) gives each slot's best candidate.

Each pair is proposed at most once. The work is O(P log P) task-proposing and
O(P · slots per day) volunteer-proposing, for P eligible pairs, after a numpy ``lexsort`` of
the preference lists.

**Pinned pairs** are fixed before deferred acceptance. They use up capacity and their tasks
take no other match. A pinned task is never displaced and never blocks. Stability is measured
against the capacity the pins leave.

**Previous plan.** ``problem.previous`` is ignored by the algorithm. It is not even used as a
tie-breaker, so the preferences stay exactly as documented. The result still reports
``changes`` against it.
"""

from __future__ import annotations

import heapq
from typing import Any

from commgov._control import SolveControl
from commgov.matching.volunteers._pairs import Prepared, prepare
from commgov.matching.volunteers._problem import Assignment, MatchingProblem
from commgov.matching.volunteers._result import build_assignment, build_stopped
from commgov.results import SolveStatus, library_versions

__all__ = ["match_stable"]

SOLVER_NAME = "deferred-acceptance"

#: Proposals made between two looks at the deadline and the cancel token.
CHECK_EVERY = 4096


def match_stable(problem: MatchingProblem, *, propose: str, ctl: SolveControl) -> Assignment:
    """Stable matching by deferred acceptance, with either side proposing.

    Tasks rank eligible volunteers by (scope rank, travel metres, volunteer id). Volunteers
    rank eligible tasks by (priority descending, travel metres, task id). Volunteers hold at
    most ``capacity_per_slot`` tasks per slot and ``capacity_per_day`` per calendar day, less
    what pinned pairs use. Pinned pairs are kept as given. ``problem.previous`` is ignored by
    the algorithm; ``changes`` is still reported.

    The result has no blocking pair ``(t, v)`` in which:

    * ``t`` is eligible for ``v`` and not pinned;
    * ``t`` is unmatched, or strictly prefers ``v`` to its volunteer (true preferences, without
      the id tie-breakers);
    * ``v`` would take ``t``: ``v`` has room in ``t``'s slot and on ``t``'s day, or ``v``
      holds an unpinned task it strictly prefers less than ``t`` that frees the binding
      limit. That is a task in the same slot when the slot is full, otherwise one on the same
      day when the day is full.

    So the matching is weakly stable (Irving 1994). Every unmatched task with an eligible
    volunteer finds all of them full.

    With ``propose="tasks"`` the result is the task-optimal stable matching for the
    id-tie-broken preferences: each task gets the best volunteer it has in any such stable
    matching. With ``propose="volunteers"`` it is the volunteer-optimal one, which is the
    task-pessimal one (Gale & Shapley 1962; Roth 1984; Fleiner 2003 for the laminar
    capacities).

    Both sides match the same tasks and give each volunteer the same number of tasks (the
    "rural hospitals" property of matroid kernels). Coverage is therefore not a choice
    between the two sides. It can still be lower than ``min_cost`` coverage.

    Parameters
    ----------
    problem : MatchingProblem
        The validated problem (no minute budgets; ``match_volunteers`` refuses them for
        ``stable``).
    propose : {"tasks", "volunteers"}
        The proposing side (checked by ``match_volunteers``).
    ctl : SolveControl
        Asked between blocks of the pair listing and every :data:`CHECK_EVERY` proposals.
        Stopped there, the status is ``CANCELLED`` or ``LIMIT`` (no stability claimed): the
        pins and the pairs held so far are kept, a task that had proposed to all its
        volunteers keeps its primary reason (each of them is full), every other unmatched
        task gets ``CANCELLED`` or ``TIME_LIMIT_REACHED``.

    Returns
    -------
    Assignment
        ``info.solver`` is ``"deferred-acceptance"``. ``info.options`` is
        ``{"objective": "stable", "propose": propose}``. ``info.status`` is ``OPTIMAL``,
        meaning the stable matching optimal for the proposing side was found (deferred
        acceptance is exact; ``stable`` optimises no numeric objective). The
        ``info.objective`` tiers (priority served, cost, travel) are reported, not optimised.

    Notes
    -----
    O(P log P) task-proposing, O(P · slots per day) volunteer-proposing, for P eligible
    pairs.

    References
    ----------
    Gale & Shapley, "College admissions and the stability of marriage", 1962; Roth,
    "Stability and polarization of interests in job matching", 1984; Irving, "Stable marriage
    and indifference", 1994; Fleiner, "A fixed-point approach to stable matchings and some
    applications", 2003.
    """
    options = {"objective": "stable", "propose": propose}
    ctl.report("prepare", 0.0)
    prep = prepare(problem, ctl)
    if not prep.complete or ctl.should_stop():
        return build_stopped(
            prep, ctl, solver=SOLVER_NAME, options=options, versions=library_versions()
        )
    ctl.report("deferred acceptance", 0.3)
    fixed, free_mask, cap_slot, cap_day = _pins(prep)
    chosen = dict(fixed)
    if free_mask.any():
        import numpy as np

        lists = _Lists(prep, free_mask, cap_slot, cap_day)
        run = _tasks_propose if propose == "tasks" else _volunteers_propose
        pair = lists.pair_a.tolist()
        held, tried = run(lists, ctl)
        chosen.update((t, pair[pos]) for t, pos in held.items())
        if tried is not None:
            mask = np.zeros(len(prep.tasks), dtype=bool)
            mask[list(fixed)] = True
            mask[tried] = True
            return build_stopped(
                prep,
                ctl,
                solver=SOLVER_NAME,
                options=options,
                versions=library_versions(),
                chosen=chosen,
                tried=mask,
            )
    return build_assignment(
        prep,
        dict(sorted(chosen.items())),
        solver=SOLVER_NAME,
        status=SolveStatus.OPTIMAL,
        options=options,
        versions=library_versions(),
        ctl=ctl,
    )


def _pins(prep: Prepared) -> tuple[dict[int, int], Any, dict[int, int], dict[int, int]]:
    """Pinned pairs as (task index → pair index), the mask of the other pairs, and the
    capacities the pins leave, keyed ``v·S + slot`` and ``v·D + day`` (only where pinned)."""
    import numpy as np

    pt, pv = prep.pt, prep.pv
    n_slots = max(len(prep.slot_keys), 1)
    n_days = max(len(prep.day_keys), 1)
    free_mask = np.ones(len(pt), dtype=bool)
    fixed: dict[int, int] = {}
    cap_slot: dict[int, int] = {}
    cap_day: dict[int, int] = {}
    if not prep.problem.pinned:
        return fixed, free_mask, cap_slot, cap_day
    t_index = {t.id: i for i, t in enumerate(prep.tasks)}
    v_index = {v.id: i for i, v in enumerate(prep.vols)}
    for pin in prep.problem.pinned:
        ti, vi = t_index[pin.task_id], v_index[pin.volunteer_id]
        lo = int(np.searchsorted(pt, ti, side="left"))
        hi = int(np.searchsorted(pt, ti, side="right"))
        k = lo + int(np.searchsorted(pv[lo:hi], vi))
        if k >= hi or int(pv[k]) != vi:  # pragma: no cover - the problem validates pins
            raise ValueError(f"pinned pair ({pin.task_id}, {pin.volunteer_id}) is not eligible")
        fixed[ti] = k
        free_mask[lo:hi] = False
        vol = prep.vols[vi]
        slot = int(prep.t_slot[ti])
        day = int(prep.slot_day[slot])
        ks, kd = vi * n_slots + slot, vi * n_days + day
        cap_slot[ks] = cap_slot.get(ks, vol.capacity_per_slot) - 1
        cap_day[kd] = cap_day.get(kd, vol.capacity_per_day) - 1
    return fixed, free_mask, cap_slot, cap_day


def _order(parts: list[tuple[Any, int]]) -> Any:
    """Stable argsort by several non-negative integer keys, major first.

    ``parts`` holds ``(array, bound)`` pairs with ``0 <= array < bound``. The keys are folded
    into one int64 when the product of the bounds allows it (one stable sort), otherwise
    ``numpy.lexsort`` is used. Equal keys keep their input order.
    """
    import numpy as np

    total = 1
    for _, bound in parts:
        total *= max(bound, 1)
    if total < 2**62:
        key = np.zeros(len(parts[0][0]), dtype=np.int64)
        for arr, bound in parts:
            key = key * max(bound, 1) + arr
        return np.argsort(key, kind="stable")
    return np.lexsort(tuple(arr for arr, _ in reversed(parts)))


def _compact(keys: Any, bound: int) -> tuple[Any, Any]:
    """``numpy.unique(keys, return_inverse=True)`` for keys in ``[0, bound)``.

    Uses a dense table when ``bound`` is small next to ``len(keys)`` (no sort), else sorts.
    """
    import numpy as np

    if bound <= max(4 * len(keys), 1 << 20):
        present = np.zeros(bound, dtype=bool)
        present[keys] = True
        uniq = np.nonzero(present)[0]
        ids = np.cumsum(present, dtype=np.int64) - 1
        return uniq, ids[keys]
    uniq, inv = np.unique(keys, return_inverse=True)
    return uniq, inv.reshape(-1)


class _Lists:
    """The unpinned eligible pairs with both sides' ranks and compact capacity keys.

    Positions ``0..n-1`` list the pairs in *task preference order*: grouped by task, each
    task's volunteers best first. Per position:

    * ``pair``: the index into ``prep``'s pair arrays;
    * ``task``, ``vol``: the task and volunteer indexes;
    * ``v_rank``: the rank in the volunteer's preference order (a global position, so ranks
      compare within one volunteer; smaller is better);
    * ``kslot``, ``kday``: compact ids of (volunteer, slot) and (volunteer, day).

    ``cap_slot[kslot]`` and ``cap_day[kday]`` are the capacities the pins leave.
    ``seg_lo[t]`` and ``seg_hi[t]`` bound task ``t``'s positions. ``day_slots[kday]`` lists
    the ``kslot`` ids of that volunteer-day.
    """

    def __init__(
        self, prep: Prepared, keep: Any, pin_slot: dict[int, int], pin_day: dict[int, int]
    ) -> None:
        import numpy as np

        n_tasks, n_vols = len(prep.tasks), len(prep.vols)
        n_slots = max(len(prep.slot_keys), 1)
        n_days = max(len(prep.day_keys), 1)
        idx = np.nonzero(keep)[0]
        pt, pv, pd, pl = prep.pt[idx], prep.pv[idx], prep.pd[idx], prep.pl[idx]
        max_d = int(pd.max()) + 1 if len(pd) else 1
        # task side: (task, scope rank, metres) then volunteer id, kept by the stable sort
        # (pairs come sorted by task then volunteer index, and volunteers are sorted by id)
        by_task = _order([(pt, n_tasks), (pl, 4), (pd, max_d)])
        idx, pt, pv, pd = idx[by_task], pt[by_task], pv[by_task], pd[by_task]
        # volunteer side: (volunteer, priority descending, metres) then task id
        prio = np.array([t.priority for t in prep.tasks], dtype=np.int64)
        top = int(prio.max()) + 1 if n_tasks else 1
        by_vol = _order([(pv, n_vols), (top - prio[pt], top + 1), (pd, max_d), (pt, n_tasks)])
        v_rank = np.empty(len(idx), dtype=np.int64)
        v_rank[by_vol] = np.arange(len(idx), dtype=np.int64)
        slot = prep.t_slot[pt]
        slot_u, kslot = _compact(pv * n_slots + slot, n_vols * n_slots)
        day_u, kday = _compact(pv * n_days + prep.slot_day[slot], n_vols * n_days)
        cs = np.array([v.capacity_per_slot for v in prep.vols], dtype=np.int64)
        cd = np.array([v.capacity_per_day for v in prep.vols], dtype=np.int64)
        cap_slot = cs[slot_u // n_slots]
        cap_day = cd[day_u // n_days]
        for raw, residual in pin_slot.items():
            at = int(np.searchsorted(slot_u, raw))
            if at < len(slot_u) and int(slot_u[at]) == raw:
                cap_slot[at] = residual
        for raw, residual in pin_day.items():
            at = int(np.searchsorted(day_u, raw))
            if at < len(day_u) and int(day_u[at]) == raw:
                cap_day[at] = residual
        # the (volunteer, slot) ids of each (volunteer, day)
        slot_v, slot_s = slot_u // n_slots, slot_u % n_slots
        slot_kday = np.searchsorted(day_u, slot_v * n_days + prep.slot_day[slot_s])
        day_slots: list[list[int]] = [[] for _ in range(len(day_u))]
        for ks, kd in enumerate(slot_kday.tolist()):
            day_slots[kd].append(ks)
        tasks_with = np.unique(pt)
        seg_lo = np.zeros(n_tasks, dtype=np.int64)
        seg_hi = np.zeros(n_tasks, dtype=np.int64)
        seg_lo[tasks_with] = np.searchsorted(pt, tasks_with, side="left")
        seg_hi[tasks_with] = np.searchsorted(pt, tasks_with, side="right")

        self.n = len(idx)
        self.pair_a, self.task_a, self.vol_a, self.v_rank_a = idx, pt, pv, v_rank
        self.kslot_a, self.kday_a = kslot, kday
        self.tasks_with = tasks_with.tolist()
        self.seg_lo, self.seg_hi = seg_lo.tolist(), seg_hi.tolist()
        self.cap_slot_a, self.cap_day_a = cap_slot, cap_day
        self.day_slots = day_slots


def _tasks_propose(lists: _Lists, ctl: SolveControl) -> tuple[dict[int, int], Any]:
    """Task-proposing deferred acceptance; returns task index → position in ``lists``, and
    ``None`` or, when ``ctl`` stopped it, the tasks tried (held, or rejected by every one of
    their volunteers, each of which stays full)."""
    vol = lists.vol_a.tolist()
    v_rank = lists.v_rank_a.tolist()
    kslot = lists.kslot_a.tolist()
    kday = lists.kday_a.tolist()
    cap_slot = lists.cap_slot_a.tolist()
    cap_day = lists.cap_day_a.tolist()
    slot_cnt = [0] * len(cap_slot)
    day_cnt = [0] * len(cap_day)
    slot_heap: list[list[tuple[int, int]]] = [[] for _ in cap_slot]
    day_heap: list[list[tuple[int, int]]] = [[] for _ in cap_day]
    ptr = list(lists.seg_lo)
    end = lists.seg_hi
    n_tasks = len(ptr)
    held = [-1] * n_tasks  # position held by each task, -1 if none
    held_vol = [-1] * n_tasks
    heappush, heappop = heapq.heappush, heapq.heappop
    free = lists.tasks_with[::-1]  # pop() proposes in task id order
    steps = 0
    while free:
        steps += 1
        if steps % CHECK_EVERY == 0 and ctl.should_stop():
            tried = [t for t in lists.tasks_with if held[t] >= 0 or ptr[t] >= end[t]]
            return {t: p for t, p in enumerate(held) if p >= 0}, tried
        t = free.pop()
        p, e = ptr[t], end[t]
        while p < e:
            ks, kd = kslot[p], kday[p]
            sc, dc = slot_cnt[ks], day_cnt[kd]
            if sc >= cap_slot[ks] or dc >= cap_day[kd]:
                # the unique circuit: the slot's held tasks if the slot is full, else the day's
                heap = slot_heap[ks] if sc >= cap_slot[ks] else day_heap[kd]
                v = vol[p]
                while heap and held_vol[heap[0][1]] != v:  # lazy deletion of displaced tasks
                    heappop(heap)
                if not heap or -heap[0][0] < v_rank[p]:
                    p += 1  # the volunteer keeps what it holds: t is rejected
                    continue
                w = heappop(heap)[1]
                q = held[w]
                held[w] = held_vol[w] = -1
                slot_cnt[kslot[q]] -= 1
                day_cnt[kday[q]] -= 1
                free.append(w)
            held[t], held_vol[t] = p, vol[p]
            slot_cnt[ks] += 1
            day_cnt[kd] += 1
            heappush(slot_heap[ks], (-v_rank[p], t))
            heappush(day_heap[kd], (-v_rank[p], t))
            p += 1
            break
        ptr[t] = p
    return {t: p for t, p in enumerate(held) if p >= 0}, None


def _volunteers_propose(lists: _Lists, ctl: SolveControl) -> tuple[dict[int, int], Any]:
    """Volunteer-proposing deferred acceptance; returns task index → position in ``lists``,
    and ``None`` or, when ``ctl`` stopped it, the tasks tried (those held)."""
    import numpy as np

    n = lists.n
    kslot_a, kday_a, v_rank_a = lists.kslot_a, lists.kday_a, lists.v_rank_a
    cap_slot_a, cap_day_a = lists.cap_slot_a, lists.cap_day_a
    # per (volunteer, slot): its positions in the volunteer's preference order
    by_slot = _order([(kslot_a, len(cap_slot_a)), (v_rank_a, n)])
    sorted_ks = kslot_a[by_slot]
    first = np.searchsorted(sorted_ks, np.arange(len(cap_slot_a)), side="left")
    last = np.searchsorted(sorted_ks, np.arange(len(cap_slot_a)), side="right")
    # initial offers, vectorised: the greedy choice over all pairs takes, in each slot, a
    # prefix of at most the slot capacity, and on each day the best ``cap_day`` of those
    in_slot = np.arange(n, dtype=np.int64) - first[sorted_ks]
    cand = by_slot[in_slot < cap_slot_a[sorted_ks]]
    cand = cand[_order([(kday_a[cand], len(cap_day_a)), (v_rank_a[cand], n)])]
    cand_kd = kday_a[cand]
    day_first = np.searchsorted(cand_kd, np.arange(len(cap_day_a)), side="left")
    in_day = np.arange(len(cand), dtype=np.int64) - day_first[cand_kd]
    offered = cand[in_day < cap_day_a[cand_kd]]
    slot_cnt = np.bincount(kslot_a[offered], minlength=len(cap_slot_a))
    day_cnt = np.bincount(kday_a[offered], minlength=len(cap_day_a))
    ptr = (first + slot_cnt).tolist()
    end = last.tolist()
    slot_used = slot_cnt.tolist()
    day_used = day_cnt.tolist()
    cap_slot = cap_slot_a.tolist()
    flat = by_slot.tolist()
    task = lists.task_a.tolist()
    v_rank = v_rank_a.tolist()
    kslot = kslot_a.tolist()
    kday = kday_a.tolist()
    day_slots = lists.day_slots
    # a task's rank of a position is the position itself (task preference order)
    offers = offered[np.argsort(v_rank_a[offered], kind="stable")].tolist()[::-1]
    held: dict[int, int] = {}  # task index → position held
    steps = 0
    while offers:
        steps += 1
        if steps % CHECK_EVERY == 0 and ctl.should_stop():
            return held, sorted(held)
        k = offers.pop()
        t = task[k]
        cur = held.get(t)
        if cur is None:
            held[t] = k
            continue
        if k < cur:
            held[t] = k
            k = cur
        # position k is rejected: its volunteer frees a unit in the slot and on the day, then
        # offers to the best task not yet offered that fits (in that slot, or in another
        # slot of the day that is not full)
        ks, kd = kslot[k], kday[k]
        slot_used[ks] -= 1
        day_used[kd] -= 1
        best = best_ks = -1
        for ks2 in day_slots[kd]:
            pos = ptr[ks2]
            if pos >= end[ks2] or (ks2 != ks and slot_used[ks2] >= cap_slot[ks2]):
                continue
            c = flat[pos]
            if best < 0 or v_rank[c] < v_rank[best]:
                best, best_ks = c, ks2
        if best >= 0:
            ptr[best_ks] += 1
            slot_used[best_ks] += 1
            day_used[kd] += 1
            offers.append(best)
    return held, None
