"""The store: versioned snapshots, history and the live event stream over SQLAlchemy (private)."""

from __future__ import annotations

import json
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

import pydantic
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Row, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from commgov._hashing import content_hash, hash_bytes, is_content_hash
from commgov._perf import gc_paused
from commgov._redact import redact
from commgov.errors import InputError, InvalidParameterError, check_size
from commgov.io._privacy import mask_data, mask_dump
from commgov.store import _registry
from commgov.store._engine import WRITE, open_engine, shown_url
from commgov.store._errors import ConflictError, NotFoundError, StoreError
from commgov.store._migrate import upgrade
from commgov.store._records import Change, EventRecord, Snapshot, StaleResult
from commgov.store._schema import changes, events, snapshots
from commgov.types import Id, Text

__all__ = [
    "MAX_EVENTS_PER_APPEND",
    "MAX_EVENT_BYTES",
    "MAX_SNAPSHOT_BYTES",
    "MAX_WHY_CHARS",
    "Store",
]

#: Largest snapshot written, in bytes of canonical JSON (``gusu()`` is about 24 MB).
MAX_SNAPSHOT_BYTES: Final = 512 * 1024 * 1024
#: Largest event, in bytes of JSON.
MAX_EVENT_BYTES: Final = 1024 * 1024
#: Most events one :meth:`Store.append_events` call writes.
MAX_EVENTS_PER_APPEND: Final = 10_000
#: Longest reason (``why``) of a write, in characters.
MAX_WHY_CHARS: Final = 2000

#: Snapshots above this many bytes of JSON are stored zlib-compressed.
_COMPRESS_FROM = 4096
#: The event row that marks a state snapshot in the live stream (never a ``live.Event``).
_STATE_MARK: Final = "commgov.state"
#: Replayed states kept per store (key, version) → state, most recent last.
_STATE_CACHE = 8

_ID = TypeAdapter(Id)
_TEXT = TypeAdapter(Text)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _check_id(value: object, field: str, *, empty: bool = False) -> str:
    if empty and value == "":
        return ""
    try:
        return _ID.validate_python(value, strict=True)
    except pydantic.ValidationError as exc:
        raise InputError.single(
            "store", field, value, exc.errors(include_url=False)[0]["msg"], what="store"
        ) from None


def _check_why(why: object) -> str:
    if not isinstance(why, str):
        raise InputError.single("store", "why", why, "must be text", what="store")
    if len(why) > MAX_WHY_CHARS:
        raise InputError.single(
            "store", "why", why, f"must be at most {MAX_WHY_CHARS} characters", what="store"
        )
    try:
        return _TEXT.validate_python(why)
    except pydantic.ValidationError as exc:
        raise InputError.single(
            "store", "why", why, exc.errors(include_url=False)[0]["msg"], what="store"
        ) from None


def _check_expected(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(
            "expected_version", value, "None (nothing stored yet) or a version ≥ 1", "store"
        )
    return value


def _encode(raw: bytes) -> tuple[str, bytes]:
    if len(raw) >= _COMPRESS_FROM:
        return "zlib", zlib.compress(raw, 1)
    return "json", raw


def _decode(encoding: str, payload: bytes) -> bytes:
    if encoding == "zlib":
        return zlib.decompress(payload)
    if encoding == "json":
        return bytes(payload)
    raise StoreError(f"a stored row has the unknown encoding {encoding!r}")


def _masked(record: BaseModel) -> dict[str, Any]:
    with gc_paused():
        return mask_dump(record)


class Store:
    """A community's system of record: versioned snapshots, history and live events.

    Keeps, per key (a community code such as ``"320508017016"``, or any id): versions of the
    organisation model (:class:`commgov.org.OrgModel`), the three lists
    (:class:`commgov.lists.ThreeLists`), named problems and named results of every planning
    family, and a live stream of events with snapshots of the live state. Every write names
    who made it and why, is stamped with the time, and lands in the key's history.

    Parameters
    ----------
    target : str or os.PathLike
        A file path — a SQLite database, created with its folder when missing, nothing to
        set up — or a SQLAlchemy URL: ``"sqlite:///path.db"``,
        ``"postgresql+psycopg://user:password@host:5432/dbname"``.
    clock : callable, optional
        Returns the time of each write, a tz-aware :class:`datetime.datetime` (stored in UTC);
        default ``datetime.now(UTC)``. Inject a fixed clock in tests.
    echo : bool, default False
        Log every SQL statement (SQLAlchemy's ``echo``).

    Raises
    ------
    commgov.store.SchemaVersionError
        If the database was written by a newer commgov (a schema revision unknown here).
    commgov.errors.InputError
        If ``target`` is neither a path nor a SQLite or PostgreSQL URL.
    sqlalchemy.exc.OperationalError
        If the database cannot be reached.

    Notes
    -----
    On open, the schema is created or upgraded to the newest Alembic revision shipped with
    commgov (one transaction under the write lock). SQLite runs in WAL mode with
    ``synchronous=FULL`` (a committed write survives a crash of the process and of the
    machine) and a 60 s busy timeout; writers take the write lock at ``BEGIN IMMEDIATE``.

    **Optimistic concurrency.** Every write takes ``expected_version``: the version the
    writer read (``None``: nothing stored yet). If another writer saved first, nothing is
    written and :class:`ConflictError` names the key, the expected and the actual version:
    reload, redo the change and write again (Fowler's *optimistic offline lock*). A unique
    constraint on (key, kind, name, version) — on (key, sequence number) for events — makes
    this hold on PostgreSQL under READ COMMITTED as on SQLite. Each write is one transaction:
    all of it or nothing.

    **Personal data** is stored in full (the store is the app's system of record) and masked
    on every read — sensitive fields and phone or identity numbers, by the one rule of
    :mod:`commgov.io` — unless the caller passes ``reveal=True``.

    Costs: a snapshot write or read is O(size of its JSON) (serialise, hash, zlib level 1);
    looking up a version is one indexed query. A store may be shared by threads; open one per
    process.

    References
    ----------
    M. Fowler, *Patterns of Enterprise Application Architecture*, Addison-Wesley, 2002:
    "Optimistic Offline Lock".
    M. Fowler, "Event Sourcing", 2005, https://martinfowler.com/eaaDev/EventSourcing.html.
    SQLAlchemy 2.0 documentation, "SQLite: Serializable isolation / Savepoints /
    Transactional DDL", https://docs.sqlalchemy.org/en/20/dialects/sqlite.html.
    Alembic documentation, https://alembic.sqlalchemy.org/.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from commgov.lists import ThreeLists
    >>> folder = tempfile.mkdtemp()
    >>> with Store(pathlib.Path(folder) / "app.db") as store:
    ...     v = store.save_lists("320508017016", ThreeLists(), expected_version=None,
    ...                          actor="clerk-1", why="first import")
    ...     snap = store.get("320508017016", "lists", reveal=True)
    >>> v, snap.version, snap.value == ThreeLists()
    (1, 1, True)
    """

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        clock: Callable[[], datetime] | None = None,
        echo: bool = False,
    ) -> None:
        if clock is not None and not callable(clock):
            raise InvalidParameterError("clock", clock, "a callable returning a datetime")
        self._engine = open_engine(target, echo=echo)
        self.url: str = shown_url(self._engine.url)
        try:
            upgrade(self._engine)
        except BaseException:
            self._engine.dispose()
            raise
        self._clock = clock or _utc_now
        self._states: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._lock = threading.Lock()

    # -- lifetime -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the database connections (the store cannot be used afterwards)."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- helpers --------------------------------------------------------------------------

    def _now(self) -> datetime:
        at = self._clock()
        if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
            raise InvalidParameterError("clock()", at, "a tz-aware datetime", "store")
        return at.astimezone(UTC)

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self._engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            yield conn

    def _read(self) -> Any:
        return self._engine.connect()

    # -- snapshots ------------------------------------------------------------------------

    def save_model(
        self,
        key: str,
        model: BaseModel,
        *,
        expected_version: int | None,
        actor: str,
        why: str = "",
    ) -> int:
        """Save a new version of a key's organisation model.

        Parameters
        ----------
        key : str
            The key (a community code, or any id: :data:`commgov.types.Id`).
        model : commgov.org.OrgModel
            The model.
        expected_version : int or None
            The version the caller last read; ``None`` when no model is stored yet.
        actor : str
            Who writes (an id: the app's user or service).
        why : str, default ""
            Why (free text, at most 2,000 characters; kept in the history).

        Returns
        -------
        int
            The new version (``expected_version + 1``, or 1).

        Raises
        ------
        ConflictError
            If the current version is not ``expected_version``; nothing is written.
        commgov.errors.InputError
            If ``model`` is not an ``OrgModel``, or ``key``, ``actor`` or ``why`` is not
            acceptable.
        commgov.errors.SizeLimitError
            If its JSON is over 512 MB.

        Notes
        -----
        O(size of the JSON form): ``gusu()`` (24 MB of JSON) saves in about a second.
        """
        return self._save(key, "model", "", model, expected_version, actor, why)

    def save_lists(
        self,
        key: str,
        lists: BaseModel,
        *,
        expected_version: int | None,
        actor: str,
        why: str = "",
    ) -> int:
        """Save a new version of a key's three lists (:class:`commgov.lists.ThreeLists`).

        Parameters, returns, errors and costs as :meth:`save_model`.
        """
        return self._save(key, "lists", "", lists, expected_version, actor, why)

    def save_problem(
        self,
        key: str,
        name: str,
        problem: BaseModel,
        *,
        expected_version: int | None,
        actor: str,
        why: str = "",
    ) -> int:
        """Save a new version of a named problem of any planning family.

        Parameters
        ----------
        key : str
            The key.
        name : str
            The problem's name within the key (an id, e.g. ``"sampling"``); a result saved
            under the same name is checked against it by :meth:`is_stale`.
        problem : pydantic.BaseModel
            A ``SamplingProblem``, ``MatchingProblem``, ``RosterProblem``,
            ``NotificationProblem``, ``DoorToDoorProblem`` or ``RelayProblem``.
        expected_version, actor, why
            As :meth:`save_model`.

        Returns
        -------
        int
            The new version.

        Raises
        ------
        ConflictError, commgov.errors.InputError, commgov.errors.SizeLimitError
            As :meth:`save_model`.
        """
        return self._save(key, "problem", name, problem, expected_version, actor, why, named=True)

    def save_result(
        self,
        key: str,
        name: str,
        result: BaseModel,
        *,
        problem: BaseModel | str | None,
        model: BaseModel | str | None = None,
        expected_version: int | None,
        actor: str,
        why: str = "",
    ) -> int:
        """Save a new version of a named result, with what it was computed from.

        Parameters
        ----------
        key, name : str
            Where it is stored; by convention the name of the problem it solves.
        result : commgov.results.PlanResult
            The result of any family (``SamplingPlan``, ``Assignment``, ``Allocation`` …).
        problem : pydantic.BaseModel, str or None
            The problem it was computed from (or its :func:`content_hash`); ``None`` when
            there is none (``allocate`` takes the three lists: pass them).
        model : commgov.org.OrgModel, str or None
            The model it was computed from, or its hash. Default: the hash in
            ``result.info.model_hash`` when the result carries one, else the key's current
            model (the latest saved), else none.
        expected_version, actor, why
            As :meth:`save_model`.

        Returns
        -------
        int
            The new version.

        Raises
        ------
        ConflictError, commgov.errors.InputError, commgov.errors.SizeLimitError
            As :meth:`save_model`; InputError also for a hash that is not ``sha256:<hex>``.
        """
        info = getattr(result, "info", None)
        if problem is None:
            problem = getattr(info, "problem_hash", None)
        problem_hash = None if problem is None else self._hash_of(problem, "problem")
        if model is None:
            model = getattr(info, "model_hash", None)
        if model is None:
            model_hash = self._current_hash(key, "model", "")
        else:
            model_hash = self._hash_of(model, "model")
        return self._save(
            key,
            "result",
            name,
            result,
            expected_version,
            actor,
            why,
            named=True,
            model_hash=model_hash,
            problem_hash=problem_hash,
        )

    @staticmethod
    def _hash_of(obj: object, field: str) -> str:
        if isinstance(obj, str):
            if not is_content_hash(obj):
                raise InputError.single(
                    "store",
                    field,
                    obj,
                    "must be a record or a content hash 'sha256:<64 hex digits>'",
                    what="store",
                )
            return obj
        if isinstance(obj, BaseModel):
            return content_hash(obj)
        raise InputError.single(
            "store", field, type(obj).__name__, "must be a record or its content hash", what="store"
        )

    def _save(
        self,
        key: str,
        kind: str,
        name: str,
        obj: BaseModel,
        expected: int | None,
        actor: str,
        why: str,
        *,
        named: bool = False,
        model_hash: str | None = None,
        problem_hash: str | None = None,
    ) -> int:
        key = _check_id(key, "key")
        name = _check_id(name, "name") if named else ""
        actor = _check_id(actor, "actor")
        why = _check_why(why)
        expected = _check_expected(expected)
        type_name = _registry.type_name_of(obj, kind, f"{kind} of {key}")
        raw = obj.model_dump_json().encode("utf-8")
        check_size(
            f"store: {kind} JSON (bytes)",
            len(raw),
            MAX_SNAPSHOT_BYTES,
            "split the data by area and store the parts under their own keys",
        )
        digest = hash_bytes(raw)
        encoding, payload = _encode(raw)
        del raw
        at = self._now()
        new = (expected or 0) + 1
        row = {
            "key": key,
            "kind": kind,
            "name": name,
            "version": new,
            "type_name": type_name,
            "hash": digest,
            "model_hash": model_hash,
            "problem_hash": problem_hash,
            "encoding": encoding,
            "size": len(payload),
            "payload": payload,
            "recorded_at": at,
            "actor": actor,
        }
        change = {
            "key": key,
            "kind": kind,
            "name": name,
            "first_version": new,
            "version": new,
            "type_name": type_name,
            "hash": digest,
            "actor": actor,
            "recorded_at": at,
            "why": why,
        }
        try:
            with self._writing() as conn:
                actual = self._head(conn, key, kind, name)
                if actual != expected:
                    raise ConflictError(key, kind, name, expected, actual)
                conn.execute(insert(snapshots), [row])
                conn.execute(insert(changes), [change])
        except IntegrityError:  # a concurrent writer inserted this version first
            with self._read() as conn:
                actual = self._head(conn, key, kind, name)
            raise ConflictError(key, kind, name, expected, actual) from None
        return new

    @staticmethod
    def _head(conn: Connection, key: str, kind: str, name: str) -> int | None:
        query = select(func.max(snapshots.c.version)).where(
            snapshots.c.key == key, snapshots.c.kind == kind, snapshots.c.name == name
        )
        value = conn.execute(query).scalar()
        return None if value is None else int(value)

    def version(self, key: str, kind: str, name: str = "") -> int | None:
        """The current version of a key's model, lists, problem, result or live stream.

        Parameters
        ----------
        key : str
            The key.
        kind : {"model", "lists", "problem", "result", "live"}
            What; ``"live"`` is the key's live stream (events and state snapshots).
        name : str, default ""
            The problem's or result's name.

        Returns
        -------
        int or None
            The latest version, ``None`` when nothing is stored.

        Notes
        -----
        One indexed query.
        """
        key = _check_id(key, "key")
        with self._read() as conn:
            if kind == "live":
                return self._live_head(conn, key)
            self._check_kind(kind)
            return self._head(conn, key, kind, name)

    def keys(self, kind: str | None = None) -> list[str]:
        """The keys with something stored, sorted.

        Parameters
        ----------
        kind : {"model", "lists", "problem", "result", "state", "live"}, optional
            Only keys holding this kind (``"live"``: a live stream); any kind by default.

        Returns
        -------
        list of str

        Notes
        -----
        One query over the keys' index: O(number of stored versions).
        """
        if kind is not None and kind != "live":
            self._check_kind(kind)
        queries = []
        if kind in (None, "live"):
            queries.append(select(events.c.key).distinct())
        if kind != "live":
            q = select(snapshots.c.key).distinct()
            queries.append(q if kind is None else q.where(snapshots.c.kind == kind))
        found: set[str] = set()
        with self._read() as conn:
            for q in queries:
                found.update(conn.execute(q).scalars())
        return sorted(found)

    @staticmethod
    def _check_kind(kind: object) -> None:
        if kind not in _registry.KINDS:
            raise InvalidParameterError(
                "kind", kind, f"one of {', '.join(_registry.KINDS)}", "store"
            )

    def _current_hash(self, key: str, kind: str, name: str) -> str | None:
        key = _check_id(key, "key")
        query = (
            select(snapshots.c.hash)
            .where(snapshots.c.key == key, snapshots.c.kind == kind, snapshots.c.name == name)
            .order_by(snapshots.c.version.desc())
            .limit(1)
        )
        with self._read() as conn:
            value = conn.execute(query).scalar()
        return None if value is None else str(value)

    def get(
        self,
        key: str,
        kind: str,
        name: str = "",
        *,
        version: int | None = None,
        reveal: bool = False,
    ) -> Snapshot:
        """A stored version (the latest by default), masked unless ``reveal=True``.

        Parameters
        ----------
        key : str
            The key.
        kind : {"model", "lists", "problem", "result", "state"}
            What (``"state"``: a state saved with :meth:`save_state`; :meth:`state` replays).
        name : str, default ""
            The problem's or result's name.
        version : int, optional
            Which version; the latest by default.
        reveal : bool, default False
            Return personal data in clear, and the typed record in :attr:`Snapshot.value`.

        Returns
        -------
        Snapshot
            Its metadata and ``data`` (masked unless revealed); ``value`` when revealed.

        Raises
        ------
        NotFoundError
            If nothing (or not that version) is stored.
        StoreError
            If the stored row names a class this commgov does not keep.

        Notes
        -----
        O(size of the JSON): decompress, validate (``gusu()``: about 2 s), and mask when not
        revealed.
        """
        key = _check_id(key, "key")
        self._check_kind(kind)
        query = select(snapshots).where(
            snapshots.c.key == key, snapshots.c.kind == kind, snapshots.c.name == name
        )
        if version is None:
            query = query.order_by(snapshots.c.version.desc()).limit(1)
        else:
            query = query.where(snapshots.c.version == version)
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFoundError(key, kind, name, version)
        return self._snapshot(row, reveal)

    def _snapshot(self, row: Row[Any], reveal: bool) -> Snapshot:
        raw = _decode(row.encoding, row.payload)
        value, data = None, None
        if reveal:
            value = self._load(row.type_name, raw)
        else:  # masked straight from the JSON: no record is built (2-3x faster)
            cls = self._class(row.type_name)
            with gc_paused():
                data = mask_data(cls, json.loads(raw))
        return Snapshot(
            key=row.key,
            kind=row.kind,
            name=row.name,
            version=row.version,
            type_name=row.type_name,
            hash=row.hash,
            recorded_at=row.recorded_at,
            actor=row.actor,
            model_hash=row.model_hash,
            problem_hash=row.problem_hash,
            revealed=bool(reveal),
            value=value,
            data=data,
        )

    @staticmethod
    def _class(type_name: str) -> type[BaseModel]:
        try:
            return _registry.class_for(type_name)
        except InputError as exc:
            raise StoreError(str(exc)) from None

    @classmethod
    def _load(cls, type_name: str, raw: bytes) -> BaseModel:
        model = cls._class(type_name)
        with gc_paused():  # large acyclic models: several times faster
            return model.model_validate_json(raw)

    # -- history and staleness ----------------------------------------------------------

    def history(
        self,
        key: str,
        *,
        kind: str | None = None,
        name: str | None = None,
        reveal: bool = False,
    ) -> list[Change]:
        """Every write under a key, oldest first: who, when, what and why.

        Parameters
        ----------
        key : str
            The key.
        kind : str, optional
            Only writes of this kind (``"model"``, …, ``"state"``, ``"events"``).
        name : str, optional
            Only writes of this name.
        reveal : bool, default False
            Show the reasons in clear; by default phone and identity numbers in them are
            masked (:func:`commgov.errors` rule, :mod:`commgov._redact`).

        Returns
        -------
        list of Change

        Notes
        -----
        One indexed query; O(number of writes under the key).
        """
        key = _check_id(key, "key")
        query = select(changes).where(changes.c.key == key).order_by(changes.c.id)
        if kind is not None:
            query = query.where(changes.c.kind == kind)
        if name is not None:
            query = query.where(changes.c.name == name)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [
            Change(
                key=r.key,
                kind=r.kind,
                name=r.name,
                first_version=r.first_version,
                version=r.version,
                type_name=r.type_name,
                hash=r.hash,
                actor=r.actor,
                recorded_at=r.recorded_at,
                why=r.why if reveal else redact(r.why),
            )
            for r in rows
        ]

    def stale_results(self, key: str) -> list[StaleResult]:
        """The latest results under a key that were computed from an older model or problem.

        A result is stale when the model hash it recorded differs from the key's current
        model, or its problem hash from the current problem of the same name (a result named
        ``"sampling"`` is checked against the problem named ``"sampling"``). What is not
        recorded, or not stored, is not compared.

        Returns
        -------
        list of StaleResult
            Sorted by name.

        Notes
        -----
        Two queries: O(number of stored results and problems under the key).
        """
        key = _check_id(key, "key")
        with self._read() as conn:
            rows = conn.execute(
                select(
                    snapshots.c.kind,
                    snapshots.c.name,
                    snapshots.c.version,
                    snapshots.c.hash,
                    snapshots.c.model_hash,
                    snapshots.c.problem_hash,
                )
                .where(snapshots.c.key == key, snapshots.c.kind.in_(("model", "problem", "result")))
                .order_by(snapshots.c.kind, snapshots.c.name, snapshots.c.version)
            ).all()
        latest = {(r.kind, r.name): r for r in rows}  # the last version wins
        model = latest.get(("model", ""))
        current_model = None if model is None else model.hash
        out = []
        for (kind, name), r in sorted(latest.items()):
            if kind != "result":
                continue
            problem = latest.get(("problem", name))
            current_problem = None if problem is None else problem.hash
            reasons = []
            if r.model_hash and current_model and r.model_hash != current_model:
                reasons.append("model")
            if r.problem_hash and current_problem and r.problem_hash != current_problem:
                reasons.append("problem")
            if reasons:
                out.append(
                    StaleResult(
                        key=key,
                        name=name,
                        version=r.version,
                        reasons=tuple(reasons),
                        model_hash=r.model_hash,
                        problem_hash=r.problem_hash,
                        current_model_hash=current_model,
                        current_problem_hash=current_problem,
                    )
                )
        return out

    def is_stale(self, key: str, name: str) -> bool:
        """Whether the latest result ``name`` under ``key`` is stale (see :meth:`stale_results`).

        Raises
        ------
        NotFoundError
            If no result of that name is stored.
        """
        key = _check_id(key, "key")
        if self.version(key, "result", name) is None:
            raise NotFoundError(key, "result", name)
        return any(s.name == name for s in self.stale_results(key))

    # -- the live stream: events and state snapshots --------------------------------------

    @staticmethod
    def _live_head(conn: Connection, key: str) -> int | None:
        value = conn.execute(select(func.max(events.c.seq)).where(events.c.key == key)).scalar()
        return None if value is None else int(value)

    def append_events(
        self,
        key: str,
        new_events: Sequence[BaseModel],
        *,
        expected_version: int | None,
        actor: str,
        why: str = "",
    ) -> int:
        """Append events to a key's live stream, all or none; return the new version.

        Parameters
        ----------
        key : str
            The key.
        new_events : sequence of commgov.live.Event
            The events, in order (at most 10,000, each at most 1 MB of JSON); a dict is read
            as an event by its ``kind``.
        expected_version : int or None
            The live stream's version the caller last read (``None``: the stream is empty).
        actor, why
            Who appends, and why (as :meth:`save_model`).

        Returns
        -------
        int
            The new version: ``expected_version + len(new_events)``; event *i* gets sequence
            number ``expected_version + i + 1``.

        Raises
        ------
        ConflictError
            If the stream is not at ``expected_version``; nothing is written.
        commgov.errors.EventError
            If an event does not apply to the state at ``expected_version``
            (:func:`commgov.live.apply_events`' rules); nothing is written.
        commgov.errors.InputError
            If an event is not a ``commgov.live.Event`` (a dict is validated as one), or the
            stream has no state yet (:meth:`save_state` first); nothing is written.
        commgov.errors.SizeLimitError
            Over 10,000 events, or an event over 1 MB.

        Notes
        -----
        One transaction: the events, and one history entry for the batch. O(total size of
        the events), plus the replay of the events since the latest state snapshot when that
        state is not cached.
        """
        key = _check_id(key, "key")
        actor = _check_id(actor, "actor")
        why = _check_why(why)
        expected = _check_expected(expected_version)
        if isinstance(new_events, BaseModel | str | bytes) or not isinstance(new_events, Sequence):
            raise InputError.single(
                "store",
                "events",
                type(new_events).__name__,
                "must be a sequence of events",
                what="store",
            )
        check_size(
            "store: events in one append",
            len(new_events),
            MAX_EVENTS_PER_APPEND,
            "append the events in several batches",
        )
        if not new_events:
            raise InputError.single("store", "events", "[]", "must not be empty", what="store")
        typed = [self._check_event(e, i) for i, e in enumerate(new_events)]
        payloads = []
        for i, e in enumerate(typed):
            raw = e.model_dump_json()
            check_size(
                f"store: event {i} JSON (bytes)",
                len(raw.encode("utf-8")),
                MAX_EVENT_BYTES,
                "keep events small: store data as snapshots",
            )
            payloads.append(raw)
        with self._read() as conn:  # a stale writer gets a conflict, not a replay of old news
            actual = self._live_head(conn, key)
        if actual != expected and expected is not None:
            raise ConflictError(key, "live", "", expected, actual)
        state = self._validate_events(key, expected, typed)
        at = self._now()
        first = (expected or 0) + 1
        rows = [
            {
                "key": key,
                "seq": first + i,
                "kind": str(getattr(e, "kind", type(e).__name__)),
                "payload": p,
                "recorded_at": at,
            }
            for i, (e, p) in enumerate(zip(typed, payloads, strict=True))
        ]
        new = first + len(rows) - 1
        change = {
            "key": key,
            "kind": "events",
            "name": "",
            "first_version": first,
            "version": new,
            "type_name": "events",
            "hash": content_hash("[" + ",".join(payloads) + "]"),
            "actor": actor,
            "recorded_at": at,
            "why": why,
        }
        self._write_live(key, expected, rows, change)
        self._remember(key, new, state)
        return new

    def _write_live(
        self,
        key: str,
        expected: int | None,
        rows: list[dict[str, Any]],
        change: dict[str, Any],
        snapshot: dict[str, Any] | None = None,
    ) -> None:
        try:
            with self._writing() as conn:
                actual = self._live_head(conn, key)
                if actual != expected:
                    raise ConflictError(key, "live", "", expected, actual)
                conn.execute(insert(events), rows)
                if snapshot is not None:
                    conn.execute(insert(snapshots), [snapshot])
                conn.execute(insert(changes), [change])
        except IntegrityError:
            with self._read() as conn:
                actual = self._live_head(conn, key)
            raise ConflictError(key, "live", "", expected, actual) from None

    @staticmethod
    def _check_event(event: object, index: int) -> BaseModel:
        adapter = _registry.event_adapter()
        try:
            typed = adapter.validate_python(event)
        except pydantic.ValidationError as exc:
            raise InputError.from_validation(
                exc, event, record=f"events[{index}]", what="store: events"
            ) from None
        if not isinstance(typed, BaseModel):  # pragma: no cover - the union holds models
            raise InputError.single(
                f"events[{index}]",
                "kind",
                type(event).__name__,
                "must be a commgov.live event",
                what="store",
            )
        return typed

    def _validate_events(self, key: str, expected: int | None, new: list[BaseModel]) -> Any:
        """The state after ``new``, applied to the state at ``expected`` (EventError if not)."""
        apply = _registry.apply_events()
        state = self._state_at(key, expected) if expected is not None else None
        if state is None:
            raise InputError.single(
                key,
                "events",
                len(new),
                "the live stream has no state yet: save one with save_state first",
                what="store",
            )
        return apply(state, new)

    def events(self, key: str, since: int = 0, *, reveal: bool = False) -> list[EventRecord]:
        """The events of a key's live stream after version ``since``, in order.

        Parameters
        ----------
        key : str
            The key.
        since : int, default 0
            Return events with sequence numbers above this.
        reveal : bool, default False
            Personal data in clear, and typed events in :attr:`EventRecord.value`.

        Returns
        -------
        list of EventRecord
            State snapshots (:meth:`save_state`) take a sequence number but are not events:
            they are left out (:meth:`history` lists them).

        Notes
        -----
        One indexed query; O(number and size of the events returned).
        """
        key = _check_id(key, "key")
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise InvalidParameterError("since", since, "an integer ≥ 0", "store")
        with self._read() as conn:
            rows = conn.execute(
                select(events)
                .where(events.c.key == key, events.c.seq > since, events.c.kind != _STATE_MARK)
                .order_by(events.c.seq)
            ).all()
        adapter = _registry.event_adapter()
        out = []
        for r in rows:
            value = adapter.validate_json(r.payload)
            out.append(
                EventRecord(
                    key=r.key,
                    seq=r.seq,
                    kind=r.kind,
                    recorded_at=r.recorded_at,
                    data=value.model_dump(mode="json") if reveal else mask_dump(value),
                    revealed=bool(reveal),
                    _value=value if reveal else None,
                )
            )
        return out

    def save_state(
        self,
        key: str,
        state: BaseModel,
        *,
        expected_version: int | None,
        actor: str,
        why: str = "",
    ) -> int:
        """Set a key's live state: a snapshot that takes the next version of the live stream.

        Later events apply to it; :meth:`state` replays from the latest snapshot.

        Parameters
        ----------
        key : str
            The key.
        state : commgov.live.CommunityState
            The state.
        expected_version, actor, why
            As :meth:`append_events`.

        Returns
        -------
        int
            The new version of the live stream.

        Raises
        ------
        ConflictError, commgov.errors.InputError, commgov.errors.SizeLimitError
            As :meth:`save_model`.
        """
        key = _check_id(key, "key")
        actor = _check_id(actor, "actor")
        why = _check_why(why)
        expected = _check_expected(expected_version)
        type_name = _registry.type_name_of(state, "state", f"state of {key}")
        raw = state.model_dump_json().encode("utf-8")
        check_size(
            "store: state JSON (bytes)",
            len(raw),
            MAX_SNAPSHOT_BYTES,
            "split the data by area and store the parts under their own keys",
        )
        digest = hash_bytes(raw)
        encoding, payload = _encode(raw)
        at = self._now()
        new = (expected or 0) + 1
        mark = [{"key": key, "seq": new, "kind": _STATE_MARK, "payload": "{}", "recorded_at": at}]
        snapshot = {
            "key": key,
            "kind": "state",
            "name": "",
            "version": new,
            "type_name": type_name,
            "hash": digest,
            "model_hash": None,
            "problem_hash": None,
            "encoding": encoding,
            "size": len(payload),
            "payload": payload,
            "recorded_at": at,
            "actor": actor,
        }
        change = {
            "key": key,
            "kind": "state",
            "name": "",
            "first_version": new,
            "version": new,
            "type_name": type_name,
            "hash": digest,
            "actor": actor,
            "recorded_at": at,
            "why": why,
        }
        self._write_live(key, expected, mark, change, snapshot)
        self._remember(key, new, state)
        return new

    def _remember(self, key: str, version: int, state: Any) -> None:
        with self._lock:
            self._states[(key, version)] = state
            self._states.move_to_end((key, version))
            while len(self._states) > _STATE_CACHE:
                self._states.popitem(last=False)

    def _state_at(self, key: str, version: int | None) -> Any:
        """The live state at ``version`` (the latest when None), replayed; None if empty."""
        apply = _registry.apply_events()
        with self._read() as conn:
            head = self._live_head(conn, key)
            if head is None:
                return None
            target = head if version is None else version
            if target > head or target < 1:
                raise NotFoundError(key, "state", "", version)
            with self._lock:
                cached = self._states.get((key, target))
            if cached is not None:
                return cached
            base = conn.execute(
                select(snapshots)
                .where(
                    snapshots.c.key == key,
                    snapshots.c.kind == "state",
                    snapshots.c.version <= target,
                )
                .order_by(snapshots.c.version.desc())
                .limit(1)
            ).first()
            if base is None:
                raise NotFoundError(key, "state", "", version)
            start, state = base.version, None
            with self._lock:  # a cached state between the snapshot and the target
                for (k, v), s in self._states.items():
                    if k == key and start <= v <= target and (state is None or v > start):
                        start, state = v, s
            if state is None:
                state = self._load(base.type_name, _decode(base.encoding, base.payload))
            rows = conn.execute(
                select(events.c.seq, events.c.payload)
                .where(events.c.key == key, events.c.seq > start, events.c.seq <= target)
                .order_by(events.c.seq)
            ).all()
        if rows:
            adapter = _registry.event_adapter()
            state = apply(state, [adapter.validate_json(r.payload) for r in rows])
        self._remember(key, target, state)
        return state

    def state(self, key: str, version: int | None = None, *, reveal: bool = False) -> Snapshot:
        """A key's live state at a version (the latest by default): snapshot + replay.

        Parameters
        ----------
        key : str
            The key.
        version : int, optional
            The live stream's version; the latest by default.
        reveal : bool, default False
            Personal data in clear, and the typed ``CommunityState`` in ``value``.

        Returns
        -------
        Snapshot
            Kind ``"state"``; ``version`` is the live stream's version to pass as
            ``expected_version`` to the next :meth:`append_events`.

        Raises
        ------
        NotFoundError
            If the key has no live state (or not at that version).

        Notes
        -----
        The latest state snapshot at or before ``version``, then the events after it
        replayed with ``commgov.live.apply_events`` (event sourcing); states are cached per
        store by (key, version), so the next call or append starts from there.
        """
        key = _check_id(key, "key")
        if version is not None:
            _check_expected(version)
        state = self._state_at(key, version)
        if state is None:
            raise NotFoundError(key, "state", "", version)
        with self._read() as conn:
            target = version if version is not None else self._live_head(conn, key)
            row = conn.execute(
                select(events.c.recorded_at).where(events.c.key == key, events.c.seq == target)
            ).first()
            base = conn.execute(  # the write that brought the stream to the target
                select(changes.c.actor)
                .where(
                    changes.c.key == key,
                    changes.c.kind.in_(("events", "state")),
                    changes.c.first_version <= target,
                    changes.c.version >= target,
                )
                .limit(1)
            ).first()
        assert row is not None and base is not None and target is not None
        return Snapshot(
            key=key,
            kind="state",
            name="",
            version=target,
            type_name=type(state).__name__,
            hash=content_hash(state),
            recorded_at=row.recorded_at,
            actor=base.actor,
            revealed=bool(reveal),
            value=state if reveal else None,
            data=None if reveal else _masked(state),
        )
