"""Time rules shared by the solver, the bound and the verifier (private).

Whole seconds throughout:

* **Walking** between two places (the base, buildings) takes :func:`walk_seconds`: the
  great-circle distance (:func:`commgov.types.haversine_m`) × ``detour_factor`` (1.3), rounded
  to whole metres, at ``walking_speed_m_per_min`` (80 m/min), rounded up to whole seconds —
  then closed under shortest paths, so that walking satisfies the triangle inequality exactly
  (:func:`walk_matrix`).
* Climbing one floor, up or down, takes :func:`floor_seconds` (default 2 min per floor by
  stairs, 0.1 min by lift).
* A **leg** (:func:`leg_seconds`) from household ``h`` (floor ``f``, building ``b``) to ``h'``
  (``f'``, ``b'``) takes ``door_gap + floor_s(b)·|f − f'|`` in the same building, and
  ``floor_s(b)·(f − 1) + walk(b, b') + floor_s(b')·(f' − 1)`` otherwise (down to the ground,
  across, up); the base is a place on the ground.
* **Service** at a household takes :func:`service_seconds`: its own ``service_minutes``, else
  ``minutes_per_household + minutes_per_resident × residents`` (default 2.5 + 0.5 per
  resident).
* A team unit departs at its shift start (there are no household time windows, so waiting
  never helps), serves its households in order without waiting and must be back by its
  **limit** (:func:`team_units`): ``min(shift.end, shift.start + max_minutes)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np

from commgov._walking import walk_metres_half_up
from commgov.scheduling.door_to_door._problem import (
    BASE,
    Access,
    DoorToDoorProblem,
    RoundBuilding,
    RoundHousehold,
)
from commgov.types import GeoPoint, to_seconds

__all__ = [
    "floor_seconds",
    "leg_seconds",
    "service_seconds",
    "team_units",
    "walk_matrix",
    "walk_metres",
    "walk_seconds",
]


def service_seconds(problem: DoorToDoorProblem, household: RoundHousehold) -> int:
    """Seconds at the household's door.

    ``service_minutes`` when given, else ``minutes_per_household + minutes_per_resident ×
    residents`` of the policy, by :func:`commgov.types.to_seconds`. O(1).

    Examples
    --------
    >>> p = DoorToDoorProblem(base=GeoPoint(lon=120.6, lat=31.3))
    >>> service_seconds(p, RoundHousehold(id="h", building_id="b", residents=3))
    240
    """
    if household.service_minutes is not None:
        return to_seconds(household.service_minutes)
    pol = problem.policy
    return to_seconds(pol.minutes_per_household + pol.minutes_per_resident * household.residents)


def floor_seconds(problem: DoorToDoorProblem, building: RoundBuilding) -> int:
    """Seconds to climb or descend one floor of ``building``.

    ``building.minutes_per_floor`` when given, else the policy's figure for its access
    (stairs 2.0 min, lift 0.1 min by default), by :func:`commgov.types.to_seconds`. O(1).
    """
    if building.minutes_per_floor is not None:
        return to_seconds(building.minutes_per_floor)
    pol = problem.policy
    per = pol.lift_minutes_per_floor if building.access is Access.LIFT else (
        pol.stairs_minutes_per_floor)
    return to_seconds(per)


def walk_metres(problem: DoorToDoorProblem, a: GeoPoint, b: GeoPoint) -> int:
    """Direct walking distance between two points in whole metres.

    Great-circle distance (:func:`commgov.types.haversine_m`) × ``detour_factor``, rounded
    half up. O(1).
    """
    return walk_metres_half_up(a, b, problem.policy.detour_factor)


def walk_seconds(problem: DoorToDoorProblem, a: GeoPoint, b: GeoPoint) -> int:
    """Direct walking time between two points in whole seconds (rounded up).

    :func:`walk_metres` / ``walking_speed_m_per_min`` minutes, by
    :func:`commgov.types.to_seconds`. Legs use the shortest-path closure of these times
    (:func:`walk_matrix`). O(1).
    """
    return to_seconds(walk_metres(problem, a, b) / problem.policy.walking_speed_m_per_min)


def walk_matrix(problem: DoorToDoorProblem) -> tuple[list[str], list[list[int]]]:
    """Walking times between the base and every building, closed under shortest paths.

    Direct times are :func:`walk_seconds`; the closure (Floyd–Warshall) replaces a direct walk
    by a chain of walks when that is shorter, which only happens through rounding and makes the
    matrix satisfy the triangle inequality exactly (the lower bound relies on it).

    Parameters
    ----------
    problem : DoorToDoorProblem

    Returns
    -------
    places : list of str
        :data:`BASE` (``"<base>"``) then the building ids, sorted.
    seconds : list of list of int
        ``seconds[i][j]``: walking time from ``places[i]`` to ``places[j]``, symmetric, 0 on
        the diagonal.

    Notes
    -----
    O(P³) for P places (buildings + 1), vectorised one pivot at a time.

    References
    ----------
    .. [1] R. W. Floyd, "Algorithm 97: Shortest path", Communications of the ACM 5(6), 345,
       1962.
    """
    buildings = sorted(problem.buildings, key=lambda b: b.id)
    places = [BASE, *(b.id for b in buildings)]
    points = [problem.base, *(b.location for b in buildings)]
    n = len(points)
    d = np.array([[0 if i == j else walk_seconds(problem, points[i], points[j])
                   for j in range(n)] for i in range(n)], dtype=np.int64).reshape(n, n)
    for k in range(n):  # Floyd–Warshall, one pivot at a time over whole rows (exact integers)
        np.minimum(d, d[:, k:k + 1] + d[k:k + 1, :], out=d)
    return places, d.tolist()


def leg_seconds(
    problem: DoorToDoorProblem,
    a: RoundHousehold | None,
    b: RoundHousehold | None,
    *,
    walks: tuple[list[str], list[list[int]]] | None = None,
    buildings: Mapping[str, RoundBuilding] | None = None,
) -> int:
    """Travel time of one leg, in whole seconds; ``None`` stands for the base.

    Same building: ``door_gap + floor_s·|f − f'|`` (``door_gap`` = :func:`to_seconds` of
    ``minutes_between_doors``). Otherwise down to the ground, walk, up:
    ``floor_s(b)·(f − 1) + walk(b, b') + floor_s(b')·(f' − 1)`` with the walk from
    :func:`walk_matrix`; the base is on the ground.

    Parameters
    ----------
    problem : DoorToDoorProblem
    a, b : RoundHousehold or None
        From and to; ``None`` is the base.
    walks : tuple, optional
        A precomputed :func:`walk_matrix` of the problem (computed when omitted).
    buildings : mapping, optional
        A precomputed :meth:`DoorToDoorProblem.building_map`.

    Returns
    -------
    int
        Seconds (0 from the base to the base).

    Notes
    -----
    O(P) to index the places, O(P³) when ``walks`` is not given: pass a precomputed
    :func:`walk_matrix` when computing many legs.
    """
    places, secs = walks if walks is not None else walk_matrix(problem)
    bmap = buildings if buildings is not None else problem.building_map()
    index = {p: i for i, p in enumerate(places)}
    if a is not None and b is not None and a.building_id == b.building_id:
        fs = floor_seconds(problem, bmap[a.building_id])
        return to_seconds(problem.policy.minutes_between_doors) + fs * abs(a.floor - b.floor)
    total = 0
    ia = ib = 0
    if a is not None:
        total += floor_seconds(problem, bmap[a.building_id]) * (a.floor - 1)
        ia = index[a.building_id]
    if b is not None:
        total += floor_seconds(problem, bmap[b.building_id]) * (b.floor - 1)
        ib = index[b.building_id]
    return total + secs[ia][ib]


def team_units(problem: DoorToDoorProblem) -> list[tuple[str, int, datetime, datetime]]:
    """Every team unit: ``(team_id, unit, depart, limit)``, by team id then unit.

    ``depart`` is the shift start; ``limit`` = ``min(shift.end, shift.start + max_minutes)``
    (UTC), the latest return. O(units + teams·log teams).
    """
    out: list[tuple[str, int, datetime, datetime]] = []
    for t in sorted(problem.teams, key=lambda t: t.id):
        limit = t.shift.end
        if t.max_minutes is not None:
            limit = min(limit, t.shift.start + timedelta(seconds=to_seconds(t.max_minutes)))
        out.extend((t.id, k, t.shift.start, limit) for k in range(1, t.count + 1))
    return out
