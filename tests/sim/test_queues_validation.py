"""Desk-queue submodel: validation against closed forms and Ciw, determinism, unit cases.

Validation (issue 6, "Done when"): M/M/c with c ∈ {1, 3, 6} and utilisation ρ ∈ {0.7, 0.9},
200 replicates with fixed seeds. Each replicate starts empty, runs a warm-up that is discarded
and measures residents who join in the window ``[warm-up, warm-up + window)``. Per replicate
we get the mean wait, the share who waited, the time-average number in system ``L̂`` and
``λ̂·Ŵ``; the replicates are independent, so a Student-t 99 % interval over them is exact up to
normality of the replicate means. Closed forms: Erlang C and ``Wq = C / (cμ − λ)`` (Erlang
1917; :mod:`commgov.scheduling.staffing`), ``L = λ(Wq + 1/μ)`` (Little 1961).

Warm-ups are chosen from the exact transient of the birth-death chain started empty
(:func:`_transient_wait_bias`): the bias they leave is below a tenth of the interval
half-width (checked in :func:`test_warmup_bias_is_negligible`). Time unit: the mean service
time (μ = 1 per minute).

The differential test runs the same M/M/3 queue in Ciw (Palmer et al. 2019, *J. Simulation*
13(1):68-82) and compares mean waits with a Welch 99 % interval on the difference.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest
from scipy import stats

from commgov._random import STREAMS
from commgov.scheduling.staffing import erlang_c, mean_queue_length, mean_wait_min
from commgov.sim import (
    Arrivals,
    DeskPoint,
    EventLog,
    ServiceTime,
    SlotLoad,
    desk_points,
    plan_arrivals,
    poisson_arrivals,
    queue_kpis,
    run_desk_queues,
    slot_arrivals,
    stream_factory,
)

SEED = 20_261_130
REPLICATES = 200
LEVEL = 0.99

#: (lanes c, utilisation ρ, warm-up minutes, measurement window minutes); μ = 1/min.
CASES = [
    (1, 0.7, 100.0, 1500.0),
    (1, 0.9, 1000.0, 2000.0),
    (3, 0.7, 100.0, 600.0),
    (3, 0.9, 300.0, 900.0),
    (6, 0.7, 60.0, 360.0),
    (6, 0.9, 200.0, 500.0),
]


def ci(x: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Student-t interval of the mean of independent replicate values."""
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


@dataclass(frozen=True)
class Replicates:
    wait: np.ndarray
    p_wait: np.ndarray
    in_system: np.ndarray
    little: np.ndarray  # λ̂ · Ŵ per replicate


@cache
def simulate(c: int, rho: float, warmup: float, window: float) -> Replicates:
    point = DeskPoint("desk", c, ServiceTime(1.0))
    rows = []
    for r in range(REPLICATES):
        arrivals = poisson_arrivals(point, rho * c, warmup + window, stream_factory(SEED, r))
        log = run_desk_queues([point], {"desk": arrivals})
        k = queue_kpis(log, from_min=warmup, to_min=warmup + window)
        assert k.unserved == 0 and k.served > 0
        rows.append((k.mean_wait_min, k.p_wait, k.mean_in_system,
                     k.arrival_rate_per_min * k.mean_time_in_system_min))
    a = np.array(rows)
    return Replicates(a[:, 0], a[:, 1], a[:, 2], a[:, 3])


def closed_form(c: int, rho: float) -> tuple[float, float, float]:
    """(Wq minutes, P(wait > 0), L) of M/M/c with μ = 1/min (staffing takes per-hour rates)."""
    lam_h, mu_h = rho * c * 60.0, 60.0
    wq = mean_wait_min(c, lam_h, mu_h)
    return wq, erlang_c(c, lam_h, mu_h), rho * c * (wq + 1.0)


@pytest.mark.parametrize(("c", "rho", "warmup", "window"), CASES)
def test_erlang_c_mean_wait_and_p_wait_inside_99pct_ci(c, rho, warmup, window):
    sim = simulate(c, rho, warmup, window)
    wq, p_wait, _ = closed_form(c, rho)
    lo, hi = ci(sim.wait)
    assert lo <= wq <= hi, (c, rho, wq, lo, hi)
    # the interval is informative: half-width under 12 % of Wq
    assert (hi - lo) / 2 < 0.12 * wq
    lo, hi = ci(sim.p_wait)
    assert lo <= p_wait <= hi, (c, rho, p_wait, lo, hi)
    assert (hi - lo) / 2 < 0.03


@pytest.mark.parametrize(("c", "rho", "warmup", "window"), CASES)
def test_littles_law_inside_99pct_ci(c, rho, warmup, window):
    sim = simulate(c, rho, warmup, window)
    _, _, big_l = closed_form(c, rho)
    lo, hi = ci(sim.in_system)
    assert lo <= big_l <= hi, (c, rho, big_l, lo, hi)
    # L̂ − λ̂Ŵ has mean 0 in steady state (both unbiased for L): 0 inside its interval
    lo, hi = ci(sim.in_system - sim.little)
    assert lo <= 0.0 <= hi, (c, rho, lo, hi)
    lo, hi = ci(sim.little)
    assert lo <= big_l <= hi


def _transient_wait_bias(c: int, rho: float, warmup: float, window: float) -> float:
    """Expected Lq/λ over the window minus its steady value, for a queue started empty.

    The M/M/c queue-length chain (truncated at 400, far beyond any probable state) is solved
    by matrix exponential (Kolmogorov forward equations) on a one-minute grid.
    """
    from scipy.sparse import diags
    from scipy.sparse.linalg import expm_multiply

    lam, n_max = rho * c, 400
    down = np.minimum(np.arange(1, n_max + 1), c).astype(float)
    q = diags([np.full(n_max, lam), down], [1, -1], shape=(n_max + 1, n_max + 1)).tolil()
    q.setdiag(-np.asarray(q.sum(axis=1)).ravel())
    p0 = np.zeros(n_max + 1)
    p0[0] = 1.0
    steps = int(warmup + window)
    p = expm_multiply(q.T.tocsr(), p0, start=0.0, stop=float(steps), num=steps + 1)
    lq = p @ np.maximum(np.arange(n_max + 1) - c, 0)
    steady = mean_queue_length(c, lam, 1.0)
    return float((lq[int(warmup):].mean() - steady) / lam)


@pytest.mark.parametrize(("c", "rho", "warmup", "window"), CASES)
def test_warmup_bias_is_negligible(c, rho, warmup, window):
    sim = simulate(c, rho, warmup, window)
    lo, hi = ci(sim.wait)
    assert abs(_transient_wait_bias(c, rho, warmup, window)) < 0.1 * (hi - lo) / 2


# ---------------------------------------------------------------------------- Ciw (V4)


def _ciw_mean_waits(c: int, lam: float, warmup: float, window: float, reps: int) -> np.ndarray:
    ciw = pytest.importorskip("ciw")
    state, ciw_rng = random.getstate(), ciw.rng  # ciw.seed sets global state: restore it
    try:
        out = []
        for r in range(reps):
            net = ciw.create_network(
                arrival_distributions=[ciw.dists.Exponential(rate=lam)],
                service_distributions=[ciw.dists.Exponential(rate=1.0)],
                number_of_servers=[c],
            )
            ciw.seed(SEED + r)
            q = ciw.Simulation(net)
            q.simulate_until_max_time(warmup + window + 200.0)  # in-window residents finish
            w = [rec.waiting_time for rec in q.get_all_records()
                 if warmup <= rec.arrival_date < warmup + window]
            out.append(np.mean(w))
        return np.array(out)
    finally:
        random.setstate(state)
        ciw.rng = ciw_rng


def test_mean_wait_matches_ciw():
    c, rho, warmup, window, reps = 3, 0.8, 60.0, 400.0, 100
    point = DeskPoint("desk", c, ServiceTime(1.0))
    ours = np.array([
        queue_kpis(run_desk_queues([point], {"desk": poisson_arrivals(
            point, rho * c, warmup + window, stream_factory(SEED, r))}),
            from_min=warmup, to_min=warmup + window).mean_wait_min
        for r in range(reps)
    ])
    theirs = _ciw_mean_waits(c, rho * c, warmup, window, reps)
    diff = ours.mean() - theirs.mean()
    var_o, var_t = ours.var(ddof=1) / reps, theirs.var(ddof=1) / reps
    dof = (var_o + var_t) ** 2 / (var_o**2 / (reps - 1) + var_t**2 / (reps - 1))
    half = stats.t.ppf(0.5 + LEVEL / 2, dof) * math.sqrt(var_o + var_t)
    assert abs(diff) <= half, (ours.mean(), theirs.mean(), half)
    wq = closed_form(c, rho)[0]
    for x in (ours, theirs):
        lo, hi = ci(x)
        assert lo <= wq <= hi


# ---------------------------------------------------------------------------- randomness


def test_streams_registered_append_only():
    names = ["sim_queue_arrivals", "sim_queue_service"]
    assert all(n in STREAMS for n in names)
    assert STREAMS["sim"] == 12  # earlier numbers never move


def test_same_seed_same_log_other_seed_other_log():
    point = DeskPoint("P", 2, ServiceTime(1.0))

    def run(seed: int) -> dict:
        arr = poisson_arrivals(point, 1.5, 300.0, stream_factory(seed, 3))
        return run_desk_queues([point], {"P": arr}).columns()

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_longer_horizon_only_appends_residents():
    point = DeskPoint("P", 1, ServiceTime(1.0))
    short = poisson_arrivals(point, 0.9, 1000.0, stream_factory(1))
    long = poisson_arrivals(point, 0.9, 10_000.0, stream_factory(1))  # > one draw chunk
    n = len(short)
    assert long.t_min[:n] == short.t_min and long.service_min[:n] == short.service_min
    assert len(long) > 4096


def test_removing_a_lane_leaves_every_residents_draws_unchanged():
    rngs = stream_factory(11, 2)
    six = DeskPoint("P", 6, ServiceTime(0.6))
    four = DeskPoint("P", 4, ServiceTime(0.6))
    a6 = poisson_arrivals(six, 8.0, 240.0, rngs)
    a4 = poisson_arrivals(four, 8.0, 240.0, rngs)
    assert a6 == a4  # lanes draw nothing: common random numbers across staffing levels
    log6 = run_desk_queues([six], {"P": a6})
    log4 = run_desk_queues([four], {"P": a4})
    joins = [(log6.t_min[i], log6.entity[i]) for i in log6.where("queue_join")]
    assert joins == [(log4.t_min[i], log4.entity[i]) for i in log4.where("queue_join")]
    # fewer lanes → longer waits, residents served by the same time or later
    assert queue_kpis(log4, to_min=240.0).mean_wait_min > queue_kpis(
        log6, to_min=240.0).mean_wait_min


def test_removing_a_point_or_slot_leaves_the_others_unchanged():
    rngs = stream_factory(4)
    p, q = DeskPoint("P", 2, ServiceTime(0.6)), DeskPoint("Q", 1, ServiceTime(0.6))
    slots = [SlotLoad(0, 0.0, 30.0, 40), SlotLoad(1, 30.0, 30.0, 35), SlotLoad(2, 60.0, 30.0, 20)]
    both = {"P": slot_arrivals(p, slots, rngs), "Q": slot_arrivals(q, slots[:2], rngs)}
    log_both = run_desk_queues([p, q], both)
    log_p = run_desk_queues([p], {"P": both["P"]})

    def rows(log: EventLog, point: str) -> list[tuple]:
        return [r for r in zip(log.t_min, log.kind, log.entity, log.actor, log.value,
                               strict=True) if r[2].startswith(point + "/")]

    assert rows(log_both, "P") == rows(log_p, "P")
    # dropping slot 1 keeps slot 0's and slot 2's residents (times and services) exactly
    fewer = slot_arrivals(p, [slots[0], slots[2]], rngs)
    keep = {rid for rid in both["P"].resident_ids if "/s1#" not in rid}
    assert set(fewer.resident_ids) == keep
    old = dict(zip(both["P"].resident_ids,
                   zip(both["P"].t_min, both["P"].service_min, strict=True), strict=True))
    for rid, t, s in zip(fewer.resident_ids, fewer.t_min, fewer.service_min, strict=True):
        assert old[rid] == (t, s)


# ------------------------------------------------------------------------------ unit cases


def _fixed(point: str, times: list[float], service: list[float]) -> Arrivals:
    return Arrivals(point, tuple(times), tuple(f"{point}#{k}" for k in range(len(times))),
                    tuple(service))


def test_fifo_waits_by_hand():
    point = DeskPoint("P", 1, ServiceTime(1.0))
    log = run_desk_queues([point], {"P": _fixed("P", [0.0, 0.5, 1.0], [2.0, 1.0, 1.0])})
    starts = [(log.entity[i], log.value[i]) for i in log.where("service_start")]
    assert starts == [("P#0", 0.0), ("P#1", 1.5), ("P#2", 2.0)]
    ends = [(log.t_min[i], log.value[i]) for i in log.where("service_end")]
    assert ends == [(2.0, 2.0), (3.0, 2.5), (4.0, 3.0)]
    k = queue_kpis(log, to_min=4.0)
    assert k.joined == k.served == 3 and k.p_wait == pytest.approx(2 / 3)
    assert k.mean_in_system == pytest.approx((2.0 + 2.5 + 3.0) / 4.0)


def test_idle_lanes_serve_at_once_and_longest_idle_first():
    point = DeskPoint("P", 2, ServiceTime(1.0))
    log = run_desk_queues([point], {"P": _fixed("P", [0.0, 5.0, 5.5], [1.0, 1.0, 1.0])})
    lanes = [log.actor[i] for i in log.where("service_start")]
    assert lanes == ["P/L1", "P/L2", "P/L1"]  # L2 idle since 0, L1 since 1
    assert all(log.value[i] == 0.0 for i in log.where("service_start"))


def test_opening_hours_wait_refuse_and_abandon():
    served = DeskPoint("P", 1, ServiceTime(1.0), open_min=10.0, close_min=13.0)
    arr = _fixed("P", [2.0, 11.0, 11.5, 13.0], [2.0, 2.0, 2.0, 1.0])
    log = run_desk_queues([served], {"P": arr})
    assert [(log.entity[i], log.value[i]) for i in log.where("service_start")] == [
        ("P#0", 8.0), ("P#1", 1.0), ("P#2", 2.5)]  # P#2 still served after closing
    assert [log.entity[i] for i in log.where("queue_refused")] == ["P#3"]
    left = DeskPoint("P", 1, ServiceTime(1.0), open_min=10.0, close_min=13.0,
                     serve_queue_at_close=False)
    log = run_desk_queues([left], {"P": arr})
    assert [(log.entity[i], log.value[i]) for i in log.where("queue_abandon")] == [("P#2", 1.5)]
    k = queue_kpis(log, to_min=20.0)
    assert (k.joined, k.served, k.unserved, k.refused) == (3, 2, 1, 1)


def test_until_cuts_the_run_and_kpis_censor_the_queue():
    point = DeskPoint("P", 1, ServiceTime(1.0))
    arr = _fixed("P", [0.0, 0.0, 0.0], [5.0, 5.0, 5.0])
    log = run_desk_queues([point], {"P": arr}, until_min=6.0)
    k = queue_kpis(log, to_min=6.0)
    assert (k.joined, k.served, k.unserved) == (3, 2, 1)
    assert k.mean_in_system == pytest.approx((5.0 + 6.0 + 6.0) / 6.0)


def test_lognormal_service_mean_and_cv():
    svc = ServiceTime(0.6, "lognormal", cv=0.5)
    x = svc.draw(np.random.default_rng(0), 200_000)
    assert x.mean() == pytest.approx(0.6, rel=0.01)
    assert x.std() / x.mean() == pytest.approx(0.5, rel=0.02)
    with pytest.raises(ValueError):
        ServiceTime(0.0)
    with pytest.raises(ValueError):
        DeskPoint("P", 0, svc)


def test_poisson_slot_arrivals_average_the_load():
    point = DeskPoint("P", 1, ServiceTime(0.6))
    slots = [SlotLoad(t, 30.0 * t, 30.0, 25) for t in range(40)]
    uni = slot_arrivals(point, slots, stream_factory(2))
    poi = slot_arrivals(point, slots, stream_factory(2), pattern="poisson")
    assert len(uni) == 1000 and list(uni.t_min) == sorted(uni.t_min)
    assert 900 < len(poi) < 1100 and len(poi) != 1000
    for a in (uni, poi):  # every resident arrives inside its slot
        for rid, t in zip(a.resident_ids, a.t_min, strict=True):
            slot = int(rid.split("/s")[1].split("#")[0])
            assert 30.0 * slot <= t < 30.0 * (slot + 1)


def test_fed_by_a_sampling_plan():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from commgov.scheduling import (
        SamplingBatch,
        SamplingBuilding,
        SamplingPoint,
        SamplingProblem,
        plan_sampling,
    )
    from commgov.types import GeoPoint, TimeWindow

    tz = ZoneInfo("Asia/Shanghai")
    window = TimeWindow(start=datetime(2022, 4, 10, 7, 0, tzinfo=tz),
                        end=datetime(2022, 4, 10, 9, 0, tzinfo=tz))
    opening = TimeWindow(start=datetime(2022, 4, 10, 7, 30, tzinfo=tz),
                         end=datetime(2022, 4, 10, 9, 0, tzinfo=tz))
    buildings = [
        SamplingBuilding(id=f"B{i}", location=GeoPoint(lon=120.6 + i * 1e-4, lat=31.3),
                         batches=[SamplingBatch(id=f"B{i}-{j}", building_id=f"B{i}",
                                                households=10, people=25) for j in range(2)])
        for i in range(4)
    ]
    points = [SamplingPoint(id="S1", location=GeoPoint(lon=120.6, lat=31.3), lanes=2),
              SamplingPoint(id="S2", location=GeoPoint(lon=120.6003, lat=31.3), lanes=1,
                            opening=opening)]
    problem = SamplingProblem(window=window, buildings=buildings, points=points)
    plan = plan_sampling(problem, time_limit_s=10.0)
    desks = desk_points(problem)
    assert [(d.id, d.lanes, d.open_min, d.close_min) for d in desks] == [
        ("S1", 2, 0.0, 120.0), ("S2", 1, 30.0, 120.0)]
    assert desks[0].service.mean_minutes == pytest.approx(0.6)
    arrivals = plan_arrivals(plan, problem, desks, stream_factory(9))
    per_point = {pid: 0 for pid in ("S1", "S2")}
    for load in plan.loads:
        per_point[load.point_id] += load.arrivals
    assert {pid: len(a) for pid, a in arrivals.items()} == per_point
    assert sum(per_point.values()) == 200
    log = run_desk_queues(desks, arrivals)
    k = queue_kpis(log, to_min=120.0)
    assert k.joined == k.served == 200 and k.refused == 0
    for pid, a in arrivals.items():  # nobody arrives before their point opens
        assert min(a.t_min) >= (30.0 if pid == "S2" else 0.0)


# ------------------------------------------------------------------ registered submodel


def test_queues_submodel_from_a_scenario():
    from commgov.sim import Scenario, get_submodel, run_replicate

    assert get_submodel("queues").qualname == "commgov.sim._queues:queues"
    base = Scenario.from_dict({
        "name": "huchiyuan_sampling", "start": "2022-04-11T19:00:00+08:00",
        "horizon_min": 1440,
        "community": {"dataset": "gusu", "seed": 0, "community": "320508017016"},
        "submodels": {"queues": {"lanes": 2}},
    })
    a, b = run_replicate(base, 0, 7), run_replicate(base, 0, 7)
    assert a.kpis == b.kpis and a.log.columns() == b.log.columns()
    assert a.kpis["queues.joined"] == a.kpis["queues.served"] > 1000
    more = run_replicate(base.with_updates({"submodels.queues.lanes": 4}), 0, 7)
    assert more.kpis["queues.mean_wait_min"] < a.kpis["queues.mean_wait_min"]

    def joins(res):  # common random numbers: the same residents at the same times
        log = res.log
        return [(log.t_min[i], log.entity[i]) for i in log.where("queue_join")]

    assert joins(more) == joins(a)
    assert joins(run_replicate(base, 1, 7)) != joins(a)


def test_lane_fatigue_slows_later_services():
    tired = DeskPoint("P", 1, ServiceTime(1.0), fatigue_per_hour=0.5)
    log = run_desk_queues([tired], {"P": _fixed("P", [0.0] * 100, [1.0] * 100)})
    took = np.diff([0.0] + [log.t_min[i] for i in log.where("service_end")])
    assert took[0] == 1.0 and took[-1] > took[0]
    assert took[60] == pytest.approx(1.0 + 0.5 * took[:60].sum() / 60.0)
