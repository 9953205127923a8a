"""The time rules the planner, the bound and the verifier share (no solver imported here).

* a volunteer leaves their start place at :func:`start_offset_seconds` after the notice is
  issued and walks from building to building; a route is open (nobody walks back);
* walking distance is great-circle distance × ``detour_factor`` in whole metres
  (:func:`walk_metres`, as :func:`commgov.scheduling.walk_distance_m`), walking time whole
  seconds rounded up (:func:`walk_seconds`);
* at each building the volunteer spends :func:`notify_seconds`: with
  ``mode="group_message"`` a message in the building group plus a door knock for each
  household the group does not reach (:func:`knocked_households`), with ``mode="door_knock"``
  a knock on every door; plus the climb of the stairs (or a lift ride) in each entrance where
  doors are knocked;
* a building counts as notified when its last household is reached, i.e. when the volunteer
  leaves it, and the plan's makespan is the time from ``start`` until the last household of
  all is reached.

All durations are whole seconds (minutes are converted by :func:`commgov.types.to_seconds`,
rounding up).
"""

from __future__ import annotations

import math
from fractions import Fraction

from commgov._walking import walk_metres_half_even
from commgov.scheduling.notification._problem import (
    NotificationBuilding,
    NotificationProblem,
    Notifier,
    NotifyMode,
)
from commgov.types import GeoPoint, to_seconds

__all__ = [
    "NotificationTimes",
    "Routes",
    "evaluate",
    "knocked_households",
    "notify_minutes",
    "notify_seconds",
    "start_offset_seconds",
    "walk_metres",
    "walk_seconds",
]


def _exact(x: float) -> Fraction:
    """The decimal a user meant by a float (``0.15`` → 3/20)."""
    return Fraction(repr(float(x)))


def knocked_households(problem: NotificationProblem, building: NotificationBuilding) -> int:
    """Households of ``building`` told by a knock on the door.

    ``households`` in ``door_knock`` mode or when the building has no group; otherwise
    ``offline_households`` when given, else ``⌈households × offline_share⌉`` (exact decimal
    arithmetic, so 20 × 0.15 is 3).

    Parameters
    ----------
    problem : NotificationProblem
        Supplies the ``mode`` and ``offline_share``.
    building : NotificationBuilding
        One of its buildings.

    Returns
    -------
    int
        Households, 0 … ``building.households``.
    """
    if problem.mode is NotifyMode.DOOR_KNOCK or not building.has_group:
        return building.households
    if building.offline_households is not None:
        return building.offline_households
    return math.ceil(Fraction(building.households) * _exact(problem.offline_share))


def notify_minutes(problem: NotificationProblem, building: NotificationBuilding) -> float:
    """Minutes a volunteer spends telling the households of ``building``.

    ``building.notify_minutes`` when given, otherwise, with ``k`` =
    :func:`knocked_households` and ``c = min(entrances, k)`` entrances climbed (the knocked
    doors are spread over as many entrances as possible, one climb each)::

        message   = group_message_minutes  (group_message mode and the building has a group)
        knocks    = k × knock_minutes
        climbs    = c × stair_minutes_per_floor × (floors − 1)   without a lift
                  = c × lift_minutes_per_entrance                with a lift and floors > 1
        minutes   = message + knocks + climbs

    The message is counted on the spot: the volunteer posts it on arrival and is at the door
    for questions (a message posted from home beforehand would reach the online households
    sooner, but not the last household).

    Parameters
    ----------
    problem, building
        As in :func:`knocked_households`; the problem also supplies the minutes per message,
        knock, floor and lift ride.

    Returns
    -------
    float
        Minutes (≥ 0); the solver and verifier use :func:`notify_seconds`.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> p = NotificationProblem(timezone="UTC", start=datetime(2022, 4, 12, tzinfo=UTC))
    >>> b = NotificationBuilding(id="b", location=GeoPoint(lon=120.6, lat=31.3),
    ...                          households=20, floors=6, entrances=2)
    >>> notify_minutes(p, b)  # 2 + 3 knocks × 1 + 2 climbs × 0.5 × 5 floors
    10.0
    >>> notify_minutes(p.model_copy(update={"mode": "door_knock"}), b)  # 20 + 2 × 2.5
    25.0
    """
    if building.notify_minutes is not None:
        return building.notify_minutes
    knocks = knocked_households(problem, building)
    message = (
        problem.group_message_minutes
        if problem.mode is NotifyMode.GROUP_MESSAGE and building.has_group
        else 0.0
    )
    climbs = min(building.entrances, knocks)
    if building.floors <= 1:
        per_climb = Fraction(0)
    elif building.has_lift:
        per_climb = _exact(problem.lift_minutes_per_entrance)
    else:
        per_climb = _exact(problem.stair_minutes_per_floor) * (building.floors - 1)
    total = _exact(message) + knocks * _exact(problem.knock_minutes) + climbs * per_climb
    return float(total)


def notify_seconds(problem: NotificationProblem, building: NotificationBuilding) -> int:
    """Whole seconds spent at ``building``: :func:`to_seconds` of :func:`notify_minutes`."""
    return to_seconds(notify_minutes(problem, building))


def walk_metres(problem: NotificationProblem, a: GeoPoint, b: GeoPoint) -> int:
    """Walking distance between two points in whole metres.

    Great-circle distance (:func:`commgov.types.haversine_m`) × ``problem.detour_factor``,
    rounded half to even, as :func:`commgov.scheduling.walk_distance_m`.
    """
    return walk_metres_half_even(a, b, problem.detour_factor)


def walk_seconds(problem: NotificationProblem, volunteer: Notifier, metres: int) -> int:
    """Seconds ``volunteer`` takes to walk ``metres``: :func:`to_seconds` of metres ÷ speed."""
    return to_seconds(metres / problem.speed(volunteer))


def start_offset_seconds(problem: NotificationProblem, volunteer: Notifier) -> int:
    """Whole seconds from the problem's ``start`` until ``volunteer`` sets out (≥ 0)."""
    if volunteer.start is None:
        return 0
    return max(0, int((volunteer.start - problem.start).total_seconds()))


class NotificationTimes:
    """Whole-second times of a problem, in id order (shared by planner, bound and verifier).

    Attributes
    ----------
    building_ids, volunteer_ids : list of str
        Sorted ids; indices below refer to these lists.
    offsets : list of int
        :func:`start_offset_seconds` per volunteer.
    service : list of int
        :func:`notify_seconds` per building.
    home_m : list of list of int
        ``home_m[v][b]``: :func:`walk_metres` from volunteer ``v``'s start place to ``b``.
    between_m : list of list of int
        ``between_m[a][b]``: metres from building ``a`` to ``b``.
    speed_class : list of int
        Per volunteer, the index of its walking speed in ``speeds``.
    speeds : list of float
        Distinct walking speeds (m/min), fastest first.
    home_s : list of list of int
        ``home_s[v][b]``: :func:`walk_seconds` for ``home_m[v][b]``.
    between_s : list of list of list of int
        ``between_s[c][a][b]``: seconds from ``a`` to ``b`` at speed ``speeds[c]``.
    """

    def __init__(self, problem: NotificationProblem) -> None:
        buildings = sorted(problem.buildings, key=lambda r: r.id)
        volunteers = sorted(problem.volunteers, key=lambda r: r.id)
        self.building_ids = [b.id for b in buildings]
        self.volunteer_ids = [v.id for v in volunteers]
        self.offsets = [start_offset_seconds(problem, v) for v in volunteers]
        self.service = [notify_seconds(problem, b) for b in buildings]
        self.home_m = [[walk_metres(problem, v.location, b.location) for b in buildings]
                       for v in volunteers]
        self.between_m = [[0 if a is b else walk_metres(problem, a.location, b.location)
                           for b in buildings] for a in buildings]
        self.speeds = sorted({problem.speed(v) for v in volunteers}, reverse=True)
        self.speed_class = [self.speeds.index(problem.speed(v)) for v in volunteers]
        cache: dict[tuple[int, float], int] = {}

        def secs(metres: int, speed: float) -> int:
            key = (metres, speed)
            if key not in cache:
                cache[key] = to_seconds(metres / speed)
            return cache[key]

        self.home_s = [[secs(m, problem.speed(v)) for m in row]
                       for v, row in zip(volunteers, self.home_m, strict=True)]
        self.between_s = [[[secs(m, speed) for m in row] for row in self.between_m]
                          for speed in self.speeds]

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
            out.append([
                min([self.home_s[v][b], *(walk[a][b] for a in range(n) if a != b)])
                for b in range(n)
            ])
        return out


#: Routes as building indices (id order), one list per volunteer (id order).
Routes = list[list[int]]


def evaluate(times: NotificationTimes, routes: Routes) -> tuple[int, int, list[int]]:
    """(makespan s, walking m, per-volunteer finish s) of ``routes`` (building indices)."""
    makespan = 0
    walk_m = 0
    finishes = []
    for v, route in enumerate(routes):
        t = times.offsets[v]
        prev = -1
        walk = times.between_s[times.speed_class[v]]
        for b in route:
            if prev < 0:
                t += times.home_s[v][b]
                walk_m += times.home_m[v][b]
            else:
                t += walk[prev][b]
                walk_m += times.between_m[prev][b]
            t += times.service[b]
            prev = b
        finishes.append(t)
        if route:
            makespan = max(makespan, t)
    return makespan, walk_m, finishes

