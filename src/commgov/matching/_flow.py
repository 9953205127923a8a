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
from datetime import date, datetime
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
    is_available,
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

    tasks = sorted(problem.tasks, key=lambda t: t.id)
    vols = sorted(problem.volunteers, key=lambda v: v.id)
    zone = problem.zone
    detour = problem.detour_factor
    limit = problem.max_distance_m

    # ---- eligible arcs, task by task in id order
    cand = _Candidates(vols, detour)
    avail_cache: dict[tuple[int, Slot], bool] = {}
    eligible: list[list[tuple[int, int]]] = []
    for task in tasks:
        slot: Slot = (task.window.start, task.window.end)
        arcs: list[tuple[int, int]] = []
        for vi in cand.near(task, limit):
            vol = vols[vi]
            if not has_skill(task, vol):
                continue
            key = (vi, slot)
            ok = avail_cache.get(key)
            if ok is None:
                ok = avail_cache[key] = is_available(task, vol)
            if not ok:
                continue
            dist = travel_distance_m(task, vol, detour)
            if dist <= limit:
                arcs.append((vi, dist))
        eligible.append(arcs)

    big_m = 1 + sum(max((d for _, d in arcs), default=0) for arcs in eligible)

    # ---- nodes: 0 source, 1 sink, tasks, (volunteer, slot), (volunteer, day)
    n_tasks = len(tasks)
    slot_node: dict[tuple[int, Slot], int] = {}
    day_node: dict[tuple[int, date], int] = {}
    next_node = 2 + n_tasks
    starts: list[int] = []
    ends: list[int] = []
    caps: list[int] = []
    costs: list[int] = []

    def arc(u: int, v: int, cap: int, cost: int) -> int:
        starts.append(u)
        ends.append(v)
        caps.append(cap)
        costs.append(cost)
        return len(starts) - 1

    task_arcs: list[list[tuple[int, int, int]]] = []  # per task: (arc index, vol idx, dist)
    for ti, (task, arcs) in enumerate(zip(tasks, eligible, strict=True)):
        tnode = 2 + ti
        arc(0, tnode, 1, 0)
        arc(tnode, 1, 1, big_m * task.priority)
        slot = (task.window.start, task.window.end)
        day = task.window.start.astimezone(zone).date()
        mine: list[tuple[int, int, int]] = []
        for vi, dist in arcs:
            skey = (vi, slot)
            snode = slot_node.get(skey)
            if snode is None:
                snode = slot_node[skey] = next_node
                next_node += 1
                dkey = (vi, day)
                dnode = day_node.get(dkey)
                if dnode is None:
                    dnode = day_node[dkey] = next_node
                    next_node += 1
                    arc(dnode, 1, vols[vi].capacity_per_day, 0)
                arc(snode, dnode, vols[vi].capacity_per_slot, 0)
            mine.append((arc(tnode, snode, 1, dist), vi, dist))
        task_arcs.append(mine)

    n_nodes = next_node
    n_arcs = len(starts)
    max_cost = max(costs, default=0)
    _log.debug("matching network: %d nodes, %d arcs, M=%d", n_nodes, n_arcs, big_m)
    if n_arcs > MAX_ARCS:
        raise SizeLimitError(f"matching network has {n_arcs} arcs, above the guard {MAX_ARCS}")
    if max_cost * n_nodes * n_nodes >= _INT64_LIMIT:
        raise SizeLimitError(
            f"cost range too wide for an exact int64 min-cost flow: max cost {max_cost} × "
            f"{n_nodes}² nodes ≥ 2^63; split the problem (fewer tasks or a smaller max_distance_m)"
        )

    flows: list[int] = [0] * n_arcs
    total_cost = 0
    if n_tasks:
        import numpy as np
        from ortools.graph.python import min_cost_flow

        smcf = min_cost_flow.SimpleMinCostFlow()
        smcf.add_arcs_with_capacity_and_unit_cost(
            np.asarray(starts, dtype=np.int32),
            np.asarray(ends, dtype=np.int32),
            np.asarray(caps, dtype=np.int64),
            np.asarray(costs, dtype=np.int64),
        )
        supplies = np.zeros(n_nodes, dtype=np.int64)
        supplies[0] = n_tasks
        supplies[1] = -n_tasks
        smcf.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)
        status = smcf.solve()
        if status != smcf.OPTIMAL:
            raise SolverError(f"SimpleMinCostFlow returned status {status} on the matching network")
        flows = [int(f) for f in smcf.flows(np.arange(n_arcs, dtype=np.int64))]
        total_cost = int(smcf.optimal_cost())

    # ---- read the result
    matches: list[Match] = []
    unmatched: list[Unmatched] = []
    loads = [0] * len(vols)
    travel = 0
    served = 0
    for task, mine, arcs in zip(tasks, task_arcs, eligible, strict=True):
        chosen = [(vi, dist) for a, vi, dist in mine if flows[a] > 0]
        if chosen:
            vi, dist = chosen[0]
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
                    reasons=[_primary_reason(problem, vols, cand, task, len(arcs))],
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
