"""Independent verifier of door-to-door plans (private; imports no solver and no OR-Tools).

:func:`is_valid_door_to_door_plan` checks every hard rule of a plan against its problem and
recomputes every reported figure (arrival times, durations, totals, objective tiers, the
bound, reasons, status) from the shared rules (:mod:`._rules`) and the analytic bound
(:mod:`._bound`) alone. Property tests use it as the oracle.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from enum import StrEnum

from commgov.errors import expect_type
from commgov.results import CommonReasonCode, SolveStatus
from commgov.scheduling.door_to_door._bound import door_to_door_lower_bound
from commgov.scheduling.door_to_door._plan import DoorToDoorPlan
from commgov.scheduling.door_to_door._problem import DoorToDoorProblem, RoundHousehold
from commgov.scheduling.door_to_door._reasons import DoorToDoorReasonCode
from commgov.scheduling.door_to_door._rules import (
    leg_seconds,
    service_seconds,
    team_units,
    walk_matrix,
)
from commgov.verification import VerificationReport, stop_reason_fault

__all__ = ["DoorToDoorViolationCode", "is_valid_door_to_door_plan"]


class DoorToDoorViolationCode(StrEnum):
    """Every rule :func:`is_valid_door_to_door_plan` can find broken.

    ``UNKNOWN_ID`` (a team unit or household the problem lacks), ``RECORD_MISMATCH`` (origin,
    building, floor, kind or ``alone_s`` copied wrong), ``DUPLICATE_HOUSEHOLD``,
    ``DROPPED_HOUSEHOLD`` (neither visited nor listed uncovered), ``DUPLICATE_UNIT``,
    ``EMPTY_ROUTE``, ``TIME_MISMATCH`` (a time differs from the recomputed one),
    ``OVER_LIMIT`` (back after the unit's limit), ``ORDER`` (routes or uncovered households
    out of order), ``TOTALS_MISMATCH`` (totals or objective tiers), ``BOUND_MISMATCH``
    (bound, ``info.bound``, ``gap``, or a makespan below the bound), ``REASON_FALSE``,
    ``STATUS_FALSE``.
    """

    UNKNOWN_ID = "UNKNOWN_ID"
    RECORD_MISMATCH = "RECORD_MISMATCH"
    DUPLICATE_HOUSEHOLD = "DUPLICATE_HOUSEHOLD"
    DROPPED_HOUSEHOLD = "DROPPED_HOUSEHOLD"
    DUPLICATE_UNIT = "DUPLICATE_UNIT"
    EMPTY_ROUTE = "EMPTY_ROUTE"
    TIME_MISMATCH = "TIME_MISMATCH"
    OVER_LIMIT = "OVER_LIMIT"
    ORDER = "ORDER"
    TOTALS_MISMATCH = "TOTALS_MISMATCH"
    BOUND_MISMATCH = "BOUND_MISMATCH"
    REASON_FALSE = "REASON_FALSE"
    STATUS_FALSE = "STATUS_FALSE"


_V = DoorToDoorViolationCode


def _secs(a: datetime, b: datetime) -> float:
    return (a - b).total_seconds()


def is_valid_door_to_door_plan(
    problem: DoorToDoorProblem, plan: DoorToDoorPlan
) -> VerificationReport:
    """Check a door-to-door plan against its problem.

    Rules checked: every household is covered exactly once or listed uncovered once; routes
    name known team units, each unit at most once, in (team, unit) order, never empty; a
    route departs at the unit's shift start, every arrival, departure and the return equal the
    recomputed times (:func:`leg_seconds`, :func:`service_seconds`, no waiting), and the
    return is no later than the unit's limit (shift end, ``max_minutes``); copied fields
    (building, floor, kind) match; totals, objective tiers, the bound
    (:func:`door_to_door_lower_bound` of the covered households), ``info.bound`` and ``gap``
    are right; each uncovered household's reason holds (``NO_TEAM_IN_TIME(alone_min)``: no
    unit can serve it alone, ``alone_min`` its round trip alone; ``TEAMS_FULL(eligible)``:
    ``eligible`` units could serve it alone and no insertion into any route, empty routes of
    unused units included, keeps that unit within its limit; ``TIME_LIMIT_REACHED``: only
    under status ``LIMIT``; ``CANCELLED``: only under status ``CANCELLED``); status
    ``OPTIMAL`` only when everything is covered and the makespan equals the bound, ``LIMIT``
    only with a household left untried.

    Parameters
    ----------
    problem : DoorToDoorProblem
    plan : DoorToDoorPlan

    Returns
    -------
    commgov.verification.VerificationReport
        ``family="door_to_door"``, codes :class:`DoorToDoorViolationCode`; truthy when the
        plan is valid. ``objective`` holds the recomputed tiers (``uncovered``,
        ``makespan_s``, ``travel_s``).

    Raises
    ------
    TypeError
        If the arguments are not a problem and a plan.

    Notes
    -----
    O(H·R + P³) for H households, R the longest route and P places (the bound and the
    insertion checks of ``TEAMS_FULL`` reasons dominate).

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> from zoneinfo import ZoneInfo
    >>> from commgov.scheduling.door_to_door import (
    ...     RoundBuilding, RoundHousehold, RoundTeam, plan_door_to_door)
    >>> from commgov.types import GeoPoint, TimeWindow
    >>> t0 = datetime(2022, 4, 12, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> p = DoorToDoorProblem(
    ...     base=GeoPoint(lon=120.6190, lat=31.3421),
    ...     buildings=[RoundBuilding(id="b1", location=GeoPoint(lon=120.6195, lat=31.3421))],
    ...     households=[RoundHousehold(id="h1", building_id="b1")],
    ...     teams=[RoundTeam(id="t1", shift=TimeWindow(start=t0, end=t0 + timedelta(hours=1)))])
    >>> plan = plan_door_to_door(p)
    >>> bool(is_valid_door_to_door_plan(p, plan))
    True
    >>> late = plan.model_copy(update={"totals": plan.totals.model_copy(
    ...     update={"makespan_s": 1})})
    >>> is_valid_door_to_door_plan(p, late).codes == {DoorToDoorViolationCode.TOTALS_MISMATCH}
    True
    """
    expect_type(problem, DoorToDoorProblem, "problem")
    expect_type(plan, DoorToDoorPlan, "plan")
    rep = VerificationReport(family="door_to_door")
    hmap = {h.id: h for h in problem.households}
    bmap = problem.building_map()
    walks = walk_matrix(problem)
    units = {(t, k): (dep, lim) for t, k, dep, lim in team_units(problem)}
    origin = problem.origin()
    if plan.origin != origin:
        rep.add(_V.RECORD_MISMATCH, "plan", f"origin {plan.origin} ≠ earliest shift start "
                f"{origin}")

    def leg(a: RoundHousehold | None, b: RoundHousehold | None) -> int:
        return leg_seconds(problem, a, b, walks=walks, buildings=bmap)

    seen: dict[str, str] = {}
    used: set[tuple[str, int]] = set()
    keys = [(r.team_id, r.unit) for r in plan.routes]
    if keys != sorted(keys):
        rep.add(_V.ORDER, "plan", "routes are not sorted by team id then unit")
    routes_ok: dict[tuple[str, int], list[RoundHousehold]] = {}
    for r in plan.routes:
        name = f"{r.team_id}#{r.unit}"
        if (r.team_id, r.unit) not in units:
            rep.add(_V.UNKNOWN_ID, name, "no such team unit")
            continue
        if (r.team_id, r.unit) in used:
            rep.add(_V.DUPLICATE_UNIT, name, "unit has two routes")
        used.add((r.team_id, r.unit))
        dep, lim = units[r.team_id, r.unit]
        if not r.stops:
            rep.add(_V.EMPTY_ROUTE, name, "a route must visit at least one household")
        if r.depart != dep:
            rep.add(_V.TIME_MISMATCH, name, f"depart {r.depart} ≠ shift start {dep}")
        t = dep
        prev: RoundHousehold | None = None
        travel = service = 0
        members: list[RoundHousehold] = []
        for s in r.stops:
            h = hmap.get(s.household_id)
            if h is None:
                rep.add(_V.UNKNOWN_ID, s.household_id, f"unknown household on {name}")
                continue
            if s.household_id in seen:
                rep.add(_V.DUPLICATE_HOUSEHOLD, s.household_id,
                        f"on {name} and on {seen[s.household_id]}")
            seen[s.household_id] = name
            members.append(h)
            if s.building_id != h.building_id or s.floor != h.floor:
                rep.add(_V.RECORD_MISMATCH, s.household_id, "building or floor differs from "
                        "the problem")
            lg = leg(prev, h)
            sv = service_seconds(problem, h)
            t = t + timedelta(seconds=lg)
            if s.travel_s != lg or s.service_s != sv or s.arrive != t or s.leave != t + \
                    timedelta(seconds=sv):
                rep.add(_V.TIME_MISMATCH, s.household_id,
                        f"expected arrive {t}, travel {lg} s, service {sv} s on {name}")
            t = t + timedelta(seconds=sv)
            travel += lg
            service += sv
            prev = h
        back_leg = leg(prev, None) if prev is not None else 0
        travel += back_leg
        t = t + timedelta(seconds=back_leg)
        if r.back != t or r.duration_s != _secs(t, dep) or r.travel_s != travel or (
                r.service_s != service):
            rep.add(_V.TIME_MISMATCH, name, f"expected back {t}, travel {travel} s, "
                    f"service {service} s")
        if t > lim:
            rep.add(_V.OVER_LIMIT, name, f"back {t} after the unit's limit {lim}")
        # a unit listed twice keeps the households of both routes (one fault, one code)
        routes_ok.setdefault((r.team_id, r.unit), []).extend(members)
    unc_ids = [u.household_id for u in plan.uncovered]
    if unc_ids != sorted(unc_ids):
        rep.add(_V.ORDER, "plan", "uncovered households are not sorted by id")
    for u in plan.uncovered:
        h = hmap.get(u.household_id)
        if h is None:
            rep.add(_V.UNKNOWN_ID, u.household_id, "unknown uncovered household")
            continue
        if u.household_id in seen:
            rep.add(_V.DUPLICATE_HOUSEHOLD, u.household_id, f"uncovered and {seen[h.id]}")
        seen[u.household_id] = "uncovered"
        if u.building_id != h.building_id or u.kind != h.kind:
            rep.add(_V.RECORD_MISMATCH, u.household_id, "building or kind differs")
        alone = leg(None, h) + service_seconds(problem, h) + leg(h, None)
        if u.alone_s != alone:
            rep.add(_V.RECORD_MISMATCH, u.household_id, f"alone_s {u.alone_s} ≠ {alone}")
        eligible = [key for key, (dep, lim) in units.items()
                    if dep + timedelta(seconds=alone) <= lim]
        if len(u.reasons) != 1:
            rep.add(_V.REASON_FALSE, u.household_id, "exactly one reason expected")
            continue
        reason = u.reasons[0]
        if reason.code is DoorToDoorReasonCode.NO_TEAM_IN_TIME:
            if eligible:
                rep.add(_V.REASON_FALSE, u.household_id,
                        f"{len(eligible)} units can serve it alone")
            if reason.params.get("alone_min") != round(alone / 60.0, 1):
                rep.add(_V.REASON_FALSE, u.household_id,
                        f"alone_min = {reason.params.get('alone_min')} ≠ "
                        f"{round(alone / 60.0, 1)}")
        elif reason.code is DoorToDoorReasonCode.TEAMS_FULL:
            if reason.params.get("eligible") != len(eligible):
                rep.add(_V.REASON_FALSE, u.household_id,
                        f"eligible = {reason.params.get('eligible')} ≠ {len(eligible)}")
            for key in sorted(eligible):
                if _fits_somewhere(routes_ok.get(key, []), h, units[key], leg, problem):
                    rep.add(_V.REASON_FALSE, u.household_id,
                            f"fits into the route of {key[0]}#{key[1]}")
                    break
        elif (fault := stop_reason_fault(reason, plan.info.status, plan.info.options)) is not None:
            if fault:
                rep.add(_V.REASON_FALSE, u.household_id, fault)
        else:
            rep.add(_V.REASON_FALSE, u.household_id, f"unexpected reason {reason.code}")
    for hid in sorted(set(hmap) - set(seen)):
        rep.add(_V.DROPPED_HOUSEHOLD, hid, "neither covered nor listed uncovered")
    _check_totals(problem, plan, rep, [h for m in routes_ok.values() for h in m])
    return rep


def _fits_somewhere(members: list[RoundHousehold], h: RoundHousehold,
                    unit: tuple[datetime, datetime], leg: object,
                    problem: DoorToDoorProblem) -> bool:
    assert callable(leg)
    dep, lim = unit
    seq: list[RoundHousehold | None] = [None, *members, None]
    total = sum(leg(a, b) for a, b in itertools.pairwise(seq)) + sum(
        service_seconds(problem, m) for m in members)
    sv = service_seconds(problem, h)
    for q in range(len(seq) - 1):
        a, b = seq[q], seq[q + 1]
        new = total + leg(a, h) + sv + leg(h, b) - leg(a, b)
        if dep + timedelta(seconds=new) <= lim:
            return True
    return False


def _check_totals(problem: DoorToDoorProblem, plan: DoorToDoorPlan,
                  rep: VerificationReport, covered: list[RoundHousehold]) -> None:
    tot = plan.totals
    origin = problem.origin()
    makespan = max((int(_secs(r.back, origin)) for r in plan.routes), default=0) if (
        origin is not None) else 0
    travel = sum(r.travel_s for r in plan.routes)
    service = sum(r.service_s for r in plan.routes)
    expected = {
        "households": len(problem.households),
        "covered": len(covered),
        "uncovered": len(plan.uncovered),
        "residents_covered": sum(h.residents for h in covered),
        "units": len(team_units(problem)),
        "units_used": len(plan.routes),
        "makespan_s": makespan,
        "makespan_minutes": round(makespan / 60.0, 2),
        "last_back": max((r.back for r in plan.routes), default=None),
        "travel_s": travel,
        "service_s": service,
    }
    for name, value in expected.items():
        if getattr(tot, name) != value:
            rep.add(_V.TOTALS_MISMATCH, "plan", f"totals.{name} = {getattr(tot, name)} ≠ {value}")
    objective = {"uncovered": float(len(plan.uncovered)), "makespan_s": float(makespan),
                 "travel_s": float(travel)}
    if plan.info.objective != objective:
        rep.add(_V.TOTALS_MISMATCH, "plan", f"info.objective {plan.info.objective} ≠ {objective}")
    rep.objective = objective
    try:
        bound = door_to_door_lower_bound(problem, household_ids=[h.id for h in covered])
    except ValueError as exc:  # a covered household no unit can serve alone
        rep.add(_V.BOUND_MISMATCH, "plan", str(exc))
        return
    if plan.bound != bound:
        rep.add(_V.BOUND_MISMATCH, "plan", f"bound {plan.bound} ≠ {bound}")
    b = bound.value
    if plan.info.bound != b:
        rep.add(_V.BOUND_MISMATCH, "plan",
                f"info.bound {plan.info.bound} ≠ {b}")
    gap = (makespan - b) / b if b > 0 else (0.0 if makespan == 0 else None)
    if plan.info.gap != gap:
        rep.add(_V.BOUND_MISMATCH, "plan", f"info.gap {plan.info.gap} ≠ {gap}")
    if makespan < b:
        rep.add(_V.BOUND_MISMATCH, "plan",
                f"makespan {makespan} below the bound {b}: the bound is wrong")
    if plan.info.status is SolveStatus.OPTIMAL and (plan.uncovered or makespan != b):
        rep.add(_V.STATUS_FALSE, "plan",
                "OPTIMAL needs full coverage and makespan = bound")
    if plan.info.status is SolveStatus.LIMIT and not any(
            u.reasons and u.reasons[0].code is CommonReasonCode.TIME_LIMIT_REACHED
            for u in plan.uncovered):
        rep.add(_V.STATUS_FALSE, "plan", "LIMIT without any household left untried")
