"""The mutation suite: each operator breaks a valid result in exactly one known way.

Every operator of :data:`MATCHING_MUTATION_SPECS` must, wherever it applies, produce a result
the verifier rejects with exactly its code (plus the codes its registry entry documents as
implied), on hand-built fixtures solved with each objective and on random problems with
scopes, pins, previous plans and minute budgets. Every ``MatchingViolationCode`` has an operator.
"""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from matching_helpers import problem, task, vol, win

from commgov.matching import (
    Assignment,
    MatchingProblem,
    MatchingViolationCode,
    Pin,
    is_valid_assignment,
    match_volunteers,
)
from commgov.testing import MATCHING_MUTATIONS
from commgov.testing._matching import matching_problems, rebuild_assignment
from commgov.testing._matching_mutations import (
    MATCHING_MUTATION_SPECS,
    UNREACHABLE_CODES,
    MutationSpec,
)
from commgov.types import TimeWindow


def _plain() -> MatchingProblem:
    """The original fixture: capacities, a task nobody can do, ineligible volunteers."""
    return problem(
        [
            task("a1", hour=9, dx=50), task("a2", hour=9, dx=60), task("a3", hour=9, dx=70),
            task("b1", hour=10, dx=50), task("c1", hour=11, dx=40),
            task("m1", skill="medic", hour=9),           # nobody has medic
        ],
        [
            vol("v1", per_slot=1, per_day=2),
            vol("v2", dx=20, per_slot=1, per_day=2),
            vol("v3", dx=30, per_slot=1, per_day=2),
            vol("cook", {"cook": 5}),                      # lacks the skill
            vol("far", dx=5000),                           # too far
            vol("late", availability=[win(20, hours=2)]),  # out of window
        ],
    )


def _scoped() -> MatchingProblem:
    """Scopes (one out-of-scope volunteer), a pin, a previous plan, a CAPACITY_USED task."""
    west = {"compound_id": "c1", "community_id": "west"}
    tasks = [
        task("p1", hour=9, dx=40).model_copy(update={"building_id": "b1", **west}),
        task("p2", hour=9, dx=60).model_copy(update={"building_id": "b2", **west}),
        task("p3", hour=10, dx=30).model_copy(update={"building_id": "b1", **west}),
        task("p4", hour=10, dx=80).model_copy(update={"building_id": "b2", **west}),
        task("p5", hour=10, dx=90).model_copy(update={"building_id": "b2", **west}),
    ]
    vols = [
        vol("w1", per_day=2).model_copy(update={"building_ids": ["b1"], **west}),
        vol("w2", dx=20, per_day=2).model_copy(update={"building_ids": ["b2"], **west}),
        vol("w3", dx=50, per_day=1).model_copy(update={"community_id": "west"}),
        vol("e1", dx=10).model_copy(update={"community_id": "east"}),  # out of scope
        vol("r1", dx=100, availability=[win(9)]).model_copy(update={"partner": True}),
    ]
    return problem(
        tasks, vols,
        pinned=[Pin(task_id="p2", volunteer_id="w2")],
        previous=[Pin(task_id="p1", volunteer_id="w1"), Pin(task_id="p3", volunteer_id="gone")],
    )


def _budgets() -> MatchingProblem:
    """Minute budgets: three hour-long tasks in three slots, two 90-minute volunteers."""
    tasks = [task(t, hour=h, dx=10 * h).model_copy(update={"duration_min": 60})
             for t, h in (("k1", 9), ("k2", 10), ("k3", 11))]
    vols = [
        vol("x1", per_day=3).model_copy(update={"minutes_per_day": 90}),
        vol("x2", dx=20, per_day=3).model_copy(update={"minutes_per_day": 90}),
        vol("x3", dx=40, per_day=3).model_copy(update={"minutes_per_day": 120}),
    ]
    return problem(tasks, vols)


def _declined() -> MatchingProblem:
    """Declined pairs: d3 declined by both volunteers (DECLINED), d1 by one."""
    tasks = [task("d1", hour=9, dx=40), task("d2", hour=9, dx=50), task("d3", hour=10, dx=30)]
    vols = [vol("u1", per_day=2), vol("u2", dx=20, per_day=2)]
    return problem(
        tasks, vols,
        declined=[Pin(task_id="d1", volunteer_id="u1"), Pin(task_id="d3", volunteer_id="u1"),
                  Pin(task_id="d3", volunteer_id="u2")],
    )  # fmt: skip


FIXTURES = {"plain": _plain, "scoped": _scoped, "budgets": _budgets, "declined": _declined}
CASES = [
    ("plain", "min_cost"), ("plain", "fair"), ("plain", "stable"),
    ("scoped", "min_cost"), ("scoped", "fair"), ("scoped", "stable"),
    ("budgets", "min_cost"), ("declined", "min_cost"), ("declined", "stable"),
]


@cache
def _solved(name: str, objective: str) -> tuple[MatchingProblem, Assignment]:
    p = FIXTURES[name]()
    a = match_volunteers(p, objective=objective)
    assert is_valid_assignment(p, a).ok
    return p, a


def _check(name: str, spec: MutationSpec, p: MatchingProblem, a: Assignment) -> bool:
    """Apply the operator; if it applies, the verifier must report exactly its codes."""
    broken = spec.operator(p, a)
    if broken is None:
        return False
    required, allowed = spec.expected(a)
    codes = is_valid_assignment(p, broken).codes
    assert required <= codes <= allowed, (name, sorted(codes), is_valid_assignment(p, broken))
    return True


@pytest.mark.parametrize("case", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_rebuild_is_identity_on_solver_results(case: tuple[str, str]) -> None:
    """Rebuilding a solver's result from its own pairs changes nothing (same JSON)."""
    p, a = _solved(*case)
    assert rebuild_assignment(p, a, a.matches, a.unmatched).to_json() == a.to_json()


@pytest.mark.parametrize("name", sorted(MATCHING_MUTATION_SPECS))
def test_mutation_exact_on_fixtures(name: str) -> None:
    spec = MATCHING_MUTATION_SPECS[name]
    applied = [case for case in CASES if _check(name, spec, *_solved(*case))]
    assert applied, f"{name} applies to no fixture"


def test_every_violation_code_has_an_operator() -> None:
    covered = {spec.code for spec in MATCHING_MUTATION_SPECS.values()}
    for code in MatchingViolationCode:
        assert code in covered or code in UNREACHABLE_CODES, f"no operator for {code}"
    assert not covered & set(UNREACHABLE_CODES)
    assert all(reason.strip() for reason in UNREACHABLE_CODES.values())


def test_implied_codes_are_explained() -> None:
    for name, spec in MATCHING_MUTATION_SPECS.items():
        assert spec.code not in spec.implies, name
        assert bool(spec.implies) == bool(spec.why.strip()), name


def test_table_matches_specs() -> None:
    assert {n: (s.operator, s.code) for n, s in MATCHING_MUTATION_SPECS.items()} == {
        n: (m.apply, m.code) for n, m in MATCHING_MUTATIONS.items()}


def _loosened(p: MatchingProblem, raise_skills: list[bool]) -> MatchingProblem:
    """``p`` with a 3 km reach, volunteers available over every slot and (where asked) level 5
    in every skill: many more eligible pairs, and every pin of ``p`` stays eligible."""
    if not p.tasks:
        return p
    lo = min(t.window.start for t in p.tasks)
    hi = max(t.window.end for t in p.tasks)
    skills = sorted({t.skill for t in p.tasks})
    vols = [
        v.model_copy(update={
            "availability": [TimeWindow(start=lo, end=hi)],
            "skills": {s: 5 for s in skills} if up else v.skills,
        })
        for v, up in zip(p.volunteers, raise_skills, strict=False)
    ]
    return p.model_copy(update={"volunteers": vols, "max_distance_m": 3000.0})


@st.composite
def _random_case(draw: st.DrawFn) -> tuple[MatchingProblem, str]:
    flags = draw(st.fixed_dictionaries({
        "scopes": st.booleans(), "pins": st.booleans(), "previous": st.booleans(),
        "budgets": st.booleans()}))
    p = draw(matching_problems(max_tasks=8, max_volunteers=5, min_tasks=3, min_volunteers=2,
                               **flags))
    if draw(st.booleans()):
        p = _loosened(p, draw(st.lists(st.booleans(), min_size=5, max_size=5)))
    objective = "min_cost" if flags["budgets"] else draw(
        st.sampled_from(["min_cost", "fair", "stable"]))
    return p, objective


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_random_case())
def test_mutations_exact_on_random_problems(case: tuple[MatchingProblem, str]) -> None:
    p, objective = case
    a = match_volunteers(p, objective=objective, time_limit_s=5)
    assert is_valid_assignment(p, a).ok
    assert rebuild_assignment(p, a, a.matches, a.unmatched).to_json() == a.to_json()
    for name, spec in sorted(MATCHING_MUTATION_SPECS.items()):
        _check(name, spec, p, a)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(matching_problems(scopes=True, pins=True, previous=True, budgets=True))
def test_problem_options_produce_valid_problems(p: MatchingProblem) -> None:
    """The options yield what they promise (the problem itself validated on construction)."""
    assert all(t.compound_id is not None for t in p.tasks)
    assert {x.task_id for x in p.pinned} <= {t.id for t in p.tasks}
    assert all(v.minutes_per_day in (None, 0, 30, 60, 90, 120) for v in p.volunteers)


# ------------------------------------------ faults found while building the suite, now reported
# Each was a gap of the verifier (it passed the broken result); verify.py now reports them.


def _gap(a: Assignment, **update: object) -> Assignment:
    return a.model_copy(update=update)


def test_gap_unmatched_reason_listed_twice() -> None:
    p, a = _solved("plain", "min_cost")
    u = a.unmatched[0]
    broken = _gap(a, unmatched=[u.model_copy(update={"reasons": [u.reasons[0]] * 2})])
    assert MatchingViolationCode.REASON_FALSE in is_valid_assignment(p, broken).codes


def test_gap_load_split_over_two_entries() -> None:
    p, a = _solved("plain", "min_cost")
    i = next(k for k, x in enumerate(a.loads) if x.tasks == 2)
    half = a.loads[i].model_copy(update={"tasks": 1})
    broken = _gap(a, loads=[*a.loads[:i], half, half, *a.loads[i + 1:]])
    assert MatchingViolationCode.COST_MISMATCH in is_valid_assignment(p, broken).codes


def test_gap_zero_loads_missing() -> None:
    p, a = _solved("plain", "min_cost")
    broken = _gap(a, loads=[x for x in a.loads if x.tasks])
    assert len(broken.loads) < len(p.volunteers)
    assert MatchingViolationCode.COST_MISMATCH in is_valid_assignment(p, broken).codes


def test_gap_changes_tier_without_previous() -> None:
    p, a = _solved("plain", "min_cost")
    assert not p.previous
    tiers = dict(a.info.objective)
    tiers = {"priority_served": tiers.pop("priority_served"), "changes": 7.0, **tiers}
    broken = _gap(a, info=a.info.model_copy(update={"objective": tiers}))
    assert MatchingViolationCode.COST_MISMATCH in is_valid_assignment(p, broken).codes
