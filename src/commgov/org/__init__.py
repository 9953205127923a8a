"""The organisation model: territory, party overlay, bodies, teams, people, sites and zones,
and the graph over them.

Importing :mod:`commgov.org` imports no solver (OR-Tools) and no simulator (SimPy).
"""

from commgov.org._base import SCHEMA_VERSION, Provenance, Record, Source
from commgov.org.bodies import Body, BodyKind
from commgov.org.divisions import load_divisions, short_name
from commgov.org.graph import EdgeKind, NodeKind, OrgGraph, SubtreeSummary
from commgov.org.model import OrgModel, sensitive_fields
from commgov.org.party import PartyOrg, PartyOrgKind, PartyOrgLevel, Seat
from commgov.org.people import (
    HealthFlag,
    Liaison,
    MemberCategory,
    Membership,
    MembershipRole,
    Person,
    RiderDuty,
    Role,
)
from commgov.org.sites import EMERGENCY_FUNCTIONS, DutyPost, DutyTask, Site, SiteFunction
from commgov.org.teams import Team, TeamKind
from commgov.org.territory import (
    AdminArea,
    AdminLevel,
    Building,
    Community,
    CommunityKind,
    Entrance,
    Grid,
    GridKind,
    Household,
    HouseholdCounts,
    NeighbourhoodKind,
    NeighbourhoodUnit,
    PropertyManagement,
)
from commgov.org.zones import (
    RULEBOOKS,
    THREE_ZONE_2021,
    Movement,
    PolicyRulebook,
    RegimeRule,
    SamplingMode,
    SupplyMode,
    ZoneDesignation,
    ZoneRegime,
    most_restrictive,
)

__all__ = [
    "EMERGENCY_FUNCTIONS",
    "RULEBOOKS",
    "SCHEMA_VERSION",
    "THREE_ZONE_2021",
    "AdminArea",
    "AdminLevel",
    "Body",
    "BodyKind",
    "Building",
    "Community",
    "CommunityKind",
    "DutyPost",
    "DutyTask",
    "EdgeKind",
    "Entrance",
    "Grid",
    "GridKind",
    "HealthFlag",
    "Household",
    "HouseholdCounts",
    "Liaison",
    "MemberCategory",
    "Membership",
    "MembershipRole",
    "Movement",
    "NeighbourhoodKind",
    "NeighbourhoodUnit",
    "NodeKind",
    "OrgGraph",
    "OrgModel",
    "PartyOrg",
    "PartyOrgKind",
    "PartyOrgLevel",
    "Person",
    "PolicyRulebook",
    "PropertyManagement",
    "Provenance",
    "Record",
    "RegimeRule",
    "RiderDuty",
    "Role",
    "SamplingMode",
    "Seat",
    "Site",
    "SiteFunction",
    "Source",
    "SubtreeSummary",
    "SupplyMode",
    "Team",
    "TeamKind",
    "ZoneDesignation",
    "ZoneRegime",
    "load_divisions",
    "most_restrictive",
    "sensitive_fields",
    "short_name",
]
