"""The entry point of door-to-door rounds: options, method dispatch, plan records (private)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from commgov._control import CancelToken, ProgressCallback, SolveControl
from commgov._options import check_choice, check_options
from commgov.errors import InfeasibleError, check_size, expect_type
from commgov.results import CommonReasonCode, Reason, SolveInfo, SolveStatus, library_versions
from commgov.scheduling.door_to_door._bound import as_objective_bound, round_figures
from commgov.scheduling.door_to_door._matrices import Data, hkey, prepare
from commgov.scheduling.door_to_door._plan import (
    DoorToDoorPlan,
    RoundStop,
    RoundTotals,
    TeamRoute,
    UncoveredHousehold,
)
from commgov.scheduling.door_to_door._problem import DoorToDoorProblem
from commgov.scheduling.door_to_door._reasons import DoorToDoorReasonCode
from commgov.scheduling.door_to_door._solve_exact import (
    EXACT_MAX_HOUSEHOLDS,
    EXACT_MAX_UNITS,
    exact_small,
)
from commgov.scheduling.door_to_door._solve_routing import GLS_SOLUTIONS, solve_routing

__all__ = ["MAX_HOUSEHOLDS", "METHODS", "alone_minutes", "plan_door_to_door"]

#: Largest number of households accepted (the leg matrix is households² integers).
MAX_HOUSEHOLDS = 5000

#: Solving methods of :func:`plan_door_to_door`; ``None`` picks ``"auto"``.
METHODS = ("auto", "routing", "exact")

_PLANNER = "plan_door_to_door"


def alone_minutes(alone_s: int) -> float:
    """A round trip alone in minutes, one decimal (the ``alone_min`` of ``NO_TEAM_IN_TIME``)."""
    return round(alone_s / 60.0, 1)


def plan_door_to_door(
    problem: DoorToDoorProblem,
    *,
    method: str | None = None,
    time_limit_s: float = 30.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    strict: bool = False,
) -> DoorToDoorPlan:
    """Plan door-to-door rounds: cover every household, then minimise makespan, then travel.

    Methods
    -------
    ``"routing"``
        1. **Aggregation.** Above 60 households, households of one building and floor form a
           *block* (at most four, served in id order, ``door_gap`` apart) that one team visits
           in one go; smaller instances are routed household by household.
        2. **Construction** (building-level LPT bin packing, Graham 1969): stairwells, as jobs
           of ``Σ service + doors + 2·floor_s·(F − 1)`` seconds, longest first, each to the
           unit that would finish earliest within its limit; blocks of jobs that fit nowhere
           whole are placed one by one. Each unit's stairwells are ordered by nearest
           neighbour from the base, and floors upwards inside a stairwell.
        3. **Balancing** local search (exact route times): move a block from a unit finishing
           last to the best position of another unit, or swap two blocks, while the sorted
           vector of finish times decreases lexicographically.
        4. **OR-Tools routing** (``pywrapcp``; a VRP on the blocks with a time dimension,
           start cumuls fixed to the shift starts, end cumuls capped by the limits): first the
           makespan (global span cost on the time dimension, arc cost = travel as guidance) by
           guided local search (Voudouris & Tsang 1999) from the balanced plan, then — the
           makespan fixed as a cap on every route end — total travel, again by guided local
           search. Each search stops after a fixed number of solutions (deterministic), with
           the wall clock as a safety cap.
        5. **Insertion** of households still uncovered (cheapest feasible insertion, least new
           makespan), so that every ``TEAMS_FULL`` reason holds.
    ``"exact"``
        Held–Karp over subsets of households and a dynamic programme over units: the
        lexicographic optimum (covered, makespan, travel); at most 8 households some unit can
        serve and 4 team units.
    ``"auto"`` (default)
        ``"routing"``, then ``"exact"`` as well when the instance is that small, keeping the
        better plan.

    Deterministic: records sorted by id, one search thread, ``seed`` feeds the tie-breaking
    order of the local search; the same input (in any order), method, seed and options give
    byte-identical JSON unless the wall clock cuts a search short (``info.stopped_by``).

    Parameters
    ----------
    problem : DoorToDoorProblem
    method : {"auto", "routing", "exact"} or None, default None
        ``None`` is ``"auto"``.
    time_limit_s : float, default 30
        Wall-clock cap in seconds on the whole call, 0 < ``time_limit_s`` ≤ 3600.
    seed : int, default 0
        Seed of the local search's move order (0 ≤ seed < 2³¹).
    progress : callable, optional
        Called with :class:`commgov.ProgressEvent` at phase boundaries and inside loops
        (``"construction"``, ``"balance"``, ``"routing-makespan"``, ``"routing-travel"``,
        ``"insertion"``, ``"exact"``), last with phase ``"done"``.
    cancel : threading.Event or any object with ``is_set()``, optional
        Once set, the run stops within about a second and returns the routes found so far
        (valid), the rest uncovered with reason ``CANCELLED``, status ``CANCELLED``.
    strict : bool, default False
        Raise :class:`~commgov.errors.InfeasibleError` if a household is uncovered.

    Returns
    -------
    DoorToDoorPlan
        Routes with arrival times, uncovered households with reasons, the analytic bound
        (:func:`door_to_door_lower_bound` of the covered households), totals and
        :class:`~commgov.results.SolveInfo` (``options`` records ``method`` unless it is
        ``"auto"``).

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`DoorToDoorProblem`.
    commgov.errors.InvalidParameterError
        If an option has the wrong type or is out of range (a ``ValueError`` and a
        ``TypeError``).
    commgov.errors.SizeLimitError
        Above :data:`MAX_HOUSEHOLDS` households, or ``method="exact"`` on more than 8
        coverable households or 4 team units.
    commgov.errors.InfeasibleError
        If ``strict`` and a household is uncovered.

    Notes
    -----
    Time: O(H²) memory for H households; the construction is O(B·U·H) for B stairwells and U
    units, each balancing step O(H²), and the routing phases are bounded by a fixed number of
    solutions of guided local search. The exact method takes O(2ⁿ·n² + U·3ⁿ) for n ≤ 8.

    References
    ----------
    .. [1] R. L. Graham, "Bounds on multiprocessing timing anomalies", SIAM Journal on Applied
       Mathematics 17(2), 416–429, 1969.
    .. [2] C. Voudouris and E. Tsang, "Guided local search and its application to the
       traveling salesman problem", European Journal of Operational Research 113(2),
       469–499, 1999.
    .. [3] M. Held and R. M. Karp, "A dynamic programming approach to sequencing problems",
       Journal of the Society for Industrial and Applied Mathematics 10(1), 196–210, 1962.

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> from commgov.scheduling.door_to_door import RoundBuilding, RoundHousehold, RoundTeam
    >>> from commgov.types import GeoPoint, TimeWindow
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> shift = TimeWindow(start=datetime(2022, 4, 12, 8, 0, tzinfo=tz),
    ...                    end=datetime(2022, 4, 12, 12, 0, tzinfo=tz))
    >>> p = DoorToDoorProblem(
    ...     base=GeoPoint(lon=120.6190, lat=31.3421),
    ...     buildings=[RoundBuilding(id="b1", location=GeoPoint(lon=120.6195, lat=31.3421),
    ...                              floors=3)],
    ...     households=[RoundHousehold(id=f"h{f}", building_id="b1", floor=f)
    ...                 for f in (1, 2, 3)],
    ...     teams=[RoundTeam(id="t1", shift=shift)])
    >>> plan = plan_door_to_door(p)
    >>> [s.household_id for s in plan.routes[0].stops], plan.totals.makespan_s
    (['h1', 'h2', 'h3'], 1174)
    >>> plan.info.status.value, plan.bound.value
    ('OPTIMAL', 1174.0)
    """
    check_options(_PLANNER, time_limit_s=time_limit_s, seed=seed, progress=progress,
                  cancel=cancel, strict=strict)
    method = check_choice(_PLANNER, "method", "auto" if method is None else method, METHODS)
    ctl = SolveControl(_PLANNER, time_limit_s, progress, cancel)
    expect_type(problem, DoorToDoorProblem, "problem",
                "build one with DoorToDoorProblem(...) or door_to_door_problem_from_org")
    check_size("door-to-door problem: households", len(problem.households), MAX_HOUSEHOLDS,
               "split it by building cluster")
    ctl.report("prepare", 0.0)
    d = prepare(problem.canonical())
    coverable = [i for i in range(len(d.hids)) if d.eligible[i]]
    small = len(coverable) <= EXACT_MAX_HOUSEHOLDS and len(d.units) <= EXACT_MAX_UNITS
    if method == "exact":
        check_size("door-to-door method 'exact': households some unit can serve",
                   len(coverable), EXACT_MAX_HOUSEHOLDS, "use method='routing'")
        check_size("door-to-door method 'exact': team units", len(d.units), EXACT_MAX_UNITS,
                   "use method='routing'")
        block_max = 1
        if ctl.cancelled:
            hroutes: list[list[int]] = [[] for _ in d.units]
            left, complete = list(coverable), False
        else:
            ctl.report("exact", 0.0)
            hroutes, left = exact_small(d, coverable)
            complete = True
        solver = "held-karp+unit-dp (exact)"
    else:
        out = solve_routing(d, coverable, seed, ctl)
        hroutes, left, complete, phase = out.hroutes, out.left, out.complete, out.phase
        block_max = out.block_max
        if method == "auto" and complete and small:
            ctl.report("exact", 0.0)
            exact = exact_small(d, coverable)
            if hkey(d, exact[0], exact[1]) < hkey(d, hroutes, left):
                hroutes, left = exact[0], exact[1]
                phase = "exact"
        solver = f"lpt+balance+ortools-routing-gls ({phase})"
    options: dict[str, Any] = {"time_limit_s": float(time_limit_s), "strict": strict,
                               "block_max": block_max, "gls_solutions": GLS_SOLUTIONS}
    if method != "auto":
        options["method"] = method
    plan = _build_plan(d, hroutes, set(left), complete, seed, options, solver, ctl)
    ctl.done(plan.info.objective["makespan_s"], plan.info.bound)
    if strict and plan.uncovered:
        raise InfeasibleError(f"{len(plan.uncovered)} households could not be covered",
                              [u.household_id for u in plan.uncovered])
    return plan


def _build_plan(d: Data, hroutes: list[list[int]], left: set[int], complete: bool,
                seed: int, options: dict[str, Any], solver: str,
                ctl: SolveControl) -> DoorToDoorPlan:
    prob = d.problem
    cancelled = ctl.stopped_by == "cancel"
    origin = prob.origin()
    routes: list[TeamRoute] = []
    for k, seq in enumerate(hroutes):
        if not seq or origin is None:
            continue
        depart = origin + timedelta(seconds=d.start[k])
        t = d.start[k]
        prev = 0
        stops = []
        travel = 0
        for i in seq:
            leg = int(d.leg[prev, i + 1])
            t += leg
            travel += leg
            sv = int(d.service[i])
            stops.append(RoundStop(household_id=d.hids[i], building_id=d.building[i],
                                   floor=d.floor[i], arrive=origin + timedelta(seconds=t),
                                   leave=origin + timedelta(seconds=t + sv), travel_s=leg,
                                   service_s=sv))
            t += sv
            prev = i + 1
        back_leg = int(d.leg[prev, 0])
        t += back_leg
        travel += back_leg
        team_id, unit = d.units[k]
        routes.append(TeamRoute(team_id=team_id, unit=unit, depart=depart,
                                back=origin + timedelta(seconds=t), duration_s=t - d.start[k],
                                travel_s=travel, service_s=t - d.start[k] - travel,
                                stops=stops))
    covered = [i for seq in hroutes for i in seq]
    covered_set = set(covered)
    uncovered = []
    for i in range(len(d.hids)):
        if i not in left and i in covered_set:
            continue
        if not d.eligible[i]:
            reason = Reason(code=DoorToDoorReasonCode.NO_TEAM_IN_TIME,
                            params={"alone_min": alone_minutes(int(d.alone[i]))})
        elif cancelled:
            reason = Reason(code=CommonReasonCode.CANCELLED)
        elif not complete:
            reason = Reason(code=CommonReasonCode.TIME_LIMIT_REACHED,
                            params={"time_limit_s": options["time_limit_s"]})
        else:
            reason = Reason(code=DoorToDoorReasonCode.TEAMS_FULL,
                            params={"eligible": len(d.eligible[i])})
        h = prob.households[i]
        uncovered.append(UncoveredHousehold(household_id=h.id, building_id=h.building_id,
                                            kind=h.kind, alone_s=int(d.alone[i]),
                                            reasons=[reason]))
    figures = round_figures(prob, [d.hids[i] for i in covered], walks=d.walks)
    bound = as_objective_bound(figures, len(uncovered))
    makespan = max((int((r.back - origin).total_seconds()) for r in routes), default=0) if (
        origin is not None) else 0
    travel = sum(r.travel_s for r in routes)
    service = sum(r.service_s for r in routes)
    last_back = max((r.back for r in routes), default=None)
    totals = RoundTotals(
        households=len(d.hids), covered=len(covered), uncovered=len(uncovered),
        residents_covered=sum(prob.households[i].residents for i in covered),
        units=len(d.units), units_used=len(routes), makespan_s=makespan,
        makespan_minutes=round(makespan / 60.0, 2), last_back=last_back, travel_s=travel,
        service_s=service)
    if cancelled:
        status = SolveStatus.CANCELLED
    elif not complete:
        status = SolveStatus.LIMIT
    elif not uncovered and makespan == figures.makespan_s:
        status = SolveStatus.OPTIMAL
    else:
        status = SolveStatus.FEASIBLE
    b = float(figures.makespan_s)
    gap = (makespan - b) / b if b > 0 else (0.0 if makespan == 0 else None)
    info = SolveInfo(
        status=status, solver=solver,
        objective={"uncovered": float(len(uncovered)), "makespan_s": float(makespan),
                   "travel_s": float(travel)},
        bound=b, gap=gap, options=options, seed=seed, versions=library_versions("ortools"),
        stopped_by=ctl.stopped_by)
    return DoorToDoorPlan(origin=origin, routes=routes, uncovered=uncovered, bound=bound,
                          totals=totals, info=info)
