"""Building-level repair: fit every point's capacity, then serve what is left (private).

The rounded relaxation (:func:`round_flow`: each building whole to the point carrying most of
its flow) may overfill points. Points over capacity shed buildings greedily, the cheapest move
per person of overflow removed first (to a point in reach with room, else a two-move
ejection chain); a building that cannot move is left unserved. Unserved buildings are then
inserted where they fit, else by the cheapest ejection chain of at most :data:`CHAIN_DEPTH`
moves (Glover 1996; Yagiura, Ibaraki & Glover 2004 for the generalized assignment problem),
else by the shortest chain found breadth first, else by emptying room at one of their points
building by building.

References
----------
.. [1] Glover, F. (1996). Ejection chains, reference structures and alternating path methods
   for traveling salesman problems. Discrete Applied Mathematics 65, 223-253.
.. [2] Yagiura, M., Ibaraki, T. & Glover, F. (2004). An ejection chain approach for the
   generalized assignment problem. INFORMS Journal on Computing 16(2), 133-151.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from commgov.scheduling.sampling._bound import GapInstance, TransportBound

#: A stop test: true once the search must stop (deadline passed, or cancelled).
Stop = Callable[[], bool]

#: Longest ejection chain (moves) and branches tried per level when inserting a building.
CHAIN_DEPTH = 4
CHAIN_BRANCH = 8
#: Levels of room-freeing behind one move when serving a building that no chain serves.
MAKE_ROOM_DEPTH = 2
#: Buildings between two stop checks in the repair's greedy insertion loop.
CHECK_EVERY = 256


def _never() -> bool:
    return False


class State:
    """Current assignment with point loads and walking."""

    def __init__(self, inst: GapInstance, assign: list[int]) -> None:
        self.inst = inst
        self.assign = assign
        self.clock = 0  # bumped by every accepted neighbourhood
        self.det_used = 0.0  # CP-SAT deterministic time spent
        self.changed = [0] * len(inst.cap)  # clock of each point's last change
        self.load = [0] * len(inst.cap)
        self.stop: Stop = _never  # the repair's stop test, asked inside every search
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


def round_flow(inst: GapInstance, lp: TransportBound) -> list[int]:
    """Each building whole to the point carrying most of its flow (ties: nearer, then id)."""
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


def repair(st: State, stop: Stop = _never) -> set[int]:
    """Make every point fit its capacity, then insert unserved buildings greedily.

    ``stop()`` is asked before each point and each move off it, every :data:`CHECK_EVERY`
    buildings, before each chain search and inside every search (each level of an ejection
    chain, each point the breadth-first search takes from its queue, each room-making step,
    each building of a two-move chain); once it is true, the search under way gives up (its
    moves undone), points still over capacity shed buildings without further search
    (:func:`_shed`) and no further building is inserted, so the assignment returned always
    fits and the repair ends within one step of ``stop()`` turning true.

    Returns the points whose set of buildings changed.
    """
    inst = st.inst
    st.stop = stop
    touched: set[int] = set()
    stopped = False
    for p in range(len(inst.cap)):
        while not stopped and st.load[p] > inst.cap[p]:
            if stop():
                stopped = True
                break
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
            members = sorted((i for i in st.at[p] if inst.w[i] > 0), key=lambda i: (inst.w[i], i))
            clear = [i for i in members if inst.w[i] >= excess]
            drop = clear[0] if clear else members[-1]
            st.move(drop, -1)
            touched.add(p)
        if stopped:
            touched.update(_shed(st, p))
    if stopped:
        return touched
    for i in range(len(inst.w)):
        if i % CHECK_EVERY == 0 and stop():
            return touched
        if st.assign[i] < 0 and inst.reach[i]:
            w = inst.w[i]
            for q, _dq in sorted(
                zip(inst.reach[i], inst.dist[i], strict=True), key=lambda x: (x[1], x[0])
            ):
                if st.load[q] + w <= inst.cap[q]:
                    st.move(i, q)
                    touched.add(q)
                    break
    # what still does not fit: the cheapest short ejection chain, else the shortest long one
    # (largest buildings first)
    for i in sorted(
        (i for i in range(len(inst.w)) if st.assign[i] < 0 and inst.reach[i]),
        key=lambda i: (-inst.w[i], i),
    ):
        if stop():  # each chain or room-making may search long
            return touched
        found = _chain(st, i, CHAIN_DEPTH)
        moves = found[1] if found is not None else _bfs_chain(st, i)
        if stop():  # a search cut short returns nothing: take nothing from it
            return touched
        for k, q in moves or []:
            st.move(k, q)
            touched.add(q)
        if moves is None:
            touched.update(_make_room_and_serve(st, i))
    return touched


def _shed(st: State, p: int) -> set[int]:
    """Leave out the lightest buildings of point ``p`` until it fits (the stopped repair)."""
    inst = st.inst
    touched: set[int] = set()
    for i in sorted(st.at[p], key=lambda i: (inst.w[i], i)):
        if st.load[p] <= inst.cap[p]:
            break
        if inst.w[i] > 0:
            st.move(i, -1)
            touched.add(p)
    return touched


def _make_room_and_serve(st: State, u: int) -> set[int]:
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
        if st.stop():
            return set()
        moves: list[tuple[int, int]] = []  # (building, previous point), to undo
        if _free_room(
            st, q, st.load[q] + w_u - inst.cap[q], frozenset(), MAKE_ROOM_DEPTH, moves, chains=True
        ):
            st.move(u, q)
            return {q, *(st.assign[b] for b, _ in moves), *(p for _, p in moves if p >= 0)}
    return set()


def _undo(st: State, moves: list[tuple[int, int]], mark: int) -> None:
    while len(moves) > mark:
        b, prev = moves.pop()
        st.move(b, prev)


def _free_room(
    st: State,
    q: int,
    need: int,
    banned: frozenset[int],
    depth: int,
    moves: list[tuple[int, int]],
    *,
    chains: bool = False,
) -> bool:
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
        if freed >= need or st.stop():
            break
        if inst.w[k] > 0 and _relocate(st, k, closed, depth, moves, chains=chains):
            freed += inst.w[k]
    if freed >= need:
        return True
    _undo(st, moves, mark)
    return False


def _relocate(
    st: State,
    k: int,
    banned: frozenset[int],
    depth: int,
    moves: list[tuple[int, int]],
    *,
    chains: bool,
) -> bool:
    """Move building ``k`` to another point in reach outside ``banned``: directly (nearest
    point with room), else (``chains``) by a shortest ejection chain, else by freeing room at
    one of its two nearest points (``depth`` > 0)."""
    inst = st.inst
    w = inst.w[k]
    here = st.assign[k]
    opts = sorted(
        (d, r)
        for r, d in zip(inst.reach[k], inst.dist[k], strict=True)
        if r != here and r not in banned
    )
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


def _bfs_chain(
    st: State,
    u: int,
    banned: frozenset[int] = frozenset(),
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
        if st.stop():
            return None
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


def _chain(
    st: State,
    i: int,
    depth: int,
    used: frozenset[int] = frozenset(),
) -> tuple[int, list[tuple[int, int]]] | None:
    """Cheapest ejection chain placing building ``i`` (unserved or moving): ``i`` goes to a
    point ``q`` in reach; if ``q`` overflows, one building of ``q`` at least as large as the
    overflow moves on, and so on, at most ``depth`` moves, through distinct points, each
    level trying its :data:`CHAIN_BRANCH` cheapest moves. Returns (Δ person-metres, moves) or
    ``None`` (also once ``st.stop()`` is true)."""
    if st.stop():
        return None
    inst = st.inst
    w = inst.w[i]
    j = st.assign[i]
    d_old = st.d(i, j) if j >= 0 else 0
    opts = sorted(
        (w * (dq - d_old), q)
        for q, dq in zip(inst.reach[i], inst.dist[i], strict=True)
        if q != j and q not in used
    )
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


def _two_hop(st: State, p: int, excess: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """An ejection chain of length two off point ``p``: building ``i`` moves ``p → q`` and
    building ``k`` makes room for it by moving ``q → r`` (``r`` has room for ``k``, and ``q``
    fits after both), cheapest per person of overflow removed; ``None`` if there is none."""
    inst = st.inst
    best: tuple[float, int, int, int, int] | None = None
    for i in sorted(st.at[p]):
        wi = inst.w[i]
        if wi == 0:
            continue
        if st.stop():
            return None
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
