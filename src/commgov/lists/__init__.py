"""The three lists (三张清单): needs, resources and projects, one lifecycle for all three.

* Records (terms: docs/glossary.md): :class:`Need` (需求: category, place, quantity requested,
  time window, priority, source such as a household visit, building group or rider,
  vulnerability), :class:`Resource` (资源: provider, kind, capacity, availability, service
  area) and :class:`Project` (项目: needs and resources it links, lead and partner
  organisations, formation).
* Lifecycle: ``raised → matched → claimed → in_progress → fulfilled → closed_out``, or
  ``rejected`` / ``escalated`` / ``cancelled``, as the explicit table :data:`TRANSITIONS`.
  :func:`transition` refuses every other change with :class:`LifecycleError` and appends the
  change (who, when, why) to the item's history; :func:`record_progress` reports partial
  fulfilment (quantity delivered against quantity requested).
* Recurring needs: a :class:`Recurrence` (every *n* days or weeks, bounded by a count or an
  end) repeats a need's window.
* :class:`ThreeLists` holds the lists with canonical JSON (sorted by id); :func:`summarise`
  groups items by unit, category or status.
* Allocation (subpackage :mod:`commgov.lists.allocation`, re-exported here): :func:`allocate`
  solves needs ↔ resources exactly as a transportation problem by category, place, quantity
  and time (min-cost flow), reporting unmet needs with reasons and idle resources;
  :func:`apply_allocation` turns it into projects and moves the items to ``matched``;
  :func:`is_valid_allocation` re-checks a result without any solver.
* Tables: :func:`commgov.io.import_lists` and :func:`commgov.io.export_lists` (CSV with
  per-row errors, formula-safe output) live in :mod:`commgov.io`, with every other format.
"""

from commgov.errors import LifecycleError
from commgov.lists._container import SummaryKey, SummaryRow, ThreeLists, summarise
from commgov.lists._lifecycle import (
    FINAL_STATUSES,
    MAX_QUANTITY,
    TRANSITIONS,
    HistoryEntry,
    Status,
)
from commgov.lists._records import (
    Category,
    Formation,
    ListItem,
    Need,
    NeedSource,
    Project,
    ProviderKind,
    Recurrence,
    Resource,
    ResourceType,
    Vulnerability,
    record_progress,
    transition,
)
from commgov.lists.allocation import (
    ALLOCATABLE,
    MAX_ALLOCATION_ARCS,
    Allocation,
    AllocationFlow,
    AllocationReasonCode,
    AllocationTotals,
    AllocationViolationCode,
    IdleResource,
    UnmetNeed,
    allocate,
    apply_allocation,
    is_valid_allocation,
)

__all__ = [
    "ALLOCATABLE",
    "FINAL_STATUSES",
    "MAX_ALLOCATION_ARCS",
    "MAX_QUANTITY",
    "TRANSITIONS",
    "Allocation",
    "AllocationFlow",
    "AllocationReasonCode",
    "AllocationTotals",
    "AllocationViolationCode",
    "Category",
    "Formation",
    "HistoryEntry",
    "IdleResource",
    "LifecycleError",
    "ListItem",
    "Need",
    "NeedSource",
    "Project",
    "ProviderKind",
    "Recurrence",
    "Resource",
    "ResourceType",
    "Status",
    "SummaryKey",
    "SummaryRow",
    "ThreeLists",
    "UnmetNeed",
    "Vulnerability",
    "allocate",
    "apply_allocation",
    "is_valid_allocation",
    "record_progress",
    "summarise",
    "transition",
]
