"""Independent verifier for notification plans.

:func:`is_valid_notification_plan` checks a :class:`~._problem.NotificationPlan` against its
:class:`~._problem.NotificationProblem` from the records alone. It imports no solver code
(neither the planner, the bound nor OR-Tools): it shares with the planner only the time rules
of :mod:`._rules` (walking distance and time, notify time, knocked households and start
offsets) and recomputes every time leg by leg. Property tests use it as the oracle.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from enum import StrEnum
from typing import NamedTuple

from commgov.errors import expect_type
from commgov.results import SolveStatus
from commgov.scheduling.notification._problem import NotificationPlan, NotificationProblem
from commgov.scheduling.notification._rules import (
    knocked_households,
    notify_seconds,
    start_offset_seconds,
    walk_metres,
    walk_seconds,
)
from commgov.verification import VerificationReport

__all__ = ["NotificationObjective", "NotificationViolationCode", "is_valid_notification_plan"]


class NotificationViolationCode(StrEnum):
    """Kinds of fault :func:`is_valid_notification_plan` reports."""

    MISSING_BUILDING = "MISSING_BUILDING"
    """A building of the problem is on no route, or has no notice."""
    DUPLICATE_BUILDING = "DUPLICATE_BUILDING"
    """A building is on more than one route stop, or has more than one notice."""
    UNKNOWN_ID = "UNKNOWN_ID"
    """A building or volunteer id that is not in the problem."""
    MISSING_VOLUNTEER = "MISSING_VOLUNTEER"
    """A volunteer of the problem has no route, or has several."""
    ORDER = "ORDER"
    """Stops are not numbered 1, 2, … along the route, or records are not sorted by id."""
    TIME_MISMATCH = "TIME_MISMATCH"
    """A start, arrival, finish, walk or notify figure differs from the rules."""
    RECORD_MISMATCH = "RECORD_MISMATCH"
    """A notice disagrees with its stop, or a route total with its stops."""
    TOTALS_MISMATCH = "TOTALS_MISMATCH"
    """A plan total, the makespan or the objective differs from the recomputed value."""
    BOUND_INVALID = "BOUND_INVALID"
    """The bound exceeds the makespan, the gap does not follow from them, or the status
    claims an optimum the bound does not prove."""


class NotificationObjective(NamedTuple):
    """The objective tiers :func:`is_valid_notification_plan` recomputes from the routes."""

    makespan_s: int
    """Seconds from ``start`` until the last household is reached."""
    walk_m: int
    """Metres walked over all routes."""


def is_valid_notification_plan(
    problem: NotificationProblem, plan: NotificationPlan
) -> VerificationReport:
    """Check a notification plan against its problem, recomputing every figure.

    Rules checked: every building of the problem is on exactly one route and has exactly one
    notice; every volunteer has exactly one route and no unknown id appears; stops are
    numbered from 1; a route starts at ``start`` plus :func:`start_offset_seconds`; each stop
    arrives after :func:`walk_seconds` of :func:`walk_metres` from the previous place (home
    for the first) and finishes :func:`notify_seconds` later; notices repeat their stop's
    volunteer, order, finish and households; route totals, plan totals, makespan, objective,
    bound and gap are consistent (the bound is at most the makespan, ``OPTIMAL`` exactly
    when they are equal unless the run was ``CANCELLED``). Records are sorted by id.

    Parameters
    ----------
    problem : NotificationProblem
        The problem planned.
    plan : NotificationPlan
        The plan to check.

    Returns
    -------
    commgov.verification.VerificationReport
        ``family="notification"``; truthy when the plan is valid; ``violations`` lists every
        fault with a :class:`NotificationViolationCode`; ``objective`` is the recomputed
        :class:`NotificationObjective` (makespan seconds, walking metres).

    Raises
    ------
    TypeError
        If the arguments have the wrong types.

    Notes
    -----
    O(B · V) for B buildings and V volunteers, plus O(B) walks; no OR-Tools.
    """
    expect_type(problem, NotificationProblem, "problem")
    expect_type(plan, NotificationPlan, "plan")
    report = VerificationReport(family="notification")
    codes = NotificationViolationCode
    buildings = {b.id: b for b in problem.buildings}
    volunteers = {v.id: v for v in problem.volunteers}
    start = problem.start

    route_ids = [r.volunteer_id for r in plan.routes]
    counts = Counter(route_ids)
    for vid in sorted(volunteers):
        if counts[vid] != 1:
            report.add(codes.MISSING_VOLUNTEER, vid, f"has {counts[vid]} routes, not 1")
    if route_ids != sorted(route_ids):
        report.add(codes.ORDER, "plan", "routes are not sorted by volunteer id")

    seen: Counter[str] = Counter()
    stop_of: dict[str, tuple[str, int, int, int]] = {}  # building -> volunteer, order, s, hh
    makespan = 0
    walk_m_total = walk_s_total = notify_total = knocked_total = 0
    for route in plan.routes:
        vol = volunteers.get(route.volunteer_id)
        if vol is None:
            report.add(codes.UNKNOWN_ID, route.volunteer_id, "no volunteer has this id")
            continue
        t = start_offset_seconds(problem, vol)
        if route.start != start + _s(t):
            report.add(codes.TIME_MISMATCH, vol.id,
                       f"starts at {route.start.isoformat()}, not {t} s after start")
        place = vol.location
        sums = [0, 0, 0, 0]  # walk_m, walk_s, notify_s, households
        for k, stop in enumerate(route.stops, start=1):
            b = buildings.get(stop.building_id)
            if b is None:
                report.add(codes.UNKNOWN_ID, stop.building_id, "no building has this id")
                continue
            seen[b.id] += 1
            if stop.order != k:
                report.add(codes.ORDER, b.id, f"order {stop.order} at position {k}")
            metres = walk_metres(problem, place, b.location)
            walk_s = walk_seconds(problem, vol, metres)
            notify_s = notify_seconds(problem, b)
            arrive, finish = t + walk_s, t + walk_s + notify_s
            expected = (metres, walk_s, notify_s, b.households, knocked_households(problem, b))
            got = (stop.walk_m, stop.walk_s, stop.notify_s, stop.households, stop.knocked)
            if got != expected:
                report.add(codes.TIME_MISMATCH, b.id,
                           f"(walk_m, walk_s, notify_s, households, knocked) {got} ≠ {expected}")
            if stop.arrive != start + _s(arrive) or stop.finish != start + _s(finish):
                report.add(codes.TIME_MISMATCH, b.id,
                           f"arrive/finish {stop.arrive.isoformat()}/{stop.finish.isoformat()}"
                           f", expected {arrive} s/{finish} s after start")
            stop_of[b.id] = (vol.id, k, finish, b.households)
            for idx, value in enumerate((metres, walk_s, notify_s, b.households)):
                sums[idx] += value
            knocked_total += expected[4]
            t = finish
            place = b.location
        if route.stops:
            makespan = max(makespan, t)
        if route.finish != start + _s(t):
            report.add(codes.TIME_MISMATCH, vol.id,
                       f"finishes at {route.finish.isoformat()}, expected {t} s after start")
        got_sums = [route.walk_m, route.walk_s, route.notify_s, route.households]
        if got_sums != sums:
            report.add(codes.RECORD_MISMATCH, vol.id,
                       f"route totals (walk_m, walk_s, notify_s, households) {got_sums} ≠ {sums}")
        walk_m_total += sums[0]
        walk_s_total += sums[1]
        notify_total += sums[2]
    for bid in sorted(buildings):
        if seen[bid] == 0:
            report.add(codes.MISSING_BUILDING, bid, "is on no route")
        elif seen[bid] > 1:
            report.add(codes.DUPLICATE_BUILDING, bid, f"is on {seen[bid]} stops")

    notice_ids = [n.building_id for n in plan.buildings]
    if notice_ids != sorted(notice_ids):
        report.add(codes.ORDER, "plan", "building notices are not sorted by building id")
    notice_count = Counter(notice_ids)
    for bid in sorted(buildings):
        if notice_count[bid] == 0:
            report.add(codes.MISSING_BUILDING, bid, "has no notice")
        elif notice_count[bid] > 1:
            report.add(codes.DUPLICATE_BUILDING, bid, f"has {notice_count[bid]} notices")
    for notice in plan.buildings:
        if notice.building_id not in buildings:
            report.add(codes.UNKNOWN_ID, notice.building_id, "no building has this id")
            continue
        listed = stop_of.get(notice.building_id)
        claimed = (notice.volunteer_id, notice.order, notice.notified_s, notice.households)
        if claimed != listed or notice.notified_at != start + _s(notice.notified_s):
            report.add(codes.RECORD_MISMATCH, notice.building_id,
                       f"notice (volunteer, order, notified_s, households) {claimed} ≠ "
                       f"stop {listed}")

    report.objective = NotificationObjective(makespan, walk_m_total)
    tot = plan.totals
    expected_totals: dict[str, float] = {
        "buildings": len(stop_of),
        "households": sum(s[3] for s in stop_of.values()),
        "knocked": knocked_total,
        "volunteers": len(volunteers),
        "volunteers_used": sum(1 for r in plan.routes if r.stops),
        "walk_m": walk_m_total,
        "walk_s": walk_s_total,
        "notify_s": notify_total,
        "makespan_s": makespan,
        "makespan_minutes": round(makespan / 60, 2),
    }
    for name, want in expected_totals.items():
        if getattr(tot, name) != want:
            report.add(codes.TOTALS_MISMATCH, "plan",
                       f"totals.{name} = {getattr(tot, name)}, expected {want}")
    last = start + _s(makespan) if stop_of else None
    if tot.last_notified != last:
        report.add(codes.TOTALS_MISMATCH, "plan", f"totals.last_notified ≠ {last}")
    if plan.start != start:
        report.add(codes.TIME_MISMATCH, "plan", "plan.start differs from the problem's start")
    objective = {"makespan_s": float(makespan), "walk_m": float(walk_m_total)}
    if plan.info.objective != objective:
        report.add(codes.TOTALS_MISMATCH, "plan",
                   f"info.objective {plan.info.objective} ≠ {objective}")

    bound = tot.bound_s
    if bound > makespan or bound < 0:
        report.add(codes.BOUND_INVALID, "plan", f"bound {bound} s not in [0, {makespan}] s")
    gap: float | None = (
        0.0 if makespan == bound else (makespan - bound) / bound if bound else None
    )
    if tot.gap != gap or plan.info.gap != gap or plan.info.bound != float(bound):
        report.add(codes.BOUND_INVALID, "plan",
                   f"gap {tot.gap}/{plan.info.gap} or info.bound {plan.info.bound} do not "
                   f"follow from bound {bound} s and makespan {makespan} s")
    status = plan.info.status
    claims_optimum = status is SolveStatus.OPTIMAL
    if status not in _STATUSES or (
        status is not SolveStatus.CANCELLED and claims_optimum != (bound == makespan)
    ):
        report.add(codes.BOUND_INVALID, "plan",
                   f"status {status.value} with bound {bound} s, makespan {makespan} s")
    return report


def _s(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


#: Statuses a notification plan may carry (every plan is complete).
_STATUSES = (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE, SolveStatus.CANCELLED)
