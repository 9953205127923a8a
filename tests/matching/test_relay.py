"""Relay delivery: planner, verifier, reasons, determinism and a brute-force check."""

import itertools
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from commgov import ProgressEvent
from commgov.errors import InvalidParameterError, ProblemError
from commgov.matching import (
    GateVolunteer,
    Parcel,
    RelayBuilding,
    RelayProblem,
    RelayReasonCode,
    RelayViolationCode,
    is_valid_relay_plan,
    plan_relay,
)
from commgov.matching.relay import (
    METHODS,
    door_offset_seconds,
    target_door_time,
    trip_seconds,
)
from commgov.results import CommonReasonCode, Reason, SolveStatus
from commgov.types import TimeWindow

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2022, 4, 12, 8, 0, tzinfo=TZ)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def shift(a: float, b: float) -> TimeWindow:
    return TimeWindow(start=at(a), end=at(b))


def problem(parcels, buildings=None, volunteers=None, **kw) -> RelayProblem:
    buildings = buildings or [
        RelayBuilding(id="b1", walk_m=160),
        RelayBuilding(id="b2", walk_m=400),
    ]
    volunteers = (
        volunteers
        if volunteers is not None
        else [GateVolunteer(id="v1", availability=[shift(0, 180)])]
    )
    return RelayProblem(
        timezone="Asia/Shanghai", parcels=parcels, buildings=buildings, volunteers=volunteers, **kw
    )


def parcel(pid: str, b: str = "b1", arr: float = 0, **kw) -> Parcel:
    return Parcel(id=pid, household_id=f"h-{pid}", building_id=b, arrival=at(arr), **kw)


def test_parcels_of_one_building_share_a_trip():
    p = problem([parcel("p1"), parcel("p2"), parcel("p3", "b2")])
    plan = plan_relay(p)
    assert is_valid_relay_plan(p, plan)
    assert sorted(t.parcel_ids for t in plan.trips) == [["p1", "p2"], ["p3"]]
    assert plan.info.status is SolveStatus.OPTIMAL
    assert plan.totals.parcels_per_volunteer_hour > 0


def test_leg_two_departs_after_leg_one():
    p = problem([parcel("p1", arr=0), parcel("p2", arr=30)])
    plan = plan_relay(p)
    assert is_valid_relay_plan(p, plan)
    for t in plan.trips:
        assert all(t.depart >= q.arrival for q in p.parcels if q.id in t.parcel_ids)


def test_empty_wave():
    plan = plan_relay(problem([]))
    assert plan.trips == [] and plan.undelivered == []
    assert plan.info.status is SolveStatus.OPTIMAL
    assert plan.totals.parcels_per_volunteer_hour == 0.0


def test_no_volunteers_reports_every_parcel():
    p = problem([parcel("p1"), parcel("p2", "b2")], volunteers=[])
    plan = plan_relay(p)
    assert [u.reasons[0].code for u in plan.undelivered] == [RelayReasonCode.RELAY_NO_SHIFT] * 2
    assert is_valid_relay_plan(p, plan)


def test_parcel_after_all_shifts_is_reported_not_dropped():
    p = problem([parcel("early"), parcel("late", arr=179)])
    plan = plan_relay(p)
    assert [d.parcel_id for d in plan.deliveries] == ["early"]
    assert plan.undelivered[0].parcel_id == "late"
    assert plan.undelivered[0].reasons[0].code is RelayReasonCode.RELAY_NO_SHIFT
    assert is_valid_relay_plan(p, plan)


def test_busy_volunteers_reason():
    vols = [GateVolunteer(id="v1", availability=[shift(0, 12)], max_parcels_per_trip=1)]
    p = problem([parcel("a"), parcel("b")], volunteers=vols)
    plan = plan_relay(p)
    assert len(plan.deliveries) == 1
    r = plan.undelivered[0].reasons[0]
    assert (r.code, r.params) == (RelayReasonCode.RELAY_VOLUNTEERS_BUSY, {"eligible": 1})
    assert is_valid_relay_plan(p, plan)


def test_verifier_rejects_a_false_reason():
    vols = [GateVolunteer(id="v1", availability=[shift(0, 12)], max_parcels_per_trip=1)]
    p = problem([parcel("a"), parcel("b")], volunteers=vols)
    plan = plan_relay(p)
    broken = plan.model_copy(update={"trips": [], "deliveries": []})
    assert not is_valid_relay_plan(p, broken)


def test_verifier_rejects_overlap_and_early_departure():
    p = problem([parcel("a"), parcel("b", "b2", arr=5)])
    plan = plan_relay(p)
    t = plan.trips[1]
    moved = t.model_copy(update={"depart": plan.trips[0].depart})
    report = is_valid_relay_plan(p, plan.model_copy(update={"trips": [plan.trips[0], moved]}))
    assert {"OVERLAP", "BEFORE_ARRIVAL"} <= {c.value for c in report.codes}


@pytest.mark.parametrize(
    ("kwargs", "record", "field"),
    [
        (
            {
                "parcels": [
                    {
                        "id": "p1",
                        "household_id": "h",
                        "building_id": "nope",
                        "arrival": "2022-04-12T08:00:00+08:00",
                    }
                ]
            },
            "p1",
            "building_id",
        ),
        (
            {
                "parcels": [
                    {
                        "id": "p1",
                        "household_id": "h",
                        "building_id": "b1",
                        "arrival": "2022-04-12T08:00:00",
                    }
                ]
            },
            "p1",
            "arrival",
        ),
        (
            {
                "parcels": [
                    {
                        "id": "p1",
                        "household_id": "h",
                        "building_id": "b1",
                        "arrival": "2022-04-12T08:00:00+08:00",
                        "priority": 0,
                    }
                ]
            },
            "p1",
            "priority",
        ),
        ({"buildings": [{"id": "b1"}]}, "b1", "location"),
        ({"walking_speed_m_per_min": -1}, "problem", "walking_speed_m_per_min"),
    ],
)
def test_errors_name_record_field_value(kwargs, record, field):
    data = {"timezone": "Asia/Shanghai", "buildings": [{"id": "b1", "walk_m": 100}], **kwargs}
    with pytest.raises(ProblemError) as info:
        RelayProblem.model_validate(data)
    assert (record, field) in {(i.record, i.field) for i in info.value.issues}


@pytest.mark.parametrize("bad", ["x", -1, float("nan"), float("inf"), 0, 3601, True])
def test_bad_time_limit_is_refused(bad):
    with pytest.raises(InvalidParameterError, match="time_limit_s"):
        plan_relay(problem([]), time_limit_s=bad)


def test_options_are_checked():
    with pytest.raises(InvalidParameterError, match="method"):
        plan_relay(problem([]), method="greedy")
    with pytest.raises(InvalidParameterError, match="seed"):
        plan_relay(problem([]), seed=-1)
    with pytest.raises(InvalidParameterError, match="deterministic_time"):
        plan_relay(problem([]), deterministic_time=0)
    with pytest.raises(InvalidParameterError, match="cancel"):
        plan_relay(problem([]), cancel=object())
    with pytest.raises(TypeError):
        plan_relay("not a problem")  # type: ignore[arg-type]
    assert METHODS == ("cpsat",)
    p = problem([parcel("p1")])
    assert plan_relay(p, method="cpsat").to_json() == plan_relay(p).to_json()


def test_preset_cancel_returns_a_valid_cancelled_plan():
    p = problem([parcel("p1"), parcel("p2", "b2"), parcel("late", arr=179)])
    event = threading.Event()
    event.set()
    plan = plan_relay(p, cancel=event)
    assert plan.info.status is SolveStatus.CANCELLED
    assert plan.info.stopped_by == "cancel"
    report = is_valid_relay_plan(p, plan)
    assert report.ok, report.violations
    codes = {u.parcel_id: u.reasons[0].code for u in plan.undelivered}
    assert codes == {
        "p1": CommonReasonCode.CANCELLED,
        "p2": CommonReasonCode.CANCELLED,
        "late": RelayReasonCode.RELAY_NO_SHIFT,
    }
    # the CANCELLED reason holds only in a cancelled plan
    info = plan.info.model_copy(update={"status": SolveStatus.FEASIBLE})
    report = is_valid_relay_plan(p, plan.model_copy(update={"info": info}))
    assert report.codes == {RelayViolationCode.REASON_FALSE}


def test_progress_events_end_with_done():
    events: list[ProgressEvent] = []
    p = problem([parcel("p1"), parcel("p2"), parcel("p3", "b2")])
    plan = plan_relay(p, progress=events.append)
    assert events and events[-1].phase == "done"
    assert all(e.planner == "plan_relay" for e in events)
    assert "greedy" in {e.phase for e in events}
    assert events[-1].incumbent == plan.totals.volunteer_s
    assert plan.info.stopped_by is None


def test_report_is_the_shared_one():
    p = problem([parcel("p1")], volunteers=[])
    report = is_valid_relay_plan(p, plan_relay(p))
    assert report.family == "relay" and report.ok
    assert report.objective == (0, 0, 0)


def test_rows_one_per_parcel():
    vols = [GateVolunteer(id="v1", availability=[shift(0, 12)], max_parcels_per_trip=1)]
    plan = plan_relay(problem([parcel("a"), parcel("b")], volunteers=vols))
    rows = plan.rows("zh")
    assert [(r["parcel_id"], r["status"]) for r in rows] == [
        ("a", "delivered"),
        ("b", "undelivered"),
    ]
    assert list(rows[0]) == list(plan.ROW_COLUMNS)
    assert rows[0]["volunteer_id"] == "v1" and rows[0]["reason"] == ""
    busy = Reason(code="RELAY_VOLUNTEERS_BUSY", params={"eligible": 1})
    assert rows[1]["reason_code"] == "RELAY_VOLUNTEERS_BUSY"
    assert rows[1]["reason"] == busy.text("zh")
    assert list(plan.to_frame().columns) == list(plan.ROW_COLUMNS)
    assert "\n" not in plan.to_json() and "\n" in plan.to_json(indent=2)


# ------------------------------------------------------------------ properties


@st.composite
def relay_problems(draw):
    nb = draw(st.integers(1, 3))
    buildings = [
        RelayBuilding(id=f"b{k}", walk_m=draw(st.integers(0, 600)), floors=draw(st.integers(1, 6)))
        for k in range(nb)
    ]
    parcels = [
        parcel(
            f"p{k}",
            f"b{draw(st.integers(0, nb - 1))}",
            draw(st.integers(0, 60)),
            priority=draw(st.integers(1, 3)),
        )
        for k in range(draw(st.integers(0, 7)))
    ]
    vols = []
    for k in range(draw(st.integers(0, 3))):
        a = draw(st.integers(0, 60))
        vols.append(
            GateVolunteer(
                id=f"v{k}",
                availability=[shift(a, a + draw(st.integers(5, 90)))],
                max_parcels_per_trip=draw(st.integers(1, 3)),
            )
        )
    return problem(parcels, buildings, vols, max_wait_minutes=draw(st.integers(0, 60)))


@settings(max_examples=40, deadline=None)
@given(relay_problems())
def test_verifier_accepts_planner_output(p):
    plan = plan_relay(p)
    report = is_valid_relay_plan(p, plan)
    assert report.ok, report.violations


@settings(max_examples=20, deadline=None)
@given(relay_problems(), st.randoms(use_true_random=False))
def test_input_order_does_not_change_json(p, rnd):
    shuffled = RelayProblem(
        **{
            **p.model_dump(),
            "parcels": rnd.sample(p.parcels, len(p.parcels)),
            "buildings": rnd.sample(p.buildings, len(p.buildings)),
            "volunteers": rnd.sample(p.volunteers, len(p.volunteers)),
        }
    )
    assert plan_relay(p).to_json() == plan_relay(shuffled).to_json()
    assert plan_relay(p).to_json() == plan_relay(p).to_json()


# ------------------------------------------------------------------ brute force


def _brute_force(p: RelayProblem) -> tuple[int, int, int]:
    """Best (−priority, weighted lateness, volunteer s) over partitions and start minutes.

    One volunteer with capacity ≥ parcels; departures on the whole-minute grid are enough
    because every duration and instant in these instances is a whole minute.
    """
    (vol,) = p.volunteers
    win = vol.availability[0]
    ids = [q.id for q in p.parcels]
    pmap = {q.id: q for q in p.parcels}
    best = None
    for labels in itertools.product(range(len(ids) + 1), repeat=len(ids)):  # 0 = undelivered
        groups = {}
        for pid, g in zip(ids, labels, strict=True):
            if g:
                groups.setdefault(g, []).append(pid)
        if any(len({pmap[x].building_id for x in grp}) > 1 for grp in groups.values()):
            continue
        # sequence the trips in every order, each at its earliest start
        for order in itertools.permutations(groups.values()):
            t = win.start
            prio = late = busy = 0
            ok = True
            for grp in order:
                b = p.building(pmap[grp[0]].building_id)
                start = max([t] + [pmap[x].arrival for x in grp])
                dur = timedelta(seconds=trip_seconds(p, b, len(grp)))
                if start + dur > win.end:
                    ok = False
                    break
                door = start + timedelta(seconds=door_offset_seconds(p, b, len(grp)))
                for x in grp:
                    prio += pmap[x].priority
                    gone = (door - target_door_time(p, pmap[x])).total_seconds()
                    late += pmap[x].priority * max(0, int(gone))
                busy += int(dur.total_seconds())
                t = start + dur
            if ok:
                key = (-prio, late, busy)
                best = key if best is None or key < best else best
    return best


@pytest.mark.parametrize("seed", range(6))
def test_optimum_matches_brute_force(seed):
    import random

    rnd = random.Random(seed)
    parcels = [
        parcel(
            f"p{k}",
            rnd.choice(["b1", "b2"]),
            rnd.choice([0, 5, 10, 20]),
            priority=rnd.choice([1, 2]),
        )
        for k in range(4)
    ]
    vols = [
        GateVolunteer(
            id="v1", availability=[shift(0, rnd.choice([20, 30, 45]))], max_parcels_per_trip=4
        )
    ]
    p = problem(parcels, volunteers=vols, max_wait_minutes=10)
    plan = plan_relay(p)
    assert is_valid_relay_plan(p, plan)
    assert plan.info.status is SolveStatus.OPTIMAL
    o = plan.info.objective
    got = (-int(o["priority_delivered"]), int(o["weighted_late_s"]), int(o["volunteer_s"]))
    assert got == _brute_force(p)


@pytest.mark.slow
def test_compound_scale_wave():
    """虎池苑社区: 300 parcels over 158 buildings, 20 volunteers, planned within seconds."""
    import random

    from commgov.datasets import HUCHIYUAN, gusu

    m = gusu(seed=0, communities=[HUCHIYUAN])
    gate = next(c for c in m.communities if c.id == HUCHIYUAN).location
    bs = [b for b in m.buildings if b.id.startswith(HUCHIYUAN)]
    vols = [q for q in m.people if q.id.startswith(HUCHIYUAN) and "海棠先锋" in q.enrolments]
    rnd = random.Random(0)
    parcels = [parcel(f"P{k:03d}", rnd.choice(bs).id, rnd.randrange(120)) for k in range(300)]
    p = RelayProblem(
        timezone="Asia/Shanghai",
        gate=gate,
        parcels=parcels,
        buildings=[RelayBuilding(id=b.id, location=b.location, floors=b.floors) for b in bs],
        volunteers=[GateVolunteer(id=v.id, availability=[shift(0, 240)]) for v in vols],
    )
    plan = plan_relay(p)
    assert is_valid_relay_plan(p, plan)
    assert plan.totals.delivered == 300
    assert plan.info.bound is not None


@pytest.mark.parametrize("at_phase", ["greedy", "cp-sat", "repair"])
def test_cancel_during_the_run_returns_a_valid_plan(at_phase):
    rnd = __import__("random").Random(7)
    parcels = [parcel(f"p{k:02d}", rnd.choice(["b1", "b2"]), rnd.randrange(60)) for k in range(30)]
    vols = [GateVolunteer(id=f"v{k}", availability=[shift(0, 90)]) for k in range(2)]
    p = problem(parcels, volunteers=vols)
    event = threading.Event()

    def progress(e: ProgressEvent) -> None:
        if e.phase.startswith(at_phase):
            event.set()

    plan = plan_relay(p, progress=progress, cancel=event)
    # a cancel while nothing is left to do (no parcel to repair) cuts nothing short
    if at_phase != "repair":
        assert plan.info.status is SolveStatus.CANCELLED
        assert plan.info.stopped_by == "cancel"
    report = is_valid_relay_plan(p, plan)
    assert report.ok, report.summary()
