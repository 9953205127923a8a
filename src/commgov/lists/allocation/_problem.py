"""The records of an allocation result (private; exported by :mod:`commgov.lists.allocation`).

The allocation has no problem record of its own: its input is the :class:`~commgov.lists.
ThreeLists` with the optional ``places`` map, and its options (``at``, ``max_distance_m``) are
kept in the :class:`Allocation`, so that :func:`~commgov.lists.is_valid_allocation` takes the
same ``lists`` and ``places`` as :func:`~commgov.lists.allocate` and the result.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, Field, field_validator

from commgov._records import FrozenModel
from commgov.results import PlanResult, Reason, SolveInfo
from commgov.types import Id

__all__ = ["Allocation", "AllocationFlow", "AllocationTotals", "IdleResource", "UnmetNeed"]


class AllocationFlow(FrozenModel):
    """Quantity of one resource allocated to one need.

    Attributes
    ----------
    need_id, resource_id : str
        The pair.
    quantity : int
        Allocated, in the need's ``measure`` (≥ 1; need and resource share the measure).
    distance_m : int
        Great-circle distance between their places in whole metres (0 without places).
    """

    need_id: Id
    resource_id: Id
    quantity: int = Field(ge=1)
    distance_m: int = Field(ge=0)


class UnmetNeed(FrozenModel):
    """A need in scope that is not (fully) covered, with the reason.

    Attributes
    ----------
    need_id : str
        The need.
    priority : int
        Its priority.
    asked : int
        Its open quantity (quantity − fulfilled − committed to projects).
    allocated : int
        Quantity allocated now (0 … asked − 1).
    short : int
        ``asked − allocated`` (≥ 1).
    reason : Reason
        ``NO_RESOURCE_OF_CATEGORY``, ``RESOURCE_TOO_FAR``, ``NO_RESOURCE_IN_WINDOW`` or
        ``RESOURCE_QUANTITY_USED`` (see :class:`~commgov.lists.AllocationReasonCode`); or
        ``CANCELLED`` / ``TIME_LIMIT_REACHED`` (:class:`~commgov.results.CommonReasonCode`)
        when the run stopped before the need was tried.
    """

    need_id: Id
    priority: int = Field(ge=1)
    asked: int = Field(ge=1)
    allocated: int = Field(ge=0)
    short: int = Field(ge=1)
    reason: Reason


class IdleResource(FrozenModel):
    """A resource in scope with quantity left after the allocation.

    Attributes
    ----------
    resource_id : str
        The resource.
    available : int
        Its quantity before this allocation (quantity − fulfilled − committed to projects).
    used : int
        Allocated now.
    left : int
        ``available − used`` (≥ 1).
    """

    resource_id: Id
    available: int = Field(ge=1)
    used: int = Field(ge=0)
    left: int = Field(ge=1)


class AllocationTotals(FrozenModel):
    """Aggregates of an allocation.

    Attributes
    ----------
    needs, resources : int
        Needs with open quantity and resources in scope.
    asked, allocated, short : int
        Open quantity of the needs, quantity allocated, quantity left unmet.
    left : int
        Quantity of the resources left idle.
    priority_asked, priority_served : int
        Σ priority × quantity over what was asked and what was allocated.
    distance_quantity_m : int
        Σ distance_m × quantity over the flows (metre-units).
    """

    needs: int = Field(ge=0)
    resources: int = Field(ge=0)
    asked: int = Field(ge=0)
    allocated: int = Field(ge=0)
    short: int = Field(ge=0)
    left: int = Field(ge=0)
    priority_asked: int = Field(ge=0)
    priority_served: int = Field(ge=0)
    distance_quantity_m: int = Field(ge=0)


class Allocation(PlanResult):
    """Result of :func:`commgov.lists.allocate`: who gives how much of what to whom.

    Attributes
    ----------
    schema_version : str
        Layout version.
    at : datetime
        The allocation instant (UTC): only time after it counts, items raised after it are
        left out, and :func:`~commgov.lists.apply_allocation` dates its changes at it.
    max_distance_m : int or None
        Distance limit in metres (``None``: none).
    flows : tuple of AllocationFlow
        Sorted by (need id, resource id).
    unmet : tuple of UnmetNeed
        Needs not fully covered, sorted by need id.
    idle : tuple of IdleResource
        Resources with quantity left, sorted by resource id.
    totals : AllocationTotals
        Aggregates.
    info : SolveInfo
        Status, solver, objective tiers ``unmet_priority`` (Σ priority × short) and
        ``distance_quantity_m``, options, versions, ``stopped_by``.

    Notes
    -----
    :meth:`to_json` is byte-identical for the same lists, options and versions;
    :meth:`rows` gives flows, then unmet needs (quantity short, with the reason text), then
    idle resources (quantity left).
    """

    schema_version: Literal["1.0"] = "1.0"
    at: AwareDatetime
    max_distance_m: int | None = Field(default=None, ge=0)
    flows: tuple[AllocationFlow, ...] = ()
    unmet: tuple[UnmetNeed, ...] = ()
    idle: tuple[IdleResource, ...] = ()
    totals: AllocationTotals
    info: SolveInfo

    #: Column names of :meth:`rows`.
    ROW_COLUMNS: ClassVar[tuple[str, ...]] = (
        "kind",
        "need_id",
        "resource_id",
        "quantity",
        "distance_m",
        "reason_code",
        "reason",
    )

    @field_validator("at", mode="after")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def _rows(self, lang: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {
                "kind": "flow",
                "need_id": f.need_id,
                "resource_id": f.resource_id,
                "quantity": f.quantity,
                "distance_m": f.distance_m,
                "reason_code": "",
                "reason": "",
            }
            for f in self.flows
        ]
        out += [
            {
                "kind": "unmet",
                "need_id": u.need_id,
                "resource_id": "",
                "quantity": u.short,
                "distance_m": "",
                "reason_code": str(u.reason.code),
                "reason": u.reason.text(lang),
            }
            for u in self.unmet
        ]
        out += [
            {
                "kind": "idle",
                "need_id": "",
                "resource_id": i.resource_id,
                "quantity": i.left,
                "distance_m": "",
                "reason_code": "",
                "reason": "",
            }
            for i in self.idle
        ]
        return out
