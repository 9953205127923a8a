"""Exports: JSON Schemas, masked and pseudonymised JSON, GeoJSON (RFC 7946), Popolo JSON."""

import json
import secrets

import pytest
from io_helpers import (
    COMMUNITY,
    PLANTED,
    allow_personal_data,  # noqa: F401  (a fixture)
    no_personal_data_leaks,  # noqa: F401  (autouse: scans this module)
    overlay_model,
    tables_from_model,
)

from commgov.datasets import gusu_divisions
from commgov.io import (
    GEOJSON_PLACES,
    MASK,
    export_json,
    import_community,
    pseudonym,
    record_schemas,
    to_geojson,
    to_popolo,
    wgs84_to_gcj02,
    write_record_schemas,
)
from commgov.org import RECORD_TYPES, OrgGraph, OrgModel, sensitive_fields
from commgov.types import haversine_m

KEY = bytes(range(32))


@pytest.fixture(scope="module")
def model():
    m = overlay_model()
    OrgGraph(m)
    return m


# -- JSON Schema ------------------------------------------------------------------------------


def _resolve(schema, node):
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _property(schema, path):
    node = schema
    for part in path.split("."):
        node = _resolve(schema, node)
        if "anyOf" in node:
            node = next(
                _resolve(schema, n) for n in node["anyOf"] if "$ref" in n or "properties" in n
            )
        if node.get("type") == "array":
            node = _resolve(schema, node["items"])
        node = node["properties"][part]
    return node


def test_a_schema_for_every_record():
    schemas = record_schemas()
    assert set(schemas) == {c.__name__ for c in RECORD_TYPES.values()} | {"OrgModel"}
    for name, schema in schemas.items():
        assert next(iter(schema)) == "$schema"
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["type"] == "object"
        json.dumps(schema)
        assert name == schema["title"]


def test_schemas_show_which_fields_are_sensitive():
    schemas = record_schemas()
    marked = sensitive_fields()
    assert marked["Person"], "Person has sensitive fields"
    for name, paths in marked.items():
        assert schemas[name]["x-sensitive-fields"] == list(paths)
        for path in paths:
            assert _property(schemas[name], path).get("sensitive") is True, (name, path)
        for field, prop in schemas[name]["properties"].items():
            if field not in paths:
                assert _resolve(schemas[name], prop).get("sensitive") is not True
    people = schemas["OrgModel"]["x-sensitive-fields"]
    assert "people.name" in people and "people.phone" in people


def test_write_record_schemas(tmp_path):
    paths = write_record_schemas(tmp_path / "schemas")
    assert [p.name for p in paths] == [f"{n}.schema.json" for n in record_schemas()]
    for path in paths:
        assert json.loads(path.read_text(encoding="utf-8"))["$schema"].endswith("2020-12/schema")


# -- JSON export -----------------------------------------------------------------------------


def test_export_json_masks_personal_data_by_default(model):
    text = export_json(model)
    data = json.loads(text)
    person = next(p for p in data["people"] if p["id"] == model.people[0].id)
    for field in sensitive_fields()["Person"]:
        assert person[field] in (MASK, None, []), field
    assert person["name"] == MASK and person["phone"] == MASK and person["health_flags"] == MASK
    assert "party_member" not in person["roles"]
    # party membership: memberships of party organisations left out, seat holders masked
    party = {p.id for p in model.party_orgs}
    assert all(m["organisation_id"] not in party for m in data["memberships"])
    assert len(data["memberships"]) == 2
    committee = next(p for p in data["party_orgs"] if p["seats"])
    assert committee["seats"][0]["person_id"] == MASK
    # the rest is as in the model
    assert data["buildings"] == [b.model_dump(mode="json") for b in model.buildings]
    assert text == export_json(model)


@pytest.mark.usefixtures("allow_personal_data")
def test_export_json_may_include_personal_data(model):
    data = json.loads(export_json(model, personal_data="include"))
    assert OrgModel.model_validate(data) == model
    assert PLANTED["name"] in json.dumps(data, ensure_ascii=False)


def test_pseudonymised_export(model):
    text = export_json(model, pseudonym_key=KEY)
    data = json.loads(text)
    personal = [*model.people, *model.households, *model.memberships, *model.liaisons]
    for record in personal:
        assert f'"{record.id}"' not in text
    ids = {p["id"] for p in data["people"]}
    assert ids == {pseudonym(p.id, KEY, prefix="p-") for p in model.people}
    households = {h["id"] for h in data["households"]}
    for m in data["memberships"]:
        assert m["person_id"] in ids
    for liaison in data["liaisons"]:
        assert liaison["person_id"] in ids
        assert set(liaison["household_ids"]) <= households
    for person in data["people"]:
        assert (
            person["home_id"] is None
            or person["home_id"] in households
            or (
                person["home_id"]
                in {b.id for b in model.buildings} | {e.id for e in model.entrances}
            )
        )
    # stable with one key, unlinkable across keys
    assert export_json(model, pseudonym_key=KEY) == text
    other = json.loads(export_json(model, pseudonym_key=secrets.token_bytes(32)))
    assert {p["id"] for p in other["people"]}.isdisjoint(ids)


@pytest.mark.parametrize(
    ("key", "error"),
    [(b"short", ValueError), ("a str key of enough length", TypeError), (123, TypeError)],
)
def test_bad_keys(model, key, error):
    with pytest.raises(error):
        export_json(model, pseudonym_key=key)
    with pytest.raises(error):
        to_popolo(model, pseudonym_key=key)
    with pytest.raises(error):
        pseudonym("x", key)


def test_bad_options(model):
    for f in (export_json, to_popolo):
        with pytest.raises(ValueError, match="personal_data"):
            f(model, personal_data="clear")
        with pytest.raises(TypeError):
            f(model.model_dump())
    with pytest.raises(TypeError):
        to_geojson("model")
    with pytest.raises(ValueError, match="households"):
        to_geojson(model, places=["households"])
    with pytest.raises(ValueError, match="precision"):
        to_geojson(model, precision=20)


def test_pseudonym_is_a_keyed_hash():
    import hashlib
    import hmac

    assert pseudonym("a", KEY) == hmac.new(KEY, b"a", hashlib.sha256).hexdigest()[:20]
    assert pseudonym("a", KEY, prefix="p-").startswith("p-")
    assert pseudonym("a", KEY) != pseudonym("b", KEY)
    with pytest.raises(TypeError):
        pseudonym(1, KEY)


# -- GeoJSON ---------------------------------------------------------------------------------


def test_geojson_places(model):
    fc = to_geojson(model)
    json.dumps(fc)
    assert fc["type"] == "FeatureCollection" and "crs" not in fc
    features = fc["features"]
    assert [f["id"] for f in features] == sorted(f["id"] for f in features)
    by_id = {f["id"]: f for f in features}
    expected = {u.id for u in model.units if u.location is not None}
    expected |= {b.id for b in model.buildings} | {e.id for e in model.entrances}
    expected |= {s.id for s in model.sites}
    assert set(by_id) == expected
    assert not {p.id for p in model.people} & set(by_id)
    assert not {h.id for h in model.households} & set(by_id)
    located = {r.id: r.location for r in [*model.units, *model.buildings, *model.sites]}
    located |= {e.id: located[e.parent_id] for e in model.entrances}
    west, south, east, north = fc["bbox"]
    for rid, feature in by_id.items():
        assert feature["type"] == "Feature"
        geometry = feature["geometry"]
        assert geometry["type"] == "Point" and len(geometry["coordinates"]) == 2
        lon, lat = geometry["coordinates"]  # longitude first (RFC 7946 §3.1.1)
        assert haversine_m(lon, lat, located[rid].lon, located[rid].lat) < 0.02
        assert west <= lon <= east and south <= lat <= north
        assert feature["properties"]["kind"] in {
            "compound",
            "lane",
            "courtyard",
            "building",
            "entrance",
            "site",
        }
    b = model.buildings[0]
    assert by_id[b.id]["properties"]["label"] == b.label
    assert by_id[b.id]["properties"]["parent_id"] == b.parent_id


def test_geojson_choice_of_places_and_empty(model):
    fc = to_geojson(model, places=["sites"])
    assert {f["properties"]["kind"] for f in fc["features"]} == {"site"}
    assert to_geojson(model, places=[]) == {"type": "FeatureCollection", "features": []}
    assert set(GEOJSON_PLACES) >= {"units", "buildings", "entrances", "sites"}


def test_gcj02_in_wgs84_out(model):
    """Coordinates imported in GCJ-02 are exported in WGS84, where they were."""
    tables = tables_from_model(model, crs="gcj02")
    tables.pop("memberships")  # one is of a party organisation, not in the base
    result = import_community(tables, base=gusu_divisions(), community_id=COMMUNITY, crs="gcj02")
    fc = to_geojson(result.model, places=["buildings"])
    new_to_old = {new: old for old, new in result.ids["buildings"].items()}
    where = {b.id: b.location for b in model.buildings}
    for feature in fc["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        original = where[new_to_old[feature["id"]]]
        assert haversine_m(lon, lat, original.lon, original.lat) < 0.02
        glon, glat = wgs84_to_gcj02(original.lon, original.lat)
        assert haversine_m(lon, lat, glon, glat) > 100


# -- Popolo ----------------------------------------------------------------------------------


def _check_references(popolo):
    persons = {p["id"] for p in popolo["persons"]}
    organizations = {o["id"] for o in popolo["organizations"]}
    posts = {p["id"] for p in popolo["posts"]}
    for m in popolo["memberships"]:
        assert m["person_id"] in persons
        assert m["organization_id"] in organizations
        assert m.get("post_id") is None or m["post_id"] in posts
    for o in popolo["organizations"]:
        assert o.get("parent_id") is None or o["parent_id"] in organizations
        assert o["name"] and o["classification"]
    for p in popolo["posts"]:
        assert p["label"] and p["role"]
        assert p.get("organization_id") is None or p["organization_id"] in organizations


def test_popolo_default_leaves_personal_data_out(model):
    popolo = to_popolo(model)
    json.dumps(popolo)
    assert list(popolo) == ["organizations", "persons", "posts", "memberships", "areas"]
    _check_references(popolo)
    classes = {o["id"]: o["classification"] for o in popolo["organizations"]}
    assert classes[f"{COMMUNITY}/PO"] == "party_org.committee"
    assert classes[f"{COMMUNITY}/RC"] == "body.residents_committee"
    assert classes[f"{COMMUNITY}/T01"] == "team.volunteer"
    assert all(set(p) == {"id"} for p in popolo["persons"])
    assert [m["id"] for m in popolo["memberships"]] == [f"{COMMUNITY}/M002", f"{COMMUNITY}/M003"]
    leader = popolo["memberships"][0]
    assert (leader["role"], leader["label"], leader["start_date"]) == (
        "leader",
        "队长",
        "2022-03-01",
    )
    posts = {p["id"]: p for p in popolo["posts"]}
    assert posts[f"{COMMUNITY}/PO/seat1"]["role"] == "secretary"
    assert posts[f"{COMMUNITY}/DP01"]["role"] == "duty_post"
    action = next(o for o in popolo["organizations"] if o["id"].endswith("/A1"))
    assert action["founding_date"] <= action["dissolution_date"]
    areas = {a["id"]: a for a in popolo["areas"]}
    assert areas[COMMUNITY]["identifier"] == COMMUNITY
    assert areas["320508017"]["classification"] == "subdistrict"
    assert areas[model.units[0].id]["parent_id"] == COMMUNITY


@pytest.mark.usefixtures("allow_personal_data")
def test_popolo_with_personal_data(model):
    popolo = to_popolo(model, personal_data="include")
    _check_references(popolo)
    first = next(p for p in popolo["persons"] if p["id"] == model.people[0].id)
    assert first["name"] == PLANTED["name"]
    assert first["contact_details"] == [{"type": "voice", "value": PLANTED["phone"]}]
    ids = {m["id"] for m in popolo["memberships"]}
    assert f"{COMMUNITY}/M001" in ids  # party membership
    holder = next(m for m in popolo["memberships"] if m.get("post_id"))
    assert holder["person_id"] == model.people[0].id


def test_popolo_pseudonymised(model):
    popolo = to_popolo(model, pseudonym_key=KEY)
    _check_references(popolo)
    text = json.dumps(popolo, ensure_ascii=False)
    for record in [*model.people, *model.memberships]:
        assert f'"{record.id}"' not in text
    assert {p["id"] for p in popolo["persons"]} == {
        pseudonym(p.id, KEY, prefix="p-") for p in model.people
    }
    assert to_popolo(model, pseudonym_key=KEY) == popolo
