"""Benchmark commgov.plan_sites against a direct CP-SAT model at the same time limit.

Usage::

    python benchmarks/bench_sites.py [--place 320508] [--limit 60] [--seed 0]

The problem is ``sites_problem_from_org(gusu(seed), place)``: by default the whole district
(all 273 "小巷红韵" micro-sites and every building with walk-in residents, a 6.5-hour round,
30-minute slots, walking ≤ 500 m, the 95th-percentile wait ≤ 15 min, no staff pool). It
times, on the same problem:

* commgov   ``plan_sites(problem, time_limit_s=--limit)``;
* cp-sat    a direct model written here from the problem alone (x[building, site],
  z[site, lanes] with the Erlang-C capacity computed here), tier 1 (served) then tier 2
  (staff-minutes), each with half of ``--limit``, 2 workers, no start;
* bound     ``sites_lower_bound`` (the LP relaxation, HiGHS), and the plan's own proven bound
  (``plan.info.bound``: the splittable-demand relaxation with whole lanes, a HiGHS MIP).

It prints residents served, staff-hours, the gap of each plan to the LP bound on staff-hours
(at the bound's full service), the time, and the reference's time and staff-hours as ratios
of commgov's.
"""

from __future__ import annotations

import argparse
import math
import time

from ortools.sat.python import cp_model

from commgov.datasets import gusu
from commgov.org import OrgGraph
from commgov.scheduling.sites import (
    SitesProblem,
    is_valid_sites_plan,
    plan_sites,
    sites_lower_bound,
    sites_problem_from_org,
)
from commgov.scheduling.staffing import wait_quantile_min
from commgov.types import haversine_m


def direct_cpsat(problem: SitesProblem, limit: float) -> tuple[int, float, str]:
    """(served, staff-hours, status of tier 2) of a direct lexicographic CP-SAT model."""
    pol = problem.policy
    slot = pol.slot_minutes
    n_t = problem.n_slots
    open_n = []
    for s in problem.sites:
        n = 0
        for t in range(n_t):
            a = problem.window.start + t * (problem.window.duration / n_t)
            b = a + (problem.window.duration / n_t)
            n += s.opening is None or (s.opening.start <= a and b <= s.opening.end)
        open_n.append(n)
    m = cp_model.CpModel()
    load: dict[int, list[tuple[int, object]]] = {}
    served = []
    for b in problem.buildings:
        if b.residents == 0:
            continue
        row = []
        for k, s in enumerate(problem.sites):
            d = round(haversine_m(b.location.lon, b.location.lat, s.location.lon, s.location.lat))
            if open_n[k] and d <= pol.max_walk_m:
                v = m.new_bool_var("")
                row.append(v)
                load.setdefault(k, []).append((b.residents, v))
                served.append(b.residents * v)
        if len(row) > 1:
            m.add_at_most_one(row)
    cost = []
    for k, terms in load.items():
        s = problem.sites[k]
        hours = open_n[k] * slot / 60
        mu = s.rate_per_lane_per_hour or pol.rate_per_lane_per_hour
        most = sum(r for r, _v in terms)
        zs, caps = [], []
        for lanes in range(1, s.max_lanes + 1):
            lo, hi = 0, math.ceil(lanes * mu * hours) + 1
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lam = mid / hours
                ok = (
                    lam < lanes * mu
                    and wait_quantile_min(lanes, lam, mu, pol.wait_quantile) <= pol.target_wait_min
                )
                lo, hi = (mid, hi) if ok else (lo, mid)
            sw = lanes + (-(-lanes // pol.relief_every_lanes) if pol.relief_every_lanes else 0)
            od = -(-lanes // pol.lanes_per_orderly)
            od += max(0, s.min_staff - sw - lanes - od)
            z = m.new_bool_var("")
            zs.append(z)
            caps.append(lo)
            cost.append(((sw + lanes + od) * open_n[k] * slot + s.opening_staff_minutes) * z)
            if lo >= most:
                break
        m.add_at_most_one(zs)
        m.add(sum(r * v for r, v in terms) <= sum(c * z for c, z in zip(caps, zs, strict=True)))
    result = []
    status = "UNKNOWN"
    for k, expr in enumerate((sum(served), sum(cost))):
        if k == 0:
            m.maximize(expr)
        else:
            m.minimize(expr)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 2
        solver.parameters.max_time_in_seconds = limit / 2
        st = solver.solve(m)
        if st not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return (result[0] if result else 0, math.nan, solver.status_name(st))
        value = round(solver.objective_value)
        result.append(value)
        status = solver.status_name(st)
        m.add(expr >= value if k == 0 else expr <= value)
    return result[0], result[1] / 60, status


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--place", default="320508", help="place id (default: Gusu district)")
    ap.add_argument("--limit", type=float, default=60.0, help="seconds per method")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    graph = OrgGraph(gusu(args.seed))
    problem = sites_problem_from_org(graph, args.place)
    print(
        f"place {args.place}: {len(problem.sites)} candidate sites, "
        f"{len(problem.buildings):,} buildings, "
        f"{sum(b.residents for b in problem.buildings):,} walk-in residents, "
        f"{problem.n_slots} slots of {problem.policy.slot_minutes} min, "
        f"limit {args.limit:g} s"
    )
    t = time.perf_counter()
    bound = sites_lower_bound(problem)
    t_bound = time.perf_counter() - t
    lb = bound.tiers["staff_hours"]
    print(
        f"{'bound':8} served ≤ {bound.tiers['served']:>9,.0f}  staff-hours ≥ {lb:>10,.1f}"
        f"  {t_bound:6.1f} s (LP relaxation)"
    )
    t = time.perf_counter()
    plan = plan_sites(problem, time_limit_s=args.limit)
    t_ours = time.perf_counter() - t
    ok = is_valid_sites_plan(problem, plan).ok
    ours = plan.totals.staff_hours
    print(
        f"{'commgov':8} served {plan.totals.served:>11,}  staff-hours {ours:>12,.1f}  "
        f"{t_ours:6.1f} s  gap to LP {(ours - lb) / lb:6.2%}  status {plan.info.status}"
        f"  verified {ok}"
    )
    if plan.info.bound is not None and plan.info.gap is not None:
        print(
            f"{'':8} its own proven bound (lanes whole, buildings splittable): staff-hours ≥ "
            f"{plan.info.bound:,.1f}, gap {plan.info.gap:6.2%}"
        )
    t = time.perf_counter()
    served, staff, status = direct_cpsat(problem, args.limit)
    t_ref = time.perf_counter() - t
    full = served >= bound.tiers["served"] - 0.5
    if staff != staff:
        gap = "n/a (no plan in tier 2)"
    else:
        gap = f"{(staff - lb) / lb:6.2%}" if full else "n/a (fewer served)"
    print(
        f"{'cp-sat':8} served {served:>11,}  staff-hours {staff:>12,.1f}  {t_ref:6.1f} s  "
        f"gap to LP {gap}  status of tier 2 {status}"
    )
    print(
        f"ratios (cp-sat / commgov): time {t_ref / t_ours:.2f}, staff-hours "
        f"{staff / ours:.3f}, served {served / max(1, plan.totals.served):.4f}"
    )


if __name__ == "__main__":
    main()
