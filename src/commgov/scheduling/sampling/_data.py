"""Solver-side data of a sampling problem, shared by every solving method (private).

:func:`prepare` turns a canonical problem into index data: the non-sealed buildings and their
batches in id order, each building's reachable points (allowed, open, with capacity, within
the walk limit), walking distances, slot capacities and open slots. Time budgets of the
post-solver phases (:func:`reserve_s`) are estimated here too.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from commgov.errors import check_size
from commgov.results import Reason
from commgov.scheduling.sampling._limits import (
    MAX_CANDIDATE_PAIRS,
    MAX_POINT_SLOTS,
    MAX_REACH_PAIRS,
    MAX_SCAN_PAIRS,
    check_record_counts,
)
from commgov.scheduling.sampling._problem import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPoint,
    SamplingProblem,
)
from commgov.scheduling.sampling._reasons import SamplingReasonCode
from commgov.scheduling.sampling._rules import (
    APPROX_MARGIN_M,
    approx_walk_m,
    approx_walks_m,
    reach_limit_m,
    walk_distance_m,
    walk_distances_m,
)
from commgov.types import EARTH_RADIUS_M

#: CP-SAT's ``random_seed`` is this value XOR the planner's ``seed`` (so ``seed=0`` runs
#: CP-SAT with 20220410, the fixed seed of the first releases, and repeats their plans).
CP_SAT_SEED_BASE = 20220410
NUM_WORKERS = 1
#: Seconds reserved for the post-solver phases (finish, greedy completion, plan records) and
#: for the steps between deadline checks: a base, a share per batch and a share per model
#: variable. Measured on 20,000 households (2,739 batches, 31 points in reach of every
#: building, 146,000 variables): greedy completion from scratch and plan records 0.06 s,
#: reading a CP-SAT solution or fixing a tier's optimum ≈ 0.1-0.3 s; reserve 1.0 s.
RESERVE_BASE_S = 0.02
RESERVE_PER_BATCH_S = 6e-5
RESERVE_PER_VAR_S = 3e-6


def cp_sat_seed(seed: int) -> int:
    """CP-SAT's ``random_seed`` for the planner's ``seed`` (a bijection of [0, 2³¹))."""
    return CP_SAT_SEED_BASE ^ seed


@dataclass
class Data:
    """Index data of a canonical sampling problem (see the module docstring)."""

    problem: SamplingProblem
    T: int
    points: list[SamplingPoint]
    cap: dict[str, int]
    open: dict[str, list[int]]
    buildings: list[SamplingBuilding]  # non-sealed, by id
    reach: dict[str, list[str]]  # building -> reachable allowed open points, by id
    dist: dict[tuple[str, str], int]
    batches: list[SamplingBatch]  # of non-sealed buildings, by id
    nearest_allowed_open: dict[str, int | None] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)  # batch id -> people
    n_vars: int | None = None  # model_vars, once counted

    def __post_init__(self) -> None:
        self.people = {k.id: k.people for k in self.batches}


def _point_arrays(d_points: list[SamplingPoint]) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.fromiter((p.location.lon for p in d_points), float, len(d_points)),
        np.fromiter((p.location.lat for p in d_points), float, len(d_points)),
    )


def _band_deg(problem: SamplingProblem) -> float:
    """Half-width in degrees of latitude of the band that holds every point in reach of a
    building: a great-circle walk never spans less than the latitude it crosses."""
    pol = problem.policy
    return (
        math.degrees((reach_limit_m(pol) + APPROX_MARGIN_M) / pol.detour_factor / EARTH_RADIUS_M)
        + 1e-9
    )


def _walking(problem: SamplingProblem) -> list[SamplingBuilding]:
    """The buildings whose residents walk to a point (zone rank < 2), in the problem's order."""
    walks: dict[object, bool] = {}  # a zone's rank, looked up once per zone
    out = []
    for b in problem.buildings:
        z = b.zone
        w = walks.get(z)
        if w is None:
            w = walks[z] = z.rank < 2
        if w:
            out.append(b)
    return out


def check_sizes(problem: SamplingProblem) -> None:
    """Refuse a problem whose solver data would exceed a size guard, before building any.

    Every figure is counted from the records (O(buildings · log points)), nothing of the
    size is allocated: records (:data:`MAX_BUILDINGS`, :data:`MAX_BATCHES`,
    :data:`MAX_POINTS`), points × slots (:data:`MAX_POINT_SLOTS`), (building, point) pairs
    whose distance must be measured (:data:`MAX_CANDIDATE_PAIRS`: a building's designated
    points, or every point within the walk limit in latitude) and, for buildings that may use
    any point, buildings × points scanned for the nearest one (:data:`MAX_SCAN_PAIRS`).

    Raises
    ------
    commgov.errors.SizeLimitError
        Naming the figure, the limit and what to change.
    """
    n_buildings = len(problem.buildings)
    n_batches = sum(len(b.batches) for b in problem.buildings)
    check_record_counts(n_buildings, len(problem.points), n_batches)
    n_slots = problem.n_slots
    check_size(
        "sampling problem: points × slots",
        len(problem.points) * n_slots,
        MAX_POINT_SLOTS,
        "use longer slots (policy.slot_minutes), a shorter window or fewer points",
    )
    walking = _walking(problem)
    free_buildings = [b for b in walking if b.allowed_point_ids is None]
    pairs = sum(len(set(b.allowed_point_ids)) for b in walking if b.allowed_point_ids is not None)
    if free_buildings and problem.points:
        plats = np.sort(
            np.fromiter((p.location.lat for p in problem.points), float, len(problem.points))
        )
        blats = np.fromiter((b.location.lat for b in free_buildings), float, len(free_buildings))
        band = _band_deg(problem)
        pairs += int(
            (
                np.searchsorted(plats, blats + band, "right")
                - np.searchsorted(plats, blats - band, "left")
            ).sum()
        )
        check_size(
            "sampling problem: buildings × points scanned for the nearest point",
            len(free_buildings) * len(problem.points),
            MAX_SCAN_PAIRS,
            "give buildings their allowed_point_ids, or split the area",
        )
    check_size(
        "sampling problem: building-point distances to measure",
        pairs,
        MAX_CANDIDATE_PAIRS,
        "give buildings their allowed_point_ids (nearest points "
        "only), shorten max_walk_minutes, or split the area",
    )


def prepare(problem: SamplingProblem) -> Data:
    """The index data of ``problem`` (already canonical: records sorted by id).

    Sizes are checked first (:func:`check_sizes`, and the pairs in reach against
    :data:`MAX_REACH_PAIRS` before their distances are stored). Distances are screened with
    :func:`approx_walks_m` (numpy, one pass over every candidate pair) and every distance
    kept — in reach, or the nearest allowed open point of a building with none in reach — is
    :func:`walk_distance_m`'s (computed for all pairs at once by :func:`walk_distances_m`,
    which equals it). O(candidate pairs), vectorised.
    """
    check_sizes(problem)
    pol = problem.policy
    limit = reach_limit_m(pol)
    detour = pol.detour_factor
    points = list(problem.points)
    cap = {p.id: problem.capacity(p) for p in points}
    open_ = {p.id: problem.open_slots(p) for p in points}
    pindex = {p.id: j for j, p in enumerate(points)}
    usable = np.asarray([bool(open_[p.id]) and cap[p.id] > 0 for p in points], dtype=bool)
    plon, plat = _point_arrays(points)
    by_lat = np.argsort(plat, kind="stable")
    lat_sorted = plat[by_lat]
    band = _band_deg(problem)
    usable_idx = np.flatnonzero(usable)
    # sealed 封控区 and high-risk 高风险区 buildings stay home: sampled door to door
    buildings = _walking(problem)
    nb = len(buildings)
    blon = np.fromiter((b.location.lon for b in buildings), float, nb)
    blat = np.fromiter((b.location.lat for b in buildings), float, nb)
    los = np.searchsorted(lat_sorted, blat - band, "left").tolist()
    his = np.searchsorted(lat_sorted, blat + band, "right").tolist()
    usable_l = usable.tolist()
    cands: list[np.ndarray] = []  # per building: usable candidate points, ascending
    for i, b in enumerate(buildings):
        if b.allowed_point_ids is None:
            cand = np.sort(by_lat[los[i] : his[i]])
            cands.append(cand[usable[cand]])
        else:
            ids = sorted({pindex[pid] for pid in b.allowed_point_ids})
            cands.append(np.asarray([j for j in ids if usable_l[j]], dtype=np.int64))
    sizes = np.fromiter((len(c) for c in cands), np.int64, nb)
    owner = np.repeat(np.arange(nb, dtype=np.int64), sizes)
    cand_all = np.concatenate(cands) if nb else np.zeros(0, dtype=np.int64)
    # buildings free to use any point: drop the candidates of the latitude band that are
    # farther in longitude than any walk in reach (a bound of the haversine formula:
    # sin(d/2R) ≥ cos φ1 · cos φ2 · sin(Δλ/2) with both latitudes inside the band), so only
    # points that may be in reach are screened; designated points are all kept
    free_b = np.fromiter((b.allowed_point_ids is None for b in buildings), bool, nb)
    if free_b.any():
        half = math.radians(band) / 2
        c = np.cos(np.minimum(np.radians(np.abs(blat) + band), math.pi / 2))
        ratio = np.where(c > 0, math.sin(half) / np.maximum(c, 1e-300), 2.0)
        lon_band = np.degrees(2 * np.arcsin(np.minimum(1.0, ratio))) * (1 + 1e-6) + 1e-9
        lon_band = np.where(free_b & (ratio < 1.0), lon_band, np.inf)
        dlon = np.abs(plon[cand_all] - blon[owner])
        dlon = np.minimum(dlon, 360.0 - dlon)
        near_lon = dlon <= lon_band[owner]
        if not near_lon.all():
            owner = owner[near_lon]
            cand_all = cand_all[near_lon]
            sizes = np.bincount(owner, minlength=nb).astype(np.int64)
    # one vectorised screen of every candidate pair (the formula of approx_walk_m)
    approx_all = approx_walks_m(blon[owner], blat[owner], plon[cand_all], plat[cand_all], detour)
    keep = approx_all <= limit + APPROX_MARGIN_M
    n_reach = int(keep.sum())
    check_size(
        "sampling problem: building-point pairs within the walk limit",
        n_reach,
        MAX_REACH_PAIRS,
        "shorten max_walk_minutes, give buildings fewer allowed_point_ids, or split the area",
    )
    k_owner = owner[keep]
    k_point = cand_all[keep]
    exact_all = walk_distances_m(blon[k_owner], blat[k_owner], plon[k_point], plat[k_point], detour)
    reach: dict[str, list[str]] = {b.id: [] for b in buildings}
    dist: dict[tuple[str, str], int] = {}
    nearest: dict[str, int | None] = {}
    pids = [p.id for p in points]
    bids = [b.id for b in buildings]
    for i, j, dd in zip(k_owner.tolist(), k_point.tolist(), exact_all, strict=True):
        if dd <= limit:
            bid = bids[i]
            pid = pids[j]
            dist[bid, pid] = dd
            reach[bid].append(pid)
            near = nearest.get(bid)
            if near is None or dd < near:
                nearest[bid] = dd
    offsets = np.concatenate(([0], np.cumsum(sizes))).tolist()
    for i, b in enumerate(buildings):
        if reach[b.id]:
            continue
        cand = cands[i]
        approx = approx_all[offsets[i] : offsets[i + 1]]
        if b.allowed_point_ids is None:  # the nearest usable point anywhere
            cand = usable_idx
            approx = approx_walk_m(b.location.lon, b.location.lat, plon[cand], plat[cand], detour)
        if not len(cand):
            nearest[b.id] = None
            continue
        close = cand[approx <= float(approx.min()) + 2 * APPROX_MARGIN_M]
        nearest[b.id] = min(walk_distance_m(b, points[j], pol) for j in close.tolist())
    nearest = {b.id: nearest[b.id] for b in buildings}
    batches = sorted((k for b in buildings for k in b.batches), key=lambda k: k.id)
    return Data(
        problem, problem.n_slots, points, cap, open_, buildings, reach, dist, batches, nearest
    )


def unserved_reason(d: Data, k: SamplingBatch) -> Reason:
    """``NO_POINT_IN_REACH`` when the batch's building has no point in reach, else
    ``POINT_CAPACITY_USED``."""
    b = k.building_id
    if not d.reach[b]:
        params: dict[str, str | int | float] = {"limit_m": reach_limit_m(d.problem.policy)}
        near = d.nearest_allowed_open[b]
        if near is not None:
            params["distance_m"] = near
        return Reason(code=SamplingReasonCode.NO_POINT_IN_REACH, params=params)
    return Reason(code=SamplingReasonCode.POINT_CAPACITY_USED, params={"people": k.people})


def capacity_row(d: Data, pid: str) -> list[int]:
    """Capacity of point ``pid`` in each slot 0 … T-1 (people; 0 when the point is closed)."""
    opened = set(d.open[pid])
    return [d.cap[pid] if t in opened else 0 for t in range(d.T)]


def loads(d: Data, placed: dict[str, tuple[str, int]]) -> dict[str, list[list[int]]]:
    """Per point: rows [t, arrivals, capacity, served, backlog] over all slots."""
    people = d.people
    arr: dict[tuple[str, int], int] = defaultdict(int)
    for kid, (pid, t) in placed.items():
        arr[pid, t] += people[kid]
    out: dict[str, list[list[int]]] = {}
    for p in d.points:
        q = 0
        rows = []
        for t, c in enumerate(capacity_row(d, p.id)):
            a = arr[p.id, t]
            served = min(q + a, c)
            q = q + a - served
            rows.append([t, a, c, served, q])
        out[p.id] = rows
    return out


def slot_free(d: Data) -> bool:
    """Whether every batch is at most ``max_queue`` people (the slots then drop out of the
    point choice: see :mod:`commgov.scheduling.sampling._solve_cpsat`)."""
    return all(k.people <= d.problem.policy.max_queue for k in d.batches)


def model_vars(d: Data) -> int:
    """Boolean variables of the tier model: y[b,p], x[k,p(,t)] and s[k] (counted, not built).

    O(buildings · points in reach), computed once per :class:`Data`.
    """
    if d.n_vars is None:
        free = slot_free(d)
        per_point = {p.id: 1 if free else len(d.open[p.id]) for p in d.points}
        n_y = n_x = 0
        for b in d.buildings:
            r = d.reach[b.id]
            n_y += len(r)
            n_x += len(b.batches) * sum(per_point[pid] for pid in r)
        d.n_vars = n_y + n_x + len(d.batches)
    return d.n_vars


def reserve_s(d: Data, tiers: bool = True) -> float:
    """Seconds kept from CP-SAT for the post-solver phases and the unchecked steps.

    ``tiers``: for the batch-level tiers, whose solutions are read per variable (the
    building-level search reads one point per building, counted in the per-batch share).
    """
    return (
        RESERVE_BASE_S
        + RESERVE_PER_BATCH_S * len(d.batches)
        + (RESERVE_PER_VAR_S * model_vars(d) if tiers else 0.0)
    )
