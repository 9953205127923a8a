"""The time limit and the post-solver phases: incremental queue checks, deadline, status.

The greedy phases (finish by earliest-fit, completion by greedy insertion) used to recompute
every point's queue for every trial insertion, O(n² · T); they now keep one arrivals array per
point (:class:`commgov.scheduling.sampling._finish.PointQueue`). The reference functions here
are the old semantics written the slow, obvious way, so the fast code must give the same placements.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sampling_helpers import mutation_fixture
from test_sampling_optimality import random_problem

from commgov._control import SolveControl
from commgov.datasets import synthetic_community
from commgov.org import OrgGraph
from commgov.results import CommonReasonCode, SolveStatus
from commgov.scheduling.sampling import (
    SamplingPlan,
    SamplingProblem,
    SamplingReasonCode,
    _data,
    _finish,
    _solve,
    _solve_cpsat,
    is_valid_sampling_plan,
    plan_sampling,
    sampling_lower_bound,
    sampling_problem_from_org,
)
from commgov.testing.strategies import sampling_problems

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- reference semantics (slow and obvious) --------------------------------------------------


def scan_fits(arrivals: list[int], capacity: list[int], qmax: int, t: int, people: int) -> bool:
    """Fluid queue of one point with ``people`` more in slot ``t``: q ≤ qmax, empty at the end."""
    q = 0
    for s, (a, c) in enumerate(zip(arrivals, capacity, strict=True)):
        q = max(0, q + a + (people if s == t else 0) - c)
        if q > qmax:
            return False
    return q == 0


def reference_fits(
    d: _data.Data, placed: dict[str, tuple[str, int]], kid: str, pid: str, t: int, qmax: int
) -> bool:
    people = {k.id: k.people for k in d.batches}
    arrivals = [0] * d.T
    for other, (p2, t2) in placed.items():
        if p2 == pid:
            arrivals[t2] += people[other]
    return scan_fits(arrivals, _data.capacity_row(d, pid), qmax, t, people[kid])


def reference_repair(d: _data.Data, placed: dict[str, tuple[str, int]]) -> int:
    qmax = d.problem.policy.max_queue
    added = 0
    bpoint = {k.building_id: placed[k.id][0] for k in d.batches if k.id in placed}
    for k in d.batches:
        b = k.building_id
        if k.id in placed or not d.reach[b]:
            continue
        cands = [bpoint[b]] if b in bpoint else sorted(d.reach[b], key=lambda p: (d.dist[b, p], p))
        slot = next(
            (
                (pid, t)
                for pid in cands
                for t in d.open[pid]
                if reference_fits(d, placed, k.id, pid, t, qmax)
            ),
            None,
        )
        if slot is not None:
            placed[k.id] = slot
            bpoint[b] = slot[0]
            added += 1
    return added


def reference_earliest_fit(d: _data.Data, pid: str, kids: list[str], qmax: int) -> dict[str, int]:
    placed: dict[str, tuple[str, int]] = {}
    for kid in kids:
        t = next((t for t in d.open[pid] if reference_fits(d, placed, kid, pid, t, qmax)), None)
        if t is not None:
            placed[kid] = (pid, t)
    return {kid: t for kid, (_p, t) in placed.items()}


# ---- the incremental queue -------------------------------------------------------------------


@st.composite
def queues(draw: st.DrawFn) -> tuple[list[int], list[int], int, list[tuple[int, int]]]:
    n = draw(st.integers(1, 10))
    capacity = draw(st.lists(st.sampled_from([0, 0, 5, 17, 42, 85]), min_size=n, max_size=n))
    qmax = draw(st.sampled_from([0, 10, 30, 200]))
    adds = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 90)), max_size=8))
    return capacity, [t for t in range(n) if capacity[t] > 0], qmax, adds


@FAST
@given(queues(), st.integers(0, 120))
def test_point_queue_agrees_with_a_fresh_scan(
    q: tuple[list[int], list[int], int, list[tuple[int, int]]], people: int
) -> None:
    capacity, slots, qmax, adds = q
    queue = _finish.PointQueue(capacity, qmax)
    arrivals = [0] * len(capacity)
    for t, p in [*adds, (0, 0)]:
        for s in range(len(capacity)):
            assert queue.fits(s, people) == scan_fits(arrivals, capacity, qmax, s, people)
        first = next((s for s in slots if scan_fits(arrivals, capacity, qmax, s, people)), None)
        assert queue.first_fit(slots, people) == first
        queue.add(t, p)
        arrivals[t] += p


@FAST
@given(sampling_problems(max_people=120, max_slots=6), st.randoms(use_true_random=False))
def test_repair_and_earliest_fit_place_exactly_as_the_reference(
    problem: SamplingProblem, rnd: random.Random
) -> None:
    d = _data.prepare(problem.canonical())
    plan = plan_sampling(problem)
    full = {a.batch_id: (a.point_id, a.slot) for a in plan.assignments}
    for share in (0.0, 0.5, 1.0):
        part = {k: v for k, v in full.items() if rnd.random() < share}
        fast, slow = dict(part), dict(part)
        assert _finish.complete(d, fast) == (reference_repair(d, slow), True)
        assert fast == slow
    for p in d.points:
        kids = [k.id for k in d.batches]
        rnd.shuffle(kids)
        qmax = rnd.choice([0, 20, 60, problem.policy.max_queue])
        fit, tried = _finish.earliest_fit(d, p.id, kids, qmax)
        assert tried and fit == reference_earliest_fit(d, p.id, kids, qmax)


def test_greedy_from_scratch_places_a_large_community() -> None:
    # 20,000 households: 2,700+ batches, every building within reach of 31 points (its speed
    # is measured by benchmarks/bench_time_limits.py, not here)
    problem = _large_problem()
    d = _data.prepare(problem.canonical())
    placed: dict[str, tuple[str, int]] = {}
    added, tried = _finish.complete(d, placed)
    assert tried and added == len(placed) > 2_500


# ---- the deadline ----------------------------------------------------------------------------


def _large_problem() -> SamplingProblem:
    code = "320508017016"
    model = synthetic_community(code, households=20_000, seed=0)
    return sampling_problem_from_org(OrgGraph(model), code)


@pytest.mark.slow
def test_large_community_gives_valid_plans_under_short_limits() -> None:
    # how long the calls take against their limits is measured by
    # benchmarks/bench_time_limits.py; here: the plans are valid whatever cut them short
    problem = _large_problem()
    plan = plan_sampling(problem, time_limit_s=5.0)  # model built, CP-SAT run, then greedy
    assert is_valid_sampling_plan(problem, plan).ok
    assert plan.info.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL)
    assert plan.totals.served_people > 0.9 * plan.totals.walk_in_people
    quick = plan_sampling(problem, time_limit_s=1.0)  # no time to build the model: greedy only
    assert quick.info.status == SolveStatus.FEASIBLE and is_valid_sampling_plan(problem, quick).ok


def test_repair_stops_at_the_deadline() -> None:
    d = _data.prepare(mutation_fixture().canonical())
    placed: dict[str, tuple[str, int]] = {}
    expired = SolveControl("test", 1e-9)
    time.sleep(0.001)
    assert _finish.complete(d, placed, expired.should_stop) == (0, False)
    assert placed == {} and expired.stopped_by == "wall_clock"
    fit, tried = _finish.earliest_fit(
        d, d.points[0].id, [k.id for k in d.batches], stop=expired.expired
    )
    assert (fit, tried) == ({}, False)


def test_deadline_in_the_greedy_completion_gives_limit_not_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = mutation_fixture()
    real = _solve_cpsat.solve_tiers

    def slow_tiers(
        d: _data.Data, ctl: SolveControl, reserve: float, seed: int
    ) -> _solve_cpsat.Outcome:
        out = real(d, ctl, reserve, seed)
        # the deadline, and the completion's grace after it, pass here
        time.sleep(max(0.0, ctl.remaining()) + _solve.COMPLETION_GRACE_S + 0.01)
        return out

    monkeypatch.setattr(_solve_cpsat, "solve_tiers", slow_tiers)
    plan = plan_sampling(problem, time_limit_s=0.06)
    assert plan.info.status == SolveStatus.LIMIT
    assert plan.info.bound is None and plan.info.gap is None
    assert plan.info.stopped_by == "wall_clock"
    # every hard rule holds, and the untried batches say so (TIME_LIMIT_REACHED)
    report = is_valid_sampling_plan(problem, plan)
    assert report.ok, report.codes
    codes = {r.code for u in plan.unserved for r in u.reasons}
    assert CommonReasonCode.TIME_LIMIT_REACHED in codes
    assert SamplingReasonCode.POINT_CAPACITY_USED not in codes
    assert plan.totals.served_people + plan.totals.unserved_people == plan.totals.walk_in_people


# ---- status, bound and gap -------------------------------------------------------------------


def _consistent(plan: SamplingPlan) -> None:
    info, walk = plan.info, plan.totals.walk_person_m
    assert info.objective["walk_person_m"] == walk
    if info.status == SolveStatus.OPTIMAL:
        assert info.bound == walk and info.gap == 0.0
    if info.bound is None:
        assert info.gap is None
    else:
        assert info.bound <= walk
        if info.bound > 0:
            assert info.gap == pytest.approx((walk - info.bound) / info.bound)


@pytest.mark.parametrize("seed", [0, 3, 7, 12])
def test_tiny_time_limit_still_gives_a_valid_plan(seed: int) -> None:
    for problem in (mutation_fixture(), random_problem(seed)):
        plan = plan_sampling(problem, time_limit_s=0.01)
        report = is_valid_sampling_plan(problem, plan)
        assert report.ok, report.violations
        assert plan.info.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL)
        _consistent(plan)


def test_greedy_plan_after_an_empty_tier_is_feasible_not_limit() -> None:
    # no time for CP-SAT: the greedy completion builds the whole plan, a valid one
    problem = mutation_fixture()
    plan = plan_sampling(problem, time_limit_s=0.01)
    assert plan.info.status == SolveStatus.FEASIBLE
    # no CP-SAT bound; the relaxation's bound holds when the plan serves as many people
    lb = sampling_lower_bound(problem)
    if plan.totals.served_people == lb.tiers["served"]:
        assert plan.info.bound == lb.value
    else:
        assert plan.info.bound is None and plan.info.gap is None
    assert plan.totals.served_people > 0


@pytest.mark.parametrize("stopped", ["served", "walk_person_m"])
@pytest.mark.parametrize("seed", [1, 5, 24])
def test_bound_only_when_served_is_proven(
    monkeypatch: pytest.MonkeyPatch, stopped: str, seed: int
) -> None:
    real = _solve_cpsat.solve
    statuses: dict[str, str] = {}

    def stopped_early(
        ctl: SolveControl,
        m: Any,
        seconds: float,
        name: str,
        seed: int,
        det_time: float | None = None,
    ) -> tuple[Any, Any]:
        solver, status = real(ctl, m, seconds, name, seed, 1e-4 if name == stopped else det_time)
        statuses[name] = solver.status_name(status)
        return solver, status

    monkeypatch.setattr(_solve_cpsat, "solve", stopped_early)
    problem = random_problem(seed)
    plan = plan_sampling(problem)
    assert is_valid_sampling_plan(problem, plan).ok
    _consistent(plan)
    proven = [statuses.get(n) == "OPTIMAL" for n in ("served", "walk_person_m")]
    assert (plan.info.status == SolveStatus.OPTIMAL) == all(proven)
    if not proven[0]:  # only the relaxation's bound, when the plan serves as many people
        lb = sampling_lower_bound(problem)
        if plan.totals.served_people == lb.tiers["served"]:
            assert plan.info.bound == lb.value
        else:
            assert plan.info.bound is None


def test_time_limit_reason_is_false_on_a_finished_plan() -> None:
    from commgov.results import Reason

    problem = mutation_fixture()
    plan = plan_sampling(problem)
    assert plan.unserved, "the fixture leaves batches unserved"
    fake = Reason(
        code=CommonReasonCode.TIME_LIMIT_REACHED,
        params={"time_limit_s": plan.info.options["time_limit_s"]},
    )
    unserved = [plan.unserved[0].model_copy(update={"reasons": [fake]}), *plan.unserved[1:]]
    report = is_valid_sampling_plan(problem, plan.model_copy(update={"unserved": unserved}))
    assert "REASON_FALSE" in report.codes
