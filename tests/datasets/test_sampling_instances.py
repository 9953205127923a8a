"""Seeded sampling benchmark instances (issue 5 item 9): determinism, sizes, shares, validity."""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys

import pytest

from commgov.datasets import SAMPLING_TIERS, sampling_instance
from commgov.errors import InputError
from commgov.org import ZoneRegime
from commgov.scheduling import SamplingProblem, reach_limit_m, slot_capacity, walk_distance_m


def _hash(problem: SamplingProblem) -> str:
    return hashlib.sha256(problem.model_dump_json().encode()).hexdigest()


def _people(p: SamplingProblem) -> int:
    return sum(k.people for b in p.buildings for k in b.batches) + sum(
        b.mobility_limited for b in p.buildings)


def _walk_in(p: SamplingProblem) -> int:
    return sum(k.people for b in p.buildings if b.zone != ZoneRegime.SEALED for k in b.batches)


@pytest.mark.parametrize("tier", ["C", "S"])
def test_same_seed_same_json(tier):
    assert _hash(sampling_instance(tier, 3)) == _hash(sampling_instance(tier, 3))
    assert _hash(sampling_instance(tier, 3)) != _hash(sampling_instance(tier, 4))


def test_same_json_in_another_process():
    code = ("import hashlib; from commgov.datasets import sampling_instance; "
            "print(hashlib.sha256(sampling_instance('C', 1).model_dump_json().encode())"
            ".hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONHASHSEED": "123"})
    assert out.stdout.strip() == _hash(sampling_instance("C", 1))


@pytest.mark.parametrize("tier", ["C", "S"])
@pytest.mark.parametrize("seed", range(5))
def test_sizes_slack_and_shares(tier, seed):
    spec = SAMPLING_TIERS[tier]
    p = sampling_instance(tier, seed)
    n = len(p.buildings)
    assert abs(_people(p) - spec.people) <= 0.1 * spec.people
    assert abs(n - spec.buildings) <= 0.1 * spec.buildings
    assert len(p.points) == spec.points and p.n_slots == spec.slots == 13
    # slack: ≥ 1.10 and less than one more lane's share
    per_lane = (slot_capacity(1, 100.0, 30, 0.85) + 1) * p.n_slots
    capacity = sum(p.capacity(pt) * p.n_slots for pt in p.points)
    assert 1.10 * _walk_in(p) <= capacity < 1.10 * _walk_in(p) + per_lane
    zones = [b.zone for b in p.buildings]
    assert zones.count(ZoneRegime.SEALED) == round(0.02 * n)
    assert zones.count(ZoneRegime.CONTROLLED) == round(0.10 * n)
    limit = reach_limit_m(p.policy)
    points = {pt.id: pt for pt in p.points}
    for b in p.buildings:
        assert all(0 < k.people <= 60 for k in b.batches) or sum(
            k.people for k in b.batches) == 0
        if b.zone == ZoneRegime.SEALED:
            assert b.allowed_point_ids is None
            continue
        allowed = b.allowed_point_ids
        assert allowed is not None
        assert 1 <= len(allowed) <= (2 if b.zone == ZoneRegime.CONTROLLED else 6)
        dist = {pid: walk_distance_m(b, points[pid], p.policy) for pid in allowed}
        assert max(dist.values()) <= limit
        # the candidates are the nearest points
        others = [walk_distance_m(b, pt, p.policy) for pid, pt in points.items()
                  if pid not in dist]
        assert not others or min(others) >= max(dist.values()) or len(allowed) in (2, 6)


@pytest.mark.parametrize("tier", ["C", "S"])
def test_valid_problem_round_trip(tier):
    p = sampling_instance(tier, 0)
    again = SamplingProblem.model_validate_json(p.model_dump_json())
    assert again == p
    start = again.window.start.astimezone(again.tz)
    assert (start.hour, start.minute) == (6, 30)


def test_c_sits_at_huchiyuan():
    from commgov.datasets import gusu

    loc = next(c.location for c in gusu(0, communities=["320508017016"]).communities
               if c.id == "320508017016")
    p = sampling_instance("C", 0)
    lon = sum(b.location.lon for b in p.buildings) / len(p.buildings)
    lat = sum(b.location.lat for b in p.buildings) / len(p.buildings)
    assert math.hypot((lon - loc.lon) * 95_000, (lat - loc.lat) * 111_000) < 500


def test_district_smoke():
    """D13 and D48 share buildings and points; sizes as documented (≈ 3 s each)."""
    d13 = sampling_instance("D13", 0)
    assert len(d13.buildings) == 10_000 and len(d13.points) == 400 and d13.n_slots == 13
    assert _people(d13) == 1_000_000
    batches = sum(len(b.batches) for b in d13.buildings)
    assert 18_000 <= batches <= 24_000
    d48 = sampling_instance("D48", 0)
    assert d48.n_slots == 48 and d48.buildings == d13.buildings
    assert [pt.location for pt in d48.points] == [pt.location for pt in d13.points]
    for p in (d13, d48):
        capacity = sum(p.capacity(pt) * p.n_slots for pt in p.points)
        assert capacity >= 1.10 * _walk_in(p)


@pytest.mark.parametrize("tier, seed", [("X", 0), ("C", -1), ("C", 1.5), ("C", True)])
def test_bad_arguments(tier, seed):
    with pytest.raises(InputError):
        sampling_instance(tier, seed)
