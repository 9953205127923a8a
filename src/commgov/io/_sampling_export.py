"""Exports of a sampling plan: CSV per point and per building, iCalendar, building notices.

A sampling plan (:class:`commgov.scheduling.SamplingPlan`) tells each building which point to
walk to and in which slot. This module turns it into what the people on the ground use:

* :func:`sampling_csv_texts`: ``plan.csv`` (every batch, :meth:`SamplingPlan.rows`),
  ``buildings.csv`` (one row per building slot, sealed buildings flagged door to door) and
  one ``point_<id>.csv`` per sampling point (its arrivals by slot), all formula-safe;
* :func:`sampling_ics`: an iCalendar file (RFC 5545, via the ``icalendar`` library, extra
  ``commgov[ical]``) with one event per building slot, stable UIDs and the problem's time
  zone;
* :func:`building_notices`: the notice each building group receives, in Chinese or English.

Times are local times of the problem's time zone (ISO 8601 with offset in the CSV files).
Everything is deterministic: rows and events are sorted by id and slot, whatever the order
of the records in the problem and plan.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from commgov._files import csv_text
from commgov.errors import MissingExtraError
from commgov.results import check_lang

if TYPE_CHECKING:
    from commgov.scheduling.sampling import SamplingPlan, SamplingProblem

__all__ = [
    "BUILDING_COLUMNS",
    "POINT_COLUMNS",
    "building_notices",
    "sampling_csv_texts",
    "sampling_ics",
    "sampling_uid_namespace",
]

#: Columns of ``buildings.csv`` (:func:`sampling_csv_texts`), in order.
BUILDING_COLUMNS: tuple[str, ...] = (
    "building_id",
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
    "slot",
    "slot_start",
    "slot_end",
    "building_id",
    "batch_id",
    "households",
    "people",
    "walk_m",
)

#: Namespace of the event UIDs (uuid5 of "commgov sampling").
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://commgov.invalid/sampling-plan")



@dataclass
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
        for kind, value, known in (("building", a.building_id, buildings),
                                   ("point", a.point_id, points),
                                   ("batch", a.batch_id, batches)):
            if value not in known:
                raise ValueError(f"the plan's assignment of batch {a.batch_id!r} names "
                                 f"{kind} {value!r}, which the problem does not hold: "
                                 "export a plan with the problem it was made for")
    for d in plan.door_to_door:
        if d.building_id not in buildings:
            raise ValueError(f"the plan's door-to-door building {d.building_id!r} is not in "
                             "the problem")


def _slots(problem: SamplingProblem, plan: SamplingPlan) -> list[_Slot]:
    """Building slots (building, slot) with their batches, sorted by building id then slot."""
    households = {k.id: k.households for b in problem.buildings for k in b.batches}
    delta = timedelta(minutes=problem.policy.slot_minutes)
    out: dict[tuple[str, int], _Slot] = {}
    for a in sorted(plan.assignments, key=lambda a: (a.building_id, a.slot, a.batch_id)):
        key = (a.building_id, a.slot)
        if key not in out:
            start = problem.slot_start(a.slot)
            out[key] = _Slot(a.building_id, a.point_id, a.slot, start,
                             (start + delta).astimezone(problem.tz), walk_m=a.walk_m)
        s = out[key]
        s.batch_ids.append(a.batch_id)
        s.households += households[a.batch_id]
        s.people += a.people
    return [out[k] for k in sorted(out)]


def _window(problem: SamplingProblem) -> tuple[datetime, datetime]:
    return problem.window.start.astimezone(problem.tz), problem.window.end.astimezone(problem.tz)


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
        * ``"point_<id>.csv"`` for every point of the problem (characters other than
          letters, digits, ``.``, ``-`` and ``_`` replaced by ``_``, plus a short hash when
          two ids would clash): columns :data:`POINT_COLUMNS`, one row per batch sent there,
          sorted by slot, building id, batch id (a header alone for an unused point).

    Raises
    ------
    TypeError
        If ``problem`` or ``plan`` is of the wrong type.
    ValueError
        If the plan names a building, batch or point the problem does not hold.
    """
    _check(problem, plan)
    delta = timedelta(minutes=problem.policy.slot_minutes)
    households = {k.id: k.households for b in problem.buildings for k in b.batches}
    by_building: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in _slots(problem, plan):
        by_building[s.building_id].append({
            "building_id": s.building_id, "kind": "walk_in", "point_id": s.point_id,
            "slot": s.slot, "slot_start": s.start.isoformat(), "slot_end": s.end.isoformat(),
            "batches": len(s.batch_ids), "households": s.households, "people": s.people,
            "door_to_door": False,
        })
    for d in plan.door_to_door:
        by_building[d.building_id].append({
            "building_id": d.building_id, "kind": "door_to_door", "households": d.households,
            "people": d.residents, "door_to_door": True,
        })
    unserved: dict[str, list[Any]] = defaultdict(list)
    for u in plan.unserved:
        unserved[u.building_id].append(u)
    for bid, batches in unserved.items():
        by_building[bid].append({
            "building_id": bid, "kind": "unserved", "batches": len(batches),
            "households": sum(households.get(u.batch_id, 0) for u in batches),
            "people": sum(u.people for u in batches), "door_to_door": False,
        })
    for h in plan.home_visits:
        rows = by_building[h.building_id]
        if not rows:
            rows.append({"building_id": h.building_id, "kind": "home_visits_only",
                         "batches": 0, "households": 0, "people": 0, "door_to_door": False})
        rows[0]["home_visit_residents"] = h.residents
    building_rows = [r for bid in sorted(by_building) for r in by_building[bid]]

    names = _file_names(sorted(p.id for p in problem.points))
    point_rows: dict[str, list[dict[str, Any]]] = {pid: [] for pid in names}
    for a in sorted(plan.assignments, key=lambda a: (a.point_id, a.slot, a.building_id,
                                                     a.batch_id)):
        start = problem.slot_start(a.slot)
        point_rows[a.point_id].append({
            "point_id": a.point_id, "slot": a.slot, "slot_start": start.isoformat(),
            "slot_end": (start + delta).astimezone(problem.tz).isoformat(),
            "building_id": a.building_id, "batch_id": a.batch_id,
            "households": households[a.batch_id], "people": a.people, "walk_m": a.walk_m,
        })
    out = {
        "plan.csv": csv_text(plan.rows(), plan.ROW_COLUMNS),
        "buildings.csv": csv_text(building_rows, BUILDING_COLUMNS),
    }
    for pid, name in names.items():
        out[name] = csv_text(point_rows[pid], POINT_COLUMNS)
    return out


def sampling_uid_namespace(problem: SamplingProblem) -> uuid.UUID:
    """The UUID namespace of a problem's event UIDs: a uuid5 of its canonical content.

    The problem is put in canonical order (:meth:`SamplingProblem.canonical`: buildings,
    batches and points by id) and dumped as JSON, so the namespace depends on what the
    problem says, not on the order of its records or on the run.

    Parameters
    ----------
    problem : SamplingProblem

    Returns
    -------
    uuid.UUID
    """
    digest = hashlib.sha256(problem.canonical().model_dump_json().encode()).hexdigest()
    return uuid.uuid5(_NAMESPACE, digest)


def _label(names: Mapping[str, str] | None, record_id: str) -> str:
    return (names or {}).get(record_id) or record_id


def _import_icalendar() -> Any:
    try:
        import icalendar
    except ImportError as exc:
        raise MissingExtraError("icalendar", "ical") from exc
    return icalendar


def _vtimezone(icalendar: Any, problem: SamplingProblem) -> Any:
    """A VTIMEZONE for icalendar < 6.1 (no ``add_missing_timezones``): one fixed offset.

    Good for a window without a change of UTC offset (Asia/Shanghai has had none since
    1991); raises :class:`ValueError` otherwise.
    """
    start, end = _window(problem)
    offset = start.utcoffset()
    if end.utcoffset() != offset or offset is None:
        raise ValueError(f"the window crosses a UTC-offset change in {problem.timezone}: "
                         "install icalendar >= 6.1 to export it")
    tz = icalendar.Timezone()
    tz.add("tzid", problem.timezone)
    std = icalendar.TimezoneStandard()
    std.add("dtstart", datetime(1970, 1, 1))
    std.add("tzoffsetfrom", offset)
    std.add("tzoffsetto", offset)
    std.add("tzname", start.tzname() or problem.timezone)
    tz.add_component(std)
    return tz


def sampling_ics(
    problem: SamplingProblem,
    plan: SamplingPlan,
    *,
    names: Mapping[str, str] | None = None,
    stamp: datetime | None = None,
) -> str:
    """The plan as an iCalendar file: one event per building slot.

    Each building slot — the batches of one building called to its point in one slot — is one
    ``VEVENT``:

    * ``UID``: ``<uuid5>@commgov``, the uuid5 of building id and slot start (ISO 8601, UTC)
      in :func:`sampling_uid_namespace` (the problem's canonical content): the same for the
      same problem in any order and any run; it changes when the building moves to another
      slot, so a calendar client treats a moved slot as a new event;
    * ``DTSTART``/``DTEND``: the slot, local times with ``TZID`` = the problem's time zone,
      whose ``VTIMEZONE`` is included;
    * ``SUMMARY``, ``DESCRIPTION``: in Chinese, then English (point, time, batches,
      households and people, walking distance, bring an ID card);
    * ``LOCATION`` and ``GEO``: the point (WGS84).

    Sealed buildings (door to door) and unserved batches have no event: see
    :func:`building_notices`.

    Parameters
    ----------
    problem : SamplingProblem
        The problem the plan was made for.
    plan : SamplingPlan
    names : mapping of str to str, optional
        Display names by id (points, buildings, batches), e.g. ``{site.id: site.name}``
        from the organisation model; ids are shown where no name is given.
    stamp : datetime, optional
        ``DTSTAMP`` of every event, aware; default: the window start, so the file is the
        same byte for byte on every run.

    Returns
    -------
    str
        The calendar text (CRLF line ends, lines folded at 75 octets, RFC 5545).

    Raises
    ------
    commgov.errors.MissingExtraError
        If ``icalendar`` is not installed (``pip install 'commgov[ical]'``).
    TypeError
        If ``problem`` or ``plan`` is of the wrong type.
    ValueError
        If the plan names a building, batch or point the problem does not hold, or
        ``stamp`` is naive.
    """
    icalendar = _import_icalendar()
    _check(problem, plan)
    if stamp is not None and stamp.utcoffset() is None:
        raise ValueError("stamp must be an aware datetime (with a time zone)")
    stamp_utc = (stamp or problem.window.start).astimezone(UTC)
    namespace = sampling_uid_namespace(problem)
    points = {p.id: p for p in problem.points}

    cal = icalendar.Calendar()
    cal.add("prodid", "-//commgov//sampling plan//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-timezone", problem.timezone)
    cal.add("x-wr-calname", "核酸采样安排 / Sampling plan")
    for s in _slots(problem, plan):
        point = points[s.point_id]
        building = _label(names, s.building_id)
        where = _label(names, s.point_id)
        uid = uuid.uuid5(namespace, f"{s.building_id}\n{s.start.astimezone(UTC).isoformat()}")
        batches = "、".join(_label(names, b) for b in s.batch_ids)
        batches_en = ", ".join(_label(names, b) for b in s.batch_ids)
        minutes = round(s.walk_m / problem.policy.walking_speed_m_per_min)
        event = icalendar.Event()
        event.add("uid", f"{uid}@commgov")
        event.add("dtstamp", stamp_utc)
        event.add("dtstart", s.start)
        event.add("dtend", s.end)
        event.add("summary", f"核酸采样：{building} → {where} / "
                             f"Sampling: {building} at {where}")
        event.add("description", "\n".join([
            f"{building}（{batches}）{s.households} 户 {s.people} 人，"
            f"{s.start:%H:%M}–{s.end:%H:%M} 到 {where} 采样，"
            f"步行约 {s.walk_m} 米（约 {minutes} 分钟）。请携带身份证，全程佩戴口罩，"
            "保持一米间距。",
            f"{building} ({batches_en}): {_en(s.households, 'household')}, "
            f"{_en(s.people, 'person')}, "
            f"{s.start:%H:%M}–{s.end:%H:%M} at {where}, a walk of about {s.walk_m} m "
            f"({minutes} min). Bring your ID card, wear a mask, keep one metre apart.",
        ]))
        event.add("location", where)
        event.add("geo", (point.location.lat, point.location.lon))
        event.add("categories", ["核酸采样", "sampling"])
        cal.add_component(event)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()
    elif plan.assignments:
        cal.subcomponents.insert(0, _vtimezone(icalendar, problem))
    text: str = cal.to_ical().decode("utf-8")
    return text


def _en(count: int, noun: str) -> str:
    """``1 household``, ``2 households``, ``1 person``, ``3 people``."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} " + ("people" if noun == "person" else noun + "s")


def _fmt_day(day: datetime, lang: str) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if lang == "zh" else f"{day:%Y-%m-%d}"


def building_notices(
    problem: SamplingProblem,
    plan: SamplingPlan,
    lang: str = "zh",
    *,
    names: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The notice each building group receives (楼栋群通知), in Chinese or English.

    * A building that walks to a point: the point, the date and time slot of each of its
      batch groups, the walking distance, "bring your ID card, wear a mask"; and, when it
      has mobility-limited residents, that they are sampled at home.
    * A sealed building (door to door): stay at home, staff come to every household during
      the window.
    * Batches the plan could not place: wait for a further notice, with the reason.

    Buildings with nobody to sample (no batch, not sealed, nobody visited at home) get no
    notice.

    Parameters
    ----------
    problem : SamplingProblem
        The problem the plan was made for.
    plan : SamplingPlan
    lang : {"zh", "en"}, default "zh"
        Language of the notices.
    names : mapping of str to str, optional
        Display names by id (points, buildings, batches); ids are shown where no name is
        given.

    Returns
    -------
    dict of str to str
        Building id → notice text (several lines), sorted by building id.

    Raises
    ------
    ValueError
        If ``lang`` is neither ``"zh"`` nor ``"en"``, or the plan names a building, batch or
        point the problem does not hold.
    TypeError
        If ``problem`` or ``plan`` is of the wrong type.
    """
    check_lang(lang)
    _check(problem, plan)
    zh = lang == "zh"
    start, end = _window(problem)
    slots: dict[str, list[_Slot]] = defaultdict(list)
    for s in _slots(problem, plan):
        slots[s.building_id].append(s)
    sealed = {d.building_id: d for d in plan.door_to_door}
    visits = {h.building_id: h.residents for h in plan.home_visits}
    unserved: dict[str, list[Any]] = defaultdict(list)
    for u in plan.unserved:
        unserved[u.building_id].append(u)
    speed = problem.policy.walking_speed_m_per_min
    out: dict[str, str] = {}
    for b in sorted(problem.buildings, key=lambda b: b.id):
        name = _label(names, b.id)
        head = f"【核酸采样通知】{name}" if zh else f"Sampling notice: {name}"
        lines: list[str] = []
        if b.id in sealed:
            d = sealed[b.id]
            if zh:
                lines.append(f"本楼栋为封控楼栋，请全体居民（{d.households} 户 {d.residents} 人）"
                             f"居家等候、不要下楼：{_fmt_day(start, lang)} {start:%H:%M}–"
                             f"{end:%H:%M} 工作人员上门逐户采样。请提前准备好身份证，"
                             "听到敲门后戴好口罩开门。")
            else:
                lines.append(f"This building is sealed: all residents "
                             f"({_en(d.households, 'household')}, "
                             f"{_en(d.residents, 'person')}) please stay at home. Staff "
                             f"will sample every household at the door on "
                             f"{_fmt_day(start, lang)} between {start:%H:%M} and {end:%H:%M}. "
                             "Have your ID card ready and wear a mask when you open the door.")
        for s in slots.get(b.id, []):
            where = _label(names, s.point_id)
            minutes = round(s.walk_m / speed)
            if len(slots[b.id]) > 1:
                who_zh = "、".join(_label(names, k) for k in s.batch_ids) + "的居民"
                who_en = "Residents of " + ", ".join(_label(names, k) for k in s.batch_ids)
            else:
                who_zh, who_en = "全体居民", "All residents"
            if zh:
                lines.append(f"{who_zh}请于 {_fmt_day(s.start, lang)} {s.start:%H:%M}–"
                             f"{s.end:%H:%M} 到 {where} 采样（步行约 {s.walk_m} 米，约 "
                             f"{minutes} 分钟）。")
            else:
                lines.append(f"{who_en}: please go to {where} on {_fmt_day(s.start, lang)} "
                             f"between {s.start:%H:%M} and {s.end:%H:%M} (a walk of about "
                             f"{s.walk_m} m, {minutes} min).")
        if slots.get(b.id):
            lines.append("请携带身份证，全程佩戴口罩，保持一米间距，按时段前往、不要提前排队。"
                         if zh else "Bring your ID card, wear a mask, keep one metre apart, "
                         "and come in your time slot, not before.")
        if b.id in unserved:
            us = unserved[b.id]
            people = sum(u.people for u in us)
            reason = us[0].reasons[0].text(lang) if us[0].reasons else ""
            who = "、".join(_label(names, u.batch_id) for u in us)
            if zh:
                lines.append(f"{who}（{people} 人）本轮暂未安排采样点（{reason}），"
                             "请在家等候社区进一步通知。")
            else:
                lines.append(f"{', '.join(_label(names, u.batch_id) for u in us)} "
                             f"({_en(people, 'person')}): no sampling point could be "
                             f"arranged this round ({reason}); please wait at home for a "
                             "further notice.")
        if visits.get(b.id) and b.id not in sealed:
            n = visits[b.id]
            lines.append(f"行动不便的 {n} 位居民由工作人员上门采样，请家人留意敲门。" if zh
                         else f"Mobility-limited residents ({n}) will be sampled at "
                         "home by staff.")
        if lines:
            out[b.id] = "\n".join([head, *lines])
    return out
