"""Minute budgets (private): the 0–1 model's data and the Lagrangian min-cost-flow start.

:class:`_Model` holds the kept pairs of a prepared problem with their objective tiers, weights
and constraint groups, and repairs and completes selections; :func:`_lagrangian_start` relaxes
the budgets with a multiplier per volunteer-day and returns a budget-feasible, maximal start
and a lower bound. ``_solve_cpsat.py`` builds the CP-SAT model from them (see its docstring).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from commgov._control import SolveControl
from commgov._redact import get_logger
from commgov.errors import SizeLimitError, SolverError, check_size
from commgov.matching.volunteers._pairs import Prepared

__all__ = ["_Model", "_Start", "_lagrangian_start"]

_log = get_logger("commgov.matching")

_EXACT = 2**53

#: Tasks completed between two looks at the deadline and the cancel token.
CHECK_EVERY = 256


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

        # weights as in _solve_flow.py: each one more than the largest total of all lower tiers
        best = np.zeros(n_tasks, dtype=np.int64)
        if len(self.kt):
            np.maximum.at(best, self.kt, self.kc)
        total_best = int(best.sum())
        self.w2 = 1 + total_best if self.n_prev else 0
        self.w1 = 1 + self.w2 * self.n_prev + total_best
        self.prio_total = int(self.prio.sum())
        top = self.w1 * self.prio_total + self.w2 * self.n_prev + total_best
        check_size(
            "matching: weighted objective with minute budgets (below 2^53 to solve and bound "
            "exactly)",
            top,
            _EXACT - 1,
            "split the problem (fewer tasks, a smaller max_distance_m, smaller priorities or "
            "scope penalties)",
        )
        self.const = self.w1 * self.prio_total + self.w2 * self.n_prev
        # objective = const + Σ coef·x
        self.coef = self.kc - self.w1 * self.prio[self.kt] - self.w2 * self.k_same
        #: tasks the last :meth:`complete` did not reach (stopped by its ``ctl``)
        self.untried: list[int] = []

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

    def complete(self, sel: Any, ctl: SolveControl | None = None) -> tuple[Any, int]:
        """Make a selection maximal: unmatched tasks by priority then id, to the cheapest
        volunteer with room in the slot, the day and minutes. Returns it and the tasks added.

        ``ctl`` is asked every :data:`CHECK_EVERY` tasks; once it says stop, the tasks not
        reached are left out and listed in :attr:`untried` (else it is empty).
        """
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
        self.untried = []
        for i, t in enumerate(open_tasks):
            if ctl is not None and i % CHECK_EVERY == 0 and ctl.should_stop():
                self.untried = open_tasks[i:]
                break
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
    untried: list[int]  #: tasks the completion of ``best`` did not reach (stopped)


def _flow(m: _Model, mu: Any) -> tuple[Any, int]:
    """Min-cost flow without budgets, each pair's cost raised by ``mu[(v, day)]·minutes``.

    Returns the selection (one pair per served task) and the flow's optimal cost.
    """
    import numpy as np

    from commgov.matching.volunteers._solve_flow import _solve_network

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


def _lagrangian_start(m: _Model, iterations: int, ctl: SolveControl) -> _Start:
    """Budget-feasible start and lower bound by Lagrangian relaxation of the minute budgets.

    For multipliers ``μ ≥ 0`` (integers, objective units per minute) on each budgeted
    volunteer-day, the min-cost flow with pair costs raised by ``μ·duration`` gives
    ``L(μ) = flow cost − Σ μ·budget``, a lower bound on the weighted optimum (the flow
    polytope is integral: Held, Wolfe & Crowder, "Validation of subgradient optimization",
    1974; Fisher, "The Lagrangian relaxation method for solving integer programming
    problems", 1981). ``μ`` follows projected subgradient steps with Polyak's step length
    (``θ`` halved after three steps without a better bound) for a fixed number of flow
    solves, so the outcome is deterministic. Each flow solution is repaired to fit the budgets
    and completed (:meth:`_Model.repair`, :meth:`_Model.complete`); the best is kept. Once
    ``ctl`` is cancelled, or the planned time of a flow (``_solve_flow.flow_fits``) exceeds
    the time left, no further flow is solved; completions stop on ``ctl`` too, and the best
    start's untried tasks are returned in ``_Start.untried``.
    """
    import numpy as np

    n_kept = len(m.kt)
    n_vd = m.n_vols * m.n_days
    budget = m.budget[np.arange(n_vd) // m.n_days]
    budgeted = budget >= 0
    _, d_key = m._keys()
    if m.n_tasks == 0 or n_kept == 0:
        empty = np.zeros(n_kept, dtype=bool)
        return _Start(empty, True, empty, None, 0, [])
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
    total = max(1, iterations)
    from commgov.matching.volunteers._solve_flow import flow_fits

    untried: list[int] = []
    for it in range(total):
        n_vd_used = min(n_kept, n_vd)
        if not flow_fits(
            ctl,
            n_kept + 2 * m.n_tasks + 2 * n_vd_used,
            m.n_tasks + 2 + min(n_kept, m.n_vols * m.n_slots) + n_vd_used,
        ):
            break
        ctl.report(
            "lagrangian", 0.1 + 0.4 * it / total, None if best is None else float(m.shortfall(best))
        )
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
        cand, _ = m.complete(m.repair(sel), ctl)
        obj = m.objective(cand)
        if best is None or (obj < best_obj and not m.untried) or (untried and not m.untried):
            best, best_obj, untried = cand, obj, m.untried
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
    if relaxed is None and ctl.should_stop():
        empty = np.zeros(n_kept, dtype=bool)
        return _Start(empty, False, None, None, done, [])
    if relaxed is None:  # the flow could not be built or would not fit: pins, then greedy
        pins = np.zeros(n_kept, dtype=bool)
        pins[m.pin_vol[m.kt] >= 0] = True
        best, _ = m.complete(pins, ctl)
        return _Start(pins, False, best, None, done, m.untried)
    return _Start(relaxed, True, best, bound, done, untried)
