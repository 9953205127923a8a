"""What the outputs on request cost, as ratios to the sweep they come from.

Usage::

    python benchmarks/bench_sweep_outputs.py [--scenario PATH] [--replicates 20]

Runs a sweep of the scenario (the reference, timed in the same run), then
:func:`commgov.sim.write_sweep_outputs` with each request — event logs, time series (30-minute
intervals), GeoJSON, all three, all three for a sample of 3 replicates — into fresh folders,
and prints each one's time over the sweep's and the bytes written. The chosen replicates run
once more, so writing every replicate's outputs costs about one more sweep.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from commgov.sim import Experiment, Scenario, run_sweep, write_sweep_outputs

REQUESTS = (
    ("event logs", {"event_logs": True}),
    ("time series", {"time_series_min": 30}),
    ("GeoJSON", {"geojson": True}),
    ("all three", {"event_logs": True, "time_series_min": 30, "geojson": True}),
    (
        "all three, sample:3",
        {"event_logs": True, "time_series_min": 30, "geojson": True, "replicates": 3},
    ),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="examples/scenarios/huchiyuan_day.toml")
    parser.add_argument("--replicates", type=int, default=20)
    args = parser.parse_args()
    scenario = Scenario.from_toml(args.scenario)
    run_sweep(Experiment(scenario, {}, replicates=1, root_seed=0))  # load the world once
    start = time.perf_counter()
    result = run_sweep(Experiment(scenario, {}, replicates=args.replicates, root_seed=0))
    sweep_s = time.perf_counter() - start
    print(f"{scenario.name}: sweep of {args.replicates} replicates {sweep_s:.2f} s (reference)")
    for label, request in REQUESTS:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            paths = write_sweep_outputs(result, Path(tmp), **request)
            seconds = time.perf_counter() - start
            size = sum(p.stat().st_size for p in paths)
        print(
            f"  {label:<20} {seconds / sweep_s:5.2f} × the sweep, {len(paths):3d} files, "
            f"{size / 1e6:6.2f} MB"
        )


if __name__ == "__main__":
    main()
