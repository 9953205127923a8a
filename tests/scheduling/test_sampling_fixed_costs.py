"""Issue 12, item 2: the fixed work of ``plan_sampling`` and the verifier, made lean, changes
no result: each fast path is checked against the rule it replaces."""

from __future__ import annotations

import math
import random
from datetime import UTC, timedelta

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sampling_helpers import building, grid_problem, mutation_fixture, point, problem

from commgov.results import SolveStatus
from commgov.scheduling.sampling import is_valid_sampling_plan, plan_sampling, walk_distance_m
from commgov.scheduling.sampling._finish import PointQueue
from commgov.scheduling.sampling._plan import BatchAssignment, PointSlotLoad
from commgov.scheduling.sampling._records import _make_assignment, _make_load
from commgov.scheduling.sampling._rules import walk_distances_m
from commgov.types import haversine_m


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 120), min_size=1, max_size=20),
    st.integers(0, 150),
    st.lists(st.tuples(st.integers(0, 19), st.integers(0, 90)), max_size=40),
)
def test_point_queue_incremental_update_equals_a_fresh_scan(caps, qmax, adds):
    """``PointQueue.add`` updates the queue in place; every figure equals a fresh pass."""
    inc = PointQueue(list(caps), qmax)
    inc.fits(0, 0)  # computed once: later adds update it incrementally
    for t, people in adds:
        t %= len(caps)
        inc.add(t, people)
        fresh = PointQueue(list(caps), qmax)
        fresh.arrivals = list(inc.arrivals)
        fresh._refresh()
        assert (inc._q, inc._u, inc._free, inc._ok, inc._bad) == (
            fresh._q,
            fresh._u,
            fresh._free,
            fresh._ok,
            fresh._bad,
        )
        for s in range(len(caps)):
            for p in (0, 1, 17, 60):
                assert inc.fits(s, p) == fresh.fits(s, p)


def test_walk_distances_equal_the_scalar_rule_including_halves():
    """The vectorised walks equal ``walk_distance_m`` pair by pair, also at exact halves."""
    r = random.Random(1)
    lon1 = [120.6 + r.uniform(-0.05, 0.05) for _ in range(20_000)]
    lat1 = [31.3 + r.uniform(-0.05, 0.05) for _ in range(20_000)]
    lon2 = [120.6 + r.uniform(-0.05, 0.05) for _ in range(20_000)]
    lat2 = [31.3 + r.uniform(-0.05, 0.05) for _ in range(20_000)]
    # pairs whose walk is within a few ulps of a half metre (detour 1.0: the great circle)
    for n in range(200):
        d = (n + 0.5) / 6_371_008.8 / 2  # a half-angle putting the distance on n + 0.5 m
        lon1.append(120.6)
        lat1.append(31.3)
        lon2.append(120.6)
        lat2.append(31.3 + math.degrees(2 * d))
    got = walk_distances_m(np.array(lon1), np.array(lat1), np.array(lon2), np.array(lat2), 1.3)
    want = [
        round(haversine_m(a, b, c, e) * 1.3)
        for a, b, c, e in zip(lon1, lat1, lon2, lat2, strict=True)
    ]
    assert got == want
    got1 = walk_distances_m(np.array(lon1), np.array(lat1), np.array(lon2), np.array(lat2), 1.0)
    assert got1 == [
        round(haversine_m(a, b, c, e)) for a, b, c, e in zip(lon1, lat1, lon2, lat2, strict=True)
    ]
    assert walk_distances_m(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), 1.3) == []


def test_walk_distances_match_walk_distance_m_on_records():
    prob = mutation_fixture()
    pairs = [(b, p) for b in prob.buildings for p in prob.points]
    got = walk_distances_m(
        np.array([b.location.lon for b, _ in pairs]),
        np.array([b.location.lat for b, _ in pairs]),
        np.array([p.location.lon for _, p in pairs]),
        np.array([p.location.lat for _, p in pairs]),
        prob.policy.detour_factor,
    )
    assert got == [walk_distance_m(b, p, prob.policy) for b, p in pairs]


def test_canonical_returns_the_problem_itself_when_in_id_order():
    prob = grid_problem(30, 2, 4, 1_500.0)
    assert prob.canonical() is prob


def test_canonical_sorts_only_what_is_out_of_order():
    shuffled = problem(
        [
            building("B2", 150, [50, 20], allowed=["P2", "P1", "P2"]),
            building("B1", 100, [40, 40, 30]),
        ],
        [point("P2", 400, 2), point("P1", 0, 1)],
        4,
    )
    c = shuffled.canonical()
    assert c is not shuffled
    assert [b.id for b in c.buildings] == ["B1", "B2"]
    assert [p.id for p in c.points] == ["P1", "P2"]
    assert c.buildings[1].allowed_point_ids == ["P1", "P2"]
    assert c.canonical() is c
    # the same plan whatever the order of the records
    in_order = problem(
        [
            building("B1", 100, [40, 40, 30]),
            building("B2", 150, [50, 20], allowed=["P1", "P2"]),
        ],
        [point("P1", 0, 1), point("P2", 400, 2)],
        4,
    )
    assert in_order.canonical() is in_order
    a = plan_sampling(shuffled, time_limit_s=5)
    b = plan_sampling(in_order, time_limit_s=5)
    assert a.model_dump_json() == b.model_dump_json()


def test_unsorted_batches_are_sorted():
    prob = problem([building("B1", 100, [40, 40, 30])], [point("P1", 0, 1)], 4)
    rev = prob.buildings[0].model_copy(update={"batches": prob.buildings[0].batches[::-1]})
    shuffled = prob.model_copy(update={"buildings": [rev]})
    c = shuffled.canonical()
    assert c is not shuffled
    assert [k.id for k in c.buildings[0].batches] == ["B1-0", "B1-1", "B1-2"]


def test_plan_records_equal_model_construct():
    """The plan's records built without pydantic's per-call walk equal ``model_construct``."""
    plan = plan_sampling(mutation_fixture(), time_limit_s=5)
    for a in plan.assignments:
        ref = BatchAssignment.model_construct(**a.model_dump())
        fast = _make_assignment(**a.model_dump())
        assert fast == ref
        assert fast.model_dump_json() == ref.model_dump_json()
        assert fast.model_fields_set == ref.model_fields_set
    for ld in plan.loads:
        ref_l = PointSlotLoad.model_construct(**ld.model_dump())
        assert _make_load(**ld.model_dump()) == ref_l
    again = type(plan).model_validate_json(plan.model_dump_json())
    assert plan.model_dump_json() == again.model_dump_json()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lean_phases_keep_plans_valid(seed):
    prob = grid_problem(300, 3, 9, 3_000.0, seed=seed)
    plan = plan_sampling(prob, time_limit_s=10)
    assert is_valid_sampling_plan(prob, plan).ok
    assert plan.info.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


def test_verifier_catches_a_wrong_walk_and_a_wrong_slot_start():
    prob = mutation_fixture()
    plan = plan_sampling(prob, time_limit_s=5)
    a0 = plan.assignments[0]
    bad_walk = plan.model_copy(
        update={
            "assignments": [a0.model_copy(update={"walk_m": a0.walk_m + 1}), *plan.assignments[1:]]
        }
    )
    codes = {v.code for v in is_valid_sampling_plan(prob, bad_walk).violations}
    assert "COST_MISMATCH" in codes
    shifted = a0.slot_start + timedelta(minutes=30)
    bad_start = plan.model_copy(
        update={
            "assignments": [a0.model_copy(update={"slot_start": shifted}), *plan.assignments[1:]]
        }
    )
    codes = {v.code for v in is_valid_sampling_plan(prob, bad_start).violations}
    assert "SLOT_OUT_OF_WINDOW" in codes
    # the same instant at another offset is refused too (the offset must be the zone's)
    utc = a0.slot_start.astimezone(UTC)
    bad_offset = plan.model_copy(
        update={"assignments": [a0.model_copy(update={"slot_start": utc}), *plan.assignments[1:]]}
    )
    codes = {v.code for v in is_valid_sampling_plan(prob, bad_offset).violations}
    assert "SLOT_OUT_OF_WINDOW" in codes


@pytest.mark.parametrize("seed", [0, 1])
def test_capacity_free_relaxation_bounds_the_flow(seed):
    """The relaxation used when the limit cannot cover the min-cost flow is a weaker bound."""
    from commgov.scheduling.sampling._bound import (
        gap_instance_of,
        nearest_relaxation,
        transport_bound,
    )
    from commgov.scheduling.sampling._data import prepare

    prob = grid_problem(400, 2, 9, 3_000.0, seed=seed, slack=0.8)
    inst = gap_instance_of(prepare(prob.canonical()))
    weak, lp = nearest_relaxation(inst), transport_bound(inst)
    assert weak.served >= lp.served
    assert weak.served > lp.served or weak.walk <= lp.walk
    # the greedy start fits every point's capacity
    assert all(ld <= c for ld, c in zip(weak.point_load, inst.cap, strict=True))


def test_a_limit_below_the_fixed_work_skips_the_flow_and_reports_no_bound():
    from commgov.scheduling.sampling._solve import FIXED_PER_BATCH_S

    prob = grid_problem(1_500, 3, 16, 4_000.0, seed=3)
    limit = 0.5 * FIXED_PER_BATCH_S * 4_500
    plan = plan_sampling(prob, time_limit_s=limit)
    assert is_valid_sampling_plan(prob, plan).ok
    assert plan.info.status == SolveStatus.OPTIMAL or plan.info.bound is None
