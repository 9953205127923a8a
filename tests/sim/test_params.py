"""The one base of the simulation's parameter and crew records (GitHub issue 11)."""

import math

import pydantic
import pytest

from commgov.sim import (
    Crew,
    D2DTeam,
    DeskPoint,
    GateBuilding,
    Params,
    RelayGate,
    RelayVolunteer,
    ServiceTime,
    SubmodelParams,
    get_submodel,
)

SUBMODELS = ("door_to_door", "needs", "notification", "queues", "relay")


def _float_fields(cls: type[pydantic.BaseModel]) -> list[str]:
    return [name for name, f in cls.model_fields.items()
            if f.annotation in (float, float | None)]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("make", [
    lambda f: Crew("c", fatigue_per_hour=f),
    lambda f: RelayVolunteer("v", 4, fatigue_per_hour=f),
    lambda f: D2DTeam("t", ("a", "b"), fatigue_per_hour=f),
    lambda f: DeskPoint("P", 1, ServiceTime(1.0), fatigue_per_hour=f),
])
def test_every_crew_record_refuses_non_finite_fatigue(make, bad):
    with pytest.raises(ValueError, match="fatigue_per_hour"):
        make(bad)


@pytest.mark.parametrize("name", SUBMODELS)
def test_every_float_parameter_refuses_nan_and_inf(name):
    cls = get_submodel(name).params
    assert issubclass(cls, SubmodelParams)
    fields = _float_fields(cls)
    assert fields
    for field in fields:
        for bad in (math.nan, math.inf):
            with pytest.raises(pydantic.ValidationError, match=field):
                cls.model_validate({field: bad})


def test_same_concept_same_spelling_and_range():
    """A field shared by several submodels has one type (unit and range) everywhere."""
    seen: dict[str, list[object]] = {}
    for name in SUBMODELS:
        for field, info in get_submodel(name).params.model_fields.items():
            seen.setdefault(field, []).append((info.annotation, info.metadata))
    for field in ("walking_speed_m_per_min", "detour_factor", "fatigue_per_hour",
                  "shift_minutes", "break_minutes", "attrition_per_hour", "duty_from_min",
                  "duty_until_min", "plan_time_limit_s", "stair_minutes_per_floor"):
        assert len(seen[field]) >= 2, field
        if field != "stair_minutes_per_floor":  # per floor climbed: ranges differ by model
            assert all(v == seen[field][0] for v in seen[field]), field


def test_windows_inf_end_allowed_nan_refused():
    assert Crew("c").windows == ((0.0, math.inf),)
    assert Crew("c", ((0.0, 10.0), (20.0, math.inf))).windows[-1] == (20.0, math.inf)
    for bad in (((0.0, math.nan),), ((math.nan, 1.0),), ((math.inf, math.inf),),
                ((5.0, 1.0),), ((0.0, 10.0), (5.0, 20.0))):
        with pytest.raises(ValueError, match="windows"):
            Crew("c", bad)


def test_records_refuse_unknown_fields_and_are_frozen():
    with pytest.raises(ValueError, match="colour"):
        GateBuilding("A", 1.0, 1.0, colour="red")
    gate = RelayGate((GateBuilding("A", 1.0, 1.0),))
    with pytest.raises(pydantic.ValidationError):
        gate.trip_cv = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError, match="positional"):
        GateBuilding("A", 1.0, 1.0, 1.0, 2.0)
    with pytest.raises(TypeError, match="two values"):
        GateBuilding("A", 1.0, walk_m=2.0)


def test_positional_and_keyword_construction_agree():
    assert RelayVolunteer("v", 3, ((0.0, 5.0),), 0.1) == RelayVolunteer(
        id="v", capacity=3, windows=((0.0, 5.0),), fatigue_per_hour=0.1)
    assert isinstance(RelayVolunteer("v"), Crew) and isinstance(D2DTeam("t", ("a",)), Crew)
    assert issubclass(SubmodelParams, Params) and issubclass(Crew, Params)
