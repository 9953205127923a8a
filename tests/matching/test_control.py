"""match_volunteers' shared options: method choice, option checks, progress and cancellation."""

from __future__ import annotations

import threading

import pytest
from matching_helpers import community_problem

from commgov import ProgressEvent
from commgov.errors import InvalidParameterError
from commgov.matching import (
    MatchingProblem,
    MatchingViolationCode,
    Pin,
    is_valid_assignment,
    match_volunteers,
)
from commgov.matching.volunteers import METHODS
from commgov.results import CommonReasonCode, SolveStatus


def _with_pins(seed: int) -> MatchingProblem:
    p = community_problem(seed)
    a = match_volunteers(p)
    pins = [Pin(task_id=m.task_id, volunteer_id=m.volunteer_id) for m in a.matches[:3]]
    return p.model_copy(update={"pinned": pins})


def _with_budgets(p: MatchingProblem) -> MatchingProblem:
    tasks = [t.model_copy(update={"duration_min": 15 + 5 * (i % 4)})
             for i, t in enumerate(p.tasks)]
    vols = [v.model_copy(update={"minutes_per_day": 60}) for v in p.volunteers]
    return p.model_copy(update={"tasks": tasks, "volunteers": vols})


@pytest.mark.parametrize("bad", ["x", -1, 0, float("nan"), float("inf"), 3601, True])
def test_bad_time_limit_refused(bad: object) -> None:
    p = community_problem(0)
    with pytest.raises(InvalidParameterError, match="time_limit_s"):
        match_volunteers(p, time_limit_s=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kw", "name"), [
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"), ({"method": "simplex"}, "method"),
    ({"objective": "cheapest"}, "objective"), ({"propose": "both"}, "propose"),
    ({"strict": "yes"}, "strict"), ({"progress": 3}, "progress"), ({"cancel": True}, "cancel"),
])
def test_bad_options_refused(kw: dict[str, object], name: str) -> None:
    with pytest.raises(InvalidParameterError, match=name):
        match_volunteers(community_problem(0), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("method", "objective"), [
    ("flow", "stable"), ("cpsat", "fair"), ("cpsat", "stable"),
    ("deferred_acceptance", "min_cost"), ("deferred_acceptance", "fair"),
])
def test_methods_that_do_not_solve_the_objective_refused(method: str, objective: str) -> None:
    with pytest.raises(InvalidParameterError, match="method"):
        match_volunteers(community_problem(0), method=method, objective=objective)


def test_minute_budgets_need_cpsat() -> None:
    p = _with_budgets(community_problem(1))
    with pytest.raises(InvalidParameterError, match="minute budgets"):
        match_volunteers(p, method="flow")
    assert match_volunteers(p, method="cpsat").info.solver == "cp-sat"


def test_auto_is_the_default_method() -> None:
    assert METHODS[0] == "auto"
    p = community_problem(2)
    for objective, method in (("min_cost", "flow"), ("fair", "flow"),
                              ("stable", "deferred_acceptance")):
        ref = match_volunteers(p, objective=objective).to_json()
        assert match_volunteers(p, objective=objective, method="auto").to_json() == ref
        assert match_volunteers(p, objective=objective, method=method).to_json() == ref


def test_cpsat_without_budgets_reaches_the_flow_optimum() -> None:
    p = community_problem(3)
    flow = match_volunteers(p)
    cp = match_volunteers(p, method="cpsat")
    assert cp.info.status == SolveStatus.OPTIMAL
    assert (cp.totals.priority_served, cp.totals.cost_m) == (flow.totals.priority_served,
                                                             flow.totals.cost_m)
    assert is_valid_assignment(p, cp).ok


@pytest.mark.parametrize(("objective", "budgets"), [
    ("min_cost", False), ("fair", False), ("stable", False), ("min_cost", True),
])
def test_preset_cancel_returns_a_valid_cancelled_result(objective: str, budgets: bool) -> None:
    p = _with_pins(4)
    if budgets:
        p = _with_budgets(p.model_copy(update={"pinned": []}))
    cancel = threading.Event()
    cancel.set()
    a = match_volunteers(p, objective=objective, cancel=cancel)
    assert a.info.status == SolveStatus.CANCELLED
    assert a.info.stopped_by == "cancel"
    report = is_valid_assignment(p, a)
    assert report.ok, report.summary()
    assert {(m.task_id, m.volunteer_id) for m in a.matches} == {
        (pin.task_id, pin.volunteer_id) for pin in p.pinned}
    assert a.unmatched and all(
        [r.code for r in u.reasons] == [CommonReasonCode.CANCELLED] for u in a.unmatched)
    # the same result with another status is not valid: CANCELLED holds iff the run was
    other = a.model_copy(update={"info": a.info.model_copy(update={"status": SolveStatus.OPTIMAL})})
    assert MatchingViolationCode.REASON_FALSE in is_valid_assignment(p, other).codes


def test_unset_cancel_changes_nothing() -> None:
    p = _with_pins(5)
    ref = match_volunteers(p).to_json()
    assert match_volunteers(p, cancel=threading.Event()).to_json() == ref


@pytest.mark.parametrize("objective", ["min_cost", "fair", "stable"])
def test_progress_ends_with_done(objective: str) -> None:
    events: list[ProgressEvent] = []
    a = match_volunteers(community_problem(6), objective=objective, progress=events.append)
    assert events and events[-1].phase == "done" and events[-1].fraction == 1.0
    assert all(e.planner == "match_volunteers" for e in events)
    assert events[-1].incumbent == a.totals.priority_served


def test_progress_with_minute_budgets() -> None:
    events: list[ProgressEvent] = []
    p = _with_budgets(community_problem(7))
    a = match_volunteers(p, progress=events.append, time_limit_s=2)
    assert events[-1].phase == "done"
    assert "prepare" in {e.phase for e in events}
    assert is_valid_assignment(p, a).ok
