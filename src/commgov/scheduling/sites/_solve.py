"""The site planner: options, control and dispatch to the solving method (private)."""

from __future__ import annotations

from typing import Any

from commgov._control import CancelToken, ProgressCallback, SolveControl
from commgov._options import check_choice, check_options
from commgov.errors import expect_type
from commgov.results import SolveStatus
from commgov.scheduling.sites._data import sites_data
from commgov.scheduling.sites._plan import SitesPlan, build_plan, complete
from commgov.scheduling.sites._problem import SitesProblem
from commgov.scheduling.sites._solve_cpsat import solve_cpsat

__all__ = ["METHODS", "plan_sites"]

#: The site planner's solving methods; the first is the default.
METHODS: tuple[str, ...] = ("cpsat",)


def plan_sites(
    problem: SitesProblem,
    *,
    method: str | None = None,
    time_limit_s: float = 60.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    deterministic_time: float | None = None,
) -> SitesPlan:
    """Choose the sites to open, their lanes and staff per slot, and each building's site.

    Lexicographic objective (each tier fixed at its optimum before the next; no weights):

    1. most residents served, among the buildings with a site in reach (a candidate site
       open in the window within ``policy.max_walk_m``), within the staff pool (a hard
       limit: per role, people at once in every slot and staff-hours over the window);
    2. fewest staff-minutes (every role in every open slot, plus each opened site's
       ``opening_staff_minutes``);
    3. least walking, Σ residents × metres;
    4. waiting: every open site meets the waiting target (the ``policy.wait_quantile`` of
       the M/M/c wait at most ``policy.target_wait_min``) as a constraint, and the expected
       waiting person-minutes are reported (``info.objective["wait_person_min"]``) — *not*
       optimised as a tier: with the lanes fixed by tier 2 the wait of a site is a convex
       function of its residents, which this linear model does not carry.

    The arrival model: a site's residents arrive evenly over its open slots, so its lanes
    and staff are the same in each open slot (see :mod:`commgov.scheduling.sites`);
    :func:`commgov.scheduling.sampling.plan_sampling` on the opened sites then calls each
    building to a slot. Lanes are the fewest meeting the waiting target (Erlang C, exact);
    staff per open slot follow the policy's ratios (swabbers per lane plus relief for
    breaks, registrars per lane, orderlies, up to the site's ``min_staff``).

    Method ``"cpsat"`` (the only one, default): a capacitated facility-location MILP
    (Daskin 2013, ch. 6) in which each site picks one number of lanes from its Erlang-C
    capacity table. A greedy plan, improved by a local search (ejections to serve more,
    lane removal, nearer sites; :mod:`._improve`), is the start. Up to
    :data:`~commgov.scheduling.sites._solve_cpsat.LNS_PAIRS` building-site pairs in reach
    (community scale) CP-SAT solves the whole model tier by tier; tier 1 is proven by the
    start when it serves every building that fits a site in reach. Above that (a
    sub-district or a district), the *splittable relaxation* comes first (:mod:`._relax`):
    lanes stay whole, buildings with the same sites in reach become one demand that may
    split, and HiGHS's branch and cut solves that small MIP to a 0.5 % gap. Its proven
    bound is the plan's ``info.bound`` (valid for every plan serving every building that
    fits; given only when the plan does), and its lanes, with the buildings assigned by a
    transportation LP of least walking and rounded, are the start when better than the
    greedy one. Then neighbourhoods — a site and its nine nearest neighbours sharing a
    building's reach — are re-solved in turn with everything else fixed (large-neighbourhood
    search, :mod:`._lns`): the result is ``FEASIBLE``, never proven. Deterministic: one
    worker, ``random_seed=seed``, the models built from the canonical problem, HiGHS ended
    by its gap and CP-SAT by a deterministic-time budget; the wall-clock ``time_limit_s`` is
    a safety cap.

    Parameters
    ----------
    problem : SitesProblem
    method : {"cpsat"} or None
        Solving method; ``None`` picks the default (see :data:`METHODS`).
    time_limit_s : float
        Wall-clock cap in seconds, in (0, 3600] (default 60).
    seed : int
        CP-SAT random seed, 0 … 2³¹−1 (default 0).
    progress : callable or None
        Called with a :class:`commgov.ProgressEvent` per tier, at least once a second while
        CP-SAT runs, and last with phase ``"done"`` (incumbent and bound in staff-hours).
    cancel : threading.Event or None
        Once set, the planner stops and returns the best plan found (the greedy plan if no
        tier finished), status ``CANCELLED``: within a fraction of a second, except while
        HiGHS runs a sub-MIP heuristic of the relaxation, which looks at the stop only when
        it ends (up to about 5 s measured on Gusu's district).
    deterministic_time : float or None
        CP-SAT deterministic-time budget, split 30/50/20 % over the tiers with unused budget
        carried on (the neighbourhood search gets 60 % of it); default ``time_limit_s / 4``
        (a deterministic second took up to 1.9 s of wall clock on a loaded 2-core machine;
        at half the limit the wall clock, not the budget, ended the district's search: the
        same plan, but status ``LIMIT`` and a result that depends on the load).

    Returns
    -------
    SitesPlan
        ``info.status``: ``OPTIMAL`` when every tier is proven; ``FEASIBLE`` when a budget
        ran out first or the neighbourhood search ran; ``LIMIT`` when the wall clock did;
        ``CANCELLED``. Every plan keeps
        every rule (the greedy completion inserts what still fits, so each building left
        out has a reason that holds). ``info.bound``/``info.gap`` are on staff-hours, for
        plans serving the tier-1 value (community scale: CP-SAT's bound; above: the
        splittable relaxation's, at full service only).

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`SitesProblem`.
    commgov.errors.InvalidParameterError
        For a bad ``method``, ``time_limit_s``, ``seed``, ``progress``, ``cancel`` or
        ``deterministic_time``.
    commgov.errors.SizeLimitError
        Above :data:`~commgov.scheduling.sites._data.MAX_PAIRS` building × site pairs.
    commgov.errors.SolverError
        If CP-SAT reports the model invalid or infeasible (the empty plan is feasible, so
        this is a bug).

    Notes
    -----
    O(B·S) to measure the walks, then a MILP with one Boolean per building-site pair in
    reach and per site and number of lanes: capacitated facility location is NP-hard, so
    the deterministic budget bounds the time. The capacity tables cost O(S·c²·log R).
    Measured (``benchmarks/bench_sites.py``, 2-core machine): Gusu district, 273 sites and
    41,339 buildings, served in full in 36 s, 1.6 % above the plan's own proven bound on
    staff-hours (1.9 % above the weaker LP bound; see the reference page).

    References
    ----------
    .. [1] M. S. Daskin, *Network and Discrete Location: Models, Algorithms, and
       Applications*, 2nd ed., Wiley, 2013 (capacitated facility location).
    .. [2] 考虑人员配置和工作时长的COVID-19核酸采样点选址, 运筹与管理 (Operations Research and
       Management Science), 2024(7) (sites, staff and working hours chosen jointly).
    .. [3] He et al., "Dynamic planning of COVID-19 nucleic acid sampling sites",
       Healthcare 11(3):393, 2023.
    .. [4] Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
       Mathematical Programming Computation 10(1):119-142, 2018 (HiGHS).
    .. [5] D. Gross and C. M. Harris, *Fundamentals of Queueing Theory*, 3rd ed., Wiley,
       1998, §2.3 (M/M/c waiting times); L. Kleinrock, *Queueing Systems, Vol. 1*, Wiley,
       1975.
    """
    check_options(
        "plan_sites",
        time_limit_s=time_limit_s,
        seed=seed,
        progress=progress,
        cancel=cancel,
        deterministic_time=deterministic_time,
    )
    chosen = check_choice("plan_sites", "method", METHODS[0] if method is None else method, METHODS)
    expect_type(
        problem,
        SitesProblem,
        "problem",
        "build one with SitesProblem(...) or sites_problem_from_org",
    )
    ctl = SolveControl("plan_sites", time_limit_s, progress, cancel)
    canon = problem.canonical()
    ctl.report("measure")
    # measured in full even when cancelled (vectorised, about a second for a district): the
    # totals name the residents in reach, which only the walks tell
    data = sites_data(canon)
    dtime = float(time_limit_s / 4 if deterministic_time is None else deterministic_time)
    options: dict[str, Any] = {
        "method": chosen,
        "time_limit_s": float(time_limit_s),
        "deterministic_time": dtime,
        "num_workers": 1,
    }
    assign, status, bound = solve_cpsat(data, ctl, dtime, seed)
    finished = status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    if data.unmeasured and finished:  # stopped while measuring: nothing proven
        status = SolveStatus.CANCELLED if ctl.stopped_by == "cancel" else SolveStatus.LIMIT
        finished = False
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
    ctl.done(plan.totals.staff_hours, plan.info.bound)
    return plan
