"""Regenerate the tables of measured figures in the docs from commgov, or check them.

Every Markdown table of solver or simulation results in ``README.md`` and ``docs/`` sits
between two marker comments::

    <!-- table: pioneers_spread -->

    | pioneers | t50 | ... |
    | --- | --- | ... |

    <!-- /table -->

and has one function here, registered with :func:`table` under the same name, that computes
the table's rows from commgov with the seeds and parameters the page states. A table may
appear in several pages (the same name in each); it is computed once.

* ``python scripts/doc_tables.py --check`` recomputes every marked table and exits 1 with a
  unified diff naming the file and the table when one differs from the page;
* ``python scripts/doc_tables.py --write`` rewrites the tables in place (only the lines
  between the markers);
* ``--table NAME`` (repeatable) limits either to some tables, ``--fast`` to those not
  marked slow; ``--list`` lists them with their pages, and the timing tables with their
  reasons.

It runs from a checkout with commgov importable (the editable install of the README, or
``PYTHONPATH=src``) and the ``test`` extra's packages (SALib, scipy).

``tests/test_doc_tables.py`` runs the check of every table, so a change that moves a figure
fails a test naming the page and the table instead of leaving it stale.

Figures that depend on the machine (seconds of wall time, results of a wall-clock limit)
cannot be checked byte for byte. A column of timings in an otherwise generated table is
declared in ``keep=`` and its cells are kept as typed (the check ignores them). A table made
only of such figures is marked ``<!-- timing-table: NAME: why it is not regenerated -->``
instead, and is listed by ``--list``; the check only requires the reason to be given.

Every computation is deterministic: seeded replicates, deterministic work limits for the
planners (their wall-clock limit is only a safety cap), no wall-clock value in a cell.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: The pages that may hold marked tables.
PAGES: tuple[Path, ...] = (ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")))

_BEGIN = re.compile(r"^<!-- table: (?P<name>[a-z0-9_]+) -->\s*$")
_END = re.compile(r"^<!-- /table -->\s*$")
_TIMING = re.compile(r"^<!-- timing-table: (?P<name>[a-z0-9_]+): (?P<why>.+?) -->\s*$")

Rows = list[list[str]]


@dataclass(frozen=True)
class Table:
    """One generated table: its name, how to compute it and how costly that is."""

    name: str
    build: Callable[[], Rows]
    slow: bool
    keep: tuple[str, ...] = ()


TABLES: dict[str, Table] = {}


def table(
    name: str, *, slow: bool, keep: Sequence[str] = ()
) -> Callable[[Callable[[], Rows]], Callable[[], Rows]]:
    """Register ``build`` as the table ``name``.

    ``build()`` returns the header row, then the body rows, as lists of cell texts; a cell
    of a column named in ``keep`` (timings) is ``""`` and is filled from the page.
    ``slow`` tables (more than a few seconds) run in the slow lane of the suite.
    """

    def register(build: Callable[[], Rows]) -> Callable[[], Rows]:
        if name in TABLES:
            raise ValueError(f"table {name!r} registered twice")
        TABLES[name] = Table(name, build, slow, tuple(keep))
        return build

    return register


# ------------------------------------------------------------------------ Markdown regions


@dataclass(frozen=True)
class Region:
    """The lines of a page between ``<!-- table: name -->`` and ``<!-- /table -->``."""

    path: Path
    name: str
    begin: int  # index of the opening marker line
    end: int  # index of the closing marker line

    @property
    def rel(self) -> str:
        """The page's path from the checkout's root."""
        return self.path.relative_to(ROOT).as_posix()


def regions(path: Path, text: str | None = None) -> list[Region]:
    """The marked tables of one page, in order; a malformed marker is a ``ValueError``."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    found: list[Region] = []
    open_at: tuple[int, str] | None = None
    for i, line in enumerate(lines):
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin is not None:
            if open_at is not None:
                raise ValueError(f"{path}:{i + 1}: table {begin['name']!r} inside another")
            open_at = (i, begin["name"])
        elif end is not None:
            if open_at is None:
                raise ValueError(f"{path}:{i + 1}: <!-- /table --> without an opening marker")
            found.append(Region(path, open_at[1], open_at[0], i))
            open_at = None
        elif line.startswith("<!-- table") or line.startswith("<!-- /table"):
            raise ValueError(f"{path}:{i + 1}: malformed table marker {line!r}")
    if open_at is not None:
        raise ValueError(f"{path}:{open_at[0] + 1}: table {open_at[1]!r} is never closed")
    return found


def timing_tables(path: Path) -> list[tuple[str, str, int]]:
    """``(name, reason, line)`` of every timing table of a page (not regenerated).

    The marker ``<!-- timing-table: NAME: reason -->`` may wrap over several lines.
    """
    out = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("<!-- timing-table"):
            continue
        j = i
        while "-->" not in lines[j] and j + 1 < len(lines) and lines[j + 1].strip():
            j += 1
        m = _TIMING.match(" ".join(ln.strip() for ln in lines[i : j + 1]))
        if m is None:
            raise ValueError(f"{path}:{i + 1}: malformed timing-table marker {line!r}")
        out.append((m["name"], m["why"], i + 1))
    return out


def all_regions() -> list[Region]:
    """Every marked table of every page."""
    return [r for page in PAGES for r in regions(page)]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def render(rows: Rows) -> list[str]:
    """Markdown lines of a table: header, separator, body."""

    def line(cells: list[str]) -> str:
        return "|" + "|".join(f" {c} " if c else " " for c in cells) + "|"

    header, *body = rows
    return [line(header), line(["---"] * len(header)), *(line(r) for r in body)]


def _table_lines(lines: list[str]) -> list[str]:
    return [ln for ln in lines if ln.startswith("|")]


def expected_lines(spec: Table, current: list[str], rows: Rows) -> list[str]:
    """The region's lines as they should be: the table, blank lines around it.

    Cells of ``spec.keep`` columns come from ``current`` (the page's table), row by row; a
    row the page does not have yet gets ``?`` there, which the check reports until a person
    types the measured value in.
    """
    rows = [list(r) for r in rows]
    if spec.keep:
        old = [_cells(ln) for ln in _table_lines(current)]
        old_body = old[2:] if len(old) >= 2 else []
        header = rows[0]
        for col, name in enumerate(header):
            if name not in spec.keep:
                continue
            for i, row in enumerate(rows[1:]):
                kept = old_body[i][col] if i < len(old_body) and col < len(old_body[i]) else ""
                row[col] = kept or "?"
    return ["", *render(rows), ""]


@functools.cache
def compute(name: str) -> Rows:
    """The rows of table ``name`` (computed once per process)."""
    return TABLES[name].build()


def diff_region(region: Region, lines: list[str]) -> tuple[list[str], str]:
    """The region's expected lines and a unified diff against the page ('' when equal)."""
    spec = TABLES[region.name]
    current = lines[region.begin + 1 : region.end]
    want = expected_lines(spec, current, compute(region.name))
    diff = "\n".join(
        difflib.unified_diff(
            current,
            want,
            f"{region.rel} (table {region.name}, on the page)",
            f"{region.rel} (table {region.name}, computed)",
            lineterm="",
        )
    )
    if not diff and spec.keep:
        header, _, *body = (_cells(ln) for ln in _table_lines(want))
        cols = [i for i, name in enumerate(header) if name in spec.keep]
        if any(row[i] == "?" for row in body for i in cols):
            diff = (
                f"{region.rel} (table {region.name}): a '?' in a column kept as typed "
                f"({', '.join(spec.keep)}): measure it and type it in"
            )
    return want, diff


def check(names: Sequence[str] | None = None) -> list[tuple[Region, str]]:
    """``(region, diff)`` for every marked table (of ``names``) that differs from its page."""
    out = []
    for region in all_regions():
        if names is not None and region.name not in names:
            continue
        lines = region.path.read_text(encoding="utf-8").splitlines()
        _, diff = diff_region(region, lines)
        if diff:
            out.append((region, diff))
    return out


def write(names: Sequence[str] | None = None) -> list[Region]:
    """Rewrite the marked tables (of ``names``) in place; the regions that changed."""
    changed = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        lines = text.splitlines()
        # from the last region up, so earlier indices stay valid
        for region in reversed(regions(page, text)):
            if names is not None and region.name not in names:
                continue
            want, diff = diff_region(region, lines)
            if diff:
                lines[region.begin + 1 : region.end] = want
                changed.append(region)
        new = "\n".join(lines) + ("\n" if text.endswith("\n") else "")
        if new != text:
            page.write_text(new, encoding="utf-8")
    return changed


# -------------------------------------------------------------------------------- formats


def num(x: float, digits: int, *, sign: bool = False) -> str:
    """``x`` with ``digits`` decimals and thousands separators, a true minus sign."""
    text = f"{x:+,.{digits}f}" if sign else f"{x:,.{digits}f}"
    if float(text.replace(",", "")) == 0:  # no "-0.00"
        text = f"{0:+.{digits}f}" if sign else f"{0:.{digits}f}"
    return text.replace("-", "−")


def spread(median: float, low: float, high: float, digits: int) -> str:
    """``median [low, high]``, each with ``digits`` decimals."""
    return f"{num(median, digits)} [{num(low, digits)}, {num(high, digits)}]"


# --------------------------------------------------------------- simulation.md, tutorial


SCENARIOS = ROOT / "examples" / "scenarios"
PIONEERS = (20, 10, 5)
_NOTIFY_KPIS = ("t50_min", "t95_min", "t100_min")


@functools.cache
def _pioneers_sweep() -> Any:
    """The 20/10/5-pioneer sweep: 100 replicates a point, root seed 2022."""
    from commgov.sim import Experiment, Scenario, run_sweep

    base = Scenario.from_toml(SCENARIOS / "huchiyuan_lockdown.toml")
    grid = {"submodels.notification.volunteers": list(PIONEERS)}
    return run_sweep(Experiment(base, grid=grid, replicates=100, root_seed=2022))


@table("pioneers_spread", slow=True)
def pioneers_spread() -> Rows:
    """Median and 5th–95th percentile of the replicates (tutorial §4, simulation §2)."""
    sweep = _pioneers_sweep()
    rows: Rows = [["pioneers", "t50", "t95", "t100", "volunteer-hours"]]
    frames = {k: sweep.summary(f"notification.{k}") for k in _NOTIFY_KPIS}
    hours = sweep.summary("notification.volunteer_hours")
    for i, n in enumerate(PIONEERS):
        row = [str(n)]
        for k in _NOTIFY_KPIS:
            s = frames[k].iloc[i]
            row.append(spread(s["median"], s["low"], s["high"], 1))
        row.append(num(hours.iloc[i]["median"], 1))
        rows.append(row)
    return rows


@table("pioneers_intervals", slow=True)
def pioneers_intervals() -> Rows:
    """Means with 95 % intervals, and paired differences from 20 pioneers (simulation §2)."""
    sweep = _pioneers_sweep()
    kpis = [*(f"notification.{k}" for k in _NOTIFY_KPIS), "notification.volunteer_hours"]
    digits = {"notification.t100_min": 1}
    rows: Rows = [["pioneers", "t50", "t95", "t100", "volunteer-hours"]]
    frames = {k: sweep.summary(k) for k in kpis}
    for i, n in enumerate(PIONEERS):
        row = [str(n)]
        for k in kpis:
            s = frames[k].iloc[i]
            row.append(spread(s["mean"], s["ci_low"], s["ci_high"], digits.get(k, 2)))
        rows.append(row)
    diffs = sweep.differences(["notification.t50_min", "notification.t95_min"])
    for i, n in enumerate(PIONEERS[1:], start=1):
        row = [f"{n} − {PIONEERS[0]}"]
        for k in ("notification.t50_min", "notification.t95_min"):
            d = diffs[(diffs["kpi"] == k) & (diffs["point"] == i)].iloc[0]
            row.append(
                f"{num(d['mean_diff'], 2, sign=True)} [{num(d['ci_low'], 2)}, "
                f"{num(d['ci_high'], 2)}], crn {num(d['crn_variance_ratio'], 1)}×"
            )
        rows.append([*row, "", ""])
    return rows


@table("day_kpis", slow=True)
def day_kpis() -> Rows:
    """Medians (90 % intervals) of the whole day, 100 replicates, seed 0 (simulation §6)."""
    from commgov.sim import Experiment, Scenario, run_sweep

    base = Scenario.from_toml(SCENARIOS / "huchiyuan_day.toml")
    sweep = run_sweep(Experiment(base, replicates=100, root_seed=0))

    def med(kpi: str, digits: int, interval: bool = False) -> str:
        s = sweep.summary(kpi).iloc[0]
        text = num(s["median"], digits)
        if interval:
            text += f" ({num(s['low'], digits)}–{num(s['high'], digits)})"
        return text

    d2d, needs = "door_to_door", "needs"
    return [
        ["KPI", "value"],
        [
            "`door_to_door.t50_min` / `t95_min` / `t100_min`",
            f"{med(f'{d2d}.t50_min', 0)} / {med(f'{d2d}.t95_min', 0)} / "
            f"{med(f'{d2d}.t100_min', 0, True)}",
        ],
        ["`door_to_door.team_hours`", med(f"{d2d}.team_hours", 1, True)],
        [
            "`needs.arrived` / `needs.unmet`",
            f"{med(f'{needs}.arrived', 0, True)} / {med(f'{needs}.unmet', 0, True)}",
        ],
        [
            "`needs.response_p50_min` / `p90` / `p95`",
            f"{med(f'{needs}.response_p50_min', 1)} / {med(f'{needs}.response_p90_min', 1, True)}"
            f" / {med(f'{needs}.response_p95_min', 1, True)}",
        ],
    ]


@table("sobol_lockdown", slow=True)
def sobol_lockdown() -> Rows:
    """Sobol indices of the lockdown notice, N = 64, seed 2022 (simulation §7)."""
    from commgov.sim import Scenario, run_sensitivity

    base = Scenario.from_toml(SCENARIOS / "huchiyuan_lockdown.toml")
    params = [
        "submodels.notification.volunteers=5:20",
        "submodels.notification.group_share=0.6:0.95",
        "submodels.notification.read_delay.median_min=3:12",
    ]
    kpis = ["notification.t50_min", "notification.t95_min"]
    result = run_sensitivity(
        base, params, method="sobol", n=64, root_seed=2022, seed=2022, kpis=kpis
    )
    labels = {
        "submodels.notification.volunteers": ("pioneers (5–20)", "pioneers"),
        "submodels.notification.group_share": ("group share (0.6–0.95)", "group share"),
        "submodels.notification.read_delay.median_min": (
            "read-delay median (3–12 min)",
            "read-delay median",
        ),
    }
    rows: Rows = [["KPI", "parameter", "S1 [95 %]", "ST [95 %]"]]
    for k, kpi in enumerate(kpis):
        for _, r in result.indices[result.indices["kpi"] == kpi].iterrows():
            rows.append(
                [
                    f"`{kpi.removeprefix('notification.')}`",
                    labels[r["param"]][min(k, 1)],
                    spread(r["S1"], r["S1_low"], r["S1_high"], 2),
                    spread(r["ST"], r["ST_low"], r["ST_high"], 2),
                ]
            )
    return rows


@table("district_kpis", slow=True)
def district_kpis() -> Rows:
    """Headline KPIs of replicate 0, root seed 2022, whole district (simulation §8).

    One replicate of 171 communities: 80–90 s and about 1.5 GiB.
    """
    from commgov.sim import Scenario, run_replicate

    district = Scenario.from_toml(SCENARIOS / "gusu_district_full_day.toml")
    k = run_replicate(district, 0, 2022).kpis
    d2d_times = [k[f"door_to_door.{q}_min"] for q in ("t50", "t95", "t100")]
    if all(math.isnan(t) for t in d2d_times):
        d2d = " (`t50`–`t100` NaN: under half swabbed by the horizon)"
    else:
        d2d = "; `t50` / `t95` / `t100` " + " / ".join(
            "NaN" if math.isnan(t) else num(t, 1) for t in d2d_times
        )
    return [
        ["KPI", "value"],
        [
            "`notification.households` / `t50_min` / `t95_min` / `t100_min`",
            f"{num(k['notification.households'], 0)} / {num(k['notification.t50_min'], 1)} / "
            f"{num(k['notification.t95_min'], 1)} / {num(k['notification.t100_min'], 1)}",
        ],
        [
            "`queues.served` / `mean_wait_min` / `wait_p95_min`",
            f"{num(k['queues.served'], 0)} / {num(k['queues.mean_wait_min'], 2)} / "
            f"{num(k['queues.wait_p95_min'], 2)}",
        ],
        [
            "`door_to_door.households` / `swabbed_share`",
            f"{num(k['door_to_door.households'], 0)} / "
            f"{num(k['door_to_door.swabbed_share'], 2)}{d2d}",
        ],
        [
            "`needs.arrived` / `met_share` / `response_p90_min`",
            f"{num(k['needs.arrived'], 0)} / {num(k['needs.met_share'], 2)} / "
            f"{num(k['needs.response_p90_min'], 1)}",
        ],
        [
            "`relay.delivered` / `deliveries_per_hour` / `gate_to_door_p95_min`",
            f"{num(k['relay.delivered'], 0)} / {num(k['relay.deliveries_per_hour'], 0)} / "
            f"{num(k['relay.gate_to_door_p95_min'], 1)}",
        ],
        ["`volunteer_hours`", num(k["volunteer_hours"], 0)],
    ]


# ------------------------------------------------------------------------- calibration.md


@table("calibration_phone", slow=True)
def calibration_phone() -> Rows:
    """The fitted phone time, 20 replicates, root seed 2022 (calibration.md)."""
    from commgov.sim import Scenario, calibrate

    key = "submodels.notification.phone_minutes"
    base = Scenario.from_toml(SCENARIOS / "huchiyuan_lockdown.toml")
    fit = calibrate(
        base,
        {key: (0.3, 1.5)},
        {"notification.t95_min": 30.0},
        replicates=20,
        root_seed=2022,
        xatol=0.01,
    )
    assumed = base.submodels["notification"]["phone_minutes"]
    low, high = fit.interval[key]
    return [
        ["parameter", "assumed", "calibrated (t95 = 30 min)", "standard error", "95 % interval"],
        [
            "`phone_minutes`",
            f"{assumed:g} min",
            f"{num(fit.values[key], 2)} min",
            f"{num(fit.std_error[key], 2)} min",
            f"{num(low, 2)}–{num(high, 2)} min",
        ],
    ]


# ------------------------------------------------------------------------ notification.md


@table("notification_huchiyuan", slow=False, keep=("time",))
def notification_huchiyuan() -> Rows:
    """``examples/notify_huchiyuan.py``'s two plans (notification.md); seconds kept as typed."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from commgov.datasets import HUCHIYUAN, gusu
    from commgov.scheduling.notification import notification_problem_from_org, plan_notification
    from commgov.types import TimeWindow

    start = datetime(2022, 4, 11, 19, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    window = TimeWindow(start=start, end=start + timedelta(hours=2))
    model = gusu(seed=0, communities=[HUCHIYUAN])
    cases: tuple[tuple[str, dict[str, float]], ...] = (
        ("defaults (message 2 min, knock 1 min, 15 % offline)", {}),
        (
            "quick (message 1 min, knock 0.5 min, 5 % offline, stairs 0.25 min/floor)",
            {
                "group_message_minutes": 1.0,
                "knock_minutes": 0.5,
                "offline_share": 0.05,
                "stair_minutes_per_floor": 0.25,
            },
        ),
    )
    rows: Rows = [["assumptions", "makespan", "bound", "gap", "time"]]
    for label, parameters in cases:
        problem = notification_problem_from_org(
            model,
            HUCHIYUAN,
            window=window,
            enrolment="海棠先锋",
            use_availability=False,
            **parameters,
        )
        t = plan_notification(problem).totals
        assert t.gap is not None, "the plan has a bound"
        rows.append(
            [
                label,
                f"{num(t.makespan_minutes, 1)} min",
                f"{num(t.bound_s / 60, 1)} min",
                f"{num(100 * t.gap, 1)} %",
                "",
            ]
        )
    return rows


# ---------------------------------------------------------------------------- datasets.md


@functools.cache
def _gusu_figures() -> dict[str, Any]:
    """Counts of ``gusu(0)``, the datasheet's figures."""
    import statistics
    from collections import Counter

    from commgov.datasets import HUCHIYUAN, gusu
    from commgov.org import Role

    model = gusu(0)

    def community(record_id: str) -> str:
        return record_id.split("/")[0]

    households: Counter[str] = Counter()
    residents: Counter[str] = Counter()
    leaves = [(e.id, e.counts) for e in model.entrances]
    leaves += [(b.id, b.counts) for b in model.buildings if b.counts is not None]
    for record_id, counts in leaves:
        households[community(record_id)] += counts.households
        residents[community(record_id)] += counts.residents
    pioneers = Counter(community(p.id) for p in model.people if "海棠先锋" in p.enrolments)
    micro = [s for s in model.sites if s.brand == "小巷红韵"]
    micro_by = Counter(community(s.id) for s in micro)

    def others(counts: Counter[str]) -> tuple[int, int]:
        values = [v for k, v in counts.items() if k != HUCHIYUAN]
        return min(values), max(values)

    return {
        "residents": sum(residents.values()),
        "households": sum(households.values()),
        "sizes": sorted(households.values()),
        "size_median": statistics.median(households.values()),
        "hcy_households": households[HUCHIYUAN],
        "hcy_residents": residents[HUCHIYUAN],
        "units": Counter(u.kind.value for u in model.units),
        "buildings": len(model.buildings),
        "entrances": len(model.entrances),
        "limited": len(model.households),
        "elderly_alone": sum(h.elderly_alone for h in model.households),
        "pioneers": sum(pioneers.values()),
        "hcy_pioneers": pioneers[HUCHIYUAN],
        "pioneers_others": others(pioneers),
        "micro": len(micro),
        "hcy_micro": micro_by[HUCHIYUAN],
        "micro_others": others(micro_by),
        "micro_lanes": sum(s.lanes for s in micro),
        "riders": sum(Role.RIDER in p.roles for p in model.people),
        "party": Counter((p.level.value, p.kind.value) for p in model.party_orgs),
        "teams": Counter(t.kind.value for t in model.teams),
        "bodies": Counter(b.kind.value for b in model.bodies),
    }


def _n(x: float) -> str:
    return num(x, 0)


@table("gusu_figures", slow=True)
def gusu_figures() -> Rows:
    """The datasheet's figures of ``gusu(0)`` and what each is calibrated on (datasets.md)."""
    f = _gusu_figures()
    units = f["units"]
    return [
        ["figure (seed 0)", "value", "calibrated on"],
        [
            "residents",
            f"{_n(f['residents'])} (target 930,000, tested ± 1 % for other seeds too)",
            '"~0.93 m residents" (encyclopedia entry 姑苏区)',
        ],
        [
            "households",
            f"{_n(f['households'])}; {num(f['residents'] / f['households'], 1)} residents each "
            "on average",
            "Suzhou 2020 census household size (the generator's mean)",
        ],
        [
            "community sizes",
            f"{_n(f['sizes'][0])}–{_n(f['sizes'][-1])} households (median {_n(f['size_median'])})",
            "**assumption** — no published source gives sub-district or community figures: the "
            "170 communities other than 虎池苑社区 share the residents left after it (930,000 − "
            f"its {_n(f['hcy_residents'])}) in proportion to a lognormal weight each (σ = 0.35, "
            "clipped to 0.5–2 × the mean; largest remainders); the range sits in the "
            "1,000–3,000-household norm of the 2025 law (城市居民委员会组织法) with a tail above",
        ],
        [
            "虎池苑社区",
            f"{_n(f['hcy_households'])} households, {_n(f['hcy_pioneers'])} Haitang Pioneers, "
            "exactly the skeleton's records",
            "the 2022 article (20 pioneers notified 1,765 households)",
        ],
        [
            "compounds / lanes / courtyards",
            f"{_n(units['compound'])} / {_n(units['lane'])} / {_n(units['courtyard'])}",
            "generator (one compound per ~450 households, one lane per ~120) with a lane share "
            "per sub-district (**assumption**: 0.55 平江, 0.45 沧浪 and 双塔, 0.40 金阊 — the "
            "walled city's lanes; 0.15 虎丘 and 吴门桥, 0.10 白洋湾 and 苏锦 — outer estates; "
            "0.25 for 虎池苑社区, the skeleton's)",
        ],
        [
            "buildings / entrances",
            f"{_n(f['buildings'])} / {_n(f['entrances'])}",
            "generator: walk-ups of 5–7 storeys with 2–4 entrances; lane houses of 1–6 "
            "households without entrances",
        ],
        [
            "mobility-limited households (`Household` records)",
            f"{_n(f['limited'])} ({_n(f['elderly_alone'])} elderly living alone)",
            "2 % of residents (assumption, as in the generator)",
        ],
        [
            "Haitang Pioneers (海棠先锋, an enrolment)",
            f"{_n(f['pioneers'])}: {_n(f['hcy_pioneers'])} in 虎池苑社区, "
            f"{f['pioneers_others'][0]}–{f['pioneers_others'][1]} in each other community (at "
            "least 3, else in proportion to households)",
            '"1,000+" (千余名, the 2022 article), taken as 1,200; about 60 % also party members',
        ],
        [
            '"Red Charm of the Lanes" micro-sites (`brand="小巷红韵"`)',
            f"{_n(f['micro'])}: {_n(f['hcy_micro'])} in 虎池苑社区, "
            f"{f['micro_others'][0]}–{f['micro_others'][1]} in each other community (at least "
            f"1, else in proportion to households), {_n(f['micro_lanes'])} sampling lanes",
            '"273 micro-sites" (the article); all switched to sampling points, lanes sized by the '
            "generator (1.2 × walk-in demand over 06:30–13:00)",
        ],
        [
            "riders (`Role.RIDER`, ids `320508/R0001`…)",
            f"{_n(f['riders'])}, based within 500 m of a community drawn in proportion to "
            "households, delivery skill 3–5, one shift each on 2022-04-12, 15 % party members",
            '"600+ riders" (the article), taken as 620',
        ],
        [
            "zones",
            "one sealed building in 虎池苑社区 (the skeleton's); none elsewhere",
            "no published source gives district zone figures",
        ],
    ]


@table("gusu_organisation_net", slow=True)
def gusu_organisation_net() -> Rows:
    """The organisation net of ``gusu(0)``: bodies, party organisations, teams (datasets.md)."""
    f = _gusu_figures()
    party, teams, bodies = f["party"], f["teams"], f["bodies"]
    return [
        ["records (seed 0)", "value", "rule and calibration"],
        [
            "sub-district party working committees (党工委)",
            _n(party["working_committee", "regular"]),
            "one per sub-district, leading it",
        ],
        [
            "community party organisations",
            f"{_n(party['committee', 'regular'])} party committees (党委), one leading each "
            "community, subordinate to its working committee",
            "every community has ≥ 1,000 households, so ≥ 100 members at an assumed ≥ 4 % of "
            "residents: a committee by the branch-work thresholds (中国共产党支部工作条例（试行）)",
        ],
        [
            "co-governance party organisations (小区共治党组织)",
            f"{_n(party['branch', 'co_governance'])} branches, one per compound without property "
            "management (无物业小区), leading the compound",
            '"120+" (the article); the rule follows its example, 天河花园, a compound without a '
            "property company run by its co-governance party organisation. About 30 % of "
            "compounds have no property management (generator), which gives 120+ for the seeds "
            "tried",
        ],
        [
            'Haitang Pioneer teams (`Team(kind=VOLUNTEER, brand="海棠先锋")`)',
            f"{_n(teams['volunteer'])} teams, one per compound or lane where pioneers live, "
            "covering it, led by the unit's co-governance branch or else the community "
            f"committee; all {_n(f['pioneers'])} pioneers are members (the first by id leads)",
            '"pioneers placed in buildings" under "branches built on grids" (网易江苏 on '
            "彭山社区, [sources](glossary.md#sources))",
        ],
        [
            "party memberships",
            "each pioneer who is a party member is a member of the organisation leading their team",
            "—",
        ],
        [
            "action branch (行动支部)",
            f"{_n(party['branch', 'action_branch'])}, for 虎池苑社区's sealed zone, in force for "
            "the zone's window, leading the sealed building, with three party-member pioneers as "
            "members for the day",
            "the 2022 article; 联防联控机制综发〔2021〕92号",
        ],
        [
            "residents' / villagers' committees",
            f"{_n(bodies['residents_committee'])} / {_n(bodies['villagers_committee'])} `Body` "
            "records named as in the code table",
            "`official`: the code table names the committee",
        ],
        [
            "property companies",
            f"{_n(bodies['property_company'])}, one per professionally managed compound",
            "generator (70 % of compounds)",
        ],
        [
            "business-association volunteer teams",
            f"{_n(teams['business_association'])} `Team(kind=BUSINESS_ASSOCIATION)`, each "
            "partnering 1–3 communities drawn at random; no member records",
            '"41 volunteer teams from business associations" (the article)',
        ],
        [
            "riders' team (齐心(骑行)抗疫先锋队)",
            f"{_n(teams['rider'])} `Team(kind=RIDER)` with the {_n(f['riders'])} riders as "
            "members; each rider has one or two duties (publicist, needs courier, hardship "
            "reliever, observer)",
            '"600+ riders" (the article)',
        ],
    ]


# ------------------------------------------------------------------ vaccination-queue.md

_VAC_DAY_MIN = 13 * 60.0  # minutes of opening (assumed on the page)


def _vaccination_day(
    reg_min: float = 3.0, vac_min: float = 3.0, replicates: int = 100, seed: int = 2023
) -> tuple[float, float]:
    """The page's ``vaccination_day``: pooled mean minutes in the system, mean people in it."""
    import numpy as np

    from commgov.sim import (
        DeskPoint,
        ServiceTime,
        poisson_arrivals,
        run_tandem_desks,
        stream_factory,
        tandem_kpis,
    )

    lam = 536 / _VAC_DAY_MIN
    stages = [
        DeskPoint(id="registration", lanes=5, service=ServiceTime(mean_minutes=reg_min)),
        DeskPoint(id="vaccination", lanes=4, service=ServiceTime(mean_minutes=vac_min)),
    ]
    total = done = 0.0
    people = []
    for r in range(replicates):
        rngs = stream_factory(seed, r)
        arrivals = poisson_arrivals(stages[0], lam, _VAC_DAY_MIN, rngs)
        k = tandem_kpis(run_tandem_desks(stages, arrivals, rngs), stages, to_min=_VAC_DAY_MIN)
        total += k.mean_time_in_system_min * k.completed
        done += k.completed
        people.append(k.mean_in_system)
    return total / done, float(np.mean(people))


@table("vaccination_comparison", slow=False)
def vaccination_comparison() -> Rows:
    """Simulated W and L beside the paper's ranges, 100 days, seed 2023."""
    w, big_l = _vaccination_day()
    rows: Rows = [
        [
            "figure",
            "paper (range, midpoint)",
            "simulated",
            "residual to the midpoint",
            "inside the range",
        ]
    ]
    for label, paper, (lo, hi), value, unit in (
        ("minutes in the system `W`", "5.7–8", (5.7, 8.0), w, "min"),
        ("people in the system `L`", "4.1–5.2", (4.1, 5.2), big_l, "people"),
    ):
        mid = (lo + hi) / 2
        res = value - mid
        rows.append(
            [
                label,
                f"{paper}, {num(mid, 2)}",
                num(value, 2),
                f"{num(res, 2)} {unit} ({num(100 * res / mid, 0)} %)",
                "yes" if lo <= value <= hi else "no",
            ]
        )
    return rows


@table("vaccination_service_means", slow=False)
def vaccination_service_means() -> Rows:
    """W and L as the assumed service means move, 40 days each, seed 2023."""
    rows: Rows = [
        ["service means in minutes (registration, vaccination), 40 days", "W (min)", "L (people)"]
    ]
    for reg, vac, note in (
        (2.5, 2.5, ""),
        (3.0, 3.0, ""),
        (3.5, 3.5, ""),
        (2.0, 4.0, " (slow vaccination)"),
    ):
        w, big_l = _vaccination_day(reg, vac, replicates=40)
        rows.append([f"{reg:g}, {vac:g}{note}", num(w, 1), num(big_l, 1)])
    return rows


# ---------------------------------------------------------------------------- command line


def _pages_of(name: str) -> list[str]:
    return sorted({r.rel for r in all_regions() if r.name == name})


def main(argv: Sequence[str] | None = None) -> int:
    """Check or write the tables; the exit status is 1 when a check finds a difference."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="diff the tables (the default)")
    mode.add_argument("--write", action="store_true", help="rewrite the tables in place")
    mode.add_argument("--list", action="store_true", help="list the tables and timing tables")
    parser.add_argument("--table", action="append", help="only this table (repeatable)")
    parser.add_argument("--fast", action="store_true", help="only the tables not marked slow")
    args = parser.parse_args(argv)
    names = list(args.table) if args.table else list(TABLES)
    unknown = sorted(set(names) - set(TABLES))
    if unknown:
        parser.error(f"unknown table(s) {', '.join(unknown)}; known: {', '.join(TABLES)}")
    if args.fast:
        names = [n for n in names if not TABLES[n].slow]
    if args.list:
        for name in names:
            spec = TABLES[name]
            kept = f", kept as typed: {', '.join(spec.keep)}" if spec.keep else ""
            print(f"{name}{' (slow)' if spec.slow else ''}{kept}: {', '.join(_pages_of(name))}")
        for page in PAGES:
            for tname, why, line in timing_tables(page):
                print(
                    f"{tname} (timing table, not regenerated): "
                    f"{page.relative_to(ROOT).as_posix()}:{line}: {why}"
                )
        return 0
    for name in names:
        clock = time.perf_counter()
        compute(name)
        print(f"{name}: computed in {time.perf_counter() - clock:.1f} s", file=sys.stderr)
    if args.write:
        for region in write(names):
            print(f"rewrote {region.rel}: table {region.name}")
        return 0
    differing = check(names)
    for region, diff in differing:
        print(f"{region.rel}: table {region.name} differs from what commgov computes:")
        print(diff)
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
