"""Benchmark commgov.plan_door_to_door on tier-H instances against plain OR-Tools routing.

Usage::

    python benchmarks/bench_door_to_door.py [--seeds 0 1 2 3 4] [--limit 30]

Instances: ``door_to_door_instance("H", seed)`` (3–10 sealed buildings, 100–400 households,
2–6 two-person team units). For each seed it prints households, units, the makespan of
``plan_door_to_door`` (minutes), the analytic bound (``plan.bound.value``), their ratio
(done-when target ≤ 1.05 in ≤ 30 s), the ratio to the plain household-level formula
(``bound.figures["formula_s"]``, weaker: it ignores most climbing), and the wall time; then,
beside it, a plain OR-Tools routing model with default search parameters on the same
instance, with the same time limit as commgov took (at least 1 s): one node per household,
transit = service + leg, a global span cost (coefficient 100) on the time dimension, start
cumuls at the shift starts, end cumuls capped by the limits. ``plain/ours`` is the ratio of
the two makespans.

Nothing here imports commgov solver code: only the problem records and the shared rules
(``leg_seconds``, ``service_seconds``, ``team_units``, ``walk_matrix``).
"""

from __future__ import annotations

import argparse
import time

from ortools.constraint_solver import pywrapcp

from commgov.datasets import door_to_door_instance
from commgov.scheduling.door_to_door import (
    DoorToDoorProblem,
    is_valid_door_to_door_plan,
    leg_seconds,
    plan_door_to_door,
    service_seconds,
    team_units,
    walk_matrix,
)


def plain_routing(problem: DoorToDoorProblem, limit_s: float) -> int | None:
    """Makespan (seconds after the origin) of plain OR-Tools routing, or None if none found."""
    hh = sorted(problem.households, key=lambda h: h.id)
    walks = walk_matrix(problem)
    bmap = problem.building_map()
    nodes = [None, *hh]
    svc = [0] + [service_seconds(problem, h) for h in hh]
    transit = [[svc[i] + leg_seconds(problem, a, b, walks=walks, buildings=bmap)
                for b in nodes] for i, a in enumerate(nodes)]
    units = team_units(problem)
    origin = problem.origin()
    assert origin is not None
    manager = pywrapcp.RoutingIndexManager(len(nodes), len(units), 0)
    model = pywrapcp.RoutingModel(manager)
    cb = model.RegisterTransitMatrix(transit)
    model.SetArcCostEvaluatorOfAllVehicles(cb)
    ends = [int((e - origin).total_seconds()) for _t, _k, _d, e in units]
    model.AddDimension(cb, 0, max(ends) + 1, False, "time")
    dim = model.GetDimensionOrDie("time")
    dim.SetGlobalSpanCostCoefficient(100)
    for k, (_t, _u, dep, _e) in enumerate(units):
        dim.CumulVar(model.Start(k)).SetValue(int((dep - origin).total_seconds()))
        dim.CumulVar(model.End(k)).SetMax(ends[k])
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.time_limit.FromMilliseconds(int(limit_s * 1000))
    sol = model.SolveWithParameters(params)
    if sol is None:
        return None
    return max(sol.Value(dim.CumulVar(model.End(k))) for k in range(len(units))
               if not model.IsEnd(sol.Value(model.NextVar(model.Start(k)))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--limit", type=float, default=30.0)
    args = parser.parse_args()
    head = (f"{'seed':>4} {'hh':>4} {'units':>5} {'makespan':>9} {'bound':>8} {'ratio':>6} "
            f"{'/formula':>8} {'time s':>6} {'valid':>5} | {'plain':>8} {'plain/ours':>10}")
    print(head)
    print("-" * len(head))
    for seed in args.seeds:
        p = door_to_door_instance("H", seed)
        t = time.perf_counter()
        plan = plan_door_to_door(p, time_limit_s=args.limit)
        took = time.perf_counter() - t
        ok = bool(is_valid_door_to_door_plan(p, plan))
        mk, b = plan.totals.makespan_s, plan.bound.value
        formula = plan.bound.figures["formula_s"]
        plain = plain_routing(p, max(1.0, took))
        plain_txt = "none" if plain is None else f"{plain / 60:8.1f}"
        vs = "-" if plain is None else f"{plain / mk:10.3f}"
        print(f"{seed:>4} {len(p.households):>4} {plan.totals.units:>5} {mk / 60:9.1f} "
              f"{b / 60:8.1f} {mk / b:6.3f} {mk / formula:8.3f} "
              f"{took:6.1f} {ok!s:>5} | {plain_txt:>8} {vs:>10}")
    print("makespan, bound and plain in minutes after the earliest shift start; "
          f"uncovered households: none expected (limit {args.limit:g} s)")


if __name__ == "__main__":
    main()
