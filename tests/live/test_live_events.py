"""Events on a community state: every rule, all-or-none, repeats ignored, replay = state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from commgov.datasets import synthetic_community, synthetic_tasks
from commgov.errors import EventError, InputError, UnknownIdError
from commgov.lists import Need
from commgov.live import (
    EVENT_KINDS,
    BuildingReleased,
    BuildingSealed,
    CheckedIn,
    CheckedOut,
    CommunityState,
    NeedRaised,
    TaskAdded,
    TaskCancelled,
    TaskClaimed,
    TaskDeclined,
    TaskDone,
    TaskState,
    VolunteerBack,
    VolunteerUnavailable,
    apply_event,
    apply_events,
    event_adapter,
    hours_served,
)

CODE = "320508001001"
TZ = timezone(timedelta(hours=8))
T0 = datetime(2022, 4, 12, 8, 0, tzinfo=TZ)


@pytest.fixture(scope="module")
def start() -> CommunityState:
    model = synthetic_community(CODE, households=600, seed=2)
    return CommunityState.start(model, CODE, tasks=synthetic_tasks(model, CODE, seed=2))


def _volunteers(state: CommunityState) -> list[str]:
    return [p.id for p in state.model.people if "volunteer" in p.roles]


def _skilled(state: CommunityState, task_index: int = 0) -> tuple[str, str]:
    task = state.tasks[task_index]
    for p in state.model.people:
        if "volunteer" in p.roles and p.skills.get(task.skill, 0) >= task.min_level:
            return task.id, p.id
    raise AssertionError("no skilled volunteer")


def test_every_kind_is_in_the_union() -> None:
    ad = event_adapter()
    assert len(EVENT_KINDS) == 12
    for kind in EVENT_KINDS:
        with pytest.raises(Exception) as err:
            ad.validate_python({"kind": kind})
        assert "at" in str(err.value)


def test_claim_done_and_hours(start: CommunityState) -> None:
    task_id, vid = _skilled(start)
    s = apply_events(
        start,
        [
            CheckedIn(at=T0, volunteer_id=vid),
            TaskClaimed(at=T0, task_id=task_id, volunteer_id=vid),
            TaskDone(at=T0 + timedelta(minutes=40), task_id=task_id, volunteer_id=vid),
            CheckedOut(at=T0 + timedelta(hours=2, minutes=30), volunteer_id=vid),
        ],
    )
    assert s.task_status(task_id).state is TaskState.DONE
    h = hours_served(s)
    (row,) = h.rows()
    assert row["minutes"] == 150 and row["hours"] == 2.5 and row["tasks_done"] == 1
    assert start.task_status(task_id).state is TaskState.OPEN  # the old state is unchanged
    assert s.status.applied == 4


def test_open_shift_counts_up_to_as_of(start: CommunityState) -> None:
    vid = _volunteers(start)[0]
    s = apply_event(start, CheckedIn(at=T0, volunteer_id=vid))
    assert hours_served(s).volunteers[0].minutes == 0
    assert hours_served(s, as_of=T0 + timedelta(minutes=90)).volunteers[0].minutes == 90
    assert hours_served(s).volunteers[0].on_duty
    with pytest.raises(ValueError):
        hours_served(s, as_of=datetime(2022, 4, 12, 9))  # naive


def test_team_hours_and_csv(start: CommunityState, tmp_path) -> None:
    vids = _volunteers(start)[:3]
    events = []
    for i, v in enumerate(vids):
        events += [
            CheckedIn(at=T0, volunteer_id=v),
            CheckedOut(at=T0 + timedelta(minutes=60 * (i + 1)), volunteer_id=v),
        ]
    s = apply_events(start, events)
    h = hours_served(s)
    assert sum(v.minutes for v in h.volunteers) == 60 + 120 + 180
    for team in h.teams:
        members = [v for v in h.volunteers if team.team_id in v.team_ids]
        assert team.minutes == sum(v.minutes for v in members)
    path = h.write_csv(tmp_path / "hours.csv")
    assert path.read_text(encoding="utf-8").splitlines()[0].startswith("volunteer_id,team_ids")
    h.write_csv(tmp_path / "teams.csv", by="team")
    with pytest.raises(ValueError):
        h.rows("nobody")  # type: ignore[arg-type]


def test_dropout_releases_claims_and_closes_shift(start: CommunityState) -> None:
    task_id, vid = _skilled(start)
    s = apply_events(
        start,
        [
            CheckedIn(at=T0, volunteer_id=vid),
            TaskClaimed(at=T0, task_id=task_id, volunteer_id=vid),
            VolunteerUnavailable(at=T0 + timedelta(hours=1), volunteer_id=vid),
        ],
    )
    assert s.task_status(task_id).state is TaskState.OPEN
    assert s.on_duty() == ()
    assert hours_served(s).volunteers[0].minutes == 60
    with pytest.raises(EventError, match="is away"):
        apply_event(s, TaskClaimed(at=T0 + timedelta(hours=2), task_id=task_id, volunteer_id=vid))
    with pytest.raises(EventError, match="is away"):
        apply_event(s, CheckedIn(at=T0 + timedelta(hours=2), volunteer_id=vid))
    back = apply_event(s, VolunteerBack(at=T0 + timedelta(hours=3), volunteer_id=vid))
    assert back.away_volunteer_ids() == ()
    again = apply_event(
        back, TaskClaimed(at=T0 + timedelta(hours=3), task_id=task_id, volunteer_id=vid)
    )
    assert again.task_status(task_id).volunteer_id == vid


def test_absence_with_end_covers_only_its_time(start: CommunityState) -> None:
    task_id, vid = _skilled(start)
    s = apply_event(
        start,
        VolunteerUnavailable(at=T0, until=T0 + timedelta(hours=1), volunteer_id=vid),
    )
    assert s.away_volunteer_ids(T0 + timedelta(minutes=30)) == (vid,)
    assert s.away_volunteer_ids(T0 + timedelta(hours=2)) == ()
    later = T0 + timedelta(hours=2)
    assert apply_event(s, TaskClaimed(at=later, task_id=task_id, volunteer_id=vid))


def test_decline_releases_own_claim_and_is_remembered(start: CommunityState) -> None:
    task_id, vid = _skilled(start)
    s = apply_events(
        start,
        [
            TaskClaimed(at=T0, task_id=task_id, volunteer_id=vid),
            TaskDeclined(at=T0 + timedelta(minutes=5), task_id=task_id, volunteer_id=vid),
        ],
    )
    st_ = s.task_status(task_id)
    assert st_.state is TaskState.OPEN and st_.declined_by == (vid,)


def test_sealing_and_release(start: CommunityState) -> None:
    b = start.model.buildings[3].id
    s = apply_event(start, BuildingSealed(at=T0, building_id=b))
    assert s.sealed_building_ids() == (b,)
    with pytest.raises(EventError, match="sealed already"):
        apply_event(s, BuildingSealed(at=T0, building_id=b))
    s2 = apply_event(s, BuildingReleased(at=T0 + timedelta(days=1), building_id=b))
    assert s2.sealed_building_ids() == ()
    with pytest.raises(EventError, match="is not sealed"):
        apply_event(s2, BuildingReleased(at=T0, building_id=b))


def test_need_and_task_added(start: CommunityState) -> None:
    unit = start.model.units[0].id
    need = Need(
        id="N-1",
        title="药品代购",
        category="medical",
        unit_id=unit,
        raised_at=T0,
        recorded_by="clerk",
        source="wechat_group",
    )
    s = apply_event(start, NeedRaised(at=T0, need=need))
    assert s.lists.needs[0].id == "N-1"
    with pytest.raises(EventError, match="on the lists already"):
        apply_event(s, NeedRaised(at=T0, need=need))
    task = start.tasks[0].model_copy(update={"id": "zz-new-task"})
    s2 = apply_event(s, TaskAdded(at=T0, task=task))
    assert s2.tasks[-1].id == "zz-new-task"
    assert s2.task_status("zz-new-task").state is TaskState.OPEN
    with pytest.raises(EventError, match="is a task already"):
        apply_event(s2, TaskAdded(at=T0, task=task))
    s3 = apply_event(s2, TaskCancelled(at=T0, task_id="zz-new-task"))
    assert s3.task_status("zz-new-task").state is TaskState.CANCELLED


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda s, t, v: BuildingSealed(at=T0, building_id="nowhere"), "not a building"),
        (lambda s, t, v: CheckedIn(at=T0, volunteer_id="nobody"), "not a person"),
        (lambda s, t, v: CheckedOut(at=T0, volunteer_id=v), "not checked in"),
        (lambda s, t, v: TaskDone(at=T0, task_id=t, volunteer_id=v), "has not claimed"),
        (lambda s, t, v: TaskClaimed(at=T0, task_id="no-task", volunteer_id=v), "not a task"),
        (lambda s, t, v: VolunteerBack(at=T0, volunteer_id=v), "is not away"),
    ],
)
def test_bad_events_name_event_field_and_value(start, make, match) -> None:
    t, v = _skilled(start)
    event = make(start, t, v).model_copy(update={"event_id": "ev-7"})
    with pytest.raises(EventError, match=match) as err:
        apply_event(start, event)
    (issue,) = err.value.issues
    assert issue.record == "ev-7" and issue.field


def test_claim_needs_the_skill(start: CommunityState) -> None:
    task = start.tasks[0].model_copy(update={"id": "zz-rare", "skill": "sign_language"})
    s = apply_event(start, TaskAdded(at=T0, task=task))
    vid = _volunteers(start)[0]
    with pytest.raises(EventError, match="lacks skill"):
        apply_event(s, TaskClaimed(at=T0, task_id="zz-rare", volunteer_id=vid))


def test_a_non_volunteer_cannot_act(start: CommunityState) -> None:
    from commgov.org import Person

    clerk = Person(id=f"{CODE}/clerk", roles=["community_worker"])
    model = start.model.model_copy(update={"people": [*start.model.people, clerk]})
    s = CommunityState.start(model, CODE)
    with pytest.raises(EventError, match="not a volunteer"):
        apply_event(s, CheckedIn(at=T0, volunteer_id=clerk.id))


def test_all_or_none_and_repeats_ignored(start: CommunityState) -> None:
    task_id, vid = _skilled(start)
    good = TaskClaimed(at=T0, task_id=task_id, volunteer_id=vid, event_id="a1")
    with pytest.raises(EventError, match="event 1 not applied"):
        apply_events(start, [good, TaskDone(at=T0, task_id=task_id, volunteer_id="nobody")])
    assert start.task_status(task_id).state is TaskState.OPEN
    s = apply_event(start, good)
    assert apply_event(s, good) is s  # the same id again: ignored
    assert s.status.event_ids == ("a1",)


def test_events_from_dicts_and_bad_dicts(start: CommunityState) -> None:
    vid = _volunteers(start)[0]
    s = apply_event(start, {"kind": "checked_in", "at": T0.isoformat(), "volunteer_id": vid})
    assert s.on_duty() == (vid,)
    with pytest.raises(InputError):
        apply_event(start, {"kind": "checked_in", "at": "2022-04-12T08:00", "volunteer_id": vid})
    with pytest.raises(InputError):
        apply_event(start, {"kind": "exec", "code": "import os"})
    with pytest.raises(UnknownIdError):
        start.task_status("nope")


def test_start_checks_community_and_task_ids(start: CommunityState) -> None:
    with pytest.raises(InputError, match="community_id"):
        CommunityState.start(start.model, "320508999999")
    with pytest.raises(InputError, match="used twice"):
        CommunityState.start(start.model, CODE, tasks=[start.tasks[0], start.tasks[0]])


def test_json_round_trip_is_canonical(start: CommunityState) -> None:
    task_id, vid = _skilled(start)
    s = apply_events(
        start,
        [CheckedIn(at=T0, volunteer_id=vid), TaskClaimed(at=T0, task_id=task_id, volunteer_id=vid)],
    )
    back = CommunityState.from_json(s.to_json())
    assert back == s and back.to_json() == s.to_json()
    with pytest.raises(InputError):
        CommunityState.from_json('{"community_id": 1}')


def _event_strategy(state: CommunityState):
    vids = _volunteers(state)[:4]
    tids = [t.id for t in state.tasks[:6]]
    bids = [b.id for b in state.model.buildings[:3]]
    minute = st.integers(0, 600).map(lambda m: T0 + timedelta(minutes=m))
    vol = st.sampled_from(vids)
    task = st.sampled_from(tids)
    return st.one_of(
        st.builds(CheckedIn, at=minute, volunteer_id=vol),
        st.builds(CheckedOut, at=minute, volunteer_id=vol),
        st.builds(TaskClaimed, at=minute, task_id=task, volunteer_id=vol),
        st.builds(TaskDeclined, at=minute, task_id=task, volunteer_id=vol),
        st.builds(TaskDone, at=minute, task_id=task, volunteer_id=vol),
        st.builds(VolunteerUnavailable, at=minute, volunteer_id=vol),
        st.builds(VolunteerBack, at=minute, volunteer_id=vol),
        st.builds(BuildingSealed, at=minute, building_id=st.sampled_from(bids)),
        st.builds(BuildingReleased, at=minute, building_id=st.sampled_from(bids)),
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_replay_of_accepted_events_gives_the_state(start: CommunityState, data) -> None:
    """Apply random events one by one, keeping those accepted: a replay of the accepted
    ones gives the same state, and invariants hold after each."""
    events = data.draw(st.lists(_event_strategy(start), max_size=30))
    state, accepted = start, []
    for e in events:
        try:
            new = apply_event(state, e)
        except EventError:
            continue
        accepted.append(e)
        state = new
        open_shifts = [s.volunteer_id for s in state.status.shifts if s.checked_out is None]
        assert len(open_shifts) == len(set(open_shifts))
        for s in state.status.tasks:
            assert (s.volunteer_id is not None) == (s.state in (TaskState.CLAIMED, TaskState.DONE))
        for s in state.status.shifts:
            assert s.checked_out is None or s.checked_out >= s.checked_in
    assert apply_events(start, accepted).to_json() == state.to_json()
    assert state.status.applied == len(accepted)


# ----------------------------------------------------------- break-test findings, by kind

H = timedelta(hours=1)


def test_each_records_events_run_forward_in_time(start: CommunityState) -> None:
    """Ordering kind: an event earlier than the latest event of a record it touches is
    refused, for volunteers, tasks and buildings alike."""
    task_id, vid = _skilled(start)
    b = start.model.buildings[0].id
    shifts = apply_events(
        start, [CheckedIn(at=T0, volunteer_id=vid), CheckedOut(at=T0 + 3 * H, volunteer_id=vid)]
    )
    with pytest.raises(EventError, match="time order") as err:
        apply_event(shifts, CheckedIn(at=T0 + H, volunteer_id=vid))
    assert err.value.issues[0].field == "at"
    away = apply_event(start, VolunteerUnavailable(at=T0 + 2 * H, volunteer_id=vid))
    with pytest.raises(EventError, match="time order"):
        apply_event(away, TaskClaimed(at=T0, task_id=task_id, volunteer_id=vid))
    on = apply_events(
        start,
        [CheckedIn(at=T0 + 5 * H, volunteer_id=vid),
         TaskClaimed(at=T0 + 5 * H, task_id=task_id, volunteer_id=vid)],
    )  # fmt: skip
    with pytest.raises(EventError, match="time order"):
        apply_event(on, VolunteerUnavailable(at=T0, until=T0 + H, volunteer_id=vid))
    sealed = apply_event(start, BuildingSealed(at=T0 + H, building_id=b))
    with pytest.raises(EventError, match="time order"):
        apply_event(sealed, BuildingReleased(at=T0, building_id=b))
    claimed = apply_event(start, TaskClaimed(at=T0 + H, task_id=task_id, volunteer_id=vid))
    with pytest.raises(EventError, match="time order"):
        apply_event(claimed, TaskDone(at=T0, task_id=task_id, volunteer_id=vid))


def test_times_are_utc_so_equal_instants_give_equal_bytes(start: CommunityState) -> None:
    """Time-zone kind: the same instant in two zones gives the same state bytes, and a shift
    across a daylight-saving fold counts real minutes, also after a JSON round trip."""
    from zoneinfo import ZoneInfo

    vid = _volunteers(start)[0]
    a = apply_event(start, CheckedIn(at=T0, volunteer_id=vid))
    b = apply_event(start, CheckedIn(at=T0.astimezone(UTC), volunteer_id=vid))
    assert a.to_json() == b.to_json()
    ny = ZoneInfo("America/New_York")
    t_in = datetime(2022, 11, 6, 0, 30, tzinfo=ny)
    t_out = datetime(2022, 11, 6, 3, 30, tzinfo=ny)  # 4 real hours: the clocks fall back
    s = apply_events(
        start, [CheckedIn(at=t_in, volunteer_id=vid), CheckedOut(at=t_out, volunteer_id=vid)]
    )
    assert hours_served(s).volunteers[0].minutes == 240
    assert CommunityState.from_json(s.to_json()) == s
    early = datetime(2022, 11, 6, 1, 30, fold=1, tzinfo=ny)
    late_wall_early_real = datetime(2022, 11, 6, 1, 30, fold=0, tzinfo=ny)
    s2 = apply_event(start, CheckedIn(at=early, volunteer_id=vid))
    with pytest.raises(EventError):
        apply_event(s2, CheckedOut(at=late_wall_early_real, volunteer_id=vid))


def test_a_task_off_the_slot_grid_is_refused(start: CommunityState) -> None:
    task = start.tasks[0]
    w = task.window
    shifted = task.model_copy(
        update={"id": "zz/odd", "window": type(w)(start=w.start + H / 2, end=w.end + H / 2)}
    )
    with pytest.raises(EventError, match="slot grid") as err:
        apply_event(start, TaskAdded(at=T0, task=shifted))
    assert err.value.issues[0].field == "task.window"


def test_personal_numbers_and_unbounded_text_stay_out(start: CommunityState) -> None:
    """An event's note may hold personal data (marked sensitive: masked on every default
    read and export); a task's note is shown in results, so it may not; both are bounded."""
    from commgov.io._privacy import mask_dump

    vid = _volunteers(start)[0]
    event = event_adapter().validate_python(
        {
            "kind": "checked_in",
            "at": T0.isoformat(),
            "volunteer_id": vid,
            "note": "call 13800138000",
        }
    )
    assert "13800138000" not in str(mask_dump(event))
    with pytest.raises(InputError):
        apply_event(start, {"kind": "checked_in", "at": T0.isoformat(), "volunteer_id": vid,
                            "note": "x" * 201})  # fmt: skip
    task = start.tasks[0].model_dump()
    for note in ("call 13800138000", "x" * 2000, "bad\x00byte"):
        with pytest.raises(InputError) as err:
            apply_event(start, {"kind": "task_added", "at": T0.isoformat(),
                                "task": {**task, "id": "zz/n", "note": note}})  # fmt: skip
        assert "13800138000" not in str(err.value)


@pytest.mark.parametrize("bad", ["checked_in", None, 5, b"x"])
def test_wrong_kinds_are_type_errors_naming_the_argument(start: CommunityState, bad) -> None:
    with pytest.raises(TypeError, match="event"):
        apply_event(start, bad)
    with pytest.raises(TypeError, match="events"):
        apply_events(start, bad if bad is not None else {"kind": "x"})
    with pytest.raises(TypeError, match="state"):
        apply_event(bad, CheckedIn(at=T0, volunteer_id="x"))


def test_start_checks_its_arguments(start: CommunityState) -> None:
    with pytest.raises(TypeError, match="model"):
        CommunityState.start("x", CODE)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lists"):
        CommunityState.start(start.model, CODE, lists="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tasks"):
        CommunityState.start(start.model, CODE, tasks="abc")  # type: ignore[arg-type]
    from_dicts = CommunityState.start(
        start.model,
        CODE,
        tasks=[t.model_dump() for t in start.tasks],  # type: ignore[misc]
    )
    assert from_dicts.tasks == start.tasks


def test_bad_event_dicts_in_a_batch_name_their_position(start: CommunityState) -> None:
    vid = _volunteers(start)[0]
    with pytest.raises(InputError, match="event 1"):
        apply_events(start, [CheckedIn(at=T0, volunteer_id=vid), {"kind": "nope"}])
    with pytest.raises(InputError) as err:
        apply_event(start, {"kind": "volunteer_unavailable", "at": T0.isoformat(),
                            "until": T0.isoformat(), "volunteer_id": vid})  # fmt: skip
    assert err.value.issues[0].field.endswith("until")


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(community_id="320508999999"),
        lambda d: d["status"]["tasks"][0].update(state="claimed"),
        lambda d: d["status"]["shifts"].append(
            {
                "volunteer_id": d["_v"],
                "checked_in": "2022-04-12T09:00:00Z",
                "checked_out": "2022-04-12T08:00:00Z",
            }
        ),
        lambda d: d["status"]["sealed"].extend([d["_b"], d["_b"]]),
        lambda d: d["status"].update(event_ids=["b", "a"]),
        lambda d: d["status"]["absences"].append(
            {
                "volunteer_id": d["_v"],
                "since": "2022-04-12T09:00:00Z",
                "until": "2022-04-12T08:00:00Z",
            }
        ),
        lambda d: d["status"]["shifts"].append(
            {"volunteer_id": "no-such-person", "checked_in": "2022-04-12T09:00:00Z"}
        ),
    ],
)
def test_from_json_refuses_inconsistent_states(start: CommunityState, change) -> None:
    import json

    data = json.loads(start.to_json())
    data["_v"] = _volunteers(start)[0]
    data["_b"] = {"building_id": start.model.buildings[0].id, "since": "2022-04-12T08:00:00Z"}
    change(data)
    data.pop("_v"), data.pop("_b")
    with pytest.raises(InputError):
        CommunityState.from_json(json.dumps(data))


def test_the_state_does_not_share_the_callers_record_lists(start: CommunityState) -> None:
    vid = _volunteers(start)[0]
    model = start.model.model_copy(update={"people": list(start.model.people)})
    s = CommunityState.start(model, CODE)
    model.people.clear()  # the caller changes its own model afterwards
    assert apply_event(s, CheckedIn(at=T0, volunteer_id=vid)).on_duty() == (vid,)
    assert len(s.model.people) == len(start.model.people)
