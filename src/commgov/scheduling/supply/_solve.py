"""The supply planner: options, control and dispatch to the solving method (private)."""

from __future__ import annotations

from typing import Any

from commgov._control import CancelToken, ProgressCallback, SolveControl
from commgov._options import check_choice, check_options
from commgov.errors import expect_type
from commgov.results import SolveStatus
from commgov.scheduling.supply._data import supply_data
from commgov.scheduling.supply._plan import SupplyPlan, build_plan, complete
from commgov.scheduling.supply._problem import SupplyProblem
from commgov.scheduling.supply._solve_cpsat import solve_cpsat

__all__ = ["METHODS", "plan_supply_stations"]

#: The supply planner's solving methods; the first is the default.
METHODS: tuple[str, ...] = ("cpsat",)


def plan_supply_stations(
    problem: SupplyProblem,
    *,
    method: str | None = None,
    time_limit_s: float = 60.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    deterministic_time: float | None = None,
) -> SupplyPlan:
    """Choose the supply transit stations to open and the station of each compound.

    The first leg of the relay (接力配送): parcels reach a station (物资中转站), carriers take
    them to each compound's gate, and gate volunteers carry them to the doors
    (:mod:`commgov.sim`'s ``relay`` submodel, :func:`commgov.matching.plan_relay`). Each
    compound is served by one station (single sourcing), within ``policy.max_walk_m`` of its
    gate; a station takes at most its ``capacity_parcels`` a day.

    Lexicographic objective (each tier fixed at its optimum before the next; no weights):

    1. most parcels a day served, among the compounds with a station in reach, within the
       volunteer pool (``problem.volunteers``: the staff of the opened stations together);
    2. fewest volunteers running stations (Σ ``staff`` of the opened stations; with equal
       staff, fewest stations);
    3. least carrying, Σ parcels × station → gate metres.

    Method ``"cpsat"`` (the only one, default): the capacitated facility-location MILP with
    single sourcing (Daskin 2013, ch. 6; the strong formulation with ``x[c,s] ≤ y[s]``),
    solved by CP-SAT tier by tier from a greedy start. Deterministic: one worker,
    ``random_seed=seed``, the model built from the canonical problem and a
    deterministic-time budget; the wall-clock ``time_limit_s`` is a safety cap.

    Parameters
    ----------
    problem : SupplyProblem
    method : {"cpsat"} or None
        Solving method; ``None`` picks the default (see :data:`METHODS`).
    time_limit_s : float
        Wall-clock cap in seconds, in (0, 3600] (default 60).
    seed : int
        CP-SAT random seed, 0 … 2³¹−1 (default 0).
    progress : callable or None
        Called with a :class:`commgov.ProgressEvent` per tier, at least once a second while
        CP-SAT runs, and last with phase ``"done"`` (incumbent and bound in volunteers).
    cancel : threading.Event or None
        Once set, the planner stops within a fraction of a second and returns the best plan
        found (the greedy plan if no tier finished), status ``CANCELLED``.
    deterministic_time : float or None
        CP-SAT deterministic-time budget, split 30/50/20 % over the tiers with unused budget
        carried on; default ``time_limit_s / 4`` (on a loaded 2-core machine CP-SAT's
        deterministic second took up to 1.4 s of wall clock at district scale, so half the
        limit let the wall clock, not the budget, end the search: status ``LIMIT`` and a
        plan that depends on the machine's load).

    Returns
    -------
    SupplyPlan
        ``info.status``: ``OPTIMAL`` when every tier is proven; ``FEASIBLE`` when a budget
        ran out first; ``LIMIT`` when the wall clock did; ``CANCELLED``. Every plan keeps
        every rule (the greedy completion inserts what still fits, so each compound left
        out has a reason that holds). ``info.bound``/``info.gap`` are on ``staff``, for
        plans serving the tier-1 value.

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`SupplyProblem`.
    commgov.errors.InvalidParameterError
        For a bad ``method``, ``time_limit_s``, ``seed``, ``progress``, ``cancel`` or
        ``deterministic_time``.
    commgov.errors.SizeLimitError
        Above :data:`~commgov.scheduling.supply._data.MAX_PAIRS` compound × station pairs.
    commgov.errors.SolverError
        If CP-SAT reports the model invalid or infeasible (the empty plan is feasible, so
        this is a bug).

    Notes
    -----
    O(C·S) to measure the legs, then a MILP with one Boolean per compound-station pair in
    reach and per station: capacitated facility location with single sourcing is NP-hard,
    so the deterministic budget bounds the time.

    References
    ----------
    .. [1] M. S. Daskin, *Network and Discrete Location: Models, Algorithms, and
       Applications*, 2nd ed., Wiley, 2013, ch. 6 (capacitated facility location).
    .. [2] H. Pirkul, "Efficient algorithms for the capacitated concentrator location
       problem", Computers & Operations Research 14(3):197-208, 1987 (single sourcing).

    Examples
    --------
    >>> from commgov.scheduling.supply import CandidateStation, SupplyCompound
    >>> from commgov.types import GeoPoint
    >>> problem = SupplyProblem(
    ...     compounds=[SupplyCompound(id="c1", gate=GeoPoint(lon=120.62, lat=31.31),
    ...                               parcels=300)],
    ...     stations=[CandidateStation(id="s1", location=GeoPoint(lon=120.621, lat=31.31),
    ...                                capacity_parcels=1000)])
    >>> plan = plan_supply_stations(problem)
    >>> plan.station_of("c1"), plan.info.status.value
    ('s1', 'OPTIMAL')
    """
    check_options(
        "plan_supply_stations",
        time_limit_s=time_limit_s,
        seed=seed,
        progress=progress,
        cancel=cancel,
        deterministic_time=deterministic_time,
    )
    chosen = check_choice(
        "plan_supply_stations", "method", METHODS[0] if method is None else method, METHODS
    )
    expect_type(
        problem,
        SupplyProblem,
        "problem",
        "build one with SupplyProblem(...) or supply_problem_from_org",
    )
    ctl = SolveControl("plan_supply_stations", time_limit_s, progress, cancel)
    canon = problem.canonical()
    ctl.report("measure")
    data = supply_data(canon)
    dtime = float(time_limit_s / 4 if deterministic_time is None else deterministic_time)
    options: dict[str, Any] = {
        "method": chosen,
        "time_limit_s": float(time_limit_s),
        "deterministic_time": dtime,
        "num_workers": 1,
    }
    assign, status, bound = solve_cpsat(data, ctl, dtime, seed)
    finished = status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assign, reasons = complete(data, assign, None if finished else ctl.should_stop)
    plan = build_plan(
        data,
        assign,
        reasons,
        status,
        bound,
        options,
        seed,
        "cp-sat",
        stopped_by=None if status is SolveStatus.OPTIMAL else ctl.stopped_by,
    )
    ctl.done(plan.totals.staff, plan.info.bound)
    return plan
