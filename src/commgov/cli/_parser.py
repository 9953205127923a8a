"""The ``commgov`` argument parser and the types of its arguments.

Every type refuses a bad value with a one-line message; the parser turns it into
``commgov: error: … (see commgov --help)`` and exit status 2.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any, NoReturn

from commgov import __version__
from commgov.cli._output import EXIT_USAGE

__all__ = ["MAX_HOUSEHOLDS", "MAX_REPLICATES", "build_parser"]


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
            f"expected headline, all, none or KPI names separated by commas, got {text!r}"
        )
    return list(dict.fromkeys(items))


def _until(text: str) -> tuple[str, float, bool]:
    """``--until KPI=HALF_WIDTH`` (or ``KPI=P%``): the KPI, the target and whether relative."""
    import math

    kpi, sep, target = text.rpartition("=")
    kpi, target = kpi.strip(), target.strip()
    relative = target.endswith("%")
    try:
        value = float(target.removesuffix("%")) / (100.0 if relative else 1.0)
    except ValueError:
        value = math.nan
    if not sep or not kpi or not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"expected KPI=HALF_WIDTH or KPI=PERCENT% with a number > 0, got {text!r}"
        )
    return kpi, value, relative


def _vary_array(values: str) -> list[Any] | None:
    """The values as the items of one TOML array (so a list or an inline table may hold
    commas: ``[[690, 0]], [[690, 2]]`` or ``{"*" = [[690, 1]]}``); ``None`` when they are not
    one (bare words such as ``greedy,balanced``) or end in a comma (an empty last value)."""
    import tomllib

    if values.rstrip().endswith(","):
        return None
    try:
        items = tomllib.loads(f"v = [{values}]")["v"]
    except tomllib.TOMLDecodeError:
        return None
    return items if isinstance(items, list) and items else None


def _vary(text: str) -> tuple[str, list[Any]]:
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=V1,V2,..., got {text!r}")
    if any(not part for part in key.split(".")) or any(c.isspace() for c in key):
        raise argparse.ArgumentTypeError(f"{key!r} is not a dotted field name (like a.b.c)")
    parsed = _vary_array(values)
    if parsed is None:  # not one TOML array: bare words, split at every comma
        items = [v.strip() for v in values.split(",")]
        if any(not v for v in items):
            raise argparse.ArgumentTypeError(f"{text!r}: every value after '=' must be non-empty")
        parsed = [_vary_value(v) for v in items]
    if len({repr(v) for v in parsed}) != len(parsed):
        raise argparse.ArgumentTypeError(f"{text!r}: a value is repeated")
    return key, parsed


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command, its sub-commands and their options."""
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
        "of its detail in gusu() (synthetic, marked so; without it 虎池苑社区 has its "
        "reported 1,765)",
    )
    _add_out_folder(demo, "demo", "plan and assignment JSON/CSV")
    demo.add_argument(
        "--time-limit",
        type=_seconds,
        default=30.0,
        metavar="S",
        help="time limit in seconds for the sampling plan, over all its tiers; the plan is "
        "exact when it finishes sooner (default 30)",
    )
    sub.add_parser("communities", help="list Gusu's communities with their official codes")
    lists = sub.add_parser(
        "lists", help="import or export the three lists (needs, resources, projects) as tables"
    )
    lists_sub = lists.add_subparsers(dest="lists_command", metavar="ACTION", parser_class=_Parser)
    imp = lists_sub.add_parser(
        "import",
        help="read needs/resources/projects tables (CSV or JSON rows) into one lists JSON",
        description="Read the three lists from tables, all or nothing. Give a folder holding "
        "needs.csv, resources.csv and projects.csv (or .json; any may be missing), or the "
        "files themselves, named after their table. Every bad row is reported and nothing "
        "is written.",
    )
    imp.add_argument(
        "sources",
        nargs="+",
        type=Path,
        metavar="NEEDS_OR_DIR",
        help="a folder, or table files named needs.*, resources.*, projects.*",
    )
    imp.add_argument(
        "--out",
        type=_out_dir,
        required=True,
        metavar="FILE.json",
        help="where to write the lists as canonical JSON",
    )
    exp = lists_sub.add_parser(
        "export",
        help="write a lists JSON as formula-safe needs.csv, resources.csv, projects.csv",
    )
    exp.add_argument(
        "lists_json",
        type=Path,
        metavar="LISTS.json",
        help="lists written by 'commgov lists import' (ThreeLists JSON)",
    )
    _add_out_folder(exp, None, "the three CSV files (written all or none)")
    exp.add_argument(
        "--personal-data",
        action="store_true",
        help="write sensitive fields as they are (default: masked)",
    )
    exp.add_argument(
        "--timezone",
        default="Asia/Shanghai",
        metavar="ZONE",
        help="IANA zone in which times are written, with their offset (default: Asia/Shanghai)",
    )
    match = sub.add_parser(
        "match",
        help="match volunteers to tasks from a MatchingProblem JSON file",
        description="Solve a volunteer ↔ task matching problem (commgov.matching."
        "MatchingProblem as JSON) and write assignment.json and assignment.csv.",
    )
    match.add_argument(
        "problem",
        type=Path,
        metavar="PROBLEM.json",
        help="the matching problem (MatchingProblem JSON)",
    )
    _add_crs(match)
    match.add_argument(
        "--objective",
        choices=("min_cost", "fair", "stable"),
        default="min_cost",
        help="objective (default min_cost)",
    )
    _add_out_folder(match, "match", "assignment.json and assignment.csv")
    plan = sub.add_parser(
        "plan-sampling",
        help="plan a sampling round from a SamplingProblem JSON file and export it",
        description="Plan a sampling round (commgov.scheduling.SamplingProblem as JSON): "
        "which point and time slot for each batch, checked by the independent verifier. "
        "Writes plan.json, plan.csv, buildings.csv, one point_<id>.csv per sampling point, "
        "sampling.ics (one event per building slot; with commgov[ical]) and "
        "notices_zh.txt / notices_en.txt (the notice each building group receives), all or "
        "none.",
    )
    plan.add_argument(
        "problem",
        type=Path,
        metavar="PROBLEM.json",
        help="the sampling problem (SamplingProblem JSON)",
    )
    _add_crs(plan)
    _add_out_folder(plan, "plan-sampling", "the plan files")
    plan.add_argument(
        "--time-limit",
        type=_seconds,
        default=30.0,
        metavar="S",
        help="time limit in seconds for the whole command: the plan gets it less the "
        "verification and exports, estimated from the problem's size; the "
        "plan is exact when it finishes sooner (default 30)",
    )
    sites = sub.add_parser(
        "plan-sites",
        help="choose and staff sampling sites from a SitesProblem JSON file",
        description="Choose which sampling sites to open, their lanes and staff per slot, "
        "and each building's site (commgov.scheduling.sites.SitesProblem as JSON), checked "
        "by the independent verifier. Writes plan.json, plan.csv and sites.csv, all or none.",
    )
    sites.add_argument(
        "problem",
        type=Path,
        metavar="PROBLEM.json",
        help="the site-selection problem (SitesProblem JSON)",
    )
    _add_crs(sites)
    _add_out_folder(sites, "plan-sites", "plan.json, plan.csv and sites.csv")
    sites.add_argument(
        "--time-limit",
        type=_seconds,
        default=60.0,
        metavar="S",
        help="time limit of the planner in seconds; the plan is exact when it finishes "
        "sooner (default 60)",
    )
    sites.add_argument(
        "--simulate",
        type=_replicates,
        default=None,
        metavar="N",
        help="simulate the planned day N times (each opened site's queue with the plan's "
        "lanes; commgov.sim.simulate_sites_plan) and write simulation.csv: the p95 wait of "
        "the day and of each site per replicate, and how often the day meets the target",
    )
    sites.add_argument(
        "--fewest-staff",
        action="store_true",
        help="with --simulate: also search the fewest lanes whose simulated wait meets the "
        "target in 95 %% of the replicates (common random numbers, bisection; "
        "commgov.sim.fewest_staff_meeting_target) and write fewest_staff.csv",
    )
    sites.add_argument(
        "--seed",
        type=_non_negative,
        default=0,
        metavar="S",
        help="root seed of the simulation (default 0)",
    )
    supply = sub.add_parser(
        "plan-supply-stations",
        help="choose supply transit stations from a SupplyProblem JSON file",
        description="Choose which sites to open as supply transit stations and the station "
        "of each compound (commgov.scheduling.supply.SupplyProblem as JSON), checked by the "
        "independent verifier. Writes plan.json, plan.csv and stations.csv, all or none.",
    )
    supply.add_argument(
        "problem",
        type=Path,
        metavar="PROBLEM.json",
        help="the supply-station problem (SupplyProblem JSON)",
    )
    _add_crs(supply)
    _add_out_folder(supply, "plan-supply-stations", "plan.json, plan.csv and stations.csv")
    supply.add_argument(
        "--time-limit",
        type=_seconds,
        default=60.0,
        metavar="S",
        help="time limit of the planner in seconds; the plan is exact when it finishes "
        "sooner (default 60)",
    )
    sim = sub.add_parser(
        "simulate",
        help="simulate a scenario file (TOML/JSON), optionally a sweep, and write its KPIs",
        description="Run replicates of a scenario (commgov.sim.Scenario as TOML or JSON), "
        "over every combination of the --vary values, and write kpis.csv (one row per design "
        "point and replicate; kpis.parquet too when pyarrow is installed), summary.csv "
        "(per point: mean, standard error and 95 % confidence interval, median and 90 % "
        "spread of the replicates), differences.csv (paired differences from point 0 with "
        "their 95 % intervals, when several points), experiment.json and, with matplotlib, "
        "plots (see --plots). Finished batches are kept in DIR/store, so running the same "
        "command again resumes instead of starting over. On request: event logs, time series "
        "(Parquet) and KPIs per building and community (GeoJSON). The KPI files are "
        "byte-identical whatever --workers, --dask, --plots or these.",
    )
    sim.add_argument(
        "scenario", type=Path, metavar="SCENARIO.toml", help="the scenario file (.toml or .json)"
    )
    sim.add_argument(
        "--replicates",
        type=_replicates,
        default=20,
        metavar="N",
        help=f"replicates per design point (1–{MAX_REPLICATES:,}; default 20)",
    )
    sim.add_argument(
        "--vary",
        action="append",
        default=[],
        type=_vary,
        metavar="KEY=V1,V2",
        help="vary a dotted scenario field over values, e.g. "
        "submodels.notification.volunteers=20,10,5 (repeat for a factorial "
        'grid; values are read as TOML: 5, 0.5, true, "text" or bare text)',
    )
    sim.add_argument(
        "--seed",
        type=_non_negative,
        default=0,
        metavar="S",
        help="root seed of every random stream (default 0)",
    )
    where = sim.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="worker processes on this machine (default 1: in this process)",
    )
    where.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help="run on a Dask cluster, e.g. tcp://scheduler:8786 (needs commgov[dask])",
    )
    sim.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE (here and in every worker) to register the scenario's "
        "own submodels or policies; repeatable. Scenario files never make commgov "
        "import code",
    )
    sim.add_argument(
        "--batch-size",
        type=_workers,
        default=8,
        metavar="N",
        help="replicates per task sent to a worker (default 8)",
    )
    sim.add_argument(
        "--until",
        type=_until,
        default=None,
        metavar="KPI=HALF_WIDTH",
        help="add --replicates replicates per point at a time until the 95 %% confidence "
        "interval of KPI's mean has at most this half-width at every point (in the KPI's "
        "unit, or a percentage of its mean: notification.t95_min=2%%); byte-identical to a "
        "run of the final number of replicates",
    )
    sim.add_argument(
        "--max-replicates",
        type=_replicates,
        default=1000,
        metavar="N",
        help="most replicates per point with --until (default 1000)",
    )
    _add_out_folder(sim, "simulate", "the KPI files")
    sim.add_argument(
        "--plots",
        type=_plots,
        default="headline",
        metavar="WHICH",
        help="figures written to DIR/plots (needs matplotlib): 'headline' "
        "(default: one figure per submodel, <submodel>.png, of its headline "
        "KPIs: completion times t50/t95/t100, shares, rates per hour, waits and "
        "response times; totals.png: volunteer_hours), 'all' (one <kpi>.png "
        "per KPI, as before this option; ~0.1 s a figure), 'none', or KPI "
        "names and shell patterns separated by commas, one <kpi>.png each "
        "(e.g. notification.t95_min,'queues.wait_*')",
    )
    _add_outputs(sim)
    _add_sensitivity(sub)
    return parser


def _replicate_choice(text: str) -> Any:
    """``--event-log all|sample:N``: ``"all"`` or N (≥ 1)."""
    if text == "all":
        return "all"
    head, _, tail = text.partition(":")
    if head == "sample" and tail.isascii() and tail.isdigit() and 1 <= int(tail) <= 10**6:
        return int(tail)
    raise argparse.ArgumentTypeError(f"expected 'all' or 'sample:N' with N ≥ 1, got {text!r}")


def _minutes(text: str) -> float:
    """``--time-series MINUTES``: a positive finite number."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of minutes, got {text!r}")
    return value


def _add_outputs(sim: Any) -> None:
    """``commgov simulate``'s outputs on request: event logs, time series, GeoJSON."""
    sim.add_argument(
        "--event-log", type=_replicate_choice, default=None, metavar="all|sample:N",
        help="write the event log of every replicate ('all') or of a seeded sample of N "
        "replicates, the same for every point, as DIR/events/point_<p>/replicate_<r>.parquet "
        "(needs pyarrow; the replicates run once more)",
    )
    sim.add_argument(
        "--time-series", type=_minutes, default=None, metavar="MINUTES",
        help="write per-interval series (events per kind, queue length and residents in the "
        "system) of the --event-log replicates (all without it) as "
        "DIR/timeseries/point_<p>/replicate_<r>.parquet",
    )
    sim.add_argument(
        "--geojson", action="store_true",
        help="write DIR/spatial/point_<p>.geojson: KPIs per building and community (households, "
        "notified share, t50/t95, door-to-door swabs), means over the --event-log replicates "
        "(all without it), WGS84 points for QGIS or a web map",
    )


def _param(text: str) -> Any:
    """One ``--param KEY=LOW:HIGH`` of ``commgov sensitivity``."""
    from commgov.errors import InvalidParameterError
    from commgov.sim import SensitivityParam

    try:
        return SensitivityParam.parse(text)
    except InvalidParameterError:
        raise argparse.ArgumentTypeError(
            f"expected KEY=LOW:HIGH with numbers LOW < HIGH, got {text!r}"
        ) from None


def _add_sensitivity(sub: Any) -> None:
    """``commgov sensitivity``: Sobol or Morris indices of a scenario's KPIs (SALib)."""
    sens = sub.add_parser(
        "sensitivity",
        help="Sobol or Morris sensitivity indices of a scenario's KPIs (needs commgov[sens])",
        description="Draw a Sobol (Saltelli) or Morris design over scenario parameters with "
        "SALib, run it as a sweep with common random numbers, and write indices.csv (per KPI "
        "and parameter: S1 and ST with their intervals, or Morris mu, mu* with its interval "
        "and sigma), design.csv, kpis.csv, sensitivity.json and, with matplotlib, "
        "sensitivity.png. The same command gives the same indices.csv, byte for byte.",
    )
    sens.add_argument(
        "scenario", type=Path, metavar="SCENARIO.toml", help="the scenario file (.toml or .json)"
    )
    sens.add_argument(
        "--param",
        action="append",
        default=[],
        type=_param,
        metavar="KEY=LOW:HIGH",
        required=True,
        help="a dotted scenario field and its range, e.g. "
        "submodels.notification.group_share=0.6:0.95 (repeat for each parameter; fields "
        "holding whole numbers are rounded)",
    )
    sens.add_argument(
        "--method",
        choices=("sobol", "morris"),
        default="sobol",
        help="sobol (first and total order; default) or morris (elementary effects)",
    )
    sens.add_argument(
        "--n",
        type=_workers,
        default=16,
        metavar="N",
        help="Sobol: base samples, a power of two (N x (params + 2) runs); Morris: "
        "trajectories (N x (params + 1) runs); default 16",
    )
    sens.add_argument(
        "--replicates",
        type=_replicates,
        default=1,
        metavar="R",
        help="replicates per design point, averaged (default 1)",
    )
    sens.add_argument(
        "--seed",
        type=_non_negative,
        default=0,
        metavar="S",
        help="root seed of the simulation, the design and the bootstrap (default 0)",
    )
    sens.add_argument(
        "--kpi",
        action="append",
        default=[],
        metavar="KPI",
        help="KPI names or shell patterns to analyse (repeatable; default all); the "
        "figure shows the headline KPIs among them",
    )
    sens.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="worker processes on this machine (default 1: in this process)",
    )
    sens.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE (here and in every worker) to register the scenario's own "
        "submodels or policies; repeatable",
    )
    _add_out_folder(sens, "sensitivity", "the indices, design and figure")


def _add_crs(parser: argparse.ArgumentParser) -> None:
    """``--crs``: the coordinate system of the positions in the problem file."""
    from commgov.crs import CRS

    parser.add_argument(
        "--crs",
        choices=CRS,
        default=None,
        help="coordinate system of the file's positions: wgs84 (default), gcj02 (Amap, "
        "Tencent) or bd09 (Baidu); converted to WGS84 as the file is read (a top-level "
        '"crs" key in the file does the same)',
    )


def _add_out_folder(parser: argparse.ArgumentParser, command: str | None, what: str) -> None:
    """``--out DIR`` (default ``./commgov-out/<command>``; required when ``command`` is None)
    and ``--force``: the two options of every command that writes a folder."""
    default = {"required": True} if command is None else {"default": Path("commgov-out") / command}
    where = "" if command is None else f" (default ./commgov-out/{command})"
    parser.add_argument(
        "--out", type=_out_dir, metavar="DIR", help=f"folder for {what}{where}", **default
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into --out even when it holds other files or another "
        "command's output (files an earlier commgov run recorded there are "
        "replaced or removed; other files are kept)",
    )
