"""Scenarios as data: TOML/JSON round trips, content hash, clear errors, the engine protocol."""

import math

import pytest

from commgov.errors import InputError
from commgov.sim import (
    EventLog,
    Scenario,
    SubmodelParams,
    kpis_frame,
    register_submodel,
    run_replicate,
)

BASE = {
    "name": "t",
    "start": "2022-04-11T19:00:00+08:00",
    "community": {"dataset": "gusu", "seed": 0, "community": "320508017016"},
}


class ToyParams(SubmodelParams):
    mean_min: float = 1.0
    ticks: int = 5


def _toy_kpis(log, ctx, params):
    return {"ticks": float(len(log.where("tick")))}


@register_submodel("test_toy", params=ToyParams, kpis=_toy_kpis)
def _toy(env, ctx, params):
    def proc():
        r = ctx.rng("sim", "a")
        for _ in range(params.ticks):
            yield env.timeout(r.exponential(params.mean_min))
            ctx.log.record(env.now, "tick", "a", value=1.0)
            ctx.log.record(env.now, "volunteer_busy", "P1", actor="test_toy", value=30.0)

    env.process(proc())


def test_toml_json_round_trip_and_hash():
    text = """
name = "t"
start = 2022-04-11T19:00:00+08:00
horizon_min = 60
[community]
community = "320508017016"
[submodels.test_toy]
mean_min = 2
"""
    s = Scenario.from_toml(text)
    assert s.submodels["test_toy"] == {"enabled": True, "mean_min": 2.0, "ticks": 5}
    again = Scenario.from_json(s.to_json())
    assert again == s and again.content_hash == s.content_hash
    # defaults written out or left implicit hash alike
    explicit = Scenario.from_dict({**BASE, "horizon_min": 60.0,
                                   "submodels": {"test_toy": {"mean_min": 2, "ticks": 5,
                                                              "enabled": True}}})
    assert explicit.content_hash == s.content_hash
    assert s.with_updates({"submodels.test_toy.ticks": 6}).content_hash != s.content_hash


def test_from_toml_path(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('name = "p"\nstart = 2022-04-11T19:00:00+08:00\n'
                    'community = { community = "320508017016" }\n', encoding="utf-8")
    assert Scenario.from_toml(path).name == "p"
    assert Scenario.from_toml(str(path)).name == "p"


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"submodels": {"nope": {}}}, "submodels.nope", "unknown submodel"),
        ({"submodels": {"test_toy": {"speed": 1}}}, "submodels.test_toy.speed", "Extra"),
        ({"submodels": {"test_toy": {"ticks": "x"}}}, "submodels.test_toy.ticks", "integer"),
        ({"horizon_min": 0}, "horizon_min", "greater than 0"),
        # an error inside a list keeps its position in the dotted field
        ({"submodels": {"door_to_door": {"seal_buildings": ["b1", 7]}}},
         "submodels.door_to_door.seal_buildings[1]", "string"),
        ({"colour": "red"}, "colour", "Extra"),
        ({"start": "2022-04-11T19:00:00"}, "start", "timezone"),
    ],
)
def test_errors_name_field(extra, field, words):
    with pytest.raises(InputError) as info:
        Scenario.from_dict({**BASE, **extra})
    assert any(i.field == field and words in i.constraint for i in info.value.issues), \
        info.value.issues


def test_bad_toml_and_update():
    with pytest.raises(InputError, match="not valid TOML"):
        Scenario.from_toml("name = ")
    s = Scenario.from_dict(BASE)
    with pytest.raises(InputError, match="no such field"):
        s.with_updates({"horizon": 3})


def test_unknown_dataset_and_community():
    with pytest.raises(InputError, match="dataset"):
        Scenario.from_dict({**BASE, "community": {"dataset": "x", "community": "320508017016"}})
    # an unknown Gusu code is refused when the scenario is built, before any run
    with pytest.raises(InputError, match=r"320508999999.*not one of Gusu's 171"):
        Scenario.from_dict({**BASE, "community": {"community": "320508999999"}})


def test_engine_protocol_kpis_provenance():
    s = Scenario.from_dict({**BASE, "submodels": {"test_toy": {}}})
    r = run_replicate(s, 3, 7)
    assert list(r.kpis) == sorted(r.kpis)
    assert r.kpis["test_toy.ticks"] == 5.0 and r.kpis["events"] == 10.0
    assert r.kpis["volunteer_hours"] == pytest.approx(2.5)
    assert r.provenance.scenario_id == s.content_hash
    assert (r.provenance.replicate, r.provenance.root_seed) == (3, 7)
    assert {"python", "simpy", "numpy", "commgov"} <= set(r.provenance.versions)
    assert isinstance(r.log, EventLog)
    again = run_replicate(s, 3, 7)
    assert again.log.columns() == r.log.columns() and again.kpis == r.kpis
    other = run_replicate(s, 4, 7)
    assert other.log.t_min != r.log.t_min
    off = run_replicate(s.with_updates({"submodels.test_toy.enabled": False}), 3, 7)
    assert "test_toy.ticks" not in off.kpis and off.kpis["events"] == 0.0
    frame = kpis_frame([other, r])
    assert list(frame["replicate"]) == [3, 4]
    assert math.isclose(frame["test_toy.ticks"].sum(), 10.0)


@pytest.mark.parametrize(("replicate", "seed"), [(-1, 0), (0, -2)])
def test_negative_replicate_or_seed(replicate, seed):
    with pytest.raises(InputError):
        run_replicate(Scenario.from_dict(BASE), replicate, seed)
