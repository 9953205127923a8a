"""The closed loop: a site plan simulated as planned, and the fewest staff meeting the target."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from commgov.errors import InvalidParameterError
from commgov.scheduling.sites import (
    CandidateSite,
    SitesBuilding,
    SitesPolicy,
    SitesProblem,
    plan_sites,
)
from commgov.sim import (
    DeskPoint,
    ServiceTime,
    fewest_staff_meeting_target,
    poisson_arrivals,
    queue_kpis,
    run_desk_queues,
    simulate_sites_plan,
    stream_factory,
)
from commgov.sim._sites_loop import fcfs_waits, site_draws
from commgov.types import GeoPoint, TimeWindow

START = datetime(2022, 4, 12, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _at(x_m: float, y_m: float) -> GeoPoint:
    return GeoPoint(lon=round(120.62 + x_m / 95_000, 6), lat=round(31.31 + y_m / 111_000, 6))


def small_problem(max_lanes: int = 6, target: float = 15.0) -> SitesProblem:
    """Two sites 1 km apart, each with 600-900 residents around it over a 3-hour round."""
    sites = [
        CandidateSite(id="a", location=_at(0, 0), max_lanes=max_lanes),
        CandidateSite(id="b", location=_at(1000, 0), max_lanes=max_lanes),
    ]
    buildings = [
        SitesBuilding(id=f"x{k}", location=_at(k * 30, 50), residents=150) for k in range(4)
    ] + [
        SitesBuilding(id=f"y{k}", location=_at(1000 - k * 30, 50), residents=150) for k in range(6)
    ]
    return SitesProblem(
        window=TimeWindow(start=START, end=START + timedelta(hours=3)),
        sites=sites,
        buildings=buildings,
        policy=SitesPolicy(target_wait_min=target),
    )


@pytest.fixture(scope="module")
def planned():
    problem = small_problem()
    return problem, plan_sites(problem, time_limit_s=20)


def test_draws_are_the_desk_models_own():
    """The site's residents are drawn exactly as poisson_arrivals draws them (same streams)."""
    point = DeskPoint(
        id="a", lanes=3, service=ServiceTime(mean_minutes=0.6), open_min=30.0, close_min=210.0
    )
    rngs = stream_factory(7, 3)
    ref = poisson_arrivals(point, 4.5, 210.0, rngs, start_min=30.0)
    t, v = site_draws("a", 4.5, 30.0, 210.0, point.service, stream_factory(7, 3))
    assert t.tolist() == list(ref.t_min)
    assert v.tolist() == list(ref.service_min)


@pytest.mark.parametrize("lanes", [1, 2, 4])
def test_the_recursion_equals_the_simpy_desk_queue(lanes):
    """FCFS recursion and the SimPy desk model give the same wait to every resident."""
    point = DeskPoint(
        id="a",
        lanes=lanes,
        service=ServiceTime(mean_minutes=2.0 * lanes),
        open_min=10.0,
        close_min=130.0,
    )
    arrivals = poisson_arrivals(point, 0.48, 130.0, stream_factory(3), start_min=10.0)
    log = run_desk_queues([point], {"a": arrivals})
    starts = [v for k, v in zip(log.kind, log.value, strict=True) if k == "service_start"]
    ids = [e for k, e in zip(log.kind, log.entity, strict=True) if k == "service_start"]
    by_id = dict(zip(ids, starts, strict=True))
    simpy_waits = np.array([by_id[r] for r in arrivals.resident_ids])
    ours = fcfs_waits(np.array([arrivals.t_min]), np.array([arrivals.service_min]), lanes, 10.0)
    assert len(arrivals) > 30
    np.testing.assert_allclose(ours[0], simpy_waits, atol=1e-9)
    p95 = queue_kpis(log, to_min=1e9).wait_p95_min
    assert float(np.quantile(ours[0], 0.95)) == pytest.approx(p95, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    lanes=st.integers(1, 5),
    seed=st.integers(0, 10_000),
    load=st.floats(0.3, 1.4),
    open_min=st.sampled_from([0.0, 30.0, 95.5]),
    service=st.sampled_from(["exponential", "lognormal"]),
)
def test_the_recursion_equals_the_desk_model_on_any_queue(lanes, seed, load, open_min, service):
    """Any lanes, load (overloaded too), opening and service law: the same wait for each."""
    svc = ServiceTime(mean_minutes=1.5, distribution=service, cv=0.5)
    point = DeskPoint(
        id="p", lanes=lanes, service=svc, open_min=open_min, close_min=open_min + 60.0
    )
    rate = load * lanes / 1.5
    arrivals = poisson_arrivals(
        point, rate, open_min + 60.0, stream_factory(seed), start_min=open_min
    )
    log = run_desk_queues([point], {"p": arrivals})
    start = {
        e: v
        for k, e, v in zip(log.kind, log.entity, log.value, strict=True)
        if k == "service_start"
    }
    ours = fcfs_waits(np.array([arrivals.t_min]), np.array([arrivals.service_min]), lanes, open_min)
    assert ours.shape[1] == len(arrivals)
    np.testing.assert_allclose(ours[0], [start[r] for r in arrivals.resident_ids], atol=1e-9)


def test_simulation_is_deterministic_and_shaped(planned):
    problem, plan = planned
    one = simulate_sites_plan(problem, plan, replicates=30, seed=5)
    two = simulate_sites_plan(problem, plan, replicates=30, seed=5)
    other = simulate_sites_plan(problem, plan, replicates=30, seed=6)
    assert one.site_ids == tuple(s.site_id for s in plan.sites)
    assert one.lanes == tuple(s.lanes for s in plan.sites)
    assert one.site_wait_min.shape == (30, len(plan.sites))
    assert np.array_equal(one.overall_wait_min, two.overall_wait_min)
    assert np.array_equal(one.site_wait_min, two.site_wait_min, equal_nan=True)
    assert not np.array_equal(one.overall_wait_min, other.overall_wait_min)
    # residents arrive as planned: about the plan's served residents per day
    assert abs(one.arrivals.mean() - plan.totals.served) < 0.1 * plan.totals.served
    ci = one.share_interval
    assert ci.method == "wilson" and ci.low <= one.share <= ci.high


def test_more_lanes_never_delay_anyone(planned):
    """Common random numbers: the same residents, and under FCFS a lane more never hurts."""
    problem, plan = planned
    fewer = simulate_sites_plan(
        problem,
        plan,
        replicates=40,
        seed=1,
        lanes={s.site_id: max(1, s.lanes - 1) for s in plan.sites},
    )
    base = simulate_sites_plan(problem, plan, replicates=40, seed=1)
    more = simulate_sites_plan(
        problem, plan, replicates=40, seed=1, lanes={s.site_id: s.lanes + 1 for s in plan.sites}
    )
    assert np.array_equal(fewer.arrivals, more.arrivals)
    assert (more.overall_wait_min <= base.overall_wait_min + 1e-9).all()
    assert (base.overall_wait_min <= fewer.overall_wait_min + 1e-9).all()
    assert fewer.share <= base.share <= more.share


def test_search_finds_the_smallest_budget_meeting_the_share(planned):
    problem, plan = planned
    found = fewest_staff_meeting_target(problem, plan, replicates=60, seed=2)
    again = fewest_staff_meeting_target(problem, plan, replicates=60, seed=2)
    assert found.evaluations == again.evaluations and found.lanes == again.lanes
    assert found.found and found.share >= 0.95
    assert found.lanes_total == sum(found.lanes.values())
    tried = sorted(found.evaluations)
    shares = [s for _, s in tried]
    assert shares == sorted(shares)  # nested budgets and CRN: monotone
    below = [s for lanes, s in tried if lanes < found.lanes_total]
    assert all(s < 0.95 for s in below)
    assert max(lanes for lanes, _ in tried if lanes < found.lanes_total) == (
        found.lanes_total - 1
    ) or found.lanes_total == len(plan.sites)
    assert found.swabbers >= found.lanes_total and found.registrars == found.lanes_total
    assert found.plan_lanes_total == plan.totals.lanes
    assert found.plan_staff_hours == pytest.approx(plan.totals.staff_hours)
    # the answer re-simulated with simulate_sites_plan gives the same share
    check = simulate_sites_plan(problem, plan, replicates=60, seed=2, lanes=found.lanes)
    assert check.share == found.share


def test_search_says_when_no_budget_is_enough(planned):
    problem, plan = planned
    strict = problem.model_copy(
        update={"policy": problem.policy.model_copy(update={"target_wait_min": 0.0})}
    )
    out = fewest_staff_meeting_target(strict, plan, replicates=10, seed=0)
    assert not out.found
    assert out.lanes == {s.site_id: 6 for s in plan.sites}  # every site at max_lanes
    assert out.share < 0.95


@pytest.mark.parametrize(
    "kwargs",
    [
        {"replicates": 0},
        {"replicates": True},
        {"seed": -1},
        {"criterion": "mean"},
        {"level": 1.0},
        {"lanes": {"a": 0}},
        {"lanes": {"zz": 2}},
    ],
)
def test_bad_arguments_are_refused(planned, kwargs):
    problem, plan = planned
    with pytest.raises(InvalidParameterError):
        simulate_sites_plan(problem, plan, **kwargs)


def test_bad_share_is_refused(planned):
    problem, plan = planned
    with pytest.raises(InvalidParameterError):
        fewest_staff_meeting_target(problem, plan, share=1.5, replicates=5)


def test_a_plan_of_another_problem_is_refused(planned):
    problem, plan = planned
    other = problem.model_copy(update={"sites": problem.sites[:1]})
    if len({s.site_id for s in plan.sites}) > 1:
        with pytest.raises(InvalidParameterError):
            simulate_sites_plan(other, plan, replicates=5)


def test_a_plan_opening_nothing_waits_nobody(planned):
    problem, plan = planned
    empty = plan.model_copy(update={"sites": []})
    sim = simulate_sites_plan(problem, empty, replicates=5)
    assert sim.site_wait_min.shape == (5, 0) and (sim.overall_wait_min == 0).all()
    assert sim.share == 1.0
    out = fewest_staff_meeting_target(problem, empty, replicates=5)
    assert out.found and out.lanes_total == 0 and out.staff_hours == 0
