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
            id=bid, location=_at(x),
            batches=[SamplingBatch(id=f"{bid}-{j}", building_id=bid, households=p // 3 + 1,
                                   people=p) for j, p in enumerate(people)],
            **kw,  # type: ignore[arg-type]
        )

    return SamplingProblem(
        timezone="Asia/Shanghai",
        window=TimeWindow(start=START, end=START + timedelta(hours=2)),
        buildings=[building("B1", 100, [30, 20]), building("B2", 350, [40], mobility_limited=1),
                   building("B3", 120, [10], zone=ZoneRegime.SEALED)],
        points=[SamplingPoint(id="P1", location=_at(0), lanes=1),
                SamplingPoint(id="P2", location=_at(400), lanes=1)],
    )


@pytest.fixture
def problem_file(tmp_path: Path) -> Path:
    path = tmp_path / "problem.json"
    path.write_text(_problem().model_dump_json(indent=2), encoding="utf-8")
    return path


def test_plan_sampling_writes_every_file(problem_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["plan-sampling", str(problem_file), "--out", str(out),
                 "--time-limit", "10"]) == 0
    stdout = capsys.readouterr().out
    assert "status OPTIMAL" in stdout and "verified" in stdout
    assert "door to door: 1 sealed building" in stdout
    assert sorted(p.name for p in out.iterdir()) == FILES
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
    assert main(["plan-sampling", str(problem_file), "--out", str(out),
                 "--time-limit", "10"]) == 0
    assert {n: (out / n).read_bytes() for n in FILES} == first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "invalid JSON"),
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
    assert main(["plan-sampling", str(tmp_path / "missing.json"),
                 "--out", str(tmp_path / "o")]) == 2
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


def test_missing_icalendar_fails_before_writing(problem_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "icalendar", None)
    out = tmp_path / "out"
    assert main(["plan-sampling", str(problem_file), "--out", str(out)]) == 1
    assert "commgov[ical]" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_help_lists_plan_sampling(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "plan-sampling" in capsys.readouterr().out
