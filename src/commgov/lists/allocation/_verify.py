"""The independent verifier of an allocation (private; imports no solver and no OR-Tools).

:func:`is_valid_allocation` re-checks an :class:`~commgov.lists.Allocation` from the lists
alone, pair by pair, with the rule functions that define the allocation
(:mod:`commgov.lists.allocation._rules`), and returns the shared
:class:`~commgov.verification.VerificationReport` with :class:`AllocationViolationCode` codes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from commgov.lists._container import ThreeLists
from commgov.lists.allocation._problem import Allocation, AllocationTotals
from commgov.lists.allocation._rules import (
    AllocationReasonCode,
    allocation_distance_m,
    check_places,
    eligible,
    scope,
    unmet_reason,
)
from commgov.types import GeoPoint
from commgov.verification import VerificationReport, stop_reason_fault

__all__ = ["AllocationViolationCode", "is_valid_allocation"]


class AllocationViolationCode(StrEnum):
    """What :func:`~commgov.lists.is_valid_allocation` found wrong with an allocation."""

    #: ``max_distance_m`` is set but no ``places`` were given to measure it.
    NO_PLACES = "NO_PLACES"
    #: A need or resource in scope has no place in ``places``.
    PLACE_MISSING = "PLACE_MISSING"
    #: Flows not sorted by (need id, resource id), or a pair listed twice.
    FLOWS_UNSORTED = "FLOWS_UNSORTED"
    #: A flow names a need or resource not in scope (status, linking projects, raised_at).
    FLOW_OUT_OF_SCOPE = "FLOW_OUT_OF_SCOPE"
    #: A flow joins a pair that is not eligible (category/measure, distance or time).
    FLOW_NOT_ELIGIBLE = "FLOW_NOT_ELIGIBLE"
    #: A flow's ``distance_m`` differs from the recomputed distance.
    DISTANCE_MISMATCH = "DISTANCE_MISMATCH"
    #: A need draws more than its open quantity.
    NEED_OVER_ALLOCATED = "NEED_OVER_ALLOCATED"
    #: A resource gives more than its available quantity.
    RESOURCE_OVER_USED = "RESOURCE_OVER_USED"
    #: The unmet needs listed are not exactly those not fully covered.
    UNMET_MISMATCH = "UNMET_MISMATCH"
    #: The idle resources listed are not exactly those with quantity left.
    IDLE_MISMATCH = "IDLE_MISMATCH"
    #: An unmet need's or idle resource's numbers (priority, asked, allocated, short;
    #: available, used, left) are wrong.
    RECORD_MISMATCH = "RECORD_MISMATCH"
    #: An unmet need's reason is not the one the rules give, or says every eligible resource
    #: is used while one has quantity left, or says the run stopped while it did not.
    REASON_FALSE = "REASON_FALSE"
    #: The totals do not add up.
    TOTALS_MISMATCH = "TOTALS_MISMATCH"
    #: The objective tiers in ``info`` do not add up.
    OBJECTIVE_MISMATCH = "OBJECTIVE_MISMATCH"


_V = AllocationViolationCode
#: Reasons of needs never tried, allowed exactly under these statuses.


def _left_over(
    have: Mapping[str, tuple[Any, int]],
    got: Mapping[str, int],
    listed: list[str],
    code: AllocationViolationCode,
    where: str,
    report: VerificationReport,
) -> dict[str, int]:
    """What is left of each quantity after the flows, by id; reports a listing that differs."""
    expected = {k: q - got[k] for k, (_, q) in have.items() if got[k] < q}
    if listed != sorted(expected):
        report.add(code, where, f"lists {listed}, expected {sorted(expected)}")
    return expected


def is_valid_allocation(
    lists: ThreeLists,
    allocation: Allocation,
    *,
    places: Mapping[str, GeoPoint] | None = None,
) -> VerificationReport:
    """Check an allocation against the lists it was made from, importing no solver.

    Checks, from the records alone: every flow joins a need and a resource in scope (at
    ``allocation.at``) that are eligible (same category and measure, distance within
    ``max_distance_m``, shared time), with the right distance in metres, at most one flow per
    pair, sorted; conservation (flows of a need ≤ its open quantity, of a resource ≤ its
    available quantity); the unmet needs are exactly those not fully covered, with the right
    numbers and the reason the rules give (and for ``RESOURCE_QUANTITY_USED`` every eligible
    resource is fully used); ``CANCELLED`` is accepted as a reason exactly when the status is
    ``CANCELLED``, ``TIME_LIMIT_REACHED`` exactly when it is ``LIMIT``; the idle resources are
    exactly those with quantity left; totals and the objective tiers in ``info`` add up.
    Optimality is not checked (tests compare with an LP solved by HiGHS).

    Parameters
    ----------
    lists : ThreeLists
        The lists given to :func:`~commgov.lists.allocate` (the allocation's problem, with
        ``places``; its options ``at`` and ``max_distance_m`` are in the result).
    allocation : Allocation
        Its result.
    places : mapping of str to GeoPoint, optional
        The places given to :func:`~commgov.lists.allocate`.

    Returns
    -------
    commgov.verification.VerificationReport
        Family ``"allocation"``; truthy when valid; ``violations`` lists every fault with an
        :class:`AllocationViolationCode`, the record (``"n1→r2"``, ``"n3"``, ``"totals"`` …)
        and a detail; ``objective`` the recomputed tiers ``{"unmet_priority": …,
        "distance_quantity_m": …}``.

    Notes
    -----
    O(N·M) rule checks in the worst case for N needs and M resources (each unmet need's
    reason looks at the resources of its kind), plus the eligibility of every flow.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from commgov.lists import Need, ThreeLists, allocate, is_valid_allocation
    >>> t = datetime(2022, 4, 10, 8, tzinfo=timezone.utc)
    >>> n = Need(id="n1", title="rice", category="food_supplies", unit_id="c1", quantity=3,
    ...          raised_at=t, recorded_by="w1", source="household_visit")
    >>> lists = ThreeLists(needs=(n,))
    >>> report = is_valid_allocation(lists, allocate(lists, at=t))
    >>> bool(report), report.objective
    (True, {'unmet_priority': 3.0, 'distance_quantity_m': 0.0})
    """
    report = VerificationReport(family="allocation")
    at, limit = allocation.at, allocation.max_distance_m
    sc = scope(lists, at)
    if limit is not None and places is None:
        report.add(_V.NO_PLACES, "options", "max_distance_m is set but no places were given")
        return report
    missing = check_places(
        [n for n, _ in sc.needs.values()] + [r for r, _ in sc.resources.values()], places
    )
    if missing:
        for issue in missing:
            report.add(_V.PLACE_MISSING, issue.record, str(issue))
        return report
    got_need: Counter[str] = Counter()
    got_res: Counter[str] = Counter()
    keys = [(f.need_id, f.resource_id) for f in allocation.flows]
    if keys != sorted(set(keys)):
        report.add(_V.FLOWS_UNSORTED, "flows",
                   "not sorted by (need_id, resource_id), or a pair appears twice")
    t2 = 0
    for f in allocation.flows:
        where = f"{f.need_id}→{f.resource_id}"
        if f.need_id not in sc.needs or f.resource_id not in sc.resources:
            report.add(_V.FLOW_OUT_OF_SCOPE, where,
                       "need or resource not in scope (status, links, raised_at)")
            continue
        need, resource = sc.needs[f.need_id][0], sc.resources[f.resource_id][0]
        if not eligible(need, resource, at=at, places=places, max_distance_m=limit):
            report.add(_V.FLOW_NOT_ELIGIBLE, where,
                       "not eligible (category/measure, distance or time)")
        d = allocation_distance_m(need, resource, places)
        if f.distance_m != d:
            report.add(_V.DISTANCE_MISMATCH, where, f"distance_m {f.distance_m}, recomputed {d}")
        got_need[f.need_id] += f.quantity
        got_res[f.resource_id] += f.quantity
        t2 += d * f.quantity
    for nid, q in sorted(got_need.items()):
        if nid in sc.needs and q > sc.needs[nid][1]:
            report.add(_V.NEED_OVER_ALLOCATED, nid,
                       f"allocated {q} exceeds its open quantity {sc.needs[nid][1]}")
    for rid, q in sorted(got_res.items()):
        if rid in sc.resources and q > sc.resources[rid][1]:
            report.add(_V.RESOURCE_OVER_USED, rid,
                       f"used {q} exceeds its available {sc.resources[rid][1]}")
    resources = [r for r, _ in sc.resources.values()]
    expected_unmet = _left_over(sc.needs, got_need, [u.need_id for u in allocation.unmet],
                                _V.UNMET_MISMATCH, "unmet", report)
    # the unmet tier from the flows, not from the listed entries: a missing entry is one
    # fault (UNMET_MISMATCH), not also an objective mismatch
    t1 = sum(sc.needs[nid][0].priority * short for nid, short in expected_unmet.items())
    status = allocation.info.status
    for u in allocation.unmet:
        if u.need_id not in expected_unmet:
            continue
        need, asked = sc.needs[u.need_id]
        short = expected_unmet[u.need_id]
        got = (u.priority, u.asked, u.allocated, u.short)
        want_numbers = (need.priority, asked, got_need[u.need_id], short)
        if got != want_numbers:
            report.add(_V.RECORD_MISMATCH, u.need_id,
                       f"priority/asked/allocated/short {got}, expected {want_numbers}")
        fault = stop_reason_fault(u.reason, status, allocation.info.options)
        if fault is not None:
            if fault:
                report.add(_V.REASON_FALSE, u.need_id, fault)
            continue
        want = unmet_reason(need, short, resources, at=at, places=places, max_distance_m=limit)
        if u.reason != want:
            report.add(_V.REASON_FALSE, u.need_id,
                       f"reason {u.reason!r}, the predicates give {want!r}")
        elif want.code == AllocationReasonCode.RESOURCE_QUANTITY_USED:
            for r in resources:  # the cheap test first: only resources with quantity left
                if got_res[r.id] < sc.resources[r.id][1] and eligible(
                    need, r, at=at, places=places, max_distance_m=limit
                ):
                    report.add(_V.REASON_FALSE, u.need_id,
                               f"reason says every eligible resource is used, but {r.id} has "
                               f"{sc.resources[r.id][1] - got_res[r.id]} left")
    expected_idle = _left_over(sc.resources, got_res, [i.resource_id for i in allocation.idle],
                               _V.IDLE_MISMATCH, "idle", report)
    for i in allocation.idle:
        if i.resource_id in expected_idle:
            want_idle = (
                sc.resources[i.resource_id][1],
                got_res[i.resource_id],
                expected_idle[i.resource_id],
            )
            if (i.available, i.used, i.left) != want_idle:
                report.add(_V.RECORD_MISMATCH, i.resource_id,
                           f"available/used/left {(i.available, i.used, i.left)}, "
                           f"expected {want_idle}")
    asked = sum(q for _, q in sc.needs.values())
    allocated = sum(got_need.values())
    totals = AllocationTotals(
        needs=len(sc.needs),
        resources=len(sc.resources),
        asked=asked,
        allocated=allocated,
        short=asked - allocated if asked >= allocated else 0,
        left=sum(expected_idle.values()),
        priority_asked=sum(n.priority * q for n, q in sc.needs.values()),
        priority_served=sum(
            sc.needs[nid][0].priority * q for nid, q in got_need.items() if nid in sc.needs
        ),
        distance_quantity_m=t2,
    )
    if allocation.totals != totals:
        report.add(_V.TOTALS_MISMATCH, "totals",
                   f"{allocation.totals!r}, recomputed {totals!r}")
    objective = {"unmet_priority": float(t1), "distance_quantity_m": float(t2)}
    report.objective = objective
    if allocation.info.objective != objective:
        report.add(_V.OBJECTIVE_MISMATCH, "info",
                   f"info.objective {allocation.info.objective}, recomputed {objective}")
    return report
