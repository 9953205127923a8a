"""synthetic_tasks checks its parameters like synthetic_community: one InputError naming each."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from commgov.datasets import HUCHIYUAN, gusu, synthetic_tasks
from commgov.errors import InputError
from commgov.org import OrgGraph


@pytest.fixture(scope="module")
def graph():
    return OrgGraph(gusu(communities=[HUCHIYUAN]))


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"community_id": "nope"}, "community_id", "no community"),
        ({"community_id": "320508017"}, "community_id", "is a subdistrict, not a community"),
        ({"community_id": f"{HUCHIYUAN}/PO"}, "community_id", "is a party_org"),
        ({"community_id": 320508017016}, "community_id", "no community"),
        ({"seed": -1}, "seed", "whole number ≥ 0"),
        ({"seed": 1.5}, "seed", "whole number ≥ 0"),
        ({"seed": True}, "seed", "whole number ≥ 0"),
        ({"seed": "0"}, "seed", "whole number ≥ 0"),
        ({"day": "x"}, "day", "datetime.date"),
        ({"day": "2022-04-12"}, "day", "datetime.date"),
        ({"day": datetime(2022, 4, 12, tzinfo=ZoneInfo("Asia/Shanghai"))}, "day", "datetime.date"),
    ],
)
def test_bad_parameters_are_input_errors_naming_them(graph, kwargs, field, words):
    args = {"community_id": HUCHIYUAN, **kwargs}
    community_id = args.pop("community_id")
    with pytest.raises(InputError) as info:
        synthetic_tasks(graph, community_id, **args)
    issues = info.value.issues
    assert [i.field for i in issues] == [field]
    assert words in issues[0].constraint


def test_every_bad_parameter_is_reported_at_once(graph):
    with pytest.raises(InputError) as info:
        synthetic_tasks(graph, "nope", seed=-1, day="x")
    assert [i.field for i in info.value.issues] == ["community_id", "seed", "day"]


def test_good_parameters_still_give_tasks(graph):
    tasks = synthetic_tasks(graph, HUCHIYUAN, seed=np.int64(3), day=date(2022, 4, 13))
    assert tasks and tasks == synthetic_tasks(graph, HUCHIYUAN, seed=3, day=date(2022, 4, 13))
    assert all(t.window.start.date() == date(2022, 4, 13) for t in tasks)
