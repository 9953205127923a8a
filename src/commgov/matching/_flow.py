"""Exact volunteer ↔ task matching as a min-cost flow (OR-Tools SimpleMinCostFlow).

Network, built in id order (tasks, then volunteers, sorted by id)::

    source ─(1, 0)─► task ─(1, distance_m)─► (vol, slot) ─(cap_slot, 0)─► (vol, day)
                      │                                                      │ (cap_day, 0)
                      └──────────(1, M·priority: "unserved")───────────────► sink

with ``M = 1 + Σ_tasks max eligible distance``: any flow serving more priority is cheaper than
any serving less, whatever the travel, so the minimum cost maximises the priority served and
then minimises travel metres (two tiers, no third). The unserved arcs keep supply balanced so
the solve is always feasible. Method: min-cost flow (Ahuja, Magnanti & Orlin, *Network Flows*,
1993), solved by OR-Tools' cost-scaling push–relabel ``SimpleMinCostFlow``.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, Literal

from commgov.errors import InfeasibleError, SizeLimitError, SolverError, expect_type
from commgov.matching.problem import (
    Assignment,
    Match,
    MatchingProblem,
    MatchingTotals,
    Task,
    Unmatched,
    Volunteer,
    VolunteerLoad,
    has_skill,
    travel_distance_m,
)
from commgov.results import Reason, ReasonCode, SolveInfo, SolveStatus, library_versions
from commgov.types import EARTH_RADIUS_M

__all__ = ["MAX_ARCS", "match_volunteers"]

_log = logging.getLogger("commgov.matching")

#: Size guard: the flow network may have at most this many arcs.
MAX_ARCS = 20_000_000

_INT64_LIMIT = 2**63
_NOT_YET = ("fair", "stable")

Slot = tuple[datetime, datetime]


def _limit_param(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


class _Candidates:
    """Volunteers having each skill, sorted by latitude, with vectorised distance prefilters.

    The prefilters are conservative: they only discard volunteers that the exact public
    functions (:func:`travel_distance_m`, :func:`has_skill`) would reject too, and every
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


def _eligible_pairs(
    tasks: list[Task],
    vols: list[Volunteer],
    cand: _Candidates,
    t_slot: Any,
    avail: Any,
    detour: float,
    limit: float,
) -> tuple[Any, Any, Any]:
    """Every eligible (task index, volunteer index, distance_m), sorted by task then volunteer.

    Candidates are skilled volunteers in a latitude band around a block of tasks (the same
    conservative bound as :meth:`_Candidates.near`). Distances are computed vectorised with the
    formula of :func:`commgov.types.haversine_m`; wherever ``x + 0.5`` (``x`` the unrounded
    distance) lies within a relative 1e-9 of an integer, so that a last-bit difference between
    numpy's and libm's transcendental functions could change the rounding, the distance is
    recomputed with :func:`travel_distance_m` itself. Skill levels and availability are exact.
    """
    import numpy as np

    out_t: list[Any] = []
    out_v: list[Any] = []
    out_d: list[Any] = []
    half = math.degrees((limit + 1.0) / (EARTH_RADIUS_M * detour))
    by_skill: dict[str, list[int]] = defaultdict(list)
    for ti, task in enumerate(tasks):
        by_skill[task.skill].append(ti)
    t_lat_deg = np.array([t.location.lat for t in tasks], dtype=np.float64)
    t_lon_deg = np.array([t.location.lon for t in tasks], dtype=np.float64)
    t_level = np.array([t.min_level for t in tasks], dtype=np.int64)
    v_lon_deg = np.array([v.location.lon for v in vols], dtype=np.float64)
    block = 256
    for skill in sorted(by_skill):
        if skill not in cand._arrays:
            continue
        v_idx, v_plat, _, v_level = cand._arrays[skill]
        v_lats = np.asarray(cand._lat[skill])
        tis = np.array(by_skill[skill], dtype=np.int64)
        tis = tis[np.argsort(t_lat_deg[tis], kind="stable")]
        for b0 in range(0, len(tis), block):
            tb = tis[b0 : b0 + block]
            lo = int(np.searchsorted(v_lats, t_lat_deg[tb[0]] - half, side="left"))
            hi = int(np.searchsorted(v_lats, t_lat_deg[tb[-1]] + half, side="right"))
            if lo >= hi:
                continue
            vb = v_idx[lo:hi]
            ok = (v_level[lo:hi][None, :] >= t_level[tb][:, None]) & avail[vb][:, t_slot[tb]].T
            r, c = np.nonzero(ok)
            if len(r) == 0:
                continue
            tt = tb[r]
            vv = vb[c]
            p1 = np.radians(t_lat_deg[tt])
            p2 = v_plat[lo:hi][c]
            dl = np.radians(v_lon_deg[vv] - t_lon_deg[tt])
            h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
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
            out_t.append(tt[fin])
            out_v.append(vv[fin])
            out_d.append(d_int[fin])
    if not out_t:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    pt = np.concatenate(out_t)
    pv = np.concatenate(out_v)
    pd = np.concatenate(out_d)
    order = np.lexsort((pv, pt))
    return pt[order], pv[order], pd[order]


def _primary_reason(
    problem: MatchingProblem,
    vols: list[Volunteer],
    cand: _Candidates,
    task: Task,
    eligible_count: int,
) -> Reason:
    """The first failing condition, in the order skill, distance, window, capacity."""
    if eligible_count:
        return Reason(code=ReasonCode.CAPACITY_USED, params={"eligible": eligible_count})
    nearest = [vols[i] for i in cand.nearest(task) if has_skill(task, vols[i])]
    if not nearest:
        return Reason(
            code=ReasonCode.SKILL_MISSING, params={"skill": task.skill, "level": task.min_level}
        )
    detour = problem.detour_factor
    limit = problem.max_distance_m
    near = [vols[i] for i in cand.near(task, limit)]
    if any(travel_distance_m(task, v, detour) <= limit for v in near if has_skill(task, v)):
        # skilled and within reach, yet no eligible pair: none is available in the window
        return Reason(code=ReasonCode.OUT_OF_WINDOW)
    return Reason(
        code=ReasonCode.TOO_FAR,
        params={
            "distance_m": min(travel_distance_m(task, v, detour) for v in nearest),
            "limit_m": _limit_param(limit),
        },
    )


def match_volunteers(
    problem: MatchingProblem,
    *,
    objective: Literal["min_cost"] = "min_cost",
    strict: bool = False,
) -> Assignment:
    """Match volunteers to tasks exactly: most priority served, then least travel.

    Solves the volunteer ↔ task problem as a min-cost flow (Ahuja, Magnanti & Orlin,
    *Network Flows*, 1993; OR-Tools ``SimpleMinCostFlow``, cost-scaling push–relabel). Each
    task is served by at most one eligible volunteer (:func:`~commgov.matching.is_eligible`);
    a volunteer takes at most ``capacity_per_slot`` tasks per slot and ``capacity_per_day``
    tasks per calendar day (problem time zone). The objective ``min_cost`` is lexicographic:
    first maximise the sum of priorities served, then minimise total travel in metres. The
    network is built in id order, so the result does not depend on input order. Ties between
    equally good optima are broken by the solver deterministically, not by a documented id rule.

    Parameters
    ----------
    problem : MatchingProblem
        The validated problem.
    objective : {"min_cost"}, default "min_cost"
        The objective; ``"fair"`` and ``"stable"`` are not implemented yet.
    strict : bool, default False
        If ``True``, raise :class:`~commgov.errors.InfeasibleError` when a task is unmatched.

    Returns
    -------
    Assignment
        Matches (with distances in metres), unmatched tasks with one primary reason each
        (``SKILL_MISSING``, ``TOO_FAR``, ``OUT_OF_WINDOW`` or ``CAPACITY_USED``), totals,
        loads and :class:`~commgov.results.SolveInfo` with status ``OPTIMAL``.

    Raises
    ------
    ValueError
        If ``objective`` is not ``"min_cost"``.
    commgov.errors.SizeLimitError
        If the network exceeds :data:`MAX_ARCS` arcs, or ``max|cost|·nodes²`` reaches 2⁶³.
    commgov.errors.InfeasibleError
        If ``strict`` and some task is unmatched.
    commgov.errors.SolverError
        If OR-Tools returns a status other than ``OPTIMAL``.

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> from commgov.types import GeoPoint, TimeWindow
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> w = TimeWindow(start=datetime(2022, 4, 10, 9, tzinfo=tz),
    ...                end=datetime(2022, 4, 10, 10, tzinfo=tz))
    >>> from commgov.matching import Task, Volunteer, MatchingProblem
    >>> p = MatchingProblem(
    ...     timezone="Asia/Shanghai",
    ...     tasks=[Task(id="t1", skill="delivery", location=GeoPoint(lon=120.62, lat=31.31),
    ...                 window=w)],
    ...     volunteers=[Volunteer(id="v1", location=GeoPoint(lon=120.621, lat=31.31),
    ...                           skills={"delivery": 2}, availability=[w])])
    >>> a = match_volunteers(p)
    >>> [(m.task_id, m.volunteer_id, m.distance_m) for m in a.matches]
    [('t1', 'v1', 95)]
    """
    expect_type(problem, MatchingProblem, "problem",
                "build one with matching_problem_from_org or MatchingProblem(...)")
    if objective != "min_cost":
        if objective in _NOT_YET:
            raise ValueError(
                f"objective {objective!r} is not implemented yet; use objective='min_cost'"
            )
        raise ValueError(f"unknown objective {objective!r}; use objective='min_cost'")

    import numpy as np

    tasks = sorted(problem.tasks, key=lambda t: t.id)
    vols = sorted(problem.volunteers, key=lambda v: v.id)
    zone = problem.zone
    detour = problem.detour_factor
    limit = problem.max_distance_m

    # ---- eligible arcs (task order, then volunteer index order), exact
    cand = _Candidates(vols, detour)
    slot_keys = sorted({(t.window.start, t.window.end) for t in tasks})
    slot_ix = {k: i for i, k in enumerate(slot_keys)}
    t_slot = np.array([slot_ix[(t.window.start, t.window.end)] for t in tasks], dtype=np.int64)
    day_keys = sorted({s.astimezone(zone).date() for s, _ in slot_keys})
    day_ix = {d: i for i, d in enumerate(day_keys)}
    slot_day = np.array(
        [day_ix[s.astimezone(zone).date()] for s, _ in slot_keys], dtype=np.int64
    )
    avail = _availability(vols, slot_keys)
    pt, pv, pd = _eligible_pairs(tasks, vols, cand, t_slot, avail, detour, limit)
    n_tasks = len(tasks)
    n_vols = len(vols)
    eligible_count = np.bincount(pt, minlength=n_tasks) if n_tasks else np.zeros(0, np.int64)
    best = np.zeros(n_tasks, dtype=np.int64)
    np.maximum.at(best, pt, pd)
    big_m = 1 + int(best.sum())

    # ---- nodes: 0 source, 1 sink, tasks, (volunteer, slot), (volunteer, day), numbered in
    # order of first use along the pairs; arcs per task: source→task, task→sink, then per
    # pair [(vol, day)→sink if new] [(vol, slot)→(vol, day) if new] task→(vol, slot)
    n_slots, n_days = len(slot_keys), len(day_keys)
    n_pairs = len(pt)
    skey = pv * max(n_slots, 1) + t_slot[pt]
    dkey = pv * max(n_days, 1) + slot_day[t_slot[pt]]
    _, s_first, s_inv = np.unique(skey, return_index=True, return_inverse=True)
    _, d_first, d_inv = np.unique(dkey, return_index=True, return_inverse=True)
    new_slot = np.zeros(n_pairs, dtype=np.int64)
    new_slot[s_first] = 1
    new_day = np.zeros(n_pairs, dtype=np.int64)
    new_day[d_first] = 1
    inc = new_slot + new_day
    node_before = 2 + n_tasks + np.concatenate(([0], np.cumsum(inc)[:-1])).astype(np.int64)
    n_nodes = 2 + n_tasks + int(inc.sum())
    snode = node_before[s_first][s_inv.reshape(-1)]
    dnode = (node_before + new_slot)[d_first][d_inv.reshape(-1)]
    per_pair = 1 + inc
    excl = np.concatenate(([0], np.cumsum(per_pair)[:-1])).astype(np.int64)
    pos = 2 * (pt + 1) + excl
    per_task = np.bincount(pt, weights=per_pair, minlength=n_tasks).astype(np.int64)
    task_base = 2 * np.arange(n_tasks, dtype=np.int64) + np.concatenate(
        ([0], np.cumsum(per_task)[:-1])
    ).astype(np.int64)
    n_arcs = 2 * n_tasks + int(per_pair.sum())
    starts = np.empty(n_arcs, dtype=np.int64)
    ends = np.empty(n_arcs, dtype=np.int64)
    caps = np.empty(n_arcs, dtype=np.int64)
    costs = np.zeros(n_arcs, dtype=np.int64)
    tnodes = 2 + np.arange(n_tasks, dtype=np.int64)
    prio = np.array([t.priority for t in tasks], dtype=np.int64)
    starts[task_base], ends[task_base], caps[task_base] = 0, tnodes, 1
    starts[task_base + 1], ends[task_base + 1], caps[task_base + 1] = tnodes, 1, 1
    costs[task_base + 1] = big_m * prio
    cap_slot = np.array([v.capacity_per_slot for v in vols], dtype=np.int64)
    cap_day = np.array([v.capacity_per_day for v in vols], dtype=np.int64)
    nd_mask = new_day == 1
    a = pos[nd_mask]
    starts[a], ends[a], caps[a] = dnode[nd_mask], 1, cap_day[pv[nd_mask]]
    ns_mask = new_slot == 1
    a = (pos + new_day)[ns_mask]
    starts[a], ends[a], caps[a] = snode[ns_mask], dnode[ns_mask], cap_slot[pv[ns_mask]]
    pair_arc = pos + inc
    starts[pair_arc], ends[pair_arc], caps[pair_arc], costs[pair_arc] = 2 + pt, snode, 1, pd
    _ = n_vols

    max_cost = int(costs.max()) if n_arcs else 0
    _log.debug("matching network: %d nodes, %d arcs, M=%d", n_nodes, n_arcs, big_m)
    if n_arcs > MAX_ARCS:
        raise SizeLimitError(f"matching network has {n_arcs} arcs, above the guard {MAX_ARCS}")
    if max_cost * n_nodes * n_nodes >= _INT64_LIMIT:
        raise SizeLimitError(
            f"cost range too wide for an exact int64 min-cost flow: max cost {max_cost} × "
            f"{n_nodes}² nodes ≥ 2^63; split the problem (fewer tasks or a smaller max_distance_m)"
        )

    pair_flow = np.zeros(n_pairs, dtype=bool)
    total_cost = 0
    if n_tasks:
        from ortools.graph.python import min_cost_flow

        smcf = min_cost_flow.SimpleMinCostFlow()
        smcf.add_arcs_with_capacity_and_unit_cost(
            starts.astype(np.int32), ends.astype(np.int32), caps, costs
        )
        supplies = np.zeros(n_nodes, dtype=np.int64)
        supplies[0] = n_tasks
        supplies[1] = -n_tasks
        smcf.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)
        status = smcf.solve()
        if status != smcf.OPTIMAL:
            raise SolverError(f"SimpleMinCostFlow returned status {status} on the matching network")
        pair_flow = np.asarray(smcf.flows(pair_arc)) > 0
        total_cost = int(smcf.optimal_cost())

    # ---- read the result: the first pair (arc order) carrying flow, per task
    flowing = np.nonzero(pair_flow)[0]
    chosen_t, first = np.unique(pt[flowing], return_index=True)
    chosen: dict[int, tuple[int, int]] = {
        int(t): (int(pv[k]), int(pd[k]))
        for t, k in zip(chosen_t.tolist(), flowing[first].tolist(), strict=True)
    }
    counts = eligible_count.tolist()
    matches: list[Match] = []
    unmatched: list[Unmatched] = []
    loads = [0] * len(vols)
    travel = 0
    served = 0
    for ti, task in enumerate(tasks):
        pick = chosen.get(ti)
        if pick is not None:
            vi, dist = pick
            loads[vi] += 1
            travel += dist
            served += task.priority
            matches.append(
                Match(
                    task_id=task.id,
                    volunteer_id=vols[vi].id,
                    distance_m=dist,
                    slot_start=task.window.start.astimezone(zone),
                    priority=task.priority,
                )
            )
        else:
            unmatched.append(
                Unmatched(
                    task_id=task.id,
                    priority=task.priority,
                    reasons=[_primary_reason(problem, vols, cand, task, counts[ti])],
                )
            )
    priority_total = sum(t.priority for t in tasks)
    if total_cost != travel + big_m * (priority_total - served):
        raise SolverError("min-cost flow cost does not match the decoded assignment")

    info = SolveInfo(
        status=SolveStatus.OPTIMAL,
        solver="min-cost-flow",
        objective={"priority_served": float(served), "travel_m": float(travel)},
        options={"objective": objective, "strict": strict},
        versions=library_versions("ortools"),
    )
    result = Assignment(
        matches=matches,
        unmatched=unmatched,
        totals=MatchingTotals(
            tasks=n_tasks,
            matched=len(matches),
            unmatched=len(unmatched),
            priority_served=served,
            priority_total=priority_total,
            travel_m=travel,
        ),
        loads=[VolunteerLoad(volunteer_id=v.id, tasks=loads[i]) for i, v in enumerate(vols)],
        info=info,
    )
    if strict and unmatched:
        ids = [u.task_id for u in unmatched]
        raise InfeasibleError(
            f"{len(ids)} of {n_tasks} tasks could not be matched: {', '.join(ids[:10])}"
            + (" ..." if len(ids) > 10 else ""),
            unserved=ids,
        )
    return result
