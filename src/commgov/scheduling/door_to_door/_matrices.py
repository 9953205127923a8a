"""Matrices the door-to-door solving methods share (private).

Everything in whole seconds, built from the shared rules of
:mod:`commgov.scheduling.door_to_door._rules` on the canonical (id-sorted) problem: the leg
matrix between the base and every household, service times, team units with their start and
limit (seconds after the origin) and the units that can serve each household alone.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from commgov.scheduling.door_to_door._problem import DoorToDoorProblem
from commgov.scheduling.door_to_door._rules import (
    floor_seconds,
    service_seconds,
    team_units,
    walk_matrix,
)
from commgov.types import to_seconds

__all__ = ["Data", "hkey", "hroute_duration", "prepare"]


@dataclass
class Data:
    """The canonical problem as arrays (households in id order, units by team id then unit)."""

    problem: DoorToDoorProblem
    hids: list[str]
    building: list[str]
    floor: list[int]
    service: np.ndarray  # (n,)
    leg: np.ndarray  # (n+1, n+1), index 0 = base, household i at i+1
    units: list[tuple[str, int]]
    start: list[int]  # seconds after origin
    end: list[int]
    alone: np.ndarray  # (n,)
    eligible: list[list[int]]  # units that can serve household i alone
    walks: tuple[list[str], list[list[int]]] | None = None  # the problem's walk_matrix


def prepare(problem: DoorToDoorProblem) -> Data:
    """The matrices of a canonical problem (O(H² + P³) for H households and P places)."""
    hh = problem.households
    n = len(hh)
    bmap = problem.building_map()
    walk_table = walk_matrix(problem)
    places, walks = walk_table
    index = {p: i for i, p in enumerate(places)}
    w = np.asarray(walks, dtype=np.int64)
    place = np.array([0] + [index[h.building_id] for h in hh], dtype=np.int64)
    fs = np.array([0] + [floor_seconds(problem, bmap[h.building_id]) for h in hh],
                  dtype=np.int64)
    fl = np.array([1] + [h.floor for h in hh], dtype=np.int64)
    climb = fs * (fl - 1)
    # down, across, up; then, inside one building, door gap + floors between (built in place,
    # building by building: the (n+1)² matrix is the largest object of a solve)
    leg = w[np.ix_(place, place)]
    leg += climb[:, None]
    leg += climb[None, :]
    gap = to_seconds(problem.policy.minutes_between_doors)
    by_place = np.argsort(place, kind="stable")
    cuts = np.flatnonzero(np.diff(place[by_place])) + 1
    for g in np.split(by_place, cuts):
        if place[g[0]] > 0:
            leg[np.ix_(g, g)] = gap + fs[g][:, None] * np.abs(fl[g][:, None] - fl[g][None, :])
    np.fill_diagonal(leg, 0)
    service = np.array([service_seconds(problem, h) for h in hh], dtype=np.int64)
    origin = problem.origin()
    units = team_units(problem)
    start = [int((d - origin).total_seconds()) for _t, _k, d, _e in units] if origin else []
    end = [int((e - origin).total_seconds()) for _t, _k, _d, e in units] if origin else []
    alone = leg[0, 1:] + service + leg[1:, 0] if n else np.zeros(0, dtype=np.int64)
    # units that can serve household i alone: start_k + alone_i ≤ end_k (whole seconds)
    fits = (np.asarray(start, dtype=np.int64)[None, :] + alone[:, None]
            <= np.asarray(end, dtype=np.int64)[None, :]) if units else np.zeros((n, 0), bool)
    eligible = [row.nonzero()[0].tolist() for row in fits]
    return Data(problem, [h.id for h in hh], [h.building_id for h in hh],
                [h.floor for h in hh], service, leg, [(t, k) for t, k, _d, _e in units],
                start, end, alone, eligible, walk_table)


def hroute_duration(d: Data, seq: list[int]) -> int:
    """Seconds from leaving the base to coming back, visiting households ``seq`` in order."""
    if not seq:
        return 0
    nodes = [0, *(i + 1 for i in seq), 0]
    return int(sum(int(d.leg[a, b]) for a, b in itertools.pairwise(nodes))
               + sum(int(d.service[i]) for i in seq))


def hkey(d: Data, hroutes: list[list[int]], left: list[int]) -> tuple[int, int, int]:
    """(uncovered, makespan, travel) of household routes: smaller is better."""
    mk = max((d.start[k] + hroute_duration(d, r) for k, r in enumerate(hroutes) if r),
             default=0)
    travel = sum(hroute_duration(d, r) - int(sum(int(d.service[i]) for i in r))
                 for r in hroutes)
    return len(left), mk, travel

