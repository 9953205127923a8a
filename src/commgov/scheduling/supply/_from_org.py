"""OrgModel → SupplyProblem: the candidate stations and compounds of a place (private)."""

from __future__ import annotations

import math

from commgov._problem import coerce_window
from commgov.errors import InputIssue, ProblemError
from commgov.org import NeighbourhoodUnit, NodeKind, OrgGraph, OrgModel, SiteFunction
from commgov.results import LeftOut, LeftOutReasonCode
from commgov.scheduling.supply._problem import (
    MAX_STATION_PARCELS,
    CandidateStation,
    SupplyCompound,
    SupplyPolicy,
    SupplyProblem,
)
from commgov.types import TimeWindow

__all__ = ["STATION_FUNCTIONS", "supply_problem_from_org"]

_WHAT = "supply problem"

#: Site functions that make a site a candidate station (in normal times or an emergency):
#: a supply transit station, a party micro-site (小巷红韵) or a temporary service point.
STATION_FUNCTIONS = frozenset(
    {SiteFunction.SUPPLY_TRANSIT, SiteFunction.PARTY_MICRO_SITE, SiteFunction.TEMP_SERVICE}
)

#: Kinds of places a compound may sit in: a unit directly under one of them is a compound of
#: the supply plan (courtyards inside a lane go with their lane, through its gate).
_TOP = {NodeKind.COMMUNITY, NodeKind.VILLAGE}


def supply_problem_from_org(
    model: OrgModel | OrgGraph,
    place_id: str,
    *,
    window: TimeWindow | None = None,
    policy: SupplyPolicy | None = None,
    parcels_per_household: float = 1.0,
    capacity_parcels: int = 2_000,
    staff_per_station: int = 2,
    volunteers: int | None = None,
) -> SupplyProblem:
    """Build the supply-station problem of a place (community, sub-district or district).

    Candidate stations are the place's sites with a supply-transit, party micro-site or
    temporary-service function (:data:`STATION_FUNCTIONS`), each with ``capacity_parcels``
    and ``staff_per_station``. Compounds are the neighbourhood units directly under a
    community (compounds 小区 and lanes 街巷; a courtyard inside a lane goes with its lane),
    their gate the unit's ``location`` and their parcels ``⌈households ×
    parcels_per_household⌉``. A unit without a location is listed in ``left_out``
    (``NO_LOCATION``), one without households (``NO_HOUSEHOLDS``).

    The defaults are assumptions, not calibrated figures: one parcel a household a day (a
    day's group-bought groceries), 2,000 parcels a day and two volunteers per station.

    Parameters
    ----------
    model : OrgModel or OrgGraph
        The organisation model (validated into a graph if a model is given).
    place_id : str
        The place to plan: any territorial unit with neighbourhood units below it.
    window : TimeWindow, optional
        The day the plan is for (kept on the problem).
    policy : SupplyPolicy, optional
        The walking limit (default :class:`SupplyPolicy`).
    parcels_per_household : float
        Parcels a household a day, in (0, 100] (default 1).
    capacity_parcels : int
        Parcels a day each station handles, 1 … :data:`MAX_STATION_PARCELS` (default 2,000).
    staff_per_station : int
        Volunteers running each opened station, 1 … 1,000 (default 2).
    volunteers : int or None
        The volunteer pool of the stations (default ``None``: not limited).

    Returns
    -------
    SupplyProblem

    Raises
    ------
    commgov.errors.ProblemError
        An unknown place, a bad ``window`` or figure, no candidate station, or no compound.
    commgov.errors.OrgStructureError
        If the model itself is invalid.

    Notes
    -----
    O(records of the place).

    Examples
    --------
    >>> from commgov.datasets import HUCHIYUAN, gusu
    >>> problem = supply_problem_from_org(gusu(0, communities=[HUCHIYUAN]), HUCHIYUAN)
    >>> len(problem.stations) > 0 and len(problem.compounds) > 0
    True
    """
    graph = model if isinstance(model, OrgGraph) else OrgGraph(model)
    window = coerce_window(window, str(place_id), _WHAT, optional=True)
    if not isinstance(place_id, str) or place_id not in graph:
        raise ProblemError.single(
            str(place_id), "place_id", place_id, "no place has this id", what=_WHAT
        )
    issues: list[InputIssue] = []
    checks = (
        ("parcels_per_household", parcels_per_household, 0.0, 100.0, False),
        ("capacity_parcels", capacity_parcels, 1, MAX_STATION_PARCELS, True),
        ("staff_per_station", staff_per_station, 1, 1_000, True),
    )
    for field, value, lo, hi, whole in checks:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and math.isfinite(value) and (value >= lo if whole else value > lo) and value <= hi
        if ok and whole:
            ok = isinstance(value, int)
        if not ok:
            kind = "a whole number" if whole else "a number"
            bracket = "[" if whole else "("
            issues.append(
                InputIssue(place_id, field, value, f"must be {kind} in {bracket}{lo}, {hi}]")
            )
    if issues:
        raise ProblemError(issues, what=_WHAT)
    scope = {place_id, *graph.descendants(place_id)}
    stations = [
        CandidateStation(
            id=s.id,
            location=s.location,
            capacity_parcels=capacity_parcels,
            staff=staff_per_station,
            name=s.name,
        )
        for s in sorted(graph.model.sites, key=lambda s: s.id)
        if s.parent_id in scope
        and STATION_FUNCTIONS & (set(s.normal_functions) | set(s.emergency_functions))
    ]
    if not stations:
        issues.append(InputIssue(place_id, "stations", 0, "the place has no candidate station"))
    left_out: list[LeftOut] = []
    compounds = []
    units = 0
    for uid in sorted(scope):
        kind = graph.kind(uid)
        if kind not in (NodeKind.COMPOUND, NodeKind.LANE, NodeKind.COURTYARD):
            continue
        parent = graph.parent(uid)
        if parent is None or graph.kind(parent) not in _TOP:
            continue
        units += 1
        unit = graph.record(uid)
        assert isinstance(unit, NeighbourhoodUnit)
        households = graph.summary(uid).counts.households
        if unit.location is None:
            left_out.append(LeftOut(record=uid, kind="unit", code=LeftOutReasonCode.NO_LOCATION))
            continue
        if households <= 0:
            left_out.append(LeftOut(record=uid, kind="unit", code=LeftOutReasonCode.NO_HOUSEHOLDS))
            continue
        parcels = min(MAX_STATION_PARCELS, math.ceil(households * parcels_per_household))
        compounds.append(
            SupplyCompound(
                id=uid, gate=unit.location, households=households, parcels=parcels, name=unit.name
            )
        )
    if not units:
        issues.append(InputIssue(place_id, "compounds", 0, "the place has no compound"))
    if issues:
        raise ProblemError(issues, what=_WHAT)
    tz = getattr(graph.record(place_id), "timezone", None) or graph.model.timezone
    return SupplyProblem(
        timezone=tz,
        window=window,
        compounds=compounds,
        stations=stations,
        volunteers=volunteers,
        policy=policy or SupplyPolicy(),
        left_out=left_out,
    )
