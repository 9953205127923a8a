"""Eligible (task, volunteer) pairs, vectorised and exact, shared by every matching solver.

:func:`prepare` sorts tasks and volunteers by id, numbers slots and days, and lists every
eligible pair (skill ∧ scope ∧ distance ∧ availability, the predicate of
:func:`~commgov.matching.is_eligible`) with its travel metres, scope level and cost, in
(task, volunteer) id order. The min-cost flow, deferred acceptance and CP-SAT solvers all start
from it; the verifier does not (it re-checks pairs with the public predicates).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from commgov._control import SolveControl
from commgov.errors import check_size
from commgov.matching.volunteers._problem import SCOPE_ORDER, MatchingProblem, Task, Volunteer
from commgov.matching.volunteers._rules import (
    MatchingReasonCode,
    is_available,
    travel_distance_m,
)
from commgov.results import Reason
from commgov.types import EARTH_RADIUS_M

Slot = tuple[datetime, datetime]


def _fast(cls: Any, values: dict[str, Any], fields: frozenset[str]) -> Any:
    """An instance of a frozen pydantic model from already-valid values, all fields given.

    What ``model_construct`` does for models without extras or private attributes, minus its
    per-call bookkeeping (about 3× faster; 50,000 matches are built per district solve). The
    values come from the solver's own records, so nothing needs validating; a test checks the
    result serialises exactly like a validated instance.
    """
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(fields))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


#: Field names of :class:`~commgov.results.Reason` (for :func:`_fast`).
REASON_FIELDS = frozenset(Reason.model_fields)


def _limit_param(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


class _Candidates:
    """Volunteers having each skill, sorted by latitude, with vectorised distance prefilters.

    The prefilters are conservative: they only discard volunteers that the exact public
    functions (:func:`travel_distance_m`, ``has_skill``) would reject too, and every
    survivor is checked with those exact functions.
    """

    def __init__(self, volunteers: list[Volunteer], detour: float) -> None:
        import numpy as np

        self._np = np
        self._detour = detour
        by_skill: dict[str, list[tuple[float, int]]] = defaultdict(list)
        for idx, vol in enumerate(volunteers):
            for skill in vol.skills:
                by_skill[skill].append((vol.location.lat, idx))
        self._lat: dict[str, list[float]] = {}
        self._arrays: dict[str, tuple[Any, Any, Any, Any]] = {}
        for skill, pairs in by_skill.items():
            pairs.sort()
            order = [p[1] for p in pairs]
            self._lat[skill] = [p[0] for p in pairs]
            self._arrays[skill] = (
                np.array(order, dtype=np.int64),
                np.radians([volunteers[i].location.lat for i in order]),
                np.radians([volunteers[i].location.lon for i in order]),
                np.array([volunteers[i].skills[skill] for i in order], dtype=np.int64),
            )

    def _approx_m(self, task: Task, lo: int, hi: int) -> tuple[Any, Any]:
        np = self._np
        idx, lat, lon, level = (a[lo:hi] for a in self._arrays[task.skill])
        keep = level >= task.min_level
        idx, lat, lon = idx[keep], lat[keep], lon[keep]
        p1 = math.radians(task.location.lat)
        l1 = math.radians(task.location.lon)
        h = np.sin((lat - p1) / 2) ** 2 + math.cos(p1) * np.cos(lat) * np.sin((lon - l1) / 2) ** 2
        dist = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) * self._detour
        return idx, dist

    def near(self, task: Task, limit_m: float) -> list[int]:
        """Skilled volunteers possibly within ``limit_m`` (superset), in index order."""
        lats = self._lat.get(task.skill)
        if lats is None:
            return []
        # haversine ≥ R·|Δlat|; distance_m ≤ limit needs haversine·detour < limit + 0.5
        half = math.degrees((limit_m + 1.0) / (EARTH_RADIUS_M * self._detour))
        lo = bisect.bisect_left(lats, task.location.lat - half)
        hi = bisect.bisect_right(lats, task.location.lat + half)
        if lo >= hi:
            return []
        idx, dist = self._approx_m(task, lo, hi)
        return sorted(int(i) for i in idx[dist <= limit_m + 1.0])

    def nearest(self, task: Task) -> list[int]:
        """Skilled volunteers within 1 m of the (approximate) nearest: contains the nearest."""
        if task.skill not in self._arrays:
            return []
        idx, dist = self._approx_m(task, 0, len(self._lat[task.skill]))
        if len(idx) == 0:
            return []
        return sorted(int(i) for i in idx[dist <= dist.min() + 1.0])


_US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(t: datetime) -> int:
    """Exact microseconds since the epoch of an aware datetime (orders like the datetime)."""
    delta = t - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def _availability(vols: list[Volunteer], slot_keys: list[Slot]) -> Any:
    """Boolean (volunteer, slot): the slot window inside one availability window.

    The same predicate as :func:`is_available` (``w.start <= s and e <= w.end``), on exact
    integer microseconds.
    """
    import numpy as np

    owner: list[int] = []
    w_start: list[int] = []
    w_end: list[int] = []
    for vi, vol in enumerate(vols):
        for w in vol.availability:
            owner.append(vi)
            w_start.append(_micros(w.start))
            w_end.append(_micros(w.end))
    own = np.array(owner, dtype=np.int64)
    ws = np.array(w_start, dtype=np.int64)
    we = np.array(w_end, dtype=np.int64)
    out = np.zeros((len(vols), len(slot_keys)), dtype=bool)
    for si, (s, e) in enumerate(slot_keys):
        ok = (ws <= _micros(s)) & (_micros(e) <= we)
        out[own[ok], si] = True
    return out


def _lon_window(
    lons: Any, max_abs_lat: float, half: float, hav_max: float
) -> tuple[float, float, float] | None:
    """A longitude window (centre, half-width in degrees) holding every point within reach of
    a block of tasks, and the reach in longitude of each task (degrees), or ``None`` when no
    useful cut exists (near a pole, or too wide).

    From hav(d/R) = hav(Δφ) + cos φ₁ cos φ₂ hav(Δλ) ≥ c² hav(Δλ), with c the least cosine of
    the latitudes involved: d within reach implies hav(Δλ) ≤ hav_max / c².
    """
    c = math.cos(math.radians(min(90.0, max_abs_lat + half)))
    if c <= 1e-6:
        return None
    a = hav_max / (c * c)
    if a >= 1.0:
        return None
    dlon = math.degrees(2.0 * math.asin(math.sqrt(a))) * (1.0 + 1e-6) + 1e-9
    lo, hi = float(lons.min()), float(lons.max())
    if hi - lo + 2.0 * dlon >= 360.0:
        return None
    return (lo + hi) / 2.0, (hi - lo) / 2.0 + dlon, dlon


class _Stopped(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside :func:`prepare` when the run's control says stop (caught there)."""


def _eligible_pairs(
    tasks: list[Task],
    vols: list[Volunteer],
    cand: _Candidates,
    t_slot: Any,
    avail: Any,
    detour: float,
    limit: float,
    scope: _ScopeCodes,
    ctl: SolveControl | None = None,
) -> tuple[Any, Any, Any, Any]:
    """Every eligible (task index, volunteer index, distance_m, scope rank), sorted by task then
    volunteer.

    Candidates are skilled volunteers in a latitude band around a block of tasks (the same
    conservative bound as :meth:`_Candidates.near`). Distances are computed vectorised with the
    formula of :func:`commgov.types.haversine_m`; wherever ``x + 0.5`` (``x`` the unrounded
    distance) lies within a relative 1e-9 of an integer, so that a last-bit difference between
    numpy's and libm's transcendental functions could change the rounding, the distance is
    recomputed with :func:`travel_distance_m` itself. Skill levels and availability are exact;
    the scope rank is :meth:`_ScopeCodes.level`, out-of-scope pairs are left out. Every array
    the size of the pairs is allocated once (the blocks' pieces are placed into it), so
    listing millions of pairs does not touch several times their memory.
    ``ctl`` is asked before each block of tasks; :class:`_Stopped` is raised once it says stop.
    """
    import numpy as np

    out_t: list[Any] = []
    out_v: list[Any] = []
    out_d: list[Any] = []
    out_l: list[Any] = []
    counts = np.zeros(len(tasks), dtype=np.int64)
    half = math.degrees((limit + 1.0) / (EARTH_RADIUS_M * detour))
    by_skill: dict[str, list[int]] = defaultdict(list)
    for ti, task in enumerate(tasks):
        by_skill[task.skill].append(ti)
    t_lat_deg = np.array([t.location.lat for t in tasks], dtype=np.float64)
    t_lon_deg = np.array([t.location.lon for t in tasks], dtype=np.float64)
    t_level = np.array([t.min_level for t in tasks], dtype=np.int64)
    v_lon_deg = np.array([v.location.lon for v in vols], dtype=np.float64)
    # per point once, not per pair (the same values)
    t_rad = np.radians(t_lat_deg)
    t_cos = np.cos(t_rad)
    block = 256
    # haversine term of the largest great-circle distance that can still round to ≤ limit
    hav_max = math.sin(min(math.pi / 2, (limit + 1.0) / (EARTH_RADIUS_M * detour) / 2)) ** 2
    for skill in sorted(by_skill):
        if skill not in cand._arrays:
            continue
        v_idx, v_plat, _, v_level = cand._arrays[skill]
        v_cos = np.cos(v_plat)
        v_lats = np.asarray(cand._lat[skill])
        tis = np.array(by_skill[skill], dtype=np.int64)
        # 2-D blocks: strips of height `half` in latitude, ordered by longitude inside a strip,
        # so a block's candidates can be cut by longitude as well as latitude
        strip = np.floor((t_lat_deg[tis] - t_lat_deg[tis].min()) / max(half, 1e-9))
        tis = tis[np.lexsort((tis, t_lon_deg[tis], strip))]
        strip_of = np.floor((t_lat_deg[tis] - t_lat_deg[tis].min()) / max(half, 1e-9))
        cuts = np.nonzero(np.diff(strip_of))[0] + 1
        starts_ = sorted({0, *cuts.tolist(), *range(0, len(tis), block)})
        bounds = [*starts_, len(tis)]
        for b0, b1 in itertools.pairwise(bounds):
            if ctl is not None and ctl.should_stop():
                raise _Stopped
            tb = tis[b0:b1]
            b_lat = t_lat_deg[tb]
            lo = int(np.searchsorted(v_lats, b_lat.min() - half, side="left"))
            hi = int(np.searchsorted(v_lats, b_lat.max() + half, side="right"))
            if lo >= hi:
                continue
            sub = np.arange(lo, hi)
            lon_cut = _lon_window(t_lon_deg[tb], float(np.abs(b_lat).max()), half, hav_max)
            if lon_cut is not None:
                centre, reach, dlon = lon_cut
                diff = (v_lon_deg[v_idx[sub]] - centre + 180.0) % 360.0 - 180.0
                sub = sub[np.abs(diff) <= reach]
                if len(sub) == 0:
                    continue
            # candidates in volunteer index order: the pairs of a task come out sorted
            sub = sub[np.argsort(v_idx[sub], kind="stable")]
            vb = v_idx[sub]
            ok = (v_level[sub][None, :] >= t_level[tb][:, None]) & avail[vb][:, t_slot[tb]].T
            # the same bounds per pair, so far-off pairs of a wide block are not computed
            ok &= np.abs(v_lats[sub][None, :] - b_lat[:, None]) <= half
            if lon_cut is not None:
                diff = v_lon_deg[vb][None, :] - t_lon_deg[tb][:, None]
                if not (reach <= 90.0 and centre - reach > -180.0 and centre + reach < 180.0):
                    # the window crosses ±180° (or is wider than a half turn): wrap
                    diff = (diff + 180.0) % 360.0 - 180.0
                ok &= np.abs(diff) <= dlon
            r, c = np.nonzero(ok)
            if len(r) == 0:
                continue
            tt = tb[r]
            vv = vb[c]
            p1 = t_rad[tt]
            sc = sub[c]
            p2 = v_plat[sc]
            dl = np.radians(v_lon_deg[vv] - t_lon_deg[tt])
            h = np.sin((p2 - p1) / 2) ** 2 + t_cos[tt] * v_cos[sc] * np.sin(dl / 2) ** 2
            x = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) * detour + 0.5
            dist = np.floor(x)
            keep = dist <= limit + 1.0
            tt, vv, x, dist = tt[keep], vv[keep], x[keep], dist[keep]
            frac = x - dist
            unsure = np.nonzero(
                (np.minimum(frac, 1.0 - frac) <= 1e-9 * (1.0 + x)) | ~np.isfinite(x)
            )[0]
            d_int = dist.astype(np.int64)
            for k in unsure.tolist():
                d_int[k] = travel_distance_m(tasks[int(tt[k])], vols[int(vv[k])], detour)
            fin = d_int <= limit
            tt, vv, d_int = tt[fin], vv[fin], d_int[fin]
            rank = scope.level(tt, vv)
            if not scope.trivial:
                fin = rank >= 0
                tt, vv, d_int, rank = tt[fin], vv[fin], d_int[fin], rank[fin]
            if len(tt) == 0:
                continue
            out_t.append(tt)
            out_v.append(vv)
            out_d.append(d_int)
            out_l.append(rank)
            np.add.at(counts, tt, 1)
    # each task's pairs are one run in one block, sorted by volunteer: place the runs in task
    # order, linear time (a lexsort of millions of pairs takes seconds)
    n_pairs = int(counts.sum())
    pt = np.repeat(np.arange(len(tasks), dtype=np.int64), counts)
    pv = np.empty(n_pairs, dtype=np.int64)
    pd = np.empty(n_pairs, dtype=np.int64)
    pl = np.empty(n_pairs, dtype=np.int64)
    offset = np.cumsum(counts) - counts
    while out_t:
        tt = out_t.pop()
        cut = np.flatnonzero(tt[1:] != tt[:-1]) + 1
        run_start = np.zeros(len(tt), dtype=np.int64)
        run_start[cut] = cut
        np.maximum.accumulate(run_start, out=run_start)
        dest = offset[tt] + np.arange(len(tt), dtype=np.int64) - run_start
        pv[dest] = out_v.pop()
        pd[dest] = out_d.pop()
        pl[dest] = out_l.pop()
    return pt, pv, pd, pl


class _ScopeCodes:
    """Integer codes of the scope fields, so ``scope_level`` runs on arrays of pairs.

    ``level(ti, vi)`` returns the rank in :data:`SCOPE_ORDER` (0 building … 3 partner) or -1
    when out of scope, the same rules as ``scope_level`` (checked by a property test).
    """

    def __init__(self, tasks: list[Task], vols: list[Volunteer]) -> None:
        import numpy as np

        self._np = np
        self.trivial = not any(v.partner for v in vols) and not any(
            t.building_id or t.compound_id or t.community_id for t in tasks
        )
        if self.trivial:
            return
        codes: dict[str, int] = {}

        def code(value: str | None, none: int) -> int:
            if value is None:
                return none
            return codes.setdefault(value, len(codes))

        self.t_bld = np.array([code(t.building_id, -1) for t in tasks], dtype=np.int64)
        self.t_comp = np.array([code(t.compound_id, -1) for t in tasks], dtype=np.int64)
        self.t_comm = np.array([code(t.community_id, -1) for t in tasks], dtype=np.int64)
        self.v_comp = np.array([code(v.compound_id, -2) for v in vols], dtype=np.int64)
        self.v_comm = np.array([code(v.community_id, -1) for v in vols], dtype=np.int64)
        self.v_partner = np.array([v.partner for v in vols], dtype=bool)
        members = [(vi, code(b, -1)) for vi, v in enumerate(vols) for b in v.building_ids]
        self.n_codes = max(len(codes), 1)
        keys = sorted(vi * self.n_codes + b for vi, b in members)
        self.bld_keys = np.array(keys, dtype=np.int64)

    def level(self, tt: Any, vv: Any) -> Any:
        """Rank of each pair (arrays of task and volunteer indexes), -1 when out of scope."""
        np = self._np
        if self.trivial:
            return np.full(len(tt), 2, dtype=np.int64)
        tb = self.t_bld[tt]
        if len(self.bld_keys):
            in_bld = (tb >= 0) & np.isin(vv * self.n_codes + tb, self.bld_keys)
        else:  # no volunteer serves buildings
            in_bld = np.zeros(len(tt), dtype=bool)
        tc = self.t_comp[tt]
        same_comp = (tc >= 0) & (tc == self.v_comp[vv])
        tm, vm = self.t_comm[tt], self.v_comm[vv]
        community = (tm < 0) | (vm < 0) | (tm == vm)
        out = np.where(community, 2, -1)
        out = np.where(same_comp, 1, out)
        out = np.where(in_bld, 0, out)
        return np.where(self.v_partner[vv], 3, out).astype(np.int64)


@dataclass
class Prepared:
    """Sorted records, slot and day numbering, and every eligible pair of a problem.

    Pair arrays (``pt`` task index, ``pv`` volunteer index, ``pd`` travel metres, ``pl`` scope
    rank, ``pc`` cost = penalty + metres) are sorted by task then volunteer index.
    """

    problem: MatchingProblem
    tasks: list[Task]
    vols: list[Volunteer]
    slot_keys: list[Slot]
    t_slot: Any
    day_keys: list[date]
    slot_day: Any
    pt: Any
    pv: Any
    pd: Any
    pl: Any
    pc: Any
    eligible_count: Any
    no_capacity_count: Any
    cand: _Candidates
    scope: _ScopeCodes
    #: False when the run was stopped while the pairs were listed: then the pair arrays hold
    #: the pinned pairs only, and the counts are zero (no task was tried)
    complete: bool = True

    @property
    def t_day(self) -> Any:
        """Day index of each task."""
        return self.slot_day[self.t_slot]


#: Size guard: most (volunteer, slot) cells of the availability table (one byte each).
MAX_AVAILABILITY_CELLS = 50_000_000

#: Size guard: most eligible pairs listed (about 40 bytes each), estimated before listing.
MAX_PAIRS_LISTED = 20_000_000

_SPLIT = (
    "split the problem (fewer tasks or volunteers per call, one community or one day at a "
    "time) or use a smaller max_distance_m"
)


def _hav(x: float) -> float:
    return math.sin(x / 2.0) ** 2


def estimate_pairs(problem: MatchingProblem) -> int:
    """An upper bound on the eligible pairs of ``problem``, from counts, before listing any.

    Volunteers are counted per (skill, cell) of a latitude-longitude grid whose cells are a
    quarter of the reach (``max_distance_m + 1`` metres over the detour factor) high and
    wide; a task may only pair with the volunteers having its skill in the cells that a point
    of its cell can reach (from hav θ ≥ hav Δφ + cos²φ_max · hav Δλ). Levels, scope and
    availability are ignored, so the figure is never below the true count.

    Notes
    -----
    O((T + V·skills) log(T + V)) time and O(T + V·skills) memory: about 60 vectorised
    look-ups of the distinct (skill, cell) keys of the tasks.
    """
    import numpy as np

    tasks, vols = problem.tasks, problem.volunteers
    if not tasks or not vols:
        return 0
    k = 4
    reach = min(math.pi, (problem.max_distance_m + 1.0) / (EARTH_RADIUS_M * problem.detour_factor))
    h_lat = math.degrees(reach) / k
    t_lat = np.array([t.location.lat for t in tasks], dtype=np.float64)
    t_lon = np.array([t.location.lon for t in tasks], dtype=np.float64)
    skills = sorted({s for v in vols for s in v.skills} | {t.skill for t in tasks})
    code = {s: i for i, s in enumerate(skills)}
    vs = [(code[s], v.location.lat, v.location.lon) for v in vols for s in v.skills]
    v_sk = np.array([x[0] for x in vs], dtype=np.int64)
    v_lat = np.array([x[1] for x in vs], dtype=np.float64)
    v_lon = np.array([x[2] for x in vs], dtype=np.float64)
    t_sk = np.array([code[t.skill] for t in tasks], dtype=np.int64)
    phi_max = max(float(np.abs(t_lat).max()), float(np.abs(v_lat).max()) if len(v_lat) else 0.0)
    phi_max = min(90.0, phi_max + math.degrees(reach))
    c = math.cos(math.radians(phi_max))
    n_lon = 1
    if c > 1e-6 and _hav(reach) / (c * c) < 1.0:
        lon_reach = math.degrees(2.0 * math.asin(math.sqrt(_hav(reach)) / c))
        n = int(360.0 / (lon_reach / k))
        if n >= 2 * k + 3:
            n_lon = n
    w_lon = 360.0 / n_lon
    n_lat = int(180.0 / h_lat) + 2

    def cells(lat: Any, lon: Any) -> tuple[Any, Any]:
        i = np.floor((lat + 90.0) / h_lat).astype(np.int64)
        j = np.floor((lon + 180.0) / w_lon).astype(np.int64) % n_lon
        return i, j

    vi, vj = cells(v_lat, v_lon)
    v_key = (v_sk * n_lat + vi) * n_lon + vj
    v_keys, v_count = np.unique(v_key, return_counts=True)
    if len(v_keys) == 0:
        return 0
    ti, tj = cells(t_lat, t_lon)
    t_key = (t_sk * n_lat + ti) * n_lon + tj
    t_keys, t_count = np.unique(t_key, return_counts=True)
    t_sk_u = t_keys // (n_lat * n_lon)
    t_i = (t_keys // n_lon) % n_lat
    t_j = t_keys % n_lon
    skill_total = np.bincount(v_sk, minlength=len(skills))
    near = np.zeros(len(t_keys), dtype=np.int64)
    span_j = range(-(k + 1), k + 2) if n_lon > 1 else range(1)
    hav_r = _hav(reach)
    for di in range(-(k + 1), k + 2):
        d_lat = math.radians(max(0, abs(di) - 1) * h_lat)
        for dj in span_j:
            d_lon = math.radians(max(0, abs(dj) - 1) * w_lon)
            if _hav(d_lat) + c * c * _hav(d_lon) > hav_r:
                continue
            ii = t_i + di
            ok = (ii >= 0) & (ii < n_lat)
            key = (t_sk_u * n_lat + ii) * n_lon + (t_j + dj) % n_lon
            pos = np.minimum(np.searchsorted(v_keys, key), len(v_keys) - 1)
            hit = ok & (v_keys[pos] == key)
            near += np.where(hit, v_count[pos], 0)
    near = np.minimum(near, skill_total[t_sk_u])
    return int((near * t_count).sum())


def _pin_pairs(
    problem: MatchingProblem, tasks: list[Task], vols: list[Volunteer], detour: float
) -> tuple[Any, Any, Any]:
    """The pinned pairs alone (pins are validated eligible), sorted by task index."""
    import numpy as np

    t_index = {t.id: i for i, t in enumerate(tasks)}
    v_index = {v.id: i for i, v in enumerate(vols)}
    rows = sorted((t_index[p.task_id], v_index[p.volunteer_id]) for p in problem.pinned)
    pt = np.array([r[0] for r in rows], dtype=np.int64)
    pv = np.array([r[1] for r in rows], dtype=np.int64)
    pd = np.array([travel_distance_m(tasks[t], vols[v], detour) for t, v in rows], dtype=np.int64)
    return pt, pv, pd


def task_slots(problem: MatchingProblem) -> set[Slot]:
    """The distinct task windows ``(start, end)`` of ``problem`` (its slots)."""
    return {(t.window.start, t.window.end) for t in problem.tasks}


def prepare(
    problem: MatchingProblem,
    ctl: SolveControl | None = None,
    n_est: int | None = None,
    slots: set[Slot] | None = None,
) -> Prepared:
    """Sort, number and list the eligible pairs of ``problem`` (see :class:`Prepared`).

    ``n_est``: :func:`estimate_pairs` of the problem when the caller has it already;
    ``slots``: :func:`task_slots` likewise.

    ``ctl`` is asked between blocks of the pair listing; once it says stop, the result is
    marked incomplete (``complete=False``) and holds the pinned pairs only.

    Raises
    ------
    commgov.errors.SizeLimitError
        Before allocating, if the availability table (volunteers × slots) would exceed
        :data:`MAX_AVAILABILITY_CELLS` cells or the estimated eligible pairs
        (:func:`estimate_pairs`) :data:`MAX_PAIRS_LISTED`.
    """
    import numpy as np

    if slots is None:
        slots = task_slots(problem)
    n_slots_est = len(slots)
    check_size(
        "matching: availability table cells (volunteers × slots)",
        len(problem.volunteers) * n_slots_est,
        MAX_AVAILABILITY_CELLS,
        "use fewer, longer slots or " + _SPLIT,
    )
    check_size(
        "matching: eligible pairs (upper estimate from skills and places)",
        estimate_pairs(problem) if n_est is None else n_est,
        MAX_PAIRS_LISTED,
        _SPLIT,
    )

    tasks = sorted(problem.tasks, key=lambda t: t.id)
    vols = sorted(problem.volunteers, key=lambda v: v.id)
    zone = problem.zone
    detour = problem.detour_factor
    limit = problem.max_distance_m
    cand = _Candidates(vols, detour)
    slot_keys = sorted(slots)
    slot_ix = {k: i for i, k in enumerate(slot_keys)}
    t_slot = np.array([slot_ix[(t.window.start, t.window.end)] for t in tasks], dtype=np.int64)
    day_keys = sorted({s.astimezone(zone).date() for s, _ in slot_keys})
    day_ix = {d: i for i, d in enumerate(day_keys)}
    slot_day = np.array([day_ix[s.astimezone(zone).date()] for s, _ in slot_keys], dtype=np.int64)
    avail = _availability(vols, slot_keys)
    scope = _ScopeCodes(tasks, vols)
    pen = problem.scope_penalties
    penalty = np.array([pen.of(level) for level in SCOPE_ORDER], dtype=np.int64)
    # eligible volunteers that can never take the task (has_capacity_for is false)
    v_zero = np.array(
        [v.capacity_per_slot == 0 or v.capacity_per_day == 0 for v in vols], dtype=bool
    )
    n_tasks = len(tasks)
    complete = True
    try:
        if ctl is not None and ctl.should_stop():
            raise _Stopped
        pt, pv, pd, pl = _eligible_pairs(
            tasks, vols, cand, t_slot, avail, detour, limit, scope, ctl
        )
    except _Stopped:
        complete = False
        pt, pv, pd = _pin_pairs(problem, tasks, vols, detour)
        pl = scope.level(pt, pv)  # pins are validated in scope
    if problem.declined and len(pt):
        pt, pv, pd, pl = _without_declined(problem, tasks, vols, pt, pv, pd, pl)
    pc = pd + penalty[pl]
    eligible_count = np.bincount(pt, minlength=n_tasks) if n_tasks else np.zeros(0, np.int64)
    v_budget = np.array(
        [-1 if v.minutes_per_day is None else v.minutes_per_day for v in vols], dtype=np.int64
    )
    t_dur = np.array([t.duration_min or 0 for t in tasks], dtype=np.int64)
    if len(pt) and (v_zero.any() or (v_budget >= 0).any()):
        no_cap = v_zero[pv] | ((v_budget[pv] >= 0) & (t_dur[pt] > v_budget[pv]))
        no_capacity_count = np.bincount(pt[no_cap], minlength=n_tasks)
    else:
        no_capacity_count = np.zeros(n_tasks, dtype=np.int64)
    return Prepared(
        problem=problem,
        tasks=tasks,
        vols=vols,
        slot_keys=slot_keys,
        t_slot=t_slot,
        day_keys=day_keys,
        slot_day=slot_day,
        pt=pt,
        pv=pv,
        pd=pd,
        pl=pl,
        pc=pc,
        eligible_count=eligible_count,
        no_capacity_count=no_capacity_count,
        cand=cand,
        scope=scope,
        complete=complete,
    )


def _without_declined(
    problem: MatchingProblem,
    tasks: list[Task],
    vols: list[Volunteer],
    pt: Any,
    pv: Any,
    pd: Any,
    pl: Any,
) -> tuple[Any, Any, Any, Any]:
    """The pairs less those ``problem.declined`` names (the order kept). O(pairs)."""
    import numpy as np

    t_ix = {t.id: i for i, t in enumerate(tasks)}
    v_ix = {v.id: i for i, v in enumerate(vols)}
    n_v = max(len(vols), 1)
    codes = np.array(
        [t_ix[a] * n_v + v_ix[b] for a, b in problem.declined_pairs if a in t_ix and b in v_ix],
        dtype=np.int64,
    )
    keep = ~np.isin(pt.astype(np.int64) * n_v + pv, codes)
    return pt[keep], pv[keep], pd[keep], pl[keep]


def primary_reason(prep: Prepared, ti: int) -> Reason:
    """Why task ``ti`` is unmatched: the first failing condition, in the order skill, scope,
    distance, window, no capacity, capacity (the predicates
    :func:`~commgov.matching.is_valid_assignment` checks)."""
    import numpy as np

    count = int(prep.eligible_count[ti])
    if count:  # params known to match REASON_PARAMS: skip re-validation (hot path)
        none = int(prep.no_capacity_count[ti])
        if none == count:
            code, params = MatchingReasonCode.NO_CAPACITY, {"eligible": count}
        elif none:
            code, params = (
                MatchingReasonCode.CAPACITY_USED,
                {"eligible": count, "no_capacity": none},
            )
        else:
            code, params = MatchingReasonCode.CAPACITY_USED, {"eligible": count}
        return _fast(  # type: ignore[no-any-return]
            Reason, {"code": code, "params": params}, REASON_FIELDS
        )
    task = prep.tasks[ti]
    problem = prep.problem
    vols = prep.vols
    cand = prep.cand
    if not vols:
        return Reason(code=MatchingReasonCode.NO_VOLUNTEERS)
    if task.skill not in cand._arrays:
        skilled_idx = np.zeros(0, dtype=np.int64)
        approx = np.zeros(0)
    else:
        skilled_idx, approx = cand._approx_m(task, 0, len(cand._lat[task.skill]))
    if len(skilled_idx) == 0:
        return Reason(
            code=MatchingReasonCode.SKILL_MISSING,
            params={"skill": task.skill, "level": task.min_level},
        )
    levels = prep.scope.level(np.full(len(skilled_idx), ti, dtype=np.int64), skilled_idx)
    in_scope = levels >= 0
    if not in_scope.any():
        return Reason(code=MatchingReasonCode.OUT_OF_SCOPE, params={"skilled": len(skilled_idx)})
    idx, approx = skilled_idx[in_scope], approx[in_scope]
    detour = problem.detour_factor
    limit = problem.max_distance_m
    near = sorted(int(i) for i in idx[approx <= limit + 1.0])
    reachable = [i for i in near if travel_distance_m(task, vols[i], detour) <= limit]
    if reachable:
        # skilled, in scope and within reach, yet no eligible pair: none is available, or
        # every one available declined the task
        declined = problem.declined_pairs
        free = [i for i in reachable if is_available(task, vols[i])]
        if free and all((task.id, vols[i].id) in declined for i in free):
            return Reason(code=MatchingReasonCode.DECLINED, params={"declined": len(free)})
        return Reason(code=MatchingReasonCode.OUT_OF_WINDOW)
    nearest = sorted(int(i) for i in idx[approx <= approx.min() + 1.0])
    return Reason(
        code=MatchingReasonCode.TOO_FAR,
        params={
            "distance_m": min(travel_distance_m(task, vols[i], detour) for i in nearest),
            "limit_m": _limit_param(limit),
        },
    )
