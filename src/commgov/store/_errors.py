"""The store's errors (private; exported by :mod:`commgov.store`)."""

from __future__ import annotations

from typing import Any

from commgov._redact import escaped
from commgov.errors import CommgovError

__all__ = ["ConflictError", "NotFoundError", "SchemaVersionError", "StoreError"]


class StoreError(CommgovError):
    """Base of the store's own errors (the database is unusable, a read needs ``reveal``)."""


def _stream(key: str, kind: str, name: str) -> str:
    where = f"{kind} {name!r}" if name else kind
    return f"{escaped(key)}: {where}"


class ConflictError(StoreError):
    """Another writer got there first: the version the caller expected is not the current one.

    Nothing was written. Reload (``store.get(...)``/``store.state(...)``), redo the change on
    what is there now and write again with the new ``expected_version`` (Fowler's optimistic
    offline lock).

    Attributes
    ----------
    key : str
        The key written (a community code or any id).
    kind : str
        What was written (``"model"``, ``"lists"``, ``"problem"``, ``"result"``, ``"live"``).
    name : str
        The name of the problem or result, ``""`` for the others.
    expected : int or None
        The version the caller expected (``None``: that nothing existed yet).
    actual : int or None
        The version found (``None``: nothing exists).
    """

    def __init__(
        self, key: str, kind: str, name: str, expected: int | None, actual: int | None
    ) -> None:
        self.key, self.kind, self.name = key, kind, name
        self.expected, self.actual = expected, actual
        exp = "nothing stored" if expected is None else f"version {expected}"
        act = "nothing stored" if actual is None else f"version {actual}"
        super().__init__(
            f"{_stream(key, kind, name)}: expected {exp} but found {act} (another writer "
            "saved first); reload, redo the change and write with the current version"
        )

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes
        return (type(self), (self.key, self.kind, self.name, self.expected, self.actual))


class NotFoundError(StoreError, KeyError):
    """Nothing is stored under this key, kind, name (and version, when one is asked for)."""

    def __init__(self, key: str, kind: str, name: str = "", version: int | None = None) -> None:
        self.key, self.kind, self.name, self.version = key, kind, name, version
        at = "" if version is None else f" at version {version}"
        super().__init__(f"{_stream(key, kind, name)}: nothing stored{at}")

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.key, self.kind, self.name, self.version))


class SchemaVersionError(StoreError):
    """The database was written by a newer commgov (its schema revision is unknown here)."""
