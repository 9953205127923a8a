"""Test helpers for sampling plans: a Hypothesis strategy and a seeded generator.

* :func:`sampling_problems`: Hypothesis strategy of small, valid :class:`SamplingProblem`.
* :func:`community_problem`: a seeded, community-like instance built from numpy streams of
  :mod:`commgov._random`.

The mutation table of sampling plans is in :mod:`commgov.testing._mut_sampling`.

Hypothesis is imported only here (the ``testing`` extra).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import strategies as st

from commgov._random import rng
from commgov.org import ZoneRegime
from commgov.scheduling.sampling import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPoint,
    SamplingPolicy,
    SamplingProblem,
    slot_capacity,
)
from commgov.types import GeoPoint, TimeWindow

__all__ = [
    "community_problem",
    "sampling_problems",
]

_TZ = "Asia/Shanghai"
_LON0, _LAT0 = 120.62, 31.31
_M_PER_DEG_LAT = 111_195.0


def _offset(dx_m: float, dy_m: float) -> GeoPoint:
    lat = _LAT0 + dy_m / _M_PER_DEG_LAT
    lon = _LON0 + dx_m / (_M_PER_DEG_LAT * math.cos(math.radians(_LAT0)))
    return GeoPoint(lon=round(lon, 7), lat=round(lat, 7))


def _window(n_slots: int, slot_minutes: int = 30) -> TimeWindow:
    start = datetime(2022, 4, 10, 6, 30, tzinfo=ZoneInfo(_TZ))
    return TimeWindow(start=start, end=start + timedelta(minutes=slot_minutes * n_slots))


# ---- Hypothesis strategy -------------------------------------------------------------------


@st.composite
def sampling_problems(
    draw: st.DrawFn,
    max_buildings: int = 6,
    max_batches: int = 3,
    max_points: int = 3,
    max_slots: int = 5,
    max_people: int = 60,
    extent_m: float = 2_000.0,
) -> SamplingProblem:
    """Hypothesis strategy of small valid sampling problems.

    Buildings and points lie in a square of ``extent_m`` metres (so some buildings are out of
    reach of the default 1,200 m limit); zones are mixed (sealed, controlled with designated
    points, precautionary); some points open late or close early; capacities and the queue cap
    are small so that capacity binds.

    Parameters
    ----------
    max_buildings, max_batches, max_points, max_slots, max_people : int
        Size limits (batches per building, people per batch).
    extent_m : float
        Side of the square, in metres.

    Returns
    -------
    SearchStrategy of SamplingProblem
    """
    n_slots = draw(st.integers(1, max_slots))
    window = _window(n_slots)
    coord = st.floats(0.0, extent_m, allow_nan=False, allow_infinity=False)
    n_points = draw(st.integers(1, max_points))
    points = []
    for i in range(n_points):
        opening = None
        if n_slots > 1 and draw(st.booleans()):
            lo = draw(st.integers(0, n_slots - 1))
            hi = draw(st.integers(lo + 1, n_slots))
            opening = TimeWindow(start=window.start + timedelta(minutes=30 * lo),
                                 end=window.start + timedelta(minutes=30 * hi))
        points.append(SamplingPoint(
            id=f"P{i}", location=_offset(draw(coord), draw(coord)),
            lanes=draw(st.integers(1, 3)),
            rate_per_lane_per_hour=draw(st.sampled_from([40.0, 60.0, 100.0])),
            opening=opening))
    n_buildings = draw(st.integers(0, max_buildings))
    buildings = []
    for i in range(n_buildings):
        zone = draw(st.sampled_from([ZoneRegime.PRECAUTIONARY, ZoneRegime.PRECAUTIONARY,
                                     ZoneRegime.CONTROLLED, ZoneRegime.SEALED]))
        allowed = None
        if zone == ZoneRegime.CONTROLLED and draw(st.booleans()):
            allowed = sorted(draw(st.sets(st.sampled_from([p.id for p in points]),
                                          max_size=n_points)))
        n_b = draw(st.integers(0, max_batches))
        bid = f"B{i}"
        batches = [
            SamplingBatch(id=f"{bid}-{j}", building_id=bid,
                          households=draw(st.integers(0, 25)),
                          people=draw(st.integers(0, max_people)))
            for j in range(n_b)
        ]
        buildings.append(SamplingBuilding(
            id=bid, location=_offset(draw(coord), draw(coord)), zone=zone, batches=batches,
            mobility_limited=draw(st.integers(0, 3)), allowed_point_ids=allowed))
    policy = SamplingPolicy(max_queue=draw(st.sampled_from([0, 10, 40, 200])))
    return SamplingProblem(timezone=_TZ, window=window, buildings=buildings, points=points,
                           policy=policy)


# ---- seeded community-like generator -------------------------------------------------------


def community_problem(
    seed: int,
    *,
    n_buildings: int = 60,
    n_points: int = 4,
    n_slots: int = 13,
    slack: float = 1.2,
    extent_m: float = 600.0,
    mean_people: float = 75.0,
    batch_max: int = 60,
    sealed_share: float = 0.03,
    controlled_share: float = 0.1,
    max_queue: int = 200,
) -> SamplingProblem:
    """A seeded community-like sampling problem.

    Buildings uniform in a square of ``extent_m``; population log-normal (σ = 0.6) with the
    given mean, split into near-equal batches of at most ``batch_max`` people; points with
    lanes chosen so that total capacity ≈ ``slack`` × walk-in demand; a share of sealed
    buildings and of controlled buildings designated to their two nearest points; 0–3
    mobility-limited residents per building. All draws come from :func:`commgov._random.rng`
    streams, so the same seed gives the same problem.

    Parameters
    ----------
    seed : int
        Root seed.
    n_buildings, n_points, n_slots : int
        Sizes.
    slack : float
        Total slot capacity / walk-in demand.
    extent_m : float
        Side of the community square in metres.
    mean_people : float
        Mean walk-in residents per building.
    batch_max : int
        Largest batch, in people.
    sealed_share, controlled_share : float
        Probability that a building is sealed / controlled.
    max_queue : int
        The policy's queue cap.

    Returns
    -------
    SamplingProblem
    """
    g_layout = rng(seed, "layout")
    g_b = rng(seed, "buildings")
    g_z = rng(seed, "zones")
    g_s = rng(seed, "sites")
    bxy = g_layout.uniform(0, extent_m, size=(n_buildings, 2))
    pxy = g_s.uniform(0.1 * extent_m, 0.9 * extent_m, size=(n_points, 2))
    sigma = 0.6
    mu = math.log(mean_people) - sigma**2 / 2
    pops = np.maximum(1, np.round(g_b.lognormal(mu, sigma, size=n_buildings))).astype(int)
    zones_u = g_z.uniform(size=n_buildings)
    ml = g_z.integers(0, 4, size=n_buildings)
    window = _window(n_slots)
    points_loc = [_offset(float(x), float(y)) for x, y in pxy]
    buildings = []
    demand = 0
    for i in range(n_buildings):
        bid = f"B{i:03d}"
        pop = int(pops[i])
        n_b = max(1, math.ceil(pop / batch_max))
        sizes = [pop // n_b + (1 if j < pop % n_b else 0) for j in range(n_b)]
        zone = (ZoneRegime.SEALED if zones_u[i] < sealed_share else
                ZoneRegime.CONTROLLED if zones_u[i] < sealed_share + controlled_share else
                ZoneRegime.PRECAUTIONARY)
        allowed = None
        if zone == ZoneRegime.CONTROLLED:
            d = np.hypot(pxy[:, 0] - bxy[i, 0], pxy[:, 1] - bxy[i, 1])
            allowed = [f"P{j}" for j in sorted(np.argsort(d, kind="stable")[:2].tolist())]
        if zone != ZoneRegime.SEALED:
            demand += pop
        buildings.append(SamplingBuilding(
            id=bid, location=_offset(float(bxy[i, 0]), float(bxy[i, 1])), zone=zone,
            batches=[SamplingBatch(id=f"{bid}-{j}", building_id=bid,
                                   households=max(1, round(s / 2.5)), people=s)
                     for j, s in enumerate(sizes)],
            mobility_limited=int(ml[i]), allowed_point_ids=allowed))
    per_lane = slot_capacity(1, 100.0, 30, 0.85)
    lanes_total = max(n_points, math.ceil(slack * demand / (per_lane * n_slots)))
    shares = g_s.dirichlet(np.full(n_points, 4.0))
    lanes = np.maximum(1, np.floor(shares * lanes_total)).astype(int)
    while lanes.sum() < lanes_total:
        lanes[int(np.argmax(shares * lanes_total - lanes))] += 1
    points = [SamplingPoint(id=f"P{j}", location=points_loc[j], lanes=int(lanes[j]))
              for j in range(n_points)]
    return SamplingProblem(timezone=_TZ, window=window, buildings=buildings, points=points,
                           policy=SamplingPolicy(max_queue=max_queue))
