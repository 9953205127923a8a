"""`commgov plan-sites PROBLEM.json --out DIR`: plan, verify, write every file or none."""

from __future__ import annotations

import json

import pytest

from commgov.cli import main
from commgov.scheduling.sites import SitesPlan, is_valid_sites_plan
from commgov.testing._mut_sites import sites_fixtures

FILES = ["plan.csv", "plan.json", "sites.csv"]


@pytest.fixture
def problem_file(tmp_path):
    path = tmp_path / "problem.json"
    path.write_text(sites_fixtures()["default"].model_dump_json(), encoding="utf-8")
    return path


def test_plan_sites_writes_every_file(problem_file, tmp_path, capsys):
    """The plan is verified, written as JSON and CSV, and the same command repeats byte for
    byte."""
    out = tmp_path / "out"
    assert main(["plan-sites", str(problem_file), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "status OPTIMAL" in stdout and "verified" in stdout
    assert "unserved 1 building × NO_SITE_IN_REACH" in stdout
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".commgov")) == FILES
    plan = SitesPlan.model_validate_json((out / "plan.json").read_text(encoding="utf-8"))
    assert is_valid_sites_plan(sites_fixtures()["default"], plan)
    header = (out / "sites.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("site_id,lanes,residents")
    first = {n: (out / n).read_bytes() for n in FILES}
    assert main(["plan-sites", str(problem_file), "--out", str(out)]) == 0
    assert {n: (out / n).read_bytes() for n in FILES} == first


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{", "is not valid JSON"), ('{"window": 3}', "window"), ("[]", "must be a mapping")],
)
def test_bad_problem_exits_2_and_writes_nothing(tmp_path, capsys, text, expected):
    """Unreadable or invalid input: one masked line, exit 2, no folder."""
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan-sites", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("commgov: error: ") and "sites problem" in err and expected in err
    assert not out.exists()


def test_duplicate_site_is_reported_with_the_record(tmp_path, capsys):
    """A cross-record error names the record."""
    data = json.loads(sites_fixtures()["default"].model_dump_json())
    data["sites"].append(data["sites"][0])
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan-sites", str(path), "--out", str(out)]) == 2
    assert "duplicate site id" in capsys.readouterr().err
    assert not out.exists()


def test_simulate_and_fewest_staff_write_their_tables(problem_file, tmp_path, capsys):
    """``--simulate N --fewest-staff``: the planned day simulated N times (a row per
    replicate for the day and per site) and the fewest lanes meeting the target, the same
    as the library's functions, byte for byte on a rerun."""
    import csv

    from commgov.sim import fewest_staff_meeting_target, simulate_sites_plan

    out = tmp_path / "out"
    argv = ["plan-sites", str(problem_file), "--out", str(out), "--simulate", "40"]
    assert main([*argv, "--fewest-staff", "--seed", "3"]) == 0
    stdout = capsys.readouterr().out
    assert "Simulated 40 days" in stdout and "Fewest lanes" in stdout
    problem = sites_fixtures()["default"]
    plan = SitesPlan.model_validate_json((out / "plan.json").read_text(encoding="utf-8"))
    sim = simulate_sites_plan(problem, plan, replicates=40, seed=3)
    with (out / "simulation.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    day = [r for r in rows if r["scope"] == "day"]
    assert len(day) == 40 and len(rows) == 40 * (1 + len(plan.sites))
    assert sum(r["meets"] == "true" for r in day) == round(sim.share * 40)
    assert f"{sim.share:.1%}" in stdout
    found = fewest_staff_meeting_target(problem, plan, replicates=40, seed=3)
    with (out / "fewest_staff.csv").open(encoding="utf-8") as f:
        lanes = {r["site_id"]: int(r["lanes"]) for r in csv.DictReader(f)}
    assert sum(lanes.values()) == found.lanes_total
    first = {n: (out / n).read_bytes() for n in ("simulation.csv", "fewest_staff.csv")}
    assert main([*argv, "--fewest-staff", "--seed", "3"]) == 0
    assert {n: (out / n).read_bytes() for n in first} == first


def test_fewest_staff_without_simulate_is_a_usage_error(problem_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["plan-sites", str(problem_file), "--out", str(out), "--fewest-staff"]) == 2
    assert "--fewest-staff needs --simulate" in capsys.readouterr().err
    assert not out.exists()


def test_simulate_says_who_is_not_simulated(tmp_path, capsys):
    """A plan serving no one is not simulated (no vacuous "100 % of days"); a plan leaving
    residents unserved says they are not in the simulation; few replicates get a note."""
    from commgov.scheduling.sites import StaffPool, StaffRole

    base = sites_fixtures()["default"]
    nobody = base.model_copy(update={"pool": [StaffPool(role=StaffRole.SWABBER, people=0)]})
    path = tmp_path / "nobody.json"
    path.write_text(nobody.model_dump_json(), encoding="utf-8")
    out = tmp_path / "o1"
    assert main(["plan-sites", str(path), "--out", str(out), "--simulate", "5"]) == 0
    stdout = capsys.readouterr().out
    assert "Not simulated: the plan serves no one" in stdout
    assert "100.0%" not in stdout and not (out / "simulation.csv").exists()
    path = tmp_path / "p.json"
    path.write_text(base.model_dump_json(), encoding="utf-8")
    assert main(["plan-sites", str(path), "--out", str(tmp_path / "o2"), "--simulate", "5"]) == 0
    assert "Only 5 replicates: the interval below is wide" in capsys.readouterr().out
