"""The numpy bound tables of the notification family equal the pure-Python ones they replaced
(issue 12, item 10): same walking tables, reach, least walk in and predecessor bound."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from notification_reference import (
    PythonTimes,
    predecessor_walk_bound as python_predecessor_walk_bound,
)

from commgov.datasets import synthetic_community
from commgov.scheduling.notification import notification_problem_from_org
from commgov.scheduling.notification._bound import predecessor_walk_bound
from commgov.scheduling.notification._rules import NotificationTimes
from commgov.types import TimeWindow

START = datetime(2022, 4, 11, 19, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WINDOW = TimeWindow(start=START, end=START + timedelta(hours=2))


@pytest.mark.parametrize(
    ("households", "volunteers", "seed"), [(60, 3, 0), (300, None, 3), (800, 9, 1), (1765, 20, 2)]
)
def test_numpy_tables_equal_the_python_ones(
    households: int, volunteers: int | None, seed: int
) -> None:
    code = "320508001001"
    model = synthetic_community(code, households=households, volunteers=volunteers, seed=seed)
    problem = notification_problem_from_org(model, code, window=WINDOW, use_availability=False)
    new, old = NotificationTimes(problem), PythonTimes(problem)
    for name in (
        "home_m",
        "between_m",
        "home_s",
        "between_s",
        "offsets",
        "service",
        "speeds",
        "speed_class",
    ):
        assert getattr(new, name) == getattr(old, name), name
    reach = old.reach()
    assert new.reach() == reach
    assert new.reach_first() == [min(col) for col in zip(*reach, strict=True)]
    assert new.walk_in() == old.walk_in()
    assert predecessor_walk_bound(new) == python_predecessor_walk_bound(old)  # type: ignore[arg-type]


def test_several_walking_speeds_keep_the_tables_equal() -> None:
    """Volunteers at three speeds: one table per speed, each equal to the Python one."""
    code = "320508001001"
    model = synthetic_community(code, households=400, volunteers=6, seed=5)
    problem = notification_problem_from_org(model, code, window=WINDOW, use_availability=False)
    vols = [
        v.model_copy(update={"walking_speed_m_per_min": (60.0, 75.5, 90.0)[k % 3]})
        for k, v in enumerate(problem.volunteers)
    ]
    problem = problem.model_copy(update={"volunteers": vols})
    new, old = NotificationTimes(problem), PythonTimes(problem)
    assert new.between_s == old.between_s and new.home_s == old.home_s
    assert new.reach() == old.reach() and new.walk_in() == old.walk_in()
