"""The iCalendar export of a sampling plan (RFC 5545): one event per building slot.

Written as text directly, line by line (:func:`sampling_ics`); only the ``VTIMEZONE`` of the
problem's zone comes from the ``icalendar`` library, once per zone. Event UIDs are uuid5 of a
namespace derived from the problem (:func:`sampling_uid_namespace`). The daylight-saving rule
and the speed figures are those of :mod:`commgov.io._sampling_export`. ``_reference_ics`` is
the former writer (one ``icalendar.Event`` per event), kept as the reference the tests and
``benchmarks/bench_sampling_export.py`` compare with, byte for byte.

References
----------
B. Desruisseaux (ed.), *Internet Calendaring and Scheduling Core Object Specification
(iCalendar)*, RFC 5545 (2009).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from commgov._perf import gc_paused
from commgov.errors import MissingExtraError

if TYPE_CHECKING:
    from commgov.scheduling.sampling import SamplingPlan, SamplingProblem
from commgov.io._sampling_export import (
    _NAMESPACE,
    _check,
    _clock_pair,
    _Export,
    _ical_stamp,
    _prepare,
    _Slot,
    _unambiguous,
    _window,
)
from commgov.io._sampling_notices import (
    _Clocks,
    _en,
)

__all__ = ["calendar_available", "sampling_ics", "sampling_uid_namespace"]


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
    canonical = problem if _is_canonical(problem) else problem.canonical()
    digest = hashlib.sha256(canonical.model_dump_json().encode()).hexdigest()
    return uuid.uuid5(_NAMESPACE, digest)


def _increasing(ids: Sequence[str]) -> bool:
    return all(a < b for a, b in itertools.pairwise(ids))


def _is_canonical(problem: SamplingProblem) -> bool:
    """Whether the problem is its own :meth:`~SamplingProblem.canonical` form already.

    Records sorted by (unique) id and every ``allowed_point_ids`` sorted without repeats:
    then ``canonical()`` would copy every record to change nothing. O(records).
    """
    return (
        _increasing([p.id for p in problem.points])
        and _increasing([b.id for b in problem.buildings])
        and all(
            _increasing([k.id for k in b.batches])
            and (b.allowed_point_ids is None or _increasing(b.allowed_point_ids))
            for b in problem.buildings
        )
    )


def _uuid5(namespace: bytes, name: str) -> str:
    """``str(uuid.uuid5(UUID(bytes=namespace), name))`` without building UUID objects."""
    raw = bytearray(hashlib.sha1(namespace + name.encode()).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _label(names: Mapping[str, str] | None, record_id: str) -> str:
    return (names or {}).get(record_id) or record_id


def calendar_available() -> bool:
    """Whether the ``ical`` extra (``icalendar``) is installed, so that calendars can be written."""
    try:
        _import_icalendar()
    except MissingExtraError:
        return False
    return True


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
        raise ValueError(
            f"the window crosses a UTC-offset change in {problem.timezone}: "
            "install icalendar >= 6.1 to export it"
        )
    tz = icalendar.Timezone()
    tz.add("tzid", problem.timezone)
    std = icalendar.TimezoneStandard()
    std.add("dtstart", datetime(1970, 1, 1))
    std.add("tzoffsetfrom", offset)
    std.add("tzoffsetto", offset)
    std.add("tzname", start.tzname() or problem.timezone)
    tz.add_component(std)
    return tz


@functools.lru_cache(maxsize=64)
def _zone_tzid(timezone: str) -> str:
    """The ``TZID`` that ``icalendar`` gives times of an IANA zone (``"UTC"``: use ``Z``)."""
    icalendar = _import_icalendar()
    moment = datetime(2000, 1, 1, tzinfo=ZoneInfo(timezone))
    try:
        from icalendar.timezone.tzid import tzid_from_dt
    except ImportError:  # icalendar < 6
        prop = icalendar.vDDDTypes(moment)
        return str(prop.params.get("TZID", "UTC"))
    return tzid_from_dt(moment) or timezone


@functools.lru_cache(maxsize=64)
def _zone_vtimezone(timezone: str) -> str:
    """The ``VTIMEZONE`` text (CRLF lines, folded) that ``icalendar`` writes for a zone.

    The component ``Calendar.add_missing_timezones`` adds for a calendar using the zone
    (icalendar ≥ 6.1): the zone's rules from 1970 to 2038, so it depends on the zone alone
    and is built once per zone and process. Empty when ``icalendar`` does not know the zone.
    """
    icalendar = _import_icalendar()
    cal = icalendar.Calendar()
    event = icalendar.Event()
    event.add("dtstart", datetime(2000, 1, 1, tzinfo=ZoneInfo(timezone)))
    cal.add_component(event)
    cal.add_missing_timezones()
    return "".join(c.to_ical().decode("utf-8") for c in cal.walk("VTIMEZONE"))


def _escape(text: str) -> str:
    r"""An RFC 5545 TEXT value (section 3.3.11): ``\`` ``;`` ``,`` escaped, line breaks ``\n``.

    As ``icalendar`` escapes text, except that a backslash followed by ``N`` stays two
    characters (``icalendar`` 7 first turns it into a line break).
    """
    if "\\" in text or ";" in text or "," in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace(";", "\\;")
            .replace(",", "\\,")
            .replace("\r\n", "\\n")
            .replace("\n", "\\n")
            .replace("\r", "\\n")
        )
    return text


#: Octets of a folded line's content (RFC 5545 3.1 allows 75 with the leading space of a
#: continuation line; ``icalendar`` fills 74 before the break and after the space).
_FOLD_OCTETS = 74


def _fold(line: str) -> str:
    """Fold a content line as RFC 5545 section 3.1 asks and as ``icalendar`` folds it.

    Pieces of at most 74 UTF-8 octets, cut between characters, joined by CRLF and a space
    (so every physical line holds at most 75 octets); a piece never ends with ``\\`` or
    ``^`` (the first half of an escape) unless that is its only character.
    O(length of the line).
    """
    if len(line) <= _FOLD_OCTETS and line.isascii():
        return line
    data = line.encode("utf-8")
    if len(data) <= _FOLD_OCTETS:
        return line
    pieces = []
    start = 0
    while len(data) - start > _FOLD_OCTETS:
        cut = start + _FOLD_OCTETS
        while data[cut] & 0xC0 == 0x80:  # inside a character: cut before it
            cut -= 1
        if cut - start > 1 and data[cut - 1] in b"\\^":  # keep an escape in one piece
            cut -= 1
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])
    return b"\r\n ".join(pieces).decode("utf-8")


_CATEGORIES = "CATEGORIES:" + ",".join(_escape(c) for c in ("核酸采样", "sampling"))


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
      whose ``VTIMEZONE`` is included — except an event whose start or end local time is
      ambiguous or skipped by a daylight-saving change (``01:00`` on the autumn day in
      America/New_York happens twice, and RFC 5545 reads a ``TZID`` time there as the first
      occurrence): that event's start and end are written in UTC (``…Z``);
    * ``SUMMARY``, ``DESCRIPTION``: in Chinese, then English (point, time, batches,
      households and people, walking distance, bring an ID card); times as in
      :func:`building_notices` (with the UTC offset on a day the offset changes);
    * ``LOCATION`` and ``GEO``: the point (WGS84).

    Sealed buildings (door to door) and unserved batches have no event: see
    :func:`building_notices`.

    Parameters
    ----------
    problem : SamplingProblem
        The problem the plan was made for.
    plan : SamplingPlan
    names : mapping of str to str, optional
        Display names by id, over the problem's own (``SamplingPoint.name``,
        ``SamplingBuilding.name``) (points, buildings, batches), e.g. ``{site.id: site.name}``
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

    Notes
    -----
    The text is written directly, property by property in the order ``icalendar`` writes
    them (a test reads every event back with ``icalendar.Calendar.from_ical`` and compares
    it, and the whole file, with what building one ``icalendar.Event`` per event gave); the
    ``VTIMEZONE`` is ``icalendar``'s (``Calendar.add_missing_timezones``), built once per
    zone. The one difference: a literal backslash followed by ``N`` in a display name is
    written ``\\\\N`` (RFC 5545), where ``icalendar`` 7 turns it into a line break.
    O(A log A) for A assignments; ≈ 10 µs per event.

    References
    ----------
    .. [1] B. Desruisseaux (ed.), "Internet Calendaring and Scheduling Core Object
       Specification (iCalendar)", RFC 5545, IETF, 2009 (3.1 content lines and folding,
       3.3.5 date-time forms, 3.3.11 text escapes, 3.6.5 time zone component).
    """
    _import_icalendar()
    with gc_paused():
        ex = _prepare(problem, plan)
        if stamp is not None and stamp.utcoffset() is None:
            raise ValueError("stamp must be an aware datetime (with a time zone)")
        return _ics_text(ex, names=names, stamp=stamp)


def _ics_text(
    ex: _Export, *, names: Mapping[str, str] | None = None, stamp: datetime | None = None
) -> str:
    """:func:`sampling_ics` of prepared data (``icalendar`` importable, ``stamp`` aware).

    What depends on the slot alone (the ``DTSTART``/``DTEND`` lines, the times shown) or on
    the point alone (``GEO``, ``LOCATION``) is written once per slot or point.
    """
    icalendar = _import_icalendar()
    problem, times = ex.problem, ex.times
    names = {**problem.display_names, **(names or {})}
    stamp_utc = (stamp or problem.window.start).astimezone(UTC)
    namespace = sampling_uid_namespace(problem).bytes
    tzid = _zone_tzid(problem.timezone)
    speed = problem.policy.walking_speed_m_per_min
    label = (names or {}).get
    clock = _Clocks(times)
    # slot t → its DTSTART and DTEND lines (after the SUMMARY line, up to DTSTAMP) and
    # whether they are local times with TZID
    span: dict[int, tuple[str, bool]] = {}
    # point id → its display name and the lines from GEO to the end of the event
    place: dict[str, tuple[str, str]] = {}
    points = {p.id: p for p in problem.points}
    middle = f"DTSTAMP:{_ical_stamp(stamp_utc)}Z\r\nUID:"
    after_uid = "@commgov\r\n" + _CATEGORIES + "\r\n"
    events: list[str] = []
    add = events.append
    for s in ex.slots:
        bid, pid, t = s.building_id, s.point_id, s.slot
        if t not in span:
            begin, finish = times[t], times[t + 1]
            if not (begin.unambiguous and finish.unambiguous):
                # a repeated (or skipped) local time: TZID would name the wrong instant
                forms, local = (":" + begin.ical_utc, ":" + finish.ical_utc), False
            elif tzid == "UTC":
                forms, local = (":" + begin.ical_local + "Z", ":" + finish.ical_local + "Z"), True
            else:
                forms = (f";TZID={tzid}:{begin.ical_local}", f";TZID={tzid}:{finish.ical_local}")
                local = True
            span[t] = (
                "\r\n" + _fold("DTSTART" + forms[0]) + "\r\n" + _fold("DTEND" + forms[1]) + "\r\n",
                local,
            )
        if pid not in place:
            where = label(pid) or pid
            loc = points[pid].location
            place[pid] = (
                where,
                f"\r\nGEO:{float(loc.lat)};{float(loc.lon)}\r\n"
                + _fold("LOCATION:" + _escape(where))
                + "\r\nEND:VEVENT\r\n",
            )
        where, tail = place[pid]
        building = label(bid) or bid
        batch_labels = [label(b) or b for b in s.batch_ids] if names else s.batch_ids
        minutes = round(s.walk_m / speed)
        first, last = clock[t]
        description = (
            f"{building}（{'、'.join(batch_labels)}）{s.households} 户 {s.people} 人，"
            f"{first}–{last} 到 {where} 采样，"
            f"步行约 {s.walk_m} 米（约 {minutes} 分钟）。请携带身份证，全程佩戴口罩，"
            "保持一米间距。\n"
            f"{building} ({', '.join(batch_labels)}): {_en(s.households, 'household')}, "
            f"{_en(s.people, 'person')}, "
            f"{first}–{last} at {where}, a walk of about {s.walk_m} m "
            f"({minutes} min). Bring your ID card, wear a mask, keep one metre apart."
        )
        add(
            "BEGIN:VEVENT\r\n"
            + _fold(
                "SUMMARY:"
                + _escape(f"核酸采样：{building} → {where} / Sampling: {building} at {where}")
            )
            + span[t][0]
            + middle
            + _uuid5(namespace, f"{bid}\n{times[t].utc_iso}")
            + after_uid
            + _fold("DESCRIPTION:" + _escape(description))
            + tail
        )
    zone = ""
    if hasattr(icalendar.Calendar, "add_missing_timezones"):
        if tzid != "UTC" and any(local for _lines, local in span.values()):
            zone = _zone_vtimezone(problem.timezone)
    elif ex.plan.assignments:  # icalendar < 6.1: one fixed offset
        zone = _vtimezone(icalendar, problem).to_ical().decode("utf-8")
    head = "\r\n".join(
        _fold(line)
        for line in (
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:" + _escape("-//commgov//sampling plan//ZH"),
            "CALSCALE:GREGORIAN",
            "X-WR-CALNAME:" + _escape("核酸采样安排 / Sampling plan"),
            "X-WR-TIMEZONE:" + _escape(problem.timezone),
        )
    )
    return head + "\r\n" + zone + "".join(events) + "END:VCALENDAR\r\n"


def _reference_ics(
    problem: SamplingProblem,
    plan: SamplingPlan,
    *,
    names: Mapping[str, str] | None = None,
    stamp: datetime | None = None,
) -> str:
    """:func:`sampling_ics` as it was first written: one ``icalendar.Event`` per event.

    Kept as the reference the direct writer is checked against (tests/io) and timed against
    (``benchmarks/bench_sampling_export.py``); ≈ 20× slower. Not used by commgov itself.
    """
    icalendar = _import_icalendar()
    names = {**problem.display_names, **(names or {})}
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
    for s in _reference_slots(problem, plan):
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
        if _unambiguous(s.start) and _unambiguous(s.end):
            event.add("dtstart", s.start)
            event.add("dtend", s.end)
        else:  # a repeated (or skipped) local time: TZID would name the wrong instant
            event.add("dtstart", s.start.astimezone(UTC))
            event.add("dtend", s.end.astimezone(UTC))
        first, last = _clock_pair(s.start, s.end)
        event.add("summary", f"核酸采样：{building} → {where} / Sampling: {building} at {where}")
        event.add(
            "description",
            "\n".join(
                [
                    f"{building}（{batches}）{s.households} 户 {s.people} 人，"
                    f"{first}–{last} 到 {where} 采样，"
                    f"步行约 {s.walk_m} 米（约 {minutes} 分钟）。请携带身份证，全程佩戴口罩，"
                    "保持一米间距。",
                    f"{building} ({batches_en}): {_en(s.households, 'household')}, "
                    f"{_en(s.people, 'person')}, "
                    f"{first}–{last} at {where}, a walk of about {s.walk_m} m "
                    f"({minutes} min). Bring your ID card, wear a mask, keep one metre apart.",
                ]
            ),
        )
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


def _reference_slots(problem: SamplingProblem, plan: SamplingPlan) -> list[_Slot]:
    """The building slots as first computed (``problem.slot_start`` for every batch)."""
    households = {k.id: k.households for b in problem.buildings for k in b.batches}
    out: dict[tuple[str, int], _Slot] = {}
    for a in sorted(plan.assignments, key=lambda a: (a.building_id, a.slot, a.batch_id)):
        key = (a.building_id, a.slot)
        if key not in out:
            out[key] = _Slot(
                a.building_id,
                a.point_id,
                a.slot,
                problem.slot_start(a.slot),
                problem.slot_start(a.slot + 1),
                walk_m=a.walk_m,
            )
        s = out[key]
        s.batch_ids.append(a.batch_id)
        s.households += households[a.batch_id]
        s.people += a.people
    return [out[k] for k in sorted(out)]
