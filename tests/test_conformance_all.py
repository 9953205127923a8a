"""commgov.testing across every family: the conformance checks of each planner, every mutation
rejected with exactly its code, and every violation code covered by a mutation."""

from __future__ import annotations

import threading

import pytest

from commgov.errors import InvalidParameterError
from commgov.testing import (
    FAMILIES,
    MUTATIONS,
    ConformanceCheck,
    Mutation,
    check_planner,
    check_staffing,
    fixture,
    mutation_codes_covered,
    parametrize_with_checks,
)


@parametrize_with_checks()
def test_every_family_conforms(family: str, check: ConformanceCheck) -> None:
    if family == "staffing":
        check_staffing().raise_for_failures()
        return
    report = check_planner(family, checks=[check])
    report.raise_for_failures()
    assert report.results() == {check: True}


_CASES = [(fam, name) for fam, table in MUTATIONS.items() for name in table]


@pytest.mark.parametrize(("family", "name"), _CASES, ids=[f"{f}-{n}" for f, n in _CASES])
def test_mutation_rejected_with_exactly_its_code(family: str, name: str) -> None:
    mutation = MUTATIONS[family][name]
    assert isinstance(mutation, Mutation) and mutation.family == family
    assert mutation.name == name and mutation.note
    problem, result = fixture(family, mutation.fixture)
    before = result.to_json()
    broken = mutation.apply(problem, result)
    assert broken is not None, f"{family}/{name} found nothing to break in its fixture"
    assert result.to_json() == before, "the mutation changed its input"
    report = FAMILIES[family].verify(problem, broken)
    assert report.codes == {mutation.code}, report.summary()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_violation_code_is_covered(family: str) -> None:
    assert mutation_codes_covered(family) == set(FAMILIES[family].codes)
    assert all(isinstance(m.code, FAMILIES[family].codes) for m in MUTATIONS[family].values())


def test_parametrize_with_checks_ids_and_filter() -> None:
    mark = parametrize_with_checks(["relay", "staffing"])
    pairs = mark.args[1]
    assert ("staffing", ConformanceCheck.FORMULA) in pairs
    assert {f for f, _ in pairs} == {"relay", "staffing"}
    with pytest.raises(KeyError, match="unknown family"):
        parametrize_with_checks(["nope"])


# ------------------------------------------------------------------ broken third-party planners


def _fam_call(family: str, problem: object, **kw: object) -> object:
    fam = FAMILIES[family]
    return fam.call(fam.planner, problem, **kw)


def test_broken_planners_fail_the_right_checks() -> None:
    from commgov.scheduling.notification import plan_notification

    def lazy(problem, **kw):  # accepts any time limit, ignores cancel and progress
        kw.pop("time_limit_s", None)
        kw.pop("cancel", None)
        kw.pop("progress", None)
        return plan_notification(problem, **kw)

    report = check_planner("notification", lazy)
    assert not report
    # a planner that never looks at cancel fails CANCEL too, even when it finishes
    assert report.checks == {ConformanceCheck.TIME_LIMIT_CHECKED, ConformanceCheck.PROGRESS,
                             ConformanceCheck.CANCEL}

    def tampering(problem, **kw):
        plan = plan_notification(problem, **kw)
        return plan.model_copy(update={"totals": plan.totals.model_copy(
            update={"walk_m": plan.totals.walk_m + 1})})

    report = check_planner("notification", tampering, checks=[ConformanceCheck.VALID])
    assert report.codes == {"TOTALS_MISMATCH"}
    assert report.results() == {ConformanceCheck.VALID: False}

    def wrong_type(problem, **kw):
        return {"plan": None}

    report = check_planner("notification", wrong_type, checks=[ConformanceCheck.VALID])
    assert report.checks == {ConformanceCheck.RESULT_TYPE}


def test_cancel_check_accepts_a_finished_plan() -> None:
    problem, _ = fixture("notification")
    event = threading.Event()
    event.set()
    plan = _fam_call("notification", problem, cancel=event)
    assert plan.info.status.value in ("CANCELLED", "OPTIMAL", "FEASIBLE")
    with pytest.raises(InvalidParameterError):
        _fam_call("notification", problem, time_limit_s=float("nan"))


def test_unknown_family_and_fixture() -> None:
    with pytest.raises(KeyError, match="unknown family"):
        check_planner("astrology")
    with pytest.raises(KeyError, match="no fixture"):
        fixture("relay", "huge")
    with pytest.raises(ValueError, match="not planner checks"):
        check_planner("relay", checks=[ConformanceCheck.FORMULA])
