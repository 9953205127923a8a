"""Volunteer ↔ task matching with minute budgets, by CP-SAT (``min_cost`` objective).

With a budget of task minutes per volunteer and day (:attr:`Volunteer.minutes_per_day`,
counting :attr:`Task.duration_min`), choosing which tasks a volunteer takes on a day is a
knapsack, and the whole problem contains the multiple knapsack problem (one volunteer-day per
knapsack, every pair eligible, capacities not binding), which is strongly NP-hard (Garey &
Johnson, *Computers and Intractability*, 1979; Kellerer, Pferschy & Pisinger, *Knapsack
Problems*, 2004). It is solved as a 0–1 programme by CP-SAT (Perron & Didier, OR-Tools,
Google), with the same objective tiers as the min-cost flow of ``_flow.py``.

Model, built in id order (pairs of :func:`~commgov.matching._pairs.prepare`, sorted by task then
volunteer)::

    x[k] ∈ {0, 1}                          for each eligible pair k = (task t, volunteer v)
    Σ_{k ∋ t} x[k] ≤ 1                     each task once; a pinned task keeps only its pin, = 1
    Σ_{k ∈ (v, slot)} x[k] ≤ capacity_per_slot
    Σ_{k ∈ (v, day)} x[k] ≤ capacity_per_day
    Σ_{k ∈ (v, day)} duration_min[t]·x[k] ≤ minutes_per_day     (duration None counts 0)

    minimise  W₁·(priority unserved) + W₂·(changes) + Σ cost[k]·x[k]

One weighted objective, with the weights of ``_flow.py`` (each one more than the largest total
of all lower tiers, so a higher tier always dominates): tier 1 maximises the priority served,
tier 2 (only with ``problem.previous``) changes as few previous pairs as possible, tier 3
minimises scope penalty + travel metres. The objective is linear in ``x`` (no per-task served
variable). Its largest value must stay below 2⁵³ so that it, and CP-SAT's bound (doubles), are
exact integers; otherwise :class:`~commgov.errors.SizeLimitError` is raised. Constraints that
cannot bind (a group with no more pairs than its capacity, or fewer minutes than its budget)
are left out, and so are pairs whose task alone exceeds the volunteer's budget.

Start, relaxation and bound: the min-cost flow without budgets (``_flow._solve_network``) is
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

Determinism (``DESIGN.md``, "Cross-cutting rules"): one worker, ``random_seed = seed``, a
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
proven-optimal priority; its changes and cost tiers are not proven.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from commgov.errors import SizeLimitError, SolverError
from commgov.matching._pairs import Prepared, prepare
from commgov.matching._result import build_assignment
from commgov.matching.problem import Assignment, MatchingProblem
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

_log = logging.getLogger("commgov.matching")

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

_EXACT = 2**53


class _Model:
    """The kept pairs of a prepared problem, their tiers, weights and constraint groups."""

    def __init__(self, prep: Prepared) -> None:
        import numpy as np

        problem = prep.problem
        tasks, vols = prep.tasks, prep.vols
        n_tasks = len(tasks)
        t_index = {t.id: i for i, t in enumerate(tasks)}
        v_index = {v.id: i for i, v in enumerate(vols)}
        pt, pv = prep.pt, prep.pv
        self.prep = prep
        self.n_tasks = n_tasks
        self.n_vols = len(vols)
        self.n_slots = max(len(prep.slot_keys), 1)
        self.n_days = max(len(prep.day_keys), 1)
        self.dur = np.array([t.duration_min or 0 for t in tasks], dtype=np.int64)
        self.prio = np.array([t.priority for t in tasks], dtype=np.int64)
        # budget per volunteer, -1 when none
        self.budget = np.array(
            [-1 if v.minutes_per_day is None else v.minutes_per_day for v in vols], dtype=np.int64
        )
        self.cap_slot = np.array([v.capacity_per_slot for v in vols], dtype=np.int64)
        self.cap_day = np.array([v.capacity_per_day for v in vols], dtype=np.int64)

        # pinned pairs forced; pairs a task alone would overrun the budget of are left out
        keep = (self.budget[pv] < 0) | (self.dur[pt] <= self.budget[pv])
        self.pin_vol = np.full(n_tasks, -1, dtype=np.int64)
        for pin in problem.pinned:
            self.pin_vol[t_index[pin.task_id]] = v_index[pin.volunteer_id]
        forced = self.pin_vol[pt] >= 0
        keep &= ~forced | (pv == self.pin_vol[pt])
        self.keep = keep
        self.idx = np.nonzero(keep)[0]  # kept pair → index into prep's pairs
        self.kt = pt[keep]
        self.kv = pv[keep]
        self.kc = prep.pc[keep]
        self.k_slot = prep.t_slot[self.kt]
        self.k_day = prep.slot_day[self.k_slot]
        self.k_dur = self.dur[self.kt]

        # previous plan: a change is a previous task not served by its previous volunteer
        self.in_prev = np.zeros(n_tasks, dtype=np.int64)
        prev_vol = np.full(n_tasks, -1, dtype=np.int64)
        for pin in problem.previous:
            ti = t_index[pin.task_id]
            self.in_prev[ti] = 1
            prev_vol[ti] = v_index.get(pin.volunteer_id, -2)
        self.n_prev = int(self.in_prev.sum())
        self.k_same = ((self.in_prev[self.kt] == 1) & (self.kv == prev_vol[self.kt])).astype(
            np.int64
        )
        self.k_chg = ((self.in_prev[self.kt] == 1) & (self.kv != prev_vol[self.kt])).astype(
            np.int64
        )

        # weights as in _flow.py: each one more than the largest total of all lower tiers
        best = np.zeros(n_tasks, dtype=np.int64)
        if len(self.kt):
            np.maximum.at(best, self.kt, self.kc)
        total_best = int(best.sum())
        self.w2 = 1 + total_best if self.n_prev else 0
        self.w1 = 1 + self.w2 * self.n_prev + total_best
        self.prio_total = int(self.prio.sum())
        top = self.w1 * self.prio_total + self.w2 * self.n_prev + total_best
        if top >= _EXACT:
            raise SizeLimitError(
                f"the weighted matching objective may reach {top} ≥ 2^53, too wide to solve and "
                "bound exactly; split the problem (fewer tasks, a smaller max_distance_m, "
                "smaller priorities or scope penalties)"
            )
        self.const = self.w1 * self.prio_total + self.w2 * self.n_prev
        # objective = const + Σ coef·x
        self.coef = self.kc - self.w1 * self.prio[self.kt] - self.w2 * self.k_same

    # ------------------------------------------------------------------ solutions
    def objective(self, sel: Any) -> int:
        """Weighted objective of a selection (boolean mask over kept pairs)."""
        return self.const + int(self.coef[sel].sum())

    def shortfall(self, sel: Any) -> int:
        """Priority left unserved by a selection."""
        return self.prio_total - int(self.prio[self.kt[sel]].sum())

    def _keys(self) -> tuple[Any, Any]:
        s_key = self.kv * self.n_slots + self.k_slot
        d_key = self.kv * self.n_days + self.k_day
        return s_key, d_key

    def check(self, sel: Any) -> None:
        """Raise :class:`SolverError` if a selection breaks a hard rule (internal check)."""
        import numpy as np

        s_key, d_key = self._keys()
        per_task = np.bincount(self.kt[sel], minlength=self.n_tasks)
        per_slot = np.bincount(s_key[sel], minlength=self.n_vols * self.n_slots)
        per_day = np.bincount(d_key[sel], minlength=self.n_vols * self.n_days)
        mins = np.bincount(d_key[sel], weights=self.k_dur[sel], minlength=self.n_vols * self.n_days)
        vol_of_slot = np.arange(self.n_vols * self.n_slots) // self.n_slots
        vol_of_day = np.arange(self.n_vols * self.n_days) // self.n_days
        budget = self.budget[vol_of_day]
        pinned = self.pin_vol >= 0
        if (
            (per_task > 1).any()
            or (per_slot > self.cap_slot[vol_of_slot]).any()
            or (per_day > self.cap_day[vol_of_day]).any()
            or ((budget >= 0) & (mins > budget)).any()
            or (per_task[pinned] != 1).any()
        ):
            raise SolverError("minute-budget matching: a solution breaks a hard rule")

    def repair(self, sel: Any) -> Any:
        """Drop tasks from over-budget volunteer-days: keep pins, then by priority per minute."""
        import numpy as np

        sel = sel.copy()
        _, d_key = self._keys()
        mins = np.bincount(d_key[sel], weights=self.k_dur[sel], minlength=self.n_vols * self.n_days)
        budget = self.budget[np.arange(self.n_vols * self.n_days) // self.n_days]
        over = set(np.nonzero((budget >= 0) & (mins > budget))[0].tolist())
        if not over:
            return sel
        groups: dict[int, list[int]] = defaultdict(list)
        for k in np.nonzero(sel)[0].tolist():
            key = int(d_key[k])
            if key in over:
                groups[key].append(k)
        for key in sorted(groups):
            left = int(budget[key])
            ks = groups[key]
            pinned = [k for k in ks if self.pin_vol[self.kt[k]] >= 0]
            rest = [k for k in ks if self.pin_vol[self.kt[k]] < 0]
            left -= sum(int(self.k_dur[k]) for k in pinned)
            # priority per minute, descending (0-minute tasks first), then coefficient, task
            rest.sort(
                key=lambda k: (
                    -self.prio[self.kt[k]] / max(int(self.k_dur[k]), 1e-9),
                    int(self.coef[k]),
                    int(self.kt[k]),
                )
            )
            for k in rest:
                if int(self.k_dur[k]) <= left:
                    left -= int(self.k_dur[k])
                else:
                    sel[k] = False
        return sel

    def complete(self, sel: Any) -> tuple[Any, int]:
        """Make a selection maximal: unmatched tasks by priority then id, to the cheapest
        volunteer with room in the slot, the day and minutes. Returns it and the tasks added."""
        import numpy as np

        sel = sel.copy()
        s_key, d_key = self._keys()
        slot_left = self.cap_slot[np.arange(self.n_vols * self.n_slots) // self.n_slots] - (
            np.bincount(s_key[sel], minlength=self.n_vols * self.n_slots)
        )
        vol_of_day = np.arange(self.n_vols * self.n_days) // self.n_days
        day_left = self.cap_day[vol_of_day] - np.bincount(
            d_key[sel], minlength=self.n_vols * self.n_days
        )
        budget = self.budget[vol_of_day]
        used = np.bincount(d_key[sel], weights=self.k_dur[sel], minlength=self.n_vols * self.n_days)
        min_left = np.where(budget >= 0, budget - used.astype(np.int64), np.iinfo(np.int64).max)
        served = np.zeros(self.n_tasks, dtype=bool)
        served[self.kt[sel]] = True
        starts = np.searchsorted(self.kt, np.arange(self.n_tasks + 1))
        open_tasks = [t for t in range(self.n_tasks) if not served[t] and starts[t] < starts[t + 1]]
        open_tasks.sort(key=lambda t: (-int(self.prio[t]), t))
        added = 0
        for t in open_tasks:
            ks = range(int(starts[t]), int(starts[t + 1]))
            for k in sorted(ks, key=lambda k: (int(self.coef[k]), k)):
                sk, dk = int(s_key[k]), int(d_key[k])
                if slot_left[sk] > 0 and day_left[dk] > 0 and min_left[dk] >= self.k_dur[k]:
                    sel[k] = True
                    slot_left[sk] -= 1
                    day_left[dk] -= 1
                    min_left[dk] -= self.k_dur[k]
                    added += 1
                    break
        return sel, added

    def chosen(self, sel: Any) -> dict[int, int]:
        """Task index → index of its pair in the prepared arrays."""
        import numpy as np

        ks = np.nonzero(sel)[0]
        return {int(self.kt[k]): int(self.idx[k]) for k in ks.tolist()}


@dataclass
class _Start:
    """Outcome of the Lagrangian flow heuristic."""

    relaxed: Any  #: selection of the flow optimum without budgets
    exact: bool  #: whether ``relaxed`` is that optimum (the flow could be built)
    best: Any  #: best budget-feasible, maximal selection found
    bound: int | None  #: best Lagrangian lower bound on the weighted objective
    flows: int  #: flow solves done


def _flow(m: _Model, mu: Any) -> tuple[Any, int]:
    """Min-cost flow without budgets, each pair's cost raised by ``mu[(v, day)]·minutes``.

    Returns the selection (one pair per served task) and the flow's optimal cost.
    """
    import numpy as np

    from commgov.matching._flow import _solve_network

    _, d_key = m._keys()
    flows, cost = _solve_network(
        m.prep,
        m.keep,
        m.w2 * m.k_chg + m.kc + mu[d_key] * m.k_dur,
        m.w1 * m.prio + m.w2 * m.in_prev,
        (m.pin_vol < 0).astype(np.int64),
    )
    sel = np.asarray(flows, dtype=bool)
    # a task's flow uses one pair; keep the first should a task ever carry two
    _, first = np.unique(m.kt[sel], return_index=True)
    one = np.zeros(len(sel), dtype=bool)
    one[np.nonzero(sel)[0][first]] = True
    return one, cost


def _lagrangian_start(m: _Model, iterations: int) -> _Start:
    """Budget-feasible start and lower bound by Lagrangian relaxation of the minute budgets.

    For multipliers ``μ ≥ 0`` (integers, objective units per minute) on each budgeted
    volunteer-day, the min-cost flow with pair costs raised by ``μ·duration`` gives
    ``L(μ) = flow cost − Σ μ·budget``, a lower bound on the weighted optimum (the flow
    polytope is integral: Held, Wolfe & Crowder, "Validation of subgradient optimization",
    1974; Fisher, "The Lagrangian relaxation method for solving integer programming
    problems", 1981). ``μ`` follows projected subgradient steps with Polyak's step length
    (``θ`` halved after three steps without a better bound) for a fixed number of flow
    solves, so the outcome is deterministic. Each flow solution is repaired to fit the budgets
    and completed (:meth:`_Model.repair`, :meth:`_Model.complete`); the best is kept.
    """
    import numpy as np

    n_kept = len(m.kt)
    n_vd = m.n_vols * m.n_days
    budget = m.budget[np.arange(n_vd) // m.n_days]
    budgeted = budget >= 0
    _, d_key = m._keys()
    if m.n_tasks == 0 or n_kept == 0:
        empty = np.zeros(n_kept, dtype=bool)
        return _Start(empty, True, empty, None, 0)
    mu = np.zeros(n_vd, dtype=np.int64)
    # μ beyond w1·max priority per minute makes every pair of that volunteer-day unattractive
    mu_cap = m.w1 * int(m.prio.max())
    theta = 2.0
    relaxed: Any = None
    best: Any = None
    best_obj = 0
    bound: int | None = None
    stall = 0
    done = 0
    for _ in range(max(1, iterations)):
        try:
            sel, cost = _flow(m, mu)
        except SizeLimitError as exc:
            _log.info("minute budgets: flow stopped (%s)", exc)
            break
        done += 1
        if relaxed is None:
            relaxed = sel
        low = cost - int((mu[budgeted] * budget[budgeted]).sum())
        if bound is None or low > bound:
            bound, stall = low, 0
        else:
            stall += 1
            if stall >= 3:
                theta, stall = theta / 2, 0
        cand, _ = m.complete(m.repair(sel))
        obj = m.objective(cand)
        if best is None or obj < best_obj:
            best, best_obj = cand, obj
        if bound >= best_obj:
            break  # the best start is proven optimal
        mins = np.bincount(d_key[sel], weights=m.k_dur[sel], minlength=n_vd).astype(np.int64)
        g = np.where(budgeted, mins - budget, 0)
        g = np.where((mu == 0) & (g < 0), 0, g)  # projected: nothing to lower at μ = 0
        norm = float((g.astype(np.float64) ** 2).sum())
        if norm == 0.0:
            break
        step = theta * (best_obj - low) / norm
        mu = np.clip(np.rint(mu + step * g), 0, mu_cap).astype(np.int64)
    if relaxed is None:  # the flow could not be built: pins, then greedy
        pins = np.zeros(n_kept, dtype=bool)
        pins[m.pin_vol[m.kt] >= 0] = True
        best, _ = m.complete(pins)
        return _Start(pins, False, best, None, done)
    return _Start(relaxed, True, best, bound, done)


def _solve_cpsat(
    m: _Model, hint: Any, *, deadline: float, det_s: float, seed: int
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
    model.minimize(
        cp_model.LinearExpr.weighted_sum(xs, [int(c) for c in m.coef]) + m.const
    )
    for k, x in enumerate(xs):
        model.add_hint(x, bool(hint[k]))

    solver = cp_model.CpSolver()
    wall_s = max(_MIN_WALL_S, deadline - time.monotonic())
    solver.parameters.num_workers = NUM_WORKERS
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = det_s
    solver.parameters.max_time_in_seconds = wall_s
    status = solver.solve(model)
    name = solver.status_name(status)
    _log.debug(
        "minute budgets: %s objective=%s bound=%s det_time=%.3f wall=%.3f",
        name, solver.objective_value, solver.best_objective_bound,
        solver.deterministic_time, solver.wall_time,
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
            "deterministic limit; the result may depend on machine speed", wall_s,
        )
    bound_v = solver.best_objective_bound
    bound = float(bound_v) if math.isfinite(bound_v) else None
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


def match_minutes(problem: MatchingProblem, *, time_limit_s: float, seed: int) -> Assignment:
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

    began = time.monotonic()
    prep = prepare(problem)
    n_pairs = len(prep.pt)
    if n_pairs > MAX_PAIRS:
        raise SizeLimitError(
            f"minute-budget matching has {n_pairs} eligible pairs, above the guard "
            f"{MAX_PAIRS}; split the problem (fewer tasks or a smaller max_distance_m)"
        )
    m = _Model(prep)
    det_s = DET_TIME_PER_S * float(time_limit_s)
    options: dict[str, Any] = {
        "objective": "min_cost",
        "time_limit_s": float(time_limit_s),
        "deterministic_time": det_s,
        "num_workers": NUM_WORKERS,
        "random_seed": seed,
    }

    plan = LAGRANGE_SHARE * float(time_limit_s) / max(FLOW_S_PER_PAIR * len(m.kt), 1e-9)
    flows = int(min(LAGRANGE_FLOWS, max(3, math.floor(plan))))
    start = _lagrangian_start(m, flows)
    best = start.best
    bound_w = start.bound
    options["flows"] = start.flows
    if start.exact and np.array_equal(m.repair(start.relaxed), start.relaxed):
        # the optimum of a relaxation (no budgets) fits the budgets: optimal here too
        status, best, bound_w = SolveStatus.OPTIMAL, start.relaxed, m.objective(start.relaxed)
    elif bound_w is not None and bound_w >= m.objective(best):
        status = SolveStatus.OPTIMAL  # the Lagrangian bound proves the start optimal
    elif float(time_limit_s) * (1.0 - LAGRANGE_SHARE) < (
        MIN_CPSAT_S + BUILD_S_PER_PAIR * len(m.kt)
    ):
        # decided from the size and the limit, not the clock, so the result does not depend
        # on the machine's speed
        status = SolveStatus.FEASIBLE
        _log.info("minute budgets: too little time left for CP-SAT; returning the start")
    else:
        m.check(best)
        name, sol, bound = _solve_cpsat(
            m, best, deadline=began + float(time_limit_s), det_s=det_s, seed=seed
        )
        status = SolveStatus.FEASIBLE
        if bound is not None:
            cp_bound = math.floor(bound)  # a lower bound on an integer objective
            bound_w = cp_bound if bound_w is None else max(bound_w, cp_bound)
        if sol is not None:
            m.check(sol)
            if name == "OPTIMAL":
                status, best = SolveStatus.OPTIMAL, sol
            else:
                sol, _ = m.complete(sol)
                if m.objective(sol) <= m.objective(best):
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
        versions=library_versions("ortools"),
        bound=None if bound_sf is None else float(bound_sf),
        gap=gap,
    )
    return result.model_copy(update={"info": result.info.model_copy(update={"seed": seed})})

