"""commgov match_volunteers vs the reference OR-Tools script (and networkx) on instance files.

Usage::

    PYTHONPATH=src python benchmarks/bench_instances.py [--scales community subdistrict district]
        [--seeds 0] [--runs 3] [--networkx-cap 600] [--no-networkx]

Instance files come from ``make_instances.py`` (generated into the gitignored cache
``benchmarks/instances/`` when missing). Each measurement runs in a fresh process; the table
shows the median of ``--runs`` processes:

* commgov: ``match_volunteers`` on the parsed ``MatchingProblem`` (built problem → validated
  ``Assignment``); in the first process the objective ``(priority_served, cost_m)`` is
  recomputed by ``is_valid_assignment``
  (not timed; its time is shown, ``verified`` is its verdict with status OPTIMAL);
* reference: ``benchmarks/reference_mcf.py`` end to end from the parsed JSON (candidate
  generation, network, solve), importing nothing from commgov;
* networkx: ``max_flow_min_cost`` on the reference's network, killed after the cap.

Peak memory is the worker's max RSS (includes loading the file).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_instances import SCALES, ensure_instance  # noqa: E402


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(kind: str, path: str, verify: bool = True) -> None:
    data_text = Path(path).read_text(encoding="utf-8")
    if kind == "commgov":
        from commgov.matching import MatchingProblem, is_valid_assignment, match_volunteers
        from commgov.results import SolveStatus

        problem = MatchingProblem.model_validate_json(data_text)
        t0 = time.perf_counter()
        result = match_volunteers(problem)
        secs = time.perf_counter() - t0
        out = {
            "secs": secs,
            "ok": result.info.status == SolveStatus.OPTIMAL,
            "objective": [result.totals.priority_served, result.totals.cost_m],
        }
        if verify:
            t1 = time.perf_counter()
            report = is_valid_assignment(problem, result)
            out["verify_s"] = time.perf_counter() - t1
            out["ok"] = out["ok"] and report.ok
            out["objective"] = [report.objective.priority_served, report.objective.cost_m]
    else:
        import reference_mcf

        data = json.loads(data_text)
        if kind == "reference":
            r = reference_mcf.solve(data)
            out = {"secs": r["total_s"], "objective": [r["priority_served"], r["cost_m"]]}
        else:
            import networkx as nx

            t0 = time.perf_counter()
            net = reference_mcf.build_network(data)
            g = nx.DiGraph()
            for u, v, c, w in zip(net["starts"].tolist(), net["ends"].tolist(),
                                  net["caps"].tolist(), net["costs"].tolist(), strict=True):
                g.add_edge(u, v, capacity=c, weight=w)
            flow = nx.max_flow_min_cost(g, 0, 1)
            cost = nx.cost_of_flow(g, flow)
            secs = time.perf_counter() - t0
            unserved, cost_m = divmod(int(cost), net["big_m"])
            out = {"secs": secs, "objective": [net["priority_total"] - unserved, cost_m]}
    out["peak_mib"] = _peak_mib()
    print(json.dumps(out))


def run(kind: str, path: Path, timeout: float | None, verify: bool = True) -> dict | None:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, str(path)]
    if not verify:
        cmd.append("--no-verify")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_of(kind: str, path: Path, runs: int, timeout: float | None) -> dict | None:
    outs = []
    for i in range(runs):
        # is_valid_assignment (not timed) runs in the first process only
        o = run(kind, path, timeout, verify=i == 0)
        if o is None:
            return None
        outs.append(o)
    return {
        "secs": statistics.median(o["secs"] for o in outs),
        "peak_mib": max(o["peak_mib"] for o in outs),
        "objective": outs[0]["objective"],
        "same": all(o["objective"] == outs[0]["objective"] for o in outs),
        "ok": all(o.get("ok", True) for o in outs),
        "verify_s": outs[0].get("verify_s", 0.0),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    ap.add_argument("--scales", nargs="+", default=list(SCALES), choices=SCALES)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--networkx-cap", type=float, default=600.0)
    ap.add_argument("--no-networkx", action="store_true")
    ap.add_argument("--no-verify", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker, verify=not args.no_verify)
        return
    head = (f"{'instance':<12} {'seed':>4} {'commgov s':>10} {'reference s':>12} {'ratio':>6} "
            f"{'networkx s':>11} {'obj equal':>9} {'verified':>8} {'peak MiB cg/ref':>16}")
    print(head)
    print("-" * len(head))
    for scale in args.scales:
        for seed in args.seeds:
            path = ensure_instance(scale, seed)
            cg = median_of("commgov", path, args.runs, None)
            ref = median_of("reference", path, args.runs, None)
            assert cg is not None and ref is not None
            nx_txt = "skipped"
            nx_equal = True
            if not args.no_networkx:
                nxr = median_of("networkx", path, 1, args.networkx_cap)
                if nxr is None:
                    nx_txt = f">{args.networkx_cap:.0f}"
                else:
                    nx_txt = f"{nxr['secs']:.2f}"
                    nx_equal = nxr["objective"] == ref["objective"]
            equal = cg["objective"] == ref["objective"] and nx_equal
            print(f"{scale:<12} {seed:>4} {cg['secs']:>10.3f} {ref['secs']:>12.3f} "
                  f"{cg['secs'] / ref['secs']:>6.2f} {nx_txt:>11} {equal!s:>9} {cg['ok']!s:>8} "
                  f"{cg['peak_mib']:>7.0f}/{ref['peak_mib']:<7.0f}   "
                  f"obj={tuple(cg['objective'])} verify {cg['verify_s']:.2f}s")


if __name__ == "__main__":
    main()
