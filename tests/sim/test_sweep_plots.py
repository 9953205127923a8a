"""Sweep summaries built in one pass, headline KPI selection and multi-panel plots."""

import math

import pandas as pd
import pytest
from sweep_helpers import ToyScenario, flaky_runner, toy_runner

from commgov.sim import (
    SUMMARY_COLUMNS,
    Experiment,
    SweepResult,
    headline_groups,
    is_headline_kpi,
    run_sweep,
    select_kpis,
)

GRID = {"notification.volunteers": [20, 10, 5], "households": [200, 400]}

#: KPI names of the built-in submodels (a subset of huchiyuan_day's 78).
DAY_KPIS = [
    "door_to_door.households",
    "door_to_door.swabbed_share",
    "door_to_door.t100_min",
    "door_to_door.t50_min",
    "door_to_door.t95_min",
    "door_to_door.team_hours",
    "events",
    "needs.arrived",
    "needs.medical.response_p90_min",
    "needs.met_share",
    "needs.response_mean_min",
    "needs.response_p90_min",
    "notification.by_door",
    "notification.notified_share",
    "notification.t100_min",
    "notification.t50_min",
    "notification.t95_min",
    "queues.arrival_rate_per_min",
    "queues.mean_wait_min",
    "queues.served",
    "queues.wait_max_min",
    "queues.wait_p95_min",
    "relay.deliveries_per_hour",
    "relay.gate_to_door_max_min",
    "relay.gate_to_door_p95_min",
    "relay.shelf_max",
    "volunteer_hours",
    "cli_tick.last_min",
    "cli_tick.ticks",
    "cli_tick.a",
    "cli_tick.b",
    "cli_tick.c",
    "never.t95_min",
]


def day_runner(scenario, replicate, root_seed):
    """Every KPI of DAY_KPIS; ``never.*`` is NaN throughout (left out of the plots)."""
    return {
        k: (math.nan if k.startswith("never.") else float(i + replicate))
        for i, k in enumerate(DAY_KPIS)
    }


def _result(replicates=4, runner=toy_runner, grid=GRID) -> SweepResult:
    return run_sweep(
        Experiment(ToyScenario(), grid, replicates=replicates, root_seed=3), runner=runner
    )


def test_summaries_equal_summary_of_each_kpi_in_one_table():
    result = _result(replicates=9, runner=flaky_runner)  # failed rows are left out
    long = result.summaries(interval=0.8)
    assert list(long.columns) == ["kpi", "point", *GRID, *SUMMARY_COLUMNS]
    parts = [result.summary(k, interval=0.8).assign(kpi=k) for k in result.kpi_names]
    expected = pd.concat(parts, ignore_index=True)[list(long.columns)]
    pd.testing.assert_frame_equal(long, expected)
    assert list(result.summaries(["t95"])["kpi"]) == ["t95"] * 6
    with pytest.raises(KeyError, match="nope"):
        result.summaries(["t50", "nope"])
    with pytest.raises(ValueError, match="interval"):
        result.summaries(interval=0.0)


def test_the_table_is_built_once_per_result(monkeypatch):
    result = _result()
    calls = []
    real = SweepResult.records

    def counting(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(SweepResult, "records", counting)
    for kpi in result.kpi_names * 5:
        result.summary(kpi)
    result.summaries()
    assert len(calls) == 1
    frame = result.to_frame()
    frame.loc[:, "t50"] = -1.0  # callers get a copy: the cached table is untouched
    assert (result.to_frame()["t50"] > 0).all()
    assert len(calls) == 1


def test_headline_kpis_by_submodel():
    result = _result(replicates=2, runner=day_runner)
    groups = headline_groups(result)
    assert groups == {
        "door_to_door": [
            "door_to_door.swabbed_share",
            "door_to_door.t100_min",
            "door_to_door.t50_min",
            "door_to_door.t95_min",
        ],
        "needs": ["needs.met_share", "needs.response_mean_min", "needs.response_p90_min"],
        "notification": [
            "notification.notified_share",
            "notification.t100_min",
            "notification.t50_min",
            "notification.t95_min",
        ],
        "queues": ["queues.arrival_rate_per_min", "queues.mean_wait_min", "queues.wait_p95_min"],
        "relay": ["relay.deliveries_per_hour", "relay.gate_to_door_p95_min"],
        "cli_tick": ["cli_tick.a", "cli_tick.b", "cli_tick.c", "cli_tick.last_min"],
        "totals": ["volunteer_hours"],
    }
    assert not is_headline_kpi("needs.medical.response_p90_min")
    assert not is_headline_kpi("events")


def test_select_kpis_by_name_and_pattern():
    result = _result(replicates=1, runner=day_runner)
    kpis, missing = select_kpis(result, ["queues.wait_*", "events", "nope", "events"])
    assert kpis == ["events", "queues.wait_max_min", "queues.wait_p95_min"]
    assert missing == ["nope"]


def test_plot_kpis_one_panel_per_kpi(tmp_path):
    pytest.importorskip("matplotlib")
    from commgov.sim import plot_kpis, save_headline_plots

    result = _result(replicates=3)
    fig = plot_kpis(result, ["t50", "t95", "first_read"])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["t50", "t95", "first_read"]
    assert all(ax.get_xlabel() == "notification.volunteers" for ax in visible)
    assert visible[0].get_legend() is not None and visible[1].get_legend() is None
    with pytest.raises(ValueError, match="at least one"):
        plot_kpis(result, [])
    base = run_sweep(Experiment(ToyScenario(), replicates=2), runner=toy_runner)
    assert len(plot_kpis(base, ["t50"]).axes) == 1
    day = _result(replicates=2, runner=day_runner, grid={"households": [100, 200]})
    written = save_headline_plots(day, tmp_path / "plots")
    assert [p.name for p in written] == [f"{g}.png" for g in headline_groups(day)]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)
    assert not list((tmp_path / "plots").glob(".*tmp"))


def test_figures_label_axes_with_units_and_say_what_bars_and_bands_are():
    """Every panel names its KPI's unit (the one KPI registry), the x axis its key with ticks at
    the design values, the title the ok replicates per point, the legend bars and band."""
    pytest.importorskip("matplotlib")
    from commgov.sim import kpi_info, plot_kpi, plot_kpis

    kpis = [
        "notification.t95_min",
        "notification.notified_share",
        "queues.served",
        "relay.deliveries_per_hour",
    ]
    result = _result(replicates=5, runner=day_runner, grid={"notification.volunteers": [5, 10]})
    fig = plot_kpis(result, kpis)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_ylabel() for ax in visible] == [
        "t95_min (min)",
        "notified_share (share)",
        "served (count)",
        "deliveries_per_hour (per hour)",
    ]
    assert [kpi_info(k).unit for k in kpis] == ["min", "share", "count", "per hour"]
    assert all(ax.get_xlabel() == "notification.volunteers" for ax in visible)
    assert [t.get_text() for t in visible[0].get_xticklabels()] == ["5", "10"]
    assert "5 ok replicates per point" in fig._suptitle.get_text()
    legend = [t.get_text() for t in visible[0].get_legend().get_texts()]
    assert legend == [
        "mean",
        "bars: 95 % confidence interval of the mean",
        "band: 90 % of replicates",
    ]
    one = plot_kpi(result, "notification.t95_min").axes[0]
    assert one.get_ylabel() == "t95_min (min)"
    assert one.get_title() == "notification.t95_min\n5 ok replicates per point, root seed 3"


def test_no_label_is_clipped():
    """Every text of a headline figure lies inside the figure (constrained layout)."""
    pytest.importorskip("matplotlib")
    from commgov.sim import plot_kpis

    result = _result(replicates=3, runner=day_runner, grid={"notification.volunteers": [5, 10]})
    fig = plot_kpis(result, DAY_KPIS[:5])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    texts = [fig._suptitle] + [
        t for ax in fig.axes if ax.get_visible() for t in (ax.title, ax.xaxis.label, ax.yaxis.label)
    ]
    for text in texts:
        extent = text.get_window_extent(renderer)
        assert box.x0 - 1 <= extent.x0 and extent.x1 <= box.x1 + 1, text.get_text()
        assert box.y0 - 1 <= extent.y0 and extent.y1 <= box.y1 + 1, text.get_text()
