"""Min-makespan notification routing (open multi-vehicle routing with start times).

Everything works on :class:`~commgov.scheduling.notification.NotificationTimes` (whole
seconds, records in id order). Three parts:

* ``_exact``: Held-Karp over subsets per volunteer, then a subset-partition DP over
  volunteers (≤ :data:`EXACT_MAX_BUILDINGS` buildings): the proven minimum makespan;
* ``_construct`` + ``_routing``: list-scheduling construction, improved by OR-Tools routing
  (global span cost on a time dimension, guided local search, a solution-count budget);
* ``_balance``: a local search on the route that finishes last (move or swap a building to
  another route, re-order both by 2-opt and or-opt);
* ``lower_bound``: the combinatorial bounds, the work bound with the walking of a predecessor
  assignment (OR-Tools linear assignment).

Node numbering of the routing model: buildings ``0 … n-1``, volunteer ``v``'s start place
``n + v``, one shared dummy end ``n + V`` (open routes). The transit of an arc out of a
building includes the building's notify time; the arc out of a start place includes the
volunteer's start delay, so an idle volunteer ends at 0 and the global span
``max end − min start = max end`` is the makespan.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from typing import Any

from commgov.errors import SizeLimitError, SolverError, expect_type
from commgov.results import SolveInfo, SolveStatus, library_versions
from commgov.scheduling.notification import (
    BuildingNotice,
    NotificationPlan,
    NotificationProblem,
    NotificationStop,
    NotificationTimes,
    NotificationTotals,
    VolunteerRoute,
    combinatorial_bound,
    knocked_households,
    water_fill,
)

log = logging.getLogger("commgov.scheduling")

#: Size guards: routing matrices are (buildings + volunteers)² per walking speed.
MAX_BUILDINGS = 3000
MAX_VOLUNTEERS = 500
#: Largest problem solved exactly (Held-Karp: 2^n · n² per volunteer, partition 3^n).
EXACT_MAX_BUILDINGS = 9
#: Most moves of the balancing local search (each lowers the number of routes that finish last).
MAX_BALANCE_ROUNDS = 100_000
#: Weight of one second of makespan against one second of walking in the routing search.
SPAN_WEIGHT = 100

Routes = list[list[int]]


def evaluate(times: NotificationTimes, routes: Routes) -> tuple[int, int, list[int]]:
    """(makespan s, walking m, per-volunteer finish s) of ``routes`` (building indices)."""
    makespan = 0
    walk_m = 0
    finishes = []
    for v, route in enumerate(routes):
        t = times.offsets[v]
        prev = -1
        walk = times.between_s[times.speed_class[v]]
        for b in route:
            if prev < 0:
                t += times.home_s[v][b]
                walk_m += times.home_m[v][b]
            else:
                t += walk[prev][b]
                walk_m += times.between_m[prev][b]
            t += times.service[b]
            prev = b
        finishes.append(t)
        if route:
            makespan = max(makespan, t)
    return makespan, walk_m, finishes


# ------------------------------------------------------------------------------- exact


def _exact(times: NotificationTimes) -> Routes:
    """Minimum-makespan routes by dynamic programming (small ``n`` only)."""
    n = len(times.building_ids)
    full = (1 << n) - 1
    n_vol = len(times.offsets)
    inf = math.inf
    best_path: list[list[float]] = []  # per volunteer, per subset: earliest finish
    paths: list[list[list[int]]] = []
    for v in range(n_vol):
        walk = times.between_s[times.speed_class[v]]
        g = [[inf] * n for _ in range(1 << n)]
        parent = [[-1] * n for _ in range(1 << n)]
        for j in range(n):
            g[1 << j][j] = times.offsets[v] + times.home_s[v][j] + times.service[j]
        for s in range(1, 1 << n):
            row = g[s]
            for j in range(n):
                if row[j] == inf:
                    continue
                for k in range(n):
                    if s >> k & 1:
                        continue
                    t = row[j] + walk[j][k] + times.service[k]
                    nxt = s | 1 << k
                    if t < g[nxt][k]:
                        g[nxt][k] = t
                        parent[nxt][k] = j
        finish: list[float] = [0.0] * (1 << n)
        order: list[list[int]] = [[] for _ in range(1 << n)]
        for s in range(1, 1 << n):
            j = min(range(n), key=lambda i, row=g[s]: (row[i], i))  # type: ignore[misc]
            finish[s] = g[s][j]
            seq = []
            cur, k = s, j
            while k >= 0:
                seq.append(k)
                cur, k = cur & ~(1 << k), parent[cur][k]
            order[s] = seq[::-1]
        best_path.append(finish)
        paths.append(order)
    # partition: f[s] = best makespan covering s with volunteers 0..v
    f: list[float] = [0.0] + [inf] * full
    for v in range(n_vol):
        nf = list(f)
        for s in range(1, 1 << n):
            t = s
            while t:
                m = max(f[s & ~t], best_path[v][t])
                if m < nf[s]:
                    nf[s] = m
                t = (t - 1) & s
        f = nf
    makespan = f[full]
    # second pass: least walking among the plans with that makespan (walking of a subset's
    # best path = its finish − start delay − notify times)
    svc = [sum(times.service[b] for b in range(n) if t >> b & 1) for t in range(1 << n)]
    w: list[float] = [0.0] + [inf] * full
    choice: list[list[int]] = []
    for v in range(n_vol):
        nw = list(w)
        pick = [0] * (1 << n)
        for t in range(1, 1 << n):
            if best_path[v][t] > makespan:
                continue
            walk_t = best_path[v][t] - times.offsets[v] - svc[t]
            rest = full & ~t
            s = rest
            while True:  # every s ⊇ t is t | (subset of the rest)
                cand = w[s] + walk_t
                if cand < nw[s | t]:
                    nw[s | t], pick[s | t] = cand, t
                if s == 0:
                    break
                s = (s - 1) & rest
        w = nw
        choice.append(pick)
    routes: Routes = [[] for _ in range(n_vol)]
    s = full
    for v in range(n_vol - 1, -1, -1):
        t = choice[v][s]
        if t:
            routes[v] = paths[v][t]
            s &= ~t
    return routes


# ------------------------------------------------------------------------- construction


def _construct(times: NotificationTimes) -> Routes:
    """List scheduling: whoever is free first walks to the nearest unnotified building."""
    n = len(times.building_ids)
    left = set(range(n))
    routes: Routes = [[] for _ in times.offsets]
    heap = [(off, v) for v, off in enumerate(times.offsets)]
    heapq.heapify(heap)
    while left:
        t, v = heapq.heappop(heap)
        row = times.between_s[times.speed_class[v]][routes[v][-1]] if routes[v] else times.home_s[v]
        b = min(sorted(left), key=lambda k: row[k])
        left.discard(b)
        routes[v].append(b)
        heapq.heappush(heap, (t + row[b] + times.service[b], v))
    return routes


# -------------------------------------------------------------------------- local search


def _route_finish(times: NotificationTimes, v: int, route: list[int]) -> int:
    t = times.offsets[v]
    walk = times.between_s[times.speed_class[v]]
    prev = -1
    for b in route:
        t += (times.home_s[v][b] if prev < 0 else walk[prev][b]) + times.service[b]
        prev = b
    return t


def _leg(times: NotificationTimes, v: int, a: int, b: int) -> int:
    """Walk of ``v`` from ``a`` (-1: home) to ``b``."""
    return times.home_s[v][b] if a < 0 else times.between_s[times.speed_class[v]][a][b]


def _best_order(times: NotificationTimes, v: int, route: list[int]) -> list[int]:
    """``route`` improved by or-opt moves and 2-opt reversals to a local optimum."""
    best, best_t = list(route), _route_finish(times, v, route)
    improved = True
    while improved:
        improved = False
        n = len(best)
        for i in range(n):
            for j in range(i + 1, n):
                cand = best[:i] + best[i:j + 1][::-1] + best[j + 1:]
                t = _route_finish(times, v, cand)
                if t < best_t:
                    best, best_t, improved = cand, t, True
            for j in range(n):
                if j == i:
                    continue
                rest = best[:i] + best[i + 1:]
                cand = [*rest[:j], best[i], *rest[j:]]
                t = _route_finish(times, v, cand)
                if t < best_t:
                    best, best_t, improved = cand, t, True
    return best


def _insertion(times: NotificationTimes, v: int, route: list[int], b: int) -> tuple[int, int]:
    """(added seconds, position) of the cheapest insertion of ``b`` in ``route``."""
    svc = times.service[b]
    best = (_leg(times, v, route[-1] if route else -1, b) + svc, len(route))
    for pos in range(len(route)):
        prev = route[pos - 1] if pos else -1
        nxt = route[pos]
        added = _leg(times, v, prev, b) + svc + _leg(times, v, b, nxt) - _leg(times, v, prev, nxt)
        if added < best[0]:
            best = (added, pos)
    return best


_Move = tuple[int, int, int, int, list[int], list[int]]  # score, tie, from, to, routes


def _critical_move(
    times: NotificationTimes, routes: Routes, fin: list[int], c: int
) -> _Move | None:
    """Best move or swap of a building of route ``c`` (which finishes last) after which both
    routes touched finish before it did (score: their later finish, then added seconds)."""
    target = fin[c]
    best: _Move | None = None
    for i, b in enumerate(routes[c]):
        without = routes[c][:i] + routes[c][i + 1:]
        new_c = _route_finish(times, c, without)
        for v in range(len(routes)):
            if v == c or times.offsets[v] >= target:
                continue
            added, pos = _insertion(times, v, routes[v], b)
            score = max(new_c, fin[v] + added)
            if score < target and (best is None or (score, added) < best[:2]):
                best = (score, added, c, v, without, [*routes[v][:pos], b, *routes[v][pos:]])
            for k, other in enumerate(routes[v]):
                swapped = [*routes[v][:k], b, *routes[v][k + 1:]]
                add_c, pos_c = _insertion(times, c, without, other)
                new_v = _route_finish(times, v, swapped)
                score = max(new_c + add_c, new_v)
                if score < target and (best is None or (score, new_v - fin[v]) < best[:2]):
                    best = (score, new_v - fin[v], c, v,
                            [*without[:pos_c], other, *without[pos_c:]], swapped)
    return best


def _walk_move(times: NotificationTimes, routes: Routes, fin: list[int]) -> _Move | None:
    """Best move of one building to another route that lowers the sum of finishes (less
    walking) without either route finishing after the makespan."""
    makespan = max(f for f, r in zip(fin, routes, strict=True) if r)
    best: _Move | None = None
    for c, route in enumerate(routes):
        for i, b in enumerate(route):
            without = route[:i] + route[i + 1:]
            saved = fin[c] - _route_finish(times, c, without)
            for v in range(len(routes)):
                if v == c:
                    continue
                added, pos = _insertion(times, v, routes[v], b)
                gain = added - saved
                if (gain < 0 and fin[v] + added <= makespan
                        and (best is None or (gain, 0) < best[:2])):
                    best = (gain, 0, c, v, without, [*routes[v][:pos], b, *routes[v][pos:]])
    return best


def _balance(times: NotificationTimes, routes: Routes, max_rounds: int) -> Routes:
    """Lower the makespan, then the walking, by moving buildings between routes.

    Each round takes, first, the best move or swap out of the route that finishes last after
    which both routes touched finish before it did; failing that, the best move of any
    building that shortens the walking without a route finishing after the makespan. Both
    routes touched are then re-ordered (2-opt, or-opt). Every round lowers (makespan, routes
    finishing last, Σ finishes), so the search ends; ``max_rounds`` caps it.
    """
    routes = [_best_order(times, v, r) for v, r in enumerate(routes)]
    fin = [_route_finish(times, v, r) for v, r in enumerate(routes)]
    for _ in range(max_rounds):
        used = [v for v in range(len(routes)) if routes[v]]
        c = max(used, key=lambda v: (fin[v], -v))
        move = _critical_move(times, routes, fin, c) or _walk_move(times, routes, fin)
        if move is None:
            break
        _, _, a, v, route_a, route_v = move
        for w, route in ((a, route_a), (v, route_v)):
            routes[w] = _best_order(times, w, route)
            fin[w] = _route_finish(times, w, routes[w])
    return routes


# ------------------------------------------------------------------------------ routing


def _routing_model(times: NotificationTimes) -> tuple[Any, Any]:
    from ortools.constraint_solver import pywrapcp

    n = len(times.building_ids)
    n_vol = len(times.offsets)
    end = n + n_vol
    manager = pywrapcp.RoutingIndexManager(n + n_vol + 1, n_vol, list(range(n, end)),
                                           [end] * n_vol)
    routing = pywrapcp.RoutingModel(manager)
    transit_ids, cost_ids = [], []
    size = n + n_vol + 1
    for c in range(len(times.speeds)):
        walk = times.between_s[c]
        transit = [[0] * size for _ in range(size)]
        cost = [[0] * size for _ in range(size)]
        for a in range(n):
            svc = times.service[a]
            transit[a][:n] = [svc + w for w in walk[a]]
            transit[a][end] = svc
            cost[a][:n] = walk[a]
        for v in range(n_vol):
            transit[n + v][:n] = [times.offsets[v] + w for w in times.home_s[v]]
            cost[n + v][:n] = times.home_s[v]
        transit_ids.append(routing.RegisterTransitMatrix(transit))
        cost_ids.append(routing.RegisterTransitMatrix(cost))
    horizon = (max(times.offsets) + sum(times.service)
               + n * max((max(r) for r in times.home_s), default=0)
               + sum(max(row) for row in times.between_s[-1]))
    routing.AddDimensionWithVehicleTransits(
        [transit_ids[times.speed_class[v]] for v in range(n_vol)], 0, horizon, True, "time")
    routing.GetDimensionOrDie("time").SetGlobalSpanCostCoefficient(SPAN_WEIGHT)
    for v in range(n_vol):
        routing.SetArcCostEvaluatorOfVehicle(cost_ids[times.speed_class[v]], v)
    return manager, routing


def _read_routes(times: NotificationTimes, manager: Any, routing: Any, solution: Any) -> Routes:
    routes: Routes = []
    for v in range(len(times.offsets)):
        route = []
        index = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        routes.append(route)
    return routes


def _routing(
    times: NotificationTimes, start: Routes | None, effort: int, seconds: float
) -> Routes | None:
    """Routes found by OR-Tools routing from ``start`` (GLS, ``effort`` solutions), or the
    plain default search (first-solution heuristic, default metaheuristic) when ``start`` is
    ``None``; ``None`` if nothing is found."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    manager, routing = _routing_model(times)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    if start is None:
        solution = routing.SolveWithParameters(params)
    else:
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
        params.solution_limit = max(1, effort)
        # sub-searches of LNS operators stop on their own budget, never on the clock
        params.lns_time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
        initial = routing.ReadAssignmentFromRoutes(
            [[manager.NodeToIndex(b) for b in r] for r in start], True)
        if initial is None:
            return None
        solution = routing.SolveFromAssignmentWithParameters(initial, params)
    if solution is None:
        return None
    return _read_routes(times, manager, routing, solution)


def plain_routing(problem: NotificationProblem, time_limit_s: float) -> Routes | None:
    """Plain OR-Tools routing on the same model: default search parameters and a time limit
    (the benchmark's reference). Routes are building indices in id order."""
    times = NotificationTimes(problem)
    return _routing(times, None, 0, time_limit_s)


# ---------------------------------------------------------------------------- the bound


def predecessor_walk_bound(times: NotificationTimes) -> int:
    """Least total walking (s) of any plan: each building gets one predecessor (another
    building, walked at the fastest speed, or a volunteer's start place), each building and
    each start place precedes at most one building. A linear assignment (OR-Tools
    ``SimpleLinearSumAssignment``) with one dummy row per volunteer for the route ends."""
    from ortools.graph.python import linear_sum_assignment

    n = len(times.building_ids)
    n_vol = len(times.offsets)
    walk = times.between_s[0]  # fastest speed
    lefts, rights, costs = [], [], []
    for b in range(n):
        for a in range(n):
            if a != b:
                lefts.append(b)
                rights.append(a)
                costs.append(walk[a][b])
        for v in range(n_vol):
            lefts.append(b)
            rights.append(n + v)
            costs.append(times.home_s[v][b])
    for d in range(n_vol):
        for r in range(n + n_vol):
            lefts.append(n + d)
            rights.append(r)
            costs.append(0)
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    solver.add_arcs_with_cost(lefts, rights, costs)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise SolverError(f"linear assignment of the walking bound returned {status}")
    return int(solver.optimal_cost())


def _spanning_tree(cost: Any) -> tuple[int, Any]:
    """Weight and node degrees of a minimum spanning tree of a dense symmetric matrix (Prim)."""
    import numpy as np

    size = cost.shape[0]
    in_tree = np.zeros(size, dtype=bool)
    best = cost[0].copy()
    parent = np.zeros(size, dtype=np.int64)
    in_tree[0] = True
    best[0] = np.iinfo(np.int64).max
    degree = np.zeros(size, dtype=np.int64)
    total = 0
    for _ in range(size - 1):
        masked = np.where(in_tree, np.iinfo(np.int64).max, best)
        k = int(np.argmin(masked))
        total += int(masked[k])
        degree[k] += 1
        degree[parent[k]] += 1
        in_tree[k] = True
        closer = cost[k] < best
        best = np.where(closer, cost[k], best)
        parent = np.where(closer, k, parent)
    return total, degree


def tree_walk_bound(times: NotificationTimes, rounds: int = 60) -> int:
    """Least total walking (s) of any plan, by the 1-tree argument of Held & Karp (1970).

    The routes together with a root joined to each route's first building form a spanning
    tree of root + buildings in which every building has degree ≤ 2 (a path). Root edges
    cost the shortest walk from any start place, building edges the walk at the fastest
    speed (the smaller of both directions). For integer penalties ``π_b ≥ 0``,
    ``MST(c_ab + π_a + π_b) − 2 Σ π_b`` is a lower bound (a path tree has Σ π_b deg_b ≤ 2 Σ π_b);
    ``π`` is raised on buildings of degree > 2 by subgradient steps, and the best value over
    the rounds is returned. Integer arithmetic throughout, so the bound is exact.
    """
    import numpy as np

    n = len(times.building_ids)
    walk = np.asarray(times.between_s[0], dtype=np.int64)
    walk = np.minimum(walk, walk.T)
    root = np.asarray(times.home_s, dtype=np.int64).min(axis=0)
    base = np.zeros((n + 1, n + 1), dtype=np.int64)
    base[1:, 1:] = walk
    base[0, 1:] = root
    base[1:, 0] = root
    pi = np.zeros(n + 1, dtype=np.int64)
    best = 0
    step = max(1.0, float(walk.max()) / 10)
    for _ in range(rounds):
        total, degree = _spanning_tree(base + pi[:, None] + pi[None, :])
        value = total - 2 * int(pi.sum())
        best = max(best, value)
        excess = degree - 2
        excess[0] = 0  # the root has no degree limit here
        if not (excess > 0).any():
            break
        pi = np.maximum(0, pi + np.rint(step * excess).astype(np.int64))
        pi[0] = 0
        step = max(0.5, step * 0.9)
    return max(best, 0)


def lower_bound(
    times: NotificationTimes,
    reach: list[list[int]] | None = None,
    walk_in: list[list[int]] | None = None,
) -> int:
    """The reach and work bounds (:func:`combinatorial_bound`), the work bound with the
    predecessor assignment's walking instead of Σ least walk in."""
    if not times.building_ids:
        return 0
    walking = max(predecessor_walk_bound(times), tree_walk_bound(times))
    work = sum(times.service) + walking
    return max(combinatorial_bound(times, reach, walk_in), water_fill(times.offsets, work))


# --------------------------------------------------------------------------------- solve


def _check_options(time_limit_s: float, effort: int) -> None:
    if isinstance(time_limit_s, bool) or not isinstance(time_limit_s, int | float):
        raise TypeError(f"time_limit_s must be a number, not {type(time_limit_s).__name__}")
    if not math.isfinite(time_limit_s) or time_limit_s <= 0:
        raise ValueError(f"time_limit_s must be > 0, got {time_limit_s!r}")
    if isinstance(effort, bool) or not isinstance(effort, int):
        raise TypeError(f"effort must be an int, not {type(effort).__name__}")
    if effort < 0:
        raise ValueError(f"effort must be ≥ 0, got {effort!r}")


def solve_notification(
    problem: NotificationProblem, *, time_limit_s: float, effort: int
) -> NotificationPlan:
    expect_type(problem, NotificationProblem, "problem",
                "build one with NotificationProblem(...) or notification_problem_from_org")
    _check_options(time_limit_s, effort)
    n, n_vol = len(problem.buildings), len(problem.volunteers)
    if n > MAX_BUILDINGS or n_vol > MAX_VOLUNTEERS:
        raise SizeLimitError(
            f"notification problem: {n:,} buildings and {n_vol:,} volunteers; at most "
            f"{MAX_BUILDINGS:,} buildings and {MAX_VOLUNTEERS:,} volunteers (split the area)")
    deadline = time.monotonic() + time_limit_s
    times = NotificationTimes(problem)
    options = {"time_limit_s": time_limit_s, "effort": effort, "span_weight": SPAN_WEIGHT}
    if n == 0:
        return _plan(problem, times, [[] for _ in range(n_vol)], 0, "none", options)
    if n <= EXACT_MAX_BUILDINGS:
        routes = _exact(times)
        makespan = evaluate(times, routes)[0]
        return _plan(problem, times, routes, makespan, "held-karp", options)
    bound = lower_bound(times)
    routes = _balance(times, _construct(times), MAX_BALANCE_ROUNDS)
    best = evaluate(times, routes)[:2]
    method = "list-scheduling+balance"
    if effort > 0 and best[0] > bound:
        found = _routing(times, routes, effort, max(0.01, deadline - time.monotonic()))
        if found is not None:
            found = _balance(times, found, MAX_BALANCE_ROUNDS)
            if evaluate(times, found)[:2] < best:
                routes, best = found, evaluate(times, found)[:2]
                method = "list-scheduling+balance+or-tools-routing-gls+balance"
    log.debug("notification: makespan %d s, bound %d s (%s)", best[0], bound, method)
    return _plan(problem, times, routes, bound, method, options)


def _plan(
    problem: NotificationProblem,
    times: NotificationTimes,
    routes: Routes,
    bound: int,
    method: str,
    options: dict[str, Any],
) -> NotificationPlan:
    buildings = {b.id: b for b in problem.buildings}
    out_routes: list[VolunteerRoute] = []
    notices: list[BuildingNotice] = []
    makespan = 0
    for v, route in enumerate(routes):
        vid = times.volunteer_ids[v]
        t = times.offsets[v]
        prev = -1
        walk = times.between_s[times.speed_class[v]]
        stops = []
        for k, b in enumerate(route, start=1):
            if prev < 0:
                walk_s, walk_m = times.home_s[v][b], times.home_m[v][b]
            else:
                walk_s, walk_m = walk[prev][b], times.between_m[prev][b]
            arrive = t + walk_s
            t = arrive + times.service[b]
            record = buildings[times.building_ids[b]]
            stops.append(NotificationStop(
                building_id=record.id, order=k, arrive=problem.at(arrive),
                finish=problem.at(t), walk_m=walk_m, walk_s=walk_s,
                notify_s=times.service[b], households=record.households,
                knocked=knocked_households(problem, record)))
            notices.append(BuildingNotice(
                building_id=record.id, volunteer_id=vid, order=k, notified_at=problem.at(t),
                notified_s=t, households=record.households))
            prev = b
        if route:
            makespan = max(makespan, t)
        out_routes.append(VolunteerRoute(
            volunteer_id=vid, start=problem.at(times.offsets[v]), finish=problem.at(t),
            stops=stops, households=sum(s.households for s in stops),
            walk_m=sum(s.walk_m for s in stops), walk_s=sum(s.walk_s for s in stops),
            notify_s=sum(s.notify_s for s in stops)))
    notices.sort(key=lambda r: r.building_id)
    if bound > makespan:
        raise SolverError(f"notification bound {bound} s exceeds the plan's makespan "
                          f"{makespan} s: the bound is wrong")
    gap: float | None = (
        0.0 if makespan == bound else (makespan - bound) / bound if bound else None
    )
    walk_m = sum(r.walk_m for r in out_routes)
    totals = NotificationTotals(
        buildings=len(notices),
        households=sum(r.households for r in out_routes),
        knocked=sum(s.knocked for r in out_routes for s in r.stops),
        volunteers=len(out_routes),
        volunteers_used=sum(1 for r in out_routes if r.stops),
        walk_m=walk_m,
        walk_s=sum(r.walk_s for r in out_routes),
        notify_s=sum(r.notify_s for r in out_routes),
        makespan_s=makespan,
        makespan_minutes=round(makespan / 60, 2),
        last_notified=problem.at(makespan) if notices else None,
        bound_s=bound,
        gap=gap,
    )
    info = SolveInfo(
        status=SolveStatus.OPTIMAL if makespan == bound else SolveStatus.FEASIBLE,
        solver=method,
        objective={"makespan_s": float(makespan), "walk_m": float(walk_m)},
        bound=float(bound),
        gap=gap,
        options=options,
        versions=library_versions("ortools"),
    )
    return NotificationPlan(start=problem.at(0), routes=out_routes, buildings=notices,
                            totals=totals, info=info)
