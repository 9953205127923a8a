"""CP-SAT model of the unsplittable sampling-timeslot plan (F3 with the F2 queue).

Tiers 1 (max people served) and 2 (min Σ people·walk_m) choose batches → points:

* ``y[b,p]`` ∈ {0,1}: building ``b`` uses point ``p`` (allowed, open, within reach);
  ``Σ_p y[b,p] ≤ 1`` (one point per building); ``x[k,p(,t)] ≤ y[b,p]``.
* If every batch is ≤ ``max_queue`` people the slot index is dropped (exact: a set of batches
  can be scheduled at a point iff it fits in the point's total open capacity, because
  earliest-fit never idles a lane while a batch waits); otherwise the full time-expanded model
  ``x[k,p,t]`` with the F2 fluid queue ``q_t ≥ q_{t-1} + a_t − c_t``, ``0 ≤ q ≤ Q``,
  ``q_T = 0`` is used (any feasible ``q`` dominates the fluid backlog, so it is exact).
* symmetry: equal batches of one building are served in id order.

Finish: the batches of each point, fixed by tier 2, are then scheduled earliest-fit (largest
first). When every batch is ≤ ``max_queue`` the point serves at full capacity until its last
batch is done, so each point finishes at the earliest slot its load allows; Σ people·slot is
reported, not minimised further.

Each tier fixes the previous optimum as a constraint and is hinted with the previous solution.
Deterministic: one worker, fixed seed, model built in id order.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from commgov.errors import InfeasibleError, SizeLimitError, SolverError
from commgov.org.zones import ZoneRegime
from commgov.results import Reason, ReasonCode, SolveInfo, SolveStatus, library_versions
from commgov.scheduling.problem import (
    BatchAssignment,
    DoorToDoorBuilding,
    HomeVisit,
    PointSlotLoad,
    SamplingBatch,
    SamplingBuilding,
    SamplingPlan,
    SamplingPoint,
    SamplingProblem,
    SamplingTotals,
    UnservedBatch,
    check_problem,
    reach_limit_m,
    walk_distance_m,
)

log = logging.getLogger("commgov.scheduling")

OBJECTIVES = ("lexicographic",)
RANDOM_SEED = 20220410
NUM_WORKERS = 1
MAX_BATCH_VARS = 2_000_000


@dataclass
class _Data:
    problem: SamplingProblem
    T: int
    points: list[SamplingPoint]
    cap: dict[str, int]
    open: dict[str, list[int]]
    buildings: list[SamplingBuilding]  # non-sealed, by id
    reach: dict[str, list[str]]  # building -> reachable allowed open points, by id
    dist: dict[tuple[str, str], int]
    batches: list[SamplingBatch]  # of non-sealed buildings, by id
    nearest_allowed_open: dict[str, int | None] = field(default_factory=dict)


def _prepare(problem: SamplingProblem) -> _Data:
    pol = problem.policy
    limit = reach_limit_m(pol)
    points = list(problem.points)
    cap = {p.id: problem.capacity(p) for p in points}
    open_ = {p.id: problem.open_slots(p) for p in points}
    pmap = {p.id: p for p in points}
    buildings = [b for b in problem.buildings if b.zone != ZoneRegime.SEALED]
    reach: dict[str, list[str]] = {}
    dist: dict[tuple[str, str], int] = {}
    nearest: dict[str, int | None] = {}
    for b in buildings:
        allowed = [p.id for p in points] if b.allowed_point_ids is None else sorted(
            set(b.allowed_point_ids))
        allowed_open = [pid for pid in allowed if open_[pid] and cap[pid] > 0]
        for pid in allowed_open:
            dist[b.id, pid] = walk_distance_m(b, pmap[pid], pol)
        reach[b.id] = [pid for pid in allowed_open if dist[b.id, pid] <= limit]
        nearest[b.id] = min((dist[b.id, pid] for pid in allowed_open), default=None)
    batches = sorted((k for b in buildings for k in b.batches), key=lambda k: k.id)
    return _Data(problem, problem.n_slots, points, cap, open_, buildings, reach, dist, batches,
                 nearest)


def _unserved_reason(d: _Data, k: SamplingBatch) -> Reason:
    b = k.building_id
    if not d.reach[b]:
        params: dict[str, str | int | float] = {"limit_m": reach_limit_m(d.problem.policy)}
        near = d.nearest_allowed_open[b]
        if near is not None:
            params["distance_m"] = near
        return Reason(code=ReasonCode.NO_POINT_IN_REACH, params=params)
    return Reason(code=ReasonCode.POINT_CAPACITY_USED, params={"people": k.people})


def _loads(d: _Data, placed: dict[str, tuple[str, int]]) -> dict[str, list[list[int]]]:
    """Per point: rows [t, arrivals, capacity, served, backlog] over all slots."""
    people = {k.id: k.people for k in d.batches}
    arr: dict[tuple[str, int], int] = defaultdict(int)
    for kid, (pid, t) in placed.items():
        arr[pid, t] += people[kid]
    out: dict[str, list[list[int]]] = {}
    for p in d.points:
        q = 0
        rows = []
        opened = set(d.open[p.id])
        for t in range(d.T):
            c = d.cap[p.id] if t in opened else 0
            a = arr[p.id, t]
            served = min(q + a, c)
            q = q + a - served
            rows.append([t, a, c, served, q])
        out[p.id] = rows
    return out


def _fits(d: _Data, placed: dict[str, tuple[str, int]], kid: str, pid: str, t: int,
          queue_cap: int | None = None) -> bool:
    trial = dict(placed)
    trial[kid] = (pid, t)
    rows = _loads(d, trial)[pid]
    qmax = d.problem.policy.max_queue if queue_cap is None else queue_cap
    return all(r[4] <= qmax for r in rows) and rows[-1][4] == 0


def _repair(d: _Data, placed: dict[str, tuple[str, int]]) -> int:
    """Greedily insert unplaced batches that still fit (used when a tier hit its limit)."""
    added = 0
    bpoint = {kb: placed[k.id][0] for k in d.batches if k.id in placed for kb in [k.building_id]}
    for k in d.batches:
        if k.id in placed or not d.reach[k.building_id]:
            continue
        b = k.building_id
        cands = [bpoint[b]] if b in bpoint else sorted(d.reach[b], key=lambda p: (d.dist[b, p], p))
        done = False
        for pid in cands:
            for t in d.open[pid]:
                if _fits(d, placed, k.id, pid, t):
                    placed[k.id] = (pid, t)
                    bpoint[b] = pid
                    added += 1
                    done = True
                    break
            if done:
                break
    return added


@dataclass
class _Tier:
    name: str
    status: Any
    value: int | None
    bound: float | None
    solution: dict[str, tuple[str, int]]


def _solve(m: cp_model.CpModel, seconds: float, name: str,
           det_time: float | None = None) -> tuple[cp_model.CpSolver, Any]:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = NUM_WORKERS
    solver.parameters.random_seed = RANDOM_SEED
    solver.parameters.max_time_in_seconds = max(0.05, seconds)
    if det_time is not None:
        solver.parameters.max_deterministic_time = det_time
    status = solver.solve(m)
    log.debug("%s: %s objective=%s bound=%s", name, solver.status_name(status),
              solver.objective_value, solver.best_objective_bound)
    if status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
        raise SolverError(f"CP-SAT returned {solver.status_name(status)} on {name!r}; "
                          "the sampling model is always feasible (please report this)")
    return solver, status


def _queue(m: cp_model.CpModel, d: _Data, pid: str,
           arrivals: dict[int, list[tuple[int, cp_model.IntVar]]]) -> None:
    """F2 fluid-queue constraints of one point: q_t ≥ q_{t-1} + a_t − c_t, 0 ≤ q ≤ Q, q_T = 0."""
    opened = set(d.open[pid])
    if not any(arrivals.get(t) for t in opened):
        return
    prev: Any = 0
    for t in range(min(opened), d.T):
        c = d.cap[pid] if t in opened else 0
        a = sum(w * v for w, v in arrivals.get(t, []))
        if t == d.T - 1:
            m.add(prev + a - c <= 0)
        else:
            q = m.new_int_var(0, d.problem.policy.max_queue, f"q[{pid},{t}]")
            m.add(q >= prev + a - c)
            prev = q


def _points_tiers(d: _Data, time_limit_s: float, start: float) -> list[_Tier]:
    """Tiers 1 (max served) and 2 (min walking): batches → points.

    When every batch is no larger than ``max_queue``, the slots do not matter for these tiers:
    a set of batches can be scheduled at a point without breaking the queue rules iff their
    people fit in the point's total capacity over its open slots (earliest-fit never leaves a
    lane idle while a batch waits to be called, since each batch fits on an empty queue).
    The model is then slot-free: ``x[k,p]``, ``Σ people·x ≤ c_p·|open_p|``. Otherwise the
    full time-expanded model ``x[k,p,t]`` with the F2 queue is used.
    """
    qmax = d.problem.policy.max_queue
    slot_free = all(k.people <= qmax for k in d.batches)
    m = cp_model.CpModel()
    y: dict[tuple[str, str], cp_model.IntVar] = {}
    for b in d.buildings:
        for pid in d.reach[b.id]:
            y[b.id, pid] = m.new_bool_var(f"y[{b.id},{pid}]")
        if len(d.reach[b.id]) > 1:
            m.add_at_most_one(y[b.id, pid] for pid in d.reach[b.id])
    x: dict[tuple[str, str, int], cp_model.IntVar] = {}
    srv: dict[str, cp_model.IntVar] = {}

    def slots(pid: str) -> list[int]:
        return [-1] if slot_free else d.open[pid]

    for k in d.batches:
        bid = k.building_id
        keys = [(pid, t) for pid in d.reach[bid] for t in slots(pid)]
        if not keys:
            continue
        for pid, t in keys:
            x[k.id, pid, t] = m.new_bool_var(f"x[{k.id},{pid},{t}]")
        for pid in d.reach[bid]:
            m.add(sum(x[k.id, pid, t] for t in slots(pid)) <= y[bid, pid])
        srv[k.id] = m.new_bool_var(f"s[{k.id}]")
        m.add(sum(x[k.id, pid, t] for pid, t in keys) == srv[k.id])
        if k.people == 0:  # costs nothing: always placed
            m.add(srv[k.id] == 1)
    if len(x) > MAX_BATCH_VARS:
        raise SizeLimitError(f"sampling model has {len(x)} assignment variables "
                             f"(limit {MAX_BATCH_VARS})")
    # symmetry: of identical batches of one building, serve the smaller ids first
    groups: dict[tuple[str, int], list[str]] = defaultdict(list)
    for k in d.batches:
        if k.id in srv:
            groups[k.building_id, k.people].append(k.id)
    for grp in groups.values():
        for k1, k2 in itertools.pairwise(grp):
            m.add(srv[k1] >= srv[k2])
    people = {k.id: k.people for k in d.batches}
    building_of = {k.id: k.building_id for k in d.batches}
    for p in d.points:
        if slot_free:
            load = [(people[kid], v) for (kid, pid, _t), v in x.items() if pid == p.id]
            if load:
                m.add(sum(w * v for w, v in load) <= d.cap[p.id] * len(d.open[p.id]))
        else:
            arr: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
            for (kid, pid, t), v in x.items():
                if pid == p.id and people[kid]:
                    arr[t].append((people[kid], v))
            _queue(m, d, p.id, arr)
    served_expr = sum(people[kid] * v for (kid, _p, _t), v in x.items())
    walk_expr = sum(people[kid] * d.dist[building_of[kid], pid] * v
                    for (kid, pid, _t), v in x.items())
    tiers: list[_Tier] = []
    hint: dict[str, tuple[str, int]] = {}
    for name, expr, maximise in (("served", served_expr, True),
                                 ("walk_person_m", walk_expr, False)):
        if not x:
            tiers.append(_Tier(name, cp_model.OPTIMAL, 0, 0.0, {}))
            continue
        if maximise:
            m.maximize(expr)
        else:
            m.minimize(expr)
        m.clear_hints()  # type: ignore[no-untyped-call]
        if hint:
            used = {(building_of[kid], pid) for kid, (pid, _t) in hint.items()}
            for key, v in y.items():
                m.add_hint(v, key in used)
            for (kid, pid, t), v in x.items():
                m.add_hint(v, hint.get(kid) == (pid, t))
            for kid, v in srv.items():
                m.add_hint(v, kid in hint)
        solver, status = _solve(m, time_limit_s - (time.monotonic() - start), name)
        if status == cp_model.UNKNOWN:
            tiers.append(_Tier(name, status, None, solver.best_objective_bound, dict(hint)))
            break
        sol = {kid: (pid, t) for (kid, pid, t), v in x.items() if solver.boolean_value(v)}
        value = round(solver.objective_value)
        tiers.append(_Tier(name, status, value, solver.best_objective_bound, sol))
        hint = sol
        m.add(expr >= value if maximise else expr <= value)
    return tiers


def _earliest_fit(
    d: _Data, pid: str, kids: list[str], queue_cap: int | None = None
) -> dict[str, int]:
    """Earliest slot for each batch in turn, keeping the carried queue ≤ ``queue_cap``."""
    placed: dict[str, tuple[str, int]] = {}
    for kid in kids:
        for t in d.open[pid]:
            if _fits(d, placed, kid, pid, t, queue_cap):
                placed[kid] = (pid, t)
                break
    return {kid: t for kid, (_p, t) in placed.items()}


def _solve_tiers(d: _Data, time_limit_s: float) -> list[_Tier]:
    start = time.monotonic()
    tiers = _points_tiers(d, time_limit_s, start)
    placed = dict(tiers[-1].solution)
    if all(k.people <= d.problem.policy.max_queue for k in d.batches):
        # finish tier: earliest-fit per point, building by building, with the carried queue
        # capped at the point's largest batch θ. If a batch does not fit in slot t then
        # q + a − c > θ − p ≥ 0, so the lanes are busy: each point serves at full capacity until
        # its last batch is done and finishes at the earliest slot its load allows, while
        # nobody queues behind more than θ people (not the policy's max_queue).
        by_point: dict[str, list[str]] = defaultdict(list)
        for kid in sorted(placed):
            by_point[placed[kid][0]].append(kid)
        people = {k.id: k.people for k in d.batches}
        building = {k.id: k.building_id for k in d.batches}
        for pid, kids in by_point.items():
            theta = max(people[k] for k in kids)
            fit = _earliest_fit(d, pid, sorted(kids, key=lambda k: (building[k], k)), theta)
            for kid in kids:
                if kid in fit:
                    placed[kid] = (pid, fit[kid])
                else:  # cannot happen when every batch ≤ max_queue; stay safe
                    del placed[kid]
        tiers[-1].solution = dict(placed)
    return tiers


def _build_plan(d: _Data, placed: dict[str, tuple[str, int]], status: SolveStatus,
                bound: float | None, options: dict[str, Any]) -> SamplingPlan:
    prob = d.problem
    assignments = []
    for k in d.batches:
        if k.id in placed:
            pid, t = placed[k.id]
            assignments.append(BatchAssignment(
                batch_id=k.id, building_id=k.building_id, point_id=pid, slot=t,
                slot_start=prob.slot_start(t), people=k.people,
                walk_m=d.dist[k.building_id, pid]))
    unserved = [
        UnservedBatch(batch_id=k.id, building_id=k.building_id, people=k.people,
                      reasons=[_unserved_reason(d, k)])
        for k in d.batches if k.id not in placed
    ]
    loads_all = _loads(d, placed)
    loads = [
        PointSlotLoad(point_id=p.id, slot=t, arrivals=a, capacity=c, served=s, backlog=q)
        for p in d.points
        for t, a, c, s, q in loads_all[p.id]
        if t in set(d.open[p.id])
    ]
    door = []
    visits = []
    for b in prob.buildings:
        if b.zone == ZoneRegime.SEALED:
            residents = sum(k.people for k in b.batches) + b.mobility_limited
            door.append(DoorToDoorBuilding(
                building_id=b.id, households=sum(k.households for k in b.batches),
                residents=residents,
                reason=Reason(code=ReasonCode.SEALED_ZONE, params={"residents": residents})))
        elif b.mobility_limited > 0:
            visits.append(HomeVisit(building_id=b.id, residents=b.mobility_limited))
    served = sum(a.people for a in assignments)
    walk = sum(a.people * a.walk_m for a in assignments)
    slots = sum(a.people * a.slot for a in assignments)
    walk_in = sum(k.people for k in d.batches)
    totals = SamplingTotals(
        walk_in_people=walk_in, served_people=served, unserved_people=walk_in - served,
        walk_person_m=walk, person_slots=slots,
        max_backlog=max((r[4] for rows in loads_all.values() for r in rows), default=0),
        last_slot=max((a.slot for a in assignments if a.people > 0), default=-1))
    gap: float | None = None
    if bound is not None:
        gap = (walk - bound) / bound if bound > 0 else (0.0 if walk == 0 else None)
    info = SolveInfo(
        status=status, solver="cp-sat",
        objective={"served": float(served), "walk_person_m": float(walk),
                   "person_slots": float(slots)},
        bound=bound, gap=gap, options=options, seed=RANDOM_SEED,
        versions=library_versions("ortools"))
    return SamplingPlan(
        assignments=assignments,
        building_points={a.building_id: a.point_id for a in assignments},
        loads=loads, door_to_door=door, home_visits=visits, unserved=unserved,
        totals=totals, info=info)


def plan_sampling(problem: SamplingProblem, *, objective: str = "lexicographic",
                  time_limit_s: float = 30.0, strict: bool = False) -> SamplingPlan:
    """Exact sampling-timeslot plan (CP-SAT); see :func:`commgov.scheduling.plan_sampling`."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if not time_limit_s > 0:
        raise ValueError(f"time_limit_s must be positive, got {time_limit_s!r}")
    check_problem(problem)
    d = _prepare(problem.canonical())
    tiers = _solve_tiers(d, float(time_limit_s))
    placed = dict(tiers[-1].solution)
    added = _repair(d, placed)
    complete = len(tiers) == 2 and all(t.status == cp_model.OPTIMAL for t in tiers)
    if tiers[0].value is None:
        status = SolveStatus.LIMIT
    elif complete and not added:
        status = SolveStatus.OPTIMAL
    else:
        status = SolveStatus.FEASIBLE
    bound: float | None = None
    if len(tiers) >= 2 and tiers[1].value is not None and not added:
        bound = float(tiers[1].value) if tiers[1].status == cp_model.OPTIMAL else float(
            math.ceil(tiers[1].bound - 1e-6) if tiers[1].bound is not None else 0.0)
    options = {"objective": objective, "time_limit_s": float(time_limit_s),
               "num_workers": NUM_WORKERS, "random_seed": RANDOM_SEED, "strict": strict}
    plan = _build_plan(d, placed, status, bound, options)
    if strict and plan.unserved:
        raise InfeasibleError(
            f"{len(plan.unserved)} batches ({plan.totals.unserved_people} people) could not be "
            "placed", [u.batch_id for u in plan.unserved])
    return plan
