"""Time and peak memory of ``commgov.datasets.gusu()``, measured as whole processes.

Usage::

    python benchmarks/bench_gusu.py [--runs 5] [--seed 0]

Each run is a fresh Python process (interpreter start, imports and the call, as a user meets
them); wall time is measured around the child, peak resident memory (max RSS) comes from
``os.wait4`` for that child alone, with its CPU time (user + system; wall time inflates when
other processes compete for the cores, CPU time much less). It prints every run and the
median of each task:

* ``gusu``        ``gusu(seed)``: the whole district (budget: ≤ 5 s, ≤ 1 GiB);
* ``gusu+graph``  the same, then ``OrgGraph`` over it and the district summary;
* ``gusu+json``   the same, then ``to_json()`` (the determinism test's work);
* ``demo``        ``gusu(seed, communities=[虎池苑社区])``, what ``commgov demo`` loads.

Budgets are checked on ``gusu``; the exit status is 1 when its median exceeds either.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

TASKS = {
    "gusu": "from commgov.datasets import gusu; gusu({seed})",
    "gusu+graph": (
        "from commgov.datasets import gusu; from commgov.org import OrgGraph; "
        "OrgGraph(gusu({seed})).summary('320508')"
    ),
    "gusu+json": "from commgov.datasets import gusu; gusu({seed}).to_json()",
    "demo": "from commgov.datasets import HUCHIYUAN, gusu; gusu({seed}, communities=[HUCHIYUAN])",
}
BUDGET_S = 5.0
BUDGET_BYTES = 1 << 30


def run_once(code: str) -> tuple[float, int, float]:
    """Wall seconds, peak RSS in bytes and CPU seconds (user + system) of one child process
    running ``code``."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code])
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}): {code}")
    # ru_maxrss is in kilobytes on Linux, bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    return elapsed, usage.ru_maxrss * scale, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", nargs="*", default=list(TASKS), choices=list(TASKS))
    args = parser.parse_args()
    medians: dict[str, tuple[float, int, float]] = {}
    for task in args.tasks:
        code = TASKS[task].format(seed=args.seed)
        runs = [run_once(code) for _ in range(args.runs)]
        for k, (t, rss, cpu) in enumerate(runs, start=1):
            print(f"{task:<11} run {k}: {t:6.2f} s  {rss / 2**20:7.0f} MiB  cpu {cpu:6.2f} s")
        medians[task] = (
            statistics.median(t for t, _, _ in runs),
            int(statistics.median(rss for _, rss, _ in runs)),
            statistics.median(cpu for _, _, cpu in runs),
        )
    print(f"\nmedian of {args.runs} whole-process runs (seed {args.seed}):")
    print(f"load average before the runs: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for task, (t, rss, cpu) in medians.items():
        print(f"  {task:<11} {t:6.2f} s  {rss / 2**20:7.0f} MiB peak RSS  cpu {cpu:6.2f} s")
    if "gusu" in medians:
        t, rss, _ = medians["gusu"]
        ok = t <= BUDGET_S and rss <= BUDGET_BYTES
        print(
            f"gusu budget (≤ {BUDGET_S:.0f} s, ≤ 1 GiB): "
            + ("within" if ok else "EXCEEDED")
        )
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
