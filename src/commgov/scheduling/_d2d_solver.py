"""Solver of door-to-door rounds (see :func:`commgov.scheduling.door_to_door.plan_door_to_door`).

Pipeline: blocks (households of one building and floor, at most :data:`BLOCK_MAX`) →
building-level LPT construction → balancing local search on exact route times → OR-Tools
routing (guided local search: makespan via a global span cost, then travel with the makespan
capped) → cheapest insertion of anything left → plan records. Everything runs in whole seconds
on matrices built from the shared rules of :mod:`commgov.scheduling.door_to_door`, in id order.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from commgov._random import rng
from commgov.errors import InfeasibleError, SizeLimitError, expect_type
from commgov.results import Reason, ReasonCode, SolveInfo, SolveStatus, library_versions
from commgov.scheduling.door_to_door import (
    DoorToDoorPlan,
    DoorToDoorProblem,
    RoundStop,
    RoundTotals,
    TeamRoute,
    UncoveredHousehold,
    door_to_door_bound,
    floor_seconds,
    service_seconds,
    team_units,
    to_seconds,
    walk_matrix,
)

log = logging.getLogger("commgov.scheduling")

#: Largest number of households accepted (the leg matrix is households² integers).
MAX_HOUSEHOLDS = 5000
#: Most households of one building and floor merged into one routing node (on instances with
#: more than :data:`SMALL_N` households; smaller ones are routed household by household).
BLOCK_MAX = 4
SMALL_N = 60
#: Solutions each guided-local-search phase may find (the deterministic budget); the wall
#: clock is only a safety cap.
GLS_SOLUTIONS = 30
#: Instances this small are also solved exactly (Held–Karp per subset, DP over units).
EXACT_MAX_HOUSEHOLDS = 8
EXACT_MAX_UNITS = 4
#: Share of the time left given to the makespan phase (the travel phase gets the rest less a
#: reserve for the final records).
MAKESPAN_SHARE = 0.7


@dataclass
class _Data:
    problem: DoorToDoorProblem
    hids: list[str]
    building: list[str]
    floor: list[int]
    service: np.ndarray  # (n,)
    leg: np.ndarray  # (n+1, n+1), index 0 = base, household i at i+1
    units: list[tuple[str, int]]
    start: list[int]  # seconds after origin
    end: list[int]
    alone: np.ndarray  # (n,)
    eligible: list[list[int]]  # units that can serve household i alone


def _prepare(problem: DoorToDoorProblem) -> _Data:
    hh = problem.households
    n = len(hh)
    bmap = problem.building_map()
    places, walks = walk_matrix(problem)
    index = {p: i for i, p in enumerate(places)}
    w = np.asarray(walks, dtype=np.int64)
    place = np.array([0] + [index[h.building_id] for h in hh], dtype=np.int64)
    fs = np.array([0] + [floor_seconds(problem, bmap[h.building_id]) for h in hh],
                  dtype=np.int64)
    fl = np.array([1] + [h.floor for h in hh], dtype=np.int64)
    climb = fs * (fl - 1)
    leg = climb[:, None] + w[place][:, place] + climb[None, :]
    same = (place[:, None] == place[None, :]) & (place[:, None] > 0)
    gap = to_seconds(problem.policy.minutes_between_doors)
    inside = gap + fs[:, None] * np.abs(fl[:, None] - fl[None, :])
    leg = np.where(same, inside, leg)
    np.fill_diagonal(leg, 0)
    service = np.array([service_seconds(problem, h) for h in hh], dtype=np.int64)
    origin = problem.origin()
    units = team_units(problem)
    start = [int((d - origin).total_seconds()) for _t, _k, d, _e in units] if origin else []
    end = [int((e - origin).total_seconds()) for _t, _k, _d, e in units] if origin else []
    alone = leg[0, 1:] + service + leg[1:, 0] if n else np.zeros(0, dtype=np.int64)
    eligible = [[k for k in range(len(units)) if start[k] + int(alone[i]) <= end[k]]
                for i in range(n)]
    return _Data(problem, [h.id for h in hh], [h.building_id for h in hh],
                 [h.floor for h in hh], service, leg, [(t, k) for t, k, _d, _e in units],
                 start, end, alone, eligible)


# ------------------------------------------------------------------------------ blocks


@dataclass
class _Blocks:
    members: list[list[int]]  # household indices, in visiting order
    service: np.ndarray  # internal time: services + gaps
    travel: np.ndarray  # (m+1, m+1): leg from last of i to first of j; 0 = base


def _blocks(d: _Data, households: list[int], block_max: int) -> _Blocks:
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


def _construct(d: _Data, bl: _Blocks) -> tuple[list[list[int]], list[int]]:
    """Building-level LPT: stairwells longest first to the unit finishing earliest.

    Returns the routes (block numbers) and the blocks placed nowhere.
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

    for b in order:
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


def _sequence(d: _Data, bl: _Blocks, blocks: list[int]) -> list[int]:
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


def _balance(d: _Data, bl: _Blocks, routes: list[list[int]], seed: int,
             deadline: float) -> list[list[int]]:
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
        if time.monotonic() > deadline:
            break
        worst = max(range(nu), key=lambda k: (fin[k], k))
        r = routes[worst]
        best: tuple[int, int, int, int, int, int, int] | None = None  # (new max, ...)
        cur = fin[worst]
        seq = [0, *r, 0]
        for p in range(1, len(seq) - 1):
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


def _routing(d: _Data, bl: _Blocks, routes: list[list[int]], deadline: float,
             reserve: float) -> tuple[list[list[int]], str]:
    """Improve ``routes`` with OR-Tools routing: makespan, then travel with makespan capped."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    placed = sorted(j for r in routes for j in r)
    if not placed or time.monotonic() > deadline - reserve - 0.2:
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
        left = (deadline - reserve - time.monotonic()) * share
        if left < 0.2:
            break
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
        sol = model.SolveFromAssignmentWithParameters(init, params)
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


def _key(d: _Data, bl: _Blocks, routes: list[list[int]]) -> tuple[int, int]:
    mk = max((d.start[k] + _duration(bl, r) for k, r in enumerate(routes) if r), default=0)
    return mk, sum(_travel(bl, r) for r in routes)


# ------------------------------------------------------------------------------ insertion


def _hroute_duration(d: _Data, seq: list[int]) -> int:
    if not seq:
        return 0
    nodes = [0, *(i + 1 for i in seq), 0]
    return int(sum(int(d.leg[a, b]) for a, b in itertools.pairwise(nodes))
               + sum(int(d.service[i]) for i in seq))


def _insert(d: _Data, hroutes: list[list[int]], todo: list[int],
            deadline: float) -> tuple[list[int], bool]:
    """Cheapest feasible insertion, household by household in id order (least resulting
    makespan, then least added travel). Returns those that fit nowhere and whether every
    household was tried before the deadline."""
    left: list[int] = []
    fin = [d.start[k] + _hroute_duration(d, r) for k, r in enumerate(hroutes)]
    for n_done, i in enumerate(todo):
        if time.monotonic() > deadline:
            left.extend(todo[n_done:])
            return left, False
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
        fin[k] = d.start[k] + _hroute_duration(d, hroutes[k])
    return left, True


# ------------------------------------------------------------------------------ entry


def _check_options(time_limit_s: object, seed: object, strict: object) -> None:
    if isinstance(time_limit_s, bool) or not isinstance(time_limit_s, int | float):
        raise TypeError(f"time_limit_s must be a number of seconds, not "
                        f"{type(time_limit_s).__name__}")
    if not 0 < time_limit_s < math.inf:
        raise ValueError(f"time_limit_s must be a positive, finite number of seconds, got "
                         f"{time_limit_s!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, not {type(seed).__name__}")
    if not 0 <= seed < 2**31:
        raise ValueError(f"seed must be in [0, 2**31), got {seed}")
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be a bool, not {type(strict).__name__}")


def solve_door_to_door(problem: DoorToDoorProblem, *, time_limit_s: float = 30.0,
                       seed: int = 0, strict: bool = False) -> DoorToDoorPlan:
    """See :func:`commgov.scheduling.door_to_door.plan_door_to_door`."""
    t0 = time.monotonic()
    expect_type(problem, DoorToDoorProblem, "problem",
                "build one with DoorToDoorProblem(...) or door_to_door_problem_from_org")
    _check_options(time_limit_s, seed, strict)
    if len(problem.households) > MAX_HOUSEHOLDS:
        raise SizeLimitError(f"door-to-door problem has {len(problem.households)} households "
                             f"(limit {MAX_HOUSEHOLDS}); split it by building cluster")
    deadline = t0 + float(time_limit_s)
    prob = problem.canonical()
    d = _prepare(prob)
    n = len(d.hids)
    coverable = [i for i in range(n) if d.eligible[i]]
    reserve = 0.05 + 2e-4 * n
    block_max = BLOCK_MAX if n > SMALL_N else 1
    bl = _blocks(d, coverable, block_max)
    routes, left_blocks = _construct(d, bl)
    routes = _balance(d, bl, routes, seed, deadline - reserve)
    routes, phase = _routing(d, bl, routes, deadline, reserve)
    hroutes = [[i for j in r for i in bl.members[j - 1]] for r in routes]
    todo = sorted(i for j in left_blocks for i in bl.members[j - 1])
    left, complete = _insert(d, hroutes, todo, deadline)
    while complete and left and len(left) < len(todo):  # until a pass inserts nothing, so
        todo = left                                     # every CAPACITY_USED reason holds
        left, complete = _insert(d, hroutes, todo, deadline)
    if complete and len(coverable) <= EXACT_MAX_HOUSEHOLDS and len(d.units) <= EXACT_MAX_UNITS:
        exact = _exact_small(d, coverable)
        if _hkey(d, exact[0], exact[1]) < _hkey(d, hroutes, left):
            hroutes, left = exact[0], exact[1]
            phase = "exact"
    options = {"time_limit_s": float(time_limit_s), "strict": strict,
               "block_max": block_max, "gls_solutions": GLS_SOLUTIONS}
    plan = _build_plan(d, hroutes, set(left), complete, seed, options, phase)
    if strict and plan.uncovered:
        raise InfeasibleError(f"{len(plan.uncovered)} households could not be covered",
                              [u.household_id for u in plan.uncovered])
    return plan


def _hkey(d: _Data, hroutes: list[list[int]], left: list[int]) -> tuple[int, int, int]:
    """(uncovered, makespan, travel) of household routes: smaller is better."""
    mk = max((d.start[k] + _hroute_duration(d, r) for k, r in enumerate(hroutes) if r),
             default=0)
    travel = sum(_hroute_duration(d, r) - int(sum(int(d.service[i]) for i in r))
                 for r in hroutes)
    return len(left), mk, travel


def _exact_small(d: _Data, coverable: list[int]) -> tuple[list[list[int]], list[int]]:
    """Exact rounds for a few households: most covered, then makespan, then travel.

    Held–Karp gives each subset of households its shortest round (duration = walking +
    climbing + service, from the base and back); a dynamic programme over units and subsets
    (3^n · units steps) then gives each unit a subset it can finish within its limit, with
    the lexicographic best (covered, makespan, travel). Used for at most
    :data:`EXACT_MAX_HOUSEHOLDS` households and :data:`EXACT_MAX_UNITS` units.
    """
    n = len(coverable)
    leg = d.leg
    full = 1 << n
    inf = math.inf
    best: list[list[float]]
    # best[S][j]: shortest walk from the base through S ending at coverable[j] (with service)
    best = [[inf] * n for _ in range(full)]
    parent = [[-1] * n for _ in range(full)]
    for j, i in enumerate(coverable):
        best[1 << j][j] = int(leg[0, i + 1]) + int(d.service[i])
    for mask in range(1, full):
        for j in range(n):
            cur = best[mask][j]
            if cur == inf:
                continue
            for k in range(n):
                if mask >> k & 1:
                    continue
                i, h = coverable[j], coverable[k]
                v = cur + int(leg[i + 1, h + 1]) + int(d.service[h])
                nm = mask | 1 << k
                if v < best[nm][k]:
                    best[nm][k] = v
                    parent[nm][k] = j
    dur = [0] * full
    last = [-1] * full
    for mask in range(1, full):
        cands = [(int(best[mask][j]) + int(leg[coverable[j] + 1, 0]), j) for j in range(n)
                 if best[mask][j] < inf]
        dur[mask], last[mask] = min(cands)
    service = [sum(int(d.service[coverable[j]]) for j in range(n) if mask >> j & 1)
               for mask in range(full)]
    # layer DP over units: state = covered mask -> (makespan, travel, choice per unit)
    states: dict[int, tuple[int, int, tuple[int, ...]]] = {0: (0, 0, ())}
    for u in range(len(d.units)):
        nxt: dict[int, tuple[int, int, tuple[int, ...]]] = {}
        for mask, (mk, tr, picks) in states.items():
            rest = (full - 1) & ~mask
            sub = rest
            while True:
                if sub == 0:
                    key = (mk, tr, (*picks, 0))
                elif d.start[u] + dur[sub] <= d.end[u]:
                    key = (max(mk, d.start[u] + dur[sub]), tr + dur[sub] - service[sub],
                           (*picks, sub))
                else:
                    key = None
                if key is not None:
                    m2 = mask | sub
                    if m2 not in nxt or key < nxt[m2]:
                        nxt[m2] = key
                if sub == 0:
                    break
                sub = (sub - 1) & rest
        states = nxt
    mask = min(states, key=lambda m: (-bin(m).count("1"), states[m][0], states[m][1], m))
    routes: list[list[int]] = []
    for sub in states[mask][2]:
        order: list[int] = []
        m, j = sub, last[sub] if sub else -1
        while m and j >= 0:
            order.append(coverable[j])
            pj = parent[m][j]
            m &= ~(1 << j)
            j = pj
        routes.append(order[::-1])
    left = [coverable[j] for j in range(n) if not mask >> j & 1]
    return routes, left


def _build_plan(d: _Data, hroutes: list[list[int]], left: set[int], complete: bool,
                seed: int, options: dict[str, Any], phase: str) -> DoorToDoorPlan:
    prob = d.problem
    origin = prob.origin()
    routes: list[TeamRoute] = []
    for k, seq in enumerate(hroutes):
        if not seq or origin is None:
            continue
        depart = origin + timedelta(seconds=d.start[k])
        t = d.start[k]
        prev = 0
        stops = []
        travel = 0
        for i in seq:
            leg = int(d.leg[prev, i + 1])
            t += leg
            travel += leg
            sv = int(d.service[i])
            stops.append(RoundStop(household_id=d.hids[i], building_id=d.building[i],
                                   floor=d.floor[i], arrive=origin + timedelta(seconds=t),
                                   leave=origin + timedelta(seconds=t + sv), travel_s=leg,
                                   service_s=sv))
            t += sv
            prev = i + 1
        back_leg = int(d.leg[prev, 0])
        t += back_leg
        travel += back_leg
        team_id, unit = d.units[k]
        routes.append(TeamRoute(team_id=team_id, unit=unit, depart=depart,
                                back=origin + timedelta(seconds=t), duration_s=t - d.start[k],
                                travel_s=travel, service_s=t - d.start[k] - travel,
                                stops=stops))
    covered = [i for seq in hroutes for i in seq]
    uncovered = []
    for i in range(len(d.hids)):
        if i not in left and i in set(covered):
            continue
        if not d.eligible[i]:
            reason = Reason(code=ReasonCode.OUT_OF_WINDOW)
        elif not complete:
            reason = Reason(code=ReasonCode.TIME_LIMIT_REACHED,
                            params={"time_limit_s": options["time_limit_s"]})
        else:
            reason = Reason(code=ReasonCode.CAPACITY_USED,
                            params={"eligible": len(d.eligible[i])})
        h = prob.households[i]
        uncovered.append(UncoveredHousehold(household_id=h.id, building_id=h.building_id,
                                            kind=h.kind, alone_s=int(d.alone[i]),
                                            reasons=[reason]))
    bound = door_to_door_bound(prob, [d.hids[i] for i in covered])
    makespan = max((int((r.back - origin).total_seconds()) for r in routes), default=0) if (
        origin is not None) else 0
    travel = sum(r.travel_s for r in routes)
    service = sum(r.service_s for r in routes)
    last_back = max((r.back for r in routes), default=None)
    totals = RoundTotals(
        households=len(d.hids), covered=len(covered), uncovered=len(uncovered),
        residents_covered=sum(prob.households[i].residents for i in covered),
        units=len(d.units), units_used=len(routes), makespan_s=makespan,
        makespan_minutes=round(makespan / 60.0, 2), last_back=last_back, travel_s=travel,
        service_s=service)
    if not complete:
        status = SolveStatus.LIMIT
    elif not uncovered and makespan == bound.makespan_s:
        status = SolveStatus.OPTIMAL
    else:
        status = SolveStatus.FEASIBLE
    b = float(bound.makespan_s)
    gap = (makespan - b) / b if b > 0 else (0.0 if makespan == 0 else None)
    info = SolveInfo(
        status=status, solver=f"lpt+balance+ortools-routing-gls ({phase})",
        objective={"uncovered": float(len(uncovered)), "makespan_s": float(makespan),
                   "travel_s": float(travel)},
        bound=b, gap=gap, options=options, seed=seed, versions=library_versions("ortools"))
    return DoorToDoorPlan(origin=origin, routes=routes, uncovered=uncovered, bound=bound,
                          totals=totals, info=info)
