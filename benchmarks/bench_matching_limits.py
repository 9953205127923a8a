"""Issue 12 figures for volunteer matching, each a ratio against a baseline of the same run.

Usage::

    PYTHONPATH=src python benchmarks/bench_matching_limits.py [--scale district] [--seed 0]
        [--households 100000] [--before HEAD] [--time-limit 0.05] [--only cli,verify,...]
        [--repeat 3]

Prints, each measured in a fresh process (CPU = user + system seconds), for the working tree
("after") and, with ``--before REV``, for the ``src`` tree of a git revision extracted with
``git archive`` ("before"), in the same run and against the same references:

* ``commgov match`` on the instance file / ``benchmarks/reference_mcf.py`` on the same file
  (the issue's target: ≤ 1.3);
* ``is_valid_assignment`` / ``match_volunteers`` on the parsed problem (target: checker
  ≤ 0.6 s);
* ``match_volunteers`` on one synthetic community of ``--households`` households
  (``synthetic_community`` + ``synthetic_tasks`` + ``matching_problem_from_org``): seconds and
  peak RSS (targets ≤ 2 s, ≤ 1 GB);
* the size guard on a dense 8,000 × 8,000 problem: seconds to refuse and traced memory growth
  (targets ≤ 1 s, ≤ 100 MB);
* ``match_volunteers(time_limit_s=--time-limit)`` on the instance: seconds to return, status,
  and the excess over the limit (target: ≤ limit + 1 s).

With ``--before``, the last lines are the ratios after / before of each figure measured in
both trees (below 1: faster or smaller). ``--only`` keeps a subset of the measurements.
``--repeat N`` runs N rounds, each measuring the reference, then the "before" and "after"
trees (interleaved, so that a change of the machine's load weighs on both alike), and keeps
the least of each figure (single figures on a loaded machine vary by ±15 %). The checker and
the community solve also print their CPU seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_instances import ensure_instance  # noqa: E402


def _env(src: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    return env


def _cpu(cmd: list[str], src: str | None = None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=_env(src))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def worker(kind: str, arg: str) -> None:
    out: dict[str, float] = {}
    if kind == "verify":
        from commgov.matching import MatchingProblem, is_valid_assignment, match_volunteers

        p = MatchingProblem.model_validate_json(Path(arg).read_bytes())
        t0 = time.perf_counter()
        a = match_volunteers(p)
        out["solve_s"] = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        assert is_valid_assignment(p, a).ok
        out["verify_s"] = time.perf_counter() - t0
        out["verify_cpu_s"] = time.process_time() - c0
    elif kind == "community":
        from commgov.datasets import HUCHIYUAN, synthetic_community, synthetic_tasks
        from commgov.matching import match_volunteers, matching_problem_from_org
        from commgov.org import OrgGraph

        g = OrgGraph(synthetic_community(HUCHIYUAN, households=int(arg), seed=0))
        p = matching_problem_from_org(g, HUCHIYUAN, tasks=synthetic_tasks(g, HUCHIYUAN))
        t0, c0 = time.perf_counter(), time.process_time()
        a = match_volunteers(p)
        out["solve_s"] = time.perf_counter() - t0
        out["solve_cpu_s"] = time.process_time() - c0
        out["status"] = str(a.info.status)  # type: ignore[assignment]
        out["tasks"] = len(p.tasks)
        out["volunteers"] = len(p.volunteers)
    elif kind.startswith("limit"):
        from commgov.matching import MatchingProblem, is_valid_assignment, match_volunteers

        p = MatchingProblem.model_validate_json(Path(arg).read_bytes())
        limit = float(kind.split(":")[1])
        t0 = time.perf_counter()
        a = match_volunteers(p, time_limit_s=limit)
        out["limit_s"] = time.perf_counter() - t0
        out["status"] = str(a.info.status)  # type: ignore[assignment]
        out["valid"] = float(bool(is_valid_assignment(p, a).ok))
    elif kind == "guard":
        import tracemalloc

        from commgov.errors import SizeLimitError
        from commgov.matching import MatchingProblem, Task, Volunteer, match_volunteers
        from commgov.types import GeoPoint, TimeWindow

        w = TimeWindow.model_validate(
            {"start": "2022-04-10T09:00:00+08:00", "end": "2022-04-10T10:00:00+08:00"}
        )
        here = GeoPoint(lon=120.62, lat=31.31)
        n = int(arg)
        p = MatchingProblem(
            timezone="Asia/Shanghai",
            tasks=[Task(id=f"t{i}", skill="d", location=here, window=w) for i in range(n)],
            volunteers=[
                Volunteer(id=f"v{j}", location=here, skills={"d": 1}, availability=[w])
                for j in range(n)
            ],
        )
        tracemalloc.start()
        t0 = time.perf_counter()
        with contextlib.suppress(SizeLimitError):
            match_volunteers(p)
        out["guard_s"] = time.perf_counter() - t0
        out["guard_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _run(kind: str, arg: str, src: str | None = None) -> dict[str, float]:
    res = subprocess.run(
        [sys.executable, __file__, "--worker", kind, arg],
        check=True,
        capture_output=True,
        text=True,
        env=_env(src),
    )
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


#: The measurements ``--only`` may name.
PARTS = ("cli", "verify", "community", "guard", "limit")


def _report(
    label: str, path: Path, args: argparse.Namespace, src: str | None, ref: float
) -> dict[str, float]:
    """Print one tree's figures; return them by name (for the after/before ratios)."""
    only = set(args.only.split(",")) if args.only else set(PARTS)
    out: dict[str, float] = {}
    if "cli" in only:
        cli = float("inf")
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [sys.executable, "-m", "commgov", "match", str(path), "--out", tmp]
                cli = min(cli, _cpu(cmd, src))
        out["commgov match CPU / reference"] = cli / ref
        out["commgov match CPU s"] = cli
        print(
            f"[{label}] {path.name}: commgov match CPU {cli:.2f} s / reference {ref:.2f} s = "
            f"{cli / ref:.2f}x (target <= 1.3x)"
        )
    if "verify" in only:
        v = min(
            (_run("verify", str(path), src) for _ in range(args.repeat)),
            key=lambda r: r["verify_s"],
        )
        out["is_valid_assignment s"] = v["verify_s"]
        out["is_valid_assignment CPU s"] = v["verify_cpu_s"]
        out["district solve s"] = v["solve_s"]
        print(
            f"[{label}] is_valid_assignment {v['verify_s']:.2f} s "
            f"(CPU {v['verify_cpu_s']:.2f} s) = "
            f"{v['verify_s'] / v['solve_s']:.0%} of the solve ({v['solve_s']:.2f} s) "
            "(target <= 0.6 s)"
        )
    if args.households and "community" in only:
        c = min(
            (_run("community", str(args.households), src) for _ in range(args.repeat)),
            key=lambda r: r["solve_s"],
        )
        out["community solve s"] = c["solve_s"]
        out["community solve CPU s"] = c["solve_cpu_s"]
        out["community peak MiB"] = c["peak_mib"]
        print(
            f"[{label}] one community, {args.households:,} households ({c['tasks']:.0f} tasks x "
            f"{c['volunteers']:.0f} volunteers): {c['solve_s']:.2f} s (CPU "
            f"{c['solve_cpu_s']:.2f} s), peak "
            f"{c['peak_mib']:.0f} MiB, status {c['status']} (targets <= 2 s, <= 1 GB)"
        )
    if "guard" in only:
        g = _run("guard", "8000", src)
        print(
            f"[{label}] size guard, 8,000 x 8,000 dense: refused in {g['guard_s']:.3f} s, "
            f"traced growth {g['guard_mib']:.1f} MiB (targets <= 1 s, <= 100 MB)"
        )
    if "limit" in only:
        lim = _run(f"limit:{args.time_limit}", str(path), src)
        print(
            f"[{label}] time_limit_s={args.time_limit}: returned in {lim['limit_s']:.2f} s "
            f"(excess {lim['limit_s'] - args.time_limit:+.2f} s, target <= +1 s), status "
            f"{lim['status']}, valid {bool(lim['valid'])}"
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", default="district")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--households", type=int, default=100_000, help="0 to skip")
    ap.add_argument("--before", default=None, help="git revision to compare with (e.g. HEAD)")
    ap.add_argument("--time-limit", type=float, default=0.05)
    ap.add_argument(
        "--only", default="", help=f"comma-separated subset of {','.join(PARTS)} (default all)"
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each figure (and of the reference); the least is kept (a loaded machine)",
    )
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    path = ensure_instance(args.scale, args.seed)
    here = str(HERE.parent / "src")
    rounds = max(1, args.repeat)
    one = argparse.Namespace(**{**vars(args), "repeat": 1})
    cli_ref = "cli" in (set(args.only.split(",")) if args.only else set(PARTS))
    figures: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as old:
        if args.before:
            archive = subprocess.run(
                ["git", "-C", str(HERE.parent), "archive", args.before, "src"],
                check=True,
                capture_output=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        # rounds interleave the trees and the reference, so a change of the machine's load
        # during the run weighs on both sides alike; the least of each figure is kept
        for r in range(rounds):
            tag = f" {r + 1}/{rounds}" if rounds > 1 else ""
            ref = (
                _cpu([sys.executable, str(HERE / "reference_mcf.py"), str(path)]) if cli_ref else 1
            )
            if args.before:
                src_old = str(Path(old) / "src")
                figures["before"].append(
                    _report(f"before {args.before}{tag}", path, one, src_old, ref)
                )
            figures["after"].append(_report(f"after{tag}", path, one, here, ref))
    least = {
        tree: {k: min(f[k] for f in runs) for k in runs[0]}
        for tree, runs in figures.items()
        if runs
    }
    if rounds > 1:
        for tree, fig in least.items():
            for name, value in fig.items():
                print(f"least of {rounds} rounds, {tree}: {name} {value:.2f}")
    if args.before:
        for name, value in least["after"].items():
            if least["before"].get(name):
                print(f"after / before {args.before}, {name}: {value / least['before'][name]:.2f}")


if __name__ == "__main__":
    main()
