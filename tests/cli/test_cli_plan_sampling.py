"""`commgov plan-sampling PROBLEM.json`: plan, verify, export all files or none."""

from __future__ import annotations

import json
import math
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from commgov.cli import main
from commgov.org import ZoneRegime
from commgov.scheduling import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPlan,
    SamplingPoint,
    SamplingProblem,
    is_valid_sampling_plan,
)
from commgov.types import GeoPoint, TimeWindow

icalendar = pytest.importorskip("icalendar")

START = datetime(2022, 4, 12, 6, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
FILES = [
    "buildings.csv",
    "notices_en.txt",
    "notices_zh.txt",
    "plan.csv",
    "plan.json",
    "point_P1.csv",
    "point_P2.csv",
    "sampling.ics",
]


def _at(dx_m: float) -> GeoPoint:
    return GeoPoint(lon=120.62 + dx_m / (111_195.0 * math.cos(math.radians(31.31))), lat=31.31)


def _problem() -> SamplingProblem:
    def building(bid: str, x: float, people: list[int], **kw: object) -> SamplingBuilding:
        return SamplingBuilding(
            id=bid,
            location=_at(x),
            batches=[
                SamplingBatch(id=f"{bid}-{j}", building_id=bid, households=p // 3 + 1, people=p)
                for j, p in enumerate(people)
            ],
            **kw,  # type: ignore[arg-type]
        )

    return SamplingProblem(
        timezone="Asia/Shanghai",
        window=TimeWindow(start=START, end=START + timedelta(hours=2)),
        buildings=[
            building("B1", 100, [30, 20]),
            building("B2", 350, [40], mobility_limited=1),
            building("B3", 120, [10], zone=ZoneRegime.SEALED),
        ],
        points=[
            SamplingPoint(id="P1", location=_at(0), lanes=1),
            SamplingPoint(id="P2", location=_at(400), lanes=1),
        ],
    )


@pytest.fixture
def problem_file(tmp_path: Path) -> Path:
    path = tmp_path / "problem.json"
    path.write_text(_problem().model_dump_json(indent=2), encoding="utf-8")
    return path


def test_plan_sampling_writes_every_file(problem_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["plan-sampling", str(problem_file), "--out", str(out), "--time-limit", "10"]) == 0
    stdout = capsys.readouterr().out
    assert "status OPTIMAL" in stdout and "verified" in stdout
    assert "door to door: 1 sealed building" in stdout
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".commgov")) == FILES
    problem = _problem()
    plan = SamplingPlan.model_validate_json((out / "plan.json").read_text(encoding="utf-8"))
    assert is_valid_sampling_plan(problem, plan)
    cal = icalendar.Calendar.from_ical((out / "sampling.ics").read_text(encoding="utf-8"))
    events = cal.walk("VEVENT")
    assert len(events) == len({(a.building_id, a.slot) for a in plan.assignments})
    assert all(e["DTSTART"].params["TZID"] == "Asia/Shanghai" for e in events)
    zh = (out / "notices_zh.txt").read_text(encoding="utf-8")
    en = (out / "notices_en.txt").read_text(encoding="utf-8")
    assert zh.count("【核酸采样通知】") == 3 and en.count("Sampling notice: ") == 3
    assert "封控" in zh and "sealed" in en
    # the same command again gives the same bytes
    first = {n: (out / n).read_bytes() for n in FILES}
    assert main(["plan-sampling", str(problem_file), "--out", str(out), "--time-limit", "10"]) == 0
    assert {n: (out / n).read_bytes() for n in FILES} == first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "is not valid JSON"),
        ('{"window": 3}', "window"),
        ("[]", "must be a mapping"),
    ],
)
def test_bad_problem_exits_2_and_writes_nothing(tmp_path, capsys, text, expected):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan-sampling", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("commgov: error: ") and "sampling problem" in err and expected in err
    assert not out.exists()


def test_cross_record_error_is_reported_with_the_record(tmp_path, capsys):
    data = json.loads(_problem().model_dump_json())
    data["buildings"].append(data["buildings"][0])  # a duplicate building id
    path = tmp_path / "dup.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan-sampling", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "duplicate building id" in err and "B1" in err
    assert not out.exists()


def test_bad_arguments_exit_2(problem_file, tmp_path, capsys):
    assert (
        main(["plan-sampling", str(tmp_path / "missing.json"), "--out", str(tmp_path / "o")]) == 2
    )
    assert "cannot read" in capsys.readouterr().err
    a_file = tmp_path / "a_file"
    a_file.write_text("x", encoding="utf-8")
    assert main(["plan-sampling", str(problem_file), "--out", str(a_file)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    for bad in ("0", "-1", "nan", "soon"):
        with pytest.raises(SystemExit) as exc:
            main(["plan-sampling", str(problem_file), "--time-limit", bad])
        assert exc.value.code == 2
    assert "--time-limit" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_without_icalendar_everything_but_the_calendar_is_written(
    problem_file, tmp_path, capsys, monkeypatch
):
    """Issue 13 item 8: a base install plans and exports; only sampling.ics is left out,
    and the command says why."""
    out = tmp_path / "out"
    assert main(["plan-sampling", str(problem_file), "--out", str(out)]) == 0
    full = {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")}
    capsys.readouterr()
    monkeypatch.setitem(sys.modules, "icalendar", None)
    base = tmp_path / "base"
    assert main(["plan-sampling", str(problem_file), "--out", str(base)]) == 0
    err = capsys.readouterr().err
    assert "sampling.ics not written" in err and "commgov[ical]" in err
    got = {p.name: p.read_bytes() for p in base.iterdir() if not p.name.startswith(".")}
    assert "sampling.ics" in full and set(got) == set(full) - {"sampling.ics"}
    assert all(got[n] == full[n] for n in got if n not in ("manifest.json", "plan.json"))


def test_help_lists_plan_sampling(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "plan-sampling" in capsys.readouterr().out


# ---- issue 12: time limit of the whole command, size guards before allocation -----------------


def _grid(n_buildings: int, batches: int, n_points: int, side_m: float) -> SamplingProblem:
    """Buildings uniform in a square (seeded), points on a grid, capacity = demand."""
    import random

    r = random.Random(0)

    def at(x: float, y: float) -> GeoPoint:
        g = _at(x)
        return GeoPoint(lon=g.lon, lat=31.31 + y / 111_195.0)

    bs = []
    for i in range(n_buildings):
        bid = f"B{i:05d}"
        bs.append(
            SamplingBuilding(
                id=bid,
                location=at(r.uniform(0, side_m), r.uniform(0, side_m)),
                batches=[
                    SamplingBatch(
                        id=f"{bid}-{j}", building_id=bid, households=10, people=r.randint(20, 60)
                    )
                    for j in range(batches)
                ],
            )
        )
    total = sum(k.people for b in bs for k in b.batches)
    g = math.ceil(math.sqrt(n_points))
    lanes = max(1, round(total / (n_points * 13 * 42.5)))
    pts = [
        SamplingPoint(
            id=f"P{j:04d}",
            lanes=lanes,
            location=at((j % g + 0.5) * side_m / g, (j // g + 0.5) * side_m / g),
        )
        for j in range(n_points)
    ]
    return SamplingProblem(
        window=TimeWindow(start=START, end=START + timedelta(minutes=390)), buildings=bs, points=pts
    )


def test_planner_gets_the_limit_less_the_commands_own_work() -> None:
    from commgov.cli._plan_sampling import (
        CLI_BASE_S,
        CLI_PER_BATCH_S,
        CLI_PER_BUILDING_S,
        CLI_PER_POINT_S,
        MIN_PLANNER_SHARE,
        command_overhead_s,
        planner_limit,
    )

    small, large = _grid(20, 1, 4, 800.0), _grid(3_000, 4, 100, 3_000.0)
    assert 4.0 < planner_limit(5.0, small) < 5.0
    own = command_overhead_s(large)
    assert own == pytest.approx(
        CLI_BASE_S + 12_000 * CLI_PER_BATCH_S + 3_000 * CLI_PER_BUILDING_S + 100 * CLI_PER_POINT_S
    )
    assert planner_limit(5.0, large) == pytest.approx(5.0 - own, abs=1e-3)
    assert planner_limit(1.0, large) == pytest.approx(1.0 * MIN_PLANNER_SHARE)
    # from counts, not the clock: the same problem and limit give the same plan
    assert planner_limit(30.0, large) == planner_limit(30.0, large) < 30.0
    # the largest problems the size guards accept (50,000 batches; 20,000 buildings) still
    # leave the planner a share of a 30 s limit
    most = CLI_BASE_S + 50_000 * CLI_PER_BATCH_S + 20_000 * CLI_PER_BUILDING_S
    assert most + 5_000 * CLI_PER_POINT_S < 30.0 * (1 - MIN_PLANNER_SHARE)


def test_dense_problem_is_refused_at_once_and_nothing_written(tmp_path, capsys):
    # every one of 6,000 buildings within a walk of 400 points: 2.4 million distances
    path = tmp_path / "dense.json"
    path.write_text(_grid(6_000, 1, 400, 1_500.0).model_dump_json(), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["plan-sampling", str(path), "--out", str(out), "--time-limit", "5"]) == 2
    err = capsys.readouterr().err
    assert "exceeds the limit of 2,000,000" in err and "allowed_point_ids" in err
    assert not any((out / name).exists() for name in FILES)


def _run_timed(path: Path, out: Path) -> tuple[float, float]:
    """``commgov plan-sampling PATH --time-limit 5`` in a subprocess: wall and CPU seconds."""
    import resource
    import subprocess
    import time

    # the command as a user runs it after the first import: with an editable install, the
    # first process to import commgov compiles its bytecode (a second or more, once)
    subprocess.run(
        [sys.executable, "-c", "import commgov.cli, commgov.io._sampling_files, commgov.io"],
        check=True,
        timeout=300,
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "commgov",
            "plan-sampling",
            str(path),
            "--out",
            str(out),
            "--time-limit",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert done.returncode == 0, done.stderr
    assert (out / "plan.json").exists() and (out / "sampling.ics").exists()
    return elapsed, cpu


@pytest.mark.slow
def test_time_limit_5_returns_within_6_seconds(tmp_path):
    # the chains of the repair once ran for minutes on problems like this one
    path = tmp_path / "big.json"
    path.write_text(_grid(3_000, 2, 100, 3_000.0).model_dump_json(), encoding="utf-8")
    elapsed, cpu = _run_timed(path, tmp_path / "out")
    assert min(elapsed, cpu) < 6.0, f"{elapsed:.2f} s ({cpu:.2f} s CPU) for --time-limit 5"


@pytest.mark.slow
@pytest.mark.parametrize(
    "instance",
    [
        "issue_10000x5",
        "district_D13",
        "guards_20000x2",
    ],
)
def test_time_limit_5_holds_on_large_instances(tmp_path, instance):
    """Issue 12, item 2: ``--time-limit 5`` returns within 6 s, exports included.

    ``issue_10000x5``: the issue's 10,000 buildings at 5 batches each (50,000 batches,
    the most the size guards accept) and 400 points; ``district_D13``: the district benchmark
    tier (21,079 batches, 400 points), where the calendar export alone took 5 s and the
    command 8.7 s; ``guards_20000x2``: 20,000 buildings (the most the guards accept) × 2
    batches.
    """
    if instance == "district_D13":
        from commgov.datasets import sampling_instance

        problem = sampling_instance("D13", 0)
    elif instance == "guards_20000x2":
        problem = _grid(20_000, 2, 400, 20_000.0)
    else:
        problem = _grid(10_000, 5, 400, 10_000.0)
    path = tmp_path / "problem.json"
    path.write_text(problem.model_dump_json(), encoding="utf-8")
    del problem
    elapsed, cpu = _run_timed(path, tmp_path / "out")
    assert min(elapsed, cpu) < 6.0, f"{elapsed:.2f} s ({cpu:.2f} s CPU) for --time-limit 5"
