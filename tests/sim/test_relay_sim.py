"""Relay simulation: trips by hand, grouping, shelf, duty windows, closed forms, determinism.

Closed forms: one volunteer carrying one parcel per trip to one building is an M/G/1 queue
whose service is the trip, so the mean wait at the gate is Pollaczek–Khinchine's
``λ E[S²] / (2 (1 − ρ))`` (Pollaczek 1930; Khinchine 1932; Gross & Harris §5.1.1); the
saturated throughput of ``n`` volunteers of capacity ``k`` is ``n·k / cycle`` (reference/
simulation.md §4.3).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from scipy import stats

from commgov.matching.relay import (
    GateVolunteer,
    Parcel,
    RelayBuilding,
    RelayProblem,
    door_offset_seconds,
    trip_seconds,
)
from commgov.sim import (
    RELAY_TRIP_STREAM,
    EventLog,
    GateBuilding,
    ParcelArrivals,
    RelayGate,
    RelayVolunteer,
    gate_from_problem,
    relay_kpis,
    rider_arrivals,
    run_relay,
    schedule_arrivals,
    stream_factory,
    volunteers_from_problem,
)

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2022, 4, 12, 8, 0, tzinfo=TZ)


def fixed(rows: list[tuple[float, str]]) -> ParcelArrivals:
    """Parcels (time, building) with ids p0, p1, ... from rider r."""
    return ParcelArrivals(tuple(t for t, _ in rows), tuple(f"p{i}" for i in range(len(rows))),
                          tuple(b for _, b in rows), tuple("r" for _ in rows))


def events(log: EventLog, kind: str) -> list[tuple[float, str, str, float]]:
    return [(log.t_min[i], log.entity[i], log.actor[i], log.value[i]) for i in log.where(kind)]


GATE = RelayGate((GateBuilding("A", 240.0, 1.5), GateBuilding("B", 80.0, 1.0)),
                 handover_minutes=2.0)


def test_one_trip_by_hand():
    log = run_relay(GATE, fixed([(0.0, "A")] * 3), [RelayVolunteer("v", 4)], stream_factory(0))
    # handover 2 + walk 240/80 = 3, then 1.5 per door, walk back 3
    assert events(log, "parcel_delivered") == [
        (6.5, "p0", "v", 6.5), (8.0, "p1", "v", 8.0), (9.5, "p2", "v", 9.5)]
    assert events(log, "trip_start") == [(0.0, "A", "v", 3.0)]
    assert events(log, "trip_end") == [(12.5, "A", "v", 12.5)]
    assert events(log, "volunteer_busy") == [(0.0, "v", "relay", 12.5)]


def test_trip_time_matches_the_planners_rule():
    problem = RelayProblem(
        timezone="Asia/Shanghai",
        buildings=[RelayBuilding(id="b", walk_m=400.0, floors=6), RelayBuilding(id="c", walk_m=0)],
        volunteers=[GateVolunteer(id="v1", availability=[
            {"start": T0, "end": T0 + timedelta(hours=2)}])],
        parcels=[Parcel(id=f"p{i}", household_id=f"h{i}", building_id="b",
                        arrival=T0 + timedelta(minutes=10)) for i in range(3)],
    )
    gate = gate_from_problem(problem)
    vols = volunteers_from_problem(problem, T0)
    assert vols == [RelayVolunteer("v1", 4, ((0.0, 120.0),))]
    arrivals = schedule_arrivals(problem, T0)
    assert arrivals.t_min == (10.0, 10.0, 10.0)
    log = run_relay(gate, arrivals, vols, stream_factory(0))
    (trip,) = events(log, "trip_end")
    b = problem.buildings[0]
    assert trip[3] * 60 == pytest.approx(trip_seconds(problem, b, 3), abs=1.0)
    last_door = max(t for t, *_ in events(log, "parcel_delivered"))
    assert (last_door - 10.0) * 60 == pytest.approx(door_offset_seconds(problem, b, 3), abs=1.0)


def test_volunteer_takes_oldest_parcel_and_groups_its_building():
    arr = fixed([(0.0, "B"), (0.0, "A"), (0.0, "B"), (0.0, "B")])
    log = run_relay(GATE, arr, [RelayVolunteer("v", 2)], stream_factory(0))
    starts = [(e, v) for _, e, _, v in events(log, "trip_start")]
    assert starts == [("B", 2.0), ("A", 1.0), ("B", 1.0)]
    order = [e for _, e, _, _ in events(log, "parcel_delivered")]
    assert order == ["p0", "p2", "p1", "p3"]


def test_shelf_overflow_is_logged_and_parcels_still_delivered():
    gate = RelayGate(GATE.buildings, shelf_capacity=2)
    arr = fixed([(0.0, "B")] * 5)
    log = run_relay(gate, arr, [RelayVolunteer("v", 1, ((30.0, math.inf),))], stream_factory(0))
    assert [e for _, e, _, _ in events(log, "shelf_overflow")] == ["p2", "p3", "p4"]
    assert [v for *_, v in events(log, "parcel_at_gate")] == [1, 2, 3, 4, 5]
    k = relay_kpis(log, to_min=200.0)
    assert (k.arrived, k.delivered, k.shelf_overflows, k.shelf_max, k.backlog_end) == (
        5, 5, 3, 5, 0)
    assert k.trips == 5 and k.parcels_per_trip == 1.0


def test_duty_windows_start_and_stop_trips():
    vol = RelayVolunteer("v", 1, ((10.0, 20.0), (100.0, 110.0)))
    arr = fixed([(0.0, "B"), (15.0, "B"), (25.0, "B"), (50.0, "B")])
    log = run_relay(GATE, arr, [vol], stream_factory(0))
    # B trip: 2 + 1 + 1 + 1 = 5 min; starts at 10 and 15 (inside), then idle past 20
    assert [t for t, *_ in events(log, "trip_start")] == [10.0, 15.0, 100.0, 105.0]
    log = run_relay(GATE, arr, [vol], stream_factory(0), until_min=60.0)
    k = relay_kpis(log, to_min=60.0)
    assert (k.arrived, k.delivered, k.backlog_end) == (4, 2, 2)


def test_saturated_throughput_is_k_over_cycle():
    gate = RelayGate((GateBuilding("A", 400.0, 1.0),), handover_minutes=2.0)
    arr = fixed([(0.0, "A")] * 2000)
    vols = [RelayVolunteer(f"v{i}", 8) for i in range(5)]
    log = run_relay(gate, arr, vols, stream_factory(0), until_min=600.0)
    cycle = 2.0 + 2 * 400.0 / 80.0 + 8 * 1.0  # 20 min per 8 parcels
    k = relay_kpis(log, to_min=600.0)
    assert k.deliveries_per_hour == pytest.approx(5 * 8 * 60.0 / cycle, rel=0.01)


@pytest.mark.parametrize("cv", [0.0, 0.5])
def test_single_carrier_mean_wait_is_pollaczek_khinchine(cv):
    """M/G/1: one volunteer, one parcel per trip; gate-to-door = wait + handover + walk + door."""
    gate = RelayGate((GateBuilding("A", 160.0, 1.0),), handover_minutes=1.0, trip_cv=cv)
    trip = 1.0 + 2 * 2.0 + 1.0  # 6 min
    lam = 0.12  # per minute: ρ = 0.72
    warm, window = 300.0, 1500.0
    means = []
    for r in range(200):
        rngs = stream_factory(99, r)
        arr = rider_arrivals(gate, lam * 60.0, warm + window, rngs)
        log = run_relay(gate, arr, [RelayVolunteer("v", 1)], rngs)
        g2d = [log.value[i] for i in log.where("parcel_delivered")
               if warm <= log.t_min[i] - log.value[i] < warm + window]
        means.append(np.mean(g2d))
    x = np.array(means)
    es2 = trip**2 * (1.0 + cv**2)  # lognormal factor of mean 1: E[S²] = S²(1 + cv²)
    rho = lam * trip
    expected = lam * es2 / (2 * (1 - rho)) + 1.0 + 2.0 + 1.0
    half = stats.t.ppf(0.995, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    assert abs(x.mean() - expected) <= half, (x.mean(), expected, half)


def test_rider_batches_and_building_weights():
    gate = RelayGate((GateBuilding("A", 0.0, 1.0, weight=3.0), GateBuilding("B", 0.0, 1.0)))
    arr = rider_arrivals(gate, 60.0, 600.0, stream_factory(3), parcels_per_rider=4.0,
                         batch="poisson")
    riders = set(arr.rider_ids)
    assert len(arr) / len(riders) == pytest.approx(4.0, rel=0.1)
    assert 500 < len(riders) < 700
    assert arr.building_ids.count("A") / len(arr) == pytest.approx(0.75, abs=0.04)
    assert list(arr.t_min) == sorted(arr.t_min)
    fixed_batch = rider_arrivals(gate, 60.0, 600.0, stream_factory(3), parcels_per_rider=2)
    assert len(fixed_batch) == 2 * len(set(fixed_batch.rider_ids))
    with pytest.raises(ValueError):
        rider_arrivals(gate, 60.0, 600.0, stream_factory(3), parcels_per_rider=0.5)


def test_same_seed_same_log_and_volunteers_do_not_change_parcels():
    gate = RelayGate(GATE.buildings, shelf_capacity=10, trip_cv=0.3)
    vols = [RelayVolunteer(f"v{i}", 3) for i in range(4)]

    def run(seed: int, n: int) -> EventLog:
        rngs = stream_factory(seed, 1)
        return run_relay(gate, rider_arrivals(gate, 40.0, 240.0, rngs, parcels_per_rider=3),
                         vols[:n], rngs)

    assert run(1, 4).columns() == run(1, 4).columns()
    assert run(1, 4).columns() != run(2, 4).columns()
    assert events(run(1, 4), "parcel_at_gate")[:5] == events(run(1, 3), "parcel_at_gate")[:5]


def test_removing_a_volunteer_leaves_another_volunteers_trip_draws_unchanged():
    gate = RelayGate((GateBuilding("A", 80.0, 1.0),), handover_minutes=1.0, trip_cv=0.4)
    base = 1.0 + 2 * 1.0 + 1.0  # deterministic one-parcel trip, 4 min
    arr = fixed([(float(t), "A") for t in range(0, 120, 3)])
    early = RelayVolunteer("early", 1, ((0.0, 60.0),))
    late = RelayVolunteer("late", 1, ((60.0, 200.0),))

    def factors(vols: list[RelayVolunteer]) -> list[float]:
        log = run_relay(gate, arr, vols, stream_factory(5))
        return [v / base for _, _, who, v in events(log, "trip_end") if who == "late"]

    both, alone = factors([early, late]), factors([late])
    n = min(len(both), len(alone))
    assert n > 10 and both[:n] == pytest.approx(alone[:n], rel=1e-12)
    direct = stream_factory(5)(RELAY_TRIP_STREAM, "late")
    s2 = math.log1p(0.4**2)
    assert alone[:n] == pytest.approx(
        direct.lognormal(-s2 / 2, math.sqrt(s2), 1024)[:n].tolist(), rel=1e-12)


def test_fatigue_slows_later_trips():
    gate = RelayGate((GateBuilding("A", 80.0, 1.0),), handover_minutes=1.0)
    arr = fixed([(0.0, "A")] * 40)
    log = run_relay(gate, arr, [RelayVolunteer("v", 1, fatigue_per_hour=0.1)],
                    stream_factory(0))
    trips = [v for *_, v in events(log, "trip_end")]
    assert trips[0] == pytest.approx(4.0)
    assert trips[-1] > trips[0] and trips == sorted(trips)
    # 15 trips ≈ 1 h worked → about +10 %
    assert trips[15] == pytest.approx(4.0 * (1 + 0.1 * sum(trips[:15]) / 60.0))


def test_validation_errors():
    with pytest.raises(ValueError):
        RelayVolunteer("v", 0)
    with pytest.raises(ValueError):
        RelayVolunteer("v", 1, ((10.0, 5.0),))
    with pytest.raises(ValueError):
        RelayGate((GateBuilding("A", 1.0, 1.0), GateBuilding("A", 2.0, 1.0)))
    with pytest.raises(ValueError, match="unknown buildings"):
        run_relay(GATE, fixed([(0.0, "Z")]), [], stream_factory(0))
    with pytest.raises(ValueError):
        relay_kpis(EventLog(), to_min=math.inf)


def test_relay_submodel_from_a_scenario():
    from commgov.sim import Scenario, get_submodel, run_replicate

    assert get_submodel("relay").qualname == "commgov.sim._relay:relay"
    base = Scenario.from_dict({
        "name": "huchiyuan_relay", "start": "2022-04-12T08:00:00+08:00", "horizon_min": 480,
        "community": {"dataset": "gusu", "seed": 0, "community": "320508017016"},
        "submodels": {"relay": {"volunteers": 10, "capacity": 6, "riders_per_hour": 40,
                                "parcels_per_rider": 3, "batch": "poisson",
                                "shelf_capacity": 80, "trip_cv": 0.2}},
    })
    a, b = run_replicate(base, 0, 3), run_replicate(base, 0, 3)
    assert a.kpis == b.kpis and a.log.columns() == b.log.columns()
    assert a.kpis["relay.delivered"] > 0 and a.kpis["volunteer_hours"] > 0
    fewer = run_replicate(base.with_updates({"submodels.relay.volunteers": 6}), 0, 3)
    assert events(fewer.log, "parcel_at_gate")[0] == events(a.log, "parcel_at_gate")[0]
    assert [e[1] for e in events(fewer.log, "parcel_at_gate")] == [
        e[1] for e in events(a.log, "parcel_at_gate")]  # the same parcels arrive
    assert fewer.kpis["relay.gate_to_door_mean_min"] > a.kpis["relay.gate_to_door_mean_min"]
    assert {e[2] for e in events(fewer.log, "trip_start")} == {
        f"relay-v{k:03d}" for k in range(1, 7)}


# ---------------------------------------------------------------------------------- shifts


def test_shift_windows_and_truncation():
    from commgov.sim import shift_windows, truncate_windows

    assert shift_windows(0.0, 480.0) == ((0.0, 480.0),)
    assert shift_windows(60.0, 600.0, 240.0, 30.0) == ((60.0, 300.0), (330.0, 570.0))
    assert shift_windows(0.0, 500.0, 240.0, 30.0)[-1] == (270.0, 500.0)
    assert shift_windows(0.0, 100.0, 240.0, 30.0, offset_min=120.0) == ()
    assert truncate_windows([(0.0, 10.0), (20.0, 30.0)], leave_min=5.0) == ((0.0, 5.0),)
    with pytest.raises(ValueError):
        shift_windows(0.0, math.inf, 240.0)


def test_leave_and_recruit_times_are_per_entity_and_poisson():
    from commgov.sim import leave_times, recruit_times

    rngs = stream_factory(8)
    ids = [f"v{i}" for i in range(2000)]
    leave = leave_times(ids, 0.5, rngs)
    assert np.mean(list(leave.values())) == pytest.approx(120.0, rel=0.08)
    fewer = leave_times(ids[1:], 0.5, rngs)  # removing v0 changes nobody else's draw
    assert all(fewer[v] == leave[v] for v in ids[1:])
    assert leave_times(ids[:3], 0.0, rngs) == dict.fromkeys(ids[:3], math.inf)
    joins = recruit_times(6.0, 0.0, 6000.0, rngs)
    assert len(joins) == pytest.approx(600, rel=0.15) and joins == sorted(joins)
    assert recruit_times(6.0, 0.0, 3000.0, rngs) == [t for t in joins if t < 3000.0]


def test_relay_submodel_with_shifts_attrition_and_recruits():
    from commgov.sim import Scenario, run_replicate

    base = Scenario.from_dict({
        "name": "relay_shifts", "start": "2022-04-12T08:00:00+08:00", "horizon_min": 600,
        "community": {"dataset": "gusu", "seed": 0, "community": "320508017016"},
        "submodels": {"relay": {"volunteers": 8, "riders_per_hour": 30,
                                "shift_minutes": 240, "break_minutes": 30,
                                "attrition_per_hour": 0.1, "recruits_per_hour": 0.5,
                                "fatigue_per_hour": 0.05}},
    })
    res = run_replicate(base, 0, 11)
    log = res.log
    left = {log.entity[i]: log.t_min[i] for i in log.where("volunteer_left")}
    joined = {log.entity[i]: log.t_min[i] for i in log.where("volunteer_joined")}
    assert left and joined and all(v.startswith("relay-r") for v in joined)
    assert res.kpis["relay.volunteers_left"] == len(left)
    assert res.kpis["relay.volunteers_joined"] == len(joined)
    for i in log.where("trip_start"):  # nobody starts a trip off duty
        t, vid = log.t_min[i], log.actor[i]
        assert t < left.get(vid, math.inf) and t >= joined.get(vid, 0.0)
        assert not (240.0 <= (t - joined.get(vid, 0.0)) % 270.0 < 270.0)
