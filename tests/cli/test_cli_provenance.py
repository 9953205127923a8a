"""`experiment.json` says how a run came about; the KPI files stay byte-identical."""

import json
import re
import subprocess

import pytest
from test_cli_simulate import SUB, _run, scenario  # noqa: F401 (fixture)

from commgov.sim import run_record
from commgov.sim._provenance import git_state


def test_experiment_json_records_command_git_ortools_and_time(scenario, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "out"
    assert _run(scenario, "--replicates", 2, "--seed", 3, "--out", out, "--plots", "none") == 0
    run = json.loads((out / "experiment.json").read_text(encoding="utf-8"))["run"]
    assert run["command"][:2] == ["commgov", "simulate"] and "--seed" in run["command"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", run["started_utc"])
    assert re.fullmatch(r"\d+\.\d+.*", run["versions"]["ortools"])
    assert set(run["git"]) == {"commgov", "inputs"}
    assert list(run["git"]["inputs"]) == [str(scenario)]
    assert run["git"]["inputs"][str(scenario)] is None  # tmp_path is in no repository
    first = {n: (out / n).read_bytes() for n in ("kpis.csv", "summary.csv")}
    assert _run(scenario, "--replicates", 2, "--seed", 3, "--out", out, "--plots", "none") == 0
    assert {n: (out / n).read_bytes() for n in first} == first
    for name in first:  # nothing of the run's provenance leaks into the KPI files
        assert b"started_utc" not in first[name] and b"ortools" not in first[name]
    capsys.readouterr()


def test_git_state_of_a_repository_and_outside_one(tmp_path, monkeypatch):
    assert git_state(tmp_path) is None
    try:
        subprocess.run(["git", "init", "-q", str(tmp_path / "r")], check=True)
        subprocess.run(
            [
                "git",
                "-C",
                str(tmp_path / "r"),
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.org",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "x",
            ],
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git is not usable here")
    (tmp_path / "r" / "s.toml").write_text("x", encoding="utf-8")
    state = git_state(tmp_path / "r" / "s.toml")
    assert state is not None and re.fullmatch(r"[0-9a-f]{40}", state["commit"])
    assert state["dirty"] is False  # untracked files do not make a tree dirty
    monkeypatch.setenv("PATH", "")  # no git at all: no error, no commit
    assert git_state(tmp_path / "r") is None


def test_run_record_masks_personal_numbers_in_the_command():
    rec = run_record(["commgov", "simulate", "13800138000.toml"])
    assert "13800138000" not in json.dumps(rec)
