from __future__ import annotations

import math

from commgov.errors import InputIssue, ProblemError
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
from commgov.scheduling.problem import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPoint,
    SamplingPolicy,
    SamplingProblem,
)
from commgov.types import TimeWindow


def _batches(
    owner_id: str, building_id: str, counts: HouseholdCounts, max_households: int
) -> list[SamplingBatch]:
    """Cut a leaf's households into batches of at most ``max_households``, walk-in residents
    spread in proportion (largest remainder, so the people add up exactly)."""
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
    if n == 1:
        return [
            SamplingBatch(
                id=owner_id, building_id=building_id, households=households[0], people=people[0]
            )
        ]
    return [
        SamplingBatch(id=f"{owner_id}#{k + 1}", building_id=building_id, households=h, people=p)
        for k, (h, p) in enumerate(zip(households, people, strict=True))
    ]


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
    the ``sampling_point`` emergency function and at least one lane. A building's zone regime
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
        Slot length, utilisation, queue and walking limits (defaults: DESIGN.md).

    Returns
    -------
    SamplingProblem

    Raises
    ------
    commgov.errors.ProblemError
        If the community is unknown, has no buildings or no sampling point, or no window can
        be derived.
    commgov.errors.OrgStructureError
        If the model itself is invalid.
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
    sites = [
        s
        for s in graph.model.sites
        if s.parent_id in in_community
        and SiteFunction.SAMPLING_POINT in s.emergency_functions
        and s.lanes > 0
    ]
    if not sites:
        issues.append(
            InputIssue(community_id, "sites", 0, "the community has no sampling point with lanes")
        )
    if window is None:
        openings = [s.opening for s in sites if s.opening is not None]
        if openings:
            window = TimeWindow(
                start=min(o.start for o in openings), end=max(o.end for o in openings)
            )
        elif sites:
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
    if issues:
        raise ProblemError(issues, what="sampling problem")
    assert window is not None
    buildings = []
    for bid in building_ids:
        record = graph.record(bid)
        assert isinstance(record, Building)
        entrances = [
            graph.record(e) for e in graph.children(bid) if graph.kind(e) is NodeKind.ENTRANCE
        ]
        batches: list[SamplingBatch] = []
        limited = 0
        if entrances:
            for entrance in entrances:
                assert isinstance(entrance, Entrance)
                batches.extend(_batches(entrance.id, bid, entrance.counts, max_batch_households))
                limited += entrance.counts.mobility_limited
        elif record.counts is not None:
            batches.extend(_batches(bid, bid, record.counts, max_batch_households))
            limited += record.counts.mobility_limited
        buildings.append(
            SamplingBuilding(
                id=bid,
                location=record.location,
                zone=effective_regime(graph, bid, window.start),
                batches=[b for b in batches if b.people > 0],
                mobility_limited=limited,
            )
        )
    points = [_point(s) for s in sites]
    return SamplingProblem(
        timezone=_timezone(graph, community_id),
        window=window,
        buildings=buildings,
        points=points,
        policy=policy or SamplingPolicy(),
    )


def _point(site: Site) -> SamplingPoint:
    return SamplingPoint(
        id=site.id,
        location=site.location,
        lanes=site.lanes,
        rate_per_lane_per_hour=site.rate_per_lane_per_hour,
        opening=site.opening,
    )


def _timezone(graph: OrgGraph, community_id: str | None) -> str:
    """The community's own time zone, else the model's."""
    if community_id is None:
        return graph.model.timezone
    return getattr(graph.record(community_id), "timezone", graph.model.timezone)
