"""import_community: what an app's tables become, in every input form, whatever the order."""

import logging
import random

import pytest
from io_helpers import (
    COMMUNITY,
    no_personal_data_leaks,  # noqa: F401  (autouse: scans this module)
    tables_from_model,
    write_tables,
)

from commgov.datasets import gusu_divisions, synthetic_community
from commgov.io import (
    IMPORT_TABLES,
    CommunityImport,
    TableImportError,
    import_community,
)
from commgov.org import NeighbourhoodKind, OrgGraph, Source
from commgov.types import haversine_m

COLLECTIONS = {
    "compounds": "units",
    "buildings": "buildings",
    "entrances": "entrances",
    "households": "households",
    "people": "people",
    "sites": "sites",
    "teams": "teams",
    "memberships": "memberships",
}


@pytest.fixture(scope="module")
def base():
    return gusu_divisions()


@pytest.fixture(scope="module")
def original():
    return synthetic_community(COMMUNITY, seed=3)


def _renamed(value, ids):
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [_renamed(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, ids) for k, v in value.items()}
    return value


def _records(model, collection):
    out = []
    for record in getattr(model, collection):
        data = record.model_dump(mode="json")
        data.pop("provenance")
        out.append(data)
    return sorted(out, key=lambda r: r["id"])


def _assert_same_community(result: CommunityImport, original) -> None:
    """The imported records are the original ones, under the derived ids."""
    ids = {ext: new for table in result.ids.values() for ext, new in table.items()}
    for table, collection in COLLECTIONS.items():
        expected = sorted(_renamed(_records(original, collection), ids), key=lambda r: r["id"])
        assert _records(result.model, collection) == expected, table


def test_rows_as_text_round_trip(base, original):
    result = import_community(tables_from_model(original), base=base, community_id=COMMUNITY)
    _assert_same_community(result, original)
    OrgGraph(result.model)
    assert set(result.ids) == set(IMPORT_TABLES)
    assert result.ids["teams"] == {} and result.ids["memberships"] == {}
    assert all(r.provenance.source is Source.IMPORTED for r in result.model.buildings)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_files_round_trip(base, original, tmp_path, fmt):
    paths = write_tables(tables_from_model(original), tmp_path, fmt)
    result = import_community(paths, base=base, community_id=COMMUNITY)
    _assert_same_community(result, original)
    # string paths too
    again = import_community(
        {k: str(v) for k, v in paths.items()}, base=base, community_id=COMMUNITY
    )
    assert again.model.to_json() == result.model.to_json()


def test_derived_ids_follow_the_hierarchy(base, original):
    result = import_community(tables_from_model(original), base=base, community_id=COMMUNITY)
    kinds = {u.id: u.kind for u in result.model.units}
    for unit in result.model.units:
        letter = {"compound": "C", "lane": "L", "courtyard": "Y"}[unit.kind.value]
        assert unit.id.rsplit("/", 1)[1].startswith(letter)
        if unit.kind is NeighbourhoodKind.COURTYARD and unit.parent_id != COMMUNITY:
            assert kinds[unit.parent_id] is NeighbourhoodKind.LANE
            assert unit.id.startswith(unit.parent_id + "/Y")
    for b in result.model.buildings:
        assert b.id.startswith(b.parent_id + "/B")
    for e in result.model.entrances:
        assert e.id.startswith(e.parent_id + "/E")
    for h in result.model.households:
        assert h.id.startswith(h.parent_id + "/H")
    for p in result.model.people:
        assert p.id.startswith(COMMUNITY + "/P")
    for s in result.model.sites:
        assert s.id.startswith(COMMUNITY + "/S")


def test_input_order_does_not_matter(base, original):
    tables = tables_from_model(original)
    first = import_community(tables, base=base, community_id=COMMUNITY)
    rng = random.Random(5)
    shuffled = {}
    for name in reversed(list(tables)):
        rows = [dict(reversed(list(row.items()))) for row in tables[name]]
        rng.shuffle(rows)
        shuffled[name] = rows
    second = import_community(shuffled, base=base, community_id=COMMUNITY)
    assert second.model.to_json() == first.model.to_json()
    assert second.ids == first.ids


def test_example_ids(base):
    result = import_community(
        {
            "compounds": [{"id": "xq-1", "code": "C3", "name": "虎池苑"}],
            "buildings": [
                {
                    "id": 1047,
                    "code": 12,
                    "compound": "xq-1",
                    "label": "12幢",
                    "lon": 120.574,
                    "lat": 31.335,
                }
            ],
            "entrances": [
                {
                    "id": "e-1",
                    "code": "2",
                    "building": 1047,
                    "label": "2单元",
                    "households": 24,
                    "residents": 61,
                },
            ],
        },
        base=base,
        community_id=COMMUNITY,
    )
    assert result.ids == {
        "compounds": {"xq-1": "320508017016/CC3"},
        "buildings": {"1047": "320508017016/CC3/B12"},
        "entrances": {"e-1": "320508017016/CC3/B12/E2"},
    }


def test_column_mapping(base, original):
    tables = tables_from_model(original)
    names = {"id": "uuid", "compound": "xiaoqu", "label": "名称", "lon": "lng", "lat": "latitude"}
    renamed = [{names.get(k, k): v for k, v in row.items()} for row in tables["buildings"]]
    result = import_community(
        {**tables, "buildings": renamed},
        base=base,
        community_id=COMMUNITY,
        columns={"buildings": names},
    )
    _assert_same_community(result, original)


def test_gcj02_coordinates_are_converted(base, original):
    result = import_community(
        tables_from_model(original, crs="gcj02"), base=base, community_id=COMMUNITY, crs="gcj02"
    )
    by_old = {old: new for old, new in result.ids["buildings"].items()}
    new = {b.id: b for b in result.model.buildings}
    for b in original.buildings:
        got = new[by_old[b.id]].location
        assert haversine_m(got.lon, got.lat, b.location.lon, b.location.lat) < 1e-6
    # read as WGS84 they would be hundreds of metres off
    wrong = import_community(
        tables_from_model(original, crs="gcj02"), base=base, community_id=COMMUNITY
    )
    b0 = original.buildings[0]
    w = {b.id: b for b in wrong.model.buildings}[by_old[b0.id]].location
    assert haversine_m(w.lon, w.lat, b0.location.lon, b0.location.lat) > 300


def test_unknown_columns_may_be_ignored(base, original):
    tables = tables_from_model(original)
    extra = [{**row, "wechat_group": "g1", "备注": "x"} for row in tables["buildings"]]
    with pytest.raises(TableImportError):
        import_community({**tables, "buildings": extra}, base=base, community_id=COMMUNITY)
    result = import_community(
        {**tables, "buildings": extra},
        base=base,
        community_id=COMMUNITY,
        unknown_columns="ignore",
    )
    _assert_same_community(result, original)


def test_only_some_tables(base):
    result = import_community(
        {"compounds": [{"id": "1", "name": "A"}, {"id": "2", "kind": "街巷", "name": "B"}]},
        base=base,
        community_id=COMMUNITY,
    )
    assert result.ids == {"compounds": {"1": f"{COMMUNITY}/C1", "2": f"{COMMUNITY}/L2"}}
    assert result.model.counts()["units"] == 2
    empty = import_community({}, base=base, community_id=COMMUNITY)
    assert empty.model == base and empty.ids == {}


def test_base_is_not_changed(base, original):
    before = base.to_json()
    result = import_community(tables_from_model(original), base=base, community_id=COMMUNITY)
    assert base.to_json() == before
    assert result.model.counts()["communities"] == base.counts()["communities"]


def test_logs_counts_only(base, original, caplog):
    with caplog.at_level(logging.INFO, logger="commgov.io"):
        import_community(tables_from_model(original), base=base, community_id=COMMUNITY)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "commgov.io"]
    assert line.startswith(f"imported community {COMMUNITY}: ")
    assert f"{len(original.buildings)} buildings" in line


@pytest.mark.parametrize(
    "tables",
    [
        b"compounds.csv",
        {"compounds": b"id,name\n1,A\n"},
        {"compounds": {"id": "1"}},
        {"compounds": 7},
    ],
)
def test_sources_that_are_no_table_are_type_errors(base, tables):
    with pytest.raises(TypeError):
        import_community(tables, base=base, community_id=COMMUNITY)


def test_base_must_be_a_model(base):
    with pytest.raises(TypeError, match="gusu_divisions"):
        import_community({}, base=base.model_dump(), community_id=COMMUNITY)
    with pytest.raises(TypeError):
        import_community({}, base=base, community_id=320508017016)


def test_teams_and_memberships(base):
    """Teams covering buildings and compounds; memberships of teams and of a party
    organisation of the base model; the round trip keeps every record."""
    from io_helpers import overlay_model

    from commgov.org import OrgModel

    model = overlay_model()
    party = OrgModel(party_orgs=[p for p in model.party_orgs if p.parent_id is None])
    tables = tables_from_model(model)
    tables["teams"][0]["covers"] = ";".join(b.id for b in model.buildings[:2])
    tables["teams"][0]["covers_compounds"] = model.units[0].id
    committee = party.party_orgs[0].model_copy(update={"seats": []})
    result = import_community(
        tables, base=base.merge(OrgModel(party_orgs=[committee])), community_id=COMMUNITY
    )
    (team,) = result.model.teams
    ids = {ext: new for table in result.ids.values() for ext, new in table.items()}
    assert team.id == f"{COMMUNITY}/T01" and team.community_id == COMMUNITY
    assert team.covers == [
        ids[model.buildings[0].id],
        ids[model.buildings[1].id],
        ids[model.units[0].id],
    ]
    got = {m.id: m for m in result.model.memberships}
    assert len(got) == len(model.memberships)
    party_membership = got[ids[f"{COMMUNITY}/M001"]]
    assert party_membership.organisation_id == committee.id
    assert party_membership.person_id == ids[model.memberships[0].person_id]
    leader = got[ids[f"{COMMUNITY}/M002"]]
    assert (leader.role.value, leader.title, str(leader.start)) == ("leader", "队长", "2022-03-01")
    OrgGraph(result.model)
