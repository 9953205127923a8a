"""Synthetic door-to-door rounds instances (private; exported by :mod:`commgov.datasets`)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from commgov.types import GeoPoint, TimeWindow

if TYPE_CHECKING:
    from commgov.scheduling.door_to_door import DoorToDoorProblem, RoundBuilding, RoundHousehold

__all__ = ["door_to_door_instance"]


def door_to_door_instance(tier: str = "H", seed: int = 0) -> DoorToDoorProblem:
    """A seeded synthetic door-to-door instance of tier H (sealed compounds).

    Tier H: 3–10 sealed buildings in one compound (walk-ups of 5–7 storeys with 1–4 stairwells
    of two flats a floor; high-rises of 11–18 storeys with a lift, 1–2 stairwells of four flats
    a floor), 100–400 occupied households (1–5 residents, mean ≈ 2.6), 0–6 home visits to
    walk-ups within about 300 m, a base 80–250 m from the compound. Teams: 2–6 units, as many
    as needed for about 80 % of a 6-hour shift (a PPE shift; longer shifts when six are not
    enough), group ``A`` departing at 08:00 and group ``B`` at 08:15, Asia/Shanghai, on
    2022-04-12. Default policy (:class:`~commgov.scheduling.RoundPolicy`). Every draw comes from
    :func:`commgov._random.rng` streams keyed by the instance, so a seed always gives the same
    instance.

    Parameters
    ----------
    tier : {"H"}
    seed : int, default 0
        ≥ 0.

    Returns
    -------
    commgov.scheduling.DoorToDoorProblem

    Raises
    ------
    ValueError
        For an unknown tier or a negative seed.

    Notes
    -----
    O(H log H) for H households, plus the bound's O(P³) walking matrix over P places.

    Examples
    --------
    >>> p = door_to_door_instance("H", 0)
    >>> 100 <= len(p.households) <= 400 + 6, 2 <= sum(t.count for t in p.teams) <= 6
    (True, True)
    """
    from commgov._random import rng
    from commgov.scheduling.door_to_door import (
        Access,
        DoorToDoorProblem,
        RoundBuilding,
        RoundHousehold,
        RoundPolicy,
        RoundTeam,
        VisitKind,
    )
    from commgov.scheduling.door_to_door._bound import round_figures

    if tier != "H":
        raise ValueError(f"tier must be 'H', got {tier!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    key = f"d2d/H/{seed}"
    g = rng(seed, "layout", key)
    centre = GeoPoint(lon=120.6190, lat=31.3421)

    def offset(p: GeoPoint, east_m: float, north_m: float) -> GeoPoint:
        dlat = north_m / 111_195.0
        dlon = east_m / (111_195.0 * math.cos(math.radians(p.lat)))
        return GeoPoint(lon=round(p.lon + dlon, 7), lat=round(p.lat + dlat, 7))

    target = int(g.integers(100, 401))
    n_b = int(g.integers(3, 11))
    angle = float(g.uniform(0, 2 * math.pi))
    dist = float(g.uniform(80, 250))
    base = offset(centre, dist * math.cos(angle), dist * math.sin(angle))
    slots: list[tuple[str, int]] = []  # (stairwell id, floor), one per flat
    buildings: list[RoundBuilding] = []
    per_building = target / n_b
    for i in range(1, n_b + 1):
        gb = rng(seed, "buildings", f"{key}/B{i:02d}")
        lift = per_building > 72 or gb.random() < 0.3
        if lift:
            floors, flats = int(gb.integers(11, 19)), 4
        else:
            floors, flats = int(gb.integers(5, 8)), 2
        entrances = min(4 if not lift else 2,
                        max(1, math.ceil(per_building / (floors * flats * 0.85))))
        row, col = divmod(i - 1, 4)
        for e in range(1, entrances + 1):
            sid = f"B{i:02d}/E{e}"
            loc = offset(centre, col * 45.0 - 70 + 14.0 * (e - 1), row * 35.0 - 40)
            buildings.append(RoundBuilding(id=sid, location=loc, floors=floors,
                                           access=Access.LIFT if lift else Access.STAIRS))
            slots.extend((sid, f) for f in range(1, floors + 1) for _ in range(flats))
    gh = rng(seed, "households", key)
    target = min(target, len(slots))
    chosen = sorted(int(x) for x in gh.choice(len(slots), size=target, replace=False))
    households: list[RoundHousehold] = []
    counter: Counter[str] = Counter()
    for k in chosen:
        sid, floor = slots[k]
        counter[sid] += 1
        residents = int(gh.choice([1, 2, 3, 4, 5], p=[0.2, 0.3, 0.25, 0.18, 0.07]))
        households.append(RoundHousehold(id=f"{sid}/H{counter[sid]:03d}", building_id=sid,
                                         floor=floor, residents=residents))
    for v in range(1, int(g.integers(0, 7)) + 1):
        gv = rng(seed, "households", f"{key}/V{v}")
        a = float(gv.uniform(0, 2 * math.pi))
        r = float(gv.uniform(80, 300))
        floors = int(gv.integers(2, 7))
        sid = f"V{v:02d}"
        buildings.append(RoundBuilding(id=sid, location=offset(centre, r * math.cos(a),
                                                                r * math.sin(a)),
                                       floors=floors))
        households.append(RoundHousehold(id=f"{sid}/H001", building_id=sid,
                                         floor=int(gv.integers(1, floors + 1)),
                                         residents=int(gv.integers(1, 3)),
                                         kind=VisitKind.HOME_VISIT))
    policy = RoundPolicy()
    probe = DoorToDoorProblem(base=base, buildings=buildings, households=households,
                              policy=policy)
    work = round_figures(probe.model_copy(update={"teams": [RoundTeam(
        id="probe", shift=TimeWindow(start=datetime(2022, 4, 12, tzinfo=ZoneInfo("UTC")),
                                     end=datetime(2022, 4, 19, tzinfo=ZoneInfo("UTC"))))]})
    ).work_total_s / 60.0
    units = min(6, max(2, math.ceil(work / (0.8 * 360))))
    hours = max(6.0, math.ceil(work / units / 0.8 / 30) / 2)
    tz = ZoneInfo("Asia/Shanghai")
    day = datetime(2022, 4, 12, 8, 0, tzinfo=tz)
    length = timedelta(hours=hours)
    teams = [RoundTeam(id="A", count=units - units // 2, shift=TimeWindow(start=day,
                                                                         end=day + length))]
    if units // 2:
        later = day + timedelta(minutes=15)
        teams.append(RoundTeam(id="B", count=units // 2,
                               shift=TimeWindow(start=later, end=later + length)))
    return probe.model_copy(update={"teams": teams})
