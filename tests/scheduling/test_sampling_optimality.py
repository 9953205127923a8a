"""Tiers 1 and 2 against an independent MILP (scipy.optimize.milp / HiGHS).

The MILP is written here from the problem's public data and the public ``slot_capacity`` and
``walk_distance_m``; it uses no commgov solver code.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sampling_helpers import at, window
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from commgov.org import ZoneRegime
from commgov.results import SolveStatus
from commgov.scheduling import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPoint,
    SamplingPolicy,
    SamplingProblem,
    is_valid_sampling_plan,
    plan_sampling,
    slot_capacity,
    walk_distance_m,
)
from commgov.types import TimeWindow


def random_problem(seed: int) -> SamplingProblem:
    g = np.random.default_rng(seed)
    n_slots = int(g.integers(4, 9))
    n_points = int(g.integers(2, 4))
    w = window(n_slots)
    points = []
    for j in range(n_points):
        opening = None
        if g.random() < 0.3:
            lo = int(g.integers(0, n_slots // 2))
            opening = TimeWindow(start=w.start + timedelta(minutes=30 * lo), end=w.end)
        points.append(
            SamplingPoint(
                id=f"P{j}",
                location=at(*g.uniform(0, 1000, 2)),
                lanes=int(g.integers(1, 3)),
                opening=opening,
            )
        )
    buildings = []
    for i in range(int(g.integers(5, 16))):
        u = g.random()
        zone = (
            ZoneRegime.SEALED
            if u < 0.08
            else ZoneRegime.CONTROLLED
            if u < 0.3
            else ZoneRegime.PRECAUTIONARY
        )
        allowed = None
        if zone == ZoneRegime.CONTROLLED:
            allowed = sorted({f"P{int(j)}" for j in g.integers(0, n_points, 2)})
        bid = f"B{i:02d}"
        batches = [
            SamplingBatch(
                id=f"{bid}-{j}", building_id=bid, households=5, people=int(g.integers(5, 61))
            )
            for j in range(int(g.integers(1, 4)))
        ]
        buildings.append(
            SamplingBuilding(
                id=bid,
                location=at(*g.uniform(-300, 1300, 2)),
                zone=zone,
                batches=batches,
                allowed_point_ids=allowed,
                mobility_limited=int(g.integers(0, 3)),
            )
        )
    max_queue = int(g.choice([0, 30, 60, 200]))
    return SamplingProblem(
        timezone="Asia/Shanghai",
        window=w,
        buildings=buildings,
        points=points,
        policy=SamplingPolicy(max_queue=max_queue),
    )


def reference_slots(
    prob: SamplingProblem,
) -> tuple[int, float, dict[str, int], dict[str, list[int]]]:
    """(slots, walk limit in m, capacity per point and slot, open slots per point), written
    out here from the definitions rather than taken from the solver."""
    pol = prob.policy
    delta = timedelta(minutes=pol.slot_minutes)
    n_slots_ = int(prob.window.duration / delta)
    limit = pol.max_walk_minutes * pol.walking_speed_m_per_min
    cap, opened = {}, {}
    for p in prob.points:
        cap[p.id] = slot_capacity(
            p.lanes, p.rate_per_lane_per_hour, pol.slot_minutes, pol.utilisation
        )
        op = p.opening
        opened[p.id] = [
            t
            for t in range(n_slots_)
            if op is None
            or (
                op.start <= prob.window.start + t * delta
                and prob.window.start + (t + 1) * delta <= op.end
            )
        ]
    return n_slots_, limit, cap, opened


def reference_milp(prob: SamplingProblem) -> tuple[int, int]:
    """(max people served, min walking person-metres at that service level)."""
    pol = prob.policy
    n_slots_, limit, cap, opened = reference_slots(prob)
    cols: dict[tuple, int] = {}

    def col(key: tuple) -> int:
        return cols.setdefault(key, len(cols))

    x_keys = []
    for b in prob.buildings:
        if b.zone == ZoneRegime.SEALED:
            continue
        for p in prob.points:
            if b.allowed_point_ids is not None and p.id not in b.allowed_point_ids:
                continue
            d = walk_distance_m(b, p, pol)
            if d > limit or not opened[p.id]:
                continue
            col(("y", b.id, p.id))
            for k in b.batches:
                for t in opened[p.id]:
                    x_keys.append((k, b, p, t, d))
                    col(("x", k.id, p.id, t))
    for p in prob.points:
        for t in range(n_slots_):
            col(("q", p.id, t))
    n = len(cols)
    rows: list[tuple[dict[int, float], float, float]] = []
    per_by: dict[tuple, dict[int, float]] = {}
    per_b: dict[str, dict[int, float]] = {}
    per_k: dict[str, dict[int, float]] = {}
    for k, b, p, t, _d in x_keys:
        c = cols["x", k.id, p.id, t]
        per_by.setdefault((k.id, b.id, p.id), {cols["y", b.id, p.id]: -1.0})[c] = 1.0
        per_k.setdefault(k.id, {})[c] = 1.0
    for key in cols:
        if key[0] == "y":
            per_b.setdefault(key[1], {})[cols[key]] = 1.0
    rows += [(r, -np.inf, 0.0) for r in per_by.values()]
    rows += [(r, -np.inf, 1.0) for r in per_b.values()]
    rows += [(r, -np.inf, 1.0) for r in per_k.values()]
    for p in prob.points:  # q_t - q_{t-1} - a_t >= -c_t
        for t in range(n_slots_):
            r = {cols["q", p.id, t]: 1.0}
            if t > 0:
                r[cols["q", p.id, t - 1]] = -1.0
            for k, _b, p2, t2, _d in x_keys:
                if p2.id == p.id and t2 == t:
                    r[cols["x", k.id, p.id, t]] = -float(k.people)
            c = cap[p.id] if t in opened[p.id] else 0
            rows.append((r, -float(c), np.inf))
    served = np.zeros(n)
    walk = np.zeros(n)
    for k, _b, p, t, d in x_keys:
        served[cols["x", k.id, p.id, t]] = k.people
        walk[cols["x", k.id, p.id, t]] = k.people * d
    lb = np.zeros(n)
    ub = np.ones(n)
    integ = np.ones(n)
    for key, c in cols.items():
        if key[0] == "q":
            integ[c] = 0
            ub[c] = 0.0 if key[2] == n_slots_ - 1 else pol.max_queue
    a_mat = lil_matrix((len(rows), n))
    lo, hi = [], []
    for i, (r, a, b_) in enumerate(rows):
        for j, v in r.items():
            a_mat[i, j] = v
        lo.append(a)
        hi.append(b_)
    cons = [LinearConstraint(a_mat.tocsr(), lo, hi)]
    opts = {"mip_rel_gap": 0.0}
    r1 = milp(-served, constraints=cons, integrality=integ, bounds=Bounds(lb, ub), options=opts)
    assert r1.success, r1.message
    best = round(-r1.fun)
    cons.append(LinearConstraint(served.reshape(1, -1), best - 0.5, np.inf))
    r2 = milp(walk, constraints=cons, integrality=integ, bounds=Bounds(lb, ub), options=opts)
    assert r2.success, r2.message
    return best, round(r2.fun)


# seed 19 is left out: HiGHS needs ~3 min on it (our solver: 0.05 s, same optimum).
SEEDS = [s for s in range(26) if s != 19]


@pytest.mark.parametrize("seed", SEEDS)
def test_tiers_match_independent_milp(seed: int) -> None:
    prob = random_problem(seed)
    plan = plan_sampling(prob)
    assert is_valid_sampling_plan(prob, plan).ok
    served, walk = reference_milp(prob)
    assert plan.totals.served_people == served
    assert plan.totals.walk_person_m == walk
    # tiers 1-2 proven optimal (bound = value); tier 3 (earliest slots) may stop at its
    # deterministic budget, in which case the overall status is FEASIBLE.
    assert plan.info.bound == walk
    assert plan.info.gap == 0.0
    assert plan.info.status == SolveStatus.OPTIMAL
