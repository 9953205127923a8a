"""Issue 12 item 10, matching: the tier weights of the min-cost flow and the bulk verifier.

The flow's priority and changes weights are taken from the costliest pairs of the most tasks
that can be served at once (``_solve_flow._most_served``) instead of every task: a shorter cost
scaling, the same lexicographic optimum. Ties may be broken differently, the objective never.
The verifier counts loads per (volunteer, slot) and (volunteer, day) in bulk: every mutation of
the table must still be rejected with its code on instances with many slots and volunteers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from matching_helpers import community_problem

from commgov.datasets import matching_instance
from commgov.matching import MatchingProblem, is_valid_assignment, match_volunteers
from commgov.matching.volunteers import _solve_flow
from commgov.matching.volunteers._pairs import prepare
from commgov.testing._matching import matching_problems
from commgov.testing._matching_mutations import MATCHING_MUTATION_SPECS


def _full_weights(p: MatchingProblem, objective: str) -> Any:
    """The assignment with the weights stacked over every task (the bound switched off)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(_solve_flow, "_most_served", lambda prep, *a: len(prep.tasks))
        return match_volunteers(p, objective=objective)


def _tiers(a: Any) -> dict[str, float]:
    return dict(a.info.objective)


@st.composite
def _problems(draw: st.DrawFn) -> MatchingProblem:
    p = draw(
        matching_problems(
            max_tasks=12,
            max_volunteers=6,
            max_slots=3,
            min_tasks=1,
            min_volunteers=1,
            scopes=draw(st.booleans()),
            pins=draw(st.booleans()),
            previous=draw(st.booleans()),
        )
    )
    # tight day capacities and equal priorities make ties and binding days likely
    if draw(st.booleans()):
        pins = Counter(x.volunteer_id for x in p.pinned)  # pins must keep fitting
        vols = [
            v.model_copy(update={"capacity_per_day": max(draw(st.integers(0, 2)), pins[v.id])})
            for v in p.volunteers
        ]
        p = p.model_copy(update={"volunteers": vols})
    if draw(st.booleans()):
        p = p.model_copy(update={"tasks": [t.model_copy(update={"priority": 1}) for t in p.tasks]})
    return MatchingProblem.model_validate(p.model_dump())


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_problems(), st.sampled_from(["min_cost", "fair"]))
def test_tight_weights_give_the_same_objective(p: MatchingProblem, objective: str) -> None:
    """Priority served, changes and cost tiers equal those of the fully stacked weights."""
    a = match_volunteers(p, objective=objective)
    assert is_valid_assignment(p, a).ok
    assert _tiers(a) == _tiers(_full_weights(p, objective))


@pytest.mark.parametrize("seed", range(6))
def test_tight_weights_on_communities(seed: int) -> None:
    """Larger instances (parts, binding capacities): the same objective tiers."""
    p = community_problem(seed)
    a = match_volunteers(p)
    assert is_valid_assignment(p, a).ok
    assert _tiers(a) == _tiers(_full_weights(p, "min_cost"))


def test_most_served_bounds_every_assignment() -> None:
    """The bound is at least what the optimum serves (and at most the tasks)."""
    for seed in range(4):
        p = community_problem(seed)
        prep = prepare(p)
        bound = _solve_flow._most_served(prep, prep.pv, None)
        assert match_volunteers(p).totals.matched <= bound <= len(p.tasks)


def test_top_sum() -> None:
    values = np.array([5, 1, 9, 3], dtype=np.int64)
    assert [_solve_flow._top_sum(values, n) for n in range(6)] == [0, 9, 14, 17, 18, 18]


@pytest.mark.slow
def test_verifier_rejects_every_mutation_on_a_subdistrict_slice() -> None:
    """Every operator that applies is rejected with exactly its codes on a solve with hundreds
    of volunteers and many (volunteer, slot) cells (the bulk load tables)."""
    p = matching_instance("community", seed=3)
    a = match_volunteers(p)
    assert is_valid_assignment(p, a).ok
    applied = 0
    for name, spec in sorted(MATCHING_MUTATION_SPECS.items()):
        broken = spec.operator(p, a)
        if broken is None:
            continue
        applied += 1
        required, allowed = spec.expected(a)
        codes = is_valid_assignment(p, broken).codes
        assert required <= codes <= allowed, (name, sorted(codes))
    assert applied >= len(MATCHING_MUTATION_SPECS) // 2


@pytest.mark.parametrize(
    ("t_lon", "v_lon", "lat"),
    [
        ((179.9990, 179.9999), (179.990, 180.010), 10.0),  # the window crosses +180°
        ((-179.9999, -179.9990), (-180.010, -179.990), -20.0),  # and -180°
        ((120.61, 120.63), (120.60, 120.64), 31.3),  # an ordinary window: no wrap needed
    ],
)
def test_pair_listing_across_the_antimeridian(
    t_lon: tuple[float, float], v_lon: tuple[float, float], lat: float
) -> None:
    """The longitude prefilter of the pair listing keeps every eligible pair, with or without
    the wrap at ±180° (tasks on one side, volunteers on both)."""
    from commgov.matching import Task, Volunteer, is_eligible
    from commgov.types import GeoPoint, TimeWindow

    w = TimeWindow.model_validate(
        {"start": "2022-04-10T09:00:00+08:00", "end": "2022-04-10T10:00:00+08:00"}
    )
    rng = np.random.default_rng(1)

    def at(lons: tuple[float, float]) -> GeoPoint:
        x = (float(rng.uniform(*lons)) + 180.0) % 360.0 - 180.0
        return GeoPoint(lon=x, lat=lat + float(rng.uniform(-0.005, 0.005)))

    tasks = [Task(id=f"t{i:03d}", skill="d", location=at(t_lon), window=w) for i in range(40)]
    vols = [
        Volunteer(id=f"v{j:03d}", location=at(v_lon), skills={"d": 1}, availability=[w])
        for j in range(60)
    ]
    p = MatchingProblem(timezone="Asia/Shanghai", tasks=tasks, volunteers=vols)
    prep = prepare(p)
    got = list(zip(prep.pt.tolist(), prep.pv.tolist(), strict=True))
    ts, vs = sorted(tasks, key=lambda t: t.id), sorted(vols, key=lambda v: v.id)
    want = [(i, j) for i, t in enumerate(ts) for j, v in enumerate(vs) if is_eligible(p, t, v)]
    assert got == want
    assert any(vs[j].location.lon * ts[i].location.lon < 0 for i, j in want) or lat > 30
