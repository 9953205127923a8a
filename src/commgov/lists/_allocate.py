"""Exact needs ↔ resources allocation (a transportation problem) and its projects.

Network, built in id order (needs, then resources, then the sink)::

    need i (supply: open quantity) ─(min(open_i, avail_j), distance_m)─► resource j
        │                                                                    │ (avail_j, 0)
        └─────────────(open_i, M·priority_i: "unmet")──────────────────────► sink

Arcs exist only where :func:`~commgov.lists._allocation.eligible` holds (same category and
measure, distance ≤ ``max_distance_m``, shared time from ``at`` on); :func:`_network` finds
them vectorised with numpy (per category and measure, a latitude band for the limit, integer
microseconds for time, an exact scalar recheck of every distance whose rounding is in doubt),
equal to the per-pair rule arc for arc (tested). With
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
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from commgov.errors import InputError, InputIssue, SizeLimitError, SolverError, expect_type
from commgov.lists._allocation import (
    Allocation,
    AllocationFlow,
    AllocationTotals,
    IdleResource,
    UnmetNeed,
    _spans,
    allocation_distance_m,
    check_options,
    check_places,
    common_window,
    same_kind,
    scope,
)
from commgov.lists._container import ThreeLists
from commgov.lists._lifecycle import Status
from commgov.lists._records import Formation, ListItem, Need, Project, Resource, transition
from commgov.results import Reason, ReasonCode, SolveInfo, SolveStatus, library_versions
from commgov.types import EARTH_RADIUS_M, GeoPoint

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

    avail = [q for _, q in sc.resources.values()]
    open_q = [q for _, q in sc.needs.values()]
    net = _network(needs, resources, avail, at, places, max_distance_m)
    maxd = net.max_distance()

    flows = _solve(needs, resources, open_q, avail, net, maxd)
    got_need: Counter[int] = Counter()
    got_res: Counter[int] = Counter()
    out_flows = []
    for k in flows.nonzero()[0].tolist():
        i, j, d, f = int(net.tail[k]), int(net.head[k]), int(net.dist[k]), int(flows[k])
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
            reason = _unmet_reason(net, i, n, short, max_distance_m)
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
    net: _Network,
    maxd: list[int],
) -> Any:
    """Flow on each arc of ``net`` at the lexicographic optimum (see the module docstring).

    Returns
    -------
    numpy.ndarray
        One int64 flow per arc, in the order of ``net``.
    """
    import numpy as np

    n_arcs = len(net.tail)
    if not needs or not n_arcs:
        return np.zeros(n_arcs, dtype=np.int64)
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
    from ortools.graph.python import min_cost_flow

    open_a = np.array(open_q, dtype=np.int64)
    avail_a = np.array(avail, dtype=np.int64)
    prio = np.array([n.priority for n in needs], dtype=np.int64)
    mcf = min_cost_flow.SimpleMinCostFlow()
    # arcs in this order: need → resource (net order), need → sink (unmet), resource → sink
    tails = np.concatenate([net.tail, np.arange(n_need), n_need + np.arange(n_res)])
    heads = np.concatenate([n_need + net.head, np.full(n_need + n_res, sink)])
    caps = np.concatenate([np.minimum(open_a[net.tail], avail_a[net.head]), open_a, avail_a])
    costs = np.concatenate([net.dist, big_m * prio, np.zeros(n_res, dtype=np.int64)])
    mcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32),
        heads.astype(np.int32),
        caps.astype(np.int64),
        costs.astype(np.int64),
    )
    supplies = np.zeros(nodes, dtype=np.int64)
    supplies[:n_need] = open_q
    supplies[sink] = -sum(open_q)
    mcf.set_nodes_supplies(np.arange(nodes, dtype=np.int32), supplies)
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        raise SolverError(f"OR-Tools min-cost flow returned status {status} on the allocation")
    return np.asarray(mcf.flows(np.arange(n_arcs, dtype=np.int32)), dtype=np.int64)


# --------------------------------------------------------------------------- network

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Needs per block of the vectorised eligibility, and time spans (rows) per block.
_BLOCK_NEEDS = 256
_BLOCK_SPANS = 1024
#: Pairs (block needs × candidate resources) computed at once, at most (about).
_BLOCK_PAIRS = 1_000_000


def _micros(t: datetime) -> int:
    """Exact microseconds since the Unix epoch of an aware datetime (orders like it)."""
    delta = t - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True, slots=True)
class _Network:
    """The need → resource arcs of :func:`allocate` and the counts its reasons need.

    Attributes
    ----------
    tail, head, dist : numpy.ndarray
        Need index, resource index and distance_m (int64) of every arc, sorted by (need,
        resource): the pairs that are :func:`~commgov.lists._allocation.eligible` and whose
        resource has quantity available.
    n_kind, n_near, n_eligible : list of int
        Per need: resources in scope of its category and measure; of those, within
        ``max_distance_m``; of those, sharing time with it (available quantity or not).
    nearest_m : dict of int to int
        Per need with resources of its kind but none within the limit: the distance to the
        nearest of them.
    """

    tail: Any
    head: Any
    dist: Any
    n_kind: list[int]
    n_near: list[int]
    n_eligible: list[int]
    nearest_m: dict[int, int]

    def max_distance(self) -> list[int]:
        """Per need, the largest distance_m of its arcs (0 without arcs), as Python ints."""
        import numpy as np

        out = np.zeros(len(self.n_kind), dtype=np.int64)
        np.maximum.at(out, self.tail, self.dist)
        return [int(x) for x in out.tolist()]


def _approx_m(n_lat: Any, n_lon: Any, r_lat: Any, r_lon: Any) -> Any:
    """``haversine_m + 0.5`` of (need, resource) pairs, vectorised (broadcast), unrounded.

    The formula and operation order of :func:`commgov.types.haversine_m` (need first), on
    numpy's transcendental functions, which may differ from libm in the last bits.
    """
    import numpy as np

    p1 = np.radians(n_lat)
    p2 = np.radians(r_lat)
    dl = np.radians(r_lon - n_lon)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) + 0.5


def _unsure(x: Any, floor: Any) -> Any:
    """Where rounding ``x`` down could differ between numpy and libm (within 1e-9 relative of
    an integer, or not finite): those distances are recomputed exactly."""
    import numpy as np

    frac = x - floor
    return (np.minimum(frac, 1.0 - frac) <= 1e-9 * (1.0 + np.abs(x))) | ~np.isfinite(x)


def _network(
    needs: Sequence[Need],
    resources: Sequence[Resource],
    avail: list[int],
    at: datetime,
    places: Mapping[str, GeoPoint] | None,
    max_distance_m: int | None,
) -> _Network:
    """The allocation arcs, vectorised per category and measure, equal to the per-pair rules.

    For each kind (category, measure), needs are taken in blocks in latitude order; the
    candidate resources of a block are those of the kind in a latitude band that holds every
    resource within ``max_distance_m`` + 1 m of a need of the block (a great-circle distance is
    at least R·|Δlatitude|), all of the kind without a limit. Time overlap is computed on exact
    integer microseconds of the spans of :func:`~commgov.lists._allocation.common_window`.
    Distances use the formula of :func:`commgov.types.haversine_m` on numpy; wherever
    ``distance + 0.5`` lies within a relative 1e-9 of an integer (so that a last-bit difference
    could change the whole metre, hence also the limit comparison), it is recomputed with
    :func:`~commgov.lists._allocation.allocation_distance_m` itself. So the arcs, distances
    and counts are exactly those of the per-pair predicate
    :func:`~commgov.lists._allocation.eligible` (a test compares them on random instances).

    Raises
    ------
    commgov.errors.SizeLimitError
        If there are more than :data:`MAX_ALLOCATION_ARCS` arcs.
    """
    import numpy as np

    n_need = len(needs)
    n_kind = np.zeros(n_need, dtype=np.int64)
    n_near = np.zeros(n_need, dtype=np.int64)
    n_elig = np.zeros(n_need, dtype=np.int64)
    nearest: dict[int, int] = {}
    res_by_kind: dict[tuple[str, str], list[int]] = {}
    for j, r in enumerate(resources):
        res_by_kind.setdefault((r.category.value, r.measure), []).append(j)
    need_by_kind: dict[tuple[str, str], list[int]] = {}
    for i, n in enumerate(needs):
        if (n.category.value, n.measure) in res_by_kind:
            need_by_kind.setdefault((n.category.value, n.measure), []).append(i)
    avail_a = np.array(avail, dtype=np.int64)
    # resources have at most one span; needs one per occurrence
    r_s = np.zeros(len(resources), dtype=np.int64)
    r_e = np.zeros(len(resources), dtype=np.int64)
    r_has = np.zeros(len(resources), dtype=bool)
    for j, r in enumerate(resources):
        for s, e in _spans(r, at):
            r_s[j], r_e[j], r_has[j] = _micros(s), _micros(e), True
    spans = [[(_micros(s), _micros(e)) for s, e in _spans(n, at)] for n in needs]
    if places is not None:
        n_pt = [places[n.place_id or ""] for n in needs]
        r_pt = [places[r.place_id or ""] for r in resources]
        n_lat = np.array([p.lat for p in n_pt], dtype=np.float64)
        n_lon = np.array([p.lon for p in n_pt], dtype=np.float64)
        r_lat = np.array([p.lat for p in r_pt], dtype=np.float64)
        r_lon = np.array([p.lon for p in r_pt], dtype=np.float64)
    half = (
        math.degrees((max_distance_m + 1.0) / EARTH_RADIUS_M)
        if places is not None and max_distance_m is not None
        else None
    )
    parts: list[tuple[Any, Any, Any]] = []
    total = 0
    for key in sorted(need_by_kind):
        res_j = np.array(res_by_kind[key], dtype=np.int64)
        need_i = np.array(need_by_kind[key], dtype=np.int64)
        n_kind[need_i] = len(res_j)
        if places is not None:
            res_j = res_j[np.argsort(r_lat[res_j], kind="stable")]
            need_i = need_i[np.argsort(n_lat[need_i], kind="stable")]
            res_lat = r_lat[res_j]
        per_block = max(1, min(_BLOCK_NEEDS, _BLOCK_PAIRS // len(res_j)))
        for block in _blocks(need_i.tolist(), spans, per_block):
            bi = np.array(block, dtype=np.int64)
            lo, hi = 0, len(res_j)
            if half is not None:
                lo = int(np.searchsorted(res_lat, n_lat[bi].min() - half, side="left"))
                hi = int(np.searchsorted(res_lat, n_lat[bi].max() + half, side="right"))
            jb = res_j[lo:hi]
            if len(jb) == 0:
                continue
            timely = _overlaps([spans[i] for i in block], r_s[jb], r_e[jb], r_has[jb])
            if places is None:
                dist = np.zeros((len(bi), len(jb)), dtype=np.int64)
            else:
                x = _approx_m(n_lat[bi][:, None], n_lon[bi][:, None], r_lat[jb], r_lon[jb])
                fl = np.floor(x)
                dist = np.where(np.isfinite(fl), fl, -1).astype(np.int64)
                for a, b in zip(*np.nonzero(_unsure(x, fl)), strict=True):
                    dist[a, b] = allocation_distance_m(needs[bi[a]], resources[jb[b]], places)
            near = dist <= max_distance_m if max_distance_m is not None else None
            ok = timely if near is None else timely & near
            if near is not None:
                n_near[bi] += near.sum(axis=1)
            n_elig[bi] += ok.sum(axis=1)
            rows, cols = np.nonzero(ok & (avail_a[jb] > 0)[None, :])
            parts.append((bi[rows], jb[cols], dist[rows, cols]))
            total += len(rows)
            if total > MAX_ALLOCATION_ARCS:
                raise SizeLimitError(
                    f"allocation network exceeds {MAX_ALLOCATION_ARCS:,} arcs: split the lists "
                    "(by unit or category) or set max_distance_m"
                )
        if max_distance_m is not None and places is not None:
            for i in need_i[n_near[need_i] == 0].tolist():
                x = _approx_m(n_lat[i], n_lon[i], r_lat[res_j], r_lon[res_j])
                close = res_j[~(x > np.nanmin(x) + 1.0)] if np.isfinite(x).any() else res_j
                nearest[i] = min(
                    allocation_distance_m(needs[i], resources[j], places) for j in close.tolist()
                )
    if parts:
        tail = np.concatenate([p[0] for p in parts])
        head = np.concatenate([p[1] for p in parts])
        dist_all = np.concatenate([p[2] for p in parts])
        order = np.lexsort((head, tail))
        tail, head, dist_all = tail[order], head[order], dist_all[order]
    else:
        tail = head = dist_all = np.zeros(0, dtype=np.int64)
    if places is None:
        n_near = n_kind.copy()
    return _Network(
        tail=tail,
        head=head,
        dist=dist_all,
        n_kind=n_kind.tolist(),
        n_near=n_near.tolist(),
        n_eligible=n_elig.tolist(),
        nearest_m=nearest,
    )


def _blocks(
    order: list[int], spans: list[list[tuple[int, int]]], per_block: int
) -> list[list[int]]:
    """Consecutive runs of ``order`` of at most ``per_block`` needs and, unless one need has
    more alone, :data:`_BLOCK_SPANS` spans."""
    out: list[list[int]] = []
    cur: list[int] = []
    rows = 0
    for i in order:
        k = len(spans[i])
        if cur and (len(cur) >= per_block or rows + k > _BLOCK_SPANS):
            out.append(cur)
            cur, rows = [], 0
        cur.append(i)
        rows += k
    if cur:
        out.append(cur)
    return out


def _overlaps(need_spans: list[list[tuple[int, int]]], r_s: Any, r_e: Any, r_has: Any) -> Any:
    """Boolean (need, resource): some span of the need and the resource's span overlap.

    The test of :func:`~commgov.lists._allocation.common_window`, ``max(s1, s2) < min(e1,
    e2)``, on integer microseconds.
    """
    import numpy as np

    out = np.zeros((len(need_spans), len(r_s)), dtype=bool)
    owner = [k for k, sp in enumerate(need_spans) for _ in sp]
    if not owner:
        return out
    s = np.array([a for sp in need_spans for a, _ in sp], dtype=np.int64)[:, None]
    e = np.array([b for sp in need_spans for _, b in sp], dtype=np.int64)[:, None]
    rows = (np.maximum(s, r_s[None, :]) < np.minimum(e, r_e[None, :])) & r_has[None, :]
    own = np.array(owner, dtype=np.int64)
    first = np.flatnonzero(np.r_[True, own[1:] != own[:-1]])
    out[own[first]] = np.logical_or.reduceat(rows, first, axis=0)
    return out


def _unmet_reason(net: _Network, i: int, need: Need, short: int, limit: int | None) -> Reason:
    """:func:`~commgov.lists._allocation.unmet_reason` of need ``i`` from the network counts."""
    if net.n_kind[i] == 0:
        return Reason(
            code=ReasonCode.NO_RESOURCE_OF_CATEGORY,
            params={"category": need.category.value, "measure": need.measure},
        )
    if limit is not None and net.n_near[i] == 0:
        return Reason(
            code=ReasonCode.RESOURCE_TOO_FAR,
            params={"distance_m": net.nearest_m[i], "limit_m": limit},
        )
    if net.n_eligible[i] == 0:
        return Reason(code=ReasonCode.NO_RESOURCE_IN_WINDOW)
    return Reason(
        code=ReasonCode.RESOURCE_QUANTITY_USED,
        params={"short": short, "eligible": net.n_eligible[i]},
    )


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
