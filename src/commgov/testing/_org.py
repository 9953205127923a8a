"""Hypothesis strategies for organisation records and whole organisation models.

One strategy per record type (each record valid on its own; references are arbitrary ids) and
:func:`org_models`, whose models pass :class:`~commgov.org.OrgGraph` validation with every
record type and every edge kind present.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from commgov.org import (
    EMERGENCY_FUNCTIONS,
    AdminArea,
    AdminLevel,
    Body,
    BodyKind,
    Building,
    Community,
    CommunityKind,
    DutyPost,
    DutyTask,
    Entrance,
    Grid,
    GridKind,
    HealthFlag,
    Household,
    HouseholdCounts,
    Liaison,
    MemberCategory,
    Membership,
    MembershipRole,
    NeighbourhoodKind,
    NeighbourhoodUnit,
    OrgModel,
    PartyOrg,
    PartyOrgKind,
    PartyOrgLevel,
    Person,
    PropertyManagement,
    RiderDuty,
    Role,
    Seat,
    Site,
    SiteFunction,
    Team,
    TeamKind,
    ZoneDesignation,
    ZoneRegime,
)
from commgov.types import GeoPoint, TimeWindow

__all__ = [
    "admin_areas",
    "bodies",
    "buildings",
    "communities",
    "duty_posts",
    "entrances",
    "grids",
    "household_counts",
    "households",
    "liaisons",
    "memberships",
    "neighbourhood_units",
    "org_models",
    "party_orgs",
    "people",
    "sites",
    "teams",
    "time_windows",
    "zone_designations",
]

TZ = ZoneInfo("Asia/Shanghai")
#: Spring 2022 in Suzhou: generated windows start from here.
EPOCH = datetime(2022, 4, 1, tzinfo=TZ)

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9/_-]{0,15}", fullmatch=True)
names = st.text(st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=8)
points = st.builds(
    GeoPoint, lon=st.floats(120.54, 120.64), lat=st.floats(31.27, 31.37)
)


@st.composite
def time_windows(draw: st.DrawFn, days: int = 14) -> TimeWindow:
    """Half-open windows on whole hours within ``days`` days of 1 April 2022 (Asia/Shanghai)."""
    start = draw(st.integers(0, days * 24 - 1))
    length = draw(st.integers(1, days * 24 - start))
    return TimeWindow(
        start=EPOCH + timedelta(hours=start), end=EPOCH + timedelta(hours=start + length)
    )


@st.composite
def household_counts(draw: st.DrawFn, max_households: int = 40) -> HouseholdCounts:
    """Consistent :class:`~commgov.org.HouseholdCounts` (residents ≥ households ≥ 0)."""
    households = draw(st.integers(0, max_households))
    residents = households + draw(st.integers(0, 3 * households))
    limited = draw(st.integers(0, residents))
    return HouseholdCounts(households=households, residents=residents, mobility_limited=limited)


def _unique(elements: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[list[Any]]:
    return st.lists(elements, max_size=max_size, unique=True)


def admin_areas() -> st.SearchStrategy[AdminArea]:
    """Districts and sub-districts."""
    return st.builds(
        AdminArea, id=ids, level=st.sampled_from(AdminLevel), name=names, short_name=names,
        parent_id=st.none() | ids,
    )  # fmt: skip


def communities() -> st.SearchStrategy[Community]:
    """Communities and villages."""
    return st.builds(
        Community, id=ids, kind=st.sampled_from(CommunityKind), name=names, short_name=names,
        parent_id=ids, location=st.none() | points,
    )  # fmt: skip


def neighbourhood_units() -> st.SearchStrategy[NeighbourhoodUnit]:
    """Compounds, lanes and courtyards."""
    return st.builds(
        NeighbourhoodUnit, id=ids, kind=st.sampled_from(NeighbourhoodKind), name=names,
        parent_id=ids, property_management=st.sampled_from(PropertyManagement),
    )  # fmt: skip


def buildings() -> st.SearchStrategy[Building]:
    """Buildings, with or without counts."""
    return st.builds(
        Building, id=ids, label=names, parent_id=ids, location=points,
        floors=st.integers(1, 40), counts=st.none() | household_counts(),
    )  # fmt: skip


def entrances() -> st.SearchStrategy[Entrance]:
    """Entrances with counts."""
    return st.builds(Entrance, id=ids, label=names, parent_id=ids, counts=household_counts())


@st.composite
def households(draw: st.DrawFn) -> Household:
    """Households (mobility-limited ≤ residents)."""
    residents = draw(st.integers(1, 8))
    return Household(
        id=draw(ids), parent_id=draw(ids), residents=residents,
        mobility_limited=draw(st.integers(0, residents)), elderly_alone=draw(st.booleans()),
    )  # fmt: skip


@st.composite
def grids(draw: st.DrawFn) -> Grid:
    """Grids and micro-grids."""
    kind = draw(st.sampled_from(GridKind))
    return Grid(
        id=draw(ids), kind=kind, name=draw(names), community_id=draw(ids),
        parent_id=draw(ids) if kind is GridKind.MICRO_GRID else None, covers=draw(_unique(ids)),
    )  # fmt: skip


def bodies() -> st.SearchStrategy[Body]:
    """Bodies of every kind."""
    return st.builds(
        Body, id=ids, kind=st.sampled_from(BodyKind), name=names, community_id=ids,
        covers=_unique(ids), partner_community_ids=_unique(ids), location=st.none() | points,
    )  # fmt: skip


@st.composite
def party_orgs(draw: st.DrawFn) -> PartyOrg:
    """Party organisations of every level and kind, some expanded with part-time seats."""
    kind = draw(st.sampled_from(PartyOrgKind))
    action = kind is PartyOrgKind.ACTION_BRANCH
    level = (
        draw(st.sampled_from([PartyOrgLevel.BRANCH, PartyOrgLevel.JOINT_BRANCH]))
        if action
        else draw(st.sampled_from(PartyOrgLevel))
    )
    expanded = draw(st.booleans())
    holders = draw(_unique(ids))
    seats = [
        Seat(person_id=p, title=draw(names), part_time=expanded and draw(st.booleans()))
        for p in holders
    ]
    return PartyOrg(
        id=draw(ids), level=level, kind=kind, name=draw(names), parent_id=draw(st.none() | ids),
        leads=draw(_unique(ids)), expanded=expanded, seats=seats,
        zone_designation_id=draw(ids) if action else None,
        valid=draw(time_windows()) if action else draw(st.none() | time_windows()),
    )  # fmt: skip


def teams() -> st.SearchStrategy[Team]:
    """Teams of every kind."""
    return st.builds(
        Team, id=ids, kind=st.sampled_from(TeamKind), name=names, community_id=st.none() | ids,
        covers=_unique(ids), partner_ids=_unique(ids), brand=st.none() | names,
    )  # fmt: skip


@st.composite
def people(draw: st.DrawFn) -> Person:
    """People with consistent roles, party categories, rider duties and health flags."""
    roles = draw(_unique(st.sampled_from(Role), max_size=4))
    category = (
        draw(st.none() | st.sampled_from(MemberCategory)) if Role.PARTY_MEMBER in roles else None
    )
    return Person(
        id=draw(ids), roles=roles,
        skills=draw(st.dictionaries(st.sampled_from(["delivery", "first_aid"]),
                                    st.integers(1, 5))),
        home_id=draw(st.none() | ids),
        availability=draw(st.lists(time_windows(), max_size=2)),
        rider_duties=draw(_unique(st.sampled_from(RiderDuty))) if Role.RIDER in roles else [],
        party_category=category,
        reports_to_community_id=draw(ids) if category is MemberCategory.IN_SERVICE else None,
        name=draw(st.none() | names), phone=draw(st.none() | st.from_regex(r"1[3-9]\d{9}",
                                                                          fullmatch=True)),
        health_flags=draw(_unique(st.sampled_from(HealthFlag))),
    )  # fmt: skip


@st.composite
def memberships(draw: st.DrawFn) -> Membership:
    """Memberships with ``end ≥ start`` where both are given."""
    start = draw(st.none() | st.dates(date(2020, 1, 1), date(2023, 12, 31)))
    end = draw(st.none() | st.dates(start or date(2020, 1, 1), date(2024, 12, 31)))
    return Membership(
        id=draw(ids), person_id=draw(ids), organisation_id=draw(ids),
        role=draw(st.sampled_from(MembershipRole)), start=start, end=end,
    )  # fmt: skip


def liaisons() -> st.SearchStrategy[Liaison]:
    """Liaison assignments of one to twelve households."""
    return st.builds(
        Liaison, id=ids, person_id=ids,
        household_ids=st.lists(ids, min_size=1, max_size=12, unique=True),
        services=st.lists(names, max_size=3),
    )  # fmt: skip


@st.composite
def sites(draw: st.DrawFn) -> Site:
    """Sites with normal functions and emergency ones kept apart."""
    normal = [f for f in SiteFunction if f not in EMERGENCY_FUNCTIONS]
    return Site(
        id=draw(ids), name=draw(names), parent_id=draw(ids), location=draw(points),
        normal_functions=draw(_unique(st.sampled_from(normal))),
        emergency_functions=draw(_unique(st.sampled_from(SiteFunction))),
        covers=draw(_unique(ids)), lanes=draw(st.integers(0, 6)),
        opening=draw(st.none() | time_windows()),
    )  # fmt: skip


@st.composite
def duty_posts(draw: st.DrawFn) -> DutyPost:
    """Duty posts with back-to-back or spaced shifts in time order."""
    hours = sorted(draw(st.lists(st.integers(0, 72), max_size=6, unique=True)))
    shifts = [
        TimeWindow(start=EPOCH + timedelta(hours=a), end=EPOCH + timedelta(hours=b))
        for a, b in zip(hours[::2], hours[1::2], strict=False)
    ]
    return DutyPost(
        id=draw(ids), site_id=draw(ids), title=draw(names),
        tasks=draw(_unique(st.sampled_from(DutyTask))), shifts=shifts,
        zone_designation_id=draw(st.none() | ids),
    )  # fmt: skip


def zone_designations() -> st.SearchStrategy[ZoneDesignation]:
    """Designations of any regime over one to four targets."""
    return st.builds(
        ZoneDesignation, id=ids, regime=st.sampled_from(ZoneRegime),
        targets=st.lists(ids, min_size=1, max_size=4, unique=True), valid=time_windows(),
    )  # fmt: skip


@st.composite
def org_models(
    draw: st.DrawFn,
    max_subdistricts: int = 2,
    max_communities: int = 2,
    max_units: int = 3,
    max_buildings: int = 3,
    overlay: bool = True,
) -> OrgModel:
    """Small valid organisation models: one district down to entrances, and the overlay.

    Every territorial kind and both ways of counting households (on entrances, or on a
    building without entrances) occur; courtyards sit in communities or in lanes. With
    ``overlay`` (the default) the model also holds household records, grids and micro-grids,
    bodies, a party hierarchy (working committees, community organisations, co-governance
    branches, building small groups, action branches tied to zone designations, expanded
    committees with part-time seats), teams, people, memberships, liaisons, sites with duty
    posts and zone designations over mixed-level targets. The result always passes
    :class:`~commgov.org.OrgGraph` validation.
    """
    district = "320508"
    areas = [AdminArea(id=district, level=AdminLevel.DISTRICT, name="姑苏区", short_name="姑苏区")]
    communities_: list[Community] = []
    units: list[NeighbourhoodUnit] = []
    buildings_: list[Building] = []
    entrances_: list[Entrance] = []
    for s in range(1, draw(st.integers(1, max_subdistricts)) + 1):
        sid = f"{district}{s:03d}"
        areas.append(
            AdminArea(
                id=sid,
                level=AdminLevel.SUBDISTRICT,
                name=f"街道{s}",
                short_name=f"街道{s}",
                parent_id=district,
            )
        )
        for c in range(1, draw(st.integers(1, max_communities)) + 1):
            cid = f"{sid}{c:03d}"
            communities_.append(
                Community(id=cid, name=f"社区{c}居委会", short_name=f"社区{c}", parent_id=sid)
            )
            lanes: list[str] = []
            for u in range(1, draw(st.integers(0, max_units)) + 1):
                kind = draw(st.sampled_from(list(NeighbourhoodKind)))
                parent = (
                    draw(st.sampled_from(lanes))
                    if kind is NeighbourhoodKind.COURTYARD and lanes and draw(st.booleans())
                    else cid
                )
                uid = f"{cid}/U{u}"
                units.append(NeighbourhoodUnit(id=uid, kind=kind, name=f"u{u}", parent_id=parent))
                if kind is NeighbourhoodKind.LANE:
                    lanes.append(uid)
                for b in range(1, draw(st.integers(0, max_buildings)) + 1):
                    bid = f"{uid}/B{b}"
                    location = GeoPoint(
                        lon=draw(st.floats(120.54, 120.64)), lat=draw(st.floats(31.27, 31.37))
                    )
                    n_entrances = draw(st.integers(0, 3))
                    fields: dict[str, Any] = {}
                    if n_entrances == 0:
                        fields["counts"] = draw(household_counts())
                    buildings_.append(
                        Building(id=bid, label=f"{b}幢", parent_id=uid, location=location, **fields)
                    )
                    entrances_.extend(
                        Entrance(
                            id=f"{bid}/E{e}",
                            label=f"{e}单元",
                            parent_id=bid,
                            counts=draw(household_counts()),
                        )
                        for e in range(1, n_entrances + 1)
                    )
    territory = OrgModel(
        areas=areas,
        communities=communities_,
        units=units,
        buildings=buildings_,
        entrances=entrances_,
    )
    if not overlay:
        return territory
    return draw(_overlay(territory))


@st.composite
def _overlay(draw: st.DrawFn, base: OrgModel) -> OrgModel:
    """Add a consistent overlay to a territory-only model."""
    parent: dict[str, str] = {}
    for r in base.records():
        up = getattr(r, "parent_id", None)
        if isinstance(up, str):
            parent[r.id] = up

    def community_of(node: str) -> str:
        while len(node) != 12:
            node = parent[node]
        return node

    leaves: list[tuple[str, HouseholdCounts]] = [(e.id, e.counts) for e in base.entrances]
    leaves += [(b.id, b.counts) for b in base.buildings if b.counts is not None]
    households_: list[Household] = []
    for leaf, counts in sorted(leaves):
        for k in range(1, draw(st.integers(0, min(2, counts.households))) + 1):
            households_.append(Household(id=f"{leaf}/H{k}", parent_id=leaf))
    parent.update((h.id, h.parent_id) for h in households_)
    homes = [h.id for h in households_] + [b.id for b in base.buildings]

    people_: list[Person] = []
    for i in range(draw(st.integers(0, 8))):
        pid = f"P{i:02d}"
        home = draw(st.none() | st.sampled_from(homes)) if homes else None
        roles = draw(_unique(st.sampled_from(Role), max_size=3))
        if i < 3 and Role.PARTY_MEMBER not in roles:
            roles.append(Role.PARTY_MEMBER)  # enough members for the party orgs
        category = (
            draw(st.none() | st.sampled_from(MemberCategory))
            if Role.PARTY_MEMBER in roles
            else None
        )
        reports = (
            community_of(home)
            if category is MemberCategory.IN_SERVICE and home is not None and draw(st.booleans())
            else None
        )
        people_.append(
            Person(
                id=pid, roles=roles, home_id=home, party_category=category,
                reports_to_community_id=reports,
                rider_duties=[RiderDuty.PUBLICITY] if Role.RIDER in roles else [],
                name=draw(st.none() | names),
                health_flags=draw(_unique(st.sampled_from(HealthFlag))),
            )
        )
    members = [p.id for p in people_ if Role.PARTY_MEMBER in p.roles]

    zones: list[ZoneDesignation] = []
    places = [*(a.id for a in base.areas[1:]), *(u.id for u in base.units),
              *(b.id for b in base.buildings), *(e.id for e in base.entrances),
              *(h.id for h in households_)]  # fmt: skip
    for z in range(draw(st.integers(0, 3)) if places else 0):
        zones.append(
            ZoneDesignation(
                id=f"Z{z}",
                regime=draw(st.sampled_from(
                    [ZoneRegime.SEALED, ZoneRegime.CONTROLLED, ZoneRegime.PRECAUTIONARY])),
                targets=draw(st.lists(st.sampled_from(places), min_size=1, max_size=3,
                                      unique=True)),
                valid=draw(time_windows()),
            )
        )

    party: list[PartyOrg] = []
    grids_: list[Grid] = []
    bodies_: list[Body] = []
    teams_: list[Team] = []
    for area in base.areas[1:]:
        party.append(PartyOrg(id=f"{area.id}/WC", level=PartyOrgLevel.WORKING_COMMITTEE,
                              name="党工委", leads=[area.id]))  # fmt: skip
    units_of: dict[str, list[NeighbourhoodUnit]] = {}
    for u in base.units:
        units_of.setdefault(community_of(u.id), []).append(u)
    buildings_of: dict[str, list[str]] = {}
    for b in base.buildings:
        buildings_of.setdefault(community_of(b.id), []).append(b.id)
    for c in base.communities:
        expanded = draw(st.booleans())
        seats = [Seat(person_id=p, title="委员", part_time=expanded and draw(st.booleans()))
                 for p in draw(_unique(st.sampled_from(people_).map(lambda p: p.id)))
                 ] if people_ else []  # fmt: skip
        org = f"{c.id}/PO"
        party.append(
            PartyOrg(
                id=org, level=draw(st.sampled_from([PartyOrgLevel.COMMITTEE,
                                                    PartyOrgLevel.GENERAL_BRANCH])),
                name="社区党组织", parent_id=f"{c.parent_id}/WC", leads=[c.id],
                expanded=expanded, seats=seats,
            )
        )
        for u in units_of.get(c.id, []):
            if draw(st.booleans()):
                party.append(PartyOrg(
                    id=f"{u.id}/CG", level=PartyOrgLevel.BRANCH,
                    kind=PartyOrgKind.CO_GOVERNANCE, name="共治党支部", parent_id=org,
                    leads=[u.id],
                ))  # fmt: skip
        for bid in buildings_of.get(c.id, []):
            branch = f"{parent[bid]}/CG"
            if draw(st.booleans()) and any(p.id == branch for p in party):
                party.append(PartyOrg(id=f"{bid}/SG", level=PartyOrgLevel.SMALL_GROUP,
                                      name="楼栋党小组", parent_id=branch,
                                      leads=[bid]))  # fmt: skip
        in_community = buildings_of.get(c.id, [])
        if in_community:
            grid_covers: list[str] = draw(_unique(st.sampled_from(in_community), max_size=4))
            grids_.append(
                Grid(id=f"{c.id}/G1", name="网格1", community_id=c.id, covers=grid_covers)
            )
            micro = draw(st.booleans())
            if grid_covers and micro:
                grids_.append(Grid(
                    id=f"{c.id}/G1/M1", kind=GridKind.MICRO_GRID, name="微网格", community_id=c.id,
                    parent_id=f"{c.id}/G1", covers=grid_covers[:1],
                ))  # fmt: skip
        bodies_.append(Body(id=f"{c.id}/RC", kind=BodyKind.RESIDENTS_COMMITTEE, name="居委会",
                            community_id=c.id))  # fmt: skip
        for u in units_of.get(c.id, []):
            if u.kind is NeighbourhoodKind.COMPOUND and draw(st.booleans()):
                bodies_.append(Body(id=f"{u.id}/PM", kind=BodyKind.PROPERTY_COMPANY, name="物业",
                                    community_id=c.id, covers=[u.id]))  # fmt: skip
        places_c = [u.id for u in units_of.get(c.id, [])] + in_community
        teams_.append(Team(
            id=f"{c.id}/T1", kind=TeamKind.VOLUNTEER, name="先锋队", community_id=c.id,
            covers=draw(_unique(st.sampled_from(places_c))) if places_c else [],
            brand="海棠先锋",
        ))  # fmt: skip
    if draw(st.booleans()):
        bodies_.append(Body(id="BA1", kind=BodyKind.BUSINESS_ASSOCIATION, name="商会",
                            community_id=base.communities[0].id,
                            partner_community_ids=[c.id for c in base.communities[:2]]))
        teams_.append(Team(id="RT", kind=TeamKind.RIDER, name="骑手队",
                           partner_ids=[base.communities[0].id, "BA1"]))  # fmt: skip
    for zone in zones:
        if draw(st.booleans()):
            first = zone.targets[0]
            leader = community_of(first) if len(first) >= 12 else None
            party.append(PartyOrg(
                id=f"{zone.id}/AB", level=PartyOrgLevel.BRANCH, kind=PartyOrgKind.ACTION_BRANCH,
                name="行动支部", zone_designation_id=zone.id, valid=zone.valid,
                parent_id=f"{leader}/PO" if leader else None,
                leads=[t for t in zone.targets if not t.split("/")[-1].startswith("H")],
            ))  # fmt: skip

    memberships_: list[Membership] = []
    orgs: list[PartyOrg | Team | Body] = [*party, *teams_, *bodies_]
    for person in people_:
        chosen_orgs = (
            draw(st.lists(st.sampled_from(orgs), max_size=2, unique_by=lambda o: o.id))
            if orgs
            else []
        )
        for target in chosen_orgs:
            if isinstance(target, PartyOrg) and person.id not in members:
                continue
            start = end = None
            if isinstance(target, PartyOrg) and target.valid is not None:
                start = target.valid.start.astimezone(TZ).date()
                end = (target.valid.end - timedelta(microseconds=1)).astimezone(TZ).date()
            elif draw(st.booleans()):
                start = draw(st.dates(date(2020, 1, 1), date(2022, 12, 31)))
                end = draw(st.none() | st.dates(start, date(2023, 12, 31)))
            memberships_.append(Membership(
                id=f"M/{person.id}/{target.id}", person_id=person.id, organisation_id=target.id,
                role=draw(st.sampled_from(MembershipRole)), start=start, end=end,
            ))  # fmt: skip

    liaisons_: list[Liaison] = []
    for i, pid in enumerate(members):
        chosen = draw(_unique(st.sampled_from([h.id for h in households_]), max_size=12)) \
            if households_ else []  # fmt: skip
        if chosen:
            liaisons_.append(Liaison(id=f"L{i}", person_id=pid, household_ids=chosen,
                                     services=["政策宣传"]))  # fmt: skip

    sites_: list[Site] = []
    posts: list[DutyPost] = []
    for k, u in enumerate(base.units):
        if draw(st.booleans()):
            sid = f"{u.id}/S"
            sites_.append(Site(
                id=sid, name="微阵地", parent_id=u.id, location=GeoPoint(lon=120.6, lat=31.3),
                normal_functions=[SiteFunction.PARTY_MICRO_SITE, SiteFunction.GATE_POST],
                emergency_functions=[SiteFunction.SAMPLING_POINT, SiteFunction.SUPPLY_TRANSIT],
                covers=[b.id for b in base.buildings if b.parent_id == u.id][:2],
                brand="小巷红韵", lanes=1,
            ))  # fmt: skip
            if draw(st.booleans()):
                posts.append(DutyPost(
                    id=f"{sid}/D{k}", site_id=sid, title="门岗",
                    tasks=[DutyTask.HEALTH_CODE_CHECK, DutyTask.TEMPERATURE],
                    shifts=[TimeWindow(start=EPOCH, end=EPOCH + timedelta(hours=4)),
                            TimeWindow(start=EPOCH + timedelta(hours=4),
                                       end=EPOCH + timedelta(hours=8))],
                    zone_designation_id=zones[0].id if zones else None,
                ))  # fmt: skip

    return OrgModel(
        areas=base.areas, communities=base.communities, units=base.units,
        buildings=base.buildings, entrances=base.entrances, households=households_,
        grids=grids_, bodies=bodies_, party_orgs=party, teams=teams_, people=people_,
        memberships=memberships_, liaisons=liaisons_, sites=sites_, duty_posts=posts,
        zones=zones,
    )  # fmt: skip
