"""``commgov plan-sampling``: plan a sampling round given as JSON, verify it and export it.

Writes plan.json, plan.csv, buildings.csv, one point_<id>.csv per sampling point,
sampling.ics and the building notices in Chinese and English, all or none. Without the
``ical`` extra (``icalendar``) it writes everything but sampling.ics and says so.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from commgov.cli._output import (
    _claim_out,
    _first_code,
    _load_problem,
    _n,
)
from commgov.cli._progress import ProgressBar

if TYPE_CHECKING:
    from commgov.scheduling import SamplingProblem

__all__ = ["run_plan_sampling"]


#: The command's own work around the planner, estimated from counts: start-up (Python,
#: imports: 0.35-0.45 s), then reading and checking the problem, verifying the plan, and the
#: exports and their writes (``commgov.io._sampling_files.sampling_files``), which grow with
#: the batches (rows of plan.csv and the point files) and the buildings (rows of
#: buildings.csv, calendar events, notices), and one CSV file per point. Fitted to the
#: command's CPU seconds outside the planner on the 2-core reference machine, then raised by
#: about a quarter as a margin (measured, in s: C tier, 94 batches, 0.40; S, 1,691 batches,
#: 800 buildings, 0.50; district tier D13, 21,079 batches, 10,000 buildings, 400 points,
#: 1.21; 10,000 buildings × 10 batches, 2.6; 20,000 × 5, 2.9; 50,000 × 2, 4.2 — the
#: largest the size guards accept; ``benchmarks/bench_sampling_export.py`` prints the
#: export part). Before the direct calendar writer the exports alone took 0.45 ms a batch.
CLI_BASE_S = 0.6
CLI_PER_BATCH_S = 2.5e-5
CLI_PER_BUILDING_S = 5e-5
CLI_PER_POINT_S = 3e-4
#: The planner gets at least this share of ``--time-limit``, however large the exports.
MIN_PLANNER_SHARE = 0.1


def command_overhead_s(problem: SamplingProblem) -> float:
    """Estimated seconds of the command's own work around the planner (see the constants).

    ``CLI_BASE_S + CLI_PER_BATCH_S · batches + CLI_PER_BUILDING_S · buildings +
    CLI_PER_POINT_S · points``; O(buildings).
    """
    n_batches = sum(len(b.batches) for b in problem.buildings)
    return (
        CLI_BASE_S
        + CLI_PER_BATCH_S * n_batches
        + CLI_PER_BUILDING_S * len(problem.buildings)
        + CLI_PER_POINT_S * len(problem.points)
    )


def planner_limit(time_limit: float, problem: SamplingProblem) -> float:
    """Seconds given to :func:`plan_sampling` so that the whole command keeps ``--time-limit``.

    ``--time-limit`` covers the command: the planner gets it less the command's own work,
    estimated from the problem's counts (:func:`command_overhead_s`), and at least
    :data:`MIN_PLANNER_SHARE` of it. Computed from counts, not from the clock, so the same
    problem and limit give the same plan.
    """
    own = command_overhead_s(problem)
    share = max(MIN_PLANNER_SHARE * time_limit, time_limit - own)
    # rounded to milliseconds for reproducible options, never to 0 (a limit must be > 0)
    return max(round(share, 3), min(time_limit, 0.001))


def run_plan_sampling(args: argparse.Namespace) -> int:
    """Run ``commgov plan-sampling``; returns the exit status."""
    from commgov._perf import gc_paused

    # up to a few hundred thousand acyclic records (problem, plan, rows, texts): the cyclic
    # collector's full passes over them cost about a quarter of the command's CPU on 100,000
    # batches (measured: plan and verification 4.0 → 3.0 s CPU, exports 1.7 → 1.1 s)
    with gc_paused():
        return _run_plan_sampling(args)


def _run_plan_sampling(args: argparse.Namespace) -> int:
    from commgov.errors import SolverError
    from commgov.io import json_text
    from commgov.io._sampling_files import sampling_files
    from commgov.scheduling import SamplingProblem, is_valid_sampling_plan, plan_sampling

    out: Path = args.out
    problem = _load_problem(args, SamplingProblem)
    if isinstance(problem, int):
        return problem
    folder = _claim_out(args)  # locked until the command ends
    with ProgressBar("sampling plan") as progress:
        plan = plan_sampling(
            problem, time_limit_s=planner_limit(args.time_limit, problem), progress=progress
        )
    report = is_valid_sampling_plan(problem, plan)
    if not report:
        first = report.violations[0] if report.violations else "?"
        raise SolverError(
            f"the plan failed verification ({len(report.violations)} "
            f"violation(s); first: {first}); nothing written"
        )
    texts: dict[str | Path, str] = {
        out / "plan.json": json_text(plan.to_json()),
    }
    for name, body in sampling_files(problem, plan).items():
        texts[out / name] = body
    written = folder.write(texts)  # and the earlier run's files it does not rewrite go
    if "sampling.ics" not in {Path(k).name for k in texts}:
        print(
            "note: sampling.ics not written: the calendar needs the optional 'ical' extra "
            "(pip install 'commgov[ical]'); every other file is written",
            file=sys.stderr,
        )
    t = plan.totals
    gap = f", gap {plan.info.gap:.2%}" if plan.info.gap else ""
    print(
        f"Sampling plan — status {plan.info.status}{gap}, verified: "
        f"{t.served_people:,} of {t.walk_in_people:,} walk-in residents served at "
        f"{_n(len(problem.points), 'point')}, walking {t.walk_person_m:,} person-metres, "
        f"largest queue {t.max_backlog} (limit {problem.policy.max_queue}), "
        + (f"last slot {t.last_slot}" if t.last_slot >= 0 else "no slot used")
    )
    if plan.door_to_door:
        print(
            f"  door to door: {_n(len(plan.door_to_door), 'sealed building')}, "
            f"{_n(sum(d.residents for d in plan.door_to_door), 'person')}"
        )
    by_code: Counter[str] = Counter(_first_code(u) for u in plan.unserved)
    for code, count in sorted(by_code.items()):
        print(f"  unserved {_n(count, 'batch')} × {code}")
    print(f"Wrote {_n(len(written), 'file')} to {out}/: " + ", ".join(p.name for p in written))
    return 0
