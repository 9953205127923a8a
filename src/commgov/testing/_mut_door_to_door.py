"""Door-to-door rounds: the fixture and the mutation table (testing only).

Operators that move households re-time the routes they touch and recompute totals, objective,
bound and gap from the public rules (:func:`_retime`, :func:`_refigure`), so that
:func:`~commgov.scheduling.door_to_door.is_valid_door_to_door_plan` reports exactly the one
broken rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commgov.results import SolveStatus
from commgov.scheduling.door_to_door import (
    DoorToDoorPlan,
    DoorToDoorProblem,
    DoorToDoorReasonCode,
    DoorToDoorViolationCode,
    RoundBuilding,
    RoundHousehold,
    RoundStop,
    RoundTeam,
    TeamRoute,
    UncoveredHousehold,
    door_to_door_lower_bound,
    leg_seconds,
    service_seconds,
    team_units,
    walk_matrix,
)
from commgov.testing._mutation import Mutation, MutationTable, bumped, reversed_items
from commgov.types import GeoPoint, TimeWindow

__all__ = ["DOOR_TO_DOOR_MUTATIONS", "door_to_door_fixtures"]

_V = DoorToDoorViolationCode
_TABLE = MutationTable("door_to_door")

_BASE = GeoPoint(lon=120.6190, lat=31.3421)


def _at(east_m: float) -> GeoPoint:
    return GeoPoint(lon=round(_BASE.lon + east_m / 95_000.0, 7), lat=_BASE.lat)


def door_to_door_fixtures() -> dict[str, DoorToDoorProblem]:
    """``{"default": problem}``: a three-storey building of twelve households, one household
    9 km away, a team of two units on a 25-minute shift (so some households are left over:
    ``TEAMS_FULL``; the far one ``NO_TEAM_IN_TIME``) and a one-minute team that serves
    nothing; ``"roomy"``: the same with a 90-minute shift, so both units have a route and no
    household is left for want of time."""
    t0 = datetime(2022, 4, 12, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

    def shift(minutes: float) -> TimeWindow:
        return TimeWindow(start=t0, end=t0 + timedelta(minutes=minutes))

    problem = DoorToDoorProblem(
        base=_BASE,
        buildings=[RoundBuilding(id="b1", location=_at(47.5), floors=3),
                   RoundBuilding(id="far", location=_at(9000))],
        households=[
            *(RoundHousehold(id=f"h{k:02d}", building_id="b1", floor=1 + k % 3,
                             residents=1 + k % 4) for k in range(12)),
            RoundHousehold(id="hfar", building_id="far"),
        ],
        teams=[RoundTeam(id="t1", count=2, shift=shift(25)),
               RoundTeam(id="t9-brief", shift=shift(1))],
    )
    roomy = problem.model_copy(update={"teams": [
        RoundTeam(id="t1", count=2, shift=shift(90)), *problem.teams[1:]]})
    return {"default": problem, "roomy": roomy}


def _retime(problem: DoorToDoorProblem, route: TeamRoute,
            members: list[RoundHousehold]) -> TeamRoute:
    """``route`` visiting ``members`` in order, every time recomputed (no waiting)."""
    walks, bmap = walk_matrix(problem), problem.building_map()
    t = route.depart
    prev: RoundHousehold | None = None
    stops: list[RoundStop] = []
    travel = service = 0
    for h in members:
        lg = leg_seconds(problem, prev, h, walks=walks, buildings=bmap)
        sv = service_seconds(problem, h)
        t += timedelta(seconds=lg)
        stops.append(RoundStop(household_id=h.id, building_id=h.building_id, floor=h.floor,
                               arrive=t, leave=t + timedelta(seconds=sv), travel_s=lg,
                               service_s=sv))
        t += timedelta(seconds=sv)
        travel, service, prev = travel + lg, service + sv, h
    back = leg_seconds(problem, prev, None, walks=walks, buildings=bmap) if prev else 0
    t += timedelta(seconds=back)
    return route.model_copy(update={
        "stops": stops, "back": t, "duration_s": int((t - route.depart).total_seconds()),
        "travel_s": travel + back, "service_s": service})


def _refigure(problem: DoorToDoorProblem, plan: DoorToDoorPlan, routes: list[TeamRoute],
              uncovered: list[UncoveredHousehold]) -> DoorToDoorPlan:
    """``plan`` with new routes and uncovered list, totals, objective, bound and gap
    recomputed (the status is kept)."""
    hmap = {h.id: h for h in problem.households}
    covered = [hmap[s.household_id] for r in routes for s in r.stops]
    origin = problem.origin()
    makespan = max((int((r.back - origin).total_seconds()) for r in routes),
                   default=0) if origin is not None else 0
    travel = sum(r.travel_s for r in routes)
    totals = plan.totals.model_copy(update={
        "covered": len(covered), "uncovered": len(uncovered),
        "residents_covered": sum(h.residents for h in covered), "units_used": len(routes),
        "makespan_s": makespan, "makespan_minutes": round(makespan / 60.0, 2),
        "last_back": max((r.back for r in routes), default=None), "travel_s": travel,
        "service_s": sum(r.service_s for r in routes)})
    bound = door_to_door_lower_bound(problem, household_ids=[h.id for h in covered])
    b = bound.value
    gap = (makespan - b) / b if b > 0 else (0.0 if makespan == 0 else None)
    info = plan.info.model_copy(update={
        "objective": {"uncovered": float(len(uncovered)), "makespan_s": float(makespan),
                      "travel_s": float(travel)},
        "bound": b, "gap": gap})
    return plan.model_copy(update={"routes": routes, "uncovered": uncovered, "totals": totals,
                                   "bound": bound, "info": info})


def _ghost(plan: DoorToDoorPlan) -> UncoveredHousehold | None:
    return plan.uncovered[0] if plan.uncovered else None


@_TABLE.add(_V.UNKNOWN_ID)
def mutate_unknown_household(problem: DoorToDoorProblem,
                             plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """List a household id the problem lacks as uncovered (sorted last; figures follow)."""
    u = _ghost(plan)
    if u is None:
        return None
    ghost = u.model_copy(update={"household_id": "~ghost"})
    return _refigure(problem, plan, plan.routes, [*plan.uncovered, ghost])


@_TABLE.add(_V.RECORD_MISMATCH)
def mutate_origin(problem: DoorToDoorProblem, plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """Report the plan's origin a second after the earliest shift start."""
    if plan.origin is None:
        return None
    return plan.model_copy(update={"origin": plan.origin + timedelta(seconds=1)})


@_TABLE.add(_V.DUPLICATE_HOUSEHOLD)
def mutate_uncovered_twice(problem: DoorToDoorProblem,
                           plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """List an uncovered household twice (adjacent; totals count the list as it is)."""
    u = _ghost(plan)
    if u is None:
        return None
    return _refigure(problem, plan, plan.routes, [u, *plan.uncovered])


@_TABLE.add(_V.DROPPED_HOUSEHOLD)
def mutate_uncovered_dropped(problem: DoorToDoorProblem,
                             plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """Leave an uncovered household out of the list (totals follow the list)."""
    if not plan.uncovered:
        return None
    return _refigure(problem, plan, plan.routes, plan.uncovered[1:])


@_TABLE.add(_V.DUPLICATE_UNIT, fixture="roomy")
def mutate_unit_twice(problem: DoorToDoorProblem, plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """Give the route of a team's second unit to its first unit (same shift, same times)."""
    for i in range(1, len(plan.routes)):
        a, b = plan.routes[i - 1], plan.routes[i]
        if a.team_id == b.team_id and a.depart == b.depart:
            routes = list(plan.routes)
            routes[i] = b.model_copy(update={"unit": a.unit})
            return plan.model_copy(update={"routes": routes})
    return None


@_TABLE.add(_V.EMPTY_ROUTE)
def mutate_empty_route(problem: DoorToDoorProblem, plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """Add an empty route for an unused unit (back at its start; totals follow)."""
    used = {(r.team_id, r.unit) for r in plan.routes}
    for team, unit, dep, _lim in team_units(problem):
        if (team, unit) not in used:
            empty = TeamRoute(team_id=team, unit=unit, depart=dep, back=dep, duration_s=0,
                              travel_s=0, service_s=0, stops=[])
            routes = sorted([*plan.routes, empty], key=lambda r: (r.team_id, r.unit))
            return _refigure(problem, plan, routes, plan.uncovered)
    return None


@_TABLE.add(_V.TIME_MISMATCH)
def mutate_service_time(problem: DoorToDoorProblem,
                        plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """Report one stop's service a second longer (the route's times untouched)."""
    for i, r in enumerate(plan.routes):
        if r.stops:
            s = r.stops[0]
            stops = [s.model_copy(update={"service_s": s.service_s + 1}), *r.stops[1:]]
            routes = list(plan.routes)
            routes[i] = r.model_copy(update={"stops": stops})
            return plan.model_copy(update={"routes": routes})
    return None


@_TABLE.add(_V.OVER_LIMIT)
def mutate_over_limit(problem: DoorToDoorProblem, plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """Append a ``TEAMS_FULL`` household to the end of a route: it returns after its limit
    (route re-timed; totals, bound and gap follow)."""
    hmap = {h.id: h for h in problem.households}
    for u in plan.uncovered:
        if u.reasons and u.reasons[0].code is DoorToDoorReasonCode.TEAMS_FULL and plan.routes:
            r = plan.routes[0]
            members = [hmap[s.household_id] for s in r.stops] + [hmap[u.household_id]]
            routes = [_retime(problem, r, members), *plan.routes[1:]]
            rest = [x for x in plan.uncovered if x.household_id != u.household_id]
            return _refigure(problem, plan, routes, rest)
    return None


@_TABLE.add(_V.ORDER)
def mutate_uncovered_unsorted(problem: DoorToDoorProblem,
                              plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """List the uncovered households in reverse id order."""
    return reversed_items(plan, "uncovered")


@_TABLE.add(_V.TOTALS_MISMATCH)
def mutate_totals(problem: DoorToDoorProblem, plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """Report a second more of total travel."""
    return plan.model_copy(update={"totals": bumped(plan.totals, "travel_s")})


@_TABLE.add(_V.BOUND_MISMATCH)
def mutate_info_bound(problem: DoorToDoorProblem, plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """Report ``info.bound`` a second lower than the bound record."""
    if plan.info.bound is None:
        return None
    return plan.model_copy(update={"info": plan.info.model_copy(
        update={"bound": plan.info.bound - 1})})


@_TABLE.add(_V.REASON_FALSE)
def mutate_reason(problem: DoorToDoorProblem, plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """Claim one more eligible unit in a ``TEAMS_FULL`` reason."""
    for i, u in enumerate(plan.uncovered):
        r = u.reasons[0] if u.reasons else None
        if r is not None and r.code is DoorToDoorReasonCode.TEAMS_FULL:
            params = {**r.params, "eligible": int(r.params["eligible"]) + 1}
            uncovered = list(plan.uncovered)
            uncovered[i] = u.model_copy(update={"reasons": [r.model_copy(
                update={"params": params})]})
            return plan.model_copy(update={"uncovered": uncovered})
    return None


@_TABLE.add(_V.STATUS_FALSE)
def mutate_status_limit(problem: DoorToDoorProblem,
                        plan: DoorToDoorPlan) -> DoorToDoorPlan | None:
    """Claim status ``LIMIT`` although no household was left untried."""
    return plan.model_copy(update={"info": plan.info.model_copy(
        update={"status": SolveStatus.LIMIT})})


#: name → :class:`~commgov.testing.Mutation` of door-to-door plans.
DOOR_TO_DOOR_MUTATIONS: dict[str, Mutation] = _TABLE.mutations
