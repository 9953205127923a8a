"""`commgov lists import|export` and `commgov match`: files, summaries, exit 2 on bad input."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from commgov.cli import main
from commgov.io import csv_text
from commgov.lists import ThreeLists

UTC8 = timezone(timedelta(hours=8))
COMMON = {
    "category": "food_supplies",
    "unit_id": "C03",
    "raised_at": "2022-04-10T08:00:00+08:00",
    "recorded_by": "w1",
}
NEED = {"id": "n1", "title": "=groceries", "source": "rider", **COMMON}
RESOURCE = {
    "id": "r1",
    "title": "carriers",
    "provider_id": "team1",
    "provider_kind": "pioneer_team",
    "resource_type": "people",
    **COMMON,
}
PROJECT = {
    "id": "p1",
    "title": "relay",
    "lead_org_id": "org1",
    "formation": "self_claimed",
    "need_ids": "n1",
    "resource_ids": "r1",
    **COMMON,
}


def _write_tables(folder: Path, need: dict = NEED) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, row in (("needs", need), ("resources", RESOURCE), ("projects", PROJECT)):
        (folder / f"{name}.csv").write_text(csv_text([row], list(row)), encoding="utf-8")


def test_lists_import_folder_then_export_round_trip(tmp_path, capsys):
    _write_tables(tmp_path / "in")
    out = tmp_path / "lists.json"
    assert main(["lists", "import", str(tmp_path / "in"), "--out", str(out)]) == 0
    assert "1 need, 1 resource, 1 project" in capsys.readouterr().out
    lists = ThreeLists.from_json(out.read_text(encoding="utf-8"))
    assert lists.item("n1").title == "=groceries"  # the apostrophe csv_text added is undone
    assert main(["lists", "export", str(out), "--out", str(tmp_path / "csv")]) == 0
    names = sorted(p.name for p in (tmp_path / "csv").iterdir())
    assert names == [
        ".commgov-manifest.json",
        ".commgov.lock",  # the folder's bookkeeping
        "needs.csv",
        "projects.csv",
        "resources.csv",
    ]
    # and back again from the files themselves, in any order
    files = [str(tmp_path / "csv" / n) for n in ("projects.csv", "needs.csv", "resources.csv")]
    again = tmp_path / "again.json"
    assert main(["lists", "import", *files, "--out", str(again)]) == 0
    assert again.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_lists_export_formula_safe_and_masked(tmp_path):
    lists = ThreeLists.model_validate(
        {"needs": [{**NEED, "title": "=SUM(A1)", "description": "lives alone"}]}
    )
    src = tmp_path / "lists.json"
    src.write_text(lists.to_json(), encoding="utf-8")
    assert main(["lists", "export", str(src), "--out", str(tmp_path / "o")]) == 0
    rows = list(csv.DictReader((tmp_path / "o" / "needs.csv").open(encoding="utf-8")))
    assert rows[0]["title"] == "'=SUM(A1)" and rows[0]["description"] == "<masked>"
    assert main(["lists", "export", str(src), "--out", str(tmp_path / "p"), "--personal-data"]) == 0
    rows = list(csv.DictReader((tmp_path / "p" / "needs.csv").open(encoding="utf-8")))
    assert rows[0]["description"] == "lives alone"


def test_lists_import_bad_rows_exit_2_nothing_written(tmp_path, capsys):
    _write_tables(tmp_path / "in", need={**NEED, "quantity": "lots", "category": "snacks"})
    out = tmp_path / "lists.json"
    assert main(["lists", "import", str(tmp_path / "in"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "nothing written" in err
    assert "needs.csv:row 2.quantity = 'lots'" in err and "whole number" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lists", "import", "nope.csv", "--out", "x.json"], "no such file"),
        (["lists", "import", "{tmp}/wishes.csv", "--out", "x.json"], "name table files"),
        (["lists", "import", "{tmp}", "--out", "x.json"], "holds none"),
        (["lists", "export", "{tmp}/wishes.csv", "--out", "{tmp}/o"], "not a lists JSON"),
        (["lists", "export", "missing.json", "--out", "{tmp}/o"], "cannot read"),
        (["lists"], "needs an action"),
    ],
)
def test_lists_bad_arguments_exit_2(tmp_path, capsys, args, message):
    (tmp_path / "wishes.csv").write_text("id\nx\n", encoding="utf-8")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def _problem() -> dict:
    start = datetime(2022, 4, 10, 9, tzinfo=UTC8)
    w = {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}
    return {
        "timezone": "Asia/Shanghai",
        "tasks": [
            {
                "id": "t1",
                "skill": "delivery",
                "location": {"lon": 120.62, "lat": 31.31},
                "window": w,
            },
            {
                "id": "t2",
                "skill": "medicine",
                "location": {"lon": 120.62, "lat": 31.31},
                "window": w,
            },
        ],
        "volunteers": [
            {
                "id": "v1",
                "location": {"lon": 120.621, "lat": 31.31},
                "skills": {"delivery": 2},
                "availability": [w],
            },
        ],
    }


def test_match_writes_assignment_and_prints_summary(tmp_path, capsys):
    src = tmp_path / "problem.json"
    src.write_text(json.dumps(_problem()), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["match", str(src), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "1 of 2 tasks matched" in text and "unmatched 1 × SKILL_MISSING" in text
    assert "travel" in text
    data = json.loads((out / "assignment.json").read_text(encoding="utf-8"))
    assert [m["task_id"] for m in data["matches"]] == ["t1"]
    rows = list(csv.DictReader((out / "assignment.csv").open(encoding="utf-8")))
    assert [r["task_id"] for r in rows] == ["t1", "t2"]
    first = (out / "assignment.json").read_bytes()
    assert main(["match", str(src), "--out", str(out)]) == 0
    assert (out / "assignment.json").read_bytes() == first


def test_match_bad_problem_exit_2_with_problem_error_text(tmp_path, capsys):
    bad = _problem()
    bad["tasks"][0]["location"]["lat"] = 123
    src = tmp_path / "problem.json"
    src.write_text(json.dumps(bad), encoding="utf-8")
    assert main(["match", str(src), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "t1" in err and "lat" in err and "123" in err
    assert not (tmp_path / "out").exists()
    src.write_text("{not json", encoding="utf-8")
    assert main(["match", str(src), "--out", str(tmp_path / "out")]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
    assert main(["match", str(tmp_path / "none.json")]) == 2


def test_match_solver_errors_are_printed_cleanly(tmp_path, capsys, monkeypatch):
    import commgov.matching

    def refuse(problem, *, objective="min_cost", **options):
        raise ValueError(f"objective {objective!r} is not implemented yet")

    monkeypatch.setattr(commgov.matching, "match_volunteers", refuse)
    src = tmp_path / "problem.json"
    src.write_text(json.dumps(_problem()), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["match", str(src), "--objective", "fair", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("commgov: error: match --objective fair:") and "Traceback" not in err
    assert not (out / "assignment.json").exists()


def test_match_rejects_unknown_objective(capsys):
    with pytest.raises(SystemExit) as info:
        main(["match", "p.json", "--objective", "cheapest"])
    assert info.value.code == 2
