"""The store's shared parts: limits, argument checks, encoding, connections (private)."""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, Final

import pydantic
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from commgov._hashing import content_hash
from commgov._perf import gc_paused
from commgov._redact import escaped
from commgov.errors import InputError, InvalidParameterError, check_size
from commgov.io._privacy import mask_dump
from commgov.store import _registry
from commgov.store._engine import WRITE
from commgov.store._errors import StoreError
from commgov.store._schema import events, snapshots
from commgov.types import Id, Text

__all__ = [
    "MAX_EVENTS_PER_APPEND",
    "MAX_EVENT_BYTES",
    "MAX_SNAPSHOT_BYTES",
    "MAX_WHY_CHARS",
    "StoreBase",
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


def _check_expected(value: object, name: str = "expected_version") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VERSION:
        what = "None (nothing stored yet)" if name == "expected_version" else "None (the latest)"
        raise InvalidParameterError(
            name, value, f"{what} or a version in [1, {MAX_VERSION}]", "store"
        )
    return value


#: The largest version (and ``since``) a store takes: PostgreSQL's INTEGER.
MAX_VERSION: Final = 2**31 - 1


def _check_reveal(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidParameterError("reveal", value, "True or False", "store")
    return value


def _serialised(obj: BaseModel, kind: str, key: str) -> tuple[bytes, str]:
    """(JSON as the record writes it, content hash) of a record to store, checked: its size,
    and that it reads back as its class (a record made without validation —
    ``model_copy(update=…)``, ``model_construct`` — is refused before anything is written,
    as any bad input)."""
    raw = obj.model_dump_json().encode("utf-8")  # kept as written: mapping order is meaning
    check_size(
        f"store: {kind} JSON (bytes)",
        len(raw),
        MAX_SNAPSHOT_BYTES,
        "split the data by area and store the parts under their own keys",
    )
    try:
        with gc_paused():
            type(obj).model_validate_json(raw)
    except pydantic.ValidationError as exc:
        raise InputError.from_validation(
            exc, None, record=f"{kind} of {key}", what="store: not a valid record"
        ) from None
    return raw, content_hash(obj)  # the one hash rule (keys sorted: equal records, equal hash)


def _encode(raw: bytes) -> tuple[str, bytes]:
    if len(raw) >= _COMPRESS_FROM:
        return "zlib", zlib.compress(raw, 1)
    return "json", raw


def _decode(encoding: str, payload: bytes) -> bytes:
    if encoding == "zlib":
        try:
            return zlib.decompress(payload)
        except zlib.error:
            raise StoreError(
                "a stored row's payload is corrupt (zlib); it cannot be read"
            ) from None
    if encoding == "json":
        return bytes(payload)
    raise StoreError(f"a stored row has an unknown encoding {escaped(str(encoding), 40)}")


def _masked(record: BaseModel) -> dict[str, Any]:
    with gc_paused():
        return mask_dump(record)


class StoreBase:
    """What :class:`~commgov.store.Store` and its live stream share: connections, the clock,
    the cache of replayed states, lookups of versions and classes."""

    _engine: Engine
    _clock: Callable[[], datetime]
    _states: OrderedDict[tuple[str, int], Any]
    _lock: threading.Lock

    def _now(self) -> datetime:
        at = self._clock()
        if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
            raise InvalidParameterError("clock()", at, "a tz-aware datetime", "store")
        return at.astimezone(UTC)

    _closed: bool
    _serial: threading.RLock | None

    def _usable(self) -> AbstractContextManager[Any]:
        if self._closed:
            raise StoreError("the store is closed: open a new Store")
        return self._serial if self._serial is not None else nullcontext()

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with (
            self._usable(),
            self._engine.connect().execution_options(**{WRITE: True}) as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._usable(), self._engine.connect() as conn:
            yield conn

    @staticmethod
    def _head(conn: Connection, key: str, kind: str, name: str) -> int | None:
        query = select(func.max(snapshots.c.version)).where(
            snapshots.c.key == key, snapshots.c.kind == kind, snapshots.c.name == name
        )
        value = conn.execute(query).scalar()
        return None if value is None else int(value)

    @staticmethod
    def _check_kind(kind: object) -> None:
        if kind not in _registry.KINDS:
            raise InvalidParameterError(
                "kind", kind, f"one of {', '.join(_registry.KINDS)}", "store"
            )

    @staticmethod
    def _class(type_name: str, kind: str | None = None) -> type[BaseModel]:
        try:
            cls = _registry.class_for(type_name)
        except InputError as exc:
            raise StoreError(str(exc)) from None
        if kind is not None and _registry.kind_of(type_name) != kind:
            raise StoreError(
                f"a stored {kind} row names the class {escaped(type_name, 60)}, which is not "
                f"a {kind}: the row was changed outside commgov"
            )
        return cls

    @classmethod
    def _load(cls, type_name: str, raw: bytes, kind: str | None = None) -> BaseModel:
        model = cls._class(type_name, kind)
        try:
            with gc_paused():  # large acyclic models: several times faster
                return model.model_validate_json(raw)
        except (pydantic.ValidationError, InputError, UnicodeDecodeError, ValueError):
            # the message would quote stored values (personal data): say only what and where
            raise StoreError(
                f"a stored {type_name} cannot be read back: the row was changed outside "
                "commgov or written by an incompatible version"
            ) from None

    @staticmethod
    def _live_head(conn: Connection, key: str) -> int | None:
        value = conn.execute(select(func.max(events.c.seq)).where(events.c.key == key)).scalar()
        return None if value is None else int(value)

    def _remember(self, key: str, version: int, state: Any) -> None:
        with self._lock:
            self._states[(key, version)] = state
            self._states.move_to_end((key, version))
            while len(self._states) > _STATE_CACHE:
                self._states.popitem(last=False)
