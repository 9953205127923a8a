"""`commgov plan-supply-stations PROBLEM.json --out DIR`: plan, verify, write every file or none."""

from __future__ import annotations

import json

import pytest

from commgov.cli import main
from commgov.scheduling.supply import SupplyPlan, is_valid_supply_plan
from commgov.testing._mut_supply import supply_fixtures

FILES = ["plan.csv", "plan.json", "stations.csv"]


@pytest.fixture
def problem_file(tmp_path):
    path = tmp_path / "problem.json"
    path.write_text(supply_fixtures()["default"].model_dump_json(), encoding="utf-8")
    return path


def test_plan_supply_writes_every_file(problem_file, tmp_path, capsys):
    """The plan is verified, written as JSON and CSV, and the same command repeats byte for
    byte."""
    out = tmp_path / "out"
    assert main(["plan-supply-stations", str(problem_file), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "status OPTIMAL" in stdout and "verified" in stdout
    assert "unserved 1 compound × NO_STATION_IN_REACH" in stdout
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".commgov")) == FILES
    plan = SupplyPlan.model_validate_json((out / "plan.json").read_text(encoding="utf-8"))
    assert is_valid_supply_plan(supply_fixtures()["default"], plan)
    header = (out / "stations.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("station_id,compounds,households")
    first = {n: (out / n).read_bytes() for n in FILES}
    assert main(["plan-supply-stations", str(problem_file), "--out", str(out)]) == 0
    assert {n: (out / n).read_bytes() for n in FILES} == first


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{", "is not valid JSON"), ('{"volunteers": -3}', "volunteers"), ("[]", "must be a mapping")],
)
def test_bad_problem_exits_2_and_writes_nothing(tmp_path, capsys, text, expected):
    """Unreadable or invalid input: one masked line, exit 2, no folder."""
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan-supply-stations", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("commgov: error: ") and "supply problem" in err and expected in err
    assert not out.exists()


def test_duplicate_site_is_reported_with_the_record(tmp_path, capsys):
    """A cross-record error names the record."""
    data = json.loads(supply_fixtures()["default"].model_dump_json())
    data["stations"].append(data["stations"][0])
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan-supply-stations", str(path), "--out", str(out)]) == 2
    assert "duplicate station id" in capsys.readouterr().err
    assert not out.exists()
