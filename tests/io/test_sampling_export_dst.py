"""Sampling-plan exports across daylight-saving changes: every time names one instant.

On the autumn change the hour 01:00-02:00 happens twice in America/New_York (and in
Europe/London); a calendar time with ``TZID`` there is read as the first occurrence (RFC 5545),
so a 01:00 EST slot written as ``DTSTART;TZID=America/New_York:20221106T010000`` became 01:00
EDT, and notices gave the EDT and the EST slot the same "01:00-01:30". The rules: events with an
ambiguous (or skipped) local time are written in UTC; notices show the UTC offset on a day the
offset changes; slot ends are elapsed time.
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commgov.io import building_notices, sampling_csv_texts, sampling_ics
from commgov.io._sampling_export import _clock_pair, _unambiguous
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

SLOTS = 6  # one building per 30-minute slot: capacity 42 < 60 people, queue at most 5


def _at(dx_m: float) -> GeoPoint:
    return GeoPoint(lon=-73.9 + dx_m / (111_195.0 * math.cos(math.radians(40.7))), lat=40.7)


def _solved(zone: str, local_start: datetime) -> tuple[SamplingProblem, SamplingPlan]:
    start = local_start.replace(tzinfo=ZoneInfo(zone))
    window = TimeWindow(start=start, end=start.astimezone(UTC) + timedelta(minutes=30 * SLOTS))
    buildings = [
        SamplingBuilding(
            id=f"B{i}",
            location=_at(50 * i),
            batches=[SamplingBatch(id=f"B{i}-0", building_id=f"B{i}", households=10, people=30)],
        )
        for i in range(SLOTS)
    ]
    problem = SamplingProblem(
        timezone=zone,
        window=window,
        buildings=buildings,
        points=[SamplingPoint(id="P", location=_at(0), lanes=1)],
        policy=SamplingPolicy(max_queue=5),
    )
    plan = plan_sampling(problem, time_limit_s=10)
    assert is_valid_sampling_plan(problem, plan)
    assert sorted(a.slot for a in plan.assignments) == list(range(SLOTS))  # every slot used
    return problem, plan


CASES = {
    # zone, local start of a three-hour window, change: "autumn" (repeated hour) / "spring"
    "new_york_autumn": ("America/New_York", datetime(2022, 11, 6, 0, 0), "autumn"),
    "new_york_spring": ("America/New_York", datetime(2022, 3, 13, 0, 0), "spring"),
    "london_autumn": ("Europe/London", datetime(2022, 10, 30, 0, 0), "autumn"),
    "london_spring": ("Europe/London", datetime(2022, 3, 27, 0, 0), "spring"),
    "lord_howe_autumn": ("Australia/Lord_Howe", datetime(2022, 4, 3, 0, 30), "autumn"),  # 30 min
    "shanghai": ("Asia/Shanghai", datetime(2022, 4, 12, 6, 30), None),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request):
    zone, local_start, change = CASES[request.param]
    problem, plan = _solved(zone, local_start)
    return problem, plan, change


def test_every_event_reads_back_as_its_slot(case):
    problem, plan, change = case
    cal = icalendar.Calendar.from_ical(sampling_ics(problem, plan))
    events = cal.walk("VEVENT")
    assert len(events) == SLOTS
    by_building = {a.building_id: a.slot for a in plan.assignments}
    utc_events = 0
    for event in events:
        slot = by_building[str(event["SUMMARY"]).split("：")[1].split(" ")[0]]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start.astimezone(UTC) == problem.slot_start(slot).astimezone(UTC)
        assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(minutes=30)
        assert end.astimezone(UTC) == problem.slot_start(slot + 1).astimezone(UTC)
        if "TZID" in event["DTSTART"].params:
            assert event["DTSTART"].params["TZID"] == problem.timezone
        else:
            utc_events += 1
            assert event["DTSTART"].to_ical().endswith(b"Z")
    if change == "autumn":
        assert utc_events >= 2  # the repeated hour's slots (and those ending in it)
    else:
        assert utc_events == 0  # no local time of a real instant is ambiguous or skipped


def test_the_autumn_slot_of_the_issue_is_written_in_utc():
    problem, plan = _solved("America/New_York", datetime(2022, 11, 6, 0, 0))
    text = sampling_ics(problem, plan)
    assert "DTSTART;TZID=America/New_York:20221106T010000" not in text
    assert "DTSTART:20221106T060000Z" in text  # 01:00 EST
    assert "DTSTART:20221106T050000Z" in text  # 01:00 EDT
    assert "DTSTART;TZID=America/New_York:20221106T000000" in text  # unambiguous: local


def test_notices_tell_the_two_repeated_hours_apart():
    problem, plan = _solved("America/New_York", datetime(2022, 11, 6, 0, 0))
    zh = "\n".join(building_notices(problem, plan, "zh").values())
    en = "\n".join(building_notices(problem, plan, "en").values())
    assert "01:00–01:30 (UTC-04:00)" in zh and "01:00–01:30 (UTC-05:00)" in zh
    assert "between 01:00 and 01:30 (UTC-04:00)" in en
    assert "between 01:00 and 01:30 (UTC-05:00)" in en
    # a slot across the change carries both offsets
    assert "01:30 (UTC-04:00)–01:00 (UTC-05:00)" in zh


_TIME = re.compile(r"(\d\d):(\d\d)(?: \(UTC([+-])(\d\d):(\d\d)\))?")


def test_notice_times_name_distinct_instants(case):
    """No two slots of a plan read the same in a notice, and every time shown is right."""
    problem, plan, change = case
    notices = building_notices(problem, plan, "zh")
    shown = set()
    for a in plan.assignments:
        line = notices[a.building_id].splitlines()[1]
        first, last = _clock_pair(problem.slot_start(a.slot), problem.slot_start(a.slot + 1))
        assert f"{first}–{last}" in line
        shown.add(line.split("请于 ")[1].split(" 到")[0])
        for text, moment in (
            (first, problem.slot_start(a.slot)),
            (last, problem.slot_start(a.slot + 1)),
        ):
            m = _TIME.fullmatch(text)
            assert m and (int(m[1]), int(m[2])) == (moment.hour, moment.minute)
    assert len(shown) == SLOTS
    if change is None:
        assert not any("UTC" in text for text in notices.values())
    else:
        assert all("UTC" in notices[a.building_id] for a in plan.assignments)


def test_csv_slot_ends_are_elapsed_time(case):
    problem, plan, _ = case
    texts = sampling_csv_texts(problem, plan)
    for name in ("buildings.csv", "point_P.csv"):
        for row in csv.DictReader(io.StringIO(texts[name])):
            if row["slot_start"]:
                start = datetime.fromisoformat(row["slot_start"])
                end = datetime.fromisoformat(row["slot_end"])
                assert end - start == timedelta(minutes=30), row  # fixed offsets: elapsed


@pytest.mark.parametrize(
    ("zone", "local", "fold", "expected"),
    [
        ("America/New_York", datetime(2022, 11, 6, 1, 0), 0, False),  # repeated
        ("America/New_York", datetime(2022, 11, 6, 1, 0), 1, False),
        ("America/New_York", datetime(2022, 3, 13, 2, 30), 0, False),  # skipped
        ("America/New_York", datetime(2022, 11, 6, 2, 0), 0, True),
        ("Europe/London", datetime(2022, 10, 30, 1, 59), 1, False),
        ("Europe/London", datetime(2022, 3, 27, 1, 0), 0, False),
        ("Asia/Shanghai", datetime(2022, 4, 12, 1, 0), 0, True),
    ],
)
def test_unambiguous(zone, local, fold, expected):
    assert _unambiguous(local.replace(tzinfo=ZoneInfo(zone), fold=fold)) is expected


def test_direct_calendar_equals_the_reference_across_the_change(case):
    """The direct writer (issue 12) against the icalendar-object writer it replaced."""
    from commgov.io._sampling_ics import _reference_ics

    problem, plan, change = case
    text, reference = sampling_ics(problem, plan), _reference_ics(problem, plan)
    assert text == reference
    got = icalendar.Calendar.from_ical(text).walk("VEVENT")
    want = icalendar.Calendar.from_ical(reference).walk("VEVENT")
    assert len(got) == len(want) == SLOTS
    for new, old in zip(got, want, strict=True):
        for prop in ("DTSTART", "DTEND"):
            assert new.decoded(prop) == old.decoded(prop)  # the same instant
            assert new.decoded(prop).utcoffset() == old.decoded(prop).utcoffset()
            assert ("TZID" in new[prop].params) == ("TZID" in old[prop].params)
        for prop in ("SUMMARY", "DESCRIPTION", "UID", "LOCATION"):
            assert str(new[prop]) == str(old[prop])
    if change is not None:  # offsets shown in the descriptions on the day of the change
        assert all("(UTC" in str(e["DESCRIPTION"]) for e in got)


def test_dst_offsets_in_notices_are_formatted_once_per_slot(case, monkeypatch):
    from commgov.io import _sampling_export as export

    problem, plan, _change = case
    expected = {lang: building_notices(problem, plan, lang) for lang in ("zh", "en")}
    calls = []
    original = export._offset_changes_on

    def counting(day, tz):  # type: ignore[no-untyped-def]
        calls.append(day)
        return original(day, tz)

    from commgov.io import _sampling_ics, _sampling_notices

    for module in (export, _sampling_ics, _sampling_notices):  # every caller
        if hasattr(module, "_offset_changes_on"):
            monkeypatch.setattr(module, "_offset_changes_on", counting)
    for lang in ("zh", "en"):
        assert building_notices(problem, plan, lang) == expected[lang]
    assert len(calls) <= 2 * 2 * (SLOTS + 1)  # two days looked at per slot and language
