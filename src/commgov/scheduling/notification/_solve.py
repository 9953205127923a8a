"""The entry point :func:`plan_notification`: options, size guards, dispatch, plan records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from commgov._control import CancelToken, ProgressCallback, SolveControl
from commgov._options import check_choice, check_options
from commgov._redact import get_logger
from commgov.errors import SolverError, check_size, expect_type
from commgov.results import SolveInfo, SolveStatus, library_versions
from commgov.scheduling.notification._bound import lower_bound, quick_bound
from commgov.scheduling.notification._construct import (
    EXACT_MAX_BUILDINGS,
    balance,
    construct,
    exact,
)
from commgov.scheduling.notification._problem import (
    BuildingNotice,
    NotificationPlan,
    NotificationProblem,
    NotificationStop,
    NotificationTotals,
    VolunteerRoute,
)
from commgov.scheduling.notification._rules import (
    NotificationTimes,
    Routes,
    evaluate,
    knocked_households,
)
from commgov.scheduling.notification._solve_routing import SPAN_WEIGHT, routing_search

__all__ = [
    "MAX_BUILDINGS",
    "MAX_TABLE_CELLS",
    "MAX_VOLUNTEERS",
    "METHODS",
    "ROUTING_MAX_BUILDINGS",
    "plan_notification",
]

log = get_logger("commgov.scheduling")

#: The solving methods of :func:`plan_notification`; ``"auto"`` is the default.
METHODS: Final = ("auto", "local_search")
#: Size guards: routing matrices are (buildings + volunteers)² per walking speed. The walking
#: tables must exist before any valid plan does and cannot be cut short, so the buildings are
#: capped where they take under a second of CPU (measured: 0.3 s at 1,425 buildings, 1.2 s at
#: 2,375): a tiny ``time_limit_s`` still returns within it plus one second.
MAX_BUILDINGS = 2000
MAX_VOLUNTEERS = 500
#: Size guard on the walking tables (metres and seconds per speed): about 36 bytes a cell as
#: Python lists plus 8 as numpy, so ≈ 1.3 GB at the limit.
MAX_TABLE_CELLS = 30_000_000
#: The OR-Tools routing search runs only up to this many buildings: past it, each neighbour
#: it evaluates costs milliseconds (measured: ≈ 50,000 neighbours a second at 158 buildings,
#: ≈ 6,500 at 281, ≈ 240 at 470 and ≈ 55 at 946), so it finds nothing within any practical
#: limit and the balanced routes are returned. A size rule, not a clock: results stay
#: reproducible.
ROUTING_MAX_BUILDINGS = 400

_WHERE = "plan_notification"


def plan_notification(
    problem: NotificationProblem,
    *,
    method: str | None = None,
    time_limit_s: float = 30.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    effort: int = 20,
) -> NotificationPlan:
    """Plan who notifies which buildings in what order, so the last household is told soonest.

    Objective: minimise the makespan (seconds until the last household is reached), then,
    as a secondary guide of the search, total walking.

    Method (min-makespan open multi-vehicle routing with start times, speeds and service
    times):

    1. **Exact for small problems**: with at most 9 buildings, a Held–Karp dynamic program
       gives each volunteer's best open path over every subset of buildings, a
       subset-partition program over volunteers the minimum makespan, and a second one the
       least walking among plans with that makespan (``OPTIMAL``).
    2. Otherwise a **construction** (list scheduling: the volunteer who is free first walks to
       the nearest unnotified building, ties by id), improved by a **balancing local search**:
       move or swap a building of the route that finishes last to another route when both
       then finish earlier, else move a building to shorten the walking without passing the
       makespan; routes touched are re-ordered by 2-opt and or-opt.
    3. **OR-Tools routing** (``pywrapcp``, method ``"auto"`` only): open routes ending at a
       dummy node, one transit matrix per walking speed holding notify times and start
       delays, a global span cost of 100 per second of makespan plus walking seconds as arc
       cost, guided local search from the balanced routes, stopped after ``effort``
       solutions — a deterministic budget — or at ``time_limit_s``; then the balancing
       search again. The better plan (makespan, then walking) is kept. Skipped when the
       balanced routes already meet the bound.
    4. **Bound**: :func:`notification_lower_bound` (reach, and work with the walking bounded
       by a predecessor assignment and a 1-tree); ``gap = (makespan − bound) / bound``;
       ``OPTIMAL`` when the makespan equals the bound.

    Records are sorted by id before any model is built, so the same problem in any order
    gives byte-identical JSON. No step is random; only the wall-clock cap ``time_limit_s``
    (a safety net; ``info.stopped_by="wall_clock"`` when it cut the routing search) or
    ``cancel`` can make two runs differ.

    Parameters
    ----------
    problem : NotificationProblem
        The validated problem.
    method : {"auto", "local_search"} or None, default None (``"auto"``)
        ``"auto"``: steps 1–4. ``"local_search"``: steps 1, 2 and 4 (no OR-Tools routing
        search; about 1 s for 虎池苑社区, a little worse).
    time_limit_s : float, default 30
        Wall-clock safety cap in seconds for the routing search (0 < ``time_limit_s`` ≤
        3600).
    seed : int, default 0
        Accepted for the common signature (0 … 2³¹ − 1); no step is random.
    progress : callable or None
        Called with a :class:`commgov.ProgressEvent` at each phase (``"exact"``,
        ``"bound"``, ``"construct"``, ``"balance"``, ``"routing"``), at least once a second
        while the routing search runs, and last with phase ``"done"``.
    cancel : threading.Event or None
        Once set, the run stops at the next step (the routing search at its next solution)
        and returns the best plan so far — complete and valid, with the bound computed by
        then (a quick O(B · V) bound if the full one was not) — with status ``CANCELLED``.
    effort : int, default 20
        Solutions the routing search may visit (1 … 1000). About 5 s for the 158 buildings
        of 虎池苑社区.

    Returns
    -------
    NotificationPlan
        Routes with arrival and finish times, per building the notify time, totals (makespan,
        bound, gap) and :class:`~commgov.results.SolveInfo`.

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`NotificationProblem`.
    commgov.errors.InvalidParameterError
        If an option has the wrong type or is out of range (a ``ValueError`` and a
        ``TypeError``).
    commgov.errors.SizeLimitError
        If the problem has more than 2,000 buildings (about 21,000 households) or 500
        volunteers.

    Notes
    -----
    For B buildings and V volunteers: the times take O(B · (B + V)) walks; the exact step
    O(V · 2^B · B² + V · 3^B) for B ≤ 9; the bound O(V · B²) plus a linear assignment and 60
    spanning trees of O(B²); each balancing round O(B² · V) moves, each re-ordering
    O(route³); the routing search ``effort`` solutions of OR-Tools local search on
    (B + V + 1)² arcs.

    References
    ----------
    M. Held and R. M. Karp, "A dynamic programming approach to sequencing problems",
    *J. SIAM* 10(1), 196–210, 1962.
    C. Voudouris and E. Tsang, "Guided local search and its application to the traveling
    salesman problem", *European J. Operational Research* 113(2), 469–499, 1999.

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> from commgov.types import GeoPoint
    >>> from commgov.scheduling.notification import (
    ...     NotificationBuilding, NotificationProblem, Notifier)
    >>> at = datetime(2022, 4, 12, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> home = GeoPoint(lon=120.6200, lat=31.3400)
    >>> p = NotificationProblem(
    ...     timezone="Asia/Shanghai", start=at,
    ...     buildings=[NotificationBuilding(id=f"b{i}", households=12, floors=5,
    ...                                     location=GeoPoint(lon=120.6200 + i / 2000, lat=31.34))
    ...                for i in range(4)],
    ...     volunteers=[Notifier(id="v1", location=home), Notifier(id="v2", location=home)])
    >>> plan = plan_notification(p)
    >>> [[s.building_id for s in r.stops] for r in plan.routes]
    [['b0', 'b3'], ['b1', 'b2']]
    >>> plan.totals.makespan_minutes, plan.info.status.value
    (14.32, 'OPTIMAL')
    >>> plan.rows()[0]["building_id"], plan.rows()[0]["notified_s"]
    ('b0', 360)
    """
    check_options(_WHERE, time_limit_s=time_limit_s, seed=seed, progress=progress,
                  cancel=cancel, effort=effort)
    method = check_choice(_WHERE, "method", "auto" if method is None else method, METHODS)
    expect_type(problem, NotificationProblem, "problem",
                "build one with NotificationProblem(...) or notification_problem_from_org")
    n, n_vol = len(problem.buildings), len(problem.volunteers)
    check_size("notification problem: buildings", n, MAX_BUILDINGS, "split the area")
    check_size("notification problem: volunteers", n_vol, MAX_VOLUNTEERS, "split the area")
    speeds = len({problem.speed(v) for v in problem.volunteers})
    check_size("notification problem: cells of the walking tables (buildings² × (speeds + 1)"
               " + 2 × volunteers × buildings)", n * n * (speeds + 1) + 2 * n_vol * n,
               MAX_TABLE_CELLS, "split the area, or give volunteers fewer distinct walking "
               "speeds")
    ctl = SolveControl(_WHERE, time_limit_s, progress, cancel)
    times = NotificationTimes(problem)
    options: dict[str, Any] = {"time_limit_s": time_limit_s, "effort": effort,
                               "span_weight": SPAN_WEIGHT}
    if method != "auto":
        options["method"] = method
    if n == 0:
        return _plan(problem, times, [[] for _ in range(n_vol)], 0, "none", options, ctl)

    def stopper(phase: str) -> Callable[[], bool]:
        """Asked inside every long step: a progress heartbeat, then the deadline and cancel."""

        def stop() -> bool:
            ctl.report(phase)
            return ctl.should_stop()

        return stop

    if n <= EXACT_MAX_BUILDINGS and not ctl.should_stop():
        ctl.report("exact", 0.0)
        exact_routes = exact(times, stopper("exact"))
        if exact_routes is not None:
            makespan = evaluate(times, exact_routes)[0]
            return _plan(problem, times, exact_routes, makespan, "held-karp", options, ctl)
    ctl.report("bound", 0.0)
    full = None if ctl.should_stop() else lower_bound(times, stopper("bound"))
    bound = quick_bound(times) if full is None else full
    ctl.report("construct", 0.1, bound=float(bound))
    routes = construct(times)
    solver = "list-scheduling"
    if not ctl.should_stop():
        ctl.report("balance", 0.2, incumbent=float(evaluate(times, routes)[0]))
        routes = balance(times, routes, stop=stopper("balance"))
        solver = "list-scheduling+balance"
    best = evaluate(times, routes)[:2]
    if (method == "auto" and best[0] > bound and n <= ROUTING_MAX_BUILDINGS
            and not ctl.should_stop()):
        ctl.report("routing", 0.5, incumbent=float(best[0]))
        found = routing_search(times, routes, effort, max(0.01, ctl.remaining()), ctl)
        ctl.expired()  # records "wall_clock" when the cap, not the budget, ended the search
        polished = found is not None and not ctl.should_stop()
        if found is not None and polished:
            ctl.report("balance", 0.9)
            found = balance(times, found, stop=stopper("balance"))
        if found is not None and evaluate(times, found)[:2] < best:
            routes, best = found, evaluate(times, found)[:2]
            solver = "list-scheduling+balance+or-tools-routing-gls" + ("+balance" * polished)
    log.debug("notification: makespan %d s, bound %d s (%s)", best[0], bound, solver)
    return _plan(problem, times, routes, bound, solver, options, ctl)


def _plan(
    problem: NotificationProblem,
    times: NotificationTimes,
    routes: Routes,
    bound: int,
    solver: str,
    options: dict[str, Any],
    ctl: SolveControl,
) -> NotificationPlan:
    buildings = {b.id: b for b in problem.buildings}
    out_routes: list[VolunteerRoute] = []
    notices: list[BuildingNotice] = []
    makespan = 0
    for v, route in enumerate(routes):
        vid = times.volunteer_ids[v]
        t = times.offsets[v]
        prev = -1
        walk = times.between_s[times.speed_class[v]]
        stops = []
        for k, b in enumerate(route, start=1):
            if prev < 0:
                walk_s, walk_m = times.home_s[v][b], times.home_m[v][b]
            else:
                walk_s, walk_m = walk[prev][b], times.between_m[prev][b]
            arrive = t + walk_s
            t = arrive + times.service[b]
            record = buildings[times.building_ids[b]]
            stops.append(NotificationStop(
                building_id=record.id, order=k, arrive=problem.at(arrive),
                finish=problem.at(t), walk_m=walk_m, walk_s=walk_s,
                notify_s=times.service[b], households=record.households,
                knocked=knocked_households(problem, record)))
            notices.append(BuildingNotice(
                building_id=record.id, volunteer_id=vid, order=k, notified_at=problem.at(t),
                notified_s=t, households=record.households))
            prev = b
        if route:
            makespan = max(makespan, t)
        out_routes.append(VolunteerRoute(
            volunteer_id=vid, start=problem.at(times.offsets[v]), finish=problem.at(t),
            stops=stops, households=sum(s.households for s in stops),
            walk_m=sum(s.walk_m for s in stops), walk_s=sum(s.walk_s for s in stops),
            notify_s=sum(s.notify_s for s in stops)))
    notices.sort(key=lambda r: r.building_id)
    if bound > makespan:
        raise SolverError(f"notification bound {bound} s exceeds the plan's makespan "
                          f"{makespan} s: the bound is wrong")
    gap: float | None = (
        0.0 if makespan == bound else (makespan - bound) / bound if bound else None
    )
    walk_m = sum(r.walk_m for r in out_routes)
    if ctl.stopped_by == "cancel":
        status = SolveStatus.CANCELLED
    else:
        status = SolveStatus.OPTIMAL if makespan == bound else SolveStatus.FEASIBLE
    totals = NotificationTotals(
        buildings=len(notices),
        households=sum(r.households for r in out_routes),
        knocked=sum(s.knocked for r in out_routes for s in r.stops),
        volunteers=len(out_routes),
        volunteers_used=sum(1 for r in out_routes if r.stops),
        walk_m=walk_m,
        walk_s=sum(r.walk_s for r in out_routes),
        notify_s=sum(r.notify_s for r in out_routes),
        makespan_s=makespan,
        makespan_minutes=round(makespan / 60, 2),
        last_notified=problem.at(makespan) if notices else None,
        bound_s=bound,
        gap=gap,
    )
    info = SolveInfo(
        status=status,
        solver=solver,
        objective={"makespan_s": float(makespan), "walk_m": float(walk_m)},
        bound=float(bound),
        gap=gap,
        options=options,
        versions=library_versions("ortools"),
        stopped_by=ctl.stopped_by,
    )
    plan = NotificationPlan(start=problem.at(0), routes=out_routes, buildings=notices,
                            totals=totals, info=info)
    ctl.done(float(makespan), float(bound))
    return plan
