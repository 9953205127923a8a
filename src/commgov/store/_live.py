"""The live stream of a key: events and state snapshots under one sequence (private)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pydantic
from pydantic import BaseModel
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from commgov._hashing import content_hash
from commgov.errors import InputError, InvalidParameterError, check_size
from commgov.io._privacy import mask_dump
from commgov.live import CommunityState, Event
from commgov.store import _registry
from commgov.store._base import (
    _STATE_MARK,
    MAX_EVENT_BYTES,
    MAX_EVENTS_PER_APPEND,
    MAX_VERSION,
    StoreBase,
    _check_expected,
    _check_id,
    _check_reveal,
    _check_why,
    _decode,
    _encode,
    _masked,
    _serialised,
)
from commgov.store._errors import ConflictError, NotFoundError
from commgov.store._records import EventRecord, Snapshot
from commgov.store._schema import changes, events, snapshots

__all__ = ["LiveStream"]


class LiveStream(StoreBase):
    """The live-stream methods of :class:`~commgov.store.Store` (events, state snapshots)."""

    def append_events(
        self,
        key: str,
        new_events: Sequence[Event | Mapping[str, Any]],
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
            # from its JSON again: a record made without validation (model_copy(update=…),
            # model_construct) is checked like any other before it is stored
            typed = adapter.validate_json(adapter.dump_json(typed))
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
            with self._read() as conn:
                actual = self._live_head(conn, key)
            if actual is not None and actual != expected:  # another writer made the stream
                raise ConflictError(key, "live", "", expected, actual)
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
        reveal = _check_reveal(reveal)
        if isinstance(since, bool) or not isinstance(since, int) or not 0 <= since <= MAX_VERSION:
            raise InvalidParameterError(
                "since", since, f"an integer in [0, {MAX_VERSION}]", "store"
            )
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
        state: CommunityState,
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
        raw, digest = _serialised(state, "state", key)
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
        self._remember(key, new, state.detached())  # not the caller's object
        return new

    def _state_at(self, key: str, version: int | None) -> Any:
        """The live state at ``version`` (the latest when None), replayed; None if empty."""
        found = self._state_and_target(key, version)
        return None if found is None else found[1]

    def _state_and_target(self, key: str, version: int | None) -> tuple[int, Any] | None:
        """(the version, the live state there), replayed in one read; None if empty."""
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
                return target, cached
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
                state = self._load(base.type_name, _decode(base.encoding, base.payload), "state")
            rows = conn.execute(
                select(events.c.seq, events.c.payload)
                .where(events.c.key == key, events.c.seq > start, events.c.seq <= target)
                .order_by(events.c.seq)
            ).all()
        if rows:
            adapter = _registry.event_adapter()
            state = apply(state, [adapter.validate_json(r.payload) for r in rows])
        self._remember(key, target, state)
        return target, state

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
        reveal = _check_reveal(reveal)
        if version is not None:
            _check_expected(version, "version")
        found = self._state_and_target(key, version)
        if found is None:
            raise NotFoundError(key, "state", "", version)
        target, state = found  # the version the replay stopped at, whatever came since
        with self._read() as conn:
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
            revealed=reveal,
            value=state.detached() if reveal else None,  # the cache is not the caller's
            data=None if reveal else _masked(state),
        )
