"""Exact needs ↔ resources allocation by min-cost flow (private; :func:`allocate`).

Network, built in id order (needs, then resources, then the sink)::

    need i (supply: open quantity) ─(min(open_i, avail_j), distance_m)─► resource j
        │                                                                    │ (avail_j, 0)
        └─────────────(open_i, M·priority_i: "unmet")──────────────────────► sink

Arcs exist only where :func:`~commgov.lists.allocation._rules.eligible` holds (same category
and measure, distance ≤ ``max_distance_m``, shared time from ``at`` on); the vectorised
``_network`` finds them, equal to the per-pair rule arc for arc (tested). With
``M = 1 + min(Σ_i open_i·maxd_i, (nodes)·maxd)`` every flow that leaves less
priority-weighted quantity unmet is cheaper than any that leaves more, whatever the
distances: the minimum cost minimises Σ priority × unmet, then Σ metres × quantity (two tiers).
(The second bound on M: the difference of two flows splits into simple cycles of at most
``nodes`` arcs, each changing the distance tier by at most ``nodes·maxd`` per unit.) The
unmet arcs keep supply balanced, so the solve is always feasible. Method: min-cost flow
(Ahuja, Magnanti & Orlin, *Network Flows*, 1993), OR-Tools' ``SimpleMinCostFlow``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from commgov._control import CancelToken, ProgressCallback, SolveControl, StoppedBy
from commgov._options import check_choice, check_options
from commgov._perf import gc_paused
from commgov.errors import InputError, SolverError, check_size, expect_type
from commgov.lists._container import ThreeLists
from commgov.lists._records import ListItem, Need, Resource
from commgov.lists.allocation._network import _Network, _network, _unmet_reason
from commgov.lists.allocation._problem import (
    Allocation,
    AllocationFlow,
    AllocationTotals,
    IdleResource,
    UnmetNeed,
)
from commgov.lists.allocation._rules import check_allocation_options, check_places, scope
from commgov.results import (
    CommonReasonCode,
    Reason,
    SolveInfo,
    SolveStatus,
    library_versions,
)
from commgov.types import GeoPoint

__all__ = ["METHODS", "allocate"]

#: The solving methods of :func:`allocate` (the first is the default).
METHODS: tuple[str, ...] = ("flow",)

_PLANNER = "allocate"
_WHAT = "allocation input"
_INT64_LIMIT = 2**63


#: Low estimate of the min-cost flow's time: seconds per arc and per node (measured on a
#: loaded 2-core machine, 1–5 M arcs: the solves took 1.3–4 times this estimate).
FLOW_S_PER_ARC = 2.5e-7
FLOW_S_PER_NODE = 1e-4


class _StopError(Exception):
    """Raised inside the network build when the run is cancelled or out of time."""


def flow_seconds_estimate(arcs: int, nodes: int) -> float:
    """A low estimate of the seconds the allocation's min-cost flow takes (see
    :data:`FLOW_S_PER_ARC`): a flow estimated longer than the time left is not started."""
    return FLOW_S_PER_ARC * arcs + FLOW_S_PER_NODE * nodes


def allocate(
    lists: ThreeLists,
    *,
    at: datetime,
    places: Mapping[str, GeoPoint] | None = None,
    max_distance_m: int | None = None,
    method: str | None = None,
    time_limit_s: float = 60.0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Allocation:
    """Allocate resources to needs exactly, by category, place, quantity and time.

    A transportation problem (supply: the resources' available quantities; demand: the
    needs' open quantities: quantity − fulfilled − committed to pair projects) solved as a
    min-cost flow (OR-Tools ``SimpleMinCostFlow``, imported only here). A resource can serve a
    need when both have the same category and ``measure``, their places are at most
    ``max_distance_m`` apart, and the need's window (any occurrence of a recurring need)
    overlaps the resource's availability after ``at`` (an item without a window is open at
    all times). The objective is lexicographic: first minimise Σ priority × quantity unmet,
    then Σ distance in metres × quantity. Quantities may split: a need can draw on several
    resources and a resource serve several needs. The network is built in id order, so the
    result does not depend on the input order; among equally good optima the solver's choice
    on that id-ordered network is kept (deterministic, not a documented id rule). Nothing is
    changed: apply the result with :func:`~commgov.lists.apply_allocation`.

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
    method : {"flow"}, optional
        The solving method (:data:`METHODS`); ``None`` picks ``"flow"``, the exact min-cost
        flow.
    time_limit_s : float, default 60.0
        Wall-clock seconds (0 < t ≤ 3600), a safety cap checked between the steps (scope,
        network blocks, the nearest-resource search, solve). The min-cost flow itself cannot
        be interrupted: it is started only when a low estimate of its time
        (:func:`flow_seconds_estimate`: 0.25 µs per arc + 0.1 ms per node) fits in the time
        left. Once the limit has passed before the solve, or the flow would not fit, the
        result is status ``LIMIT`` with no flows, every need in scope unmet with
        ``TIME_LIMIT_REACHED`` and ``info.stopped_by = "wall_clock"``.
    seed : int, default 0
        Accepted as by every planner; the method is deterministic and does not use it.
    progress : callable, optional
        Called with a :class:`commgov.ProgressEvent` at each step (phases ``"scope"``,
        ``"network"``, ``"solve"``) and last with phase ``"done"``.
    cancel : threading.Event or object with ``is_set()``, optional
        Once set (checked between steps), the run stops: the result is status ``CANCELLED``
        with no flows, every need in scope unmet with ``CANCELLED``, and
        ``info.stopped_by = "cancel"``. A cancel set while the min-cost flow runs lets it
        finish (its result is complete).

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
    commgov.errors.InvalidParameterError
        If ``method``, ``time_limit_s``, ``seed``, ``progress`` or ``cancel`` is invalid
        (both a ValueError and a TypeError).
    TypeError
        If ``lists`` is not a ThreeLists, ``at`` not a datetime, ``max_distance_m`` not an
        int or ``places`` not a mapping.
    ValueError
        If ``at`` is naive, ``max_distance_m`` negative or given without ``places``.
    commgov.errors.InputError
        If a need or resource in scope has no ``place_id`` or one missing from ``places``
        (each issue names the item, ``place_id`` and the value).
    commgov.errors.SizeLimitError
        If the network exceeds :data:`~commgov.lists.MAX_ALLOCATION_ARCS` arcs or its costs
        could overflow 64-bit integers.
    commgov.errors.SolverError
        If OR-Tools returns a status other than optimal.

    Notes
    -----
    With N needs, M resources and A eligible arcs: building the network takes O(N·M') pair
    tests (M' the resources of the need's kind in its latitude band), vectorised; the
    min-cost flow (cost scaling) O(V²·A·log(V·C)) in the worst case, V = N + M + 1 and C the
    largest arc cost; the reasons O(N). A 2,000 × 2,000 instance takes seconds.

    References
    ----------
    .. [1] R. K. Ahuja, T. L. Magnanti and J. B. Orlin, *Network Flows: Theory, Algorithms,
       and Applications*, Prentice Hall, 1993 (transportation problem, min-cost flow).
    .. [2] A. V. Goldberg, "An efficient implementation of a scaling minimum-cost flow
       algorithm", *Journal of Algorithms* 22(1), 1997, pp. 1–29 (OR-Tools' algorithm).

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
    check_options(_PLANNER, time_limit_s=time_limit_s, seed=seed, progress=progress,
                  cancel=cancel)
    check_choice(_PLANNER, "method", METHODS[0] if method is None else method, METHODS)
    ctl = SolveControl(_PLANNER, time_limit_s, progress, cancel)
    expect_type(lists, ThreeLists, "lists", "ThreeLists(needs=…, resources=…)")
    check_allocation_options(at, max_distance_m, places)
    ctl.report("scope", 0.0)
    with gc_paused():
        sc = scope(lists, at)
    needs = [n for n, _ in sc.needs.values()]
    resources = [r for r, _ in sc.resources.values()]
    issues = check_places([*needs, *resources], places)
    if issues:
        raise InputError(issues, what=_WHAT)
    avail = [q for _, q in sc.resources.values()]
    open_q = [q for _, q in sc.needs.values()]
    build = _Builder(at, places, max_distance_m, needs, resources, open_q, avail,
                     ctl.time_limit_s)
    # time kept for writing the result records (one per item) after a stop, so a run cut by
    # its limit still returns within it on a loaded machine
    reserve = RESULT_S_PER_ITEM * (len(needs) + len(resources))
    if ctl.should_stop(reserve):
        return build.stopped(ctl)

    def check(fraction: float) -> None:
        ctl.report("network", fraction)
        if ctl.should_stop(reserve):
            raise _StopError

    try:
        net = _network(needs, resources, avail, at, places, max_distance_m, check)
    except _StopError:
        return build.stopped(ctl)
    if ctl.should_stop(reserve):
        return build.stopped(ctl)
    # the min-cost flow cannot be interrupted (OR-Tools holds the interpreter until it ends):
    # it starts only if a low estimate of its time fits in what is left of the limit
    if ctl.expired(
        flow_seconds_estimate(len(net.tail), len(needs) + len(resources) + 1) + reserve
    ):
        return build.stopped(ctl)
    with ctl.watch(lambda: None, "solve"):  # heartbeats; the flow cannot be interrupted
        flows = _solve(needs, resources, open_q, avail, net, net.max_distance())
    result = build.solved(net, flows)
    ctl.done(incumbent=result.info.objective["unmet_priority"])
    return result


#: Seconds kept per need and resource for writing the result after a stop: twice the
#: measured cost of a record with its reason (about 17 µs), for a loaded machine.
RESULT_S_PER_ITEM = 40e-6


class _Builder:
    """Makes the :class:`Allocation` of one run, solved or stopped before the solve."""

    def __init__(
        self,
        at: datetime,
        places: Mapping[str, GeoPoint] | None,
        max_distance_m: int | None,
        needs: list[Need],
        resources: list[Resource],
        open_q: list[int],
        avail: list[int],
        time_limit_s: float,
    ) -> None:
        self.at, self.places, self.limit = at, places, max_distance_m
        self.time_limit_s = time_limit_s
        self.needs, self.resources, self.open_q, self.avail = needs, resources, open_q, avail

    def stopped(self, ctl: SolveControl) -> Allocation:
        """No flows; every need unmet because it was never tried (``CANCELLED`` or
        ``TIME_LIMIT_REACHED``)."""
        if ctl.stopped_by == "cancel":
            status, reason = SolveStatus.CANCELLED, Reason(code=CommonReasonCode.CANCELLED)
        else:
            status = SolveStatus.LIMIT
            reason = Reason(code=CommonReasonCode.TIME_LIMIT_REACHED,
                            params={"time_limit_s": ctl.time_limit_s})
        result = self._result([], Counter(), Counter(), lambda i, n, short: reason, status,
                              ctl.stopped_by)
        ctl.done(incumbent=result.info.objective["unmet_priority"])
        return result

    def solved(self, net: _Network, flows: Any) -> Allocation:
        """The allocation of the optimal arc flows ``flows`` on ``net``."""
        got_need: Counter[int] = Counter()
        got_res: Counter[int] = Counter()
        out_flows = []
        for k in flows.nonzero()[0].tolist():
            i, j, d, f = int(net.tail[k]), int(net.head[k]), int(net.dist[k]), int(flows[k])
            got_need[i] += f
            got_res[j] += f
            out_flows.append(
                AllocationFlow(
                    need_id=self.needs[i].id,
                    resource_id=self.resources[j].id,
                    quantity=f,
                    distance_m=d,
                )
            )
        out_flows.sort(key=lambda fl: (fl.need_id, fl.resource_id))
        limit = self.limit
        return self._result(
            out_flows,
            got_need,
            got_res,
            lambda i, n, short: _unmet_reason(net, i, n, short, limit),
            SolveStatus.OPTIMAL,
            None,
        )

    def _result(
        self,
        out_flows: list[AllocationFlow],
        got_need: Counter[int],
        got_res: Counter[int],
        reason_of: Callable[[int, Need, int], Reason],
        status: SolveStatus,
        stopped_by: StoppedBy | None,
    ) -> Allocation:
        # tens of thousands of small acyclic records: the cyclic collector, left on, would
        # scan the whole heap of a long-running process several times while they are made
        with gc_paused():
            return self._records(out_flows, got_need, got_res, reason_of, status, stopped_by)

    def _records(
        self,
        out_flows: list[AllocationFlow],
        got_need: Counter[int],
        got_res: Counter[int],
        reason_of: Callable[[int, Need, int], Reason],
        status: SolveStatus,
        stopped_by: StoppedBy | None,
    ) -> Allocation:
        needs, open_q, avail = self.needs, self.open_q, self.avail
        unmet = []
        t1 = 0
        for i, n in enumerate(needs):
            short = open_q[i] - got_need[i]
            if short > 0:
                t1 += n.priority * short
                unmet.append(
                    UnmetNeed(
                        need_id=n.id,
                        priority=n.priority,
                        asked=open_q[i],
                        allocated=got_need[i],
                        short=short,
                        reason=reason_of(i, n, short),
                    )
                )
        idle = [
            IdleResource(
                resource_id=r.id, available=avail[j], used=got_res[j], left=avail[j] - got_res[j]
            )
            for j, r in enumerate(self.resources)
            if got_res[j] < avail[j]
        ]
        t2 = sum(fl.distance_m * fl.quantity for fl in out_flows)
        allocated = sum(got_need.values())
        totals = AllocationTotals(
            needs=len(needs),
            resources=len(self.resources),
            asked=sum(open_q),
            allocated=allocated,
            short=sum(open_q) - allocated,
            left=sum(i.left for i in idle),
            priority_asked=sum(n.priority * q for n, q in zip(needs, open_q, strict=True)),
            priority_served=sum(needs[i].priority * q for i, q in got_need.items()),
            distance_quantity_m=t2,
        )
        info = SolveInfo(
            status=status,
            solver="min-cost-flow",
            objective={"unmet_priority": float(t1), "distance_quantity_m": float(t2)},
            options={
                "at": self.at.isoformat(),
                "max_distance_m": self.limit,
                "places": self.places is not None,
                "time_limit_s": self.time_limit_s,
            },
            versions=library_versions("ortools"),
            stopped_by=stopped_by,
        )
        return Allocation(
            at=self.at,
            max_distance_m=self.limit,
            flows=tuple(out_flows),
            unmet=tuple(unmet),
            idle=tuple(idle),
            totals=totals,
            info=info,
        )


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
    check_size(f"allocation costs (unmet weight {big_m:,} per priority, {sum(open_q):,} "
               f"units, {nodes:,} nodes): largest cost figure",
               max(max_cost * nodes * nodes, worst_total), _INT64_LIMIT - 1,
               "split the lists or lower quantities or max_distance_m (costs would overflow "
               "64-bit integers)")
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
