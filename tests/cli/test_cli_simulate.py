"""`commgov simulate`: KPI files, reproducibility across workers, resume, bad input."""

import argparse
import csv
import json

import pytest

from commgov.cli import main
from commgov.cli._parser import _vary

SUB = "simulate_helpers:cli_tick"  # tests/cli/simulate_helpers.py, loaded with --plugin

SCENARIO = f"""
name = "tick"
start = 2022-04-11T19:00:00+08:00
horizon_min = 600

[community]
dataset = "gusu"
community = "320508017016"

[submodels."{SUB}"]
mean_min = 2.0
"""


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "tick.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def _run(*args):
    try:
        return main(["simulate", *map(str, args), "--plugin", "simulate_helpers"])
    except SystemExit as exc:  # argparse refuses an argument
        return exc.code


def test_simulate_writes_kpis_summary_and_experiment(scenario, tmp_path, capsys):
    out = tmp_path / "out"
    code = _run(scenario, "--replicates", 3, "--vary", f"submodels.{SUB}.ticks=3,6",
                "--seed", 5, "--out", out)
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert "Simulated tick: 2 design points × 3 replicates (root seed 5); 6 ok, 0 failed" in stdout
    assert "cli_tick.last_min" in stdout
    rows = list(csv.DictReader((out / "kpis.csv").open(encoding="utf-8")))
    assert [(r["point"], r["replicate"]) for r in rows] == [
        (p, r) for p in "01" for r in "012"
    ]
    assert [r[f"submodels.{SUB}.ticks"] for r in rows] == ["3"] * 3 + ["6"] * 3
    assert {r["cli_tick.ticks"] for r in rows} == {"3.0", "6.0"}
    assert all(r["status"] == "ok" and r["error"] == "" for r in rows)
    summary = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    assert {s["kpi"] for s in summary} >= {"cli_tick.last_min", "cli_tick.ticks", "events"}
    assert all(s["n"] == "3" for s in summary)
    assert all(float(s["ci_low"]) <= float(s["mean"]) <= float(s["ci_high"]) for s in summary)
    diffs = list(csv.DictReader((out / "differences.csv").open(encoding="utf-8")))
    assert {(d["point"], d["baseline"]) for d in diffs} == {("1", "0")}
    described = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    assert described["root_seed"] == 5 and described["replicates"] == 3
    assert described["vary"] == {f"submodels.{SUB}.ticks": [3, 6]}
    assert described["scenario"]["name"] == "tick"
    assert list((out / "store").glob("batch-*.json"))


def test_kpis_csv_is_byte_identical_for_1_and_2_workers_and_a_resume(scenario, tmp_path, capsys):
    args = ["--replicates", 5, "--vary", f"submodels.{SUB}.mean_min=1.0,3.5"]
    assert _run(scenario, *args, "--out", tmp_path / "w1") == 0
    assert _run(scenario, *args, "--workers", 2, "--batch-size", 1, "--out", tmp_path / "w2") == 0
    one = (tmp_path / "w1" / "kpis.csv").read_bytes()
    assert (tmp_path / "w2" / "kpis.csv").read_bytes() == one
    assert (tmp_path / "w2" / "summary.csv").read_bytes() == (
        tmp_path / "w1" / "summary.csv"
    ).read_bytes()
    # the same command again resumes from the store: same bytes
    assert _run(scenario, *args, "--workers", 2, "--out", tmp_path / "w1") == 0
    assert (tmp_path / "w1" / "kpis.csv").read_bytes() == one
    capsys.readouterr()


def test_parquet_and_plots_with_their_extras(scenario, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    assert _run(scenario, "--replicates", 2, "--vary", f"submodels.{SUB}.ticks=2,4",
                "--out", out) == 0
    assert (out / "kpis.parquet").stat().st_size > 0
    # default: one figure per submodel of its headline KPIs, and totals.png
    assert sorted(p.name for p in (out / "plots").iterdir()) == ["cli_tick.png", "totals.png"]
    assert (out / "plots" / "cli_tick.png").read_bytes().startswith(b"\x89PNG")
    assert "plots/ (2 figures)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("which", "files"),
    [
        ("all", ["cli_tick.last_min.png", "cli_tick.ticks.png", "events.png",
                 "volunteer_hours.png"]),
        ("none", None),
        ("cli_tick.*,events", ["cli_tick.last_min.png", "cli_tick.ticks.png", "events.png"]),
        ("headline", ["cli_tick.png", "totals.png"]),
    ],
)
def test_plots_option_selects_the_figures(scenario, tmp_path, capsys, which, files):
    pytest.importorskip("matplotlib")
    out = tmp_path / which.replace("*", "_").replace(",", "_")
    args = ["--replicates", 2, "--vary", f"submodels.{SUB}.ticks=2,4"]
    assert _run(scenario, *args, "--plots", which, "--out", out) == 0
    stdout = capsys.readouterr().out
    if files is None:
        assert not (out / "plots").exists() and "plots/" not in stdout
    else:
        assert sorted(p.name for p in (out / "plots").iterdir()) == files
    reference = tmp_path / "reference"
    if not reference.exists():
        assert _run(scenario, *args, "--plots", "none", "--out", reference) == 0
    for name in ("kpis.csv", "summary.csv"):  # the KPI files do not depend on --plots
        assert (out / name).read_bytes() == (reference / name).read_bytes()


def test_plots_naming_no_kpi_warns(scenario, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    assert _run(scenario, "--replicates", 1, "--plots", "nope,events", "--out", out) == 0
    assert "--plots 'nope' matches no KPI" in capsys.readouterr().err
    assert [p.name for p in (out / "plots").iterdir()] == ["events.png"]


def test_failed_replicates_exit_1_with_the_table_written(scenario, tmp_path, capsys):
    out = tmp_path / "out"
    code = _run(scenario, "--replicates", 4, "--vary", f"submodels.{SUB}.fail_after=1",
                "--out", out)
    _, stderr = capsys.readouterr()
    assert code == 1
    assert "2 replicates failed" in stderr
    assert "RuntimeError: tick failure in replicate 1" in stderr
    rows = list(csv.DictReader((out / "kpis.csv").open(encoding="utf-8")))
    assert [r["status"] for r in rows] == ["ok", "failed", "ok", "failed"]
    assert "Traceback" in rows[1]["error"]


def test_no_vary_runs_the_base_scenario(scenario, tmp_path, capsys):
    assert _run(scenario, "--replicates", 1, "--out", tmp_path / "o") == 0
    assert "1 design point × 1 replicate" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vary", "ticks"], "KEY=V1,V2"),
        (["--vary", "=1,2"], "KEY=V1,V2"),
        (["--vary", "a..b=1"], "dotted field"),
        (["--vary", "horizon_min=1,,2"], "non-empty"),
        (["--vary", "horizon_min=1,1"], "repeated"),
        (["--vary", "horizon_min=60", "--vary", "horizon_min=30"], "given twice"),
        (["--vary", "replicate=1"], "column of kpis.csv"),
        (["--vary", "horizon_minutes=60"], "horizon_minutes"),
        (["--vary", "horizon_min=-5"], "design point 0"),
        (["--vary", f"submodels.{SUB}.tick=3"], "tick"),
        (["--replicates", "0"], "--replicates"),
        (["--replicates", "many"], "--replicates"),
        (["--seed", "-1"], "--seed"),
        (["--workers", "0"], "--workers"),
        (["--workers", "2", "--dask", "tcp://localhost:1"], "not allowed with"),
        (["--batch-size", "0"], "--batch-size"),
        (["--plots", ""], "--plots"),
        (["--plots", "a,,b"], "--plots"),
    ],
)
def test_bad_arguments_exit_2_and_write_nothing(scenario, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    code = _run(scenario, *args, "--out", out)
    stderr = capsys.readouterr().err
    assert code == 2, stderr
    assert message in stderr
    assert stderr.startswith("commgov: error:")
    assert not out.exists()


def test_bad_scenario_files_exit_2(tmp_path, capsys):
    missing = tmp_path / "missing.toml"
    assert _run(missing, "--out", tmp_path / "o") == 2
    assert "no such file" in capsys.readouterr().err
    wrong = tmp_path / "s.yaml"
    wrong.write_text("name: x", encoding="utf-8")
    assert _run(wrong, "--out", tmp_path / "o") == 2
    assert ".toml or .json" in capsys.readouterr().err
    broken = tmp_path / "s.toml"
    broken.write_text("name = ", encoding="utf-8")
    assert _run(broken, "--out", tmp_path / "o") == 2
    assert "not valid TOML" in capsys.readouterr().err
    unknown = tmp_path / "u.toml"
    unknown.write_text(SCENARIO + "\nvolunteers = 3\n", encoding="utf-8")
    assert _run(unknown, "--out", tmp_path / "o") == 2
    assert "volunteers" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_out_must_be_a_folder(scenario, tmp_path, capsys):
    file = tmp_path / "file"
    file.write_text("x", encoding="utf-8")
    assert _run(scenario, "--out", file) == 2
    assert "not a folder" in capsys.readouterr().err


def test_vary_values_are_read_as_toml_or_text():
    assert _vary("a.b=1,2.5,true,x y,\"q\",-3") == ("a.b", [1, 2.5, True, "x y", "q", -3])


def test_vary_takes_lists_and_tables_whose_commas_are_inside_brackets():
    """Values are the items of one TOML array when they are one, so a lane schedule or a
    list can be varied (they were split at every comma); bare words still split."""
    _key, values = _vary('submodels.queues.lane_schedule={"*"=[[690,0]]},{"*"=[[690,2]]}')
    assert values == [{"*": [[690, 0]]}, {"*": [[690, 2]]}]
    assert _vary("a.b=[1, 2],[3, 4]") == ("a.b", [[1, 2], [3, 4]])
    assert _vary("a.b=greedy,balanced") == ("a.b", ["greedy", "balanced"])
    for bad in ("a.b=1,,2", "a.b=1,2,", "a.b=[1],[1]"):
        with pytest.raises(argparse.ArgumentTypeError):
            _vary(bad)


def test_simulate_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["simulate", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--replicates", "--vary", "--seed", "--workers", "--dask", "--out",
                   "--plots"):
        assert option in text


def test_dask_address_gives_the_same_kpis_csv(scenario, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    args = ["--replicates", 4, "--vary", f"submodels.{SUB}.ticks=2,5"]
    assert _run(scenario, *args, "--out", tmp_path / "serial") == 0
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        silence_logs=40,
    ) as cluster:
        code = _run(scenario, *args, "--dask", cluster.scheduler_address, "--batch-size", 1,
                    "--out", tmp_path / "dask")
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "dask" / "kpis.csv").read_bytes() == (
        tmp_path / "serial" / "kpis.csv"
    ).read_bytes()


def test_progress_line(monkeypatch, capsys):
    import sys

    from commgov.cli._progress import ProgressBar

    with ProgressBar("simulate", unit="replicates", delay_s=0) as quiet:  # not a terminal
        for done in range(0, 11):
            quiet.count(done, 10)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with ProgressBar("simulate", unit="replicates") as short:  # a terminal, a short run
        short.count(0, 10)
        short.count(10, 10)
    assert capsys.readouterr().err == ""
    with ProgressBar("simulate", unit="replicates", delay_s=0) as line:
        line.count(0, 10)
        line.count(10, 10)
    err = capsys.readouterr().err
    assert err.startswith("\rsimulate: 0/10 replicates |") and err.endswith("\n")
    assert "simulate: 10/10 replicates |" in err and "100%" in err


@pytest.mark.parametrize("plugin", ["no_such_module_xyz", "os;rm -rf", "../evil"])
def test_bad_plugin_exits_2_and_writes_nothing(scenario, tmp_path, capsys, plugin):
    """A --plugin that is not an importable dotted module name is a usage error."""
    out = tmp_path / "out"
    code = main(["simulate", str(scenario), "--plugin", plugin, "--out", str(out)])
    assert code == 2
    assert "--plugin" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_until_adds_replicates_until_the_interval_is_narrow(scenario, tmp_path, capsys):
    """--until KPI=HALF_WIDTH: batches of --replicates until the 95 % interval is that narrow;
    the files equal a plain run of the final number of replicates."""
    args = ["--vary", f"submodels.{SUB}.mean_min=1.0,3.5", "--plots", "none"]
    out = tmp_path / "until"
    assert _run(scenario, *args, "--replicates", 3, "--until", "cli_tick.last_min=20%",
                "--out", out) == 0
    stdout = capsys.readouterr().out
    described = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    seq = described["sequential"]
    final = described["replicates"]
    assert seq["reached"] and seq["steps"][-1]["replicates"] == final and final % 3 == 0
    assert f"{final} replicates per point" in stdout
    plain = tmp_path / "plain"
    assert _run(scenario, *args, "--replicates", final, "--out", plain) == 0
    for name in ("kpis.csv", "summary.csv", "differences.csv"):
        assert (out / name).read_bytes() == (plain / name).read_bytes()
    assert _run(scenario, *args, "--replicates", 2, "--until", "nope=1", "--out",
                tmp_path / "bad") == 2
    assert "--until: no KPI 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate", str(scenario), "--until", "x=-1"])
