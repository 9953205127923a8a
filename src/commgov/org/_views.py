"""Answers of :class:`~commgov.org.OrgGraph` queries: small frozen models of ids."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from commgov.org._kinds import NodeKind
from commgov.org._territory import HouseholdCounts

__all__ = ["ChainOfCommand", "LiaisonCoverage", "Serving", "SpanOfControl", "SubtreeSummary"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class SubtreeSummary(BaseModel):
    """What lies under one node of the territory.

    Attributes
    ----------
    id : str
    kind : NodeKind
    nodes : dict of str to int
        Number of descendants of each kind (the node itself excluded).
    counts : HouseholdCounts
        Households, residents and mobility-limited residents under the node, summed over
        entrances and buildings without entrances.
    """

    model_config = _FROZEN

    id: str
    kind: NodeKind
    nodes: dict[str, int] = Field(default_factory=dict)
    counts: HouseholdCounts = Field(default_factory=HouseholdCounts)


class ChainOfCommand(BaseModel):
    """Who a place answers to, territorially and in the party.

    Attributes
    ----------
    place_id : str
    territorial : list of str
        The place's territorial ancestors, nearest first (unit, community, sub-district,
        district for a building).
    grids : list of str
        Grids and micro-grids covering the place (for an entrance or household, its
        building), micro-grids first, then by id.
    leaders : dict of str to list of str
        For the place and each ancestor that some party organisation leads: those
        organisations, lowest level first, then by id.
    party : list of str
        The party chain: the lowest-level organisation leading the nearest led place (ties by
        id), then each organisation it is subordinate to, up to the top
        (“committee grips branches, branches manage members”).
    """

    model_config = _FROZEN

    place_id: str
    territorial: list[str]
    grids: list[str]
    leaders: dict[str, list[str]]
    party: list[str]


class LiaisonCoverage(BaseModel):
    """"1+10+N" liaison coverage of a territorial scope.

    Attributes
    ----------
    scope_id : str
    ratio : int
        Target households per liaison (the "10").
    households : int
        Households counted in the scope (on entrances and buildings without entrances).
    households_recorded : int
        Individual household records in the scope.
    households_liaised : int
        Household records with at least one liaison.
    unliaised : list of str
        Household records with no liaison, sorted.
    liaisons : list of str
        People liaising with a household of the scope, sorted.
    liaisons_needed : int
        ⌈households / ratio⌉: liaisons the counted households call for at the ratio.
    overloaded : list of str
        Liaisons with more than ``ratio`` households (anywhere), sorted.
    """

    model_config = _FROZEN

    scope_id: str
    ratio: int
    households: int
    households_recorded: int
    households_liaised: int
    unliaised: list[str]
    liaisons: list[str]
    liaisons_needed: int
    overloaded: list[str]


class Serving(BaseModel):
    """Teams, sites, grids and bodies serving a place.

    Something serves a place when it covers the place, one of its territorial ancestors or
    one of its descendants; a team, site or body that lists no coverage covers its community
    (team, body) or the place it stands in (site).

    Attributes
    ----------
    place_id : str
    teams, sites, grids, bodies : list of str
        Sorted ids.
    """

    model_config = _FROZEN

    place_id: str
    teams: list[str]
    sites: list[str]
    grids: list[str]
    bodies: list[str]


class SpanOfControl(BaseModel):
    """What one organisation or person directly oversees.

    Attributes
    ----------
    id : str
    subordinates : list of str
        Party organisations directly subordinate to it.
    led : list of str
        Places, grids, teams and bodies it leads.
    members : list of str
        People with a membership (in force on the day asked, if any) or a committee seat.
    households : list of str
        Households it liaises with (for a person).
    size : int
        Direct reports: subordinates + members + households (led places excluded).
    """

    model_config = _FROZEN

    id: str
    subordinates: list[str]
    led: list[str]
    members: list[str]
    households: list[str]
    size: int
