"""Randomness (DESIGN.md "Seeds"): determinism, common random numbers, per-entity streams."""

import json
import os
import subprocess
import sys
from collections import defaultdict

import numpy as np

from commgov.sim import Scenario, run_replicate

BASE = {
    "name": "seeds",
    "start": "2022-04-11T19:00:00+08:00",
    "community": {"dataset": "gusu", "seed": 0, "community": "320508017016"},
}


def scenario(**notification):
    return Scenario.from_dict({**BASE, "submodels": {"notification": notification}})


def test_same_inputs_same_kpis_and_log():
    s = scenario(volunteers=10, activation={"name": "phone_tree", "fanout": 3})
    a, b = run_replicate(s, 4, 11), run_replicate(s, 4, 11)
    assert a.kpis == b.kpis and a.log.columns() == b.log.columns()
    assert run_replicate(s, 5, 11).kpis != a.kpis
    assert run_replicate(s, 4, 12).kpis != a.kpis


def test_independent_of_hash_seed_and_process():
    s = scenario(volunteers=7)
    code = ("import json, sys; from commgov.sim import Scenario, run_replicate; "
            "s = Scenario.from_json(sys.argv[1]); "
            "print(json.dumps(run_replicate(s, 2, 5).kpis, sort_keys=True))")
    outs = []
    for hashseed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        done = subprocess.run([sys.executable, "-c", code, s.to_json()], env=env,
                              capture_output=True, text=True, check=True)
        outs.append(json.loads(done.stdout))
    here = json.loads(json.dumps(run_replicate(s, 2, 5).kpis, sort_keys=True))
    assert outs[0] == outs[1] == here


def _factors(result, params):
    nominal = {"group_post": params["post_minutes"], "phone_call": params["phone_minutes"],
               "door_knock": params["knock_minutes"]}
    out = defaultdict(list)
    log = result.log
    for i, kind in enumerate(log.kind):
        if kind in nominal:
            out[log.actor[i]].append(log.value[i] / nominal[kind])
    return out


def test_removing_a_volunteer_leaves_the_others_draws_unchanged():
    full, fewer = scenario(volunteers=20), scenario(volunteers=19)
    params = full.submodels["notification"]
    a, b = _factors(run_replicate(full, 0, 3), params), _factors(run_replicate(fewer, 0, 3),
                                                                 params)
    assert len(a) == 20 and len(b) == 19 and set(b) < set(a)
    for vid, seq in b.items():
        k = min(len(seq), len(a[vid]))
        assert k >= 5
        np.testing.assert_allclose(seq[:k], a[vid][:k], rtol=1e-12)


def test_household_draws_are_common_across_scenarios():
    # read delay of a group member = notified time − post time of its building, in both runs
    def delays(result):
        post = {result.log.entity[i]: result.log.t_min[i] for i in result.log.where("group_post")}
        out = {}
        for i in result.log.where("notified"):
            if result.log.actor[i] == "wechat":
                h = result.log.entity[i]
                building = h.split("/E")[0] if "/E" in h else h.rsplit("/H", 1)[0]
                out[h] = result.log.t_min[i] - post[building]
        return out

    a = delays(run_replicate(scenario(volunteers=20), 1, 9))
    b = delays(run_replicate(scenario(volunteers=5, channel={"name": "group_then_door"}), 1, 9))
    common = sorted(set(a) & set(b))
    assert len(common) > 1000
    np.testing.assert_allclose([a[h] for h in common], [b[h] for h in common], atol=1e-9)


def test_common_random_numbers_reduce_the_variance_of_differences():
    s20, s10 = scenario(volunteers=20), scenario(volunteers=10)
    reps = range(12)
    t = {}
    for name, s in (("20", s20), ("10", s10)):
        for seed in (1, 2):
            t[name, seed] = np.array([run_replicate(s, r, seed).kpis["notification.t95_min"]
                                      for r in reps])
    crn = np.std(t["10", 1] - t["20", 1])
    independent = np.std(t["10", 1] - t["20", 2])
    assert crn < independent
