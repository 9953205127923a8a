"""Time windows across daylight-saving transitions: elapsed time, not wall clock.

Python subtracts and compares two datetimes sharing one ``tzinfo`` by wall clock, so a window
across a DST change had the wrong length, and the fall-back hour compared equal to itself.
Every consumer (slot grids, calendar days, verifiers) depends on windows, so the fix lives in
:class:`commgov.types.TimeWindow`, which stores UTC.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commgov.matching import MatchingProblem, Task, Volunteer, is_valid_assignment, match_volunteers
from commgov.scheduling import (
    SamplingBatch,
    SamplingBuilding,
    SamplingPoint,
    SamplingProblem,
    is_valid_sampling_plan,
    plan_sampling,
)
from commgov.types import GeoPoint, TimeWindow

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        # spring forward: 02:00-03:00 does not exist
        (datetime(2022, 3, 13, 1, 30, tzinfo=NY), datetime(2022, 3, 13, 3, 30, tzinfo=NY), 60.0),
        # fall back: 01:00-02:00 happens twice; fold=1 is the second time
        (
            datetime(2022, 11, 6, 1, 30, tzinfo=NY),
            datetime(2022, 11, 6, 1, 30, fold=1, tzinfo=NY),
            60.0,
        ),
        (datetime(2022, 11, 6, 0, 30, tzinfo=NY), datetime(2022, 11, 6, 2, 30, tzinfo=NY), 180.0),
        (
            datetime(2022, 3, 27, 0, 30, tzinfo=LONDON),
            datetime(2022, 3, 27, 2, 30, tzinfo=LONDON),
            60.0,
        ),
        (
            datetime(2022, 4, 10, 6, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
            datetime(2022, 4, 10, 12, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
            360.0,
        ),
    ],
)
def test_window_length_is_elapsed_time(start: datetime, end: datetime, minutes: float) -> None:
    w = TimeWindow(start=start, end=end)
    assert w.minutes == minutes
    assert w.duration == timedelta(minutes=minutes)
    # same instants (PEP 495: a repeated-hour time never equals a time in another zone)
    assert w.start == start.astimezone(UTC) and w.end == end.astimezone(UTC)
    assert w.start.tzinfo is UTC


def test_fall_back_repeated_hour_is_ordered() -> None:
    first = datetime(2022, 11, 6, 1, 30, tzinfo=NY)
    second = first.replace(fold=1)
    w = TimeWindow(start=first, end=second)
    inner = datetime(2022, 11, 6, 1, 45, tzinfo=NY)  # fold=0: inside the first 01:xx hour
    assert w.contains(inner)
    assert not w.contains(inner.replace(fold=1))
    minute = timedelta(minutes=1)  # arithmetic in UTC: aware + timedelta is wall clock
    a = TimeWindow(start=first, end=first.astimezone(UTC) + minute)
    b = TimeWindow(start=second, end=second.astimezone(UTC) + minute)
    assert not a.overlaps(b)


def test_same_instant_different_zones_is_equal() -> None:
    a = TimeWindow(
        start=datetime(2022, 4, 10, 6, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
        end=datetime(2022, 4, 10, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    b = TimeWindow(
        start=datetime(2022, 4, 9, 22, 30, tzinfo=UTC), end=datetime(2022, 4, 9, 23, 0, tzinfo=UTC)
    )
    assert a == b
    assert a.model_dump_json() == b.model_dump_json()


def test_sampling_slots_across_spring_forward() -> None:
    """A 01:00–04:00 (wall clock) window on the change day has 4 real 30-min slots, not 6."""
    window = TimeWindow(
        start=datetime(2022, 3, 13, 1, 0, tzinfo=NY), end=datetime(2022, 3, 13, 4, 0, tzinfo=NY)
    )
    here = GeoPoint(lon=-73.99, lat=40.73)
    problem = SamplingProblem(
        timezone="America/New_York",
        window=window,
        buildings=[
            SamplingBuilding(
                id="B1",
                location=here,
                batches=[SamplingBatch(id="B1/1", building_id="B1", households=10, people=20)],
            )
        ],
        points=[SamplingPoint(id="P1", location=here, lanes=1)],
    )
    assert problem.n_slots == 4
    starts = [problem.slot_start(t) for t in range(problem.n_slots)]
    gaps = {b.astimezone(UTC) - a.astimezone(UTC) for a, b in itertools.pairwise(starts)}
    assert gaps == {timedelta(minutes=30)}
    assert [s.strftime("%H:%M") for s in starts] == ["01:00", "01:30", "03:00", "03:30"]
    plan = plan_sampling(problem)
    assert is_valid_sampling_plan(problem, plan)
    assert plan.totals.served_people == 20


def test_matching_calendar_day_across_fall_back() -> None:
    """Tasks on the repeated hour are distinct slots on one local calendar day."""
    here = GeoPoint(lon=-73.99, lat=40.73)
    t1 = datetime(2022, 11, 6, 1, 0, tzinfo=NY).astimezone(UTC)
    t2 = datetime(2022, 11, 6, 1, 0, fold=1, tzinfo=NY).astimezone(UTC)
    tasks = [
        Task(
            id=f"T{i}",
            skill="delivery",
            location=here,
            window=TimeWindow(start=t, end=t + timedelta(hours=1)),
        )
        for i, t in ((1, t1), (2, t2))
    ]
    day = TimeWindow(
        start=datetime(2022, 11, 6, 0, 0, tzinfo=NY), end=datetime(2022, 11, 6, 6, 0, tzinfo=NY)
    )
    vol = Volunteer(
        id="V1", location=here, skills={"delivery": 1}, availability=[day], capacity_per_day=2
    )
    problem = MatchingProblem(timezone="America/New_York", tasks=tasks, volunteers=[vol])
    result = match_volunteers(problem)
    assert is_valid_assignment(problem, result)
    assert len(result.matches) == 2
    vol1 = vol.model_copy(update={"capacity_per_day": 1})
    problem1 = MatchingProblem(timezone="America/New_York", tasks=tasks, volunteers=[vol1])
    assert len(match_volunteers(problem1).matches) == 1
