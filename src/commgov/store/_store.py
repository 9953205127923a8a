"""The store: versioned snapshots and history over SQLAlchemy (private)."""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row, insert, select
from sqlalchemy.exc import IntegrityError

from commgov._hashing import content_hash, is_content_hash
from commgov._perf import gc_paused
from commgov.errors import InputError, InvalidParameterError
from commgov.io._privacy import mask_data
from commgov.lists import ThreeLists
from commgov.org import OrgModel
from commgov.results import PlanResult
from commgov.store import _registry
from commgov.store._base import (
    MAX_EVENT_BYTES,
    MAX_EVENTS_PER_APPEND,
    MAX_SNAPSHOT_BYTES,
    MAX_WHY_CHARS,
    _check_expected,
    _check_id,
    _check_reveal,
    _check_why,
    _decode,
    _encode,
    _serialised,
    _utc_now,
)
from commgov.store._engine import open_engine, shown_url
from commgov.store._errors import ConflictError, NotFoundError, StoreError
from commgov.store._history import History
from commgov.store._live import LiveStream
from commgov.store._migrate import upgrade
from commgov.store._records import Snapshot
from commgov.store._schema import changes, events, snapshots

#: Marks "the key's model current when the result is written" (read in its transaction).
_CURRENT_MODEL: Any = object()

__all__ = [
    "MAX_EVENTS_PER_APPEND",
    "MAX_EVENT_BYTES",
    "MAX_SNAPSHOT_BYTES",
    "MAX_WHY_CHARS",
    "Store",
]


class Store(History, LiveStream):
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
        if not isinstance(target, str | os.PathLike):
            raise InvalidParameterError(
                "target", type(target).__name__, "a file path or a database URL", "Store"
            )
        if isinstance(target, str) and target.strip() == ":memory:":
            target = "sqlite://"  # an in-memory database, not a file named ':memory:'
        self._closed = False
        self._engine = open_engine(target, echo=echo)
        # an in-memory SQLite database is one connection: its users take turns
        url = self._engine.url
        memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
        self._serial: threading.RLock | None = threading.RLock() if memory else None
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
        """Close the database connections (the store cannot be used afterwards: every later
        call raises :class:`StoreError`)."""
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- snapshots ------------------------------------------------------------------------

    def save_model(
        self,
        key: str,
        model: OrgModel,
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
        lists: ThreeLists,
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
        result: PlanResult,
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
        # None: the key's model current at the write, read inside the write's transaction
        model_hash = _CURRENT_MODEL if model is None else self._hash_of(model, "model")
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
            kinds = ("model",) if field == "model" else ("problem", "lists")
            if _registry.kind_of(type(obj).__name__) not in kinds:
                raise InputError.single(
                    "store",
                    field,
                    type(obj).__name__,
                    "must be an OrgModel (or its hash)"
                    if field == "model"
                    else "must be a problem or the three lists (or its hash)",
                    what="store",
                )
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
        model_hash: Any = None,
        problem_hash: str | None = None,
    ) -> int:
        key = _check_id(key, "key")
        name = _check_id(name, "name") if named else ""
        actor = _check_id(actor, "actor")
        why = _check_why(why)
        expected = _check_expected(expected)
        type_name = _registry.type_name_of(obj, kind, f"{kind} of {key}")
        raw, digest = _serialised(obj, kind, key)
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
                if row["model_hash"] is _CURRENT_MODEL:  # the model current at this write
                    row["model_hash"] = conn.execute(
                        select(snapshots.c.hash)
                        .where(
                            snapshots.c.key == key,
                            snapshots.c.kind == "model",
                            snapshots.c.name == "",
                        )
                        .order_by(snapshots.c.version.desc())
                        .limit(1)
                    ).scalar()
                conn.execute(insert(snapshots), [row])
                conn.execute(insert(changes), [change])
        except IntegrityError:  # a concurrent writer inserted this version first
            with self._read() as conn:
                actual = self._head(conn, key, kind, name)
            raise ConflictError(key, kind, name, expected, actual) from None
        return new

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
        name = _check_id(name, "name", empty=True)
        reveal = _check_reveal(reveal)
        query = select(snapshots).where(
            snapshots.c.key == key, snapshots.c.kind == kind, snapshots.c.name == name
        )
        version = _check_expected(version, "version")
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
            value = self._load(row.type_name, raw, row.kind)
        else:  # masked straight from the JSON: no record is built (2-3x faster)
            cls = self._class(row.type_name, row.kind)
            try:
                with gc_paused():
                    data = mask_data(cls, json.loads(raw))
            except (ValueError, TypeError, AttributeError, KeyError):
                raise StoreError(
                    f"a stored {row.type_name} cannot be read: the row was changed outside "
                    "commgov or written by an incompatible version"
                ) from None
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
            revealed=reveal,
            value=value,
            data=data,
        )
