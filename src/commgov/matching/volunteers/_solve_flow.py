"""Exact volunteer ↔ task matching as a min-cost flow (OR-Tools SimpleMinCostFlow).

Network, built in id order (tasks, then volunteers, sorted by id)::

    source ─(1, 0)─► task ─(1, c)─► (vol, slot) ─(cap_slot, 0)─► (vol, day) ─(cap_day, 0)─► sink
                      │                                                                      ▲
                      └──────────────(1, W₁·priority [+ W₂ if previous]: "unserved")─────────┘

Pair costs ``c`` stack the tiers of the objective with weights large enough that a higher tier
always dominates (each weight is one more than the largest possible total of all lower tiers):

* tier 1, priority served (maximised): the unserved arc costs ``W₁·priority``;
* tier 2, changes against ``problem.previous`` (minimised; only with a previous plan): a pair
  other than the task's previous volunteer, and the unserved arc of a previous task, cost
  ``W₂``;
* tier 3, cost in metre-equivalents: scope penalty + travel metres
  (:func:`~commgov.matching.pair_cost_m`).

``fair`` adds a volunteer node between the day nodes and the sink whose unit arcs cost
``W_even·(1, 3, 5, …)`` (the increments of a squared load), a tier between changes and cost:
one exact solve. On these load sets the least square-sum is the decreasingly-minimal
(lexicographically most even) vector (Frank & Murota, "Discrete decreasing minimization,
Part I", 2022; checked against brute force in the tests). When the stacked weights would leave
the int64 range OR-Tools accepts, two solves are used instead — the most even loads, then the
least cost with each volunteer's total capped at those loads — and the status is ``FEASIBLE``:
tiers 1, 2 and the loads are optimal, the cost tier only given that load vector.

Pinned pairs are forced (the task's other arcs and its unserved arc are left out). Method:
min-cost flow (Ahuja, Magnanti & Orlin, *Network Flows*, 1993), solved by OR-Tools'
cost-scaling push–relabel ``SimpleMinCostFlow``.
"""

from __future__ import annotations

import logging
from typing import Any

from commgov._control import SolveControl
from commgov.errors import SizeLimitError, SolverError
from commgov.matching.volunteers._pairs import Prepared, prepare
from commgov.matching.volunteers._problem import Assignment, MatchingProblem
from commgov.matching.volunteers._result import build_assignment, build_cancelled
from commgov.results import SolveStatus, library_versions

__all__ = ["MAX_ARCS", "match_flow"]

_log = logging.getLogger("commgov.matching")

#: Size guard: the flow network may have at most this many arcs.
MAX_ARCS = 20_000_000

#: OR-Tools scales costs by the node count and refuses (BAD_COST_RANGE) from about
#: max|cost|·nodes ≥ 2^61.7 (measured with ortools 9.x); commgov refuses from 2^61.
_COST_RANGE = 2**61


def _fits(max_cost: int, n_nodes: int) -> bool:
    return max_cost * (n_nodes + 1) < _COST_RANGE


def _too_wide(max_cost: int, n_nodes: int) -> str:
    return (
        f"cost range too wide for an exact int64 min-cost flow: max cost {max_cost} × "
        f"{n_nodes + 1} nodes ≥ 2^61; split the problem (fewer tasks, a smaller max_distance_m "
        "or smaller priorities)"
    )


def _first_use(key: Any, size: int) -> Any:
    """For each position, the first position holding the same key (keys in ``[0, size)``).

    A dense ``minimum.at`` scatter, linear time (``np.unique`` sorts: ~70× slower at 3M pairs).
    """
    import numpy as np

    n = len(key)
    if size > 8 * n + 1_000_000:  # sparse keys: sort instead of a huge dense table
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return first[inverse.reshape(-1)]
    table = np.full(size, n, dtype=np.int64)
    np.minimum.at(table, key, np.arange(n, dtype=np.int64))
    return table[key]


def _solve_network(
    prep: Prepared,
    keep: Any,
    pair_cost: Any,
    unserved_cost: Any,
    unserved_cap: Any,
    *,
    even: bool = False,
    even_weight: int = 1,
    vol_cap: Any = None,
) -> tuple[Any, int]:
    """Solve the flow network over the kept pairs; return (flow per kept pair, optimal cost).

    ``even`` adds squared-load unit arcs per volunteer; ``vol_cap`` caps each volunteer's total.
    """
    import numpy as np

    tasks, vols = prep.tasks, prep.vols
    pt, pv = prep.pt[keep], prep.pv[keep]
    t_slot = prep.t_slot
    slot_day = prep.slot_day
    n_tasks = len(tasks)
    n_slots, n_days = len(prep.slot_keys), len(prep.day_keys)
    n_pairs = len(pt)
    if n_tasks == 0:
        return np.zeros(0, dtype=bool), 0
    # Nodes: 0 source, 1 sink, tasks, then (volunteer, slot) and (volunteer, day) nodes numbered
    # in order of first use along the pairs. Arcs, grouped: source→task, task→sink
    # ("unserved"), task→(vol, slot) per pair, (vol, slot)→(vol, day), (vol, day)→sink.
    skey = pv * max(n_slots, 1) + t_slot[pt]
    dkey = pv * max(n_days, 1) + slot_day[t_slot[pt]]
    s_first = _first_use(skey, len(vols) * max(n_slots, 1))  # per pair: first pair of its key
    d_first = _first_use(dkey, len(vols) * max(n_days, 1))
    idx = np.arange(n_pairs, dtype=np.int64)
    s_new = np.nonzero(s_first == idx)[0]  # first pair of each (vol, slot), in pair order
    d_new = np.nonzero(d_first == idx)[0]
    s_rank = np.zeros(n_pairs, dtype=np.int64)
    s_rank[s_new] = np.arange(len(s_new), dtype=np.int64)
    d_rank = np.zeros(n_pairs, dtype=np.int64)
    d_rank[d_new] = np.arange(len(d_new), dtype=np.int64)
    s_base = 2 + n_tasks
    d_base = s_base + len(s_new)
    n_nodes = d_base + len(d_new)
    snode = s_base + s_rank[s_first]
    dnode = d_base + d_rank[d_first]
    tnodes = 2 + np.arange(n_tasks, dtype=np.int64)
    cap_slot = np.array([v.capacity_per_slot for v in vols], dtype=np.int64)
    cap_day = np.array([v.capacity_per_day for v in vols], dtype=np.int64)
    n_arcs = 2 * n_tasks + n_pairs + len(s_new) + len(d_new)
    pair_arc = 2 * n_tasks + idx
    day_arc = 2 * n_tasks + n_pairs + len(s_new) + np.arange(len(d_new), dtype=np.int64)
    starts = np.concatenate(
        (np.zeros(n_tasks, np.int64), tnodes, 2 + pt, snode[s_new], dnode[d_new])
    )
    ends = np.concatenate(
        (tnodes, np.ones(n_tasks, np.int64), snode, dnode[s_new], np.ones(len(d_new), np.int64))
    )
    caps = np.concatenate(
        (
            np.ones(n_tasks, np.int64),
            np.asarray(unserved_cap, dtype=np.int64),
            np.ones(n_pairs, np.int64),
            cap_slot[pv[s_new]],
            cap_day[pv[d_new]],
        )
    )
    costs = np.concatenate(
        (
            np.zeros(n_tasks, np.int64),
            np.asarray(unserved_cost, dtype=np.int64),
            np.asarray(pair_cost, dtype=np.int64),
            np.zeros(len(s_new) + len(d_new), np.int64),
        )
    )

    if even or vol_cap is not None:
        # (vol, day) → (vol) → sink: volunteer nodes appended after the others, in index order
        used = np.unique(pv)
        vnode = np.full(len(vols), -1, dtype=np.int64)
        vnode[used] = n_nodes + np.arange(len(used), dtype=np.int64)
        n_nodes += len(used)
        ends[day_arc] = vnode[pv[d_new]]
        extra_s: list[Any] = []
        extra_c: list[Any] = []
        extra_k: list[Any] = []
        if even:
            pairs_v = np.bincount(pv, minlength=len(vols))
            days_v = np.bincount(pv[d_new], minlength=len(vols))
            top = np.minimum(pairs_v, cap_day * days_v)
            if vol_cap is not None:
                top = np.minimum(top, vol_cap)
            rep = top[used]
            extra_s.append(np.repeat(vnode[used], rep))
            unit = np.concatenate([np.arange(1, k + 1, dtype=np.int64) for k in rep.tolist()]
                                  or [np.zeros(0, np.int64)])
            extra_c.append(even_weight * (2 * unit - 1))
            extra_k.append(np.ones(len(unit), dtype=np.int64))
        else:
            extra_s.append(vnode[used])
            extra_c.append(np.zeros(len(used), dtype=np.int64))
            extra_k.append(np.asarray(vol_cap, dtype=np.int64)[used])
        es = np.concatenate(extra_s)
        starts = np.concatenate((starts, es))
        ends = np.concatenate((ends, np.ones(len(es), dtype=np.int64)))
        caps = np.concatenate((caps, np.concatenate(extra_k)))
        costs = np.concatenate((costs, np.concatenate(extra_c)))
        n_arcs = len(starts)

    max_cost = int(np.abs(costs).max()) if n_arcs else 0
    _log.debug("matching network: %d nodes, %d arcs, max cost %d", n_nodes, n_arcs, max_cost)
    if n_arcs > MAX_ARCS:
        raise SizeLimitError(f"matching network has {n_arcs} arcs, above the guard {MAX_ARCS}")
    if not _fits(max_cost, n_nodes):
        raise SizeLimitError(_too_wide(max_cost, n_nodes))
    from ortools.graph.python import min_cost_flow

    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(
        starts.astype(np.int32), ends.astype(np.int32), caps, costs
    )
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[0] = n_tasks
    supplies[1] = -n_tasks
    smcf.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)
    status = smcf.solve()
    if status == smcf.BAD_COST_RANGE:
        raise SizeLimitError(_too_wide(max_cost, n_nodes))
    if status != smcf.OPTIMAL:
        raise SolverError(f"SimpleMinCostFlow returned status {status} on the matching network")
    return np.asarray(smcf.flows(pair_arc)) > 0, int(smcf.optimal_cost())


def _chosen(keep: Any, kp_t: Any, flows: Any) -> dict[int, int]:
    """The first kept pair (arc order) carrying flow, per task, as an index into the pairs."""
    import numpy as np

    kept_idx = np.nonzero(keep)[0]
    flowing = np.nonzero(flows)[0]
    chosen_t, first = np.unique(kp_t[flowing], return_index=True)
    return {
        int(t): int(kept_idx[k])
        for t, k in zip(chosen_t.tolist(), flowing[first].tolist(), strict=True)
    }


def match_flow(problem: MatchingProblem, objective: str, ctl: SolveControl) -> Assignment:
    """``min_cost`` and ``fair`` by min-cost flow (see the module docstring).

    The flow solves are fast and not interrupted: ``ctl`` is asked between phases. Cancelled
    before the (last) solve, the result keeps the pins, or for ``fair`` the most even loads of
    the first solve, with status ``CANCELLED``.
    """
    import numpy as np

    options = {"objective": objective}
    ctl.report("prepare", 0.0)
    prep = prepare(problem)
    if ctl.cancelled:
        return build_cancelled(prep, solver="min-cost-flow", options=options,
                               versions=library_versions("ortools"))
    ctl.report("solve", 0.2)
    tasks, vols = prep.tasks, prep.vols
    n_tasks = len(tasks)
    pt, pv, pc = prep.pt, prep.pv, prep.pc
    t_index = {t.id: i for i, t in enumerate(tasks)}
    v_index = {v.id: i for i, v in enumerate(vols)}

    # pinned pairs are forced: keep only that pair for the task, no unserved arc
    keep = np.ones(len(pt), dtype=bool)
    unserved_cap = np.ones(n_tasks, dtype=np.int64)
    if problem.pinned:
        pin_vol = np.full(n_tasks, -1, dtype=np.int64)
        for pin in problem.pinned:
            pin_vol[t_index[pin.task_id]] = v_index[pin.volunteer_id]
        forced = pin_vol[pt] >= 0
        keep = ~forced | (pv == pin_vol[pt])
        unserved_cap[pin_vol >= 0] = 0
    # previous plan: a task's previous volunteer index, -2 if that volunteer is gone
    in_prev = np.zeros(n_tasks, dtype=np.int64)
    prev_vol = np.full(n_tasks, -1, dtype=np.int64)
    for pin in problem.previous:
        ti = t_index[pin.task_id]
        in_prev[ti] = 1
        prev_vol[ti] = v_index.get(pin.volunteer_id, -2)
    chg = (in_prev[pt] == 1) & (pv != prev_vol[pt])
    n_prev = int(in_prev.sum())
    prio = np.array([t.priority for t in tasks], dtype=np.int64)

    kp_t, kp_v, kp_c, kp_chg = pt[keep], pv[keep], pc[keep], chg[keep].astype(np.int64)
    best = np.zeros(n_tasks, dtype=np.int64)
    np.maximum.at(best, kp_t, kp_c)
    total_best = int(best.sum())

    extra: dict[str, float] = {}
    vol_cap = None
    even = False
    w_even = 0
    status = SolveStatus.OPTIMAL
    if objective == "fair":
        cap_day = np.array([v.capacity_per_day for v in vols], dtype=np.int64)
        pairs_v = np.bincount(kp_v, minlength=len(vols))
        days_v = np.zeros(len(vols), dtype=np.int64)
        if len(kp_v):
            n_d = max(len(prep.day_keys), 1)
            vd = np.unique(kp_v * n_d + prep.t_day[kp_t])
            days_v = np.bincount(vd // n_d, minlength=len(vols))
        top = np.minimum(pairs_v, cap_day * days_v)
        evenness_max = int((top * top).sum())
        # one solve, tiers priority > changes > squared loads > cost, when the weights fit
        w_even = 1 + total_best
        w2 = 1 + w_even * evenness_max + total_best if n_prev else 0
        w1 = 1 + w2 * n_prev + w_even * evenness_max + total_best
        n_nodes_max = 2 + n_tasks + 2 * len(kp_t) + len(vols)
        if _fits(w1 * int(prio.max(initial=1)) + w2, n_nodes_max):
            even = True
        else:
            # two solves: the most even loads first, then the least cost given those loads;
            # the cost tier is then not proven optimal over all equally even load vectors
            w2 = 1 + evenness_max if n_prev else 0
            w1 = 1 + w2 * n_prev + evenness_max
            flows, _ = _solve_network(
                prep, keep, w2 * kp_chg, w1 * prio + w2 * in_prev, unserved_cap, even=True
            )
            vol_cap = np.bincount(kp_v[flows], minlength=len(vols)).astype(np.int64)
            if ctl.cancelled:  # the most even loads, optimal for the tiers before cost
                first_loads = np.bincount(kp_v[flows], minlength=len(vols))
                return build_assignment(
                    prep, dict(sorted(_chosen(keep, kp_t, flows).items())),
                    solver="min-cost-flow", status=SolveStatus.CANCELLED, options=options,
                    versions=library_versions("ortools"),
                    extra_tiers={"load_squares": float(int((first_loads**2).sum()))},
                )
            status = SolveStatus.FEASIBLE
            w_even = 0
    if not even:
        w2 = 1 + total_best if n_prev else 0
        w1 = 1 + w2 * n_prev + total_best
    flows, total_cost = _solve_network(
        prep,
        keep,
        w2 * kp_chg + kp_c,
        w1 * prio + w2 * in_prev,
        unserved_cap,
        even=even,
        even_weight=w_even,
        vol_cap=vol_cap,
    )

    ctl.report("build", 0.9)
    chosen = _chosen(keep, kp_t, flows)
    served = np.zeros(n_tasks, dtype=bool)
    served[list(chosen)] = True
    ks = np.array(sorted(chosen.values()), dtype=np.int64)
    loads = np.bincount(pv[ks], minlength=len(vols)) if len(ks) else np.zeros(len(vols), np.int64)
    if objective == "fair":
        extra["load_squares"] = float(int((loads * loads).sum()))
    decoded = (
        w_even * int((loads * loads).sum())
        + int(pc[ks].sum())
        + w2 * (int(chg[ks].sum()) + int(in_prev[~served].sum()))
        + w1 * int(prio[~served].sum())
    )
    if n_tasks and total_cost != decoded:
        raise SolverError("min-cost flow cost does not match the decoded assignment")
    if vol_cap is not None and not np.array_equal(loads, vol_cap):
        raise SolverError("fair: the second solve changed the most even loads")
    return build_assignment(
        prep,
        chosen,
        solver="min-cost-flow",
        status=status,
        options=options,
        versions=library_versions("ortools"),
        extra_tiers=extra,
    )
