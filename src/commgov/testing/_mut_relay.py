"""Relay deliveries: the fixture and the mutation table (testing only).

Operators that change trips re-time them and recompute deliveries, volunteer hours, totals and
objective from the public rules (:func:`_rebuild`), so that
:func:`~commgov.matching.relay.is_valid_relay_plan` reports exactly the one broken rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from commgov.matching.relay import (
    GateVolunteer,
    Parcel,
    RelayBuilding,
    RelayDelivery,
    RelayPlan,
    RelayProblem,
    RelayReasonCode,
    RelayTrip,
    RelayViolationCode,
    VolunteerHours,
    door_offset_seconds,
    lateness_seconds,
    on_duty,
    target_door_time,
    trip_seconds,
    walk_metres,
)
from commgov.matching.relay._construct import _relay_totals
from commgov.results import CommonReasonCode, Reason, SolveStatus
from commgov.testing._mutation import (
    Mutation,
    MutationTable,
    bumped,
    drop_first,
    first_twice,
    with_first,
)
from commgov.types import TimeWindow

__all__ = ["RELAY_MUTATIONS", "relay_fixtures"]

_V = RelayViolationCode
_TABLE = MutationTable("relay")


def relay_fixtures() -> dict[str, RelayProblem]:
    """``{"default": problem}``: two gate volunteers on duty 08:00–11:00 carrying two parcels
    a trip, two buildings, five parcels arriving early and one a minute before the shifts end
    (``RELAY_NO_SHIFT``)."""
    t0 = datetime(2022, 4, 12, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

    def at(minutes: float) -> datetime:
        return t0 + timedelta(minutes=minutes)

    duty = [TimeWindow(start=at(0), end=at(180))]

    def parcel(pid: str, b: str, arr: float) -> Parcel:
        return Parcel(id=pid, household_id=f"h-{pid}", building_id=b, arrival=at(arr))

    problem = RelayProblem(
        timezone="Asia/Shanghai",
        parcels=[parcel("p1", "b1", 0), parcel("p2", "b1", 0), parcel("p3", "b1", 0),
                 parcel("p4", "b2", 0), parcel("p5", "b2", 30), parcel("p6", "b1", 179)],
        buildings=[RelayBuilding(id="b1", walk_m=160), RelayBuilding(id="b2", walk_m=400)],
        volunteers=[GateVolunteer(id="v1", availability=duty),
                    GateVolunteer(id="v2", availability=duty)],
        max_parcels_per_trip=2,
    )
    return {"default": problem}


def _rebuild(problem: RelayProblem, plan: RelayPlan, trips: list[RelayTrip]) -> RelayPlan:
    """``plan`` with ``trips`` re-timed from their departures, and deliveries, hours, totals
    and objective recomputed (undelivered parcels kept)."""
    parcels = {p.id: p for p in problem.parcels}
    new_trips, deliveries = [], []
    busy: dict[str, list[int]] = {v.id: [0, 0, 0] for v in problem.volunteers}
    for t in trips:
        bld = problem.building(t.building_id)
        n = len(t.parcel_ids)
        dur = trip_seconds(problem, bld, n)
        door = t.depart + timedelta(seconds=door_offset_seconds(problem, bld, n))
        new_trips.append(t.model_copy(update={
            "door": door, "back": t.depart + timedelta(seconds=dur), "duration_s": dur,
            "walk_m": walk_metres(problem, bld)}))
        row = busy[t.volunteer_id]
        row[0], row[1], row[2] = row[0] + 1, row[1] + n, row[2] + dur
        for pid in t.parcel_ids:
            p = parcels[pid]
            deliveries.append(RelayDelivery(
                parcel_id=pid, volunteer_id=t.volunteer_id, building_id=p.building_id,
                door=door, late_s=lateness_seconds(door, target_door_time(problem, p)),
                priority=p.priority))
    deliveries.sort(key=lambda d: d.parcel_id)
    hours = [VolunteerHours(volunteer_id=v, trips=r[0], parcels=r[1], busy_s=r[2],
                            hours=r[2] / 3600) for v, r in busy.items()]
    totals = _relay_totals(problem, new_trips, deliveries)
    info = plan.info.model_copy(update={"objective": {
        "priority_delivered": float(totals.priority_delivered),
        "weighted_late_s": float(totals.weighted_late_s),
        "volunteer_s": float(totals.volunteer_s)}, "bound": None, "gap": None})
    return plan.model_copy(update={"trips": new_trips, "deliveries": deliveries,
                                   "volunteers": hours, "totals": totals, "info": info})


def _trip_changed(problem: RelayProblem, plan: RelayPlan, i: int, **update: Any) -> RelayPlan:
    """``plan`` with ``update`` applied to trip ``i``, rebuilt (:func:`_rebuild`)."""
    trips = list(plan.trips)
    trips[i] = trips[i].model_copy(update=update)
    return _rebuild(problem, plan, trips)


def _last_of_volunteer(plan: RelayPlan, i: int) -> bool:
    t = plan.trips[i]
    return all(u.depart <= t.depart for u in plan.trips if u.volunteer_id == t.volunteer_id)


@_TABLE.add(_V.DROPPED_PARCEL)
def mutate_undelivered_dropped(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """Leave an undelivered parcel out of the plan."""
    return drop_first(plan, "undelivered")


@_TABLE.add(_V.DUPLICATE_PARCEL)
def mutate_undelivered_twice(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """List an undelivered parcel twice."""
    return first_twice(plan, "undelivered")


@_TABLE.add(_V.UNKNOWN_ID)
def mutate_unknown_parcel(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """List a parcel id the problem lacks as undelivered."""
    if not plan.undelivered:
        return None
    ghost = plan.undelivered[0].model_copy(update={"parcel_id": "~ghost"})
    return plan.model_copy(update={"undelivered": [*plan.undelivered, ghost]})


@_TABLE.add(_V.MIXED_BUILDINGS)
def mutate_mixed_buildings(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """Swap one parcel each between two trips to different buildings (each parcel arrived
    before its new trip departs; counts, hence trip times, unchanged)."""
    arrival = {p.id: p.arrival for p in problem.parcels}
    for i, t in enumerate(plan.trips):
        for j in range(i + 1, len(plan.trips)):
            s = plan.trips[j]
            if s.building_id == t.building_id:
                continue
            for x in t.parcel_ids:
                for y in s.parcel_ids:
                    if arrival[y] <= t.depart and arrival[x] <= s.depart:
                        trips = list(plan.trips)
                        trips[i] = t.model_copy(update={"parcel_ids": sorted(
                            [*(q for q in t.parcel_ids if q != x), y])})
                        trips[j] = s.model_copy(update={"parcel_ids": sorted(
                            [*(q for q in s.parcel_ids if q != y), x])})
                        return _rebuild(problem, plan, trips)
    return None


@_TABLE.add(_V.OVER_CAPACITY)
def mutate_over_capacity(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """Move the parcels of a trip into a volunteer's last, full trip to the same building
    leaving later (trips re-timed)."""
    vols = {v.id: v for v in problem.volunteers}
    for i, t in enumerate(plan.trips):
        if not _last_of_volunteer(plan, i) or len(t.parcel_ids) < problem.capacity(
                vols[t.volunteer_id]):
            continue
        for j, s in enumerate(plan.trips):
            if j != i and s.building_id == t.building_id and s.depart <= t.depart:
                trips = list(plan.trips)
                trips[i] = t.model_copy(update={"parcel_ids": sorted([*t.parcel_ids,
                                                                      *s.parcel_ids])})
                return _rebuild(problem, plan, [x for k, x in enumerate(trips) if k != j])
    return None


@_TABLE.add(_V.BEFORE_ARRIVAL)
def mutate_before_arrival(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """Depart a volunteer's last trip a minute before its latest parcel arrives (still on
    duty, clear of the volunteer's other trips)."""
    parcels = {p.id: p for p in problem.parcels}
    for i, t in enumerate(plan.trips):
        depart = max(parcels[p].arrival for p in t.parcel_ids) - timedelta(minutes=1)
        others = [u for u in plan.trips if u.volunteer_id == t.volunteer_id and u is not t]
        vol = next(v for v in problem.volunteers if v.id == t.volunteer_id)
        if _last_of_volunteer(plan, i) and all(u.back <= depart for u in others) and any(
                w.start <= depart for w in on_duty(vol)):
            return _trip_changed(problem, plan, i, depart=depart)
    return None


@_TABLE.add(_V.OFF_DUTY)
def mutate_off_duty(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """Delay a volunteer's last trip so that it returns a minute after the duty ends."""
    for i, t in enumerate(plan.trips):
        vol = next(v for v in problem.volunteers if v.id == t.volunteer_id)
        window = next((w for w in on_duty(vol) if w.start <= t.depart < w.end), None)
        if window is None or not _last_of_volunteer(plan, i):
            continue
        depart = window.end - timedelta(seconds=t.duration_s) + timedelta(minutes=1)
        if depart > t.depart:
            return _trip_changed(problem, plan, i, depart=depart)
    return None


@_TABLE.add(_V.OVERLAP)
def mutate_overlap(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """Give a trip to another volunteer busy at the same time (same duty and capacity)."""
    for i, t in enumerate(plan.trips):
        for u in plan.trips:
            if u.volunteer_id != t.volunteer_id and u.depart < t.back and t.depart < u.back:
                return _trip_changed(problem, plan, i, volunteer_id=u.volunteer_id)
    return None


@_TABLE.add(_V.TIME_MISMATCH)
def mutate_walk(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """Report one trip's walk a metre longer."""
    return with_first(plan, "trips", lambda t: bumped(t, "walk_m"))


@_TABLE.add(_V.COST_MISMATCH)
def mutate_totals(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """Report a second more of total lateness."""
    return plan.model_copy(update={"totals": bumped(plan.totals, "late_s")})


@_TABLE.add(_V.RECORD_MISMATCH)
def mutate_undelivered_priority(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """Report an undelivered parcel's priority one higher."""
    return with_first(plan, "undelivered", lambda u: bumped(u, "priority"))


@_TABLE.add(_V.REASON_FALSE)
def mutate_reason(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """Blame a parcel no volunteer can take on busy volunteers."""
    for i, u in enumerate(plan.undelivered):
        if u.reasons and u.reasons[0].code is RelayReasonCode.RELAY_NO_SHIFT:
            fake = Reason(code=RelayReasonCode.RELAY_VOLUNTEERS_BUSY, params={"eligible": 1})
            undelivered = list(plan.undelivered)
            undelivered[i] = u.model_copy(update={"reasons": [fake]})
            return plan.model_copy(update={"undelivered": undelivered})
    return None


@_TABLE.add(_V.REASON_FALSE)
def mutate_time_limit_reason_without_limit(
    problem: RelayProblem, plan: RelayPlan
) -> RelayPlan | None:
    """Say an undelivered parcel was left untried by the time limit in a plan not ``LIMIT``."""
    if not plan.undelivered or plan.info.status is SolveStatus.LIMIT:
        return None
    limit = plan.info.options.get("time_limit_s")
    fake = Reason(code=CommonReasonCode.TIME_LIMIT_REACHED, params={"time_limit_s": limit})
    undelivered = [
        plan.undelivered[0].model_copy(update={"reasons": [fake]}),
        *plan.undelivered[1:],
    ]
    return plan.model_copy(update={"undelivered": undelivered})


@_TABLE.add(_V.STATUS_FALSE)
def mutate_limit_without_untried_parcel(
    problem: RelayProblem, plan: RelayPlan
) -> RelayPlan | None:
    """Claim status ``LIMIT`` although no parcel was left untried."""
    if plan.info.status is SolveStatus.LIMIT:
        return None
    info = plan.info.model_copy(update={"status": SolveStatus.LIMIT})
    return plan.model_copy(update={"info": info})


def _claimed(plan: RelayPlan, **update: Any) -> RelayPlan:
    return plan.model_copy(update={"info": plan.info.model_copy(update=update)})


@_TABLE.add(RelayViolationCode.BOUND_PAST_OBJECTIVE)
def mutate_bound_above_volunteer_s(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """``info.bound`` an hour above the plan's volunteer-seconds (gap left as it was)."""
    return _claimed(plan, bound=plan.info.objective["volunteer_s"] + 3600)


@_TABLE.add(RelayViolationCode.GAP_WRONG)
def mutate_gap_negative(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """``info.gap`` of -5 (a gap of 0.1 when the plan has no bound)."""
    return _claimed(plan, gap=0.1 if plan.info.bound is None else -5.0)


@_TABLE.add(RelayViolationCode.OPTIMAL_UNPROVEN)
def mutate_optimal_below_bound(problem: RelayProblem, plan: RelayPlan) -> RelayPlan | None:
    """Status ``OPTIMAL`` with a bound 10 % below the plan's volunteer-seconds."""
    busy = plan.info.objective["volunteer_s"]
    if busy < 10:
        return None
    bound = busy * 0.9
    return _claimed(
        plan, status=SolveStatus.OPTIMAL, stopped_by=None, bound=bound, gap=(busy - bound) / bound
    )


#: name → :class:`~commgov.testing.Mutation` of relay plans.
RELAY_MUTATIONS: dict[str, Mutation] = _TABLE.mutations
