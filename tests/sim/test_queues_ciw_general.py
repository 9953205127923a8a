"""The desk queue against Ciw beyond M/M/c: lognormal service (M/G/c) and reneging (M/M/c+M).

Ciw (Palmer, Knight, Harper & Hawa 2019, *J. Simulation* 13(1):68-82) runs the same queues
with its own random numbers; per-replicate means of both simulators are compared by a Welch
99 % interval on their difference (independent streams). Time unit: the mean service time.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats

from commgov.sim import (
    DeskPoint,
    ServiceTime,
    poisson_arrivals,
    queue_kpis,
    run_desk_queues,
    stream_factory as streams,
)

SEED = 20_261_208
REPS = 100
WARMUP, WINDOW = 100.0, 400.0


def welch_ok(ours: np.ndarray, theirs: np.ndarray, level: float = 0.99) -> tuple[bool, str]:
    n = len(ours)
    var_o, var_t = ours.var(ddof=1) / n, theirs.var(ddof=1) / n
    dof = (var_o + var_t) ** 2 / (var_o**2 / (n - 1) + var_t**2 / (n - 1))
    half = stats.t.ppf(0.5 + level / 2, dof) * math.sqrt(var_o + var_t)
    diff = ours.mean() - theirs.mean()
    return abs(diff) <= half, f"ours {ours.mean():.4f} Ciw {theirs.mean():.4f} ± {half:.4f}"


def ciw_runs(c: int, lam: float, service: object, reneging: object | None) -> np.ndarray:
    """Per replicate: (mean wait of the served, share who reneged) of joiners in the window."""
    ciw = pytest.importorskip("ciw")
    state, ciw_rng = random.getstate(), ciw.rng  # ciw.seed sets global state: restore it
    try:
        out = []
        for r in range(REPS):
            kwargs = {} if reneging is None else {"reneging_time_distributions": [reneging]}
            net = ciw.create_network(
                arrival_distributions=[ciw.dists.Exponential(rate=lam)],
                service_distributions=[service],
                number_of_servers=[c],
                **kwargs,
            )
            ciw.seed(SEED + r)
            q = ciw.Simulation(net)
            q.simulate_until_max_time(WARMUP + WINDOW + 200.0)
            recs = [
                rec for rec in q.get_all_records() if WARMUP <= rec.arrival_date < WARMUP + WINDOW
            ]
            served = [rec.waiting_time for rec in recs if rec.record_type == "service"]
            gone = sum(rec.record_type == "renege" for rec in recs)
            out.append((np.mean(served), gone / len(recs)))
        return np.array(out)
    finally:
        random.setstate(state)
        ciw.rng = ciw_rng


def ours(point: DeskPoint, lam: float) -> np.ndarray:
    out = []
    for r in range(REPS):
        arrivals = poisson_arrivals(point, lam, WARMUP + WINDOW, streams(SEED, r))
        k = queue_kpis(
            run_desk_queues([point], {"desk": arrivals}), from_min=WARMUP, to_min=WARMUP + WINDOW
        )
        out.append((k.mean_wait_min, k.reneged / k.joined))
    return np.array(out)


@pytest.mark.slow
def test_lognormal_service_mean_wait_matches_ciw():
    ciw = pytest.importorskip("ciw")
    c, lam, cv = 3, 2.4, 0.5
    s2 = math.log1p(cv * cv)
    theirs = ciw_runs(c, lam, ciw.dists.Lognormal(-s2 / 2, math.sqrt(s2)), None)
    mine = ours(DeskPoint("desk", c, ServiceTime(1.0, "lognormal", cv=cv)), lam)
    ok, text = welch_ok(mine[:, 0], theirs[:, 0])
    assert ok, text
    # less variable service, shorter waits than M/M/3 (Erlang C: 0.79 min at ρ = 0.8)
    assert mine[:, 0].mean() < 0.79


@pytest.mark.slow
def test_reneging_matches_ciw():
    ciw = pytest.importorskip("ciw")
    c, lam, theta = 3, 3.3, 0.2
    theirs = ciw_runs(c, lam, ciw.dists.Exponential(rate=1.0), ciw.dists.Exponential(rate=theta))
    mine = ours(DeskPoint("desk", c, ServiceTime(1.0), patience_min=1 / theta), lam)
    for col in (0, 1):
        ok, text = welch_ok(mine[:, col], theirs[:, col])
        assert ok, (col, text)
