"""commgov.store: versioned snapshots, history, optimistic concurrency, masking, migrations."""

from __future__ import annotations

import functools
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from commgov.datasets import sampling_instance, synthetic_community
from commgov.errors import CommgovError, InputError, InvalidParameterError, SizeLimitError
from commgov.io._privacy import mask_dump
from commgov.lists import ThreeLists
from commgov.org import OrgModel
from commgov.scheduling import plan_sampling
from commgov.store import (
    ConflictError,
    NotFoundError,
    SchemaVersionError,
    Store,
    StoreError,
    _store,
    content_hash,
)

KEY = "320508017016"
MASK = "<masked>"


@functools.cache
def _model(seed: int = 1) -> OrgModel:
    """A small community with one person whose name and phone are known."""
    m = synthetic_community(KEY, households=200, seed=seed)
    people = [
        m.people[0].model_copy(update={"name": "张三", "phone": "13800138000"}),
        *m.people[1:],
    ]
    return OrgModel.model_validate({**m.model_dump(), "people": [p.model_dump() for p in people]})


@functools.cache
def _sampling():
    problem = sampling_instance("S")
    return problem, plan_sampling(problem)


@pytest.fixture
def store(store_url, clock):
    with Store(store_url, clock=clock) as s:
        yield s


def test_snapshots_round_trip_every_kind(store):
    problem, plan = _sampling()
    model = _model()
    assert store.save_model(KEY, model, expected_version=None, actor="clerk-1") == 1
    assert store.save_lists(KEY, ThreeLists(), expected_version=None, actor="clerk-1") == 1
    assert store.save_problem(KEY, "sampling", problem, expected_version=None, actor="a") == 1
    assert (
        store.save_result(
            KEY, "sampling", plan, problem=problem, expected_version=None, actor="planner"
        )
        == 1
    )
    for kind, name, obj in [
        ("model", "", model),
        ("lists", "", ThreeLists()),
        ("problem", "sampling", problem),
        ("result", "sampling", plan),
    ]:
        snap = store.get(KEY, kind, name, reveal=True)
        assert snap.value == obj
        assert snap.value.model_dump_json() == obj.model_dump_json()  # byte for byte
        assert snap.hash == content_hash(obj)
        assert (snap.key, snap.kind, snap.name, snap.version) == (KEY, kind, name, 1)
        assert type(snap.value).__name__ == snap.type_name
    result = store.get(KEY, "result", "sampling")
    assert result.problem_hash == content_hash(problem)
    assert result.model_hash == content_hash(model)  # the key's current model by default


def test_keys(store):
    assert store.keys() == []
    store.save_lists(KEY, ThreeLists(), expected_version=None, actor="a")
    store.save_model("320508017017", _model(), expected_version=None, actor="a")
    assert store.keys() == [KEY, "320508017017"]
    assert store.keys("model") == ["320508017017"]
    assert store.keys("live") == []


def test_versions_and_old_versions(store):
    a, b = _model(1), _model(2)
    assert store.version(KEY, "model") is None
    store.save_model(KEY, a, expected_version=None, actor="clerk-1")
    store.save_model(KEY, b, expected_version=1, actor="clerk-1")
    assert store.version(KEY, "model") == 2
    assert store.get(KEY, "model", version=1, reveal=True).value == a
    assert store.get(KEY, "model", reveal=True).value == b
    with pytest.raises(NotFoundError, match="version 3"):
        store.get(KEY, "model", version=3)
    with pytest.raises(NotFoundError):
        store.get("other", "model")
    with pytest.raises(KeyError):  # a NotFoundError is a KeyError too
        store.get(KEY, "lists")


def test_personal_data_is_kept_and_masked_on_read(store):
    store.save_model(
        KEY, _model(), expected_version=None, actor="clerk-1", why="called 13800138000 to confirm"
    )
    masked = store.get(KEY, "model")
    person = masked.data["people"][0]
    assert (person["name"], person["phone"]) == (MASK, MASK)
    assert "13800138000" not in repr(masked) and "张三" not in str(masked.data)
    with pytest.raises(StoreError, match="reveal=True"):
        masked.value  # noqa: B018
    assert masked.data == mask_dump(_model())  # the one rule of commgov.io
    revealed = store.get(KEY, "model", reveal=True)
    assert (revealed.value.people[0].name, revealed.data["people"][0]["phone"]) == (
        "张三",
        "13800138000",
    )
    assert store.history(KEY)[0].why == "called <masked> to confirm"
    assert store.history(KEY, reveal=True)[0].why == "called 13800138000 to confirm"


def test_history_says_who_when_what_why(store, clock):
    store.save_model(KEY, _model(1), expected_version=None, actor="clerk-1", why="import")
    store.save_model(KEY, _model(2), expected_version=1, actor="clerk-2", why="re-survey")
    store.save_lists(KEY, ThreeLists(), expected_version=None, actor="clerk-1")
    h = store.history(KEY)
    assert [(c.kind, c.version, c.actor, c.why) for c in h] == [
        ("model", 1, "clerk-1", "import"),
        ("model", 2, "clerk-2", "re-survey"),
        ("lists", 1, "clerk-1", ""),
    ]
    assert [c.recorded_at for c in h] == [
        datetime(2022, 4, 12, 8, 0, s, tzinfo=UTC) for s in (1, 2, 3)
    ]
    assert all(
        c.recorded_at.tzinfo is not None and c.recorded_at.utcoffset() == timedelta(0) for c in h
    )
    assert h[1].hash == content_hash(_model(2))
    assert [c.kind for c in store.history(KEY, kind="lists")] == ["lists"]


def test_clock_in_another_zone_is_stored_in_utc(store_url):
    shanghai = timezone(timedelta(hours=8))
    with Store(store_url, clock=lambda: datetime(2022, 4, 12, 16, 0, tzinfo=shanghai)) as s:
        s.save_lists(KEY, ThreeLists(), expected_version=None, actor="a")
        assert s.history(KEY)[0].recorded_at == datetime(2022, 4, 12, 8, 0, tzinfo=UTC)


def test_of_two_writers_one_wins_and_nothing_is_lost(store_url, clock):
    with Store(store_url, clock=clock) as one, Store(store_url, clock=clock) as two:
        one.save_model(KEY, _model(1), expected_version=None, actor="clerk-1")
        seen_by_two = two.version(KEY, "model")
        one.save_model(KEY, _model(2), expected_version=1, actor="clerk-1")
        with pytest.raises(ConflictError) as info:
            two.save_model(KEY, _model(3), expected_version=seen_by_two, actor="clerk-2")
        err = info.value
        assert (err.key, err.kind, err.expected, err.actual) == (KEY, "model", 1, 2)
        assert isinstance(err, CommgovError) and "expected version 1 but found version 2" in str(
            err
        )
        # the loser reloads and retries: both changes are kept
        assert (
            two.save_model(
                KEY, _model(3), expected_version=two.version(KEY, "model"), actor="clerk-2"
            )
            == 3
        )
        assert [c.actor for c in one.history(KEY)] == ["clerk-1", "clerk-1", "clerk-2"]
        with pytest.raises(ConflictError, match="expected nothing stored but found version 3"):
            one.save_model(KEY, _model(1), expected_version=None, actor="x")
        with pytest.raises(ConflictError, match="expected version 7"):
            one.save_model(KEY, _model(1), expected_version=7, actor="x")


def test_unique_constraint_decides_a_race(store_url, clock, monkeypatch):
    """Two writers that both read version 1: the constraint refuses the second insert."""
    with Store(store_url, clock=clock) as s:
        s.save_lists(KEY, ThreeLists(), expected_version=None, actor="a")
        s.save_lists(KEY, ThreeLists(), expected_version=1, actor="a")
        # the second writer's read saw version 1, as if the first had not committed yet
        real, calls = _store.Store._head, []

        def stale_first_read(*args):
            calls.append(args)
            return 1 if len(calls) == 1 else real(*args)

        monkeypatch.setattr(_store.Store, "_head", staticmethod(stale_first_read))
        with pytest.raises(ConflictError) as info:
            s.save_lists(KEY, ThreeLists(), expected_version=1, actor="b")
        monkeypatch.undo()
        assert info.value.actual == 2
        assert [c.actor for c in s.history(KEY)] == ["a", "a"]


def _nothing_written(store):
    assert store.history(KEY) == []
    assert store.version(KEY, "model") is None


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda s: s.save_model(KEY, ThreeLists(), expected_version=None, actor="a"), InputError),
        (lambda s: s.save_lists(KEY, _model(), expected_version=None, actor="a"), InputError),
        (lambda s: s.save_model(KEY, {"areas": []}, expected_version=None, actor="a"), InputError),
        (lambda s: s.save_model("bad key", _model(), expected_version=None, actor="a"), InputError),
        (
            lambda s: s.save_model("13800138000", _model(), expected_version=None, actor="a"),
            InputError,
        ),
        (lambda s: s.save_model(KEY, _model(), expected_version=None, actor=""), InputError),
        (
            lambda s: s.save_model(KEY, _model(), expected_version=None, actor="a", why="x" * 2001),
            InputError,
        ),
        (
            lambda s: s.save_model(KEY, _model(), expected_version=None, actor="a", why="a\x00b"),
            InputError,
        ),
        (
            lambda s: s.save_model(KEY, _model(), expected_version=0, actor="a"),
            InvalidParameterError,
        ),
        (
            lambda s: s.save_model(KEY, _model(), expected_version=True, actor="a"),
            InvalidParameterError,
        ),
        (
            lambda s: s.save_problem(KEY, "", _sampling()[0], expected_version=None, actor="a"),
            InputError,
        ),
        (
            lambda s: s.save_result(
                KEY, "s", _sampling()[1], problem="sha256:xyz", expected_version=None, actor="a"
            ),
            InputError,
        ),
        (lambda s: s.get(KEY, "plans"), InvalidParameterError),
        (lambda s: s.get(KEY, "model", version="1"), InvalidParameterError),
        (lambda s: s.get(KEY, "model", version=0), InvalidParameterError),
        (lambda s: s.state(KEY, version=-1), InvalidParameterError),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(store, call, error):
    with pytest.raises(error):
        call(store)
    _nothing_written(store)


def test_bad_clock_writes_nothing(store_url):
    with Store(store_url, clock=lambda: datetime(2022, 4, 12, 8, 0)) as s:  # naive
        with pytest.raises(InvalidParameterError, match="tz-aware"):
            s.save_model(KEY, _model(), expected_version=None, actor="a")
        _nothing_written(s)


def test_size_guard(store, monkeypatch):
    monkeypatch.setattr(_store, "MAX_SNAPSHOT_BYTES", 1000)
    with pytest.raises(SizeLimitError, match="store: model JSON"):
        store.save_model(KEY, _model(), expected_version=None, actor="a")
    _nothing_written(store)


def test_a_failed_transaction_leaves_nothing(store, monkeypatch):
    """The history row fails after the snapshot row was inserted: both are rolled back."""
    from commgov.store import _schema

    monkeypatch.setattr(_store, "changes", _schema.snapshots)  # wrong table: insert fails
    with pytest.raises(Exception):  # noqa: B017 - any database error
        store.save_model(KEY, _model(), expected_version=None, actor="a")
    monkeypatch.undo()
    _nothing_written(store)


def test_results_know_when_they_are_stale(store):
    problem, plan = _sampling()
    store.save_model(KEY, _model(1), expected_version=None, actor="a")
    store.save_problem(KEY, "sampling", problem, expected_version=None, actor="a")
    store.save_result(KEY, "sampling", plan, problem=problem, expected_version=None, actor="a")
    assert store.stale_results(KEY) == [] and not store.is_stale(KEY, "sampling")
    store.save_model(KEY, _model(2), expected_version=1, actor="a")
    [stale] = store.stale_results(KEY)
    assert (stale.name, stale.reasons) == ("sampling", ("model",))
    assert stale.current_model_hash == content_hash(_model(2))
    other = problem.model_copy(update={"buildings": problem.buildings[:-1]})
    store.save_problem(KEY, "sampling", other, expected_version=1, actor="a")
    assert store.stale_results(KEY)[0].reasons == ("model", "problem")
    # a result computed from the current model and problem is fresh again
    store.save_result(KEY, "sampling", plan, problem=other, expected_version=1, actor="a")
    assert not store.is_stale(KEY, "sampling")
    with pytest.raises(NotFoundError):
        store.is_stale(KEY, "matching")


def test_a_result_that_carries_its_hashes_is_judged_by_them(store):
    """A result stamped with the model it came from (info.model_hash) is stale when the
    stored model is another, even if it is saved after that model."""
    problem, plan = _sampling()
    store.save_model(KEY, _model(1), expected_version=None, actor="a")
    store.save_model(KEY, _model(2), expected_version=1, actor="a")
    store.save_problem(KEY, "sampling", problem, expected_version=None, actor="a")
    stamped = plan.stamped(problem=problem, model=_model(1))
    assert stamped.info.model_hash == content_hash(_model(1))
    store.save_result(KEY, "sampling", stamped, problem=None, expected_version=None, actor="a")
    [stale] = store.stale_results(KEY)
    assert stale.reasons == ("model",) and stale.model_hash == content_hash(_model(1))
    fresh = plan.stamped(problem=problem, model=_model(2))
    store.save_result(KEY, "sampling", fresh, problem=None, expected_version=1, actor="a")
    assert not store.is_stale(KEY, "sampling")


def test_a_new_database_is_at_head_and_reopens(store_url):
    from commgov.store._migrate import head_revision

    for _ in range(2):
        with Store(store_url) as s:
            s.save_lists(KEY, ThreeLists(), expected_version=s.version(KEY, "lists"), actor="a")
    with Store(store_url) as s:
        assert s.version(KEY, "lists") == 2
        with s._engine.connect() as conn:
            rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert rev == head_revision()


def test_an_older_database_is_upgraded(tmp_path):
    """A database with no commgov tables yet (revision base) gets the whole schema."""
    path = tmp_path / "old.db"
    sqlite3.connect(path).execute("CREATE TABLE app_users (id INTEGER)").connection.commit()
    with Store(path) as s:
        s.save_lists(KEY, ThreeLists(), expected_version=None, actor="a")
    tables = {
        r[0]
        for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"app_users", "commgov_snapshots", "commgov_events", "commgov_changes"} <= tables


def test_a_newer_database_is_refused(store_url):
    Store(store_url).close()
    url = store_url if "://" in store_url else f"sqlite:///{store_url}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'r9999'"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="r9999 is newer than this commgov"):
        Store(store_url)


def test_a_row_never_names_code_to_import(store, store_url):
    store.save_lists(KEY, ThreeLists(), expected_version=None, actor="a")
    url = store_url if "://" in store_url else f"sqlite:///{store_url}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE commgov_snapshots SET type_name = 'os:system'"))
    engine.dispose()
    with pytest.raises(StoreError, match="not a class this commgov keeps"):
        store.get(KEY, "lists", reveal=True)


def test_bad_targets():
    with pytest.raises(InputError, match="must be sqlite or postgresql"):
        Store("mysql://u@h/db")
    with pytest.raises(InputError):
        Store("  ")
    with pytest.raises(TypeError):
        Store(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError):
        Store("x.db", clock="now")  # type: ignore[arg-type]


def test_password_is_not_shown():
    with pytest.raises(Exception) as info:
        Store("postgresql+psycopg://u:s3cret@127.0.0.1:1/db?connect_timeout=1")
    assert "s3cret" not in str(info.value)


@pytest.mark.slow
def test_gusu_saves_in_10_s_and_loads_in_5_s_on_sqlite(tmp_path):
    """The issue's bounds (generous: about 1 s and 2 s on an idle machine)."""
    import time

    from commgov.datasets import gusu

    model = gusu()
    with Store(tmp_path / "gusu.db") as store:
        t = time.perf_counter()
        store.save_model("320508", model, expected_version=None, actor="bench")
        saved = time.perf_counter() - t
        t = time.perf_counter()
        loaded = store.get("320508", "model", reveal=True).value
        load = time.perf_counter() - t
    assert loaded == model
    print(f"gusu(): saved in {saved:.2f} s, loaded in {load:.2f} s")
    assert saved <= 10 and load <= 5


def test_the_migrations_build_the_schema_the_code_uses(store_url):
    """Alembic's comparison of the migrated database with the code's tables finds nothing."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from commgov.store._schema import metadata

    with Store(store_url) as s, s._engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
