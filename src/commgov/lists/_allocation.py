"""The needs ↔ resources allocation: result records, the eligibility rules and the verifier.

Nothing here imports a solver: :func:`is_valid_allocation` re-checks an :class:`Allocation`
from the lists alone, pair by pair, with the rule functions that define the allocation
(:func:`scope`, :func:`allocation_distance_m`, :func:`time_compatible`, :func:`unmet_reason`);
the solver builds its arcs and reasons with vectorised equivalents, tested equal to these.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from commgov.errors import InputIssue
from commgov.lists._container import ThreeLists
from commgov.lists._lifecycle import Status
from commgov.lists._records import ListItem, Need, Resource
from commgov.results import Reason, ReasonCode, SolveInfo
from commgov.types import GeoPoint, Id, haversine_m

#: Statuses of needs and resources that allocation considers (posted or already matched).
ALLOCATABLE: frozenset[Status] = frozenset({Status.RAISED, Status.MATCHED})
#: Project statuses that commit nothing (the project fell through).
_DEAD: frozenset[Status] = frozenset({Status.CANCELLED, Status.REJECTED})

_NEVER = datetime.max.replace(tzinfo=UTC)
_WHAT = "allocation input"


# --------------------------------------------------------------------------- result records


class AllocationFlow(BaseModel):
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

    model_config = ConfigDict(frozen=True, extra="forbid")

    need_id: Id
    resource_id: Id
    quantity: int = Field(ge=1)
    distance_m: int = Field(ge=0)


class UnmetNeed(BaseModel):
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
        ``RESOURCE_QUANTITY_USED`` (see :func:`unmet_reason`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    need_id: Id
    priority: int = Field(ge=1)
    asked: int = Field(ge=1)
    allocated: int = Field(ge=0)
    short: int = Field(ge=1)
    reason: Reason


class IdleResource(BaseModel):
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

    model_config = ConfigDict(frozen=True, extra="forbid")

    resource_id: Id
    available: int = Field(ge=1)
    used: int = Field(ge=0)
    left: int = Field(ge=1)


class AllocationTotals(BaseModel):
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

    model_config = ConfigDict(frozen=True, extra="forbid")

    needs: int = Field(ge=0)
    resources: int = Field(ge=0)
    asked: int = Field(ge=0)
    allocated: int = Field(ge=0)
    short: int = Field(ge=0)
    left: int = Field(ge=0)
    priority_asked: int = Field(ge=0)
    priority_served: int = Field(ge=0)
    distance_quantity_m: int = Field(ge=0)


class Allocation(BaseModel):
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
        ``distance_quantity_m``, options, versions.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal["1.0"] = "1.0"
    at: AwareDatetime
    max_distance_m: int | None = Field(default=None, ge=0)
    flows: tuple[AllocationFlow, ...] = ()
    unmet: tuple[UnmetNeed, ...] = ()
    idle: tuple[IdleResource, ...] = ()
    totals: AllocationTotals
    info: SolveInfo

    @field_validator("at", mode="after")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text, byte-identical for the same lists, options and versions."""
        return self.model_dump_json(indent=indent)

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

    def rows(self, lang: str = "en") -> list[dict[str, str | int]]:
        """Flat rows for CSV: flows, then unmet needs (quantity short), then idle resources.

        Parameters
        ----------
        lang : {"en", "zh"}, default "en"
            Language of the reason texts.
        """
        out: list[dict[str, str | int]] = [
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
                "reason_code": u.reason.code.value,
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


# --------------------------------------------------------------------------- shared rules


@dataclass(frozen=True, slots=True)
class Scope:
    """What an allocation at ``at`` works on (see :func:`scope`).

    Attributes
    ----------
    needs : dict of str to (Need, int)
        Need id → (need, open quantity ≥ 1), in id order.
    resources : dict of str to (Resource, int)
        Resource id → (resource, available quantity ≥ 0), in id order.
    """

    needs: dict[str, tuple[Need, int]]
    resources: dict[str, tuple[Resource, int]]


def scope(lists: ThreeLists, at: datetime) -> Scope:
    """The needs and resources an allocation at ``at`` considers, with their quantities.

    An item is in scope when its status is ``raised`` or ``matched``, it was raised at or
    before ``at``, and no live project (not cancelled or rejected) links it together with
    other needs or resources. A live project linking exactly one need and one resource
    commits its ``quantity`` of both (that is how allocation projects record a flow); so the
    open quantity of a need, and the available quantity of a resource, is
    ``quantity − fulfilled − committed`` (at least 0). Needs with no open quantity are left
    out; resources are kept (their eligibility explains ``RESOURCE_QUANTITY_USED``).

    Parameters
    ----------
    lists : ThreeLists
        The lists.
    at : datetime
        The allocation instant (timezone-aware).

    Returns
    -------
    Scope
        Needs and resources in id order.
    """
    committed: Counter[str] = Counter()
    blocked: set[str] = set()
    for p in sorted(lists.projects, key=lambda x: x.id):
        if p.status in _DEAD:
            continue
        if len(p.need_ids) == 1 and len(p.resource_ids) == 1:
            committed[p.need_ids[0]] += p.quantity
            committed[p.resource_ids[0]] += p.quantity
        else:
            blocked.update(p.need_ids)
            blocked.update(p.resource_ids)

    def _open(item: ListItem) -> int | None:
        if item.status not in ALLOCATABLE or item.id in blocked or item.raised_at > at:
            return None
        return max(0, item.quantity - item.fulfilled - committed[item.id])

    needs = {}
    for n in sorted(lists.needs, key=lambda x: x.id):  # id order even if built unsorted
        q = _open(n)
        if q:
            needs[n.id] = (n, q)
    resources = {}
    for r in sorted(lists.resources, key=lambda x: x.id):
        q = _open(r)
        if q is not None:
            resources[r.id] = (r, q)
    return Scope(needs, resources)


def check_places(
    items: Sequence[ListItem], places: Mapping[str, GeoPoint] | None
) -> list[InputIssue]:
    """Issues for items whose place is missing from ``places`` (none when ``places`` is None)."""
    if places is None:
        return []
    issues = []
    for item in items:
        if item.place_id is None:
            issues.append(
                InputIssue(
                    item.id, "place_id", None, "is needed to measure distances (places given)"
                )
            )
        elif item.place_id not in places:
            issues.append(InputIssue(item.id, "place_id", item.place_id, "is not in places"))
        elif not isinstance(places[item.place_id], GeoPoint):
            issues.append(
                InputIssue(
                    item.id,
                    "place_id",
                    item.place_id,
                    f"places maps it to a {type(places[item.place_id]).__name__}, not a GeoPoint",
                )
            )
    return issues


def allocation_distance_m(
    need: Need, resource: Resource, places: Mapping[str, GeoPoint] | None
) -> int:
    """Distance between a need's and a resource's places, in whole metres.

    Great-circle distance (:func:`commgov.types.haversine_m`) between ``places[place_id]`` of
    both, rounded half up; ``0`` when ``places`` is ``None``. Solver and verifier use it.

    Raises
    ------
    KeyError
        If a place is missing from ``places`` (:func:`allocate` checks first).
    """
    if places is None:
        return 0
    a = places[need.place_id or ""]
    b = places[resource.place_id or ""]
    return math.floor(haversine_m(a.lon, a.lat, b.lon, b.lat) + 0.5)


def _spans(item: ListItem, at: datetime) -> list[tuple[datetime, datetime]]:
    """The item's windows from ``at`` on (all time from ``at`` if it has no window)."""
    if isinstance(item, Need):
        windows = item.occurrences()
    else:
        windows = (item.window,) if item.window is not None else ()
    if item.window is None:
        return [(at, _NEVER)]
    out = []
    for w in windows:
        start = max(w.start, at)
        if start < w.end:
            out.append((start, w.end))
    return out


def common_window(need: Need, resource: Resource, at: datetime) -> tuple[datetime, datetime] | None:
    """The first stretch of time from ``at`` on when the need's window (any occurrence) and the
    resource's availability overlap (half-open; an item without a window is always open), or
    ``None``."""
    return _first_overlap(_spans(need, at), _spans(resource, at))


def _first_overlap(
    spans1: list[tuple[datetime, datetime]], spans2: list[tuple[datetime, datetime]]
) -> tuple[datetime, datetime] | None:
    """The earliest non-empty intersection of a span of ``spans1`` with one of ``spans2``."""
    best: tuple[datetime, datetime] | None = None
    for s1, e1 in spans1:
        for s2, e2 in spans2:
            s, e = max(s1, s2), min(e1, e2)
            if s < e and (best is None or (s, e) < best):
                best = (s, e)
    return best


def time_compatible(need: Need, resource: Resource, at: datetime) -> bool:
    """Whether need and resource share some time from ``at`` on (see :func:`common_window`)."""
    return common_window(need, resource, at) is not None


def same_kind(need: Need, resource: Resource) -> bool:
    """Whether the resource can serve the need at all: same category and same measure."""
    return need.category == resource.category and need.measure == resource.measure


def eligible(
    need: Need,
    resource: Resource,
    *,
    at: datetime,
    places: Mapping[str, GeoPoint] | None,
    max_distance_m: int | None,
) -> bool:
    """Whether an arc need → resource exists: same kind, within the distance, time overlap."""
    if not same_kind(need, resource):
        return False
    if (
        max_distance_m is not None
        and allocation_distance_m(need, resource, places) > max_distance_m
    ):
        return False
    return time_compatible(need, resource, at)


def unmet_reason(
    need: Need,
    short: int,
    resources: Sequence[Resource],
    *,
    at: datetime,
    places: Mapping[str, GeoPoint] | None,
    max_distance_m: int | None,
) -> Reason:
    """Why ``short`` of a need's open quantity is left unmet: the first predicate that holds.

    1. ``NO_RESOURCE_OF_CATEGORY(category, measure)``: no resource in scope has the need's
       category and measure;
    2. ``RESOURCE_TOO_FAR(distance_m, limit_m)``: all such resources are beyond the limit
       (``distance_m`` the nearest);
    3. ``NO_RESOURCE_IN_WINDOW``: none of those within reach shares time with the need;
    4. ``RESOURCE_QUANTITY_USED(short, eligible)``: ``eligible`` resources qualify and every
       one of them is fully allocated (the verifier checks that too).

    Parameters
    ----------
    need : Need
        The need.
    short : int
        Quantity unmet.
    resources : sequence of Resource
        The resources in scope.
    at, places, max_distance_m
        As given to :func:`~commgov.lists.allocate`.
    """
    kind = [r for r in resources if same_kind(need, r)]
    if not kind:
        return Reason(
            code=ReasonCode.NO_RESOURCE_OF_CATEGORY,
            params={"category": need.category.value, "measure": need.measure},
        )
    near = kind
    if max_distance_m is not None:
        by_place: dict[str | None, int] = {}  # resources often share a place
        for r in kind:
            if r.place_id not in by_place:
                by_place[r.place_id] = allocation_distance_m(need, r, places)
        dists = [by_place[r.place_id] for r in kind]
        near = [r for r, d in zip(kind, dists, strict=True) if d <= max_distance_m]
        if not near:
            return Reason(
                code=ReasonCode.RESOURCE_TOO_FAR,
                params={"distance_m": min(dists), "limit_m": max_distance_m},
            )
    spans = _spans(need, at)  # time_compatible, with the need's spans computed once
    timely = [r for r in near if _first_overlap(spans, _spans(r, at)) is not None]
    if not timely:
        return Reason(code=ReasonCode.NO_RESOURCE_IN_WINDOW)
    return Reason(
        code=ReasonCode.RESOURCE_QUANTITY_USED, params={"short": short, "eligible": len(timely)}
    )


def check_options(at: object, max_distance_m: object, places: object) -> None:
    """Refuse malformed options with TypeError / ValueError naming the argument."""
    if not isinstance(at, datetime):
        raise TypeError(f"at must be a timezone-aware datetime, not {type(at).__name__}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"at must be timezone-aware, got the naive {at.isoformat()}")
    if max_distance_m is not None:
        if isinstance(max_distance_m, bool) or not isinstance(max_distance_m, int):
            raise TypeError(
                "max_distance_m must be a whole number of metres or None, not "
                f"{type(max_distance_m).__name__} {max_distance_m!r}"
            )
        if not 0 <= max_distance_m <= 40_075_000:
            raise ValueError(f"max_distance_m must be 0 … 40,075,000 m, got {max_distance_m}")
        if places is None:
            raise ValueError("max_distance_m needs places (place id → GeoPoint) to measure")
    if places is not None and not isinstance(places, Mapping):
        raise TypeError(
            f"places must be a mapping of place id to GeoPoint, not {type(places).__name__}"
        )


# --------------------------------------------------------------------------- verifier


@dataclass(frozen=True, slots=True)
class AllocationReport:
    """Outcome of :func:`is_valid_allocation`; truthy exactly when nothing is wrong.

    Attributes
    ----------
    problems : list of str
        Every fault found, each naming the record (``"flow n1→r2"``, ``"unmet n3"``,
        ``"totals"``), in a deterministic order.
    """

    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the allocation passed every check."""
        return not self.problems

    def __bool__(self) -> bool:
        return self.ok


def is_valid_allocation(
    lists: ThreeLists,
    allocation: Allocation,
    *,
    places: Mapping[str, GeoPoint] | None = None,
) -> AllocationReport:
    """Check an allocation against the lists it was made from, importing no solver.

    Checks, from the records alone: every flow joins a need and a resource in scope
    (:func:`scope` at ``allocation.at``) that are :func:`eligible` (same category and
    measure, distance within ``max_distance_m``, shared time), with the right distance, at
    most one flow per pair, sorted; conservation (flows of a need ≤ its open quantity, of a
    resource ≤ its available quantity); the unmet needs are exactly those not fully covered,
    with the right numbers and the reason :func:`unmet_reason` gives, and for
    ``RESOURCE_QUANTITY_USED`` every eligible resource is fully used; the idle resources are
    exactly those with quantity left; totals and the objective tiers in ``info`` add up.
    Optimality is not checked (tests compare with an LP solved by HiGHS).

    Parameters
    ----------
    lists : ThreeLists
        The lists given to :func:`~commgov.lists.allocate`.
    allocation : Allocation
        Its result.
    places : mapping of str to GeoPoint, optional
        The places given to :func:`~commgov.lists.allocate`.

    Returns
    -------
    AllocationReport
        Truthy when valid; ``problems`` lists every fault.
    """
    bad: list[str] = []
    at, limit = allocation.at, allocation.max_distance_m
    sc = scope(lists, at)
    if limit is not None and places is None:
        bad.append("options: max_distance_m is set but no places were given")
        return AllocationReport(bad)
    missing = check_places(
        [n for n, _ in sc.needs.values()] + [r for r, _ in sc.resources.values()], places
    )
    if missing:
        return AllocationReport([f"places: {issue}" for issue in missing])
    got_need: Counter[str] = Counter()
    got_res: Counter[str] = Counter()
    keys = [(f.need_id, f.resource_id) for f in allocation.flows]
    if keys != sorted(set(keys)):
        bad.append("flows: not sorted by (need_id, resource_id), or a pair appears twice")
    t2 = 0
    for f in allocation.flows:
        where = f"flow {f.need_id}→{f.resource_id}"
        if f.need_id not in sc.needs or f.resource_id not in sc.resources:
            bad.append(f"{where}: need or resource not in scope (status, links, raised_at)")
            continue
        need, resource = sc.needs[f.need_id][0], sc.resources[f.resource_id][0]
        if not eligible(need, resource, at=at, places=places, max_distance_m=limit):
            bad.append(f"{where}: not eligible (category/measure, distance or time)")
        d = allocation_distance_m(need, resource, places)
        if f.distance_m != d:
            bad.append(f"{where}: distance_m {f.distance_m}, recomputed {d}")
        got_need[f.need_id] += f.quantity
        got_res[f.resource_id] += f.quantity
        t2 += d * f.quantity
    for nid, q in sorted(got_need.items()):
        if nid in sc.needs and q > sc.needs[nid][1]:
            bad.append(f"need {nid}: allocated {q} exceeds its open quantity {sc.needs[nid][1]}")
    for rid, q in sorted(got_res.items()):
        if rid in sc.resources and q > sc.resources[rid][1]:
            bad.append(f"resource {rid}: used {q} exceeds its available {sc.resources[rid][1]}")
    resources = [r for r, _ in sc.resources.values()]
    expected_unmet = {
        nid: q - got_need[nid] for nid, (_, q) in sc.needs.items() if got_need[nid] < q
    }
    if [u.need_id for u in allocation.unmet] != sorted(expected_unmet):
        bad.append(
            f"unmet: lists {[u.need_id for u in allocation.unmet]}, "
            f"expected {sorted(expected_unmet)}"
        )
    t1 = 0
    for u in allocation.unmet:
        if u.need_id not in expected_unmet:
            continue
        need, asked = sc.needs[u.need_id]
        short = expected_unmet[u.need_id]
        t1 += need.priority * short
        if (u.priority, u.asked, u.allocated, u.short) != (
            need.priority,
            asked,
            got_need[u.need_id],
            short,
        ):
            bad.append(
                f"unmet {u.need_id}: priority/asked/allocated/short "
                f"{(u.priority, u.asked, u.allocated, u.short)}, expected "
                f"{(need.priority, asked, got_need[u.need_id], short)}"
            )
        want = unmet_reason(need, short, resources, at=at, places=places, max_distance_m=limit)
        if u.reason != want:
            bad.append(f"unmet {u.need_id}: reason {u.reason!r}, the predicates give {want!r}")
        elif want.code == ReasonCode.RESOURCE_QUANTITY_USED:
            for r in resources:  # the cheap test first: only resources with quantity left
                if got_res[r.id] < sc.resources[r.id][1] and eligible(
                    need, r, at=at, places=places, max_distance_m=limit
                ):
                    bad.append(
                        f"unmet {u.need_id}: reason says every eligible resource is used, but "
                        f"{r.id} has {sc.resources[r.id][1] - got_res[r.id]} left"
                    )
    expected_idle = {
        rid: q - got_res[rid] for rid, (_, q) in sc.resources.items() if got_res[rid] < q
    }
    if [i.resource_id for i in allocation.idle] != sorted(expected_idle):
        bad.append(
            f"idle: lists {[i.resource_id for i in allocation.idle]}, "
            f"expected {sorted(expected_idle)}"
        )
    for i in allocation.idle:
        if i.resource_id in expected_idle:
            want_idle = (
                sc.resources[i.resource_id][1],
                got_res[i.resource_id],
                expected_idle[i.resource_id],
            )
            if (i.available, i.used, i.left) != want_idle:
                bad.append(
                    f"idle {i.resource_id}: available/used/left "
                    f"{(i.available, i.used, i.left)}, expected {want_idle}"
                )
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
        bad.append(f"totals: {allocation.totals!r}, recomputed {totals!r}")
    objective = {"unmet_priority": float(t1), "distance_quantity_m": float(t2)}
    if allocation.info.objective != objective:
        bad.append(f"info.objective: {allocation.info.objective}, recomputed {objective}")
    return AllocationReport(bad)
