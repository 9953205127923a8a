"""Size guards before allocation, the deadline in every phase, the stall rule (issue 12).

Item 3: sizes are estimated from counts and refused (``SizeLimitError`` naming the figure, the
limit and what to change) within a second and without growing memory — the record counts of a
:class:`SamplingProblem` before pydantic validates one record, the solver data before any
distance is measured, the CP-SAT tier model before it is built.

Item 2: every phase of ``plan_sampling`` looks at the one deadline and ``cancel``; the
repair's ejection-chain and breadth-first searches used to run for minutes (10,000 buildings ×
10 batches × 400 points was still running after 900 s).

Item 10: the neighbourhood search stops when improvement stalls (a rule on deterministic work).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sampling_helpers import START, at, grid_problem, mutation_fixture, point, problem, window

from commgov._control import SolveControl
from commgov.errors import SizeLimitError
from commgov.results import SolveStatus
from commgov.scheduling.sampling import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPolicy,
    SamplingProblem,
    _bound,
    _data,
    _limits,
    _repair,
    _solve_cpsat,
    _solve_gap,
    is_valid_sampling_plan,
    plan_sampling,
    reach_limit_m,
    sampling_lower_bound,
    walk_distance_m,
)
from commgov.testing.strategies import sampling_problems
from timing_helpers import work_seconds

MB = 1 << 20


def _refused(call: Callable[[], Any]) -> SizeLimitError:
    """Run ``call``; it must raise SizeLimitError within 1 s, growing memory by < 100 MB."""
    tracemalloc.start()
    try:
        with work_seconds() as work, pytest.raises(SizeLimitError) as exc:
            call()
        elapsed = work.seconds
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 * MB, f"the guard grew memory by {peak / MB:.0f} MB"
    assert elapsed < 1.0, f"the guard took {elapsed:.2f} s"
    err = exc.value
    assert err.figure > err.limit and err.change and str(err.limit) not in ("", "0")
    assert f"{err.figure:,}" in str(err) and f"{err.limit:,}" in str(err)
    return err


# ---- item 3: size guards ----------------------------------------------------------------------


def _raw(n_batches: int) -> dict[str, Any]:
    """Problem data with one building of ``n_batches`` batches (one dict, repeated)."""
    batch = {"id": "B1-0", "building_id": "B1", "households": 1, "people": 3}
    return {
        "window": {"start": START.isoformat(), "end": (START + timedelta(minutes=60)).isoformat()},
        "buildings": [
            {"id": "B1", "location": {"lon": 120.62, "lat": 31.31}, "batches": [batch] * n_batches}
        ],
        "points": [{"id": "P1", "location": {"lon": 120.62, "lat": 31.31}, "lanes": 1}],
    }


def test_a_million_batches_are_refused_before_validation() -> None:
    data = _raw(10**6)
    err = _refused(lambda: SamplingProblem.model_validate(data))
    assert "batches" in err.what and err.figure > _limits.MAX_BATCHES
    _refused(lambda: SamplingProblem(**data))


def test_too_many_buildings_or_points_are_refused_before_validation() -> None:
    data = _raw(1)
    many = dict(data, buildings=data["buildings"] * (_limits.MAX_BUILDINGS + 1))
    assert "buildings" in _refused(lambda: SamplingProblem.model_validate(many)).what
    many = dict(data, points=data["points"] * (_limits.MAX_POINTS + 1))
    assert "points" in _refused(lambda: SamplingProblem.model_validate(many)).what


def test_records_made_without_validation_meet_the_guard_in_the_planner() -> None:
    # model_construct skips every check: the planner counts before anything else (10^6
    # batches, the same record repeated — a cross-record check would list 10^6 duplicates)
    k = SamplingBatch.model_construct(id="B1-0", building_id="B1", households=1, people=3)
    b = SamplingBuilding.model_construct(
        id="B1", location=at(0), batches=[k] * 10**6, allowed_point_ids=None, mobility_limited=0
    )
    big = SamplingProblem.model_construct(
        window=window(2),
        buildings=[b],
        points=[point("P1", 0)],
        policy=SamplingPolicy(),
        timezone="Asia/Shanghai",
    )
    assert "batches" in _refused(lambda: plan_sampling(big)).what
    _refused(lambda: sampling_lower_bound(big))


def test_issue_example_dense_points_are_refused_before_any_distance() -> None:
    # 10,000 buildings × 10 batches, 400 points within 2 km: 4 million building-point
    # distances to measure (built as a dict until MemoryError at 5.8 GB after 74 s)
    # (its 100,000 batches are now above the batches guard: refused as the problem is built)
    with pytest.raises(SizeLimitError, match="batches"):
        grid_problem(10_000, 10, 400, 2_000.0)
    prob = grid_problem(10_000, 4, 400, 2_000.0)  # the same 4 million distances
    err = _refused(lambda: plan_sampling(prob, time_limit_s=5))
    assert "distances" in err.what and err.figure > _limits.MAX_CANDIDATE_PAIRS
    assert "allowed_point_ids" in err.change
    _refused(lambda: sampling_lower_bound(prob))


def test_points_times_slots_are_refused() -> None:
    # one-minute slots over 100 days at 20 points: 2.9 million (point, slot) cells
    prob = SamplingProblem(
        timezone="Asia/Shanghai",
        window=window(144_000, 1),
        buildings=[],
        points=[point(f"P{j}", 10 * j) for j in range(20)],
        policy=SamplingPolicy(slot_minutes=1),
    )
    assert "slots" in _refused(lambda: plan_sampling(prob)).what


def test_pairs_in_reach_are_counted_before_they_are_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_data, "MAX_REACH_PAIRS", 3)
    err = _refused(lambda: plan_sampling(mutation_fixture()))
    assert "within the walk limit" in err.what


def test_tier_model_is_counted_before_it_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_solve_cpsat, "MAX_BATCH_VARS", 5)
    err = _refused(lambda: plan_sampling(mutation_fixture(), method="cpsat"))
    assert "variables" in err.what and "gap" in err.change


def test_size_limit_error_pickles_with_its_figures() -> None:
    import pickle

    err = _refused(lambda: SamplingProblem.model_validate(_raw(10**6)))
    back = pickle.loads(pickle.dumps(err))
    assert (back.what, back.figure, back.limit, back.change) == (
        err.what,
        err.figure,
        err.limit,
        err.change,
    )


# the screening of distances (numpy) keeps exactly the rule's distances ------------------------


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sampling_problems(max_people=120, max_slots=4))
def test_screened_reach_equals_the_rule_on_every_pair(prob: SamplingProblem) -> None:
    d = _data.prepare(prob.canonical())
    limit = reach_limit_m(prob.policy)
    for b in d.buildings:
        allowed = [
            p
            for p in d.points
            if (b.allowed_point_ids is None or p.id in b.allowed_point_ids)
            and d.open[p.id]
            and d.cap[p.id] > 0
        ]
        dist = {p.id: walk_distance_m(b, p, prob.policy) for p in allowed}
        assert d.reach[b.id] == [pid for pid in sorted(dist) if dist[pid] <= limit]
        assert {pid: d.dist[b.id, pid] for pid in d.reach[b.id]} == {
            pid: dd for pid, dd in dist.items() if dd <= limit
        }
        assert d.nearest_allowed_open[b.id] == min(dist.values(), default=None)


def test_nearest_point_far_away_is_the_rules() -> None:
    # no point in reach: the reason's distance is the nearest allowed open point's, exactly
    prob = problem(
        [grid_problem(1, 1, 1, 10.0).buildings[0]],
        [point("P1", 5_000), point("P2", 9_000, y=3_000), point("P3", -7_000)],
        2,
    )
    plan = plan_sampling(prob)
    assert is_valid_sampling_plan(prob, plan).ok
    b = prob.buildings[0]
    near = min(walk_distance_m(b, p, prob.policy) for p in prob.points)
    assert plan.unserved[0].reasons[0].params["distance_m"] == near


# ---- item 2: the deadline in every phase ------------------------------------------------------


def _repair_heavy() -> SamplingProblem:
    """Tight capacity, ~20 points in reach of each of 5,000 buildings: the repair's chain
    searches run for minutes when nothing stops them (measured: > 300 s)."""
    return grid_problem(5_000, 2, 100, 3_000.0, people=(20, 60))


def _fits(st: _repair.State) -> bool:
    return all(load <= cap for load, cap in zip(st.load, st.inst.cap, strict=True))


def test_repair_stops_inside_its_searches() -> None:
    d = _data.prepare(_repair_heavy().canonical())
    inst = _bound.gap_instance_of(d)
    lp = _bound.transport_bound(inst)
    for after in (0, 50, 2_000, 20_000):
        st = _repair.State(inst, _repair.round_flow(inst, lp))
        asked = [0]

        def stop(after: int = after, asked: list[int] = asked) -> bool:
            asked[0] += 1
            return asked[0] > after

        _repair.repair(st, stop)
        assert _fits(st), f"stopped after {after} looks, a point is over capacity"
        # once true, the repair ends within a few looks (one per level of the searches
        # under way, as they unwind): nothing searches on
        assert asked[0] <= after + 20


def test_tiny_time_limit_stops_the_repair_with_a_valid_plan() -> None:
    prob = _repair_heavy()
    plan = plan_sampling(prob, time_limit_s=0.2)
    assert plan.info.stopped_by == "wall_clock"
    assert plan.info.status in (SolveStatus.FEASIBLE, SolveStatus.LIMIT)
    report = is_valid_sampling_plan(prob, plan)
    assert report.ok, report.summary()
    assert plan.totals.served_people > 0.9 * plan.totals.walk_in_people


def test_cancel_stops_the_repair_with_a_valid_plan() -> None:
    prob = _repair_heavy()
    event = threading.Event()
    timer = threading.Timer(0.5, event.set)
    timer.start()
    try:
        plan = plan_sampling(prob, time_limit_s=600, cancel=event)
    finally:
        timer.cancel()
    assert plan.info.status == SolveStatus.CANCELLED and plan.info.stopped_by == "cancel"
    report = is_valid_sampling_plan(prob, plan)
    assert report.ok, report.summary()


def test_neighbour_lists_stop_too() -> None:
    d = _data.prepare(_repair_heavy().canonical())
    inst = _bound.gap_instance_of(d)
    assert _solve_gap._neighbours(inst, lambda: True) is None
    full = _solve_gap._neighbours(inst, lambda: False)
    assert full is not None and len(full) == len(inst.cap)


@pytest.mark.slow
@pytest.mark.parametrize("limit", [1.0, 5.0])
def test_time_limit_holds_where_the_repair_would_run_for_minutes(limit: float) -> None:
    prob = _repair_heavy()
    with work_seconds() as work:
        plan = plan_sampling(prob, time_limit_s=limit)
    elapsed = work.seconds
    assert elapsed < limit + 1.0, f"{elapsed:.2f} s for a limit of {limit} s"
    assert is_valid_sampling_plan(prob, plan).ok


@pytest.mark.slow
def test_time_limit_holds_on_a_big_generated_instance() -> None:
    # 10,000 buildings × 5 batches, 400 points over 20 km (about 3 in reach of each)
    prob = grid_problem(10_000, 5, 400, 20_000.0, slack=1.05)
    with work_seconds() as work:
        plan = plan_sampling(prob, time_limit_s=5.0)
    elapsed = work.seconds
    assert elapsed < 6.0, f"{elapsed:.2f} s for a limit of 5 s"
    assert is_valid_sampling_plan(prob, plan).ok
    assert plan.totals.served_people > 0.95 * plan.totals.walk_in_people


# ---- item 10: the stall rule ------------------------------------------------------------------


def test_stall_rule_on_deterministic_work() -> None:
    s = _solve_gap._Stall(2.0, 5e-4)
    assert not s.stalled(0.0, 100, 1_000_000)
    assert not s.stalled(1.0, 100, 999_000)  # window not yet full
    assert not s.stalled(2.0, 100, 998_000)  # 0.2 % in 2 units: improving
    assert not s.stalled(3.0, 100, 997_990)  # since 1.0: 1,010 = 0.1 %
    assert s.stalled(4.0, 100, 997_900)  # since 2.0: 100 of 998,000 = 0.01 %
    s = _solve_gap._Stall(2.0, 5e-4)
    s.stalled(0.0, 100, 1_000_000)
    assert not s.stalled(2.5, 101, 1_000_000)  # one more served is never a stall
    off = _solve_gap._Stall(math.inf, 5e-4)
    assert not any(off.stalled(float(t), 1, 1) for t in range(100))


@pytest.mark.slow
def test_stall_rule_ends_the_search_on_a_large_community(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from commgov.datasets import synthetic_community
    from commgov.org import OrgGraph
    from commgov.scheduling import sampling_problem_from_org

    code = "320508017016"
    prob = sampling_problem_from_org(
        OrgGraph(synthetic_community(code, households=20_000, seed=0)), code
    )
    with caplog.at_level(logging.INFO, logger="commgov.scheduling"):
        plan = plan_sampling(prob)
    assert any("stalled" in r.getMessage() for r in caplog.records)
    assert plan.info.stopped_by is None  # the rule, not the clock
    assert plan.info.gap is not None and plan.info.gap <= 0.01
    again = plan_sampling(prob)
    assert json.dumps(again.to_json()) == json.dumps(plan.to_json())


def test_solve_control_deadline_is_the_one_used() -> None:
    # the repair is handed the run's own stop test (no clock of its own)
    ctl = SolveControl("test", 1e-9)
    time.sleep(0.001)
    d = _data.prepare(mutation_fixture().canonical())
    inst = _bound.gap_instance_of(d)
    sol = _solve_gap.solve_gap(inst, ctl)
    assert ctl.stopped_by == "wall_clock" and sol.neighbourhoods == 0
