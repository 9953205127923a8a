"""Hostile numbers, size guards before allocation and time limits (issue 12, items 2 and 3)
for the door-to-door, notification, roster, staffing and relay families."""

from __future__ import annotations

import copy
import threading
import tracemalloc
import typing
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from commgov.errors import InputError, SizeLimitError
from commgov.matching.relay import GateVolunteer, Parcel, RelayBuilding, RelayProblem
from commgov.scheduling.door_to_door import (
    DoorToDoorProblem,
    RoundBuilding,
    RoundHousehold,
    RoundTeam,
)
from commgov.scheduling.notification import (
    NotificationBuilding,
    NotificationProblem,
    Notifier,
    is_valid_notification_plan,
    plan_notification,
)
from commgov.scheduling.roster import (
    Post,
    RosterPolicy,
    RosterProblem,
    Staff,
    is_valid_roster,
    plan_roster,
)
from commgov.types import GeoPoint, TimeWindow
from timing_helpers import work_seconds

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2022, 4, 12, 8, 0, tzinfo=TZ)
SHIFT = TimeWindow(start=T0, end=T0 + timedelta(hours=4))
HERE = GeoPoint(lon=120.6190, lat=31.3421)
ABSURD = (2**62, 1e300, -1e300)


def _door_to_door() -> DoorToDoorProblem:
    return DoorToDoorProblem(
        base=HERE,
        buildings=[
            RoundBuilding(
                id="b1",
                location=GeoPoint(lon=120.6195, lat=31.3421),
                floors=3,
                minutes_per_floor=0.5,
            )
        ],
        households=[
            RoundHousehold(id=f"h{f}", building_id="b1", floor=f, service_minutes=3.0)
            for f in (1, 2, 3)
        ],
        teams=[RoundTeam(id="t1", shift=SHIFT, max_minutes=120.0)],
    )


def _notification() -> NotificationProblem:
    return NotificationProblem(
        timezone="Asia/Shanghai",
        start=T0,
        buildings=[
            NotificationBuilding(
                id="b0",
                households=12,
                floors=5,
                offline_households=2,
                notify_minutes=4.0,
                location=HERE,
            )
        ],
        volunteers=[Notifier(id="v1", location=HERE, walking_speed_m_per_min=70.0)],
    )


def _roster() -> RosterProblem:
    return RosterProblem(
        window=SHIFT,
        policy=RosterPolicy(slot_minutes=60, min_shift_hours=1),
        posts=[Post(id="p1", skill="s", min_level=1, demand=[1, 1, 1, 1])],
        staff=[
            Staff(
                id="s1",
                availability=[SHIFT],
                skills={"s": 2},
                max_hours_per_day=8.0,
                max_hours_total=20.0,
                preferred_post_ids=["p1"],
            )
        ],
    )


def _relay() -> RelayProblem:
    return RelayProblem(
        timezone="Asia/Shanghai",
        buildings=[RelayBuilding(id="b1", walk_m=160.0, floors=3, door_minutes=1.0)],
        parcels=[Parcel(id="p0", household_id="h0", building_id="b1", arrival=T0, priority=2)],
        volunteers=[GateVolunteer(id="v1", availability=[SHIFT], max_parcels_per_trip=3)],
    )


PROBLEMS = {
    "door_to_door": _door_to_door,
    "notification": _notification,
    "roster": _roster,
    "relay": _relay,
}


def _numeric(annotation: Any) -> bool:
    if annotation in (int, float):
        return True
    return any(_numeric(a) for a in typing.get_args(annotation))


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for a in typing.get_args(annotation):
        found = _model_of(a)
        if found is not None:
            return found
    return None


def numeric_paths(
    cls: type[BaseModel], data: Any, prefix: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """Every int/float leaf of ``data`` (a dump of ``cls``): record fields, list items and
    dict values, following nested records (the first item of each list of records)."""
    out: list[tuple[Any, ...]] = []
    for name, info in cls.model_fields.items():
        value = data.get(name)
        path = (*prefix, name)
        sub = _model_of(info.annotation)
        if sub is not None and isinstance(value, dict):
            out += numeric_paths(sub, value, path)
        elif sub is not None and isinstance(value, list) and value:
            out += numeric_paths(sub, value[0], (*path, 0))
        elif _numeric(info.annotation):
            if isinstance(value, list) and value:
                out.append((*path, 0))
            elif isinstance(value, dict) and value:
                out.append((*path, next(iter(value))))
            elif not isinstance(value, (list, dict)):
                out.append(path)
    return out


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def _cases() -> list[tuple[str, tuple[Any, ...], Any]]:
    cases = []
    for family, make in PROBLEMS.items():
        problem = make()
        for path in numeric_paths(type(problem), problem.model_dump()):
            cases += [(family, path, v) for v in ABSURD]
    return cases


CASES = _cases()


def test_every_numeric_field_is_found() -> None:
    """The walk reaches the numeric fields of every record (a guard on the test itself)."""
    fields = {(f, p[-1] if not isinstance(p[-1], int) else p[-2]) for f, p, _ in CASES}
    for expected in [
        ("door_to_door", "minutes_per_floor"),
        ("door_to_door", "floor"),
        ("door_to_door", "max_minutes"),
        ("door_to_door", "detour_factor"),
        ("notification", "offline_households"),
        ("notification", "knock_minutes"),
        ("notification", "walking_speed_m_per_min"),
        ("roster", "demand"),
        ("roster", "max_hours_total"),
        ("roster", "slot_minutes"),
        ("relay", "max_parcels_per_trip"),
        ("relay", "walk_m"),
        ("relay", "priority"),
        ("roster", "s"),
    ]:
        assert expected in fields
    assert len(CASES) >= 3 * 40


@pytest.mark.parametrize(
    ("family", "path", "value"),
    CASES,
    ids=[f"{f}:{'.'.join(map(str, p))}={v:g}" for f, p, v in CASES],
)
def test_absurd_numbers_are_input_errors(family: str, path: tuple[Any, ...], value: Any) -> None:
    """2**62, 1e300 and -1e300 in any numeric field of a problem record: an InputError naming
    the field, never an OverflowError, a MemoryError or a hang."""
    problem = PROBLEMS[family]()
    data = _set(problem.model_dump(), path, value)
    with pytest.raises(InputError) as info:
        type(problem)(**data)
    assert str(path[-1] if not isinstance(path[-1], int) else path[-2]) in str(info.value)


# ---- size guards before allocation --------------------------------------------------------


def _guard_within(call: Any) -> SizeLimitError:
    """Run ``call``, expecting a SizeLimitError within 1 s and under 100 MB of new memory."""
    tracemalloc.start()
    with work_seconds() as work:
        try:
            with pytest.raises(SizeLimitError) as info:
                call()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert work.seconds < 1.0
    assert peak < 100 * 2**20
    return info.value


def test_roster_of_60000_slots_and_60000_volunteers_is_refused_from_counts() -> None:
    """The issue's example: 60,000 one-minute slots × 60,000 volunteers would allocate a
    3.35 GiB availability table; the guard refuses it from the counts first."""
    window = TimeWindow(start=T0, end=T0 + timedelta(minutes=60_000))
    staff = [Staff(id=f"s{k}", availability=[window]) for k in range(60_000)]
    problem = RosterProblem(
        window=window,
        policy=RosterPolicy(slot_minutes=1, min_shift_hours=0.5),
        posts=[Post(id="p", demand=[1] * 60_000)],
        staff=staff,
    )
    error = _guard_within(lambda: plan_roster(problem))
    assert error.figure == 3_600_000_000 and "staff × slots" in error.what
    assert "slots" in error.change


def test_roster_model_cells_are_counted_while_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the table guards, the shift list itself stops at the cell limit."""
    from commgov.scheduling.roster import _solve_cpsat

    monkeypatch.setattr(_solve_cpsat, "MAX_ASSIGNMENT_VARS", 10)
    with pytest.raises(SizeLimitError, match="person-post-slot cells"):
        plan_roster(_roster())


def test_notification_tables_are_guarded_before_they_are_built() -> None:
    """2,000 buildings × 500 volunteers with 500 distinct walking speeds would need 2.5·10⁹
    table cells: refused from the counts."""
    buildings = [
        NotificationBuilding(
            id=f"b{k:04d}", households=5, location=GeoPoint(lon=120.6 + k / 1e5, lat=31.3)
        )
        for k in range(2000)
    ]
    volunteers = [
        Notifier(id=f"v{k:03d}", location=HERE, walking_speed_m_per_min=60 + k / 10)
        for k in range(500)
    ]
    problem = NotificationProblem(
        timezone="Asia/Shanghai", start=T0, buildings=buildings, volunteers=volunteers
    )
    error = _guard_within(lambda: plan_notification(problem))
    assert "walking tables" in error.what and error.limit == 30_000_000


def test_notification_guards_name_figure_limit_and_change() -> None:
    buildings = [
        NotificationBuilding(id=f"b{k:04d}", households=5, location=HERE) for k in range(2001)
    ]
    problem = NotificationProblem(
        timezone="Asia/Shanghai",
        start=T0,
        buildings=buildings,
        volunteers=[Notifier(id="v", location=HERE)],
    )
    error = _guard_within(lambda: plan_notification(problem))
    assert (error.figure, error.limit, error.change) == (2001, 2000, "split the area")


# ---- time limits on every phase -----------------------------------------------------------


def _notification_instance(households: int) -> NotificationProblem:
    from commgov.datasets import synthetic_community
    from commgov.scheduling.notification import notification_problem_from_org

    code = "320508001001"
    model = synthetic_community(code, households=households, seed=1)
    window = TimeWindow(start=T0, end=T0 + timedelta(hours=2))
    return notification_problem_from_org(model, code, window=window, use_availability=False)


@pytest.mark.slow
@pytest.mark.parametrize("limit", [0.01, 0.3])
def test_notification_tiny_limit_on_a_large_community(limit: float) -> None:
    """10,000 households (946 buildings): the bound, the construction and the balancing
    search all look at the deadline; the plan is complete and valid within limit + 1 s."""
    problem = _notification_instance(10_000)
    with work_seconds() as work:
        plan = plan_notification(problem, time_limit_s=limit)
    assert work.seconds < limit + 1.0
    assert plan.info.stopped_by == "wall_clock"
    assert plan.totals.buildings == len(problem.buildings)
    assert is_valid_notification_plan(problem, plan)


@pytest.mark.slow
def test_notification_cancel_from_another_thread_on_a_large_community() -> None:
    problem = _notification_instance(10_000)
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with work_seconds() as work:
        plan = plan_notification(problem, cancel=cancel)
    assert work.seconds < 0.5 + 1.0 + 1.0  # the timer, a second, the tables
    assert plan.info.status.value == "CANCELLED"
    assert is_valid_notification_plan(problem, plan)


def _large_roster() -> RosterProblem:
    window = TimeWindow(start=T0, end=T0 + timedelta(days=7))
    posts = [Post(id=f"p{k}", demand=[2] * (7 * 96)) for k in range(2)]
    staff = [Staff(id=f"s{k:04d}", availability=[window]) for k in range(40)]
    return RosterProblem(
        window=window,
        posts=posts,
        staff=staff,
        policy=RosterPolicy(slot_minutes=15, min_shift_hours=2, max_shift_hours=2.5),
    )


@pytest.mark.slow
def test_roster_tiny_limit_returns_a_valid_roster_within_limit_plus_one_second() -> None:
    """40 staff × 672 slots × 2 posts (1.5 million shift cells, under the guard): listing the
    shifts and building the model take seconds; the deadline stops them and a valid roster (every
    shortfall with its reason) comes back."""
    problem = _large_roster()
    with work_seconds() as work:
        roster = plan_roster(problem, time_limit_s=0.2)
    assert work.seconds < 0.2 + 1.0
    assert roster.info.status.value in ("LIMIT", "FEASIBLE")
    assert roster.info.stopped_by == "wall_clock"
    assert is_valid_roster(problem, roster)
    small = _roster()
    assert is_valid_roster(small, plan_roster(small, time_limit_s=0.01))
