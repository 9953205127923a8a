"""Honest KPIs (issue 15 item 5): undelivered and unmet counted, censored percentiles.

A parcel or need still waiting at the horizon enters the ``*_all_min`` percentiles with the
horizon as its time (right-censored, Kaplan & Meier 1958), beside the delivered-only figures.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from commgov.sim import (
    GateBuilding,
    ParcelArrivals,
    RelayGate,
    RelayVolunteer,
    Scenario,
    kpi_info,
    relay_kpis,
    run_relay,
    run_replicate,
    stream_factory,
)

GATE = RelayGate(
    (GateBuilding("A", 240.0, 1.5), GateBuilding("B", 80.0, 1.0)), handover_minutes=2.0
)


def fixed(rows: list[tuple[float, str]]) -> ParcelArrivals:
    return ParcelArrivals(
        tuple(t for t, _ in rows),
        tuple(f"p{i}" for i in range(len(rows))),
        tuple(b for _, b in rows),
        tuple("r" for _ in rows),
    )


def test_undelivered_parcels_are_censored_at_the_horizon_by_hand():
    vol = RelayVolunteer("v", 1, ((10.0, 20.0), (100.0, 110.0)))
    arr = fixed([(0.0, "B"), (15.0, "B"), (25.0, "B"), (50.0, "B")])
    log = run_relay(GATE, arr, [vol], stream_factory(0), until_min=60.0)
    k = relay_kpis(log, to_min=60.0)
    # B trip: handover 2 + walk 1 + door 1: p0 at 14 (14 min), p1 at 19 (4 min);
    # p2 (gate 25) and p3 (gate 50) wait at the horizon 60: censored at 35 and 10 min
    assert (k.arrived, k.delivered, k.undelivered, k.undelivered_share) == (4, 2, 2, 0.5)
    assert k.gate_to_door_p95_min == pytest.approx(np.percentile([14.0, 4.0], 95))
    assert k.gate_to_door_p95_all_min == pytest.approx(np.percentile([14, 4, 35, 10], 95))
    assert k.gate_to_door_p50_all_min == pytest.approx(12.0)
    assert k.gate_to_door_p95_all_min > k.gate_to_door_p95_min


def test_everything_delivered_means_the_censored_percentiles_are_the_delivered_ones():
    arr = fixed([(0.0, "B"), (1.0, "A"), (3.0, "B")])
    log = run_relay(GATE, arr, [RelayVolunteer("v", 2)], stream_factory(0))
    k = relay_kpis(log, to_min=500.0)
    assert k.undelivered == 0 and k.undelivered_share == 0.0
    assert k.gate_to_door_p95_all_min == k.gate_to_door_p95_min
    assert k.gate_to_door_p50_all_min == k.gate_to_door_p50_min


def test_empty_window_gives_nan_percentiles_and_no_undelivered():
    k = relay_kpis(run_relay(GATE, fixed([]), [], stream_factory(0)), to_min=10.0)
    assert k.undelivered == 0 and k.undelivered_share == 0.0
    assert math.isnan(k.gate_to_door_p95_all_min)


def test_issue_example_eight_volunteers_with_dropout_show_their_undelivered_parcels():
    """Issue 15: 8 volunteers with dropout leave many parcels undelivered at the horizon."""
    s = Scenario.from_dict(
        {
            "name": "relay8",
            "start": "2022-04-11T19:00:00+08:00",
            "horizon_min": 1440,
            "community": {"dataset": "gusu", "seed": 0, "community": "320508017016"},
            "submodels": {
                "relay": {
                    "volunteers": 8,
                    "attrition_per_hour": 0.1,
                    "riders_per_hour": 80,
                    "arrivals_from_min": 780,
                }
            },
        }
    )
    k = run_replicate(s, 0, 0).kpis
    assert k["relay.undelivered"] > 0.5 * k["relay.arrived"]
    assert k["relay.undelivered"] == k["relay.arrived"] - k["relay.delivered"]
    assert k["relay.undelivered"] == k["relay.backlog_end"]  # window from minute 0
    assert k["relay.undelivered_share"] == k["relay.undelivered"] / k["relay.arrived"]
    assert k["relay.gate_to_door_p95_all_min"] > k["relay.gate_to_door_p95_min"]
    assert k["relay.gate_to_door_p50_all_min"] > k["relay.gate_to_door_p50_min"]


def test_needs_report_unmet_and_the_censored_p95():
    s = Scenario.from_toml("""
name = "needs"
start = 2022-04-11T19:00:00+08:00
horizon_min = 600
community = { community = "320508017016" }
[submodels.needs]
volunteers = 1
needs_per_household_per_day = 0.5
""")
    k = run_replicate(s, 0, 1).kpis
    assert k["needs.unmet"] > 0
    assert k["needs.response_p95_all_min"] >= k["needs.response_p95_min"]
    horizon = 600.0
    assert k["needs.response_p95_all_min"] <= horizon


@pytest.mark.parametrize(
    ("name", "kind", "unit"),
    [
        ("relay.undelivered", "mean", "count"),
        ("relay.undelivered_share", "share", "share"),
        ("relay.gate_to_door_p95_all_min", "quantile", "min"),
        ("relay.gate_to_door_p50_all_min", "quantile", "min"),
        ("needs.response_p95_all_min", "quantile", "min"),
    ],
)
def test_new_kpis_are_in_the_registry(name: str, kind: str, unit: str):
    info = kpi_info(name)
    assert (info.kind, info.unit) == (kind, unit)


def test_undone_work_is_in_the_headline_plots():
    from commgov.sim import is_headline_kpi

    for name in (
        "relay.undelivered",
        "relay.gate_to_door_p95_all_min",
        "needs.unmet",
        "needs.response_p95_all_min",
        "relay.undelivered_share",
        "queues.worst_point_wait_p95_min",
        "queues.arrival_rate_open_per_min",
    ):
        assert is_headline_kpi(name), name


QUEUES_DAY = {
    "name": "queues_day",
    "start": "2022-04-11T19:00:00+08:00",
    "horizon_min": 1440,
    "community": {"dataset": "gusu", "seed": 0, "community": "320508017016"},
    "submodels": {"queues": {}},
}


def test_issue_example_arrival_rate_over_the_open_hours():
    """Issue 15: 3.02 per minute over the horizon, points open only 06:30-13:00 (390 min)."""
    k = run_replicate(Scenario.from_dict(QUEUES_DAY), 0, 0).kpis
    assert k["queues.arrival_rate_per_min"] == pytest.approx(3.02, abs=0.005)
    assert k["queues.arrival_rate_per_min"] == k["queues.joined"] / 1440
    assert k["queues.arrival_rate_open_per_min"] == k["queues.joined"] / 390
    # the worst point is at least as bad as the pooled figure, and the spread shows it
    assert k["queues.worst_point_wait_p95_min"] >= k["queues.wait_p95_min"]
    assert k["queues.worst_point_mean_wait_min"] >= k["queues.mean_wait_min"]
    assert k["queues.point_wait_p95_spread_min"] >= 0


def test_existing_queue_columns_are_unchanged_by_the_new_ones():
    from commgov.sim import queue_kpis

    k = run_replicate(Scenario.from_dict(QUEUES_DAY), 0, 0)
    pooled = queue_kpis(k.log, to_min=1440.0).as_dict()
    for name, value in pooled.items():
        if name not in ("arrival_rate_open_per_min",):
            assert k.kpis[f"queues.{name}"] == value or (
                math.isnan(value) and math.isnan(k.kpis[f"queues.{name}"])
            )
    assert math.isnan(pooled["arrival_rate_open_per_min"])  # no opening windows given


def test_per_point_worst_and_spread_by_hand():
    from commgov.sim import EventLog, queue_kpis

    log = EventLog()
    waits = {"P1": [0.0, 1.0, 2.0], "P2": [10.0, 20.0]}
    k = 0
    for point, ws in waits.items():
        for w in ws:
            rid = f"r{k}"
            k += 1
            log.record(float(k), "queue_join", rid, actor=point)
            log.record(float(k) + w, "service_start", rid, actor=f"{point}/L1", value=w)
    got = queue_kpis(log, to_min=100.0, open_windows=[(0.0, 30.0), (20.0, 50.0), (90.0, 200.0)])
    p95 = {p: float(np.percentile(ws, 95)) for p, ws in waits.items()}
    assert got.worst_point_wait_p95_min == p95["P2"]
    assert got.point_wait_p95_spread_min == p95["P2"] - p95["P1"]
    assert got.worst_point_mean_wait_min == 15.0
    assert got.arrival_rate_open_per_min == 5 / 60.0  # union [0, 50) + [90, 100)
    only = queue_kpis(log, to_min=100.0, point_ids=["P1"])
    assert only.point_wait_p95_spread_min == 0.0
    assert only.worst_point_wait_p95_min == only.wait_p95_min
    closed = queue_kpis(log, to_min=100.0, open_windows=[(200.0, 300.0)])
    assert math.isnan(closed.arrival_rate_open_per_min)


@pytest.mark.parametrize(
    ("name", "kind", "unit"),
    [
        ("queues.arrival_rate_open_per_min", "mean", "per min"),
        ("queues.worst_point_wait_p95_min", "quantile", "min"),
        ("queues.point_wait_p95_spread_min", "quantile", "min"),
        ("queues.worst_point_mean_wait_min", "quantile", "min"),
    ],
)
def test_new_queue_kpis_are_in_the_registry(name: str, kind: str, unit: str):
    info = kpi_info(name)
    assert (info.kind, info.unit) == (kind, unit)


def _trips_per_half_hour(stagger: float) -> list[int]:
    s = Scenario.from_dict(
        {
            "name": "relay_breaks",
            "start": "2022-04-12T08:00:00+08:00",
            "horizon_min": 600,
            "community": {"dataset": "gusu", "seed": 0, "community": "320508017016"},
            "submodels": {
                "relay": {
                    "volunteers": 8,
                    "riders_per_hour": 60,
                    "shift_minutes": 240,
                    "break_minutes": 30,
                    "break_stagger_minutes": stagger,
                }
            },
        }
    )
    log = run_replicate(s, 0, 0).log
    starts = [log.t_min[i] for i in log.where("trip_start")]
    return np.histogram(starts, bins=np.arange(0.0, 601.0, 30.0))[0].tolist()


def test_issue_example_staggered_breaks_keep_the_gate_served():
    """Issue 15: everyone breaking at once leaves two half-hours with 0 trips started."""
    together = _trips_per_half_hour(0.0)
    assert together[8] == together[17] == 0  # breaks 240-270 and 510-540
    staggered = _trips_per_half_hour(240.0)
    assert min(staggered) > 0


def test_break_phases_and_shift_windows_with_a_phase():
    from commgov.sim import break_phases, shift_windows, stream_factory

    rngs = stream_factory(3)
    ids = [f"v{k}" for k in range(20)]
    phases = break_phases(ids, 120.0, rngs)
    assert all(0.0 <= p < 120.0 for p in phases.values())
    assert len(set(phases.values())) == 20
    assert break_phases(ids[:5], 120.0, rngs) == {v: phases[v] for v in ids[:5]}
    assert break_phases(ids, 0.0, rngs) == dict.fromkeys(ids, 0.0)
    with pytest.raises(ValueError):
        break_phases(ids, -1.0, rngs)
    assert shift_windows(0.0, 600.0, 240.0, 30.0, phase_min=0.0) == shift_windows(
        0.0, 600.0, 240.0, 30.0
    )
    w = shift_windows(60.0, 600.0, 240.0, 30.0, phase_min=100.0)
    assert w == ((60.0, 200.0), (230.0, 470.0), (500.0, 600.0))
    with pytest.raises(ValueError):
        shift_windows(0.0, 600.0, 240.0, 30.0, phase_min=240.0)


def test_no_stagger_keeps_the_relay_kpis_of_before():
    base = {
        "name": "relay_shifts",
        "start": "2022-04-12T08:00:00+08:00",
        "horizon_min": 600,
        "community": {"dataset": "gusu", "seed": 0, "community": "320508017016"},
        "submodels": {"relay": {"volunteers": 8, "shift_minutes": 240}},
    }
    a = run_replicate(Scenario.from_dict(base), 0, 11).kpis
    base["submodels"]["relay"]["break_stagger_minutes"] = 0.0  # type: ignore[index]
    assert run_replicate(Scenario.from_dict(base), 0, 11).kpis == a
