"""Method ``"cpsat"``: the batch-level CP-SAT tiers of the sampling plan (private).

The unsplittable sampling-timeslot plan (F3 with the F2 queue) as one CP-SAT model.

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
Deterministic: one worker, the seed given, model built in id order; the tiers have no
deterministic budget, so a tier stopped by the time limit may differ between machines
(``info.stopped_by == "wall_clock"`` then says so).

Time: one deadline (:class:`commgov._control.SolveControl`) covers everything. The CP-SAT
tiers get the time left less a reserve for the post-solver phases (finish and greedy
completion, :mod:`commgov.scheduling.sampling._finish`), and a tier is not started with less
than :data:`MIN_TIER_S` left or after a cancel.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from commgov._control import SolveControl, integer_bound
from commgov._redact import get_logger
from commgov.errors import SolverError, check_size
from commgov.scheduling.sampling._data import NUM_WORKERS, Data, model_vars, slot_free
from commgov.scheduling.sampling._finish import finish
from commgov.scheduling.sampling._limits import MAX_TIER_VARS

log = get_logger("commgov.scheduling")

#: Most assignment variables of the tier model (checked, from counts, before it is built).
MAX_BATCH_VARS = MAX_TIER_VARS
#: A CP-SAT tier is started only with at least this many seconds left before the deadline
#: (less the post-solver reserve); otherwise the greedy completion alone builds the plan.
MIN_TIER_S = 0.05
#: Seconds to build the CP-SAT model, per variable (measured ≈ 14 µs); CP-SAT is skipped when
#: the model could not be built and solved for :data:`MIN_TIER_S` before the deadline.
BUILD_PER_VAR_S = 2e-5


@dataclass
class Tier:
    """One solved (or not started) tier: CP-SAT status, value, bound and the placement."""

    name: str
    status: Any
    value: int | None
    bound: float | None
    solution: dict[str, tuple[str, int]]


def solve(
    ctl: SolveControl,
    m: cp_model.CpModel,
    seconds: float,
    name: str,
    seed: int,
    det_time: float | None = None,
) -> tuple[cp_model.CpSolver, Any]:
    """One CP-SAT solve of the tier model (one worker, ``seed``), through ``ctl``."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = NUM_WORKERS
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = max(MIN_TIER_S, seconds)
    if det_time is not None:
        solver.parameters.max_deterministic_time = det_time
    status = ctl.solve_cp_sat(solver, m, f"tier {name}")
    log.debug(
        "%s: %s objective=%s bound=%s",
        name,
        solver.status_name(status),
        solver.objective_value,
        solver.best_objective_bound,
    )
    if status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
        raise SolverError(
            f"CP-SAT returned {solver.status_name(status)} on {name!r}; "
            "the sampling model is always feasible (please report this)"
        )
    return solver, status


def queue_constraints(
    m: cp_model.CpModel, d: Data, pid: str, arrivals: dict[int, list[tuple[int, cp_model.IntVar]]]
) -> None:
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


def hint_tier(
    m: cp_model.CpModel,
    hint: dict[str, tuple[str, int]],
    building_of: dict[str, str],
    y: dict[tuple[str, str], Any],
    x: dict[tuple[str, str, int], Any],
    srv: dict[str, Any],
) -> None:
    """Hint the tier model with a plan (batch → (point, slot)): its building points, its
    assignments and which batches it serves."""
    used = {(building_of[kid], pid) for kid, (pid, _t) in hint.items()}
    for key, v in y.items():
        m.add_hint(v, key in used)
    for (kid, pid, t), v in x.items():
        m.add_hint(v, hint.get(kid) == (pid, t))
    for kid, v in srv.items():
        m.add_hint(v, kid in hint)


def points_tiers(d: Data, ctl: SolveControl, reserve: float, seed: int) -> list[Tier]:
    """Tiers 1 (max served) and 2 (min walking): batches → points.

    Each tier gets the time left before the deadline less ``reserve`` (for the post-solver
    phases); a tier that would get less than :data:`MIN_TIER_S`, or that comes after a
    cancel, is not started and is returned as ``UNKNOWN`` with no bound, carrying the
    previous tier's solution.

    When every batch is no larger than ``max_queue``, the slots do not matter for these tiers:
    a set of batches can be scheduled at a point without breaking the queue rules iff their
    people fit in the point's total capacity over its open slots (earliest-fit never leaves a
    lane idle while a batch waits to be called, since each batch fits on an empty queue).
    The model is then slot-free: ``x[k,p]``, ``Σ people·x ≤ c_p·|open_p|``. Otherwise the
    full time-expanded model ``x[k,p,t]`` with the F2 queue is used.
    """
    if not any(d.reach[k.building_id] for k in d.batches):  # nothing to choose: both tiers 0
        return [Tier(name, cp_model.OPTIMAL, 0, 0.0, {}) for name in ("served", "walk_person_m")]
    check_size(
        "sampling CP-SAT tier model: variables",
        model_vars(d),
        MAX_BATCH_VARS,
        "use method='gap' (building level), longer slots or split the area",
    )
    if ctl.should_stop(reserve + BUILD_PER_VAR_S * model_vars(d) + MIN_TIER_S):
        log.info("time limit: no time to build and solve the CP-SAT model")
        return [Tier("served", cp_model.UNKNOWN, None, None, {})]
    free = slot_free(d)
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
        return [-1] if free else d.open[pid]

    def out_of_time() -> bool:
        if not ctl.should_stop(reserve + MIN_TIER_S):
            return False
        log.info("time limit: CP-SAT model not finished, tiers not started")
        return True

    for n, k in enumerate(d.batches):
        if n % 200 == 0 and out_of_time():  # building a large model can eat the budget
            return [Tier("served", cp_model.UNKNOWN, None, None, {})]
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
    # symmetry: of identical batches of one building, serve the smaller ids first
    groups: dict[tuple[str, int], list[str]] = defaultdict(list)
    for k in d.batches:
        if k.id in srv:
            groups[k.building_id, k.people].append(k.id)
    for grp in groups.values():
        for k1, k2 in itertools.pairwise(grp):
            m.add(srv[k1] >= srv[k2])
    if out_of_time():
        return [Tier("served", cp_model.UNKNOWN, None, None, {})]
    people = d.people
    building_of = {k.id: k.building_id for k in d.batches}
    at_point: dict[str, list[tuple[str, int, cp_model.IntVar]]] = defaultdict(list)
    for (kid, pid, t), v in x.items():  # one pass, keeping the order of x within each point
        at_point[pid].append((kid, t, v))
    for p in d.points:
        if free:
            load = [(people[kid], v) for kid, _t, v in at_point[p.id]]
            if load:
                m.add(sum(w * v for w, v in load) <= d.cap[p.id] * len(d.open[p.id]))
        else:
            arr: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
            for kid, t, v in at_point[p.id]:
                if people[kid]:
                    arr[t].append((people[kid], v))
            queue_constraints(m, d, p.id, arr)
    if out_of_time():
        return [Tier("served", cp_model.UNKNOWN, None, None, {})]
    served_expr = sum(people[kid] * v for (kid, _p, _t), v in x.items())
    walk_expr = sum(
        people[kid] * d.dist[building_of[kid], pid] * v for (kid, pid, _t), v in x.items()
    )
    tiers: list[Tier] = []
    hint: dict[str, tuple[str, int]] = {}
    optimum: Any = None  # the previous tier's optimum, fixed as a constraint of the next tier
    for name, expr, maximise in (
        ("served", served_expr, True),
        ("walk_person_m", walk_expr, False),
    ):
        if not x:
            tiers.append(Tier(name, cp_model.OPTIMAL, 0, 0.0, {}))
            continue
        if ctl.should_stop(reserve + MIN_TIER_S):
            log.info("time limit or cancel: tier %r not started", name)
            tiers.append(Tier(name, cp_model.UNKNOWN, None, None, dict(hint)))
            break
        if optimum is not None:
            m.add(optimum)
        if maximise:
            m.maximize(expr)
        else:
            m.minimize(expr)
        m.clear_hints()  # type: ignore[no-untyped-call]
        if hint:
            hint_tier(m, hint, building_of, y, x, srv)
        solver, status = solve(ctl, m, ctl.remaining() - reserve, name, seed)
        if status == cp_model.UNKNOWN:
            tiers.append(Tier(name, status, None, solver.best_objective_bound, dict(hint)))
            break
        sol = {kid: (pid, t) for (kid, pid, t), v in x.items() if solver.boolean_value(v)}
        value = round(solver.objective_value)
        tiers.append(Tier(name, status, value, solver.best_objective_bound, sol))
        hint = sol
        optimum = expr >= value if maximise else expr <= value
    return tiers


@dataclass
class Outcome:
    """The tiers and the finished placement ``batch → (point, slot)``."""

    tiers: list[Tier]
    placed: dict[str, tuple[str, int]]
    dropped: int  # batches placed by the tiers that the finish could not schedule
    complete: bool  # every batch was scheduled or tried before the deadline


def solve_tiers(d: Data, ctl: SolveControl, reserve: float, seed: int) -> Outcome:
    """The batch-level tiers, then the earliest-fit finish of the points they chose."""
    tiers = points_tiers(d, ctl, reserve, seed)
    placed = dict(tiers[-1].solution)
    dropped, complete = finish(d, placed)  # O(batches · slots): never cut short
    tiers[-1].solution = dict(placed)
    return Outcome(tiers, placed, dropped, complete)


def tier_bound(tiers: list[Tier], served: int, lp_served: int, lp_walk: int) -> float | None:
    """A proven lower bound on walk_person_m for plans serving ``served`` people, or ``None``.

    The relaxation's walking ``lp_walk`` when the plan serves as many people as the relaxation
    (``lp_served``, the most any plan can serve); from the CP-SAT tiers, when tier 1 is proven
    optimal and the plan serves exactly that many people: tier 2's optimum when proven, else
    CP-SAT's best bound (rounded up, walking is a whole number of person-metres). The larger
    of the two when both hold.
    """
    best: float | None = float(lp_walk) if served == lp_served else None
    if (
        tiers
        and tiers[0].status == cp_model.OPTIMAL
        and tiers[0].value == served
        and len(tiers) >= 2
    ):
        walk = tiers[1]
        cand = integer_bound(walk.value if walk.status == cp_model.OPTIMAL else None, walk.bound)
        if cand is not None:
            best = cand if best is None else max(best, cand)
    return best
