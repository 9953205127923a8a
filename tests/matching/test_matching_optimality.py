"""Optimality against an independent MILP (scipy.optimize.milp / HiGHS).

The reference model is written here from the problem records and the public distance and
eligibility functions only: x[t, v] ∈ {0, 1} for eligible pairs; each task at most once; per
volunteer and slot at most capacity_per_slot; per volunteer and local day at most
capacity_per_day. Stage 1 maximises Σ priority·x; stage 2 fixes that value and minimises
Σ cost·x with cost = scope penalty + travel metres (``pair_cost_m``; lexicographic, no big-M).
Half the seeds get organisation scopes (``commgov.testing.with_scopes``), so scope penalties
and out-of-scope pairs are exercised.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from matching_helpers import community_problem
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from commgov.matching import (
    MatchingProblem,
    is_eligible,
    is_valid_assignment,
    match_volunteers,
    pair_cost_m,
)
from commgov.results import SolveStatus
from commgov.testing import with_scopes


def milp_reference(p: MatchingProblem) -> tuple[int, int]:
    zone = p.zone
    pairs: list[tuple[int, int]] = []
    prio: list[float] = []
    dist: list[float] = []
    rows: dict[tuple[object, ...], list[int]] = defaultdict(list)
    caps: dict[tuple[object, ...], int] = {}
    for ti, t in enumerate(p.tasks):
        day = t.window.start.astimezone(zone).date()
        for vi, v in enumerate(p.volunteers):
            if not is_eligible(p, t, v):
                continue
            k = len(pairs)
            pairs.append((ti, vi))
            prio.append(float(t.priority))
            dist.append(float(pair_cost_m(p, t, v)))
            rows[("task", ti)].append(k)
            caps[("task", ti)] = 1
            ks = ("slot", vi, t.window.start, t.window.end)
            rows[ks].append(k)
            caps[ks] = v.capacity_per_slot
            kd = ("day", vi, day)
            rows[kd].append(k)
            caps[kd] = v.capacity_per_day
    n = len(pairs)
    if n == 0:
        return 0, 0
    r_idx, c_idx = [], []
    ub = []
    for i, (key, cols) in enumerate(rows.items()):
        r_idx += [i] * len(cols)
        c_idx += cols
        ub.append(caps[key])
    a = coo_matrix((np.ones(len(c_idx)), (r_idx, c_idx)), shape=(len(rows), n)).tocsr()
    cons = [LinearConstraint(a, -np.inf, np.array(ub, dtype=float))]
    integrality = np.ones(n)
    bounds = Bounds(np.zeros(n), np.ones(n))
    c1 = -np.array(prio)
    r1 = milp(c1, constraints=cons, integrality=integrality, bounds=bounds)
    assert r1.status == 0, r1.message
    best = round(-r1.fun)
    cons2 = [*cons, LinearConstraint(np.array(prio)[None, :], best - 0.5, np.inf)]
    r2 = milp(np.array(dist), constraints=cons2, integrality=integrality, bounds=bounds)
    assert r2.status == 0, r2.message
    x = np.round(r2.x)
    return round(float(np.dot(prio, x))), round(float(np.dot(dist, x)))


@pytest.mark.parametrize("seed", range(50))
def test_matches_milp_optimum(seed: int) -> None:
    p = community_problem(1000 + seed)
    if seed % 2:
        p = with_scopes(p, seed)
    a = match_volunteers(p)
    assert a.info.status is SolveStatus.OPTIMAL
    report = is_valid_assignment(p, a)
    assert report.ok, report.violations
    ob = report.objective
    assert (ob.priority_served, ob.cost_m) == milp_reference(p)
    assert (a.totals.priority_served, a.totals.cost_m) == (ob.priority_served, ob.cost_m)


@pytest.mark.parametrize("seed", range(12))
def test_declined_pairs_are_never_matched_and_the_optimum_holds(seed: int) -> None:
    """A third of the eligible pairs declined: every method gives a valid assignment with no
    declined pair, the flow equals the MILP optimum without those pairs, and an unmatched task
    all of whose available near volunteers declined says DECLINED."""
    import random

    from commgov.matching import MatchingReasonCode, Pin

    p = community_problem(2000 + seed)
    if seed % 2:
        p = with_scopes(p, seed)
    rnd = random.Random(seed)
    pairs = [(t.id, v.id) for t in p.tasks for v in p.volunteers if is_eligible(p, t, v)]
    chosen = rnd.sample(pairs, len(pairs) // 3)
    p = MatchingProblem.model_validate(
        {**p.model_dump(), "declined": [{"task_id": t, "volunteer_id": v} for t, v in chosen]}
    )
    declined = set(chosen)
    for method, objective in (("flow", "min_cost"), ("cpsat", "min_cost"),
                              ("auto", "fair"), ("auto", "stable")):  # fmt: skip
        a = match_volunteers(p, method=method, objective=objective)
        report = is_valid_assignment(p, a)
        assert report.ok, (method, objective, report.violations)
        assert not declined & {(m.task_id, m.volunteer_id) for m in a.matches}
    a = match_volunteers(p)
    ob = is_valid_assignment(p, a).objective
    assert (ob.priority_served, ob.cost_m) == milp_reference(p)
    assert all(Pin(task_id=t, volunteer_id=v) in p.declined for t, v in chosen)
    assert all(r.code in set(MatchingReasonCode) for u in a.unmatched for r in u.reasons)
