"""Fixed work of ``plan_sampling`` and its verifier on the largest problem the guards accept.

Instance: 50,000 buildings × 2 batches, 400 points on a grid over a 20 km square (the
generator of ``tests/cli/test_cli_plan_sampling.py``). Measured in one run, CPU seconds (best
of ``--repeat``): reading the problem JSON (``SamplingProblem.model_validate_json``, the
reference), ``plan_sampling(problem, time_limit_s=0.5)`` (a limit the fixed work cannot
cover, as ``commgov plan-sampling --time-limit 5`` gives the planner on this instance) and
``is_valid_sampling_plan``; printed as seconds and as ratios to the reference. Issue 12,
item 2: the command returns within its limit plus one second.

Run: python benchmarks/bench_sampling_fixed_costs.py [--repeat N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from commgov.scheduling.sampling import SamplingProblem, is_valid_sampling_plan, plan_sampling

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "cli"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from test_cli_plan_sampling import _grid

    text = _grid(20_000, 2, 400, 20_000.0).model_dump_json()  # the guards' largest
    best = {"read": float("inf"), "plan": float("inf"), "verify": float("inf")}
    for _ in range(args.repeat):
        t = time.process_time()
        problem = SamplingProblem.model_validate_json(text)
        best["read"] = min(best["read"], time.process_time() - t)
        t = time.process_time()
        plan = plan_sampling(problem, time_limit_s=0.5)
        best["plan"] = min(best["plan"], time.process_time() - t)
        t = time.process_time()
        report = is_valid_sampling_plan(problem, plan)
        best["verify"] = min(best["verify"], time.process_time() - t)
        assert report.ok, report.violations[:3]
    ref = best["read"]
    for name, value in best.items():
        print(f"{name:>7}: {value:6.2f} s CPU  ({value / ref:4.2f}× reading the problem)")


if __name__ == "__main__":
    main()
