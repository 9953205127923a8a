"""Notification plans: units, errors, verifier oracle, bound, determinism, brute force."""

import itertools
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commgov.datasets import HUCHIYUAN, gusu, synthetic_community
from commgov.errors import ProblemError, SizeLimitError
from commgov.results import SolveStatus
from commgov.scheduling import _notify_solver
from commgov.scheduling.notification import (
    NotificationBuilding,
    NotificationProblem,
    NotificationTimes,
    Notifier,
    knocked_households,
    notification_lower_bound,
    notification_problem_from_org,
    notify_minutes,
    notify_seconds,
    plan_notification,
    start_offset_seconds,
    to_seconds,
    walk_metres,
    walk_seconds,
    water_fill,
)
from commgov.scheduling.notify_verify import (
    NotificationViolationCode,
    is_valid_notification_plan,
)
from commgov.types import GeoPoint

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2022, 4, 12, 7, 0, tzinfo=TZ)
HOME = GeoPoint(lon=120.62, lat=31.34)


def building(i, households=10, **kw):
    return NotificationBuilding(
        id=f"b{i:02d}", location=GeoPoint(lon=120.62 + i / 3000, lat=31.34 + (i % 3) / 4000),
        households=households, **kw)


def problem(n=4, vols=2, **kw):
    return NotificationProblem(
        timezone="Asia/Shanghai", start=AT,
        buildings=[building(i) for i in range(n)],
        volunteers=[Notifier(id=f"v{k}", location=HOME) for k in range(vols)], **kw)


# --------------------------------------------------------------------------- units


def test_notify_minutes_group_message_counts_message_knocks_and_climbs():
    p = problem(0, 1)
    b = NotificationBuilding(id="b", location=HOME, households=20, floors=6, entrances=2)
    assert knocked_households(p, b) == 3  # ⌈20 × 0.15⌉
    assert notify_minutes(p, b) == 2 + 3 * 1 + 2 * 0.5 * 5
    assert notify_seconds(p, b) == 600


def test_notify_minutes_door_knock_and_lift_and_override():
    p = problem(0, 1, mode="door_knock")
    lift = NotificationBuilding(id="b", location=HOME, households=30, floors=18, entrances=2,
                                has_lift=True)
    assert notify_minutes(p, lift) == 30 * 1 + 2 * 1.0
    fixed = lift.model_copy(update={"notify_minutes": 7.5})
    assert notify_seconds(p, fixed) == 450


def test_building_without_group_is_knocked_in_full():
    p = problem(0, 1)
    b = NotificationBuilding(id="b", location=HOME, households=9, has_group=False)
    assert knocked_households(p, b) == 9
    assert notify_minutes(p, b) == 9.0  # no message, one floor: no climb


def test_offline_households_override_share():
    p = problem(0, 1)
    b = NotificationBuilding(id="b", location=HOME, households=9, offline_households=0)
    assert knocked_households(p, b) == 0
    assert notify_minutes(p, b) == 2.0


def test_walk_and_offsets():
    p = problem(2, 1)
    m = walk_metres(p, p.buildings[0].location, p.buildings[1].location)
    assert m == round(p.buildings[0].location.distance_m(p.buildings[1].location) * 1.3)
    slow = Notifier(id="s", location=HOME, walking_speed_m_per_min=40.0,
                    start=AT + timedelta(minutes=5))
    assert walk_seconds(p, slow, 40) == 60
    assert start_offset_seconds(p, slow) == 300
    early = Notifier(id="e", location=HOME, start=AT - timedelta(hours=1))
    assert start_offset_seconds(p, early) == 0
    assert to_seconds(0.1) == 6


def test_water_fill():
    assert water_fill([0, 0, 0], 30) == 10
    assert water_fill([0, 0, 0], 31) == 11
    assert water_fill([0, 1000], 60) == 60
    assert water_fill([0, 20], 60) == 40


def test_empty_problem_gives_empty_optimal_plan():
    p = NotificationProblem(timezone="Asia/Shanghai", start=AT)
    plan = plan_notification(p)
    assert plan.totals.makespan_s == 0 and plan.totals.last_notified is None
    assert plan.info.status is SolveStatus.OPTIMAL
    assert is_valid_notification_plan(p, plan)


def test_plan_times_are_aware_in_problem_zone():
    plan = plan_notification(problem(3, 2))
    stop = plan.routes[0].stops[0]
    assert stop.arrive.utcoffset() == timedelta(hours=8)
    assert plan.start == AT


def test_late_volunteer_starts_late():
    p = problem(3, 1).model_copy(update={"volunteers": [
        Notifier(id="v", location=HOME, start=AT + timedelta(minutes=30))]})
    plan = plan_notification(p)
    assert plan.routes[0].start == AT + timedelta(minutes=30)
    assert plan.totals.makespan_s >= 1800


# -------------------------------------------------------------------------- errors


def test_errors_name_record_field_value():
    with pytest.raises(ProblemError) as exc:
        NotificationProblem(
            timezone="Asia/Shanghai", start=AT,
            buildings=[building(1), building(1),
                       building(2).model_copy(update={"offline_households": 99})],
            volunteers=[Notifier(id="v", location=HOME,
                                 start=AT.replace(microsecond=5))])
    found = {(i.record, i.field) for i in exc.value.issues}
    assert ("b01", "id") in found
    assert ("b02", "offline_households") in found
    assert ("v", "start") in found
    assert any(i.value == 99 for i in exc.value.issues)


def test_field_error_names_building():
    data = problem(2, 1).model_dump()
    data["buildings"][1]["floors"] = 0
    with pytest.raises(ProblemError) as exc:
        NotificationProblem.model_validate(data)
    (issue,) = exc.value.issues
    assert (issue.record, issue.field, issue.value) == ("b01", "floors", 0)


def test_buildings_without_volunteers_refused():
    with pytest.raises(ProblemError, match="at least one volunteer"):
        problem(2, 0)


def test_naive_start_refused():
    with pytest.raises(ProblemError) as exc:
        NotificationProblem(timezone="Asia/Shanghai", start=datetime(2022, 4, 12, 7))
    assert exc.value.issues[0].field == "start"


def test_options_checked():
    p = problem(2, 1)
    with pytest.raises(ValueError, match="time_limit_s"):
        plan_notification(p, time_limit_s=0)
    with pytest.raises(ValueError, match="effort"):
        plan_notification(p, effort=-1)
    with pytest.raises(TypeError, match="effort"):
        plan_notification(p, effort=1.5)
    with pytest.raises(TypeError, match="problem"):
        plan_notification({"start": AT})


def test_size_guard(monkeypatch):
    monkeypatch.setattr(_notify_solver, "MAX_BUILDINGS", 3)
    with pytest.raises(SizeLimitError):
        plan_notification(problem(4, 1))


def test_from_org_errors_name_community():
    model = gusu(0, communities=[HUCHIYUAN])
    with pytest.raises(ProblemError) as exc:
        notification_problem_from_org(model, "320508999999", AT)
    assert exc.value.issues[0].field == "community_id"
    with pytest.raises(ProblemError) as exc:
        notification_problem_from_org(model, HUCHIYUAN, AT, enrolment="nobody")
    assert (exc.value.issues[0].record, exc.value.issues[0].field) == (HUCHIYUAN, "volunteers")
    with pytest.raises(ProblemError) as exc:
        notification_problem_from_org(model, HUCHIYUAN, AT, knock_minutes=-2)
    assert exc.value.issues[0].field == "knock_minutes"


# ------------------------------------------------------------------------ verifier


def test_verifier_rejects_broken_plans():
    p = problem(12, 3)
    plan = plan_notification(p, effort=0)
    assert is_valid_notification_plan(p, plan)
    r0 = plan.routes[0]
    dropped = plan.model_copy(update={"routes": [
        r0.model_copy(update={"stops": r0.stops[1:]}), *plan.routes[1:]]})
    assert NotificationViolationCode.MISSING_BUILDING in is_valid_notification_plan(
        p, dropped).codes
    late = r0.stops[0].model_copy(update={"finish": r0.stops[0].finish + timedelta(seconds=1)})
    shifted = plan.model_copy(update={"routes": [
        r0.model_copy(update={"stops": [late, *r0.stops[1:]]}), *plan.routes[1:]]})
    assert NotificationViolationCode.TIME_MISMATCH in is_valid_notification_plan(
        p, shifted).codes
    lying = plan.model_copy(update={"totals": plan.totals.model_copy(
        update={"bound_s": plan.totals.makespan_s + 1})})
    assert NotificationViolationCode.BOUND_INVALID in is_valid_notification_plan(p, lying).codes
    short = plan.model_copy(update={"totals": plan.totals.model_copy(
        update={"makespan_s": plan.totals.makespan_s - 1})})
    assert NotificationViolationCode.TOTALS_MISMATCH in is_valid_notification_plan(
        p, short).codes


# ---------------------------------------------------------------- brute force optimum


def brute_force(p):
    """Minimum makespan over every assignment of buildings to volunteers and every order."""
    times = NotificationTimes(p)
    n, n_vol = len(times.building_ids), len(times.offsets)
    best = None
    for owner in itertools.product(range(n_vol), repeat=n):
        makespan = 0
        for v in range(n_vol):
            mine = [b for b in range(n) if owner[b] == v]
            if not mine:
                continue
            makespan = max(makespan, min(
                _notify_solver.evaluate(times, [list(order) if u == v else []
                                                for u in range(n_vol)])[0]
                for order in itertools.permutations(mine)))
            if best is not None and makespan >= best:
                break
        best = makespan if best is None else min(best, makespan)
    return best


tiny = st.builds(
    lambda n, vols, hh, floors, starts, speeds: NotificationProblem(
        timezone="Asia/Shanghai", start=AT,
        buildings=[NotificationBuilding(id=f"b{i}", households=hh[i], floors=floors[i],
                                        location=GeoPoint(lon=120.62 + (i * 7 % 5) / 2000,
                                                          lat=31.34 + (i * 3 % 4) / 2000))
                   for i in range(n)],
        volunteers=[Notifier(id=f"v{k}", location=GeoPoint(lon=120.62 + k / 1500, lat=31.34),
                             start=AT + timedelta(minutes=starts[k]),
                             walking_speed_m_per_min=speeds[k])
                    for k in range(vols)]),
    st.integers(1, 5), st.integers(1, 3),
    st.lists(st.integers(1, 40), min_size=5, max_size=5),
    st.lists(st.integers(1, 7), min_size=5, max_size=5),
    st.lists(st.integers(0, 20), min_size=3, max_size=3),
    st.lists(st.sampled_from([40.0, 80.0]), min_size=3, max_size=3),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny)
def test_tiny_instances_match_brute_force(p):
    plan = plan_notification(p)
    assert plan.totals.makespan_s == brute_force(p)
    assert plan.info.status is SolveStatus.OPTIMAL
    assert notification_lower_bound(p) <= plan.totals.makespan_s
    assert is_valid_notification_plan(p, plan)


# ---------------------------------------------------------------- property tests


medium = st.builds(
    lambda n, vols, seed_hh, mode: NotificationProblem(
        timezone="Asia/Shanghai", start=AT, mode=mode,
        buildings=[NotificationBuilding(
            id=f"b{(i * 37) % 101:03d}", households=1 + (seed_hh * (i + 3)) % 30,
            floors=1 + (i * seed_hh) % 7, entrances=1 + i % 3,
            location=GeoPoint(lon=120.62 + (i * 13 % 17) / 3000, lat=31.34 + (i * 5 % 11) / 3000))
            for i in range(n)],
        volunteers=[Notifier(id=f"v{k}", location=GeoPoint(lon=120.62 + k / 2500, lat=31.34),
                             start=AT + timedelta(minutes=(k * seed_hh) % 15))
                    for k in range(vols)]),
    st.integers(10, 30), st.integers(1, 5), st.integers(1, 50),
    st.sampled_from(["group_message", "door_knock"]),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(medium)
def test_plans_pass_verifier_and_respect_bound(p):
    plan = plan_notification(p, effort=0)
    report = is_valid_notification_plan(p, plan)
    assert report, report.violations
    ids = [s.building_id for r in plan.routes for s in r.stops]
    assert sorted(ids) == sorted(b.id for b in p.buildings)  # each exactly once
    assert notification_lower_bound(p) <= plan.totals.bound_s <= plan.totals.makespan_s


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(medium, st.randoms(use_true_random=False))
def test_permuted_input_gives_identical_json(p, rnd):
    buildings, volunteers = list(p.buildings), list(p.volunteers)
    rnd.shuffle(buildings)
    rnd.shuffle(volunteers)
    q = p.model_copy(update={"buildings": buildings, "volunteers": volunteers})
    assert plan_notification(p, effort=3).to_json() == plan_notification(q, effort=3).to_json()


def test_routing_stage_is_deterministic_and_not_worse():
    p = problem(25, 3)
    a = plan_notification(p, effort=5)
    b = plan_notification(p, effort=5)
    base = plan_notification(p, effort=0)
    assert a.to_json() == b.to_json()
    assert a.totals.makespan_s <= base.totals.makespan_s
    assert is_valid_notification_plan(p, a)


def test_json_round_trip_of_problem():
    p = problem(5, 2)
    again = NotificationProblem.model_validate_json(p.model_dump_json())
    assert again == p
    assert json.loads(plan_notification(again).to_json())["totals"]["buildings"] == 5


# ----------------------------------------------------------------- realistic scale


@pytest.fixture(scope="module")
def huchiyuan():
    model = gusu(0, communities=[HUCHIYUAN])
    return notification_problem_from_org(model, HUCHIYUAN, AT, enrolment="海棠先锋",
                                         use_availability=False)


def test_from_org_huchiyuan_counts(huchiyuan):
    assert len(huchiyuan.volunteers) == 20
    assert len(huchiyuan.buildings) == 158
    assert sum(b.households for b in huchiyuan.buildings) == 1765
    assert all(v.start is None or v.start == AT.astimezone(UTC) for v in huchiyuan.volunteers)


def test_huchiyuan_plan_is_valid_with_small_gap(huchiyuan):
    plan = plan_notification(huchiyuan, effort=0)
    assert is_valid_notification_plan(huchiyuan, plan)
    assert plan.totals.households == 1765
    assert plan.totals.gap is not None and plan.totals.gap < 0.15
    assert plan.totals.bound_s >= notification_lower_bound(huchiyuan)


def test_from_org_availability_delays_start():
    model = gusu(0, communities=[HUCHIYUAN])
    p = notification_problem_from_org(model, HUCHIYUAN, AT.replace(hour=6))
    assert all(v.start is not None and v.start >= AT.replace(hour=6) for v in p.volunteers)
    assert min(v.start for v in p.volunteers if v.start) == AT.replace(hour=7)


@pytest.mark.parametrize("seed", [1, 2])
def test_synthetic_communities(seed):
    model = synthetic_community("320508017016", households=400, seed=seed)
    p = notification_problem_from_org(model, "320508017016", AT, use_availability=False)
    plan = plan_notification(p, effort=2)
    assert is_valid_notification_plan(p, plan)
    assert plan.totals.households == sum(b.households for b in p.buildings)
