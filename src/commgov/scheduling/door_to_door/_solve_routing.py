"""The routing method of door-to-door rounds (private).

Pipeline: blocks (households of one building and floor, at most :data:`BLOCK_MAX`) →
building-level LPT construction → balancing local search on exact route times → OR-Tools
routing (guided local search: makespan via a global span cost, then travel with the makespan
capped) → cheapest insertion of anything left. Everything runs in whole seconds on the
matrices of :mod:`._matrices`, in id order.

References
----------
.. [1] R. L. Graham, "Bounds on multiprocessing timing anomalies", SIAM Journal on Applied
   Mathematics 17(2), 416–429, 1969 (LPT list scheduling).
.. [2] C. Voudouris and E. Tsang, "Guided local search and its application to the traveling
   salesman problem", European Journal of Operational Research 113(2), 469–499, 1999.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np

from commgov._control import SolveControl
from commgov._random import rng
from commgov._redact import get_logger
from commgov.scheduling.door_to_door._matrices import Data, hroute_duration

__all__ = ["BLOCK_MAX", "GLS_SOLUTIONS", "SMALL_N", "RoutingOutcome", "solve_routing"]

log = get_logger("commgov.scheduling")

#: Most households of one building and floor merged into one routing node (on instances with
#: more than :data:`SMALL_N` households; smaller ones are routed household by household).
BLOCK_MAX = 4
SMALL_N = 60
#: Solutions each guided-local-search phase may find (the deterministic budget); the wall
#: clock is only a safety cap.
GLS_SOLUTIONS = 30
#: Share of the time left given to the makespan phase (the travel phase gets the rest less a
#: reserve for the final records).
MAKESPAN_SHARE = 0.7


# ------------------------------------------------------------------------------ blocks


@dataclass
class _Blocks:
    members: list[list[int]]  # household indices, in visiting order
    service: np.ndarray  # internal time: services + gaps
    travel: np.ndarray  # (m+1, m+1): leg from last of i to first of j; 0 = base


def _blocks(d: Data, households: list[int], block_max: int) -> _Blocks:
    groups: dict[tuple[str, int], list[int]] = {}
    for i in sorted(households, key=lambda i: (d.building[i], d.floor[i], d.hids[i])):
        groups.setdefault((d.building[i], d.floor[i]), []).append(i)
    members: list[list[int]] = []
    for key in sorted(groups):
        g = groups[key]
        members.extend(g[k:k + block_max] for k in range(0, len(g), block_max))
    m = len(members)
    service = np.zeros(m + 1, dtype=np.int64)
    first = np.zeros(m + 1, dtype=np.int64)
    last = np.zeros(m + 1, dtype=np.int64)
    for j, g in enumerate(members, start=1):
        service[j] = sum(int(d.service[i]) for i in g) + sum(
            int(d.leg[a + 1, b + 1]) for a, b in itertools.pairwise(g))
        first[j], last[j] = g[0] + 1, g[-1] + 1
    travel = d.leg[last][:, first]
    np.fill_diagonal(travel, 0)
    return _Blocks(members, service, travel)


def _duration(bl: _Blocks, route: list[int]) -> int:
    """Route duration in seconds (blocks numbered from 1, base 0)."""
    if not route:
        return 0
    t = int(bl.travel[0, route[0]])
    for a, b in itertools.pairwise(route):
        t += int(bl.service[a]) + int(bl.travel[a, b])
    return t + int(bl.service[route[-1]]) + int(bl.travel[route[-1], 0])


def _travel(bl: _Blocks, route: list[int]) -> int:
    return _duration(bl, route) - sum(int(bl.service[j]) for j in route)


# ------------------------------------------------------------------------------ construction


def _construct(d: Data, bl: _Blocks, ctl: SolveControl) -> tuple[list[list[int]], list[int]]:
    """Building-level LPT: stairwells longest first to the unit finishing earliest.

    Returns the routes (block numbers) and the blocks placed nowhere. Once ``ctl`` says stop
    (deadline or cancel), the stairwells not yet placed are left out whole (untried).
    """
    nu = len(d.units)
    jobs: dict[str, list[int]] = {}
    for j, g in enumerate(bl.members, start=1):
        jobs.setdefault(d.building[g[0]], []).append(j)

    def job_time(blocks: list[int]) -> int:
        return _duration(bl, blocks)

    order = sorted(jobs, key=lambda b: (-job_time(jobs[b]), b))
    loads: list[list[int]] = [[] for _ in range(nu)]
    finish = [d.start[k] for k in range(nu)]
    left: list[int] = []

    def finish_with(k: int, blocks: list[int]) -> int:
        # the unit's exact finish with ``blocks`` added to its sequenced route (a separate
        # round trip per job would overstate it and leave blocks out that fit)
        return d.start[k] + _duration(bl, _sequence(d, bl, [*loads[k], *blocks]))

    for n_done, b in enumerate(order):
        if ctl.should_stop():
            left.extend(j for rest in order[n_done:] for j in jobs[rest])
            break
        ctl.report("construction", n_done / len(order))
        blocks = jobs[b]
        ends = {k: finish_with(k, blocks) for k in range(nu)}
        cands = [k for k in range(nu) if ends[k] <= d.end[k]]
        if cands:
            k = min(cands, key=lambda k: (ends[k], k))
            loads[k].extend(blocks)
            finish[k] = ends[k]
            continue
        for j in blocks:  # place floor by floor where they still fit
            ends = {k: finish_with(k, [j]) for k in range(nu)}
            cands = [k for k in range(nu) if ends[k] <= d.end[k]]
            if cands:
                k = min(cands, key=lambda k: (ends[k], k))
                loads[k].append(j)
                finish[k] = ends[k]
            else:
                left.append(j)
    routes = [_sequence(d, bl, blocks) for blocks in loads]
    # a sequenced route is never longer than its jobs done separately; drop what still breaks
    for k, r in enumerate(routes):
        while r and d.start[k] + _duration(bl, r) > d.end[k]:
            left.append(r.pop())
    return routes, sorted(left)


def _sequence(d: Data, bl: _Blocks, blocks: list[int]) -> list[int]:
    """Stairwells by nearest neighbour from the base, floors upwards inside each."""
    by_b: dict[str, list[int]] = {}
    for j in blocks:
        by_b.setdefault(d.building[bl.members[j - 1][0]], []).append(j)
    for b in by_b:
        by_b[b].sort(key=lambda j: (d.floor[bl.members[j - 1][0]], j))
    route: list[int] = []
    here = 0
    todo = sorted(by_b)
    while todo:
        b = min(todo, key=lambda b: (int(bl.travel[here, by_b[b][0]]), b))
        todo.remove(b)
        route.extend(by_b[b])
        here = route[-1]
    return route


# ------------------------------------------------------------------------------ balancing


def _balance(d: Data, bl: _Blocks, routes: list[list[int]], seed: int, ctl: SolveControl,
             reserve: float) -> list[list[int]]:
    """Relocate a block off the unit finishing last, or swap it with a block of another unit,
    while the sorted finish times decrease lexicographically (exact route times, O(1) move
    deltas; a move is taken only when both changed units finish before the old last one)."""
    nu = len(routes)
    if nu < 2:
        return routes
    g = rng(seed, "sim", "d2d-balance")
    order = [int(k) for k in g.permutation(nu)]
    tr, sv = bl.travel, bl.service

    def finish(k: int) -> int:
        return d.start[k] + _duration(bl, routes[k])

    fin = [finish(k) for k in range(nu)]
    for _it in range(100_000):
        if ctl.should_stop(reserve):
            break
        ctl.report("balance", None, float(max(fin)))
        worst = max(range(nu), key=lambda k: (fin[k], k))
        r = routes[worst]
        best: tuple[int, int, int, int, int, int, int] | None = None  # (new max, ...)
        cur = fin[worst]
        seq = [0, *r, 0]
        for p in range(1, len(seq) - 1):
            if p % 16 == 0 and ctl.should_stop(reserve):
                return routes  # stop mid-scan: the routes are valid as they stand
            j = seq[p]
            a, b = seq[p - 1], seq[p + 1]
            saved = int(tr[a, j]) + int(sv[j]) + int(tr[j, b]) - int(tr[a, b])
            new_worst = cur - saved
            for k in order:
                if k == worst:
                    continue
                rk = [0, *routes[k], 0]
                base_f = fin[k] if routes[k] else d.start[k]
                for q in range(len(rk) - 1):
                    x, y = rk[q], rk[q + 1]
                    add = int(tr[x, j]) + int(sv[j]) + int(tr[j, y]) - int(tr[x, y])
                    nf = base_f + add
                    if nf > d.end[k]:
                        continue
                    score = max(new_worst, nf)
                    if score < cur and (best is None or (score, nf) < (best[0], best[1])):
                        best = (score, nf, p, k, q, j, -1)
                # swap j with block i of unit k (i takes j's place and j takes i's)
                for q in range(1, len(rk) - 1):
                    i = rk[q]
                    x, y = rk[q - 1], rk[q + 1]
                    nw = cur - saved + int(tr[a, i]) + int(sv[i]) + int(tr[i, b]) - int(tr[a, b])
                    nf = (base_f - int(tr[x, i]) - int(sv[i]) - int(tr[i, y])
                          + int(tr[x, j]) + int(sv[j]) + int(tr[j, y]))
                    if nf > d.end[k] or nw > d.end[worst]:
                        continue
                    score = max(nw, nf)
                    if score < cur and (best is None or (score, nf) < (best[0], best[1])):
                        best = (score, nf, p, k, q, j, i)
        if best is None:
            break
        _s, _nf, p, k, q, j, i = best
        if i < 0:  # relocate
            del r[p - 1]
            routes[k].insert(q, j)
        else:  # swap
            r[p - 1], routes[k][q - 1] = i, j
        fin[worst] = finish(worst)
        fin[k] = finish(k)
    return routes


# ------------------------------------------------------------------------------ OR-Tools


def _routing(d: Data, bl: _Blocks, routes: list[list[int]], ctl: SolveControl,
             reserve: float) -> tuple[list[list[int]], str]:
    """Improve ``routes`` with OR-Tools routing: makespan, then travel with makespan capped."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    placed = sorted(j for r in routes for j in r)
    if not placed or ctl.should_stop(reserve + 0.2):
        return routes, "skipped"
    node_of = {j: n for n, j in enumerate(placed, start=1)}
    blocks = [0, *placed]
    nu = len(routes)
    transit = (bl.service[blocks][:, None] + bl.travel[np.ix_(blocks, blocks)]).astype(np.int64)
    travel = bl.travel[np.ix_(blocks, blocks)].astype(np.int64)
    best = [list(r) for r in routes]
    best_key = _key(d, bl, best)
    phase = "construction"
    for name, share in (("makespan", MAKESPAN_SHARE), ("travel", 1.0)):
        if ctl.cancelled:
            break
        left = (ctl.remaining() - reserve) * share
        if left < 0.2:
            ctl.stopped_by = ctl.stopped_by or "wall_clock"
            break
        ctl.report(f"routing-{name}", None, float(best_key[0]))
        manager = pywrapcp.RoutingIndexManager(len(blocks), nu, 0)
        model = pywrapcp.RoutingModel(manager)
        t_cb = model.RegisterTransitMatrix(transit.tolist())
        a_cb = model.RegisterTransitMatrix(travel.tolist())
        model.SetArcCostEvaluatorOfAllVehicles(a_cb)
        horizon = max(d.end) + 1
        model.AddDimension(t_cb, 0, horizon, False, "time")
        dim = model.GetDimensionOrDie("time")
        cap = max(d.start[k] + _duration(bl, best[k]) for k in range(nu))
        for k in range(nu):
            dim.CumulVar(model.Start(k)).SetValue(d.start[k])
            limit = d.end[k] if name == "makespan" else min(d.end[k], cap)
            dim.CumulVar(model.End(k)).SetMax(limit)
        if name == "makespan":
            dim.SetGlobalSpanCostCoefficient(100)
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
        params.solution_limit = GLS_SOLUTIONS
        params.time_limit.FromMilliseconds(max(1, int(left * 1000)))
        params.log_search = False
        model.CloseModelWithParameters(params)
        init = model.ReadAssignmentFromRoutes(
            [[node_of[j] for j in r] for r in best], True)
        if init is None:
            log.warning("routing rejected the initial routes; %s phase skipped", name)
            continue
        monitor = ctl.watch_routing(model, f"routing-{name}")
        began = time.monotonic()
        sol = model.SolveFromAssignmentWithParameters(init, params)
        del monitor
        ctl.raise_pending()
        if time.monotonic() - began >= 0.98 * left and not ctl.cancelled:
            ctl.stopped_by = ctl.stopped_by or "wall_clock"  # the cap, not the solution limit
        if sol is None:
            continue
        new: list[list[int]] = []
        for k in range(nu):
            idx = model.Start(k)
            r: list[int] = []
            idx = sol.Value(model.NextVar(idx))
            while not model.IsEnd(idx):
                r.append(blocks[manager.IndexToNode(idx)])
                idx = sol.Value(model.NextVar(idx))
            new.append(r)
        key = _key(d, bl, new)
        if key < best_key and all(d.start[k] + _duration(bl, new[k]) <= d.end[k]
                                  for k in range(nu)):
            best, best_key = new, key
            phase = f"routing-{name}"
    return best, phase


def _key(d: Data, bl: _Blocks, routes: list[list[int]]) -> tuple[int, int]:
    mk = max((d.start[k] + _duration(bl, r) for k, r in enumerate(routes) if r), default=0)
    return mk, sum(_travel(bl, r) for r in routes)


# ------------------------------------------------------------------------------ insertion


def _insert(d: Data, hroutes: list[list[int]], todo: list[int],
            ctl: SolveControl) -> tuple[list[int], bool]:
    """Cheapest feasible insertion, household by household in id order (least resulting
    makespan, then least added travel). Returns those that fit nowhere and whether every
    household was tried before the deadline (or cancellation)."""
    left: list[int] = []
    fin = [d.start[k] + hroute_duration(d, r) for k, r in enumerate(hroutes)]
    for n_done, i in enumerate(todo):
        if ctl.should_stop():
            left.extend(todo[n_done:])
            return left, False
        ctl.report("insertion", n_done / len(todo))
        mk = max((f for k, f in enumerate(fin) if hroutes[k]), default=0)
        best: tuple[int, int, int, int] | None = None
        for k in d.eligible[i]:
            nodes = [0, *(x + 1 for x in hroutes[k]), 0]
            base_f = fin[k] if hroutes[k] else d.start[k]
            for q in range(len(nodes) - 1):
                x, y = nodes[q], nodes[q + 1]
                add = int(d.leg[x, i + 1]) + int(d.service[i]) + int(d.leg[i + 1, y]) - int(
                    d.leg[x, y])
                nf = base_f + add
                if nf > d.end[k]:
                    continue
                cand = (max(mk, nf), add, k, q)
                if best is None or cand < best:
                    best = cand
        if best is None:
            left.append(i)
            continue
        _m, _a, k, q = best
        hroutes[k].insert(q, i)
        fin[k] = d.start[k] + hroute_duration(d, hroutes[k])
    return left, True


@dataclass
class RoutingOutcome:
    """Household routes per unit, households left out, whether every one was tried, the
    phase that gave the routes and the block size used."""

    hroutes: list[list[int]]
    left: list[int]
    complete: bool
    phase: str
    block_max: int


def solve_routing(d: Data, coverable: list[int], seed: int, ctl: SolveControl) -> RoutingOutcome:
    """Construction, balancing, OR-Tools routing and insertion of the ``coverable`` households.

    Stops early (with valid routes) once ``ctl`` says so: what was not inserted by then is in
    ``left`` with ``complete`` false.
    """
    n = len(d.hids)
    reserve = 0.05 + 2e-4 * n
    block_max = BLOCK_MAX if n > SMALL_N else 1
    bl = _blocks(d, coverable, block_max)
    if ctl.cancelled:
        routes: list[list[int]] = [[] for _ in d.units]
        left_blocks = list(range(1, len(bl.members) + 1))
        phase = "cancelled"
    else:
        ctl.report("construction", 0.0)
        routes, left_blocks = _construct(d, bl, ctl)
        routes = _balance(d, bl, routes, seed, ctl, reserve)
        routes, phase = _routing(d, bl, routes, ctl, reserve)
    hroutes = [[i for j in r for i in bl.members[j - 1]] for r in routes]
    todo = sorted(i for j in left_blocks for i in bl.members[j - 1])
    left, complete = _insert(d, hroutes, todo, ctl)
    while complete and left and len(left) < len(todo):  # until a pass inserts nothing, so
        todo = left                                     # every TEAMS_FULL reason holds
        left, complete = _insert(d, hroutes, todo, ctl)
    return RoutingOutcome(hroutes, left, complete, phase, block_max)
