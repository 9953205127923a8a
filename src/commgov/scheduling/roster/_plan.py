"""The roster planner: options, control and dispatch to the solving method (private)."""

from __future__ import annotations

from typing import Any

from commgov._control import CancelToken, ProgressCallback, SolveControl
from commgov._options import check_choice, check_options
from commgov.errors import InfeasibleError, expect_type as _expect_type
from commgov.scheduling.roster._problem import RosterProblem, check_roster_problem
from commgov.scheduling.roster._result import Roster, build_roster
from commgov.scheduling.roster._solve_cpsat import check_roster_size, solve_cpsat

__all__ = ["METHODS", "plan_roster"]

#: The roster's solving methods; the first is the default.
METHODS: tuple[str, ...] = ("cpsat",)


def plan_roster(
    problem: RosterProblem,
    *,
    method: str | None = None,
    time_limit_s: float = 30.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    deterministic_time: float | None = None,
    strict: bool = False,
) -> Roster:
    """Roster staff to posts (lexicographic: shortfall, over-cover, fairness, preferences).

    Method ``"cpsat"`` (the only one, default), a shift-based CP-SAT model in the pattern of
    OR-Tools' ``shift_scheduling_sat`` example: one Boolean per possible shift (person, post,
    start slot, length), created only where the person is eligible for the post, available
    in every slot of it, the length is within the policy's limits and (unless over-cover is
    allowed) the post asks for staff in every slot. A shift *blocks* its slots and the
    minimum rest after it; at most one chosen shift blocks each (person, slot), which gives
    one post at a time, maximal shifts and the rest rule at once. Daily and total maxima are
    sums over the shifts; cover ``≤ demand`` unless over-cover is allowed.

    Tiers, each solved with the previous optimum fixed and hinted with the previous
    solution (the first with a greedy roster, a complete and feasible hint):
    (1) min shortfall Σ (demand − cover)⁺ in staff-slots; (2) min over-cover (only when
    allowed); (3) min the largest load of one person; (4) max hours at preferred posts (only
    when someone has preferences).

    Deterministic: one CP-SAT worker, ``random_seed=seed``, the model built from the
    canonical problem (posts and staff by id), and a *deterministic-time* budget
    (``deterministic_time``, split over the tiers — 50/30/20 % with three — and unused
    budget carried on). Presolve probing is off. The wall-clock ``time_limit_s`` is only a
    safety cap: as long as it is not what stops a tier (``info.stopped_by`` is then
    ``"wall_clock"``), the same input in any order gives byte-identical roster JSON.

    Parameters
    ----------
    problem : RosterProblem
    method : {"cpsat"} or None
        Solving method; ``None`` picks the default, ``"cpsat"`` (see :data:`METHODS`).
    time_limit_s : float
        Wall-clock cap in seconds, in (0, 3600] (default 30).
    seed : int
        CP-SAT random seed, 0 … 2³¹−1 (default 0).
    progress : callable or None
        Called with a :class:`commgov.ProgressEvent` at each tier, at least once a second
        while CP-SAT runs, and last with phase ``"done"`` (incumbent and bound in
        shortfall staff-hours).
    cancel : threading.Event or None
        Once set, the planner stops within a fraction of a second and returns the best
        roster found so far (the greedy start if no tier has finished), which keeps every
        hard rule and lists every shortfall with its reason, with status ``CANCELLED``.
    deterministic_time : float or None
        CP-SAT deterministic-time budget in its own units, in (0, 3600]; default
        ``time_limit_s / 4`` (one unit took 1.5-3 s of wall clock on a week of gate posts
        on a 2-core machine, so the default leaves the wall-clock cap as a margin, not the
        binding limit).
    strict : bool
        Raise :class:`~commgov.errors.InfeasibleError` if any demand is left uncovered.

    Returns
    -------
    Roster
        ``info.status``: ``OPTIMAL`` when every tier is proven optimal; ``FEASIBLE`` when
        some tier is not proven (a budget ran out) — the roster still keeps every hard rule:
        CP-SAT starts from a greedy roster (slot by slot, least-loaded person first), which
        is returned when no tier improves on it; ``CANCELLED`` when ``cancel`` stopped the
        run. ``LIMIT`` and ``INFEASIBLE`` are never returned: uncovered demand is listed
        with reasons. ``info.bound``/``info.gap`` are on ``shortfall_hours`` (tier 1;
        ``bound`` is ``None`` when tier 1 did not finish).

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`RosterProblem`.
    commgov.errors.InvalidParameterError
        For a bad ``method``, ``time_limit_s``, ``seed``, ``progress``, ``cancel``,
        ``deterministic_time`` or ``strict`` (both a ``ValueError`` and a ``TypeError``).
    ProblemError
        If the problem breaks a cross-record rule.
    SizeLimitError
        Before anything is built, above 2,000,000 staff × slots or 50,000,000 staff × posts ×
        slots; and above :data:`~commgov.scheduling.roster._solve_cpsat.MAX_ASSIGNMENT_VARS`
        person-post-slot cells over all possible shifts (counted while they are listed).
    InfeasibleError
        If ``strict`` and some demand is uncovered.
    SolverError
        If CP-SAT reports the model invalid or infeasible (the empty roster is always
        feasible, so this is a bug).

    Notes
    -----
    The model has one Boolean per possible shift: O(S·P·T·L) variables for S people, P
    posts, T slots and L allowed shift lengths; each tier is NP-hard in general (it contains
    interval scheduling with several resources), so CP-SAT's budget bounds the time, and
    the greedy start costs O(S·P·T·L) besides.

    References
    ----------
    .. [1] L. Perron and F. Didier, "CP-SAT", OR-Tools, Google, 2024 (the
       ``shift_scheduling_sat.py`` example).
    .. [2] A. T. Ernst, H. Jiang, M. Krishnamoorthy and D. Sier, "Staff scheduling and
       rostering: A review of applications, methods and models", European Journal of
       Operational Research 153(1):3-27, 2004.
    """
    check_options("plan_roster", time_limit_s=time_limit_s, seed=seed, progress=progress,
                  cancel=cancel, deterministic_time=deterministic_time, strict=strict)
    check_choice("plan_roster", "method", METHODS[0] if method is None else method, METHODS)
    _expect_type(problem, RosterProblem, "problem", "build one with RosterProblem(...) or "
                 "roster_problem_from_org")
    check_roster_size(problem)
    ctl = SolveControl("plan_roster", time_limit_s, progress, cancel)
    check_roster_problem(problem)
    canon = problem.canonical()
    dtime = float(time_limit_s / 4 if deterministic_time is None else deterministic_time)
    options: dict[str, Any] = {
        "time_limit_s": float(time_limit_s), "deterministic_time": dtime, "num_workers": 1,
        "random_seed": seed, "strict": strict}
    work, status, tiers, bound = solve_cpsat(canon, ctl, dtime, seed)
    roster = build_roster(canon, work, status, tiers, bound, options, seed,
                          stopped_by=ctl.stopped_by)
    ctl.done(roster.totals.shortfall_hours, roster.info.bound)
    if strict and roster.shortfalls:
        raise InfeasibleError(
            f"{len(roster.shortfalls)} post-slots short of staff "
            f"({roster.totals.shortfall_hours:g} staff-hours)",
            [f"{s.post_id}@{s.slot}" for s in roster.shortfalls])
    return roster
