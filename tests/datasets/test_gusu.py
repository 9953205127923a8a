"""The embedded Gusu dataset: official figures, provenance, exact community detail, determinism."""

import hashlib
import os
import subprocess
import sys

import pytest

from commgov.datasets import HUCHIYUAN, synthetic_community
from commgov.org import OrgGraph, OrgModel, Source


def test_gusu_official_structure(district_graph):
    nodes = district_graph.summary("320508").nodes
    assert (nodes["subdistrict"], nodes["community"], nodes["village"]) == (8, 169, 2)


def test_huchiyuan_in_detail(district, district_graph):
    graph = district_graph
    assert graph.summary(HUCHIYUAN).counts.households == 1765
    pioneers = [
        p for p in district.people if "海棠先锋" in p.enrolments and p.id.startswith(HUCHIYUAN)
    ]
    assert len(pioneers) == 20
    assert graph.record(HUCHIYUAN).provenance.source is Source.OFFICIAL
    assert {b.provenance.source for b in district.buildings} == {Source.SYNTHETIC}


def test_places_inside_gusu_extent(district):
    located = [
        *district.communities,
        *district.units,
        *district.buildings,
        *district.sites,
        *district.people,
    ]
    for record in located:
        assert 120.528 <= record.location.lon <= 120.656, record.id
        assert 31.259 <= record.location.lat <= 31.379, record.id


def test_synthetic_household_count_is_exact():
    for households in (1, 7, 60, 333, 2000):
        model = synthetic_community("320508021024", households=households, seed=3)
        assert OrgGraph(model).summary("320508021024").counts.households == households


def test_unknown_code_gets_synthetic_chain():
    model = synthetic_community("999999999001", households=50, seed=0)
    graph = OrgGraph(model)
    assert graph.ancestors("999999999001") == ["999999999", "999999"]


def test_seed_changes_detail_and_same_seed_repeats():
    a = synthetic_community(HUCHIYUAN, households=200, seed=1).to_json()
    assert a == synthetic_community(HUCHIYUAN, households=200, seed=1).to_json()
    assert a != synthetic_community(HUCHIYUAN, households=200, seed=2).to_json()


def test_round_trip_exact(district):
    text = district.to_json()
    assert OrgModel.from_json(text).to_json() == text


@pytest.mark.slow
def test_same_hash_across_processes_and_hash_seeds(district):
    code = (
        "import hashlib; from commgov.datasets import gusu; "
        "print(hashlib.sha256(gusu().to_json().encode()).hexdigest())"
    )
    digests = set()
    for hash_seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        )
        digests.add(out.stdout.strip())
    digests.add(hashlib.sha256(district.to_json().encode()).hexdigest())
    assert len(digests) == 1


import math  # noqa: E402
from datetime import date, datetime  # noqa: E402

import numpy as np  # noqa: E402

from commgov.errors import InputError  # noqa: E402
from commgov.org import CommunityKind  # noqa: E402


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"code": 320508017016}, "code"),
        ({"code": "32050801701"}, "code"),
        ({"code": "３２０５０８０１７０１６"}, "code"),  # full-width digits
        ({"households": 0}, "households"),
        ({"households": 1.5}, "households"),
        ({"households": "100"}, "households"),
        ({"households": True}, "households"),
        ({"households": 100_001}, "households"),
        ({"volunteers": -1}, "volunteers"),
        ({"volunteers": 2.0}, "volunteers"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.0}, "seed"),
        ({"seed": "0"}, "seed"),
        ({"lane_share": math.nan}, "lane_share"),
        ({"lane_share": 1.5}, "lane_share"),
        ({"lane_share": "0.2"}, "lane_share"),
        ({"mobility_rate": -0.1}, "mobility_rate"),
        ({"sampling_slack": math.inf}, "sampling_slack"),
        ({"sealed_buildings": -1}, "sealed_buildings"),
        ({"sealed_buildings": 1.0}, "sealed_buildings"),
        ({"households": 100, "sealed_buildings": 3}, "sealed_buildings"),
        ({"day": datetime(2022, 4, 12, 6, 30)}, "day"),
        ({"day": "2022-04-12"}, "day"),
        ({"enrolment": ""}, "enrolment"),
    ],
)
def test_bad_parameters_name_the_field(kwargs, field):
    args = {"code": "320508017016", "households": 100, **kwargs}
    code = args.pop("code")
    with pytest.raises(InputError) as info:
        synthetic_community(code, **args)
    assert info.value.issues[0].field == field


def test_numpy_integers_are_accepted():
    a = synthetic_community("320508017016", households=np.int64(60), seed=np.int64(2))
    assert a == synthetic_community("320508017016", households=60, seed=2)
    assert synthetic_community("320508017016", households=60, day=date(2022, 4, 13))


@pytest.mark.parametrize("households", [1, 10, 49])
def test_tiny_community_has_no_sealed_building_by_default(households):
    model = synthetic_community("320508017003", households=households, seed=0)
    assert not model.zones
    assert synthetic_community("320508017003", households=households, seed=0,
                               sealed_buildings=1).zones


def test_most_sealed_buildings_allowed():
    model = synthetic_community("320508017003", households=100, sealed_buildings=2)
    assert len(model.zones[0].targets) == 2


@pytest.mark.parametrize(("suffix", "kind"), [("001", CommunityKind.RESIDENTS),
                                              ("199", CommunityKind.RESIDENTS),
                                              ("200", CommunityKind.VILLAGE),
                                              ("399", CommunityKind.VILLAGE)])
def test_synthetic_kind_follows_code_range(suffix, kind):
    code = "999999999" + suffix
    model = synthetic_community(code, households=20, seed=0)
    community = next(c for c in model.communities if c.id == code)
    assert community.kind is kind
    OrgGraph(model)  # passes validation
