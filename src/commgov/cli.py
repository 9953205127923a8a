"""The ``commgov`` command.

``commgov demo`` runs the main job on the embedded Gusu data: the district's real structure
from the official division codes, then for one community an exact sampling plan and the day's
volunteer assignment, written as JSON and CSV. ``commgov communities`` lists the codes.
``commgov lists import`` / ``commgov lists export`` convert the three lists between tables
(CSV or JSON rows) and their canonical JSON; ``commgov match`` solves a volunteer matching
problem given as JSON; ``commgov plan-sampling`` plans a sampling round given as JSON and
exports it (CSV, iCalendar, building notices); ``commgov simulate`` runs a scenario file,
optionally swept over varied fields, and writes its KPIs. Bad input exits with status 2
and writes nothing. The CLI is the only place that prints; errors are one line on stderr
with a non-zero exit.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from commgov import __version__
from commgov.errors import CommgovError

if TYPE_CHECKING:
    from commgov.matching import Assignment
    from commgov.org import OrgGraph
    from commgov.scheduling import SamplingPlan, SamplingProblem

__all__ = ["main"]

EXIT_USAGE = 2
EXIT_ERROR = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"commgov: error: {message} (see commgov --help)\n")


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 0, got {value}")
    if value >= 2**63:
        raise argparse.ArgumentTypeError(f"must be < 2**63, got {value}")
    return value


#: Largest community ``--households`` accepts: Gusu's largest communities hold a few thousand
#: households; 20,000 still solves in well under a minute.
MAX_HOUSEHOLDS = 20_000


def _households(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_HOUSEHOLDS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_HOUSEHOLDS}, got {value}")
    return value


def _out_dir(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder name, got an empty string")
    return Path(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value <= 3600:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be > 0 and ≤ 3600 seconds, got {text}")
    return value


#: Most replicates per design point ``--replicates`` accepts.
MAX_REPLICATES = 1_000_000


def _replicates(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_REPLICATES:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_REPLICATES:,}, got {value}")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 1024:
        raise argparse.ArgumentTypeError(f"must be between 1 and 1024, got {value}")
    return value


def _vary_value(text: str) -> Any:
    """One ``--vary`` value: a TOML value (``5``, ``0.5``, ``true``, ``"a"``) or bare text."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _plots(text: str) -> str | list[str]:
    """``--plots``: ``headline``, ``all``, ``none`` or KPI names / patterns, comma-separated."""
    word = text.strip().lower()
    if word in ("headline", "all", "none"):
        return word
    items = [v.strip() for v in text.split(",")]
    if not text.strip() or any(not v for v in items):
        raise argparse.ArgumentTypeError(
            f"expected headline, all, none or KPI names separated by commas, got {text!r}")
    return list(dict.fromkeys(items))


def _vary(text: str) -> tuple[str, list[Any]]:
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=V1,V2,..., got {text!r}")
    if any(not part for part in key.split(".")) or any(c.isspace() for c in key):
        raise argparse.ArgumentTypeError(f"{key!r} is not a dotted field name (like a.b.c)")
    items = [v.strip() for v in values.split(",")]
    if any(not v for v in items):
        raise argparse.ArgumentTypeError(f"{text!r}: every value after '=' must be non-empty")
    parsed = [_vary_value(v) for v in items]
    if len({repr(v) for v in parsed}) != len(parsed):
        raise argparse.ArgumentTypeError(f"{text!r}: a value is repeated")
    return key, parsed


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="commgov",
        description="commgov: community governance and emergency mobilisation on the embedded "
        "Gusu data (official division codes, synthetic community detail).",
    )
    parser.add_argument("--version", action="version", version=f"commgov {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    demo = sub.add_parser(
        "demo", help="Gusu district, one community's sampling plan and volunteer matching"
    )
    demo.add_argument(
        "--community",
        default="320508017016",
        metavar="CODE",
        help="12-digit code of a Gusu community (default: 320508017016, 虎池苑社区)",
    )
    demo.add_argument(
        "--seed",
        type=_non_negative,
        default=0,
        metavar="N",
        help="seed of the synthetic community detail (default 0)",
    )
    demo.add_argument(
        "--households",
        type=_households,
        default=None,
        metavar="N",
        help=f"generate the community with this many households (1–{MAX_HOUSEHOLDS}) instead "
        "of its detail in gusu(); 虎池苑社区 always has its reported 1,765",
    )
    demo.add_argument(
        "--out",
        type=_out_dir,
        default=Path("commgov-out"),
        metavar="DIR",
        help="folder for plan and assignment JSON/CSV (default ./commgov-out)",
    )
    demo.add_argument(
        "--time-limit",
        type=_seconds,
        default=30.0,
        metavar="S",
        help="time limit in seconds for the sampling plan, over all its tiers; the plan is "
        "exact when it finishes sooner (default 30)",
    )
    sub.add_parser("communities", help="list Gusu's communities with their official codes")
    lists = sub.add_parser("lists", help="import or export the three lists (needs, resources, "
                           "projects) as tables")
    lists_sub = lists.add_subparsers(dest="lists_command", metavar="ACTION", parser_class=_Parser)
    imp = lists_sub.add_parser(
        "import",
        help="read needs/resources/projects tables (CSV or JSON rows) into one lists JSON",
        description="Read the three lists from tables, all or nothing. Give a folder holding "
        "needs.csv, resources.csv and projects.csv (or .json; any may be missing), or the "
        "files themselves, named after their table. Every bad row is reported and nothing "
        "is written.",
    )
    imp.add_argument("sources", nargs="+", type=Path, metavar="NEEDS_OR_DIR",
                     help="a folder, or table files named needs.*, resources.*, projects.*")
    imp.add_argument("--out", type=_out_dir, required=True, metavar="FILE.json",
                     help="where to write the lists as canonical JSON")
    exp = lists_sub.add_parser(
        "export",
        help="write a lists JSON as formula-safe needs.csv, resources.csv, projects.csv",
    )
    exp.add_argument("lists_json", type=Path, metavar="LISTS.json",
                     help="lists written by 'commgov lists import' (ThreeLists JSON)")
    exp.add_argument("--out", type=_out_dir, required=True, metavar="DIR",
                     help="folder for the three CSV files (written all or none)")
    exp.add_argument("--personal-data", action="store_true",
                     help="write sensitive fields as they are (default: masked)")
    match = sub.add_parser(
        "match",
        help="match volunteers to tasks from a MatchingProblem JSON file",
        description="Solve a volunteer ↔ task matching problem (commgov.matching."
        "MatchingProblem as JSON) and write assignment.json and assignment.csv.",
    )
    match.add_argument("problem", type=Path, metavar="PROBLEM.json",
                       help="the matching problem (MatchingProblem JSON)")
    match.add_argument("--objective", choices=("min_cost", "fair", "stable"),
                       default="min_cost", help="objective (default min_cost)")
    match.add_argument("--out", type=_out_dir, default=Path("commgov-out"), metavar="DIR",
                       help="folder for assignment.json and assignment.csv (default "
                       "./commgov-out)")
    plan = sub.add_parser(
        "plan-sampling",
        help="plan a sampling round from a SamplingProblem JSON file and export it",
        description="Plan a sampling round (commgov.scheduling.SamplingProblem as JSON): "
        "which point and time slot for each batch, checked by the independent verifier. "
        "Writes plan.json, plan.csv, buildings.csv, one point_<id>.csv per sampling point, "
        "sampling.ics (one event per building slot; needs commgov[ical]) and "
        "notices_zh.txt / notices_en.txt (the notice each building group receives), all or "
        "none.",
    )
    plan.add_argument("problem", type=Path, metavar="PROBLEM.json",
                      help="the sampling problem (SamplingProblem JSON)")
    plan.add_argument("--out", type=_out_dir, default=Path("commgov-out"), metavar="DIR",
                      help="folder for the plan files (default ./commgov-out)")
    plan.add_argument("--time-limit", type=_seconds, default=30.0, metavar="S",
                      help="time limit in seconds for the plan, over all its tiers; the "
                      "plan is exact when it finishes sooner (default 30)")
    sim = sub.add_parser(
        "simulate",
        help="simulate a scenario file (TOML/JSON), optionally a sweep, and write its KPIs",
        description="Run replicates of a scenario (commgov.sim.Scenario as TOML or JSON), "
        "over every combination of the --vary values, and write kpis.csv (one row per design "
        "point and replicate; kpis.parquet too when pyarrow is installed), summary.csv "
        "(median and 90 % interval per point), experiment.json and, with matplotlib, "
        "plots (see --plots). Finished batches are kept in DIR/store, so running the same "
        "command again resumes instead of starting over. The KPI files are byte-identical "
        "whatever --workers, --dask or --plots.",
    )
    sim.add_argument("scenario", type=Path, metavar="SCENARIO.toml",
                     help="the scenario file (.toml or .json)")
    sim.add_argument("--replicates", type=_replicates, default=20, metavar="N",
                     help=f"replicates per design point (1–{MAX_REPLICATES:,}; default 20)")
    sim.add_argument("--vary", action="append", default=[], type=_vary, metavar="KEY=V1,V2",
                     help="vary a dotted scenario field over values, e.g. "
                     "submodels.notification.volunteers=20,10,5 (repeat for a factorial "
                     "grid; values are read as TOML: 5, 0.5, true, \"text\" or bare text)")
    sim.add_argument("--seed", type=_non_negative, default=0, metavar="S",
                     help="root seed of every random stream (default 0)")
    where = sim.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_workers, default=1, metavar="N",
                       help="worker processes on this machine (default 1: in this process)")
    where.add_argument("--dask", metavar="ADDRESS", default=None,
                       help="run on a Dask cluster, e.g. tcp://scheduler:8786 (needs "
                       "commgov[dask])")
    sim.add_argument("--batch-size", type=_workers, default=8, metavar="N",
                     help="replicates per task sent to a worker (default 8)")
    sim.add_argument("--out", type=_out_dir, default=Path("commgov-out"), metavar="DIR",
                     help="folder for the KPI files (default ./commgov-out)")
    sim.add_argument("--plots", type=_plots, default="headline", metavar="WHICH",
                     help="figures written to DIR/plots (needs matplotlib): 'headline' "
                     "(default: one figure per submodel, <submodel>.png, of its headline "
                     "KPIs: completion times t50/t95/t100, shares, rates per hour, waits and "
                     "response times; totals.png: volunteer_hours), 'all' (one <kpi>.png "
                     "per KPI, as before this option; ~0.1 s a figure), 'none', or KPI "
                     "names and shell patterns separated by commas, one <kpi>.png each "
                     "(e.g. notification.t95_min,'queues.wait_*')")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``commgov`` command; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 on an error in the data or solve, 2 on bad arguments.
    """
    for stream in (sys.stdout, sys.stderr):  # Chinese names on a non-UTF-8 console
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="commgov: %(message)s")
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "communities":
            return _communities()
        if args.command == "lists":
            if args.lists_command == "import":
                return _lists_import(args)
            if args.lists_command == "export":
                return _lists_export(args)
            return _usage_error("lists needs an action: import or export (commgov lists -h)")
        if args.command == "match":
            return _match(args)
        if args.command == "simulate":
            return _simulate(args)
        if args.command == "plan-sampling":
            return _plan_sampling(args)
        _parser().print_help()
        return EXIT_USAGE
    except CommgovError as exc:
        first = str(exc).splitlines()
        detail = f" ({first[1].strip()})" if len(first) > 1 else ""
        print(f"commgov: error: {first[0]}{detail}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # the reader went away (commgov communities | head): stop quietly, as the Python docs
        # advise, pointing stdout at devnull so the interpreter's final flush cannot fail
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except OSError as exc:
        print(f"commgov: error: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR


def _communities() -> int:
    from commgov.datasets import gusu_divisions

    model = gusu_divisions()
    areas = {a.id: a for a in model.areas}
    for community in model.communities:
        print(
            f"{community.id}  {areas[community.parent_id].short_name}  "
            f"{community.short_name}  ({community.kind})"
        )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from commgov.datasets import (
        HUCHIYUAN,
        gusu,
        gusu_divisions,
        synthetic_community,
        synthetic_tasks,
    )
    from commgov.io import csv_text, json_text, write_texts
    from commgov.matching import match_volunteers, matching_problem_from_org
    from commgov.org import OrgGraph
    from commgov.scheduling import plan_sampling, sampling_problem_from_org

    code: str = args.community
    divisions = gusu_divisions()
    known = {c.id for c in divisions.communities}
    if code not in known:
        print(
            f"commgov: error: --community {code!r} is not one of Gusu's {len(known)} "
            "community codes "
            "(list them with: commgov communities)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.households is not None and code == HUCHIYUAN and args.households != 1765:
        print(
            "commgov: error: --households applies to other communities: 虎池苑社区 has 1,765 (the "
            "reported figure)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    out: Path = args.out
    if out.exists() and not out.is_dir():
        print(f"commgov: error: --out {str(out)!r} exists and is not a folder", file=sys.stderr)
        return EXIT_USAGE
    _check_writable(out)  # before the solve, not after it

    if args.households is None or code == HUCHIYUAN:
        # the divisions and this community exactly as in the whole district (gusu()), without
        # the other 170 communities' detail, which the demo does not use
        model = gusu(seed=args.seed, communities=[code])
    else:
        detail = synthetic_community(code, households=args.households, seed=args.seed)
        model = divisions.merge(detail, on_conflict="replace")
    graph = OrgGraph(model)
    problem = sampling_problem_from_org(graph, code)
    plan = plan_sampling(problem, time_limit_s=args.time_limit)
    tasks = synthetic_tasks(graph, code, seed=args.seed)
    matching = matching_problem_from_org(graph, tasks, community_id=code)
    assignment = match_volunteers(matching)

    # files first, then the report: a closed pipe (commgov demo | head) cannot lose the files
    written = write_texts(
        {
            out / "sampling_problem.json": json_text(problem),
            out / "sampling_plan.json": json_text(plan),
            out / "sampling_plan.csv": csv_text(plan.rows(), plan.ROW_COLUMNS),
            out / "matching_problem.json": json_text(matching),
            out / "assignment.json": json_text(assignment),
            out / "assignment.csv": csv_text(assignment.rows(), assignment.ROW_COLUMNS),
        }
    )
    _print_district(graph)
    _print_community(graph, code)
    _print_plan(graph, problem, plan)
    _print_assignment(assignment)
    print(f"\nWrote {', '.join(p.name for p in written)} to {out}/")
    return 0


def _check_writable(folder: Path) -> None:
    """Create ``folder`` and try a file in it, so a bad --out fails before the solve."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write to --out folder {str(folder)!r}: "
                      f"{exc.strerror or exc}") from exc


def _print_district(graph: OrgGraph) -> None:
    from commgov.org import NodeKind

    district = graph.record("320508")
    summary = graph.summary("320508")
    residents = summary.nodes.get("community", 0)
    villages = summary.nodes.get("village", 0)
    vintage = getattr(district, "vintage", "")
    print(
        f"{getattr(district, 'name', '')} (Gusu district, {district.id}) — "
        f"official division codes {vintage}"
    )
    print(
        f"  {summary.nodes.get('subdistrict', 0)} sub-districts; "
        f"{residents + villages} communities: "
        f"{residents} residents' committees and {villages} villagers' committees"
    )
    for sid in graph.children("320508"):
        sub = graph.summary(sid)
        name = getattr(graph.record(sid), "name", sid)
        n = sub.nodes.get("community", 0) + sub.nodes.get("village", 0)
        detail = graph.descendants(sid, NodeKind.BUILDING)
        marker = " (in detail)" if next(detail, None) else ""
        print(f"    {sid}  {name:<8}{n:>4} communities{marker}")


def _print_community(graph: OrgGraph, code: str) -> None:
    record = graph.record(code)
    summary = graph.summary(code)
    nodes, counts = summary.nodes, summary.counts
    people = [
        p
        for p in graph.model.people
        if p.home_id is not None and p.home_id in set(graph.descendants(code))
    ]
    enrolments = Counter(e for p in people for e in p.enrolments)
    print(
        f"\n{getattr(record, 'name', code)} ({code}) — division record {record.provenance.source}, "
        "detail synthetic"
    )
    print(
        "  "
        + ", ".join(_n(nodes.get(k, 0), k) for k in ("compound", "lane", "courtyard"))
        + "; "
        + ", ".join(_n(nodes.get(k, 0), k) for k in ("building", "entrance"))
    )
    scope = set(graph.descendants(code))
    records = sum(1 for h in graph.model.households if h.parent_id in scope)
    print(
        f"  {_n(counts.households, 'household')}, {_n(counts.residents, 'resident')}, "
        f"{counts.mobility_limited:,} mobility-limited; "
        f"{_n(records, 'household record')} (vulnerable households followed up by name)"
    )
    label = ", ".join(f"{n} {name}" for name, n in sorted(enrolments.items())) or "none enrolled"
    print(f"  {len(people)} volunteers ({label})")


def _n(count: int, noun: str) -> str:
    """``1 building``, ``2 buildings``, ``1,765 households``, ``2 batches``, ``3 people``."""
    if count == 1:
        return f"1 {noun}"
    plural = {"person": "people", "batch": "batches"}.get(noun, noun + "s")
    return f"{count:,} {plural}"


def _print_plan(graph: OrgGraph, problem: SamplingProblem, plan: SamplingPlan) -> None:
    totals = plan.totals
    slots = int(problem.window.minutes // problem.policy.slot_minutes)
    print(
        f"\nSampling plan {problem.window.start.astimezone(problem.tz):%Y-%m-%d %H:%M}–"
        f"{problem.window.end.astimezone(problem.tz):%H:%M} "
        f"({slots} slots of {problem.policy.slot_minutes} min) — status {plan.info.status}"
        + (f", gap ≤ {plan.info.gap:.2%}" if plan.info.gap else "")
    )
    by_point: dict[str, list[str]] = defaultdict(list)
    for building_id, point_id in plan.building_points.items():
        by_point[point_id].append(building_id)
    people: Counter[str] = Counter()
    for a in plan.assignments:
        people[a.point_id] += a.people
    for point in problem.points:
        loads = [ld for ld in plan.loads if ld.point_id == point.id]
        used = [ld.slot for ld in loads if ld.arrivals]
        done = max((ld.slot for ld in loads if ld.served), default=-1)
        span = (
            f"arrivals in slots {min(used)}–{max(used)}, done in slot {done}" if used else "unused"
        )
        peak = max((ld.backlog for ld in loads), default=0)
        cap = loads[0].capacity if loads else 0
        print(
            f"  {point.id}: {_n(point.lanes, 'lane')} ({cap}/slot), "
            f"{_n(len(by_point[point.id]), 'building')}, "
            f"{people[point.id]:,} people, {span}, largest queue carried {peak}"
        )
    mean_walk = totals.walk_person_m / totals.served_people if totals.served_people else 0.0
    print(
        f"  served {totals.served_people:,} of {totals.walk_in_people:,} walk-in residents; "
        f"mean walk {mean_walk:.0f} m; largest queue {totals.max_backlog} "
        f"(limit {problem.policy.max_queue}); "
        + (f"last slot {totals.last_slot}" if totals.last_slot >= 0 else "no slot used")
    )
    for d in plan.door_to_door:
        print(f"  door to door: {d.building_id} — {d.reason.text()}")
    visits = sum(v.residents for v in plan.home_visits)
    print(
        f"  home visits: {visits} mobility-limited residents in "
        f"{_n(len(plan.home_visits), 'building')}"
    )
    groups: dict[str, list[Any]] = defaultdict(list)
    for u in plan.unserved:
        groups[u.reasons[0].code.value if u.reasons else "UNKNOWN"].append(u)
    for code, batches in sorted(groups.items()):
        first = batches[0]
        persons = _n(sum(b.people for b in batches), "person")
        print(
            f"  unserved {_n(len(batches), 'batch')} ({persons}) × {code}: "
            f"e.g. {first.batch_id} — " + "; ".join(r.text() for r in first.reasons)
        )


def _print_assignment(assignment: Assignment) -> None:
    t = assignment.totals
    print(
        f"\nVolunteer assignment — status {assignment.info.status}: "
        f"{t.matched} of {t.tasks} tasks matched, "
        f"priority {t.priority_served}/{t.priority_total}, travel {t.travel_m:,} m"
    )
    if assignment.matches:
        from commgov.matching import SCOPE_ORDER

        levels = Counter(m.scope for m in assignment.matches)
        print(
            "  by scope: "
            + ", ".join(f"{level.value} {levels.get(level, 0)}" for level in SCOPE_ORDER)
            + " (building team first, then compound, community pool, partners and riders)"
        )
    busy = [ld for ld in assignment.loads if ld.tasks > 0]
    busiest = sorted(busy, key=lambda ld: (-ld.tasks, ld.volunteer_id))[:3]
    if busiest:
        print("  busiest: " + ", ".join(f"{ld.volunteer_id} ({ld.tasks})" for ld in busiest))
    by_code: dict[str, list[str]] = defaultdict(list)
    texts: dict[str, str] = {}
    for u in assignment.unmatched:
        code = u.reasons[0].code.value if u.reasons else "UNKNOWN"
        by_code[code].append(u.task_id)
        texts.setdefault(code, u.reasons[0].text() if u.reasons else "")
    for code, ids in sorted(by_code.items()):
        print(f"  unmatched {len(ids)} × {code}: e.g. {ids[0]} — {texts[code]}")


def _usage_error(message: str) -> int:
    """Print a (possibly multi-line) error on stderr; exit status 2 (bad input)."""
    lines = message.splitlines() or [""]
    print(f"commgov: error: {lines[0]}", file=sys.stderr)
    for line in lines[1:]:
        print(f"  {line.strip()}", file=sys.stderr)
    return EXIT_USAGE


_TABLES = ("needs", "resources", "projects")


def _table_files(sources: Sequence[Path]) -> dict[str, Path] | str:
    """Table name → file, from one folder or files named after their table; or an error."""
    if len(sources) == 1 and sources[0].is_dir():
        folder = sources[0]
        found: dict[str, Path] = {}
        for table in _TABLES:
            hits = [folder / f"{table}.{ext}" for ext in ("csv", "json")]
            present = [h for h in hits if h.is_file()]
            if len(present) > 1:
                return f"{folder} holds both {table}.csv and {table}.json: keep one"
            if present:
                found[table] = present[0]
        if not found:
            return (
                f"{folder} holds none of needs.csv, resources.csv, projects.csv "
                "(or .json)"
            )
        return found
    files: dict[str, Path] = {}
    for path in sources:
        if path.is_dir():
            return f"{path} is a folder: give one folder, or table files"
        if not path.is_file():
            return f"{path}: no such file"
        table = path.name.split(".")[0]
        if table not in _TABLES or path.suffix.lower() not in (".csv", ".json"):
            return (
                f"{path.name}: name table files needs, resources or projects with .csv or "
                ".json (e.g. needs.csv)"
            )
        if table in files:
            return f"two files for {table}: {files[table]} and {path}"
        files[table] = path
    return files


def _lists_import(args: argparse.Namespace) -> int:
    from commgov.io import TableImportError, import_lists, json_text, write_texts

    out: Path = args.out
    if out.is_dir():
        return _usage_error(f"--out {str(out)!r} is a folder: give a file name (lists.json)")
    files = _table_files(args.sources)
    if isinstance(files, str):
        return _usage_error(files)
    try:
        lists = import_lists(**files)
    except TableImportError as exc:
        lines = [f"{exc.what}: {len(exc.issues)} problem(s); nothing written"]
        lines += [f"- {issue}" for issue in exc.issues]
        return _usage_error("\n".join(lines))
    write_texts({out: json_text(lists.to_json())})
    print(
        f"Read {_n(len(lists.needs), 'need')}, {_n(len(lists.resources), 'resource')}, "
        f"{_n(len(lists.projects), 'project')}; wrote {out}"
    )
    return 0


def _read_input(path: Path, out: Path) -> bytes | int:
    """The input file's bytes, or the exit status of a usage error.

    Shared by the commands that read one file and write a folder: ``--out`` must not be an
    existing non-folder, and the file must be readable.
    """
    if out.exists() and not out.is_dir():
        return _usage_error(f"--out {str(out)!r} exists and is not a folder")
    try:
        return path.read_bytes()
    except OSError as exc:
        return _usage_error(f"cannot read {path}: {exc.strerror or exc}")


def _lists_export(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from commgov.errors import InputError
    from commgov.io import export_lists
    from commgov.lists import ThreeLists

    out: Path = args.out
    text = _read_input(args.lists_json, out)
    if isinstance(text, int):
        return text
    try:
        lists = ThreeLists.from_json(text)
    except ValidationError as exc:
        err = InputError.from_validation(exc, what=f"{args.lists_json} is not a lists JSON")
        return _usage_error(str(err))
    try:
        written = export_lists(lists, out, personal_data=args.personal_data)
    except ValueError as exc:
        return _usage_error(f"{exc}; nothing written")
    print(f"Wrote {', '.join(p.name for p in written)} to {out}/")
    return 0


def _match(args: argparse.Namespace) -> int:
    from commgov.errors import ProblemError
    from commgov.io import csv_text, json_text, write_texts
    from commgov.matching import MatchingProblem, match_volunteers

    out: Path = args.out
    text = _read_input(args.problem, out)
    if isinstance(text, int):
        return text
    try:
        problem = MatchingProblem.model_validate_json(text)
    except ProblemError as exc:
        return _usage_error(str(exc))
    _check_writable(out)
    try:
        assignment = match_volunteers(problem, objective=args.objective)
    except (CommgovError, ValueError, TypeError, NotImplementedError) as exc:
        return _usage_error(f"match --objective {args.objective}: {exc}")
    written = write_texts(
        {
            out / "assignment.json": json_text(assignment.to_json()),
            out / "assignment.csv": csv_text(assignment.rows(), assignment.ROW_COLUMNS),
        }
    )
    t = assignment.totals
    print(
        f"Matching ({args.objective}) — status {assignment.info.status}: "
        f"{t.matched} of {_n(t.tasks, 'task')} matched, travel {t.travel_m:,} m"
    )
    by_code: Counter[str] = Counter(
        u.reasons[0].code.value if u.reasons else "UNKNOWN" for u in assignment.unmatched
    )
    for code, count in sorted(by_code.items()):
        print(f"  unmatched {count} × {code}")
    print(f"Wrote {', '.join(p.name for p in written)} to {out}/")
    return 0


def _notices_text(notices: dict[str, str]) -> str:
    """Building notices one after another, separated by a blank line."""
    return "".join(text + "\n\n" for text in notices.values())


def _plan_sampling(args: argparse.Namespace) -> int:
    from commgov.errors import ProblemError, SolverError
    from commgov.io import (
        building_notices,
        json_text,
        sampling_csv_texts,
        sampling_ics,
        write_texts,
    )
    from commgov.io._sampling_export import _import_icalendar
    from commgov.scheduling import SamplingProblem, is_valid_sampling_plan, plan_sampling

    out: Path = args.out
    text = _read_input(args.problem, out)
    if isinstance(text, int):
        return text
    try:
        problem = SamplingProblem.model_validate_json(text)
    except ProblemError as exc:
        return _usage_error(f"{args.problem}: {exc}")
    _import_icalendar()  # a missing extra fails before the solve, with nothing written
    _check_writable(out)
    plan = plan_sampling(problem, time_limit_s=args.time_limit)
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
    by_code: Counter[str] = Counter(
        u.reasons[0].code.value if u.reasons else "UNKNOWN" for u in plan.unserved
    )
    for code, count in sorted(by_code.items()):
        print(f"  unserved {_n(count, 'batch')} × {code}")
    print(f"Wrote {_n(len(written), 'file')} to {out}/: "
          + ", ".join(p.name for p in written))
    return 0


class _ProgressLine:
    """Progress of ``commgov simulate`` on stderr (``simulate: done/total replicates``).

    Redrawn in place on a terminal; elsewhere one line every 10 s once a run has taken 10 s,
    so short runs stay quiet.
    """

    def __init__(self) -> None:
        import time

        self._clock = time.monotonic
        self._start = self._clock()
        self._last = -math.inf
        self._tty = sys.stderr.isatty()
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        final = done >= total
        if self._tty:
            if now - self._last < 0.2 and not final:
                return
            end = "\n" if final and self._drawn else ""
            if final and not self._drawn:
                return
        else:
            if now - self._start < 10 or (now - self._last < 10 and not final) or (
                final and not self._drawn
            ):
                return
            end = "\n"
        self._last = now
        self._drawn = True
        pct = 100 * done // max(total, 1)
        prefix = "\r" if self._tty else ""
        print(f"{prefix}simulate: {done:,}/{total:,} replicates ({pct}%)", end=end,
              file=sys.stderr, flush=True)


def _simulate(args: argparse.Namespace) -> int:
    import json
    from concurrent.futures import Executor

    from commgov.errors import InputError, MissingExtraError
    from commgov.io import csv_text, write_texts
    from commgov.sim.scenario import Scenario
    from commgov.sim.sweep import FIXED_COLUMNS, Experiment, run_sweep

    out: Path = args.out
    if out.exists() and not out.is_dir():
        return _usage_error(f"--out {str(out)!r} exists and is not a folder")
    path: Path = args.scenario
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        return _usage_error(f"{path}: a scenario file ends in .toml or .json")
    if not path.is_file():
        return _usage_error(f"{path}: no such file")
    grid: dict[str, list[Any]] = {}
    for key, values in args.vary:
        if key in grid:
            return _usage_error(f"--vary {key} is given twice: list all its values once")
        if key in FIXED_COLUMNS:
            return _usage_error(f"--vary {key}: {key!r} is a column of kpis.csv, not a field")
        grid[key] = values
    try:
        base = Scenario.from_toml(path) if suffix == ".toml" else Scenario.from_json(path)
        experiment = Experiment(base, grid, replicates=args.replicates, root_seed=args.seed)
    except InputError as exc:
        return _usage_error(f"{path}: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        return _usage_error(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}")
    _check_writable(out)

    executor: Executor | None = None
    closers: list[Any] = []
    if args.dask is not None:
        try:
            import distributed
        except ImportError as exc:
            raise MissingExtraError("dask.distributed", "dask") from exc
        try:
            client = distributed.Client(args.dask, timeout="20s")  # type: ignore[no-untyped-call,unused-ignore]
        except (OSError, TimeoutError, ValueError) as exc:
            print(f"commgov: error: cannot reach the Dask scheduler {args.dask!r}: {exc}",
                  file=sys.stderr)
            return EXIT_ERROR
        closers.append(client.close)
        executor = client.get_executor()  # type: ignore[no-untyped-call,unused-ignore]
    elif args.workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn"))
        closers.append(pool.shutdown)
        executor = pool
    store = out / "store"
    try:
        result = run_sweep(experiment, executor=executor, store=store,
                           batch_size=args.batch_size, progress=_ProgressLine())
    finally:
        for close in closers:
            close()

    summary_rows = result.summaries().to_dict("records")  # one pass over the table
    summaries: dict[str, list[dict[str, Any]]] = {}
    for rec in summary_rows:
        summaries.setdefault(rec["kpi"], []).append(rec)
    summary_cols = ["kpi", "point", *experiment.keys, "n", "median", "low", "high"]
    described = {
        "scenario": json.loads(base.to_json()),
        "scenario_file": str(path),
        "vary": grid,
        "replicates": experiment.replicates,
        "root_seed": experiment.root_seed,
        "points": [
            {"point": p.index, "scenario_id": p.scenario_id, "values": dict(p.values)}
            for p in experiment.points
        ],
        "provenance": dict(result.provenance),
    }
    texts: dict[str | Path, str] = {
        out / "kpis.csv": result.csv_text(),
        out / "summary.csv": csv_text(summary_rows, summary_cols),
        out / "experiment.json": json.dumps(described, indent=2, ensure_ascii=False,
                                            sort_keys=True, default=str) + "\n",
    }
    written = [p.name for p in write_texts(texts)]
    with contextlib.suppress(MissingExtraError):  # Parquet only with the sim extra
        written.append(result.to_parquet(out / "kpis.parquet").name)
    notes = []
    if args.plots != "none":
        try:
            plots = _write_plots(result, out / "plots", args.plots)
            if plots:
                written.append(f"plots/ ({_n(len(plots), 'figure')})")
        except MissingExtraError:
            notes.append("no plots: pip install 'commgov[plot]'")

    n_ok = len(result.rows) - len(result.failed)
    print(
        f"Simulated {base.name}: {_n(len(experiment.points), 'design point')} × "
        f"{_n(experiment.replicates, 'replicate')} (root seed {experiment.root_seed}); "
        f"{n_ok:,} ok, {len(result.failed):,} failed"
    )
    _print_summary(experiment, result.kpi_names, summaries)
    print(f"Wrote {', '.join(written)} to {out}/" + "".join(f"; {n}" for n in notes))
    if result.failed:
        first = result.failed[0]
        last_line = first.error.strip().splitlines()[-1] if first.error.strip() else "?"
        print(
            f"commgov: error: {_n(len(result.failed), 'replicate')} failed (tracebacks in "
            f"kpis.csv, column error); first: point {first.point} replicate "
            f"{first.replicate}: {last_line}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return 0


def _write_plots(result: Any, folder: Path, which: str | list[str]) -> list[Path]:
    """The figures of ``--plots`` (headline / all / KPI names and patterns)."""
    from commgov.sim import _plots

    if which == "headline":
        return _plots.save_headline_plots(result, folder)
    if which == "all":
        return _plots.save_kpi_plots(result, folder)
    kpis, missing = _plots.select_kpis(result, which)
    for pattern in missing:
        print(f"commgov: warning: --plots {pattern!r} matches no KPI (see kpis.csv)",
              file=sys.stderr)
    return _plots.save_kpi_plots(result, folder, kpis=kpis) if kpis else []


#: KPIs shown per design point on the console (all are in the files).
_SHOWN_KPIS = 12


def _print_summary(
    experiment: Any, kpis: Sequence[str], summaries: dict[str, list[dict[str, Any]]]
) -> None:
    if not kpis:
        return
    width = max(len(k) for k in kpis[:_SHOWN_KPIS])
    for point in experiment.points:
        label = ", ".join(f"{k}={v}" for k, v in point.values.items()) or "base scenario"
        print(f"  point {point.index} ({label}): median [5 %, 95 %]")
        for kpi in kpis[:_SHOWN_KPIS]:
            rec = summaries[kpi][point.index]
            print(f"    {kpi:<{width}}  {rec['median']:.4g} [{rec['low']:.4g}, "
                  f"{rec['high']:.4g}]")
        if len(kpis) > _SHOWN_KPIS:
            print(f"    … {len(kpis) - _SHOWN_KPIS} more KPIs in kpis.csv and summary.csv")
