"""Sampling plans: the fixture and the mutation table (testing only).

:func:`sampling_fixture` is a small hand-made problem whose optimal plan offers every
operator something to break; :data:`SAMPLING_MUTATIONS` maps a name to a
:class:`~commgov.testing.Mutation` whose operator takes a valid plan and returns a broken copy
(or ``None`` when the plan offers nothing to break), keeping every other reported figure
consistent (:func:`_rebuild` recomputes loads, totals and objective from the public rules), so
that :func:`~commgov.scheduling.sampling.is_valid_sampling_plan` reports exactly the one code.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from commgov.org import ZoneRegime
from commgov.results import Reason, SolveStatus
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
    walk_distance_m,
)
from commgov.scheduling.sampling._verify import recompute_loads
from commgov.testing._mutation import (
    Mutation,
    MutationTable,
    bumped,
    emptied,
    first_twice,
    with_first,
)
from commgov.types import GeoPoint, TimeWindow

__all__ = ["SAMPLING_MUTATIONS", "sampling_fixtures"]

_V = SamplingViolationCode
_TABLE = MutationTable("sampling")

_TZ = "Asia/Shanghai"
_LON0, _LAT0 = 120.62, 31.31


def _at(dx_m: float) -> GeoPoint:
    return GeoPoint(lon=_LON0 + dx_m / (111_195.0 * math.cos(math.radians(_LAT0))), lat=_LAT0)


def _building(bid: str, x: float, people: list[int], *,
              zone: ZoneRegime = ZoneRegime.PRECAUTIONARY, allowed: list[str] | None = None,
              mobility_limited: int = 0) -> SamplingBuilding:
    return SamplingBuilding(
        id=bid, location=_at(x), zone=zone, mobility_limited=mobility_limited,
        allowed_point_ids=allowed,
        batches=[SamplingBatch(id=f"{bid}-{j}", building_id=bid, households=max(1, p // 3),
                               people=p) for j, p in enumerate(people)])


def sampling_fixtures() -> dict[str, SamplingProblem]:
    """``{"default": problem}``: five buildings (one sealed, one controlled with a designated
    point, one out of reach, several with mobility-limited residents), two points, four
    30-minute slots and a queue cap of 20, so the optimal plan serves, queues, leaves a batch
    unserved and lists door-to-door rounds and home visits."""
    start = datetime(2022, 4, 10, 6, 30, tzinfo=ZoneInfo(_TZ))
    problem = SamplingProblem(
        timezone=_TZ,
        window=TimeWindow(start=start, end=start + timedelta(minutes=30 * 4)),
        buildings=[
            _building("B1", 100, [40, 40, 30]),
            _building("B2", 150, [50, 20], mobility_limited=2),
            _building("B3", 5_000, [10]),
            _building("B4", 120, [10, 12], zone=ZoneRegime.SEALED, mobility_limited=1),
            _building("B5", 300, [30], zone=ZoneRegime.CONTROLLED, allowed=["P1"]),
        ],
        points=[SamplingPoint(id="P1", location=_at(0), lanes=1),
                SamplingPoint(id="P2", location=_at(400), lanes=2)],
        policy=SamplingPolicy(max_queue=20),
    )
    return {"default": problem}


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
        "served": float(served), "walk_person_m": float(walk), "person_slots": float(pslots)},
        "bound": None, "gap": None})  # the unchanged plan's claims
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


@_TABLE.add(_V.OVER_CAPACITY)
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


@_TABLE.add(_V.BUILDING_SPLIT)
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


@_TABLE.add(_V.SEALED_AT_POINT)
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


@_TABLE.add(_V.SLOT_OUT_OF_WINDOW)
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


@_TABLE.add(_V.DROPPED_BATCH)
def mutate_dropped_batch(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Remove one assignment without listing the batch as unserved."""
    if not plan.assignments:
        return None
    return _rebuild(problem, plan, plan.assignments[1:])


@_TABLE.add(_V.COST_MISMATCH)
def mutate_walk_cost(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Report a shorter walk on one assignment (totals follow the tampered figure)."""
    for i, a in enumerate(plan.assignments):
        if a.walk_m > 0:
            moved = list(plan.assignments)
            moved[i] = a.model_copy(update={"walk_m": a.walk_m - 1})
            return _rebuild(problem, plan, moved)
    return None


@_TABLE.add(_V.COST_MISMATCH)
def mutate_totals(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Under-report the walking person-metres in the totals."""
    totals = plan.totals.model_copy(update={"walk_person_m": plan.totals.walk_person_m - 1})
    return plan.model_copy(update={"totals": totals})


@_TABLE.add(_V.ZONE_POINT_NOT_ALLOWED, name="zone_point")
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


@_TABLE.add(_V.REASON_FALSE)
def mutate_false_reason(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Drop an assignment and list it as unserved because 'no point is in reach'."""
    if not plan.assignments:
        return None
    a = plan.assignments[0]
    u = {"batch_id": a.batch_id, "building_id": a.building_id, "people": a.people,
         "reasons": [Reason(code=SamplingReasonCode.NO_POINT_IN_REACH,
                            params={"limit_m": reach_limit_m(problem.policy)})]}
    unserved = sorted([*plan.unserved, UnservedBatch(**u)], key=lambda x: x.batch_id)
    return _rebuild(problem, plan, plan.assignments[1:], unserved=unserved)


@_TABLE.add(_V.UNKNOWN_ID)
def mutate_unknown_batch(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """List a batch id the problem lacks as unserved (sorted last)."""
    ghost = UnservedBatch(batch_id="~ghost", building_id="~ghost", people=1,
                          reasons=[Reason(code=SamplingReasonCode.NO_POINT_IN_REACH,
                                          params={"limit_m": reach_limit_m(problem.policy)})])
    return plan.model_copy(update={"unserved": [*plan.unserved, ghost]})


@_TABLE.add(_V.RECORD_MISMATCH)
def mutate_unserved_people(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Report one more person in an unserved batch than the batch has."""
    return with_first(plan, "unserved", lambda u: bumped(u, "people"))


@_TABLE.add(_V.DUPLICATE_BATCH)
def mutate_unserved_twice(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """List an unserved batch twice."""
    return first_twice(plan, "unserved")


@_TABLE.add(_V.NOT_IN_REACH)
def mutate_not_in_reach(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Serve an unserved batch out of reach at a point it may use, in the first slot where
    the queue stays within the cap (walk honest, figures recomputed)."""
    buildings = {b.id: b for b in problem.buildings}
    limit = reach_limit_m(problem.policy)
    for u in plan.unserved:
        b = buildings[u.building_id]
        for p in problem.points:
            dist = walk_distance_m(b, p, problem.policy)
            if dist <= limit or (b.allowed_point_ids is not None
                                 and p.id not in b.allowed_point_ids):
                continue
            for t in problem.open_slots(p):
                extra = BatchAssignment(
                    batch_id=u.batch_id, building_id=b.id, point_id=p.id, slot=t,
                    slot_start=problem.slot_start(t), people=u.people, walk_m=dist)
                loads = recompute_loads(problem, [*plan.assignments, extra])
                if all(v[3] <= problem.policy.max_queue for v in loads.values()) and all(
                        v[3] == 0 for (_pid, s), v in loads.items()
                        if s == problem.n_slots - 1):
                    rest = [x for x in plan.unserved if x.batch_id != u.batch_id]
                    return _rebuild(problem, plan, [*plan.assignments, extra], unserved=rest)
    return None


@_TABLE.add(_V.LOAD_MISMATCH)
def mutate_load(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Report one more person served in one point-slot load than the queue model gives."""
    return with_first(plan, "loads", lambda ld: bumped(ld, "served"))


@_TABLE.add(_V.DOOR_TO_DOOR_MISMATCH)
def mutate_door_to_door(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Leave the sealed buildings out of the door-to-door list."""
    return emptied(plan, "door_to_door")


def _claimed(plan: SamplingPlan, **update: Any) -> SamplingPlan:
    return plan.model_copy(update={"info": plan.info.model_copy(update=update)})


@_TABLE.add(_V.BOUND_PAST_OBJECTIVE)
def mutate_bound_above_walk(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """``info.bound`` 1,000 person-metres above the plan's walking (gap left as it was)."""
    return _claimed(plan, bound=plan.info.objective["walk_person_m"] + 1000)


@_TABLE.add(_V.GAP_WRONG)
def mutate_gap_negative(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """``info.gap`` of -5 (a gap of 0.1 when the plan has no bound)."""
    return _claimed(plan, gap=0.1 if plan.info.bound is None else -5.0)


@_TABLE.add(_V.OPTIMAL_UNPROVEN)
def mutate_optimal_below_bound(problem: SamplingProblem, plan: SamplingPlan) -> SamplingPlan | None:
    """Status ``OPTIMAL`` with a bound 10 % below the plan's walking (the gap to match)."""
    walk = plan.info.objective["walk_person_m"]
    if walk < 10:
        return None
    bound = walk * 0.9
    return _claimed(
        plan, status=SolveStatus.OPTIMAL, stopped_by=None, bound=bound, gap=(walk - bound) / bound
    )


#: name → :class:`~commgov.testing.Mutation` of sampling plans: every
#: :class:`~commgov.scheduling.sampling.SamplingViolationCode` has at least one.
SAMPLING_MUTATIONS: dict[str, Mutation] = _TABLE.mutations
