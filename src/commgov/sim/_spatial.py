"""Spatial output: KPIs per building and per community as a GeoJSON FeatureCollection.

The event log of a replicate names households (``notified``: the notification submodel;
``d2d_swabbed``: door-to-door; reported when the submodel is enabled). Each household belongs
to a building of the world — the longest prefix of its id, up to ``/`` or ``#``, that is a
building id — and each building to a community. :func:`spatial_kpis` counts per building and
per community:

``households``
    Households of the place (the world's counts; count).
``notification.notified``, ``notification.notified_share``
    Households notified (count), and that count over ``households`` (share; 0 for a place
    without households).
``notification.t50_min``, ``notification.t95_min``
    Minutes from the scenario start until 50 % / 95 % of the place's households were notified
    (:func:`commgov.sim.time_to_fraction`; ``null`` when not reached in some replicate).
``door_to_door.swabbed``, ``door_to_door.last_swab_min``
    Households swabbed at home (count) and the minute of the place's last swab (``null``
    where none). Only sealed and home-bound households are visited, so no share of all
    households is given.

Over several replicates each property is the mean over them. Properties are named as the
sweep's KPIs and their units come from the one KPI registry
(:func:`commgov.sim.kpi_info`); the collection carries them in its foreign member ``units``.

Geometry (RFC 7946): WGS84 ``[lon, lat]`` Points, rounded to 6 decimals (about 0.1 m) — a
building at its location, a community at its own location or, when it has none, at the mean of
its buildings' locations (the property ``located`` says which). QGIS, Leaflet and MapLibre read
the file as it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from commgov.sim._kpi_info import kpi_info
from commgov.sim._log import EventLog

if TYPE_CHECKING:
    from commgov.sim._engine import ReplicateResult
    from commgov.sim._scenario import Scenario

__all__ = ["REACH_KINDS", "place_kpis", "spatial_kpis"]

#: Event kinds that reach a household: kind → (submodel, name of the count, name of the
#: minute of the place's last event, or "" when every household of a place is to be reached:
#: then its share and t50/t95 are given instead).
REACH_KINDS: Mapping[str, tuple[str, str, str]] = {
    "notified": ("notification", "notified", ""),
    "d2d_swabbed": ("door_to_door", "swabbed", "last_swab_min"),
}

#: Fractions of a place's households whose reach time is reported (t50_min, t95_min).
_FRACTIONS = ((0.5, "t50_min"), (0.95, "t95_min"))

_DECIMALS = 6


@dataclass(frozen=True, slots=True)
class _Place:
    id: str
    kind: str  # "building" or "community"
    community: str
    name: str
    lon: float
    lat: float
    located: str  # "record" or "buildings"
    households: int


@dataclass(frozen=True, slots=True)
class _Places:
    places: tuple[_Place, ...]  # communities then buildings, each in id order
    building_ids: frozenset[str]
    community_of: Mapping[str, str]  # building id → community


_CACHE: dict[tuple[str, int, str], _Places] = {}


def _places(scenario: Scenario) -> _Places:
    """The buildings and communities of a scenario's area (cached per world)."""
    from commgov.org import Building, NodeKind
    from commgov.sim._engine import area_communities, load_world

    c = scenario.community
    key = (c.dataset, c.seed, c.community)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    _, graph = load_world(c.dataset, c.seed, c.community)
    communities: list[_Place] = []
    buildings: list[_Place] = []
    community_of: dict[str, str] = {}
    for cid in area_communities(graph, c.community):
        mine: list[_Place] = []
        for bid in sorted(graph.descendants(cid, NodeKind.BUILDING)):
            b = graph.record(bid)
            assert isinstance(b, Building)
            n = graph.summary(bid).counts.households
            mine.append(
                _Place(
                    bid,
                    "building",
                    cid,
                    str(getattr(b, "name", "") or ""),
                    b.location.lon,
                    b.location.lat,
                    "record",
                    n,
                )
            )
            community_of[bid] = cid
        record = graph.record(cid)
        loc = getattr(record, "location", None)
        if loc is not None:
            lon, lat, located = loc.lon, loc.lat, "record"
        elif mine:
            lon = math.fsum(p.lon for p in mine) / len(mine)
            lat = math.fsum(p.lat for p in mine) / len(mine)
            located = "buildings"
        else:
            continue  # nowhere to draw it
        name = str(getattr(record, "short_name", "") or getattr(record, "name", "") or "")
        communities.append(
            _Place(
                cid, "community", cid, name, lon, lat, located, graph.summary(cid).counts.households
            )
        )
        buildings.extend(mine)
    out = _Places(tuple(communities + buildings), frozenset(community_of), community_of)
    if len(_CACHE) >= 8:
        _CACHE.clear()
    _CACHE[key] = out
    return out


def _building_of(entity: str, buildings: frozenset[str], memo: dict[str, str | None]) -> str | None:
    """The building an entity id lies in: its longest prefix (cut at ``/`` or ``#``) that is a
    building id; None when there is none."""
    found = memo.get(entity, "")
    if found != "":
        return found
    head = entity.split("#", 1)[0]
    parts = head.split("/")
    out = None
    for k in range(len(parts), 0, -1):
        candidate = "/".join(parts[:k])
        if candidate in buildings:
            out = candidate
            break
    memo[entity] = out
    return out


def _reach_time(times: list[float], fraction: float, total: int) -> float:
    """:func:`commgov.sim.time_to_fraction` on the sorted first-event times of a place."""
    if total <= 0:
        return 0.0
    need = math.ceil(round(fraction * total, 9))
    return times[need - 1] if len(times) >= need else math.nan


def place_kpis(scenario: Scenario, log: EventLog) -> dict[str, dict[str, float]]:
    """KPIs of each building and community of a scenario's area from one replicate's log.

    Parameters
    ----------
    scenario : Scenario
        The scenario the log comes from (its community, or district or sub-district).
    log : EventLog
        One replicate's events.

    Returns
    -------
    dict of str to dict of str to float
        Place id → property → value (the module docstring lists them), communities first,
        then buildings, each in id order; NaN where a fraction was not reached.

    Notes
    -----
    O(events + places) time; the area's places are loaded once per process.
    """
    from commgov.sim._engine import _active_submodels

    places = _places(scenario)
    memo: dict[str, str | None] = {}
    active = {sub.name for sub, _ in _active_submodels(scenario)}
    kinds = [k for k, (sub, _, _) in REACH_KINDS.items() if sub in active]
    # place → reach kind → first time of each household
    first: dict[str, dict[str, dict[str, float]]] = {}
    for kind in kinds:
        for i in log.where(kind):
            entity = log.entity[i]
            bid = _building_of(entity, places.building_ids, memo)
            if bid is None:
                continue
            t = log.t_min[i]
            for pid in (bid, places.community_of[bid]):
                seen = first.setdefault(pid, {}).setdefault(kind, {})
                if entity not in seen or t < seen[entity]:
                    seen[entity] = t
    out: dict[str, dict[str, float]] = {}
    for place in places.places:
        props: dict[str, float] = {"households": float(place.households)}
        for kind in kinds:
            sub, reached, last = REACH_KINDS[kind]
            times = sorted(first.get(place.id, {}).get(kind, {}).values())
            props[f"{sub}.{reached}"] = float(len(times))
            if last:
                props[f"{sub}.{last}"] = times[-1] if times else math.nan
                continue
            props[f"{sub}.{reached}_share"] = (
                len(times) / place.households if place.households else 0.0
            )
            for fraction, leaf in _FRACTIONS:
                props[f"{sub}.{leaf}"] = _reach_time(times, fraction, place.households)
        out[place.id] = props
    return out


def _rounded(value: float) -> float | None:
    if not math.isfinite(value):
        return None
    return round(value, _DECIMALS) + 0.0  # no -0.0


def _mean(values: Sequence[float]) -> float:
    if any(not math.isfinite(v) for v in values):
        return math.nan
    return math.fsum(values) / len(values)


def feature_collection(
    scenario: Scenario,
    per_replicate: Sequence[Mapping[str, Mapping[str, float]]],
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The GeoJSON FeatureCollection of per-replicate :func:`place_kpis`, means over them."""
    if not per_replicate:
        raise ValueError("spatial KPIs need at least one replicate")
    places = _places(scenario)
    names: list[str] = []
    for reps in per_replicate:
        for props in reps.values():
            names.extend(k for k in props if k not in names)
            break
    features = []
    for place in places.places:
        properties: dict[str, Any] = {
            "id": place.id,
            "kind": place.kind,
            "community": place.community,
            "name": place.name,
            "located": place.located,
        }
        for prop in names:
            values = [reps[place.id][prop] for reps in per_replicate if place.id in reps]
            properties[prop] = _rounded(_mean(values)) if values else None
        features.append(
            {
                "type": "Feature",
                "id": place.id,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(place.lon, _DECIMALS), round(place.lat, _DECIMALS)],
                },
                "properties": properties,
            }
        )
    out: dict[str, Any] = {
        "type": "FeatureCollection",
        "name": scenario.name,
        "units": {prop: kpi_info(prop).unit for prop in names},
        "replicates": len(per_replicate),
    }
    out.update(meta or {})
    out["features"] = features
    return out


def spatial_kpis(
    scenario: Scenario, results: ReplicateResult | Sequence[ReplicateResult]
) -> dict[str, Any]:
    """KPIs per building and per community as a GeoJSON FeatureCollection (RFC 7946).

    Parameters
    ----------
    scenario : Scenario
        The scenario the results come from.
    results : ReplicateResult or sequence of ReplicateResult
        One or more replicates of it (:func:`commgov.sim.run_replicate`); properties are means
        over them.

    Returns
    -------
    dict
        A JSON-ready FeatureCollection: one Point feature per community (``kind
        "community"``) then per building (``kind "building"``), each in id order, WGS84
        ``[lon, lat]``; properties ``id``, ``kind``, ``community``, ``name``, ``located``,
        ``households`` and, per reach kind in the logs, the count, its share and
        ``t50_min``/``t95_min`` (module docstring; ``null`` where undefined). Foreign
        members: ``name`` (the scenario's), ``units`` (property → unit, from
        :func:`commgov.sim.kpi_info`) and ``replicates``. ``json.dumps(..., sort_keys=True)``
        gives the same bytes for the same results.

    Raises
    ------
    ValueError
        If ``results`` is empty or a result is not a replicate of ``scenario``.

    Notes
    -----
    O(events + places) per replicate.

    References
    ----------
    Butler, H. et al. (2016). *The GeoJSON Format*. IETF RFC 7946.
    """
    items = [results] if not isinstance(results, Sequence) else list(results)
    for r in items:
        if r.provenance.scenario_id != scenario.content_hash:
            raise ValueError("a result is not a replicate of this scenario (content hashes differ)")
    return feature_collection(scenario, [place_kpis(scenario, r.log) for r in items])
