"""Loading official division codes: real tables, and malformed input reported row by row."""

from pathlib import Path

import pytest

from commgov.errors import DivisionCodeError
from commgov.org import CommunityKind, OrgGraph, load_divisions, short_name

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


# -- community kind (fault class: a kind that depends on one spelling of the suffix) --------

R, V = CommunityKind.RESIDENTS, CommunityKind.VILLAGE
KINDS = [
    # (name, village part of the code, kind, short name); codes in 001-199 read "residents"
    # and 200-399 "village" when the name tells nothing, so each suffix is tried against
    # the opposite range, where only the name can give the right answer
    ("虎池苑社区居委会", "216", R, "虎池苑社区"),
    ("湖景花园社区居民委员会", "216", R, "湖景花园社区"),
    ("孙武花园社区居民委会", "216", R, "孙武花园社区"),  # sic, in the official table
    ("东街居民委员会", "216", R, "东街社区"),
    ("东街居委会", "216", R, "东街社区"),
    ("新材料产业园社区", "216", R, "新材料产业园社区"),
    ("苏州高新区综合保税区虚拟社区", "216", R, "苏州高新区综合保税区虚拟社区"),
    ("梅巷村委会", "016", V, "梅巷村"),
    ("十一圩港村村民委员会", "016", V, "十一圩港村"),
    ("石家务村民委员会", "016", V, "石家务村"),
    ("西村村委会", "016", V, "西村"),
    ("北高岭村村委会", "016", V, "北高岭村"),
    ("梅花村民委会", "016", V, "梅花村"),
    ("梅花村", "016", V, "梅花村"),
    ("王村社区", "216", R, "王村社区"),  # the last word decides
    (" 梅巷村委会 ", "016", V, "梅巷村"),
    # no committee suffix: the code's range decides
    ("福山原种场生活区", "016", R, "福山原种场生活区"),
    ("福山原种场生活区", "216", V, "福山原种场生活区"),
]


@pytest.mark.parametrize(("name", "number", "kind", "short"), KINDS)
def test_community_kind_and_short_name_from_any_committee_suffix(name, number, kind, short):
    rows = [
        {"code": "320508", "name": "姑苏区"},
        {"code": "320508017", "name": "白洋湾街道"},
        {"code": f"320508017{number}", "name": name},
    ]
    (community,) = load_divisions(rows).communities
    assert (community.kind, community.short_name) == (kind, short)
    assert community.name == name.strip()


def test_official_suffixes_agree_with_kinds_in_all_of_suzhou():
    model = load_divisions(TABLES)
    kinds = {c.kind for c in model.communities if c.name.endswith(("村委会", "村民委员会"))}
    assert kinds == {CommunityKind.VILLAGE}
    kinds = {c.kind for c in model.communities if c.name.endswith(("居委会", "居民委员会"))}
    assert kinds == {CommunityKind.RESIDENTS}
    assert sum(c.kind is CommunityKind.VILLAGE for c in model.communities) == 935
    assert all(c.short_name.endswith(("社区", "村", "生活区")) for c in model.communities)


@pytest.mark.parametrize(
    ("name", "short"),
    [("白洋湾街道办事处", "白洋湾街道"), ("办事处", "办事处"), ("姑苏区", "姑苏区"), ("", "")],
)
def test_short_name_of_other_divisions(name, short):
    assert short_name(name) == short


def test_short_name_needs_a_str():
    with pytest.raises(TypeError, match="name must be a str"):
        short_name(None)


WITHIN = [
    # (within, words in the constraint)
    ("320599", "is not a code in the table"),
    ("320508099", "is not a code in the table"),
    ("320508017999", "codes of that level with the same parent: 320508017003"),
    ("320504", "codes of that level with the same parent: 320505, 320506, 320507"),
    ("3205", "must be a 6-, 9- or 12-digit code"),
    ("32050801", "must be a 6-, 9- or 12-digit code"),
    ("", "must be a 6-, 9- or 12-digit code"),
    (" 320508", "must be a 6-, 9- or 12-digit code"),
    ("姑苏区", "must be a 6-, 9- or 12-digit code"),
]


@pytest.mark.parametrize(("within", "words"), WITHIN)
def test_unknown_within_is_an_error_not_an_empty_model(within, words):
    with pytest.raises(DivisionCodeError) as info:
        load_divisions(TABLES, within=within)
    (issue,) = info.value.issues
    assert (issue.record, issue.field, issue.value) == ("load_divisions", "within", within)
    assert words in issue.constraint


def test_within_is_checked_together_with_the_rows():
    rows = [{"code": "320508", "name": "姑苏区"}, {"code": "32050801", "name": "x"}]
    with pytest.raises(DivisionCodeError) as info:
        load_divisions(rows, within="3205")
    assert [i.field for i in info.value.issues] == ["code", "within"]


@pytest.mark.parametrize("within", [320508, b"320508", ["320508"]])
def test_within_of_the_wrong_type_is_a_type_error(within):
    with pytest.raises(TypeError, match="within must be a str code"):
        load_divisions([{"code": "320508", "name": "姑苏区"}], within=within)


def test_within_a_district_a_subdistrict_or_a_community():
    for within, n_areas, n_communities in [
        ("320508", 9, 171),
        ("320508017", 2, 14),
        ("320508017016", 2, 1),
    ]:
        model = load_divisions(TABLES, within=within)
        assert (len(model.areas), len(model.communities)) == (n_areas, n_communities), within


BAD_ROWS = [
    ({"code": "32050", "name": "x"}, "code", "must be 6, 9 or 12 digits"),
    ({"code": "32050801701x", "name": "x"}, "code", "digits only"),
    ({"code": "320508099001", "name": "x"}, "code", "parent 320508099 is not in the table"),
    ({"code": "320508017", "name": "dup"}, "code", "duplicate"),
    ({"code": "320508017099", "name": "x", "streetCode": "320508018"}, "streetCode", "contradicts"),
    ({"code": "320508017098", "name": ""}, "name", "must not be empty"),
    ({"code": " ", "name": "x"}, "code", "must not be empty"),
    ({"code": None, "name": "x"}, "code", "must not be empty"),
    ({"code": "320508017098", "name": float("nan")}, "name", "must be a str, not a float"),
    ({"code": "320508017098", "name": ["a"]}, "name", "must be a str, not a list"),
    ({"code": "320508017098", "name": b"x"}, "name", "must be a str, not a bytes"),
    ({"code": "320508017098", "name": 7}, "name", "must be a str, not an int"),
    ({"code": "320508017098", "name": True}, "name", "must be a str, not a bool"),
    ({"code": "320508017098", "name": {"zh": "x"}}, "name", "must be a str, not a dict"),
    ({"code": "320508017098", "name": "虎池苑\n社区"}, "name", "control characters (found U+000A)"),
    ({"code": "320508017098", "name": "a\tb"}, "name", "U+0009"),
    ({"code": "320508017098", "name": "a\x00b"}, "name", "U+0000"),
    ({"code": "320508017098", "name": "a\u200bb"}, "name", "U+200B"),
    ({"code": "320508017098", "name": "a\u2028b"}, "name", "U+2028"),
    ({"code": "320508017098", "name": "a\x7fb"}, "name", "U+007F"),
    ({"code": float("nan"), "name": "x"}, "code", "must be a str, not a float"),
    ({"code": 320508017098.0, "name": "x"}, "code", "must be a str, not a float"),
    ({"code": b"320508017098", "name": "x"}, "code", "must be a str, not a bytes"),
    ({"code": True, "name": "x"}, "code", "must be a str, not a bool"),
    ({"code": "320508017098", "name": "x", "streetCode": 3.2e8}, "streetCode", "not a float"),
]


def test_a_code_given_as_an_int_is_read_by_its_digits():
    rows = [{"code": 320508, "name": "姑苏区"}, {"code": 320508017, "name": "白洋湾街道"}]
    assert [a.id for a in load_divisions(rows).areas] == ["320508", "320508017"]


def test_a_name_with_a_newline_in_a_csv_file_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text('code,name\n320508,姑苏区\n320508017,"白洋湾\n街道"\n', encoding="utf-8")
    with pytest.raises(DivisionCodeError) as info:
        load_divisions(path)
    (issue,) = info.value.issues
    assert (issue.record, issue.field) == ("bad.csv:row 3", "name")
    assert "control characters" in issue.constraint


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


# -- ancestor columns (fault class: an ancestor code inconsistent with the row's code) -------

ANCESTORS = [
    # (code, ancestor column, value, words in the constraint); each row is otherwise valid
    # immediate parent of the right level, but another one
    ("320508017099", "streetCode", "320508018", "contradicts the code's prefix 320508017"),
    ("320508017099", "parent_code", "320508018", "contradicts the code's prefix 320508017"),
    ("320508017", "areaCode", "320505", "contradicts the code's prefix 320508"),
    ("320508017", "parent_code", "320505", "contradicts the code's prefix 320508"),
    ("320508", "cityCode", "3206", "contradicts the code's prefix 3205"),
    ("320508017099", "areaCode", "320505", "contradicts the code's prefix 320508"),
    ("320508017099", "provinceCode", "33", "contradicts the code's prefix 32"),
    # a true prefix, but not the level the column holds
    ("320508017099", "streetCode", "320508", "must be the township-level sub-district code"),
    ("320508017099", "streetCode", "32050801", "320508017 (9 digits)"),
    ("320508017099", "parent_code", "320508", "must be the immediate parent"),
    ("320508017099", "parent_code", "32", "320508017 (9 digits)"),
    ("320508017", "parent_code", "3205", "county-level district code 320508 (6 digits)"),
    ("320508017", "areaCode", "3205", "must be the county-level district code 320508"),
    ("320508017", "cityCode", "32", "must be the city code 3205 (4 digits)"),
    ("320508017", "provinceCode", "3205", "must be the province code 32 (2 digits)"),
    ("320508", "parent_code", "32", "must be the immediate parent, the city code 3205"),
    # the row's own level or below: not an ancestor at all
    ("320508017099", "streetCode", "320508017099", "320508017 (9 digits)"),
    ("320508017", "streetCode", "320508017", "not above a 9-digit"),
    ("320508017", "parent_code", "320508017", "must be the immediate parent"),
    ("320508", "areaCode", "320508", "not above a 6-digit"),
    # not a code
    ("320508017099", "streetCode", "32050801x", "must be the township-level sub-district code"),
    ("320508017099", "streetCode", "３２０５０８０１７", "320508017 (9 digits)"),
]


@pytest.mark.parametrize(("code", "column", "value", "words"), ANCESTORS)
def test_ancestor_column_must_be_the_codes_prefix_of_its_level(code, column, value, words):
    rows = [
        {"code": "320508", "name": "姑苏区"},
        {"code": "320508017", "name": "白洋湾街道"},
        {"code": "320508017099", "name": "x社区居委会"},
    ]
    rows = [r for r in rows if r["code"] != code] + [{"code": code, "name": "y", column: value}]
    with pytest.raises(DivisionCodeError) as info:
        load_divisions(rows)
    (issue,) = info.value.issues
    assert (issue.record, issue.field, issue.value) == ("rows[2]", column, value)
    assert words in issue.constraint


def test_every_ancestor_column_is_checked_in_files(tmp_path):
    path = tmp_path / "villages.csv"
    path.write_text(
        "code,name,streetCode,provinceCode,cityCode,areaCode\n"
        "320508017016,a,320508017,32,3205,320508\n"  # the official shape: fine
        "320508017017,b,320508,32,3205,320508\n"
        "320508017018,c,320508017,32,3205,3205\n"
        "320508017019,d,320508017,32,3206,320508\n"
        "320508017020,e,320508017,,,\n",  # empty cells: not given, fine
        encoding="utf-8",
    )
    with pytest.raises(DivisionCodeError) as info:
        load_divisions(path)
    found = [(i.record, i.field) for i in info.value.issues if i.field != "code"]
    assert found == [
        ("villages.csv:row 3", "streetCode"),
        ("villages.csv:row 4", "areaCode"),
        ("villages.csv:row 5", "cityCode"),
    ]


def test_children_of_a_faulty_parent_are_not_reported_again():
    rows = [
        {"code": "320508", "name": "姑苏区"},
        {"code": "320508017", "name": ""},
        {"code": "320508017016", "name": "虎池苑社区居委会"},
    ]
    with pytest.raises(DivisionCodeError) as info:
        load_divisions(rows)
    assert [(i.record, i.field) for i in info.value.issues] == [("rows[1]", "name")]


# -- reading files: encoding (fault class: bytes that are not UTF-8 text) --------------------

UTF8_TABLE = "code,name\n320508,姑苏区\n320508017,白洋湾街道\n"

ENCODINGS = [
    # (file bytes, issue record, byte offset in the constraint, hint in the constraint)
    ("code,name\n320508,姑苏区\n".encode("gbk"), "t.csv:line 2", "byte offset 17", "GB18030"),
    (
        "code,name\n320508,姑苏区\n320508017,白洋湾街道\n".encode("gb18030"),
        "t.csv:line 2",
        "byte offset 17",
        "GB18030",
    ),
    (
        UTF8_TABLE.encode() + "320508017016,虎池苑社区居委会\n".encode("gbk"),
        "t.csv:line 4",
        f"byte offset {len(UTF8_TABLE.encode()) + 13}",
        "save the file as",  # UTF-8 then GBK: the file as a whole is neither
    ),
    (
        b"\xef\xbb\xbf" + "code,name\n320508,姑苏区\n".encode("gbk"),
        "t.csv:line 2",
        "byte offset 20",  # offsets count the BOM: they are offsets in the file
        "GB18030",
    ),
    (b"code,name\n320508,\xff\xfe\xff\n", "t.csv:line 2", "byte offset 17", "save the file as"),
    (b"PK\x03\x04\x14\x00\x06\x00", "t.csv:line 1", "byte offset 5", "binary"),
    (b"code,name\n320508,\x00\x00\n", "t.csv:line 2", "byte offset 17", "binary"),
    ("code,name\n320508,姑苏区\n".encode("utf-16"), "t.csv:line 1", "byte offset 0", "UTF-16"),
    ("code,name\n320508,姑苏区\n".encode("utf-16-be"), "t.csv:line 1", "byte offset 0", "binary"),
]


@pytest.mark.parametrize(("data", "record", "offset", "hint"), ENCODINGS)
def test_file_not_utf8_names_file_line_offset_and_encoding(tmp_path, data, record, offset, hint):
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    with pytest.raises(DivisionCodeError) as info:
        load_divisions(path)
    (issue,) = info.value.issues
    assert (issue.record, issue.field) == (record, "encoding")
    assert offset in issue.constraint
    assert hint in issue.constraint
    assert "UTF-8" in issue.constraint


@pytest.mark.parametrize(
    "data",
    [
        "\ufeffcode,name\n320508,姑苏区\n".encode(),
        "\ufeffcode,name\r\n320508,姑苏区\r\n".encode(),
        "code,name\r\n320508,姑苏区\r\n\r\n".encode(),
        "\n\ncode,name\n\n320508,姑苏区\n,\n".encode(),
        " code , name \n320508, 姑苏区 \n".encode(),
    ],
    ids=["bom", "bom-crlf", "crlf-trailing-blank", "blank-lines", "padded-header"],
)
def test_bom_line_endings_and_blank_lines_are_accepted(tmp_path, data):
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    (area,) = load_divisions(path).areas
    assert (area.id, area.name) == ("320508", "姑苏区")


def test_bom_in_mapping_keys_is_accepted():
    # rows read with encoding="utf-8" instead of "utf-8-sig" keep the BOM in the first key
    (area,) = load_divisions([{"\ufeffcode": "320508", "name": "姑苏区"}]).areas
    assert area.id == "320508"


def test_encoding_error_in_one_file_is_reported_with_the_other_files_problems(tmp_path):
    (tmp_path / "a.csv").write_bytes("code,name\n320508,姑苏区\n".encode("gbk"))
    (tmp_path / "b.csv").write_text("code,name\n3205080,x\n", encoding="utf-8")
    with pytest.raises(DivisionCodeError) as info:
        load_divisions([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert [(i.record, i.field) for i in info.value.issues] == [
        ("a.csv:line 2", "encoding"),
        ("b.csv:row 2", "code"),
    ]


# -- table structure (fault class: a header or row that does not fit the format) -----------

STRUCTURE = [
    # (file text, [(record, field, words in the constraint), ...])
    ("", [("t.csv", "", "is empty")]),
    ("\n  \n\n", [("t.csv", "", "is empty")]),
    (",,\n", [("t.csv", "", "is empty")]),
    ("code,name\n", [("t.csv", "", "has a header but no rows")]),
    ("code,name\n\n,\n", [("t.csv", "", "has a header but no rows")]),
    (
        "code,name,name\n320508,a,b\n",
        [("t.csv:header", "name", "appears 2 times (columns 2, 3)")],
    ),
    (
        "code,code,name,areaCode,areaCode\n1,1,a,2,2\n",
        [
            ("t.csv:header", "code", "appears 2 times (columns 1, 2)"),
            ("t.csv:header", "areaCode", "appears 2 times (columns 4, 5)"),
        ],
    ),
    ("code,name,level\n320508,a,1\n", [("t.csv:header", "level", "unknown column")]),
    ("code,name,\n320508,a,\n", [("t.csv:header", "column 3", "has no name")]),
    (
        "code,name,street_code\n320508,a,1\n",
        [("t.csv:header", "street_code", "did you mean 'streetCode'")],
    ),
    (
        "code,Name\n320508,a\n",
        [
            ("t.csv:header", "Name", "did you mean 'name'"),
            ("t.csv:header", "name", "required column is missing"),
        ],
    ),
    (
        "id,title\n1,2\n",
        [
            ("t.csv:header", "id", "unknown column"),
            ("t.csv:header", "title", "unknown column"),
            ("t.csv:header", "code", "required column is missing"),
            ("t.csv:header", "name", "required column is missing"),
        ],
    ),
    ("name\n姑苏区\n", [("t.csv:header", "code", "required column is missing")]),
    (
        "code,name\n320508,姑苏区,3205\n320505,虎丘区\n",
        [("t.csv:row 2", "", "has 3 cells, the header has 2 columns")],
    ),
    (
        "code,name,cityCode\n320508,姑苏区,3205\n320508017\n",
        [("t.csv:row 3", "", "has 1 cell, the header has 3 columns")],
    ),
    ('code,name\n320508,"姑苏区\n', [("t.csv:line 2", "", "is not valid CSV")]),
    ('code,name\n320508,"姑苏"区\n', [("t.csv:line 2", "", "is not valid CSV")]),
]


@pytest.mark.parametrize(("text", "expected"), STRUCTURE)
def test_table_structure_errors_name_the_column(tmp_path, text, expected):
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DivisionCodeError) as info:
        load_divisions(path)
    found = [(i.record, i.field, i.constraint) for i in info.value.issues]
    assert len(found) == len(expected), found
    for (record, field, constraint), (want_record, want_field, words) in zip(
        found, expected, strict=True
    ):
        assert (record, field) == (want_record, want_field)
        assert words in constraint


MAPPING_ROWS = [
    # (row after a valid district, [(field, words in the constraint), ...])
    ({"code": "320508017", "name": "x", "level": 2}, [("level", "unknown column")]),
    ({"code": "320508017", "name": "x", 7: "y"}, [("7", "unknown column")]),
    ({"code": "320508017", "name": "x", "code ": "1"}, [("code", "field given twice")]),
    ({"name": "x"}, [("code", "required field is missing")]),
    ({"code": "320508017"}, [("name", "required field is missing")]),
    (
        {"code": "320508017", "name": "x", "areacode": "320508"},
        [("areacode", "did you mean 'areaCode'")],
    ),
]


@pytest.mark.parametrize(("row", "expected"), MAPPING_ROWS)
def test_mapping_rows_with_unknown_or_missing_keys(row, expected):
    with pytest.raises(DivisionCodeError) as info:
        load_divisions([{"code": "320508", "name": "姑苏区"}, row])
    found = [(i.record, i.field, i.constraint) for i in info.value.issues]
    assert [(r, f) for r, f, _ in found] == [("rows[1]", f) for f, _ in expected]
    for (_, _, constraint), (_, words) in zip(found, expected, strict=True):
        assert words in constraint


# -- the source argument (fault class: a source that is not a table) ----------------------


class _FrameLike:
    columns = ("code", "name")

    def iterrows(self):  # pragma: no cover - never called
        return iter(())

    def __iter__(self):
        return iter(self.columns)


WRONG_TYPES = [
    ({"code": "320508", "name": "姑苏区"}, "not a single mapping: wrap one row in a list"),
    (b"/data/suzhou_areas.csv", "not bytes"),
    (bytearray(b"x.csv"), "not bytearray"),
    (320508, "not int"),
    (None, "not NoneType"),
    ([b"x.csv"], "item 0 must be a path (str or os.PathLike) or a row mapping, not bytes"),
    ([{"code": "320508", "name": "x"}, 5], "item 1 must be a path"),
    (_FrameLike(), "df.to_dict('records')"),
]


@pytest.mark.parametrize(("source", "words"), WRONG_TYPES)
def test_wrong_source_type_is_a_type_error_saying_what_is_expected(source, words):
    with pytest.raises(TypeError) as info:
        load_divisions(source)
    assert words in str(info.value)
    assert "path" in str(info.value)


@pytest.mark.parametrize(("name", "value"), [("vintage", 2023), ("reference", None)])
def test_wrong_keyword_type_is_a_type_error(name, value):
    with pytest.raises(TypeError, match=f"{name} must be a str"):
        load_divisions([{"code": "320508", "name": "x"}], **{name: value})


def test_unreadable_sources_are_input_errors(tmp_path):
    missing = tmp_path / "missing.csv"
    good = tmp_path / "good.csv"
    good.write_text("code,name\n320508,姑苏区\n", encoding="utf-8")
    cases = [
        # (source, [(record, field, words in the constraint), ...])
        (missing, [("source", "path", "no such file")]),
        (str(missing), [("source", "path", "no such file")]),
        (tmp_path, [("source", "path", "is a directory")]),
        ("code,name\n320508,姑苏区\n", [("source", "path", "this looks like CSV text")]),
        (
            [good, missing, tmp_path],
            [
                ("source[1]", "path", "no such file"),
                ("source[2]", "path", "is a directory"),
            ],
        ),
        ([], [("source", "", "holds no rows")]),
        (iter([]), [("source", "", "holds no rows")]),
    ]
    for source, expected in cases:
        with pytest.raises(DivisionCodeError) as info:
            load_divisions(source)
        found = [(i.record, i.field, i.constraint) for i in info.value.issues]
        assert [(r, f) for r, f, _ in found] == [(r, f) for r, f, _ in expected], source
        for (_, _, constraint), (_, _, words) in zip(found, expected, strict=True):
            assert words in constraint
        assert isinstance(info.value, ValueError)  # callers catching ValueError keep working


def test_within_keeps_ancestors_so_the_tree_validates():
    from commgov.org import OrgGraph

    model = load_divisions(TABLES, within="320508017")
    ids = {r.id for r in [*model.areas, *model.communities]}
    assert {"320508", "320508017", "320508017016"} <= ids
    assert not any(i.startswith("320508018") for i in ids)
    assert not any(len(i) == 6 and i != "320508" for i in ids)
    OrgGraph(model)
