"""Intervals of bounded KPIs stay in the KPI's range (issue 15 item 1, break-test D11).

A t interval of ``relay.rider_utilisation`` over three replicates reached 1.015: a share of
on-duty time above 1. The range comes from the unit in the one KPI registry
(:attr:`commgov.sim.KpiInfo.bounds`) and :func:`commgov.sim.mean_interval` cuts every
interval to it, whatever the method.
"""

from __future__ import annotations

import math

from hypothesis import given, settings, strategies as st

from commgov.sim import kpi_info, mean_interval, t_interval

BOUNDED = {
    "relay.rider_utilisation": (0.0, 1.0),
    "notification.notified_share": (0.0, 1.0),
    "queues.p_wait": (0.0, 1.0),
    "relay.undelivered": (0.0, math.inf),
    "queues.wait_p95_all_min": (0.0, math.inf),
    "relay.deliveries_per_hour": (0.0, math.inf),
    "volunteer_hours": (0.0, math.inf),
}


def test_the_break_testers_utilisation_stays_at_most_one():
    values = [1.0, 1.0, 0.97]
    assert t_interval(values).high > 1.0  # the t interval alone leaves the range
    ci = mean_interval(values, kpi="relay.rider_utilisation")
    assert ci.method == "t" and ci.high == 1.0 and ci.low < ci.estimate < ci.high


def test_bounds_come_from_the_unit():
    for name, bounds in BOUNDED.items():
        assert kpi_info(name).bounds == bounds, name
    assert kpi_info("relay.rider_utilisation").unit == "share of on-duty time"


@settings(max_examples=200, deadline=None)
@given(
    kpi=st.sampled_from(sorted(BOUNDED)),
    values=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=8),
    scale=st.sampled_from([1.0, 10.0, 1000.0]),
)
def test_an_interval_never_leaves_the_kpi_s_range(kpi, values, scale):
    lo, hi = BOUNDED[kpi]
    data = [v * (scale if math.isinf(hi) else 1.0) for v in values]
    ci = mean_interval(data, kpi=kpi)
    assert lo <= ci.low <= ci.estimate + 1e-12
    assert ci.estimate - 1e-12 <= ci.high <= hi


def test_values_outside_the_range_leave_the_interval_alone():
    values = [-1.0, 0.0, 5.0]  # a count of one's own that is not one
    assert mean_interval(values, kpi="x.balance") == t_interval(values)
