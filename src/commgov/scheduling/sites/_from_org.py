"""OrgModel → SitesProblem: the candidate sites and buildings of a place (private)."""

from __future__ import annotations

from collections.abc import Iterable

from commgov._problem import coerce_window
from commgov.errors import InputIssue, ProblemError
from commgov.org import Building, Entrance, NodeKind, OrgGraph, OrgModel, SiteFunction
from commgov.results import LeftOut, LeftOutReasonCode
from commgov.scheduling.sites._problem import (
    MAX_SITE_LANES,
    CandidateSite,
    SitesBuilding,
    SitesPolicy,
    SitesProblem,
    StaffPool,
)
from commgov.types import TimeWindow

__all__ = ["CANDIDATE_FUNCTIONS", "sites_problem_from_org"]

_WHAT = "sites problem"

#: Site functions that make a site a candidate (in normal times or in an emergency).
CANDIDATE_FUNCTIONS = frozenset(
    {SiteFunction.SAMPLING_POINT, SiteFunction.PARTY_MICRO_SITE, SiteFunction.TEMP_SERVICE}
)


def sites_problem_from_org(
    model: OrgModel | OrgGraph,
    place_id: str,
    *,
    window: TimeWindow | None = None,
    policy: SitesPolicy | None = None,
    pool: Iterable[StaffPool] = (),
) -> SitesProblem:
    """Build the site-selection problem of a place (community, sub-district or district).

    Candidate sites are the place's sites with a sampling-point, party micro-site or
    temporary-service function (:data:`CANDIDATE_FUNCTIONS`): ``max_lanes`` their
    ``lanes``, ``opening`` their opening, their lane rate. A site with no lane is listed in
    ``left_out`` (``NO_LANES``). Buildings carry their walk-in residents (residents less the
    mobility-limited, who are sampled at home), summed over their entrances; a building with
    none is listed in ``left_out`` (``NO_HOUSEHOLDS``).

    Parameters
    ----------
    model : OrgModel or OrgGraph
        The organisation model (validated into a graph if a model is given).
    place_id : str
        The place to plan: any territorial unit with buildings below it.
    window : TimeWindow, optional
        The round; default: from the earliest opening to the latest closing of the
        candidate sites.
    policy : SitesPolicy, optional
        Slots, walking, service, waiting and staffing ratios (default
        :class:`SitesPolicy`).
    pool : iterable of StaffPool
        The staff pool (default none: not limited).

    Returns
    -------
    SitesProblem

    Raises
    ------
    commgov.errors.ProblemError
        An unknown place, a bad ``window``, no candidate site, no building, or no window to
        derive.
    commgov.errors.OrgStructureError
        If the model itself is invalid.

    Notes
    -----
    O(records of the place).

    Examples
    --------
    >>> from commgov.datasets import HUCHIYUAN, gusu
    >>> problem = sites_problem_from_org(gusu(0, communities=[HUCHIYUAN]), HUCHIYUAN)
    >>> len(problem.sites) > 0 and len(problem.buildings) > 0
    True
    """
    graph = model if isinstance(model, OrgGraph) else OrgGraph(model)
    window = coerce_window(window, str(place_id), _WHAT, optional=True)
    if not isinstance(place_id, str) or place_id not in graph:
        raise ProblemError.single(
            str(place_id), "place_id", place_id, "no place has this id", what=_WHAT
        )
    scope = {place_id, *graph.descendants(place_id)}
    marked = [
        s
        for s in graph.model.sites
        if s.parent_id in scope
        and CANDIDATE_FUNCTIONS & (set(s.normal_functions) | set(s.emergency_functions))
    ]
    left_out = [
        LeftOut(record=s.id, kind="site", code=LeftOutReasonCode.NO_LANES)
        for s in sorted(marked, key=lambda s: s.id)
        if s.lanes == 0
    ]
    sites = [
        CandidateSite(
            id=s.id,
            location=s.location,
            max_lanes=min(s.lanes, MAX_SITE_LANES),
            opening=s.opening,
            rate_per_lane_per_hour=s.rate_per_lane_per_hour,
            name=s.name,
        )
        for s in sorted(marked, key=lambda s: s.id)
        if s.lanes > 0
    ]
    issues: list[InputIssue] = []
    if not sites:
        issues.append(
            InputIssue(place_id, "sites", 0, "the place has no candidate site with lanes")
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
                    place_id,
                    "window",
                    None,
                    "no window given and no candidate site has opening hours",
                )
            )
    buildings = []
    for bid in sorted(graph.descendants(place_id, NodeKind.BUILDING)):
        record = graph.record(bid)
        assert isinstance(record, Building)
        walk_in = 0
        entrances = [
            graph.record(e) for e in graph.children(bid) if graph.kind(e) is NodeKind.ENTRANCE
        ]
        for e in entrances:
            assert isinstance(e, Entrance)
            walk_in += e.counts.residents - e.counts.mobility_limited
        if not entrances and record.counts is not None:
            walk_in = record.counts.residents - record.counts.mobility_limited
        if walk_in <= 0:
            left_out.append(
                LeftOut(record=bid, kind="building", code=LeftOutReasonCode.NO_HOUSEHOLDS)
            )
            continue
        buildings.append(SitesBuilding(id=bid, location=record.location, residents=walk_in))
    if not buildings and not any(lo.kind == "building" for lo in left_out):
        issues.append(InputIssue(place_id, "buildings", 0, "the place has no buildings"))
    if issues or window is None:
        raise ProblemError(issues, what=_WHAT)
    tz = getattr(graph.record(place_id), "timezone", None) or graph.model.timezone
    return SitesProblem(
        timezone=tz,
        window=window,
        sites=sites,
        buildings=buildings,
        pool=list(pool),
        policy=policy or SitesPolicy(),
        left_out=left_out,
    )
