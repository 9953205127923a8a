"""Erlang B/C, waits, lanes for a wait target and swabbers, against published values."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from commgov.errors import InvalidParameterError
from commgov.scheduling.staffing import (
    erlang_b,
    erlang_c,
    is_stable,
    lanes_for_wait,
    mean_queue_length,
    mean_wait_min,
    queue_figures,
    service_level,
    square_root_staffing,
    swabbers_needed,
    wait_exceeds_probability,
    wait_quantile_min,
)


def exact_erlang_c(c: int, a: Fraction) -> Fraction:
    """Textbook closed form with exact fractions (Cooper 1981 eq. 3.5.3)."""
    top = a**c / math.factorial(c) * Fraction(c) / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


# ---- published values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("servers", "load"),
    # Erlang B tables (e.g. Cooper 1981, Appendix table of B(s, a); the classic "1 % grade of
    # service" column): 5 trunks carry 1.361 E, 10 trunks 4.461 E, 20 trunks 12.031 E.
    [(5, 1.361), (10, 4.461), (20, 12.031)],
)
def test_erlang_b_one_percent_column(servers, load):
    assert erlang_b(servers, load) == pytest.approx(0.01, abs=2e-4)


def test_erlang_b_two_percent_column():
    # Same tables, 2 % column: 10 trunks carry 5.084 E.
    assert erlang_b(10, 5.084) == pytest.approx(0.02, abs=2e-4)


def test_wolfram_two_line_example():
    # Wolfram Language documentation, ErlangC, "Applications": two 1 Mbit/s lines, packets at
    # 150/s with mean 10 kbit (service rate 100/s per line): P(wait) = ErlangC[2, 3/2] = 9/14.
    assert erlang_c(2, 150.0, 100.0) == pytest.approx(9 / 14, rel=1e-12)


def test_wolfram_support_centre_example():
    # Same page: calls at 30/h, exponential service of mean 5 min; fewest staff so that a
    # call is not delayed with probability 90 %. Five give 0.130 > 0.1, six give 0.047.
    assert erlang_c(5, 30.0, 12.0) == pytest.approx(0.1304, abs=1e-4)
    assert erlang_c(6, 30.0, 12.0) == pytest.approx(0.0474, abs=1e-4)
    assert min(c for c in range(3, 20) if erlang_c(c, 30.0, 12.0) <= 0.1) == 6


def test_call_centre_worked_example():
    # Call Centre Helper, "Erlang C formula – example": 100 calls per 30 min, 180 s handling
    # time (10 erlangs), answer within 20 s. 14 agents: P(wait) 17.4 %, service level 88.8 %;
    # 11 agents: P(wait) 68.2 %, service level 39.0 %.
    lam, mu = 200.0, 20.0  # per hour
    assert erlang_c(14, lam, mu) == pytest.approx(0.1741, abs=5e-4)
    assert service_level(14, lam, mu, 20 / 60) == pytest.approx(0.888, abs=1e-3)
    assert erlang_c(11, lam, mu) == pytest.approx(0.6821, abs=5e-4)
    assert service_level(11, lam, mu, 20 / 60) == pytest.approx(0.390, abs=1e-3)


@pytest.mark.parametrize(
    ("lanes", "lam", "p_wait", "wq_min", "lq"),
    # reference/scheduling.md §2.3 table (μ = 100/h per lane), to the digits printed there.
    [
        (1, 85, 0.85, 3.4, 4.8),
        (1, 95, 0.95, 11.4, 18.1),
        (2, 170, 0.78, 1.6, 4.4),
        (3, 255, 0.73, 1.0, 4.1),
        (3, 285, 0.91, 3.6, 17.2),
        (4, 340, 0.69, 0.7, 3.9),
        (6, 570, 0.87, 1.7, 16.4),
    ],
)
def test_reference_note_table(lanes, lam, p_wait, wq_min, lq):
    # printed values are rounded (18.05 shows as 18.1): half a unit of the last digit
    assert erlang_c(lanes, lam, 100.0) == pytest.approx(p_wait, abs=0.0051)
    assert mean_wait_min(lanes, lam, 100.0) == pytest.approx(wq_min, abs=0.051)
    assert mean_queue_length(lanes, lam, 100.0) == pytest.approx(lq, abs=0.051)


# ---- closed forms and identities ------------------------------------------------------------


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.85, 0.99])
def test_mm1_and_mm2_closed_forms(rho):
    # Gross & Harris §2.2-2.3: M/M/1 P(wait) = ρ, Wq = ρ/(μ-λ); M/M/2 P(wait) = 2ρ²/(1+ρ).
    mu = 60.0
    assert erlang_c(1, rho * mu, mu) == pytest.approx(rho)
    assert mean_wait_min(1, rho * mu, mu) == pytest.approx(60 * rho / (mu - rho * mu))
    assert erlang_c(2, 2 * rho * mu, mu) == pytest.approx(2 * rho**2 / (1 + rho))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.fractions(min_value=Fraction(1, 100), max_value=Fraction(99, 100)))
def test_recursion_matches_exact_closed_form(c, rho):
    a = rho * c
    want = float(exact_erlang_c(c, a))
    assert erlang_c(c, float(a), 1.0) == pytest.approx(want, rel=1e-9, abs=1e-15)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 200), st.floats(0.01, 300.0))
def test_probability_bounds_and_monotone_in_lanes(c, a):
    p = erlang_c(c, a, 1.0)
    assert 0.0 <= p <= 1.0
    assert erlang_c(c + 1, a, 1.0) <= p + 1e-12
    assert erlang_b(c, a) <= p + 1e-12  # C ≥ B


def test_large_systems_are_stable_and_match_halfin_whitt():
    # 10,000 erlangs: a factorial formula overflows; the recursion does not. With c = a + √a
    # (β = 1) P(wait) tends to [1 + βΦ(β)/φ(β)]⁻¹ ≈ 0.2234 (Halfin & Whitt 1981).
    a = 10_000.0
    p = erlang_c(square_root_staffing(a, 1.0), a, 1.0)
    phi = math.exp(-0.5) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    assert p == pytest.approx(1 / (1 + cdf / phi), abs=0.01)
    assert square_root_staffing(a, 1.0) == 10_100
    assert square_root_staffing(0.0) == 0


def test_unstable_queue_gives_limits():
    assert not is_stable(2, 250.0, 100.0)
    assert erlang_c(2, 250.0, 100.0) == 1.0
    assert erlang_c(2, 200.0, 100.0) == 1.0  # ρ = 1 exactly
    assert mean_wait_min(2, 200.0, 100.0) == math.inf
    assert mean_queue_length(2, 250.0, 100.0) == math.inf
    assert service_level(2, 250.0, 100.0, 30.0) == 0.0
    assert wait_quantile_min(2, 250.0, 100.0, 0.5) == math.inf
    assert erlang_c(0, 10.0, 100.0) == 1.0
    figures = queue_figures(2, 250.0, 100.0)
    assert not figures.stable and figures.utilisation == pytest.approx(1.25)


def test_no_arrivals():
    assert erlang_c(3, 0.0, 100.0) == 0.0
    assert mean_wait_min(0, 0.0, 100.0) == 0.0
    assert wait_quantile_min(1, 0.0, 100.0, 0.9) == 0.0
    assert lanes_for_wait(0.0, 0.6, 5.0) == 0
    assert is_stable(0, 0.0, 1.0)


def test_wait_distribution():
    c, lam, mu = 3, 255.0, 100.0
    p = erlang_c(c, lam, mu)
    assert wait_exceeds_probability(c, lam, mu, 0.0) == pytest.approx(p)
    t = wait_quantile_min(c, lam, mu, 0.9)
    assert wait_exceeds_probability(c, lam, mu, t) == pytest.approx(0.1)
    assert wait_quantile_min(c, lam, mu, 1 - p - 0.01) == 0.0
    f = queue_figures(c, lam, mu)
    assert f.p_wait == p and f.offered_load == pytest.approx(2.55) and f.stable
    assert f.mean_queue == pytest.approx(lam * f.mean_wait_min / 60)


# ---- lanes and swabbers ---------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.floats(1.0, 3000.0), st.floats(0.2, 3.0), st.floats(0.5, 30.0),
       st.sampled_from([None, 0.5, 0.9, 0.95]))
def test_lanes_for_wait_is_the_fewest(lam, minutes, target, quantile):
    c = lanes_for_wait(lam, minutes, target, quantile=quantile)
    mu = 60.0 / minutes

    def wait(k: int) -> float:
        if quantile is None:
            return mean_wait_min(k, lam, mu)
        return wait_quantile_min(k, lam, mu, quantile)

    assert wait(c) <= target + 1e-9
    assert c == 1 or wait(c - 1) > target


def test_lanes_for_wait_guideline_anchor():
    # 100 swabs per lane per hour (0.6 min each), wait ≤ 5 min (reference note §4.2 tier P).
    assert lanes_for_wait(255.0, 0.6, 5.0) == 3
    assert lanes_for_wait(255.0, 0.6, 5.0, max_utilisation=0.8) == 4
    assert lanes_for_wait(570.0, 0.6, 2.0) == 6


def test_lanes_for_wait_errors():
    with pytest.raises(ValueError, match="no number of lanes"):
        lanes_for_wait(100.0, 0.6, 0.0, max_lanes=50)
    with pytest.raises(ValueError, match="quantile"):
        lanes_for_wait(100.0, 0.6, 1.0, quantile=1.0)
    with pytest.raises(ValueError, match="max_utilisation"):
        lanes_for_wait(100.0, 0.6, 1.0, max_utilisation=1.5)
    with pytest.raises(ValueError, match="minutes_per_person"):
        lanes_for_wait(100.0, 0.0, 1.0)


def test_swabbers_guideline_ratio():
    assert swabbers_needed(0) == 0
    assert swabbers_needed(360) == 1
    assert swabbers_needed(361) == 2
    assert swabbers_needed(1_140_000) == 3167  # Wuzhong 14 Feb 2022 deployed 1,990
    assert swabbers_needed(1_000, ratio=500) == 2
    with pytest.raises(InvalidParameterError, match="swabbers_needed: residents"):
        swabbers_needed(-1)
    with pytest.raises(InvalidParameterError, match="ratio must be an integer ≥ 1"):
        swabbers_needed(10, ratio=0)
    with pytest.raises(InvalidParameterError):
        swabbers_needed(10.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "where"),
    [
        (lambda: erlang_c(-1, 1.0, 1.0), "erlang_c: servers"),
        (lambda: erlang_c(1.5, 1.0, 1.0), "erlang_c: servers"),
        (lambda: erlang_c(True, 1.0, 1.0), "erlang_c: servers"),
        (lambda: erlang_c(2, -1.0, 1.0), "erlang_c: arrival_rate"),
        (lambda: erlang_c(2, 1.0, 0.0), "erlang_c: service_rate"),
        (lambda: erlang_c(2, math.nan, 1.0), "erlang_c: arrival_rate"),
        (lambda: erlang_c(2, "1", 1.0), "erlang_c: arrival_rate"),
        (lambda: erlang_b(2, math.inf), "erlang_b: offered_load"),
        (lambda: mean_wait_min(2, 1.0, -1.0), "mean_wait_min: service_rate"),
        (lambda: queue_figures(-2, 1.0, 1.0), "queue_figures: servers"),
        (lambda: wait_exceeds_probability(2, 1.0, 1.0, -1.0), "wait_exceeds_probability: wait_min"),
        (lambda: service_level(2, 1.0, 1.0, math.inf), "service_level: target_wait_min"),
        (lambda: wait_quantile_min(2, 1.0, 1.0, 1.0), "wait_quantile_min: quantile"),
        (lambda: square_root_staffing(-1.0), "square_root_staffing: offered_load"),
        (lambda: lanes_for_wait(1.0, 0.6, 1.0, max_lanes=2.5), "lanes_for_wait: max_lanes"),
    ],
)
def test_invalid_arguments(call, where):
    # one error class for every bad argument, both a ValueError and a TypeError
    with pytest.raises(InvalidParameterError, match=where) as info:
        call()
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


# ---- simulation cross-check -----------------------------------------------------------------


def test_simpy_mmc_agrees():
    simpy = pytest.importorskip("simpy")
    import numpy as np

    c, lam, mu = 3, 2.4, 1.0  # per minute: ρ = 0.8
    n = 60_000
    rng = np.random.default_rng(20220410)
    gaps = rng.exponential(1 / lam, n)
    services = rng.exponential(1 / mu, n)
    env = simpy.Environment()
    lanes = simpy.Resource(env, capacity=c)
    waits: list[float] = []

    def person(k: int):
        arrive = env.now
        with lanes.request() as req:
            yield req
            waits.append(env.now - arrive)
            yield env.timeout(services[k])

    def source():
        for k in range(n):
            yield env.timeout(gaps[k])
            env.process(person(k))

    env.process(source())
    env.run()
    w = np.asarray(waits[n // 10:])  # drop the warm-up
    # Wq is in hours of the rate unit → our minutes figure with rates per hour = per minute · 60
    wq = mean_wait_min(c, lam * 60, mu * 60)
    assert np.mean(w > 1e-12) == pytest.approx(erlang_c(c, lam, mu), abs=0.03)
    assert np.mean(w) == pytest.approx(wq, rel=0.12)
