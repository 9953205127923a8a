"""Lanes per point, lane schedules and lane breaks of the sampling desks (issue 15 item 6).

Closed forms: a schedule that keeps the lanes open for the whole opening is the model
without one, event for event; a saturated lane with a break of B minutes swabs B / s fewer
residents (s the swab time); lanes closed by the schedule start no swab.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from pydantic import ValidationError

from commgov.errors import InputError
from commgov.sim import (
    Arrivals,
    DeskPoint,
    Scenario,
    ServiceTime,
    lane_windows,
    poisson_arrivals,
    run_desk_queues,
    run_replicate,
    stream_factory,
)

COMMUNITY = {"dataset": "gusu", "seed": 0, "community": "320508017016"}
POINTS = ("320508017016/S01", "320508017016/S02", "320508017016/S03")
OPEN = 690.0  # the points open at 06:30 the next morning (scenario start 19:00)


def _crowd(point: str, n: int, swab: float) -> Arrivals:
    """``n`` residents at minute 0, each swabbed in exactly ``swab`` minutes."""
    return Arrivals(point, (0.0,) * n, tuple(f"r{k:04d}" for k in range(n)), (swab,) * n)


def _served(point: DeskPoint, n: int = 2000, swab: float = 1.0) -> int:
    log = run_desk_queues([point], {point.id: _crowd(point.id, n, swab)})
    return len(log.where("service_start"))


@pytest.mark.parametrize("lanes", [1, 3])
@pytest.mark.parametrize("brk", [0.0, 15.0, 30.0, 45.0])
def test_a_break_costs_its_minutes_of_capacity(lanes: int, brk: float):
    """Saturated lanes, 1-minute swabs, 600 minutes open, no service after closing."""
    svc = ServiceTime(1.0)
    base = DeskPoint("P", lanes, svc, 0.0, 600.0, serve_queue_at_close=False)
    assert _served(base) == lanes * 600
    windows = ((0.0, 240.0), (240.0 + brk, math.inf)) if brk else ((0.0, math.inf),)
    rest = (((0.0, math.inf),),) * (lanes - 1)
    on_break = DeskPoint(
        "P", lanes, svc, 0.0, 600.0, serve_queue_at_close=False, lane_windows=(windows, *rest)
    )
    assert _served(on_break) == lanes * 600 - brk  # one lane's break: brk swabs lost


def test_lanes_open_for_the_whole_opening_are_the_model_without_a_schedule():
    svc = ServiceTime(0.6, "lognormal", 0.5)
    point = DeskPoint("P", 2, svc, 30.0, 400.0)
    arr = {"P": _crowd("P", 700, 0.6)}
    plain = run_desk_queues([point], arr)
    lanes, windows = lane_windows(
        "P", 30.0, 400.0, 2, stream_factory(0), schedule=[(0.0, 2), (200.0, 2)]
    )
    assert (lanes, windows) == (2, None)
    explicit = point.model_copy(update={"lane_windows": (((0.0, math.inf),),) * 2})
    for run in (
        run_desk_queues([point.model_copy(update={"lane_windows": windows})], arr),
        run_desk_queues([explicit], arr),
    ):
        assert (run.t_min, run.kind, run.entity, run.actor, run.value) == (
            plain.t_min,
            plain.kind,
            plain.entity,
            plain.actor,
            plain.value,
        )


def test_a_lane_closed_by_the_schedule_starts_no_swab():
    lanes, windows = lane_windows(
        "P", 0.0, 600.0, 3, stream_factory(0), schedule=[(120.0, 1), (300.0, 2)]
    )
    assert lanes == 3
    assert windows == (((0.0, math.inf),), ((0.0, 120.0), (300.0, math.inf)), ((0.0, 120.0),))
    point = DeskPoint(
        "P", lanes, ServiceTime(1.0), 0.0, 600.0, serve_queue_at_close=False, lane_windows=windows
    )
    log = run_desk_queues([point], {"P": _crowd("P", 3000, 1.0)})
    for i in log.where("service_start"):
        t, lane = log.t_min[i], log.actor[i]
        if lane == "P/L2":
            assert t < 120.0 or t >= 300.0
        if lane == "P/L3":
            assert t < 120.0
    assert len(log.where("service_start")) == 3 * 120 + 180 + 2 * 300


def test_lane_windows_with_staggered_breaks():
    rngs = stream_factory(2)
    _, together = lane_windows("P", 0.0, 600.0, 4, rngs, shift_minutes=120.0, break_minutes=30.0)
    assert together is not None and len(set(together)) == 1  # every lane breaks at once
    assert together[0][:2] == ((0.0, 120.0), (150.0, 270.0))
    _, staggered = lane_windows(
        "P", 0.0, 600.0, 4, rngs, shift_minutes=120.0, break_minutes=30.0, stagger_minutes=120.0
    )
    assert staggered is not None and len(set(staggered)) == 4
    for w in staggered:  # 30 minutes off after each shift, the first shift shortened
        assert all(b[0] - a[1] == pytest.approx(30.0) for a, b in itertools.pairwise(w))


@pytest.mark.parametrize(
    ("schedule", "message"),
    [([(10.0, 2), (10.0, 1)], "increasing"), ([(0.0, 0)], "no lane"), ([(0.0, -1)], "≥ 0")],
)
def test_lane_windows_refuses_bad_schedules(schedule, message):
    with pytest.raises(ValueError, match=message):
        lane_windows("P", 0.0, 600.0, 2, stream_factory(0), schedule=schedule)


def test_desk_point_needs_one_set_of_windows_per_lane():
    with pytest.raises(ValidationError, match="one set of windows per lane"):
        DeskPoint("P", 2, ServiceTime(1.0), lane_windows=(((0.0, 10.0),),))
    with pytest.raises(ValidationError):
        DeskPoint("P", 1, ServiceTime(1.0), lane_windows=(((10.0, 5.0),),))


def _day(**queues: object) -> Scenario:
    return Scenario.from_dict(
        {
            "name": "lanes",
            "start": "2022-04-11T19:00:00+08:00",
            "horizon_min": 1440,
            "community": COMMUNITY,
            "submodels": {"queues": {"lanes": 3, **queues}},
        }
    )


def test_a_constant_schedule_and_per_point_lanes_keep_the_day_byte_for_byte():
    plain = run_replicate(_day(), 0, 0)
    for same in (
        _day(lane_schedule={"*": [[0, 3]]}),
        _day(lanes_by_point=dict.fromkeys(POINTS, 3)),
        _day(lane_schedule={POINTS[0]: [[OPEN, 3], [900, 3]]}),
    ):
        r = run_replicate(same, 0, 0)
        assert r.kpis == plain.kpis
        assert (r.log.t_min, r.log.entity, r.log.actor) == (
            plain.log.t_min,
            plain.log.entity,
            plain.log.actor,
        )


def test_lanes_per_point_change_only_their_point():
    r = run_replicate(_day(lanes_by_point={POINTS[0]: 1}), 0, 0)
    lanes = {r.log.actor[i] for i in r.log.where("service_start")}
    assert {x for x in lanes if x.startswith(POINTS[0])} == {f"{POINTS[0]}/L1"}
    assert {x for x in lanes if x.startswith(POINTS[1])} == {f"{POINTS[1]}/L{k}" for k in (1, 2, 3)}
    plain = run_replicate(_day(), 0, 0).kpis
    assert r.kpis["queues.worst_point_wait_p95_min"] > plain["queues.worst_point_wait_p95_min"]


def test_issue_example_lane_breaks_together_leave_a_point_unstaffed():
    def starts_in_break(stagger: float) -> int:
        r = run_replicate(
            _day(lane_shift_minutes=120, lane_break_minutes=30, lane_break_stagger_minutes=stagger),
            0,
            0,
        )
        return sum(
            1 for i in r.log.where("service_start") if OPEN + 120 <= r.log.t_min[i] < OPEN + 150
        )

    assert starts_in_break(0.0) == 0  # every lane of every point on its break
    assert starts_in_break(120.0) > 0


@pytest.mark.parametrize(
    ("queues", "field"),
    [
        ({"lanes_by_point": {POINTS[0]: 0}}, f"lanes_by_point.{POINTS[0]}"),
        ({"lane_schedule": {"*": [[100, 2], [50, 1]]}}, "lane_schedule"),
        ({"lane_schedule": {"*": [[100, -1]]}}, "lane_schedule"),
        ({"lane_shift_minutes": 0}, "lane_shift_minutes"),
        ({"lane_break_stagger_minutes": -3}, "lane_break_stagger_minutes"),
    ],
)
def test_lane_parameters_are_validated(queues: dict[str, object], field: str):
    with pytest.raises(InputError) as info:
        _day(**queues)
    assert any(
        i.record == "scenario" and i.field.startswith(f"submodels.queues.{field}")
        for i in info.value.issues
    ), info.value.issues


def test_unknown_points_and_empty_schedules_are_input_errors_at_run_time():
    with pytest.raises(InputError) as info:
        run_replicate(_day(lanes_by_point={"S99": 2}), 0, 0)
    (issue,) = info.value.issues
    assert (issue.field, issue.value) == ("submodels.queues.lanes_by_point.S99", "S99")
    with pytest.raises(InputError) as info:
        run_replicate(_day(lane_schedule={"*": [[0, 0]]}), 0, 0)
    (issue,) = info.value.issues
    assert issue.field == "submodels.queues.lane_schedule.*"
    assert "no lane" in issue.constraint


def _stepped(step: float) -> DeskPoint:
    lanes, windows = lane_windows("desk", 0.0, 1e6, 2, stream_factory(0), schedule=[(step, 3)])
    return DeskPoint("desk", lanes, ServiceTime(1.0), 0.0, 1e6, lane_windows=windows)


def test_a_schedule_from_2_to_3_lanes_is_m_m_2_then_m_m_3_resident_by_resident():
    """Residents who join well before the step wait as in M/M/2, well after it as in M/M/3.

    (Exact when the queue empties between the step and 200 minutes later, as it does at
    ρ = 0.47 in every replicate here.)
    """
    from commgov.sim import poisson_arrivals

    point = _stepped(1200.0)
    two = DeskPoint("desk", 2, ServiceTime(1.0), 0.0, 1e6)
    three = DeskPoint("desk", 3, ServiceTime(1.0), 0.0, 1e6)

    def waits(p: DeskPoint, arr: Arrivals, lo: float, hi: float) -> list[float]:
        log = run_desk_queues([p], {"desk": arr})
        joined = {log.entity[i]: log.t_min[i] for i in log.where("queue_join")}
        return [
            log.value[i] for i in log.where("service_start") if lo <= joined[log.entity[i]] < hi
        ]

    for r in range(30):
        arr = poisson_arrivals(point, 1.4, 2400.0, stream_factory(11, r))
        assert waits(point, arr, 1400.0, 2400.0) == waits(three, arr, 1400.0, 2400.0)
        before = waits(point, arr, 0.0, 1000.0)
        assert before == waits(two, arr, 0.0, 1000.0) and before


@pytest.mark.slow
def test_a_schedule_from_2_to_3_lanes_waits_as_erlang_c_in_each_period():
    """M/M/c (μ = 1/min, λ = 1.4/min): 2 lanes until minute 3200, then 3 (ρ 0.70 → 0.47).

    Each replicate measures residents who join in [200, 3200) and in [3400, 6400) (200
    minutes of warm-up after the start and after the step); the Student-t 99 % interval of
    the replicate means holds Erlang C's ``Wq`` of each period.
    """
    from scipy import stats

    from commgov.scheduling.staffing import mean_wait_min
    from commgov.sim import poisson_arrivals, queue_kpis

    lam, reps = 1.4, 200
    point = _stepped(3200.0)
    waits: dict[int, list[float]] = {2: [], 3: []}
    for r in range(reps):
        rngs = stream_factory(20_261_207, r)
        log = run_desk_queues([point], {"desk": poisson_arrivals(point, lam, 6400.0, rngs)})
        waits[2].append(queue_kpis(log, from_min=200.0, to_min=3200.0).mean_wait_min)
        waits[3].append(queue_kpis(log, from_min=3400.0, to_min=6400.0).mean_wait_min)
    for c, xs in waits.items():
        x = np.asarray(xs)
        half = stats.t.ppf(0.995, reps - 1) * x.std(ddof=1) / math.sqrt(reps)
        exact = mean_wait_min(c, lam * 60.0, 60.0)
        assert abs(x.mean() - exact) <= half, (c, x.mean(), exact, half)


_STEPS = st.lists(
    st.tuples(st.integers(0, 600), st.integers(0, 4)),
    min_size=1,
    max_size=5,
    unique_by=lambda x: x[0],
).map(sorted)


@settings(max_examples=60, deadline=None)
@given(
    base=st.integers(1, 4),
    steps=_STEPS,
    shift=st.one_of(st.none(), st.integers(30, 300)),
    stagger=st.integers(0, 200),
    seed=st.integers(0, 3),
)
def test_lanes_start_swabs_only_inside_their_windows(base, steps, shift, stagger, seed):
    """Any schedule and breaks: a lane's swab starts inside its windows, and nobody is lost."""
    rngs = stream_factory(seed)
    steps = [(float(t), n) for t, n in steps]
    try:
        lanes, windows = lane_windows(
            "P",
            60.0,
            600.0,
            base,
            rngs,
            schedule=steps,
            shift_minutes=None if shift is None else float(shift),
            break_minutes=20.0,
            stagger_minutes=float(stagger),
        )
    except ValueError:
        return  # a schedule that opens no lane while the point is open
    point = DeskPoint("P", lanes, ServiceTime(2.0), 60.0, 600.0, lane_windows=windows)
    arr = poisson_arrivals(point, 1.0, 620.0, rngs)
    log = run_desk_queues([point], {"P": arr})
    spans = windows or ((((60.0, math.inf),),) * lanes)
    for i in log.where("service_start"):
        k = int(log.actor[i].rsplit("/L", 1)[1])
        t = log.t_min[i]
        assert any(s <= t <= e for s, e in spans[k - 1]), (log.actor[i], t, spans[k - 1])
    # every swab started ends; residents no lane reaches stay queued (unserved), never lost
    starts = log.where("service_start")
    assert len(starts) == len(log.where("service_end"))
    assert len({log.entity[i] for i in starts}) == len(starts)
    joined = len(log.where("queue_join"))
    assert joined + len(log.where("queue_refused")) == len(arr)
