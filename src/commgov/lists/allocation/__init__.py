"""Needs ↔ resources allocation: an exact transportation problem, its projects, its verifier.

Entry points:

* :func:`allocate` — allocate resources to needs by category and measure, distance in metres
  and time after ``at``, exactly (min-cost flow, two tiers: Σ priority × quantity unmet, then
  Σ metres × quantity); methods :data:`METHODS`. Returns an :class:`Allocation`: flows
  (:class:`AllocationFlow`), unmet needs each with a reason (:class:`UnmetNeed`,
  :class:`AllocationReasonCode`), idle resources (:class:`IdleResource`) and
  :class:`AllocationTotals`.
* :func:`apply_allocation` — the lists with the allocation applied: pair projects created or
  updated, items moved ``raised → matched``, all or nothing.
* :func:`is_valid_allocation` — re-check a result from the lists alone, importing no solver;
  returns a :class:`~commgov.verification.VerificationReport` with
  :class:`AllocationViolationCode` codes.

The allocation's problem is the :class:`~commgov.lists.ThreeLists` with an optional ``places``
map (place id → :class:`~commgov.types.GeoPoint`); there is no separate problem record. Needs
and resources with status in :data:`ALLOCATABLE` take part; the network has at most
:data:`MAX_ALLOCATION_ARCS` arcs.
"""

from commgov.lists.allocation._apply import apply_allocation
from commgov.lists.allocation._network import MAX_ALLOCATION_ARCS
from commgov.lists.allocation._problem import (
    Allocation,
    AllocationFlow,
    AllocationTotals,
    IdleResource,
    UnmetNeed,
)
from commgov.lists.allocation._rules import ALLOCATABLE, AllocationReasonCode
from commgov.lists.allocation._solve_flow import METHODS, allocate
from commgov.lists.allocation._verify import AllocationViolationCode, is_valid_allocation

__all__ = [
    "ALLOCATABLE",
    "MAX_ALLOCATION_ARCS",
    "METHODS",
    "Allocation",
    "AllocationFlow",
    "AllocationReasonCode",
    "AllocationTotals",
    "AllocationViolationCode",
    "IdleResource",
    "UnmetNeed",
    "allocate",
    "apply_allocation",
    "is_valid_allocation",
]
