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
from typing import Any

from commgov.scheduling.notification._rules import NotificationTimes, Routes

__all__ = ["EXACT_MAX_BUILDINGS", "MAX_BALANCE_ROUNDS", "balance", "construct", "exact"]

#: Largest problem solved exactly (Held-Karp: 2^n · n² per volunteer, partition 3^n).
EXACT_MAX_BUILDINGS = 9
#: Most moves of the balancing local search (each lowers the number of routes that finish last).
MAX_BALANCE_ROUNDS = 100_000

# ------------------------------------------------------------------------------- exact


def exact(times: NotificationTimes, stop: Callable[[], bool] | None = None) -> Routes | None:
    """Minimum-makespan routes by dynamic programming (small ``n`` only); ``None`` when
    ``stop()`` (asked for each volunteer of each pass) says so."""
    n = len(times.building_ids)
    full = (1 << n) - 1
    n_vol = len(times.offsets)
    inf = math.inf
    best_path: list[list[float]] = []  # per volunteer, per subset: earliest finish
    paths: list[list[list[int]]] = []
    for v in range(n_vol):
        if stop is not None and stop():
            return None
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
        if stop is not None and stop():
            return None
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
        if stop is not None and stop():
            return None
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
    """List scheduling: whoever is free first walks to the nearest unnotified building (ties:
    the lower building index). O(B² ) numpy work, B steps."""
    import numpy as np

    n = len(times.building_ids)
    big = np.iinfo(np.int64).max
    left = np.ones(n, dtype=bool)
    routes: Routes = [[] for _ in times.offsets]
    heap = [(off, v) for v, off in enumerate(times.offsets)]
    heapq.heapify(heap)
    for _ in range(n):
        t, v = heapq.heappop(heap)
        row = (times.between_s_a[times.speed_class[v]][routes[v][-1]] if routes[v]
               else times.home_s_a[v])
        b = int(np.where(left, row, big).argmin())
        left[b] = False
        routes[v].append(b)
        heapq.heappush(heap, (t + int(row[b]) + times.service[b], v))
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


def _best_order(
    times: NotificationTimes, v: int, route: list[int], stop: Callable[[], bool] | None = None
) -> list[int]:
    """``route`` improved by or-opt moves and 2-opt reversals to a local optimum (or until
    ``stop()``, asked every 256 candidate orders, says so)."""
    best, best_t = list(route), _route_finish(times, v, route)
    improved = True
    tried = 0
    while improved:
        improved = False
        n = len(best)
        for i in range(n):
            tried += 2 * n
            if stop is not None and tried >= 256:
                tried = 0
                if stop():
                    return best
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


class _Layout:
    """The routes as flat numpy arrays, for the vectorised move search of :func:`balance`.

    *Positions* are the places a building can be inserted: per route, first its end (after
    the last stop; the start place for an empty route), then before each stop — the order in
    which :func:`_insertion` prefers them on ties. *Slots* are the stops themselves, route by
    route in order. Legs from a start place are ``home_s``; between buildings ``between_s3``
    at the route's speed.
    """

    def __init__(self, times: NotificationTimes, routes: Routes) -> None:
        import numpy as np

        p_veh: list[int] = []
        p_prev: list[int] = []
        p_next: list[int] = []
        s_veh: list[int] = []
        s_prev: list[int] = []
        s_node: list[int] = []
        s_next: list[int] = []
        starts = [0]
        for v, route in enumerate(routes):
            p_veh.append(v)
            p_prev.append(route[-1] if route else -1)
            p_next.append(-1)
            for k, b in enumerate(route):
                prev = route[k - 1] if k else -1
                p_veh.append(v)
                p_prev.append(prev)
                p_next.append(b)
                s_veh.append(v)
                s_prev.append(prev)
                s_node.append(b)
                s_next.append(route[k + 1] if k + 1 < len(route) else -1)
            starts.append(len(p_veh))
        self.t = times
        cls = np.array(times.speed_class, dtype=np.int64)
        self.p_veh = np.array(p_veh, dtype=np.int64)
        self.p_prev = np.array(p_prev, dtype=np.int64)
        self.p_next = np.array(p_next, dtype=np.int64)
        self.p_cls = cls[self.p_veh]
        self.starts = np.array(starts[:-1], dtype=np.int64)
        self.width = max(np.diff(starts), default=1) + 1
        self.s_veh = np.array(s_veh, dtype=np.int64)
        self.s_prev = np.array(s_prev, dtype=np.int64)
        self.s_node = np.array(s_node, dtype=np.int64)
        self.s_next = np.array(s_next, dtype=np.int64)
        self.s_cls = cls[self.s_veh] if len(s_veh) else np.zeros(0, dtype=np.int64)
        # leg prev → next of each position (0 at a route's end), and the legs around each stop
        self.p_skip = np.where(self.p_next >= 0,
                               self.leg(self.p_veh, self.p_cls, self.p_prev, self.p_next), 0)
        self.s_in = self.leg(self.s_veh, self.s_cls, self.s_prev, self.s_node)
        self.s_out = np.where(self.s_next >= 0,
                              self.leg(self.s_veh, self.s_cls, self.s_node, self.s_next), 0)

    def leg(self, veh: Any, cls: Any, a: Any, b: Any) -> Any:
        """Walk seconds from ``a`` (-1: the start place of ``veh``) to ``b`` (arrays; any
        negative ``b`` gives a meaningless value the caller masks)."""
        import numpy as np

        t = self.t
        bb = np.maximum(b, 0)
        home = t.home_s_a[veh, bb]
        return np.where(a < 0, home, t.between_s3[cls, np.maximum(a, 0), bb])

    def added(self, b: Any) -> Any:
        """Seconds added by inserting each building of ``b`` (array, m) at each position:
        an ``m × positions`` array."""
        import numpy as np

        t = self.t
        b = b[:, None]
        into = self.leg(self.p_veh[None, :], self.p_cls[None, :], self.p_prev[None, :], b)
        out = t.between_s3[self.p_cls[None, :], b, np.maximum(self.p_next, 0)[None, :]]
        return into + t.service_a[b] + np.where(self.p_next >= 0, out - self.p_skip, 0)

    def best_per_route(self, added: Any) -> tuple[Any, Any]:
        """Per row and route, the least added seconds and the position
        (:func:`_insertion`'s: the end wins ties, then the earliest stop)."""
        import numpy as np

        local = np.arange(added.shape[1]) - np.repeat(self.starts,
                                                      np.diff([*self.starts, added.shape[1]]))
        key = added * self.width + local[None, :]
        low = np.minimum.reduceat(key, self.starts, axis=1)
        return low // self.width, low % self.width


def _critical_move(
    times: NotificationTimes, routes: Routes, fin: list[int], c: int
) -> _Move | None:
    """Best move or swap of a building of route ``c`` (which finishes last) after which both
    routes touched finish before it did (score: their later finish, then added seconds; ties:
    the earlier stop of ``c``, the lower route, a move before swaps, the earlier swapped stop).

    Vectorised over routes and stops (:class:`_Layout`), equal to trying each in that order.
    """
    import numpy as np

    target = fin[c]
    lay = _Layout(times, routes)
    n_vol = len(routes)
    fin_a = np.array(fin, dtype=np.int64)
    ok_veh = (np.arange(n_vol) != c) & (times.offsets_a < target)
    ok_slot = ok_veh[lay.s_veh]
    lengths = np.array([len(r) for r in routes], dtype=np.int64)
    best: tuple[tuple[int, int, int, int, int], _Move] | None = None
    for i, b in enumerate(routes[c]):
        without = routes[c][:i] + routes[c][i + 1:]
        new_c = _route_finish(times, c, without)
        add, pos = lay.best_per_route(lay.added(np.array([b])))
        add, pos = add[0], pos[0]
        pos = np.where(pos == 0, lengths, pos - 1)
        m_score = np.maximum(new_c, fin_a + add)
        # swaps: b replaces stop k of route v; the stop goes into ``without`` of route c
        b_in = lay.leg(lay.s_veh, lay.s_cls, lay.s_prev, np.full(len(lay.s_node), b))
        b_out = np.where(lay.s_next >= 0,
                         times.between_s3[lay.s_cls, b, np.maximum(lay.s_next, 0)], 0)
        new_v = (fin_a[lay.s_veh] + b_in + times.service_a[b] + b_out
                 - lay.s_in - times.service_a[lay.s_node] - lay.s_out)
        add_c, pos_c = _insertions(times, c, without, lay.s_node)
        s_score = np.maximum(new_c + add_c, new_v)
        s_tie = new_v - fin_a[lay.s_veh]
        cand = []
        m_ok = np.flatnonzero(ok_veh & (m_score < target))
        if len(m_ok):
            k = m_ok[np.lexsort((m_ok, add[m_ok], m_score[m_ok]))[0]]
            cand.append(((int(m_score[k]), int(add[k]), i, int(k), 0), ("move", int(k))))
        s_ok = np.flatnonzero(ok_slot & (s_score < target))
        if len(s_ok):
            k = s_ok[np.lexsort((s_ok, s_tie[s_ok], s_score[s_ok]))[0]]
            v = int(lay.s_veh[k])
            kk = int(k - np.searchsorted(lay.s_veh, v))
            cand.append(((int(s_score[k]), int(s_tie[k]), i, v, 1 + kk), ("swap", int(k))))
        for key, (kind, k) in cand:
            if best is not None and key >= best[0]:
                continue
            if kind == "move":
                v, p = k, int(pos[k])
                move: _Move = (key[0], key[1], c, v, without,
                               [*routes[v][:p], b, *routes[v][p:]])
            else:
                v, kk = key[3], key[4] - 1
                other, pc = routes[v][kk], int(pos_c[k])
                move = (key[0], key[1], c, v, [*without[:pc], other, *without[pc:]],
                        [*routes[v][:kk], b, *routes[v][kk + 1:]])
            best = (key, move)
    return None if best is None else best[1]


def _insertions(times: NotificationTimes, v: int, route: list[int], nodes: Any) -> tuple[Any, Any]:
    """:func:`_insertion` of each building of ``nodes`` (array) into ``route`` of ``v``:
    (added seconds, position) arrays."""
    import numpy as np

    lay = _Layout(times, [route] if v == 0 else [[]] * v + [route])
    sl = slice(int(lay.starts[v]), None)
    lay.p_veh, lay.p_prev, lay.p_next = lay.p_veh[sl], lay.p_prev[sl], lay.p_next[sl]
    lay.p_cls, lay.p_skip = lay.p_cls[sl], lay.p_skip[sl]
    lay.starts = np.zeros(1, dtype=np.int64)
    if not len(nodes):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    add, pos = lay.best_per_route(lay.added(nodes))
    return add[:, 0], np.where(pos[:, 0] == 0, len(route), pos[:, 0] - 1)


def _walk_move(times: NotificationTimes, routes: Routes, fin: list[int]) -> _Move | None:
    """Best move of one building to another route that lowers the sum of finishes (less
    walking) without either route finishing after the makespan (ties: the earlier route and
    stop taken out, then the lower route). Vectorised in blocks of stops."""
    import numpy as np

    makespan = max(f for f, r in zip(fin, routes, strict=True) if r)
    lay = _Layout(times, routes)
    fin_a = np.array(fin, dtype=np.int64)
    lengths = [len(r) for r in routes]
    saved = lay.s_in + times.service_a[lay.s_node] + lay.s_out - np.where(
        lay.s_next >= 0, lay.leg(lay.s_veh, lay.s_cls, lay.s_prev, lay.s_next), 0)
    n_slots = len(lay.s_node)
    block = max(1, 2_000_000 // max(1, len(lay.p_veh)))
    veh = np.arange(len(routes))
    best: tuple[int, int, int, int] | None = None  # gain, stop, route, position
    for lo in range(0, n_slots, block):
        hi = min(n_slots, lo + block)
        add, pos = lay.best_per_route(lay.added(lay.s_node[lo:hi]))
        gain = add - saved[lo:hi, None]
        ok = (gain < (0 if best is None else best[0])) & (fin_a[None, :] + add <= makespan)
        ok &= lay.s_veh[lo:hi, None] != veh[None, :]
        if not ok.any():
            continue
        rows, cols = np.nonzero(ok)  # row-major: in (stop, route) order
        g = gain[rows, cols]
        k = int(np.argmin(g))  # the first of the least
        v, p = int(cols[k]), int(pos[rows[k], cols[k]])
        best = (int(g[k]), lo + int(rows[k]), v, lengths[v] if p == 0 else p - 1)
    if best is None:
        return None
    gain_v, s, v, p = best
    c = int(lay.s_veh[s])
    i = s - int(np.searchsorted(lay.s_veh, c))
    b = routes[c][i]
    return (gain_v, 0, c, v, routes[c][:i] + routes[c][i + 1:],
            [*routes[v][:p], b, *routes[v][p:]])


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
    (asked before each round and inside the re-ordering) ends it early with the routes
    improved so far (always complete and valid).
    """
    routes = [list(r) for r in routes]
    for v in range(len(routes)):
        if stop is not None and stop():
            return routes
        routes[v] = _best_order(times, v, routes[v], stop)
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
            routes[w] = _best_order(times, w, route, stop)
            fin[w] = _route_finish(times, w, routes[w])
    return routes
