"""Notification plans: units, errors, verifier oracle, bound, determinism, brute force."""

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from commgov import ProgressEvent
from commgov.datasets import HUCHIYUAN, gusu, synthetic_community
from commgov.errors import InvalidParameterError, ProblemError, SizeLimitError
from commgov.results import ObjectiveBound, SolveStatus
from commgov.scheduling.notification import (
    METHODS,
    NotificationBuilding,
    NotificationPlan,
    NotificationProblem,
    NotificationViolationCode,
    Notifier,
    _solve,
    is_valid_notification_plan,
    knocked_households,
    notification_lower_bound,
    notification_problem_from_org,
    notify_minutes,
    notify_seconds,
    plan_notification,
    start_offset_seconds,
    walk_metres,
    walk_seconds,
)
from commgov.scheduling.notification._bound import water_fill
from commgov.scheduling.notification._rules import NotificationTimes, evaluate
from commgov.types import GeoPoint, TimeWindow, to_seconds

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2022, 4, 12, 7, 0, tzinfo=TZ)
HOME = GeoPoint(lon=120.62, lat=31.34)


def window(start=AT, hours=24):
    return TimeWindow(start=start, end=start + timedelta(hours=hours))


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


@pytest.mark.parametrize("bad", ["x", -1, float("nan"), float("inf"), 0, 3601, True, None])
def test_bad_time_limit_raises_invalid_parameter(bad):
    with pytest.raises(InvalidParameterError, match="time_limit_s"):
        plan_notification(problem(2, 1), time_limit_s=bad)


def test_options_checked():
    p = problem(2, 1)
    for bad in (-1, 0, 1001):
        with pytest.raises(InvalidParameterError, match="effort"):
            plan_notification(p, effort=bad)
    with pytest.raises(TypeError, match="effort"):
        plan_notification(p, effort=1.5)
    with pytest.raises(InvalidParameterError, match="method"):
        plan_notification(p, method="simplex")
    with pytest.raises(InvalidParameterError, match="seed"):
        plan_notification(p, seed=-1)
    with pytest.raises(InvalidParameterError, match="cancel"):
        plan_notification(p, cancel=True)
    with pytest.raises(TypeError, match="problem"):
        plan_notification({"start": AT})
    assert METHODS == ("auto", "local_search")


def test_method_none_is_auto():
    p = problem(12, 3)
    assert plan_notification(p, method=None).to_json() == plan_notification(
        p, method="auto").to_json()


def test_size_guard(monkeypatch):
    monkeypatch.setattr(_solve, "MAX_BUILDINGS", 3)
    with pytest.raises(SizeLimitError):
        plan_notification(problem(4, 1))


def test_from_org_errors_name_community():
    model = gusu(0, communities=[HUCHIYUAN])
    with pytest.raises(ProblemError) as exc:
        notification_problem_from_org(model, "320508999999", window=window())
    assert exc.value.issues[0].field == "community_id"
    with pytest.raises(ProblemError) as exc:
        notification_problem_from_org(model, HUCHIYUAN, window=window(), enrolment="nobody")
    assert (exc.value.issues[0].record, exc.value.issues[0].field) == (HUCHIYUAN, "volunteers")
    with pytest.raises(ProblemError) as exc:
        notification_problem_from_org(model, HUCHIYUAN, window=window(), knock_minutes=-2)
    assert exc.value.issues[0].field == "knock_minutes"
    with pytest.raises(ProblemError) as exc:
        notification_problem_from_org(model, HUCHIYUAN, window=AT)
    assert exc.value.issues[0].field == "window"


# ------------------------------------------------------------------------ verifier


def test_verifier_rejects_broken_plans():
    p = problem(12, 3)
    plan = plan_notification(p, method="local_search")
    report = is_valid_notification_plan(p, plan)
    assert report and report.family == "notification"
    assert report.objective == (plan.totals.makespan_s, plan.totals.walk_m)
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
    limited = plan.model_copy(update={"info": plan.info.model_copy(
        update={"status": SolveStatus.LIMIT})})
    assert NotificationViolationCode.BOUND_INVALID in is_valid_notification_plan(
        p, limited).codes
    assert [c.value for c in NotificationViolationCode] == [
        "MISSING_BUILDING", "DUPLICATE_BUILDING", "UNKNOWN_ID", "MISSING_VOLUNTEER", "ORDER",
        "TIME_MISMATCH", "RECORD_MISMATCH", "TOTALS_MISMATCH", "BOUND_INVALID"]


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
                evaluate(times, [list(order) if u == v else []
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
    assert notification_lower_bound(p).value <= plan.totals.makespan_s
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
    plan = plan_notification(p, method="local_search")
    report = is_valid_notification_plan(p, plan)
    assert report, report.violations
    ids = [s.building_id for r in plan.routes for s in r.stops]
    assert sorted(ids) == sorted(b.id for b in p.buildings)  # each exactly once
    assert notification_lower_bound(p).value <= plan.totals.bound_s <= plan.totals.makespan_s


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
    base = plan_notification(p, method="local_search")
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
    return notification_problem_from_org(model, HUCHIYUAN, window=window(),
                                         enrolment="海棠先锋", use_availability=False)


def test_from_org_huchiyuan_counts(huchiyuan):
    assert len(huchiyuan.volunteers) == 20
    assert len(huchiyuan.buildings) == 158
    assert sum(b.households for b in huchiyuan.buildings) == 1765
    assert all(v.start is None or v.start == AT.astimezone(UTC) for v in huchiyuan.volunteers)


def test_huchiyuan_plan_is_valid_with_small_gap(huchiyuan):
    plan = plan_notification(huchiyuan, method="local_search")
    assert is_valid_notification_plan(huchiyuan, plan)
    assert plan.totals.households == 1765
    assert plan.totals.gap is not None and plan.totals.gap < 0.15
    bound = notification_lower_bound(huchiyuan)
    assert isinstance(bound, ObjectiveBound)
    assert (bound.family, bound.main, list(bound.tiers)) == (
        "notification", "makespan_s", ["makespan_s"])
    assert plan.totals.bound_s >= bound.value
    assert bound.value == max(bound.figures["reach_s"], bound.figures["work_s"])


def test_from_org_availability_delays_start():
    model = gusu(0, communities=[HUCHIYUAN])
    p = notification_problem_from_org(model, HUCHIYUAN, window=window(AT.replace(hour=6)))
    assert all(v.start is not None and v.start >= AT.replace(hour=6) for v in p.volunteers)
    assert min(v.start for v in p.volunteers if v.start) == AT.replace(hour=7)
    # the window's end limits the look-up: nobody free before 07:00 → nobody available
    with pytest.raises(ProblemError) as exc:
        notification_problem_from_org(
            model, HUCHIYUAN, window=TimeWindow(start=AT.replace(hour=6), end=AT))
    assert exc.value.issues[0].field == "volunteers"
    narrow = notification_problem_from_org(
        model, HUCHIYUAN, window=TimeWindow(start=AT.replace(hour=6), end=AT.replace(hour=8)))
    assert {v.id for v in narrow.volunteers} <= {v.id for v in p.volunteers}


@pytest.mark.parametrize("seed", [1, 2])
def test_synthetic_communities(seed):
    model = synthetic_community("320508017016", households=400, seed=seed)
    p = notification_problem_from_org(model, "320508017016", window=window(),
                                      use_availability=False)
    plan = plan_notification(p, effort=2)
    assert is_valid_notification_plan(p, plan)
    assert plan.totals.households == sum(b.households for b in p.buildings)


# ------------------------------------------------------- progress, cancellation, rows


def test_preset_cancel_returns_valid_cancelled_plan():
    for n in (6, 25):
        p = problem(n, 3)
        cancel = threading.Event()
        cancel.set()
        plan = plan_notification(p, cancel=cancel)
        assert plan.info.status is SolveStatus.CANCELLED
        assert plan.info.stopped_by == "cancel"
        report = is_valid_notification_plan(p, plan)
        assert report, report.violations
        assert plan.totals.buildings == n
        assert 0 < plan.totals.bound_s <= plan.totals.makespan_s


def test_cancel_during_routing_returns_valid_plan():
    p = problem(25, 3)
    cancel = threading.Event()

    def progress(event):
        if event.phase == "routing":
            cancel.set()

    plan = plan_notification(p, cancel=cancel, progress=progress, effort=200)
    assert plan.info.status is SolveStatus.CANCELLED
    assert is_valid_notification_plan(p, plan)


def test_progress_events_end_with_done():
    events = []
    plan = plan_notification(problem(25, 3), progress=events.append, effort=3)
    assert events and all(isinstance(e, ProgressEvent) for e in events)
    assert {e.planner for e in events} == {"plan_notification"}
    assert events[-1].phase == "done" and events[-1].fraction == 1.0
    assert events[-1].incumbent == plan.totals.makespan_s
    assert events[-1].bound == plan.totals.bound_s
    assert {"bound", "construct", "balance"} <= {e.phase for e in events}
    assert plan.info.stopped_by is None


def test_rows_and_json():
    plan = plan_notification(problem(5, 2))
    rows = plan.rows("zh")
    assert len(rows) == 5 and list(rows[0]) == list(NotificationPlan.ROW_COLUMNS)
    assert sorted(r["building_id"] for r in rows) == [f"b{i:02d}" for i in range(5)]
    by_id = {n.building_id: n.notified_s for n in plan.buildings}
    assert all(r["notified_s"] == by_id[r["building_id"]] for r in rows)
    assert list(plan.to_frame().columns) == list(NotificationPlan.ROW_COLUMNS)
    assert "\n" not in plan.to_json()
    assert json.loads(plan.to_json(indent=2)) == json.loads(plan.to_json())
    with pytest.raises(ValueError, match="lang"):
        plan.rows("fr")


def test_verifier_imports_no_solver():
    import ast
    import inspect

    from commgov.scheduling.notification import _verify

    tree = ast.parse(inspect.getsource(_verify))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for a in node.names}
    assert not any("ortools" in m or m.rsplit(".", 1)[-1] in
                   ("_solve", "_solve_routing", "_construct", "_bound") for m in imported)
