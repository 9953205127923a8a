"""Per-community KPIs of an area run (community tags on the log) and the indexed KPI pass."""

from __future__ import annotations

import math

import pytest

from commgov.sim import EventLog, Scenario, community_kpis, run_replicate, split_by_community
from commgov.sim._engine import _IndexedLog

SUBDISTRICT = "320508023"  # 苏锦街道, the smallest sub-district (13 communities)
TEXT = """
name = "area_all"
start = 2022-04-11T19:00:00+08:00
community = {{ community = "{code}" }}
[submodels.notification]
volunteers = 4
[submodels.relay]
volunteers = 2
riders_per_hour = 6
[submodels.needs]
volunteers = 2
[submodels.queues]
[submodels.door_to_door]
duty_from_min = 780
crews = "generic"
teams = 1
visits = "home_visit"
"""


def _scenario(code: str) -> Scenario:
    return Scenario.from_toml(TEXT.format(code=code))


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a)


@pytest.fixture(scope="module")
def area():
    scenario = _scenario(SUBDISTRICT)
    return scenario, run_replicate(scenario, 1, 9)


def test_every_event_is_tagged_with_its_community(area):
    _, result = area
    assert result.communities is not None and len(result.communities) == len(result.log)
    logs = split_by_community(result)
    assert len(logs) == 13 and list(logs) == sorted(logs)
    assert sum(len(log) for log in logs.values()) == len(result.log)
    for cid, log in logs.items():  # Gusu ids begin with their community's code
        assert all(e.startswith(cid) or a.startswith(cid)
                   for e, a in zip(log.entity, log.actor, strict=True))


def test_community_kpis_equal_each_communitys_own_run(area):
    scenario, result = area
    per = community_kpis(scenario, result)
    assert len(per) == 13 and set(per[next(iter(per))]) == set(result.kpis)
    for key in ("events", "notification.households", "queues.served", "relay.arrived",
                "door_to_door.households", "needs.arrived"):
        assert sum(k[key] for k in per.values()) == result.kpis[key], key
    for cid in (min(per), max(per)):
        alone = run_replicate(_scenario(cid), 1, 9)
        assert _same(per[cid], alone.kpis), cid


def test_community_kpis_need_an_area_run_of_the_scenario(area):
    _, result = area
    one = _scenario("320508023009")
    own = run_replicate(one, 0, 0)
    assert own.communities is None
    with pytest.raises(ValueError, match="own run"):
        split_by_community(own)
    with pytest.raises(ValueError, match="not a replicate"):
        community_kpis(one, result)


def test_indexed_where_matches_a_scan_and_follows_appends():
    log = EventLog()
    for i, kind in enumerate("abacbba"):
        log.record(float(i), kind, f"e{i}")
    view = _IndexedLog(log)
    for kind in "abcz":
        assert view.where(kind) == [i for i, k in enumerate(log.kind) if k == kind]
    view.where("a").append(99)  # callers get a copy
    assert view.where("a") == [0, 2, 6]
    log.record(7.0, "a", "e7")
    assert view.where("a") == [0, 2, 6, 7]
