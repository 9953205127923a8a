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
from commgov.scheduling.supply._solve_highs import (
    CARRY_NODES,
    FULL_NODES,
    MAX_NODES,
    solve_highs,
)

__all__ = ["HIGHS_PAIRS", "METHODS", "plan_supply_stations"]

#: The supply planner's solving methods; the first is the default.
METHODS: tuple[str, ...] = ("auto", "highs", "cpsat")
#: Method ``"auto"`` solves with HiGHS up to this many compound-station pairs in reach (a
#: sub-district: 双塔 has 3,389) and with CP-SAT above (the district: 27,079), where HiGHS's
#: root node outlasts a minute and only the wall clock would end it (a result that depends on
#: the machine's load).
HIGHS_PAIRS = 10_000


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

    The model: the capacitated facility-location MILP with single sourcing (Daskin 2013,
    ch. 6; the strong formulation with ``x[c,s] ≤ y[s]``), started from a greedy plan
    improved by local search.

    * ``"auto"`` (default): ``"highs"`` up to :data:`HIGHS_PAIRS` compound-station pairs in
      reach, ``"cpsat"`` above (at district scale HiGHS's root node alone outlasts a minute,
      so its result would depend on the wall clock).
    * ``"highs"``: each tier solved exactly by HiGHS's LP-based branch and cut
      (Huangfu and Hall 2018), fixed before the next, the previous tier's plan given as the
      start solution. A plan serving every parcel in reach is sought first with the fewest
      volunteers (when one exists it proves tier 1 and solves tier 2 at once). Ended by a
      proven optimum (absolute gap below 1 on these whole-number tiers); deterministic work
      limits: at most :data:`~._solve_highs.MAX_NODES` branch-and-bound nodes for tiers 1
      and 2 (:data:`~._solve_highs.FULL_NODES` for the serve-all attempt) and
      :data:`~._solve_highs.CARRY_NODES` for tier 3; ``random_seed=seed``.
    * ``"cpsat"``: the same model solved tier by tier by CP-SAT within a deterministic-time
      budget (``deterministic_time``), one worker, ``random_seed=seed``.

    Both are deterministic; the wall-clock ``time_limit_s`` is a safety cap.

    Parameters
    ----------
    problem : SupplyProblem
    method : {"auto", "highs", "cpsat"} or None
        Solving method; ``None`` picks the default (see :data:`METHODS`).
    time_limit_s : float
        Wall-clock cap in seconds, in (0, 3600] (default 60).
    seed : int
        The solver's random seed, 0 … 2³¹−1 (default 0).
    progress : callable or None
        Called with a :class:`commgov.ProgressEvent` per tier, at least once a second while
        CP-SAT runs (method ``"cpsat"``), and last with phase ``"done"`` (incumbent and
        bound in volunteers).
    cancel : threading.Event or None
        Once set, the planner stops and returns the best plan found (the greedy plan if no
        tier finished), status ``CANCELLED``: within a fraction of a second with CP-SAT;
        with HiGHS at its next interrupt check (about a second on 双塔, measured 1.1 s).
    deterministic_time : float or None
        Method ``"cpsat"`` only (the ``"highs"`` method's work limit is its node limits):
        CP-SAT deterministic-time budget, split 30/50/20 % over the tiers with unused budget
        carried on; default ``time_limit_s / 4`` (on a loaded 2-core machine CP-SAT's
        deterministic second took up to 1.4 s of wall clock at district scale, so half the
        limit let the wall clock, not the budget, end the search: status ``LIMIT`` and a
        plan that depends on the machine's load).

    Returns
    -------
    SupplyPlan
        ``info.status``: ``OPTIMAL`` when every tier is proven; ``FEASIBLE`` when a work
        limit ran out first; ``LIMIT`` when the wall clock did; ``CANCELLED``. Every plan
        keeps every rule (the greedy completion inserts what still fits, so each compound
        left out has a reason that holds). ``info.bound``/``info.gap`` are on ``staff``, a
        bound valid for every plan serving the plan's parcels; given only once tier 1 (the
        parcels served) is proven, so a gap never hides parcels a better plan serves.

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
        If the solver reports the model invalid or infeasible (the empty plan is feasible, so
        this is a bug).

    Notes
    -----
    O(C·S) to measure the legs, then a MILP with one Boolean per compound-station pair in
    reach and per station: capacitated facility location with single sourcing is NP-hard,
    so the deterministic work limits bound the time. Gusu's 双塔 sub-district (226
    compounds, 23 candidate stations) is proven at 46 volunteers in a few seconds.

    References
    ----------
    .. [1] M. S. Daskin, *Network and Discrete Location: Models, Algorithms, and
       Applications*, 2nd ed., Wiley, 2013, ch. 6 (capacitated facility location).
    .. [2] H. Pirkul, "Efficient algorithms for the capacitated concentrator location
       problem", Computers & Operations Research 14(3):197-208, 1987 (single sourcing).
    .. [3] Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
       Mathematical Programming Computation 10(1):119-142, 2018 (HiGHS).

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
    options: dict[str, Any] = {"method": chosen, "time_limit_s": float(time_limit_s)}
    if chosen == "auto":
        chosen = "highs" if len(data.pairs()) <= HIGHS_PAIRS else "cpsat"
        options["resolved_method"] = chosen
    if chosen == "highs":
        options.update(max_nodes=MAX_NODES, full_nodes=FULL_NODES, carry_nodes=CARRY_NODES)
        assign, status, bound = solve_highs(data, ctl, seed)
        solver = "highs"
    else:
        dtime = float(time_limit_s / 4 if deterministic_time is None else deterministic_time)
        options.update(deterministic_time=dtime, num_workers=1)
        assign, status, bound = solve_cpsat(data, ctl, dtime, seed)
        solver = "cp-sat"
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
        solver,
        stopped_by=None if status is SolveStatus.OPTIMAL else ctl.stopped_by,
    )
    ctl.done(plan.totals.staff, plan.info.bound)
    return plan
