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

Every run prints what it checked (each table, its pages, current or stale) or wrote. Exit
status: 0 all current (or written); 1 a table is stale; 2 the command, a page or this script
is broken — a malformed, unclosed or unopened marker (``page:line``), a marker naming no
function here, a function with no marker on any page, a run that selects nothing (a slow
table under ``--fast``), a table function that raised; 3 a page cannot be read or written.
A run of some tables (``--table``) reports only the faults of pages holding them, so one
broken page fails only its own tables; a run of every table reports all. ``--write``
computes everything first and then writes every changed page together, each atomically
(``commgov._files.write_texts``): on any fault or error no page is changed.

On the how-tos and the tutorials (:data:`GUARDED`) every Markdown table carries a marker, so
none of measured figures goes unchecked: a generated table its ``table`` markers, a table of
timings ``<!-- timing-table: NAME: reason -->``, a table of options, inputs or codes
``<!-- reference-table -->`` right before it (blank lines apart).

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
import errno
import fnmatch
import functools
import math
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: The pages that may hold marked tables.
PAGES: tuple[Path, ...] = (ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")))

#: The pages where every Markdown table carries a marker (the how-tos and the tutorials).
GUARDED: tuple[str, ...] = ("docs/howto/*.md", "docs/tutorial-*.md", "docs/your-own-community.md")

#: Exit statuses: a table differs from its page; the command, a page or this script is broken
#: (a malformed or unknown marker, a table on no page, nothing selected, a table function that
#: raised); a page cannot be read or written (then no page was changed).
STALE, BROKEN, IO_ERROR = 1, 2, 3

_BEGIN = re.compile(r"^<!-- table: (?P<name>[a-z0-9_]+) -->\s*$")
_END = re.compile(r"^<!-- /table -->\s*$")
_TIMING = re.compile(r"^<!-- timing-table: (?P<name>[a-z0-9_]+): (?P<why>.+?) -->\s*$")
_REFERENCE = re.compile(r"^<!-- reference-table -->\s*$")
#: Any line that looks like one of the markers: a malformed one is reported, never skipped.
_MARKERISH = re.compile(r"^\s*<!--\s*/?\s*(?:table|timing-table|reference-table)\b", re.I)
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
_WORD = re.compile(r"[a-z0-9_]+")

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


def _rel(path: Path) -> str:
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


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
        return _rel(self.path)


@dataclass(frozen=True)
class Fault:
    """Something that keeps a run from checking what it was asked to (exit status ``code``).

    ``names`` are the tables it concerns: a run of some tables (``--table``) reports it
    when it names one of them; a run of every table always does. ``None``: every run.
    """

    where: str  # "page:line", or the script
    message: str
    names: frozenset[str] | None = frozenset()
    code: int = BROKEN

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def concerns(self, requested: Sequence[str] | None) -> bool:
        """Whether a run of ``requested`` tables (``None``: every table) must report it."""
        return requested is None or self.names is None or bool(self.names & set(requested))


class DocTablesError(ValueError):
    """Faults that keep a check or a write from covering what it was asked to."""

    def __init__(self, faults: Sequence[Fault]) -> None:
        self.faults = list(faults)
        super().__init__("\n".join(str(f) for f in self.faults))


@dataclass
class Page:
    """One page's markers: regions, timing tables, faults and the table names they mention.

    A page with faults is not checked or written; ``names`` holds broken markers' names too.
    """

    path: Path
    text: str
    regions: list[Region]
    timing: list[tuple[str, str, int]]  # (name, reason, line)
    faults: list[Fault]
    names: set[str]
    unmarked: list[Fault] = field(default_factory=list)  # tables without a marker


def _guarded(path: Path) -> bool:
    rel = _rel(path)
    return any(fnmatch.fnmatchcase(rel, pattern) for pattern in GUARDED)


def scan_page(path: Path, text: str) -> Page:
    """The markers of one page, with a fault (``page:line``) for each malformed one.

    Fenced code blocks are skipped. On a page of :data:`GUARDED`, every Markdown table sits
    in a ``table`` region, or right after (blank lines apart) a ``timing-table`` or a
    ``<!-- reference-table -->`` marker (options, inputs, codes); one without is listed in
    ``unmarked`` (a fault of every run of all tables, not of the page's regions).
    """
    rel = _rel(path)
    lines = text.splitlines()
    page = Page(path, text, [], [], [], set())
    guarded = _guarded(path)

    def fault(i: int, message: str, names: set[str] | None = None) -> None:
        page.faults.append(Fault(f"{rel}:{i + 1}", message, frozenset(names or ())))

    open_at: tuple[int, str] | None = None
    pending: tuple[int, str] | None = None  # a timing/reference marker awaiting its table
    fence: str | None = None
    in_table = False

    def drop_pending() -> None:
        nonlocal pending
        if pending is not None:
            fault(pending[0], f"{pending[1]} marker not followed by a Markdown table")
            pending = None

    i = 0
    while i < len(lines):
        line = lines[i]
        opening = _FENCE.match(line)
        if fence is not None:
            if (
                opening
                and opening["fence"][0] == fence[0]
                and len(opening["fence"]) >= len(fence)
                and not line[opening.end() :].strip()
            ):
                fence = None
            i += 1
            continue
        if opening is not None:
            drop_pending()
            fence, in_table = opening["fence"], False
            i += 1
            continue
        if line.startswith("|"):
            if not in_table and open_at is None and pending is None and guarded:
                page.unmarked.append(
                    Fault(
                        f"{rel}:{i + 1}",
                        "a Markdown table without a marker (<!-- table: NAME --> … <!-- /table "
                        "--> for measured figures, <!-- timing-table: NAME: reason --> for "
                        "timings, <!-- reference-table --> for options, inputs and codes)",
                    )
                )
            in_table, pending = True, None
            i += 1
            continue
        in_table = False
        if not line.strip():
            i += 1
            continue
        if not _MARKERISH.match(line):
            drop_pending()
            i += 1
            continue
        drop_pending()
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin is not None:
            page.names.add(begin["name"])
            if open_at is not None:
                fault(
                    i,
                    f"table {begin['name']!r} opens inside table {open_at[1]!r} (line "
                    f"{open_at[0] + 1}): a <!-- /table --> is missing",
                    {begin["name"]},
                )
            open_at = (i, begin["name"])
        elif end is not None:
            if open_at is None:
                fault(i, "<!-- /table --> without an opening marker")
            else:
                page.regions.append(Region(path, open_at[1], open_at[0], i))
                open_at = None
        elif _REFERENCE.match(line):
            pending = (i, "reference-table")
        elif line.startswith("<!-- timing-table"):
            j = i
            while "-->" not in lines[j] and j + 1 < len(lines) and lines[j + 1].strip():
                j += 1
            joined = " ".join(ln.strip() for ln in lines[i : j + 1])
            m = _TIMING.match(joined)
            if m is None:
                page.names.update(_WORD.findall(joined))
                fault(i, f"malformed timing-table marker {line!r}", set(_WORD.findall(joined)))
            else:
                page.names.add(m["name"])
                page.timing.append((m["name"], m["why"], i + 1))
                pending = (i, "timing-table")
            i = j + 1
            continue
        else:
            page.names.update(_WORD.findall(line))
            fault(i, f"malformed table marker {line!r}", set(_WORD.findall(line)))
        i += 1
    drop_pending()
    if open_at is not None:
        fault(open_at[0], f"table {open_at[1]!r} is never closed", {open_at[1]})
    # a page with faults is not checked: every table it mentions is concerned
    page.faults = [
        Fault(f.where, f.message, frozenset(page.names) | (f.names or frozenset()))
        for f in page.faults
    ]
    return page


def regions(path: Path, text: str | None = None) -> list[Region]:
    """The marked tables of one page, in order; a malformed marker is a ``ValueError``."""
    page = scan_page(path, path.read_text(encoding="utf-8") if text is None else text)
    if page.faults:
        raise DocTablesError(page.faults)
    return page.regions


def timing_tables(path: Path) -> list[tuple[str, str, int]]:
    """``(name, reason, line)`` of every timing table of a page (not regenerated).

    The marker ``<!-- timing-table: NAME: reason -->`` may wrap over several lines.
    """
    page = scan_page(path, path.read_text(encoding="utf-8"))
    if page.faults:
        raise DocTablesError(page.faults)
    return page.timing


@dataclass
class Survey:
    """Every page's markers and every fault: of pages, and of markers against functions."""

    pages: list[Page]
    faults: list[Fault]

    def regions(self) -> list[Region]:
        """The regions of the pages without faults."""
        return [r for page in self.pages if not page.faults for r in page.regions]

    def pages_of(self, name: str) -> list[str]:
        """The pages whose markers mention table ``name``."""
        return sorted({_rel(p.path) for p in self.pages if name in p.names})


def survey() -> Survey:
    """Scan :data:`PAGES` and match their markers with :data:`TABLES`."""
    pages: list[Page] = []
    faults: list[Fault] = []
    for path in PAGES:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeError) as exc:
            faults.append(Fault(_rel(path), f"cannot read the page: {exc}", None, IO_ERROR))
            continue
        page = scan_page(path, text)
        pages.append(page)
        faults += page.faults + page.unmarked
    script = "scripts/doc_tables.py"
    timing_seen: dict[str, str] = {}
    for page in pages:
        for region in page.regions:
            if region.name not in TABLES:
                faults.append(
                    Fault(
                        f"{region.rel}:{region.begin + 1}",
                        f"the marker names table {region.name!r}, which has no function in "
                        f"{script}: it would never be checked",
                        frozenset({region.name}),
                    )
                )
        for name, why, line in page.timing:
            where = f"{_rel(page.path)}:{line}"
            if name in TABLES:
                faults.append(
                    Fault(
                        where, f"{name!r} is both generated and a timing table", frozenset({name})
                    )
                )
            if name in timing_seen:
                faults.append(
                    Fault(
                        where,
                        f"timing table {name!r} also at {timing_seen[name]}",
                        frozenset({name}),
                    )
                )
            timing_seen.setdefault(name, where)
            if len(why.split()) < 5:
                faults.append(
                    Fault(where, f"timing table {name!r} needs a reason (five words or more)")
                )
    mentioned = set().union(*(page.names for page in pages)) if pages else set()
    for name in TABLES:
        if name not in mentioned:
            faults.append(
                Fault(
                    script,
                    f"table {name!r} has a function but no marker on any page: it is never "
                    f"checked (add <!-- table: {name} --> … <!-- /table --> to its page, or "
                    "delete the function)",
                    frozenset({name}),
                )
            )
    return Survey(pages, faults)


def all_regions() -> list[Region]:
    """Every marked table of every page; a fault of any page is a ``DocTablesError``."""
    found = survey()
    if found.faults:
        raise DocTablesError(found.faults)
    return found.regions()


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


def _selected(found: Survey, names: Sequence[str] | None) -> list[Region]:
    return [r for r in found.regions() if names is None or r.name in names]


def _texts(found: Survey) -> dict[Path, str]:
    return {page.path: page.text for page in found.pages}


def _lines(found: Survey) -> dict[Path, list[str]]:
    return {page.path: page.text.splitlines() for page in found.pages}


def check(names: Sequence[str] | None = None) -> list[tuple[Region, str]]:
    """``(region, diff)`` for every marked table (of ``names``) that differs from its page.

    A fault of the pages or the markers that concerns these tables (see :func:`survey`) is a
    :class:`DocTablesError`: the check never passes by checking nothing.
    """
    found = survey()
    faults = [f for f in found.faults if f.concerns(names)]
    if faults:
        raise DocTablesError(faults)
    lines = _lines(found)
    out = []
    for region in _selected(found, names):
        _, diff = diff_region(region, lines[region.path])
        if diff:
            out.append((region, diff))
    return out


def rewritten(found: Survey, names: Sequence[str] | None) -> dict[Path, tuple[str, list[Region]]]:
    """The new text of every page whose tables (of ``names``) change, with those regions."""
    out = {}
    for page in found.pages:
        if page.faults:
            continue
        lines = page.text.splitlines()
        original = list(lines)
        changed = []
        # from the last region up, so earlier indices stay valid
        for region in reversed(page.regions):
            if names is not None and region.name not in names:
                continue
            want, diff = diff_region(region, original)
            if diff and want != original[region.begin + 1 : region.end]:
                lines[region.begin + 1 : region.end] = want
                changed.append(region)
        new = "\n".join(lines) + ("\n" if page.text.endswith("\n") else "")
        if new != page.text:
            out[page.path] = (new, changed[::-1])
    return out


def write_pages(texts: Mapping[Path, str], read: Mapping[Path, str] | None = None) -> None:
    """Write the pages all together, each atomically (``commgov._files.write_texts``).

    A read-only page, or one whose text is no longer ``read[page]`` (edited while the tables
    were computed), is refused before anything is written; any failure leaves every page as
    it was. Raises ``OSError`` naming the page.
    """
    from commgov._files import write_texts

    for path in texts:
        if not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "the page is read-only", str(path))
        if read is not None and path.read_text(encoding="utf-8") != read[path]:
            message = "the page changed on disk during the run; run again"
            raise OSError(errno.EAGAIN, message, str(path))
    write_texts({Path(path): text for path, text in texts.items()})


def write(names: Sequence[str] | None = None) -> list[Region]:
    """Rewrite the marked tables (of ``names``) in place; the regions that changed.

    Everything is computed first, then the changed pages are written all together, each
    atomically: on an error no page is changed. Faults as for :func:`check`.
    """
    found = survey()
    faults = [f for f in found.faults if f.concerns(names)]
    if faults:
        raise DocTablesError(faults)
    new = rewritten(found, names)
    write_pages({path: text for path, (text, _) in new.items()}, _texts(found))
    return [region for _, changed in new.values() for region in changed]


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


# --------------------------------------------------------------------------------- relay.md


@table("relay_riders", slow=False)
def relay_riders() -> Rows:
    """The riders' day of relay.md ("How many riders?"): replicate 0, root seed 0, 虎池苑."""
    from commgov.sim import Scenario, run_replicate

    day = Scenario.from_dict(
        {
            "name": "riders",
            "start": "2022-04-12T08:00:00+08:00",
            "horizon_min": 600,
            "community": {"community": "320508017016"},
            "submodels": {
                "relay": {
                    "volunteers": 12,
                    "riders_per_hour": 60,
                    "arrivals_until_min": 480,
                    "riders": 1,
                }
            },
        }
    )
    rows: Rows = [
        ["riders", "parcels at gate per hour", "left at the depot at 18:00", "rider utilisation"]
    ]
    for n in (1, 2, 3, 8):
        k = run_replicate(day.with_updates({"submodels.relay.riders": n}), 0, 0).kpis
        rows.append(
            [
                str(n),
                num(k["relay.parcels_at_gate_per_hour"], 1),
                num(k["relay.at_depot_end"], 0),
                num(k["relay.rider_utilisation"], 2),
            ]
        )
    return rows


# ---------------------------------------------------------------- staffing-and-rosters.md


@table("queue_lanes", slow=False)
def queue_lanes() -> Rows:
    """Lanes per point, lane schedules and breaks in 虎池苑, replicate 0, root seed 0."""
    from commgov.sim import Scenario, run_replicate

    day = Scenario.from_dict(
        {
            "name": "lanes",
            "start": "2022-04-11T19:00:00+08:00",
            "horizon_min": 1440,
            "community": {"community": "320508017016"},
            "submodels": {"queues": {"lanes": 3}},
        }
    )
    cases: tuple[tuple[str, dict[str, Any]], ...] = (
        ("3 at every point", {}),
        ("S01 with 1 lane", {"lanes_by_point": {"320508017016/S01": 1}}),
        ("3, then 1 from 09:00", {"lane_schedule": {"*": [[690, 3], [840, 1]]}}),
        (
            "3, 120-min shifts, 30-min breaks together",
            {"lane_shift_minutes": 120, "lane_break_minutes": 30},
        ),
    )
    rows: Rows = [["lanes", "mean wait (min)", "worst point's p95 wait (min)"]]
    for label, lanes in cases:
        updates = {f"submodels.queues.{key}": value for key, value in lanes.items()}
        k = run_replicate(day.with_updates(updates), 0, 0).kpis
        rows.append(
            [
                label,
                num(k["queues.mean_wait_min"], 1),
                num(k["queues.worst_point_wait_p95_min"], 1),
            ]
        )
    return rows


# ---------------------------------------------------------------------------------- sites.md


@table("sites_shuangta", slow=True)
def sites_shuangta() -> Rows:
    """The plan of 双塔街道 (sites.md): ``gusu(0)``, 07:00–13:00, seed 0, about 20–30 s."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from commgov.datasets import gusu
    from commgov.scheduling.sites import (
        SitesPolicy,
        plan_sites,
        sites_lower_bound,
        sites_problem_from_org,
    )
    from commgov.types import TimeWindow

    tz = ZoneInfo("Asia/Shanghai")
    window = TimeWindow(
        start=datetime(2022, 4, 12, 7, 0, tzinfo=tz), end=datetime(2022, 4, 12, 13, 0, tzinfo=tz)
    )
    policy = SitesPolicy(max_walk_m=500, target_wait_min=15.0, wait_quantile=0.95)
    problem = sites_problem_from_org(gusu(0), "320508021", window=window, policy=policy)
    plan = plan_sites(problem, time_limit_s=90, deterministic_time=10, seed=0)
    t = plan.totals
    at_once = [sum(getattr(s.slots[0], role) for s in plan.sites) for role in _SITES_ROLES]
    lp = sites_lower_bound(problem).tiers["staff_hours"]
    assert plan.info.bound is not None and plan.info.gap is not None, "the plan has a bound"
    return [
        ["figure", "value"],
        ["points opened / lanes", f"{num(t.sites_opened, 0)} / {num(t.lanes, 0)}"],
        [
            "at once: swabbers / registrars / orderlies",
            " / ".join(num(n, 0) for n in at_once),
        ],
        [
            "residents: walk-in / with a point within 500 m / served",
            f"{num(t.residents, 0)} / {num(t.residents_in_reach, 0)} / {num(t.served, 0)}",
        ],
        [
            "staff-hours (swabber-hours)",
            f"**{num(t.staff_hours, 0)}** ({num(t.swabber_hours, 0)})",
        ],
        ["largest Erlang-C p95 wait", f"{num(t.max_quantile_wait_min, 1)} min"],
        ["status", f"`{plan.info.status.value}`"],
        [
            "the plan's own bound (`plan.info.bound`, splittable relaxation), gap",
            f"{num(plan.info.bound, 0)} staff-hours, **{num(100 * plan.info.gap, 2)} %**",
        ],
        [
            "LP relaxation (`sites_lower_bound`), gap",
            f"{num(lp, 0)} staff-hours, {num(100 * (t.staff_hours - lp) / lp, 2)} %",
        ],
    ]


_SITES_ROLES = ("swabbers", "registrars", "orderlies")


# ---------------------------------------------------------------------------- command line


def _report(faults: Sequence[Fault]) -> int:
    """Print the faults (stderr); the exit status they call for (0 when none)."""
    for f in faults:
        print(f"error: {f}", file=sys.stderr)
    return max((f.code for f in faults), default=0)


def main(argv: Sequence[str] | None = None) -> int:
    """Check or write the tables; the exit status (see :data:`STALE`) says what went wrong.

    Every run prints what it checked or wrote; a run that would check nothing (every table
    it selects is slow under ``--fast``, or on no page) is an error, as is a marker naming no
    function, a function on no page or a malformed page that holds a selected table.
    """
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=f"exit status: 0 all current (or written), {STALE} a table is stale, "
        f"{BROKEN} a usage error or a broken page or marker, {IO_ERROR} a page cannot be "
        "read or written (no page is changed)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="diff the tables (the default)")
    mode.add_argument("--write", action="store_true", help="rewrite the tables in place")
    mode.add_argument("--list", action="store_true", help="list the tables and timing tables")
    parser.add_argument("--table", action="append", help="only this table (repeatable)")
    parser.add_argument("--fast", action="store_true", help="only the tables not marked slow")
    args = parser.parse_args(argv)
    requested = list(dict.fromkeys(args.table)) if args.table else None
    found = survey()
    mentioned = set().union(*(page.names for page in found.pages)) if found.pages else set()
    if requested is not None:
        unknown = sorted(n for n in requested if n not in TABLES and n not in mentioned)
        if unknown:
            parser.error(f"unknown table(s) {', '.join(unknown)}; known: {', '.join(TABLES)}")
    names = [n for n in (requested or TABLES) if n in TABLES]
    skipped = [n for n in names if args.fast and TABLES[n].slow]
    names = [n for n in names if n not in skipped]
    faults = [f for f in found.faults if f.concerns(requested)]
    if not names:
        why = f"{', '.join(skipped)}: slow, and --fast skips slow tables" if skipped else ""
        faults.append(Fault("scripts/doc_tables.py", f"nothing to check ({why or 'no table'})"))
    if args.list:
        for name in names:
            spec = TABLES[name]
            kept = f", kept as typed: {', '.join(spec.keep)}" if spec.keep else ""
            pages = ", ".join(found.pages_of(name)) or "ON NO PAGE"
            print(f"{name}{' (slow)' if spec.slow else ''}{kept}: {pages}")
        for page in found.pages:
            for tname, why, line in page.timing:
                print(f"{tname} (timing table, not regenerated): {_rel(page.path)}:{line}: {why}")
        return _report(faults)
    if args.write and faults:
        code = _report(faults)
        print("nothing was computed or written", file=sys.stderr)
        return code
    computed = []
    for name in names:
        clock = time.perf_counter()
        try:
            compute(name)
        except Exception as exc:  # a table function is broken: report it, go on with the rest
            traceback.print_exc()
            message = f"table {name!r}: its function raised {type(exc).__name__}: {exc}"
            faults.append(Fault("scripts/doc_tables.py", message, frozenset({name})))
            continue
        computed.append(name)
        print(f"{name}: computed in {time.perf_counter() - clock:.1f} s", file=sys.stderr)
    regions = _selected(found, computed)
    skip_note = f"; skipped as slow (--fast): {', '.join(skipped)}" if skipped else ""
    if args.write:
        if faults:
            code = _report(faults)
            print("nothing was written", file=sys.stderr)
            return code
        new = rewritten(found, computed)
        try:
            write_pages({path: text for path, (text, _) in new.items()}, _texts(found))
        except OSError as exc:
            where = _rel(Path(exc.filename)) if exc.filename else "a page"
            reason = str(exc.strerror or exc).removeprefix(f"cannot write {exc.filename}: ")
            print(
                f"error: cannot write {where}: {reason}; no page was changed",
                file=sys.stderr,
            )
            return IO_ERROR
        changed = [region for _, regs in new.values() for region in regs]
        for region in changed:
            print(f"rewrote {region.rel}: table {region.name}")
        print(
            f"wrote {len(changed)} of {len(regions)} region(s) of {len(computed)} table(s) "
            f"on {len(new)} page(s); the others were current{skip_note}"
        )
        return 0
    lines = _lines(found)
    state: dict[str, list[str]] = {name: [] for name in computed}
    stale = 0
    for region in regions:
        _, diff = diff_region(region, lines[region.path])
        state[region.name].append(f"{region.rel} {'STALE' if diff else 'current'}")
        if diff:
            stale += 1
            print(f"{region.rel}: table {region.name} differs from what commgov computes:")
            print(diff)
    for name in names:
        print(f"  {name}: {', '.join(state.get(name, [])) or 'NOT CHECKED (see the errors)'}")
    n_pages = len({region.path for region in regions})
    print(
        f"checked {len(computed)} table(s) in {len(regions)} region(s) on {n_pages} "
        f"page(s): {stale} stale{skip_note}"
    )
    code = _report(faults)
    return code or (STALE if stale else 0)


if __name__ == "__main__":
    sys.exit(main())
