"""What the facility-location families share (private): reach, tiers, the LP relaxation.

Used by :mod:`commgov.scheduling.sites` (sampling sites) and
:mod:`commgov.scheduling.supply` (supply transit stations), which are both capacitated
facility location with single sourcing solved lexicographically:

* :func:`measure_reach` — every origin's facilities within a distance limit, measured in
  chunks with :func:`commgov.types.haversine_array_m` and rechecked with the family's scalar
  rule, plus the nearest facility of an origin with none in reach;
* :func:`solve_tiers` — one CP-SAT model solved tier by tier, each tier fixed at its value
  before the next (no weights), within a deterministic budget shared over the tiers;
* :class:`TieredLP` — the same tiers on the LP relaxation with HiGHS (the families' bounds);
* :func:`stopped_status` — the honest status of a search its control stopped.

OR-Tools and HiGHS are imported by the callers (lazily); nothing here imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from commgov._control import SolveControl, integer_bound
from commgov.errors import SolverError
from commgov.results import SolveStatus
from commgov.types import GeoPoint, haversine_array_m

__all__ = ["TieredLP", "measure_reach", "solve_tiers", "stopped_status"]

_T = TypeVar("_T")

Reach = dict[int, list[tuple[int, int]]]


def measure_reach(
    origins: Sequence[GeoPoint],
    todo: Sequence[int],
    targets: Sequence[GeoPoint],
    usable: Sequence[int],
    limit: int,
    exact: Callable[[int, int], int],
    stop: Callable[[], bool] | None = None,
    chunk: int = 2048,
) -> tuple[Reach, dict[int, int], list[int]]:
    """Each origin's usable targets within ``limit`` metres; O(len(todo) · len(usable)).

    Parameters
    ----------
    origins, targets : sequence of GeoPoint
        Indexed by the integers of ``todo`` and ``usable``.
    todo : sequence of int
        The origins to measure, in order.
    usable : sequence of int
        The targets that may serve, in order.
    limit : int
        Metres; a pair is in reach when ``exact(origin, target) <= limit``.
    exact : callable
        The family's rule for a pair's whole metres (the vectorised distance only preselects,
        within a metre of the limit).
    stop : callable, optional
        Asked between chunks; when true the origins not measured yet are returned as
        ``unmeasured``.

    Returns
    -------
    reach : dict
        Origin → [(target, metres)] in ``usable`` order (origins with at least one).
    nearest : dict
        Origin with none in reach → metres to its nearest usable target.
    unmeasured : list of int
        Origins left when ``stop()`` said so.
    """
    import numpy as np

    reach: Reach = {}
    nearest: dict[int, int] = {}
    unmeasured: list[int] = []
    if usable:
        s_lon = np.array([targets[k].lon for k in usable])
        s_lat = np.array([targets[k].lat for k in usable])
    for lo in range(0, len(todo), chunk):
        if stop is not None and stop():
            unmeasured = list(todo[lo:])
            break
        part = todo[lo : lo + chunk]
        if not usable:
            break
        b_lon = np.array([origins[b].lon for b in part])
        b_lat = np.array([origins[b].lat for b in part])
        dist = haversine_array_m(b_lon[:, None], b_lat[:, None], s_lon[None, :], s_lat[None, :])
        for row, b in enumerate(part):
            near = np.nonzero(dist[row] <= limit + 1.0)[0]  # rechecked with the scalar rule
            pairs = []
            for k in near.tolist():
                s = usable[k]
                w = exact(b, s)
                if w <= limit:
                    pairs.append((s, w))
            if pairs:
                reach[b] = pairs
            else:
                k = int(np.argmin(dist[row]))
                nearest[b] = exact(b, usable[k])
    return reach, nearest, unmeasured


def stopped_status(ctl: SolveControl) -> SolveStatus:
    """``CANCELLED`` or ``LIMIT`` when the control stopped the search, else ``FEASIBLE``."""
    if ctl.stopped_by == "cancel":
        return SolveStatus.CANCELLED
    if ctl.stopped_by == "wall_clock":
        return SolveStatus.LIMIT
    return SolveStatus.FEASIBLE


def solve_tiers(
    model: Any,
    tiers: Sequence[tuple[str, Any, bool]],
    shares: Sequence[float],
    ctl: SolveControl,
    dtime: float,
    seed: int,
    reserve: float,
    start: _T,
    hint: Callable[[_T], None],
    read: Callable[[Any], _T],
    *,
    family: str,
    known_first: int | None = None,
    bound_tier: int = 1,
    polish: Callable[[_T], _T] | None = None,
) -> tuple[_T, bool, float | None]:
    """Solve ``model`` lexicographically with CP-SAT, one tier after another.

    Each tier ``(name, expression, maximise)`` gets ``dtime × share`` deterministic seconds
    plus what the tiers before it left; it is hinted with the best solution so far
    (``hint(solution)``), and once solved its value is fixed (``≥`` when maximised, ``≤``
    when minimised) before the next. ``known_first``: the first tier's value is already
    proven (by a start that reaches an upper bound): it is fixed without a solve and its
    budget carried on. ``polish(solution)``, when given, improves each tier's solution
    before it hints the next (a local search that keeps the values of the tiers fixed so
    far). One worker, ``random_seed=seed``; the wall clock keeps ``reserve`` seconds for the
    caller.

    Returns
    -------
    solution
        ``read(solver)`` of the last tier solved (``start`` when none was).
    proven : bool
        Every tier solved to optimality.
    bound : float or None
        A proven lower bound on tier ``bound_tier`` (minimised), when it ran.

    Raises
    ------
    commgov.errors.SolverError
        If CP-SAT reports the model invalid or a tier infeasible (a bug: the empty solution
        is feasible in every family that uses this).
    """
    import math

    from ortools.sat.python import cp_model

    chosen = start
    carried = 0.0
    proven = True
    bound: float | None = None
    for k, (name, expr, maximise) in enumerate(tiers):
        budget = dtime * shares[k] + carried
        if k == 0 and known_first is not None:
            model.add(expr >= known_first if maximise else expr <= known_first)
            carried = budget
            continue
        if ctl.should_stop(0.01):
            proven = False
            break
        ctl.report(f"tier {name}", k / len(tiers))
        if maximise:
            model.maximize(expr)
        else:
            model.minimize(expr)
        hint(chosen)
        solver = cp_model.CpSolver()
        prm = solver.parameters
        prm.num_workers = 1
        prm.random_seed = seed
        prm.max_time_in_seconds = max(0.01, ctl.remaining() - reserve)
        prm.max_deterministic_time = max(0.01, budget)
        st = ctl.solve_cp_sat(solver, model, f"tier {name}")
        carried = max(0.0, budget - solver.response_proto.deterministic_time)
        if st in (cp_model.MODEL_INVALID, cp_model.INFEASIBLE):
            raise SolverError(
                f"CP-SAT returned {solver.status_name(st)} on {family} tier "
                f"{name!r}: {model.validate()}"
            )
        if st == cp_model.UNKNOWN:
            proven = False
            break
        value = round(solver.objective_value)
        if k == bound_tier:
            best = solver.best_objective_bound
            bound = integer_bound(
                value if st == cp_model.OPTIMAL else None, best if math.isfinite(best) else None
            )
        if st != cp_model.OPTIMAL:
            proven = False
        chosen = read(solver)
        if polish is not None and k + 1 < len(tiers):
            chosen = polish(chosen)
        model.add(expr >= value if maximise else expr <= value)
    return chosen, proven, bound


class TieredLP:
    """An LP in [0, 1] columns with one cost per tier, solved tier by tier with HiGHS.

    ``col(costs)`` adds a column (a tuple of one cost per tier), ``row(lo, hi, idx, val)`` a
    constraint; :meth:`solve` optimises the tiers in order, each kept at its value less a
    relative 1e-9 before the next (so floating-point noise never makes a bound invalid).

    Raises
    ------
    commgov.errors.MissingExtraError
        If ``highspy`` is not installed (``pip install 'commgov[lp]'``).
    """

    def __init__(self, family: str) -> None:
        from commgov._highs import new_highs

        self.h = new_highs()
        import highspy

        self.hs = highspy
        self.family = family
        self.inf = highspy.kHighsInf
        self.cols: list[tuple[float, ...]] = []

    def col(self, *costs: float) -> int:
        """A new column in [0, 1] with its cost in each tier; its index."""
        self.h.addVar(0.0, 1.0)
        self.cols.append(costs)
        return len(self.cols) - 1

    def row(self, lo: float, hi: float, idx: list[int], val: list[float]) -> None:
        """``lo ≤ Σ val·x[idx] ≤ hi`` (``None`` bounds are written as ±inf by the caller)."""
        self.h.addRow(lo, hi, len(idx), idx, val)

    def solve(self, maximise: Sequence[bool]) -> list[float]:
        """The optimal value of each tier in order (0 for an LP without columns)."""
        from commgov._highs import run_highs

        hs, h, inf = self.hs, self.h, self.inf
        values: list[float] = []
        n = len(self.cols)
        for k, up in enumerate(maximise):
            if not n:
                values.append(0.0)
                continue
            coef = [c[k] for c in self.cols]
            h.changeColsCost(n, list(range(n)), coef)
            h.changeObjectiveSense(hs.ObjSense.kMaximize if up else hs.ObjSense.kMinimize)
            run_highs(h)
            if h.getModelStatus() != hs.HighsModelStatus.kOptimal:
                raise SolverError(
                    f"HiGHS: {h.modelStatusToString(h.getModelStatus())} on the "
                    f"{self.family} LP relaxation (tier {k + 1})"
                )
            value = h.getInfo().objective_function_value
            values.append(value)
            slack = 1e-9 * max(1.0, abs(value))
            if up:
                h.addRow(value - slack, inf, n, list(range(n)), coef)
            else:
                h.addRow(-inf, value + slack, n, list(range(n)), coef)
        return values
