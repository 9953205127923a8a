"""Wait KPIs that count everyone, not only the served (issue 15 item 5, break-test D4).

The desk queue's wait figures count residents whose swab started; with lanes that break for
1,000 minutes after one minute of work, 19 of 4,350 residents are swabbed and the mean wait
was 0.004 min. The ``*_all_min`` figures count everyone who joined, a resident not swabbed
with the time it queued (until it left, or censored at the horizon): the same helper
(:func:`commgov.sim._kpi.censored_times`) as the relay's ``gate_to_door_p95_all_min`` and the
needs' ``response_p95_all_min``. Old columns are unchanged.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from commgov.sim import (
    DeskPoint,
    EventLog,
    Scenario,
    ServiceTime,
    is_headline_kpi,
    kpi_info,
    poisson_arrivals,
    queue_kpis,
    run_replicate,
    run_tandem_desks,
    stream_factory,
    tandem_kpis,
)
from commgov.sim._kpi import censored_times

COMMUNITY = {"community": "320508017016"}
NEW = (
    "wait_mean_all_min",
    "wait_p50_all_min",
    "wait_p95_all_min",
    "worst_point_wait_p95_all_min",
    "mean_time_in_system_all_min",
)


def _hand_log() -> EventLog:
    log = EventLog()
    rec = log.record
    rec(0.0, "queue_join", "a", actor="P1")
    rec(0.0, "service_start", "a", actor="P1/L1", value=0.0)
    rec(1.0, "queue_join", "b", actor="P1")
    rec(2.0, "queue_join", "c", actor="P1")
    rec(3.0, "queue_join", "d", actor="P2")
    rec(4.0, "queue_renege", "c", actor="P1", value=2.0)
    rec(5.0, "service_end", "a", actor="P1/L1", value=5.0)
    rec(5.0, "service_start", "b", actor="P1/L1", value=4.0)
    rec(6.0, "queue_join", "e", actor="P2")
    rec(8.0, "queue_abandon", "d", actor="P2")  # sent home at closing
    rec(10.0, "service_end", "b", actor="P1/L1", value=9.0)
    return log  # e still queueing at the end


def test_everyone_counts_in_the_all_figures_by_hand():
    k = queue_kpis(_hand_log(), to_min=20.0)
    assert (k.joined, k.served, k.unserved) == (5, 2, 3)
    assert k.mean_wait_min == 2.0  # the served only, as before
    assert k.mean_wait_all_min == 2.0  # served and reneged (Erlang A's E[W]), as before
    everyone = [0.0, 4.0, 2.0, 8.0 - 3.0, 20.0 - 6.0]  # d until sent home, e censored
    assert k.wait_mean_all_min == pytest.approx(np.mean(everyone))
    assert k.wait_p50_all_min == pytest.approx(np.percentile(everyone, 50))
    assert k.wait_p95_all_min == pytest.approx(np.percentile(everyone, 95))
    assert k.worst_point_wait_p95_all_min == pytest.approx(np.percentile([5.0, 14.0], 95))
    assert k.mean_time_in_system_all_min == pytest.approx((5 + 9 + 2 + 5 + 14) / 5)
    assert k.mean_time_in_system_min == 7.0  # (5 + 9) / 2: who was swabbed and left


def test_censored_times_is_the_one_rule():
    assert censored_times({"a": 5.0}, {"a": 0.0, "b": 40.0}, 100.0) == [5.0, 60.0]
    assert censored_times({}, {}, 1.0) == []


@settings(max_examples=60, deadline=None)
@given(
    lanes=st.integers(1, 3),
    rate=st.floats(0.2, 3.0),
    horizon=st.floats(10.0, 120.0),
    seed=st.integers(0, 50),
)
def test_with_everyone_served_the_all_figures_are_the_served_ones(lanes, rate, horizon, seed):
    """With nobody censored the ``_all`` figures are the served-only ones."""
    from commgov.sim import run_desk_queues

    point = DeskPoint("P", lanes, ServiceTime(3.0))
    rngs = stream_factory(seed)
    log = run_desk_queues([point], {"P": poisson_arrivals(point, rate, horizon, rngs)})
    end = max(log.t_min, default=0.0) + 1.0  # after the last event: nobody censored
    k = queue_kpis(log, to_min=end)
    if k.joined == 0:
        assert all(math.isnan(getattr(k, n)) for n in NEW)
        return
    assert k.unserved == 0
    assert k.wait_mean_all_min == pytest.approx(k.mean_wait_min)
    assert k.wait_p95_all_min == pytest.approx(k.wait_p95_min)
    assert k.worst_point_wait_p95_all_min == pytest.approx(k.wait_p95_all_min)  # one point
    assert k.mean_time_in_system_all_min == pytest.approx(k.mean_time_in_system_min)
    # cut at half the arrivals' horizon: the unswabbed count with their time so far
    cut = queue_kpis(log, to_min=horizon / 2)
    if cut.joined:
        assert cut.wait_mean_all_min >= 0.0
        assert cut.served + cut.unserved == cut.joined


def _lanes(**queues: object) -> Scenario:
    return Scenario.from_dict(
        {
            "name": "lanes",
            "start": "2022-04-11T19:00:00+08:00",
            "horizon_min": 1440,
            "community": COMMUNITY,
            "submodels": {"queues": {"lanes": 3, **queues}},
        }
    )


@pytest.mark.slow
def test_the_break_testers_starved_lanes_show_their_waits():
    k = run_replicate(_lanes(lane_shift_minutes=1, lane_break_minutes=1000), 0, 0).kpis
    assert k["queues.served"] < 50 and k["queues.unserved"] > 4000
    assert k["queues.mean_wait_min"] < 1.0  # the survivors' figure: what hid the failure
    assert k["queues.wait_mean_all_min"] > 500.0
    assert k["queues.wait_p95_all_min"] > 700.0
    assert k["queues.worst_point_wait_p95_all_min"] > 700.0
    assert k["queues.mean_time_in_system_all_min"] > 500.0


#: The queue KPIs of the day with 2 lanes at seed 0, replicate 0, computed before the
#: ``_all`` figures existed (commit b87aceb): they must stay exactly as they were.
PINNED_2_LANES = {
    "queues.arrival_rate_open_per_min": 11.153846153846153,
    "queues.arrival_rate_per_min": 3.0208333333333335,
    "queues.joined": 4350.0,
    "queues.mean_in_system": 259.6769524533621,
    "queues.mean_time_in_system_min": 85.96202563973358,
    "queues.mean_wait_min": 85.37468939081462,
    "queues.p_wait": 0.9972413793103448,
    "queues.point_wait_p95_spread_min": 191.15044917979193,
    "queues.refused": 0.0,
    "queues.served": 4350.0,
    "queues.unserved": 0.0,
    "queues.wait_max_min": 252.7656362593941,
    "queues.wait_p50_min": 55.788239988483156,
    "queues.wait_p90_min": 211.1115133975272,
    "queues.wait_p95_min": 237.42905246107532,
    "queues.worst_point_mean_wait_min": 131.64891069438602,
    "queues.worst_point_wait_p95_min": 244.30929489319522,
}


@pytest.mark.slow
def test_the_old_queue_columns_keep_their_values_and_the_new_ones_are_added():
    k = run_replicate(_lanes(lanes=2), 0, 0).kpis
    queue = {n: v for n, v in k.items() if n.startswith("queues.")}
    assert {n: queue[n] for n in PINNED_2_LANES} == PINNED_2_LANES
    assert set(queue) - set(PINNED_2_LANES) == {f"queues.{n}" for n in NEW}
    assert "queues.mean_wait_all_min" not in k  # only with impatient residents, as before


def test_the_new_figures_are_registered_and_headline():
    for n in NEW:
        info = kpi_info(f"queues.{n}")
        assert info.unit == "min", n
    assert kpi_info("queues.wait_p95_all_min").kind == "quantile"
    assert kpi_info("queues.worst_point_wait_p95_all_min").kind == "quantile"
    assert kpi_info("queues.wait_mean_all_min").kind == "mean"
    for n in ("wait_mean_all_min", "wait_p95_all_min", "worst_point_wait_p95_all_min", "unserved"):
        assert is_headline_kpi(f"queues.{n}"), n
    assert not is_headline_kpi("queues.mean_wait_all_min")  # the Erlang A figure, as before


def test_the_tandem_counts_residents_still_inside():
    stages = [DeskPoint("reg", 1, ServiceTime(100.0)), DeskPoint("vac", 1, ServiceTime(1.0))]
    rngs = stream_factory(3)
    log = run_tandem_desks(stages, poisson_arrivals(stages[0], 1.0, 10.0, rngs), rngs)
    k = tandem_kpis(log, stages, to_min=10.0)
    joins = [log.t_min[i] for i in log.where("queue_join") if log.actor[i] == "reg"]
    finished = [log.t_min[i] for i in log.where("service_end") if log.actor[i].startswith("vac")]
    assert k.arrived == len(joins) > 0 and min(finished) > 10.0  # nobody done by minute 10
    assert k.mean_time_in_system_all_min == pytest.approx(np.mean([10.0 - t for t in joins]))
    assert k.mean_time_in_system_all_min < k.mean_time_in_system_min  # the finishers' figure
