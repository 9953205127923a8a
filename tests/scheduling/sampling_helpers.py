"""Small hand-made sampling problems shared by the scheduling tests."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commgov.org import ZoneRegime
from commgov.scheduling import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPoint,
    SamplingPolicy,
    SamplingProblem,
)
from commgov.types import GeoPoint, TimeWindow

TZ = ZoneInfo("Asia/Shanghai")
LON0, LAT0 = 120.62, 31.31
START = datetime(2022, 4, 10, 6, 30, tzinfo=TZ)


def at(dx_m: float, dy_m: float = 0.0) -> GeoPoint:
    """A point dx metres east and dy metres north of the origin."""
    lat = LAT0 + dy_m / 111_195.0
    lon = LON0 + dx_m / (111_195.0 * math.cos(math.radians(LAT0)))
    return GeoPoint(lon=lon, lat=lat)


def window(n_slots: int, slot_minutes: int = 30) -> TimeWindow:
    return TimeWindow(start=START, end=START + timedelta(minutes=slot_minutes * n_slots))


def building(
    bid: str,
    x: float,
    people: list[int],
    *,
    zone: ZoneRegime = ZoneRegime.PRECAUTIONARY,
    allowed: list[str] | None = None,
    mobility_limited: int = 0,
    y: float = 0.0,
) -> SamplingBuilding:
    return SamplingBuilding(
        id=bid,
        location=at(x, y),
        zone=zone,
        mobility_limited=mobility_limited,
        allowed_point_ids=allowed,
        batches=[
            SamplingBatch(id=f"{bid}-{j}", building_id=bid, households=max(1, p // 3), people=p)
            for j, p in enumerate(people)
        ],
    )


def point(
    pid: str, x: float, lanes: int = 1, *, y: float = 0.0, opening: TimeWindow | None = None
) -> SamplingPoint:
    return SamplingPoint(id=pid, location=at(x, y), lanes=lanes, opening=opening)


def problem(
    buildings: list[SamplingBuilding], points: list[SamplingPoint], n_slots: int, **policy: object
) -> SamplingProblem:
    return SamplingProblem(
        timezone="Asia/Shanghai",
        window=window(n_slots),
        buildings=buildings,
        points=points,
        policy=SamplingPolicy(**policy),
    )  # type: ignore[arg-type]


def mutation_fixture() -> SamplingProblem:
    """A problem whose optimal plan offers every mutation something to break."""
    return problem(
        [
            building("B1", 100, [40, 40, 30]),
            building("B2", 150, [50, 20], mobility_limited=2),
            building("B3", 5_000, [10]),
            building("B4", 120, [10, 12], zone=ZoneRegime.SEALED, mobility_limited=1),
            building("B5", 300, [30], zone=ZoneRegime.CONTROLLED, allowed=["P1"]),
        ],
        [point("P1", 0, 1), point("P2", 400, 2)],
        4,
        max_queue=20,
    )


def grid_problem(
    n_buildings: int,
    batches: int,
    n_points: int,
    side_m: float,
    *,
    slack: float = 1.0,
    seed: int = 0,
    n_slots: int = 13,
    people: tuple[int, int] = (5, 30),
) -> SamplingProblem:
    """A generated problem: buildings uniform in a square of ``side_m`` metres, each with
    ``batches`` batches of ``people`` residents, ``n_points`` points on a grid over the
    square with equal lanes giving ``slack`` × the walk-in residents of capacity, and no
    designated points (every point within the walk limit is in reach)."""
    import random

    r = random.Random(seed)
    bs = []
    total = 0
    for i in range(n_buildings):
        bid = f"B{i:05d}"
        ks = []
        for j in range(batches):
            p = r.randint(*people)
            total += p
            ks.append(
                SamplingBatch(
                    id=f"{bid}-{j:02d}", building_id=bid, households=max(1, p // 3), people=p
                )
            )
        bs.append(
            SamplingBuilding(
                id=bid, location=at(r.uniform(0, side_m), r.uniform(0, side_m)), batches=ks
            )
        )
    g = math.ceil(math.sqrt(n_points))
    lanes = max(1, round(slack * total / (n_points * n_slots * 42.5)))
    pts = [
        SamplingPoint(
            id=f"P{j:04d}",
            lanes=lanes,
            location=at((j % g + 0.5) * side_m / g, (j // g + 0.5) * side_m / g),
        )
        for j in range(n_points)
    ]
    return SamplingProblem(
        timezone="Asia/Shanghai",
        window=window(n_slots),
        buildings=bs,
        points=pts,
        policy=SamplingPolicy(),
    )
