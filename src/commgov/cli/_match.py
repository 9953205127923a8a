"""``commgov match``: solve a volunteer matching problem given as JSON, write the assignment."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from commgov.cli._output import (
    STOP,
    _claim_out,
    _first_code,
    _load_problem,
    _n,
    _usage_error,
)
from commgov.cli._progress import ProgressBar
from commgov.errors import CommgovError

__all__ = ["run_match"]


def run_match(args: argparse.Namespace) -> int:
    """Run ``commgov match``; returns the exit status."""
    from commgov._perf import gc_paused

    # tens of thousands of acyclic records (problem, result, rows): the cyclic collector's
    # full passes over them would cost about a quarter of the command's CPU
    with gc_paused():
        return _run_match(args)


def _run_match(args: argparse.Namespace) -> int:
    from commgov._files import csv_text, json_text
    from commgov.matching import MatchingProblem, match_volunteers

    out: Path = args.out
    problem = _load_problem(args, MatchingProblem)
    if isinstance(problem, int):
        return problem
    folder = _claim_out(args)  # locked until the command ends
    try:
        with ProgressBar("matching") as progress:
            assignment = match_volunteers(
                problem, objective=args.objective, progress=progress, cancel=STOP
            )
    except (CommgovError, ValueError, TypeError, NotImplementedError) as exc:
        return _usage_error(f"match --objective {args.objective}: {exc}")
    written = folder.write(
        {
            out / "assignment.json": json_text(assignment.to_json(indent=2)),
            out / "assignment.csv": csv_text(assignment.rows(), assignment.ROW_COLUMNS),
        }
    )
    t = assignment.totals
    print(
        f"Matching ({args.objective}) — status {assignment.info.status}: "
        f"{t.matched} of {_n(t.tasks, 'task')} matched, travel {t.travel_m:,} m"
    )
    by_code: Counter[str] = Counter(_first_code(u) for u in assignment.unmatched)
    for code, count in sorted(by_code.items()):
        print(f"  unmatched {count} × {code}")
    print(f"Wrote {', '.join(p.name for p in written)} to {out}/")
    return 0
