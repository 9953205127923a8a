"""Writes that survive signals and neighbours (issue 12, item 7).

* SIGTERM, SIGHUP and SIGINT during a write leave no temporary file, print one line (no
  traceback) and exit 128 + the signal number;
* an output folder is locked while a command writes it: a second writer is refused, naming it;
* a command records what it wrote (``.commgov-manifest.json``): the next run into the folder
  removes its earlier files that it does not write again (no stale ``point_*.csv``), and a
  non-empty folder it did not write is refused unless ``--force``;
* every file error names its path (``No space left on device``, ``File exists``).
"""

from __future__ import annotations

import errno
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from commgov._files import (
    LOCK_NAME,
    MANIFEST_NAME,
    OutputFolder,
    OutputFolderBusyError,
    OutputFolderNotOursError,
)
from commgov.cli import main
from commgov.lists import ThreeLists
from commgov.scheduling import SamplingBatch, SamplingBuilding, SamplingPoint, SamplingProblem
from commgov.types import GeoPoint, TimeWindow

pytest.importorskip("icalendar")

BOOKKEEPING = {LOCK_NAME, MANIFEST_NAME}
PHONE = "13800138000"

# Runs `commgov` with os.replace slowed down at one file: the staged temporary files sit on
# disk (as they do for seconds with a large export) until the test sends its signal.
WRAPPER = """
import os, sys, time
from pathlib import Path

marker, stall_at = Path(sys.argv[1]), sys.argv[2]
real = os.replace

def slow_replace(src, dst, *args, **kwargs):
    if stall_at in os.path.basename(str(src)) and not marker.exists():
        marker.write_text("staged")
        time.sleep(120)
    return real(src, dst, *args, **kwargs)

os.replace = slow_replace
from commgov.cli import main
sys.exit(main(sys.argv[3:]))
"""


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in BOOKKEEPING)


def _debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith((".tmp", ".bak")))


@pytest.fixture(scope="module")
def big_lists(tmp_path_factory) -> Path:
    """A lists JSON with 20,000 needs holding personal data: a 2-4 MB needs.csv."""
    common = {
        "category": "food_supplies",
        "unit_id": "C03",
        "source": "rider",
        "raised_at": "2022-04-10T08:00:00+08:00",
        "recorded_by": "w1",
    }
    lists = ThreeLists.model_validate(
        {
            "needs": [
                {
                    **common,
                    "id": f"n{i}",
                    "title": f"groceries {i}",
                    "description": f"lives alone, call {PHONE}",
                }
                for i in range(20_000)
            ]
        }
    )
    path = tmp_path_factory.mktemp("lists") / "lists.json"
    path.write_text(lists.to_json(), encoding="utf-8")
    return path


def _start(tmp_path: Path, stall_at: str, *argv: str) -> tuple[subprocess.Popen[str], Path]:
    wrapper = tmp_path / "stall.py"
    wrapper.write_text(WRAPPER, encoding="utf-8")
    marker = tmp_path / "staged.marker"
    proc = subprocess.Popen(
        [sys.executable, str(wrapper), str(marker), stall_at, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"the run never reached its write: {proc.returncode} {out} {err}")
        time.sleep(0.05)
    return proc, marker


@pytest.mark.slow
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_signal_during_export_leaves_no_temporary_file(big_lists, tmp_path, signame):
    out = tmp_path / "out"
    proc, _ = _start(
        tmp_path,
        ".needs.csv.",
        "lists",
        "export",
        str(big_lists),
        "--out",
        str(out),
        "--personal-data",
    )
    staged = [p for p in out.iterdir() if p.name.startswith(".needs.csv.")]
    assert staged and staged[0].stat().st_size > 2_000_000  # the 2-4 MB file
    assert PHONE in staged[0].read_text(encoding="utf-8")
    signum = getattr(signal, signame)
    proc.send_signal(signum)
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert stderr.count("\n") == 1 and stderr.startswith("commgov: interrupted")
    assert _debris(out) == []  # no temporary file, no personal data left behind
    assert _names(out) == []  # all or none: none
    assert not any(PHONE in p.read_text(encoding="utf-8") for p in out.iterdir())


@pytest.mark.slow
def test_signal_at_any_moment_of_a_large_export(big_lists, tmp_path):
    """Without any stall: whenever SIGTERM lands, the folder holds all files or none."""
    for delay in (0.5, 1.5, 3.0):
        out = tmp_path / f"out{delay}"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "commgov",
                "lists",
                "export",
                str(big_lists),
                "--out",
                str(out),
                "--personal-data",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
        # -15: killed while Python was still starting, before the command began (no folder),
        # or after the command ended and put the default handlers back (all files written)
        assert proc.returncode in (0, 143, -signal.SIGTERM), stderr
        assert "Traceback" not in stderr
        if out.exists():
            assert _debris(out) == []
            assert _names(out) in ([], ["needs.csv", "projects.csv", "resources.csv"])


def test_nohup_keeps_sighup_ignored():
    """A signal ignored when the command starts (nohup) stays ignored while it runs."""
    from commgov.cli._output import _signals_raise

    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with _signals_raise():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored
    finally:
        signal.signal(signal.SIGHUP, old)


def test_the_first_signal_raises_and_hands_the_next_back():
    """After the first signal a second one has its usual effect (a forced end)."""
    from commgov.cli._output import Interrupted, _signals_raise

    before = signal.getsignal(signal.SIGINT)
    with _signals_raise():
        with pytest.raises(Interrupted) as info:
            signal.raise_signal(signal.SIGINT)
        assert info.value.signum == signal.SIGINT and isinstance(info.value, KeyboardInterrupt)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is before


# ---- sampling problems for plan-sampling --------------------------------------------------

START = datetime(2022, 4, 12, 6, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def _at(dx_m: float) -> GeoPoint:
    return GeoPoint(lon=120.62 + dx_m / (111_195.0 * math.cos(math.radians(31.31))), lat=31.31)


def _problem_file(folder: Path, points: tuple[str, ...] = ("P1", "P2")) -> Path:
    problem = SamplingProblem(
        timezone="Asia/Shanghai",
        window=TimeWindow(start=START, end=START + timedelta(hours=2)),
        buildings=[
            SamplingBuilding(
                id=f"B{i}",
                location=_at(100 * i),
                batches=[
                    SamplingBatch(id=f"B{i}-0", building_id=f"B{i}", households=10, people=30)
                ],
            )
            for i in range(1, 4)
        ],
        points=[
            SamplingPoint(id=pid, location=_at(200 * k), lanes=1) for k, pid in enumerate(points)
        ],
    )
    path = folder / f"problem-{'-'.join(points)}.json"
    path.write_text(problem.model_dump_json(), encoding="utf-8")
    return path


def _plan(problem: Path, out: Path, *extra: str) -> int:
    return main(["plan-sampling", str(problem), "--out", str(out), "--time-limit", "10", *extra])


def test_replanning_removes_the_earlier_runs_point_files(tmp_path, capsys):
    out = tmp_path / "out"
    assert _plan(_problem_file(tmp_path, ("P1", "P2")), out) == 0
    assert "point_P2.csv" in _names(out)
    assert _plan(_problem_file(tmp_path, ("P1", "P3")), out) == 0
    names = _names(out)
    assert "point_P2.csv" not in names and {"point_P1.csv", "point_P3.csv"} <= set(names)
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["command"] == "plan-sampling" and manifest["files"] == names
    capsys.readouterr()


def test_a_folder_commgov_did_not_write_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    problem = _problem_file(tmp_path)
    assert _plan(problem, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err and "--force" in err and "notes.txt" in err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # nothing created
    assert _plan(problem, out, "--force") == 0
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"  # never removed
    assert _plan(_problem_file(tmp_path, ("P1", "P3")), out) == 0  # now the folder is ours
    assert "notes.txt" in _names(out) and "point_P2.csv" not in _names(out)


@pytest.mark.slow
def test_another_commands_folder_is_refused(tmp_path, big_lists, capsys):
    out = tmp_path / "out"
    assert _plan(_problem_file(tmp_path), out) == 0
    capsys.readouterr()
    assert main(["lists", "export", str(big_lists), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "`commgov plan-sampling`" in err and "--force" in err
    assert "needs.csv" not in _names(out)
    assert main(["lists", "export", str(big_lists), "--out", str(out), "--force"]) == 0
    assert _names(out) == ["needs.csv", "projects.csv", "resources.csv"]  # plan files gone


def test_a_second_writer_is_refused_naming_the_folder(tmp_path, capsys):
    out = tmp_path / "out"
    problem = _problem_file(tmp_path)
    with OutputFolder(out, "plan-sampling"):
        assert _plan(problem, out) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "another commgov run is writing to" in err
        assert str(out) in err
        with pytest.raises(OutputFolderBusyError):
            OutputFolder(out, "plan-sampling")
    assert _names(out) == []
    assert _plan(problem, out) == 0  # released


@pytest.mark.slow
def test_two_processes_writing_one_folder(tmp_path, capsys):
    """A run stalled in the middle of its renames holds the folder; a second is refused."""
    out = tmp_path / "out"
    first = _problem_file(tmp_path, ("P1", "P2"))
    proc, _ = _start(
        tmp_path,
        ".sampling.ics.",
        "plan-sampling",
        str(first),
        "--out",
        str(out),
        "--time-limit",
        "10",
    )
    assert _plan(_problem_file(tmp_path, ("P1", "P3")), out) == 1
    assert "another commgov run is writing to" in capsys.readouterr().err
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "Traceback" not in stderr
    assert _names(out) == [] and _debris(out) == []  # the first run's renames were undone
    assert _plan(_problem_file(tmp_path, ("P1", "P3")), out) == 0
    assert "point_P3.csv" in _names(out)


def test_leftovers_of_a_killed_writer_are_cleared(tmp_path, capsys):
    out = tmp_path / "out"
    problem = _problem_file(tmp_path)
    assert _plan(problem, out) == 0
    (out / ".plan.json.ab12cd34.tmp").write_text("half", encoding="utf-8")  # SIGKILL's debris
    assert _plan(problem, out) == 0
    assert _debris(out) == []
    capsys.readouterr()


def test_a_hostile_manifest_removes_nothing_outside(tmp_path):
    out = tmp_path / "out"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.csv").write_text("keep", encoding="utf-8")
    out.mkdir()
    (out / "link").symlink_to(tmp_path / "elsewhere")
    (out / MANIFEST_NAME).write_text(
        json.dumps(
            {
                "format": "commgov-output-manifest",
                "command": "demo",
                "files": ["../victim.txt", str(victim), "link/x.csv", "", ".", LOCK_NAME, 3],
            }
        ),
        encoding="utf-8",
    )
    with OutputFolder(out, "demo") as folder:
        folder.write({out / "a.txt": "A"})
    assert victim.read_text(encoding="utf-8") == "keep"
    assert (tmp_path / "elsewhere" / "x.csv").read_text(encoding="utf-8") == "keep"
    with pytest.raises(ValueError, match="not inside"), OutputFolder(out, "demo") as folder:
        folder.write({victim: "x"})


def test_a_failed_run_keeps_both_runs_files_recorded(tmp_path):
    out = tmp_path / "out"
    with OutputFolder(out, "demo") as folder:
        folder.write({out / "a.txt": "A", out / "b.txt": "B"})
    with pytest.raises(RuntimeError), OutputFolder(out, "demo") as folder:
        folder.write({out / "c.txt": "C"})
        raise RuntimeError("the solve failed")
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["files"] == ["a.txt", "b.txt", "c.txt"]  # nothing removed, all known
    with OutputFolder(out, "demo") as folder:
        folder.write({out / "c.txt": "C2"})
    assert _names(out) == ["c.txt"]
    with pytest.raises(OutputFolderNotOursError):
        OutputFolder(out, "match")


# ---- every file error names its path -------------------------------------------------------


def _fail_writes(monkeypatch, code: int, text: str) -> None:
    """Make every write to a file opened with os.fdopen fail as a full disk does."""
    real = os.fdopen

    class Full:
        def __init__(self, fh):
            self._fh = fh

        def write(self, data):
            raise OSError(code, text)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._fh.close()

        def __getattr__(self, name):
            return getattr(self._fh, name)

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: Full(real(*a, **k)))


def test_no_space_left_names_the_file(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    problem = _problem_file(tmp_path)
    OutputFolder(out, "plan-sampling").close()  # claimed before the disk fills up
    _fail_writes(monkeypatch, errno.ENOSPC, "No space left on device")
    assert _plan(problem, out) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err
    assert str(out / "plan.json") in err
    assert _names(out) == [] and _debris(out) == []


def test_os_error_lines_name_their_files():
    from commgov.cli._output import _os_error_text

    assert _os_error_text(FileExistsError(errno.EEXIST, "File exists", "/x/plots")) == (
        "/x/plots: File exists"
    )
    assert _os_error_text(OSError(errno.EXDEV, "Cross-device link", "/a", None, "/b")) == (
        "/a → /b: Cross-device link"
    )
    assert _os_error_text(OSError(errno.ENOSPC, "cannot write /x/a: No space", "/x/a")) == (
        "cannot write /x/a: No space"
    )


SCENARIO = """
name = "tick"
start = 2022-04-11T19:00:00+08:00
horizon_min = 600

[community]
dataset = "gusu"
community = "320508017016"

[submodels."simulate_helpers:cli_tick"]
mean_min = 2.0
"""


def _simulate(scenario: Path, out: Path, *extra: str) -> int:
    return main(
        [
            "simulate",
            str(scenario),
            "--replicates",
            "2",
            "--plots",
            "none",
            "--plugin",
            "simulate_helpers",
            "--out",
            str(out),
            *extra,
        ]
    )


@pytest.fixture
def scenario(tmp_path) -> Path:
    path = tmp_path / "tick.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def test_simulate_errors_name_the_path(scenario, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert _simulate(scenario, out) == 0
    # "File exists": a file where the store folder goes
    store = out / "store"
    for batch in store.iterdir():
        batch.unlink()
    store.rmdir()
    store.write_text("not a folder", encoding="utf-8")
    capsys.readouterr()
    assert _simulate(scenario, out) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(store) in err and "Traceback" not in err
    store.unlink()

    # "No space left on device" while the store writes a batch (an fsync names no file)
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    assert _simulate(scenario, out, "--seed", "7") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and str(store) in err


def test_simulate_resumes_after_an_interrupted_first_run(scenario, tmp_path, capsys, monkeypatch):
    """A first run stopped before writing its tables leaves a folder the next run accepts."""
    import commgov.sim

    out = tmp_path / "out"
    real = commgov.sim.run_sweep

    def interrupted(*args, **kwargs):
        kwargs["store"].mkdir(parents=True, exist_ok=True)  # stopped inside the sweep
        raise KeyboardInterrupt

    monkeypatch.setattr(commgov.sim, "run_sweep", interrupted)
    assert _simulate(scenario, out) == 130
    assert "interrupted (Ctrl+C)" in capsys.readouterr().err
    monkeypatch.setattr(commgov.sim, "run_sweep", real)
    assert _simulate(scenario, out) == 0
    assert "kpis.csv" in _names(out)


def test_simulate_removes_the_earlier_runs_figures(scenario, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    assert (
        main(
            [
                "simulate",
                str(scenario),
                "--replicates",
                "2",
                "--plugin",
                "simulate_helpers",
                "--out",
                str(out),
                "--plots",
                "headline",
            ]
        )
        == 0
    )
    assert (out / "plots" / "cli_tick.png").exists()
    manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert "plots/cli_tick.png" in manifest["files"]
    assert _simulate(scenario, out) == 0  # --plots none
    assert not (out / "plots").exists()  # its figures, then the emptied folder, are gone
    assert {"kpis.csv", "summary.csv", "experiment.json", "store"} <= set(_names(out))
    capsys.readouterr()


NAMES = ["a.csv", "b.csv", "point_P1.csv", "point_P2.csv", "plots/x.png", "plots/y.png"]


@settings(max_examples=40, deadline=None)
@given(
    runs=st.lists(
        st.tuples(st.sets(st.sampled_from(NAMES), min_size=1), st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_the_folder_holds_exactly_the_last_successful_runs_files(runs):
    """Whatever sequence of runs, successful or failed: after a successful run the folder
    holds exactly its files; after a failed one, every file present is recorded."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        for files, ok in runs:
            try:
                with OutputFolder(out, "plan-sampling") as folder:
                    folder.write({out / name: name for name in sorted(files)})
                    if not ok:
                        raise RuntimeError("failed after writing")
            except RuntimeError:
                pass
            present = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
            present -= BOOKKEEPING
            recorded = set(json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))["files"])
            if ok:
                assert present == files == recorded
            else:
                assert files <= present <= recorded
            assert not (out / "plots").exists() or any((out / "plots").iterdir())
