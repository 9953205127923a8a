"""Independent verifier of relay-delivery plans (private; imports no solver and no OR-Tools).

:func:`is_valid_relay_plan` checks a :class:`~commgov.matching.relay.RelayPlan` against its
:class:`~commgov.matching.relay.RelayProblem` from the records alone. It shares with the
planner only the public definitions of walk, door and trip times, target door time, lateness
and on-duty windows (:mod:`commgov.matching.relay._rules`). Property tests use it as the
oracle.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from commgov.errors import expect_type
from commgov.matching.relay._problem import (
    GateVolunteer,
    Parcel,
    RelayPlan,
    RelayProblem,
    RelayTrip,
)
from commgov.matching.relay._rules import (
    RelayReasonCode,
    door_offset_seconds,
    door_seconds,
    lateness_seconds,
    on_duty,
    target_door_time,
    trip_seconds,
    walk_metres,
)
from commgov.results import CommonReasonCode, Reason, SolveStatus
from commgov.verification import VerificationReport, add_claim_faults, stop_reason_fault

__all__ = ["RelayObjective", "RelayViolationCode", "is_valid_relay_plan"]


class RelayViolationCode(StrEnum):
    """Kinds of fault :func:`is_valid_relay_plan` reports."""

    DROPPED_PARCEL = "DROPPED_PARCEL"
    """A parcel is neither delivered nor listed as undelivered."""
    DUPLICATE_PARCEL = "DUPLICATE_PARCEL"
    """A parcel appears more than once (trips, deliveries, undelivered)."""
    UNKNOWN_ID = "UNKNOWN_ID"
    """A parcel, building or volunteer id that is not in the problem."""
    MIXED_BUILDINGS = "MIXED_BUILDINGS"
    """A trip carries a parcel of another building, or carries nothing."""
    OVER_CAPACITY = "OVER_CAPACITY"
    """A trip carries more parcels than the volunteer's trip capacity."""
    BEFORE_ARRIVAL = "BEFORE_ARRIVAL"
    """A trip departs before one of its parcels reached the gate (leg 2 before leg 1)."""
    OFF_DUTY = "OFF_DUTY"
    """A trip is not inside one of the volunteer's on-duty windows."""
    OVERLAP = "OVERLAP"
    """Two trips of one volunteer overlap."""
    TIME_MISMATCH = "TIME_MISMATCH"
    """A trip's door, back, duration or walk, or a delivery's door, differs from the rules."""
    COST_MISMATCH = "COST_MISMATCH"
    """A lateness, volunteer total, plan total or objective differs from the recomputed value."""
    RECORD_MISMATCH = "RECORD_MISMATCH"
    """A delivery or undelivered entry misreports its trip, volunteer, building or priority."""
    REASON_FALSE = "REASON_FALSE"
    """An undelivered parcel's reason is missing, malformed, or its predicate does not hold."""
    STATUS_FALSE = "STATUS_FALSE"
    """The status is ``LIMIT`` but no parcel is left untried (``TIME_LIMIT_REACHED``)."""
    BOUND_PAST_OBJECTIVE = "BOUND_PAST_OBJECTIVE"
    """``info.bound`` is above the recomputed ``volunteer_s`` (``verification.claim_faults``)."""
    GAP_WRONG = "GAP_WRONG"
    """``info.gap`` is negative, absent with a bound, or not ``(volunteer_s − bound) / bound``."""
    OPTIMAL_UNPROVEN = "OPTIMAL_UNPROVEN"
    """Status ``OPTIMAL`` with a bound below the recomputed ``volunteer_s``."""


class RelayObjective(NamedTuple):
    """The plan's objective tiers recomputed (priority maximised, the others minimised)."""

    priority_delivered: int
    weighted_late_s: int
    volunteer_s: int


def _trip_name(t: RelayTrip) -> str:
    return f"{t.volunteer_id}@{t.depart.isoformat()}"


def is_valid_relay_plan(problem: RelayProblem, plan: RelayPlan) -> VerificationReport:
    """Check a relay plan against its problem, independently of the planner.

    Hard rules: every parcel appears exactly once (in one trip and one delivery, or as
    undelivered) and every id exists; a trip carries 1 … capacity parcels, all of its building;
    it departs no earlier than the latest arrival of its parcels; ``[depart, back)`` lies in
    one on-duty window of its volunteer (:func:`~commgov.matching.relay.on_duty`); one
    volunteer's trips do not overlap; ``door``, ``back``, ``duration_s`` and ``walk_m`` follow
    :func:`~commgov.matching.relay.trip_seconds` and its companions. Reported lateness,
    volunteer hours, totals and objective tiers must equal the recomputed values. Each
    undelivered parcel's reason must hold:

    * ``RELAY_NO_SHIFT``: no volunteer has an on-duty window ``w`` with
      ``max(arrival, w.start) + trip_seconds(building, 1) ≤ w.end``;
    * ``RELAY_VOLUNTEERS_BUSY(eligible)``: ``eligible`` ≥ 1 volunteers have such a window, and
      none of them can take the parcel in this plan: no start ``s ≥ arrival`` puts a one-parcel
      trip ``[s, s + trip_seconds(building, 1))`` inside an on-duty window clear of their trips,
      and no trip of theirs to the building departing at or after the arrival, with room, can
      be lengthened by one door time without leaving the window or meeting their next trip;
    * ``CANCELLED``: accepted exactly when ``plan.info.status`` is ``CANCELLED`` (the run
      stopped before the parcel was placed);
    * ``TIME_LIMIT_REACHED(time_limit_s)``: accepted exactly when ``plan.info.status`` is
      ``LIMIT`` (the deadline stopped the run before the parcel was placed) and
      ``time_limit_s`` is the plan's ``info.options["time_limit_s"]``.

    A plan with status ``LIMIT`` must leave at least one parcel with ``TIME_LIMIT_REACHED``.

    Optimality is not checked (compare the report's ``objective``, a :class:`RelayObjective`,
    with a reference for that).

    Parameters
    ----------
    problem : RelayProblem
        The problem that was solved.
    plan : RelayPlan
        The plan to check.

    Returns
    -------
    commgov.verification.VerificationReport
        ``family="relay"``; ``.ok`` (and truthiness), ``.violations`` (codes
        :class:`RelayViolationCode`) and the recomputed ``.objective``
        (:class:`RelayObjective`).

    Raises
    ------
    TypeError
        If ``problem`` or ``plan`` has the wrong type.

    Notes
    -----
    O(p + t log t) for ``p`` parcels and ``t`` trips, plus, per undelivered parcel with
    ``RELAY_VOLUNTEERS_BUSY``, O(v · (w + t_v)²) for ``v`` volunteers with ``w`` windows and
    ``t_v`` trips each.
    """
    expect_type(problem, RelayProblem, "problem")
    expect_type(plan, RelayPlan, "plan")
    report = VerificationReport(family="relay")
    bad = report.add
    status = plan.info.status

    parcels = {p.id: p for p in problem.parcels}
    buildings = {b.id: b for b in problem.buildings}
    vols = {v.id: v for v in problem.volunteers}
    duty = {v.id: on_duty(v) for v in problem.volunteers}

    # ---- coverage
    seen: Counter[str] = Counter()
    for d in plan.deliveries:
        seen[d.parcel_id] += 1
    for u in plan.undelivered:
        seen[u.parcel_id] += 1
    in_trip: dict[str, RelayTrip] = {}
    for t in plan.trips:
        for pid in t.parcel_ids:
            if pid in in_trip:
                bad(RelayViolationCode.DUPLICATE_PARCEL, pid, "parcel carried by two trips")
            in_trip[pid] = t
    for pid in sorted(seen):
        if pid not in parcels:
            bad(RelayViolationCode.UNKNOWN_ID, pid, "parcel id not in the problem")
        elif seen[pid] > 1:
            bad(RelayViolationCode.DUPLICATE_PARCEL, pid, f"parcel listed {seen[pid]} times")
    for pid in sorted(parcels):
        if pid not in seen:
            bad(RelayViolationCode.DROPPED_PARCEL, pid, "neither delivered nor undelivered")

    # ---- trips
    by_vol: dict[str, list[RelayTrip]] = defaultdict(list)
    priority = weighted = busy_total = 0
    busy: Counter[str] = Counter()
    ntrips: Counter[str] = Counter()
    nparcels: Counter[str] = Counter()
    for t in plan.trips:
        name = _trip_name(t)
        vol, bld = vols.get(t.volunteer_id), buildings.get(t.building_id)
        if vol is None or bld is None:
            bad(RelayViolationCode.UNKNOWN_ID, name, "unknown volunteer or building")
            continue
        items = [parcels[p] for p in t.parcel_ids if p in parcels]
        if len(items) != len(t.parcel_ids):
            bad(RelayViolationCode.UNKNOWN_ID, name, "trip carries an unknown parcel")
        if not t.parcel_ids:
            bad(RelayViolationCode.MIXED_BUILDINGS, name, "trip carries no parcel")
        for p in items:
            if p.building_id != t.building_id:
                bad(RelayViolationCode.MIXED_BUILDINGS, name, f"{p.id} is for {p.building_id}")
        if len(t.parcel_ids) > problem.capacity(vol):
            bad(
                RelayViolationCode.OVER_CAPACITY,
                name,
                f"{len(t.parcel_ids)} parcels > capacity {problem.capacity(vol)}",
            )
        late_p = [p.id for p in items if p.arrival > t.depart]
        if late_p:
            bad(RelayViolationCode.BEFORE_ARRIVAL, name, f"departs before {late_p[0]} arrives")
        n = len(t.parcel_ids)
        dur = trip_seconds(problem, bld, n)
        expected = {
            "duration_s": (t.duration_s, dur),
            "back": (t.back, t.depart + timedelta(seconds=dur)),
            "door": (t.door, t.depart + timedelta(seconds=door_offset_seconds(problem, bld, n))),
            "walk_m": (t.walk_m, walk_metres(problem, bld)),
        }
        for what, (got, want) in expected.items():
            if got != want:
                bad(RelayViolationCode.TIME_MISMATCH, name, f"{what} {got}, rules give {want}")
        if not any(
            w.start <= t.depart and t.depart + timedelta(seconds=dur) <= w.end for w in duty[vol.id]
        ):
            bad(RelayViolationCode.OFF_DUTY, name, "not inside an on-duty window")
        by_vol[vol.id].append(t)
        busy[vol.id] += dur
        busy_total += dur
        ntrips[vol.id] += 1
        nparcels[vol.id] += n
        door = t.depart + timedelta(seconds=door_offset_seconds(problem, bld, n))
        for p in items:
            priority += p.priority
            weighted += p.priority * lateness_seconds(door, target_door_time(problem, p))
    for vid in sorted(by_vol):
        trips = sorted(by_vol[vid], key=lambda t: (t.depart, t.back))
        for a, b in itertools.pairwise(trips):
            if b.depart < a.back:
                bad(RelayViolationCode.OVERLAP, vid, f"{_trip_name(a)} overlaps {_trip_name(b)}")

    # ---- deliveries
    for d in plan.deliveries:
        dp = parcels.get(d.parcel_id)
        trip = in_trip.get(d.parcel_id)
        if dp is None:
            continue
        p, t0 = dp, trip
        if t0 is None:
            bad(RelayViolationCode.RECORD_MISMATCH, p.id, "delivered but on no trip")
            continue
        if (d.volunteer_id, d.building_id, d.priority) != (
            t0.volunteer_id,
            p.building_id,
            p.priority,
        ):
            bad(RelayViolationCode.RECORD_MISMATCH, p.id, "volunteer, building or priority")
        if d.door != t0.door:
            bad(RelayViolationCode.TIME_MISMATCH, p.id, f"door {d.door}, trip door {t0.door}")
        want = lateness_seconds(t0.door, target_door_time(problem, p))
        if d.late_s != want:
            bad(RelayViolationCode.COST_MISMATCH, p.id, f"late_s {d.late_s}, recomputed {want}")
    delivered_ids = {d.parcel_id for d in plan.deliveries}
    for pid in sorted(in_trip):
        if pid not in delivered_ids:
            bad(RelayViolationCode.RECORD_MISMATCH, pid, "on a trip but not in deliveries")

    # ---- aggregates
    objective = RelayObjective(priority, weighted, busy_total)
    for h in plan.volunteers:
        if h.volunteer_id not in vols:
            bad(RelayViolationCode.UNKNOWN_ID, h.volunteer_id, "hours for an unknown volunteer")
            continue
        want_h = (ntrips[h.volunteer_id], nparcels[h.volunteer_id], busy[h.volunteer_id])
        if (h.trips, h.parcels, h.busy_s) != want_h or h.hours != h.busy_s / 3600:
            bad(RelayViolationCode.COST_MISMATCH, h.volunteer_id, f"hours {h}, want {want_h}")
    if sorted(h.volunteer_id for h in plan.volunteers) != sorted(vols):
        bad(RelayViolationCode.RECORD_MISMATCH, "volunteers", "not every volunteer once")
    delivered = len(plan.deliveries)
    hours = busy_total / 3600
    lates = [d.late_s for d in plan.deliveries]
    totals = {
        "parcels": len(parcels),
        "delivered": delivered,
        "undelivered": len(parcels) - delivered,
        "trips": len(plan.trips),
        "priority_delivered": priority,
        "priority_total": sum(p.priority for p in parcels.values()),
        "late_parcels": sum(1 for x in lates if x > 0),
        "late_s": sum(lates),
        "weighted_late_s": weighted,
        "volunteer_s": busy_total,
        "volunteer_hours": hours,
        "parcels_per_volunteer_hour": round(delivered / hours, 3) if busy_total else 0.0,
        "last_door": max((t.door for t in plan.trips), default=None),
    }
    for name, value in totals.items():
        got = getattr(plan.totals, name)
        if got != value:
            bad(RelayViolationCode.COST_MISMATCH, "totals", f"{name} {got}, recomputed {value}")
    for name, value in objective._asdict().items():
        got_obj = plan.info.objective.get(name)
        if got_obj is None or float(got_obj) != float(value):
            bad(RelayViolationCode.COST_MISMATCH, "info", f"{name} {got_obj}, recomputed {value}")

    # ---- reasons
    for u in plan.undelivered:
        up = parcels.get(u.parcel_id)
        if up is None:
            continue
        if u.priority != up.priority:
            bad(RelayViolationCode.RECORD_MISMATCH, up.id, f"priority {u.priority}")
        if not u.reasons:
            bad(RelayViolationCode.REASON_FALSE, up.id, "undelivered parcel without a reason")
        for reason in u.reasons:
            why = _reason_false(problem, up, reason, by_vol, status, plan.info.options)
            if why:
                bad(RelayViolationCode.REASON_FALSE, up.id, f"{reason.code}: {why}")
    if status == SolveStatus.LIMIT and not any(
        r.code == CommonReasonCode.TIME_LIMIT_REACHED for u in plan.undelivered for r in u.reasons
    ):
        bad(RelayViolationCode.STATUS_FALSE, "info", "status LIMIT but no parcel left untried")
    add_claim_faults(report, RelayViolationCode, plan.info, float(busy_total))
    report.objective = objective
    return report


def _reason_false(
    problem: RelayProblem,
    parcel: Parcel,
    reason: Reason,
    by_vol: dict[str, list[RelayTrip]],
    status: SolveStatus,
    options: Mapping[str, Any],
) -> str:
    """Why the reason's predicate fails for this parcel, or ``""`` if it holds."""
    fault = stop_reason_fault(reason, status, options)
    if fault is not None:
        return fault
    bld = problem.building(parcel.building_id)
    one = timedelta(seconds=trip_seconds(problem, bld, 1))
    arr = parcel.arrival
    able: list[GateVolunteer] = []
    for v in sorted(problem.volunteers, key=lambda v: v.id):
        if any(max(arr, w.start) + one <= w.end for w in on_duty(v)):
            able.append(v)
    if reason.code == RelayReasonCode.RELAY_NO_SHIFT:
        return f"volunteer {able[0].id} is on duty long enough after arrival" if able else ""
    if reason.code != RelayReasonCode.RELAY_VOLUNTEERS_BUSY:
        return f"{reason.code} is not a relay reason"
    if not able:
        return "no volunteer is on duty long enough after arrival at all"
    if reason.params.get("eligible") != len(able):
        return f"eligible {reason.params.get('eligible')} but {len(able)} volunteers could go"
    door = timedelta(seconds=door_seconds(problem, bld))
    for v in able:
        windows = on_duty(v)
        trips = sorted(by_vol.get(v.id, []), key=lambda t: t.depart)

        def clear(s: datetime, e: datetime, skip: RelayTrip | None = None) -> bool:
            inside = any(w.start <= s and e <= w.end for w in windows)  # noqa: B023
            return inside and all(
                t is skip or t.back <= s or e <= t.depart
                for t in trips  # noqa: B023
            )

        starts = [max(arr, w.start) for w in windows] + [t.back for t in trips if t.back >= arr]
        for s in starts:
            if clear(s, s + one):
                return f"volunteer {v.id} is free from {s.isoformat()}"
        for t in trips:
            if (
                t.building_id == bld.id
                and t.depart >= arr
                and len(t.parcel_ids) < problem.capacity(v)
                and clear(t.depart, t.back + door, skip=t)
            ):
                return f"trip {_trip_name(t)} has room and time for it"
    return ""
