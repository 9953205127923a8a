"""The notification bound tables as they were computed in pure Python before issue 12 (the
reference the numpy version must equal; used by tests and benchmarks only)."""

from __future__ import annotations

from commgov.errors import SolverError
from commgov.scheduling.notification._problem import NotificationProblem
from commgov.scheduling.notification._rules import (
    notify_seconds,
    start_offset_seconds,
    walk_metres,
)
from commgov.types import to_seconds


class PythonTimes:
    """``NotificationTimes`` before issue 12: nested Python loops."""

    def __init__(self, problem: NotificationProblem) -> None:
        buildings = sorted(problem.buildings, key=lambda r: r.id)
        volunteers = sorted(problem.volunteers, key=lambda r: r.id)
        self.building_ids = [b.id for b in buildings]
        self.volunteer_ids = [v.id for v in volunteers]
        self.offsets = [start_offset_seconds(problem, v) for v in volunteers]
        self.service = [notify_seconds(problem, b) for b in buildings]
        self.home_m = [
            [walk_metres(problem, v.location, b.location) for b in buildings] for v in volunteers
        ]
        self.between_m = [
            [0 if a is b else walk_metres(problem, a.location, b.location) for b in buildings]
            for a in buildings
        ]
        self.speeds = sorted({problem.speed(v) for v in volunteers}, reverse=True)
        self.speed_class = [self.speeds.index(problem.speed(v)) for v in volunteers]
        cache: dict[tuple[int, float], int] = {}

        def secs(metres: int, speed: float) -> int:
            key = (metres, speed)
            if key not in cache:
                cache[key] = to_seconds(metres / speed)
            return cache[key]

        self.home_s = [
            [secs(m, problem.speed(v)) for m in row]
            for v, row in zip(volunteers, self.home_m, strict=True)
        ]
        self.between_s = [
            [[secs(m, speed) for m in row] for row in self.between_m] for speed in self.speeds
        ]

    def reach(self) -> list[list[int]]:
        """``reach[v][b]``: earliest time (s after ``start``) ``v`` could finish building ``b``.

        Shortest path from ``v``'s start place over the buildings, each building passed
        through costing its notify time (Dijkstra on the same whole-second walks a route
        uses, so it is exact where the triangle inequality fails by rounding).
        """
        n = len(self.building_ids)
        out = []
        for v, off in enumerate(self.offsets):
            walk = self.between_s[self.speed_class[v]]
            arrive = [off + t for t in self.home_s[v]]
            done = [False] * n
            for _ in range(n):
                a = min((b for b in range(n) if not done[b]), key=lambda b: arrive[b])
                done[a] = True
                leave = arrive[a] + self.service[a]
                row = walk[a]
                for b in range(n):
                    if not done[b] and leave + row[b] < arrive[b]:
                        arrive[b] = leave + row[b]
            out.append([arrive[b] + self.service[b] for b in range(n)])
        return out

    def walk_in(self) -> list[list[int]]:
        """``walk_in[v][b]``: the least walk into ``b`` for ``v`` (from home or a building)."""
        n = len(self.building_ids)
        out = []
        for v in range(len(self.offsets)):
            walk = self.between_s[self.speed_class[v]]
            out.append(
                [
                    min([self.home_s[v][b], *(walk[a][b] for a in range(n) if a != b)])
                    for b in range(n)
                ]
            )
        return out


def predecessor_walk_bound(times: PythonTimes) -> int:
    """Least total walking (s) of any plan: each building gets one predecessor (another
    building, walked at the fastest speed, or a volunteer's start place), each building and
    each start place precedes at most one building. A linear assignment (OR-Tools
    ``SimpleLinearSumAssignment``) with one dummy row per volunteer for the route ends."""
    from ortools.graph.python import linear_sum_assignment

    n = len(times.building_ids)
    n_vol = len(times.offsets)
    walk = times.between_s[0]  # fastest speed
    lefts, rights, costs = [], [], []
    for b in range(n):
        for a in range(n):
            if a != b:
                lefts.append(b)
                rights.append(a)
                costs.append(walk[a][b])
        for v in range(n_vol):
            lefts.append(b)
            rights.append(n + v)
            costs.append(times.home_s[v][b])
    for d in range(n_vol):
        for r in range(n + n_vol):
            lefts.append(n + d)
            rights.append(r)
            costs.append(0)
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    solver.add_arcs_with_cost(lefts, rights, costs)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise SolverError(f"linear assignment of the walking bound returned {status}")
    return int(solver.optimal_cost())
