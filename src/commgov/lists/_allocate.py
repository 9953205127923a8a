"""Exact needs ↔ resources allocation (a transportation problem) and its projects.

Network, built in id order (needs, then resources, then the sink)::

    need i (supply: open quantity) ─(min(open_i, avail_j), distance_m)─► resource j
        │                                                                    │ (avail_j, 0)
        └─────────────(open_i, M·priority_i: "unmet")──────────────────────► sink

Arcs exist only where :func:`~commgov.lists._allocation.eligible` holds (same category and
measure, distance ≤ ``max_distance_m``, shared time from ``at`` on). With
``M = 1 + min(Σ_i open_i·maxd_i, (nodes)·maxd)`` every flow that leaves less
priority-weighted quantity unmet is cheaper than any that leaves more, whatever the
distances: the minimum cost minimises Σ priority × unmet, then Σ metres × quantity (two tiers).
(The second bound on M: the difference of two flows splits into simple cycles of at most
``nodes`` arcs, each changing the distance tier by at most ``nodes·maxd`` per unit.) The
unmet arcs keep supply balanced, so the solve is always feasible. Method: min-cost flow
(Ahuja, Magnanti & Orlin, *Network Flows*, 1993), OR-Tools' ``SimpleMinCostFlow``.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import ValidationError

from commgov.errors import InputError, InputIssue, SizeLimitError, SolverError, expect_type
from commgov.lists._allocation import (
    Allocation,
    AllocationFlow,
    AllocationTotals,
    IdleResource,
    UnmetNeed,
    allocation_distance_m,
    check_options,
    check_places,
    common_window,
    same_kind,
    scope,
    time_compatible,
    unmet_reason,
)
from commgov.lists._container import ThreeLists
from commgov.lists._lifecycle import Status
from commgov.lists._records import Formation, ListItem, Project, transition
from commgov.results import SolveInfo, SolveStatus, library_versions
from commgov.types import GeoPoint

__all__ = ["MAX_ALLOCATION_ARCS", "allocate", "apply_allocation"]

_log = logging.getLogger("commgov.lists")

#: Size guard: the allocation network may have at most this many need → resource arcs.
MAX_ALLOCATION_ARCS = 20_000_000
_INT64_LIMIT = 2**63


def allocate(
    lists: ThreeLists,
    *,
    at: datetime,
    places: Mapping[str, GeoPoint] | None = None,
    max_distance_m: int | None = None,
) -> Allocation:
    """Allocate resources to needs exactly, by category, place, quantity and time.

    A transportation problem (supply: the resources' available quantities; demand: the
    needs' open quantities; see :func:`~commgov.lists._allocation.scope`) solved as a
    min-cost flow (Ahuja, Magnanti & Orlin, *Network Flows*, 1993; OR-Tools
    ``SimpleMinCostFlow``, imported only here). A resource can serve a need when both have
    the same category and ``measure``, their places are at most ``max_distance_m`` apart,
    and the need's window (any occurrence of a recurring need) overlaps the resource's
    availability after ``at`` (an item without a window is open at all times). The objective
    is lexicographic: first minimise Σ priority × quantity unmet, then Σ distance in metres ×
    quantity. Quantities may split: a need can draw on several resources and a resource
    serve several needs. The network is built in id order, so the result does not depend on
    the input order; among equally good optima the solver's choice on that id-ordered
    network is kept (deterministic, not a documented id rule). Nothing is changed: apply the
    result with :func:`apply_allocation`.

    Parameters
    ----------
    lists : ThreeLists
        The lists. Needs and resources in status ``raised`` or ``matched``, raised at or
        before ``at``, take part; projects linking one need and one resource count as
        already committed quantity.
    at : datetime
        The allocation instant (timezone-aware): time before it does not count.
    places : mapping of str to GeoPoint, optional
        Place id → WGS84 point, for the ``place_id`` of every need and resource in scope.
        Without it all distances are 0.
    max_distance_m : int, optional
        Largest distance in metres between a need's and a resource's places (needs
        ``places``); ``None``: no limit.

    Returns
    -------
    Allocation
        Flows (need, resource, quantity, distance in metres), unmet needs each with one
        reason (``NO_RESOURCE_OF_CATEGORY``, ``RESOURCE_TOO_FAR``, ``NO_RESOURCE_IN_WINDOW``,
        ``RESOURCE_QUANTITY_USED``), idle resources with quantity left, totals and
        :class:`~commgov.results.SolveInfo` (status ``OPTIMAL``, objective tiers
        ``unmet_priority`` and ``distance_quantity_m``, versions).

    Raises
    ------
    TypeError
        If ``lists`` is not a ThreeLists, ``at`` not a datetime, ``max_distance_m`` not an
        int or ``places`` not a mapping.
    ValueError
        If ``at`` is naive, ``max_distance_m`` negative or given without ``places``.
    commgov.errors.InputError
        If a need or resource in scope has no ``place_id`` or one missing from ``places``
        (each issue names the item, ``place_id`` and the value).
    commgov.errors.SizeLimitError
        If the network exceeds :data:`MAX_ALLOCATION_ARCS` arcs or its costs could overflow
        64-bit integers.
    commgov.errors.SolverError
        If OR-Tools returns a status other than optimal.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from commgov.lists import Need, Resource, ThreeLists, allocate
    >>> t = datetime(2022, 4, 10, 8, tzinfo=timezone.utc)
    >>> n = Need(id="n1", title="rice", category="food_supplies", unit_id="c1", quantity=3,
    ...          raised_at=t, recorded_by="w1", source="household_visit")
    >>> r = Resource(id="r1", title="rice", category="food_supplies", unit_id="c1",
    ...              quantity=2, raised_at=t, recorded_by="w1", provider_id="org1",
    ...              provider_kind="partner_team", resource_type="goods")
    >>> a = allocate(ThreeLists(needs=(n,), resources=(r,)), at=t)
    >>> [(f.need_id, f.resource_id, f.quantity) for f in a.flows]
    [('n1', 'r1', 2)]
    >>> a.unmet[0].reason.code.value, a.unmet[0].short
    ('RESOURCE_QUANTITY_USED', 1)
    """
    expect_type(lists, ThreeLists, "lists", "ThreeLists(needs=…, resources=…)")
    check_options(at, max_distance_m, places)
    sc = scope(lists, at)
    needs = [n for n, _ in sc.needs.values()]
    resources = [r for r, _ in sc.resources.values()]
    issues = check_places([*needs, *resources], places)
    if issues:
        raise InputError(issues, what=_WHAT)

    by_kind: dict[tuple[str, str], list[int]] = {}
    for j, r in enumerate(resources):
        by_kind.setdefault((r.category.value, r.measure), []).append(j)
    avail = [q for _, q in sc.resources.values()]
    open_q = [q for _, q in sc.needs.values()]
    arcs: list[tuple[int, int, int]] = []  # (need index, resource index, distance_m)
    maxd = [0] * len(needs)
    for i, n in enumerate(needs):
        for j in by_kind.get((n.category.value, n.measure), ()):
            r = resources[j]
            if avail[j] == 0:
                continue
            d = allocation_distance_m(n, r, places)
            if max_distance_m is not None and d > max_distance_m:
                continue
            if not time_compatible(n, r, at):
                continue
            arcs.append((i, j, d))
            maxd[i] = max(maxd[i], d)
        if len(arcs) > MAX_ALLOCATION_ARCS:
            raise SizeLimitError(
                f"allocation network exceeds {MAX_ALLOCATION_ARCS:,} arcs: split the lists "
                "(by unit or category) or set max_distance_m"
            )

    flows = _solve(needs, resources, open_q, avail, arcs, maxd)
    got_need: Counter[int] = Counter()
    got_res: Counter[int] = Counter()
    out_flows = []
    for (i, j, d), f in zip(arcs, flows, strict=True):
        if f > 0:
            got_need[i] += f
            got_res[j] += f
            out_flows.append(
                AllocationFlow(
                    need_id=needs[i].id, resource_id=resources[j].id, quantity=f, distance_m=d
                )
            )
    out_flows.sort(key=lambda fl: (fl.need_id, fl.resource_id))
    unmet = []
    t1 = 0
    for i, n in enumerate(needs):
        short = open_q[i] - got_need[i]
        if short > 0:
            t1 += n.priority * short
            reason = unmet_reason(
                n, short, resources, at=at, places=places, max_distance_m=max_distance_m
            )
            unmet.append(
                UnmetNeed(
                    need_id=n.id,
                    priority=n.priority,
                    asked=open_q[i],
                    allocated=got_need[i],
                    short=short,
                    reason=reason,
                )
            )
    idle = [
        IdleResource(
            resource_id=r.id, available=avail[j], used=got_res[j], left=avail[j] - got_res[j]
        )
        for j, r in enumerate(resources)
        if got_res[j] < avail[j]
    ]
    t2 = sum(fl.distance_m * fl.quantity for fl in out_flows)
    allocated = sum(got_need.values())
    totals = AllocationTotals(
        needs=len(needs),
        resources=len(resources),
        asked=sum(open_q),
        allocated=allocated,
        short=sum(open_q) - allocated,
        left=sum(i.left for i in idle),
        priority_asked=sum(n.priority * q for n, q in zip(needs, open_q, strict=True)),
        priority_served=sum(needs[i].priority * q for i, q in got_need.items()),
        distance_quantity_m=t2,
    )
    info = SolveInfo(
        status=SolveStatus.OPTIMAL,
        solver="min-cost-flow",
        objective={"unmet_priority": float(t1), "distance_quantity_m": float(t2)},
        options={
            "at": at.isoformat(),
            "max_distance_m": max_distance_m,
            "places": places is not None,
        },
        versions=library_versions("ortools"),
    )
    return Allocation(
        at=at,
        max_distance_m=max_distance_m,
        flows=tuple(out_flows),
        unmet=tuple(unmet),
        idle=tuple(idle),
        totals=totals,
        info=info,
    )


_WHAT = "allocation input"


def _solve(
    needs: Sequence[ListItem],
    resources: Sequence[ListItem],
    open_q: list[int],
    avail: list[int],
    arcs: list[tuple[int, int, int]],
    maxd: list[int],
) -> list[int]:
    """Flow on each arc of ``arcs`` at the lexicographic optimum (see the module docstring)."""
    if not needs or not arcs:
        return [0] * len(arcs)
    n_need, n_res = len(needs), len(resources)
    sink = n_need + n_res
    nodes = sink + 1
    big_m = 1 + min(
        sum(q * d for q, d in zip(open_q, maxd, strict=True)), nodes * max(maxd, default=0)
    )
    max_cost = big_m * max(n.priority for n in needs)
    worst_total = max_cost * sum(open_q) + max(maxd) * sum(open_q)
    if max_cost * nodes * nodes >= _INT64_LIMIT or worst_total >= _INT64_LIMIT:
        raise SizeLimitError(
            f"allocation costs could overflow 64-bit integers (unmet weight {big_m:,} per "
            f"priority, {sum(open_q):,} units, {nodes:,} nodes): split the lists or lower "
            "quantities or max_distance_m"
        )
    import numpy as np
    from ortools.graph.python import min_cost_flow

    mcf = min_cost_flow.SimpleMinCostFlow()
    tails = [i for i, _, _ in arcs]
    heads = [n_need + j for _, j, _ in arcs]
    caps = [min(open_q[i], avail[j]) for i, j, _ in arcs]
    costs = [d for _, _, d in arcs]
    for i, n in enumerate(needs):
        tails.append(i)
        heads.append(sink)
        caps.append(open_q[i])
        costs.append(big_m * n.priority)
    for j in range(n_res):
        tails.append(n_need + j)
        heads.append(sink)
        caps.append(avail[j])
        costs.append(0)
    mcf.add_arcs_with_capacity_and_unit_cost(
        np.array(tails, dtype=np.int32),
        np.array(heads, dtype=np.int32),
        np.array(caps, dtype=np.int64),
        np.array(costs, dtype=np.int64),
    )
    supplies = np.zeros(nodes, dtype=np.int64)
    supplies[:n_need] = open_q
    supplies[sink] = -sum(open_q)
    mcf.set_nodes_supplies(np.arange(nodes, dtype=np.int32), supplies)
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        raise SolverError(f"OR-Tools min-cost flow returned status {status} on the allocation")
    flows = mcf.flows(np.arange(len(arcs), dtype=np.int32))
    return [int(f) for f in flows]


def apply_allocation(
    lists: ThreeLists,
    allocation: Allocation,
    *,
    by: str,
    formation: Formation | str = Formation.MATCHED_AT_JOINT_MEETING,
    id_prefix: str = "prj:",
) -> ThreeLists:
    """The lists with an allocation applied: projects created or updated, items matched.

    For each flow, the live project (status ``raised``, i.e. proposed) that links exactly
    this need and this resource gets the flow's quantity added; if there is none, a new
    project is created: id ``<id_prefix><need id>+<resource id>`` (a hash when longer than
    200 characters; ``#2``, ``#3`` … when taken), the need's title, category, unit, place,
    measure and priority, the flow's quantity, the common window of need and resource,
    ``lead_org_id`` the resource's provider, status ``raised`` (proposed), raised at
    ``allocation.at`` by ``by``. Every need and resource with a flow moves ``raised →
    matched`` (:func:`~commgov.lists.transition`, who ``by``, when ``allocation.at``); a
    need matched only in part stays ``matched`` with the rest open (its committed quantity is
    the sum of its pair projects, so the next allocation offers only the rest).

    Parameters
    ----------
    lists : ThreeLists
        The lists the allocation was made from.
    allocation : Allocation
        The result of :func:`allocate` on ``lists``.
    by : str
        Id of who applies it (a person, team or organisation id).
    formation : Formation or str, default ``matched_at_joint_meeting``
        How the new projects were formed.
    id_prefix : str, default ``"prj:"``
        Prefix of new project ids.

    Returns
    -------
    ThreeLists
        New lists; ``lists`` is unchanged, and nothing is applied if anything fails.

    Raises
    ------
    commgov.errors.InputError
        If a flow names a need or resource that is not in scope any more, of another
        category or measure, or draws more than is open or available (a stale allocation),
        or a new project or its quantity is invalid; each issue names the flow or item,
        field and value.
    commgov.errors.LifecycleError
        If an item's last change is after ``allocation.at``.
    TypeError
        If ``lists`` or ``allocation`` is of the wrong type.
    """
    expect_type(lists, ThreeLists, "lists")
    expect_type(allocation, Allocation, "allocation", "the result of allocate()")
    expect_type(by, str, "by", "an id of who applies it")
    form = Formation(formation)
    at = allocation.at
    sc = scope(lists, at)
    issues: list[InputIssue] = []
    drawn_need: Counter[str] = Counter()
    drawn_res: Counter[str] = Counter()
    for f in allocation.flows:
        where = f"flow {f.need_id}+{f.resource_id}"
        if f.need_id not in sc.needs:
            issues.append(InputIssue(where, "need_id", f.need_id, "is not an open need in scope"))
            continue
        if f.resource_id not in sc.resources:
            issues.append(
                InputIssue(where, "resource_id", f.resource_id, "is not a resource in scope")
            )
            continue
        need, resource = sc.needs[f.need_id][0], sc.resources[f.resource_id][0]
        if not same_kind(need, resource):
            issues.append(
                InputIssue(
                    where,
                    "resource_id",
                    f.resource_id,
                    f"is {resource.category.value} in {resource.measure}, the need "
                    f"{need.category.value} in {need.measure}",
                )
            )
        drawn_need[f.need_id] += f.quantity
        drawn_res[f.resource_id] += f.quantity
    for nid, q in sorted(drawn_need.items()):
        if q > sc.needs[nid][1]:
            issues.append(
                InputIssue(nid, "quantity", q, f"exceeds the open quantity {sc.needs[nid][1]}")
            )
    for rid, q in sorted(drawn_res.items()):
        if q > sc.resources[rid][1]:
            issues.append(
                InputIssue(rid, "quantity", q, f"exceeds the available {sc.resources[rid][1]}")
            )
    if issues:
        raise InputError(issues, what="allocation does not fit the lists (stale?)")

    taken = {i.id for i in (*lists.needs, *lists.resources, *lists.projects)}
    updatable: dict[tuple[str, str], Project] = {}
    for p in lists.projects:  # sorted by id: the first such project is updated
        if p.status == Status.RAISED and len(p.need_ids) == 1 and len(p.resource_ids) == 1:
            updatable.setdefault((p.need_ids[0], p.resource_ids[0]), p)
    changed: list[ListItem] = []
    try:
        for f in allocation.flows:
            need, resource = sc.needs[f.need_id][0], sc.resources[f.resource_id][0]
            old = updatable.get((f.need_id, f.resource_id))
            if old is not None:
                data = old.model_dump()
                data["quantity"] = old.quantity + f.quantity
                changed.append(Project.model_validate(data))
                continue
            pid = _project_id(id_prefix, f.need_id, f.resource_id, taken)
            taken.add(pid)
            window = common_window(need, resource, at)
            finite = window is not None and window[1].year < 9999
            title = f"{need.title} ← {resource.title}"
            changed.append(
                Project(
                    id=pid,
                    title=title if len(title) <= 200 else title[:199] + "…",
                    category=need.category,
                    unit_id=need.unit_id,
                    place_id=need.place_id,
                    quantity=f.quantity,
                    measure=need.measure,
                    window={"start": window[0], "end": window[1]} if finite and window else None,
                    priority=need.priority,
                    raised_at=at,
                    recorded_by=by,
                    need_ids=(need.id,),
                    resource_ids=(resource.id,),
                    lead_org_id=resource.provider_id,
                    formation=form,
                )
            )
        for item_id in sorted({*drawn_need, *drawn_res}):
            item = sc.needs[item_id][0] if item_id in sc.needs else sc.resources[item_id][0]
            if item.status == Status.RAISED:
                q = drawn_need.get(item_id) or drawn_res[item_id]
                changed.append(
                    transition(
                        item, Status.MATCHED, by=by, at=at, why=f"allocated {q} {item.measure}"
                    )
                )
    except ValidationError as exc:
        raise InputError.from_validation(exc, record="project", what="allocation projects") from exc
    try:
        return lists.replace(*changed)
    except ValidationError as exc:
        raise InputError.from_validation(exc, record="lists", what="allocation result") from exc


def _project_id(prefix: str, need_id: str, resource_id: str, taken: set[str]) -> str:
    base = f"{prefix}{need_id}+{resource_id}"
    if len(base) > 190:
        digest = hashlib.sha256(f"{need_id}\0{resource_id}".encode()).hexdigest()[:24]
        base = f"{prefix[:100]}{digest}"
    pid, k = base, 1
    while pid in taken:
        k += 1
        pid = f"{base}#{k}"
    return pid
