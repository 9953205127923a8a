"""Exports of a sampling plan: CSV per point and per building (here), iCalendar
(:mod:`commgov.io._sampling_ics`), building notices (:mod:`commgov.io._sampling_notices`),
all of them in one pass (:mod:`commgov.io._sampling_files`); the checks, slot times and the
daylight-saving rule they share are here.

A sampling plan (:class:`commgov.scheduling.SamplingPlan`) tells each building which point to
walk to and in which slot. This module turns it into what the people on the ground use:

* :func:`sampling_csv_texts`: ``plan.csv`` (every batch, :meth:`SamplingPlan.rows`),
  ``buildings.csv`` (one row per building slot, sealed buildings flagged door to door) and
  one ``point_<id>.csv`` per sampling point (its arrivals by slot), all formula-safe;
* :func:`sampling_ics`: an iCalendar file (RFC 5545, extra ``commgov[ical]``) with one event
  per building slot, stable UIDs and the problem's time zone;
* :func:`building_notices`: the notice each building group receives, in Chinese or English.

Times are local times of the problem's time zone (ISO 8601 with offset in the CSV files).
Across a daylight-saving change they stay unambiguous by one rule each: in the calendar, an
event whose start or end local time is ambiguous (the repeated hour when clocks go back) or
does not exist (the skipped hour when they go forward) is written in UTC (``…Z``), every
other event in local time with ``TZID``; in notices (and event descriptions), every time of a
day on which the zone's UTC offset changes carries its offset, e.g. ``01:00–01:30
(UTC-05:00)`` (other days, and zones without changes such as Asia/Shanghai, show the time
alone). Slot ends are computed in UTC (elapsed time), not on the wall clock.
Everything is deterministic: rows and events are sorted by id and slot, whatever the order
of the records in the problem and plan.

Speed: every export is linear in the plan (after one sort of its assignments). What depends
only on a slot (its local and UTC times, their iCalendar and ISO 8601 spellings, the clock
times shown in notices) is computed once per slot, the formula-safe spelling once per id, and
the calendar is written as RFC 5545 text directly (:func:`sampling_ics`; only its
``VTIMEZONE``, which depends on the time zone alone, comes from the ``icalendar`` library,
once per zone). On the district benchmark tier D13 (21,079 batches, 400 points) the
calendar takes ≈ 0.2 s CPU where one ``icalendar`` object per event took ≈ 4 s, and all
files 0.3 s where they took 4.8 s (``benchmarks/bench_sampling_export.py``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import operator
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from commgov._files import _FORMULA_START, formula_safe
from commgov._perf import gc_paused

if TYPE_CHECKING:
    from commgov.scheduling.sampling import SamplingPlan, SamplingProblem


__all__ = ["BUILDING_COLUMNS", "POINT_COLUMNS", "sampling_csv_texts"]


#: Columns of ``buildings.csv`` (:func:`sampling_csv_texts`), in order.
BUILDING_COLUMNS: tuple[str, ...] = (
    "building_id",
    "building_name",
    "kind",
    "point_id",
    "slot",
    "slot_start",
    "slot_end",
    "batches",
    "households",
    "people",
    "door_to_door",
    "home_visit_residents",
)


#: Columns of each ``point_<id>.csv`` (:func:`sampling_csv_texts`), in order.
POINT_COLUMNS: tuple[str, ...] = (
    "point_id",
    "point_name",
    "slot",
    "slot_start",
    "slot_end",
    "building_id",
    "building_name",
    "batch_id",
    "households",
    "people",
    "walk_m",
)


#: Namespace of the event UIDs (uuid5 of "commgov sampling").
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://commgov.invalid/sampling-plan")


@dataclass(slots=True)
class _Slot:
    """The batches of one building in one slot, at its point."""

    building_id: str
    point_id: str
    slot: int
    start: datetime
    end: datetime
    batch_ids: list[str] = field(default_factory=list)
    households: int = 0
    people: int = 0
    walk_m: int = 0


def _check(problem: SamplingProblem, plan: SamplingPlan) -> None:
    """Refuse a plan that names buildings, batches or points the problem does not hold."""
    from commgov.errors import expect_type
    from commgov.scheduling.sampling import SamplingPlan, SamplingProblem

    expect_type(problem, SamplingProblem, "problem")
    expect_type(plan, SamplingPlan, "plan")
    buildings = {b.id for b in problem.buildings}
    points = {p.id for p in problem.points}
    batches = {k.id for b in problem.buildings for k in b.batches}
    for a in plan.assignments:
        if a.building_id in buildings and a.point_id in points and a.batch_id in batches:
            continue
        for kind, value, known in (
            ("building", a.building_id, buildings),
            ("point", a.point_id, points),
            ("batch", a.batch_id, batches),
        ):
            if value not in known:
                raise ValueError(
                    f"the plan's assignment of batch {a.batch_id!r} names "
                    f"{kind} {value!r}, which the problem does not hold: "
                    "export a plan with the problem it was made for"
                )
    for d in plan.door_to_door:
        if d.building_id not in buildings:
            raise ValueError(
                f"the plan's door-to-door building {d.building_id!r} is not in the problem"
            )


@dataclass(frozen=True, slots=True)
class _When:
    """One slot boundary ``t`` (the start of slot ``t``), in every spelling the exports use."""

    local: datetime  # aware, in the problem's time zone
    iso: str  # ISO 8601 with offset (CSV files)
    utc_iso: str  # ISO 8601 in UTC (event UIDs)
    ical_local: str  # 20220412T063000 (with TZID)
    ical_utc: str  # 20220411T223000Z
    unambiguous: bool  # the local reading names exactly this instant (_unambiguous)


class _Times(dict[int, _When]):
    """Slot boundaries of a problem, computed once each on first use (t → :class:`_When`)."""

    def __init__(self, problem: SamplingProblem) -> None:
        super().__init__()
        self._problem = problem

    def __missing__(self, t: int) -> _When:
        local = self._problem.slot_start(t)
        utc = local.astimezone(UTC)
        when = _When(
            local,
            local.isoformat(),
            utc.isoformat(),
            _ical_stamp(local),
            _ical_stamp(utc) + "Z",
            _unambiguous(local),
        )
        self[t] = when
        return when


def _ical_stamp(moment: datetime) -> str:
    """``YYYYMMDDTHHMMSS`` of a datetime's wall-clock reading (seconds; no fraction)."""
    return (
        f"{moment.year:04}{moment.month:02}{moment.day:02}"
        f"T{moment.hour:02}{moment.minute:02}{moment.second:02}"
    )


@dataclass(slots=True)
class _Export:
    """What every export of one (problem, plan) shares, computed once (:func:`_prepare`)."""

    problem: SamplingProblem
    plan: SamplingPlan
    times: _Times
    households: dict[str, int]
    slots: list[_Slot]


def _prepare(problem: SamplingProblem, plan: SamplingPlan) -> _Export:
    """Check the pair, then group the plan's batches into building slots.

    Building slots (building, slot) with their batches are sorted by building id then slot,
    and their batches by id. O(A log A) for A assignments.
    """
    _check(problem, plan)
    times = _Times(problem)
    households = {k.id: k.households for b in problem.buildings for k in b.batches}
    out: dict[tuple[str, int], _Slot] = {}
    for a in sorted(plan.assignments, key=operator.attrgetter("building_id", "slot", "batch_id")):
        key = (a.building_id, a.slot)
        s = out.get(key)
        if s is None:
            # the end is the next slot's start: elapsed time, right across a DST change
            s = out[key] = _Slot(
                a.building_id,
                a.point_id,
                a.slot,
                times[a.slot].local,
                times[a.slot + 1].local,
                walk_m=a.walk_m,
            )
        s.batch_ids.append(a.batch_id)
        s.households += households[a.batch_id]
        s.people += a.people
    return _Export(problem, plan, times, households, list(out.values()))


def _window(problem: SamplingProblem) -> tuple[datetime, datetime]:
    return problem.window.start.astimezone(problem.tz), problem.window.end.astimezone(problem.tz)


def _offset_changes_on(day: date, tz: tzinfo) -> bool:
    """Whether the zone's UTC offset changes during the local calendar day ``day``."""
    first = datetime.combine(day, time(), tz).astimezone(UTC)
    after = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    return first.astimezone(tz).utcoffset() != after.astimezone(tz).utcoffset()


def _utc_offset(moment: datetime) -> str:
    """``UTC+08:00``, ``UTC-05:00``: the offset of an aware local time."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def _clock_pair(start: datetime, end: datetime) -> tuple[str, str]:
    """``HH:MM`` of a slot's start and end, with UTC offsets on a day the offset changes.

    Both are aware local times. On a day with a daylight-saving change the same wall time
    can mean two instants (or none), so each time then carries its offset: once, after the
    end, when start and end share it (``01:00–01:30 (UTC-05:00)``), after each otherwise.
    """
    first, last = f"{start:%H:%M}", f"{end:%H:%M}"
    tz = start.tzinfo
    if tz is not None and (
        _offset_changes_on(start.date(), tz) or _offset_changes_on(end.date(), tz)
    ):
        if start.utcoffset() == end.utcoffset():
            last += f" ({_utc_offset(end)})"
        else:
            first += f" ({_utc_offset(start)})"
            last += f" ({_utc_offset(end)})"
    return first, last


def _unambiguous(moment: datetime) -> bool:
    """Whether an aware local time's wall-clock reading names exactly one instant.

    False in the repeated hour of a fall-back change (the reading occurs twice) and in the
    skipped hour of a spring-forward change (it never occurs): in both, flipping PEP 495's
    ``fold`` changes the UTC offset.
    """
    return moment.replace(fold=1 - moment.fold).utcoffset() == moment.utcoffset()


def _file_names(point_ids: list[str]) -> dict[str, str]:
    """Point id → ``point_<safe id>.csv``; ids that clash once made safe get a short hash."""
    safe = {pid: re.sub(r"[^\w.-]", "_", pid).lstrip(".") or "_" for pid in point_ids}
    seen: dict[str, int] = defaultdict(int)
    for name in safe.values():
        seen[name.casefold()] += 1
    out = {}
    for pid in point_ids:
        name = safe[pid]
        if seen[name.casefold()] > 1:
            name += "-" + hashlib.sha256(pid.encode()).hexdigest()[:8]
        out[pid] = f"point_{name}.csv"
    return out


def _cell(value: Any) -> str:
    """The text of a CSV cell as :func:`~commgov.io.formula_safe` gives it (fast for text)."""
    if type(value) is str and not value.startswith(_FORMULA_START):
        return value  # the common case, without a call
    return formula_safe(value)


def _field(text: str) -> str:
    """A cell's text as the CSV writer puts it in a row of several cells (quoted if needed).

    The writer (``csv.writer``, ``lineterminator="\\n"``, minimal quoting) quotes each cell
    on its own, so a row is its cells' spellings joined by commas; text without a comma, a
    double quote or a line break is written as it is, other text is spelt by the writer.
    """
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([text, ""])  # two cells: no lone-cell rule
        return buf.getvalue()[:-2]
    return text


def _text(value: Any) -> str:
    """A value's CSV cell: formula-safe (:func:`_cell`), then quoted as the writer quotes it."""
    return _field(_cell(value))


class _SafeText(dict[str, str]):
    """Id → its CSV cell (:func:`_text`), computed once per id."""

    def __missing__(self, key: str) -> str:
        value = _text(key)
        self[key] = value
        return value


def _csv(header: Sequence[str], lines: list[str]) -> str:
    """CSV text (``\\n`` line ends): the header, then rows already spelt as CSV lines."""
    return "\n".join([",".join(_text(h) for h in header), *lines]) + "\n"


def _plan_lines(plan: SamplingPlan, safe: _SafeText) -> list[str]:
    """The rows of :meth:`SamplingPlan.rows` (``lang="en"``) as CSV lines, in its order.

    Written here from the records (ids spelt once each) rather than through the row
    mappings; a test holds the two to the same bytes. Columns
    :attr:`SamplingPlan.ROW_COLUMNS`: kind, batch_id, building_id, point_id, slot,
    slot_start, households, people, walk_m, reason_code, reason.
    """
    lang = "en"
    iso: dict[tuple[datetime, timedelta | None], str] = {}
    batches: list[tuple[str, str]] = []
    for a in plan.assignments:
        at = a.slot_start
        key = (at, at.utcoffset())  # the same instant and offset: the same ISO 8601 text
        start = iso.get(key)
        if start is None:
            start = iso[key] = _text(at.isoformat())
        batch = a.batch_id
        batches.append(
            (
                batch,
                f"assignment,{safe[batch]},{safe[a.building_id]},{safe[a.point_id]},"
                f"{a.slot},{start},,{a.people},{a.walk_m},,",
            )
        )
    for u in plan.unserved:
        codes = _text(";".join(str(r.code) for r in u.reasons))
        texts = _text("; ".join(r.text(lang) for r in u.reasons))
        batches.append(
            (
                u.batch_id,
                f"unserved,{safe[u.batch_id]},{safe[u.building_id]},,,,,{u.people},,"
                f"{codes},{texts}",
            )
        )
    batches.sort(key=operator.itemgetter(0))
    buildings = [
        (
            d.building_id,
            f"door_to_door,,{safe[d.building_id]},,,,{d.households},{d.residents},,"
            f"{_text(str(d.reason.code))},{_text(d.reason.text(lang))}",
        )
        for d in plan.door_to_door
    ]
    buildings.extend(
        (h.building_id, f"home_visit,,{safe[h.building_id]},,,,,{h.residents},,,")
        for h in plan.home_visits
    )
    buildings.sort(key=operator.itemgetter(0))
    return [line for _key, line in batches] + [line for _key, line in buildings]


def sampling_csv_texts(problem: SamplingProblem, plan: SamplingPlan) -> dict[str, str]:
    """The plan as formula-safe CSV texts: the whole plan, per building and per point.

    Parameters
    ----------
    problem : SamplingProblem
        The problem the plan was made for.
    plan : SamplingPlan

    Returns
    -------
    dict of str to str
        File name → CSV text (header line, ``\\n`` line ends; cells that a spreadsheet would
        run as a formula start with an apostrophe, :func:`~commgov.io.formula_safe`):

        * ``"plan.csv"``: :meth:`SamplingPlan.rows` (columns :attr:`SamplingPlan.ROW_COLUMNS`);
        * ``"buildings.csv"``: columns :data:`BUILDING_COLUMNS`, sorted by building id then
          slot. ``kind`` is ``"walk_in"`` (one row per building slot: its point, slot start
          and end in local time, batches, households, people), ``"door_to_door"`` (a sealed
          building, ``door_to_door`` true, residents sampled at home), ``"unserved"`` (people
          of its batches the plan could not place) or ``"home_visits_only"`` (nobody walks,
          only mobility-limited residents are visited). ``home_visit_residents`` (visited at
          home) is given on the building's first row only, so the column adds up;
          ``building_name`` is the building's display name (``"3幢"``, empty without one);
        * ``"point_<id>.csv"`` for every point of the problem (characters other than
          letters, digits, ``.``, ``-`` and ``_`` replaced by ``_``, plus a short hash when
          two ids would clash): columns :data:`POINT_COLUMNS`, one row per batch sent there,
          sorted by slot, building id, batch id (a header alone for an unused point), with
          the point's and the building's display names beside their ids.

        To put the app's ids beside commgov's, pass each text through
        :meth:`commgov.io.IdMap.app_csv`.

    Raises
    ------
    TypeError
        If ``problem`` or ``plan`` is of the wrong type.
    ValueError
        If the plan names a building, batch or point the problem does not hold.

    Notes
    -----
    O(A log A + B + P) for A assignments, B buildings and P points.
    """
    with gc_paused():
        return _csv_texts(_prepare(problem, plan))


def _csv_texts(ex: _Export) -> dict[str, str]:
    """:func:`sampling_csv_texts` of prepared data.

    Rows are written as CSV cells joined by commas: ids spelt once each (:class:`_SafeText`),
    a slot's times once per slot, whole numbers as ``str`` gives them, which is what
    ``commgov.io.csv_text`` writes through ``csv.writer`` (tests compare the two).
    """
    problem, plan, times, households = ex.problem, ex.plan, ex.times, ex.households
    safe = _SafeText()
    display = problem.display_names

    def named(rid: str) -> str:  # the display name's cell, empty for a record without one
        name = display.get(rid)
        return "" if name is None else safe[name]

    iso: dict[int, str] = {}

    def when(t: int) -> str:
        text = iso.get(t)
        if text is None:
            text = iso[t] = _text(times[t].iso)
        return text

    # building id → its rows as [every cell but the last, home_visit_residents]
    by_building: dict[str, list[list[str]]] = defaultdict(list)
    for s in ex.slots:
        by_building[s.building_id].append(
            [
                f"{safe[s.building_id]},{named(s.building_id)},walk_in,{safe[s.point_id]},"
                f"{s.slot},{when(s.slot)},"
                f"{when(s.slot + 1)},{len(s.batch_ids)},{s.households},{s.people},false",
                "",
            ]
        )
    for d in plan.door_to_door:
        by_building[d.building_id].append(
            [
                f"{safe[d.building_id]},{named(d.building_id)},door_to_door,,,,,,"
                f"{d.households},{d.residents},true",
                "",
            ]
        )
    unserved: dict[str, list[Any]] = defaultdict(list)
    for u in plan.unserved:
        unserved[u.building_id].append(u)
    for bid, batches in unserved.items():
        hh = sum(households.get(u.batch_id, 0) for u in batches)
        people = sum(u.people for u in batches)
        by_building[bid].append(
            [f"{safe[bid]},{named(bid)},unserved,,,,,{len(batches)},{hh},{people},false", ""]
        )
    for h in plan.home_visits:
        rows = by_building[h.building_id]
        if not rows:
            rows.append(
                [
                    f"{safe[h.building_id]},{named(h.building_id)},home_visits_only,,,,,0,0,0,false",
                    "",
                ]
            )
        rows[0][1] = str(h.residents)  # home_visit_residents, on the first row only
    building_lines = [
        f"{head},{last}" for bid in sorted(by_building) for head, last in by_building[bid]
    ]

    names = _file_names(sorted(p.id for p in problem.points))
    point_lines: dict[str, list[str]] = {pid: [] for pid in names}
    for a in sorted(
        plan.assignments, key=operator.attrgetter("point_id", "slot", "building_id", "batch_id")
    ):
        point_lines[a.point_id].append(
            f"{safe[a.point_id]},{named(a.point_id)},{a.slot},{when(a.slot)},{when(a.slot + 1)},"
            f"{safe[a.building_id]},{named(a.building_id)},{safe[a.batch_id]},"
            f"{households[a.batch_id]},"
            f"{a.people},{a.walk_m}"
        )
    out = {
        "plan.csv": _csv(plan.ROW_COLUMNS, _plan_lines(plan, safe)),
        "buildings.csv": _csv(BUILDING_COLUMNS, building_lines),
    }
    for pid, name in names.items():
        out[name] = _csv(POINT_COLUMNS, point_lines[pid])
    return out
