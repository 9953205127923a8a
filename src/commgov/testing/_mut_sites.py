"""Site plans: the fixture and the mutation table (testing only).

Operators that change the plan's structure (who goes where, lanes, slots, staff) then
recompute every figure, total and objective from it (:func:`_refigure`, with the verifier's
own :func:`~commgov.scheduling.sites._verify.expected_figures`), so that
:func:`~commgov.scheduling.sites.is_valid_sites_plan` reports exactly the one code.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commgov.results import Reason, SolveStatus
from commgov.scheduling.sites import (
    CandidateSite,
    OpenSite,
    SitesBuilding,
    SitesPlan,
    SitesProblem,
    SitesReasonCode,
    SitesViolationCode,
    StaffPool,
    StaffRole,
    UnservedBuilding,
)
from commgov.scheduling.sites._rules import lanes_needed, open_slots, staff_for
from commgov.scheduling.sites._verify import expected_figures
from commgov.testing._mutation import Mutation, MutationTable, bumped, drop_first, with_first
from commgov.types import GeoPoint, TimeWindow

__all__ = ["SITES_MUTATIONS", "sites_fixtures"]

_V = SitesViolationCode
_TABLE = MutationTable("sites")


def sites_fixtures() -> dict[str, SitesProblem]:
    """``{"default": problem}``: a four-hour round on 30-minute slots; sites A and B about a
    kilometre apart, C between them open only in the second half, D with one lane; twelve
    buildings near them and one 7 km away (no site in reach); an orderly pool of six."""
    start = datetime(2022, 4, 12, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    window = TimeWindow(start=start, end=start + timedelta(hours=4))
    half = TimeWindow(start=start + timedelta(hours=2), end=start + timedelta(hours=4))
    lon0, lat0 = 120.62, 31.31
    dx, dy = 1 / 95_000, 1 / 111_000  # degrees per metre, near Suzhou

    def at(x_m: float, y_m: float) -> GeoPoint:
        return GeoPoint(lon=round(lon0 + x_m * dx, 6), lat=round(lat0 + y_m * dy, 6))

    sites = [
        CandidateSite(id="A", location=at(0, 0), max_lanes=8, opening_staff_minutes=60),
        CandidateSite(id="B", location=at(950, 0), max_lanes=6, min_staff=6),
        CandidateSite(id="C", location=at(475, 300), max_lanes=4, opening=half),
        CandidateSite(id="D", location=at(0, 450), max_lanes=1, rate_per_lane_per_hour=60),
    ]
    spots = [
        (-100, 0, 310),
        (0, 150, 260),
        (120, -80, 190),
        (-60, -200, 240),
        (200, 120, 150),
        (850, 50, 220),
        (1000, -150, 180),
        (1100, 100, 130),
        (475, 250, 90),
        (500, 380, 70),
        (30, 420, 40),
        (-80, 300, 60),
    ]
    buildings = [
        SitesBuilding(id=f"b{k:02d}", location=at(x, y), residents=r)
        for k, (x, y, r) in enumerate(spots)
    ]
    buildings.append(SitesBuilding(id="far", location=at(7000, 0), residents=50))
    buildings.append(SitesBuilding(id="empty", location=at(10, 10), residents=0))
    pool = [StaffPool(role=StaffRole.ORDERLY, people=6, hours_each=4)]
    return {"default": SitesProblem(window=window, sites=sites, buildings=buildings, pool=pool)}


def _refigure(problem: SitesProblem, plan: SitesPlan) -> SitesPlan:
    """``plan`` with every site figure, total and objective tier recomputed from its
    structure; the bound and gap dropped (they were the unchanged plan's)."""
    fig = expected_figures(problem, plan)
    sites = [o.model_copy(update=fig["sites"].get(o.site_id, {})) for o in plan.sites]
    totals = plan.totals.model_copy(update=fig["totals"])
    objective = {k: float(v) for k, v in fig["objective"]._asdict().items()}
    info = plan.info.model_copy(update={"objective": objective, "bound": None, "gap": None})
    return plan.model_copy(update={"sites": sites, "totals": totals, "info": info})


def _with_lanes(problem: SitesProblem, o: OpenSite, lanes: int) -> OpenSite:
    """``o`` with ``lanes`` lanes in each slot and the policy's staff for them."""
    site = next(s for s in problem.sites if s.id == o.site_id)
    sw, rg, od = staff_for(problem, site, lanes)
    slots = [
        sl.model_copy(update={"lanes": lanes, "swabbers": sw, "registrars": rg, "orderlies": od})
        for sl in o.slots
    ]
    return o.model_copy(update={"lanes": lanes, "slots": slots})


def _relane(problem: SitesProblem, plan: SitesPlan) -> SitesPlan:
    """Each opened site with the fewest lanes its residents need, then refigured."""
    res: dict[str, int] = {}
    residents = {b.id: b.residents for b in problem.buildings}
    for a in plan.assignments:
        res[a.site_id] = res.get(a.site_id, 0) + residents[a.building_id]
    sites = []
    for o in plan.sites:
        site = next(s for s in problem.sites if s.id == o.site_id)
        lanes = lanes_needed(problem, site, len(open_slots(problem, site)), res.get(o.site_id, 0))
        sites.append(_with_lanes(problem, o, lanes or site.max_lanes))
    return _refigure(problem, plan.model_copy(update={"sites": sites}))


def _site_of(plan: SitesPlan, site_id: str) -> int:
    return next(k for k, o in enumerate(plan.sites) if o.site_id == site_id)


@_TABLE.add(_V.UNKNOWN_RECORD)
def mutate_ghost_unserved(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """An unserved building the problem does not have."""
    ghost = UnservedBuilding(
        building_id="ghost",
        residents=1,
        reasons=[Reason(code=SitesReasonCode.NO_SITE_IN_REACH, params={"limit_m": 500})],
    )
    return plan.model_copy(update={"unserved": [*plan.unserved, ghost]})


@_TABLE.add(_V.DUPLICATE_RECORD)
def mutate_assigned_twice(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """The first building assigned twice (the same site)."""
    if not plan.assignments:
        return None
    first = plan.assignments[0]
    return plan.model_copy(update={"assignments": [first, *plan.assignments]})


@_TABLE.add(_V.MISSING_BUILDING)
def mutate_building_dropped(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """The first assignment removed; lanes and figures recomputed."""
    dropped = drop_first(plan, "assignments")
    return None if dropped is None else _relane(problem, dropped)


@_TABLE.add(_V.OUT_OF_REACH)
def mutate_sent_too_far(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """A building of site A sent to site B a kilometre away; lanes and figures recomputed."""
    opened = {o.site_id for o in plan.sites}
    if not {"A", "B"} <= opened:
        return None
    k = next((k for k, a in enumerate(plan.assignments) if a.site_id == "A"), None)
    if k is None:
        return None
    moved = plan.assignments[k]
    building = next(b for b in problem.buildings if b.id == moved.building_id)
    site = next(s for s in problem.sites if s.id == "B")
    from commgov.scheduling.sites._rules import walk_m

    new = moved.model_copy(update={"site_id": "B", "walk_m": walk_m(building, site)})
    items = [*plan.assignments[:k], new, *plan.assignments[k + 1 :]]
    return _relane(problem, plan.model_copy(update={"assignments": items}))


@_TABLE.add(_V.SITE_NOT_OPENED)
def mutate_site_closed(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """The first opened site removed while its buildings still go there."""
    dropped = drop_first(plan, "sites")
    return None if dropped is None else _refigure(problem, dropped)


@_TABLE.add(_V.LANES_OVER_MAX)
def mutate_lanes_over_max(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """Site A with one lane more than it holds, staffed for them."""
    if not any(o.site_id == "A" for o in plan.sites):
        return None
    k = _site_of(plan, "A")
    site = next(s for s in problem.sites if s.id == "A")
    sites = list(plan.sites)
    sites[k] = _with_lanes(problem, sites[k], site.max_lanes + 1)
    return _refigure(problem, plan.model_copy(update={"sites": sites}))


@_TABLE.add(_V.WAIT_TARGET_MISSED)
def mutate_lane_short(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """Site A with one lane fewer (its staff kept, which is more than the rule asks)."""
    if not any(o.site_id == "A" and o.lanes >= 2 for o in plan.sites):
        return None
    k = _site_of(plan, "A")
    o = plan.sites[k]
    slots = [sl.model_copy(update={"lanes": o.lanes - 1}) for sl in o.slots]
    sites = list(plan.sites)
    sites[k] = o.model_copy(update={"lanes": o.lanes - 1, "slots": slots})
    return _refigure(problem, plan.model_copy(update={"sites": sites}))


@_TABLE.add(_V.SLOTS_MISMATCH)
def mutate_slot_dropped(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """The first opened site's first slot removed."""
    if not plan.sites or len(plan.sites[0].slots) < 2:
        return None
    first = plan.sites[0].model_copy(update={"slots": plan.sites[0].slots[1:]})
    return _refigure(problem, plan.model_copy(update={"sites": [first, *plan.sites[1:]]}))


@_TABLE.add(_V.STAFF_BELOW_RULE)
def mutate_swabber_missing(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """One swabber fewer in the first slot of the first opened site."""
    if not plan.sites or not plan.sites[0].slots:
        return None
    site = with_first(plan.sites[0], "slots", lambda sl: bumped(sl, "swabbers", -1))
    assert site is not None
    return _refigure(problem, plan.model_copy(update={"sites": [site, *plan.sites[1:]]}))


@_TABLE.add(_V.POOL_EXCEEDED)
def mutate_orderlies_beyond_pool(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """Seven more orderlies in the first slot of the first opened site (the pool has six)."""
    if not plan.sites or not plan.sites[0].slots:
        return None
    site = with_first(plan.sites[0], "slots", lambda sl: bumped(sl, "orderlies", 7))
    assert site is not None
    return _refigure(problem, plan.model_copy(update={"sites": [site, *plan.sites[1:]]}))


@_TABLE.add(_V.FIGURES_MISMATCH)
def mutate_site_residents(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """The first opened site claims one resident more."""
    changed = with_first(plan, "sites", lambda o: bumped(o, "residents"))
    return changed


@_TABLE.add(_V.REASON_WRONG)
def mutate_reason_full(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """A building with no site in reach said to find its sites full."""
    k = next(
        (
            k
            for k, u in enumerate(plan.unserved)
            if u.reasons[0].code == SitesReasonCode.NO_SITE_IN_REACH
        ),
        None,
    )
    if k is None:
        return None
    u = plan.unserved[k]
    wrong = u.model_copy(
        update={
            "reasons": [Reason(code=SitesReasonCode.SITES_FULL, params={"residents": u.residents})]
        }
    )
    return plan.model_copy(
        update={"unserved": [*plan.unserved[:k], wrong, *plan.unserved[k + 1 :]]}
    )


@_TABLE.add(_V.TOTALS_MISMATCH)
def mutate_totals_lanes(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """The totals claim one lane more."""
    return plan.model_copy(update={"totals": bumped(plan.totals, "lanes")})


@_TABLE.add(_V.OBJECTIVE_MISMATCH)
def mutate_objective_served(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """``info.objective`` claims one resident more served."""
    objective = dict(plan.info.objective)
    objective["served"] += 1
    return plan.model_copy(update={"info": plan.info.model_copy(update={"objective": objective})})


def _claimed(plan: SitesPlan, **update: object) -> SitesPlan:
    return plan.model_copy(update={"info": plan.info.model_copy(update=update)})


@_TABLE.add(_V.BOUND_PAST_OBJECTIVE)
def mutate_bound_above_staff_hours(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """``info.bound`` of a million staff-hours, above the plan's (gap left as it was)."""
    return _claimed(plan, bound=1e6)


@_TABLE.add(_V.GAP_WRONG)
def mutate_gap_negative(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """``info.gap`` of -5 (bound and value unchanged)."""
    if plan.info.bound is None:
        return None
    return _claimed(plan, gap=-5.0)


@_TABLE.add(_V.OPTIMAL_UNPROVEN)
def mutate_optimal_below_bound(problem: SitesProblem, plan: SitesPlan) -> SitesPlan | None:
    """Status ``OPTIMAL`` with a bound 10 % below the plan's staff-hours (the gap to match)."""
    hours = plan.info.objective["staff_hours"]
    if hours <= 0:
        return None
    bound = hours * 0.9
    return _claimed(
        plan, status=SolveStatus.OPTIMAL, stopped_by=None, bound=bound, gap=(hours - bound) / bound
    )


#: name → :class:`~commgov.testing.Mutation` of site plans.
SITES_MUTATIONS: dict[str, Mutation] = _TABLE.mutations
