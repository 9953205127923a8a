"""The embedded Gusu dataset: official figures, provenance, exact community detail, determinism."""

import hashlib
import os
import subprocess
import sys

from commgov.datasets import HUCHIYUAN, gusu, synthetic_community
from commgov.org import OrgGraph, OrgModel, Source


def test_gusu_official_structure():
    graph = OrgGraph(gusu())
    nodes = graph.summary("320508").nodes
    assert (nodes["subdistrict"], nodes["community"], nodes["village"]) == (8, 169, 2)


def test_huchiyuan_in_detail():
    model = gusu()
    graph = OrgGraph(model)
    assert graph.summary(HUCHIYUAN).counts.households == 1765
    pioneers = [p for p in model.people if "海棠先锋" in p.enrolments]
    assert len(pioneers) == 20
    assert graph.record(HUCHIYUAN).provenance.source is Source.OFFICIAL
    assert {b.provenance.source for b in model.buildings} == {Source.SYNTHETIC}


def test_places_inside_gusu_extent():
    model = gusu()
    for record in [*model.buildings, *model.sites]:
        assert 120.528 <= record.location.lon <= 120.656
        assert 31.259 <= record.location.lat <= 31.379


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


def test_round_trip_exact():
    text = gusu().to_json()
    assert OrgModel.from_json(text).to_json() == text


def test_same_hash_across_processes_and_hash_seeds():
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
    digests.add(hashlib.sha256(gusu().to_json().encode()).hexdigest())
    assert len(digests) == 1
