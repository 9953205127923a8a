"""Buildings → sampling points at district scale: LP bound, rounding, repair, CP-SAT neighbourhoods.

When every batch is at most ``max_queue`` people, the slots drop out of the point choice (see
:mod:`commgov.scheduling._solver`): a set of batches can be scheduled at a point iff its people
fit in the point's open capacity ``C_p = c_p · |open slots|``. With every building served whole
at one point, choosing points is then a *generalized assignment problem* (GAP) with costs
proportional to weights: building ``b`` (``w_b`` walk-in residents) goes to one point ``p`` in
reach at cost ``w_b · d(b, p)`` person-metres, ``Σ_b w_b y_bp ≤ C_p``.

1. **Bound** (:func:`transport_bound`). The splittable relaxation is a transportation problem,
   solved exactly as a min-cost maximum flow (OR-Tools ``SimpleMinCostFlow``,
   ``SolveMaxFlowWithMinCost``): most people served ``F``, then least walking ``B``. It equals
   the DESIGN's time-expanded relaxation (same arcs, slot capacities and backlog cap): split
   person by person, a point's arrivals can always be spread so that no slot receives more than
   its capacity, so no backlog is ever needed and only ``Σ_t c_t`` binds. Any plan serving ``F``
   people walks at least ``B``.
2. **Rounding.** A basic optimal flow splits at most one building per saturated point; each
   building goes whole to the point that carries most of its flow (ties: nearer, then id).
3. **Repair.** Points over capacity shed buildings greedily, the cheapest move per person of
   overflow removed first (to a point in reach with room, else a two-move ejection chain);
   a building that cannot move is left unserved. Unserved buildings are then inserted where
   they fit, else by the cheapest ejection chain of at most :data:`CHAIN_DEPTH` moves
   (Glover 1996; Yagiura, Ibaraki & Glover 2004 for the GAP), else by the shortest chain
   found breadth first, else by emptying room at one of their points building by building.
4. **Improvement** (large neighbourhood search, Shaw 1998; Pisinger & Ropke 2010). For each
   seed point — the points the relaxation saturates, those touched by the repair, and those in
   reach of an unserved building — the seed and its nearest neighbouring points (points sharing
   a building in reach) are opened: every building assigned to them, and every unserved
   building in reach of them, is re-assigned optimally by CP-SAT (other buildings fixed,
   points outside keep their residual room), lexicographically: most people served, then least
   walking (one weight ``M`` larger than any walking the neighbourhood can change, so the
   weighted objective is exactly lexicographic; with every free building served, the walking
   alone). The current assignment is the hint, and a neighbourhood's answer is taken only if
   it is better, so the plan never gets worse. Passes repeat while a pass improves, up to
   :data:`MAX_PASSES`.
5. **Proof on small problems.** With at most :data:`EXACT_MAX_BUILDINGS` buildings, one CP-SAT
   model over all buildings, hinted with the LNS result, tries to prove optimality.

Deterministic: every CP-SAT call has one worker, a fixed seed and a deterministic-time limit;
seeds and neighbourhoods are taken in index (id) order; the search stops on a budget of
deterministic time; the wall clock is only a safety cap (checked between neighbourhoods), so
the same input gives the same plan unless the cap binds.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from commgov.errors import SizeLimitError, SolverError
from commgov.types import haversine_m

log = logging.getLogger("commgov.scheduling")

RANDOM_SEED = 20220410
#: Points opened per neighbourhood (the seed and its nearest neighbours).
NEIGHBOURHOOD_POINTS = 8
#: Passes over the seed points (a pass that improves nothing ends the search earlier).
MAX_PASSES = 4
#: Deterministic-time limit of one neighbourhood solve (CP-SAT units, ≈ seconds).
NEIGHBOURHOOD_DET_TIME = 0.5
#: Deterministic-time limit of a neighbourhood opened to serve an unserved building.
SERVE_DET_TIME = 0.5
#: Longest ejection chain (moves) and branches tried per level when inserting a building.
CHAIN_DEPTH = 4
CHAIN_BRANCH = 8
#: Levels of room-freeing behind one move when serving a building that no chain serves.
MAKE_ROOM_DEPTH = 2
#: Most points opened to serve one unserved building.
SERVE_MAX_POINTS = 14
#: Problems with at most this many buildings get a whole-model CP-SAT proof attempt.
EXACT_MAX_BUILDINGS = 500
#: Deterministic-time limit of the whole-model proof attempt.
EXACT_DET_TIME = 4.0
#: OR-Tools' min-cost flow needs |cost| · nodes well below 2^63.
_COST_GUARD = 2**61


@dataclass
class GapInstance:
    """Index-based GAP data (buildings and points in id order).

    ``reach[i]`` lists point indices in ascending order with ``dist[i]`` parallel to it
    (metres); ``w[i]`` walk-in people; ``cap[j]`` open capacity of point ``j`` (people over the
    window); ``xy[j]`` the point's (lon, lat) for neighbourhoods.
    """

    w: list[int]
    reach: list[list[int]]
    dist: list[list[int]]
    cap: list[int]
    xy: list[tuple[float, float]]


@dataclass
class TransportBound:
    """The splittable relaxation: most people served, then least person-metres."""

    served: int
    walk: int
    flows: list[list[int]]  # flows[i] parallel to reach[i]
    point_load: list[int]


@dataclass
class GapSolution:
    """A building → point assignment (``-1``: unserved) with how it was obtained."""

    assign: list[int]
    served: int
    walk: int
    proven_optimal: bool
    neighbourhoods: int
    improved: int
    passes: int
    bound: TransportBound


def transport_bound(inst: GapInstance) -> TransportBound:
    """Solve the splittable relaxation exactly (min-cost maximum flow)."""
    from ortools.graph.python import min_cost_flow

    nb, npt = len(inst.w), len(inst.cap)
    sink, source = nb + npt, nb + npt + 1
    n_arcs = sum(len(r) for r in inst.reach)
    max_cost = max((max(d) for d in inst.dist if d), default=0)
    if max_cost * (nb + npt + 2) >= _COST_GUARD:
        raise SizeLimitError(f"walking distances up to {max_cost} m over {nb + npt} nodes "
                             "exceed the min-cost-flow cost range")
    tails = np.empty(n_arcs + npt + nb, dtype=np.int64)
    heads = np.empty_like(tails)
    caps = np.empty_like(tails)
    costs = np.zeros_like(tails)
    a = 0
    for i, (r, dd) in enumerate(zip(inst.reach, inst.dist, strict=True)):
        k = len(r)
        tails[a:a + k] = i
        heads[a:a + k] = np.asarray(r, dtype=np.int64) + nb
        caps[a:a + k] = inst.w[i]
        costs[a:a + k] = dd
        a += k
    tails[a:a + npt] = np.arange(nb, nb + npt)
    heads[a:a + npt] = sink
    caps[a:a + npt] = inst.cap
    a += npt
    tails[a:] = source
    heads[a:] = np.arange(nb)
    caps[a:] = inst.w
    total = int(sum(inst.w))
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    mcf.set_node_supply(source, total)
    mcf.set_node_supply(sink, -total)
    status = mcf.solve_max_flow_with_min_cost()
    if status != mcf.OPTIMAL:
        raise SolverError(f"min-cost flow returned {status} on the sampling relaxation "
                          "(please report this)")
    f = mcf.flows(np.arange(n_arcs + npt, dtype=np.int64))
    flows: list[list[int]] = []
    a = 0
    for r in inst.reach:
        flows.append([int(x) for x in f[a:a + len(r)]])
        a += len(r)
    load = [int(x) for x in f[n_arcs:n_arcs + npt]]
    return TransportBound(served=int(mcf.maximum_flow()), walk=int(mcf.optimal_cost()),
                          flows=flows, point_load=load)


class _State:
    """Current assignment with point loads and walking."""

    def __init__(self, inst: GapInstance, assign: list[int]) -> None:
        self.inst = inst
        self.assign = assign
        self.clock = 0  # bumped by every accepted neighbourhood
        self.det_used = 0.0  # CP-SAT deterministic time spent
        self.changed = [0] * len(inst.cap)  # clock of each point's last change
        self.load = [0] * len(inst.cap)
        self.at: list[set[int]] = [set() for _ in inst.cap]
        for i, j in enumerate(assign):
            if j >= 0:
                self.load[j] += inst.w[i]
                self.at[j].add(i)

    def move(self, i: int, j: int) -> None:
        old = self.assign[i]
        w = self.inst.w[i]
        if old >= 0:
            self.load[old] -= w
            self.at[old].discard(i)
            self.changed[old] = self.clock
        if j >= 0:
            self.load[j] += w
            self.at[j].add(i)
            self.changed[j] = self.clock
        self.assign[i] = j

    def d(self, i: int, j: int) -> int:
        r = self.inst.reach[i]
        return self.inst.dist[i][r.index(j)]

    def served(self) -> int:
        return sum(w for w, j in zip(self.inst.w, self.assign, strict=True) if j >= 0)

    def walk(self) -> int:
        total = 0
        for i, j in enumerate(self.assign):
            if j >= 0:
                total += self.inst.w[i] * self.d(i, j)
        return total


def _round(inst: GapInstance, lp: TransportBound) -> list[int]:
    assign = []
    for i, (r, dd, fl) in enumerate(zip(inst.reach, inst.dist, lp.flows, strict=True)):
        if not r:
            assign.append(-1)
        elif inst.w[i] == 0:
            assign.append(r[min(range(len(r)), key=lambda k: (dd[k], r[k]))])
        else:
            k = min(range(len(r)), key=lambda k: (-fl[k], dd[k], r[k]))
            assign.append(r[k] if fl[k] > 0 else -1)
    return assign


def _repair(st: _State) -> set[int]:
    """Make every point fit its capacity, then insert unserved buildings greedily.

    Returns the points whose set of buildings changed.
    """
    inst = st.inst
    touched: set[int] = set()
    for p in range(len(inst.cap)):
        while st.load[p] > inst.cap[p]:
            excess = st.load[p] - inst.cap[p]
            best: tuple[float, int, int] | None = None
            for i in sorted(st.at[p]):
                w = inst.w[i]
                if w == 0:
                    continue  # moving an empty building frees nothing
                dp = st.d(i, p)
                for q, dq in zip(inst.reach[i], inst.dist[i], strict=True):
                    if q != p and st.load[q] + w <= inst.cap[q]:
                        key = (w * (dq - dp) / min(w, excess), i, q)
                        if best is None or key < best:
                            best = key
            if best is not None:
                _, i, q = best
                st.move(i, q)
                touched.update((p, q))
                continue
            chain = _two_hop(st, p, excess)
            if chain is not None:
                (i, q), (k, r) = chain
                st.move(i, q)
                st.move(k, r)
                touched.update((p, q, r))
                continue
            # nothing can move: leave out the smallest building that clears the excess, else
            # the largest one
            members = sorted((i for i in st.at[p] if inst.w[i] > 0),
                             key=lambda i: (inst.w[i], i))
            clear = [i for i in members if inst.w[i] >= excess]
            drop = clear[0] if clear else members[-1]
            st.move(drop, -1)
            touched.add(p)
    for i in range(len(inst.w)):
        if st.assign[i] < 0 and inst.reach[i]:
            w = inst.w[i]
            for q, _dq in sorted(zip(inst.reach[i], inst.dist[i], strict=True),
                                 key=lambda x: (x[1], x[0])):
                if st.load[q] + w <= inst.cap[q]:
                    st.move(i, q)
                    touched.add(q)
                    break
    # what still does not fit: the cheapest short ejection chain, else the shortest long one
    # (largest buildings first)
    for i in sorted((i for i in range(len(inst.w)) if st.assign[i] < 0 and inst.reach[i]),
                    key=lambda i: (-inst.w[i], i)):
        found = _chain(st, i, CHAIN_DEPTH)
        moves = found[1] if found is not None else _bfs_chain(st, i)
        for k, q in moves or []:
            st.move(k, q)
            touched.add(q)
        if moves is None:
            touched.update(_make_room_and_serve(st, i))
    return touched


def _make_room_and_serve(st: _State, u: int) -> set[int]:
    """Serve ``u`` by emptying room at one of its points.

    For each point ``q`` in reach (nearest first), :func:`_free_room` moves buildings off
    ``q`` — directly to a point with room, by a shortest ejection chain, or by freeing room
    at their own destination in turn (at most :data:`MAKE_ROOM_DEPTH` levels) — until ``u``
    fits; if it cannot, every move is undone and the next point is tried. Returns the points
    changed (empty if ``u`` stays unserved).
    """
    inst = st.inst
    w_u = inst.w[u]
    for q, _d in sorted(zip(inst.reach[u], inst.dist[u], strict=True), key=lambda x: (x[1], x[0])):
        moves: list[tuple[int, int]] = []  # (building, previous point), to undo
        if _free_room(st, q, st.load[q] + w_u - inst.cap[q], frozenset(), MAKE_ROOM_DEPTH,
                      moves, chains=True):
            st.move(u, q)
            return {q, *(st.assign[b] for b, _ in moves), *(p for _, p in moves if p >= 0)}
    return set()


def _undo(st: _State, moves: list[tuple[int, int]], mark: int) -> None:
    while len(moves) > mark:
        b, prev = moves.pop()
        st.move(b, prev)


def _free_room(st: _State, q: int, need: int, banned: frozenset[int], depth: int,
               moves: list[tuple[int, int]], *, chains: bool = False) -> bool:
    """Move buildings off ``q`` (heaviest first) until ``need`` people of room are free there.

    Nothing enters ``q`` or a point of ``banned``. All or nothing: on failure every move made
    here is undone. Moves are appended to ``moves`` as (building, previous point).
    """
    if need <= 0:
        return True
    inst = st.inst
    mark = len(moves)
    freed = 0
    closed = banned | {q}
    for k in sorted(st.at[q], key=lambda k: (-inst.w[k], k)):
        if freed >= need:
            break
        if inst.w[k] > 0 and _relocate(st, k, closed, depth, moves, chains=chains):
            freed += inst.w[k]
    if freed >= need:
        return True
    _undo(st, moves, mark)
    return False


def _relocate(st: _State, k: int, banned: frozenset[int], depth: int,
              moves: list[tuple[int, int]], *, chains: bool) -> bool:
    """Move building ``k`` to another point in reach outside ``banned``: directly (nearest
    point with room), else (``chains``) by a shortest ejection chain, else by freeing room at
    one of its two nearest points (``depth`` > 0)."""
    inst = st.inst
    w = inst.w[k]
    here = st.assign[k]
    opts = sorted((d, r) for r, d in zip(inst.reach[k], inst.dist[k], strict=True)
                  if r != here and r not in banned)
    for _d, r in opts:
        if st.load[r] + w <= inst.cap[r]:
            moves.append((k, here))
            st.move(k, r)
            return True
    if chains:
        found = _bfs_chain(st, k, banned=banned)
        if found is not None:
            for b, r in found:
                moves.append((b, st.assign[b]))
                st.move(b, r)
            return True
    if depth <= 0:
        return False
    for _d, r in opts[:2]:
        mark = len(moves)
        if _free_room(st, r, st.load[r] + w - inst.cap[r], banned | {here}, depth - 1, moves):
            moves.append((k, st.assign[k]))
            st.move(k, r)
            return True
        _undo(st, moves, mark)
    return False


def _bfs_chain(st: _State, u: int, banned: frozenset[int] = frozenset(),
               ) -> list[tuple[int, int]] | None:
    """Shortest ejection chain (fewest moves) that serves or moves building ``u``.

    ``u`` is unserved or leaves its point; no move enters a point of ``banned``.

    Breadth first over points: ``u`` enters a point ``q`` in reach, which then overflows by
    ``need``; the lightest building of ``q`` weighing at least ``need`` moves on to each point
    in its reach, and so on, each point entered once, until a point takes its newcomer
    without overflowing. Long chains cost walking, which the neighbourhood search then wins
    back; unlike :func:`_chain` the search is linear in the buildings it looks at.
    """
    inst = st.inst
    w_u = inst.w[u]
    # point -> (previous point, building that entered it, overflow once it has entered)
    parent: dict[int, tuple[int, int, int]] = {}
    queue: deque[int] = deque()

    def path(q: int) -> list[tuple[int, int]]:
        moves = []
        while q >= 0:
            prev, k, _need = parent[q]
            moves.append((k, q))
            q = prev
        return moves[::-1]

    here = st.assign[u]
    for q, _d in sorted(zip(inst.reach[u], inst.dist[u], strict=True), key=lambda x: (x[1], x[0])):
        if q == here or q in banned:
            continue
        need = st.load[q] + w_u - inst.cap[q]
        parent[q] = (-1, u, need)
        if need <= 0:
            return path(q)
        queue.append(q)
    while queue:
        q = queue.popleft()
        _prev, entered, need = parent[q]
        for wk, k in sorted((inst.w[k], k) for k in st.at[q]):
            if wk < need or k == entered:
                continue
            for r in inst.reach[k]:
                if r in parent or r in banned or r == here:
                    continue
                new_need = st.load[r] + wk - inst.cap[r]
                parent[r] = (q, k, new_need)
                if new_need <= 0:
                    return path(r)
                queue.append(r)
    return None


def _chain(st: _State, i: int, depth: int, used: frozenset[int] = frozenset(),
           ) -> tuple[int, list[tuple[int, int]]] | None:
    """Cheapest ejection chain placing building ``i`` (unserved or moving): ``i`` goes to a
    point ``q`` in reach; if ``q`` overflows, one building of ``q`` at least as large as the
    overflow moves on, and so on, at most ``depth`` moves, through distinct points, each
    level trying its :data:`CHAIN_BRANCH` cheapest moves. Returns (Δ person-metres, moves) or
    ``None``."""
    inst = st.inst
    w = inst.w[i]
    j = st.assign[i]
    d_old = st.d(i, j) if j >= 0 else 0
    opts = sorted((w * (dq - d_old), q) for q, dq in zip(inst.reach[i], inst.dist[i], strict=True)
                  if q != j and q not in used)
    best: tuple[int, list[tuple[int, int]]] | None = None
    branches = 0
    for cost, q in opts:
        over = st.load[q] + w - inst.cap[q]
        if over <= 0:
            cand = (cost, [(i, q)])
        elif depth > 1 and branches < CHAIN_BRANCH:
            cand = None
            for k in sorted(st.at[q], key=lambda k: (inst.w[k], k)):
                if inst.w[k] < over or k == i:
                    continue
                branches += 1
                sub = _chain(st, k, depth - 1, used | {q} | ({j} if j >= 0 else set()))
                if sub is not None and (cand is None or cost + sub[0] < cand[0]):
                    cand = (cost + sub[0], [(i, q), *sub[1]])
                if branches >= CHAIN_BRANCH:
                    break
        else:
            cand = None
        if cand is not None and (best is None or cand[0] < best[0]):
            best = cand
    return best


def _two_hop(st: _State, p: int, excess: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """An ejection chain of length two off point ``p``: building ``i`` moves ``p → q`` and
    building ``k`` makes room for it by moving ``q → r`` (``r`` has room for ``k``, and ``q``
    fits after both), cheapest per person of overflow removed; ``None`` if there is none."""
    inst = st.inst
    best: tuple[float, int, int, int, int] | None = None
    for i in sorted(st.at[p]):
        wi = inst.w[i]
        if wi == 0:
            continue
        dp = st.d(i, p)
        for q, dq in zip(inst.reach[i], inst.dist[i], strict=True):
            if q == p:
                continue
            need = st.load[q] + wi - inst.cap[q]  # > 0: no direct move fitted
            for k in sorted(st.at[q]):
                wk = inst.w[k]
                if wk < need or k == i:
                    continue
                dkq = st.d(k, q)
                for r, dr in zip(inst.reach[k], inst.dist[k], strict=True):
                    if r in (q, p) or st.load[r] + wk > inst.cap[r]:
                        continue
                    cost = wi * (dq - dp) + wk * (dr - dkq)
                    key = (cost / min(wi, excess), i, q, k, r)
                    if best is None or key < best:
                        best = key
    if best is None:
        return None
    _, i, q, k, r = best
    return (i, q), (k, r)


def _neighbours(inst: GapInstance) -> list[list[int]]:
    """For each point, the points sharing a building in reach, nearest first."""
    adj: list[set[int]] = [set() for _ in inst.cap]
    for r in inst.reach:
        for a in r:
            adj[a].update(r)
    out = []
    for p, nbrs in enumerate(adj):
        lon, lat = inst.xy[p]
        others = sorted((haversine_m(lon, lat, *inst.xy[q]), q) for q in nbrs if q != p)
        out.append([q for _, q in others])
    return out


def _serve_neighbourhood(st: _State, i: int, neighbours: list[list[int]]) -> list[int]:
    """Points opened to serve building ``i``: its points in reach, then breadth first over
    neighbouring points (nearest first) until a point with room for ``i`` is included — the
    end of an ejection chain — and at least :data:`NEIGHBOURHOOD_POINTS` are open, at most
    :data:`SERVE_MAX_POINTS`."""
    inst = st.inst
    w = inst.w[i]
    out = list(inst.reach[i])
    seen = set(out)
    room_found = any(inst.cap[q] - st.load[q] >= w for q in out)
    k = 0
    while k < len(out) and len(out) < SERVE_MAX_POINTS and (
            not room_found or len(out) < NEIGHBOURHOOD_POINTS):
        for q in neighbours[out[k]]:
            if q not in seen:
                seen.add(q)
                out.append(q)
                room_found = room_found or inst.cap[q] - st.load[q] >= w
                if len(out) >= SERVE_MAX_POINTS or (room_found
                                                    and len(out) >= NEIGHBOURHOOD_POINTS):
                    break
        k += 1
    return out


def _solve_free(st: _State, free: Sequence[int], det_time: float, wall_s: float,
                ) -> tuple[bool, bool]:
    """Re-assign ``free`` buildings optimally (CP-SAT), the rest fixed.

    When every free building is served, each keeps exactly one point and the walking alone is
    minimised. Otherwise the objective is lexicographic — most people served, then least
    walking — as one weighted sum whose weight ``M`` exceeds any walking the neighbourhood can
    change (``M = Σ w · max d + 1``), which is exact. The answer is taken only when it is
    lexicographically better than the current plan, which is also the hint.

    Returns (improved, proven optimal for the neighbourhood).
    """
    from ortools.sat.python import cp_model

    t_start = time.monotonic()
    inst = st.inst
    free_set = set(free)
    room = {}
    for i in free:
        for q in inst.reach[i]:
            if q not in room:
                room[q] = inst.cap[q] - st.load[q] + sum(
                    inst.w[k] for k in st.at[q] if k in free_set)
    all_served = all(st.assign[i] >= 0 for i in free)
    total_w = sum(inst.w[i] for i in free)
    max_d = max((max(d) for i in free for d in [inst.dist[i]] if d), default=0)
    big = 0 if all_served else total_w * max_d + 1
    m = cp_model.CpModel()
    y: dict[tuple[int, int], cp_model.IntVar] = {}
    by_point: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    terms: list[tuple[int, cp_model.IntVar]] = []
    cur_served = cur_walk = 0
    for i in free:
        w = inst.w[i]
        vs = []
        for q, dq in zip(inst.reach[i], inst.dist[i], strict=True):
            if w > room[q]:
                continue
            v = m.new_bool_var(f"y[{i},{q}]")
            y[i, q] = v
            vs.append(v)
            by_point[q].append((w, v))
            terms.append((w * dq - big * w, v))
            m.add_hint(v, st.assign[i] == q)
        if all_served:
            m.add_exactly_one(vs)
        elif len(vs) > 1:
            m.add_at_most_one(vs)
        j = st.assign[i]
        if j >= 0:
            cur_served += w
            cur_walk += w * st.d(i, j)
    for q, lst in by_point.items():
        if sum(w for w, _ in lst) > room[q]:
            m.add(sum(w * v for w, v in lst) <= room[q])
    if not y:
        return False, True
    m.minimize(sum(c * v for c, v in terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = RANDOM_SEED
    solver.parameters.max_deterministic_time = det_time
    solver.parameters.max_time_in_seconds = max(0.01, wall_s)
    status = solver.solve(m)
    st.det_used += solver.deterministic_time
    if status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
        raise SolverError(f"CP-SAT returned {solver.status_name(status)} on a sampling "
                          "neighbourhood that the current plan satisfies (please report this)")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False, False
    proven = status == cp_model.OPTIMAL
    new = {i: -1 for i in free}
    for (i, q), v in y.items():
        if solver.boolean_value(v):
            new[i] = q
    new_served = sum(inst.w[i] for i in free if new[i] >= 0)
    new_walk = sum(inst.w[i] * st.d(i, new[i]) for i in free if new[i] >= 0)
    if (new_served, -new_walk) <= (cur_served, -cur_walk):
        return False, proven
    st.clock += 1
    for i in free:  # leave first, then enter, so loads never count a building twice
        if new[i] != st.assign[i]:
            st.move(i, -1)
    for i in free:
        if new[i] >= 0:
            st.move(i, new[i])
    if not all_served and new_served > cur_served:
        # serving more at a fixed weight leaves the walking barely optimised: re-optimise the
        # walking of the buildings now served, each kept on exactly one point
        _solve_free(st, [i for i in free if st.assign[i] >= 0], det_time,
                    wall_s - (time.monotonic() - t_start))
    return True, proven


def solve_gap(inst: GapInstance, deadline: float, *, gap_limit: float = 0.0,
              det_budget: float = math.inf, lp: TransportBound | None = None) -> GapSolution:
    """Bound, round, repair and improve; see the module docstring.

    Parameters
    ----------
    inst : GapInstance
    deadline : float
        ``time.monotonic()`` instant after which no further neighbourhood is started.
    gap_limit : float, default 0
        Stop improving once the plan serves as many people as the relaxation and walks at
        most ``(1 + gap_limit) ×`` its bound.
    det_budget : float, default inf
        CP-SAT deterministic time (summed over neighbourhoods) after which no further
        neighbourhood is started: the stopping rule that keeps results independent of the
        machine's speed (``deadline`` is only the safety cap).
    lp : TransportBound, optional
        The relaxation when already solved.
    """
    lp = transport_bound(inst) if lp is None else lp
    st = _State(inst, _round(inst, lp))
    touched = _repair(st)
    nb = len(inst.w)
    log.debug("sampling GAP: rounded and repaired: served %d/%d, walk %d (bound %d)",
              st.served(), lp.served, st.walk(), lp.walk)

    def good_enough() -> bool:
        return st.served() == lp.served and st.walk() <= lp.walk * (1 + gap_limit)

    n_nbh = improved = passes = 0
    proven = st.served() == lp.served and st.walk() == lp.walk
    if not proven and nb <= EXACT_MAX_BUILDINGS and deadline - time.monotonic() > 0.05:
        # small: the whole model at once, hinted with the repaired plan
        n_nbh += 1
        better, proven = _solve_free(st, list(range(nb)), EXACT_DET_TIME,
                                     deadline - time.monotonic())
        improved += better
    if not proven and not good_enough():
        neighbours = _neighbours(inst)
        out_of_time = False

        def visit(nbh: list[int], det_time: float) -> bool:
            nonlocal n_nbh, out_of_time
            if time.monotonic() > deadline or st.det_used >= det_budget:
                if not out_of_time:
                    log.info("sampling LNS: %s after %d neighbourhoods",
                             "work budget spent" if st.det_used >= det_budget
                             else "time limit", n_nbh)
                out_of_time = True
                return False
            nbh_set = set(nbh)
            free = sorted({i for q in nbh for i in st.at[q]}
                          | {i for i, j in enumerate(st.assign)
                             if j < 0 and not nbh_set.isdisjoint(inst.reach[i])})
            n_nbh += 1
            t0 = time.monotonic()
            better, opt = _solve_free(st, free, det_time, deadline - time.monotonic())
            log.debug("neighbourhood %s: %d buildings (%d unserved), %.3f s, improved %s, "
                      "optimal %s", nbh[0], len(free), sum(st.assign[i] < 0 for i in free),
                      time.monotonic() - t0, better, opt)
            return better

        # 1. serve: around each unserved building (id order), its points in reach and the
        #    nearest neighbours of its nearest one
        for i in range(nb):
            if st.assign[i] >= 0 or not inst.reach[i] or out_of_time:
                continue
            improved += visit(_serve_neighbourhood(st, i, neighbours), SERVE_DET_TIME)
        log.debug("sampling LNS: serving done after %d neighbourhoods: served %d, walk %d",
                  n_nbh, st.served(), st.walk())
        # 2. improve: around the points the relaxation saturates or the repair and the serving
        #    touched, each seed again only when something near it has changed since
        saturated = {p for p, (ld, c) in enumerate(zip(lp.point_load, inst.cap, strict=True))
                     if c > 0 and ld >= c}
        seeds = sorted(saturated | touched | {p for p, c in enumerate(st.changed) if c > 0})
        visited = dict.fromkeys(seeds, -1)  # clock at the seed's last visit
        for passes in range(1, MAX_PASSES + 1):
            if out_of_time or good_enough():
                break
            gain = 0
            for p in seeds:
                nbh = [p, *neighbours[p][:NEIGHBOURHOOD_POINTS - 1]]
                if max(st.changed[q] for q in nbh) <= visited[p]:
                    continue  # nothing changed around p since its last visit
                visited[p] = st.clock
                better = visit(nbh, NEIGHBOURHOOD_DET_TIME)
                if out_of_time:
                    break
                gain += better
                if better and good_enough():
                    break
            improved += gain
            log.debug("sampling LNS pass %d: %d improved, served %d, walk %d (bound %d)",
                      passes, gain, st.served(), st.walk(), lp.walk)
            if not gain:
                break
    served, walk = st.served(), st.walk()
    if served == lp.served and walk == lp.walk:
        proven = True
    log.info("sampling GAP: served %d/%d, walk %d (bound %d, gap %.4f %%), %d neighbourhoods, "
             "%d improved, %d passes, %.1f deterministic s", served, lp.served, walk, lp.walk,
             100 * (walk - lp.walk) / lp.walk if lp.walk else 0.0, n_nbh, improved, passes,
             st.det_used)
    return GapSolution(st.assign, served, walk, proven, n_nbh, improved, passes, lp)


def gap_instance(w: list[int], reach: list[list[int]], dist: list[list[int]], cap: list[int],
                 xy: list[tuple[float, float]]) -> GapInstance:
    """Build a :class:`GapInstance`, checking shapes."""
    if not (len(w) == len(reach) == len(dist)) or len(cap) != len(xy):
        raise ValueError("gap_instance: inconsistent lengths")
    for r, d in zip(reach, dist, strict=True):
        if len(r) != len(d):
            raise ValueError("gap_instance: reach and dist differ in length")
    if any(x < 0 for x in w) or any(c < 0 for c in cap):
        raise ValueError("gap_instance: negative weight or capacity")
    return GapInstance(w, reach, dist, cap, xy)
