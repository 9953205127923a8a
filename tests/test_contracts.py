"""Shared contracts: errors, types, seeds, reasons, the public surface."""

import importlib
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

import commgov
import commgov.lists
import commgov.matching
import commgov.scheduling
from commgov import _random
from commgov.errors import CommgovError, InputError, InputIssue
from commgov.results import REASONS, Reason
from commgov.types import GeoPoint, TimeWindow

UTC8 = timezone(timedelta(hours=8))


def test_naive_datetimes_refused():
    with pytest.raises(ValidationError):
        TimeWindow(start=datetime(2022, 4, 1, 8), end=datetime(2022, 4, 1, 9))


def test_window_half_open():
    a = TimeWindow(
        start=datetime(2022, 4, 1, 8, tzinfo=UTC8), end=datetime(2022, 4, 1, 9, tzinfo=UTC8)
    )
    b = TimeWindow(
        start=datetime(2022, 4, 1, 9, tzinfo=UTC8), end=datetime(2022, 4, 1, 10, tzinfo=UTC8)
    )
    assert not a.overlaps(b)
    assert not a.contains(b.start)
    with pytest.raises(ValidationError):
        TimeWindow(start=b.end, end=b.start)


def test_geopoint_ranges():
    with pytest.raises(ValidationError):
        GeoPoint(lon=200, lat=0)
    assert GeoPoint(lon=120.6, lat=31.3).distance_m(GeoPoint(lon=120.6, lat=31.3)) == 0


def test_streams_independent_of_other_entities():
    a = _random.rng(7, "people", "p1").random(3)
    assert (a == _random.rng(7, "people", "p1").random(3)).all()
    assert not (a == _random.rng(7, "people", "p2").random(3)).all()
    assert not (a == _random.rng(7, "skills", "p1").random(3)).all()
    with pytest.raises(KeyError):
        _random.rng(7, "nope")


def test_entity_key_is_stable():
    assert _random.entity_key("320508017016") == _random.entity_key("320508017016")
    assert _random.entity_key("a") != _random.entity_key("b")


def test_error_tree():
    err = InputError([InputIssue("b1", "floors", 0, "must be ≥ 1")], what="buildings")
    assert isinstance(err, CommgovError) and isinstance(err, ValueError)
    assert "b1.floors = 0: must be ≥ 1" in str(err)


_PARAM_VALUES = {"skill": "s", "level": 1, "distance_m": 1, "limit_m": 2, "eligible": 3,
                 "residents": 4, "people": 5, "time_limit_s": 6,
                 "category": "food_supplies", "measure": "parcels", "short": 7,
                 "min_level": 11, "slot_load": 12, "slot_capacity": 13, "day_load": 14,
                 "day_capacity": 15, "scope": "compound", "minutes_used": 16,
                 "minutes_budget": 17, "skilled": 18, "tasks": "gate", "alone_min": 19,
                 "demand": 20, "available": 21, "no_capacity": 22, "enrolment": "海棠先锋",
                 "area_m2": "12.5", "min_m2": "20", "volunteer_id": "vol-1",
                 "declined": 23, "parcels": 24, "capacity_parcels": 25}


_ALL_CODES = sorted(REASONS)


@pytest.mark.parametrize("code", _ALL_CODES)
def test_reason_texts_render_in_both_languages(code):
    required, optional = REASONS[code].required, REASONS[code].optional
    for names in (required, required | optional):
        reason = Reason(code=code, params={n: _PARAM_VALUES[n] for n in names})
        for lang in ("en", "zh"):
            text = reason.text(lang)
            assert text and "{" not in text and code not in text
            for n in names:
                shown = str(_PARAM_VALUES[n])
                if lang == "zh" and n == "scope":
                    shown = "小区"  # scope levels are named in Chinese
                assert shown in text


@pytest.mark.parametrize("code", _ALL_CODES)
def test_reason_params_are_checked(code):
    required = REASONS[code].required
    for name in sorted(required):
        params = {n: _PARAM_VALUES[n] for n in required if n != name}
        with pytest.raises(ValueError, match=f"missing {name}"):
            Reason(code=code, params=params)
    with pytest.raises(ValueError, match="unknown colour"):
        Reason(code=code, params={**{n: _PARAM_VALUES[n] for n in required}, "colour": "red"})


#: Packages whose ``__all__`` is the families' lists, one after the other.
_FAMILY_PARENTS = {"commgov.scheduling", "commgov.matching"}


@pytest.mark.parametrize(
    "name",
    [
        "commgov",
        "commgov.org",
        "commgov.datasets",
        "commgov.matching",
        "commgov.scheduling",
        "commgov.io",
        "commgov.lists",
        "commgov.sim",
    ],
)
def test_all_is_sorted_and_resolvable(name):
    """Each ``__all__`` is sorted (a parent of families: family by family) and resolves."""
    module = importlib.import_module(name)

    def isort_style(name: str) -> tuple[int, str]:  # the order ruff's RUF022 keeps
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    if name in _FAMILY_PARENTS:  # built family by family: no name twice
        assert len(set(module.__all__)) == len(module.__all__)
    else:
        assert list(module.__all__) == sorted(module.__all__, key=isort_style)
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.{attr}"


def test_org_does_not_import_solvers():
    import subprocess
    import sys

    code = "import sys, commgov.org; print('ortools' in sys.modules, 'simpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_version():
    assert commgov.__version__.count(".") == 2


def test_input_error_from_validation_names_record_and_field():
    from pydantic import BaseModel, ValidationError

    from commgov.errors import ProblemError
    from commgov.types import Headcount

    class Item(BaseModel):
        id: str
        people: Headcount

    class Box(BaseModel):
        items: list[Item]
        label: str

    data = {"items": [{"id": "a", "people": 1}, {"id": "b", "people": -2}], "label": 3}
    with pytest.raises(ValidationError) as info:
        Box.model_validate(data)
    err = ProblemError.from_validation(info.value, data, record="box", what="boxes")
    assert isinstance(err, ProblemError)
    found = {(i.record, i.field, i.value) for i in err.issues}
    assert found == {("b", "people", -2), ("box", "label", 3)}
    assert str(err).startswith("boxes: 2 problems")


def test_headcount_has_an_upper_bound():
    from pydantic import TypeAdapter, ValidationError

    from commgov.types import MAX_HEADCOUNT, Headcount

    adapter = TypeAdapter(Headcount)
    assert adapter.validate_python(MAX_HEADCOUNT) == MAX_HEADCOUNT
    with pytest.raises(ValidationError):
        adapter.validate_python(MAX_HEADCOUNT + 1)
