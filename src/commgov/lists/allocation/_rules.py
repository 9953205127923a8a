"""The rules that define an allocation, shared by the solver and the verifier (private).

Nothing here imports a solver: :func:`scope` (what takes part, with which quantity),
:func:`allocation_distance_m`, :func:`common_window` / :func:`time_compatible`,
:func:`eligible` (whether an arc need → resource exists) and :func:`unmet_reason` (why a need
is short), plus the family's reason codes :class:`AllocationReasonCode`. The solver builds its
arcs and reasons with vectorised equivalents (``_network``), tested equal to these.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from numbers import Integral

from commgov._options import Interval, check_options_interval
from commgov._walking import walk_metres_half_up
from commgov.errors import InputIssue, InvalidParameterError
from commgov.lists._container import ThreeLists
from commgov.lists._lifecycle import Status
from commgov.lists._records import ListItem, Need, Resource
from commgov.results import Reason, register_reasons
from commgov.types import GeoPoint

__all__ = [
    "ALLOCATABLE",
    "AllocationReasonCode",
    "Scope",
    "allocation_distance_m",
    "check_allocation_options",
    "check_places",
    "common_window",
    "eligible",
    "same_kind",
    "scope",
    "spans",
    "time_compatible",
    "unmet_reason",
]

#: Statuses of needs and resources that allocation considers (posted or already matched).
ALLOCATABLE: frozenset[Status] = frozenset({Status.RAISED, Status.MATCHED})
#: Project statuses that commit nothing (the project fell through).
_DEAD: frozenset[Status] = frozenset({Status.CANCELLED, Status.REJECTED})

_NEVER = datetime.max.replace(tzinfo=UTC)


class AllocationReasonCode(StrEnum):
    """Why (part of) a need is left unmet by :func:`~commgov.lists.allocate`.

    Each code is a predicate the verifier re-checks (see :func:`unmet_reason`): the first
    that holds is given. ``NO_RESOURCE_OF_CATEGORY(category, measure)``: no resource in scope
    has the need's category and measure; ``RESOURCE_TOO_FAR(distance_m, limit_m)``: all such
    resources are beyond the distance limit; ``NO_RESOURCE_IN_WINDOW``: none within reach
    shares time with the need; ``RESOURCE_QUANTITY_USED(short, eligible)``: every eligible
    resource is fully allocated.
    """

    NO_RESOURCE_OF_CATEGORY = "NO_RESOURCE_OF_CATEGORY"
    RESOURCE_TOO_FAR = "RESOURCE_TOO_FAR"
    NO_RESOURCE_IN_WINDOW = "NO_RESOURCE_IN_WINDOW"
    RESOURCE_QUANTITY_USED = "RESOURCE_QUANTITY_USED"


_R = AllocationReasonCode
register_reasons(
    "allocation",
    AllocationReasonCode,
    {
        _R.NO_RESOURCE_OF_CATEGORY: ({"category", "measure"}, ()),
        _R.RESOURCE_TOO_FAR: ({"distance_m", "limit_m"}, ()),
        _R.NO_RESOURCE_IN_WINDOW: ((), ()),
        _R.RESOURCE_QUANTITY_USED: ({"short", "eligible"}, ()),
    },
    {
        _R.NO_RESOURCE_OF_CATEGORY: (
            "no resource of category {category!s} counted in {measure!s} is on offer",
            "没有{category!s}类、以{measure!s}计的资源可供",
        ),
        _R.RESOURCE_TOO_FAR: (
            "the nearest resource of the category is {distance_m} m away (limit {limit_m} m)",
            "最近的同类资源距离{distance_m}米（上限{limit_m}米）",
        ),
        _R.NO_RESOURCE_IN_WINDOW: (
            "no resource of the category within reach is available in the need's window",
            "附近的同类资源在需求时段内均不可用",
        ),
        _R.RESOURCE_QUANTITY_USED: (
            "{short} of the quantity asked left unmet: all {eligible} eligible resources are "
            "used (the allocation serves the most priority-weighted quantity)",
            "尚有{short}未满足：全部{eligible}项符合条件的资源已用完（已按优先级加权数量最大化）",
        ),
    },
)


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
        If a place is missing from ``places`` (:func:`~commgov.lists.allocate` checks first).
    """
    if places is None:
        return 0
    a = places[need.place_id or ""]
    b = places[resource.place_id or ""]
    return walk_metres_half_up(a, b)


def spans(item: ListItem, at: datetime) -> list[tuple[datetime, datetime]]:
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
    return _first_overlap(spans(need, at), spans(resource, at))


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
            code=_R.NO_RESOURCE_OF_CATEGORY,
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
                code=_R.RESOURCE_TOO_FAR,
                params={"distance_m": min(dists), "limit_m": max_distance_m},
            )
    need_spans = spans(need, at)  # time_compatible, with the need's spans computed once
    timely = [r for r in near if _first_overlap(need_spans, spans(r, at)) is not None]
    if not timely:
        return Reason(code=_R.NO_RESOURCE_IN_WINDOW)
    return Reason(
        code=_R.RESOURCE_QUANTITY_USED, params={"short": short, "eligible": len(timely)}
    )


def check_allocation_options(at: object, max_distance_m: object, places: object) -> None:
    """Refuse malformed domain options with the one
    :class:`~commgov.errors.InvalidParameterError` (a ``ValueError`` and a ``TypeError``)
    naming the argument."""
    if not isinstance(at, datetime):
        raise InvalidParameterError("at", type(at).__name__, "a timezone-aware datetime",
                                    "allocate")
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidParameterError("at", at.isoformat(), "timezone-aware (this one is naive)",
                                    "allocate")
    if max_distance_m is not None:
        check_options_interval("allocate", "max_distance_m", max_distance_m,
                               Interval(Integral, 0, 40_075_000))
        if places is None:
            raise InvalidParameterError("max_distance_m", max_distance_m, "None without "
                                        "places (max_distance_m needs places, place id → "
                                        "GeoPoint, to measure)", "allocate")
    if places is not None and not isinstance(places, Mapping):
        raise InvalidParameterError("places", type(places).__name__,
                                    "a mapping of place id to GeoPoint", "allocate")
