"""Record-level rules of the overlay records (each record valid on its own)."""

from datetime import date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from commgov.org import (
    RULEBOOKS,
    Grid,
    GridKind,
    Liaison,
    MemberCategory,
    Membership,
    OrgModel,
    PartyOrg,
    PartyOrgKind,
    PartyOrgLevel,
    Person,
    RiderDuty,
    Role,
    Seat,
    Site,
    SiteFunction,
    ZoneRegime,
    most_restrictive,
    sensitive_fields,
)
from commgov.types import GeoPoint, TimeWindow

UTC8 = timezone(timedelta(hours=8))
W = TimeWindow(start=datetime(2022, 4, 1, tzinfo=UTC8), end=datetime(2022, 4, 15, tzinfo=UTC8))


def test_sensitive_fields_cover_every_record_type():
    fields = sensitive_fields()
    assert set(fields) == {
        "AdminArea", "Community", "NeighbourhoodUnit", "Building", "Entrance", "Household",
        "Grid", "Body", "PartyOrg", "Team", "Person", "Membership", "Liaison", "Site",
        "DutyPost", "ZoneDesignation",
    }  # fmt: skip
    assert fields["Person"] == ("health_flags", "name", "party_category", "phone")


def test_json_schema_marks_sensitive_fields():
    person = OrgModel.json_schema()["$defs"]["Person"]["properties"]
    assert {k for k, v in person.items() if v.get("sensitive")} == {
        "health_flags", "name", "party_category", "phone"
    }  # fmt: skip


def test_membership_end_not_before_start():
    with pytest.raises(ValidationError, match="must not be before start"):
        Membership(id="m", person_id="p", organisation_id="o", start=date(2022, 4, 2),
                   end=date(2022, 4, 1))  # fmt: skip
    one_day = Membership(
        id="m", person_id="p", organisation_id="o", start=date(2022, 4, 1), end=date(2022, 4, 1)
    )
    assert one_day.active_on(date(2022, 4, 1)) and not one_day.active_on(date(2022, 4, 2))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": PartyOrgKind.ACTION_BRANCH, "valid": W}, "zone_designation_id"),
        ({"kind": PartyOrgKind.ACTION_BRANCH, "zone_designation_id": "z"}, "valid window"),
        (
            {"kind": PartyOrgKind.ACTION_BRANCH, "zone_designation_id": "z", "valid": W,
             "level": PartyOrgLevel.COMMITTEE},
            "is a branch",
        ),
        ({"zone_designation_id": "z"}, "only an action branch"),
        ({"seats": [Seat(person_id="p", part_time=True)]}, "expanded"),
        ({"seats": [Seat(person_id="p"), Seat(person_id="p")]}, "at most one seat"),
        ({"leads": ["a", "a"]}, "more than once"),
    ],
)  # fmt: skip
def test_party_org_record_rules(fields, message):
    data = {"id": "po", "level": PartyOrgLevel.BRANCH, "name": "支部", **fields}
    with pytest.raises(ValidationError, match=message):
        PartyOrg(**data)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rider_duties": [RiderDuty.PUBLICITY]}, "rider"),
        ({"party_category": MemberCategory.RESIDENT}, "party_member"),
        (
            {"roles": [Role.PARTY_MEMBER], "party_category": MemberCategory.RESIDENT,
             "reports_to_community_id": "c"},
            "in-service",
        ),
    ],
)  # fmt: skip
def test_person_record_rules(fields, message):
    with pytest.raises(ValidationError, match=message):
        Person(id="p", **fields)


def test_grid_kinds_and_parents():
    with pytest.raises(ValidationError, match="micro-grid needs"):
        Grid(id="g", kind=GridKind.MICRO_GRID, name="g", community_id="c")
    with pytest.raises(ValidationError, match="no parent grid"):
        Grid(id="g", name="g", community_id="c", parent_id="g0")


def test_liaison_households_unique():
    with pytest.raises(ValidationError, match="more than once"):
        Liaison(id="l", person_id="p", household_ids=["h", "h"])


def test_emergency_functions_not_normal():
    with pytest.raises(ValidationError, match="emergency function"):
        Site(id="s", name="s", parent_id="c", location=GeoPoint(lon=120.6, lat=31.3),
             normal_functions=[SiteFunction.SUPPLY_TRANSIT])  # fmt: skip


def test_rulebooks_versions_and_ordering():
    assert list(RULEBOOKS) == ["2021-three-zone", "2022-v9", "2022-20-measures", "2022-new-10"]
    assert set(RULEBOOKS["2021-three-zone"].rules) == {
        ZoneRegime.SEALED, ZoneRegime.CONTROLLED, ZoneRegime.PRECAUTIONARY
    }  # fmt: skip
    assert ZoneRegime.SEALED not in RULEBOOKS["2022-v9"].rules
    assert most_restrictive([ZoneRegime.PRECAUTIONARY, ZoneRegime.SEALED]) is ZoneRegime.SEALED
    assert most_restrictive([]) is None


def test_personal_data_never_in_error_text():
    import pytest
    from pydantic import ValidationError

    from commgov.errors import InputError
    from commgov.org import OrgModel, Person

    secret_phone, secret_name = "13912345678", "王秘密"
    bad = {"id": "p1", "phone": secret_phone, "name": secret_name, "roles": ["nope"]}
    with pytest.raises(ValidationError) as info:
        Person(**bad)
    assert secret_phone not in str(info.value) and secret_name not in str(info.value)
    with pytest.raises(ValidationError) as info:
        OrgModel(people=[bad])
    assert secret_phone not in str(info.value) and secret_name not in str(info.value)
    with pytest.raises(InputError) as info2:
        OrgModel.from_data(
            {"people": [{**bad, "phone": [secret_phone], "name": {"x": secret_name}}]}
        )
    text = str(info2.value) + repr(info2.value.issues)
    assert secret_phone not in text and secret_name not in text
