"""Bulk, exact pair finding for the matching verifier (private; no solver code).

For each unmatched task the reason checks need the volunteers that are skilled, in scope and
within reach. :class:`_PairFinder` finds them once for all such tasks: per skill, volunteers
sorted by latitude, a conservative latitude band (great-circle distance is at least
``R·|Δφ|``), and vectorised haversine distances rounded as :func:`travel_distance_m` rounds
them, recomputed with :func:`travel_distance_m` itself wherever a last-bit difference between
numpy's and libm's functions could change the rounded metre. Availability and scope come from
the public predicates themselves. The solvers' own pair list (``_pairs.py``) is not used.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any, NamedTuple

from commgov.matching.volunteers._problem import SCOPE_ORDER, MatchingProblem, Task, Volunteer
from commgov.matching.volunteers._rules import (
    is_available,
    scope_level,
    task_day,
    travel_distance_m,
)
from commgov.types import EARTH_RADIUS_M


def _num_eq(a: object, b: float) -> bool:
    return isinstance(a, int | float) and not isinstance(a, bool) and float(a) == float(b)


def _int_eq(a: object, b: int) -> bool:
    return isinstance(a, int) and not isinstance(a, bool) and a == b


_NO_SCOPE = -1
_RANK = {level: i for i, level in enumerate(SCOPE_ORDER)}


def _rank(task: Task, vol: Volunteer) -> int:
    """Rank of :func:`scope_level` in :data:`SCOPE_ORDER`, ``-1`` when out of scope."""
    level = scope_level(task, vol)
    return _NO_SCOPE if level is None else _RANK[level]


class _Pairs(NamedTuple):
    """Pairs found by :class:`_PairFinder`, sorted by task index then volunteer index."""

    t: Any  # task index (into the id-sorted task list)
    v: Any  # volunteer index (into the id-sorted volunteer list)
    d: Any  # exact travel_distance_m
    rank: Any  # scope rank
    avail: Any  # is_available


class _PairFinder:
    """Skilled, in-scope volunteers within reach of tasks, found in bulk and exactly.

    A pair (task, volunteer) is *in reach* when :func:`has_skill`, :func:`scope_level` is not
    ``None`` and :func:`travel_distance_m` ≤ ``max_distance_m``; it is *eligible* when, in
    addition, :func:`is_available`. :meth:`pairs` returns every in-reach pair of the given
    tasks with its exact distance, scope rank and availability:

    * skill: a volunteer's level is read from its ``skills`` dict and compared with
      ``min_level`` as :func:`has_skill` does (volunteers without the skill are not listed);
    * distance: candidates lie in a latitude band of half-width ``(limit + 2 m)/(R·detour)``
      around the task (the great-circle distance is at least ``R·|Δφ|``, so nothing outside
      can be within the limit); their haversine distance is computed with numpy by the formula
      of :func:`commgov.types.haversine_m` and rounded half up as :func:`travel_distance_m`
      does; wherever the unrounded value lies within 1e-6 m (plus 1e-12 relative) of a
      rounding boundary, where numpy's and libm's last bits could round differently, the
      distance is recomputed with :func:`travel_distance_m` — so every distance is exact;
    * availability: :func:`is_available` itself, once per (volunteer, slot) — it depends on the
      task only through its window;
    * scope: :func:`scope_level` itself, per pair, or once per volunteer for a set of tasks
      sharing the same ``(building_id, compound_id, community_id)`` (the only task fields it
      reads) when that is cheaper.
    """

    def __init__(self, problem: MatchingProblem) -> None:
        import numpy as np

        self.np = np
        self.problem = problem
        self.tasks = sorted(problem.tasks, key=lambda t: t.id)
        self.vols = sorted(problem.volunteers, key=lambda v: v.id)
        self.t_index = {t.id: i for i, t in enumerate(self.tasks)}
        self.v_index = {v.id: i for i, v in enumerate(self.vols)}
        self.limit = problem.max_distance_m
        self.detour = problem.detour_factor
        slot_ix: dict[tuple[datetime, datetime], int] = {}
        rep: list[Task] = []
        t_slot: list[int] = []
        for t in self.tasks:
            key = (t.window.start, t.window.end)
            si = slot_ix.get(key)
            if si is None:
                si = slot_ix[key] = len(rep)
                rep.append(t)
            t_slot.append(si)
        locs = [t.location for t in self.tasks]
        lat = [loc.lat for loc in locs]
        lon = [loc.lon for loc in locs]
        lvl = [t.min_level for t in self.tasks]
        key_code: dict[tuple[str | None, str | None, str | None], int] = {}
        codes = [
            key_code.setdefault((t.building_id, t.compound_id, t.community_id), len(key_code))
            for t in self.tasks
        ]
        self.slot_rep = rep
        self.t_slot = np.array(t_slot, dtype=np.int64)
        day_ix: dict[date, int] = {}
        slot_day = []
        for t in rep:
            slot_day.append(day_ix.setdefault(task_day(problem, t), len(day_ix)))
        self.days = list(day_ix)
        self.slot_day = np.array(slot_day, dtype=np.int64)
        self.t_day = self.slot_day[self.t_slot] if len(t_slot) else np.zeros(0, np.int64)
        self.t_lat = np.array(lat, dtype=np.float64)
        self.t_lon = np.array(lon, dtype=np.float64)
        self.t_lvl = np.array(lvl, dtype=np.int64)
        self.v_lat = np.array([v.location.lat for v in self.vols], dtype=np.float64)
        self.v_lon = np.array([v.location.lon for v in self.vols], dtype=np.float64)
        self._avail: Any = None
        by_skill: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
        for vi, vol in enumerate(self.vols):
            for skill, level in vol.skills.items():
                by_skill[skill].append((vol.location.lat, vi, level))
        self.skill_arrays: dict[str, tuple[Any, Any, Any, Any, Any, Any]] = {}
        for skill, rows in by_skill.items():
            rows.sort()
            self.skill_arrays[skill] = (
                np.array([r[0] for r in rows], dtype=np.float64),  # latitude, degrees
                np.array([r[1] for r in rows], dtype=np.int64),  # volunteer index
                np.array([r[2] for r in rows], dtype=np.int64),  # level
                np.radians([r[0] for r in rows]),
                np.radians([self.vols[r[1]].location.lon for r in rows]),
                np.array([self.vols[r[1]].location.lon for r in rows], dtype=np.float64),
            )
        self._scope_masks: dict[tuple[str | None, str | None, str | None], Any] = {}
        self._key_uses: Counter[tuple[str | None, str | None, str | None]] = Counter()
        self.t_key = np.array(codes, dtype=np.int64)

    @property
    def avail(self) -> Any:
        """Boolean (volunteer, slot): :func:`is_available` of the slot's window.

        The predicate reads only the volunteer's ``availability``: it is called once per slot
        and distinct list of availability windows, on the first volunteer having that list.
        """
        if self._avail is None:
            np = self.np
            pattern: dict[tuple[tuple[datetime, datetime], ...], int] = {}
            first: list[Volunteer] = []
            of_vol = np.empty(len(self.vols), dtype=np.int64)
            for vi, vol in enumerate(self.vols):
                key = tuple((w.start, w.end) for w in vol.availability)
                k = pattern.get(key)
                if k is None:
                    k = pattern[key] = len(first)
                    first.append(vol)
                of_vol[vi] = k
            table = np.array(
                [[is_available(rep, vol) for rep in self.slot_rep] for vol in first],
                dtype=bool,
            ).reshape(len(first), len(self.slot_rep))
            self._avail = table[of_vol]
        return self._avail

    def _ranks_for_key(self, task: Task) -> Any:
        key = (task.building_id, task.compound_id, task.community_id)
        ranks = self._scope_masks.get(key)
        if ranks is None:
            ranks = self.np.array([_rank(task, v) for v in self.vols], dtype=self.np.int64)
            self._scope_masks[key] = ranks
        return ranks

    def _distances(
        self,
        tt: Any,
        vv: Any,
        p1: Any,
        l1: Any,
        p2: Any,
        l2: Any,
        c1: Any = None,
        c2: Any = None,
    ) -> Any:
        """Exact :func:`travel_distance_m` of pairs, vectorised with exact recheck
        (``c1``, ``c2``: ``cos(p1)``, ``cos(p2)`` when already known)."""
        np = self.np
        if c1 is None:
            c1 = np.cos(p1)
        if c2 is None:
            c2 = np.cos(p2)
        h = np.sin((p2 - p1) / 2) ** 2 + c1 * c2 * np.sin((l2 - l1) / 2) ** 2
        x = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) * self.detour + 0.5
        d = np.floor(x)
        frac = x - d
        unsure = np.nonzero((np.minimum(frac, 1.0 - frac) <= 1e-6 + 1e-12 * x) | ~np.isfinite(x))
        out = d.astype(np.int64)
        for k in unsure[0].tolist():
            out[k] = travel_distance_m(self.tasks[int(tt[k])], self.vols[int(vv[k])], self.detour)
        return out

    def pairs(
        self, task_indices: list[int], *, available_only: bool = False, ordered: bool = True
    ) -> _Pairs:
        """Every in-reach pair of the given tasks (only the available ones if asked), in
        (task, volunteer) order — or, with ``ordered=False``, each task's pairs in volunteer
        order but the tasks in no particular order (no reordering pass).

        Tasks of a skill are cut into blocks of nearby tasks (latitude strips, then longitude).
        A block's candidates are the skilled volunteers in its latitude band and its longitude
        band; the longitude half-width ``L`` is the least ``|Δλ|`` at which
        ``hav(θ) ≥ cos φ₁ cos φ₂ hav(Δλ) ≥ cos²φ_max · hav(Δλ)`` already puts the great-circle
        distance beyond ``(limit + 2 m)/detour``: ``L = 2·asin(sin((limit + 2)/(2R·detour)) /
        cos φ_max)``, with ``φ_max`` the largest latitude magnitude in the band. The longitude
        band is skipped (all volunteers of the latitude band kept) near the poles or when it
        would cross the ±180° meridian.
        """
        np = self.np
        lim = self.limit
        tasks = self.tasks
        reach_rad = (lim + 2.0) / (EARTH_RADIUS_M * self.detour)
        half = math.degrees(reach_rad)
        by_skill: dict[str, list[int]] = defaultdict(list)
        for ti in sorted(set(task_indices)):
            by_skill[tasks[ti].skill].append(ti)
        avail = self.avail
        t_slot = self.t_slot
        outs: list[tuple[Any, Any, Any]] = []
        for skill in sorted(by_skill):
            if skill not in self.skill_arrays:
                continue
            v_lat, v_idx, v_level, v_plat, v_plon, v_lon = self.skill_arrays[skill]
            v_cos = np.cos(v_plat)
            tis = np.array(by_skill[skill], dtype=np.int64)
            strip = np.floor(self.t_lat[tis] / half)
            tis = tis[np.lexsort((tis, self.t_lon[tis], strip))]
            t_lat, t_lon, t_lvl = self.t_lat[tis], self.t_lon[tis], self.t_lvl[tis]
            t_plat, t_plon = np.radians(t_lat), np.radians(t_lon)
            t_cos = np.cos(t_plat)
            block = 64
            for b0 in range(0, len(tis), block):
                sl = slice(b0, b0 + block)
                lat_lo, lat_hi = float(t_lat[sl].min()) - half, float(t_lat[sl].max()) + half
                lo = int(np.searchsorted(v_lat, lat_lo, side="left"))
                hi = int(np.searchsorted(v_lat, lat_hi, side="right"))
                if lo >= hi:
                    continue
                cand = np.arange(lo, hi, dtype=np.int64)
                lon_cut = False
                phi_max = max(abs(lat_lo), abs(lat_hi))
                if phi_max < 89.0:
                    arg = math.sin(reach_rad / 2) / math.cos(math.radians(phi_max))
                    if arg < 1.0:
                        lon_half = math.degrees(2 * math.asin(arg))
                        lon_lo = float(t_lon[sl].min()) - lon_half
                        lon_hi = float(t_lon[sl].max()) + lon_half
                        if lon_half < 180.0 and lon_lo >= -180.0 and lon_hi <= 180.0:
                            cand = cand[(v_lon[cand] >= lon_lo) & (v_lon[cand] <= lon_hi)]
                            lon_cut = True
                if len(cand) == 0:
                    continue
                # in volunteer index order, so each task's pairs come out sorted
                cand = cand[np.argsort(v_idx[cand], kind="stable")]
                ok = v_level[cand][None, :] >= t_lvl[sl][:, None]
                if available_only:
                    ok &= avail[v_idx[cand]][:, t_slot[tis[sl]]].T
                # the latitude band per pair (and the longitude band when cut), before any
                # distance is computed
                ok &= np.abs(v_lat[cand][None, :] - t_lat[sl][:, None]) <= half
                if lon_cut:
                    ok &= np.abs(v_lon[cand][None, :] - t_lon[sl][:, None]) <= lon_half
                r, c = np.nonzero(ok)
                if len(r) == 0:
                    continue
                r = r + b0
                c = cand[c]
                tt, vv = tis[r], v_idx[c]
                d = self._distances(
                    tt, vv, t_plat[r], t_plon[r], v_plat[c], v_plon[c], t_cos[r], v_cos[c]
                )
                keep = d <= lim
                outs.append((tt[keep], vv[keep], d[keep]))
        if not outs:
            z = np.zeros(0, dtype=np.int64)
            return _Pairs(z, z, z, z, np.zeros(0, dtype=bool))
        if ordered:
            pt, pv, pd = _task_order(*([o[k] for o in outs] for k in range(3)))
        else:
            pt, pv, pd = (np.concatenate([o[k] for o in outs]) for k in range(3))
        rank = self._scope_ranks(pt, pv)
        keep = rank != _NO_SCOPE
        if not keep.all():
            pt, pv, pd, rank = pt[keep], pv[keep], pd[keep], rank[keep]
        if available_only and self.problem.declined and len(pt):
            keep = ~self.declined_mask(pt, pv)  # a declined pair is not eligible
            pt, pv, pd, rank = pt[keep], pv[keep], pd[keep], rank[keep]
        if available_only:  # the listing kept the available pairs only
            avail = np.ones(len(pt), dtype=bool)
        else:
            avail = self.avail[pv, self.t_slot[pt]] if len(pt) else np.zeros(0, dtype=bool)
        return _Pairs(pt, pv, pd, rank, avail)

    def declined_mask(self, pt: Any, pv: Any) -> Any:
        """Whether each (task index, volunteer index) pair is in ``problem.declined``."""
        np = self.np
        n_v = max(len(self.vols), 1)
        codes = np.array(
            [
                self.t_index[a] * n_v + self.v_index[b]
                for a, b in self.problem.declined_pairs
                if a in self.t_index and b in self.v_index
            ],
            dtype=np.int64,
        )
        return np.isin(np.asarray(pt, dtype=np.int64) * n_v + np.asarray(pv), codes)

    def _scope_ranks(self, pt: Any, pv: Any) -> Any:
        """Scope rank of each pair: per pair, or from one per-volunteer array per task key."""
        np = self.np
        tasks, vols = self.tasks, self.vols
        out = np.empty(len(pt), dtype=np.int64)
        codes = self.t_key[pt]
        if len(codes) and codes.min() == codes.max():
            order = np.arange(len(codes))
            bounds = [0, len(codes)]
        else:
            order = np.argsort(codes, kind="stable")
            _, first = np.unique(codes[order], return_index=True)
            bounds = [*first.tolist(), len(order)]
        for j in range(len(bounds) - 1):
            ks = order[bounds[j] : bounds[j + 1]]
            task0 = tasks[int(pt[ks[0]])]
            if len(ks) > len(vols) // 2:
                out[ks] = self._ranks_for_key(task0)[pv[ks]]
            else:
                out[ks] = [_rank(tasks[int(pt[k])], vols[int(pv[k])]) for k in ks.tolist()]
        return out

    def skilled(self, task: Task) -> tuple[Any, Any]:
        """Volunteer indexes with the skill at the level, and their scope ranks (id order)."""
        np = self.np
        arrays = self.skill_arrays.get(task.skill)
        if arrays is None:
            z = np.zeros(0, dtype=np.int64)
            return z, z
        idx = np.sort(arrays[1][arrays[2] >= task.min_level])
        key = (task.building_id, task.compound_id, task.community_id)
        self._key_uses[key] += 1
        if len(idx) > len(self.vols) // 2 or self._key_uses[key] > 2:
            ranks = self._ranks_for_key(task)[idx]
        else:
            ranks = np.array([_rank(task, self.vols[int(i)]) for i in idx], dtype=np.int64)
        return idx, ranks

    def nearest_m(self, task: Task, candidates: Any) -> int:
        """Exact least :func:`travel_distance_m` from ``task`` to the candidate volunteers.

        Approximate distances pick every candidate within 2 m of the approximate minimum
        (numpy's and libm's values differ by far less), then the exact function decides.
        """
        np = self.np
        vols = self.vols
        p1, l1 = math.radians(task.location.lat), math.radians(task.location.lon)
        p2 = np.radians([vols[int(i)].location.lat for i in candidates])
        l2 = np.radians([vols[int(i)].location.lon for i in candidates])
        h = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
        approx = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) * self.detour
        close = candidates[approx <= approx.min() + 2.0]
        return min(travel_distance_m(task, vols[int(i)], self.detour) for i in close)


def _task_order(ts: list[Any], vs: list[Any], ds: list[Any]) -> tuple[Any, Any, Any]:
    """Concatenate pieces whose pairs come in runs, one run per task (all of a task's pairs,
    in volunteer order, in one piece), into (task, volunteer) order: linear time."""
    import numpy as np

    pt = np.concatenate(ts)
    pv = np.concatenate(vs)
    pd = np.concatenate(ds)
    if len(pt) == 0:
        return pt, pv, pd
    start = np.concatenate(([0], np.flatnonzero(pt[1:] != pt[:-1]) + 1))
    length = np.diff(np.concatenate((start, [len(pt)])))
    by_task = np.argsort(pt[start], kind="stable")
    length = length[by_task]
    order = np.arange(len(pt), dtype=np.int64) + np.repeat(
        start[by_task] - (np.cumsum(length) - length), length
    )
    return pt[order], pv[order], pd[order]


class _Facts(NamedTuple):
    """Per (task, volunteer) pair of :func:`_match_facts`, as Python lists."""

    skill: list[bool]  # has_skill
    rank: list[int]  # scope rank, -1 when out of scope
    dist: list[int]  # exact travel_distance_m
    avail: list[bool]  # is_available
    penalty: list[int]  # scope penalty per rank (SCOPE_ORDER)
    t: Any = None  # task index of each pair (numpy)
    v: Any = None  # volunteer index of each pair (numpy)


def _match_facts(
    problem: MatchingProblem, finder: _PairFinder, pairs: list[tuple[Task, Volunteer]]
) -> _Facts:
    """The eligibility facts of the given pairs, in bulk and exactly.

    Skill as :func:`has_skill` (the level read from the volunteer's ``skills``), scope as
    :func:`scope_level`, availability from :attr:`_PairFinder.avail` (:func:`is_available` once
    per volunteer and slot), distances vectorised and rechecked with
    :func:`travel_distance_m` near a rounding boundary (:meth:`_PairFinder._distances`).
    """
    np = finder.np
    t_index, v_index = finder.t_index, finder.v_index
    tt = np.array([t_index[t.id] for t, _ in pairs], dtype=np.int64)
    vv = np.array([v_index[v.id] for _, v in pairs], dtype=np.int64)
    skill = [v.skills.get(t.skill, 0) >= t.min_level for t, v in pairs]
    if len(tt):
        rank = finder._scope_ranks(tt, vv).tolist()
        v_lat = np.radians(finder.v_lat[vv])
        v_lon = np.radians(finder.v_lon[vv])
        dist = finder._distances(
            tt, vv, np.radians(finder.t_lat[tt]), np.radians(finder.t_lon[tt]), v_lat, v_lon
        ).tolist()
        if finder._avail is not None or len(finder.vols) * len(finder.slot_rep) <= max(
            4 * len(pairs), 200_000
        ):
            avail = finder.avail[vv, finder.t_slot[tt]].tolist()
        else:  # a large table for few pairs: the predicate per pair
            avail = [is_available(t, v) for t, v in pairs]
    else:
        rank, dist, avail = [], [], []
    pen = problem.scope_penalties
    return _Facts(skill, rank, dist, avail, [pen.of(level) for level in SCOPE_ORDER], tt, vv)
