"""Sampling entry points (transitional module: moves into commgov.scheduling.sampling)."""

from __future__ import annotations

from commgov.scheduling.problem import SamplingBound, SamplingPlan, SamplingProblem

__all__ = ["lower_bound", "plan_sampling"]


def plan_sampling(
    problem: SamplingProblem,
    *,
    objective: str = "lexicographic",
    time_limit_s: float = 30.0,
    gap_limit: float = 0.005,
    strict: bool = False,
) -> SamplingPlan:
    """Assign every batch to one sampling point and one time slot.

    The default objective is lexicographic (reference/scheduling.md §2.2, F2 + F3): most
    people served in the window → zones respected and one point per building (hard rules,
    never traded) → least walking Σ people · walk_m (person-metres) → earliest finish (each
    point's batches scheduled earliest-fit) → lanes balanced by the queue rule (no point
    carries more than ``max_queue`` people between slots, none at the end of the window).

    Method. When no batch exceeds ``max_queue`` (the usual case: batches are an entrance or at
    most N households) the slots drop out of the point choice exactly — a set of batches can
    be scheduled at a point iff its people fit in the point's open capacity, since earliest-fit
    never idles a lane while a batch waits — and choosing points is a generalized assignment
    problem over buildings:

    1. **bound**: the splittable relaxation (:func:`lower_bound`), a min-cost maximum flow
       (OR-Tools), gives the most people any plan can serve and the least walking of any plan
       serving that many;
    2. **rounding and repair**: each building goes whole to the point carrying most of its
       flow; points over capacity shed the cheapest buildings per person of overflow (single
       moves, then two-move ejection chains); buildings left out are then served by the
       cheapest ejection chain of at most four moves, else the shortest one found breadth
       first, else by emptying room at one of their points building by building;
    3. **improvement**: large neighbourhood search (Shaw 1998; Pisinger & Ropke 2010): around
       each point the relaxation saturates, the repair touched or an unserved building
       reaches, the point and its 7 nearest neighbours are re-optimised exactly by CP-SAT
       (most served, then least walking), until the plan is within ``gap_limit`` of the bound,
       a pass improves nothing, or the time is up; problems of at most 500 buildings are first
       solved whole by CP-SAT, which usually proves optimality;
    4. **finish**: each point's batches are scheduled earliest-fit; a greedy completion then
       inserts any batch that still fits.

    When the relaxation cannot serve everyone in reach and the problem is small (≤ 50,000
    model variables), or when a batch exceeds ``max_queue``, the batch-level CP-SAT tiers are
    solved instead (time-expanded with the F2 fluid queue when a batch exceeds
    ``max_queue``), so residents of a building can be left out batch by batch.

    Status (``info.status``): ``OPTIMAL`` when proven (tiers proven, or the building-level
    search proven optimal with every building in reach served whole); ``FEASIBLE`` for a valid
    plan not proven optimal (``bound`` and ``gap`` say how far it may be); ``LIMIT`` when the
    deadline stopped the greedy completion with batches untried (their
    ``POINT_CAPACITY_USED`` reasons are then unchecked); ``INFEASIBLE`` is never returned.

    Bound and gap (``info.bound``, ``info.gap`` on ``walk_person_m``): when the plan serves as
    many people as the relaxation, ``bound`` is the relaxation's walking (or a better proven
    bound: the optimum itself when ``OPTIMAL``) and ``gap = (walk − bound) / bound``;
    otherwise ``None``.

    Deterministic: one CP-SAT worker, fixed seeds, deterministic-time limits, everything in id
    order, so the same input in any order gives byte-identical plan JSON, unless the
    wall-clock ``time_limit_s`` cuts the search short.

    Parameters
    ----------
    problem : SamplingProblem
    objective : {"lexicographic"}
        The objective (only the lexicographic default for now).
    time_limit_s : float
        Seconds for the whole call (default 30). The neighbourhood search stops on a
        deterministic work budget of 0.45 CP-SAT deterministic seconds per second of the limit
        (≈ 0.65 of the limit in wall time on the 2-core reference machine), so the same
        input and options give the same plan; the wall clock is a safety cap (a reserve is
        kept for the finish and the plan records, and no neighbourhood is started after the
        deadline; the call may overrun by one neighbourhood, ≤ 1 s). On a much slower or
        loaded machine the cap binds first and the plan may then differ between runs.
    gap_limit : float
        Stop improving once every person the relaxation serves is served and the walking is
        within this fraction of the bound (default 0.005 = 0.5 %; 0 searches until a pass
        improves nothing).
    strict : bool
        Raise :class:`~commgov.errors.InfeasibleError` if any batch is left unserved.

    Returns
    -------
    SamplingPlan
        Assignments, loads, door-to-door and home-visit lists, unserved batches with reasons,
        totals and :class:`~commgov.results.SolveInfo` (objective figures ``served``,
        ``walk_person_m`` and ``person_slots``; status, ``bound`` and ``gap`` as above).

    Raises
    ------
    ProblemError
        If the problem breaks a cross-record rule (:func:`check_problem`).
    InfeasibleError
        If ``strict`` and some batch is unserved.
    ValueError
        For an unknown ``objective``, a non-positive ``time_limit_s`` or a negative
        ``gap_limit``.
    SizeLimitError
        If the model would exceed a size guard.
    SolverError
        If a solver fails in a way the model rules out.
    """
    from commgov.scheduling._solver import plan_sampling as _plan

    return _plan(problem, objective=objective, time_limit_s=time_limit_s, gap_limit=gap_limit,
                 strict=strict)


def lower_bound(problem: SamplingProblem) -> SamplingBound:
    """The splittable relaxation of a sampling problem: a bound on served people and walking.

    Residents may be split person by person over points and slots, with the same arcs as a
    plan (allowed, open points within the walk limit; sealed and high-risk buildings are
    sampled door to door and left out), the same slot capacities
    ``floor(lanes · rate · Δ/60 · ρ)`` and the same backlog cap (DESIGN, "Scheduling"). It is
    solved exactly as a transportation problem by min-cost maximum flow (OR-Tools): split
    person by person, a point's arrivals can always be spread so that no slot receives more
    than its capacity, so the time-expanded model with queue carry-over has the same optimum
    as the transportation problem with each point's capacity summed over its open slots (the
    tests check this against an independent HiGHS LP of the time-expanded model).

    The gap of a plan that serves ``served_people`` is
    ``(plan.totals.walk_person_m − walk_person_m) / walk_person_m``.

    Parameters
    ----------
    problem : SamplingProblem

    Returns
    -------
    SamplingBound
        ``served_people`` (the most any plan can serve) and ``walk_person_m`` (the least
        walking, in person-metres, of any plan serving that many), with ``walk_in_people``
        and ``reachable_people``.

    Raises
    ------
    ProblemError
        If the problem breaks a cross-record rule.
    SizeLimitError
        If distances are too large for the flow's integer costs.

    Examples
    --------
    >>> from commgov.datasets import sampling_instance
    >>> b = lower_bound(sampling_instance("C", 0))
    >>> b.served_people == b.reachable_people
    True
    """
    from commgov.scheduling._solver import lower_bound as _bound

    return _bound(problem)
