"""The organisation model: territory, people, sites and zones, and the graph over them.

Importing :mod:`commgov.org` imports no solver (OR-Tools) and no simulator (SimPy).
"""

from commgov.org._base import SCHEMA_VERSION, Provenance, Record, Source
from commgov.org.divisions import load_divisions, short_name
from commgov.org.graph import EdgeKind, NodeKind, OrgGraph, SubtreeSummary
from commgov.org.model import OrgModel
from commgov.org.people import Person, Role
from commgov.org.sites import Site, SiteFunction
from commgov.org.territory import (
    AdminArea,
    AdminLevel,
    Building,
    Community,
    CommunityKind,
    Entrance,
    Household,
    HouseholdCounts,
    NeighbourhoodKind,
    NeighbourhoodUnit,
    PropertyManagement,
)
from commgov.org.zones import ZoneDesignation, ZoneRegime

__all__ = [
    "SCHEMA_VERSION",
    "AdminArea",
    "AdminLevel",
    "Building",
    "Community",
    "CommunityKind",
    "EdgeKind",
    "Entrance",
    "Household",
    "HouseholdCounts",
    "NeighbourhoodKind",
    "NeighbourhoodUnit",
    "NodeKind",
    "OrgGraph",
    "OrgModel",
    "Person",
    "PropertyManagement",
    "Provenance",
    "Record",
    "Role",
    "Site",
    "SiteFunction",
    "Source",
    "SubtreeSummary",
    "ZoneDesignation",
    "ZoneRegime",
    "load_divisions",
    "short_name",
]
