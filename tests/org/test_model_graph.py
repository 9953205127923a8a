"""OrgModel JSON round trip and OrgGraph validation and summaries."""

import json
from pathlib import Path

import pytest

from commgov.errors import InputError, OrgStructureError
from commgov.org import (
    AdminArea,
    AdminLevel,
    Building,
    Community,
    Entrance,
    Household,
    HouseholdCounts,
    NeighbourhoodKind,
    NeighbourhoodUnit,
    NodeKind,
    OrgGraph,
    OrgModel,
)
from commgov.org._text import article
from commgov.types import GeoPoint

P = GeoPoint(lon=120.6, lat=31.3)


def small_model(**extra):
    data = dict(
        areas=[
            AdminArea(id="320508", level=AdminLevel.DISTRICT, name="姑苏区", short_name="姑苏区"),
            AdminArea(
                id="320508017",
                level=AdminLevel.SUBDISTRICT,
                name="白洋湾街道",
                short_name="白洋湾街道",
                parent_id="320508",
            ),
        ],
        communities=[
            Community(
                id="320508017016",
                name="虎池苑社区居委会",
                short_name="虎池苑社区",
                parent_id="320508017",
            )
        ],
        units=[
            NeighbourhoodUnit(
                id="c/U1", kind=NeighbourhoodKind.COMPOUND, name="u", parent_id="320508017016"
            ),
            NeighbourhoodUnit(
                id="c/L1", kind=NeighbourhoodKind.LANE, name="l", parent_id="320508017016"
            ),
            NeighbourhoodUnit(
                id="c/L1/Y1", kind=NeighbourhoodKind.COURTYARD, name="y", parent_id="c/L1"
            ),
        ],
        buildings=[
            Building(id="c/U1/B1", label="1幢", parent_id="c/U1", location=P),
            Building(
                id="c/L1/Y1/B1",
                label="1号",
                parent_id="c/L1/Y1",
                location=P,
                counts=HouseholdCounts(households=2, residents=5, mobility_limited=1),
            ),
        ],
        entrances=[
            Entrance(
                id="c/U1/B1/E1",
                label="1单元",
                parent_id="c/U1/B1",
                counts=HouseholdCounts(households=12, residents=30, mobility_limited=0),
            ),
            Entrance(
                id="c/U1/B1/E2",
                label="2单元",
                parent_id="c/U1/B1",
                counts=HouseholdCounts(households=10, residents=20, mobility_limited=2),
            ),
        ],
    )
    data.update(extra)
    return OrgModel(**data)


def test_round_trip_is_byte_identical():
    model = small_model()
    text = model.to_json()
    assert OrgModel.from_json(text).to_json() == text


def test_input_order_does_not_change_json():
    model = small_model()
    shuffled = small_model(
        entrances=list(reversed(model.entrances)), units=list(reversed(model.units))
    )
    assert shuffled.to_json() == model.to_json()


def test_summary_sums_leaves():
    graph = OrgGraph(small_model())
    summary = graph.summary("320508")
    assert summary.counts == HouseholdCounts(households=24, residents=55, mobility_limited=3)
    assert summary.nodes["entrance"] == 2
    assert graph.ancestors("c/L1/Y1/B1") == [
        "c/L1/Y1",
        "c/L1",
        "320508017016",
        "320508017",
        "320508",
    ]
    assert list(graph.descendants("320508017016", NodeKind.BUILDING)) == ["c/L1/Y1/B1", "c/U1/B1"]


def test_structure_errors_are_all_reported():
    model = small_model()
    bad = model.model_copy(
        update={
            "buildings": [
                *model.buildings,
                Building(
                    id="c/X/B9",
                    label="9",
                    parent_id="nowhere",
                    location=P,
                    counts=HouseholdCounts(households=1, residents=1),
                ),
                Building(
                    id="c/B8",
                    label="8",
                    parent_id="320508017016",
                    location=P,
                    counts=HouseholdCounts(households=1, residents=1),
                ),
                Building(id="c/B7", label="7", parent_id="c/U1", location=P),
            ],
        }
    )
    with pytest.raises(OrgStructureError) as info:
        OrgGraph(bad)
    found = {(i.record, i.field) for i in info.value.issues}
    assert found == {("c/X/B9", "parent_id"), ("c/B8", "parent_id"), ("c/B7", "counts")}
    assert "cannot sit in a community" in str(info.value)


def test_duplicate_id_across_collections():
    model = small_model()
    bad = model.model_copy(
        update={
            "units": [
                *model.units,
                NeighbourhoodUnit(
                    id="c/U1/B1", kind=NeighbourhoodKind.LANE, name="dup", parent_id="320508017016"
                ),
            ]
        }
    )
    with pytest.raises(OrgStructureError, match="duplicate id"):
        OrgGraph(bad)


def test_counts_on_building_and_entrances_refused():
    model = small_model()
    b = model.buildings[1].model_copy(update={"counts": HouseholdCounts(households=1, residents=1)})
    bad = model.model_copy(
        update={"buildings": [model.buildings[0], b.model_copy(update={"id": "c/U1/B1"})]}
    )
    with pytest.raises(OrgStructureError, match="counted on the entrances"):
        OrgGraph(bad)


def test_json_errors_name_the_record():
    data = json.loads(small_model().to_json())
    data["buildings"][0]["floors"] = 0
    with pytest.raises(InputError) as info:
        OrgModel.from_data(data)
    (issue,) = info.value.issues
    assert "c/L1/Y1/B1" in issue.record
    assert issue.field == "floors"
    assert issue.value == 0


def test_counts_must_be_consistent():
    with pytest.raises(ValueError, match="residents"):
        HouseholdCounts(households=5, residents=3)


def test_json_schema_exports():
    schema = OrgModel.json_schema()
    assert {"areas", "buildings", "entrances"} <= set(schema["properties"])


def test_json_schema_names_its_dialect():
    schema = OrgModel.json_schema()
    assert next(iter(schema)) == "$schema"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    # 2020-12 keywords, not draft-07 ones: the dialect named is the dialect used
    text = json.dumps(schema)
    assert '"$defs"' in text and '"definitions"' not in text
    schema["$schema"] = "changed"
    assert OrgModel.json_schema()["$schema"].endswith("2020-12/schema")  # a fresh copy


def test_household_records_cannot_exceed_their_leaf():
    from commgov.org import Household

    model = small_model()
    extra = [
        Household(id=f"c/L1/Y1/B1/H{i}", parent_id="c/L1/Y1/B1", residents=1) for i in range(3)
    ]
    with pytest.raises(OrgStructureError) as info:
        OrgGraph(model.model_copy(update={"households": extra}))
    fields = {(i.record, i.field) for i in info.value.issues}
    assert ("c/L1/Y1/B1", "counts.households") in fields


def test_household_mobility_limited_within_residents():
    from commgov.org import Household

    with pytest.raises(ValueError, match="must not exceed residents"):
        Household(id="h", parent_id="e", residents=1, mobility_limited=2)


def test_skill_levels_and_timezones_are_checked():
    from pydantic import ValidationError

    from commgov.org import Person

    with pytest.raises(ValidationError):
        Person(id="p", skills={"delivery": 9})
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        Community(id="1", name="x", short_name="x", parent_id="2", timezone="Not/AZone")


# -- reading the JSON form (fault class: input that is not the model's JSON text) -----------

BAD_JSON = [
    # (input, issue record, issue field, words in the constraint)
    ('{"name": "姑苏"}'.encode("gbk"), "json:line 1", "encoding", "byte offset 10"),
    (b'{\n"name":\n"\xff"}', "json:line 3", "encoding", "byte offset 11 (line 3)"),
    ('{"name": "x"}'.encode("utf-16"), "json:line 1", "encoding", "UTF-16"),
    ('{"name": "x"}'.encode("utf-32-le"), "json:line 1", "encoding", "NUL byte"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "json:line 3", "encoding", "binary"),
    ("hello", "json:line 1", "", "is not valid JSON: Expecting value (line 1, column 1)"),
    ('{"name": "x",\n "areas": [', "json:line 2", "", "(line 2, column 12)"),
    ('{"name": "x"} trailing', "json:line 1", "", "Extra data"),
    ("", "json", "", "is empty"),
    (b"  \n", "json", "", "is empty"),
    ('{"name": NaN}', "json", "", "NaN is not a JSON value"),
    ('{"areas": [{"x": -Infinity}]}', "json", "", "-Infinity is not a JSON value"),
    ('{"name": ' + "1" * 5000 + "}", "json", "", "integer string conversion"),
    ("[" * 100_000 + "]" * 100_000, "json", "", "nested too deeply"),
    ('{"name": "a", "name": "b"}', "json", "name", "appears more than once"),
    (
        '{"areas": [{"id": "320508", "level": "district", "name": "a", "name": "b"}]}',
        "json object with id 320508",
        "name",
        "appears more than once",
    ),
]


@pytest.mark.parametrize(("text", "record", "field", "words"), BAD_JSON)
def test_unreadable_json_is_an_input_error(text, record, field, words):
    with pytest.raises(InputError) as info:
        OrgModel.from_json(text)
    (issue,) = info.value.issues
    assert (issue.record, issue.field) == (record, field)
    assert words in issue.constraint
    assert info.value.what == "organisation model JSON"


@pytest.mark.parametrize("wrap", [str, str.encode, lambda t: bytearray(t.encode())])
def test_round_trip_is_byte_identical_from_text_and_bytes(wrap):
    text = small_model().to_json()
    assert OrgModel.from_json(wrap(text)).to_json() == text
    assert OrgModel.from_json(wrap("\ufeff" + text)).to_json() == text  # a BOM is ignored


def test_load_reads_bytes_and_reports_bad_encoding(tmp_path):
    path = tmp_path / "m.json"
    small_model().save(path)
    assert OrgModel.load(path).to_json() == small_model().to_json()
    path.write_bytes(small_model().to_json().encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        OrgModel.load(path)


@pytest.mark.parametrize("value", [None, 5, {"name": "x"}, ["{}"]])
def test_from_json_of_a_non_text_is_a_type_error(value):
    with pytest.raises(TypeError, match="needs the JSON text as str or bytes"):
        OrgModel.from_json(value)


# -- OrgGraph of something else (fault class: a graph built from a non-model) ---------------

NOT_MODELS = [
    # (value, words in the TypeError message)
    (None, "not NoneType"),
    ({"areas": []}, "OrgModel.from_data(data)"),
    ("{}", "OrgModel.from_json(text)"),
    (b"{}", "OrgModel.from_json(text)"),
    (Path("model.json"), "OrgModel.load(path)"),
    ([], "not list"),
    ("graph", "graph.model"),  # replaced by an OrgGraph below
]


@pytest.mark.parametrize(("value", "words"), NOT_MODELS)
def test_graph_of_a_non_model_is_a_type_error(value, words):
    if value == "graph":
        value = OrgGraph(small_model())
    with pytest.raises(TypeError) as info:
        OrgGraph(value)
    assert "OrgGraph needs a commgov.org.OrgModel" in str(info.value)
    assert words in str(info.value)


# -- merge (fault class: one id standing for two records after a merge) ---------------------


def _area(**changes):
    base = AdminArea(id="320508", level=AdminLevel.DISTRICT, name="姑苏区", short_name="姑苏区")
    return base.model_copy(update=changes)


def _unit(uid="c/U1", **changes):
    base = NeighbourhoodUnit(
        id=uid, kind=NeighbourhoodKind.COMPOUND, name="u", parent_id="320508017016"
    )
    return base.model_copy(update=changes)


MERGES = [
    # (this model, others, expected areas/units after merge with either setting,
    #  expected conflict issues (record, field, value) with on_conflict="error",
    #  expected records after on_conflict="replace")
    (
        OrgModel(areas=[_area()]),
        [OrgModel(areas=[_area()])],
        [],
        [_area()],
    ),
    (
        OrgModel(areas=[_area()], units=[_unit()]),
        [OrgModel(units=[_unit()]), OrgModel(areas=[_area()], units=[_unit("c/U2")])],
        [],
        [_area(), _unit(), _unit("c/U2")],
    ),
    (
        OrgModel(areas=[_area()]),
        [OrgModel(areas=[_area(short_name="姑苏")])],
        [("320508", "short_name", ("姑苏区", "姑苏"))],
        [_area(short_name="姑苏")],
    ),
    (
        OrgModel(units=[_unit()]),
        [OrgModel(units=[_unit(name="v", location=P)])],
        [
            ("c/U1", "name", ("u", "v")),
            ("c/U1", "location", (None, {"lon": 120.6, "lat": 31.3})),
        ],
        [_unit(name="v", location=P)],
    ),
    (
        # the last model wins, and is compared with what stood before it
        OrgModel(areas=[_area()]),
        [OrgModel(areas=[_area(name="a")]), OrgModel(areas=[_area(name="b")])],
        [("320508", "name", ("姑苏区", "a")), ("320508", "name", ("姑苏区", "b"))],
        [_area(name="b")],
    ),
    (
        # one id, two collections
        OrgModel(units=[_unit("320508")]),
        [OrgModel(areas=[_area()])],
        [("320508", "", ("units", "areas"))],
        [_area()],
    ),
]


@pytest.mark.parametrize(("this", "others", "conflicts", "replaced"), MERGES)
def test_merge_dedups_equal_records_and_settles_conflicts(this, others, conflicts, replaced):
    if conflicts:
        with pytest.raises(OrgStructureError) as info:
            this.merge(*others)
        found = [(i.record, i.field, i.value) for i in info.value.issues]
        assert found == conflicts
        assert all("on_conflict='replace'" in i.constraint for i in info.value.issues)
    else:
        assert this.merge(*others) == this.merge(*others, on_conflict="replace")
    assert this.merge(*others, on_conflict="replace").records() == replaced


def test_merge_keeps_duplicates_inside_one_model_for_the_graph_to_report():
    twice = OrgModel(units=[_unit(), _unit(name="other")])
    merged = twice.merge(OrgModel(areas=[_area()]))
    assert [u.id for u in merged.units] == ["c/U1", "c/U1"]


def test_merge_masks_personal_data_in_conflicts():
    from commgov.org import Person

    a = OrgModel(people=[Person(id="p1", name="张三")])
    b = OrgModel(people=[Person(id="p1", name="李四")])
    with pytest.raises(OrgStructureError) as info:
        a.merge(b)
    (issue,) = info.value.issues
    assert (issue.field, issue.value) == ("name", ("<masked>", "<masked>"))
    assert "张三" not in str(info.value) and "李四" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"on_conflict": "ignore"}, InputError, "must be 'error' or 'replace'"),
        ({"on_conflict": None}, InputError, "must be 'error' or 'replace'"),
        ({"other": {"areas": []}}, TypeError, "OrgModel.merge (others[0]) needs"),
        ({"other": "{}"}, TypeError, "OrgModel.from_json(text)"),
    ],
)
def test_merge_arguments_are_checked(kwargs, error, words):
    other = kwargs.pop("other", OrgModel())
    with pytest.raises(error) as info:
        OrgModel().merge(other, **kwargs)
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("dup_of", "words"),
    [
        ("c/U1/B1/E1", "duplicate id (also an entrance)"),
        ("c/U1/B1", "duplicate id (also a building)"),
    ],
)
def test_duplicate_id_message_has_the_right_article(dup_of, words):
    model = small_model()
    bad = model.model_copy(
        update={"households": [Household(id=dup_of, parent_id="c/L1/Y1/B1")]}
    )
    with pytest.raises(OrgStructureError) as info:
        OrgGraph(bad)
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("word", "expected"),
    [("entrance", "an entrance"), ("building", "a building"), ("int", "an int"),
     ("OrgModel", "an OrgModel"), ("unit", "a unit"), ("household", "a household"),
     ("action_branch", "an action_branch"), ("ZoneRegime", "a ZoneRegime"), ("", "a ")],
)  # fmt: skip
def test_article(word, expected):
    assert article(word) == expected


def test_wrong_parent_kind_message_has_the_right_article():
    model = small_model()
    bad = model.model_copy(
        update={"households": [Household(id="h", parent_id="c/U1")]}
    )
    with pytest.raises(OrgStructureError, match="a household cannot sit in a compound"):
        OrgGraph(bad)
    bad = model.model_copy(update={"entrances": [*model.entrances, Entrance(
        id="c/E9", label="9", parent_id="c/U1",
        counts=HouseholdCounts(households=1, residents=1))]})  # fmt: skip
    with pytest.raises(OrgStructureError, match="an entrance cannot sit in a compound"):
        OrgGraph(bad)
