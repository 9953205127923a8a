from __future__ import annotations

from datetime import datetime

from commgov.org.graph import NodeKind, OrgGraph
from commgov.org.zones import ZoneRegime


def effective_regime(graph: OrgGraph, place_id: str, at: datetime) -> ZoneRegime:
    """Most restrictive regime in force at ``at`` over a place, its ancestors and, for a
    building, its entrances (a sealed entrance seals the building's walk-in sampling)."""
    places = {place_id, *graph.ancestors(place_id)}
    if graph.kind(place_id) is NodeKind.BUILDING:
        places.update(graph.children(place_id))
    regime = ZoneRegime.PRECAUTIONARY
    for zone in graph.model.zones:
        if (
            zone.valid.contains(at)
            and places.intersection(zone.targets)
            and zone.regime.rank > regime.rank
        ):
            regime = zone.regime
    return regime
