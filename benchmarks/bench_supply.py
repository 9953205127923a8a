"""Benchmark commgov.plan_supply_stations against a direct HiGHS MILP at the same time limit.

Usage::

    python benchmarks/bench_supply.py [--place 320508] [--limit 30] [--seed 0]

The problem is ``supply_problem_from_org(gusu(seed), place)``: by default the whole district
(all 273 "小巷红韵" micro-sites as candidate stations, 2,000 parcels a day and two volunteers
each; every compound and lane, one parcel a household a day; the gate within 1,000 m of its
station; no volunteer pool). It times, on the same problem:

* commgov   ``plan_supply_stations(problem, time_limit_s=--limit)`` (default method
  ``"highs"``; its own ``info.bound``/``info.gap`` on volunteers are printed too);
* highs     a direct MILP written here from the problem alone (x[compound, station] ≤
  y[station], capacities), tier 1 (parcels served) then tier 2 (volunteers), each with half
  of ``--limit``, HiGHS's branch and cut, no start;
* bound     ``supply_lower_bound`` (the LP relaxation, HiGHS).

It prints parcels served, volunteers, the gap of each plan to the LP bound on volunteers (at
the bound's full service), the time, and the reference's time and volunteers as ratios of
commgov's.
"""

from __future__ import annotations

import argparse
import math
import time

import highspy

from commgov.datasets import gusu
from commgov.org import OrgGraph
from commgov.scheduling.supply import (
    SupplyProblem,
    is_valid_supply_plan,
    plan_supply_stations,
    supply_lower_bound,
    supply_problem_from_org,
)
from commgov.types import haversine_m


def direct_highs(problem: SupplyProblem, limit: float) -> tuple[int, float, str]:
    """(served, volunteers, status of tier 2) of a direct lexicographic HiGHS MILP."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    cost: list[tuple[float, float]] = []

    def var(served: float, staff: float) -> int:
        h.addVar(0.0, 1.0)
        h.changeColIntegrality(len(cost), highspy.HighsVarType.kInteger)
        cost.append((served, staff))
        return len(cost) - 1

    y = [var(0.0, float(s.staff)) for s in problem.stations]
    load: dict[int, tuple[list[int], list[float]]] = {}
    for c in problem.compounds:
        if c.parcels == 0:
            continue
        row = []
        for k, s in enumerate(problem.stations):
            d = round(haversine_m(c.gate.lon, c.gate.lat, s.location.lon, s.location.lat))
            if d <= problem.policy.max_walk_m and c.parcels <= s.capacity_parcels:
                j = var(float(c.parcels), 0.0)
                h.addRow(-inf, 0.0, 2, [j, y[k]], [1.0, -1.0])
                row.append(j)
                idx, val = load.setdefault(k, ([], []))
                idx.append(j)
                val.append(float(c.parcels))
        if row:
            h.addRow(-inf, 1.0, len(row), row, [1.0] * len(row))
    for k, (idx, val) in load.items():
        cap = float(problem.stations[k].capacity_parcels)
        h.addRow(-inf, 0.0, len(idx) + 1, [*idx, y[k]], [*val, -cap])
    n = len(cost)
    result: list[float] = []
    status = "UNKNOWN"
    for tier, sense in enumerate((highspy.ObjSense.kMaximize, highspy.ObjSense.kMinimize)):
        coef = [c[tier] for c in cost]
        h.changeColsCost(n, list(range(n)), coef)
        h.changeObjectiveSense(sense)
        h.setOptionValue("time_limit", limit / 2)
        h.run()
        if h.getInfo().primal_solution_status != 2:  # no feasible solution
            why = h.modelStatusToString(h.getModelStatus())
            return (round(result[0]) if result else 0, math.nan, f"no solution ({why})")
        value = h.getInfo().objective_function_value
        result.append(value)
        status = h.modelStatusToString(h.getModelStatus())
        if tier == 0:
            h.addRow(value - 0.5, inf, n, list(range(n)), coef)
    return round(result[0]), result[1], status


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--place", default="320508", help="place id (default: Gusu district)")
    ap.add_argument("--limit", type=float, default=30.0, help="seconds per method")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    graph = OrgGraph(gusu(args.seed))
    problem = supply_problem_from_org(graph, args.place)
    print(
        f"place {args.place}: {len(problem.stations)} candidate stations, "
        f"{len(problem.compounds):,} compounds, "
        f"{sum(c.parcels for c in problem.compounds):,} parcels a day, "
        f"limit {args.limit:g} s"
    )
    t = time.perf_counter()
    bound = supply_lower_bound(problem)
    t_bound = time.perf_counter() - t
    lb = bound.tiers["staff"]
    print(
        f"{'bound':8} served ≤ {bound.tiers['served']:>9,.0f}  volunteers ≥ {lb:>8,.1f}"
        f"  {t_bound:6.1f} s (LP relaxation)"
    )
    t = time.perf_counter()
    plan = plan_supply_stations(problem, time_limit_s=args.limit)
    t_ours = time.perf_counter() - t
    ok = is_valid_supply_plan(problem, plan).ok
    ours = plan.totals.staff
    print(
        f"{'commgov':8} served {plan.totals.served:>11,}  volunteers {ours:>8,}  "
        f"{t_ours:6.1f} s  gap to LP {(ours - lb) / lb:6.2%}  status {plan.info.status}"
        f"  verified {ok}  own bound {plan.info.bound}  gap {plan.info.gap}"
    )
    t = time.perf_counter()
    served, staff, status = direct_highs(problem, args.limit)
    t_ref = time.perf_counter() - t
    full = served >= bound.tiers["served"] - 0.5
    if staff != staff:
        gap = "n/a (no plan in tier 2)"
    else:
        gap = f"{(staff - lb) / lb:6.2%}" if full else "n/a (fewer served)"
    print(
        f"{'highs':8} served {served:>11,}  volunteers {staff:>8,.0f}  {t_ref:6.1f} s  "
        f"gap to LP {gap}  status of tier 2 {status}"
    )
    print(
        f"ratios (highs / commgov): time {t_ref / t_ours:.2f}, volunteers "
        f"{staff / ours:.3f}, served {served / max(1, plan.totals.served):.4f}"
    )


if __name__ == "__main__":
    main()
