"""Exact volunteer ↔ task matching as a min-cost flow (OR-Tools SimpleMinCostFlow).

Network, built in id order (tasks, then volunteers, sorted by id)::

    source ─(1, 0)─► task ─(1, c)─► (vol, slot) ─(cap_slot, 0)─► (vol, day) ─(cap_day, 0)─► sink
                      │                                                                      ▲
                      └──────────────(1, W₁·priority [+ W₂ if previous]: "unserved")─────────┘

Pair costs ``c`` stack the tiers of the objective with weights large enough that a higher tier
always dominates (each weight is one more than the largest possible total of all lower tiers;
for ``min_cost`` the cost tier of any assignment is at most the sum of the costliest eligible
pair of the ``N`` tasks with the costliest ones, ``N`` an upper bound on the tasks served at
once — each volunteer at most its pairs, its day capacity times the days and its slot capacity
times the slots — so the weights, and with them the cost range cost scaling works through,
are smaller than a sum over every task: the same optimum, ~7 % less solve time on the
district instance):

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

``min_cost`` is solved by independent parts when it can be: a (volunteer, day) node whose
day capacity is at least what its (volunteer, slot) nodes can pass never binds and is left
out, and slots joined by no binding day node are separate networks (source and sink aside).
Each part is solved alone, its arcs and nodes in the whole network's order; the sum of the
parts' optima is the optimum of the whole (the tiers are sums over the parts). Cost scaling
is superlinear in practice, so this halves the solve of one large community (one part per
hour slot). Among equal optima a part may pick another one than the whole network would:
deterministic, the same objective.
"""

from __future__ import annotations

from typing import Any

from commgov._control import SolveControl
from commgov._redact import get_logger
from commgov.errors import SolverError, check_size
from commgov.matching.volunteers._flow_parts import (
    _WIDE_CHANGE,
    _WIDE_WHAT,
    _Net,
    _parts,
    _run_flow,
    _solve_parts,
)
from commgov.matching.volunteers._pairs import (
    _SPLIT,
    Prepared,
    estimate_pairs,
    prepare,
    task_slots,
)
from commgov.matching.volunteers._problem import Assignment, MatchingProblem
from commgov.matching.volunteers._result import build_assignment, build_stopped
from commgov.results import SolveStatus, library_versions

__all__ = ["FLOW_S_PER_ARC", "FLOW_S_PER_NODE", "MAX_ARCS", "flow_fits", "match_flow"]

_log = get_logger("commgov.matching")

#: Size guard: the flow network may have at most this many arcs.
MAX_ARCS = 20_000_000

#: OR-Tools scales costs by the node count and refuses (BAD_COST_RANGE) from about
#: max|cost|·nodes ≥ 2^61.7 (measured with ortools 9.x); commgov refuses from 2^61.
_COST_RANGE = 2**61


#: Planning estimate of one flow solve's seconds, building included: this per arc plus
#: :data:`FLOW_S_PER_NODE` per node (fitted on a lightly loaded two-core machine, 1.25× the
#: fit: district instance 2.4 M arcs and 85 k nodes 4.1 s, one community of 100,000 households
#: 5.3 M arcs and 16 k nodes 4.5 s). A solve is not started when the time left is shorter than
#: the estimate less :data:`_SOLVE_GRACE_S`. SimpleMinCostFlow cannot be interrupted (it holds
#: the GIL until done), so on a machine much slower than planned a solve may overrun the limit
#: by its misprediction.
FLOW_S_PER_ARC = 1.0e-6

#: See :data:`FLOW_S_PER_ARC`.
FLOW_S_PER_NODE = 33e-6

_SOLVE_GRACE_S = 0.5


def flow_fits(ctl: SolveControl, n_arcs: int, n_nodes: int) -> bool:
    """Whether a flow solve of ``n_arcs`` arcs and ``n_nodes`` nodes may start: not
    cancelled, and the planned time fits the time left (plus half a second of the one second
    of grace). When it does not, ``ctl.stopped_by`` records what stopped the run."""
    plan = FLOW_S_PER_ARC * n_arcs + FLOW_S_PER_NODE * n_nodes
    return not ctl.should_stop(plan - _SOLVE_GRACE_S)


def _fits(max_cost: int, n_nodes: int) -> bool:
    return max_cost * (n_nodes + 1) < _COST_RANGE


def _check_cost_range(max_cost: int, n_nodes: int) -> None:
    check_size(_WIDE_WHAT, max_cost * (n_nodes + 1), _COST_RANGE - 1, _WIDE_CHANGE)


def estimate_arcs(problem: MatchingProblem, n_pairs: int, slots: set[Any] | None = None) -> int:
    """Upper bound on the flow network's arcs from counts: source and unserved arcs per
    task, the pairs, (volunteer, slot) and (volunteer, day) arcs, and for ``fair`` at most
    one unit arc per pair and one per volunteer."""
    n_t, n_v = len(problem.tasks), len(problem.volunteers)
    if slots is None:
        slots = task_slots(problem)
    n_s = len(slots)
    n_d = len({start.astimezone(problem.zone).date() for start in {s for s, _ in slots}})
    return 2 * n_t + n_pairs + min(n_pairs, n_v * n_s) + min(n_pairs, n_v * n_d)


def _size(prep: Prepared, objective: str = "min_cost") -> tuple[int, int]:
    """Upper bounds on the flow network's arcs and nodes from a prepared problem's counts
    (as :func:`estimate_arcs`, without a pass over the records); ``fair`` adds up to one
    unit arc per pair and a node per volunteer."""
    n_p, n_v, n_t = len(prep.pt), len(prep.vols), len(prep.tasks)
    n_s = min(n_p, n_v * len(prep.slot_keys))
    n_d = min(n_p, n_v * len(prep.day_keys))
    extra_arcs, extra_nodes = (n_p + n_v, n_v) if objective == "fair" else (0, 0)
    return 2 * n_t + n_p + n_s + n_d + extra_arcs, 2 + n_t + n_s + n_d + extra_nodes


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
    by_parts: bool = False,
) -> tuple[Any, int]:
    """Solve the flow network over the kept pairs; return (flow per kept pair, optimal cost).

    ``even`` adds squared-load unit arcs per volunteer; ``vol_cap`` caps each volunteer's total.
    ``by_parts`` (without ``even`` and ``vol_cap``): solve independent parts one at a time
    (``_flow_parts.py``; the same optimum, possibly another one among ties).
    """
    import numpy as np

    tasks, vols = prep.tasks, prep.vols
    pt, pv = (prep.pt, prep.pv) if keep is None else (prep.pt[keep], prep.pv[keep])
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
    # (temporaries are dropped as soon as they are used: at 5 million pairs each is 40 MB)
    p_slot = t_slot[pt]
    key = pv * max(n_slots, 1) + p_slot
    s_first = _first_use(key, len(vols) * max(n_slots, 1))  # per pair: first pair of its key
    key = pv * max(n_days, 1) + slot_day[p_slot]
    del p_slot
    d_first = _first_use(key, len(vols) * max(n_days, 1))
    del key
    idx = np.arange(n_pairs, dtype=np.int64)
    s_new = np.nonzero(s_first == idx)[0]  # first pair of each (vol, slot), in pair order
    d_new = np.nonzero(d_first == idx)[0]
    del idx
    rank = np.zeros(n_pairs, dtype=np.int64)
    rank[s_new] = np.arange(len(s_new), dtype=np.int64)
    s_base = 2 + n_tasks
    d_base = s_base + len(s_new)
    n_nodes = d_base + len(d_new)
    snode = s_base + rank[s_first]
    del s_first
    rank[d_new] = np.arange(len(d_new), dtype=np.int64)
    dnode_s_rank = rank[d_first[s_new]]  # the (vol, day) node of each (vol, slot) node
    dnode_s = d_base + dnode_s_rank
    dnode_d = d_base + rank[d_first[d_new]]
    del d_first, rank
    tnodes = 2 + np.arange(n_tasks, dtype=np.int64)
    cap_slot = np.array([v.capacity_per_slot for v in vols], dtype=np.int64)
    cap_day = np.array([v.capacity_per_day for v in vols], dtype=np.int64)
    n_arcs = 2 * n_tasks + n_pairs + len(s_new) + len(d_new)
    if by_parts and not even and vol_cap is None:
        unserved_cost = np.asarray(unserved_cost, dtype=np.int64)
        pair_cost = np.asarray(pair_cost, dtype=np.int64)
        max_cost = max(
            int(np.abs(unserved_cost).max(initial=0)), int(np.abs(pair_cost).max(initial=0))
        )
        check_size("matching: flow network arcs", n_arcs, MAX_ARCS, _SPLIT)
        _check_cost_range(max_cost, n_nodes)
        s_rank = snode - s_base  # the (vol, slot) node of each pair, from 0
        s_pairs = np.bincount(s_rank, minlength=len(s_new))  # pairs into each (vol, slot)
        parts = _parts(prep, pt, pv, s_new, d_new, s_pairs, dnode_s_rank, cap_slot, cap_day)
        if parts is not None:
            del snode, dnode_s, dnode_d, tnodes, s_pairs
            net = _Net(
                pt, s_rank, s_new, d_new, dnode_s_rank, cap_slot[pv[s_new]], cap_day[pv[d_new]]
            )
            return _solve_parts(net, parts, unserved_cost, unserved_cap, pair_cost)
        del s_rank, s_pairs
    pair_arc = 2 * n_tasks + np.arange(n_pairs, dtype=np.int64)
    day_arc = 2 * n_tasks + n_pairs + len(s_new) + np.arange(len(d_new), dtype=np.int64)
    # node ids fit int32 (MAX_ARCS), the type OR-Tools takes
    starts = np.concatenate(
        (np.zeros(n_tasks, np.int64), tnodes, 2 + pt, snode[s_new], dnode_d),
        dtype=np.int32,
        casting="same_kind",
    )
    ends = np.concatenate(
        (tnodes, np.ones(n_tasks, np.int64), snode, dnode_s, np.ones(len(d_new), np.int64)),
        dtype=np.int32,
        casting="same_kind",
    )
    del snode, dnode_s, dnode_d
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
            unit = np.concatenate(
                [np.arange(1, k + 1, dtype=np.int64) for k in rep.tolist()]
                or [np.zeros(0, np.int64)]
            )
            extra_c.append(even_weight * (2 * unit - 1))
            extra_k.append(np.ones(len(unit), dtype=np.int64))
        else:
            extra_s.append(vnode[used])
            extra_c.append(np.zeros(len(used), dtype=np.int64))
            extra_k.append(np.asarray(vol_cap, dtype=np.int64)[used])
        es = np.concatenate(extra_s)
        starts = np.concatenate((starts, es), dtype=np.int32, casting="same_kind")
        ends = np.concatenate(
            (ends, np.ones(len(es), dtype=np.int64)), dtype=np.int32, casting="same_kind"
        )
        caps = np.concatenate((caps, np.concatenate(extra_k)))
        costs = np.concatenate((costs, np.concatenate(extra_c)))
        n_arcs = len(starts)

    max_cost = int(np.abs(costs).max()) if n_arcs else 0
    _log.debug("matching network: %d nodes, %d arcs, max cost %d", n_nodes, n_arcs, max_cost)
    check_size("matching: flow network arcs", n_arcs, MAX_ARCS, _SPLIT)
    _check_cost_range(max_cost, n_nodes)
    del dnode_s_rank
    flows, total = _run_flow(starts, ends, caps, costs, n_nodes, n_tasks, pair_arc)
    return flows, total


def _best_costs(kp_t: Any, kp_c: Any, n_tasks: int) -> Any:
    """The costliest kept pair of each task (0 without one); ``kp_t`` is sorted."""
    import numpy as np

    best = np.zeros(n_tasks, dtype=np.int64)
    if len(kp_t):
        starts = np.flatnonzero(np.diff(kp_t, prepend=-1))
        best[kp_t[starts]] = np.maximum.reduceat(kp_c, starts)
    return best


def _most_served(prep: Prepared, kp_v: Any, vol_cap: Any) -> int:
    """An upper bound on the tasks any assignment serves: each volunteer serves at most its
    kept pairs, its day capacity times the days and its slot capacity times the slots (and
    ``vol_cap`` when given)."""
    import numpy as np

    vols = prep.vols
    pairs_v = np.bincount(kp_v, minlength=len(vols))
    cap_day = np.array([v.capacity_per_day for v in vols], dtype=np.int64)
    cap_slot = np.array([v.capacity_per_slot for v in vols], dtype=np.int64)
    most = np.minimum(pairs_v, cap_day * len(prep.day_keys))
    most = np.minimum(most, cap_slot * len(prep.slot_keys))
    if vol_cap is not None:
        most = np.minimum(most, vol_cap)
    return min(len(prep.tasks), int(most.sum()))


def _top_sum(values: Any, n: int) -> int:
    """The sum of the ``n`` largest values (non-negative integers)."""
    import numpy as np

    if n <= 0:
        return 0
    if n >= len(values):
        return int(values.sum())
    return int(np.partition(values, len(values) - n)[len(values) - n :].sum())


def _chosen(keep: Any, kp_t: Any, flows: Any) -> dict[int, int]:
    """The first kept pair (arc order) carrying flow, per task, as an index into the pairs
    (``keep`` ``None``: every pair kept)."""
    import numpy as np

    flowing = np.nonzero(flows)[0]
    chosen_t, first = np.unique(kp_t[flowing], return_index=True)
    picked = flowing[first] if keep is None else np.nonzero(keep)[0][flowing[first]]
    return dict(zip(chosen_t.tolist(), picked.tolist(), strict=True))


def _stopped_result(prep: Prepared, ctl: SolveControl, options: dict[str, Any]) -> Assignment:
    """Pins only when the listing stopped or the time is up; else the greedy assignment
    (``FEASIBLE`` when every task was tried, ``LIMIT``/``CANCELLED`` otherwise)."""
    versions = library_versions("ortools")
    if not prep.complete or ctl.should_stop():
        return build_stopped(prep, ctl, solver="min-cost-flow", options=options, versions=versions)
    import numpy as np

    from commgov.matching.volunteers._greedy import greedy

    ctl.report("greedy", 0.5)
    chosen, tried, stopped = greedy(prep, ctl)
    if stopped:
        return build_stopped(
            prep,
            ctl,
            solver="min-cost-flow",
            options=options,
            versions=versions,
            chosen=chosen,
            tried=tried,
        )
    extra: dict[str, float] = {}
    if options.get("objective") == "fair":
        loads = np.bincount(
            prep.pv[list(chosen.values())].astype(np.int64), minlength=len(prep.vols)
        )
        extra["load_squares"] = float(int((loads * loads).sum()))
    return build_assignment(
        prep,
        chosen,
        solver="min-cost-flow",
        status=SolveStatus.FEASIBLE,
        options={**options, "method": "greedy"},
        versions=versions,
        extra_tiers=extra,
        ctl=ctl,
    )


def match_flow(problem: MatchingProblem, objective: str, ctl: SolveControl) -> Assignment:
    """``min_cost`` and ``fair`` by min-cost flow (see the module docstring).

    ``ctl`` is asked between blocks of the pair listing and before each flow solve, which
    cannot be interrupted and is started only when its planned time (:data:`FLOW_S_PER_ARC`
    per arc, :data:`FLOW_S_PER_NODE` per node) fits the time left. Stopped before a solve,
    the result keeps the pins (for ``fair`` after the first solve, the most even loads of
    that solve), greedily completed (``_greedy.py``) while time is left, with status
    ``CANCELLED``, ``LIMIT`` (tasks not tried: ``TIME_LIMIT_REACHED``) or ``FEASIBLE``
    (every task tried); the reasons of unmatched tasks are cut the same way
    (``_result.build_assignment``).
    """
    import numpy as np

    options = {"objective": objective}
    ctl.report("prepare", 0.0)
    # the size guard, from counts, before anything of that size is built
    n_est = estimate_pairs(problem)
    slots = task_slots(problem)
    check_size(
        "matching: flow network arcs (upper estimate from counts)",
        estimate_arcs(problem, n_est, slots),
        MAX_ARCS,
        _SPLIT,
    )
    prep = prepare(problem, ctl, n_est, slots)
    if not prep.complete or not flow_fits(ctl, *_size(prep, objective)):
        return _stopped_result(prep, ctl, options)
    ctl.report("solve", 0.2)
    tasks, vols = prep.tasks, prep.vols
    n_tasks = len(tasks)
    pt, pv, pc = prep.pt, prep.pv, prep.pc
    t_index = {t.id: i for i, t in enumerate(tasks)}
    v_index = {v.id: i for i, v in enumerate(vols)}

    # pinned pairs are forced: keep only that pair for the task, no unserved arc (no pins:
    # every pair kept, ``keep`` None, no copies of the pair arrays)
    keep: Any = None
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
    n_prev = int(in_prev.sum())
    chg = (in_prev[pt] == 1) & (pv != prev_vol[pt]) if n_prev else np.zeros(len(pt), dtype=bool)
    prio = np.array([t.priority for t in tasks], dtype=np.int64)

    if keep is None:
        kp_t, kp_v, kp_c = pt, pv, pc
        kp_chg = chg.astype(np.int64) if n_prev else None
    else:
        kp_t, kp_v, kp_c = pt[keep], pv[keep], pc[keep]
        kp_chg = chg[keep].astype(np.int64) if n_prev else None

    def changes_cost(w2: int) -> Any:
        return 0 if kp_chg is None else w2 * kp_chg

    best = _best_costs(kp_t, kp_c, n_tasks)
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
                prep,
                keep,
                changes_cost(w2) + np.zeros(len(kp_t), dtype=np.int64),
                w1 * prio + w2 * in_prev,
                unserved_cap,
                even=True,
            )
            vol_cap = np.bincount(kp_v[flows], minlength=len(vols)).astype(np.int64)
            if not flow_fits(ctl, *_size(prep, objective)):
                # the most even loads, optimal for the tiers before cost: every task tried
                first_loads = np.bincount(kp_v[flows], minlength=len(vols))
                return build_stopped(
                    prep,
                    ctl,
                    solver="min-cost-flow",
                    options=options,
                    versions=library_versions("ortools"),
                    chosen=_chosen(keep, kp_t, flows),
                    tried=np.ones(n_tasks, dtype=bool),
                    extra_tiers={"load_squares": float(int((first_loads**2).sum()))},
                )
            status = SolveStatus.FEASIBLE
            w_even = 0
    if not even:
        # the cost tier of any assignment is below the costliest pairs of the most tasks that
        # can be served at once: a tighter weight, the same optimum, a shorter cost scaling
        top = _top_sum(best, _most_served(prep, kp_v, vol_cap))
        w2 = 1 + top if n_prev else 0
        w1 = 1 + w2 * n_prev + top
    flows, total_cost = _solve_network(
        prep,
        keep,
        changes_cost(w2) + kp_c,
        w1 * prio + w2 * in_prev,
        unserved_cap,
        even=even,
        even_weight=w_even,
        vol_cap=vol_cap,
        by_parts=True,
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
        ctl=ctl,
    )
