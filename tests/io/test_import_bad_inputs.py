"""The bad-input table: each malformed import gives its expected error and leaves nothing behind.

Every case starts from a small valid community (``good()``), breaks it in one way, and states
the issue that must be reported: (table, row, column, words of the constraint). Rows are
0-based indexes for row mappings and JSON arrays, spreadsheet rows (header = 1) for CSV files,
``None`` for a whole table or an argument.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from io_helpers import (
    COMMUNITY,
    PLANTED,
    no_personal_data_leaks,  # noqa: F401  (autouse: scans this module)
    write_tables,
)

from commgov.datasets import gusu_divisions, synthetic_community
from commgov.io import MASK, TableImportError, TableIssue, import_community

BASE = gusu_divisions()


def good() -> dict[str, list[dict[str, Any]]]:
    """A valid small community: a compound, a lane with a courtyard, three buildings, …"""
    return {
        "compounds": [
            {"id": "xq1", "code": "03", "name": "虎池苑"},
            {"id": "lane1", "code": "01", "kind": "lane", "name": "一巷"},
            {"id": "yard1", "code": "02", "kind": "院落", "name": "一巷2号院", "parent": "lane1"},
        ],
        "buildings": [
            {
                "id": "b1",
                "code": "12",
                "compound": "xq1",
                "label": "12幢",
                "lon": "120.574",
                "lat": "31.335",
                "floors": "6",
                "has_lift": "否",
            },
            {
                "id": "b2",
                "code": "01",
                "compound": "lane1",
                "label": "1号",
                "lon": "120.575",
                "lat": "31.336",
                "households": "3",
                "residents": "7",
            },
            {
                "id": "b3",
                "code": "01",
                "compound": "yard1",
                "label": "2号院1号",
                "lon": "120.5752",
                "lat": "31.3361",
                "households": "2",
                "residents": "4",
            },
        ],
        "entrances": [
            {
                "id": "e1",
                "code": "1",
                "building": "b1",
                "label": "1单元",
                "households": "12",
                "residents": "30",
                "mobility_limited": "1",
            },
            {
                "id": "e2",
                "code": "2",
                "building": "b1",
                "label": "2单元",
                "households": "12",
                "residents": "28",
            },
        ],
        "households": [
            {
                "id": "h1",
                "code": "301",
                "entrance": "e1",
                "residents": "2",
                "mobility_limited": "1",
                "elderly_alone": "否",
            },
            {"id": "h2", "code": "1", "building": "b2", "residents": "1", "elderly_alone": "是"},
        ],
        "people": [
            {
                "id": "u-17",
                "code": "001",
                "home_household": "h1",
                "roles": "volunteer",
                "skills": "delivery:2",
                "name": PLANTED["name"],
                "availability": "2022-04-10T08:00+08:00/2022-04-10T12:00+08:00",
            },
            {
                "id": "u-18",
                "code": "002",
                "home_building": "b2",
                "roles": "volunteer;rider",
                "name": PLANTED["name_latin"],
            },
        ],
        "sites": [
            {
                "id": "s1",
                "code": "01",
                "compound": "lane1",
                "name": "一巷微阵地",
                "lon": "120.5755",
                "lat": "31.3362",
                "emergency_functions": "sampling_point",
                "lanes": "2",
            },
        ],
        "teams": [
            {
                "id": "t1",
                "code": "01",
                "kind": "volunteer",
                "name": "海棠先锋1队",
                "covers": "b1;b2",
                "covers_compounds": "xq1",
            },
        ],
        "memberships": [
            {
                "id": "m1",
                "code": "001",
                "person": "u-17",
                "team": "t1",
                "role": "leader",
                "title": "队长",
                "start": "2022-03-01",
            },
            {"id": "m2", "code": "002", "person": "u-18", "team": "t1"},
        ],
    }


Tables = dict[str, Any]


@dataclass
class Case:
    name: str
    #: changes the good tables (as rows) in place
    change: Callable[[Tables], Any] = lambda t: None
    #: (table, row, column, words of the constraint) of one expected issue
    expect: tuple[str, int | None, str, str] = ("", None, "", "")
    options: dict[str, Any] = field(default_factory=dict)
    #: write the (changed) tables as files of this format and change the text of one file
    files: str | None = None
    edit_file: Callable[[dict[str, Path]], Any] | None = None
    #: number of issues expected, when it must be exactly that (no cascades)
    count: int | None = None
    base: Any = None


def _set(table: str, row: int, **cells: Any) -> Callable[[Tables], None]:
    def change(t: Tables) -> None:
        t[table][row].update(cells)

    return change


def _drop(table: str, row: int, *columns: str) -> Callable[[Tables], None]:
    def change(t: Tables) -> None:
        for column in columns:
            t[table][row].pop(column, None)

    return change


def _drop_column(table: str, column: str) -> Callable[[Tables], None]:
    def change(t: Tables) -> None:
        for row in t[table]:
            row.pop(column, None)

    return change


def _write(name: str, data: bytes) -> Callable[[dict[str, Path]], None]:
    def edit(paths: dict[str, Path]) -> None:
        paths[name].write_bytes(data)

    return edit


def _append(name: str, text: str) -> Callable[[dict[str, Path]], None]:
    def edit(paths: dict[str, Path]) -> None:
        with paths[name].open("a", encoding="utf-8") as fh:
            fh.write(text)

    return edit


CASES = [
    # -- required cells and columns ---------------------------------------------------------
    Case("empty name", _set("compounds", 0, name=""), ("compounds", 0, "name", "required")),
    Case("blank id", _set("buildings", 1, id="   "), ("buildings", 1, "id", "required")),
    Case(
        "no label column",
        _drop_column("buildings", "label"),
        ("buildings", None, "label", "required column is missing"),
        count=1,
    ),
    Case("no location", _set("sites", 0, lon="", lat=" "), ("sites", 0, "lon", "required")),
    Case(
        "lat without lon",
        _drop("buildings", 0, "lon"),
        ("buildings", 0, "lon", "required"),
        count=1,
    ),
    Case(
        "person lon without lat",
        _set("people", 0, lon="120.57"),
        ("people", 0, "lat", "required with lon"),
    ),
    Case(
        "entrance without households",
        _drop("entrances", 1, "households"),
        ("entrances", 1, "households", "required"),
    ),
    # -- tables, columns and options ----------------------------------------------------------
    Case(
        "unknown table",
        lambda t: t.update(flats=[{"id": "1"}]),
        ("flats", None, "", "unknown table"),
    ),
    Case(
        "unknown column",
        _set("buildings", 0, heigth="30"),
        ("buildings", 0, "heigth", "unknown column"),
    ),
    Case(
        "phone column that Person does not have",
        _set("people", 1, mobile=PLANTED["phone"]),
        ("people", 1, "mobile", "unknown column"),
    ),
    Case(
        "unknown community",
        expect=("", None, "community_id", "no community"),
        options={"community_id": "320508017999"},
    ),
    Case(
        "crs", expect=("", None, "crs", "'wgs84', 'gcj02' or 'bd09'"), options={"crs": "epsg3857"}
    ),
    Case(
        "unknown_columns option",
        expect=("", None, "unknown_columns", "'error' or 'ignore'"),
        options={"unknown_columns": "warn"},
    ),
    Case(
        "mapping of an unknown field",
        expect=("buildings", None, "storeys", "no field"),
        options={"columns": {"buildings": {"storeys": "floors"}}},
    ),
    Case(
        "mapping of an unknown table",
        expect=("flats", None, "", "unknown table"),
        options={"columns": {"flats": {"id": "x"}}},
    ),
    Case(
        "two fields from one column",
        expect=("buildings", None, "label", "feeds one field"),
        options={"columns": {"buildings": {"code": "no", "label": "no"}}},
    ),
    # -- ids and codes ------------------------------------------------------------------------
    Case("repeated id", _set("buildings", 1, id="b1"), ("buildings", 1, "id", "repeats the id")),
    Case(
        "repeated code under one parent",
        _set("entrances", 1, code="1"),
        ("entrances", 1, "code", "codes must differ"),
    ),
    Case(
        "code with a slash",
        _set("buildings", 0, code="12/1"),
        ("buildings", 0, "code", "1-40 letters"),
    ),
    Case(
        "code with a space",
        _set("compounds", 0, code="0 3"),
        ("compounds", 0, "code", "1-40 letters"),
    ),
    Case(
        "id that is a number with a fraction",
        _set("compounds", 0, id=1.5),
        ("compounds", 0, "id", "text or an integer"),
    ),
    Case(
        "person id that is a phone number",
        _drop("people", 1, "code"),
        ("people", 1, "id", "phone or ID-card"),
        options={},
        count=1,
    ),
    Case(
        "person code that is an ID-card number",
        _set("people", 0, code=PLANTED["resident_id"]),
        ("people", 0, "code", "phone or ID-card"),
    ),
    Case(
        "household code that is an ID-card number",
        _set("households", 0, code=PLANTED["resident_id"]),
        ("households", 0, "code", "phone or ID-card"),
    ),
    Case(
        "person id that is a phone number, repeated",
        _set("people", 0, id=PLANTED["phone"]),
        ("people", 1, "id", "repeats the id"),
    ),
    Case(
        "derived id already in the base",
        expect=("compounds", 0, "code", "already holds"),
        change=_set("compounds", 0, code="01"),
        base=lambda: synthetic_community(COMMUNITY, seed=3),
    ),
    # -- references ---------------------------------------------------------------------------
    Case(
        "building in an unknown compound",
        _set("buildings", 0, compound="xq9"),
        ("buildings", 0, "compound", "no row of the compounds table"),
    ),
    Case(
        "entrance of an unknown building",
        _set("entrances", 0, building="b9"),
        ("entrances", 0, "building", "no row of the buildings table"),
    ),
    Case(
        "household in an entrance and a building",
        _set("households", 0, building="b2"),
        ("households", 0, "entrance", "give one of"),
    ),
    Case(
        "household in nothing",
        _drop("households", 1, "building"),
        ("households", 1, "entrance", "required"),
    ),
    Case(
        "person with two homes",
        _set("people", 0, home_building="b2"),
        ("people", 0, "home_household", "give one of"),
    ),
    Case(
        "person at an unknown household",
        _set("people", 0, home_household="h9"),
        ("people", 0, "home_household", "no row of the households table"),
    ),
    Case(
        "courtyard in a compound",
        _set("compounds", 2, parent="xq1"),
        ("compounds", 2, "parent", "must be the id of a lane"),
    ),
    Case(
        "compound in a lane",
        _set("compounds", 0, parent="lane1"),
        ("compounds", 0, "parent", "only a courtyard"),
    ),
    Case(
        "no cascade from a faulty compound",
        _set("compounds", 0, code="a b"),
        ("compounds", 0, "code", "1-40 letters"),
        count=1,
    ),
    # -- values -------------------------------------------------------------------------------
    Case(
        "floors not a number",
        _set("buildings", 0, floors="six"),
        ("buildings", 0, "floors", "valid integer"),
    ),
    Case(
        "floors zero",
        _set("buildings", 0, floors="0"),
        ("buildings", 0, "floors", "greater than or equal to 1"),
    ),
    Case(
        "lift maybe",
        _set("buildings", 0, has_lift="maybe"),
        ("buildings", 0, "has_lift", "valid boolean"),
    ),
    Case(
        "lon and lat swapped",
        _set("buildings", 0, lon="31.335", lat="120.574"),
        ("buildings", 0, "lat", "swapped"),
    ),
    Case(
        "lon not a number",
        _set("buildings", 1, lon="东经120.5"),
        ("buildings", 1, "lon", "finite number"),
    ),
    Case("lat NaN", _set("sites", 0, lat="nan"), ("sites", 0, "lat", "finite number")),
    Case(
        "unknown kind",
        _set("compounds", 0, kind="park"),
        ("compounds", 0, "kind", "Input should be"),
    ),
    Case(
        "negative residents",
        _set("entrances", 0, residents="-3"),
        ("entrances", 0, "residents", "greater than or equal to 0"),
    ),
    Case(
        "fewer residents than households",
        _set("entrances", 1, residents="5"),
        ("entrances", 1, "", "must be at least households"),
    ),
    Case(
        "household of no residents",
        _set("households", 0, residents="0"),
        ("households", 0, "residents", "greater than or equal to 1"),
    ),
    Case(
        "more mobility-limited than residents",
        _set("households", 0, mobility_limited="3"),
        ("households", 0, "", "must not exceed residents"),
    ),
    Case(
        "unknown role",
        _set("people", 0, roles="volunteer;captain"),
        ("people", 0, "roles", "Input should be"),
    ),
    Case(
        "skill level too high",
        _set("people", 0, skills="delivery:9"),
        ("people", 0, "skills", "less than or equal to 5"),
    ),
    Case(
        "skills without levels",
        _set("people", 0, skills="delivery;first_aid"),
        ("people", 0, "skills", "name:level"),
    ),
    Case(
        "naive availability",
        _set("people", 0, availability="2022-04-10T08:00/2022-04-10T12:00"),
        ("people", 0, "availability", "timezone"),
    ),
    Case(
        "availability ending first",
        _set("people", 0, availability="2022-04-10T12:00+08:00/2022-04-10T08:00+08:00"),
        ("people", 0, "availability", "must be after start"),
    ),
    Case(
        "negative lanes",
        _set("sites", 0, lanes="-1"),
        ("sites", 0, "lanes", "greater than or equal to 0"),
    ),
    Case(
        "unknown site function",
        _set("sites", 0, emergency_functions="sampling_point;canteen"),
        ("sites", 0, "emergency_functions", "Input should be"),
    ),
    # -- teams and memberships -------------------------------------------------------------------
    Case(
        "unknown team kind", _set("teams", 0, kind="choir"), ("teams", 0, "kind", "Input should be")
    ),
    Case(
        "team covering an unknown building",
        _set("teams", 0, covers="b1;b7"),
        ("teams", 0, "covers", "no row of the buildings table"),
    ),
    Case(
        "team covering a building twice",
        _set("teams", 0, covers="b1;b1"),
        ("teams", 0, "", "more than once"),
    ),
    Case(
        "membership of a team and an organisation",
        _set("memberships", 0, organisation=f"{COMMUNITY}/PO"),
        ("memberships", 0, "team", "not both"),
    ),
    Case(
        "membership of nothing",
        _drop("memberships", 1, "team"),
        ("memberships", 1, "team", "required"),
    ),
    Case(
        "membership of an unknown person",
        _set("memberships", 1, person="u-99"),
        ("memberships", 1, "person", "no row of the people table"),
    ),
    Case(
        "membership ending before it starts",
        _set("memberships", 0, end="2021-01-01"),
        ("memberships", 0, "", "must not be before start"),
    ),
    Case(
        "membership start that is no date",
        _set("memberships", 0, start="March 2022"),
        ("memberships", 0, "start", "valid date"),
    ),
    Case(
        "membership of an organisation not in the base",
        lambda t: (
            t["memberships"][1].pop("team"),
            t["memberships"][1].update(organisation=f"{COMMUNITY}/PO"),
        ),
        ("memberships", 1, "organisation", "no record has this id"),
    ),
    # -- structure (OrgGraph), traced back to the row -------------------------------------------
    Case(
        "household records beyond the entrance's counts",
        _set("entrances", 0, households="0", residents="0", mobility_limited="0"),
        ("entrances", 0, "households", "household records"),
    ),
    Case(
        "counts on a building with entrances",
        _set("buildings", 0, households="5", residents="9"),
        ("buildings", 0, "households", "counted on the entrances"),
    ),
    Case(
        "counts without residents on a building with entrances",
        _set("buildings", 0, households="24"),
        ("buildings", 0, "households", "counts are on the entrances"),
        count=1,
    ),
    Case(
        "entrance with households but no residents",
        _drop("entrances", 0, "residents"),
        ("entrances", 0, "residents", "required when households is given (12)"),
        count=1,
    ),
    Case(
        "building without entrances with households but no residents",
        _drop("buildings", 1, "residents"),
        ("buildings", 1, "residents", "required when households is given"),
        count=1,
    ),
    *(
        Case(
            f"boolean {column} in {table}",
            _set(table, i, **{column: flag}),
            (table, i, column, "whole number, not a boolean"),
        )
        for table, i, column, flag in [
            ("entrances", 0, "households", True),
            ("entrances", 0, "residents", True),
            ("entrances", 0, "mobility_limited", False),
            ("buildings", 1, "households", True),
            ("buildings", 0, "floors", True),
            ("households", 0, "residents", True),
            ("households", 0, "mobility_limited", False),
        ]
    ),
    Case(
        "building without entrances or counts",
        _drop("buildings", 1, "households", "residents"),
        ("buildings", 1, "households", "no entrances"),
    ),
    Case(
        "household in a building with entrances",
        lambda t: (t["households"][0].pop("entrance"), t["households"][0].update(building="b1")),
        ("households", 0, "building", "only when it has no entrances"),
    ),
    # -- files --------------------------------------------------------------------------------
    Case(
        "missing file",
        files="csv",
        edit_file=lambda p: p["buildings"].unlink(),
        expect=("buildings", None, "path", "no such"),
    ),
    Case(
        "directory instead of a file",
        files="csv",
        edit_file=lambda p: (p["buildings"].unlink(), p["buildings"].mkdir()),
        expect=("buildings", None, "path", "directory"),
    ),
    Case(
        "GBK-encoded file",
        files="csv",
        edit_file=_write("people", f"id,code,name\nu1,001,{PLANTED['name']}\n".encode("gbk")),
        expect=("people", None, "encoding", "not valid UTF-8"),
    ),
    Case(
        "empty file",
        files="csv",
        edit_file=_write("sites", b""),
        expect=("sites", None, "", "is empty"),
    ),
    Case(
        "ragged row",
        files="csv",
        edit_file=_append("compounds", "xq9,09\n"),
        expect=("compounds", 5, "", "has 2 cells"),
    ),
    Case(
        "repeated header column",
        files="csv",
        edit_file=_write("compounds", b"id,code,name,name\nxq1,03,a,b\n"),
        expect=("compounds", None, "name", "appears twice"),
    ),
    Case(
        "unnamed header column",
        files="csv",
        edit_file=_write("compounds", b"id,,name\nxq1,03,a\n"),
        expect=("compounds", None, "column 2", "has no name"),
    ),
    Case(
        "CSV row error is numbered as a spreadsheet shows it",
        files="csv",
        change=_set("buildings", 2, floors="x"),
        expect=("buildings", 4, "floors", "integer"),
    ),
    Case(
        "JSON object instead of an array",
        files="json",
        edit_file=_write("sites", b'{"id": "s1"}'),
        expect=("sites", None, "", "JSON array"),
    ),
    Case(
        "invalid JSON",
        files="json",
        edit_file=_write("people", f'[{{"id": "u1", "name": "{PLANTED["name"]}"'.encode()),
        expect=("people", None, "", "not valid JSON"),
    ),
    Case(
        "JSON row that is not an object",
        files="json",
        edit_file=_write("sites", b'[["s1", "01"]]'),
        expect=("sites", 0, "", "row mapping"),
    ),
    Case(
        "column name that is not text",
        lambda t: t["compounds"][0].update({3: "x"}),
        ("compounds", 0, "3", "column names must be text"),
    ),
]


def _matches(issue: TableIssue, expect: tuple[str, int | None, str, str]) -> bool:
    table, row, column, words = expect
    return (
        issue.table == table
        and issue.row == row
        and issue.field == column
        and words in issue.constraint
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>")
        for p in sorted(folder.rglob("*"))
    }


def test_the_table_has_at_least_forty_cases():
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


def test_the_good_tables_import():
    import_community(good(), base=BASE, community_id=COMMUNITY)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_import(case: Case, tmp_path: Path) -> None:
    tables = good()
    # person u-18 keyed by a phone number: only a problem where the case drops its code
    if case.name.startswith("person id"):
        tables["people"][1]["id"] = tables["memberships"][1]["person"] = PLANTED["phone"]
    case.change(tables)
    base = case.base() if case.base is not None else BASE
    base_json = base.to_json()
    source: dict[str, Any] = tables
    if case.files is not None:
        source = write_tables(tables, tmp_path, case.files)
        if case.edit_file is not None:
            case.edit_file(source)
    given = copy.deepcopy(source)
    before = _snapshot(tmp_path)
    cwd_before = sorted(os.listdir("."))
    options = {"base": base, "community_id": COMMUNITY, **case.options}
    with pytest.raises(TableImportError) as info:
        import_community(source, **options)
    err = info.value
    issues = err.issues
    assert all(isinstance(i, TableIssue) for i in issues)
    assert any(_matches(i, case.expect) for i in issues), "\n".join(
        f"{i.table!r} {i.row!r} {i.field!r} {i.constraint}" for i in issues
    )
    if case.count is not None:
        assert len(issues) == case.count, [str(i) for i in issues]
    # nothing behind: the inputs, the files and the base are as they were
    assert source == given
    assert _snapshot(tmp_path) == before
    assert sorted(os.listdir(".")) == cwd_before
    assert base.to_json() == base_json
    # personal data is masked
    text = str(err) + repr(issues)
    for value in PLANTED.values():
        assert value not in text
    for i in issues:
        if i.table == "people" and i.field in ("name", "id", "code") and "phone" in i.constraint:
            assert i.value == MASK


def test_every_issue_is_reported_not_just_the_first():
    tables = good()
    tables["buildings"][0]["floors"] = "0"
    tables["entrances"][1]["code"] = "1"
    tables["people"][0]["skills"] = "delivery:9"
    tables["sites"][0]["lanes"] = "-1"
    with pytest.raises(TableImportError) as info:
        import_community(tables, base=BASE, community_id=COMMUNITY)
    found = [(i.table, i.row, i.field) for i in info.value.issues]
    assert found == [
        ("buildings", 0, "floors"),
        ("entrances", 1, "code"),
        ("people", 0, "skills"),
        ("sites", 0, "lanes"),
    ]


def test_issues_name_the_callers_columns():
    tables = good()
    for row in tables["buildings"]:
        row["层数"] = row.pop("floors", "")
    tables["buildings"][0]["层数"] = "-2"
    with pytest.raises(TableImportError) as info:
        import_community(
            tables,
            base=BASE,
            community_id=COMMUNITY,
            columns={"buildings": {"floors": "层数"}},
        )
    (issue,) = info.value.issues
    assert (issue.table, issue.row, issue.field, issue.value) == ("buildings", 0, "层数", "-2")
    assert str(issue).startswith("buildings[0].层数 = '-2': ")


def test_sensitive_values_are_masked_in_issues():
    tables = good()
    tables["people"][0]["name"] = ["not", "text", PLANTED["name"]]
    with pytest.raises(TableImportError) as info:
        import_community(tables, base=BASE, community_id=COMMUNITY)
    (issue,) = info.value.issues
    assert (issue.field, issue.value) == ("name", MASK)


def test_json_table_rows_are_numbered_from_zero(tmp_path):
    path = tmp_path / "compounds.json"
    path.write_text(json.dumps([{"id": "a", "name": "A"}, {"id": "b"}]), encoding="utf-8")
    with pytest.raises(TableImportError) as info:
        import_community({"compounds": path}, base=BASE, community_id=COMMUNITY)
    (issue,) = info.value.issues
    assert (issue.record, issue.row, issue.field) == ("compounds.json[1]", 1, "name")


def test_app_ids_survive_save_and_load_and_a_personal_app_id_is_refused() -> None:
    """Every imported record keeps the app's id (provenance.app_id): IdMap.from_model gives
    the import's map back after a JSON round trip; a building id that looks like a phone
    number is refused by name, masked, with nothing imported."""
    from commgov.datasets import gusu_divisions
    from commgov.errors import InputError
    from commgov.io import IdMap, import_community
    from commgov.org import OrgModel

    tables = {
        "compounds": [{"id": "x1", "code": "03", "name": "虎池苑"}],
        "buildings": [{"id": "b7", "code": "12", "compound": "x1", "label": "12幢",
                       "lon": 120.574, "lat": 31.335}],
        "entrances": [{"id": "e1", "code": "2", "building": "b7", "label": "2单元",
                       "households": 24, "residents": 61}],
    }  # fmt: skip
    result = import_community(tables, base=gusu_divisions(), community_id="320508017016")
    again = OrgModel.from_json(result.model.to_json())
    assert IdMap.from_model(again) == result.id_map
    assert IdMap.from_model(again).to_app("320508017016/C03/B12") == "b7"
    bad = {**tables, "buildings": [{**tables["buildings"][0], "id": "13912345678"}],
           "entrances": [{**tables["entrances"][0], "building": "13912345678"}]}  # fmt: skip
    with pytest.raises(InputError) as err:
        import_community(bad, base=gusu_divisions(), community_id="320508017016")
    assert "13912345678" not in str(err.value)
    assert "phone" in str(err.value)
