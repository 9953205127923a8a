"""OR-Tools routing search of the ``"auto"`` method (guided local search from the balanced routes).

Node numbering of the routing model: buildings ``0 … n-1``, volunteer ``v``'s start place
``n + v``, one shared dummy end ``n + V`` (open routes). The transit of an arc out of a
building includes the building's notify time; the arc out of a start place includes the
volunteer's start delay, so an idle volunteer ends at 0 and the global span
``max end − min start = max end`` is the makespan.
"""

from __future__ import annotations

from typing import Any

from commgov._control import SolveControl
from commgov.scheduling.notification._problem import NotificationProblem
from commgov.scheduling.notification._rules import NotificationTimes, Routes

__all__ = ["SPAN_WEIGHT", "STALL_NEIGHBOURS", "plain_routing", "routing_search"]

#: Weight of one second of makespan against one second of walking in the routing search.
SPAN_WEIGHT = 100
#: Stall rule of the routing search: it ends once it has evaluated this many neighbours
#: (local-search moves offered to the search monitors: a count of work, not of time) without
#: finding a cheaper solution. 虎池苑社区's search (158 buildings) finds one at most 28,800
#: neighbours after the last, so it is not cut short.
STALL_NEIGHBOURS = 60_000


def _routing_model(times: NotificationTimes) -> tuple[Any, Any]:
    from ortools.constraint_solver import pywrapcp

    n = len(times.building_ids)
    n_vol = len(times.offsets)
    end = n + n_vol
    manager = pywrapcp.RoutingIndexManager(n + n_vol + 1, n_vol, list(range(n, end)),
                                           [end] * n_vol)
    routing = pywrapcp.RoutingModel(manager)
    transit_ids, cost_ids = [], []
    size = n + n_vol + 1
    for c in range(len(times.speeds)):
        walk = times.between_s[c]
        transit = [[0] * size for _ in range(size)]
        cost = [[0] * size for _ in range(size)]
        for a in range(n):
            svc = times.service[a]
            transit[a][:n] = [svc + w for w in walk[a]]
            transit[a][end] = svc
            cost[a][:n] = walk[a]
        for v in range(n_vol):
            transit[n + v][:n] = [times.offsets[v] + w for w in times.home_s[v]]
            cost[n + v][:n] = times.home_s[v]
        transit_ids.append(routing.RegisterTransitMatrix(transit))
        cost_ids.append(routing.RegisterTransitMatrix(cost))
    horizon = (max(times.offsets) + sum(times.service)
               + n * max((max(r) for r in times.home_s), default=0)
               + sum(max(row) for row in times.between_s[-1]))
    routing.AddDimensionWithVehicleTransits(
        [transit_ids[times.speed_class[v]] for v in range(n_vol)], 0, horizon, True, "time")
    routing.GetDimensionOrDie("time").SetGlobalSpanCostCoefficient(SPAN_WEIGHT)
    for v in range(n_vol):
        routing.SetArcCostEvaluatorOfVehicle(cost_ids[times.speed_class[v]], v)
    return manager, routing


def _read_routes(times: NotificationTimes, manager: Any, routing: Any, solution: Any) -> Routes:
    routes: Routes = []
    for v in range(len(times.offsets)):
        route = []
        index = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        routes.append(route)
    return routes


def routing_search(
    times: NotificationTimes,
    start: Routes | None,
    effort: int,
    seconds: float,
    ctl: SolveControl | None = None,
) -> Routes | None:
    """Routes found by OR-Tools routing from ``start`` (GLS, ``effort`` solutions), or the
    plain default search (first-solution heuristic, default metaheuristic) when ``start`` is
    ``None``; ``None`` if nothing is found.

    With ``ctl``, the search finishes soon after ``ctl.cancelled`` (the best solution so far
    is returned) and progress heartbeats are sent while it runs
    (:meth:`SolveControl.watch_routing`)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    manager, routing = _routing_model(times)
    monitor = None if ctl is None else ctl.watch_routing(routing, "routing")
    stall = None if start is None else _stall_monitor(routing, STALL_NEIGHBOURS)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    if start is None:
        solution = routing.SolveWithParameters(params)
    else:
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
        params.solution_limit = max(1, effort)
        # sub-searches of LNS operators stop on their own budget, never on the clock
        params.lns_time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
        initial = routing.ReadAssignmentFromRoutes(
            [[manager.NodeToIndex(b) for b in r] for r in start], True)
        if initial is None:
            return None
        solution = routing.SolveFromAssignmentWithParameters(initial, params)
    del monitor, stall  # kept alive by this frame while the search ran
    if ctl is not None:
        ctl.raise_pending()
    if solution is None:
        return None
    return _read_routes(times, manager, routing, solution)


def _stall_monitor(routing: Any, limit: int) -> Any:
    """A search monitor that finishes the search after ``limit`` neighbours without a cheaper
    solution (deterministic: it counts moves, never looks at the clock)."""
    from ortools.constraint_solver import pywrapcp

    solver = routing.solver()

    class _Stall(pywrapcp.SearchMonitor):  # type: ignore[misc,unused-ignore]
        def __init__(self) -> None:
            super().__init__(solver)
            self.calls = 0
            self.since = 0
            self.best: int | None = None

        def AcceptDelta(self, delta: Any, deltadelta: Any) -> bool:  # noqa: N802
            self.calls += 1
            if self.calls - self.since > limit:
                solver.FinishCurrentSearch()
            return True

        def AtSolution(self) -> bool:  # noqa: N802 - OR-Tools' name
            value = routing.CostVar().Value()  # the model is closed by now
            if self.best is None or value < self.best:
                self.best, self.since = value, self.calls
            return True

    monitor = _Stall()
    routing.AddSearchMonitor(monitor)
    return monitor


def plain_routing(problem: NotificationProblem, time_limit_s: float) -> Routes | None:
    """Plain OR-Tools routing on the same model: default search parameters and a time limit
    (the benchmark's reference). Routes are building indices in id order."""
    times = NotificationTimes(problem)
    return routing_search(times, None, 0, time_limit_s)

