"""``commgov plan-sampling``: plan a sampling round given as JSON, verify it and export it.

Writes plan.json, plan.csv, buildings.csv, one point_<id>.csv per sampling point,
sampling.ics and the building notices in Chinese and English, all or none.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from commgov.cli._output import _check_writable, _first_code, _n, _read_input, _usage_error
from commgov.cli._progress import ProgressBar

__all__ = ["run_plan_sampling"]


def _require_icalendar() -> None:
    """Fail before the solve, with nothing written, when the ``ical`` extra is missing."""
    from commgov.errors import MissingExtraError

    try:
        import icalendar  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError("icalendar", "ical") from exc


def _notices_text(notices: dict[str, str]) -> str:
    """Building notices one after another, separated by a blank line."""
    return "".join(text + "\n\n" for text in notices.values())


def run_plan_sampling(args: argparse.Namespace) -> int:
    """Run ``commgov plan-sampling``; returns the exit status."""
    from commgov.errors import ProblemError, SolverError
    from commgov.io import (
        building_notices,
        json_text,
        sampling_csv_texts,
        sampling_ics,
        write_texts,
    )
    from commgov.scheduling import SamplingProblem, is_valid_sampling_plan, plan_sampling

    out: Path = args.out
    text = _read_input(args.problem, out)
    if isinstance(text, int):
        return text
    try:
        problem = SamplingProblem.model_validate_json(text)
    except ProblemError as exc:
        return _usage_error(f"{args.problem}: {exc}")
    _require_icalendar()  # a missing extra fails before the solve, with nothing written
    _check_writable(out)
    with ProgressBar("sampling plan") as progress:
        plan = plan_sampling(problem, time_limit_s=args.time_limit, progress=progress)
    report = is_valid_sampling_plan(problem, plan)
    if not report:
        first = report.violations[0] if report.violations else "?"
        raise SolverError(f"the plan failed verification ({len(report.violations)} "
                          f"violation(s); first: {first}); nothing written")
    texts: dict[str | Path, str] = {
        out / "plan.json": json_text(plan.to_json()),
    }
    for name, csv_body in sampling_csv_texts(problem, plan).items():
        texts[out / name] = csv_body
    texts[out / "sampling.ics"] = sampling_ics(problem, plan)
    for lang in ("zh", "en"):
        texts[out / f"notices_{lang}.txt"] = _notices_text(
            building_notices(problem, plan, lang)
        )
    written = write_texts(texts)
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
        print(f"  door to door: {_n(len(plan.door_to_door), 'sealed building')}, "
              f"{_n(sum(d.residents for d in plan.door_to_door), 'person')}")
    by_code: Counter[str] = Counter(_first_code(u) for u in plan.unserved)
    for code, count in sorted(by_code.items()):
        print(f"  unserved {_n(count, 'batch')} × {code}")
    print(f"Wrote {_n(len(written), 'file')} to {out}/: "
          + ", ".join(p.name for p in written))
    return 0

