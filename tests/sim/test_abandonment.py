"""Impatient residents in the desk queue: reneging and balking against Erlang A.

Closed forms: :func:`commgov.scheduling.staffing.erlang_a` (Palm 1943; Garnett, Mandelbaum &
Reiman 2002, *M&SOM* 4(3):208-227) is first checked to machine precision against the
birth-death chain of the M/M/c+M queue (truncated far beyond any probable state); the chain
also gives the figures with a finite waiting room (balking), which has no closed form here.

Simulation: three Erlang A parameter sets (an overloaded single lane, a three-lane queue
at ρ = 1.1 and six lanes at ρ = 0.85), 200 independent replicates each. Each replicate runs a
warm-up (discarded) and measures residents who join in ``[warm-up, warm-up + window)``; the
run continues until the queue empties, so no wait is censored. Warm-ups are 75–150 mean
service or patience times: shorter ones (30–80) left a start-empty bias of 1–3 % that
pushed the figures to the edge of the 99 % intervals. Per replicate we get the
share who reneged and the mean time in the queue over everyone (served or reneged); a
99 % interval of the pooled ratio over the replicates (delta method, Student t) must
contain the closed form. Time unit: the
mean service time (μ = 1 per minute).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from commgov.errors import InvalidParameterError
from commgov.scheduling.staffing import erlang_a, erlang_c
from commgov.sim import (
    Arrivals,
    DeskPoint,
    QueueParams,
    ServiceTime,
    SlotLoad,
    poisson_arrivals,
    queue_kpis,
    run_desk_queues,
    slot_arrivals,
    stream_factory,
)

SEED = 20_261_207
REPLICATES = 200
LEVEL = 0.99

#: (lanes c, arrivals per minute λ, abandonment rate θ per minute, warm-up, window); μ = 1.
CASES = [
    (1, 1.2, 0.5, 150.0, 400.0),
    (3, 3.3, 0.2, 400.0, 300.0),
    (6, 5.1, 1.0, 150.0, 200.0),
]


def ci(num: np.ndarray, den: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Interval of the ratio ``Σ num / Σ den`` over replicates (delta method, Student t).

    A per-replicate share (reneged / joined) is a ratio of correlated counts, biased by
    O(1/joined); pooling the counts and the delta method (the replicate residuals
    ``num − R·den``) remove that bias (Law 2015, *Simulation Modeling and Analysis*, §9.5).
    """
    n = len(num)
    r = num.sum() / den.sum()
    resid = num - r * den
    half = stats.t.ppf(0.5 + level / 2, n - 1) * resid.std(ddof=1) / (math.sqrt(n) * den.mean())
    return float(r - half), float(r + half)


def chain(
    c: int, lam: float, mu: float, theta: float, room: int | None = None, n_max: int = 2000
) -> dict[str, float]:
    """Exact figures of M/M/c+M (waiting room ``room``) from its birth-death chain.

    ``room`` residents waiting block arrivals (they balk). By PASTA an arrival sees the
    stationary distribution ``π``: it balks with ``π(c + room)``, waits with ``P(N ≥ c)``
    (less the balkers); abandonment ``θ·E[Lq] / λ`` and the mean wait of joiners
    ``E[Lq] / (λ·(1 − P(balk)))`` follow from rate conservation and Little's law.
    """
    top = n_max if room is None else c + room
    log_p = [0.0]
    for n in range(1, top + 1):
        death = min(n, c) * mu + max(n - c, 0) * theta
        log_p.append(log_p[-1] + math.log(lam / death))
    lp = np.array(log_p)
    p = np.exp(lp - lp.max())
    p /= p.sum()
    n = np.arange(top + 1)
    lq = float((np.maximum(n - c, 0) * p).sum())
    p_balk = float(p[-1]) if room is not None else 0.0
    joined = lam * (1.0 - p_balk)
    return {
        "p_wait": float(p[c:].sum()) - p_balk,
        "p_abandon_all": theta * lq / lam,  # share of all arrivals
        "p_abandon": theta * lq / joined,  # share of joiners
        "p_balk": p_balk,
        "mean_wait": lq / joined,
    }


@pytest.mark.parametrize(
    ("c", "lam", "mu", "theta"),
    [
        (1, 1.2, 1.0, 0.5),
        (3, 3.3, 1.0, 0.2),
        (6, 5.1, 1.0, 1.0),
        (1, 1.0, 1.0, 1.0),
        (20, 30.0, 1.0, 0.05),
        (50, 10.0, 1.0, 3.0),
        (2, 0.1, 1.0, 10.0),
    ],
)
def test_erlang_a_equals_the_birth_death_chain(c, lam, mu, theta):
    f = erlang_a(c, lam * 60, mu * 60, theta * 60)
    exact = chain(c, lam, mu, theta)
    assert f.p_wait == pytest.approx(exact["p_wait"], rel=1e-9)
    assert f.p_abandon == pytest.approx(exact["p_abandon"], rel=1e-9)
    assert f.mean_wait_min == pytest.approx(exact["mean_wait"], rel=1e-9)
    assert f.mean_queue == pytest.approx(lam * exact["mean_wait"], rel=1e-9)
    assert f.p_abandon == pytest.approx(f.p_abandon_given_wait * f.p_wait)


def test_erlang_a_tends_to_erlang_c_as_patience_grows():
    c_form = erlang_c(3, 150.0, 60.0)
    assert erlang_a(3, 150.0, 60.0, 1e-7).p_wait == pytest.approx(c_form, rel=1e-5)


def test_erlang_a_far_below_capacity_uses_the_series():
    # λ/θ far below cμ/θ: γ(x, y) underflows; the log-space series takes over
    f = erlang_a(400, 1.0, 60.0, 0.01)
    assert 0.0 <= f.p_wait < 1e-300 or f.p_wait == 0.0
    assert math.isfinite(f.mean_wait_min) and f.mean_wait_min >= 0.0


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((0, 1.0, 1.0, 1.0), "servers"),
        ((1, -1.0, 1.0, 1.0), "arrival_rate"),
        ((1, 1.0, 0.0, 1.0), "service_rate"),
        ((1, 1.0, 1.0, 0.0), "abandonment_rate"),
        ((1, 1.0, 1.0, math.nan), "abandonment_rate"),
        ((1.5, 1.0, 1.0, 1.0), "servers"),
    ],
)
def test_erlang_a_refuses_bad_arguments_by_name(args, name):
    with pytest.raises(InvalidParameterError, match=name):
        erlang_a(*args)


# ------------------------------------------------------------------------------ simulation


def _point(c: int, theta: float, room: int | None = None) -> DeskPoint:
    return DeskPoint("desk", c, ServiceTime(1.0), patience_min=1.0 / theta, balk_queue=room)


@cache
def simulate(
    c: int,
    lam: float,
    theta: float,
    warmup: float,
    window: float,
    room: int | None = None,
    replicates: int = REPLICATES,
) -> np.ndarray:
    point = _point(c, theta, room)
    rows = []
    for r in range(replicates):
        arrivals = poisson_arrivals(point, lam, warmup + window, stream_factory(SEED, r))
        k = queue_kpis(
            run_desk_queues([point], {"desk": arrivals}), from_min=warmup, to_min=warmup + window
        )
        assert k.unserved == k.reneged  # nobody left waiting: every wait observed
        # numerators and denominators: reneged, joined, total wait, arrivals, balked
        rows.append(
            (k.reneged, k.joined, k.mean_wait_all_min * k.joined, k.balked + k.joined, k.balked)
        )
    return np.array(rows, dtype=float)


@pytest.mark.slow
@pytest.mark.parametrize(("c", "lam", "theta", "warmup", "window"), CASES)
def test_abandonment_and_mean_wait_inside_99pct_ci_of_erlang_a(c, lam, theta, warmup, window):
    sim = simulate(c, lam, theta, warmup, window)
    f = erlang_a(c, lam * 60, 60.0, theta * 60)
    lo, hi = ci(sim[:, 0], sim[:, 1])
    assert lo <= f.p_abandon <= hi, (c, lam, theta, f.p_abandon, lo, hi)
    assert (hi - lo) / 2 < 0.05 * f.p_abandon  # informative
    lo, hi = ci(sim[:, 2], sim[:, 1])
    assert lo <= f.mean_wait_min <= hi, (c, lam, theta, f.mean_wait_min, lo, hi)
    assert (hi - lo) / 2 < 0.05 * f.mean_wait_min


@pytest.mark.slow
def test_balking_with_a_waiting_room_matches_the_chain():
    c, lam, theta, room = 2, 2.4, 0.5, 3
    sim = simulate(c, lam, theta, 30.0, 300.0, room, 120)
    exact = chain(c, lam, 1.0, theta, room)
    for (num, den), key in (((0, 1), "p_abandon"), ((2, 1), "mean_wait"), ((4, 3), "p_balk")):
        lo, hi = ci(sim[:, num], sim[:, den])
        assert lo <= exact[key] <= hi, (key, exact[key], lo, hi)


# ------------------------------------------------------------------------------ unit cases


def test_a_resident_reneges_when_patience_runs_out_and_others_move_up():
    point = DeskPoint("P", 1, ServiceTime(1.0), patience_min=1.0)
    # P#0 served 0–5; P#1 waits from 1, patience 2 → leaves at 3; P#2 patience 9 → served at 5
    arr = Arrivals("P", (0.0, 1.0, 2.0), ("P#0", "P#1", "P#2"), (5.0, 1.0, 1.0), (9.0, 2.0, 9.0))
    log = run_desk_queues([point], {"P": arr})
    assert [(log.t_min[i], log.entity[i], log.value[i]) for i in log.where("queue_renege")] == [
        (3.0, "P#1", 2.0)
    ]
    starts = {log.entity[i]: log.t_min[i] for i in log.where("service_start")}
    assert starts == {"P#0": 0.0, "P#2": 5.0}
    k = queue_kpis(log, to_min=10.0)
    assert (k.joined, k.served, k.reneged, k.unserved) == (3, 2, 1, 1)
    assert k.abandon_share == pytest.approx(1 / 3)
    assert k.mean_wait_all_min == pytest.approx((0.0 + 3.0 + 2.0) / 3)
    # in service, patience no longer counts: P#0's 9 minutes > its wait
    assert "P#0" not in [log.entity[i] for i in log.where("queue_renege")]


def test_balking_counts_waiting_residents_only():
    point = DeskPoint("P", 1, ServiceTime(1.0), balk_queue=1)
    arr = Arrivals("P", (0.0, 0.5, 1.0, 6.0), ("P#0", "P#1", "P#2", "P#3"), (5.0, 1.0, 1.0, 1.0))
    log = run_desk_queues([point], {"P": arr})
    assert [log.entity[i] for i in log.where("queue_balk")] == ["P#2"]
    k = queue_kpis(log, to_min=10.0)
    assert (k.joined, k.balked, k.served) == (3, 1, 3)
    assert "balked" not in k.as_dict() and k.as_dict(abandonment=True)["balked"] == 1.0


def test_balk_queue_zero_is_the_erlang_loss_system():
    point = DeskPoint("P", 2, ServiceTime(1.0), balk_queue=0)
    arrivals = poisson_arrivals(point, 2.0, 3000.0, stream_factory(SEED))
    k = queue_kpis(run_desk_queues([point], {"P": arrivals}), from_min=50.0, to_min=3000.0)
    from commgov.scheduling.staffing import erlang_b

    share = k.balked / (k.balked + k.joined)
    assert share == pytest.approx(erlang_b(2, 2.0), abs=0.03)
    assert k.mean_wait_min == 0.0


def test_patience_draws_leave_arrivals_and_service_unchanged():
    calm = DeskPoint("P", 2, ServiceTime(1.0))
    impatient = calm.model_copy(update={"patience_min": 3.0})
    a = poisson_arrivals(calm, 1.5, 200.0, stream_factory(SEED))
    b = poisson_arrivals(impatient, 1.5, 200.0, stream_factory(SEED))
    assert (a.t_min, a.service_min) == (b.t_min, b.service_min)
    assert a.patience_min == () and len(b.patience_min) == len(b)
    slots = [SlotLoad(0, 0.0, 30.0, 20), SlotLoad(1, 30.0, 30.0, 25)]
    sa = slot_arrivals(calm, slots, stream_factory(SEED))
    sb = slot_arrivals(impatient, slots, stream_factory(SEED))
    assert (sa.t_min, sa.service_min) == (sb.t_min, sb.service_min)
    assert len(sb.patience_min) == len(sb) == 45


def test_same_seed_same_log_with_impatience():
    point = DeskPoint("P", 2, ServiceTime(1.0), patience_min=2.0, balk_queue=4)

    def run() -> tuple:
        arr = poisson_arrivals(point, 2.5, 300.0, stream_factory(SEED, 3))
        log = run_desk_queues([point], {"P": arr})
        return (log.t_min, log.kind, log.entity, log.value)

    assert run() == run()


def test_patience_without_drawn_patience_is_refused():
    point = DeskPoint("P", 1, ServiceTime(1.0), patience_min=1.0)
    with pytest.raises(ValueError, match="patience"):
        run_desk_queues([point], {"P": Arrivals("P", (0.0,), ("P#0",), (1.0,))})


@pytest.mark.parametrize(
    ("field", "value"), [("patience_min", 0.0), ("patience_min", math.inf), ("balk_queue", -1)]
)
def test_desk_point_refuses_bad_impatience(field, value):
    with pytest.raises(ValueError, match=field):
        DeskPoint("P", 1, ServiceTime(1.0), **{field: value})


def test_queue_params_take_patience_and_balking():
    p = QueueParams(patience_minutes=5.0, balk_queue=10)
    assert (p.patience_minutes, p.balk_queue) == (5.0, 10)
    with pytest.raises(ValueError, match="patience_minutes"):
        QueueParams(patience_minutes=0.0)


def test_the_queues_submodel_reports_abandonment_only_when_asked():
    from pathlib import Path

    from commgov.sim import Scenario, run_replicate, with_values

    root = Path(__file__).resolve().parents[2]
    base = Scenario.from_toml(root / "examples/scenarios/huchiyuan_day.toml")
    calm = run_replicate(base, 0, 7).kpis
    assert "queues.reneged" not in calm and "queues.balked" not in calm
    impatient = with_values(
        base,
        {
            "submodels.queues.patience_minutes": 5.0,
            "submodels.queues.balk_queue": 30,
            "submodels.queues.lanes": 1,
        },
    )
    k = run_replicate(impatient, 0, 7).kpis
    assert k["queues.reneged"] > 0
    assert k["queues.abandon_share"] == k["queues.reneged"] / k["queues.joined"]
    assert k["queues.served"] + k["queues.unserved"] == k["queues.joined"]
    assert run_replicate(impatient, 0, 7).kpis == k  # same seed, same figures


@settings(max_examples=60, deadline=None)
@given(
    c=st.integers(1, 40),
    rho=st.floats(0.05, 3.0),
    mu=st.floats(0.1, 10.0),
    patience_ratio=st.floats(0.02, 20.0),
)
def test_erlang_a_equals_the_chain_for_any_parameters(c, rho, mu, patience_ratio):
    lam, theta = rho * c * mu, mu * patience_ratio
    n_max = c + int(10 * lam / theta) + 400
    f = erlang_a(c, lam * 60, mu * 60, theta * 60)
    exact = chain(c, lam, mu, theta, n_max=n_max)
    assert f.p_wait == pytest.approx(exact["p_wait"], rel=1e-7, abs=1e-300)
    assert f.p_abandon == pytest.approx(exact["p_abandon"], rel=1e-7, abs=1e-300)
    assert 0.0 <= f.p_abandon <= f.p_wait <= 1.0 and 0.0 <= f.occupancy <= 1.0 + 1e-12
