"""Whatever the input, the readers raise their InputError (or load), never a raw exception."""

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings, strategies as st

from commgov.errors import DivisionCodeError, InputError
from commgov.org import OrgModel, load_divisions

VALID = (
    "code,name,streetCode,areaCode\n"
    "320508,姑苏区,,\n"
    "320508017,白洋湾街道,,320508\n"
    "320508017016,虎池苑社区居委会,320508017,320508\n"
).encode()

_spliced = st.builds(
    lambda i, extra: VALID[:i] + extra + VALID[i:],
    st.integers(0, len(VALID)),
    st.binary(max_size=5),
)
_cut = st.builds(
    lambda i, j: VALID[:i] + VALID[j:], st.integers(0, len(VALID)), st.integers(0, len(VALID))
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | _spliced | _cut)
def test_any_file_loads_or_raises_division_code_error(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_bytes(data)
        try:
            load_divisions(path)
        except DivisionCodeError as exc:
            assert exc.issues


_keys = st.sampled_from(
    ["code", "name", "parent_code", "provinceCode", "cityCode", "areaCode", "streetCode"]
) | st.text(max_size=4)
_values = (
    st.none()
    | st.integers()
    | st.floats()
    | st.booleans()
    | st.text(max_size=13)
    | st.sampled_from(["320508", "320508017", "320508017016", "32", "3205", "虎池苑社区居委会"])
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.dictionaries(_keys, _values, max_size=5), max_size=5),
    st.none() | st.text(max_size=12) | st.sampled_from(["320508", "320508017"]),
)
def test_any_rows_load_or_raise_division_code_error(rows, within):
    try:
        load_divisions(rows, within=within)
    except DivisionCodeError as exc:
        assert exc.issues


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["name", "areas", "id", "timezone", "level", "schema_version"]),
            inner,
            max_size=3,
        )
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200) | _json_values.map(json.dumps))
def test_any_json_input_loads_or_raises_input_error(data):
    try:
        OrgModel.from_json(data)
    except InputError as exc:
        assert exc.issues
