"""The `commgov` command: the demo end to end, and bad arguments."""

import csv
import json
import subprocess
import sys

import pytest

from commgov.cli import main


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, "-m", "commgov", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc, out


def test_demo_prints_district_and_plan(demo_run):
    proc, _ = demo_run
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert (
        "8 sub-districts; 171 communities: 169 residents' committees and 2 villagers' committees"
        in text
    )
    assert "1,765 households" in text
    assert "Sampling plan" in text and "door to door" in text
    assert "Volunteer assignment" in text
    assert proc.stderr == ""


def test_demo_through_a_pipe_has_no_progress_bar(demo_run):
    proc, _ = demo_run  # stdout and stderr are pipes, not terminals
    assert proc.returncode == 0, proc.stderr
    for text in (proc.stdout, proc.stderr):
        assert not any(c in text for c in ("\r", "█", "%|", "\x1b["))


def test_demo_writes_json_and_csv(demo_run):
    _, out = demo_run
    plan = json.loads((out / "sampling_plan.json").read_text(encoding="utf-8"))
    assert plan["totals"]["walk_in_people"] > 0
    with (out / "assignment.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and "task_id" in rows[0]
    assert (out / "sampling_plan.csv").exists()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["demo", "--community", "123"], "not one of Gusu's 171 community codes"),
        (["demo", "--community", "320505001002"], "not one of Gusu's"),
        (["demo", "--seed", "-1"], "must be ≥ 0"),
        (["demo", "--seed", "abc"], "expected a whole number"),
        (["demo", "--seed", str(2**63)], "must be < 2**63"),
        (["demo", "--time-limit", "0"], "must be > 0 and ≤ 3600 seconds"),
        (["demo", "--time-limit", "nan"], "must be > 0 and ≤ 3600 seconds"),
        (["demo", "--time-limit", "inf"], "must be > 0 and ≤ 3600 seconds"),
        (["demo", "--time-limit", "soon"], "expected a number of seconds"),
        (["demo", "--households", "0"], "must be between 1 and 20000"),
        (["demo", "--households", "-1"], "must be between 1 and 20000"),
        (["demo", "--households", "20001"], "must be between 1 and 20000"),
        (["demo", "--households", "1e3"], "expected a whole number"),
        (["demo", "--out", ""], "expected a folder name"),
        (["demo", "--out", "  "], "expected a folder name"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_arguments_give_one_line(argv, needle, capsys):
    with pytest.raises(SystemExit) as info:
        code = main(argv)
        raise SystemExit(code)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert needle in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "f"
    target.write_text("x")
    assert main(["demo", "--out", str(target)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_communities_lists_171(capsys):
    assert main(["communities"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 171


def test_out_that_cannot_be_created_fails_before_solving(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["demo", "--out", str(blocker / "sub")]) == 1
    captured = capsys.readouterr()
    assert "cannot write to --out folder" in captured.err
    assert captured.err.count("\n") == 1
    assert "Sampling plan" not in captured.out  # refused before the solve


def test_demo_files_are_whole_and_readable(demo_run):
    _, out = demo_run
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith(".commgov"))
    assert names == [
        "assignment.csv",
        "assignment.json",
        "matching_problem.json",
        "sampling_plan.csv",
        "sampling_plan.json",
        "sampling_problem.json",
    ]  # no temporary files left
    for p in out.iterdir():
        assert p.stat().st_mode & 0o777 == 0o644


def test_small_community(tmp_path, capsys):
    code = "320508017003"
    assert main(["demo", "--community", code, "--households", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 household," in out and "1 building," in out


def test_households_works_as_the_readme_says(tmp_path, capsys):
    """Issue 13 item 8: ``commgov demo --households N`` generates the (default) community with
    N households instead of its detail in gusu()."""
    assert main(["demo", "--households", "40", "--out", str(tmp_path), "--time-limit", "5"]) == 0
    out = capsys.readouterr().out
    assert "40 households," in out and "虎池苑社区" in out


def test_other_community_matches_gusu(tmp_path, capsys):
    from commgov.datasets import gusu
    from commgov.org import OrgGraph

    code = "320508018203"
    assert main(["demo", "--community", code, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    households = OrgGraph(gusu(0, communities=[code])).summary(code).counts.households
    assert f"{households:,} households" in out


def test_files_are_written_even_if_stdout_closes(tmp_path):
    proc = subprocess.run(
        f"{sys.executable} -m commgov demo --out {tmp_path} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.stdout.strip()
    assert (tmp_path / "assignment.csv").exists() and (tmp_path / "sampling_plan.json").exists()
    assert "Traceback" not in proc.stderr
