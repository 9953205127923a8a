"""Benchmark commgov.sim.simulate_sites_plan against the SimPy desk model on the same residents.

Usage::

    python benchmarks/bench_sites_loop.py [--sites 4] [--replicates 20] [--seed 0]

The plan is the first ``--sites`` opened sites of ``plan_sites`` on 虎池苑社区 (``gusu(0)``,
its own opening hours, walking ≤ 500 m, p95 wait ≤ 15 min). It times, on the same plan,
seed and replicates:

* commgov   ``simulate_sites_plan`` (the FCFS recursion, vectorised over replicates);
* simpy     the same residents (``poisson_arrivals``, same streams) through
  ``run_desk_queues`` one replicate at a time, the p95 wait from ``queue_kpis``.

It prints the residents simulated, both times, the reference's time as a ratio of commgov's,
and the largest difference of the per-replicate p95 wait (0 up to rounding: the models agree).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from commgov.datasets import HUCHIYUAN, gusu
from commgov.scheduling.sites import plan_sites, sites_problem_from_org
from commgov.sim import (
    DeskPoint,
    ServiceTime,
    poisson_arrivals,
    run_desk_queues,
    simulate_sites_plan,
    stream_factory,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=4)
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    problem = sites_problem_from_org(gusu(0, communities=[HUCHIYUAN]), HUCHIYUAN)
    plan = plan_sites(problem, time_limit_s=30)
    plan = plan.model_copy(update={"sites": plan.sites[: args.sites]})
    m = problem.policy.slot_minutes

    t0 = time.perf_counter()
    ours = simulate_sites_plan(problem, plan, replicates=args.replicates, seed=args.seed)
    t_ours = time.perf_counter() - t0

    t0 = time.perf_counter()
    ref = np.empty(args.replicates)
    people = 0
    for r in range(args.replicates):
        rngs = stream_factory(args.seed, r)
        points, arrivals = [], {}
        for o in plan.sites:
            slots = sorted(sl.slot for sl in o.slots)
            open_min, close_min = slots[0] * m, (slots[-1] + 1) * m
            rate = o.arrivals_per_hour / 60.0
            mu = next(
                s.rate_per_lane_per_hour or problem.policy.rate_per_lane_per_hour
                for s in problem.sites
                if s.id == o.site_id
            )
            p = DeskPoint(
                id=o.site_id,
                lanes=o.lanes,
                service=ServiceTime(mean_minutes=60.0 / mu),
                open_min=float(open_min),
                close_min=float(close_min),
            )
            points.append(p)
            arrivals[p.id] = poisson_arrivals(
                p, rate, float(close_min), rngs, start_min=float(open_min)
            )
            people += len(arrivals[p.id])
        log = run_desk_queues(points, arrivals)
        waits = [v for k, v in zip(log.kind, log.value, strict=True) if k == "service_start"]
        ref[r] = float(np.quantile(waits, problem.policy.wait_quantile)) if waits else 0.0
    t_ref = time.perf_counter() - t0

    diff = float(np.max(np.abs(ref - ours.overall_wait_min)))
    print(f"sites {len(plan.sites)}, replicates {args.replicates}, residents {people}")
    print(f"commgov  {t_ours:8.2f} s")
    print(f"simpy    {t_ref:8.2f} s   ratio simpy/commgov {t_ref / t_ours:6.1f}")
    print(f"largest |Δ p95 wait| over replicates: {diff:.2e} min")


if __name__ == "__main__":
    main()
