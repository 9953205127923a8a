"""Held–Karp for small problems, list-scheduling construction and the balancing local search.

Everything works on :class:`~._rules.NotificationTimes` (whole seconds, records in id order)
and returns :data:`~._rules.Routes` (building indices per volunteer). No OR-Tools here: both
methods of :func:`~.plan_notification` use these steps; ``"auto"`` adds the OR-Tools routing
search of :mod:`._solve_routing`.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

from commgov.scheduling.notification._rules import NotificationTimes, Routes

__all__ = ["EXACT_MAX_BUILDINGS", "MAX_BALANCE_ROUNDS", "balance", "construct", "exact"]

#: Largest problem solved exactly (Held-Karp: 2^n · n² per volunteer, partition 3^n).
EXACT_MAX_BUILDINGS = 9
#: Most moves of the balancing local search (each lowers the number of routes that finish last).
MAX_BALANCE_ROUNDS = 100_000

# ------------------------------------------------------------------------------- exact


def exact(times: NotificationTimes) -> Routes:
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


def construct(times: NotificationTimes) -> Routes:
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


def balance(
    times: NotificationTimes,
    routes: Routes,
    max_rounds: int = MAX_BALANCE_ROUNDS,
    stop: Callable[[], bool] | None = None,
) -> Routes:
    """Lower the makespan, then the walking, by moving buildings between routes.

    Each round takes, first, the best move or swap out of the route that finishes last after
    which both routes touched finish before it did; failing that, the best move of any
    building that shortens the walking without a route finishing after the makespan. Both
    routes touched are then re-ordered (2-opt, or-opt). Every round lowers (makespan, routes
    finishing last, Σ finishes), so the search ends; ``max_rounds`` caps it, and ``stop``
    (asked before each round) ends it early with the routes improved so far.
    """
    routes = [_best_order(times, v, r) for v, r in enumerate(routes)]
    fin = [_route_finish(times, v, r) for v, r in enumerate(routes)]
    for _ in range(max_rounds):
        if stop is not None and stop():
            break
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

