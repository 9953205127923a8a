"""Notification submodel: escalation, phone tree vs the ⌈log₂ n⌉ bound, invariants, errors."""

import itertools
import math
from collections import defaultdict

import numpy as np
import pytest
import simpy
from hypothesis import given, settings, strategies as st

from commgov.errors import InputError
from commgov.sim import (
    NOTIFIED_BY_DOOR as DOOR,
    NOTIFIED_BY_GROUP as GROUP,
    NOTIFIED_BY_PHONE as PHONE,
    Scenario,
    phone_tree,
    run_replicate,
)

BASE = {
    "name": "n",
    "start": "2022-04-11T19:00:00+08:00",
    "horizon_min": 1440,
    "community": {"dataset": "gusu", "seed": 0, "community": "320508017016"},
}


def scenario(**notification):
    return Scenario.from_dict({**BASE, "submodels": {"notification": notification}})


def first_notified(log):
    seen = {}
    for i in log.where("notified"):
        assert log.entity[i] not in seen, f"{log.entity[i]} notified twice"
        seen[log.entity[i]] = (log.t_min[i], log.actor[i], log.value[i])
    return seen


# ------------------------------------------------------------------ phone tree bound


def _tree(n, fanout, minutes):
    env = simpy.Environment()
    members = [f"v{i:04d}" for i in range(n)]
    learnt = {members[0]: 0.0}
    calls = iter(minutes)

    def on_call(caller, callee, start, dur):
        assert caller in learnt and callee not in learnt and start >= learnt[caller]
        learnt[callee] = env.now

    free = phone_tree(env, members, fanout, lambda who: next(calls), on_call)
    env.run()
    assert set(learnt) == set(members)
    assert all(free[m].triggered and free[m].value == learnt[m] for m in members)
    return max(learnt.values())


@settings(max_examples=120, deadline=None)
@given(n=st.integers(1, 300), fanout=st.integers(1, 12),
       minutes=st.lists(st.floats(1.0, 3.0), min_size=300, max_size=300))
def test_call_tree_never_beats_log2_rounds(n, fanout, minutes):
    last = _tree(n, fanout, minutes)
    assert last >= math.ceil(math.log2(n)) - 1e-9


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 17, 20, 64, 65, 257])
def test_call_tree_with_enough_fanout_meets_the_bound(n):
    rounds = math.ceil(math.log2(n))
    assert _tree(n, max(rounds, 1), [1.0] * n) == rounds


def test_fanout_one_is_a_chain():
    assert _tree(6, 1, [1.0] * 6) == 5


def test_submodel_phone_tree_activation_time():
    # unit calls, no spread, large fanout: the 20 pioneers all know after ⌈log₂ 20⌉ = 5 min
    s = scenario(service_sigma=0.0, activation={"name": "phone_tree", "fanout": 10,
                                                "call_minutes": 1.0})
    r = run_replicate(s, 0, 0)
    assert r.kpis["notification.activated_min"] == 5.0
    chain = scenario(service_sigma=0.0, activation={"name": "phone_tree", "fanout": 1})
    assert run_replicate(chain, 0, 0).kpis["notification.activated_min"] == 19.0


# ------------------------------------------------------------------ the escalation


def test_every_household_notified_once_and_kpis_consistent():
    r = run_replicate(scenario(volunteers=20), 0, 1)
    k = r.kpis
    seen = first_notified(r.log)
    assert len(seen) == k["notification.households"] == 1765
    assert k["notification.by_group"] + k["notification.by_phone"] + k["notification.by_door"] \
        == 1765
    assert k["notification.t50_min"] <= k["notification.t95_min"] <= k["notification.t100_min"]
    assert k["notification.t100_min"] == max(t for t, _, _ in seen.values())
    assert k["notification.notified_share"] == 1.0
    assert k["volunteer_hours"] == pytest.approx(k["notification.volunteer_hours"])
    # a door knock is only for a household not yet notified; a group read only by "wechat"
    for _t, actor, channel in seen.values():
        assert (channel == GROUP) == (actor == "wechat")


def test_a_volunteer_does_one_thing_at_a_time():
    r = run_replicate(scenario(volunteers=5), 2, 3)
    spans = defaultdict(list)
    for i in r.log.where("volunteer_busy"):
        spans[r.log.entity[i]].append((r.log.t_min[i], r.log.value[i]))
    assert len(spans) == 5
    for items in spans.values():
        items.sort()
        for (s0, d0), (s1, _) in itertools.pairwise(items):
            assert s1 >= s0 + d0 - 1e-9


@pytest.mark.parametrize(
    ("channel", "channels"),
    [("door_only", {DOOR}), ("phone_then_door", {PHONE, DOOR}),
     ("group_then_door", {GROUP, DOOR}), ("escalation", {GROUP, PHONE, DOOR})],
)
def test_channel_policies(channel, channels):
    r = run_replicate(scenario(channel={"name": channel}, volunteers=20), 0, 0)
    used = {v for _, _, v in first_notified(r.log).values()}
    assert used == channels
    assert (r.kpis["notification.calls"] > 0) == (PHONE in channels)
    assert bool(r.log.where("group_post")) == (GROUP in channels)


def test_fewer_volunteers_take_longer():
    t = {n: np.median([run_replicate(scenario(volunteers=n), i, 0).kpis[
        "notification.t100_min"] for i in range(5)]) for n in (20, 5)}
    assert t[5] > t[20]


def test_pareto_read_delay_and_qualname_policy():
    a = scenario(read_delay={"name": "pareto", "scale_min": 3.0, "shape": 1.2})
    b = scenario(read_delay={"name": "commgov.sim:ParetoDelay",
                             "scale_min": 3.0, "shape": 1.2})
    assert a.content_hash == b.content_hash
    assert a.submodels["notification"]["read_delay"]["name"] == "pareto"
    assert run_replicate(a, 0, 0).kpis["notification.notified_share"] == 1.0


def test_errors():
    with pytest.raises(InputError) as info:
        scenario(channel={"name": "carrier_pigeon"})
    (issue,) = info.value.issues
    assert issue.field == "submodels.notification.channel"
    assert "carrier_pigeon" in issue.constraint and "escalation" in issue.constraint
    with pytest.raises(InputError, match="fanout"):
        scenario(activation={"name": "phone_tree", "fanout": 0})
    with pytest.raises(InputError, match=r"submodels\.notification\.volunteers"):
        run_replicate(scenario(volunteers=21), 0, 0)
    with pytest.raises(InputError, match="no volunteer enrolled"):
        run_replicate(scenario(enrolment="nobody"), 0, 0)


def test_horizon_cuts_the_run():
    s = Scenario.from_dict({**BASE, "horizon_min": 10,
                            "submodels": {"notification": {"volunteers": 5}}})
    k = run_replicate(s, 0, 0).kpis
    assert k["notification.notified_share"] < 1.0 and math.isnan(k["notification.t100_min"])


def test_to_datetime_boundary():
    s = scenario()
    from commgov.sim import SimContext, load_world

    model, graph = load_world("gusu", 0, "320508017016")
    ctx = SimContext(s, 0, 0, model, graph, "320508017016", s.start)
    at = ctx.to_datetime(90.0)
    assert at.tzinfo is not None and (at.hour, at.minute) == (20, 30)
    assert ctx.to_minutes(at) == 90.0
