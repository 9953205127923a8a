"""Statistics of sweeps: interval coverage, Wilson against SciPy, summaries, paired
differences under common random numbers and the sequential rule."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy import stats
from sweep_helpers import ToyScenario, toy_runner

from commgov.errors import InvalidParameterError
from commgov.sim import (
    DIFFERENCE_COLUMNS,
    SUMMARY_COLUMNS,
    Experiment,
    bootstrap_interval,
    kpi_info,
    kpi_kind,
    mean_interval,
    register_kpi,
    run_sequential,
    run_sweep,
    t_interval,
    wilson_interval,
)

GRID = {"notification.volunteers": [20, 10, 5]}


def _experiment(replicates=20, seed=7):
    return Experiment(ToyScenario(), GRID, replicates=replicates, root_seed=seed)


# ------------------------------------------------------------------------ the intervals


def test_t_interval_covers_the_mean_about_95_percent_of_the_time():
    """2000 samples of 20 from N(10, 2²): the 95 % t interval holds 10 in 93–97 % of them."""
    gen = np.random.default_rng(2026)
    hits = sum(
        (ci := t_interval(gen.normal(10.0, 2.0, 20))).low <= 10.0 <= ci.high for _ in range(2000)
    )
    assert 0.93 <= hits / 2000 <= 0.97


def test_t_interval_equals_scipy():
    data = np.random.default_rng(1).exponential(3.0, 15)
    ci = t_interval(data, level=0.9)
    low, high = stats.t.interval(0.9, 14, loc=data.mean(), scale=stats.sem(data))
    assert (ci.low, ci.high) == pytest.approx((low, high), rel=1e-12)
    assert ci.method == "t" and ci.n == 15


def test_bootstrap_covers_the_mean_of_a_skewed_kpi():
    """Samples of 30 from a lognormal: the BCa interval holds the true mean in 90–98 %."""
    gen = np.random.default_rng(5)
    true_mean = math.exp(0.5 * 0.8**2)
    hits = 0
    for i in range(400):
        ci = bootstrap_interval(gen.lognormal(0.0, 0.8, 30), seed=i, n_resamples=999)
        hits += ci.low <= true_mean <= ci.high
    assert 0.90 <= hits / 400 <= 0.98


def test_bootstrap_is_deterministic_for_a_seed():
    data = np.random.default_rng(3).lognormal(size=25)
    one, two = bootstrap_interval(data, seed=11), bootstrap_interval(data, seed=11)
    assert (one.low, one.high) == (two.low, two.high)
    assert (bootstrap_interval(data, seed=12).low, one.method) != (one.low, "x")
    assert bootstrap_interval([4.0, 4.0, 4.0]).low == 4.0  # no spread: a point


@pytest.mark.parametrize(("k", "n"), [(0, 10), (1, 10), (7, 20), (50, 100), (99, 100), (30, 30)])
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_equals_scipy_binomtest(k, n, level):
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    ci = wilson_interval(k, n, level=level)
    assert (ci.low, ci.high) == pytest.approx((ref.low, ref.high), abs=1e-12)


def test_wilson_is_conservative_for_fractional_shares():
    """Shares in [0, 1] (Beta(8, 2)), 15 replicates: coverage of their mean is ≥ 95 %."""
    gen = np.random.default_rng(9)
    hits = sum(
        (ci := mean_interval(gen.beta(8, 2, 15), kpi="x.met_share")).low <= 0.8 <= ci.high
        for _ in range(1000)
    )
    assert hits / 1000 >= 0.95


def test_a_share_always_reached_keeps_an_interval():
    """Every replicate at 100 %: t would give [1, 1]; Wilson gives a lower bound below 1."""
    ci = mean_interval([1.0] * 20, kpi="notification.notified_share")
    assert ci.method == "wilson" and ci.high == 1.0 and 0.8 < ci.low < 1.0


def test_too_few_values_give_no_interval_and_bad_levels_are_refused():
    ci = t_interval([3.0, math.nan])
    assert ci.method == "none" and ci.estimate == 3.0 and math.isnan(ci.low)
    for bad in (0.0, 1.0, float("nan"), "0.9"):
        with pytest.raises(InvalidParameterError, match="level"):
            t_interval([1.0, 2.0], level=bad)
    with pytest.raises(InvalidParameterError, match="successes"):
        wilson_interval(11, 10)


def test_kpi_kinds_and_units_come_from_one_registry():
    assert kpi_kind("needs.medical.response_p90_min") == "quantile"
    assert kpi_kind("relay.gate_to_door_mean_min") == "mean"
    assert kpi_info("queues.arrival_rate_per_min").unit == "per min"
    assert kpi_info("notification.t95_min").label == "notification.t95_min (min)"
    register_kpi("backlog_peak", kind="quantile", unit="parcels")
    assert kpi_info("relay.backlog_peak").kind == "quantile"
    with pytest.raises(InvalidParameterError, match="kind"):
        register_kpi("x", kind="median", unit="min")


# ------------------------------------------------------------------------ summaries


def test_summary_carries_mean_se_and_the_interval_of_the_kpis_kind():
    result = run_sweep(_experiment(), runner=toy_runner)
    table = result.summaries()
    assert list(table.columns) == ["kpi", "point", *GRID, *SUMMARY_COLUMNS]
    frame = result.to_frame()
    for rec in table.to_dict("records"):
        values = frame.loc[frame["point"] == rec["point"], rec["kpi"]].to_numpy()
        assert rec["mean"] == pytest.approx(values.mean())
        assert rec["se"] == pytest.approx(values.std(ddof=1) / math.sqrt(len(values)))
        assert rec["ci_low"] <= rec["mean"] <= rec["ci_high"]
    methods = dict(zip(table["kpi"], table["ci_method"], strict=True))
    assert methods == {
        "t50": "bootstrap-bca",
        "t95": "bootstrap-bca",
        "first_read": "t",
        "volunteer_0": "t",
    }
    # the t rows are Student's interval of the same values
    rec = table[(table["kpi"] == "first_read") & (table["point"] == 1)].iloc[0]
    values = frame.loc[frame["point"] == 1, "first_read"].to_numpy()
    ref = t_interval(values)
    assert (rec["ci_low"], rec["ci_high"]) == (ref.low, ref.high)


def test_summary_table_is_the_same_byte_for_byte():
    from commgov.io import csv_text

    one = run_sweep(_experiment(), runner=toy_runner).summaries()
    two = run_sweep(_experiment(), runner=toy_runner).summaries()
    cols = list(one.columns)
    assert csv_text(one.to_dict("records"), cols) == csv_text(two.to_dict("records"), cols)


def test_summary_refuses_a_bad_level():
    result = run_sweep(_experiment(replicates=3), runner=toy_runner)
    with pytest.raises(ValueError, match="level"):
        result.summary("t50", level=1.5)


# ------------------------------------------------------------------------ paired differences


def test_paired_differences_under_common_random_numbers():
    result = run_sweep(_experiment(replicates=30), runner=toy_runner)
    table = result.differences(["t95", "first_read"])
    assert list(table.columns) == ["kpi", "point", *GRID, *DIFFERENCE_COLUMNS[2:]]
    assert list(zip(table["kpi"], table["point"], strict=True)) == [
        ("t95", 1),
        ("t95", 2),
        ("first_read", 1),
        ("first_read", 2),
    ]
    frame = result.to_frame()
    a = frame.loc[frame["point"] == 1, "t95"].to_numpy()
    b = frame.loc[frame["point"] == 0, "t95"].to_numpy()
    rec = table.iloc[0]
    assert rec["mean_diff"] == pytest.approx((a - b).mean())
    assert rec["ci_low"] <= rec["mean_diff"] <= rec["ci_high"]
    # common random numbers: the paired difference varies less than two independent samples
    assert rec["crn_variance_ratio"] > 1.0
    # a KPI drawn from a stream every point shares is the same: its difference is exactly 0
    same = table[table["kpi"] == "first_read"]
    assert (same["mean_diff"] == 0).all() and (same["ci_high"] == 0).all()
    other = result.differences("t50", baseline=2)
    assert list(other["point"]) == [0, 1] and (other["mean_diff"] < 0).all()
    with pytest.raises(InvalidParameterError, match="baseline"):
        result.differences("t50", baseline=3)


# ------------------------------------------------------------------------ the sequential rule


def test_sequential_rule_adds_batches_until_the_half_width_is_met():
    seq = run_sequential(
        _experiment(replicates=5), kpi="t50", half_width=0.5, batch=5, runner=toy_runner
    )
    assert seq.reached and seq.replicates == seq.steps[-1].replicates
    assert [s.replicates for s in seq.steps] == list(range(5, seq.replicates + 1, 5))
    assert all(s.half_width > 0.5 for s in seq.steps[:-1]) and seq.steps[-1].half_width <= 0.5
    # the same rows as a sweep of the final size, byte for byte
    fixed = run_sweep(_experiment(replicates=seq.replicates), runner=toy_runner)
    assert seq.result.csv_text() == fixed.csv_text()
    again = run_sequential(
        _experiment(replicates=5), kpi="t50", half_width=0.5, batch=5, runner=toy_runner
    )
    assert again.steps == seq.steps and again.result.csv_text() == seq.result.csv_text()


def test_sequential_rule_stops_at_max_replicates_and_relative_targets():
    seq = run_sequential(
        _experiment(replicates=4),
        kpi="t95",
        half_width=0.001,
        max_replicates=10,
        batch=4,
        runner=toy_runner,
    )
    assert not seq.reached and [s.replicates for s in seq.steps] == [4, 8, 10]
    rel = run_sequential(
        _experiment(replicates=4), kpi="t50", half_width=0.05, relative=True, runner=toy_runner
    )
    assert rel.reached and rel.steps[-1].half_width <= 0.05 * 19.0
    with pytest.raises(InvalidParameterError, match="half_width"):
        run_sequential(_experiment(), kpi="t50", half_width=0.0, runner=toy_runner)
    with pytest.raises(InvalidParameterError, match="replicates"):
        run_sequential(_experiment(replicates=1), kpi="t50", half_width=1.0, runner=toy_runner)


@given(
    n=st.integers(1, 10_000),
    frac=st.floats(0.0, 1.0),
    level=st.floats(0.5, 0.999),
)
def test_wilson_interval_holds_the_proportion_inside_zero_one(n, frac, level):
    k = round(frac * n)
    ci = wilson_interval(k, n, level=level)
    assert 0.0 <= ci.low <= ci.estimate <= ci.high <= 1.0
    wider = wilson_interval(k, n, level=min(0.9999, level + 0.0001))
    assert wider.low <= ci.low + 1e-12 and ci.high <= wider.high + 1e-12


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=50))
def test_t_interval_holds_the_mean(values):
    ci = t_interval(values)
    assert ci.low <= ci.estimate + 1e-6 and ci.estimate <= ci.high + 1e-6


def test_sequential_rule_with_a_store_resumes_to_the_same_bytes(tmp_path):
    from sweep_helpers import CALLS, counting_runner

    kwargs = {"kpi": "t50", "half_width": 0.5, "batch": 5, "store": tmp_path / "store"}
    CALLS.clear()
    first = run_sequential(_experiment(replicates=5), runner=counting_runner, **kwargs)
    ran = len(CALLS)
    assert ran == 3 * first.replicates  # each replicate ran once, though looked at many times
    again = run_sequential(_experiment(replicates=5), runner=counting_runner, **kwargs)
    assert len(CALLS) == ran  # all from the store
    assert again.result.csv_text() == first.result.csv_text() and again.steps == first.steps
