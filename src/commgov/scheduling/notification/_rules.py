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

import functools
import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

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


@functools.lru_cache(maxsize=1024)
def _exact(x: float) -> Fraction:
    """The decimal a user meant by a float (``0.15`` → 3/20); memoised (a problem has a few
    distinct minutes and shares, asked for once per building)."""
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
        import numpy as np

        buildings = sorted(problem.buildings, key=lambda r: r.id)
        volunteers = sorted(problem.volunteers, key=lambda r: r.id)
        self.building_ids = [b.id for b in buildings]
        self.volunteer_ids = [v.id for v in volunteers]
        self.offsets = [start_offset_seconds(problem, v) for v in volunteers]
        self.service = [notify_seconds(problem, b) for b in buildings]
        b_pts = [b.location for b in buildings]
        home_m = _metres_table(problem, [v.location for v in volunteers], b_pts)
        between_m = _metres_table(problem, b_pts, b_pts)
        np.fill_diagonal(between_m, 0)
        self.home_m: list[list[int]] = home_m.tolist()
        self.between_m: list[list[int]] = between_m.tolist()
        self.speeds = sorted({problem.speed(v) for v in volunteers}, reverse=True)
        self.speed_class = [self.speeds.index(problem.speed(v)) for v in volunteers]
        #: numpy views of the tables (int64), for the vectorised bound and search steps
        self.home_s_a = np.zeros(home_m.shape, dtype=np.int64)
        for c, speed in enumerate(self.speeds):
            rows = [v for v, k in enumerate(self.speed_class) if k == c]
            self.home_s_a[rows] = _seconds_table(home_m[rows], speed)
        #: ``between_s3[c]`` is ``between_s[c]`` as one int64 array (speeds × B × B)
        self.between_s3 = np.zeros((len(self.speeds), *between_m.shape), dtype=np.int64)
        for c, speed in enumerate(self.speeds):
            self.between_s3[c] = _seconds_table(between_m, speed)
        self.between_s_a = list(self.between_s3)
        self.home_s: list[list[int]] = self.home_s_a.tolist()
        self.between_s: list[list[list[int]]] = [a.tolist() for a in self.between_s_a]
        self.service_a = np.array(self.service, dtype=np.int64)
        self.offsets_a = np.array(self.offsets, dtype=np.int64)

    def reach(self) -> list[list[int]]:
        """``reach[v][b]``: earliest time (s after ``start``) ``v`` could finish building ``b``.

        Shortest path from ``v``'s start place over the buildings, each building passed
        through costing its notify time (Dijkstra on the same whole-second walks a route
        uses, so it is exact where the triangle inequality fails by rounding), run for all
        volunteers of a walking speed at once (numpy).
        """
        import numpy as np

        n, n_vol = len(self.building_ids), len(self.offsets)
        out = np.zeros((n_vol, n), dtype=np.int64)
        for c in range(len(self.speeds)):
            rows = np.array([v for v in range(n_vol) if self.speed_class[v] == c],
                            dtype=np.int64)
            arrive = self.offsets_a[rows, None] + self.home_s_a[rows]
            out[rows] = _dijkstra(arrive, self.between_s_a[c], self.service_a)
        return out.tolist()  # type: ignore[no-any-return,unused-ignore]

    def reach_first(self, stop: Callable[[], bool] | None = None) -> list[int] | None:
        """``min_v reach[v][b]`` per building: the earliest any volunteer could finish ``b``.

        One multi-source Dijkstra per walking speed (a super source joined to each building
        at the earliest arrival from any start place of that speed), so O(S · B²) for S
        speeds; equal to the column minima of :meth:`reach`. ``None`` if ``stop()`` said so
        (asked before each speed).
        """
        import numpy as np

        best: Any = None
        for c in range(len(self.speeds)):
            if stop is not None and stop():
                return None
            rows = np.array([v for v in range(len(self.offsets)) if self.speed_class[v] == c],
                            dtype=np.int64)
            first = (self.offsets_a[rows, None] + self.home_s_a[rows]).min(axis=0)
            got = _dijkstra(first[None, :], self.between_s_a[c], self.service_a)[0]
            best = got if best is None else np.minimum(best, got)
        return [] if best is None else best.tolist()  # type: ignore[no-any-return,unused-ignore]

    def walk_in(self) -> list[list[int]]:
        """``walk_in[v][b]``: the least walk into ``b`` for ``v`` (from home or a building)."""
        import numpy as np

        into = [_column_min_off_diagonal(a) for a in self.between_s_a]
        if not self.offsets:
            return []
        out = np.minimum(self.home_s_a, np.stack([into[c] for c in self.speed_class]))
        return out.tolist()  # type: ignore[no-any-return,unused-ignore]


def _column_min_off_diagonal(walk: Any) -> Any:
    """Per column ``b``, the least ``walk[a][b]`` over ``a ≠ b`` (int64 max when none)."""
    import numpy as np

    big = np.iinfo(np.int64).max
    masked = walk.copy()
    np.fill_diagonal(masked, big)
    return masked.min(axis=0) if len(masked) else np.zeros(0, dtype=np.int64)


def _dijkstra(arrive: Any, walk: Any, service: Any) -> Any:
    """Finish times ``arrive*`` + service of shortest paths over the buildings, for each row of
    ``arrive`` (initial arrivals, int64, rows × B) at once; buildings passed through cost their
    notify time. Dense Dijkstra: B steps of O(rows · B)."""
    import numpy as np

    arrive = arrive.copy()
    k, n = arrive.shape
    big = np.iinfo(np.int64).max
    done = np.zeros((k, n), dtype=bool)
    rows = np.arange(k)
    for _ in range(n):
        a = np.where(done, big, arrive).argmin(axis=1)
        done[rows, a] = True
        leave = arrive[rows, a] + service[a]
        cand = leave[:, None] + walk[a]
        np.copyto(arrive, cand, where=~done & (cand < arrive))
    return arrive + service[None, :]


def _metres_table(problem: NotificationProblem, src: list[GeoPoint], dst: list[GeoPoint]) -> Any:
    """:func:`walk_metres` of every (src, dst) pair as an int64 array, equal to the scalar rule.

    The formula and operation order of :func:`commgov.types.haversine_m` on numpy; numpy's
    transcendental functions may differ from libm in the last bits, so every value within a
    relative 1e-9 of a rounding boundary (x.5) is recomputed with :func:`walk_metres`.
    """
    import numpy as np

    from commgov.types import haversine_array_m

    if not src or not dst:
        return np.zeros((len(src), len(dst)), dtype=np.int64)
    lat1 = np.array([p.lat for p in src], dtype=np.float64)[:, None]
    lon1 = np.array([p.lon for p in src], dtype=np.float64)[:, None]
    lat2 = np.array([p.lat for p in dst], dtype=np.float64)[None, :]
    lon2 = np.array([p.lon for p in dst], dtype=np.float64)[None, :]
    x = haversine_array_m(lon1, lat1, lon2, lat2) * problem.detour_factor
    out = np.rint(x).astype(np.int64)
    frac = x - np.floor(x)
    unsure = np.abs(frac - 0.5) <= 1e-9 * (1.0 + np.abs(x))
    for i, j in zip(*np.nonzero(unsure), strict=True):
        out[i, j] = walk_metres(problem, src[int(i)], dst[int(j)])
    return out


def _seconds_table(metres: Any, speed: float) -> Any:
    """``to_seconds(metres / speed)`` of an int64 array, elementwise and exactly.

    ``ceil(round(y, 6))`` equals ``ceil(y)`` for ``y = metres / speed × 60`` unless ``y`` lies
    just above a whole number (within 2e-6), where the six-decimal rounding may bring it down:
    those few are converted by :func:`commgov.types.to_seconds` itself.
    """
    import numpy as np

    y = (metres.astype(np.float64) / speed) * 60.0
    out = np.ceil(y).astype(np.int64)
    frac = y - np.floor(y)
    for idx in zip(*np.nonzero((frac > 0) & (frac < 2e-6)), strict=True):
        out[idx] = to_seconds(float(metres[idx]) / speed)
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

