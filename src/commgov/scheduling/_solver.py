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

Time: one deadline, ``start + time_limit_s``, covers everything. The CP-SAT tiers get the time
left less a reserve for the post-solver phases (finish and greedy completion), and a tier is
not started with less than :data:`MIN_TIER_S` left. The post-solver phases insert batches one
at a time with incremental checks on one point's queue (:class:`_PointQueue`): O(T) per check
instead of recomputing every point's queue, so the greedy completion of n batches costs
O(n · points in reach · T) at worst.
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

from commgov.errors import InfeasibleError, SizeLimitError, SolverError, expect_type
from commgov.results import Reason, ReasonCode, SolveInfo, SolveStatus, library_versions
from commgov.scheduling._gap import (
    GapInstance,
    GapSolution,
    gap_instance,
    solve_gap,
    transport_bound,
)
from commgov.scheduling.problem import (
    BatchAssignment,
    DoorToDoorBuilding,
    HomeVisit,
    PointSlotLoad,
    SamplingBatch,
    SamplingBound,
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
#: A CP-SAT tier is started only with at least this many seconds left before the deadline
#: (less the post-solver reserve); otherwise the greedy completion alone builds the plan.
MIN_TIER_S = 0.05
#: Seconds reserved for the post-solver phases (finish, greedy completion, plan records) and
#: for the steps between deadline checks: a base, a share per batch and a share per model
#: variable. Measured on 20,000 households (2,739 batches, 31 points in reach of every
#: building, 146,000 variables): greedy completion from scratch and plan records 0.06 s,
#: reading a CP-SAT solution or fixing a tier's optimum ≈ 0.1-0.3 s; reserve 1.0 s.
RESERVE_BASE_S = 0.02
RESERVE_PER_BATCH_S = 2e-4
RESERVE_PER_VAR_S = 3e-6
#: Seconds to build the CP-SAT model, per variable (measured ≈ 14 µs); CP-SAT is skipped when
#: the model could not be built and solved for :data:`MIN_TIER_S` before the deadline.
BUILD_PER_VAR_S = 2e-5


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
    people: dict[str, int] = field(default_factory=dict)  # batch id -> people

    def __post_init__(self) -> None:
        self.people = {k.id: k.people for k in self.batches}


def _prepare(problem: SamplingProblem) -> _Data:
    pol = problem.policy
    limit = reach_limit_m(pol)
    points = list(problem.points)
    cap = {p.id: problem.capacity(p) for p in points}
    open_ = {p.id: problem.open_slots(p) for p in points}
    pmap = {p.id: p for p in points}
    # sealed 封控区 and high-risk 高风险区 buildings stay home: sampled door to door
    buildings = [b for b in problem.buildings if b.zone.rank < 2]
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


def _gap_instance(d: _Data) -> GapInstance:
    """The building-level data of :mod:`commgov.scheduling._gap` (buildings, points by id)."""
    index = {p.id: j for j, p in enumerate(d.points)}
    people: dict[str, int] = defaultdict(int)
    for k in d.batches:
        people[k.building_id] += k.people
    return gap_instance(
        [people[b.id] for b in d.buildings],
        [[index[pid] for pid in d.reach[b.id]] for b in d.buildings],
        [[d.dist[b.id, pid] for pid in d.reach[b.id]] for b in d.buildings],
        [d.cap[p.id] * len(d.open[p.id]) for p in d.points],
        [(p.location.lon, p.location.lat) for p in d.points])


def _reachable_people(inst: GapInstance) -> int:
    return sum(w for w, r in zip(inst.w, inst.reach, strict=True) if r)


def lower_bound(problem: SamplingProblem) -> SamplingBound:
    """The splittable relaxation; see :func:`commgov.scheduling.lower_bound`."""
    expect_type(problem, SamplingProblem, "problem",
                "build one with sampling_problem_from_org or SamplingProblem(...)")
    check_problem(problem)
    d = _prepare(problem.canonical())
    inst = _gap_instance(d)
    lp = transport_bound(inst)
    return SamplingBound(walk_in_people=sum(k.people for k in d.batches),
                         reachable_people=_reachable_people(inst), served_people=lp.served,
                         walk_person_m=lp.walk)


def _unserved_reason(d: _Data, k: SamplingBatch) -> Reason:
    b = k.building_id
    if not d.reach[b]:
        params: dict[str, str | int | float] = {"limit_m": reach_limit_m(d.problem.policy)}
        near = d.nearest_allowed_open[b]
        if near is not None:
            params["distance_m"] = near
        return Reason(code=ReasonCode.NO_POINT_IN_REACH, params=params)
    return Reason(code=ReasonCode.POINT_CAPACITY_USED, params={"people": k.people})


def _capacity_row(d: _Data, pid: str) -> list[int]:
    """Capacity of point ``pid`` in each slot 0 … T-1 (people; 0 when the point is closed)."""
    opened = set(d.open[pid])
    return [d.cap[pid] if t in opened else 0 for t in range(d.T)]


def _loads(d: _Data, placed: dict[str, tuple[str, int]]) -> dict[str, list[list[int]]]:
    """Per point: rows [t, arrivals, capacity, served, backlog] over all slots."""
    people = d.people
    arr: dict[tuple[str, int], int] = defaultdict(int)
    for kid, (pid, t) in placed.items():
        arr[pid, t] += people[kid]
    out: dict[str, list[list[int]]] = {}
    for p in d.points:
        q = 0
        rows = []
        for t, c in enumerate(_capacity_row(d, p.id)):
            a = arr[p.id, t]
            served = min(q + a, c)
            q = q + a - served
            rows.append([t, a, c, served, q])
        out[p.id] = rows
    return out


class _PointQueue:
    """The F2 fluid queue of one point, updated one batch at a time.

    ``arrivals[t]`` people arrive in slot ``t``; the backlog is
    ``q_t = max(0, q_{t-1} + a_t - c_t)`` with ``c_t`` the slot capacity (0 when closed). The
    arrivals are *valid* when ``q_t ≤ qmax`` in every slot and ``q_{T-1} = 0``.

    Adding ``p`` people in slot ``t`` leaves ``q_s`` unchanged for ``s < t`` and raises it by
    ``δ_s = max(0, p - U(t..s))`` for ``s ≥ t``, where ``U(t..s)`` is the capacity left unused
    in slots ``t … s`` (``u_s = max(0, c_s - q_{s-1} - a_s)``). So after one O(T) pass over the
    current arrivals (redone only after :meth:`add`), :meth:`fits` answers in O(T) at most,
    usually O(1), exactly as a fresh O(T) scan of the queue with the batch added would.
    """

    __slots__ = ("_free", "_ok", "_q", "_stale", "_u", "arrivals", "capacity", "qmax")

    def __init__(self, capacity: list[int], qmax: int) -> None:
        self.capacity = capacity
        self.qmax = qmax
        self.arrivals = [0] * len(capacity)
        self._q: list[int] = []
        self._u: list[int] = []
        self._free: list[int] = []
        self._ok = True
        self._stale = True

    def add(self, t: int, people: int) -> None:
        """Commit ``people`` arrivals in slot ``t``."""
        self.arrivals[t] += people
        self._stale = True

    def _refresh(self) -> None:
        q = 0
        qs: list[int] = []
        us: list[int] = []
        ok = True
        for a, c in zip(self.arrivals, self.capacity, strict=True):
            x = q + a - c
            if x >= 0:
                q, u = x, 0
            else:
                q, u = 0, -x
            if q > self.qmax:
                ok = False
            qs.append(q)
            us.append(u)
        free = [0] * (len(us) + 1)
        for t in range(len(us) - 1, -1, -1):
            free[t] = free[t + 1] + us[t]
        self._q, self._u, self._free = qs, us, free
        self._ok = ok and q == 0
        self._stale = False

    def fits(self, t: int, people: int) -> bool:
        """Whether ``people`` more arrivals in slot ``t`` keep the queue valid."""
        if self._stale:
            self._refresh()
        if not self._ok or people > self._free[t]:
            return False
        excess = people
        for s in range(t, len(self._q)):
            excess -= self._u[s]
            if excess <= 0:
                return True  # from here on the queue is the current, valid one
            if self._q[s] + excess > self.qmax:
                return False
        return excess <= 0  # not reached: people ≤ free[t] absorbs the batch by slot T-1

    def first_fit(self, slots: list[int], people: int) -> int | None:
        """The first of ``slots`` (ascending) where ``people`` more arrivals fit, or ``None``."""
        if self._stale:
            self._refresh()
        for t in slots:
            if people > self._free[t]:
                return None  # unused capacity from t on only shrinks as t grows
            if self.fits(t, people):
                return t
        return None


def _repair(d: _Data, placed: dict[str, tuple[str, int]],
            deadline: float = math.inf) -> tuple[int, bool]:
    """Greedily insert unplaced batches that still fit (used when a tier hit its limit).

    Each unplaced batch with a point in reach goes, in id order, to its building's point if the
    building already has one, else to the nearest reachable point where it fits, in the
    earliest open slot where it fits under ``max_queue``. The deadline is checked before each
    batch: once it has passed, no further batch is tried.

    Returns
    -------
    added : int
        Batches inserted into ``placed`` (in place).
    complete : bool
        ``False`` if the deadline stopped the pass with batches left untried.
    """
    added = 0
    qmax = d.problem.policy.max_queue
    people = d.people
    queues = {p.id: _PointQueue(_capacity_row(d, p.id), qmax) for p in d.points}
    for kid, (pid, t) in placed.items():
        queues[pid].add(t, people[kid])
    bpoint = {kb: placed[k.id][0] for k in d.batches if k.id in placed for kb in [k.building_id]}
    for k in d.batches:
        if k.id in placed or not d.reach[k.building_id]:
            continue
        if time.monotonic() > deadline:
            log.warning("time limit reached in the greedy completion: %d batches inserted, "
                        "the rest left untried", added)
            return added, False
        b = k.building_id
        cands = [bpoint[b]] if b in bpoint else sorted(d.reach[b], key=lambda p: (d.dist[b, p], p))
        for pid in cands:
            slot = queues[pid].first_fit(d.open[pid], k.people)
            if slot is not None:
                placed[k.id] = (pid, slot)
                queues[pid].add(slot, k.people)
                bpoint[b] = pid
                added += 1
                break
    return added, True


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
    solver.parameters.max_time_in_seconds = max(MIN_TIER_S, seconds)
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


def _hint_tier(m: cp_model.CpModel, hint: dict[str, tuple[str, int]],
               building_of: dict[str, str], y: dict[tuple[str, str], Any],
               x: dict[tuple[str, str, int], Any], srv: dict[str, Any]) -> None:
    """Hint the tier model with a plan (batch → (point, slot)): its building points, its
    assignments and which batches it serves."""
    used = {(building_of[kid], pid) for kid, (pid, _t) in hint.items()}
    for key, v in y.items():
        m.add_hint(v, key in used)
    for (kid, pid, t), v in x.items():
        m.add_hint(v, hint.get(kid) == (pid, t))
    for kid, v in srv.items():
        m.add_hint(v, kid in hint)


def _points_tiers(d: _Data, deadline: float) -> list[_Tier]:
    """Tiers 1 (max served) and 2 (min walking): batches → points.

    Each tier gets the time left before ``deadline`` (already less the post-solver reserve);
    a tier that would get less than :data:`MIN_TIER_S` is not started and is returned as
    ``UNKNOWN`` with no bound, carrying the previous tier's solution.

    When every batch is no larger than ``max_queue``, the slots do not matter for these tiers:
    a set of batches can be scheduled at a point without breaking the queue rules iff their
    people fit in the point's total capacity over its open slots (earliest-fit never leaves a
    lane idle while a batch waits to be called, since each batch fits on an empty queue).
    The model is then slot-free: ``x[k,p]``, ``Σ people·x ≤ c_p·|open_p|``. Otherwise the
    full time-expanded model ``x[k,p,t]`` with the F2 queue is used.
    """
    if not any(d.reach[k.building_id] for k in d.batches):  # nothing to choose: both tiers 0
        return [_Tier(name, cp_model.OPTIMAL, 0, 0.0, {}) for name in ("served", "walk_person_m")]
    if deadline - time.monotonic() < BUILD_PER_VAR_S * _model_vars(d) + MIN_TIER_S:
        log.info("time limit: no time to build and solve the CP-SAT model")
        return [_Tier("served", cp_model.UNKNOWN, None, None, {})]
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

    def out_of_time() -> bool:
        if time.monotonic() <= deadline - MIN_TIER_S:
            return False
        log.info("time limit: CP-SAT model not finished, tiers not started")
        return True

    for k in d.batches:
        if out_of_time():  # building a large model can eat the budget
            return [_Tier("served", cp_model.UNKNOWN, None, None, {})]
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
    if out_of_time():
        return [_Tier("served", cp_model.UNKNOWN, None, None, {})]
    people = d.people
    building_of = {k.id: k.building_id for k in d.batches}
    at_point: dict[str, list[tuple[str, int, cp_model.IntVar]]] = defaultdict(list)
    for (kid, pid, t), v in x.items():  # one pass, keeping the order of x within each point
        at_point[pid].append((kid, t, v))
    for p in d.points:
        if slot_free:
            load = [(people[kid], v) for kid, _t, v in at_point[p.id]]
            if load:
                m.add(sum(w * v for w, v in load) <= d.cap[p.id] * len(d.open[p.id]))
        else:
            arr: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
            for kid, t, v in at_point[p.id]:
                if people[kid]:
                    arr[t].append((people[kid], v))
            _queue(m, d, p.id, arr)
    if out_of_time():
        return [_Tier("served", cp_model.UNKNOWN, None, None, {})]
    served_expr = sum(people[kid] * v for (kid, _p, _t), v in x.items())
    walk_expr = sum(people[kid] * d.dist[building_of[kid], pid] * v
                    for (kid, pid, _t), v in x.items())
    tiers: list[_Tier] = []
    hint: dict[str, tuple[str, int]] = {}
    optimum: Any = None  # the previous tier's optimum, fixed as a constraint of the next tier
    for name, expr, maximise in (("served", served_expr, True),
                                 ("walk_person_m", walk_expr, False)):
        if not x:
            tiers.append(_Tier(name, cp_model.OPTIMAL, 0, 0.0, {}))
            continue
        if deadline - time.monotonic() < MIN_TIER_S:
            log.info("time limit: tier %r not started", name)
            tiers.append(_Tier(name, cp_model.UNKNOWN, None, None, dict(hint)))
            break
        if optimum is not None:
            m.add(optimum)
        if maximise:
            m.maximize(expr)
        else:
            m.minimize(expr)
        m.clear_hints()  # type: ignore[no-untyped-call]
        if hint:
            _hint_tier(m, hint, building_of, y, x, srv)
        solver, status = _solve(m, deadline - time.monotonic(), name)
        if status == cp_model.UNKNOWN:
            tiers.append(_Tier(name, status, None, solver.best_objective_bound, dict(hint)))
            break
        sol = {kid: (pid, t) for (kid, pid, t), v in x.items() if solver.boolean_value(v)}
        value = round(solver.objective_value)
        tiers.append(_Tier(name, status, value, solver.best_objective_bound, sol))
        hint = sol
        optimum = expr >= value if maximise else expr <= value
    return tiers


def _earliest_fit(d: _Data, pid: str, kids: list[str], queue_cap: int | None = None,
                  deadline: float = math.inf) -> tuple[dict[str, int], bool]:
    """Earliest slot for each batch in turn, keeping the carried queue ≤ ``queue_cap``.

    Returns the slots found and whether every batch was tried before ``deadline``.
    """
    people = d.people
    qmax = d.problem.policy.max_queue if queue_cap is None else queue_cap
    queue = _PointQueue(_capacity_row(d, pid), qmax)
    out: dict[str, int] = {}
    for kid in kids:
        if time.monotonic() > deadline:
            return out, False
        t = queue.first_fit(d.open[pid], people[kid])
        if t is not None:
            queue.add(t, people[kid])
            out[kid] = t
    return out, True


@dataclass
class _Outcome:
    tiers: list[_Tier]
    placed: dict[str, tuple[str, int]]
    dropped: int  # batches placed by the tiers that the finish could not schedule
    complete: bool  # every batch was scheduled or tried before the deadline


def _solve_tiers(d: _Data, deadline: float, reserve: float) -> _Outcome:
    tiers = _points_tiers(d, deadline - reserve)
    placed = dict(tiers[-1].solution)
    dropped, complete = _finish(d, placed, deadline)
    tiers[-1].solution = dict(placed)
    return _Outcome(tiers, placed, dropped, complete)


def _finish(d: _Data, placed: dict[str, tuple[str, int]], deadline: float) -> tuple[int, bool]:
    """Schedule the batches of each point earliest-fit (in place); (dropped, complete)."""
    dropped = 0
    complete = True
    if all(k.people <= d.problem.policy.max_queue for k in d.batches):
        # finish tier: earliest-fit per point, building by building, with the carried queue
        # capped at the point's largest batch θ. If a batch does not fit in slot t then
        # q + a − c > θ − p ≥ 0, so the lanes are busy: each point serves at full capacity until
        # its last batch is done and finishes at the earliest slot its load allows, while
        # nobody queues behind more than θ people (not the policy's max_queue).
        by_point: dict[str, list[str]] = defaultdict(list)
        for kid in sorted(placed):
            by_point[placed[kid][0]].append(kid)
        people = d.people
        building = {k.id: k.building_id for k in d.batches}
        for pid, kids in by_point.items():
            theta = max(people[k] for k in kids)
            order = sorted(kids, key=lambda k: (building[k], k))
            fit, tried = _earliest_fit(d, pid, order, theta, deadline) if complete else ({}, False)
            complete = complete and tried
            for kid in kids:
                if kid in fit:
                    placed[kid] = (pid, fit[kid])
                else:  # a deadline stop (never a misfit when every batch ≤ max_queue)
                    del placed[kid]
                    dropped += 1
        if not complete:
            log.warning("time limit reached while scheduling slots: %d batches left to the "
                        "greedy completion", dropped)
    return dropped, complete


def _model_vars(d: _Data) -> int:
    """Boolean variables of the tier model: y[b,p], x[k,p(,t)] and s[k] (an estimate of size)."""
    slot_free = all(k.people <= d.problem.policy.max_queue for k in d.batches)
    n_y = sum(len(d.reach[b.id]) for b in d.buildings)
    n_x = sum(1 if slot_free else len(d.open[pid])
              for k in d.batches for pid in d.reach[k.building_id])
    return n_y + n_x + len(d.batches)


def _reserve_s(d: _Data) -> float:
    """Seconds kept from CP-SAT for the post-solver phases and the unchecked steps."""
    return (RESERVE_BASE_S + RESERVE_PER_BATCH_S * len(d.batches)
            + RESERVE_PER_VAR_S * _model_vars(d))


def _build_plan(d: _Data, placed: dict[str, tuple[str, int]], status: SolveStatus,
                bound: float | None, options: dict[str, Any],
                solver: str = "cp-sat") -> SamplingPlan:
    prob = d.problem
    assignments = []
    for k in d.batches:
        if k.id in placed:
            pid, t = placed[k.id]
            assignments.append(BatchAssignment(
                batch_id=k.id, building_id=k.building_id, point_id=pid, slot=t,
                slot_start=prob.slot_start(t), people=k.people,
                walk_m=d.dist[k.building_id, pid]))
    def reason(k: SamplingBatch) -> Reason:
        r = _unserved_reason(d, k)
        if status == SolveStatus.LIMIT and r.code == ReasonCode.POINT_CAPACITY_USED:
            # the greedy completion was cut short: capacity was not checked for this batch
            return Reason(code=ReasonCode.TIME_LIMIT_REACHED,
                          params={"time_limit_s": options["time_limit_s"]})
        return r

    unserved = [
        UnservedBatch(batch_id=k.id, building_id=k.building_id, people=k.people,
                      reasons=[reason(k)])
        for k in d.batches if k.id not in placed
    ]
    loads_all = _loads(d, placed)
    loads = [
        PointSlotLoad(point_id=p.id, slot=t, arrivals=a, capacity=c, served=s, backlog=q)
        for p in d.points
        for opened in [set(d.open[p.id])]
        for t, a, c, s, q in loads_all[p.id]
        if t in opened
    ]
    door = []
    visits = []
    for b in prob.buildings:
        if b.zone.rank >= 2:
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
        status=status, solver=solver,
        objective={"served": float(served), "walk_person_m": float(walk),
                   "person_slots": float(slots)},
        bound=bound, gap=gap, options=options, seed=RANDOM_SEED,
        versions=library_versions("ortools"))
    return SamplingPlan(
        assignments=assignments,
        building_points={a.building_id: a.point_id for a in assignments},
        loads=loads, door_to_door=door, home_visits=visits, unserved=unserved,
        totals=totals, info=info)


def _bound(tiers: list[_Tier], served: int, lp_served: int, lp_walk: int) -> float | None:
    """A proven lower bound on walk_person_m for plans serving ``served`` people, or ``None``.

    The relaxation's walking ``lp_walk`` when the plan serves as many people as the relaxation
    (``lp_served``, the most any plan can serve); from the CP-SAT tiers, when tier 1 is proven
    optimal and the plan serves exactly that many people: tier 2's optimum when proven, else
    CP-SAT's best bound (rounded up, walking is a whole number of person-metres). The larger
    of the two when both hold.
    """
    best: float | None = float(lp_walk) if served == lp_served else None
    if tiers and tiers[0].status == cp_model.OPTIMAL and tiers[0].value == served and \
            len(tiers) >= 2:
        walk = tiers[1]
        cand: float | None = None
        if walk.status == cp_model.OPTIMAL and walk.value is not None:
            cand = float(walk.value)
        elif walk.bound is not None and math.isfinite(walk.bound):
            cand = float(max(0, math.ceil(walk.bound - 1e-6)))
        if cand is not None:
            best = cand if best is None else max(best, cand)
    return best


#: Deterministic work of the building-level search per second of ``time_limit_s``: CP-SAT
#: deterministic time, measured at ≈ 0.7 units per wall second on the 2-core benchmark machine
#: (tier D48). 0.45 leaves a third of the limit as margin (D48 at 60 s: ~42 s; at 0.6 the
#: wall-clock cap bound first and two runs differed), so the search stops on this
#: deterministic budget and the same input and options give the same plan on any machine
#: not much slower.
LNS_DET_PER_S = 0.45

#: The batch-level CP-SAT tiers (exact when residents of a building may be left out batch by
#: batch) are used instead of the building-level search when the relaxation cannot serve
#: everyone in reach and the model has at most this many variables.
BATCH_MODEL_MAX_VARS = 50_000


def plan_sampling(problem: SamplingProblem, *, objective: str = "lexicographic",
                  time_limit_s: float = 30.0, gap_limit: float = 0.005,
                  strict: bool = False) -> SamplingPlan:
    """Sampling-timeslot plan; see :func:`commgov.scheduling.plan_sampling`."""
    start = time.monotonic()
    expect_type(problem, SamplingProblem, "problem",
                "build one with sampling_problem_from_org or SamplingProblem(...)")
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    for name, value in (("time_limit_s", time_limit_s), ("gap_limit", gap_limit)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if not 0 < time_limit_s < math.inf:  # also refuses nan
        raise ValueError(f"time_limit_s must be a positive, finite number of seconds, got "
                         f"{time_limit_s!r}")
    if not 0 <= gap_limit < math.inf:
        raise ValueError(f"gap_limit must be a finite fraction ≥ 0 (0.005 = 0.5 %), got "
                         f"{gap_limit!r}")
    deadline = start + float(time_limit_s)
    check_problem(problem)
    d = _prepare(problem.canonical())
    inst = _gap_instance(d)
    lp = transport_bound(inst)
    reachable = _reachable_people(inst)
    slot_free = all(k.people <= d.problem.policy.max_queue for k in d.batches)
    use_gap = slot_free and (lp.served == reachable or _model_vars(d) > BATCH_MODEL_MAX_VARS)
    tiers: list[_Tier] = []
    sol: GapSolution | None = None
    if use_gap:
        sol = solve_gap(inst, deadline - _reserve_s(d), gap_limit=float(gap_limit), lp=lp,
                        det_budget=LNS_DET_PER_S * float(time_limit_s))
        if sol.served < reachable and _model_vars(d) <= BATCH_MODEL_MAX_VARS:
            # whole buildings do not fit (a building larger than the room at its points):
            # the batch-level tiers may serve part of a building
            use_gap, sol = False, None
    if sol is not None:
        pids = [p.id for p in d.points]
        point_of = {b.id: pids[j] for b, j in zip(d.buildings, sol.assign, strict=True)
                    if j >= 0}
        placed = {k.id: (point_of[k.building_id], -1) for k in d.batches
                  if k.building_id in point_of}
        dropped, complete = _finish(d, placed, deadline)
        # building-level optimum = batch-level optimum when every building is served whole
        proven = sol.proven_optimal and sol.served == reachable
        solver = "min-cost-flow+cp-sat-lns"
    else:
        out = _solve_tiers(d, deadline, _reserve_s(d))
        tiers, placed, dropped, complete = out.tiers, out.placed, out.dropped, out.complete
        proven = len(tiers) == 2 and all(t.status == cp_model.OPTIMAL for t in tiers)
        solver = "cp-sat"
    added, tried_all = _repair(d, placed, deadline)
    complete = complete and tried_all
    if not complete:
        status = SolveStatus.LIMIT
    elif proven and not added and not dropped:
        status = SolveStatus.OPTIMAL
    else:
        status = SolveStatus.FEASIBLE
    served = sum(k.people for k in d.batches if k.id in placed)
    bound = _bound(tiers, served, lp.served, lp.walk) if complete else None
    if status == SolveStatus.OPTIMAL:
        bound = float(sum(k.people * d.dist[k.building_id, placed[k.id][0]]
                          for k in d.batches if k.id in placed))
    options = {"objective": objective, "time_limit_s": float(time_limit_s),
               "gap_limit": float(gap_limit), "num_workers": NUM_WORKERS,
               "random_seed": RANDOM_SEED, "strict": strict}
    plan = _build_plan(d, placed, status, bound, options, solver)
    if strict and plan.unserved:
        raise InfeasibleError(
            f"{len(plan.unserved)} batches ({plan.totals.unserved_people} people) could not be "
            "placed", [u.batch_id for u in plan.unserved])
    return plan
