from __future__ import annotations

from datetime import datetime

from commgov.errors import ProblemError
from commgov.org import ZoneRegime
from commgov.org._graph import NodeKind, OrgGraph
from commgov.org._model import OrgModel
from commgov.org._people import Person
from commgov.results import LeftOut, LeftOutReasonCode
from commgov.types import GeoPoint


def community_scope(
    model: OrgModel | OrgGraph, community_id: str, what: str
) -> tuple[OrgGraph, set[str]]:
    """The graph and the ids of a community's subtree (itself included).

    Raises ProblemError (naming ``what``) when ``community_id`` is not a community."""
    graph = model if isinstance(model, OrgGraph) else OrgGraph(model)
    if community_id not in graph or graph.kind(community_id) not in (
        NodeKind.COMMUNITY,
        NodeKind.VILLAGE,
    ):
        raise ProblemError.single(
            community_id, "community_id", community_id, "no community has this id", what=what
        )
    return graph, {community_id, *graph.descendants(community_id)}


def effective_regime(graph: OrgGraph, place_id: str, at: datetime) -> ZoneRegime:
    """Most restrictive regime in force at ``at`` over a place, its ancestors and, for a
    building, its entrances (a sealed entrance seals the building's walk-in sampling).

    Precautionary where no designation is in force (see :meth:`OrgGraph.effective_regime`).
    """
    places = [place_id]
    if graph.kind(place_id) is NodeKind.BUILDING:
        places.extend(c for c in graph.children(place_id) if graph.kind(c) is NodeKind.ENTRANCE)
    regimes = [graph.effective_regime(p, at) for p in places]
    return max(regimes, key=lambda r: r.rank)


def person_location(graph: OrgGraph, person: Person) -> GeoPoint | None:
    """Where a person is placed: their own position, else their home's (the household,
    entrance or building they live in, the nearest of them with a position), else ``None``.

    O(depth of the home in the tree).
    """
    if person.location is not None:
        return person.location
    home = person.home_id
    if home is None or home not in graph:
        return None
    for node in (home, *graph.ancestors(home)):
        if graph.kind(node) not in _HOME_KINDS:
            break  # a compound's or community's centre is not a home
        loc = getattr(graph.record(node), "location", None)
        if isinstance(loc, GeoPoint):
            return loc
    return None


#: Where a person can live: a household, an entrance (单元) or a building.
_HOME_KINDS = frozenset({NodeKind.HOUSEHOLD, NodeKind.ENTRANCE, NodeKind.BUILDING})


def left_out_person(person_id: str, code: LeftOutReasonCode, **params: str) -> LeftOut:
    """The :class:`~commgov.results.LeftOut` record of a person a builder did not use."""
    return LeftOut(record=person_id, kind="person", code=code, params=params)
