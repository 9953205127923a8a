from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from sampling_helpers import TZ, building, mutation_fixture, point, problem, window

from commgov.errors import InfeasibleError, InvalidParameterError, ProblemError
from commgov.org import ZoneRegime
from commgov.results import SolveStatus
from commgov.scheduling.sampling import (
    SamplingPlan,
    SamplingProblem,
    SamplingReasonCode,
    is_valid_sampling_plan,
    plan_sampling,
    reach_limit_m,
    slot_capacity,
    walk_distance_m,
)
from commgov.testing.strategies import community_problem
from commgov.types import TimeWindow


def _solve(prob: SamplingProblem, **kw: object) -> SamplingPlan:
    plan = plan_sampling(prob, **kw)  # type: ignore[arg-type]
    report = is_valid_sampling_plan(prob, plan)
    assert report.ok, report.violations
    assert bool(report)
    return plan


def test_slot_capacity_is_exact_decimal() -> None:
    assert slot_capacity(2, 100.0, 30, 0.85) == 85
    assert slot_capacity(1, 100.0, 30, 0.85) == 42
    assert slot_capacity(3, 100.0, 20, 0.9) == 90
    assert slot_capacity(1, 70.0, 60, 0.7) == 49
    assert slot_capacity(5, 100.0, 30, 1.0) == 250


def test_reach_limit_and_distance() -> None:
    prob = mutation_fixture()
    assert reach_limit_m(prob.policy) == 1200.0
    b = prob.buildings[0]
    d = walk_distance_m(b, prob.points[0], prob.policy)
    assert isinstance(d, int)
    assert abs(d - 130) <= 1  # 100 m straight line × 1.3


def test_capacity_forces_one_building_to_the_farther_point() -> None:
    # P1 takes 42 per slot, one slot, no queue: only one 40-people building fits there.
    prob = problem(
        [building("A", 50, [40]), building("B", 100, [40])],
        [point("P1", 0), point("P2", 600)],
        1,
        max_queue=0,
    )
    plan = _solve(prob)
    assert plan.building_points == {"A": "P2", "B": "P1"} or plan.building_points == {
        "A": "P1",
        "B": "P2",
    }
    # moving B (100 m from P1, 500 m from P2) costs less than moving A (50 → 550 m)
    assert plan.building_points == {"A": "P1", "B": "P2"}
    d = {a.batch_id: a.walk_m for a in plan.assignments}
    assert plan.totals.walk_person_m == 40 * (d["A-0"] + d["B-0"])
    assert plan.info.status == SolveStatus.OPTIMAL
    assert plan.info.gap == 0.0


def test_backlog_carries_over() -> None:
    # capacity 42/slot, queue ≤ 20: 60 in slot 0 leaves 18 waiting, 20 more fit in slot 1.
    prob = problem([building("A", 10, [60, 20])], [point("P1", 0)], 2, max_queue=20)
    plan = _solve(prob)
    slots = {a.people: a.slot for a in plan.assignments}
    assert slots == {60: 0, 20: 1}
    loads = [(ld.slot, ld.arrivals, ld.served, ld.backlog) for ld in plan.loads]
    assert loads == [(0, 60, 42, 18), (1, 20, 38, 0)]
    assert plan.totals.max_backlog == 18
    assert plan.totals.person_slots == 20
    assert plan.info.objective == {"served": 80.0, "walk_person_m": 80.0 * 13, "person_slots": 20.0}


def test_queue_cap_leaves_a_batch_unserved_with_reason() -> None:
    # one slot of 42: the queue must be empty at the end, so only the 30 fit.
    prob = problem([building("A", 10, [60, 30])], [point("P1", 0)], 1, max_queue=20)
    plan = _solve(prob)
    assert [a.people for a in plan.assignments] == [30]
    (u,) = plan.unserved
    assert u.people == 60
    assert u.reasons[0].code == SamplingReasonCode.POINT_CAPACITY_USED
    assert u.reasons[0].params == {"people": 60}
    with pytest.raises(InfeasibleError) as exc:
        plan_sampling(prob, strict=True)
    assert exc.value.unserved == ("A-0",)


def test_sealed_building_goes_door_to_door() -> None:
    prob = mutation_fixture()
    plan = _solve(prob)
    assert [d.building_id for d in plan.door_to_door] == ["B4"]
    d2d = plan.door_to_door[0]
    assert (d2d.households, d2d.residents) == (3 + 4, 10 + 12 + 1)
    assert d2d.reason.code == SamplingReasonCode.SEALED_ZONE
    assert all(a.building_id != "B4" for a in plan.assignments)
    assert all(u.building_id != "B4" for u in plan.unserved)
    assert [(h.building_id, h.residents) for h in plan.home_visits] == [("B2", 2)]


def test_unreachable_building_reason() -> None:
    plan = _solve(mutation_fixture())
    (u,) = [u for u in plan.unserved if u.building_id == "B3"]
    r = u.reasons[0]
    assert r.code == SamplingReasonCode.NO_POINT_IN_REACH
    assert r.params["limit_m"] == 1200.0
    assert int(r.params["distance_m"]) > 1200
    assert "1200" in r.text()


def test_controlled_zone_uses_designated_point() -> None:
    # C is nearer P2 but is designated to P1.
    prob = problem(
        [building("C", 350, [30], zone=ZoneRegime.CONTROLLED, allowed=["P1"])],
        [point("P1", 0), point("P2", 400)],
        2,
    )
    plan = _solve(prob)
    assert plan.building_points == {"C": "P1"}
    prob2 = problem(
        [building("C", 350, [30], zone=ZoneRegime.CONTROLLED, allowed=[])],
        [point("P1", 0), point("P2", 400)],
        2,
    )
    plan2 = _solve(prob2)
    assert plan2.unserved[0].reasons[0].code == SamplingReasonCode.NO_POINT_IN_REACH
    assert "distance_m" not in plan2.unserved[0].reasons[0].params


def test_opening_window_restricts_slots() -> None:
    w = window(4)
    late = TimeWindow(start=w.start + timedelta(minutes=60), end=w.end + timedelta(hours=5))
    prob = problem([building("A", 10, [30, 30])], [point("P1", 0, 2, opening=late)], 4)
    plan = _solve(prob)
    assert {a.slot for a in plan.assignments} == {2}
    assert [ld.slot for ld in plan.loads] == [2, 3]
    assert plan.assignments[0].slot_start == w.start + timedelta(minutes=60)
    assert plan.assignments[0].slot_start.tzinfo is not None
    assert plan.assignments[0].slot_start.utcoffset() == timedelta(hours=8)


def test_empty_and_zero_people() -> None:
    prob = problem([building("A", 10, [0, 0]), building("Z", 20, [])], [point("P1", 0)], 1)
    plan = _solve(prob)
    assert len(plan.assignments) == 2 and not plan.unserved
    assert plan.totals.last_slot == -1
    prob2 = problem([], [point("P1", 0)], 1)
    assert _solve(prob2).totals.served_people == 0


def test_problem_errors_collect_every_issue() -> None:
    w = window(3)
    bad_window = TimeWindow(start=w.start, end=w.start + timedelta(minutes=45))
    with pytest.raises(ProblemError) as exc:
        SamplingProblem(
            timezone="Mars/Olympus",
            window=bad_window,
            buildings=[building("A", 0, [5]), building("A", 10, [5], allowed=["NOPE"])],
            points=[point("P1", 0), point("P1", 5)],
        )
    fields = {(i.record, i.field) for i in exc.value.issues}
    assert ("sampling_problem", "timezone") in fields
    assert ("sampling_problem", "window") in fields
    assert ("A", "id") in fields and ("P1", "id") in fields and ("A-0", "id") in fields
    assert ("A", "allowed_point_ids") in fields
    b = building("A", 0, [5])
    wrong = b.model_copy(update={"batches": [b.batches[0].model_copy(update={"building_id": "X"})]})
    with pytest.raises(ProblemError) as exc2:
        SamplingProblem(window=w, buildings=[wrong], points=[point("P1", 0)])
    assert exc2.value.issues[0].field == "building_id"
    with pytest.raises(ProblemError):
        SamplingProblem(
            window=w, points=[{"id": "P", "location": {"lon": 0, "lat": 0}, "lanes": 0}]
        )
    assert isinstance(exc2.value, ValueError)


def test_bad_arguments() -> None:
    prob = mutation_fixture()
    with pytest.raises(InvalidParameterError, match="method"):
        plan_sampling(prob, method="fastest")
    with pytest.raises(TypeError):
        plan_sampling(prob, objective="lexicographic")  # type: ignore[call-arg]
    for bad in ("x", -1, float("nan"), float("inf"), 0, 3601):
        with pytest.raises(InvalidParameterError, match="time_limit_s"):
            plan_sampling(prob, time_limit_s=bad)  # type: ignore[arg-type]
    for bad_seed in (-1, 1.5, True, 2**31):
        with pytest.raises(InvalidParameterError, match="seed"):
            plan_sampling(prob, seed=bad_seed)  # type: ignore[arg-type]


def test_json_round_trip_and_rows() -> None:
    prob = mutation_fixture()
    plan = _solve(prob)
    again = SamplingPlan.model_validate_json(plan.to_json())
    assert is_valid_sampling_plan(prob, again).ok
    assert again.to_json() == plan.to_json()
    rows = [r for r in plan.rows() if r["batch_id"]]
    assert [r["batch_id"] for r in rows] == sorted(str(r["batch_id"]) for r in rows)
    assert {r["kind"] for r in rows} == {"assignment", "unserved"}
    assert json.loads(plan.to_json())["info"]["solver"] == "cp-sat"
    assert plan.info.versions["ortools"] != "missing"
    problem_again = SamplingProblem.model_validate_json(prob.model_dump_json())
    assert problem_again == prob


def _shuffled(prob: SamplingProblem, seed: int) -> SamplingProblem:
    r = random.Random(seed)
    buildings = []
    for b in prob.buildings:
        batches = list(b.batches)
        r.shuffle(batches)
        allowed = None if b.allowed_point_ids is None else list(reversed(b.allowed_point_ids))
        buildings.append(b.model_copy(update={"batches": batches, "allowed_point_ids": allowed}))
    r.shuffle(buildings)
    points = list(prob.points)
    r.shuffle(points)
    return SamplingProblem(
        timezone=prob.timezone,
        window=prob.window,
        buildings=buildings,
        points=points,
        policy=prob.policy,
    )


@pytest.mark.parametrize("seed", [3, 11])
def test_shuffled_input_gives_identical_json(seed: int) -> None:
    prob = community_problem(
        seed,
        n_buildings=18,
        n_points=3,
        n_slots=6,
        slack=1.1,
        controlled_share=0.3,
        sealed_share=0.1,
    )
    ref = plan_sampling(prob).to_json()
    for k in range(2):
        assert plan_sampling(_shuffled(prob, k)).to_json() == ref


def test_community_problem_is_seeded() -> None:
    a = community_problem(5, n_buildings=10)
    assert a == community_problem(5, n_buildings=10)
    assert a != community_problem(6, n_buildings=10)
    assert a.timezone == str(TZ)  # windows are stored in UTC; the zone is the problem's


def test_rows_cover_batches_door_to_door_and_home_visits() -> None:
    prob = mutation_fixture()
    plan = _solve(prob)
    rows = plan.rows()
    assert all(tuple(r) == SamplingPlan.ROW_COLUMNS for r in rows)
    kinds = [r["kind"] for r in rows]
    assert kinds.count("assignment") == len(plan.assignments)
    assert kinds.count("unserved") == len(plan.unserved) == 1
    assert kinds.count("door_to_door") == len(plan.door_to_door) == 1
    assert kinds.count("home_visit") == len(plan.home_visits) == 1
    by_kind = {r["kind"]: r for r in rows}
    a = plan.assignments[0]
    first = next(r for r in rows if r["batch_id"] == a.batch_id)
    assert (first["point_id"], first["slot"], first["people"], first["walk_m"]) == (
        a.point_id,
        a.slot,
        a.people,
        a.walk_m,
    )
    assert first["slot_start"] == a.slot_start.isoformat()
    assert first["reason_code"] == first["reason"] == ""
    unserved = by_kind["unserved"]
    assert (unserved["batch_id"], unserved["reason_code"]) == ("B3-0", "NO_POINT_IN_REACH")
    assert "1200" in str(unserved["reason"]) and unserved["point_id"] == unserved["slot"] == ""
    door = by_kind["door_to_door"]
    assert (door["building_id"], door["households"], door["people"]) == ("B4", 7, 23)
    assert door["reason_code"] == "SEALED_ZONE" and door["batch_id"] == ""
    assert door["reason"] == plan.door_to_door[0].reason.text()
    visit = by_kind["home_visit"]
    assert (visit["building_id"], visit["people"], visit["reason_code"]) == ("B2", 2, "")
    # batch rows by batch id, then building rows by building id
    assert kinds[-2:] == ["home_visit", "door_to_door"]


def test_rows_reason_text_follows_the_language() -> None:
    plan = _solve(mutation_fixture())
    en = {r["kind"]: r for r in plan.rows()}
    zh = {r["kind"]: r for r in plan.rows(lang="zh")}
    assert en["unserved"]["reason_code"] == zh["unserved"]["reason_code"]
    assert "walking" in str(en["unserved"]["reason"])
    assert "步行" in str(zh["unserved"]["reason"])
    assert "上门" in str(zh["door_to_door"]["reason"])
    with pytest.raises(ValueError):
        plan.rows(lang="fr")


def test_rows_of_an_empty_plan_and_the_csv_header() -> None:
    from commgov.io import csv_text

    plan = _solve(problem([], [point("P1", 0)], 1))
    assert plan.rows() == []
    assert csv_text(plan.rows(), SamplingPlan.ROW_COLUMNS).splitlines() == [
        ",".join(SamplingPlan.ROW_COLUMNS)
    ]


@pytest.mark.parametrize("regime", [ZoneRegime.SEALED, ZoneRegime.HIGH])
def test_stay_home_regimes_are_door_to_door(regime) -> None:
    prob = community_problem(5, n_buildings=10)
    target = prob.buildings[0]
    changed = prob.model_copy(
        update={"buildings": [target.model_copy(update={"zone": regime}), *prob.buildings[1:]]}
    )
    plan = plan_sampling(changed)
    assert is_valid_sampling_plan(changed, plan).ok
    assert target.id in {d.building_id for d in plan.door_to_door}
    assert target.id not in plan.building_points
