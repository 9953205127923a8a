"""Loading official division codes: real tables, and malformed input reported row by row."""

from pathlib import Path

import pytest

from commgov.errors import DivisionCodeError
from commgov.org import CommunityKind, OrgGraph, load_divisions

DATA = Path(__file__).resolve().parents[1] / "data"
TABLES = [DATA / "suzhou_areas.csv", DATA / "suzhou_streets.csv", DATA / "suzhou_villages.csv"]


def test_suzhou_tables_load_whole():
    model = load_divisions(TABLES)
    assert len(model.areas) == 10 + 118
    assert len(model.communities) == 2248
    OrgGraph(model)  # a valid tree


def test_gusu_slice_has_official_figures():
    model = load_divisions(TABLES, within="320508")
    graph = OrgGraph(model)
    nodes = graph.summary("320508").nodes
    assert nodes == {"community": 169, "subdistrict": 8, "village": 2}
    kinds = sorted(c.kind for c in model.communities)
    assert kinds.count(CommunityKind.VILLAGE) == 2


def test_names_and_vintage_kept():
    model = load_divisions(TABLES, within="320508017", vintage="2023")
    hcy = next(c for c in model.communities if c.id == "320508017016")
    assert (hcy.name, hcy.short_name, hcy.vintage) == ("虎池苑社区居委会", "虎池苑社区", "2023")
    assert hcy.provenance.source == "official"


BAD_ROWS = [
    ({"code": "32050", "name": "x"}, "code", "must be 6, 9 or 12 digits"),
    ({"code": "32050801701x", "name": "x"}, "code", "digits only"),
    ({"code": "320508099001", "name": "x"}, "code", "parent 320508099 is not in the table"),
    ({"code": "320508017", "name": "dup"}, "code", "duplicate"),
    ({"code": "320508017099", "name": "x", "streetCode": "320508018"}, "streetCode", "contradicts"),
    ({"code": "320508017098", "name": ""}, "name", "must not be empty"),
]


@pytest.mark.parametrize(("row", "field", "message"), BAD_ROWS)
def test_bad_row_is_named_and_nothing_loads(row, field, message):
    rows = [
        {"code": "320508", "name": "姑苏区"},
        {"code": "320508017", "name": "白洋湾街道"},
        row,
    ]
    with pytest.raises(DivisionCodeError) as info:
        load_divisions(rows)
    (issue,) = info.value.issues
    assert issue.record == "rows[2]"
    assert issue.field == field
    assert message in issue.constraint


def test_every_bad_row_is_reported(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "code,name,streetCode\n320508,姑苏区,\n12345,x,\n320508017001,y,320508017\n",
        encoding="utf-8",
    )
    with pytest.raises(DivisionCodeError) as info:
        load_divisions(path)
    records = [i.record for i in info.value.issues]
    assert records == ["bad.csv:row 3", "bad.csv:row 4"]


def test_missing_columns_is_an_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,title\n1,2\n", encoding="utf-8")
    with pytest.raises(DivisionCodeError, match="needs columns code and name"):
        load_divisions(path)
