"""min_cost objective (priority_served, cost_m), recomputed by is_valid_assignment, equals
benchmarks/reference_mcf.py's — on plain community instances and on their scoped variants
(``commgov.testing.with_scopes``: every scope level, out-of-scope pairs, penalties)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from commgov.datasets import matching_instance
from commgov.matching import is_valid_assignment, match_volunteers
from commgov.results import SolveStatus
from commgov.testing import with_scopes

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "reference_mcf.py"


def _reference():
    spec = importlib.util.spec_from_file_location("reference_mcf", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("scoped", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_community_objective_equals_reference(seed, scoped):
    problem = matching_instance("community", seed)
    if scoped:
        problem = with_scopes(problem, seed)
    result = match_volunteers(problem)
    report = is_valid_assignment(problem, result)
    assert report.ok, report.violations
    assert result.info.status == SolveStatus.OPTIMAL
    ref = _reference().solve(json.loads(problem.model_dump_json()))
    ob = report.objective
    assert (ob.priority_served, ob.cost_m) == (ref["priority_served"], ref["cost_m"])
    assert ref["travel_m"] + ref["scope_penalty_m"] == ref["cost_m"]


def test_reference_refuses_what_it_does_not_model():
    data = json.loads(matching_instance("community", 0).model_dump_json())
    data["pinned"] = [{"task_id": data["tasks"][0]["id"],
                       "volunteer_id": data["volunteers"][0]["id"]}]
    with pytest.raises(ValueError, match="not modelled"):
        _reference().solve(data)


def test_small_instance_by_file_subprocess(tmp_path):
    problem = matching_instance("community", 7)
    small = problem.model_copy(
        update={"tasks": problem.tasks[:40], "volunteers": problem.volunteers[:12]}
    )
    path = tmp_path / "small.json"
    path.write_text(small.model_dump_json(), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(path), "--json"],
        capture_output=True, text=True, check=True, timeout=120,
    )
    ref = json.loads(out.stdout)
    report = is_valid_assignment(small, match_volunteers(small))
    assert report.ok
    ob = report.objective
    assert (ob.priority_served, ob.cost_m) == (ref["priority_served"], ref["cost_m"])


def test_reference_imports_nothing_from_commgov():
    text = SCRIPT.read_text(encoding="utf-8")
    assert "commgov" not in "\n".join(
        line for line in text.splitlines() if line.lstrip().startswith(("import", "from"))
    )
