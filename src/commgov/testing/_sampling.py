"""Test helpers for sampling plans: Hypothesis strategies, a seeded generator, mutations.

* :func:`sampling_problems`: Hypothesis strategy of small, valid :class:`SamplingProblem`.
* :func:`community_problem`: a seeded, community-like instance built from numpy streams of
  :mod:`commgov._random`.
* :data:`SAMPLING_MUTATIONS`: name → (operator, expected violation code). Each operator
  takes a valid plan and returns a broken copy (or ``None`` when the plan offers nothing to
  break), keeping every other reported figure consistent, so that a verifier must find the
  one broken rule.

Hypothesis is imported only here (the ``testing`` extra).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import strategies as st

from commgov._random import rng
from commgov.org import ZoneRegime
from commgov.scheduling.sampling import (
    BatchAssignment,
    PointSlotLoad,
    SamplingBatch,
    SamplingBuilding,
    SamplingPlan,
    SamplingPoint,
    SamplingPolicy,
    SamplingProblem,
    SamplingReasonCode,
    SamplingViolationCode,
    UnservedBatch,
    reach_limit_m,
    slot_capacity,
    walk_distance_m,
)
from commgov.scheduling.sampling._verify import recompute_loads
from commgov.types import GeoPoint, TimeWindow

__all__ = [
    "SAMPLING_MUTATIONS",
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


# ---- mutation operators ---------------------------------------------------------------------


def _rebuild(problem: SamplingProblem, plan: SamplingPlan,
             assignments: list[BatchAssignment], **changes: Any) -> SamplingPlan:
    """A copy of ``plan`` with new assignments and honestly recomputed figures."""
    assignments = sorted(assignments, key=lambda a: a.batch_id)
    loads = recompute_loads(problem, assignments)
    n_slots = problem.n_slots
    opened = {p.id: set(problem.open_slots(p)) for p in problem.points}
    people = {k.id: k.people for b in problem.buildings for k in b.batches}
    served = sum(people.get(a.batch_id, a.people) for a in assignments)
    walk = sum(a.people * a.walk_m for a in assignments)
    pslots = sum(a.people * a.slot for a in assignments)
    totals = plan.totals.model_copy(update={
        "served_people": served,
        "unserved_people": plan.totals.walk_in_people - served,
        "walk_person_m": walk,
        "person_slots": pslots,
        "max_backlog": max((v[3] for v in loads.values()), default=0),
        "last_slot": max((a.slot for a in assignments if a.people > 0), default=-1),
    })
    info = plan.info.model_copy(update={"objective": {
        "served": float(served), "walk_person_m": float(walk), "person_slots": float(pslots)}})
    bp: dict[str, str] = {}
    for a in assignments:
        bp.setdefault(a.building_id, a.point_id)
    update: dict[str, Any] = {
        "assignments": assignments,
        "building_points": dict(sorted(bp.items())),
        "loads": [PointSlotLoad(point_id=pid, slot=t, arrivals=v[0], capacity=v[1],
                                served=v[2], backlog=v[3])
                  for (pid, t), v in sorted(loads.items())
                  if t in opened.get(pid, set()) and t < n_slots],
        "totals": totals,
        "info": info,
    }
    update.update(changes)
    return plan.model_copy(update=update)


def mutate_over_capacity(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Move every batch of the busiest point into that point's last open slot."""
    by_point: dict[str, int] = {}
    for a in plan.assignments:
        by_point[a.point_id] = by_point.get(a.point_id, 0) + a.people
    points = {p.id: p for p in problem.points}
    for pid, total in sorted(by_point.items(), key=lambda kv: (-kv[1], kv[0])):
        p = points[pid]
        last = problem.open_slots(p)[-1]
        cap = problem.capacity(p)
        if total > cap:  # the whole load arriving in one final slot cannot all be served
            moved = [a.model_copy(update={"slot": last, "slot_start": problem.slot_start(last)})
                     if a.point_id == pid else a for a in plan.assignments]
            return _rebuild(problem, plan, moved)
    return None


def mutate_building_split(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Send one batch of a building with several assigned batches to another point."""
    count: dict[str, int] = {}
    for a in plan.assignments:
        count[a.building_id] = count.get(a.building_id, 0) + 1
    buildings = {b.id: b for b in problem.buildings}
    for bid in sorted(b for b, n in count.items() if n >= 2):
        mine = [a for a in plan.assignments if a.building_id == bid]
        victim = mine[-1]
        for p in problem.points:
            if p.id == victim.point_id:
                continue
            slots = problem.open_slots(p)
            if not slots:
                continue
            t = slots[0]
            moved = [a.model_copy(update={
                "point_id": p.id, "slot": t, "slot_start": problem.slot_start(t),
                "walk_m": walk_distance_m(buildings[bid], p, problem.policy)})
                if a.batch_id == victim.batch_id else a for a in plan.assignments]
            return _rebuild(problem, plan, moved)
    return None


def mutate_sealed_at_point(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Send the first batch of a sealed building to the first open point."""
    for b in problem.buildings:
        if b.zone != ZoneRegime.SEALED or not b.batches:
            continue
        for p in problem.points:
            slots = problem.open_slots(p)
            if slots:
                k = b.batches[0]
                extra = BatchAssignment(
                    batch_id=k.id, building_id=b.id, point_id=p.id, slot=slots[0],
                    slot_start=problem.slot_start(slots[0]), people=k.people,
                    walk_m=walk_distance_m(b, p, problem.policy))
                return _rebuild(problem, plan, [*plan.assignments, extra])
    return None


def mutate_slot_out_of_window(problem: SamplingProblem,
                              plan: SamplingPlan) -> SamplingPlan | None:
    """Move one assignment to the slot just after the window."""
    if not plan.assignments:
        return None
    n = problem.n_slots
    victim = plan.assignments[0]
    start = problem.window.end.astimezone(ZoneInfo(problem.timezone))
    moved = [a.model_copy(update={"slot": n, "slot_start": start})
             if a is victim else a for a in plan.assignments]
    return _rebuild(problem, plan, moved)


def mutate_dropped_batch(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Remove one assignment without listing the batch as unserved."""
    if not plan.assignments:
        return None
    return _rebuild(problem, plan, plan.assignments[1:])


def mutate_walk_cost(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Report a shorter walk on one assignment (totals follow the tampered figure)."""
    for i, a in enumerate(plan.assignments):
        if a.walk_m > 0:
            moved = list(plan.assignments)
            moved[i] = a.model_copy(update={"walk_m": a.walk_m - 1})
            return _rebuild(problem, plan, moved)
    return None


def mutate_totals(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Under-report the walking person-metres in the totals."""
    totals = plan.totals.model_copy(update={"walk_person_m": plan.totals.walk_person_m - 1})
    return plan.model_copy(update={"totals": totals})


def mutate_zone(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Move all batches of a restricted controlled building to a non-designated point."""
    for a in plan.assignments:
        b = next(x for x in problem.buildings if x.id == a.building_id)
        if b.allowed_point_ids is None:
            continue
        for p in problem.points:
            if p.id not in b.allowed_point_ids and a.slot in problem.open_slots(p):
                moved = [x.model_copy(update={
                    "point_id": p.id, "walk_m": walk_distance_m(b, p, problem.policy)})
                    if x.building_id == b.id else x for x in plan.assignments]
                return _rebuild(problem, plan, moved)
    return None


def mutate_false_reason(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Drop an assignment and list it as unserved because 'no point is in reach'."""
    from commgov.results import Reason

    if not plan.assignments:
        return None
    a = plan.assignments[0]
    u = {"batch_id": a.batch_id, "building_id": a.building_id, "people": a.people,
         "reasons": [Reason(code=SamplingReasonCode.NO_POINT_IN_REACH,
                            params={"limit_m": reach_limit_m(problem.policy)})]}
    unserved = sorted([*plan.unserved, UnservedBatch(**u)], key=lambda x: x.batch_id)
    return _rebuild(problem, plan, plan.assignments[1:], unserved=unserved)


Mutation = Callable[[SamplingProblem, SamplingPlan], SamplingPlan | None]

_V = SamplingViolationCode

#: name → (operator, violation code the verifier must report for the mutated plan).
SAMPLING_MUTATIONS: dict[str, tuple[Mutation, SamplingViolationCode]] = {
    "over_capacity": (mutate_over_capacity, _V.OVER_CAPACITY),
    "building_split": (mutate_building_split, _V.BUILDING_SPLIT),
    "sealed_at_point": (mutate_sealed_at_point, _V.SEALED_AT_POINT),
    "slot_out_of_window": (mutate_slot_out_of_window, _V.SLOT_OUT_OF_WINDOW),
    "dropped_batch": (mutate_dropped_batch, _V.DROPPED_BATCH),
    "walk_cost": (mutate_walk_cost, _V.COST_MISMATCH),
    "totals": (mutate_totals, _V.COST_MISMATCH),
    "zone_point": (mutate_zone, _V.ZONE_POINT_NOT_ALLOWED),
    "false_reason": (mutate_false_reason, _V.REASON_FALSE),
}
