"""Seeded sampling-timeslot benchmark instances at four tiers (issue 5 item 9).

Tier H (door to door) lives in :func:`commgov.datasets.door_to_door_instance`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from commgov._random import rng
from commgov.datasets._community import (
    _M_PER_DEG_LAT,
    DEFAULT_DAY,
    GUSU_BOX,
    TIMEZONE,
    _centre_for,
)
from commgov.datasets._gusu import HUCHIYUAN, SUBDISTRICT_AREAS, apportion
from commgov.errors import InputError, InputIssue
from commgov.org import ZoneRegime
from commgov.scheduling.sampling import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPoint,
    SamplingPolicy,
    SamplingProblem,
    reach_limit_m,
    slot_capacity,
    walk_distance_m,
)
from commgov.types import GeoPoint, TimeWindow, haversine_array_m

__all__ = ["SAMPLING_TIERS", "SamplingTier", "sampling_instance"]

Tier = Literal["C", "S", "D13", "D48"]


@dataclass(frozen=True, slots=True)
class SamplingTier:
    """Size and place of one benchmark tier.

    Attributes
    ----------
    people : int
        Residents of all buildings (walk-in, mobility-limited and sealed).
    buildings : int
    points : int
        Sampling points.
    slots : int
        Half-hour slots from 06:30.
    centre : GeoPoint
        Centre of the square the buildings lie in.
    side_m : float
        Side of that square, in metres.
    layout : str
        Name of the layout streams: tiers with the same name share buildings and points
        (D13 and D48).
    """

    people: int
    buildings: int
    points: int
    slots: int
    centre: GeoPoint
    side_m: float
    layout: str


def _box_centre() -> GeoPoint:
    return GeoPoint(lon=round((GUSU_BOX[0] + GUSU_BOX[2]) / 2, 6),
                    lat=round((GUSU_BOX[1] + GUSU_BOX[3]) / 2, 6))


def _box_side_m() -> float:
    c = _box_centre()
    w = (GUSU_BOX[2] - GUSU_BOX[0]) * _M_PER_DEG_LAT * math.cos(math.radians(c.lat))
    h = (GUSU_BOX[3] - GUSU_BOX[1]) * _M_PER_DEG_LAT
    return round(math.sqrt(w * h), 1)


_BYW = SUBDISTRICT_AREAS["320508017"].centre  # 白洋湾街道, 虎池苑社区's sub-district

#: tier → :class:`SamplingTier`. C: 虎池苑社区's point (seed 0 of :func:`gusu`) and the
#: reference's 0.6 km community square; S: a 2.5 km square at the approximate centre of
#: 白洋湾街道; D13/D48: a square of the area of Gusu's box (≈ 100 km²) at its centre.
SAMPLING_TIERS: dict[str, SamplingTier] = {
    "C": SamplingTier(4_400, 50, 3, 13, _centre_for(HUCHIYUAN, 0), 600.0, "C"),
    "S": SamplingTier(80_000, 800, 32, 13, _BYW, 2_500.0, "S"),
    "D13": SamplingTier(1_000_000, 10_000, 400, 13, _box_centre(), _box_side_m(), "D"),
    "D48": SamplingTier(1_000_000, 10_000, 400, 48, _box_centre(), _box_side_m(), "D"),
}

#: Generator parameters (docs/datasets.md, sampling benchmark instances).
SLACK = 1.10
BATCH_MAX = 60
CANDIDATES = 6
DESIGNATED = 2
SEALED_SHARE = 0.02
CONTROLLED_SHARE = 0.10
MOBILITY_RATE = 0.02
SIGMA = 0.6
PEOPLE_PER_HOUSEHOLD = 2.5
BUILDINGS_PER_CLUSTER = 20
CLUSTER_SPREAD_M = 80.0
KMEANS_ROUNDS = 8
#: Largest (buildings × points) distance matrix the generator builds (80 MB of float64).
MAX_MATRIX = 10_000_000


def _xy_to_geo(centre: GeoPoint, xy: np.ndarray) -> list[GeoPoint]:
    m_lon = _M_PER_DEG_LAT * math.cos(math.radians(centre.lat))
    return [GeoPoint(lon=round(centre.lon + x / m_lon, 6),
                     lat=round(centre.lat + y / _M_PER_DEG_LAT, 6))
            for x, y in xy.tolist()]


def _haversine(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray,
               lat2: np.ndarray) -> np.ndarray:
    """Vectorised :func:`commgov.types.haversine_m` (rows: first points, columns: second)."""
    out: np.ndarray = haversine_array_m(lon1[:, None], lat1[:, None], lon2[None, :], lat2[None, :])
    return out


def _check_args(tier: object, seed: object) -> None:
    issues = []
    if not isinstance(tier, str) or tier not in SAMPLING_TIERS:
        issues.append(InputIssue("sampling_instance", "tier", tier,
                                 f"must be one of {list(SAMPLING_TIERS)}"))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        issues.append(InputIssue("sampling_instance", "seed", seed, "must be a whole number ≥ 0"))
    if issues:
        raise InputError(issues, what="sampling_instance")


def sampling_instance(tier: Tier = "C", seed: int = 0) -> SamplingProblem:
    """A seeded sampling-timeslot benchmark problem (docs/datasets.md).

    ======  =========  =========  ======  =====  =======================================
    tier    people     buildings  points  slots  area
    ======  =========  =========  ======  =====  =======================================
    C       4,400      50         3       13     0.6 km square at 虎池苑社区
    S       80,000     800        32      13     2.5 km square at 白洋湾街道's centre
    D13     1,000,000  10,000     400     13     ≈ 10 km square at Gusu's centre
    D48     1,000,000  10,000     400     48     the same buildings and points as D13
    ======  =========  =========  ======  =====  =======================================

    The window starts at 06:30 on :data:`~commgov.datasets._community.DEFAULT_DAY`
    (Asia/Shanghai) and has ``slots`` half-hour slots (D13 and C end at 13:00, the Suzhou
    morning notices; D48 covers 24 h). The policy is :class:`SamplingPolicy`'s default (ρ 0.85,
    queue cap 200, 15 min at 80 m/min = 1,200 m, detour 1.3). How the instance is drawn:

    * **Buildings** lie in clusters (compounds of about 20 buildings, spread 80 m) whose
      centres are uniform in the tier's square; residents are split exactly ``people`` over
      the buildings in proportion to log-normal weights (σ = 0.6, largest remainders, at
      least 1 each).
    * **Zones**: exactly ``round(2 % × buildings)`` buildings are ``SEALED`` (sampled door to
      door) and ``round(10 %)`` ``CONTROLLED``, chosen by a seeded permutation; the rest are
      ``PRECAUTIONARY``.
    * **Residents**: each building's mobility-limited residents are Binomial(residents, 2 %);
      the others walk in, split into ⌈n / 60⌉ near-equal batches (≤ 60 people, households =
      people / 2.5, at least 1).
    * **Points** are k-means centres of the buildings (8 Lloyd rounds from a seeded,
      population-weighted choice of buildings). A building with no point within the walk
      limit is moved to half the limit from its nearest point (rare; it keeps its residents).
    * **Candidate points**: every walk-in building carries ``allowed_point_ids``: for a
      precautionary building its 6 nearest points within the walk limit (the K-nearest arc
      set of §4.1), for a controlled building its 2 nearest (its designated points).
    * **Lanes** (100 swabs an hour each): ⌈1.10 × walk-in residents / (42.5 × slots)⌉
      lanes, apportioned to points in proportion to the walk-in residents nearest to each
      (at least 1 lane each), then one more lane at a time (to the point with most residents
      per lane) while the capacity, Σ :func:`~commgov.scheduling.slot_capacity` × slots, is
      below 1.10 × the walk-in residents. The slack (capacity / walk-in residents) is
      therefore ≥ 1.10 and exceeds it by less than one lane over the window (43 × slots).

    Every draw comes from :func:`commgov._random.rng` streams keyed by the seed and the tier's
    layout name, so the same seed gives a byte-identical ``model_dump_json()`` in any
    process; D13 and D48 of one seed share buildings, batches and points and differ in slots
    and lanes. Building D13 takes a few seconds and well under 1 GiB.

    Parameters
    ----------
    tier : {"C", "S", "D13", "D48"}, default "C"
    seed : int, default 0
        Whole number ≥ 0 (benchmarks use 0–4).

    Returns
    -------
    SamplingProblem

    Raises
    ------
    commgov.errors.InputError
        If ``tier`` is unknown or ``seed`` is not a whole number ≥ 0.

    Examples
    --------
    >>> p = sampling_instance("C", seed=0)
    >>> len(p.buildings), len(p.points), p.n_slots
    (50, 3, 13)
    """
    _check_args(tier, seed)
    seed = int(seed)
    spec = SAMPLING_TIERS[tier]
    if spec.buildings * spec.points > MAX_MATRIX:  # pragma: no cover - fixed tiers
        raise InputError.single("sampling_instance", "tier", tier, "too large to generate")
    n, m, side = spec.buildings, spec.points, spec.side_m
    entity = f"sampling/{spec.layout}"
    policy = SamplingPolicy()
    limit = reach_limit_m(policy)

    # ---- buildings: clustered layout, residents -------------------------------------------
    g = rng(seed, "layout", entity)
    n_clusters = max(1, round(n / BUILDINGS_PER_CLUSTER))
    centres = g.uniform(-side / 2, side / 2, size=(n_clusters, 2))
    which = g.integers(0, n_clusters, size=n)
    bxy = np.clip(centres[which] + g.normal(0.0, CLUSTER_SPREAD_M, size=(n, 2)),
                  -side / 2, side / 2)
    g = rng(seed, "buildings", entity)
    weights = g.lognormal(-SIGMA**2 / 2, SIGMA, size=n)
    residents = apportion(spec.people, weights.tolist(), minimum=1)
    g = rng(seed, "people", entity)
    mobility = g.binomial(np.asarray(residents), MOBILITY_RATE).tolist()
    g = rng(seed, "zones", entity)
    order = g.permutation(n).tolist()
    n_sealed = round(SEALED_SHARE * n)
    n_controlled = round(CONTROLLED_SHARE * n)
    zone = [ZoneRegime.PRECAUTIONARY] * n
    for i in order[:n_sealed]:
        zone[i] = ZoneRegime.SEALED
    for i in order[n_sealed:n_sealed + n_controlled]:
        zone[i] = ZoneRegime.CONTROLLED
    walk_in = np.asarray(residents) - np.asarray(mobility)
    walking = np.asarray([z != ZoneRegime.SEALED for z in zone])

    # ---- points: k-means centres of the buildings, weighted by residents --------------------
    g = rng(seed, "sites", entity)
    pw = np.asarray(residents, dtype=float)
    pxy = bxy[np.sort(g.choice(n, size=m, replace=False, p=pw / pw.sum()))].copy()
    for _ in range(KMEANS_ROUNDS):
        d2 = ((bxy[:, None, :] - pxy[None, :, :]) ** 2).sum(axis=2)
        near = d2.argmin(axis=1)
        tot = np.bincount(near, weights=pw, minlength=m)
        for axis in (0, 1):
            s = np.bincount(near, weights=pw * bxy[:, axis], minlength=m)
            pxy[:, axis] = np.where(tot > 0, s / np.maximum(tot, 1e-9), pxy[:, axis])
    points_geo = _xy_to_geo(spec.centre, pxy)
    plon = np.asarray([p.lon for p in points_geo])
    plat = np.asarray([p.lat for p in points_geo])
    bgeo = _xy_to_geo(spec.centre, bxy)

    # ---- reach: move the rare building with no point in reach ------------------------------
    ids_p = [f"P{j:0{len(str(m - 1))}d}" for j in range(m)]
    tmp_points = [SamplingPoint(id=ids_p[j], location=points_geo[j], lanes=1) for j in range(m)]
    blon = np.asarray([p.lon for p in bgeo])
    blat = np.asarray([p.lat for p in bgeo])
    approx = _haversine(blon, blat, plon, plat) * policy.detour_factor
    order_p = np.argsort(approx, axis=1, kind="stable")[:, : CANDIDATES + 4]
    width = len(str(n - 1))
    cand: list[list[int]] = []
    for i in range(n):
        probe = SamplingBuilding(id="probe", location=bgeo[i])
        exact = sorted((walk_distance_m(probe, tmp_points[j], policy), j)
                       for j in order_p[i].tolist())
        ok = [j for dist, j in exact if dist <= limit]
        if not ok:
            j = exact[0][1]
            v = bxy[i] - pxy[j]
            v = v / max(float(np.hypot(*v)), 1e-9)
            bxy[i] = pxy[j] + v * 0.5 * limit / policy.detour_factor
            bgeo[i] = _xy_to_geo(spec.centre, bxy[i:i + 1])[0]
            ok = [j]
        cand.append(ok)

    # ---- lanes for the slack ------------------------------------------------------------------
    per_lane = 100.0 * policy.slot_minutes / 60 * policy.utilisation  # 42.5 a slot
    demand = int(walk_in[walking].sum())
    need = SLACK * demand
    lanes_total = max(m, math.ceil(need / (per_lane * spec.slots)))
    nearest = np.asarray([c[0] for c in cand])
    local = np.bincount(nearest[walking], weights=walk_in[walking], minlength=m)
    lanes = apportion(lanes_total, (local + 1e-6).tolist(), minimum=1)

    def cap(j: int) -> int:
        return slot_capacity(lanes[j], 100.0, policy.slot_minutes, policy.utilisation)

    while sum(cap(j) for j in range(m)) * spec.slots < need:  # floors of whole lanes
        lanes[max(range(m), key=lambda j: (local[j] / lanes[j], -j))] += 1
    points = [SamplingPoint(id=ids_p[j], location=points_geo[j], lanes=lanes[j])
              for j in range(m)]

    # ---- records ------------------------------------------------------------------------------
    buildings = []
    for i in range(n):
        bid = f"B{i:0{width}d}"
        pop = int(walk_in[i])
        k = max(1, math.ceil(pop / BATCH_MAX))
        sizes = [pop // k + (1 if j < pop % k else 0) for j in range(k)]
        allowed = None
        if zone[i] == ZoneRegime.CONTROLLED:
            allowed = sorted(ids_p[j] for j in cand[i][:DESIGNATED])
        elif zone[i] == ZoneRegime.PRECAUTIONARY:
            allowed = sorted(ids_p[j] for j in cand[i][:CANDIDATES])
        buildings.append(SamplingBuilding(
            id=bid, location=bgeo[i], zone=zone[i],
            batches=[SamplingBatch(id=f"{bid}-{j:02d}", building_id=bid,
                                   households=max(1, round(s / PEOPLE_PER_HOUSEHOLD)), people=s)
                     for j, s in enumerate(sizes)],
            mobility_limited=int(mobility[i]), allowed_point_ids=allowed))
    tz = ZoneInfo(TIMEZONE)
    start = datetime.combine(DEFAULT_DAY, time(6, 30), tz)
    window = TimeWindow(start=start,
                        end=start + timedelta(minutes=policy.slot_minutes * spec.slots))
    return SamplingProblem(timezone=TIMEZONE, window=window, buildings=buildings,
                           points=points, policy=policy)
