"""Local search on a supply plan: serve more, close stations, shorten legs (private).

The starting plan of the CP-SAT method, and at district scale most of its quality: three
moves that never break a rule and never serve fewer parcels.

* *Ejection* (served): a compound left out because its stations are full goes to an opened
  station in reach once one of that station's compounds moves to another opened station
  with room.
* *Closing* (volunteers): an opened station closes when each of its compounds (largest
  first) fits another opened station in reach with room (the nearest such). Stations are
  tried from the least loaded. Volunteers only go down, so the pool keeps.
* *Nearer station* (carrying): a compound moves to a nearer opened station with room.

Each pass visits stations and compounds in a fixed order; the passes repeat until nothing
changes or ``stop()`` says so. Deterministic. O(passes · C · reach).
"""

from __future__ import annotations

from collections.abc import Callable

from commgov.scheduling.supply._data import SupplyData

__all__ = ["improve"]

_MAX_PASSES = 50


def improve(
    data: SupplyData, assign: dict[int, int], stop: Callable[[], bool] | None = None
) -> dict[int, int]:
    """``assign`` (compound → station) improved by closing stations and nearer legs."""
    p = data.problem
    out = dict(assign)
    cap = [s.capacity_parcels for s in p.stations]
    load = [0] * len(p.stations)
    members: list[set[int]] = [set() for _ in p.stations]
    for c, s in out.items():
        load[s] += data.parcels(c)
        members[s].add(c)
    legs = {c: dict(pairs) for c, pairs in data.reach.items()}

    def room(s: int, c: int, moved: dict[int, int] | None = None) -> bool:
        extra = 0 if moved is None else moved.get(s, 0)
        return bool(members[s]) and load[s] + extra + data.parcels(c) <= cap[s]

    for c in sorted(data.reach):
        if c in out or (stop is not None and stop()):
            continue
        _eject(data, out, load, members, c, room)
    for _ in range(_MAX_PASSES):
        changed = False
        for s in sorted(range(len(load)), key=lambda s: (load[s], s)):
            if not members[s]:
                continue
            if stop is not None and stop():
                return out
            plan: dict[int, int] = {}
            moved: dict[int, int] = {}
            for c in sorted(members[s], key=lambda c: (-data.parcels(c), c)):
                options = [(w, t) for t, w in data.reach[c] if t != s and room(t, c, moved)]
                if not options:
                    break
                _w, t = min(options)
                plan[c] = t
                moved[t] = moved.get(t, 0) + data.parcels(c)
            else:
                for c, t in sorted(plan.items()):
                    _move(data, out, load, members, c, t)
                changed = True
        for c in sorted(out):
            if stop is not None and not c & 255 and stop():
                return out
            here = legs[c][out[c]]
            better = [(w, t) for t, w in data.reach[c] if w < here and room(t, c)]
            if better:
                _move(data, out, load, members, c, min(better)[1])
                changed = True
        if not changed:
            break
    return out


def _eject(
    data: SupplyData,
    out: dict[int, int],
    load: list[int],
    members: list[set[int]],
    c: int,
    room: Callable[[int, int], bool],
) -> None:
    """Serve ``c`` at an opened station in reach by moving one of its compounds away."""
    cap = [s.capacity_parcels for s in data.problem.stations]
    parcels = data.parcels(c)
    for t, _w in sorted(data.reach[c], key=lambda tw: (tw[1], tw[0])):
        if not members[t]:
            continue
        for m in sorted(members[t]):
            if load[t] - data.parcels(m) + parcels > cap[t]:
                continue
            others = [(w, u) for u, w in data.reach[m] if u != t and room(u, m)]
            if others:
                _move(data, out, load, members, m, min(others)[1])
                out[c] = t
                load[t] += parcels
                members[t].add(c)
                return


def _move(
    data: SupplyData,
    out: dict[int, int],
    load: list[int],
    members: list[set[int]],
    c: int,
    to: int,
) -> None:
    old = out[c]
    parcels = data.parcels(c)
    load[old] -= parcels
    members[old].discard(c)
    out[c] = to
    load[to] += parcels
    members[to].add(c)
