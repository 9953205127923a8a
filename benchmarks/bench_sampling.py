"""Benchmark commgov.plan_sampling against generic solvers on the same instances.

Usage::

    python benchmarks/bench_sampling.py [--seeds 0 1 2 3 4] [--limit 60]

Instances: 虎池苑社区 from ``commgov.datasets.gusu()`` (158 buildings, 236 batches, 3 points,
13 slots) and ``commgov.testing._sampling.community_problem(seed)`` (≈60 buildings, ≈120
batches, 4 points, 13 slots, slack 1.2). For each it times, on the same problem:

* commgov  ``plan_sampling`` (exact tiers: people served, then walking);
* cp-sat   a direct time-indexed CP-SAT model written here (x[batch, point, slot], y[building,
  point], the F2 fluid queue), the two tiers solved in turn, 2 workers, ``--limit`` s each;
* highs    the same model as a MILP through scipy.optimize.milp (HiGHS), ``--limit`` s each.

Nothing here imports commgov solver code: only the problem records and the shared public
definitions ``slot_capacity``, ``walk_distance_m`` and ``reach_limit_m``. It prints walking,
proven status, gap to the best bound, time, and each reference's time as a ratio of ours.

``--large N [N ...]`` then times ``plan_sampling`` alone on synthetic communities of N
households (``synthetic_community(HUCHIYUAN, households=N)``) with ``--large-limit`` seconds,
to check that the time limit holds (the references are left out: their models are too large).
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

import numpy as np
from ortools.sat.python import cp_model
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from commgov.datasets import HUCHIYUAN, gusu, synthetic_community
from commgov.org import OrgGraph, ZoneRegime
from commgov.scheduling import (
    SamplingProblem,
    plan_sampling,
    reach_limit_m,
    sampling_problem_from_org,
    slot_capacity,
    walk_distance_m,
)
from commgov.testing._sampling import community_problem


def arcs(prob: SamplingProblem):
    pol = prob.policy
    delta = timedelta(minutes=pol.slot_minutes)
    n_slots = int(prob.window.duration / delta)
    cap, opened = {}, {}
    for p in prob.points:
        cap[p.id] = slot_capacity(
            p.lanes, p.rate_per_lane_per_hour, pol.slot_minutes, pol.utilisation
        )
        op = p.opening
        opened[p.id] = [
            t
            for t in range(n_slots)
            if op is None
            or (
                op.start <= prob.window.start + t * delta
                and prob.window.start + (t + 1) * delta <= op.end
            )
        ]
    pairs = []  # (building, point, distance)
    for b in prob.buildings:
        if b.zone == ZoneRegime.SEALED:
            continue
        for p in prob.points:
            if b.allowed_point_ids is not None and p.id not in b.allowed_point_ids:
                continue
            d = walk_distance_m(b, p, pol)
            if d <= reach_limit_m(pol) and opened[p.id]:
                pairs.append((b, p, d))
    return n_slots, cap, opened, pairs


def direct_cpsat(prob: SamplingProblem, limit: float) -> tuple[int, int, str, float]:
    n_slots, cap, opened, pairs = arcs(prob)
    m = cp_model.CpModel()
    y, x = {}, {}
    per_b, per_k = {}, {}
    arrivals = {(p.id, t): [] for p in prob.points for t in range(n_slots)}
    served_terms, walk_terms = [], []
    for b, p, d in pairs:
        y[b.id, p.id] = m.new_bool_var("")
        per_b.setdefault(b.id, []).append(y[b.id, p.id])
        for k in b.batches:
            for t in opened[p.id]:
                v = m.new_bool_var("")
                x[k.id, p.id, t] = v
                m.add_implication(v, y[b.id, p.id])
                per_k.setdefault(k.id, []).append(v)
                arrivals[p.id, t].append((k.people, v))
                served_terms.append(k.people * v)
                walk_terms.append(k.people * d * v)
    for vs in [*per_b.values(), *per_k.values()]:
        m.add_at_most_one(vs)
    for p in prob.points:
        q_prev = 0
        for t in range(n_slots):
            q = m.new_int_var(0, 0 if t == n_slots - 1 else prob.policy.max_queue, "")
            c = cap[p.id] if t in opened[p.id] else 0
            m.add(q >= q_prev + sum(n * v for n, v in arrivals[p.id, t]) - c)
            q_prev = q
    served = sum(served_terms)
    walk = sum(walk_terms)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = 2
    m.maximize(served)
    st1 = solver.solve(m)
    best = round(solver.objective_value)
    m.add(served >= best)
    m.minimize(walk)
    st2 = solver.solve(m)
    status = "OPTIMAL" if st1 == st2 == cp_model.OPTIMAL else solver.status_name(st2)
    value = round(solver.objective_value)
    bound = solver.best_objective_bound
    return best, value, status, (value - bound) / bound if bound > 0 else 0.0


def direct_highs(prob: SamplingProblem, limit: float) -> tuple[int, int, str, float]:
    n_slots, cap, opened, pairs = arcs(prob)
    cols: dict[tuple, int] = {}
    rows, cols_i, vals, lo, hi = [], [], [], [], []
    served_c, walk_c = {}, {}

    def col(key):
        return cols.setdefault(key, len(cols))

    def row(entries, a, b):
        r = len(lo)
        for j, v in entries:
            rows.append(r)
            cols_i.append(j)
            vals.append(v)
        lo.append(a)
        hi.append(b)

    per_b, per_k = {}, {}
    arrivals = {(p.id, t): [] for p in prob.points for t in range(n_slots)}
    for b, p, d in pairs:
        yc = col(("y", b.id, p.id))
        per_b.setdefault(b.id, []).append((yc, 1.0))
        for k in b.batches:
            for t in opened[p.id]:
                xc = col(("x", k.id, p.id, t))
                row([(xc, 1.0), (yc, -1.0)], -np.inf, 0.0)
                per_k.setdefault(k.id, []).append((xc, 1.0))
                arrivals[p.id, t].append((xc, -float(k.people)))
                served_c[xc] = k.people
                walk_c[xc] = k.people * d
    for entries in [*per_b.values(), *per_k.values()]:
        row(entries, -np.inf, 1.0)
    qcols = {}
    for p in prob.points:
        for t in range(n_slots):
            qcols[p.id, t] = col(("q", p.id, t))
    for p in prob.points:
        for t in range(n_slots):
            entries = [(qcols[p.id, t], 1.0), *arrivals[p.id, t]]
            if t:
                entries.append((qcols[p.id, t - 1], -1.0))
            row(entries, -float(cap[p.id] if t in opened[p.id] else 0), np.inf)
    n = len(cols)
    a_mat = coo_matrix((vals, (rows, cols_i)), shape=(len(lo), n)).tocsr()
    integ = np.ones(n)
    ub = np.ones(n)
    for (kind, *rest), j in cols.items():
        if kind == "q":
            integ[j] = 0
            ub[j] = 0.0 if rest[1] == n_slots - 1 else prob.policy.max_queue
    served = np.zeros(n)
    walk = np.zeros(n)
    for j, v in served_c.items():
        served[j] = v
    for j, v in walk_c.items():
        walk[j] = v
    cons = [LinearConstraint(a_mat, lo, hi)]
    opts = {"time_limit": limit, "mip_rel_gap": 0.0}
    r1 = milp(
        -served, constraints=cons, integrality=integ, bounds=Bounds(np.zeros(n), ub), options=opts
    )
    best = round(-r1.fun)
    cons.append(LinearConstraint(served.reshape(1, -1), best - 0.5, np.inf))
    r2 = milp(
        walk, constraints=cons, integrality=integ, bounds=Bounds(np.zeros(n), ub), options=opts
    )
    if r2.x is None:
        return best, -1, "NO-SOLUTION", float("nan")
    status = "OPTIMAL" if r1.status == 0 and r2.status == 0 else "LIMIT"
    bound = getattr(r2, "mip_dual_bound", None) or r2.fun
    return best, round(r2.fun), status, (r2.fun - bound) / bound if bound else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4])
    parser.add_argument("--limit", type=float, default=60.0)
    parser.add_argument("--large", type=int, nargs="*", default=[], metavar="HOUSEHOLDS")
    parser.add_argument("--large-limit", type=float, default=10.0, metavar="S")
    args = parser.parse_args()
    instances = [("huchiyuan", sampling_problem_from_org(OrgGraph(gusu()), HUCHIYUAN))]
    instances += [(f"community-{s}", community_problem(s)) for s in args.seeds]
    print(
        "walking in person-metres (people served), status, gap to the solver's own bound, time\n"
        f"{'instance':<14}{'batches':>8} | {'commgov':>30} | {'cp-sat direct':>46} | {'highs':>46}"
    )
    for name, prob in instances:
        t = time.perf_counter()
        plan = plan_sampling(prob, time_limit_s=args.limit)
        ours = time.perf_counter() - t
        t = time.perf_counter()
        c = direct_cpsat(prob, args.limit)
        tc = time.perf_counter() - t
        t = time.perf_counter()
        h = direct_highs(prob, args.limit)
        th = time.perf_counter() - t
        batches = sum(len(b.batches) for b in prob.buildings)
        print(
            f"{name:<14}{batches:>8} | {plan.totals.walk_person_m:>9} "
            f"({plan.totals.served_people:>5}) "
            f"{plan.info.status:<7} {ours:5.2f}s"
            f" | {c[1]:>9} ({c[0]:>5}) {c[2]:<8} gap {c[3]:6.2%} {tc:6.2f}s ×{tc / ours:5.1f}"
            f" | {h[1]:>9} ({h[0]:>5}) {h[2]:<8} gap {h[3]:6.2%} {th:6.2f}s ×{th / ours:5.1f}"
        )
        assert c[0] <= plan.totals.served_people and h[0] <= plan.totals.served_people
    if args.large:
        print(f"\nplan_sampling alone, time_limit_s={args.large_limit}")
    for households in args.large:
        prob = sampling_problem_from_org(
            synthetic_community(HUCHIYUAN, households=households, seed=0), HUCHIYUAN
        )
        t = time.perf_counter()
        plan = plan_sampling(prob, time_limit_s=args.large_limit)
        ours = time.perf_counter() - t
        batches = sum(len(b.batches) for b in prob.buildings)
        print(
            f"{households:>6} households {batches:>6} batches {len(prob.points):>3} points | "
            f"{plan.totals.walk_person_m:>9} ({plan.totals.served_people:>6}) "
            f"{plan.info.status:<8} {ours:6.2f}s"
        )


if __name__ == "__main__":
    main()
