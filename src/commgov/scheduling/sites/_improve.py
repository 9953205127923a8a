"""Local search on a site plan: serve more, then drop lanes, then shorten walks (private).

The starting plan of the CP-SAT method at any scale, and at district scale most of its
quality: three moves that never break a rule.

* *Ejection* (served): a building left out because its sites are full goes to a site in
  reach once one of that site's buildings moves to another site with room (no lane added).
* *Lane removal* (staff-minutes): a site sheds one lane when enough of its buildings move to
  other sites with room at their present lanes; a site with one lane that sheds it closes.
  Staff only goes down, so the pool keeps.
* *Nearer site* (walking): a building moves to a nearer site with room at its lanes.

Each pass visits sites and buildings in index order; the passes repeat until nothing changes
or ``stop()`` says so. Deterministic.
"""

from __future__ import annotations

from collections.abc import Callable

from commgov.scheduling.sites._data import SitesData
from commgov.scheduling.sites._plan import _Load

__all__ = ["improve"]

_MAX_PASSES = 50


class _State:
    def __init__(self, data: SitesData, assign: dict[int, int]) -> None:
        self.data = data
        self.assign = dict(assign)
        self.load = _Load(data, self.assign)
        self.members: list[set[int]] = [set() for _ in range(data.n_sites)]
        for b, s in self.assign.items():
            self.members[s].add(b)
        self.walk = {b: dict(pairs) for b, pairs in data.reach.items()}

    def room(self, s: int) -> int:
        """Residents site ``s`` takes more at its present lanes."""
        lanes = self.load.lanes[s]
        return self.data.caps[s][lanes] - self.load.res[s] if lanes else 0

    def move(self, b: int, to: int | None) -> None:
        """Move ``b`` (its site's lanes kept) to ``to`` (``None``: unassign)."""
        r = self.data.residents(b)
        old = self.assign.pop(b, None)
        if old is not None:
            self.members[old].discard(b)
            self.load.res[old] -= r
        if to is not None:
            self.assign[b] = to
            self.members[to].add(b)
            self.load.res[to] += r

    def relane(self, s: int) -> None:
        lanes = self.data.lanes_for(s, self.load.res[s]) or 0
        if lanes < self.load.lanes[s]:
            self.load.move(s, 0, lanes)


def _eject(st: _State, b: int) -> bool:
    """Serve ``b`` at a site in reach by moving one of that site's buildings away."""
    data = st.data
    r_b = data.residents(b)
    for s, _w in data.reach[b]:
        if not st.load.lanes[s]:
            continue
        need = r_b - st.room(s)
        if need <= 0:
            st.move(b, s)
            return True
        for b2 in sorted(st.members[s]):
            r2 = data.residents(b2)
            if r2 < need:
                continue
            for s2, _w2 in data.reach[b2]:
                if s2 == s:
                    continue
                if st.load.lanes[s2] and st.room(s2) >= r2:
                    st.move(b2, s2)
                    st.move(b, s)
                    return True
                # or with more lanes there, when the pool allows them
                lanes = data.lanes_for(s2, st.load.res[s2] + r2)
                if lanes is not None and st.load.fits(s2, lanes):
                    st.move(b2, s2)
                    st.load.move(s2, 0, lanes)
                    st.move(b, s)
                    return True
    return False


def _drop_lane(st: _State, s: int) -> bool:
    """Move buildings out of ``s`` until it needs one lane fewer; ``False`` (nothing moved)
    when the others have no room for enough of them, even with one more lane at one of
    them that costs less than the lane saved (pooling: a lane at a larger site takes more
    residents)."""
    if _drop_lane_with(st, s, None):
        return True
    data = st.data
    lanes = st.load.lanes[s]
    saved = data.staff_minutes(s, lanes) - data.staff_minutes(s, lanes - 1)
    near = sorted({s2 for b in st.members[s] for s2, _w in data.reach[b]} - {s})
    best: tuple[int, int] | None = None
    for s2 in near:
        l2 = st.load.lanes[s2]
        if not l2 or l2 + 1 >= len(data.caps[s2]) or not st.load.fits(s2, l2 + 1):
            continue
        extra = data.staff_minutes(s2, l2 + 1) - data.staff_minutes(s2, l2)
        if extra < saved and (best is None or (extra, s2) < best):
            best = (extra, s2)
    if best is None:
        return False
    return _drop_lane_with(st, s, best[1])


def _drop_lane_with(st: _State, s: int, grow: int | None) -> bool:
    """:func:`_drop_lane` with site ``grow`` (if any) given one more lane first."""
    data = st.data
    lanes = st.load.lanes[s]
    excess = st.load.res[s] - data.caps[s][lanes - 1]
    if excess <= 0:
        st.relane(s)
        return True
    room: dict[int, int] = {}
    if grow is not None:
        room[grow] = data.caps[grow][st.load.lanes[grow] + 1] - st.load.res[grow]
    plan: list[tuple[int, int]] = []
    moved = 0
    # cheapest walk increase per resident first
    cands = []
    for b in st.members[s]:
        w = st.walk[b][s]
        for s2, w2 in data.reach[b]:
            if s2 != s and st.load.lanes[s2]:
                cands.append(((w2 - w), b, s2))
    cands.sort()
    done: set[int] = set()
    for _dw, b, s2 in cands:
        if b in done:
            continue
        r = data.residents(b)
        left = room.setdefault(s2, st.room(s2))
        if left >= r:
            room[s2] = left - r
            plan.append((b, s2))
            done.add(b)
            moved += r
            if moved >= excess:
                break
    if moved < excess:
        return False
    if grow is not None:
        st.load.move(grow, 0, st.load.lanes[grow] + 1)
    for b, s2 in plan:
        st.move(b, s2)
    st.relane(s)
    if grow is not None:
        st.relane(grow)
    return True


def _nearer(st: _State) -> bool:
    changed = False
    data = st.data
    for b in sorted(st.assign):
        s = st.assign[b]
        r = data.residents(b)
        w = st.walk[b][s]
        for s2, w2 in sorted(data.reach[b], key=lambda p: (p[1], p[0])):
            if w2 >= w:
                break
            if st.load.lanes[s2] and st.room(s2) >= r:
                st.move(b, s2)
                changed = True
                break
    return changed


def improve(
    data: SitesData, assign: dict[int, int], stop: Callable[[], bool] | None = None
) -> dict[int, int]:
    """A plan at least as good as ``assign`` on every tier in order (see the module).

    O(passes · (B·reach + S·members·reach·log)) time; ``stop()`` is asked between moves of
    sites and between passes.
    """
    st = _State(data, assign)
    for _ in range(_MAX_PASSES):
        changed = False
        for b in sorted(set(data.reach) - set(st.assign)):
            if stop is not None and stop():
                return st.assign
            changed |= _eject(st, b)
        # the sites nearest to needing one lane fewer first
        order = sorted(
            (st.load.res[s] - data.caps[s][st.load.lanes[s] - 1], s)
            for s in range(data.n_sites)
            if st.load.lanes[s]
        )
        for _excess, s in order:
            if stop is not None and stop():
                return st.assign
            while st.load.lanes[s] and _drop_lane(st, s):
                changed = True
        if not changed:
            break
    _nearer(st)
    return st.assign
