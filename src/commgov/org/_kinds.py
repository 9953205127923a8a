"""Node and edge kinds of the organisation graph, and which kinds may point at which."""

from __future__ import annotations

from enum import StrEnum

from commgov.org._base import Record
from commgov.org._bodies import Body
from commgov.org._party import PartyOrg
from commgov.org._people import Liaison, Membership, Person
from commgov.org._sites import DutyPost, Site
from commgov.org._teams import Team
from commgov.org._territory import (
    AdminArea,
    AdminLevel,
    Building,
    Community,
    CommunityKind,
    Entrance,
    Grid,
    Household,
    NeighbourhoodKind,
    NeighbourhoodUnit,
)
from commgov.org._zones import ZoneDesignation


class NodeKind(StrEnum):
    """Kind of a record in the organisation graph.

    Memberships and liaisons are records whose content is a set of edges (``MEMBER_OF``,
    ``LIAISES``): they have a kind and live in the id → record mapping, but are not nodes of
    the networkx graph.
    """

    DISTRICT = "district"
    SUBDISTRICT = "subdistrict"
    COMMUNITY = "community"
    VILLAGE = "village"
    COMPOUND = "compound"
    LANE = "lane"
    COURTYARD = "courtyard"
    BUILDING = "building"
    ENTRANCE = "entrance"
    HOUSEHOLD = "household"
    GRID = "grid"
    BODY = "body"
    PARTY_ORG = "party_org"
    TEAM = "team"
    PERSON = "person"
    MEMBERSHIP = "membership"
    LIAISON = "liaison"
    SITE = "site"
    DUTY_POST = "duty_post"
    ZONE = "zone"


class EdgeKind(StrEnum):
    """Kind of an edge of the organisation graph (docs/architecture.md).

    ``CONTAINS`` area → area (the territorial tree); ``LEADS`` party org → place, grid, team or
    body; ``SUBORDINATE_TO`` party org → party org; ``MEMBER_OF`` person → party org, team or
    body (memberships and committee seats); ``LIAISES`` person → household ("1+10+N");
    ``REPORTS_TO`` in-service member or unit party org → community (双报到); ``COVERS`` grid,
    team, site or body → place; ``PARTNERS`` body or team → community or body (共建). Beyond
    the design's table: ``RESIDES_IN`` person → home; ``LOCATED_IN`` site, body, team, grid or
    duty post → where it is; ``DESIGNATES`` zone → place; ``ATTACHED_TO`` action branch or
    duty post → zone designation.
    """

    CONTAINS = "CONTAINS"
    LEADS = "LEADS"
    SUBORDINATE_TO = "SUBORDINATE_TO"
    MEMBER_OF = "MEMBER_OF"
    LIAISES = "LIAISES"
    REPORTS_TO = "REPORTS_TO"
    COVERS = "COVERS"
    PARTNERS = "PARTNERS"
    RESIDES_IN = "RESIDES_IN"
    LOCATED_IN = "LOCATED_IN"
    DESIGNATES = "DESIGNATES"
    ATTACHED_TO = "ATTACHED_TO"


_K = NodeKind
#: Allowed parent kinds of each territorial kind.
ALLOWED_PARENTS: dict[NodeKind, frozenset[NodeKind]] = {
    _K.DISTRICT: frozenset(),
    _K.SUBDISTRICT: frozenset({_K.DISTRICT}),
    _K.COMMUNITY: frozenset({_K.SUBDISTRICT}),
    _K.VILLAGE: frozenset({_K.SUBDISTRICT}),
    _K.COMPOUND: frozenset({_K.COMMUNITY, _K.VILLAGE}),
    _K.LANE: frozenset({_K.COMMUNITY, _K.VILLAGE}),
    _K.COURTYARD: frozenset({_K.COMMUNITY, _K.VILLAGE, _K.LANE}),
    _K.BUILDING: frozenset({_K.COMPOUND, _K.LANE, _K.COURTYARD}),
    _K.ENTRANCE: frozenset({_K.BUILDING}),
    _K.HOUSEHOLD: frozenset({_K.ENTRANCE, _K.BUILDING}),
}
TERRITORIAL = frozenset(ALLOWED_PARENTS)
PLACES = TERRITORIAL | {_K.SITE}
COMMUNITIES = frozenset({_K.COMMUNITY, _K.VILLAGE})
UNITS = frozenset({_K.COMPOUND, _K.LANE, _K.COURTYARD})
ORGANISATIONS = frozenset({_K.PARTY_ORG, _K.TEAM, _K.BODY})
#: What a party organisation may lead: areas, grids, teams, bodies.
LEAD_TARGETS = (TERRITORIAL - {_K.HOUSEHOLD}) | {_K.GRID, _K.TEAM, _K.BODY}
#: What a team, site or body may cover.
COVER_TARGETS = COMMUNITIES | UNITS | {_K.BUILDING, _K.ENTRANCE}

_BY_TYPE: dict[type, NodeKind] = {
    Building: _K.BUILDING,
    Entrance: _K.ENTRANCE,
    Household: _K.HOUSEHOLD,
    Grid: _K.GRID,
    Body: _K.BODY,
    PartyOrg: _K.PARTY_ORG,
    Team: _K.TEAM,
    Person: _K.PERSON,
    Membership: _K.MEMBERSHIP,
    Liaison: _K.LIAISON,
    Site: _K.SITE,
    DutyPost: _K.DUTY_POST,
    ZoneDesignation: _K.ZONE,
}
_UNIT_KINDS = {
    NeighbourhoodKind.COMPOUND: _K.COMPOUND,
    NeighbourhoodKind.LANE: _K.LANE,
    NeighbourhoodKind.COURTYARD: _K.COURTYARD,
}


def kind_of(record: Record) -> NodeKind:
    """The node kind of a record."""
    if isinstance(record, AdminArea):
        return _K.DISTRICT if record.level is AdminLevel.DISTRICT else _K.SUBDISTRICT
    if isinstance(record, Community):
        return _K.VILLAGE if record.kind is CommunityKind.VILLAGE else _K.COMMUNITY
    if isinstance(record, NeighbourhoodUnit):
        return _UNIT_KINDS[record.kind]
    return _BY_TYPE[type(record)]
