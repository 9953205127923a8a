"""Break-test findings on the store, one test per kind of fault (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from store_helpers import KEY, live_model, shift, start_state, volunteers

from commgov.errors import EventError, InputError, InvalidParameterError
from commgov.lists import ThreeLists
from commgov.live import TaskAdded, apply_events
from commgov.org import OrgModel
from commgov.store import ConflictError, Store, StoreError, content_hash
from commgov.store._schema import snapshots

T0 = datetime(2022, 4, 12, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url):
    with Store(store_url) as s:
        yield s


def test_records_made_without_validation_are_refused_before_writing(store):
    """Bad input kind: model_copy(update=…) skips validation; the store re-validates, so a
    task note with a phone number or a person id that is a phone number is an InputError,
    masked, and nothing is written."""
    store.save_state(KEY, start_state(), expected_version=None, actor="a")
    task = start_state().tasks[0] if start_state().tasks else None
    if task is None:
        from commgov.datasets import synthetic_tasks

        task = synthetic_tasks(live_model(), KEY, seed=1)[0]
    bad = task.model_copy(update={"id": "t-new", "note": "王五 13900001111"})
    with pytest.raises(InputError) as err:
        store.append_events(KEY, [TaskAdded(at=T0, task=bad)], expected_version=1, actor="a")
    assert "13900001111" not in str(err.value)
    assert store.version(KEY, "live") == 1 and store.events(KEY) == []
    m = live_model()
    person = m.people[0].model_copy(update={"id": "13812345678"})
    broken = m.model_copy(update={"people": [person, *m.people[1:]]})
    with pytest.raises(InputError) as err:
        store.save_model(KEY, broken, expected_version=None, actor="a")
    assert "13812345678" not in str(err.value)
    assert store.version(KEY, "model") is None


def test_a_state_read_names_the_version_it_shows(store, monkeypatch):
    """Concurrency kind: a writer appending between the replay and the version lookup does
    not make state() label an older state with the newer version."""
    store.save_state(KEY, start_state(), expected_version=None, actor="a")
    vid = volunteers()[0]
    real = type(store)._state_and_target
    other = Store(store.url if "://" in store.url else store._engine.url.database)
    fired = []

    def racing(self, key, version):
        found = real(self, key, version)
        if not fired:
            fired.append(1)
            other.append_events(KEY, shift(vid, 0)[:1], expected_version=1, actor="b")
        return found

    monkeypatch.setattr(type(store), "_state_and_target", racing)
    snap = store.state(KEY, reveal=True)
    assert snap.version == 1 and snap.value.on_duty() == ()
    assert snap.hash == content_hash(snap.value)
    other.close()


def test_an_in_memory_store_shared_by_threads_keeps_optimistic_concurrency():
    s = Store(":memory:")
    wins: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        for _ in range(15):
            try:
                v = s.version(KEY, "lists")
                wins.append(s.save_lists(KEY, ThreeLists(), expected_version=v, actor="t"))
            except ConflictError:
                pass
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(wins) == list(range(1, len(wins) + 1))  # each version won once
    assert len(s.history(KEY)) == len(wins) == s.version(KEY, "lists")
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.version(KEY, "lists")


def test_equal_records_hash_equal_whatever_their_mapping_order():
    m = live_model()
    p = next(x for x in m.people if len(x.skills) >= 2)
    flipped = p.model_copy(update={"skills": dict(reversed(list(p.skills.items())))})
    other = m.model_copy(update={"people": [flipped if x.id == p.id else x for x in m.people]})
    assert other == m and content_hash(other) == content_hash(m)


def test_what_a_read_returns_is_the_callers_own(store):
    store.save_state(KEY, start_state(), expected_version=None, actor="a")
    first = store.state(KEY, reveal=True).value
    n = len(first.model.people)
    first.model.people.pop()
    assert len(store.state(KEY, reveal=True).value.model.people) == n


def test_tampered_rows_are_refused_clearly_without_their_content(store):
    m = OrgModel.model_validate(live_model().model_dump())
    store.save_model(KEY, m, expected_version=None, actor="a")
    with store._engine.begin() as conn:
        conn.execute(update(snapshots).values(type_name="SamplingProblem"))
    with pytest.raises(StoreError, match="not a model"):
        store.get(KEY, "model")
    with pytest.raises(StoreError, match="not a model"):
        store.get(KEY, "model", reveal=True)
    with store._engine.begin() as conn:
        conn.execute(update(snapshots).values(type_name="OrgModel", encoding="zlib",
                                              payload=b"not zlib at all"))  # fmt: skip
    with pytest.raises(StoreError, match="corrupt"):
        store.get(KEY, "model")
    with store._engine.begin() as conn:
        conn.execute(update(snapshots).values(encoding="json", payload=b'{"people": 5}'))
    with pytest.raises(StoreError) as err:
        store.get(KEY, "model", reveal=True)
    assert "people" not in str(err.value) or "5" not in str(err.value)


@pytest.mark.parametrize("name", ["13812345678", "x" * 100_000, 123, "a\x00b"])
def test_names_on_reads_are_checked_like_names_on_writes(store, name):
    for call in (
        lambda: store.get(KEY, "problem", name),
        lambda: store.version(KEY, "problem", name),
        lambda: store.history(KEY, name=name),
    ):
        with pytest.raises(InputError) as err:
            call()
        assert "13812345678" not in str(err.value) and len(str(err.value)) < 2000


@pytest.mark.parametrize("version", [2**31, 2**70, -1, 0, True, 1.0])
def test_versions_beyond_the_columns_are_parameter_errors(store, version):
    store.save_lists(KEY, ThreeLists(), expected_version=None, actor="a")
    with pytest.raises(InvalidParameterError):
        store.get(KEY, "lists", version=version)
    if version != 0:
        with pytest.raises(InvalidParameterError):
            store.events(KEY, since=version)


def test_a_second_first_writer_of_a_stream_gets_a_conflict(store):
    store.save_state(KEY, start_state(), expected_version=None, actor="a")
    with pytest.raises(ConflictError):
        store.append_events(KEY, shift(volunteers()[0], 0), expected_version=None, actor="b")


def test_reveal_must_be_a_bool(store):
    store.save_lists(KEY, ThreeLists(), expected_version=None, actor="a")
    store.save_state(KEY, start_state(), expected_version=None, actor="a")
    for call in (
        lambda: store.get(KEY, "lists", reveal="no"),
        lambda: store.state(KEY, reveal="no"),
        lambda: store.events(KEY, reveal="no"),
    ):
        with pytest.raises(InvalidParameterError):
            call()


def test_targets_and_kinds_are_checked(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Store(":memory:").close()
    assert not (tmp_path / ":memory:").exists()
    with pytest.raises(InvalidParameterError):
        Store(123)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        store.history(KEY, kind="bogus")
    problem_like = OrgModel.model_validate(live_model().model_dump())
    from commgov.datasets import sampling_instance
    from commgov.scheduling import plan_sampling

    p = sampling_instance("S")
    plan = plan_sampling(p, time_limit_s=10)
    with pytest.raises(InputError, match="problem"):
        store.save_result(KEY, "s", plan, problem=problem_like, expected_version=None, actor="a")
    with pytest.raises(InputError, match="OrgModel"):
        store.save_result(KEY, "s", plan, problem=p, model=p, expected_version=None, actor="a")


def test_events_from_a_replay_equal_the_stored_state(store):
    store.save_state(KEY, start_state(), expected_version=None, actor="a")
    vid = volunteers()[0]
    v = store.append_events(KEY, shift(vid, 0), expected_version=1, actor="a")
    v = store.append_events(KEY, shift(vid, 1), expected_version=v, actor="a")
    replay = apply_events(start_state(), [e.value for e in store.events(KEY, reveal=True)])
    assert store.state(KEY, reveal=True).value == replay
    # the same events again are repeats (their event ids) and change nothing …
    assert store.append_events(KEY, shift(vid, 0), expected_version=v, actor="a") == v + 2
    # … but new events earlier than the volunteer's last are refused, nothing written
    earlier = [e.model_copy(update={"event_id": None}) for e in shift(vid, 0)]
    with pytest.raises(EventError):
        store.append_events(KEY, earlier, expected_version=v + 2, actor="a")
    assert store.version(KEY, "live") == v + 2
