"""Needs ↔ resources allocations: the fixtures and the mutation table (testing only).

An allocation's problem is more than the lists: :class:`AllocationCase` bundles the lists with
``at``, ``places`` and ``max_distance_m``, the arguments of :func:`~commgov.lists.allocate`.
Operators that change flows recompute unmet needs (with the reasons of the shared rules), idle
resources, totals and objective (:func:`_rebuild`), so that
:func:`~commgov.lists.is_valid_allocation` reports exactly the one broken rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from commgov.lists import (
    Allocation,
    AllocationFlow,
    AllocationReasonCode,
    AllocationTotals,
    AllocationViolationCode,
    IdleResource,
    Need,
    Resource,
    ThreeLists,
    UnmetNeed,
)
from commgov.lists.allocation._rules import (
    allocation_distance_m,
    eligible,
    scope,
    unmet_reason,
)
from commgov.results import Reason
from commgov.testing._mutation import (
    Mutation,
    MutationTable,
    bumped,
    drop_first,
    emptied,
    reversed_items,
    with_first,
)
from commgov.types import GeoPoint

__all__ = ["ALLOCATION_MUTATIONS", "AllocationCase", "allocation_fixtures"]

_V = AllocationViolationCode
_TABLE = MutationTable("allocation")


@dataclass(frozen=True)
class AllocationCase:
    """The problem of an allocation: the lists and the other arguments of ``allocate``.

    Attributes
    ----------
    lists : ThreeLists
    at : datetime
        The allocation instant (tz-aware).
    places : mapping of str to GeoPoint or None
        Place id → point.
    max_distance_m : int or None
        Reach limit in metres (needs ``places``).
    """

    lists: ThreeLists
    at: datetime
    places: Mapping[str, GeoPoint] | None = field(default=None)
    max_distance_m: int | None = None


_T0 = datetime(2022, 4, 10, 8, 0, tzinfo=UTC)
_H = timedelta(hours=1)


def _need(nid: str, q: int, *, cat: str = "food_supplies", place: str = "b0", prio: int = 1,
          raised: datetime = _T0 - 10 * _H) -> Need:
    return Need(id=nid, title=f"need {nid}", category=cat, unit_id="c1", place_id=place,
                quantity=q, priority=prio, raised_at=raised, recorded_by="w1",
                source="household_visit")


def _resource(rid: str, q: int, *, cat: str = "food_supplies", place: str = "b0") -> Resource:
    return Resource(id=rid, title=f"offer {rid}", category=cat, unit_id="c1", place_id=place,
                    quantity=q, raised_at=_T0 - 10 * _H, recorded_by="w1",
                    provider_id="org1", provider_kind="partner_team", resource_type="goods")


def allocation_fixtures() -> dict[str, AllocationCase]:
    """``"default"``: food needs (one left short, all food used), a medical need nobody
    offers, a home-repair need with an idle home-repair resource, places and a 2 km reach,
    and a need raised an hour after ``at`` whose place is unknown; ``"no_places"``: the same
    lists without places."""
    places = {f"b{k}": GeoPoint(lon=120.60 + 0.001 * k, lat=31.30) for k in range(5)}
    lists = ThreeLists(
        needs=(_need("n1", 3, place="b0", prio=2), _need("n2", 2, cat="medical"),
               _need("n3", 4, place="b2"), _need("n4", 2, cat="home_repair", place="b3"),
               _need("n9-later", 1, place="nowhere", raised=_T0 + _H)),
        resources=(_resource("r1", 2, place="b1"), _resource("r2", 3, place="b2"),
                   _resource("r3", 5, cat="home_repair", place="b4")),
    )
    return {"default": AllocationCase(lists, _T0, places, 2000),
            "no_places": AllocationCase(lists, _T0)}


def _rebuild(case: AllocationCase, allocation: Allocation,
             flows: list[AllocationFlow]) -> Allocation:
    """``allocation`` with ``flows`` (sorted) and unmet needs, idle resources, totals and
    objective recomputed by the shared rules."""
    flows = sorted(flows, key=lambda f: (f.need_id, f.resource_id))
    sc = scope(case.lists, allocation.at)
    got_n: Counter[str] = Counter()
    got_r: Counter[str] = Counter()
    for f in flows:
        got_n[f.need_id] += f.quantity
        got_r[f.resource_id] += f.quantity
    resources = [r for r, _ in sc.resources.values()]
    unmet = []
    for nid, (need, q) in sorted(sc.needs.items()):
        if got_n[nid] < q:
            short = q - got_n[nid]
            unmet.append(UnmetNeed(
                need_id=nid, priority=need.priority, asked=q, allocated=got_n[nid], short=short,
                reason=unmet_reason(need, short, resources, at=allocation.at, places=case.places,
                                    max_distance_m=allocation.max_distance_m)))
    idle = [IdleResource(resource_id=rid, available=q, used=got_r[rid], left=q - got_r[rid])
            for rid, (_, q) in sorted(sc.resources.items()) if got_r[rid] < q]
    asked, allocated = sum(q for _, q in sc.needs.values()), sum(got_n.values())
    t2 = sum(f.distance_m * f.quantity for f in flows)
    totals = AllocationTotals(
        needs=len(sc.needs), resources=len(sc.resources), asked=asked, allocated=allocated,
        short=max(0, asked - allocated), left=sum(i.left for i in idle),
        priority_asked=sum(n.priority * q for n, q in sc.needs.values()),
        priority_served=sum(sc.needs[n][0].priority * q for n, q in got_n.items()),
        distance_quantity_m=t2)
    objective = {"unmet_priority": float(sum(u.priority * u.short for u in unmet)),
                 "distance_quantity_m": float(t2)}
    return allocation.model_copy(update={
        "flows": flows, "unmet": unmet, "idle": idle, "totals": totals,
        "info": allocation.info.model_copy(update={"objective": objective})})


def _flow(case: AllocationCase, need: Need, resource: Resource, q: int) -> AllocationFlow:
    return AllocationFlow(need_id=need.id, resource_id=resource.id, quantity=q,
                          distance_m=allocation_distance_m(need, resource, case.places))


def _add(case: AllocationCase, allocation: Allocation, need_ok: bool, res_ok: bool,
         want_eligible: bool) -> Allocation | None:
    """One more unit from a resource to a need: ``need_ok``/``res_ok`` whether the need and
    the resource still have room; ``want_eligible`` whether the pair must be eligible."""
    sc = scope(case.lists, allocation.at)
    got_n = Counter({n: 0 for n in sc.needs})
    got_r = Counter({r: 0 for r in sc.resources})
    for f in allocation.flows:
        got_n[f.need_id] += f.quantity
        got_r[f.resource_id] += f.quantity
    for nid, (need, q) in sorted(sc.needs.items()):
        if (got_n[nid] < q) != need_ok:
            continue
        for rid, (res, rq) in sorted(sc.resources.items()):
            ok = eligible(need, res, at=allocation.at, places=case.places,
                          max_distance_m=allocation.max_distance_m)
            if (got_r[rid] < rq) != res_ok or ok != want_eligible:
                continue
            flows = [f for f in allocation.flows if (f.need_id, f.resource_id) != (nid, rid)]
            old = sum(f.quantity for f in allocation.flows
                      if (f.need_id, f.resource_id) == (nid, rid))
            return _rebuild(case, allocation, [*flows, _flow(case, need, res, old + 1)])
    return None


@_TABLE.add(_V.NO_PLACES, fixture="no_places")
def mutate_no_places(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Claim a 1 km reach for an allocation made without places."""
    if case.places is not None:
        return None
    return allocation.model_copy(update={"max_distance_m": 1000})


@_TABLE.add(_V.PLACE_MISSING)
def mutate_later(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Claim the allocation was made two hours later, when a need whose place is unknown is
    in scope."""
    if case.places is None:
        return None
    return allocation.model_copy(update={"at": allocation.at + 2 * _H})


@_TABLE.add(_V.FLOWS_UNSORTED)
def mutate_flows_unsorted(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """List the flows in reverse order."""
    return reversed_items(allocation, "flows")


@_TABLE.add(_V.FLOW_OUT_OF_SCOPE)
def mutate_out_of_scope(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Add a flow to a need raised after ``at`` (in id order)."""
    sc = scope(case.lists, allocation.at)
    later = [n for n in case.lists.needs if n.id not in sc.needs]
    if not later or not sc.resources:
        return None
    rid = sorted(sc.resources)[0]
    extra = AllocationFlow(need_id=later[0].id, resource_id=rid, quantity=1, distance_m=0)
    flows = sorted([*allocation.flows, extra], key=lambda f: (f.need_id, f.resource_id))
    return allocation.model_copy(update={"flows": flows})


@_TABLE.add(_V.FLOW_NOT_ELIGIBLE)
def mutate_not_eligible(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Give a short need a unit of an idle resource it may not use (figures follow)."""
    return _add(case, allocation, need_ok=True, res_ok=True, want_eligible=False)


@_TABLE.add(_V.DISTANCE_MISMATCH)
def mutate_distance(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Report one flow's distance a metre longer."""
    return with_first(allocation, "flows", lambda f: bumped(f, "distance_m"))


@_TABLE.add(_V.NEED_OVER_ALLOCATED)
def mutate_need_over(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Give a fully served need one more unit of an eligible idle resource (figures follow)."""
    return _add(case, allocation, need_ok=False, res_ok=True, want_eligible=True)


@_TABLE.add(_V.RESOURCE_OVER_USED)
def mutate_resource_over(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Give a short need one more unit of an eligible, fully used resource (figures follow)."""
    return _add(case, allocation, need_ok=True, res_ok=False, want_eligible=True)


@_TABLE.add(_V.UNMET_MISMATCH)
def mutate_unmet_dropped(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Leave a short need out of the unmet list."""
    return drop_first(allocation, "unmet")


@_TABLE.add(_V.IDLE_MISMATCH)
def mutate_idle_dropped(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Leave the idle resources out."""
    return emptied(allocation, "idle")


@_TABLE.add(_V.RECORD_MISMATCH)
def mutate_unmet_asked(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Report a short need asking one unit more than it does."""
    return with_first(allocation, "unmet", lambda u: bumped(u, "asked"))


@_TABLE.add(_V.REASON_FALSE)
def mutate_reason(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Blame a short need on the lack of resources in its window."""
    for i, u in enumerate(allocation.unmet):
        if u.reason.code is not AllocationReasonCode.NO_RESOURCE_IN_WINDOW:
            unmet = list(allocation.unmet)
            unmet[i] = u.model_copy(update={"reason": Reason(
                code=AllocationReasonCode.NO_RESOURCE_IN_WINDOW)})
            return allocation.model_copy(update={"unmet": unmet})
    return None


@_TABLE.add(_V.TOTALS_MISMATCH)
def mutate_totals(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Report one unit more allocated in the totals."""
    return allocation.model_copy(update={"totals": bumped(allocation.totals, "allocated")})


@_TABLE.add(_V.OBJECTIVE_MISMATCH)
def mutate_objective(case: AllocationCase, allocation: Allocation) -> Allocation | None:
    """Report the distance tier a metre higher."""
    tiers = dict(allocation.info.objective)
    tiers["distance_quantity_m"] = tiers.get("distance_quantity_m", 0.0) + 1.0
    return allocation.model_copy(update={"info": allocation.info.model_copy(
        update={"objective": tiers})})


#: name → :class:`~commgov.testing.Mutation` of allocations (problems are
#: :class:`AllocationCase`).
ALLOCATION_MUTATIONS: dict[str, Mutation] = _TABLE.mutations
