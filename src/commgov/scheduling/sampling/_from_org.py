"""OrgModel → SamplingProblem: one community's buildings, batches and points (private)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from commgov._problem import coerce_window
from commgov._redact import looks_personal
from commgov.errors import InputIssue, ProblemError, check_size
from commgov.org import (
    Building,
    Entrance,
    HouseholdCounts,
    NodeKind,
    OrgGraph,
    OrgModel,
    Site,
    SiteFunction,
)
from commgov.org._queries import community_scope, effective_regime
from commgov.results import LeftOut, LeftOutReasonCode
from commgov.scheduling.sampling._limits import MAX_BATCHES as _LIMIT_BATCHES
from commgov.scheduling.sampling._problem import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPoint,
    SamplingPolicy,
    SamplingProblem,
)
from commgov.types import TimeWindow

__all__ = ["MAX_BATCHES", "sampling_problem_from_org"]

_WHAT = "sampling problem"
_R = TypeVar("_R", bound=BaseModel)


def _shown(value: object) -> object:
    """An offending value as reported: scalars and small flat mappings as they are."""
    if isinstance(value, Mapping):
        flat = all(isinstance(v, str | int | float | bool | None) for v in value.values())
        return dict(value) if flat and len(value) <= 6 else f"<{type(value).__name__}>"
    if isinstance(value, list | tuple | set):
        return f"<{type(value).__name__} of {len(value)}>"
    return value


def _issues(
    exc: ValidationError, record: str, prefix: str = "", note: str = ""
) -> list[InputIssue]:
    """One issue per pydantic error, naming the organisation record, the field and the value."""
    issues = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        issues.append(InputIssue(record, field, _shown(err.get("input")), f"{err['msg']}{note}"))
    return issues


def _build(
    issues: list[InputIssue], record: str, make: Callable[..., _R], note: str, **fields: object
) -> _R | None:
    """``make(**fields)``, or ``None`` with its validation errors added to ``issues``."""
    try:
        return make(**fields)
    except ValidationError as exc:
        issues.extend(_issues(exc, record, note=note))
        return None


def _checked_counts(
    issues: list[InputIssue], record: str, counts: HouseholdCounts
) -> HouseholdCounts | None:
    """The counts validated again (a record copied with ``model_copy(update=...)`` is not)."""
    try:
        return HouseholdCounts.model_validate(dict(counts))
    except ValidationError as exc:
        issues.extend(_issues(exc, record, prefix="counts"))
        return None


#: Most batches a sampling problem may have (:data:`._limits.MAX_BATCHES`); checked before
#: they are made, so that absurd counts fail fast instead of exhausting memory.
MAX_BATCHES = _LIMIT_BATCHES


def _batches(
    owner_id: str,
    building_id: str,
    counts: HouseholdCounts,
    max_households: int,
    issues: list[InputIssue],
) -> list[SamplingBatch]:
    """Cut a leaf's households into batches of at most ``max_households``, walk-in residents
    spread in proportion (largest remainder, so the people add up exactly). Batches that fail
    validation are left out, their issues added to ``issues``."""
    walk_in = counts.residents - counts.mobility_limited
    if counts.households == 0:
        return []
    n = math.ceil(counts.households / max_households)
    households = [
        counts.households // n + (1 if k < counts.households % n else 0) for k in range(n)
    ]
    people = [walk_in * h // counts.households for h in households]
    for k in range(walk_in - sum(people)):
        people[k] += 1
    ids = [owner_id] if n == 1 else [f"{owner_id}#{k + 1}" for k in range(n)]
    batches = [
        _build(
            issues,
            owner_id,
            SamplingBatch,
            f" (sampling batch {bid!r})",
            id=bid,
            building_id=building_id,
            households=h,
            people=p,
        )
        for bid, h, p in zip(ids, households, people, strict=True)
    ]
    return [b for b in batches if b is not None]


def sampling_problem_from_org(
    model: OrgModel | OrgGraph,
    community_id: str,
    *,
    window: TimeWindow | None = None,
    max_batch_households: int = 20,
    policy: SamplingPolicy | None = None,
) -> SamplingProblem:
    """Build the sampling problem of one community from its organisation model.

    Batches are entrances (单元), or at most ``max_batch_households`` households of a building
    (the Shanghai practice of 20-household batches); walk-in people are residents minus the
    mobility-limited, who are visited at home. Sampling points are the community's sites with
    the ``sampling_point`` emergency function and at least one lane; one with no lane is
    listed in the problem's ``left_out`` (``NO_LANES``). A building's zone regime
    is the most restrictive designation in force at the window's start over the building, its
    entrances and its ancestors.

    Parameters
    ----------
    model : OrgModel or OrgGraph
        The organisation model (validated into a graph if a model is given).
    community_id : str
        The community (12-digit code) to plan.
    window : TimeWindow, optional
        The sampling window; default: from the earliest opening to the latest closing of the
        community's sampling points.
    max_batch_households : int, default 20
        Largest batch, in households.
    policy : SamplingPolicy, optional
        Slot length, utilisation, queue and walking limits (default: :class:`SamplingPolicy`'s
        defaults).

    Returns
    -------
    SamplingProblem

    Raises
    ------
    commgov.errors.ProblemError
        If the community is unknown, has no buildings or no sampling point, or no window can
        be derived; or if a record holds a value the sampling records refuse (possible when
        it was copied with ``model_copy(update=...)`` or made with ``model_construct``, which
        skip validation): one issue per bad value, naming the organisation record's id (site,
        building, entrance), the field and the value, all reported at once.
    commgov.errors.SizeLimitError
        If the community would give more than :data:`MAX_BATCHES` batches.
    commgov.errors.OrgStructureError
        If the model itself is invalid.

    Notes
    -----
    O(records of the community + batches).

    Examples
    --------
    >>> from commgov.datasets import gusu
    >>> model = gusu(seed=0, communities=["320508017016"])
    >>> problem = sampling_problem_from_org(model, "320508017016")
    >>> problem.n_slots > 0 and len(problem.points) > 0
    True
    """
    graph, in_community = community_scope(model, community_id, "sampling problem")
    issues: list[InputIssue] = []
    if max_batch_households < 1:
        raise ProblemError.single(
            community_id,
            "max_batch_households",
            max_batch_households,
            "must be ≥ 1",
            what="sampling problem",
        )
    window = coerce_window(window, community_id, _WHAT, optional=True)
    marked = [
        s
        for s in graph.model.sites
        if s.parent_id in in_community and SiteFunction.SAMPLING_POINT in s.emergency_functions
    ]
    # a site without lanes is no sampling point: reported in left_out; bad values are errors
    sites = [s for s in marked if s.lanes != 0]
    left_out = [
        LeftOut(record=s.id, kind="site", code=LeftOutReasonCode.NO_LANES)
        for s in sorted(marked, key=lambda s: s.id)
        if s.lanes == 0
    ]
    if not sites:
        issues.append(
            InputIssue(community_id, "sites", 0, "the community has no sampling point with lanes")
        )
    bad_records: list[InputIssue] = []  # values of records, all reported together at the end
    points = [p for p in (_point(s, bad_records) for s in sites) if p is not None]
    if window is None:
        openings = [p.opening for p in points if p.opening is not None]
        if openings:
            window = TimeWindow(
                start=min(o.start for o in openings), end=max(o.end for o in openings)
            )
        elif sites and not bad_records:
            issues.append(
                InputIssue(
                    community_id,
                    "window",
                    None,
                    "no window given and no sampling point has opening hours",
                )
            )
    building_ids = list(graph.descendants(community_id, NodeKind.BUILDING))
    if not building_ids:
        issues.append(InputIssue(community_id, "buildings", 0, "the community has no buildings"))
    if issues or window is None:
        raise ProblemError(issues + bad_records, what=_WHAT)
    buildings = []
    n_batches = 0
    for bid in building_ids:
        record = graph.record(bid)
        assert isinstance(record, Building)
        entrances = [
            graph.record(e) for e in graph.children(bid) if graph.kind(e) is NodeKind.ENTRANCE
        ]
        leaves: list[tuple[str, HouseholdCounts]] = []
        for entrance in entrances:
            assert isinstance(entrance, Entrance)
            leaves.append((entrance.id, entrance.counts))
        if not entrances and record.counts is not None:
            leaves = [(bid, record.counts)]
        batches: list[SamplingBatch] = []
        limited = 0
        for owner, counts in leaves:
            checked = _checked_counts(bad_records, owner, counts)
            if checked is not None:
                n_batches += math.ceil(checked.households / max_batch_households)
                check_size(
                    f"sampling problem for {community_id}: batches of at most "
                    f"{max_batch_households} households (counted up to {owner}, "
                    f"{checked.households:,} households)",
                    n_batches,
                    MAX_BATCHES,
                    "split the community or raise max_batch_households",
                )
                batches.extend(_batches(owner, bid, checked, max_batch_households, bad_records))
                limited += checked.mobility_limited
        building = _build(
            bad_records,
            bid,
            SamplingBuilding,
            " (as a sampling building)",
            id=bid,
            location=record.location,
            zone=effective_regime(graph, bid, window.start),
            batches=[b for b in batches if b.people > 0],
            mobility_limited=limited,
            name=_display(_building_name(graph, record)),
        )
        if building is not None:
            buildings.append(building)
    if bad_records:
        raise ProblemError(bad_records, what=_WHAT)
    return SamplingProblem(
        timezone=_timezone(graph, community_id),
        window=window,
        buildings=buildings,
        points=points,
        policy=policy or SamplingPolicy(),
        left_out=left_out,
    )


def _point(site: Site, issues: list[InputIssue]) -> SamplingPoint | None:
    return _build(
        issues,
        site.id,
        SamplingPoint,
        " (as a sampling point)",
        id=site.id,
        location=site.location,
        lanes=site.lanes,
        rate_per_lane_per_hour=site.rate_per_lane_per_hour,
        opening=site.opening,
        name=_display(site.name),
    )


def _timezone(graph: OrgGraph, community_id: str | None) -> str:
    """The community's own time zone, else the model's."""
    if community_id is None:
        return graph.model.timezone
    return getattr(graph.record(community_id), "timezone", graph.model.timezone)


def _building_name(graph: OrgGraph, building: Building) -> str:
    """``<unit name> <label>`` (``春晖苑 3幢``), or the label alone without a named unit."""
    unit = graph.record(building.parent_id) if building.parent_id in graph else None
    unit_name = getattr(unit, "name", "") or ""
    return f"{unit_name} {building.label}".strip()


def _display(text: str | None) -> str | None:
    """A display name for the problem, or None where the text is no usable one."""
    if not text:
        return None
    line = " ".join(str(text).split())[:80]
    return None if not line.isprintable() or (len(line) >= 7 and looks_personal(line)) else line
