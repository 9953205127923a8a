"""sampling_lower_bound against an independent LP; the building-level search against brute force.

The LP here is the relaxation written out in full, time-expanded: people of building
``b`` arriving at point ``p`` in slot ``t`` (``f ≥ 0``), the F2 queue ``q_t ≥ q_{t-1} + a_t −
c_t`` with ``0 ≤ q ≤ max_queue`` and nothing left at the end, solved by HiGHS (scipy
``linprog``) in two stages (most served, then least walking at that level).
``sampling_lower_bound`` solves a transportation problem by min-cost flow instead; the two must
agree exactly.
"""

from __future__ import annotations

import itertools
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from scipy.optimize import linprog
from scipy.sparse import coo_matrix
from test_sampling_optimality import random_problem, reference_slots

from commgov.datasets import sampling_instance
from commgov.errors import InvalidParameterError
from commgov.org import ZoneRegime
from commgov.results import ObjectiveBound, SolveStatus
from commgov.scheduling.sampling import (
    SamplingProblem,
    _bound,
    _solve_gap,
    is_valid_sampling_plan,
    plan_sampling,
    sampling_lower_bound,
    walk_distance_m,
)


def reference_lp(prob: SamplingProblem) -> tuple[int, int]:
    """(most people served, least person-metres at that level) of the time-expanded LP."""
    pol = prob.policy
    n_slots, limit, cap, open_lists = reference_slots(prob)
    opened = {pid: set(ts) for pid, ts in open_lists.items()}
    f_keys: list[tuple[int, str, int, int]] = []  # (building row, point, slot, metres)
    weights: list[int] = []
    for b in prob.buildings:
        if b.zone in (ZoneRegime.SEALED, ZoneRegime.HIGH):
            continue
        row = len(weights)
        weights.append(sum(k.people for k in b.batches))
        for p in prob.points:
            if b.allowed_point_ids is not None and p.id not in b.allowed_point_ids:
                continue
            d = walk_distance_m(b, p, pol)
            if d > limit or cap[p.id] == 0:
                continue
            f_keys.extend((row, p.id, t, d) for t in sorted(opened[p.id]))
    pids = [p.id for p in prob.points]
    nf = len(f_keys)
    q_col = {(pid, t): nf + i for i, (pid, t) in enumerate(itertools.product(pids, range(n_slots)))}
    n = nf + len(q_col)
    rows, cols, vals, ub_rhs = [], [], [], []
    r = 0
    for i in range(len(weights)):  # Σ f[b,·,·] ≤ w_b
        for c, key in enumerate(f_keys):
            if key[0] == i:
                rows.append(r)
                cols.append(c)
                vals.append(1.0)
        ub_rhs.append(weights[i])
        r += 1
    arrivals: dict[tuple[str, int], list[int]] = {}
    for c, (_i, pid, t, _d) in enumerate(f_keys):
        arrivals.setdefault((pid, t), []).append(c)
    for pid in pids:  # a_t + q_{t-1} − q_t ≤ c_t
        for t in range(n_slots):
            for c in arrivals.get((pid, t), []):
                rows.append(r)
                cols.append(c)
                vals.append(1.0)
            if t > 0:
                rows.append(r)
                cols.append(q_col[pid, t - 1])
                vals.append(1.0)
            rows.append(r)
            cols.append(q_col[pid, t])
            vals.append(-1.0)
            ub_rhs.append(cap[pid] if t in opened[pid] else 0)
            r += 1
    a_ub = coo_matrix((vals, (rows, cols)), shape=(r, n)).tocsr()
    bounds = [(0, None)] * nf + [
        (0, 0 if t == n_slots - 1 else pol.max_queue) for (_pid, t) in q_col
    ]
    served = np.zeros(n)
    served[:nf] = 1.0
    walk = np.zeros(n)
    walk[:nf] = [d for (_i, _p, _t, d) in f_keys]
    if nf == 0:
        return 0, 0
    r1 = linprog(-served, A_ub=a_ub, b_ub=ub_rhs, bounds=bounds, method="highs")
    assert r1.status == 0, r1.message
    best = round(-r1.fun)
    r2 = linprog(
        walk,
        A_ub=a_ub,
        b_ub=ub_rhs,
        A_eq=served.reshape(1, -1),
        b_eq=[best],
        bounds=bounds,
        method="highs",
    )
    assert r2.status == 0, r2.message
    return best, round(r2.fun)


@pytest.mark.parametrize(("tier", "seed"), [("C", s) for s in range(5)] + [("S", 0), ("S", 3)])
def test_lower_bound_equals_independent_highs_lp(tier: str, seed: int) -> None:
    prob = sampling_instance(tier, seed)
    b = sampling_lower_bound(prob)
    assert isinstance(b, ObjectiveBound)
    assert (b.family, b.method, b.main) == ("sampling", "min-cost-flow relaxation", "walk_person_m")
    assert (b.tiers["served"], b.tiers["walk_person_m"]) == reference_lp(prob)
    assert b.value == b.tiers["walk_person_m"]
    assert b.tiers["served"] == b.figures["reachable_people"] == b.figures["walk_in_people"]


@pytest.mark.parametrize("seed", range(40))
def test_lower_bound_on_random_problems(seed: int) -> None:
    # openings, designated points, sealed buildings, queue caps 0-200, capacity-short cases
    prob = random_problem(seed)
    b = sampling_lower_bound(prob)
    assert (b.tiers["served"], b.value) == reference_lp(prob)
    plan = plan_sampling(prob)
    assert plan.totals.served_people <= b.tiers["served"]
    if plan.totals.served_people == b.tiers["served"]:
        assert plan.totals.walk_person_m >= b.value
        assert plan.info.bound is not None and plan.info.bound >= b.value


def test_lower_bound_checks_its_argument() -> None:
    with pytest.raises(TypeError, match="problem"):
        sampling_lower_bound({"buildings": []})  # type: ignore[arg-type]


# ---- the building-level search (method "gap") against brute force --------------------------------


@st.composite
def gap_instances(draw: st.DrawFn) -> _bound.GapInstance:
    npt = draw(st.integers(1, 3))
    nb = draw(st.integers(0, 7))
    w, reach, dist = [], [], []
    for _ in range(nb):
        r = sorted(draw(st.sets(st.integers(0, npt - 1), max_size=npt)))
        reach.append(r)
        dist.append([draw(st.integers(0, 1200)) for _ in r])
        w.append(draw(st.integers(0, 80)))
    cap = [draw(st.integers(0, 200)) for _ in range(npt)]
    xy = [(120.6 + 0.001 * j, 31.3) for j in range(npt)]
    return _bound.gap_instance(w, reach, dist, cap, xy)


def brute(inst: _bound.GapInstance) -> tuple[int, int]:
    best: tuple[int, int] | None = None
    options = [[-1, *r] for r in inst.reach]
    for choice in itertools.product(*options):
        load = [0] * len(inst.cap)
        served = walk = 0
        for i, j in enumerate(choice):
            if j >= 0:
                load[j] += inst.w[i]
                served += inst.w[i]
                walk += inst.w[i] * inst.dist[i][inst.reach[i].index(j)]
        if all(ld <= c for ld, c in zip(load, inst.cap, strict=True)):
            key = (-served, walk)
            best = key if best is None or key < best else best
    assert best is not None
    return -best[0], best[1]


def check_assignment(inst: _bound.GapInstance, sol: _solve_gap.GapSolution) -> None:
    load = [0] * len(inst.cap)
    served = walk = 0
    for i, j in enumerate(sol.assign):
        if j >= 0:
            assert j in inst.reach[i]
            load[j] += inst.w[i]
            served += inst.w[i]
            walk += inst.w[i] * inst.dist[i][inst.reach[i].index(j)]
    assert all(ld <= c for ld, c in zip(load, inst.cap, strict=True))
    assert (served, walk) == (sol.served, sol.walk)
    assert served <= sol.bound.served
    if served == sol.bound.served:
        assert walk >= sol.bound.walk


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gap_instances())
def test_whole_model_is_the_brute_force_optimum(inst: _bound.GapInstance) -> None:
    sol = _solve_gap.solve_gap(inst)
    check_assignment(inst, sol)
    assert sol.proven_optimal
    assert (sol.served, sol.walk) == brute(inst)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gap_instances())
def test_neighbourhood_search_alone_is_feasible_and_bounded(inst: _bound.GapInstance) -> None:
    # force the district path (no whole-model proof) on small instances
    with mock.patch.object(_solve_gap, "EXACT_MAX_BUILDINGS", -1):
        sol = _solve_gap.solve_gap(inst)
    check_assignment(inst, sol)
    served, walk = brute(inst)
    assert (sol.served, -sol.walk) <= (served, -walk)  # never better than the optimum
    if sol.proven_optimal:
        assert (sol.served, sol.walk) == (served, walk)


def test_gap_instance_rejects_inconsistent_shapes() -> None:
    with pytest.raises(ValueError, match="lengths"):
        _bound.gap_instance([1], [], [], [1], [(0.0, 0.0)])
    with pytest.raises(ValueError, match="reach and dist"):
        _bound.gap_instance([1], [[0]], [[]], [1], [(0.0, 0.0)])
    with pytest.raises(ValueError, match="negative"):
        _bound.gap_instance([-1], [[0]], [[5]], [1], [(0.0, 0.0)])


@pytest.mark.parametrize("seed", [0, 2])
def test_subdistrict_plan_meets_the_gap_target_and_is_valid(seed: int) -> None:
    prob = sampling_instance("S", seed)
    plan = plan_sampling(prob, time_limit_s=10)
    assert is_valid_sampling_plan(prob, plan).ok
    b = sampling_lower_bound(prob)
    assert plan.totals.unserved_people == 0
    assert plan.info.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL)
    assert plan.info.bound == b.value
    gap = b.gap(plan.totals.walk_person_m)
    assert gap == pytest.approx(plan.info.gap)
    assert gap <= 0.005  # the default gap_limit
    # same input, same plan (the search stopped on its own rule, not on the wall clock)
    assert plan.info.stopped_by is None
    assert plan_sampling(prob, time_limit_s=10).to_json() == plan.to_json()


def test_gap_limit_is_validated() -> None:
    prob = sampling_instance("C", 0)
    for bad in (-0.1, 1.5, float("nan"), float("inf")):
        with pytest.raises(InvalidParameterError, match="gap_limit"):
            plan_sampling(prob, gap_limit=bad)
    with pytest.raises(TypeError, match="gap_limit"):
        plan_sampling(prob, gap_limit="0.01")  # type: ignore[arg-type]
