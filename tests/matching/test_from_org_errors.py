"""The matching problem builder reports bad parameters as ProblemError naming the record."""

import pytest

from commgov.datasets import HUCHIYUAN, gusu
from commgov.errors import ProblemError
from commgov.matching import matching_problem_from_org
from commgov.org import OrgGraph


@pytest.fixture(scope="module")
def graph():
    return OrgGraph(gusu())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"capacity_per_slot": -1}, "capacity_per_slot"),
        ({"capacity_per_day": -1}, "capacity_per_day"),
        ({"capacity_per_day": True}, "capacity_per_day"),
        ({"capacity_per_slot": 1.5}, "capacity_per_slot"),
        ({"max_distance_m": -5.0}, "max_distance_m"),
        ({"max_distance_m": float("nan")}, "max_distance_m"),
    ],
)
def test_bad_builder_parameters(graph, kwargs, field):
    with pytest.raises(ProblemError) as info:
        matching_problem_from_org(graph, HUCHIYUAN, tasks=[], **kwargs)
    issue = info.value.issues[0]
    assert issue.field == field
    if field.startswith("capacity"):
        assert issue.record == "matching_problem_from_org"
    assert "Traceback" not in str(info.value)


def test_unknown_community(graph):
    with pytest.raises(ProblemError, match="320508017999"):
        matching_problem_from_org(graph, "320508017999", tasks=[])


def test_window_keeps_memberships_active_that_day(graph):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from commgov.types import TimeWindow

    start = datetime(2022, 4, 10, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    window = TimeWindow(start=start, end=start + timedelta(hours=2))
    every = matching_problem_from_org(graph, HUCHIYUAN, tasks=[])
    that_day = matching_problem_from_org(graph, HUCHIYUAN, tasks=[], window=window)
    assert {v.id for v in that_day.volunteers} == {v.id for v in every.volunteers}
    assert all(set(v.building_ids) <= set(w.building_ids)
               for v, w in zip(that_day.volunteers, every.volunteers, strict=True))
