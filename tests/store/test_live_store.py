"""The live stream: events appended with optimistic concurrency, state by snapshot + replay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_helpers import KEY, T0, live_model, shift, start_state, volunteers

from commgov.errors import EventError, InputError, SizeLimitError
from commgov.live import (
    BuildingSealed,
    CheckedIn,
    CommunityState,
    VolunteerUnavailable,
    apply_events,
    event_adapter,
)
from commgov.store import ConflictError, NotFoundError, Store, StoreError, _live


@pytest.fixture
def store(store_url, clock):
    with Store(store_url, clock=clock) as s:
        yield s


def _events():
    vid = volunteers()[0]
    building = sorted(b.id for b in live_model().buildings)[0]
    return [
        *shift(vid, 0),
        BuildingSealed(at=T0 + timedelta(hours=1), building_id=building, note="case found"),
        CheckedIn(at=T0 + timedelta(hours=2), volunteer_id=vid),
    ]


def test_state_is_the_snapshot_plus_the_events(store, store_url):
    start = start_state()
    assert store.save_state(KEY, start, expected_version=None, actor="clerk-1", why="start") == 1
    evs = _events()
    assert store.append_events(KEY, evs[:2], expected_version=1, actor="clerk-1") == 3
    assert store.append_events(KEY, evs[2:], expected_version=3, actor="clerk-2") == 5
    assert store.version(KEY, "live") == 5
    assert store.keys("live") == store.keys("state") == [KEY]
    want = apply_events(start, evs)
    snap = store.state(KEY, reveal=True)
    assert (snap.version, snap.value) == (5, want)
    assert snap.value.model_dump_json() == want.model_dump_json()
    assert store.state(KEY, 3, reveal=True).value == apply_events(start, evs[:2])
    assert store.state(KEY, 1, reveal=True).value == start
    # a new store (no cache) replays to the same state
    with Store(store_url) as fresh:
        assert fresh.state(KEY, reveal=True).value == want
        assert fresh.state(KEY).hash == snap.hash
    # the events come back typed, in order, with their sequence numbers
    got = store.events(KEY, reveal=True)
    assert [e.seq for e in got] == [2, 3, 4, 5]
    assert [e.value for e in got] == evs
    assert [e.kind for e in store.events(KEY, since=3)] == ["building_sealed", "checked_in"]
    h = store.history(KEY)
    assert [(c.kind, c.first_version, c.version, c.actor) for c in h] == [
        ("state", 1, 1, "clerk-1"),
        ("events", 2, 3, "clerk-1"),
        ("events", 4, 5, "clerk-2"),
    ]


def test_a_new_state_snapshot_restarts_the_replay(store):
    start = start_state()
    store.save_state(KEY, start, expected_version=None, actor="a")
    store.append_events(KEY, _events(), expected_version=1, actor="a")
    assert store.save_state(KEY, start, expected_version=5, actor="a", why="reset") == 6
    assert store.state(KEY, reveal=True).value == start
    assert store.get(KEY, "state", reveal=True).version == 6
    assert [e.seq for e in store.events(KEY)] == [2, 3, 4, 5]  # snapshots are not events


def test_events_conflict_and_nothing_is_lost(store_url, clock):
    vid = volunteers()[0]
    with Store(store_url, clock=clock) as one, Store(store_url, clock=clock) as two:
        one.save_state(KEY, start_state(), expected_version=None, actor="a")
        one.append_events(KEY, shift(vid, 0)[:1], expected_version=1, actor="one")
        with pytest.raises(ConflictError) as info:
            two.append_events(KEY, shift(vid, 0)[:1], expected_version=1, actor="two")
        assert (info.value.kind, info.value.expected, info.value.actual) == ("live", 1, 2)
        # the loser reloads: the check-in is already there, so it sends the check-out
        state = two.state(KEY, reveal=True)
        assert (
            two.append_events(KEY, shift(vid, 0)[1:], expected_version=state.version, actor="two")
            == 3
        )
        assert [e.value for e in one.events(KEY, reveal=True)] == shift(vid, 0)


def test_events_that_do_not_apply_write_nothing(store):
    vid = volunteers()[0]
    store.save_state(KEY, start_state(), expected_version=None, actor="a")
    bad = [*shift(vid, 0), CheckedIn(at=T0, volunteer_id="320508017016/P999")]
    with pytest.raises(EventError, match="event 2 not applied"):
        store.append_events(KEY, bad, expected_version=1, actor="a")
    with pytest.raises(InputError):
        store.append_events(KEY, [{"kind": "no_such_event"}], expected_version=1, actor="a")
    with pytest.raises(InputError, match="must not be empty"):
        store.append_events(KEY, [], expected_version=1, actor="a")
    with pytest.raises(InputError):
        store.append_events(KEY, [start_state()], expected_version=1, actor="a")
    with pytest.raises(InputError):
        store.append_events(KEY, shift(vid, 0)[0], expected_version=1, actor="a")
    assert store.version(KEY, "live") == 1 and store.events(KEY) == []
    assert [c.kind for c in store.history(KEY)] == ["state"]


def test_events_need_a_state_first(store):
    with pytest.raises(InputError, match="save_state first"):
        store.append_events(KEY, shift(volunteers()[0], 0), expected_version=None, actor="a")
    with pytest.raises(NotFoundError):
        store.state(KEY)
    assert store.version(KEY, "live") is None


def test_dict_events_are_read_by_kind(store):
    store.save_state(KEY, start_state(), expected_version=None, actor="a")
    event = shift(volunteers()[0], 0)[0]
    store.append_events(KEY, [event.model_dump(mode="json")], expected_version=1, actor="a")
    assert store.events(KEY, reveal=True)[0].value == event


def test_event_guards(store, monkeypatch):
    store.save_state(KEY, start_state(), expected_version=None, actor="a")
    monkeypatch.setattr(_live, "MAX_EVENTS_PER_APPEND", 1)
    with pytest.raises(SizeLimitError, match="events in one append"):
        store.append_events(KEY, shift(volunteers()[0], 0), expected_version=1, actor="a")
    monkeypatch.setattr(_live, "MAX_EVENT_BYTES", 50)
    with pytest.raises(SizeLimitError, match="event 0 JSON"):
        store.append_events(KEY, shift(volunteers()[0], 0)[:1], expected_version=1, actor="a")
    assert store.version(KEY, "live") == 1


def test_personal_data_in_events_and_states_is_masked(store):
    vid = volunteers()[0]
    model = live_model()
    people = [p.model_copy(update={"name": "李四"}) if p.id == vid else p for p in model.people]
    model = model.model_copy(update={"people": people})
    start = CommunityState.start(model, KEY)
    store.save_state(KEY, start, expected_version=None, actor="a")
    away = VolunteerUnavailable(at=T0, volunteer_id=vid, note="tel 13800138000")
    store.append_events(KEY, [away], expected_version=1, actor="a")
    masked = store.state(KEY)
    person = next(p for p in masked.data["model"]["people"] if p["id"] == vid)
    assert person["name"] == "<masked>"
    with pytest.raises(StoreError, match="reveal=True"):
        masked.value  # noqa: B018
    assert store.events(KEY)[0].data["note"] == "<masked>"  # a sensitive field
    assert store.events(KEY, reveal=True)[0].data["note"] == "tel 13800138000"
    assert store.state(KEY, reveal=True).value.model.people == sorted(people, key=lambda p: p.id)


def test_states_of_another_class_are_refused(store):
    with pytest.raises(InputError, match="CommunityState"):
        store.save_state(KEY, live_model(), expected_version=None, actor="a")
    with pytest.raises(InputError):
        store.save_model(KEY, start_state(), expected_version=None, actor="a")


def test_the_event_union_is_the_lead_s(store):
    """Events are stored as the union's JSON and read back through the same adapter."""
    store.save_state(KEY, start_state(), expected_version=None, actor="a")
    event = shift(volunteers()[0], 0)[0]
    store.append_events(KEY, [event], expected_version=1, actor="a")
    stored = store.events(KEY, reveal=True)[0]
    assert stored.data == event_adapter().dump_python(event, mode="json")


def test_a_stale_writer_gets_a_conflict_before_its_events_are_checked(store):
    """Events valid only on the newer state: the stale writer hears of the conflict."""
    vid = volunteers()[0]
    store.save_state(KEY, start_state(), expected_version=None, actor="a")
    store.append_events(KEY, shift(vid, 0)[:1], expected_version=1, actor="a")
    with pytest.raises(ConflictError) as info:  # the check-out applies only at version 2
        store.append_events(KEY, shift(vid, 0)[1:], expected_version=1, actor="b")
    assert (info.value.expected, info.value.actual) == (1, 2)
    with pytest.raises(ConflictError) as info:
        store.append_events(KEY, shift(vid, 0)[1:], expected_version=9, actor="b")
    assert (info.value.expected, info.value.actual) == (9, 2)
