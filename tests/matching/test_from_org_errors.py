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
        matching_problem_from_org(graph, [], community_id=HUCHIYUAN, **kwargs)
    issue = info.value.issues[0]
    assert issue.field == field
    if field.startswith("capacity"):
        assert issue.record == "matching_problem_from_org"
    assert "Traceback" not in str(info.value)


def test_unknown_community(graph):
    with pytest.raises(ProblemError, match="320508017999"):
        matching_problem_from_org(graph, [], community_id="320508017999")
