"""`commgov simulate --event-log / --time-series / --geojson`: outputs on request.

The KPI files do not change with them, byte for byte; a rerun that does not ask for them again
leaves none behind (the output folder's manifest); bad values exit 2 and write nothing.
"""

import hashlib
import json
from pathlib import Path

import pytest

from commgov.cli import main

pytest.importorskip("pyarrow")

LOCKDOWN = Path("examples/scenarios/huchiyuan_lockdown.toml")


@pytest.fixture
def scenario(tmp_path):
    """The lockdown notice over 4 hours (the notice is done well before)."""
    text = LOCKDOWN.read_text(encoding="utf-8").replace("horizon_min = 1440", "horizon_min = 240")
    path = tmp_path / "lockdown.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(scenario, out, *args):
    try:
        return main(
            [
                "simulate",
                str(scenario),
                "--replicates",
                "3",
                "--plots",
                "none",
                "--vary",
                "submodels.notification.volunteers=20,10",
                "--out",
                str(out),
                *map(str, args),
            ]
        )
    except SystemExit as exc:  # argparse refuses an argument
        return exc.code


def _files(folder):
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "store" not in p.parts and not p.name.startswith(".")
    )


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_outputs_are_written_and_leave_the_kpi_files_unchanged(scenario, tmp_path, capsys):
    plain, rich = tmp_path / "plain", tmp_path / "rich"
    assert _run(scenario, plain) == 0
    args = ["--event-log", "sample:2", "--time-series", "30", "--geojson"]
    assert _run(scenario, rich, *args) == 0
    stdout = capsys.readouterr().out
    assert "events/ (4 files), spatial/ (2 files), timeseries/ (4 files)" in stdout
    for name in ("kpis.csv", "summary.csv", "differences.csv", "kpis.parquet"):
        assert _digest(plain / name) == _digest(rich / name)
    files = _files(rich)
    assert [f for f in files if f.startswith("spatial/")] == [
        "spatial/point_0.geojson",
        "spatial/point_1.geojson",
    ]
    assert len([f for f in files if f.startswith("events/point_1/")]) == 2
    fc = json.loads((rich / "spatial/point_0.geojson").read_text(encoding="utf-8"))
    assert fc["type"] == "FeatureCollection" and fc["units"]["notification.t95_min"] == "min"


def test_a_rerun_without_them_removes_them(scenario, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(scenario, out, "--event-log", "all", "--geojson") == 0
    assert any(f.startswith("events/") for f in _files(out))
    assert _run(scenario, out, "--event-log", "sample:1") == 0  # fewer replicates
    assert [f for f in _files(out) if f.startswith("events/")] == [
        f"events/point_{p}/replicate_{r}.parquet" for p in (0, 1) for r in (_sampled(out),)
    ]
    assert not (out / "spatial").exists()
    assert _run(scenario, out) == 0
    assert _files(out) == [
        "differences.csv",
        "experiment.json",
        "kpis.csv",
        "kpis.parquet",
        "summary.csv",
    ]
    capsys.readouterr()


def test_a_rerun_with_fewer_points_leaves_none_of_the_others(scenario, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(scenario, out, "--event-log", "sample:1", "--geojson") == 0
    assert "spatial/point_1.geojson" in _files(out)
    args = ["--replicates", "2", "--plots", "none", "--event-log", "sample:1", "--geojson"]
    assert main(["simulate", str(scenario), "--out", str(out), *args]) == 0  # one point
    files = _files(out)
    assert "differences.csv" not in files
    assert [f for f in files if "point_1" in f] == []
    assert "spatial/point_0.geojson" in files
    capsys.readouterr()


def _sampled(out):
    names = {p.name for p in (out / "events" / "point_0").iterdir()}
    assert len(names) == 1
    return int(names.pop().removeprefix("replicate_").removesuffix(".parquet"))


def test_the_same_command_gives_byte_identical_outputs(scenario, tmp_path, capsys):
    args = ["--event-log", "sample:2", "--time-series", "60", "--geojson"]
    assert _run(scenario, tmp_path / "a", *args) == 0
    assert _run(scenario, tmp_path / "b", *args, "--batch-size", "1") == 0
    a, b = tmp_path / "a", tmp_path / "b"
    assert _files(a) == _files(b)
    for name in _files(a):
        if name != "experiment.json":  # it records the command line and the time
            assert _digest(a / name) == _digest(b / name), name
    capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--event-log", "some"], "--event-log"),
        (["--event-log", "sample:0"], "--event-log"),
        (["--time-series", "0"], "--time-series"),
        (["--time-series", "nan"], "--time-series"),
    ],
)
def test_bad_values_exit_2_and_write_nothing(scenario, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert _run(scenario, out, *args) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
