"""Benchmark commgov.lists.allocate against a two-stage HiGHS linear programme.

Usage::

    python benchmarks/bench_allocation.py [--sizes 100x100 300x300 1000x1000 2000x2000]
                                          [--seeds 1] [--runs 3] [--ref-runs 1]
                                          [--limit 3000 | --limit none] [--scarce]

Instances (seeded, ``random.Random(seed)``): N needs × M resources over 500 places in a box of
about 5.7 km × 5.5 km in Suzhou, 3 categories, needs of 1–20 units at priority 1–10, resources
of 1–40 units (1–3 with ``--scarce``, so most needs stay short), 30 % of the items without a
window, the others a window of 1–8 h starting 0–20 h after ``at``; ``max_distance_m`` 3000.

For each instance it times:

* ``allocate``  the public call end to end (scope, eligible arcs, network, OR-Tools min-cost
  flow, unmet reasons, result records): the median of ``--runs`` runs;
* reference     ``scipy.optimize.linprog`` (HiGHS) on the same eligible arcs, lexicographic in
  two stages: maximise Σ priority × quantity served, then minimise Σ metres × quantity with
  the first tier held. "end to end" includes its own arc generation (the public per-pair rules
  ``eligible`` and ``allocation_distance_m`` on every pair, in Python) and building the
  sparse matrix; "solve" is the two
  ``linprog`` calls alone. The best of ``--ref-runs`` runs.
* ``is_valid_allocation`` on the result (solver-free verifier), once.

Nothing here imports commgov solver code: only the records, ``scope`` and the public rule
functions. It prints one row per instance: size, seed, arcs, the allocate median, the reference
times, the ratios allocate / reference (end to end and solve only: below 1 means allocate is
faster), whether both tiers agree and whether the verifier accepts. Wall-clock figures depend
on the machine and its load.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csr_matrix, vstack

from commgov.lists import Need, Resource, ThreeLists, allocate, is_valid_allocation
from commgov.lists.allocation._rules import allocation_distance_m, eligible, scope
from commgov.types import GeoPoint

T0 = datetime(2022, 4, 10, 8, tzinfo=UTC)
H = timedelta(hours=1)
CATEGORIES = ("food_supplies", "medical", "elderly_care")


def instance(
    n_needs: int, n_resources: int, seed: int, *, scarce: bool = False
) -> tuple[ThreeLists, dict[str, GeoPoint]]:
    """Seeded random lists and places (see the module docstring)."""
    rng = random.Random(seed)
    places = {
        f"b{k}": GeoPoint(lon=120.58 + rng.random() * 0.06, lat=31.28 + rng.random() * 0.05)
        for k in range(500)
    }

    def window() -> dict[str, datetime] | None:
        if rng.random() < 0.3:
            return None
        s = rng.randint(0, 20)
        return {"start": T0 + s * H, "end": T0 + (s + rng.randint(1, 8)) * H}

    needs = [
        Need(id=f"n{k:05d}", title="need", category=rng.choice(CATEGORIES), unit_id="c",
             place_id=f"b{rng.randrange(500)}", quantity=rng.randint(1, 20),
             priority=rng.randint(1, 10), raised_at=T0 - H, recorded_by="w", source="rider",
             window=window())
        for k in range(n_needs)
    ]
    resources = [
        Resource(id=f"r{k:05d}", title="offer", category=rng.choice(CATEGORIES), unit_id="c",
                 place_id=f"b{rng.randrange(500)}",
                 quantity=rng.randint(1, 3 if scarce else 40), raised_at=T0 - H,
                 recorded_by="w", provider_id="o", provider_kind="partner_team",
                 resource_type="goods", window=window())
        for k in range(n_resources)
    ]
    return ThreeLists(needs=needs, resources=resources), places


def reference_arcs(
    lists: ThreeLists, places: dict[str, GeoPoint], limit: int | None
) -> tuple[list[tuple[int, int]], list[tuple[int, int, int]]]:
    """Needs and resources in scope as (priority, open quantity) / (0, available), and the
    arcs (need index, resource index, distance_m) of the public per-pair rules."""
    sc = scope(lists, T0)
    needs = list(sc.needs.values())
    resources = list(sc.resources.values())
    arcs = [
        (i, j, allocation_distance_m(n, r, places))
        for i, (n, _) in enumerate(needs)
        for j, (r, q) in enumerate(resources)
        if q > 0 and eligible(n, r, at=T0, places=places, max_distance_m=limit)
    ]
    return [(n.priority, q) for n, q in needs], arcs


def reference_lp(
    needs: list[tuple[int, int]], avail: list[int], arcs: list[tuple[int, int, int]]
) -> tuple[float, float, float]:
    """Two-stage HiGHS LP on the arcs: (unmet priority, metre-units, solve seconds)."""
    asked = sum(p * q for p, q in needs)
    if not arcs:
        return float(asked), 0.0, 0.0
    a = np.array(arcs, dtype=np.int64)
    k = np.arange(len(arcs))
    n_rows = len(needs) + len(avail)
    a_ub = csr_matrix(
        coo_matrix(
            (np.ones(2 * len(arcs)), (np.r_[a[:, 0], len(needs) + a[:, 1]], np.r_[k, k])),
            shape=(n_rows, len(arcs)),
        )
    )
    b_ub = np.array([q for _, q in needs] + avail, dtype=float)
    prio = np.array([needs[i][0] for i in a[:, 0]], dtype=float)
    t0 = time.perf_counter()
    first = linprog(-prio, A_ub=a_ub, b_ub=b_ub, method="highs")
    served = -first.fun
    second = linprog(
        a[:, 2].astype(float),
        A_ub=vstack([a_ub, csr_matrix(-prio[None, :])]),
        b_ub=np.r_[b_ub, -served + 1e-9],
        method="highs",
    )
    solve_s = time.perf_counter() - t0
    assert first.status == 0 and second.status == 0, (first.message, second.message)
    return asked - served, float(second.fun), solve_s


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``fn()`` and its wall-clock seconds."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    """Run the benchmark and print the table (see the module docstring)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["100x100", "300x300", "1000x1000", "2000x2000"],
                    help="NEEDSxRESOURCES")
    ap.add_argument("--seeds", nargs="+", type=int, default=[1])
    ap.add_argument("--runs", type=int, default=3, help="allocate runs (the median is shown)")
    ap.add_argument("--ref-runs", type=int, default=1, help="reference runs (best shown)")
    ap.add_argument("--limit", default="3000", help="max_distance_m in metres, or 'none'")
    ap.add_argument("--scarce", action="store_true", help="resources of 1-3 units")
    args = ap.parse_args()
    limit = None if args.limit.lower() == "none" else int(args.limit)
    head = (f"{'size':>11} {'seed':>4} {'arcs':>9} {'allocate s':>10} {'ref e2e s':>10} "
            f"{'ref solve s':>11} {'ratio e2e':>9} {'ratio solve':>11} {'tiers eq':>8} "
            f"{'verify s':>8} {'valid':>5}")
    print(f"max_distance_m={limit}, scarce={args.scarce}, allocate median of {args.runs}, "
          f"reference best of {args.ref_runs}; ratio = allocate / reference")
    print(head)
    print("-" * len(head))
    for size in args.sizes:
        n_needs, n_res = (int(x) for x in size.lower().split("x"))
        for seed in args.seeds:
            lists, places = instance(n_needs, n_res, seed, scarce=args.scarce)
            times = []
            for _ in range(args.runs):
                result, t = timed(
                    lambda lists=lists, places=places: allocate(
                        lists, at=T0, places=places, max_distance_m=limit
                    )
                )
                times.append(t)
            t_alloc = statistics.median(times)
            best_e2e = best_solve = float("inf")
            for _ in range(args.ref_runs):
                t0 = time.perf_counter()
                needs, arcs = reference_arcs(lists, places, limit)
                avail = [q for _, q in scope(lists, T0).resources.values()]
                t1, t2, t_solve = reference_lp(needs, avail, arcs)
                best_e2e = min(best_e2e, time.perf_counter() - t0)
                best_solve = min(best_solve, t_solve)
            obj = result.info.objective
            same = abs(obj["unmet_priority"] - t1) <= 1e-6 and abs(
                obj["distance_quantity_m"] - t2
            ) <= max(1e-3, 1e-7 * abs(t2))
            report, t_verify = timed(
                lambda lists=lists, result=result, places=places: is_valid_allocation(
                    lists, result, places=places
                )
            )
            print(f"{size:>11} {seed:>4} {len(arcs):>9} {t_alloc:>10.3f} {best_e2e:>10.3f} "
                  f"{best_solve:>11.3f} {t_alloc / best_e2e:>9.3f} "
                  f"{t_alloc / best_solve if best_solve else float('nan'):>11.3f} "
                  f"{same!s:>8} {t_verify:>8.2f} {report.ok!s:>5}", flush=True)


if __name__ == "__main__":
    main()
