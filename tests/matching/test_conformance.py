"""commgov.testing.check_matcher: commgov's own matcher conforms; broken matchers fail with the
right checks and verifier codes."""

from __future__ import annotations

import itertools

import pytest

from commgov.datasets import matching_instance
from commgov.matching import (
    Assignment,
    MatchingProblem,
    MatchingReasonCode,
    MatchingViolationCode,
    match_volunteers,
)
from commgov.results import Reason
from commgov.testing import (
    ConformanceCheck,
    check_matcher,
    matching_edge_cases,
    with_scopes,
)


def small_instances() -> dict[str, MatchingProblem]:
    out = dict(matching_edge_cases())
    base = matching_instance("community", 3)
    out["community-3-scoped"] = with_scopes(base, 3)
    return out


def test_edge_cases_cover_every_unmatched_reason() -> None:
    a = match_volunteers(matching_edge_cases()["unservable"])
    got = {u.task_id: u.reasons[0].code for u in a.unmatched}
    assert got == {
        "a-skill": MatchingReasonCode.SKILL_MISSING,
        "b-scope": MatchingReasonCode.OUT_OF_SCOPE,
        "c-far": MatchingReasonCode.TOO_FAR,
        "d-window": MatchingReasonCode.OUT_OF_WINDOW,
    }


def test_with_scopes_is_deterministic_and_uses_every_level() -> None:
    base = matching_instance("community", 0)
    p, q = with_scopes(base, 1), with_scopes(base, 1)
    assert p.model_dump_json() == q.model_dump_json()
    a = match_volunteers(p)
    assert {m.scope for m in a.matches} == {"building", "compound", "community", "partner"}
    assert with_scopes(base, 2).model_dump_json() != p.model_dump_json()


def test_commgov_matcher_conforms_min_cost() -> None:
    report = check_matcher(match_volunteers)
    report.raise_for_failures()
    assert report.ok and "community-1-scoped" in report.instances


def test_commgov_matcher_conforms_fair() -> None:
    report = check_matcher(lambda p: match_volunteers(p, objective="fair"), objective="fair",
                           instances=small_instances())
    report.raise_for_failures()


def test_commgov_matcher_conforms_stable() -> None:
    def stable(p: MatchingProblem) -> Assignment:
        return match_volunteers(p, objective="stable")

    try:
        stable(matching_edge_cases()["ties"])
    except ValueError as exc:
        pytest.skip(f"objective 'stable' unavailable: {exc}")
    check_matcher(stable, objective="stable", instances=small_instances()).raise_for_failures()


def test_unknown_objective_refused() -> None:
    with pytest.raises(ValueError, match="objective"):
        check_matcher(match_volunteers, objective="cheapest")


# ------------------------------------------------------------------- broken matchers


def _drop_first_task(p: MatchingProblem) -> Assignment:
    a = match_volunteers(p)
    if a.matches:
        return a.model_copy(update={"matches": a.matches[1:]})
    return a.model_copy(update={"unmatched": a.unmatched[1:]})


def _double_book(p: MatchingProblem) -> Assignment:
    a = match_volunteers(p)
    if len(a.matches) < 2:
        return a
    by_slot: dict[object, list[int]] = {}
    for i, m in enumerate(a.matches):
        by_slot.setdefault(m.slot_start, []).append(i)
    for idx in by_slot.values():
        if len(idx) >= 2:
            matches = list(a.matches)
            first = matches[idx[0]]
            for i in idx[1:]:
                matches[i] = matches[i].model_copy(update={"volunteer_id": first.volunteer_id})
            return a.model_copy(update={"matches": matches})
    return a


def _wrong_reason(p: MatchingProblem) -> Assignment:
    a = match_volunteers(p)
    wrong = Reason(code=MatchingReasonCode.OUT_OF_WINDOW)
    return a.model_copy(update={"unmatched": [
        u.model_copy(update={"reasons": [wrong]})
        if u.reasons[0].code != MatchingReasonCode.OUT_OF_WINDOW
        else u for u in a.unmatched]})


def _flaky() -> object:
    counter = itertools.count()

    def matcher(p: MatchingProblem) -> Assignment:
        a = match_volunteers(p)
        return a.model_copy(update={"info": a.info.model_copy(
            update={"options": {**a.info.options, "run": next(counter)}})})

    return matcher


def _order_dependent(p: MatchingProblem) -> Assignment:
    a = match_volunteers(p)
    first = p.tasks[0].id if p.tasks else ""
    return a.model_copy(update={"info": a.info.model_copy(
        update={"options": {**a.info.options, "first": first}})})


def _greedy_fair(p: MatchingProblem) -> Assignment:
    """Valid but not min_cost-optimal: the fair solution."""
    return match_volunteers(p, objective="fair")


def _raises(p: MatchingProblem) -> Assignment:
    raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("matcher", "check", "code"),
    [
        (_drop_first_task, ConformanceCheck.VALID, MatchingViolationCode.DROPPED_TASK),
        (_double_book, ConformanceCheck.VALID, MatchingViolationCode.DOUBLE_BOOKED),
        (_wrong_reason, ConformanceCheck.VALID, MatchingViolationCode.REASON_FALSE),
        (_flaky(), ConformanceCheck.DETERMINISTIC, None),
        (_order_dependent, ConformanceCheck.PERMUTATION_INVARIANT, None),
        (_greedy_fair, ConformanceCheck.OPTIMAL, None),
        (_raises, ConformanceCheck.MATCHER_ERROR, None),
    ],
)
def test_broken_matchers_fail(matcher, check, code) -> None:  # type: ignore[no-untyped-def]
    report = check_matcher(matcher, instances=small_instances())
    assert not report
    assert check in report.checks, report.failures[:5]
    if code is not None:
        assert code in report.codes, report.failures[:5]
    with pytest.raises(AssertionError, match="conformance failures"):
        report.raise_for_failures()


def test_instances_as_a_list_are_named() -> None:
    report = check_matcher(match_volunteers, instances=[matching_edge_cases()["ties"]])
    assert report.instances == ["instance-0"] and report.ok
