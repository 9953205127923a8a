"""Known-answer tests for commgov.matching (min-cost flow) and its verifier."""

from __future__ import annotations

import json

import pytest
from matching_helpers import ALL_DAY, TZ_NAME, at, problem, task, vol, win

import commgov.matching as cm
from commgov.errors import InfeasibleError, ProblemError, SizeLimitError
from commgov.matching import (
    Assignment,
    MatchingProblem,
    MatchingReasonCode,
    Task,
    is_eligible,
    is_valid_assignment,
    match_volunteers,
    travel_distance_m,
)
from commgov.results import SolveStatus


def solve(p: MatchingProblem, **kw: object) -> Assignment:
    a = match_volunteers(p, **kw)  # type: ignore[arg-type]
    report = is_valid_assignment(p, a)
    assert report.ok, report.violations
    assert bool(report)
    return a


def pairs(a: Assignment) -> dict[str, str]:
    return {m.task_id: m.volunteer_id for m in a.matches}


def reason(a: Assignment, tid: str) -> tuple[MatchingReasonCode, dict[str, object]]:
    (u,) = [u for u in a.unmatched if u.task_id == tid]
    assert len(u.reasons) == 1
    return u.reasons[0].code, dict(u.reasons[0].params)


def test_all_exports_present() -> None:
    assert len(set(cm.__all__)) == len(cm.__all__)
    for name in cm.__all__:
        assert hasattr(cm, name)


def test_single_match_and_info() -> None:
    p = problem([task("t1", dx=100)], [vol("v1")])
    a = solve(p)
    assert pairs(a) == {"t1": "v1"}
    assert a.matches[0].distance_m == 100
    assert a.info.status is SolveStatus.OPTIMAL
    assert a.info.solver == "min-cost-flow"
    assert a.info.objective == {
        "priority_served": 1.0,
        "cost_m": 400.0,
        "travel_m": 100.0,
        "scope_penalty_m": 300.0,
    }
    assert a.matches[0].scope == "community" and a.matches[0].cost_m == 400
    assert "ortools" in a.info.versions
    assert a.totals.travel_m == 100 and a.totals.priority_total == 1
    assert [(ld.volunteer_id, ld.tasks) for ld in a.loads] == [("v1", 1)]


def test_priority_beats_distance() -> None:
    # one volunteer, one slot: the far priority-2 task wins over the near priority-1 task
    p = problem([task("near", dx=10, priority=1), task("far", dx=900, priority=2)], [vol("v1")])
    a = solve(p)
    assert pairs(a) == {"far": "v1"}
    assert reason(a, "near") == (MatchingReasonCode.CAPACITY_USED, {"eligible": 1})
    assert a.totals.priority_served == 2


def test_many_low_priorities_beat_one_high() -> None:
    # priorities add up: two priority-1 tasks (two slots) beat... nothing here; check sum
    p = problem(
        [task("a", dx=10, hour=9, priority=1), task("b", dx=10, hour=10, priority=1),
         task("c", dx=900, hour=9, priority=1)],
        [vol("v1", per_day=2)],
    )
    a = solve(p)
    assert a.totals.priority_served == 2
    assert pairs(a) == {"a": "v1", "b": "v1"}  # then least travel


def test_minimises_total_travel() -> None:
    # greedy (t1 → nearest v1) would cost 100 + 800; optimum is 300 + 300
    p = problem(
        [task("t1", dx=0), task("t2", dx=400)],
        [vol("v1", dx=100), vol("v2", dx=-300)],
    )
    a = solve(p)
    assert a.totals.travel_m == sum(m.distance_m for m in a.matches)
    assert pairs(a) == {"t1": "v2", "t2": "v1"}
    assert a.totals.travel_m == 300 + 300


def test_capacity_per_slot() -> None:
    p = problem([task(f"t{i}", dx=10 * i) for i in range(3)], [vol("v1", per_slot=2)])
    a = solve(p)
    assert sorted(pairs(a)) == ["t0", "t1"]
    assert reason(a, "t2") == (MatchingReasonCode.CAPACITY_USED, {"eligible": 1})
    assert a.loads[0].tasks == 2


def test_capacity_per_day() -> None:
    p = problem([task(f"t{h}", hour=h) for h in (9, 10, 11)], [vol("v1", per_day=2)])
    a = solve(p)
    assert a.totals.matched == 2
    (u,) = a.unmatched
    assert u.reasons[0].code is MatchingReasonCode.CAPACITY_USED


def test_timezone_day_boundary() -> None:
    # 23:00-24:00 on the 10th and 00:00-01:00 on the 11th, Shanghai time: two local days,
    # but one UTC day (15:00 and 16:00 UTC on the 10th).
    ts = [task("late", hour=23, day=10), task("early", hour=0, day=11)]
    v = [vol("v1", per_day=1)]
    shanghai = solve(problem(ts, v))
    assert shanghai.totals.matched == 2
    utc = solve(problem(ts, v, timezone="UTC"))
    assert utc.totals.matched == 1
    assert utc.unmatched[0].reasons[0].code is MatchingReasonCode.CAPACITY_USED


def test_reason_skill_missing_with_level() -> None:
    p = problem([task("t1", skill="medic", min_level=3)], [vol("v1", {"medic": 2})])
    a = solve(p)
    assert reason(a, "t1") == (MatchingReasonCode.SKILL_MISSING, {"skill": "medic", "level": 3})
    assert "medic" in a.unmatched[0].reasons[0].text()


def test_reason_too_far_reports_nearest() -> None:
    p = problem(
        [task("t1")],
        [vol("v1", dx=1500), vol("v2", dx=1200), vol("v3", {"cook": 5}, dx=10)],
    )
    a = solve(p)
    code, params = reason(a, "t1")
    assert code is MatchingReasonCode.TOO_FAR
    assert params == {"distance_m": 1200, "limit_m": 1000}


def test_reason_out_of_window() -> None:
    p = problem([task("t1", hour=9)], [vol("v1", availability=[win(10, hours=3)])])
    a = solve(p)
    assert reason(a, "t1") == (MatchingReasonCode.OUT_OF_WINDOW, {})


def test_half_open_availability() -> None:
    # availability [8, 10) contains slot [9, 10) but not [10, 11)
    p = problem([task("a", hour=9), task("b", hour=10)],
                [vol("v1", availability=[win(8, hours=2)])])
    a = solve(p)
    assert pairs(a) == {"a": "v1"}
    assert reason(a, "b")[0] is MatchingReasonCode.OUT_OF_WINDOW


def test_detour_factor_and_eligibility_functions() -> None:
    p = problem([task("t1", dx=900)], [vol("v1")], detour_factor=1.2)
    t, v = p.tasks[0], p.volunteers[0]
    assert travel_distance_m(t, v, 1.2) == 1080
    assert not is_eligible(p, t, v)
    assert reason(solve(p), "t1") == (MatchingReasonCode.TOO_FAR,
                                      {"distance_m": 1080, "limit_m": 1000})


def test_no_tasks_and_no_volunteers() -> None:
    a = solve(problem([], [vol("v1")]))
    assert a.totals.tasks == 0 and a.matches == [] and a.unmatched == []
    b = solve(problem([task("t1")], []))
    # issue 13: an empty volunteer pool is its own reason, not SKILL_MISSING
    assert reason(b, "t1")[0] is MatchingReasonCode.NO_VOLUNTEERS
    assert "no volunteer at all" in b.unmatched[0].reasons[0].text()


def test_strict_raises_with_unserved_ids() -> None:
    p = problem([task("t1"), task("t2", skill="medic")], [vol("v1")])
    with pytest.raises(InfeasibleError) as info:
        match_volunteers(p, strict=True)
    assert info.value.unserved == ("t2",)
    assert match_volunteers(problem([task("t1")], [vol("v1")]), strict=True).totals.matched == 1


def test_unknown_objective() -> None:
    with pytest.raises(ValueError, match="objective must be one of"):
        match_volunteers(problem([], []), objective="cheapest")


def test_rows_and_json_roundtrip() -> None:
    p = problem([task("t1"), task("t2", skill="medic", min_level=2)], [vol("v1")])
    a = solve(p)
    rows = a.rows()
    assert [r["task_id"] for r in rows] == ["t1", "t2"]
    assert rows[0]["status"] == "matched" and rows[0]["volunteer_id"] == "v1"
    assert rows[1]["reason_code"] == "SKILL_MISSING"
    assert rows[1]["reason"] == "no volunteer has skill medic at level 2 or above"
    assert "医" not in rows[1]["reason"] and "medic" in a.rows("zh")[1]["reason"]
    back = Assignment.model_validate_json(a.to_json())
    assert back == a
    assert is_valid_assignment(p, back).ok
    p2 = MatchingProblem.model_validate_json(p.model_dump_json())
    assert p2 == p
    assert json.loads(a.to_json())["schema_version"] == "1.0"


def test_problem_errors_collect_all_issues() -> None:
    good = task("t1", hour=9)
    overlapping = Task(id="t2", skill="delivery", location=at(), window=win(9, hours=2))
    with pytest.raises(ProblemError) as info:
        problem([good, overlapping, good], [vol("v1"), vol("v1")])
    issues = info.value.issues
    found = {(i.record, i.field) for i in issues}
    assert ("t1", "id") in found
    assert ("v1", "id") in found
    assert ("t2", "window") in found
    assert isinstance(info.value, ValueError)


def test_problem_errors_name_record_field_value() -> None:
    with pytest.raises(ProblemError) as info:
        MatchingProblem.model_validate(
            {
                "timezone": "Nowhere/City",
                "max_distance_m": -5,
                "tasks": [
                    {"id": "tA", "skill": "x", "priority": 0,
                     "location": {"lon": 120.6, "lat": 31.3},
                     "window": {"start": "2022-04-10T09:00:00+08:00",
                                "end": "2022-04-10T10:00:00+08:00"}},
                ],
                "volunteers": [{"id": "vB", "location": {"lon": 120.6, "lat": 31.3},
                                "skills": {"x": 9}}],
            }
        )
    found = {(i.record, i.field): i.value for i in info.value.issues}
    assert found[("problem", "timezone")] == "Nowhere/City"
    assert found[("problem", "max_distance_m")] == -5
    assert found[("tA", "priority")] == 0
    assert found[("vB", "skills.x")] == 9


def test_size_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    from commgov.matching.volunteers import _solve_flow as _flow

    p = problem([task("t1"), task("t2")], [vol("v1")])
    monkeypatch.setattr(_flow, "MAX_ARCS", 3)
    with pytest.raises(SizeLimitError, match="arcs"):
        match_volunteers(p)
    monkeypatch.setattr(_flow, "MAX_ARCS", 10**6)
    monkeypatch.setattr(_flow, "_COST_RANGE", 10)
    with pytest.raises(SizeLimitError, match="2\\^61"):
        match_volunteers(p)


def test_or_tools_cost_range_refusal_is_a_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """If OR-Tools itself refuses the costs (BAD_COST_RANGE), the caller gets SizeLimitError."""
    from commgov.matching.volunteers import _solve_flow as _flow

    monkeypatch.setattr(_flow, "_COST_RANGE", 2**120)  # let the costs through our own guard
    big = [task(f"t{i}", priority=1_000_000) for i in range(3)]
    p = problem(big, [vol("v1")], max_distance_m=10_000_000.0)
    monkeypatch.setattr(_flow, "_fits", lambda c, n: True)
    orig = _flow._solve_network

    def huge(prep, keep, pair_cost, unserved_cost, *a, **k):  # type: ignore[no-untyped-def]
        return orig(prep, keep, pair_cost, unserved_cost * 2**50, *a, **k)

    monkeypatch.setattr(_flow, "_solve_network", huge)
    with pytest.raises(SizeLimitError, match="cost range"):
        match_volunteers(p)


def test_verifier_does_not_import_solver() -> None:
    import ast
    import pathlib

    from commgov.matching import volunteers

    names: list[str] = []
    files = sorted(pathlib.Path(volunteers.__file__).parent.glob("_verify*.py"))
    assert len(files) >= 2
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names.append(node.module or "")
    solver = ("ortools", "._solve", "._pairs", "._result", "._match")
    assert not [n for n in names if any(part in n for part in solver)]


def test_timezone_must_be_iana() -> None:
    with pytest.raises(ProblemError, match="IANA"):
        problem([], [], timezone="Mars/Olympus")
    assert problem([], [], timezone=TZ_NAME).zone.key == TZ_NAME
    assert ALL_DAY[0].minutes == 4 * 24 * 60


def test_row_columns_match_rows():
    from commgov.datasets import HUCHIYUAN, gusu, synthetic_tasks
    from commgov.matching import match_volunteers, matching_problem_from_org
    from commgov.org import OrgGraph

    graph = OrgGraph(gusu(0, communities=[HUCHIYUAN]))
    tasks = synthetic_tasks(graph, HUCHIYUAN, seed=0)
    result = match_volunteers(matching_problem_from_org(graph, HUCHIYUAN, tasks=tasks))
    for row in result.rows():
        assert tuple(row) == result.ROW_COLUMNS
