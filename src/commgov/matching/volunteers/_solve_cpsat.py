"""Volunteer ↔ task matching with minute budgets, by CP-SAT (``min_cost`` objective).

With a budget of task minutes per volunteer and day (:attr:`Volunteer.minutes_per_day`,
counting :attr:`Task.duration_min`), choosing which tasks a volunteer takes on a day is a
knapsack, and the whole problem contains the multiple knapsack problem (one volunteer-day per
knapsack, every pair eligible, capacities not binding), which is strongly NP-hard (Garey &
Johnson, *Computers and Intractability*, 1979; Kellerer, Pferschy & Pisinger, *Knapsack
Problems*, 2004). It is solved as a 0–1 programme by CP-SAT (Perron & Didier, OR-Tools,
Google), with the same objective tiers as the min-cost flow of ``_solve_flow.py``.

Model, built in id order (the eligible pairs of ``_pairs.prepare``, sorted by task then
volunteer)::

    x[k] ∈ {0, 1}                          for each eligible pair k = (task t, volunteer v)
    Σ_{k ∋ t} x[k] ≤ 1                     each task once; a pinned task keeps only its pin, = 1
    Σ_{k ∈ (v, slot)} x[k] ≤ capacity_per_slot
    Σ_{k ∈ (v, day)} x[k] ≤ capacity_per_day
    Σ_{k ∈ (v, day)} duration_min[t]·x[k] ≤ minutes_per_day     (duration None counts 0)

    minimise  W₁·(priority unserved) + W₂·(changes) + Σ cost[k]·x[k]

One weighted objective, with the weights of ``_solve_flow.py`` (each one more than the largest total
of all lower tiers, so a higher tier always dominates): tier 1 maximises the priority served,
tier 2 (only with ``problem.previous``) changes as few previous pairs as possible, tier 3
minimises scope penalty + travel metres. The objective is linear in ``x`` (no per-task served
variable). Its largest value must stay below 2⁵³ so that it, and CP-SAT's bound (doubles), are
exact integers; otherwise :class:`~commgov.errors.SizeLimitError` is raised. Constraints that
cannot bind (a group with no more pairs than its capacity, or fewer minutes than its budget)
are left out, and so are pairs whose task alone exceeds the volunteer's budget.

Start, relaxation and bound: the min-cost flow without budgets (``_solve_flow._solve_network``) is
solved first. If its optimum already fits every budget it is optimal here too (it is optimal
for a relaxation) and is returned as ``OPTIMAL`` without calling CP-SAT. Otherwise the budgets
are relaxed in a Lagrangian way (a multiplier per volunteer-day on its minutes, a few
subgradient steps, each one flow solve): every flow solution is repaired (each over-budget
volunteer-day keeps its pins, then tasks by priority per minute while they fit) and completed,
the best is kept as the start, and every step gives a lower bound on the weighted objective.
If that bound meets the start, the start is ``OPTIMAL``; otherwise CP-SAT is hinted with it.
The number of flow solves is planned from ``time_limit_s`` and the size (never the clock).

Completion: every returned solution is made *maximal* — each unmatched task, by priority then
id, goes to its cheapest eligible volunteer that still has room in the slot, on the day and in
minutes. So every unmatched task with an eligible volunteer satisfies ``CAPACITY_USED``: each
eligible volunteer is at its slot or day capacity, or has fewer minutes left on the day than
the task takes. (A proven optimum is already maximal: adding a task would serve more priority.)

Determinism: one worker, ``random_seed = seed``, a
deterministic-time limit of :data:`DET_TIME_PER_S` × ``time_limit_s``; the wall clock,
``time_limit_s`` from the call, is only a safety cap (if it cuts the search first, which a
warning on the ``commgov.matching`` logger reports, the result may depend on machine speed).

Status: ``OPTIMAL`` when proven (relaxation fits, Lagrangian bound met, or CP-SAT's proof);
otherwise ``FEASIBLE`` with the better of CP-SAT's best solution and the start (the start
whenever CP-SAT found no solution in time, or was not started because too little time was
left, so a valid, complete result with checked reasons is always returned and ``LIMIT`` is
never reported). ``bound`` and ``gap`` are on the **priority shortfall**
(``priority_total − priority_served``, the first tier, minimised): ``bound`` is a proven lower
bound on it, decoded from the best of the Lagrangian and CP-SAT bounds on the weighted
objective, and ``gap = (shortfall − bound) / bound`` (``0`` when both are
``0``, ``None`` when only the bound is ``0``). A ``FEASIBLE`` result with gap ``0`` serves a
proven-optimal priority; its changes and cost tiers are not proven. ``CANCELLED`` when the
caller's ``cancel`` stopped the run first: the best complete solution found by then (or,
before the first flow, the pins alone with every other task ``CANCELLED``).

The multipliers, the repair and the start are in ``_budgets.py``.
"""

from __future__ import annotations

import math
from typing import Any

from commgov._control import SolveControl
from commgov._redact import get_logger
from commgov.errors import SolverError, check_size
from commgov.matching.volunteers._budgets import _lagrangian_start, _Model
from commgov.matching.volunteers._pairs import _SPLIT, estimate_pairs, prepare
from commgov.matching.volunteers._problem import Assignment, MatchingProblem
from commgov.matching.volunteers._result import build_assignment, build_stopped
from commgov.results import SolveStatus, library_versions

__all__ = [
    "BUILD_S_PER_PAIR",
    "DET_TIME_PER_S",
    "FLOW_S_PER_PAIR",
    "LAGRANGE_FLOWS",
    "LAGRANGE_SHARE",
    "MAX_PAIRS",
    "MIN_CPSAT_S",
    "NUM_WORKERS",
    "match_minutes",
]

_log = get_logger("commgov.matching")

#: CP-SAT search workers (one: a sequential, deterministic search).
NUM_WORKERS = 1

#: Deterministic-time units CP-SAT may spend per second of ``time_limit_s``. Chosen so that on
#: a typical machine the deterministic limit stops the search before the wall-clock cap.
DET_TIME_PER_S = 0.15

#: Most flow solves of the Lagrangian start. The number used is derived from ``time_limit_s``
#: and the number of pairs only (never from the clock), so the start is deterministic: about
#: :data:`LAGRANGE_SHARE` of the time limit at :data:`FLOW_S_PER_PAIR` seconds per pair and
#: solve, between 3 and this many.
LAGRANGE_FLOWS = 30

#: Share of ``time_limit_s`` planned for the Lagrangian start.
LAGRANGE_SHARE = 0.5

#: Planning estimate of one flow solve's seconds per eligible pair (measured: ~2.6 µs).
FLOW_S_PER_PAIR = 3e-6

#: CP-SAT is not started with less wall-clock time left than this many seconds plus the
#: planned model-building time (:data:`BUILD_S_PER_PAIR` per pair).
MIN_CPSAT_S = 0.5

#: Planning estimate of the seconds to build and presolve the CP-SAT model, per pair.
BUILD_S_PER_PAIR = 4e-5

#: Size guard: at most this many eligible pairs (0–1 variables) in the CP-SAT model.
MAX_PAIRS = 5_000_000

#: Shortest wall-clock cap given to CP-SAT, in seconds.
_MIN_WALL_S = 0.01


def _solve_cpsat(
    m: _Model, hint: Any, *, ctl: SolveControl, det_s: float, seed: int
) -> tuple[str, Any, float | None]:
    """Build and solve the model; return (status name, selection or None, objective bound)."""
    import numpy as np
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    n = len(m.kt)
    xs = [model.new_bool_var(f"x{k}") for k in range(n)]
    s_key, d_key = m._keys()

    def groups(keys: Any) -> list[Any]:
        order = np.argsort(keys, kind="stable")
        _, first = np.unique(keys[order], return_index=True)
        return np.split(order, first[1:]) if n else []

    if ctl.should_stop():
        return "UNKNOWN", None, None
    for ks in groups(m.kt):
        t = int(m.kt[ks[0]])
        if m.pin_vol[t] >= 0:
            model.add(xs[int(ks[0])] == 1)
        elif len(ks) > 1:
            model.add_at_most_one(xs[int(k)] for k in ks)
    for ks in groups(s_key):
        cap = int(m.cap_slot[m.kv[ks[0]]])
        if len(ks) > cap:
            if cap == 1:
                model.add_at_most_one(xs[int(k)] for k in ks)
            else:
                model.add(sum(xs[int(k)] for k in ks) <= cap)
    if ctl.should_stop():
        return "UNKNOWN", None, None
    for ks in groups(d_key):
        vi = int(m.kv[ks[0]])
        cap = int(m.cap_day[vi])
        if len(ks) > cap:
            model.add(sum(xs[int(k)] for k in ks) <= cap)
        budget = int(m.budget[vi])
        durs = m.k_dur[ks]
        if budget >= 0 and int(durs.sum()) > budget:
            pos = durs > 0
            model.add(
                cp_model.LinearExpr.weighted_sum(
                    [xs[int(k)] for k in ks[pos]], [int(d) for d in durs[pos]]
                )
                <= budget
            )
    if ctl.should_stop(MIN_CPSAT_S):
        return "UNKNOWN", None, None
    model.minimize(cp_model.LinearExpr.weighted_sum(xs, [int(c) for c in m.coef]) + m.const)
    for k, x in enumerate(xs):
        model.add_hint(x, bool(hint[k]))

    solver = cp_model.CpSolver()
    wall_s = max(_MIN_WALL_S, ctl.remaining())
    solver.parameters.num_workers = NUM_WORKERS
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = det_s
    solver.parameters.max_time_in_seconds = wall_s
    status = ctl.solve_cp_sat(solver, model, "cp-sat")
    name = solver.status_name(status)
    _log.debug(
        "minute budgets: %s objective=%s bound=%s det_time=%.3f wall=%.3f",
        name,
        solver.objective_value,
        solver.best_objective_bound,
        solver.deterministic_time,
        solver.wall_time,
    )
    if status in (cp_model.MODEL_INVALID, cp_model.INFEASIBLE):
        raise SolverError(f"CP-SAT returned {name} on the minute-budget matching model")
    if (
        status != cp_model.OPTIMAL
        and solver.deterministic_time < det_s
        and solver.wall_time >= 0.99 * wall_s
    ):
        _log.warning(
            "minute budgets: the wall-clock cap (%.3f s) stopped CP-SAT before its "
            "deterministic limit; the result may depend on machine speed",
            wall_s,
        )
    bound_v = solver.best_objective_bound
    bound = float(bound_v) if math.isfinite(bound_v) else None
    if status == cp_model.UNKNOWN and ctl.stopped_by == "cancel":
        bound = None  # the search may not have started
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        sel = np.array([solver.boolean_value(x) for x in xs], dtype=bool)
        return name, sel, bound
    return name, None, bound


def _shortfall_bound(m: _Model, bound: int | None) -> int | None:
    """Lower bound on the priority shortfall implied by a bound on the weighted objective.

    The objective is ``W₁·shortfall + R`` with ``0 ≤ R ≤ W₁ − 1``, so
    ``shortfall ≥ ⌈(B − W₁ + 1) / W₁⌉``.
    """
    if bound is None:
        return None
    return max(0, -(-(bound - m.w1 + 1) // m.w1))


def match_minutes(
    problem: MatchingProblem, *, time_limit_s: float, seed: int, ctl: SolveControl
) -> Assignment:
    """Match volunteers to tasks under minute budgets (``min_cost``), by CP-SAT.

    Constraints are those of the min-cost flow (each task at most once, eligible pairs only,
    ``capacity_per_slot`` and ``capacity_per_day``, pins kept) plus, for each volunteer with a
    ``minutes_per_day`` budget and each calendar day, Σ ``duration_min`` of its tasks (``None``
    counts 0) ≤ the budget. The objective tiers are ``min_cost``'s: priority served, then (with
    ``problem.previous``) changes, then scope penalty + travel metres. The problem contains
    the multiple knapsack problem and is NP-hard; it is solved with CP-SAT (Perron & Didier,
    Google OR-Tools) on one weighted objective, hinted with the min-cost flow optimum repaired
    to fit the budgets (see the module docstring for the model, weights and status rules).

    Parameters
    ----------
    problem : MatchingProblem
        The validated problem (some volunteers with ``minutes_per_day``).
    time_limit_s : float
        Time budget in seconds: CP-SAT gets ``DET_TIME_PER_S · time_limit_s`` deterministic
        time units, and the wall clock since the call started caps the search.
    seed : int
        CP-SAT ``random_seed``; the search is deterministic for a given seed.
    ctl : SolveControl
        Deadline (the wall-clock cap), progress and cancellation. Once cancelled, no further
        flow is solved and CP-SAT stops within a fraction of a second; the best complete
        solution found by then is returned with status ``CANCELLED`` (bound and gap where
        known), or, before any, the pins with every other task ``CANCELLED``.

    Returns
    -------
    Assignment
        Solver ``"cp-sat"``; status ``OPTIMAL``, or ``FEASIBLE`` with ``bound`` and ``gap`` on
        the priority shortfall (``priority_total − priority_served``). Every match's
        ``MATCHED`` reason carries ``minutes_used``/``minutes_budget`` for budgeted volunteers;
        every unmatched task one primary reason (``CAPACITY_USED`` also covers volunteers
        without the minutes left for the task).

    Raises
    ------
    commgov.errors.SizeLimitError
        If there are more than :data:`MAX_PAIRS` eligible pairs, or the weighted objective may
        reach 2⁵³.
    commgov.errors.SolverError
        If CP-SAT rejects the model or a solution breaks a hard rule (a bug).
    """
    import numpy as np

    ctl.report("prepare", 0.0)
    n_est = estimate_pairs(problem)
    check_size(
        "matching with minute budgets: eligible pairs (upper estimate from counts)",
        n_est,
        MAX_PAIRS,
        _SPLIT,
    )
    prep = prepare(problem, ctl, n_est)
    check_size("matching with minute budgets: eligible pairs", len(prep.pt), MAX_PAIRS, _SPLIT)
    m = _Model(prep)
    det_s = DET_TIME_PER_S * float(time_limit_s)
    options: dict[str, Any] = {
        "objective": "min_cost",
        "time_limit_s": float(time_limit_s),
        "deterministic_time": det_s,
        "num_workers": NUM_WORKERS,
        "random_seed": seed,
    }
    versions = library_versions("ortools")
    if not prep.complete or ctl.should_stop():
        return _with_seed(
            build_stopped(prep, ctl, solver="cp-sat", options=options, versions=versions), seed
        )

    plan = LAGRANGE_SHARE * float(time_limit_s) / max(FLOW_S_PER_PAIR * len(m.kt), 1e-9)
    flows = int(min(LAGRANGE_FLOWS, max(3, math.floor(plan))))
    start = _lagrangian_start(m, flows, ctl)
    best = start.best
    bound_w = start.bound
    options["flows"] = start.flows
    if best is None:  # stopped before the first flow
        return _with_seed(
            build_stopped(prep, ctl, solver="cp-sat", options=options, versions=versions), seed
        )
    if start.untried:  # stopped while completing the start: what was placed, the rest untried
        tried = np.ones(m.n_tasks, dtype=bool)
        tried[start.untried] = False
        return _with_seed(
            build_stopped(
                prep,
                ctl,
                solver="cp-sat",
                options=options,
                versions=versions,
                chosen=m.chosen(best),
                tried=tried,
            ),
            seed,
        )
    if start.exact and np.array_equal(m.repair(start.relaxed), start.relaxed):
        # the optimum of a relaxation (no budgets) fits the budgets: optimal here too
        status, best, bound_w = SolveStatus.OPTIMAL, start.relaxed, m.objective(start.relaxed)
    elif bound_w is not None and bound_w >= m.objective(best):
        status = SolveStatus.OPTIMAL  # the Lagrangian bound proves the start optimal
    elif ctl.cancelled:
        status = SolveStatus.CANCELLED  # the best start, complete and budget-feasible
    elif float(time_limit_s) * (1.0 - LAGRANGE_SHARE) < (
        MIN_CPSAT_S + BUILD_S_PER_PAIR * len(m.kt)
    ) or ctl.expired(MIN_CPSAT_S + BUILD_S_PER_PAIR * len(m.kt)):
        # decided from the size and the limit, so the result does not depend on the machine's
        # speed, unless the clock (a safety cap, then recorded in stopped_by) ran out first
        status = SolveStatus.FEASIBLE
        _log.info("minute budgets: too little time left for CP-SAT; returning the start")
    else:
        m.check(best)
        name, sol, bound = _solve_cpsat(m, best, ctl=ctl, det_s=det_s, seed=seed)
        status = SolveStatus.CANCELLED if ctl.stopped_by == "cancel" else SolveStatus.FEASIBLE
        if bound is not None:
            cp_bound = math.floor(bound)  # a lower bound on an integer objective
            bound_w = cp_bound if bound_w is None else max(bound_w, cp_bound)
        if sol is not None:
            m.check(sol)
            if name == "OPTIMAL":
                status, best = SolveStatus.OPTIMAL, sol
            else:
                sol, _ = m.complete(sol, ctl)
                if not m.untried and m.objective(sol) <= m.objective(best):
                    best = sol
        if bound_w is not None and bound_w >= m.objective(best):
            status = SolveStatus.OPTIMAL
    if status is SolveStatus.OPTIMAL:
        _, added = m.complete(best)
        if added:
            raise SolverError("minute budgets: a proven optimum was not maximal")
        bound_sf: int | None = m.shortfall(best)
    else:
        bound_sf = _shortfall_bound(m, bound_w)
        if bound_sf is not None:
            bound_sf = min(bound_sf, m.shortfall(best))
    m.check(best)
    short = m.shortfall(best)
    gap: float | None
    if bound_sf is None:
        gap = None
    elif bound_sf > 0:
        gap = (short - bound_sf) / bound_sf
    else:
        gap = 0.0 if short == 0 else None
    result = build_assignment(
        prep,
        m.chosen(best),
        solver="cp-sat",
        status=status,
        options=options,
        versions=versions,
        bound=None if bound_sf is None else float(bound_sf),
        gap=gap,
        ctl=ctl,
    )
    return _with_seed(result, seed)


def _with_seed(result: Assignment, seed: int) -> Assignment:
    return result.model_copy(update={"info": result.info.model_copy(update={"seed": seed})})
