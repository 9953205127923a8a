"""Sampling-plan exports: CSV per point and per building, iCalendar, building notices."""

from __future__ import annotations

import csv
import io
import math
import sys
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from commgov._files import _FORMULA_START
from commgov.errors import MissingExtraError
from commgov.io import building_notices, sampling_csv_texts, sampling_ics
from commgov.io._sampling_ics import _vtimezone
from commgov.org import ZoneRegime
from commgov.scheduling import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPlan,
    SamplingPoint,
    SamplingPolicy,
    SamplingProblem,
    is_valid_sampling_plan,
    plan_sampling,
)
from commgov.types import GeoPoint, TimeWindow

icalendar = pytest.importorskip("icalendar")

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2022, 4, 12, 6, 30, tzinfo=TZ)
LON0, LAT0 = 120.62, 31.31


def _at(dx_m: float) -> GeoPoint:
    return GeoPoint(lon=LON0 + dx_m / (111_195.0 * math.cos(math.radians(LAT0))), lat=LAT0)


def _building(bid: str, x: float, people: list[int], **kw: object) -> SamplingBuilding:
    return SamplingBuilding(
        id=bid,
        location=_at(x),
        batches=[
            SamplingBatch(id=f"{bid}-{j}", building_id=bid, households=p // 3 + 1, people=p)
            for j, p in enumerate(people)
        ],
        **kw,  # type: ignore[arg-type]
    )


def _problem(*, reverse: bool = False, lanes: int = 1) -> SamplingProblem:
    buildings = [
        _building("=B1", 100, [30]),  # an id a spreadsheet would run as a formula
        _building("B2", 150, [40, 40, 40], mobility_limited=2),  # needs several slots
        _building("B3", 5_000, [10]),  # out of reach: unserved
        _building("B4", 120, [10, 12], zone=ZoneRegime.SEALED, mobility_limited=1),
        _building("B5", 200, [], mobility_limited=1),  # only a home visit
    ]
    points = [
        SamplingPoint(id="P/1", location=_at(0), lanes=lanes),
        SamplingPoint(id="P_1", location=_at(300), lanes=1),  # clashes with P/1 once made safe
    ]
    if reverse:
        buildings = [b.model_copy(update={"batches": b.batches[::-1]}) for b in buildings[::-1]]
        points = points[::-1]
    return SamplingProblem(
        timezone="Asia/Shanghai",
        window=TimeWindow(start=START, end=START + timedelta(minutes=30 * 4)),
        buildings=buildings,
        points=points,
        policy=SamplingPolicy(max_queue=20),
    )


@pytest.fixture(scope="module")
def solved() -> tuple[SamplingProblem, SamplingPlan]:
    problem = _problem()
    plan = plan_sampling(problem, time_limit_s=10)
    assert is_valid_sampling_plan(problem, plan)
    return problem, plan


def _events(text: str) -> list:
    cal = icalendar.Calendar.from_ical(text)
    return [c for c in cal.walk("VEVENT")]


def _building_slots(plan: SamplingPlan) -> set[tuple[str, int]]:
    return {(a.building_id, a.slot) for a in plan.assignments}


def test_fixture_has_every_kind_of_building(solved):
    _unused, plan = solved
    assert [d.building_id for d in plan.door_to_door] == ["B4"]
    assert [u.building_id for u in plan.unserved] == ["B3"]
    assert len({a.slot for a in plan.assignments if a.building_id == "B2"}) > 1
    assert {h.building_id for h in plan.home_visits} == {"B2", "B5"}


def test_ics_parses_back_one_event_per_building_slot_with_tzid(solved):
    problem, plan = solved
    text = sampling_ics(problem, plan)
    assert "\r\n" in text
    cal = icalendar.Calendar.from_ical(text)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    events = _events(text)
    assert len(events) == len(_building_slots(plan))
    seen = set()
    for event in events:
        start = event["DTSTART"]
        assert start.params["TZID"] == "Asia/Shanghai"
        assert event["DTEND"].params["TZID"] == "Asia/Shanghai"
        begin, end = start.dt, event["DTEND"].dt
        assert end - begin == timedelta(minutes=30)
        slot = int((begin - problem.window.start) / timedelta(minutes=30))
        matches = [
            a
            for a in plan.assignments
            if a.slot == slot and str(a.building_id) in str(event["SUMMARY"])
        ]
        assert matches, event["SUMMARY"]
        seen.add((matches[0].building_id, slot))
        point = matches[0].point_id
        assert str(event["LOCATION"]) == point
        assert "核酸采样" in str(event["SUMMARY"]) and "Sampling" in str(event["SUMMARY"])
        description = str(event["DESCRIPTION"])
        assert "身份证" in description and "ID card" in description
        assert f"{begin:%H:%M}–{end:%H:%M}" in description
        assert "DTSTAMP" in event
    assert seen == _building_slots(plan)
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    assert all(u.endswith("@commgov") for u in uids)


def test_ics_is_byte_identical_across_runs_and_input_order(solved):
    problem, plan = solved
    text = sampling_ics(problem, plan)
    assert sampling_ics(problem, plan) == text
    permuted = _problem(reverse=True)
    plan2 = plan_sampling(permuted, time_limit_s=10)
    assert plan2.to_json() == plan.to_json()
    assert sampling_ics(permuted, plan2) == text
    assert sampling_csv_texts(permuted, plan2) == sampling_csv_texts(problem, plan)
    for lang in ("zh", "en"):
        assert building_notices(permuted, plan2, lang) == building_notices(problem, plan, lang)


def test_uids_follow_problem_content(solved):
    problem, plan = solved
    other = _problem(lanes=2)
    plan2 = plan_sampling(other, time_limit_s=10)
    uids = {str(e["UID"]) for e in _events(sampling_ics(problem, plan))}
    uids2 = {str(e["UID"]) for e in _events(sampling_ics(other, plan2))}
    assert not uids & uids2


def test_ics_names_and_stamp(solved):
    problem, plan = solved
    names = {"P/1": "第3小区微阵地", "P_1": "小巷红韵", "B2": "2幢"}
    stamp = datetime(2022, 4, 11, 20, 0, tzinfo=TZ)
    text = sampling_ics(problem, plan, names=names, stamp=stamp)
    events = _events(text)
    assert all(e["DTSTAMP"].dt == stamp for e in events)
    b2 = [e for e in events if "2幢" in str(e["SUMMARY"])]
    assert len(b2) == len({a.slot for a in plan.assignments if a.building_id == "B2"})
    assert all(str(e["LOCATION"]) in ("第3小区微阵地", "小巷红韵") for e in events)
    # the UIDs do not depend on display names or the stamp
    assert {str(e["UID"]) for e in events} == {
        str(e["UID"]) for e in _events(sampling_ics(problem, plan))
    }
    with pytest.raises(ValueError, match="aware"):
        sampling_ics(problem, plan, stamp=datetime(2022, 4, 11, 20, 0))


def test_fixed_offset_vtimezone_fallback(solved):
    problem, _plan = solved
    tz = _vtimezone(icalendar, problem)
    assert str(tz["TZID"]) == "Asia/Shanghai"
    assert tz.walk("STANDARD")[0]["TZOFFSETTO"].td == timedelta(hours=8)
    berlin = datetime(2022, 3, 27, 0, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    dst = problem.model_copy(
        update={
            "timezone": "Europe/Berlin",
            "window": TimeWindow(start=berlin, end=berlin + timedelta(hours=4)),
        }
    )
    with pytest.raises(ValueError, match="UTC-offset change"):
        _vtimezone(icalendar, dst)


def test_missing_icalendar_names_the_extra(solved, monkeypatch):
    problem, plan = solved
    monkeypatch.setitem(sys.modules, "icalendar", None)
    with pytest.raises(MissingExtraError, match=r"commgov\[ical\]"):
        sampling_ics(problem, plan)


def _read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_files_are_formula_safe_and_add_up(solved):
    problem, plan = solved
    texts = sampling_csv_texts(problem, plan)
    point_files = sorted(n for n in texts if n.startswith("point_"))
    assert len(point_files) == 2 and len(set(point_files)) == 2  # P/1 and P_1 do not clash
    assert all(n.startswith("point_P_1-") and n.endswith(".csv") for n in point_files)
    for name, text in texts.items():
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                assert not cell.startswith(_FORMULA_START), (name, cell)
    buildings = _read(texts["buildings.csv"])
    first = buildings[0]
    assert first["building_id"] == "'=B1" and first["kind"] == "walk_in"
    walk_in = [r for r in buildings if r["kind"] == "walk_in"]
    assert sum(int(r["people"]) for r in walk_in) == plan.totals.served_people
    assert {(r["building_id"], int(r["slot"])) for r in walk_in} == {
        (b if b != "=B1" else "'=B1", t) for b, t in _building_slots(plan)
    }
    kinds = {r["building_id"]: r["kind"] for r in buildings if r["kind"] != "walk_in"}
    assert kinds == {"B3": "unserved", "B4": "door_to_door", "B5": "home_visits_only"}
    sealed = next(r for r in buildings if r["building_id"] == "B4")
    assert sealed["door_to_door"] == "true" and sealed["people"] == "23"  # 22 + 1 at home
    visits = sum(int(r["home_visit_residents"] or 0) for r in buildings)
    assert visits == sum(h.residents for h in plan.home_visits)
    for r in walk_in:
        start = datetime.fromisoformat(r["slot_start"])
        assert start.utcoffset() == timedelta(hours=8)
        assert datetime.fromisoformat(r["slot_end"]) - start == timedelta(minutes=30)
    rows = [r for n in point_files for r in _read(texts[n])]
    assert len(rows) == len(plan.assignments)
    assert Counter(r["point_id"] for r in rows) == Counter(a.point_id for a in plan.assignments)
    assert sum(int(r["people"]) * int(r["walk_m"]) for r in rows) == plan.totals.walk_person_m
    assert _read(texts["plan.csv"])[0]["building_id"] == "'=B1"


def test_notices_name_the_point_and_time(solved):
    problem, plan = solved
    names = {"P/1": "第3小区微阵地", "P_1": "小巷红韵"}
    zh = building_notices(problem, plan, "zh", names=names)
    en = building_notices(problem, plan)
    assert en.keys() == {"=B1", "B2", "B3", "B4", "B5"}  # default language is zh
    en = building_notices(problem, plan, "en", names=names)
    assert zh.keys() == en.keys()
    for a in plan.assignments:
        start = problem.slot_start(a.slot)
        span = f"{start:%H:%M}"
        end = f"{start + timedelta(minutes=30):%H:%M}"
        assert names[a.point_id] in zh[a.building_id] and names[a.point_id] in en[a.building_id]
        assert f"{span}–{end}" in zh[a.building_id]
        assert f"between {span} and {end}" in en[a.building_id]
        assert "2022年4月12日" in zh[a.building_id] and "2022-04-12" in en[a.building_id]
        assert "身份证" in zh[a.building_id] and "ID card" in en[a.building_id]
    assert "封控" in zh["B4"] and "上门" in zh["B4"]
    assert "sealed" in en["B4"] and "at the door" in en["B4"]
    assert "06:30–08:30" in zh["B4"] and "ID card" in en["B4"]
    assert "进一步通知" in zh["B3"] and "further notice" in en["B3"]
    assert "上门采样" in zh["B5"] and "at home" in en["B5"]
    assert "2 位" in zh["B2"]
    # B2's batches go in several slots: each line names its batches
    assert "B2-0" in zh["B2"] and "B2-2" in en["B2"]
    with pytest.raises(ValueError, match="lang"):
        building_notices(problem, plan, "fr")


def test_exports_refuse_a_plan_of_another_problem(solved):
    problem, plan = solved
    other = SamplingProblem(
        timezone="Asia/Shanghai",
        window=problem.window,
        buildings=[_building("X", 100, [10])],
        points=problem.points,
    )
    for export in (sampling_csv_texts, sampling_ics, building_notices):
        with pytest.raises(ValueError, match="does not hold"):
            export(other, plan)
    with pytest.raises(TypeError, match="plan"):
        sampling_csv_texts(problem, plan.model_dump())  # type: ignore[arg-type]


def test_empty_plan_exports(solved):
    problem, _plan = solved
    lonely = SamplingProblem(
        timezone="Asia/Shanghai",
        window=problem.window,
        buildings=[_building("far", 9_000, [10])],
        points=problem.points,
    )
    plan = plan_sampling(lonely, time_limit_s=5)
    assert not plan.assignments
    assert _events(sampling_ics(lonely, plan)) == []
    texts = sampling_csv_texts(lonely, plan)
    assert all(t.startswith("point_id,") for n, t in texts.items() if n.startswith("point_"))


# ---- issue 12: the direct calendar writer against the icalendar reference, and speed ---------
#
# sampling_ics writes RFC 5545 text directly (one icalendar.Event per event took 4-6 s on the
# district tier); _reference_ics is the writer it replaced. Every calendar below is compared
# with the reference byte for byte and, read back with icalendar, event by event.


def _assert_same_calendar(text: str, reference: str) -> None:
    """Byte-identical, and every event read back the same (instants, texts, UID, place)."""
    assert text == reference
    new, old = icalendar.Calendar.from_ical(text), icalendar.Calendar.from_ical(reference)
    assert [str(t["TZID"]) for t in new.walk("VTIMEZONE")] == [
        str(t["TZID"]) for t in old.walk("VTIMEZONE")
    ]
    events, expected = new.walk("VEVENT"), old.walk("VEVENT")
    assert len(events) == len(expected)
    for got, want in zip(events, expected, strict=True):
        for prop in ("DTSTART", "DTEND", "DTSTAMP"):
            assert got.decoded(prop) == want.decoded(prop)  # the same instant
            assert got[prop].params.get("TZID") == want[prop].params.get("TZID")
        for prop in ("SUMMARY", "DESCRIPTION", "UID", "LOCATION"):
            assert str(got[prop]) == str(want[prop])
        assert got.decoded("GEO") == want.decoded("GEO")
        assert got["CATEGORIES"].cats == want["CATEGORIES"].cats
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75, line


#: Display names that need escaping (, ; \ and line breaks), folding inside multi-byte
#: characters, and an escape that must not be split across a fold.
_HOSTILE_NAMES = {
    "P/1": "第3小区微阵地, 东门; 入口\\北\n(值班: 张)",
    "P_1": "小巷红韵" * 12,
    "B2": "2幢^" + "楼" * 30 + "\\",
    "B2-0": "一单元,二单元;\r\n三单元",
    "=B1": "=1+1",
}


def _sampling_tier_s() -> tuple[SamplingProblem, SamplingPlan]:
    from commgov.datasets import sampling_instance

    problem = sampling_instance("S", 0)  # 1,691 batches, 800 buildings, 32 points
    return problem, plan_sampling(problem, time_limit_s=10)


@pytest.fixture(scope="module")
def tier_s() -> tuple[SamplingProblem, SamplingPlan]:
    return _sampling_tier_s()


def test_direct_calendar_equals_the_icalendar_reference(solved, tier_s):
    from commgov.io._sampling_ics import _reference_ics

    for problem, plan in (solved, tier_s):
        _assert_same_calendar(sampling_ics(problem, plan), _reference_ics(problem, plan))
    problem, plan = solved
    stamp = datetime(2022, 4, 11, 20, 0, 7, 123, tzinfo=TZ)  # the fraction is not written
    _assert_same_calendar(
        sampling_ics(problem, plan, names=_HOSTILE_NAMES, stamp=stamp),
        _reference_ics(problem, plan, names=_HOSTILE_NAMES, stamp=stamp),
    )


def test_hostile_names_read_back_exactly(solved):
    problem, plan = solved
    events = _events(sampling_ics(problem, plan, names=_HOSTILE_NAMES))

    def label(record_id: str) -> str:
        return _HOSTILE_NAMES.get(record_id, record_id)

    pairs = {(a.building_id, a.point_id) for a in plan.assignments}
    assert {str(e["SUMMARY"]) for e in events} == {
        f"核酸采样：{label(b)} → {label(p)} / Sampling: {label(b)} at {label(p)}" for b, p in pairs
    }
    assert {str(e["LOCATION"]) for e in events} == {label(p) for _b, p in pairs}
    descriptions = "\n".join(str(e["DESCRIPTION"]) for e in events)
    assert "一单元,二单元;\n三单元" in descriptions  # CRLF in a name: one line break


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "Etc/GMT+5", "Europe/Berlin"])
def test_direct_calendar_equals_the_reference_in_other_zones(zone):
    from commgov.io._sampling_ics import _reference_ics

    start = datetime(2022, 7, 1, 8, 0, tzinfo=ZoneInfo(zone))
    problem = _problem().model_copy(
        update={"timezone": zone, "window": TimeWindow(start=start, end=start + timedelta(hours=2))}
    )
    plan = plan_sampling(problem, time_limit_s=10)
    assert plan.assignments
    text = sampling_ics(problem, plan)
    _assert_same_calendar(text, _reference_ics(problem, plan))
    if zone in ("UTC", "Etc/UTC"):  # UTC times are written with Z and need no VTIMEZONE
        assert "TZID" not in text and "DTSTART:20220701T080000Z" in text


def test_old_icalendar_fixed_offset_path_matches_the_reference(solved, monkeypatch):
    """icalendar < 6.1 has no add_missing_timezones: both writers add one fixed offset."""
    from commgov.io._sampling_ics import _reference_ics

    problem, plan = solved
    monkeypatch.delattr(icalendar.Calendar, "add_missing_timezones")
    text = sampling_ics(problem, plan)
    _assert_same_calendar(text, _reference_ics(problem, plan))
    assert "TZOFFSETTO:+0800" in text


_FOLD_ALPHABET = st.one_of(
    st.sampled_from(["a", " ", "\\", "^", ",", ";", ":", "中", "é", "😀", "\u0085", "\t"]),
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
)


@settings(max_examples=300)
@given(st.text(_FOLD_ALPHABET, max_size=400))
def test_fold_is_icalendars_fold(line):
    """Pieces of ≤ 74 octets cut between characters, never after a lone escape character."""
    from commgov.io._sampling_ics import _fold

    reference = getattr(icalendar.parser, "_foldline", None) or icalendar.parser.foldline
    folded = _fold(line)
    assert folded == reference(line)
    assert folded.replace("\r\n ", "") == line  # unfolding gives the line back
    assert all(len(part.encode("utf-8")) <= 75 for part in folded.split("\r\n"))


def _rfc5545_unescape(value: str) -> str:
    """TEXT unescaping as RFC 5545 3.3.11 reads it (one pass, left to right)."""
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append("\n" if value[i + 1] in "nN" else value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


_TEXT_ALPHABET = st.one_of(
    st.sampled_from(["\\", ";", ",", "\n", "\r", "N", "n", "^", "中", "a"]),
    st.characters(blacklist_categories=("Cs",)),
)


@settings(max_examples=300)
@given(st.text(_TEXT_ALPHABET, max_size=60))
def test_escape_reads_back_and_matches_icalendar(text):
    from commgov.io._sampling_ics import _escape

    escaped = _escape(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert _rfc5545_unescape(escaped) == text.replace("\r\n", "\n").replace("\r", "\n")
    if "\\N" not in text:  # icalendar 7 alone turns a literal backslash-N into a line break
        assert escaped == icalendar.parser._escape_char(text)


@settings(max_examples=100)
@given(st.text(max_size=80), st.uuids())
def test_uid_hash_is_uuid5(name, namespace):
    import uuid

    from commgov.io._sampling_ics import _uuid5

    assert _uuid5(namespace.bytes, name) == str(uuid.uuid5(namespace, name))


def test_uid_namespace_skips_the_copy_only_for_canonical_problems(solved):
    from commgov.io import sampling_uid_namespace
    from commgov.io._sampling_ics import _is_canonical

    problem, _plan = solved
    permuted = _problem(reverse=True)
    assert _is_canonical(problem.canonical()) and not _is_canonical(permuted)
    assert sampling_uid_namespace(permuted) == sampling_uid_namespace(problem.canonical())
    twice = problem.buildings[1].model_copy(update={"allowed_point_ids": ["P_1", "P_1"]})
    repeated = problem.model_copy(update={"buildings": [problem.buildings[0], twice]})
    assert not _is_canonical(repeated)  # repeated allowed points: canonical() drops them


def _point_csv_reference(problem: SamplingProblem, plan: SamplingPlan, pid: str) -> str:
    """A point file as first written: one mapping per batch through commgov.io.csv_text."""
    from commgov.io import csv_text
    from commgov.io._sampling_export import POINT_COLUMNS

    households = {k.id: k.households for b in problem.buildings for k in b.batches}
    rows = [
        {
            "point_id": a.point_id,
            "slot": a.slot,
            "slot_start": problem.slot_start(a.slot).isoformat(),
            "slot_end": problem.slot_start(a.slot + 1).isoformat(),
            "building_id": a.building_id,
            "batch_id": a.batch_id,
            "households": households[a.batch_id],
            "people": a.people,
            "walk_m": a.walk_m,
        }
        for a in sorted(plan.assignments, key=lambda a: (a.slot, a.building_id, a.batch_id))
        if a.point_id == pid
    ]
    return csv_text(rows, POINT_COLUMNS)


def test_csv_rows_are_written_as_csv_text_writes_them(solved, tier_s):
    from commgov.io import csv_text
    from commgov.io._sampling_export import _file_names

    for problem, plan in (solved, tier_s):
        texts = sampling_csv_texts(problem, plan)
        assert texts["plan.csv"] == csv_text(plan.rows(), plan.ROW_COLUMNS)
        for pid, name in _file_names(sorted(p.id for p in problem.points)).items():
            assert texts[name] == _point_csv_reference(problem, plan, pid)


def test_one_pass_files_equal_the_public_exports(solved, tier_s):
    from commgov.io._sampling_files import sampling_files

    for problem, plan in (solved, tier_s):
        files = sampling_files(problem, plan)
        expected = dict(sampling_csv_texts(problem, plan))
        expected["sampling.ics"] = sampling_ics(problem, plan)
        for lang in ("zh", "en"):
            notices = building_notices(problem, plan, lang)
            expected[f"notices_{lang}.txt"] = "".join(t + "\n\n" for t in notices.values())
        assert files == expected
        assert list(files) == list(expected)  # the order the command writes them in


def test_slot_times_are_formatted_once_per_slot(tier_s, monkeypatch):
    """What made the old exports slow was work per event that depends on the slot alone."""
    from commgov.io import _sampling_export, _sampling_files, _sampling_ics, _sampling_notices

    problem, plan = tier_s
    calls = Counter[str]()
    original = _sampling_export._clock_pair

    def counting(start: datetime, end: datetime) -> tuple[str, str]:
        calls["clock"] += 1
        return original(start, end)

    for module in (_sampling_export, _sampling_ics, _sampling_notices):  # every caller
        if hasattr(module, "_clock_pair"):
            monkeypatch.setattr(module, "_clock_pair", counting)
    files = _sampling_files.sampling_files(problem, plan)
    assert files["sampling.ics"].count("BEGIN:VEVENT") > 500
    # once per slot for the calendar and for each language (and the sealed buildings' window)
    assert calls["clock"] <= 3 * (problem.n_slots + 1)
