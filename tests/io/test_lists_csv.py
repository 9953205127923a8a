"""CSV import (per-row errors, all or nothing) and formula-safe export of the three lists."""

from datetime import datetime, timedelta, timezone

import pytest

from commgov.io import (
    LIST_COLUMNS,
    MASK,
    TableImportError,
    export_lists,
    import_lists,
    lists_csv_texts,
)
from commgov.lists import (
    Need,
    Project,
    Recurrence,
    Resource,
    Status,
    ThreeLists,
    record_progress,
    transition,
)
from commgov.types import TimeWindow

UTC8 = timezone(timedelta(hours=8))
T0 = datetime(2022, 4, 10, 8, 0, tzinfo=UTC8)

NEED = {
    "id": "n1",
    "title": "groceries",
    "category": "food_supplies",
    "unit_id": "C03",
    "raised_at": "2022-04-10T08:00:00+08:00",
    "recorded_by": "w1",
    "source": "rider",
}
RESOURCE = {
    "id": "r1",
    "title": "carriers",
    "category": "food_supplies",
    "unit_id": "C03",
    "raised_at": "2022-04-10T08:00:00+08:00",
    "recorded_by": "w1",
    "provider_id": "team1",
    "provider_kind": "pioneer_team",
    "resource_type": "people",
}
PROJECT = {
    "id": "p1",
    "title": "relay",
    "category": "food_supplies",
    "unit_id": "C03",
    "raised_at": "2022-04-10T08:00:00+08:00",
    "recorded_by": "w1",
    "lead_org_id": "org1",
    "formation": "self_claimed",
    "need_ids": "n1",
    "resource_ids": "r1",
}


def sample():
    first = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
    n1 = Need(
        id="n1",
        title="=HYPERLINK(1)",
        description="Mrs Wang, 3rd floor, lives alone",
        category="food_supplies",
        unit_id="C03",
        place_id="C03/B12",
        quantity=3,
        measure="parcels",
        window=first,
        priority=5,
        raised_at=T0,
        recorded_by="w1",
        source="rider",
        vulnerability=["living_alone", "elderly"],
        recurrence=Recurrence(freq="weekly", count=4),
    )
    n1 = transition(n1, "claimed", by="w2", at=T0 + timedelta(minutes=1))
    n1 = transition(n1, "in_progress", by="w2", at=T0 + timedelta(minutes=2))
    n1 = record_progress(n1, 2, by="v1", at=T0 + timedelta(minutes=3))
    n2 = Need(
        id="n2",
        title="-medicine run",
        category="medical",
        unit_id="C04",
        raised_at=T0,
        recorded_by="w1",
        source="building_group",
    )
    r1 = Resource(
        id="r1",
        title="carriers",
        category="food_supplies",
        unit_id="C03",
        quantity=40,
        measure="parcels",
        raised_at=T0,
        recorded_by="w1",
        provider_id="team1",
        provider_kind="pioneer_team",
        resource_type="people",
        service_area=["C03/B12", "C03/B02"],
        contact="138 0000 0000",
    )
    p1 = Project(
        id="p1",
        title="relay",
        category="food_supplies",
        unit_id="C03",
        raised_at=T0,
        recorded_by="w1",
        lead_org_id="org1",
        formation="self_claimed",
        need_ids=["n1", "n2"],
        resource_ids=["r1"],
        partner_ids=["biz2", "biz1"],
    )
    return ThreeLists(needs=(n2, n1), resources=(r1,), projects=(p1,))


def test_export_is_formula_safe_sorted_and_masked(tmp_path):
    paths = export_lists(sample(), tmp_path)
    assert [p.name for p in paths] == ["needs.csv", "resources.csv", "projects.csv"]
    needs = (tmp_path / "needs.csv").read_text(encoding="utf-8")
    lines = needs.splitlines()
    assert lines[0] == ",".join(LIST_COLUMNS["needs"])
    assert lines[1].startswith("n1,'=HYPERLINK(1),<masked>,")
    assert lines[2].startswith("n2,'-medicine run,,")
    assert "Wang" not in needs and "living_alone" not in needs
    assert "138" not in (tmp_path / "resources.csv").read_text(encoding="utf-8")
    assert ",in_progress,2," in lines[1]


def test_round_trip_with_personal_data(tmp_path):
    lists = sample()
    export_lists(lists, tmp_path, personal_data=True)
    back = import_lists(
        tmp_path / "needs.csv", tmp_path / "resources.csv", tmp_path / "projects.csv"
    )
    n1 = back.item("n1")
    assert isinstance(n1, Need)
    assert (n1.status, n1.fulfilled, n1.title) == (Status.IN_PROGRESS, 2, "=HYPERLINK(1)")
    assert n1.description == "Mrs Wang, 3rd floor, lives alone"
    assert n1.occurrences() == lists.item("n1").occurrences()
    assert back.item("n2").title == "-medicine run"
    assert lists_csv_texts(back, personal_data=True) == lists_csv_texts(lists, personal_data=True)
    # the imported item continues its lifecycle from the imported status
    n1 = record_progress(n1, 1, by="v1", at=T0 + timedelta(hours=1))
    assert transition(n1, "fulfilled", by="v1", at=T0 + timedelta(hours=2)).fulfilled == 3


def test_masked_export_cannot_be_reimported_silently(tmp_path):
    export_lists(sample(), tmp_path)
    with pytest.raises(TableImportError) as info:
        import_lists(tmp_path / "needs.csv")
    issue = info.value.issues[0]
    assert (issue.table, issue.row, issue.field, issue.value) == (
        "needs",
        2,
        "description",
        MASK,
    )
    assert "personal_data=True" in issue.constraint


def test_rows_of_mappings_and_defaults():
    lists = import_lists([NEED], [RESOURCE], [PROJECT])
    assert lists.item("n1").status is Status.RAISED and lists.item("p1").need_ids == ("n1",)


# table, row overrides, column, shown value, constraint fragment
BAD = [
    ("needs", {"category": "pets"}, "category", "pets", "Input should be"),
    ("needs", {"quantity": "three"}, "quantity", "three", "whole number"),
    ("needs", {"quantity": "0"}, "quantity", "0", "greater than or equal to 1"),
    ("needs", {"raised_at": "2022-04-10 08:00"}, "raised_at", "2022-04-10 08:00", "UTC offset"),
    ("needs", {"raised_at": "yesterday"}, "raised_at", "yesterday", "ISO 8601"),
    ("needs", {"id": "n 1"}, "id", "n 1", "must not contain spaces"),  # and p1's link to n1
    ("needs", {"source": ""}, "source", "", "Field required"),
    ("needs", {"vulnerability": "frail"}, "vulnerability", MASK, "Input should be"),
    ("needs", {"description": "x" * 6000}, "description", MASK, "at most 5000"),
    ("needs", {"status": "done"}, "status", "done", "Input should be"),
    ("needs", {"fulfilled": "5"}, "", "", "initial_fulfilled 5 exceeds quantity 1"),
    (
        "needs",
        {"window_start": "2022-04-10T09:00:00+08:00"},
        "window_start",
        "2022-04-10T09:00:00+08:00",
        "Field required",
    ),
    (
        "needs",
        {"recurrence_freq": "daily"},
        "recurrence_freq",
        "daily",
        "exactly one of count and until",
    ),
    (
        "needs",
        {"recurrence_freq": "hourly", "recurrence_count": "2"},
        "recurrence_freq",
        "hourly",
        "Input should be",
    ),
    ("needs", {"unexpected": "1"}, "unexpected", "unexpected", "is not a column of needs"),
    ("resources", {"contact": "x" * 300}, "contact", MASK, "at most 200"),
    ("resources", {"provider_kind": "army"}, "provider_kind", "army", "Input should be"),
    ("projects", {"need_ids": "n1;n9"}, "need_ids", "n9", "is not on the needs list"),
    ("projects", {"formation": "voted"}, "formation", "voted", "Input should be"),
]


@pytest.mark.parametrize(("table", "change", "column", "value", "constraint"), BAD)
def test_bad_cell_names_table_row_column_value_constraint(
    tmp_path, table, change, column, value, constraint
):
    rows = {"needs": dict(NEED), "resources": dict(RESOURCE), "projects": dict(PROJECT)}
    rows[table].update(change)
    paths = {}
    for name, row in rows.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n", encoding="utf-8")
        paths[name] = path
    with pytest.raises(TableImportError) as info:
        import_lists(paths["needs"], paths["resources"], paths["projects"])
    issues = [i for i in info.value.issues if i.table == table]
    assert len(issues) == 1, info.value.issues
    if column != "id":
        assert len(info.value.issues) == 1, info.value.issues
    (issue,) = issues
    assert issue.table == table
    if column != "unexpected":
        assert (issue.row, issue.record) == (2, f"{table}.csv:row 2")
    assert issue.field == column
    assert issue.value == value
    assert constraint in issue.constraint


def test_every_problem_reported_and_nothing_imported():
    bad = [dict(NEED), dict(NEED, id="n2", quantity="-1"), dict(NEED, id="n1")]
    with pytest.raises(TableImportError) as info:
        import_lists(bad, [RESOURCE], [dict(PROJECT, resource_ids="r1;r7")])
    found = [(i.record, i.field, i.value) for i in info.value.issues]
    assert found == [
        ("needs[1]", "quantity", "-1"),
        ("needs[2]", "id", "n1"),
        ("projects[0]", "resource_ids", "r7"),
    ]
    assert isinstance(info.value, ValueError)


def test_missing_required_column_and_bad_sources(tmp_path):
    row = {k: v for k, v in NEED.items() if k != "recorded_by"}
    with pytest.raises(TableImportError, match=r"recorded_by.*required column"):
        import_lists([row])
    with pytest.raises(TableImportError, match="no such file"):
        import_lists(tmp_path / "nope.csv")
    with pytest.raises(TypeError):
        import_lists(b"id,title")
    assert import_lists() == ThreeLists()


def test_json_rows_may_hold_lists_and_numbers():
    lists = import_lists(
        [dict(NEED, quantity=2)], [RESOURCE], [dict(PROJECT, partner_ids=["b", "a"])]
    )
    assert lists.item("n1").quantity == 2 and lists.item("p1").partner_ids == ("a", "b")


def test_apostrophes_and_separator_in_ids():
    lists = ThreeLists(needs=(Need.model_validate({**NEED, "title": "'=already quoted"}),))
    text = lists_csv_texts(lists)["needs.csv"]
    assert "''=already quoted" in text
    rows = [
        dict(zip(LIST_COLUMNS["needs"], line.split(","), strict=True))
        for line in text.splitlines()[1:]
    ]
    assert import_lists(rows).item("n1").title == "'=already quoted"
    odd = Project.model_validate({**PROJECT, "need_ids": ["a;b"], "resource_ids": []})
    with pytest.raises(ValueError, match="contains ';'"):
        lists_csv_texts(
            ThreeLists(needs=(Need.model_validate({**NEED, "id": "a;b"}),), projects=(odd,))
        )


def test_control_characters_refused():
    with pytest.raises(ValueError, match="one line of text"):
        Need.model_validate({**NEED, "title": "two\nlines"})
    with pytest.raises(ValueError, match="U\\+0000"):
        Need.model_validate({**NEED, "description": "nul\x00"})
    assert Need.model_validate({**NEED, "description": "line one\nline\ttwo"}).description


def test_formats_live_in_io_and_lifecycle_error_in_the_tree():
    import commgov.errors
    import commgov.lists

    for name in ("import_lists", "export_lists", "lists_csv_texts", "LIST_COLUMNS"):
        assert not hasattr(commgov.lists, name)
    assert commgov.lists.LifecycleError is commgov.errors.LifecycleError
    assert issubclass(commgov.errors.LifecycleError, commgov.errors.CommgovError)
    assert issubclass(commgov.errors.LifecycleError, ValueError)
