from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from sampling_helpers import mutation_fixture

from commgov.results import SolveStatus
from commgov.scheduling import SamplingProblem, is_valid_sampling_plan, plan_sampling
from commgov.testing import SAMPLING_MUTATIONS
from commgov.testing.strategies import sampling_problems

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(sampling_problems())
def test_every_plan_passes_the_verifier(problem: SamplingProblem) -> None:
    plan = plan_sampling(problem, time_limit_s=20)
    report = is_valid_sampling_plan(problem, plan)
    assert report.ok, report.violations
    assert plan.info.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert plan.totals.served_people + plan.totals.unserved_people == plan.totals.walk_in_people
    ids = [a.batch_id for a in plan.assignments]
    assert ids == sorted(ids)


@FAST
@given(sampling_problems(max_buildings=5))
def test_mutations_are_rejected_on_random_plans(problem: SamplingProblem) -> None:
    plan = plan_sampling(problem)
    for name, mutation in SAMPLING_MUTATIONS.items():
        code = mutation.code
        broken = mutation.apply(problem, plan)
        if broken is None:
            continue
        report = is_valid_sampling_plan(problem, broken)
        assert code in report.codes, (name, report.violations)
        assert not report


@pytest.mark.parametrize("name", sorted(SAMPLING_MUTATIONS))
def test_each_mutation_is_rejected_with_its_code(name: str) -> None:
    problem = mutation_fixture()
    plan = plan_sampling(problem)
    assert is_valid_sampling_plan(problem, plan).ok
    mutation = SAMPLING_MUTATIONS[name]
    code = mutation.code
    broken = mutation.apply(problem, plan)
    assert broken is not None, f"{name} found nothing to break in the fixture"
    report = is_valid_sampling_plan(problem, broken)
    assert not report.ok
    assert code in report.codes, report.violations


def test_required_mutation_codes_are_covered() -> None:
    codes = {m.code for m in SAMPLING_MUTATIONS.values()}
    assert {
        "OVER_CAPACITY",
        "BUILDING_SPLIT",
        "SEALED_AT_POINT",
        "SLOT_OUT_OF_WINDOW",
        "DROPPED_BATCH",
        "COST_MISMATCH",
    } <= codes


def test_verifier_catches_tampered_loads_and_reasons() -> None:
    problem = mutation_fixture()
    plan = plan_sampling(problem)
    ld = plan.loads[0]
    bad = plan.model_copy(
        update={"loads": [ld.model_copy(update={"served": ld.served + 1}), *plan.loads[1:]]}
    )
    assert "LOAD_MISMATCH" in is_valid_sampling_plan(problem, bad).codes
    u = plan.unserved[0]
    r = u.reasons[0].model_copy(update={"params": {**u.reasons[0].params, "limit_m": 5.0}})
    bad2 = plan.model_copy(update={"unserved": [u.model_copy(update={"reasons": [r]})]})
    assert "REASON_FALSE" in is_valid_sampling_plan(problem, bad2).codes
    bad3 = plan.model_copy(update={"door_to_door": []})
    assert "DOOR_TO_DOOR_MISMATCH" in is_valid_sampling_plan(problem, bad3).codes
    a = plan.assignments[0]
    bad4 = plan.model_copy(update={"assignments": [*plan.assignments, a]})
    assert "DUPLICATE_BATCH" in is_valid_sampling_plan(problem, bad4).codes
    bad5 = plan.model_copy(
        update={"assignments": [a.model_copy(update={"batch_id": "ZZ"}), *plan.assignments[1:]]}
    )
    assert "UNKNOWN_ID" in is_valid_sampling_plan(problem, bad5).codes
