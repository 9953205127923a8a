"""Sweeps: experiments, run_sweep on executors, reproducibility, failures, the store, outputs."""

import logging
import math
import multiprocessing
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest
from sweep_helpers import (
    CALLS,
    BrokenExecutor,
    LaxScenario,
    ReversingExecutor,
    ToyNotification,
    ToyScenario,
    bad_result_runner,
    counting_runner,
    flaky_runner,
    toy_runner,
)

from commgov.errors import InputError, MissingExtraError
from commgov.sim import (
    FIXED_COLUMNS,
    Experiment,
    SweepStore,
    run_sweep,
    scenario_id,
    with_values,
)

GRID = {"notification.volunteers": [20, 10, 5], "households": [200, 400]}


def _experiment(replicates=10, seed=7, grid=GRID):
    return Experiment(ToyScenario(), grid, replicates=replicates, root_seed=seed)


@pytest.fixture(scope="module")
def pools():
    ctx = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(1, mp_context=ctx) as one,
        ProcessPoolExecutor(2, mp_context=ctx) as two,
    ):
        yield {1: one, 2: two}


@pytest.fixture(scope="module")
def serial_csv():
    return run_sweep(_experiment(), runner=toy_runner).csv_text()


# ------------------------------------------------------------------------------ experiments


def test_grid_is_factorial_first_key_slowest():
    exp = _experiment()
    assert exp.keys == ("notification.volunteers", "households")
    assert [dict(p.values) for p in exp.points] == [
        {"notification.volunteers": v, "households": h} for v in (20, 10, 5) for h in (200, 400)
    ]
    assert [p.index for p in exp.points] == list(range(6))
    assert exp.points[3].scenario.notification.volunteers == 10
    assert exp.points[3].scenario.households == 400
    assert exp.n_tasks == 60
    assert (
        exp.points[0].scenario_id
        == ToyScenario(households=200, notification=ToyNotification(volunteers=20)).content_hash
    )
    assert "6 point(s)" in repr(exp)


def test_no_grid_is_the_base_scenario():
    exp = Experiment(ToyScenario(), replicates=3)
    assert len(exp.points) == 1 and exp.keys == ()
    assert exp.points[0].scenario == ToyScenario()


def test_from_dataframe_rows_are_points_with_python_values():
    df = pd.DataFrame(
        {"notification.read_median_min": [3.0, 6.0, 9.0], "households": [100, 200, 300]},
        index=[10, 5, 0],
    )
    exp = Experiment.from_dataframe(ToyScenario(), df, replicates=2, root_seed=1)
    assert exp.keys == ("notification.read_median_min", "households")
    assert [p.scenario.households for p in exp.points] == [100, 200, 300]
    assert type(exp.points[0].values["households"]) is int
    assert exp.n_tasks == 6
    with pytest.raises(ValueError, match="repeated columns"):
        Experiment.from_dataframe(ToyScenario(), pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_design_rows_and_their_errors():
    exp = Experiment(ToyScenario(), design=[{"households": 5}, {"households": 7}])
    assert [p.scenario.households for p in exp.points] == [5, 7]
    with pytest.raises(ValueError, match="keys"):
        Experiment(ToyScenario(), design=[{"households": 5}, {"name": "x"}])
    with pytest.raises(ValueError, match="no rows"):
        Experiment(ToyScenario(), design=[])
    with pytest.raises(ValueError, match="not both"):
        Experiment(ToyScenario(), {"households": [1]}, design=[{"households": 5}])


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"grid": {"households": []}}, ValueError, "no values"),
        ({"grid": {"households": 5}}, TypeError, "list of values"),
        ({"grid": {"households": "12"}}, TypeError, "list of values"),
        ({"grid": {"replicate": [1]}}, ValueError, "cannot be varied"),
        ({"grid": {"a..b": [1]}}, ValueError, "dotted field path"),
        ({"replicates": 0}, ValueError, "replicates"),
        ({"replicates": True}, ValueError, "replicates"),
        ({"root_seed": -1}, ValueError, "root_seed"),
        ({"root_seed": 1.5}, ValueError, "root_seed"),
    ],
)
def test_experiment_refuses_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Experiment(ToyScenario(), **kwargs)


def test_experiment_refuses_a_base_that_is_not_a_model():
    with pytest.raises(TypeError, match="pydantic"):
        Experiment({"households": 3})


def test_unknown_path_and_invalid_value_name_the_design_point():
    with pytest.raises(InputError, match=r"notification\.volunters") as info:
        Experiment(ToyScenario(), {"notification.volunters": [1]})
    assert "design point 0" in str(info.value)
    assert "read_median_min" in str(info.value)  # the fields that do exist
    with pytest.raises(InputError, match=r"design point 1 \(notification.volunteers=0\)"):
        Experiment(ToyScenario(), {"notification.volunteers": [3, 0]})
    with pytest.raises(InputError, match="no field"):
        Experiment(ToyScenario(), {"households.x": [1]})


def test_with_values_lists_free_form_mappings_and_lax_models():
    base = ToyScenario()
    new = with_values(base, {"lanes.1": 8, "notification.params.chase_after_min": 15})
    assert new.lanes == [4, 8] and new.notification.params == {"chase_after_min": 15.0}
    assert base.lanes == [4, 6]  # not changed
    with pytest.raises(InputError, match="index below 2"):
        with_values(base, {"lanes.2": 1})
    with pytest.raises(InputError, match="no field 'volunters'"):
        with_values(LaxScenario(), {"volunters": 3})
    assert with_values(base, {}) is base


def test_with_values_uses_the_scenarios_own_with_updates():
    from commgov.sim import Scenario

    base = Scenario.from_dict(
        {
            "name": "t",
            "start": "2022-04-11T19:00:00+08:00",
            "community": {"community": "320508017016"},
        }
    )
    exp = Experiment(base, {"horizon_min": [60, 120]}, replicates=1)
    assert [p.scenario.horizon_min for p in exp.points] == [60.0, 120.0]
    assert exp.points[0].scenario_id == exp.points[0].scenario.content_hash
    with pytest.raises(InputError, match="design point 0"):
        Experiment(base, {"horizon_min": [-1]})


def test_scenario_id_without_content_hash_is_a_canonical_json_hash():
    assert scenario_id(LaxScenario(volunteers=3)) == scenario_id(LaxScenario(volunteers=3))
    assert scenario_id(LaxScenario(volunteers=3)) != scenario_id(LaxScenario(volunteers=4))
    assert len(scenario_id(LaxScenario())) == 64


# ------------------------------------------------------------------------------ running


def test_rows_are_sorted_and_complete():
    result = run_sweep(_experiment(), runner=toy_runner)
    keys = [(r.point, r.replicate) for r in result.rows]
    assert keys == [(p, r) for p in range(6) for r in range(10)]
    assert all(r.status == "ok" and r.error == "" for r in result.rows)
    assert result.kpi_names == ("t50", "t95", "first_read", "volunteer_0")
    assert result.columns == (
        "point",
        "scenario_id",
        "notification.volunteers",
        "households",
        "replicate",
        "status",
        "t50",
        "t95",
        "first_read",
        "volunteer_0",
        "error",
    )
    assert result.provenance["root_seed"] == 7
    assert result.provenance["runner"] == "sweep_helpers:toy_runner"
    assert set(result.provenance["versions"]) >= {"commgov", "numpy", "python"}
    assert result.failed == ()


def test_common_random_numbers_across_design_points():
    result = run_sweep(_experiment(), runner=toy_runner)
    by_rep = {}
    for row in result.rows:
        by_rep.setdefault(row.replicate, set()).add(row.kpis["first_read"])
        by_rep.setdefault(("v0", row.replicate), set()).add(row.kpis["volunteer_0"])
    # replicate r draws the same household and volunteer-0 numbers in every scenario ...
    assert all(len(v) == 1 for v in by_rep.values())
    # ... and replicates differ from each other
    assert len({next(iter(by_rep[r])) for r in range(10)}) == 10
    # fewer volunteers never notify faster under common random numbers
    t50 = {(r.point, r.replicate): r.kpis["t50"] for r in result.rows}
    for rep in range(10):
        assert t50[(0, rep)] <= t50[(2, rep)] <= t50[(4, rep)]


def test_root_seed_changes_every_replicate():
    a = run_sweep(_experiment(seed=1), runner=toy_runner)
    b = run_sweep(_experiment(seed=2), runner=toy_runner)
    assert all(x.kpis != y.kpis for x, y in zip(a.rows, b.rows, strict=True))


def test_batch_size_does_not_change_the_csv(serial_csv):
    for batch_size in (1, 3, 8, 100):
        result = run_sweep(_experiment(), runner=toy_runner, batch_size=batch_size)
        assert result.csv_text() == serial_csv


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("batch_size", [1, 8])
def test_process_pool_csv_is_byte_identical(pools, serial_csv, workers, batch_size):
    result = run_sweep(
        _experiment(), executor=pools[workers], runner=toy_runner, batch_size=batch_size
    )
    assert result.csv_text() == serial_csv


def test_reversed_completion_order_gives_the_same_csv(serial_csv):
    n_batches = 6 * 4  # 6 points × ceil(10 / 3) batches
    executor = ReversingExecutor(n_batches)
    try:
        result = run_sweep(_experiment(), executor=executor, runner=toy_runner, batch_size=3)
    finally:
        executor.shutdown()
    assert executor.finished[0] == n_batches - 1  # the last batch submitted finished first
    assert executor.finished[-1] == 0
    assert result.csv_text() == serial_csv


def test_to_csv_files_are_byte_identical(tmp_path, pools):
    serial = run_sweep(_experiment(), runner=toy_runner).to_csv(tmp_path / "a" / "kpis.csv")
    pooled = run_sweep(_experiment(), executor=pools[2], runner=toy_runner, batch_size=1)
    other = pooled.to_csv(tmp_path / "b" / "kpis.csv")
    assert serial.read_bytes() == other.read_bytes()
    assert serial.read_bytes().startswith(b"point,scenario_id,notification.volunteers,")


def test_runner_must_pickle_for_an_executor(pools):
    def local_runner(scenario, replicate, root_seed):
        return {"x": 1.0}

    with pytest.raises(TypeError, match="module level"):
        run_sweep(_experiment(), executor=pools[1], runner=local_runner)
    # in process anything callable will do
    result = run_sweep(_experiment(replicates=1), runner=lambda s, r, seed: {"x": float(r)})
    assert [row.kpis for row in result.rows] == [{"x": 0.0}] * 6


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 2.0}, ValueError, "batch_size"),
        ({"on_error": "ignore"}, ValueError, "on_error"),
        ({"executor": object()}, TypeError, "Executor"),
    ],
)
def test_run_sweep_refuses_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        run_sweep(_experiment(), runner=toy_runner, **kwargs)
    with pytest.raises(TypeError, match="Experiment"):
        run_sweep(ToyScenario(), runner=toy_runner)


def test_progress_counts_replicates():
    calls = []
    run_sweep(
        _experiment(), runner=toy_runner, batch_size=4, progress=lambda d, t: calls.append((d, t))
    )
    assert calls[0] == (0, 60) and calls[-1] == (60, 60)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) == 1 + 6 * 3  # start, then every batch


# ------------------------------------------------------------------------------ failures


def test_failures_are_recorded_with_their_traceback(pools):
    serial = run_sweep(_experiment(), runner=flaky_runner)
    failed = serial.failed
    assert [(r.point, r.replicate) for r in failed] == [(p, r) for p in range(6) for r in (1, 4, 7)]
    assert all("ValueError: toy failure in replicate" in r.error for r in failed)
    assert all("Traceback (most recent call last)" in r.error for r in failed)
    assert all(r.kpis == {} for r in failed)
    ok = [r for r in serial.rows if r.status == "ok"]
    assert len(ok) == 42
    frame = serial.to_frame()
    assert frame.loc[frame["status"] == "failed", "t50"].isna().all()
    # the same table, tracebacks included, from a process pool
    pooled = run_sweep(_experiment(), executor=pools[2], runner=flaky_runner, batch_size=3)
    assert pooled.csv_text() == serial.csv_text()


@pytest.mark.parametrize("use_pool", [False, True])
def test_on_error_raise_reraises(pools, use_pool):
    executor = pools[2] if use_pool else None
    with pytest.raises(ValueError, match="toy failure in replicate 1"):
        run_sweep(_experiment(), executor=executor, runner=flaky_runner, on_error="raise")


def test_a_result_without_kpis_is_a_failure():
    result = run_sweep(_experiment(replicates=1), runner=bad_result_runner)
    assert all(r.status == "failed" and "TypeError" in r.error for r in result.rows)


def test_lost_batches_are_failed_rows_or_raise():
    result = run_sweep(_experiment(replicates=2), executor=BrokenExecutor(), runner=toy_runner)
    assert len(result.rows) == 12
    assert all(r.status == "failed" and "worker lost" in r.error for r in result.rows)
    with pytest.raises(RuntimeError, match="worker lost"):
        run_sweep(_experiment(), executor=BrokenExecutor(), runner=toy_runner, on_error="raise")


# ------------------------------------------------------------------------------ store


class _InterruptError(Exception):
    pass


def test_store_resumes_an_interrupted_sweep(tmp_path, serial_csv):
    store = SweepStore(tmp_path / "store")

    def stop_after_20(done, total):
        if done >= 20:
            raise _InterruptError

    CALLS.clear()
    with pytest.raises(_InterruptError):
        run_sweep(
            _experiment(), runner=counting_runner, store=store, batch_size=4, progress=stop_after_20
        )
    first = list(CALLS)
    assert len(first) == 20
    assert len(list((tmp_path / "store").glob("batch-*.json"))) == 6  # 4+4+2 and 4+4+2
    CALLS.clear()
    seen = []
    result = run_sweep(
        _experiment(),
        runner=counting_runner,
        store=str(tmp_path / "store"),
        batch_size=4,
        progress=lambda d, t: seen.append(d),
    )
    assert seen[0] == 20  # found in the store
    assert len(CALLS) == 40 and not set(CALLS) & set(first)  # only the rest ran
    # the resumed result is the uninterrupted one (the runner's name differs, not its KPIs)
    fresh = run_sweep(_experiment(), runner=counting_runner)
    assert result.csv_text() == fresh.csv_text()
    assert result.csv_text().split("\n", 1)[1] == serial_csv.split("\n", 1)[1]
    # a full rerun runs nothing
    CALLS.clear()
    run_sweep(_experiment(), runner=counting_runner, store=store, batch_size=7)
    assert CALLS == []


def test_store_keys_on_seed_scenario_and_runner(tmp_path):
    store = SweepStore(tmp_path)
    run_sweep(_experiment(replicates=2), runner=counting_runner, store=store)
    CALLS.clear()
    run_sweep(_experiment(replicates=2, seed=8), runner=counting_runner, store=store)
    assert len(CALLS) == 12  # another root seed: nothing reused
    CALLS.clear()
    grid = {"notification.volunteers": [20, 11], "households": [200, 400]}
    run_sweep(_experiment(replicates=2, grid=grid), runner=counting_runner, store=store)
    assert len(CALLS) == 4  # volunteers=11 is new; 20 was stored
    CALLS.clear()
    run_sweep(_experiment(replicates=3), runner=counting_runner, store=store)
    assert sorted({r for _, r in CALLS}) == [2]  # only the added replicate
    result = run_sweep(_experiment(replicates=2), runner=toy_runner, store=store)
    assert result.rows  # another runner: ran again, nothing mixed
    assert (
        len(store.get({p.scenario_id for p in _experiment().points}, 7, "sweep_helpers:toy_runner"))
        == 12
    )


def test_store_keeps_only_ok_replicates_and_skips_bad_files(tmp_path, caplog):
    store = SweepStore(tmp_path)
    run_sweep(_experiment(replicates=3), runner=flaky_runner, store=store)
    ids = {p.scenario_id for p in _experiment().points}
    stored = store.get(ids, 7, "sweep_helpers:flaky_runner")
    assert sorted({r for _, r in stored}) == [0, 2]
    (tmp_path / "batch-broken.json").write_text("{not json", encoding="utf-8")
    (tmp_path / ".tmp-half.json").write_text("{", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="commgov.sim"):
        again = store.get(ids, 7, "sweep_helpers:flaky_runner")
    assert again == stored
    assert "batch-broken.json" in caplog.text
    assert SweepStore(tmp_path / "missing").get(ids, 7, "x:y") == {}
    assert store.put("abc", 7, "x:y", []) is None
    assert pickle.loads(pickle.dumps(store)).path == store.path


# ------------------------------------------------------------------------------ outputs


def test_to_frame_columns_and_types():
    frame = run_sweep(_experiment(replicates=2), runner=toy_runner).to_frame()
    assert list(frame.columns[:2]) == ["point", "scenario_id"]
    assert frame["t50"].dtype == "float64"
    assert frame["point"].tolist() == [p for p in range(6) for _ in range(2)]
    assert set(FIXED_COLUMNS) <= set(frame.columns)


def test_list_values_and_colliding_kpi_names(tmp_path):
    exp = Experiment(ToyScenario(), {"lanes": [[4, 6], [2]]}, replicates=1)

    def runner(scenario, replicate, root_seed):
        return {"lanes": float(sum(scenario.lanes)), "status": 1.0}

    result = run_sweep(exp, runner=runner)
    assert result.columns[-3:] == ("kpi:lanes", "kpi:status", "error")
    lines = result.csv_text().splitlines()
    assert lines[1].split(",", 2)[2].startswith('"[4,6]",0,ok,10.0,1.0,')


def test_summary_gives_median_and_interval():
    result = run_sweep(_experiment(replicates=20), runner=toy_runner)
    table = result.summary("t50")
    assert list(table.columns) == [
        "point",
        "notification.volunteers",
        "households",
        "n",
        "mean",
        "sd",
        "se",
        "ci_low",
        "ci_high",
        "ci_method",
        "median",
        "low",
        "high",
    ]
    assert (table["n"] == 20).all()
    assert (table["low"] <= table["median"]).all() and (table["median"] <= table["high"]).all()
    with pytest.raises(KeyError, match="t51"):
        result.summary("t51")
    with pytest.raises(ValueError, match="interval"):
        result.summary("t50", interval=1.0)


def test_to_parquet_round_trip(tmp_path):
    pytest.importorskip("pyarrow")
    result = run_sweep(_experiment(replicates=3), runner=flaky_runner)
    path = result.to_parquet(tmp_path / "out" / "kpis.parquet")
    back = pd.read_parquet(path)
    frame = result.to_frame()
    assert list(back.columns) == list(frame.columns)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    again = result.to_parquet(tmp_path / "again.parquet")
    assert again.read_bytes() == path.read_bytes()
    assert not list((tmp_path / "out").glob(".*tmp"))


def test_to_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    result = run_sweep(_experiment(replicates=1), runner=toy_runner)
    with pytest.raises(MissingExtraError, match=r"commgov\[sim\]"):
        result.to_parquet(tmp_path / "k.parquet")
    assert not (tmp_path / "k.parquet").exists()


def test_nan_kpis_are_written_as_nan():
    result = run_sweep(
        Experiment(ToyScenario(), replicates=1), runner=lambda s, r, seed: {"t100": math.nan}
    )
    assert result.csv_text().splitlines()[1].endswith(",ok,nan,")


def test_kpi_plots(tmp_path):
    pytest.importorskip("matplotlib")
    from commgov.sim import plot_kpi, save_kpi_plots

    result = run_sweep(_experiment(replicates=5), runner=toy_runner)
    fig = plot_kpi(result, "t50")
    assert fig.axes[0].get_xlabel() == "notification.volunteers"
    assert len(fig.axes[0].get_lines()) == 2  # one per households value
    written = save_kpi_plots(result, tmp_path / "plots")
    assert [p.name for p in written] == ["t50.png", "t95.png", "first_read.png", "volunteer_0.png"]
    again = save_kpi_plots(result, tmp_path / "again", kpis=["t50"])
    assert again[0].read_bytes() == written[0].read_bytes()
    text = run_sweep(Experiment(ToyScenario(), {"name": ["a", "b"]}), runner=toy_runner)
    assert [t.get_text() for t in plot_kpi(text, "t50").axes[0].get_xticklabels()] == ["a", "b"]


def test_kpi_plots_without_matplotlib_name_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    from commgov.sim import plot_kpi

    result = run_sweep(_experiment(replicates=1), runner=toy_runner)
    with pytest.raises(MissingExtraError, match=r"commgov\[plot\]"):
        plot_kpi(result, "t50")
