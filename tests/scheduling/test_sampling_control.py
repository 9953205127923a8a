"""plan_sampling's methods, progress and cancellation (the shared planner contract)."""

from __future__ import annotations

import threading

import pytest
from sampling_helpers import building, mutation_fixture, point, problem
from test_sampling_optimality import random_problem

from commgov import ProgressEvent
from commgov.datasets import sampling_instance
from commgov.errors import InvalidParameterError
from commgov.results import CommonReasonCode, SolveStatus
from commgov.scheduling.sampling import (
    METHODS,
    SamplingPlan,
    SamplingProblem,
    SamplingReasonCode,
    SamplingViolationCode,
    is_valid_sampling_plan,
    plan_sampling,
    sampling_lower_bound,
)
from timing_helpers import work_seconds


def _valid(prob: SamplingProblem, plan: SamplingPlan) -> None:
    report = is_valid_sampling_plan(prob, plan)
    assert report.ok, report.summary()
    assert report.family == "sampling"
    assert report.objective.served == plan.totals.served_people
    assert report.objective.walk_person_m == plan.totals.walk_person_m


# ---- methods -------------------------------------------------------------------------------


def test_methods_are_listed() -> None:
    assert METHODS == ("auto", "cpsat", "gap")


@pytest.mark.parametrize("seed", range(8))
def test_every_method_gives_a_valid_plan(seed: int) -> None:
    prob = random_problem(seed)
    auto = plan_sampling(prob)
    assert plan_sampling(prob, method=None).to_json() == auto.to_json()
    assert auto.info.options["method"] == "auto"
    cpsat = plan_sampling(prob, method="cpsat")
    _valid(prob, cpsat)
    assert cpsat.info.solver == "cp-sat" and cpsat.info.options["method"] == "cpsat"
    # the batch-level tiers are exact: nothing serves more, or as many with less walking
    if cpsat.info.status == SolveStatus.OPTIMAL:
        assert (cpsat.totals.served_people, -cpsat.totals.walk_person_m) >= (
            auto.totals.served_people,
            -auto.totals.walk_person_m,
        )
    if all(k.people <= prob.policy.max_queue for b in prob.buildings for k in b.batches):
        gap = plan_sampling(prob, method="gap")
        _valid(prob, gap)
        assert gap.info.solver == "min-cost-flow+cp-sat-lns"
    else:
        with pytest.raises(InvalidParameterError, match="max_queue"):
            plan_sampling(prob, method="gap")


def test_gap_method_on_a_community_matches_auto() -> None:
    prob = sampling_instance("C", 1)
    auto = plan_sampling(prob)
    gap = plan_sampling(prob, method="gap")
    assert auto.info.solver == gap.info.solver == "min-cost-flow+cp-sat-lns"
    assert auto.assignments == gap.assignments


def test_seed_is_recorded_and_reaches_cp_sat() -> None:
    prob = mutation_fixture()
    plan = plan_sampling(prob, seed=5)
    assert plan.info.seed == 5
    assert plan.info.options["random_seed"] == 20220410 ^ 5
    assert plan_sampling(prob, seed=5).to_json() == plan.to_json()
    assert plan_sampling(prob).info.options["random_seed"] == 20220410


# ---- progress ------------------------------------------------------------------------------


def test_progress_events_end_with_done() -> None:
    events: list[ProgressEvent] = []
    prob = sampling_instance("C", 0)
    plan = plan_sampling(prob, progress=events.append)
    assert events and events[-1].phase == "done" and events[-1].fraction == 1.0
    assert all(isinstance(e, ProgressEvent) and e.planner == "plan_sampling" for e in events)
    assert events[0].phase == "bound"
    assert events[-1].incumbent == plan.totals.walk_person_m
    # progress never changes the plan
    assert plan.to_json() == plan_sampling(prob).to_json()


def test_progress_during_the_tiers() -> None:
    events: list[ProgressEvent] = []
    plan = plan_sampling(mutation_fixture(), progress=events.append)
    phases = [e.phase for e in events]
    assert "tier served" in phases and phases[-1] == "done"
    assert plan.info.solver == "cp-sat"


def test_bad_progress_and_cancel_are_refused() -> None:
    prob = mutation_fixture()
    with pytest.raises(InvalidParameterError, match="progress"):
        plan_sampling(prob, progress="print")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="cancel"):
        plan_sampling(prob, cancel=True)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="strict"):
        plan_sampling(prob, strict=1)  # type: ignore[arg-type]


# ---- cancellation --------------------------------------------------------------------------


def _cancelled_checks(prob: SamplingProblem, plan: SamplingPlan) -> None:
    assert plan.info.status == SolveStatus.CANCELLED
    assert plan.info.stopped_by == "cancel"
    _valid(prob, plan)
    codes = {r.code for u in plan.unserved for r in u.reasons}
    assert CommonReasonCode.TIME_LIMIT_REACHED not in codes


@pytest.mark.parametrize("method", METHODS)
def test_preset_cancel_returns_a_valid_cancelled_plan(method: str) -> None:
    prob = sampling_instance("C", 0)
    stop = threading.Event()
    stop.set()
    plan = plan_sampling(prob, method=method, cancel=stop, strict=True)  # strict: no raise
    _cancelled_checks(prob, plan)
    # the batches never tried say so
    assert {r.code for u in plan.unserved for r in u.reasons} <= {
        CommonReasonCode.CANCELLED,
        SamplingReasonCode.NO_POINT_IN_REACH,
    }
    if method == "cpsat":  # no tier was started: nothing placed
        assert plan.totals.served_people == 0 and plan.unserved
    else:  # the rounded relaxation, made to fit, is kept
        assert plan.totals.served_people > 0
        assert plan.totals.served_people <= sampling_lower_bound(prob).tiers["served"]


def test_preset_cancel_on_a_small_tier_problem() -> None:
    prob = mutation_fixture()
    stop = threading.Event()
    stop.set()
    plan = plan_sampling(prob, cancel=stop)
    _cancelled_checks(prob, plan)


def test_cancelled_reason_is_false_on_a_finished_plan() -> None:
    from commgov.results import Reason

    prob = problem(
        [building("A", 50, [40]), building("B", 100, [40])], [point("P1", 0)], 1, max_queue=0
    )
    plan = plan_sampling(prob)
    assert plan.unserved and plan.info.status != SolveStatus.CANCELLED
    fake = Reason(code=CommonReasonCode.CANCELLED)
    unserved = [plan.unserved[0].model_copy(update={"reasons": [fake]})]
    report = is_valid_sampling_plan(prob, plan.model_copy(update={"unserved": unserved}))
    assert SamplingViolationCode.REASON_FALSE in report.codes


@pytest.mark.slow
def test_cancel_half_a_second_into_a_d48_tier() -> None:
    # the acceptance test: cancel 0.5 s into the D48 search; the plan returned is
    # valid and CANCELLED (the elapsed time is printed, not asserted: CI machines vary)
    prob = sampling_instance("D48", 0)
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    with work_seconds() as work:
        timer.start()
        try:
            plan = plan_sampling(prob, time_limit_s=60, cancel=stop)
        finally:
            timer.cancel()
    elapsed = work.seconds
    print(
        f"\nD48: cancel at 0.5 s, plan returned after {elapsed:.2f} s "
        f"({plan.totals.served_people:,} of {plan.totals.walk_in_people:,} served)"
    )
    _cancelled_checks(prob, plan)
