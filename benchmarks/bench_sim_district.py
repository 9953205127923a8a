"""One replicate of the whole 姑苏区 (171 communities) in a fresh process: wall time and peak RSS.

Usage::

    python benchmarks/bench_sim_district.py [--scenario PATH] [--community CODE]
                                            [--replicates 1] [--profile 0]
                                            [--per-community CSV]

The parent starts a fresh interpreter (``--child``), which imports commgov, loads the world
(:func:`commgov.sim.load_world`: the Gusu dataset for the scenario's district or sub-district
and its graph), then runs replicate 0 (building the per-community static structures, cached
per process) and, with ``--replicates 2`` or more, further replicates (warm caches). The
parent reports the child's whole wall time and its peak resident set size
(``getrusage(RUSAGE_CHILDREN).ru_maxrss``). The issue-6 budget for one district day is
≤ 2 minutes and ≤ 3 GiB on the 2-core machine. ``--profile N`` prints the N most expensive
functions of replicate 0 (cProfile, cumulative; slows the run down). ``--per-community CSV``
writes each community's KPIs of replicate 0 (:func:`commgov.sim.community_kpis`, from
the same log) and reports the time that takes. The headline KPIs of each submodel
(:func:`commgov.sim.is_headline_kpi`) are printed.

Default scenario: ``examples/scenarios/gusu_district_day.toml`` (notification + relay in
every community); ``examples/scenarios/gusu_district_full_day.toml`` has every submodel on.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1] / "examples" / "scenarios" / "gusu_district_day.toml"


def child(args: argparse.Namespace) -> None:
    """Run in the fresh process: time each phase, print one JSON line."""
    t0 = time.perf_counter()
    from commgov.sim import Scenario, area_communities, community_kpis, load_world, run_replicate

    scenario = Scenario.from_toml(Path(args.scenario))
    if args.community:
        scenario = scenario.with_updates({"community.community": args.community})
    t_import = time.perf_counter()
    c = scenario.community
    _, graph = load_world(c.dataset, c.seed, c.community)
    t_load = time.perf_counter()
    replicates = []
    kpis: dict[str, float] = {}
    per_s = None
    for r in range(args.replicates):
        t = time.perf_counter()
        if r == 0 and args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            result = prof.runcall(run_replicate, scenario, r, 2022)
            pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(
                args.profile)
        else:
            result = run_replicate(scenario, r, 2022)
        replicates.append(time.perf_counter() - t)
        if r == 0:
            kpis = result.kpis
            if args.per_community and result.communities is not None:  # an area run
                t = time.perf_counter()
                per = community_kpis(scenario, result)
                per_s = time.perf_counter() - t
                names = sorted({k for v in per.values() for k in v})
                with open(args.per_community, "w", newline="", encoding="utf-8") as f:
                    w = csv.writer(f)
                    w.writerow(["community", *names])
                    for cid, values in per.items():
                        w.writerow([cid, *(repr(values.get(k, math.nan)) for k in names)])
        del result
    print(json.dumps({
        "communities": len(area_communities(graph, c.community)),
        "import_s": t_import - t0, "load_s": t_load - t_import, "replicate_s": replicates,
        "per_community_s": per_s,
        "events": kpis.get("events"), "households": kpis.get("notification.households"),
        "kpis": kpis,
    }))


def main() -> None:
    """Parse arguments; run the child in a fresh process and report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(DEFAULT))
    ap.add_argument("--community", default="", help="override the scenario's community code")
    ap.add_argument("--replicates", type=int, default=1)
    ap.add_argument("--profile", type=int, default=0)
    ap.add_argument("--per-community", default="", metavar="CSV",
                    help="write each community's KPIs of replicate 0 to this CSV")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    cmd = [sys.executable, __file__, "--child", "--scenario", args.scenario,
           "--replicates", str(args.replicates), "--profile", str(args.profile)]
    if args.community:
        cmd += ["--community", args.community]
    if args.per_community:
        cmd += ["--per-community", args.per_community]
    t = time.perf_counter()
    out = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"the child failed (exit {out.returncode}):\n{out.stderr}")
    wall = time.perf_counter() - t
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if args.profile:
        print(out.stderr)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    reps = ", ".join(f"{s:.1f}" for s in res["replicate_s"])
    print(f"scenario {Path(args.scenario).name} ({res['communities']} communities, "
          f"{res['households']:,.0f} households, {res['events']:,.0f} events in replicate 0)")
    print(f"import {res['import_s']:.1f} s, world load {res['load_s']:.1f} s, "
          f"replicates [{reps}] s")
    print(f"whole process {wall:.1f} s (budget 120 s), peak RSS {peak_mib:,.0f} MiB "
          f"(budget 3,072 MiB)")
    if res["per_community_s"] is not None:
        print(f"per-community KPIs of replicate 0 in {res['per_community_s']:.1f} s "
              f"-> {args.per_community}")
    from commgov.sim import is_headline_kpi

    for key, value in res["kpis"].items():
        if is_headline_kpi(key) or (key.count(".") == 1 and key.endswith(
                (".households", ".served", ".arrived", ".delivered"))):
            print(f"  {key} = {value:,.2f}")


if __name__ == "__main__":
    main()
