"""``plan_sampling``: choose the solving method, run it, finish the plan (private)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from commgov._control import CancelToken, ProgressCallback, SolveControl
from commgov._options import check_choice, check_options
from commgov._perf import gc_paused
from commgov.errors import InfeasibleError, InvalidParameterError, expect_type
from commgov.results import SolveStatus
from commgov.scheduling.sampling._bound import (
    gap_instance_of,
    nearest_relaxation,
    reachable_people,
    transport_bound,
)
from commgov.scheduling.sampling._data import (
    NUM_WORKERS,
    check_sizes,
    cp_sat_seed,
    model_vars,
    prepare,
    reserve_s,
    slot_free,
)
from commgov.scheduling.sampling._finish import complete, finish
from commgov.scheduling.sampling._plan import SamplingPlan
from commgov.scheduling.sampling._problem import SamplingProblem, check_problem
from commgov.scheduling.sampling._records import build_plan
from commgov.scheduling.sampling._solve_gap import GapSolution, solve_gap

if TYPE_CHECKING:
    from commgov.scheduling.sampling._solve_cpsat import Tier

__all__ = ["METHODS", "plan_sampling"]

#: The solving methods of :func:`plan_sampling`: ``"auto"`` (the default) picks one of the
#: other two; ``"cpsat"`` runs the batch-level CP-SAT tiers; ``"gap"`` the building-level
#: search (relaxation, rounding, repair, CP-SAT neighbourhoods).
METHODS = ("auto", "cpsat", "gap")

#: Deterministic work of the building-level search per second of ``time_limit_s``: CP-SAT
#: deterministic time, measured at ≈ 0.7 units per wall second on the 2-core benchmark machine
#: (tier D48). 0.45 leaves a third of the limit as margin (D48 at 60 s: ~42 s; at 0.6 the
#: wall-clock cap bound first and two runs differed), so the search stops on this
#: deterministic budget and the same input and options give the same plan on any machine
#: not much slower.
LNS_DET_PER_S = 0.45

#: Seconds the greedy completion may run past the deadline (it is O(batches · points in reach
#: · slots) and fills whatever a search cut short left out; a cancel stops it at once).
COMPLETION_GRACE_S = 0.5

#: Seconds of fixed work per batch (checks, distances, relaxation, finish and plan records;
#: 15-20 µs on the 2-core reference machine): with a ``time_limit_s`` below this times the
#: batches, the limit cannot cover the fixed work and the min-cost-flow relaxation is skipped.
FIXED_PER_BATCH_S = 2e-5

#: With ``method="auto"``, the batch-level CP-SAT tiers (exact when residents of a building
#: may be left out batch by batch) are used instead of the building-level search when the
#: relaxation cannot serve everyone in reach and the model has at most this many variables.
BATCH_MODEL_MAX_VARS = 50_000


def plan_sampling(
    problem: SamplingProblem,
    *,
    method: str | None = None,
    time_limit_s: float = 30.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    gap_limit: float = 0.005,
    strict: bool = False,
) -> SamplingPlan:
    """Assign every batch to one sampling point and one time slot.

    The objective is lexicographic: most people served in the window → zones respected and
    one point per building (hard rules, never traded) → least walking Σ people · walk_m
    (person-metres) → earliest finish (each point's batches scheduled earliest-fit) → lanes
    balanced by the queue rule (no point carries more than ``max_queue`` people between
    slots, none at the end of the window: a fluid queue over the slots).

    Methods (``method``, :data:`METHODS`):

    * ``"gap"`` — the building-level search. When no batch exceeds ``max_queue`` (the usual
      case: batches are an entrance or at most N households) the slots drop out of the point
      choice exactly — a set of batches can be scheduled at a point iff its people fit in the
      point's open capacity, since earliest-fit never idles a lane while a batch waits — and
      choosing points is a generalized assignment problem over buildings:

      1. **bound**: the splittable relaxation (:func:`sampling_lower_bound`), a min-cost
         maximum flow (OR-Tools), gives the most people any plan can serve and the least
         walking of any plan serving that many;
      2. **rounding and repair**: each building goes whole to the point carrying most of its
         flow; points over capacity shed the cheapest buildings per person of overflow
         (single moves, then two-move ejection chains); buildings left out are then served
         by the cheapest ejection chain of at most four moves, else the shortest one found
         breadth first, else by emptying room at one of their points building by building;
      3. **improvement**: large neighbourhood search: around each point the relaxation
         saturates, the repair touched or an unserved building reaches, the point and its 7
         nearest neighbours are re-optimised exactly by CP-SAT (most served, then least
         walking), until the plan is within ``gap_limit`` of the bound, a pass improves
         nothing, the work budget is spent, or improvement stalls: the neighbourhoods of the
         last 2 CP-SAT deterministic seconds (≈ 4 neighbourhoods), or of an eighth of a pass
         over the seed points when longer, served no one more and cut the walking by less
         than 0.05 % (a rule on deterministic work, not wall time, so results stay
         reproducible); problems of at most 500 buildings are first solved
         whole by CP-SAT, which usually proves optimality.

    * ``"cpsat"`` — the batch-level CP-SAT tiers (most served, then least walking), so that
      residents of a building can be left out batch by batch; slot-free when no batch exceeds
      ``max_queue``, else time-expanded with the fluid queue. Exact given time, but large
      models (beyond ~50,000 variables) may not finish.
    * ``"auto"`` (default) — ``"gap"``, unless a batch exceeds ``max_queue``, or the
      relaxation cannot serve everyone in reach (or the search leaves people in reach
      unserved) and the tier model has at most 50,000 variables: then ``"cpsat"``.

    Every method ends with the **finish**: each point's batches are scheduled earliest-fit;
    a greedy completion then inserts any batch that still fits.

    Status (``info.status``): ``OPTIMAL`` when proven (tiers proven, or the building-level
    search proven optimal with every building in reach served whole); ``FEASIBLE`` for a valid
    plan not proven optimal (``bound`` and ``gap`` say how far it may be); ``LIMIT`` when the
    deadline stopped the greedy completion with batches untried (their reason is then
    ``TIME_LIMIT_REACHED``); ``CANCELLED`` when ``cancel`` stopped the run: the plan is the
    best one found by then, finished earliest-fit, with the batches not tried given the
    reason ``CANCELLED``; ``INFEASIBLE`` is never returned.

    Bound and gap (``info.bound``, ``info.gap`` on ``walk_person_m``): when the plan serves as
    many people as the relaxation, ``bound`` is the relaxation's walking (or a better proven
    bound: the optimum itself when ``OPTIMAL``) and ``gap = (walk − bound) / bound``;
    otherwise ``None``. When ``time_limit_s`` is below the fixed work (``FIXED_PER_BATCH_S``,
    20 µs, per batch: e.g. under 2 s for 100,000 batches), the min-cost flow is skipped, the
    search starts from each building's nearest point, and ``bound`` is ``None`` unless the
    plan is proven optimal.

    Time: every phase looks at the one deadline and ``cancel`` (the repair inside each
    ejection-chain and breadth-first search, the neighbourhood search before each
    neighbourhood, CP-SAT through its wall-clock cap and a watcher thread, the greedy
    completion before each batch); a reserve estimated from the counts
    (``RESERVE_PER_BATCH_S`` per batch) is kept for the finish and the plan records, which
    always run to the end so the plan found is never dropped. With the size guards, a call
    returns within ``time_limit_s`` + 1 s whenever the limit covers the fixed work — checks,
    distances, relaxation, finish and records, about 15-20 µs per batch on the reference
    machine (1.6-1.9 s CPU for 100,000 batches of 50,000 buildings, more than the guards now
    accept, with the flow skipped as below).

    Deterministic: one CP-SAT worker, the given seed, deterministic-time limits, everything
    in id order, so the same input in any order and the same options give byte-identical plan
    JSON, unless the wall-clock ``time_limit_s`` cuts the search short
    (``info.stopped_by == "wall_clock"``).

    Parameters
    ----------
    problem : SamplingProblem
        Buildings, batches, points and policy (distances in metres, slots in minutes).
    method : {"auto", "cpsat", "gap"} or None, default None
        The solving method (``None``: ``"auto"``).
    time_limit_s : float, default 30
        Seconds for the whole call, in (0, 3600]. The building-level search stops on a
        deterministic work budget of 0.45 CP-SAT deterministic seconds per second of the
        limit (≈ 0.65 of the limit in wall time on the 2-core reference machine), so the same
        input and options give the same plan; the wall clock is only a safety cap (a reserve
        is kept for the finish and the plan records, and no neighbourhood is started after
        the deadline; the call may overrun by one neighbourhood, ≤ 1 s). On a much slower or
        loaded machine the cap binds first and the plan may then differ between runs. The
        batch-level tiers have no deterministic budget: the time limit stops them.
    seed : int, default 0
        Seed of CP-SAT's search (its ``random_seed`` is ``20220410 XOR seed``).
    progress : callable, optional
        Called with a :class:`commgov.ProgressEvent` at each phase (``"bound"``,
        ``"search"``, ``"tier served"``, ``"tier walk_person_m"``, ``"finish"``,
        ``"completion"``, ``"done"``) and at least once a second while CP-SAT runs.
    cancel : threading.Event or any object with ``is_set()``, optional
        Once set, the run stops within a fraction of a second and returns its best plan so
        far with status ``CANCELLED``.
    gap_limit : float, default 0.005
        Stop improving once every person the relaxation serves is served and the walking is
        within this fraction of the bound (0.5 %; 0 searches until a pass improves nothing),
        in [0, 1].
    strict : bool, default False
        Raise :class:`~commgov.errors.InfeasibleError` if any batch is left unserved (not for
        a cancelled run, which returns its partial plan).

    Returns
    -------
    SamplingPlan
        Assignments, loads, door-to-door and home-visit lists, unserved batches with reasons,
        totals and :class:`~commgov.results.SolveInfo` (objective figures ``served``,
        ``walk_person_m`` and ``person_slots``; status, ``bound``, ``gap`` and ``stopped_by``
        as above).

    Raises
    ------
    commgov.errors.InvalidParameterError
        For an unknown ``method``, an option of the wrong type or out of range
        (``time_limit_s`` not in (0, 3600], ``gap_limit`` not in [0, 1], a negative
        ``seed`` …), or ``method="gap"`` when a batch exceeds ``max_queue``.
    TypeError
        If ``problem`` is not a :class:`SamplingProblem`.
    ProblemError
        If the problem breaks a cross-record rule (:func:`check_problem`).
    InfeasibleError
        If ``strict`` and some batch is unserved.
    SizeLimitError
        If the problem or a model would exceed a size guard
        (:mod:`commgov.scheduling.sampling._limits`: records, points × slots, building-point
        distances to measure and pairs in reach, CP-SAT tier variables); each is estimated
        from counts and checked before anything of that size is built, so the error comes
        within a second and without growing memory.
    SolverError
        If a solver fails in a way the model rules out.

    Notes
    -----
    The relaxation is one min-cost flow (polynomial); rounding and repair are near-linear in
    the buildings in practice (ejection chains are depth- and branch-limited); the search is
    bounded by its work budget; the finish is O(batches · T) and the greedy completion
    O(batches · points in reach · T). The batch-level tiers solve an NP-hard model (the
    generalized assignment problem is NP-hard) by CP-SAT, exponential in the worst case.

    References
    ----------
    .. [1] Ahuja, R. K., Magnanti, T. L. & Orlin, J. B. (1993). Network Flows: Theory,
       Algorithms, and Applications. Prentice Hall.
    .. [2] Shaw, P. (1998). Using constraint programming and local search methods to solve
       vehicle routing problems. CP 1998, LNCS 1520, 417-431.
    .. [3] Pisinger, D. & Ropke, S. (2010). Large neighborhood search. In Handbook of
       Metaheuristics (2nd ed.), 399-419. Springer.
    .. [4] Yagiura, M., Ibaraki, T. & Glover, F. (2004). An ejection chain approach for the
       generalized assignment problem. INFORMS Journal on Computing 16(2), 133-151.

    Examples
    --------
    >>> from commgov.datasets import sampling_instance
    >>> plan = plan_sampling(sampling_instance("C", 0), time_limit_s=10)
    >>> plan.info.status.value, plan.totals.unserved_people
    ('OPTIMAL', 0)
    """
    check_options(
        "plan_sampling",
        time_limit_s=time_limit_s,
        seed=seed,
        progress=progress,
        cancel=cancel,
        gap_limit=gap_limit,
        strict=strict,
    )
    # ~10⁶ acyclic objects (records, index data, plan records): the cyclic collector's full
    # passes over them cost about a quarter of the fixed work on 100,000 batches
    with gc_paused():
        return _plan_sampling(
            problem, method, time_limit_s, seed, progress, cancel, gap_limit, strict
        )


def _plan_sampling(
    problem: SamplingProblem,
    method: str | None,
    time_limit_s: float,
    seed: int,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
    gap_limit: float,
    strict: bool,
) -> SamplingPlan:
    method = check_choice("plan_sampling", "method", "auto" if method is None else method, METHODS)
    expect_type(
        problem,
        SamplingProblem,
        "problem",
        "build one with sampling_problem_from_org or SamplingProblem(...)",
    )
    ctl = SolveControl("plan_sampling", time_limit_s, progress, cancel)
    check_sizes(problem)  # from counts, before anything of the size is built or checked
    check_problem(problem)
    d = prepare(problem.canonical())
    free = slot_free(d)
    if method == "gap" and not free:
        raise InvalidParameterError(
            "method",
            method,
            "'auto' or 'cpsat' when a batch exceeds the policy's max_queue "
            "(the building-level search needs every batch ≤ max_queue)",
            "plan_sampling",
        )
    ctl.report("bound", 0.0)
    inst = gap_instance_of(d)
    # a limit shorter than the fixed work cuts the search before it starts: the min-cost flow
    # (a bound, and the search's start) is then replaced by the capacity-free relaxation
    # and no bound is reported (decided from counts, so the same input gives the same plan)
    skip_bound = float(time_limit_s) < FIXED_PER_BATCH_S * len(d.batches)
    lp = nearest_relaxation(inst) if skip_bound else transport_bound(inst)
    reachable = reachable_people(inst)
    cp_seed = cp_sat_seed(seed)
    if method == "auto":
        use_gap = free and (lp.served == reachable or model_vars(d) > BATCH_MODEL_MAX_VARS)
    else:
        use_gap = method == "gap"
    tiers: list[Tier] = []
    sol: GapSolution | None = None
    reserve = reserve_s(d, tiers=not use_gap)
    if use_gap:
        ctl.report("search", 0.0, bound=float(lp.walk))
        sol = solve_gap(
            inst,
            ctl,
            reserve=reserve,
            seed=cp_seed,
            gap_limit=float(gap_limit),
            lp=lp,
            det_budget=LNS_DET_PER_S * float(time_limit_s),
        )
        if (
            method == "auto"
            and sol.served < reachable
            and model_vars(d) <= BATCH_MODEL_MAX_VARS
            and not ctl.cancelled
        ):
            # whole buildings do not fit (a building larger than the room at its points):
            # the batch-level tiers may serve part of a building
            sol = None
    if sol is not None:
        ctl.report("finish", incumbent=float(sol.walk))
        pids = [p.id for p in d.points]
        point_of = {b.id: pids[j] for b, j in zip(d.buildings, sol.assign, strict=True) if j >= 0}
        placed = {
            k.id: (point_of[k.building_id], -1) for k in d.batches if k.building_id in point_of
        }
        # bounded work (O(batches · slots), within the reserve): never cut short, so the
        # search's plan is kept whole whatever the clock says
        dropped, completed = finish(d, placed)
        # building-level optimum = batch-level optimum when every building is served whole
        proven = sol.proven_optimal and sol.served == reachable
        solver = "min-cost-flow+cp-sat-lns"
    else:
        # imported here: OR-Tools' CP-SAT module takes a noticeable time to import
        from ortools.sat.python import cp_model

        from commgov.scheduling.sampling._solve_cpsat import solve_tiers

        out = solve_tiers(d, ctl, reserve_s(d), cp_seed)
        tiers, placed, dropped, completed = out.tiers, out.placed, out.dropped, out.complete
        proven = len(tiers) == 2 and all(t.status == cp_model.OPTIMAL for t in tiers)
        solver = "cp-sat"
    ctl.report("completion")
    # the greedy completion may run COMPLETION_GRACE_S past the deadline (never past a
    # cancel): a plan cut short before its first batch would be empty
    added, tried_all = complete(d, placed, lambda: ctl.should_stop(-COMPLETION_GRACE_S))
    completed = completed and tried_all
    cancelled = ctl.stopped_by == "cancel"
    if cancelled:
        status = SolveStatus.CANCELLED
    elif not completed:
        status = SolveStatus.LIMIT
    elif proven and not added and not dropped:
        status = SolveStatus.OPTIMAL
    else:
        status = SolveStatus.FEASIBLE
    served = walk = 0
    dist = d.dist
    for k in d.batches:
        at = placed.get(k.id)
        if at is not None:
            served += k.people
            walk += k.people * dist[k.building_id, at[0]]
    bound: float | None = None
    if tiers and (completed or cancelled):
        from commgov.scheduling.sampling._solve_cpsat import tier_bound

        bound = tier_bound(tiers, served, lp.served, lp.walk)
    elif (completed or cancelled) and not skip_bound:  # the relaxation's walking
        bound = float(lp.walk) if served == lp.served else None
    if status == SolveStatus.OPTIMAL:
        bound = float(walk)
    options: dict[str, Any] = {
        "method": method,
        "time_limit_s": float(time_limit_s),
        "gap_limit": float(gap_limit),
        "num_workers": NUM_WORKERS,
        "random_seed": cp_seed,
        "strict": strict,
    }
    plan = build_plan(
        d, placed, status, bound, options, solver, seed=seed, stopped_by=ctl.stopped_by
    )
    ctl.done(float(walk), bound)
    if strict and plan.unserved and not cancelled:
        raise InfeasibleError(
            f"{len(plan.unserved)} batches ({plan.totals.unserved_people} people) could not be "
            "placed",
            [u.batch_id for u in plan.unserved],
        )
    return plan
