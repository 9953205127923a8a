"""The organisation net laid over Gusu's synthetic territory: party organisations, bodies,
teams and memberships (the datasheet, with its sources, is docs/datasets.md).

Three tiers, "committee grips branches, branches manage members, members lead residents":
each sub-district's party working committee → each community's party committee → a
co-governance party branch in every compound without property management (无物业小区, like
天河花园 in the article) → Haitang Pioneer teams, one per compound or lane where pioneers live.
Beside them: a residents' (villagers') committee per community, a property company per
professionally managed compound, a temporary action branch for each sealed zone, 41
business-association volunteer teams and the riders' team.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from typing import Any

from commgov._random import rng
from commgov.datasets._community import Records
from commgov.datasets._divisions import DIVISIONS_REFERENCE, GUSU_CODE
from commgov.org import (
    AdminArea,
    Body,
    BodyKind,
    Building,
    Community,
    CommunityKind,
    Membership,
    MembershipRole,
    NeighbourhoodKind,
    NeighbourhoodUnit,
    PartyOrg,
    PartyOrgKind,
    PartyOrgLevel,
    Person,
    PropertyManagement,
    Provenance,
    Role,
    Source,
    Team,
    TeamKind,
    ZoneDesignation,
)

#: Brand of the pioneer teams and enrolment of their members (data, not a class).
PIONEER_BRAND = "海棠先锋"
#: The riders' anti-epidemic vanguard (齐心(骑行)抗疫先锋队).
RIDER_TEAM_NAME = "齐心(骑行)抗疫先锋队"
#: Volunteer teams raised by business associations (商会) in the article.
BUSINESS_TEAMS = 41


def overlay(
    areas: list[AdminArea],
    communities: list[Community],
    units: list[NeighbourhoodUnit],
    buildings: list[Building],
    people: list[Person],
    zones: list[ZoneDesignation],
    *,
    detailed: set[str],
    seed: int,
    day: date,
) -> Records:
    """The organisation net over the given records (communities in ``detailed`` only).

    Deterministic in ``seed``: the business-association teams' partner communities draw from
    the ``layout`` stream keyed by each team's id; everything else follows from the records.
    """
    prov = Provenance(source=Source.SYNTHETIC, reference=f"commgov.datasets.gusu seed={seed}")
    official = Provenance(
        source=Source.OFFICIAL, reference=f"{DIVISIONS_REFERENCE}: the committee of the code"
    )
    out = Records()
    unit_by_id = {u.id: u for u in units}
    top_unit = {b.id: _top(unit_by_id, b.parent_id) for b in buildings}

    working = {}
    for area in areas:
        if area.parent_id == GUSU_CODE:
            working[area.id] = f"{area.id}/PO"
            out.party_orgs.append(
                PartyOrg(
                    id=f"{area.id}/PO",
                    level=PartyOrgLevel.WORKING_COMMITTEE,
                    name=f"{area.short_name}党工委",
                    leads=[area.id],
                    provenance=prov,
                )
            )

    cogov: dict[str, str] = {}  # unit id -> its co-governance branch
    community_org: dict[str, str] = {}
    for c in communities:
        if c.id not in detailed:
            continue
        village = c.kind is CommunityKind.VILLAGE
        out.bodies.append(
            Body(
                id=f"{c.id}/RC",
                kind=BodyKind.VILLAGERS_COMMITTEE if village else BodyKind.RESIDENTS_COMMITTEE,
                name=c.name,
                community_id=c.id,
                provenance=official,
            )
        )
        community_org[c.id] = f"{c.id}/PO"
    for u in units:
        code = u.parent_id.split("/")[0]
        if u.kind is not NeighbourhoodKind.COMPOUND or code not in detailed:
            continue
        if u.property_management is PropertyManagement.NONE:
            cogov[u.id] = f"{u.id}/PO"
        elif u.property_management is PropertyManagement.PROFESSIONAL:
            out.bodies.append(
                Body(
                    id=f"{u.id}/PM",
                    kind=BodyKind.PROPERTY_COMPANY,
                    name=f"{u.name}物业",
                    community_id=code,
                    covers=[u.id],
                    provenance=prov,
                )
            )

    # pioneer teams: one per compound or lane where pioneers live
    pioneers_of: dict[str, list[Person]] = defaultdict(list)
    for p in people:
        if PIONEER_BRAND in p.enrolments and p.home_id in top_unit:
            pioneers_of[top_unit[p.home_id]].append(p)
    teams_led: dict[str, list[str]] = defaultdict(list)  # party org -> teams it leads
    for unit_id in sorted(pioneers_of):
        unit = unit_by_id[unit_id]
        code = unit.parent_id
        team_id = f"{unit_id}/T"
        out.teams.append(
            Team(
                id=team_id,
                kind=TeamKind.VOLUNTEER,
                name=f"{unit.name}{PIONEER_BRAND}队",
                community_id=code,
                covers=[unit_id],
                brand=PIONEER_BRAND,
                provenance=prov,
            )
        )
        leader_org = cogov.get(unit_id, community_org[code])
        teams_led[leader_org].append(team_id)
        for k, p in enumerate(sorted(pioneers_of[unit_id], key=lambda p: p.id)):
            out.memberships.append(
                _membership(p, 1, team_id, prov, role=_first_is(k, MembershipRole.LEADER))
            )
            if Role.PARTY_MEMBER in p.roles:
                out.memberships.append(_membership(p, 2, leader_org, prov))

    for c in communities:
        if c.id not in detailed:
            continue
        out.party_orgs.append(
            PartyOrg(
                id=community_org[c.id],
                # ≥ 1,000 households each: ≥ 100 members at ≥ 4 % of residents → 党委
                level=PartyOrgLevel.COMMITTEE,
                name=f"{c.short_name}党委",
                parent_id=working[c.parent_id],
                leads=[c.id, *teams_led[community_org[c.id]]],
                provenance=prov,
            )
        )
    for unit_id, org_id in cogov.items():
        unit = unit_by_id[unit_id]
        leads = [unit_id, *teams_led[org_id]]
        parent = community_org[unit.parent_id]
        name = f"{unit.name}共治党支部"
        branch = _branch(org_id, PartyOrgKind.CO_GOVERNANCE, name, parent, leads, prov)
        out.party_orgs.append(branch)

    for zone in zones:
        _action_branch(zone, community_org, people, day, prov, out)
    _district_teams(communities, people, seed, prov, out)
    return out


def _membership(
    person: Person, n: int, organisation_id: str, prov: Provenance, **fields: Any
) -> Membership:
    """The person's ``n``-th membership (id ``{person}/M{n}``), in ``organisation_id``."""
    return Membership(
        id=f"{person.id}/M{n}",
        person_id=person.id,
        organisation_id=organisation_id,
        provenance=prov,
        **fields,
    )


def _branch(
    org_id: str,
    kind: PartyOrgKind,
    name: str,
    parent_id: str,
    leads: list[str],
    prov: Provenance,
    zone: ZoneDesignation | None = None,
) -> PartyOrg:
    """A party branch (党支部) of ``kind`` under ``parent_id``, leading ``leads``; an action branch
    is tied to its ``zone`` and in force while the zone is."""
    return PartyOrg(
        id=org_id,
        level=PartyOrgLevel.BRANCH,
        kind=kind,
        name=name,
        parent_id=parent_id,
        leads=leads,
        zone_designation_id=None if zone is None else zone.id,
        valid=None if zone is None else zone.valid,
        provenance=prov,
    )


def _first_is(k: int, role: MembershipRole) -> MembershipRole:
    """``role`` for the first member of a list (``k == 0``), a plain member for the others."""
    return role if k == 0 else MembershipRole.MEMBER


def _top(units: dict[str, NeighbourhoodUnit], unit_id: str) -> str:
    """The compound or lane of a unit (a courtyard's lane)."""
    unit = units[unit_id]
    return unit.parent_id if unit.kind is NeighbourhoodKind.COURTYARD else unit_id


def _action_branch(
    zone: ZoneDesignation,
    community_org: dict[str, str],
    people: list[Person],
    day: date,
    prov: Provenance,
    out: Records,
) -> None:
    """A temporary action branch (行动支部) for a zone, in force while the zone is, with up to
    three party-member pioneers of the community as members for the day."""
    code = zone.id.split("/")[0]
    if code not in community_org:
        return
    org_id = f"{zone.id}/PO"
    name = f"{zone.id.split('/')[-1]}行动支部"
    parent, leads = community_org[code], list(zone.targets)
    branch = _branch(org_id, PartyOrgKind.ACTION_BRANCH, name, parent, leads, prov, zone=zone)
    out.party_orgs.append(branch)
    members = [
        p
        for p in people
        if p.id.startswith(code + "/")
        and Role.PARTY_MEMBER in p.roles
        and PIONEER_BRAND in p.enrolments
    ][:3]
    for k, p in enumerate(members):
        out.memberships.append(
            _membership(
                p, 3, org_id, prov, role=_first_is(k, MembershipRole.SECRETARY), start=day, end=day
            )
        )


def _district_teams(
    communities: list[Community], people: list[Person], seed: int, prov: Provenance, out: Records
) -> None:
    """The riders' team with every rider as a member, and 41 business-association teams,
    each partnering one to three communities."""
    riders_id = f"{GUSU_CODE}/T-riders"
    out.teams.append(
        Team(
            id=riders_id,
            kind=TeamKind.RIDER,
            name=RIDER_TEAM_NAME,
            brand=RIDER_TEAM_NAME,
            provenance=prov,
        )
    )
    riders = sorted((p for p in people if Role.RIDER in p.roles), key=lambda p: p.id)
    for k, p in enumerate(riders):
        out.memberships.append(
            _membership(p, 1, riders_id, prov, role=_first_is(k, MembershipRole.LEADER))
        )
    codes = [c.id for c in communities]
    width = max(2, int(math.log10(BUSINESS_TEAMS)) + 1)
    for k in range(1, BUSINESS_TEAMS + 1):
        team_id = f"{GUSU_CODE}/T-BA{k:0{width}d}"
        g = rng(seed, "layout", team_id)
        chosen = g.choice(len(codes), size=int(g.integers(1, 4)), replace=False)
        out.teams.append(
            Team(
                id=team_id,
                kind=TeamKind.BUSINESS_ASSOCIATION,
                name=f"商会志愿服务队{k:0{width}d}",
                partner_ids=sorted(codes[int(i)] for i in chosen),
                provenance=prov,
            )
        )
