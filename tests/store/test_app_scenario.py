"""The app scenario of issue "Embedding commgov in an app", end to end on SQLite and PostgreSQL.

import from an app's tables (GCJ-02 positions, the app's ids) → store → plan sampling and
match tasks → events (a building sealed, a volunteer drops out, a task declined) → re-plan and
re-match with the fewest changes → exports with the app's ids and names. The scenario is
``examples/app_backend.py``; here it runs against each database and its outcome is checked.
"""

from __future__ import annotations

import runpy
from pathlib import Path

from commgov.matching import is_valid_assignment

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "app_backend.py"


def test_app_scenario_end_to_end(store_url: str) -> None:
    main = runpy.run_path(str(EXAMPLE))["main"]
    out = main(store_url)
    assert out["refused"]  # the stale writer got a conflict; nothing of it was written
    again = out["again"]
    assert is_valid_assignment(again.problem, again.assignment).ok
    served = {m.volunteer_id for m in again.assignment.matches}
    assert out["dropped"] not in served
    task, decliner = out["declined"]
    assert (task, decliner) not in {(m.task_id, m.volunteer_id) for m in again.assignment.matches}
    replanned = out["replanned"]
    assert out["sealed"] in replanned.changed_buildings
    header = out["buildings_csv"].splitlines()[0]
    assert header.startswith("building_id,app_building_id,building_name,")
    assert ",bd-1," in out["buildings_csv"] and ",春晖苑 1幢," in out["buildings_csv"]
    kinds = [k for k, _ in out["history"]]
    assert kinds.count("events") == 1 and "model" in kinds
    assert ("events", "tablet-2") not in out["history"]
    assert out["stale"] == []  # every stored result was computed from what is stored
