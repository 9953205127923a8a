"""Desks in tandem: Jackson network check, the arXiv 2312.13522 vaccination queue, unit cases.

Jackson (1957) and Burke (1956): Poisson arrivals through M/M/c stages in series make each
stage an independent M/M/c queue with the same arrival rate, so the mean time in the tandem is
``Σ (Wq_j + 1/μ_j)`` (Erlang C per stage) and ``L = λW``. The simulated end-to-end figures must
contain these in 99 % intervals (pooled ratio over replicates, delta method).

The published check (docs/howto/vaccination-queue.md): Der Wartanian & Al Ayoubi (2023,
arXiv:2312.13522) report, for Beirut vaccination centres with 536 arrivals a day, 5 then 4
servers, a mean of 4.1–5.2 people in the system and 5.7–8 minutes in it. With the assumptions
stated in the how-to (a 13-hour day, exponential 3-minute registration and vaccination), the
simulated day must fall inside the reported ranges.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from commgov.scheduling.staffing import mean_wait_min
from commgov.sim import (
    DeskPoint,
    ServiceTime,
    poisson_arrivals,
    queue_kpis,
    run_tandem_desks,
    stream_factory,
    tandem_kpis,
)

SEED = 2_312_13522


def ratio_ci(num: np.ndarray, den: np.ndarray, level: float = 0.99) -> tuple[float, float]:
    """Interval of ``Σ num / Σ den`` over replicates (delta method, Student t)."""
    n = len(num)
    r = num.sum() / den.sum()
    sd = (num - r * den).std(ddof=1)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * sd / (math.sqrt(n) * den.mean())
    return float(r - half), float(r + half)


def stages(reg_min: float = 3.0, vac_min: float = 3.0, lanes: tuple[int, int] = (5, 4)):
    return [
        DeskPoint("registration", lanes[0], ServiceTime(reg_min)),
        DeskPoint("vaccination", lanes[1], ServiceTime(vac_min)),
    ]


def run(st, lam: float, horizon: float, replicates: int, warmup: float = 0.0) -> np.ndarray:
    rows = []
    for r in range(replicates):
        rngs = stream_factory(SEED, r)
        log = run_tandem_desks(st, poisson_arrivals(st[0], lam, warmup + horizon, rngs), rngs)
        k = tandem_kpis(log, st, from_min=warmup, to_min=warmup + horizon)
        assert k.completed == k.arrived  # nobody leaves unserved
        rows.append((k.mean_time_in_system_min * k.completed, k.completed, k.mean_in_system))
    return np.array(rows)


def jackson(st, lam: float) -> float:
    """Mean minutes in the tandem: Σ (Erlang C wait + mean service) over the stages."""
    return sum(
        mean_wait_min(s.lanes, lam * 60, 60 / s.service.mean_minutes) + s.service.mean_minutes
        for s in st
    )


def test_tandem_of_mm_c_stages_matches_jackson():
    st = stages(4.0, 5.0, (3, 4))  # λ = 0.6/min: ρ = 0.8 then 0.75
    lam = 0.6
    sim = run(st, lam, 600.0, 150, warmup=120.0)
    w = jackson(st, lam)
    lo, hi = ratio_ci(sim[:, 0], sim[:, 1])
    assert lo <= w <= hi, (w, lo, hi)
    mean_l = sim[:, 2]
    half = stats.t.ppf(0.995, len(mean_l) - 1) * mean_l.std(ddof=1) / math.sqrt(len(mean_l))
    assert abs(mean_l.mean() - lam * w) <= half, (mean_l.mean(), lam * w, half)


#: Reported by arXiv:2312.13522 (abstract): people in the system and minutes in it.
REPORTED_L = (4.1, 5.2)
REPORTED_W = (5.7, 8.0)
DAY_MIN = 13 * 60.0  # assumption: the how-to derives it from Little's law on the figures
ARRIVALS_PER_DAY = 536


def test_vaccination_queue_of_arxiv_2312_13522_within_the_reported_ranges():
    lam = ARRIVALS_PER_DAY / DAY_MIN
    sim = run(stages(), lam, DAY_MIN, 100)
    w = sim[:, 0].sum() / sim[:, 1].sum()
    big_l = sim[:, 2].mean()
    assert REPORTED_W[0] <= w <= REPORTED_W[1], w
    assert REPORTED_L[0] <= big_l <= REPORTED_L[1], big_l
    # the day's figures equal the steady-state Jackson network within 3 % (light queues)
    assert w == pytest.approx(jackson(stages(), lam), rel=0.03)
    # the implied arrival rate of the reported figures (Little) brackets the assumed one
    assert REPORTED_L[0] / REPORTED_W[1] <= lam <= REPORTED_L[1] / REPORTED_W[0]


def test_stage_kpis_and_common_random_numbers():
    lam = ARRIVALS_PER_DAY / DAY_MIN
    rngs = stream_factory(SEED, 0)
    st = stages()
    arrivals = poisson_arrivals(st[0], lam, 200.0, rngs)
    log_a = run_tandem_desks(st, arrivals, rngs)
    fewer = [st[0], st[1].model_copy(update={"lanes": 2})]
    log_b = run_tandem_desks(fewer, arrivals, stream_factory(SEED, 0))
    reg = [i for i, a in enumerate(log_a.actor) if a.startswith("registration")]
    reg_b = [i for i, a in enumerate(log_b.actor) if a.startswith("registration")]
    # stage 1 does not see stage 2: same events; stage 2 draws the same services
    assert [log_a.t_min[i] for i in reg] == [log_b.t_min[i] for i in reg_b]
    k1 = queue_kpis(log_a, to_min=400.0, point_ids=["registration"])
    k2 = queue_kpis(log_a, to_min=400.0, point_ids=["vaccination"])
    k2b = queue_kpis(log_b, to_min=400.0, point_ids=["vaccination"])
    assert k1.joined == k2.joined == k2b.joined == len(arrivals)
    assert k2b.mean_wait_min > k2.mean_wait_min  # 2 lanes instead of 4


def test_same_seed_same_log():
    def once() -> tuple:
        rngs = stream_factory(SEED, 4)
        st = stages()
        log = run_tandem_desks(st, poisson_arrivals(st[0], 0.7, 120.0, rngs), rngs)
        return (log.t_min, log.kind, log.entity, log.actor, log.value)

    assert once() == once()


def test_a_resident_who_reneges_at_stage_two_leaves_the_tandem():
    st = [
        DeskPoint("reg", 1, ServiceTime(1.0)),
        DeskPoint("vac", 1, ServiceTime(30.0), patience_min=0.5),
    ]
    rngs = stream_factory(SEED)
    log = run_tandem_desks(st, poisson_arrivals(st[0], 1.0, 60.0, rngs), rngs)
    k = tandem_kpis(log, st, to_min=60.0)
    reneged = [log.entity[i] for i in log.where("queue_renege")]
    assert reneged and all(e.endswith("@vac") for e in reneged)
    assert k.completed < k.arrived


@pytest.mark.parametrize(
    ("st", "match"),
    [
        ([], "at least one"),
        ([DeskPoint("a", 1, ServiceTime(1.0))] * 2, "distinct"),
        ([DeskPoint("a@b", 1, ServiceTime(1.0))], "@"),
    ],
)
def test_bad_stages_are_refused(st, match):
    arrivals = poisson_arrivals(DeskPoint("a", 1, ServiceTime(1.0)), 1.0, 5.0, stream_factory(1))
    with pytest.raises(ValueError, match=match):
        run_tandem_desks(st, arrivals, stream_factory(1))


def test_arrivals_of_another_point_are_refused():
    st = stages()
    arrivals = poisson_arrivals(st[1], 1.0, 5.0, stream_factory(1))
    with pytest.raises(ValueError, match="first stage"):
        run_tandem_desks(st, arrivals, stream_factory(1))
