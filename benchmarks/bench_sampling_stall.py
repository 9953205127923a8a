"""The sampling search's stall rule: time and gap before (rule off) and after (rule on).

Instance: a community built from the organisation model (``synthetic_community``, 20,000
households, seed 0, 白洋湾街道's 320508017016): ~1,900 buildings, ~2,700 batches, 31 points
in reach of every building. ``plan_sampling`` with its default options (30 s limit, gap limit
0.5 %), once with the stall rule off (``_solve_gap.STALL_WINDOW_DET = inf``: the search runs
until its deterministic budget, the gap limit or a pass that improves nothing) and once with
it on (the default: stop once the last 2 CP-SAT deterministic seconds cut the walking by less
than 0.05 %). Printed: wall seconds, gap against the relaxation's bound, neighbourhoods, and
the ratios after / before. Issue 12 item 10's target: ≤ 5 s at ≤ 1 % gap.

Run: python benchmarks/bench_sampling_stall.py [--households N] [--limit S]
"""

from __future__ import annotations

import argparse
import math
import time

from commgov.datasets import synthetic_community
from commgov.org import OrgGraph
from commgov.scheduling import is_valid_sampling_plan, plan_sampling, sampling_problem_from_org
from commgov.scheduling.sampling import _solve_gap

CODE = "320508017016"


def run(problem, limit: float, window: float) -> tuple[float, float, int]:
    _solve_gap.STALL_WINDOW_DET = window
    calls = []
    real = _solve_gap._solve_free

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    _solve_gap._solve_free = counted
    try:
        t0 = time.perf_counter()
        plan = plan_sampling(problem, time_limit_s=limit)
        wall = time.perf_counter() - t0
    finally:
        _solve_gap._solve_free = real
    assert is_valid_sampling_plan(problem, plan).ok
    return wall, plan.info.gap if plan.info.gap is not None else math.nan, len(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--limit", type=float, default=30.0)
    args = parser.parse_args()
    model = synthetic_community(CODE, households=args.households, seed=0)
    problem = sampling_problem_from_org(OrgGraph(model), CODE)
    print(
        f"community {CODE}: {args.households:,} households, {len(problem.buildings):,} "
        f"buildings, {sum(len(b.batches) for b in problem.buildings):,} batches, "
        f"{len(problem.points)} points; time limit {args.limit:g} s"
    )
    default = _solve_gap.STALL_WINDOW_DET
    before = run(problem, args.limit, math.inf)
    after = run(problem, args.limit, default)
    _solve_gap.STALL_WINDOW_DET = default
    print(f"{'':22s} {'wall s':>8s} {'gap %':>8s} {'CP-SAT solves':>14s}")
    for name, (wall, gap, n) in (("before (rule off)", before), ("after (stall rule)", after)):
        print(f"{name:22s} {wall:8.2f} {100 * gap:8.3f} {n:14d}")
    print(
        f"{'ratio after / before':22s} {after[0] / before[0]:8.2f} "
        f"{after[1] / before[1]:8.2f} {after[2] / before[2]:14.2f}"
    )


if __name__ == "__main__":
    main()
