"""``match_volunteers``: options, the choice of method, and the dispatch to the solvers.

The objective (``min_cost``, ``fair``, ``stable``) says what is optimised; the method says
which algorithm does it (:data:`METHODS`). ``"auto"`` (the default) picks the only method that
solves the problem exactly: the min-cost flow for ``min_cost`` and ``fair`` without minute
budgets, CP-SAT when a volunteer has a minute budget, deferred acceptance for ``stable``.
"""

from __future__ import annotations

from commgov._control import CancelToken, ProgressCallback, SolveControl
from commgov._options import check_choice, check_options
from commgov._perf import gc_paused
from commgov.errors import InfeasibleError, InvalidParameterError, expect_type
from commgov.matching.volunteers._problem import Assignment, MatchingProblem

__all__ = ["METHODS", "OBJECTIVES", "PROPOSE_SIDES", "match_volunteers"]

#: The methods :func:`match_volunteers` accepts (``"auto"`` picks one, see the docstring).
METHODS: tuple[str, ...] = ("auto", "flow", "cpsat", "deferred_acceptance")

#: The objectives :func:`match_volunteers` accepts.
OBJECTIVES: tuple[str, ...] = ("min_cost", "fair", "stable")

#: The proposing sides of deferred acceptance (``objective="stable"``).
PROPOSE_SIDES: tuple[str, ...] = ("tasks", "volunteers")

#: The objectives each method solves.
_SOLVES: dict[str, tuple[str, ...]] = {
    "flow": ("min_cost", "fair"),
    "cpsat": ("min_cost",),
    "deferred_acceptance": ("stable",),
}

_WHERE = "match_volunteers"


def _pick_method(method: str, objective: str, budgets: bool) -> str:
    """The method to run, or :class:`InvalidParameterError` for a combination that makes no
    sense (an objective the method does not solve, minute budgets without CP-SAT)."""
    if budgets and objective != "min_cost":
        raise InvalidParameterError(
            "objective",
            objective,
            "'min_cost' when volunteers have minute budgets (Volunteer.minutes_per_day), "
            "which are solved by CP-SAT",
            _WHERE,
        )
    if method == "auto":
        if budgets:
            return "cpsat"
        return "deferred_acceptance" if objective == "stable" else "flow"
    if objective not in _SOLVES[method]:
        fits = [m for m, objectives in _SOLVES.items() if objective in objectives]
        raise InvalidParameterError(
            "method",
            method,
            f"'auto' or one of {', '.join(map(repr, fits))} for objective={objective!r}",
            _WHERE,
        )
    if budgets and method != "cpsat":
        raise InvalidParameterError(
            "method",
            method,
            "'auto' or 'cpsat' when volunteers have minute budgets (Volunteer.minutes_per_day)",
            _WHERE,
        )
    return method


def match_volunteers(
    problem: MatchingProblem,
    *,
    method: str | None = None,
    time_limit_s: float = 10.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    objective: str = "min_cost",
    propose: str = "tasks",
    strict: bool = False,
) -> Assignment:
    """Match volunteers to tasks: exact min-cost, fair or stable, explained.

    Each task is served by at most one eligible volunteer (:func:`~commgov.matching.is_eligible`:
    skill level, organisation scope, distance ≤ ``max_distance_m`` metres, window inside an
    availability window); a volunteer takes at most ``capacity_per_slot`` tasks per slot and
    ``capacity_per_day`` per calendar day (problem time zone); pinned pairs are kept.

    Objectives, each lexicographic:

    * ``"min_cost"``: maximise the sum of priorities served; then, with ``problem.previous``,
      change as few previous assignments as possible; then minimise scope penalty + travel in
      metre-equivalents (:func:`~commgov.matching.pair_cost_m`).
    * ``"fair"``: the same priority served (and changes), then loads as even as possible (the
      decreasingly-minimal load vector, found as the least sum of squared loads), then scope
      penalty + travel.
    * ``"stable"``: deferred acceptance with count capacities per slot and per day; tasks rank
      volunteers by (scope level, travel metres, id), volunteers rank tasks by (priority
      descending, travel metres, id); ties in the true preferences are broken by id, so the
      result is weakly stable (no blocking pair under strict preference on both sides).
      ``propose`` chooses the proposing side.

    Methods (:data:`METHODS`): ``"flow"`` — exact min-cost flow (``min_cost``, ``fair``; one
    solve, or two when the stacked weights would overflow int64, then status ``FEASIBLE``);
    ``"cpsat"`` — a 0–1 programme on CP-SAT, hinted by a Lagrangian min-cost-flow start
    (``min_cost`` only; the one method for minute budgets, which make the problem NP-hard: a
    knapsack per volunteer-day), status ``OPTIMAL`` or ``FEASIBLE`` with bound and gap;
    ``"deferred_acceptance"`` — ``stable`` only. ``None`` or ``"auto"`` picks ``"cpsat"`` when
    any volunteer has ``minutes_per_day``, else ``"deferred_acceptance"`` for ``stable`` and
    ``"flow"`` otherwise.

    The network is built in id order, so the result does not depend on input order. Every match
    carries a ``MATCHED`` reason (skill, distance, load, scope; ``PINNED`` too when pinned);
    every unmatched task one primary reason: ``SKILL_MISSING``, ``OUT_OF_SCOPE``, ``TOO_FAR``,
    ``OUT_OF_WINDOW``, ``NO_CAPACITY`` (every eligible volunteer has capacity 0 or too short a
    minute budget for it) or ``CAPACITY_USED``.

    Parameters
    ----------
    problem : MatchingProblem
        The validated problem.
    method : {"auto", "flow", "cpsat", "deferred_acceptance"} or None, default None
        The algorithm (``None`` = ``"auto"``, see above).
    time_limit_s : float, default 10
        Wall-clock cap in seconds, in (0, 3600]. The CP-SAT method plans its deterministic
        work from it (so results do not depend on the machine). Every phase looks at the
        deadline (the pair listing between blocks of tasks, deferred acceptance and the
        greedy completions every few thousand steps, the explanations of unmatched tasks);
        a min-cost flow solve, which cannot be interrupted, starts only when its planned
        time (from its arcs and nodes) fits the time left, else a greedy assignment is
        made instead (status ``FEASIBLE``). A call returns within about the limit plus one
        second: when the limit cut it short, with status ``LIMIT``, ``info.stopped_by =
        "wall_clock"``, the best valid assignment found (at least the pins) and every task
        not tried unmatched with reason ``TIME_LIMIT_REACHED``.
    seed : int, default 0
        Random seed of CP-SAT (its search is deterministic for a given seed), in [0, 2³¹).
    progress : callable or None
        Called with :class:`commgov.ProgressEvent` at phase boundaries and at least once a
        second while CP-SAT runs; the last event has phase ``"done"``.
    cancel : threading.Event or None
        Once set, the run stops at the next look (within about a second) and returns the
        best valid result found by then with status ``CANCELLED``: pins kept and every task
        not yet tried unmatched with reason ``CANCELLED``.
    objective : {"min_cost", "fair", "stable"}, default "min_cost"
        The objective.
    propose : {"tasks", "volunteers"}, default "tasks"
        Proposing side of deferred acceptance (``stable`` only).
    strict : bool, default False
        If ``True``, raise :class:`~commgov.errors.InfeasibleError` when a task is unmatched.

    Returns
    -------
    Assignment
        Matches (distances in metres, scope level, cost, reasons), unmatched tasks with one
        primary reason each, totals, loads and :class:`~commgov.results.SolveInfo` (status,
        objective tiers in order, versions, ``stopped_by``).

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`MatchingProblem`.
    commgov.errors.InvalidParameterError
        If an option is out of range or not one of the accepted values, or ``method`` does not
        solve ``objective``, or minute budgets are combined with an objective other than
        ``min_cost`` or a method other than ``"cpsat"``.
    commgov.errors.SizeLimitError
        Before anything large is built, from an estimate computed from counts (within a
        second, without growing memory): more than ``MAX_ARCS`` arcs in the flow network
        (CP-SAT: more than its pair guard), an availability table of more than 50 million
        (volunteer, slot) cells; after building: ``max|cost|·nodes`` reaching 2⁶¹, or (CP-SAT)
        a weighted objective reaching 2⁵³. The message names the figure, the limit and what
        to change.
    commgov.errors.InfeasibleError
        If ``strict`` and some task is unmatched.
    commgov.errors.SolverError
        If OR-Tools fails on the model.

    Notes
    -----
    Listing the eligible pairs is O(T·V_near) for T tasks and the volunteers of a latitude
    band around each; the min-cost flow (cost-scaling push–relabel) is O(n²·m·log(n·C)) in
    the worst case for n nodes, m arcs and largest cost C, near-linear in practice (for
    ``min_cost`` solved part by part: slots joined by no binding day capacity are separate
    networks); deferred
    acceptance is O(P log P) for P eligible pairs; CP-SAT is exponential in the worst case and
    stops on its deterministic budget.

    References
    ----------
    Ahuja, Magnanti & Orlin, *Network Flows*, 1993 (min-cost flow; OR-Tools
    ``SimpleMinCostFlow``). Frank & Murota, "Discrete decreasing minimization, Part I", 2022
    (``fair``). Gale & Shapley, "College admissions and the stability of marriage", 1962;
    Roth, "Stability and polarization of interests in job matching", 1984; Irving, "Stable
    marriage and indifference", 1994 (``stable``). Perron & Didier, OR-Tools CP-SAT (minute
    budgets).

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> from commgov.types import GeoPoint, TimeWindow
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> w = TimeWindow(start=datetime(2022, 4, 10, 9, tzinfo=tz),
    ...                end=datetime(2022, 4, 10, 10, tzinfo=tz))
    >>> from commgov.matching import Task, Volunteer, MatchingProblem
    >>> p = MatchingProblem(
    ...     timezone="Asia/Shanghai",
    ...     tasks=[Task(id="t1", skill="delivery", location=GeoPoint(lon=120.62, lat=31.31),
    ...                 window=w)],
    ...     volunteers=[Volunteer(id="v1", location=GeoPoint(lon=120.621, lat=31.31),
    ...                           skills={"delivery": 2}, availability=[w])])
    >>> a = match_volunteers(p)
    >>> [(m.task_id, m.volunteer_id, m.distance_m) for m in a.matches]
    [('t1', 'v1', 95)]
    """
    check_options(
        _WHERE,
        time_limit_s=time_limit_s,
        seed=seed,
        progress=progress,
        cancel=cancel,
        strict=strict,
    )
    expect_type(
        problem,
        MatchingProblem,
        "problem",
        "build one with matching_problem_from_org or MatchingProblem(...)",
    )
    method = check_choice(_WHERE, "method", "auto" if method is None else method, METHODS)
    objective = check_choice(_WHERE, "objective", objective, OBJECTIVES)
    propose = check_choice(_WHERE, "propose", propose, PROPOSE_SIDES)
    budgets = any(v.minutes_per_day is not None for v in problem.volunteers)
    method = _pick_method(method, objective, budgets)
    ctl = SolveControl(_WHERE, time_limit_s, progress, cancel)
    # many acyclic records: the cyclic collector's full passes would only cost time
    with gc_paused():
        if method == "cpsat":
            from commgov.matching.volunteers._solve_cpsat import match_minutes

            result = match_minutes(problem, time_limit_s=float(time_limit_s), seed=seed, ctl=ctl)
        elif method == "deferred_acceptance":
            from commgov.matching.volunteers._solve_stable import match_stable

            result = match_stable(problem, propose=propose, ctl=ctl)
        else:
            from commgov.matching.volunteers._solve_flow import match_flow

            result = match_flow(problem, objective, ctl)
    if ctl.stopped_by is not None:
        result = result.model_copy(
            update={"info": result.info.model_copy(update={"stopped_by": ctl.stopped_by})}
        )
    ctl.done(float(result.totals.priority_served))
    if strict and result.unmatched:
        ids = [u.task_id for u in result.unmatched]
        raise InfeasibleError(
            f"{len(ids)} of {len(problem.tasks)} tasks could not be matched: "
            f"{', '.join(ids[:10])}" + (" ..." if len(ids) > 10 else ""),
            unserved=ids,
        )
    return result
