"""Property tests (verifier as oracle) and determinism (mutations: test_mutations.py)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from matching_helpers import community_problem

from commgov.matching import (
    MatchingProblem,
    is_eligible,
    is_valid_assignment,
    match_volunteers,
)
from commgov.testing._matching import matching_problems

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(matching_problems())
def test_solver_output_passes_verifier(p: MatchingProblem) -> None:
    a = match_volunteers(p)
    report = is_valid_assignment(p, a)
    assert report.ok, report.violations
    ob = report.objective
    assert (ob.priority_served, ob.cost_m, ob.travel_m) == (
        a.totals.priority_served, a.totals.cost_m, a.totals.travel_m)
    # every unmatched task has exactly one reason, every task is accounted for
    assert all(len(u.reasons) == 1 for u in a.unmatched)
    assert a.totals.matched + a.totals.unmatched == len(p.tasks)


@SETTINGS
@given(matching_problems(max_tasks=6, max_volunteers=4))
def test_greedy_never_beats_solver(p: MatchingProblem) -> None:
    """A simple priority-first greedy is a valid assignment; the optimum is never worse."""
    a = match_volunteers(p)
    used_slot: dict[tuple[str, object], int] = {}
    used_day: dict[tuple[str, object], int] = {}
    served = 0
    for t in sorted(p.tasks, key=lambda t: (-t.priority, t.id)):
        for v in sorted(p.volunteers, key=lambda v: v.id):
            ks = (v.id, t.window)
            kd = (v.id, t.window.start.astimezone(p.zone).date())
            if (is_eligible(p, t, v) and used_slot.get(ks, 0) < v.capacity_per_slot
                    and used_day.get(kd, 0) < v.capacity_per_day):
                used_slot[ks] = used_slot.get(ks, 0) + 1
                used_day[kd] = used_day.get(kd, 0) + 1
                served += t.priority
                break
    assert a.totals.priority_served >= served


def _shuffled(p: MatchingProblem, seed: int) -> MatchingProblem:
    rnd = random.Random(seed)
    tasks = list(p.tasks)
    rnd.shuffle(tasks)
    vols = []
    for v in p.volunteers:
        skills = list(v.skills.items())
        rnd.shuffle(skills)
        avail = list(v.availability)
        rnd.shuffle(avail)
        vols.append(v.model_copy(update={"skills": dict(skills), "availability": avail}))
    rnd.shuffle(vols)
    return MatchingProblem(timezone=p.timezone, tasks=tasks, volunteers=vols,
                           max_distance_m=p.max_distance_m, detour_factor=p.detour_factor)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_input_gives_identical_json(seed: int) -> None:
    p = community_problem(seed)
    ref = match_volunteers(p).to_json()
    for k in range(3):
        assert match_volunteers(_shuffled(p, 100 * seed + k)).to_json() == ref


def test_json_independent_of_hash_seed(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parents[2] / "src"
    here = Path(__file__).resolve().parent
    script = (
        "import hashlib, sys\n"
        "from matching_helpers import community_problem\n"
        "from commgov.matching import match_volunteers\n"
        "print(hashlib.sha256(match_volunteers(community_problem(7)).to_json().encode())"
        ".hexdigest())\n"
    )
    outs = set()
    for hash_seed in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed,
                   PYTHONPATH=os.pathsep.join([str(src), str(here)]))
        run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, check=True)
        outs.add(run.stdout.strip())
    assert len(outs) == 1


# The mutation suite is in test_mutations.py.


def _naive_primary(p: MatchingProblem, t) -> tuple[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    from commgov.matching import has_skill, is_available, travel_distance_m

    if not p.volunteers:  # an empty pool is its own reason (issue 13)
        return "NO_VOLUNTEERS", {}
    skilled = [v for v in p.volunteers if has_skill(t, v)]
    if not skilled:
        return "SKILL_MISSING", {"skill": t.skill, "level": t.min_level}
    d = {v.id: travel_distance_m(t, v, p.detour_factor) for v in skilled}
    near = [v for v in skilled if d[v.id] <= p.max_distance_m]
    if not near:
        return "TOO_FAR", {"distance_m": min(d.values()), "limit_m": p.max_distance_m}
    ok = [v for v in near if is_available(t, v)]
    if not ok:
        return "OUT_OF_WINDOW", {}
    return "CAPACITY_USED", {"eligible": len(ok)}


@SETTINGS
@given(matching_problems(max_tasks=10, max_volunteers=6))
def test_primary_reason_follows_documented_order(p: MatchingProblem) -> None:
    a = match_volunteers(p)
    tasks = {t.id: t for t in p.tasks}
    for u in a.unmatched:
        code, params = _naive_primary(p, tasks[u.task_id])
        assert u.reasons[0].code.value == code
        assert dict(u.reasons[0].params) == params


@pytest.mark.parametrize("seed", range(5))
def test_primary_reason_order_on_community_problems(seed: int) -> None:
    p = community_problem(2000 + seed)
    a = match_volunteers(p)
    tasks = {t.id: t for t in p.tasks}
    for u in a.unmatched:
        code, params = _naive_primary(p, tasks[u.task_id])
        assert (u.reasons[0].code.value, dict(u.reasons[0].params)) == (code, params)
