"""min_cost and fair against brute force: scope, pins, previous plans, zero capacities, ties.

The oracle enumerates every assignment of tiny problems with the public predicates only
(``is_eligible``, ``pair_cost_m``, ``task_day``); no solver code.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from matching_helpers import ALL_DAY, TZ_NAME, at, win

from commgov.errors import ProblemError
from commgov.matching import (
    MatchingProblem,
    Pin,
    ScopePenalties,
    Task,
    Volunteer,
    is_eligible,
    match_volunteers,
    pair_cost_m,
    scope_level,
    task_day,
)
from commgov.results import SolveStatus

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _feasible(p: MatchingProblem):
    """Every assignment (task id → volunteer id or None) obeying the hard rules."""
    tasks = sorted(p.tasks, key=lambda t: t.id)
    vols = {v.id: v for v in p.volunteers}
    options = []
    pins = {q.task_id: q.volunteer_id for q in p.pinned}
    for t in tasks:
        ok = [v.id for v in sorted(p.volunteers, key=lambda v: v.id) if is_eligible(p, t, v)]
        options.append([pins[t.id]] if t.id in pins else [None, *ok])
    for combo in itertools.product(*options):
        slot: Counter = Counter()
        day: Counter = Counter()
        good = True
        for t, vid in zip(tasks, combo, strict=True):
            if vid is None:
                continue
            v = vols[vid]
            slot[(vid, t.window.start)] += 1
            day[(vid, task_day(p, t))] += 1
            if slot[(vid, t.window.start)] > v.capacity_per_slot or (
                day[(vid, task_day(p, t))] > v.capacity_per_day
            ):
                good = False
                break
        if good:
            yield {t.id: vid for t, vid in zip(tasks, combo, strict=True)}


def _tiers(p: MatchingProblem, plan: dict, fair: bool) -> tuple:
    tasks = {t.id: t for t in p.tasks}
    vols = {v.id: v for v in p.volunteers}
    served = sum(tasks[t].priority for t, v in plan.items() if v is not None)
    prev = {q.task_id: q.volunteer_id for q in p.previous}
    changes = sum(1 for t, v in prev.items() if plan.get(t) != v)
    cost = sum(pair_cost_m(p, tasks[t], vols[v]) for t, v in plan.items() if v is not None)
    loads = Counter(v for v in plan.values() if v is not None)
    squares = sum(n * n for n in loads.values())
    return (-served, changes, squares, cost) if fair else (-served, changes, cost)


def _result_tiers(p: MatchingProblem, a, fair: bool) -> tuple:
    plan = {t.id: None for t in p.tasks}
    plan.update({m.task_id: m.volunteer_id for m in a.matches})
    return _tiers(p, plan, fair)


@st.composite
def tiny_problems(draw, *, pins: bool = True, previous: bool = True) -> MatchingProblem:
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    n_t = draw(st.integers(0, 5))
    n_v = draw(st.integers(0, 3))
    slots = [win(9), win(10), win(9, day=11)]
    tasks = [
        Task(
            id=f"t{i}",
            skill=rng.choice(["delivery", "medic"]),
            location=at(rng.uniform(0, 900), rng.uniform(0, 300)),
            window=rng.choice(slots),
            priority=rng.choice([1, 1, 2, 3]),
            building_id=rng.choice([None, "b1", "b2"]),
            compound_id=rng.choice([None, "c1"]),
            community_id=rng.choice([None, "X", "X", "Y"]),
        )
        for i in range(n_t)
    ]
    vols = [
        Volunteer(
            id=f"v{j}",
            location=at(rng.uniform(0, 900), rng.uniform(0, 300)),
            skills={s: rng.randint(1, 3) for s in rng.sample(["delivery", "medic"], 2)},
            availability=rng.choice([ALL_DAY, [win(9)], [win(9, hours=2)]]),
            capacity_per_slot=rng.choice([0, 1, 1, 2]),
            capacity_per_day=rng.choice([0, 1, 2, 3, 8]),
            building_ids=rng.choice([[], ["b1"], ["b1", "b2"]]),
            compound_id=rng.choice([None, "c1"]),
            community_id=rng.choice([None, "X", "Y"]),
            partner=rng.random() < 0.2,
        )
        for j in range(n_v)
    ]
    penalties = rng.choice([ScopePenalties(), ScopePenalties(compound=0, community=0, partner=0),
                            ScopePenalties(building=50, compound=900, community=2000,
                                           partner=2000)])
    base = MatchingProblem(timezone=TZ_NAME, tasks=tasks, volunteers=vols,
                           max_distance_m=rng.choice([500.0, 1000.0]), scope_penalties=penalties)
    pinned: list[Pin] = []
    if pins and draw(st.booleans()):
        plans = list(itertools.islice(_feasible(base), 50))
        plan = rng.choice(plans)
        pinned = [Pin(task_id=t, volunteer_id=v) for t, v in sorted(plan.items())
                  if v is not None and rng.random() < 0.5]
    prev: list[Pin] = []
    if previous and tasks and draw(st.booleans()):
        for t in rng.sample(tasks, k=rng.randint(1, len(tasks))):
            vid = rng.choice([*(v.id for v in vols), "gone"])
            prev.append(Pin(task_id=t.id, volunteer_id=vid))
    return base.model_copy(update={"pinned": pinned, "previous": prev})


@pytest.mark.parametrize("objective", ["min_cost", "fair"])
@SETTINGS
@given(p=tiny_problems())
def test_objective_equals_brute_force(p: MatchingProblem, objective: str) -> None:
    fair = objective == "fair"
    a = match_volunteers(p, objective=objective)
    best = min(_tiers(p, plan, fair) for plan in _feasible(p))
    assert _result_tiers(p, a, fair) == best
    assert a.info.status is SolveStatus.OPTIMAL
    pinned = {(q.task_id, q.volunteer_id) for q in p.pinned}
    got = {(m.task_id, m.volunteer_id) for m in a.matches}
    assert pinned <= got
    assert all(m.pinned == ((m.task_id, m.volunteer_id) in pinned) for m in a.matches)
    assert a.totals.changes == best[1]


@SETTINGS
@given(p=tiny_problems(pins=False, previous=False))
def test_fair_loads_are_decreasingly_minimal(p: MatchingProblem) -> None:
    """Least square-sum is the dec-min load vector (Frank & Murota 2022), checked by brute force."""
    a = match_volunteers(p, objective="fair")
    plans = list(_feasible(p))
    top = min(_tiers(p, plan, True)[0] for plan in plans)

    def desc(plan: dict) -> list[int]:
        return sorted(Counter(v for v in plan.values() if v is not None).values(), reverse=True)

    best = min(desc(plan) for plan in plans if _tiers(p, plan, True)[0] == top)
    got = sorted((ld.tasks for ld in a.loads if ld.tasks), reverse=True)
    assert got == best


@SETTINGS
@given(p=tiny_problems(), data=st.data())
def test_permutation_gives_identical_json(p: MatchingProblem, data: st.DataObject) -> None:
    for objective in ("min_cost", "fair"):
        a = match_volunteers(p, objective=objective)
        tasks = data.draw(st.permutations(p.tasks))
        vols = data.draw(st.permutations(p.volunteers))
        q = p.model_copy(update={"tasks": tasks, "volunteers": vols,
                                 "pinned": list(reversed(p.pinned)),
                                 "previous": list(reversed(p.previous))})
        assert match_volunteers(q, objective=objective).to_json() == a.to_json()


@SETTINGS
@given(p=tiny_problems(pins=False, previous=False))
def test_scope_level_vectorised_equals_public_rule(p: MatchingProblem) -> None:
    a = match_volunteers(p)
    tasks = {t.id: t for t in p.tasks}
    vols = {v.id: v for v in p.volunteers}
    for m in a.matches:
        assert m.scope == scope_level(tasks[m.task_id], vols[m.volunteer_id])
        assert m.cost_m == pair_cost_m(p, tasks[m.task_id], vols[m.volunteer_id])


def _vol(vid: str, **kw) -> Volunteer:
    kw.setdefault("skills", {"delivery": 3})
    kw.setdefault("availability", ALL_DAY)
    return Volunteer(id=vid, location=at(kw.pop("dx", 0.0)), **kw)


def _task(tid: str, **kw) -> Task:
    return Task(id=tid, skill="delivery", location=at(kw.pop("dx", 0.0)), window=win(9), **kw)


def test_escalation_order_building_compound_community_partner() -> None:
    t = _task("t", building_id="b", compound_id="c", community_id="X")
    vols = [
        _vol("a_partner", partner=True),
        _vol("b_community", community_id="X"),
        _vol("c_compound", compound_id="c", community_id="X"),
        _vol("d_building", building_ids=["b"], compound_id="c", community_id="X"),
        _vol("e_other", community_id="Y"),
    ]
    order = []
    for _ in range(4):
        p = MatchingProblem(timezone=TZ_NAME, tasks=[t], volunteers=vols)
        m = match_volunteers(p).matches[0]
        order.append((m.volunteer_id, m.scope.value))
        vols = [v for v in vols if v.id != m.volunteer_id]
    assert order == [("d_building", "building"), ("c_compound", "compound"),
                     ("b_community", "community"), ("a_partner", "partner")]
    p = MatchingProblem(timezone=TZ_NAME, tasks=[t], volunteers=vols)
    u = match_volunteers(p).unmatched[0]
    assert u.reasons[0].code.value == "OUT_OF_SCOPE" and u.reasons[0].params == {"skilled": 1}


def test_penalty_is_metre_equivalent() -> None:
    """A building volunteer 250 m further away still wins over a compound one (100 m penalty)
    only while the extra distance is below the penalty difference."""
    t = _task("t", building_id="b", compound_id="c")
    near_compound = _vol("near", dx=0.0, compound_id="c")
    for extra, winner in ((90.0, "far"), (110.0, "near")):
        far_building = _vol("far", dx=extra, building_ids=["b"])
        p = MatchingProblem(timezone=TZ_NAME, tasks=[t], volunteers=[near_compound, far_building])
        assert match_volunteers(p).matches[0].volunteer_id == winner


def test_zero_capacity_volunteers_take_nothing() -> None:
    p = MatchingProblem(timezone=TZ_NAME, tasks=[_task("t1"), _task("t2", dx=5)],
                        volunteers=[_vol("v0", capacity_per_slot=0),
                                    _vol("v1", capacity_per_day=0)])
    for objective in ("min_cost", "fair"):
        a = match_volunteers(p, objective=objective)
        assert not a.matches
        # nobody is booked: the volunteers have no capacity at all (issue 12 item 9)
        assert {u.reasons[0].code.value for u in a.unmatched} == {"NO_CAPACITY"}
        assert "booked" not in a.unmatched[0].reasons[0].text("en")


@pytest.mark.parametrize("field", ["capacity_per_slot", "capacity_per_day", "minutes_per_day"])
def test_negative_capacity_is_a_validation_error(field: str) -> None:
    with pytest.raises(ProblemError) as err:
        MatchingProblem(timezone=TZ_NAME, tasks=[], volunteers=[
            {"id": "v1", "location": {"lon": 120.6, "lat": 31.3}, field: -1}])
    assert "v1" in str(err.value) and field in str(err.value) and "-1" in str(err.value)


@pytest.mark.parametrize(("pin", "fragment"), [
    ({"task_id": "nope", "volunteer_id": "v1"}, "unknown task id"),
    ({"task_id": "t1", "volunteer_id": "nope"}, "unknown volunteer id"),
    ({"task_id": "t1", "volunteer_id": "v2"}, "may not take task t1"),
])
def test_bad_pins_are_named(pin: dict, fragment: str) -> None:
    with pytest.raises(ProblemError) as err:
        MatchingProblem(timezone=TZ_NAME, tasks=[_task("t1")],
                        volunteers=[_vol("v1"), _vol("v2", skills={"medic": 3})], pinned=[pin])
    assert "pinned[0]" in str(err.value) and fragment in str(err.value)


def test_pins_over_capacity_are_refused() -> None:
    with pytest.raises(ProblemError, match="capacity_per_slot"):
        MatchingProblem(timezone=TZ_NAME, tasks=[_task("t1"), _task("t2")], volunteers=[_vol("v1")],
                        pinned=[{"task_id": "t1", "volunteer_id": "v1"},
                                {"task_id": "t2", "volunteer_id": "v1"}])


def test_rematching_keeps_pins_and_changes_least() -> None:
    tasks = [_task(f"t{i}", dx=10.0 * i) for i in range(4)]
    vols = [_vol(f"v{j}", dx=100.0 * j, capacity_per_slot=2) for j in range(3)]
    p = MatchingProblem(timezone=TZ_NAME, tasks=tasks, volunteers=vols)
    first = match_volunteers(p)
    previous = [{"task_id": m.task_id, "volunteer_id": m.volunteer_id} for m in first.matches]
    # v0 drops out; t3 is confirmed with v2
    q = MatchingProblem(timezone=TZ_NAME, tasks=tasks, volunteers=vols[1:], previous=previous,
                        pinned=[{"task_id": "t3", "volunteer_id": "v2"}])
    again = match_volunteers(q)
    assert ("t3", "v2") in {(m.task_id, m.volunteer_id) for m in again.matches}
    lost = sum(1 for m in first.matches if m.volunteer_id == "v0")
    moved_by_pin = sum(1 for m in first.matches if m.task_id == "t3" and m.volunteer_id != "v2")
    assert again.totals.changes == again.info.objective["changes"]
    assert again.totals.changes <= lost + moved_by_pin


def test_largest_realistic_costs_do_not_overflow() -> None:
    """Priorities up to 10⁶ and 10 km reach: solved exactly or refused with SizeLimitError."""
    rng = np.random.default_rng(1)
    tasks = [Task(id=f"t{i}", skill="delivery", location=at(*rng.uniform(0, 9000, 2)),
                  window=win(9), priority=int(rng.integers(1, 1_000_001))) for i in range(60)]
    vols = [_vol(f"v{j}", dx=float(rng.uniform(0, 9000)), capacity_per_slot=3) for j in range(20)]
    p = MatchingProblem(timezone=TZ_NAME, tasks=tasks, volunteers=vols, max_distance_m=10_000.0,
                        scope_penalties=ScopePenalties(building=100_000, compound=100_000,
                                                       community=100_000, partner=100_000))
    for objective in ("min_cost", "fair"):
        a = match_volunteers(p, objective=objective)
        served = sorted((t.priority for t in tasks), reverse=True)[: len(a.matches)]
        assert a.totals.priority_served == sum(served)  # 60 capacity: the top priorities


def test_ties_are_broken_the_same_way_every_time() -> None:
    tasks = [_task(f"t{i}") for i in range(3)]
    vols = [_vol(f"v{j}") for j in range(3)]  # all at the same place: every pairing ties
    p = MatchingProblem(timezone=TZ_NAME, tasks=tasks, volunteers=vols)
    for objective in ("min_cost", "fair"):
        runs = {match_volunteers(p, objective=objective).to_json() for _ in range(3)}
        assert len(runs) == 1


def test_model_copy_with_update_is_validated() -> None:
    p = MatchingProblem(timezone=TZ_NAME, tasks=[_task("t1")], volunteers=[_vol("v1")])
    q = p.model_copy(update={"pinned": [{"task_id": "t1", "volunteer_id": "v1"}]})
    assert isinstance(q.pinned[0], Pin)
    with pytest.raises(ProblemError, match="unknown volunteer id"):
        p.model_copy(update={"pinned": [{"task_id": "t1", "volunteer_id": "v9"}]})
    with pytest.raises(ProblemError, match="max_distance_m"):
        p.model_copy(update={"max_distance_m": -1})
    assert p.model_copy() == p


@SETTINGS
@given(p=tiny_problems())
def test_fast_built_records_equal_validated_ones(p: MatchingProblem) -> None:
    """The solver's unvalidated fast construction serialises exactly like validated records."""
    from commgov.matching import Assignment

    a = match_volunteers(p)
    again = Assignment.model_validate_json(a.to_json())
    assert again == a and again.to_json() == a.to_json()
    for m in a.matches:
        assert m.model_fields_set == set(type(m).model_fields)
