"""The min-cost flow of ``_solve_flow.py`` solved by independent parts, and one OR-Tools solve.

A (volunteer, day) node whose day capacity is at least what its (volunteer, slot) nodes can pass
(each at most its slot capacity and its number of pairs) never binds and is left out; slots
joined by no binding day node are then separate networks, source and sink aside. Each part is
solved alone with its arcs and nodes in the whole network's order, and the sum of the parts'
optima is the optimum of the whole, every tier being a sum over the parts. Cost-scaling
push–relabel is superlinear in practice: one large community (one part per hour slot) solves
in about half the time, and a part's arrays are a fraction of the whole network's memory.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from commgov.errors import SizeLimitError, SolverError
from commgov.matching.volunteers._pairs import Prepared

__all__: list[str] = []

_WIDE_WHAT = "matching: cost range of the flow network (max |cost| × nodes, below 2^61)"
_WIDE_CHANGE = "split the problem (fewer tasks, a smaller max_distance_m or smaller priorities)"


def _run_flow(
    starts: Any, ends: Any, caps: Any, costs: Any, n_nodes: int, n_tasks: int, arcs: Any = None
) -> tuple[Any, int]:
    """One OR-Tools solve: node 0 supplies ``n_tasks`` units to node 1; return (flow > 0 on
    ``arcs``, every arc when ``None``; the optimal cost)."""
    import numpy as np
    from ortools.graph.python import min_cost_flow

    n_arcs = len(starts)
    max_cost = int(np.abs(costs).max()) if n_arcs else 0
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.asarray(starts, dtype=np.int32), np.asarray(ends, dtype=np.int32), caps, costs
    )
    del starts, ends, caps, costs
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[0] = n_tasks
    supplies[1] = -n_tasks
    smcf.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)
    status = smcf.solve()
    if status == smcf.BAD_COST_RANGE:
        figure = max_cost * (n_nodes + 1)
        raise SizeLimitError(
            _WIDE_WHAT,
            figure,
            max(0, figure - 1),
            "OR-Tools refused the costs (BAD_COST_RANGE); " + _WIDE_CHANGE,
        )
    if status != smcf.OPTIMAL:
        raise SolverError(f"SimpleMinCostFlow returned status {status} on the matching network")
    if arcs is None:
        arcs = np.arange(n_arcs, dtype=np.int64)
    return np.asarray(smcf.flows(arcs)) > 0, int(smcf.optimal_cost())


def _parts(
    prep: Prepared,
    pt: Any,
    pv: Any,
    s_new: Any,
    d_new: Any,
    s_pairs: Any,
    d_of_s: Any,
    cap_slot: Any,
    cap_day: Any,
) -> tuple[Any, Any, Any] | None:
    """Independent parts of the ``min_cost`` network, or ``None`` when there is only one.

    A (volunteer, day) node is *redundant* when its day capacity is at least the most its
    (volunteer, slot) nodes can pass (each at most its slot capacity and its pair count):
    its arc never binds and it can be left out. Slots are then joined only through the
    day nodes that are not redundant (union–find over slots), and each class of joined
    slots is a part: the network is the disjoint union of the parts (source and sink
    aside), so solving each part alone gives an optimum of the whole.

    Returns the part of each task, of each (volunteer, slot) node and of each (volunteer,
    day) node (-1: redundant, left out), in the node orders of :func:`_solve_network`.
    """
    import numpy as np

    n_slots = len(prep.slot_keys)
    if n_slots < 2:
        return None
    s_slot = prep.t_slot[pt[s_new]]
    bound = np.minimum(cap_slot[pv[s_new]], s_pairs)
    d_most = np.zeros(len(d_new), dtype=np.int64)
    np.add.at(d_most, d_of_s, bound)
    binding = d_most > cap_day[pv[d_new]]
    root = list(range(n_slots))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    if binding.any():
        first = np.full(len(d_new), n_slots, dtype=np.int64)
        np.minimum.at(first, d_of_s, s_slot)
        on = binding[d_of_s]
        edges = np.unique(first[d_of_s[on]] * n_slots + s_slot[on])
        for a, b in zip((edges // n_slots).tolist(), (edges % n_slots).tolist(), strict=True):
            ra, rb = find(a), find(b)
            if ra != rb:
                root[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(i) for i in range(n_slots)], dtype=np.int64)
    _, slot_part = np.unique(roots, return_inverse=True)
    slot_part = slot_part.reshape(-1)
    if int(slot_part.max()) == 0:
        return None
    t_part = slot_part[prep.t_slot]
    s_part = slot_part[s_slot]
    d_part = np.full(len(d_new), -1, dtype=np.int64)
    d_part[d_of_s[binding[d_of_s]]] = s_part[binding[d_of_s]]
    return t_part, s_part, d_part


class _Net(NamedTuple):
    """The ``min_cost`` network of :func:`_solve_network` by its pieces (indexes from 0)."""

    pt: Any  # task of each pair
    s_rank: Any  # (vol, slot) node of each pair
    s_new: Any  # first pair of each (vol, slot) node
    d_new: Any  # first pair of each (vol, day) node
    d_of_s: Any  # (vol, day) node of each (vol, slot) node
    s_cap: Any  # slot capacity of each (vol, slot) node
    d_cap: Any  # day capacity of each (vol, day) node


def _groups(part: Any, n_parts: int) -> tuple[Any, Any]:
    """Indexes grouped by part (increasing inside a part), and where each part starts."""
    import numpy as np

    small = np.int16 if n_parts < 2**15 else np.int64  # int16: a linear radix sort
    order = np.argsort(part.astype(small), kind="stable")
    return order, np.searchsorted(part[order], np.arange(n_parts + 1))


def _solve_parts(
    net: _Net, parts: tuple[Any, Any, Any], unserved_cost: Any, unserved_cap: Any, pair_cost: Any
) -> tuple[Any, int]:
    """Solve each part of the network alone; return (flow > 0 per pair, total optimal cost).

    A part's network is the whole network's restricted to its tasks, pairs and nodes, arcs
    in the same order, nodes numbered in the same order (source 0, sink 1, tasks, (volunteer,
    slot) nodes, binding (volunteer, day) nodes); the arc of a (volunteer, slot) node whose day
    node is redundant goes to the sink. Each part's arrays are built alone, so the memory of
    the whole network is never allocated at once.
    """
    import numpy as np

    t_part, s_part, d_part = parts
    n_parts = int(t_part.max()) + 1
    n_tasks = len(t_part)
    pt = net.pt
    t_order, t_cut = _groups(t_part, n_parts)
    p_order, p_cut = _groups(t_part[pt], n_parts)
    s_order, s_cut = _groups(s_part, n_parts)
    binding = d_part >= 0
    d_order, d_cut = _groups(np.where(binding, d_part, n_parts), n_parts + 1)
    local = np.zeros(n_tasks, dtype=np.int64)
    s_local = np.zeros(len(s_part), dtype=np.int64)
    d_local = np.ones(len(d_part), dtype=np.int64)  # redundant: the sink
    flows = np.zeros(len(pt), dtype=bool)
    total = 0
    for k in range(n_parts):
        tk = t_order[t_cut[k] : t_cut[k + 1]]
        pk = p_order[p_cut[k] : p_cut[k + 1]]
        sk = s_order[s_cut[k] : s_cut[k + 1]]
        dk = d_order[d_cut[k] : d_cut[k + 1]]
        n_t, n_s, n_d = len(tk), len(sk), len(dk)
        local[tk] = 2 + np.arange(n_t, dtype=np.int64)
        s_local[sk] = 2 + n_t + np.arange(n_s, dtype=np.int64)
        d_local[dk] = 2 + n_t + n_s + np.arange(n_d, dtype=np.int64)
        tl = local[tk]
        starts = np.concatenate(
            (np.zeros(n_t, np.int64), tl, local[pt[pk]], s_local[sk], d_local[dk])
        )
        ends = np.concatenate(
            (
                tl,
                np.ones(n_t, np.int64),
                s_local[net.s_rank[pk]],
                d_local[net.d_of_s[sk]],
                np.ones(n_d, np.int64),
            )
        )
        caps = np.concatenate(
            (
                np.ones(n_t, np.int64),
                np.asarray(unserved_cap, dtype=np.int64)[tk],
                np.ones(len(pk), np.int64),
                net.s_cap[sk],
                net.d_cap[dk],
            )
        )
        costs = np.concatenate(
            (
                np.zeros(n_t, np.int64),
                unserved_cost[tk],
                pair_cost[pk],
                np.zeros(n_s + n_d, np.int64),
            )
        )
        pair_arcs = 2 * n_t + np.arange(len(pk), dtype=np.int64)
        f, c = _run_flow(starts, ends, caps, costs, 2 + n_t + n_s + n_d, n_t, pair_arcs)
        flows[pk] = f
        total += c
    return flows, total
