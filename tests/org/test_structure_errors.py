"""Each invalid structure gives its own OrgStructureError issue (record, field, constraint)."""

from datetime import date, datetime, timedelta, timezone

import pytest

from commgov.errors import OrgStructureError
from commgov.org import (
    AdminArea,
    AdminLevel,
    Body,
    BodyKind,
    Building,
    Community,
    CommunityKind,
    DutyPost,
    Entrance,
    Grid,
    GridKind,
    Household,
    HouseholdCounts,
    Liaison,
    MemberCategory,
    Membership,
    NeighbourhoodKind,
    NeighbourhoodUnit,
    OrgGraph,
    OrgModel,
    PartyOrg,
    PartyOrgKind,
    PartyOrgLevel,
    Person,
    Role,
    Seat,
    Site,
    Team,
    TeamKind,
    ZoneDesignation,
    ZoneRegime,
)
from commgov.types import GeoPoint, TimeWindow

UTC8 = timezone(timedelta(hours=8))
P = GeoPoint(lon=120.6, lat=31.3)
C = "320508017016"
C2 = "320508017017"
U = f"{C}/U1"
B = f"{U}/B1"
E = f"{B}/E1"
H = f"{E}/H1"
ZONE_WINDOW = TimeWindow(
    start=datetime(2022, 4, 1, tzinfo=UTC8), end=datetime(2022, 4, 15, tzinfo=UTC8)
)


def base() -> dict:
    """A small valid model with one record of every overlay type."""
    return dict(
        areas=[
            AdminArea(id="320508", level=AdminLevel.DISTRICT, name="姑苏区", short_name="姑苏区"),
            AdminArea(id="320508017", level=AdminLevel.SUBDISTRICT, name="白洋湾街道",
                      short_name="白洋湾街道", parent_id="320508"),
        ],
        communities=[
            Community(id=C, name="虎池苑社区居委会", short_name="虎池苑社区",
                      parent_id="320508017"),
            Community(id=C2, name="村", short_name="村", parent_id="320508017",
                      kind=CommunityKind.VILLAGE),
        ],
        units=[NeighbourhoodUnit(id=U, kind=NeighbourhoodKind.COMPOUND, name="u", parent_id=C)],
        buildings=[Building(id=B, label="1幢", parent_id=U, location=P)],
        entrances=[Entrance(id=E, label="1单元", parent_id=B,
                            counts=HouseholdCounts(households=10, residents=20))],
        households=[Household(id=H, parent_id=E)],
        grids=[Grid(id="G", name="网格", community_id=C, covers=[B]),
               Grid(id="G/M", kind=GridKind.MICRO_GRID, name="微网格", community_id=C,
                    parent_id="G", covers=[B])],
        bodies=[Body(id="RC", kind=BodyKind.RESIDENTS_COMMITTEE, name="居委会", community_id=C),
                Body(id="PM", kind=BodyKind.PROPERTY_COMPANY, name="物业", community_id=C,
                     covers=[U])],
        party_orgs=[
            PartyOrg(id="WC", level=PartyOrgLevel.WORKING_COMMITTEE, name="党工委",
                     leads=["320508017"]),
            PartyOrg(id="PO", level=PartyOrgLevel.COMMITTEE, name="社区党委", parent_id="WC",
                     leads=[C], expanded=True,
                     seats=[Seat(person_id="P1", title="书记"),
                            Seat(person_id="P2", part_time=True, home_body_id="PM")]),
            PartyOrg(id="CG", level=PartyOrgLevel.BRANCH, kind=PartyOrgKind.CO_GOVERNANCE,
                     name="共治党支部", parent_id="PO", leads=[U]),
            PartyOrg(id="SG", level=PartyOrgLevel.SMALL_GROUP, name="楼栋党小组",
                     parent_id="CG", leads=[B]),
            PartyOrg(id="AB", level=PartyOrgLevel.BRANCH, kind=PartyOrgKind.ACTION_BRANCH,
                     name="行动支部", parent_id="PO", leads=[B], zone_designation_id="Z",
                     valid=ZONE_WINDOW),
        ],
        teams=[Team(id="T", kind=TeamKind.VOLUNTEER, name="先锋队", community_id=C, covers=[B],
                    brand="海棠先锋")],
        people=[
            Person(id="P1", roles=[Role.PARTY_MEMBER, Role.VOLUNTEER], home_id=H,
                   party_category=MemberCategory.IN_SERVICE, reports_to_community_id=C),
            Person(id="P2", roles=[Role.VOLUNTEER]),
        ],
        memberships=[
            Membership(id="M1", person_id="P1", organisation_id="AB", start=date(2022, 4, 2),
                       end=date(2022, 4, 10)),
            Membership(id="M2", person_id="P2", organisation_id="T", start=date(2022, 1, 1)),
        ],
        liaisons=[Liaison(id="L1", person_id="P1", household_ids=[H])],
        sites=[Site(id="S", name="微阵地", parent_id=U, location=P, covers=[B])],
        duty_posts=[DutyPost(id="D", site_id="S", title="门岗", zone_designation_id="Z")],
        zones=[ZoneDesignation(id="Z", regime=ZoneRegime.SEALED, targets=[B, E],
                               valid=ZONE_WINDOW)],
    )  # fmt: skip


def with_(collection: str, rid: str, **update) -> dict:
    data = base()
    data[collection] = [
        r.model_copy(update=update) if r.id == rid else r for r in data[collection]
    ]
    return data


def test_base_model_is_valid():
    graph = OrgGraph(OrgModel(**base()))
    assert graph.stats()["edges"]["MEMBER_OF"] == 4


LATE = TimeWindow(start=datetime(2022, 4, 10, tzinfo=UTC8), end=datetime(2022, 4, 20, tzinfo=UTC8))

CASES = [
    # (name, model data, expected (record, field), words in the constraint)
    ("party cycle", with_("party_orgs", "WC", parent_id="PO", level=PartyOrgLevel.COMMITTEE),
     ("PO", "parent_id"), "cycle"),
    ("branch over committee", with_("party_orgs", "PO", parent_id="CG"),
     ("PO", "parent_id"), "cannot be subordinate to a branch"),
    ("dangling party parent", with_("party_orgs", "CG", parent_id="nowhere"),
     ("CG", "parent_id"), "no record"),
    ("party parent not a party org", with_("party_orgs", "CG", parent_id="T"),
     ("CG", "parent_id"), "must name a party organisation"),
    ("leads a household", with_("party_orgs", "SG", leads=[H]),
     ("SG", "leads"), "not a household"),
    ("co-governance leads no unit", with_("party_orgs", "CG", leads=[B]),
     ("CG", "leads"), "co-governance"),
    ("action branch outlives its zone", with_("party_orgs", "AB", valid=LATE),
     ("AB", "valid"), "in force"),
    ("action branch tied to a non-zone", with_("party_orgs", "AB", zone_designation_id="T"),
     ("AB", "zone_designation_id"), "zone designation"),
    ("seat for a non-person", with_("party_orgs", "PO", seats=[Seat(person_id="T")]),
     ("PO", "seats.0.person_id"), "person"),
    ("seat home body dangling",
     with_("party_orgs", "PO", seats=[Seat(person_id="P2", part_time=True, home_body_id="X")]),
     ("PO", "seats.0.home_body_id"), "no record"),
    ("membership outside branch life", with_("memberships", "M1", end=date(2022, 4, 20)),
     ("M1", "end"), "within the life"),
    ("membership of a non-organisation", with_("memberships", "M2", organisation_id=B),
     ("M2", "organisation_id"), "party organisation, team or body"),
    ("party membership without the role", with_("memberships", "M1", person_id="P2"),
     ("M1", "person_id"), "party_member"),
    ("dangling member", with_("memberships", "M2", person_id="P9"),
     ("M2", "person_id"), "no record"),
    ("liaison with a building", with_("liaisons", "L1", household_ids=[B]),
     ("L1", "household_ids"), "household"),
    ("双报到 elsewhere", with_("people", "P1", reports_to_community_id=C2),
     ("P1", "reports_to_community_id"), "where they live"),
    ("reports to a unit", with_("people", "P1", reports_to_community_id=U),
     ("P1", "reports_to_community_id"), "community"),
    ("micro-grid outside its grid", with_("grids", "G", covers=[]),
     ("G/M", "covers"), "of its grid"),
    ("grid covers a unit", with_("grids", "G", covers=[U]),
     ("G", "covers"), "building"),
    ("grid in another community", with_("grids", "G", community_id=C2),
     ("G", "covers"), "community"),
    ("residents' committee of a village", with_("bodies", "RC", community_id=C2),
     ("RC", "kind"), "serves a community"),
    ("two committees", with_("bodies", "PM", kind=BodyKind.RESIDENTS_COMMITTEE, covers=[]),
     ("RC", "community_id"), "one per community"),
    ("team covers a household", with_("teams", "T", covers=[H]),
     ("T", "covers"), "place"),
    ("team partners a building", with_("teams", "T", partner_ids=[B]),
     ("T", "partner_ids"), "community or a body"),
    ("site covers a person", with_("sites", "S", covers=["P1"]),
     ("S", "covers"), "place"),
    ("duty post at a building", with_("duty_posts", "D", site_id=B),
     ("D", "site_id"), "site"),
    ("unknown rulebook", with_("zones", "Z", rulebook_version="2020-x"),
     ("Z", "rulebook_version"), "unknown rulebook"),
    ("sealed under the 9th edition", with_("zones", "Z", rulebook_version="2022-v9"),
     ("Z", "regime"), "not a regime"),
    ("compound-level high risk under new 10",
     with_("zones", "Z", rulebook_version="2022-new-10", regime=ZoneRegime.HIGH, targets=[U]),
     ("Z", "targets"), "targets only"),
    ("zone over a person", with_("zones", "Z", targets=["P1"]),
     ("Z", "targets"), "place"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "data", "where", "words"), CASES, ids=[c[0] for c in CASES])
def test_invalid_structure_reports_its_issue(name, data, where, words):
    with pytest.raises(OrgStructureError) as info:
        OrgGraph(OrgModel(**data))
    found = [i for i in info.value.issues if (i.record, i.field) == where]
    assert found, [str(i) for i in info.value.issues]
    assert any(words in i.constraint for i in found), [str(i) for i in found]


def test_overlapping_memberships_reported():
    data = base()
    data["memberships"] = [
        *data["memberships"],
        Membership(id="M3", person_id="P2", organisation_id="T", start=date(2022, 3, 1)),
    ]
    with pytest.raises(OrgStructureError) as info:
        OrgGraph(OrgModel(**data))
    assert [(i.record, i.field) for i in info.value.issues] == [("M3", "start")]
    assert "overlaps membership M2" in info.value.issues[0].constraint


def test_every_issue_is_listed_at_once():
    data = with_("party_orgs", "CG", parent_id="nowhere")
    data["liaisons"] = [Liaison(id="L1", person_id="P9", household_ids=[H])]
    with pytest.raises(OrgStructureError) as info:
        OrgGraph(OrgModel(**data))
    assert {(i.record, i.field) for i in info.value.issues} == {
        ("CG", "parent_id"),
        ("L1", "person_id"),
    }
