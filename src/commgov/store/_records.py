"""What the store's reads return: snapshots, history entries, events, stale results (private)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from commgov.store._errors import StoreError

__all__ = ["Change", "EventRecord", "Snapshot", "StaleResult"]


def _masked_value(what: str) -> StoreError:
    return StoreError(
        f"{what} was read masked (personal data hidden): read it with reveal=True to get "
        "the typed record, or use .data (masked, JSON-ready)"
    )


class Snapshot:
    """One stored version of a model, three lists, problem, result or live state.

    Attributes
    ----------
    key : str
        The key it is stored under (a community code or any id).
    kind : {"model", "lists", "problem", "result", "state"}
        What it is.
    name : str
        The name of a problem or result (``""`` for the other kinds).
    version : int
        Its version (1, 2, … per key, kind and name; for ``"state"``, the version of the
        key's live stream it stands at).
    type_name : str
        The class (``"OrgModel"``, ``"SamplingPlan"`` …), from the store's fixed registry.
    hash : str
        ``"sha256:<hex>"`` of its canonical JSON (:func:`commgov.store.content_hash`).
    recorded_at : datetime.datetime
        When it was written (tz-aware, UTC); for a replayed state, when the last entry was.
    actor : str
        Who wrote it.
    model_hash, problem_hash : str or None
        For a result: the hashes of the model and the problem it was computed from.
    revealed : bool
        Whether it was read with ``reveal=True``.
    data : dict
        The record as JSON-ready data: personal data masked (the one rule,
        ``commgov.io``'s ``mask_dump``) unless :attr:`revealed`.
    value : pydantic.BaseModel
        The typed record (an ``OrgModel``, ``SamplingPlan``, ``CommunityState`` …); only when
        :attr:`revealed` (a masked record cannot be typed: a masked headcount is no number).

    Raises
    ------
    commgov.store.StoreError
        On :attr:`value` of a snapshot read without ``reveal=True``.
    """

    __slots__ = (
        "_data",
        "_value",
        "actor",
        "hash",
        "key",
        "kind",
        "model_hash",
        "name",
        "problem_hash",
        "recorded_at",
        "revealed",
        "type_name",
        "version",
    )

    def __init__(
        self,
        *,
        key: str,
        kind: str,
        name: str,
        version: int,
        type_name: str,
        hash: str,
        recorded_at: datetime,
        actor: str,
        revealed: bool,
        value: BaseModel | None,
        data: Mapping[str, Any] | None,
        model_hash: str | None = None,
        problem_hash: str | None = None,
    ) -> None:
        self.key, self.kind, self.name, self.version = key, kind, name, version
        self.type_name, self.hash, self.recorded_at, self.actor = (
            type_name,
            hash,
            recorded_at,
            actor,
        )
        self.model_hash, self.problem_hash = model_hash, problem_hash
        self.revealed = revealed
        self._value, self._data = value, data

    @property
    def value(self) -> Any:
        """The typed record; only for a snapshot read with ``reveal=True``."""
        if self._value is None:
            raise _masked_value(f"{self.kind} {self.key!r} version {self.version}")
        return self._value

    @property
    def data(self) -> Mapping[str, Any]:
        """JSON-ready data, personal data masked unless read with ``reveal=True``."""
        if self._data is None:
            assert self._value is not None
            self._data = self._value.model_dump(mode="json")
        return self._data

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        shown = "revealed" if self.revealed else "masked"
        return (
            f"<Snapshot {self.key!r} {self.kind}{name} v{self.version} {self.type_name} "
            f"{self.hash[:19]}… {shown}>"
        )


@dataclass(frozen=True, slots=True)
class Change:
    """One write in a key's history: who, when, what and why.

    Attributes
    ----------
    key : str
        The key written.
    kind : {"model", "lists", "problem", "result", "state", "events"}
        What was written (``"events"``: a batch appended to the live stream).
    name : str
        Name of the problem or result, else ``""``.
    first_version, version : int
        The versions written: equal for a snapshot; the first and last sequence numbers of
        an event batch.
    type_name : str
        The class written (``"OrgModel"`` …), or ``"events"``.
    hash : str
        Content hash of what was written (for a batch: of the JSON array of its events).
    actor : str
        Who wrote it (an id of the app's user or service).
    recorded_at : datetime.datetime
        When (tz-aware, UTC, from the store's clock).
    why : str
        The reason given; phone and identity numbers masked unless read with
        ``reveal=True``.
    """

    key: str
    kind: str
    name: str
    first_version: int
    version: int
    type_name: str
    hash: str
    actor: str
    recorded_at: datetime
    why: str


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One stored event of a key's live stream.

    Attributes
    ----------
    key : str
        The key.
    seq : int
        Its sequence number: the version of the live stream once it was applied.
    kind : str
        The event's ``kind``.
    recorded_at : datetime.datetime
        When it was appended (tz-aware, UTC).
    data : dict
        The event as JSON-ready data, personal data masked unless read with ``reveal=True``.
    revealed : bool
        Whether it was read with ``reveal=True``.
    """

    key: str
    seq: int
    kind: str
    recorded_at: datetime
    data: Mapping[str, Any]
    revealed: bool
    _value: BaseModel | None = field(default=None, repr=False)

    @property
    def value(self) -> Any:
        """The typed event (a ``commgov.live.Event``); only when read with ``reveal=True``."""
        if self._value is None:
            raise _masked_value(f"event {self.key!r} #{self.seq}")
        return self._value


@dataclass(frozen=True, slots=True)
class StaleResult:
    """A stored result computed from another model or problem than the current ones.

    Attributes
    ----------
    key, name : str
        Where the result is stored.
    version : int
        The result's version (the latest under that name).
    reasons : tuple of {"model", "problem"}
        What changed since it was computed.
    model_hash, problem_hash : str or None
        What it was computed from.
    current_model_hash, current_problem_hash : str or None
        What is stored now (``None`` when nothing is).
    """

    key: str
    name: str
    version: int
    reasons: tuple[str, ...]
    model_hash: str | None
    problem_hash: str | None
    current_model_hash: str | None
    current_problem_hash: str | None
