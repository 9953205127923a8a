"""A greedy assignment for runs whose exact solve would not fit the time left (private).

When the time limit leaves too little time for the min-cost flow (its time is planned from
the number of pairs), :func:`greedy` still returns a valid assignment: the pins first, then
tasks by priority (descending) and id, each to its cheapest eligible volunteer (cost, then
id) with room in the task's slot and on its day. ``ctl`` is asked every
:data:`CHECK_EVERY` tasks; the tasks not reached are reported as not tried.

Every task tried and left unmatched found each of its eligible volunteers full in its slot or
on its day (or without capacity at all), and volunteers only fill up afterwards, so its
primary reason (``CAPACITY_USED`` / ``NO_CAPACITY``) holds in the final assignment.
"""

from __future__ import annotations

from typing import Any

from commgov._control import SolveControl
from commgov.matching.volunteers._pairs import Prepared
from commgov.matching.volunteers._result import pinned_pairs

__all__ = ["CHECK_EVERY", "greedy"]

#: Tasks placed between two looks at the deadline and the cancel token.
CHECK_EVERY = 256


def greedy(prep: Prepared, ctl: SolveControl) -> tuple[dict[int, int], Any, bool]:
    """Greedy assignment; returns (task index → pair index, tried mask, whether stopped).

    Notes
    -----
    O(P log P) to order the pairs, then O(P) in the worst case for P eligible pairs.
    """
    import numpy as np

    tasks, vols = prep.tasks, prep.vols
    n_tasks = len(tasks)
    pt, pv, pc = prep.pt, prep.pv, prep.pc
    n_slots = max(len(prep.slot_keys), 1)
    n_days = max(len(prep.day_keys), 1)
    slot_left: dict[int, int] = {}
    day_left: dict[int, int] = {}
    cap_slot = [v.capacity_per_slot for v in vols]
    cap_day = [v.capacity_per_day for v in vols]
    t_slot = prep.t_slot.tolist()
    slot_day = prep.slot_day.tolist()
    pv_l = pv.tolist()

    def take(ti: int, vi: int) -> None:
        ks, kd = vi * n_slots + t_slot[ti], vi * n_days + slot_day[t_slot[ti]]
        slot_left[ks] = slot_left.get(ks, cap_slot[vi]) - 1
        day_left[kd] = day_left.get(kd, cap_day[vi]) - 1

    chosen = pinned_pairs(prep)
    tried = np.zeros(n_tasks, dtype=bool)
    for ti, k in chosen.items():
        take(ti, pv_l[k])
        tried[ti] = True
    order = np.lexsort((pv, pc, pt))  # each task's pairs by cost, then volunteer
    start = np.searchsorted(pt[order], np.arange(n_tasks + 1), side="left").tolist()
    order_l = order.tolist()
    prio = np.array([t.priority for t in tasks], dtype=np.int64)
    queue = np.lexsort((np.arange(n_tasks), -prio)).tolist()
    stopped = False
    for i, ti in enumerate(queue):
        if i % CHECK_EVERY == 0 and ctl.should_stop():
            stopped = True
            break
        if tried[ti]:
            continue
        tried[ti] = True
        for j in range(start[ti], start[ti + 1]):
            k = order_l[j]
            vi = pv_l[k]
            ks, kd = vi * n_slots + t_slot[ti], vi * n_days + slot_day[t_slot[ti]]
            if slot_left.get(ks, cap_slot[vi]) > 0 and day_left.get(kd, cap_day[vi]) > 0:
                chosen[ti] = k
                take(ti, vi)
                break
    return dict(sorted(chosen.items())), tried, stopped
