"""A community's system of record on a real database: snapshots, history, live events.

:class:`Store` keeps, per key (a community code such as ``"320508017016"``, or any id),
versioned snapshots of the organisation model, the three lists, named problems and named
results; the content hashes that tell a cache when a result is stale; a history of every
change (who, when, what, why); and a live stream of events with snapshots of the live state.
Writers use optimistic concurrency: of two writers on one version one wins and the other gets
a :class:`ConflictError`; nothing is lost. Personal data is kept in full and masked on every
read unless the caller passes ``reveal=True``.

SQLite by default (a file path: nothing to set up), PostgreSQL through a SQLAlchemy URL
(``postgresql+psycopg://…``); the schema is created and upgraded by Alembic migrations
shipped with commgov when a store is opened. Needs the ``store`` extra:
``pip install 'commgov[store]'``.

Public names: :class:`Store`, the read records :class:`Snapshot`, :class:`Change`,
:class:`EventRecord`, :class:`StaleResult`, the errors :class:`StoreError`,
:class:`ConflictError`, :class:`NotFoundError`, :class:`SchemaVersionError`, and
:func:`content_hash`.
"""

from __future__ import annotations

try:
    import alembic  # noqa: F401
    import sqlalchemy  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    from commgov.errors import MissingExtraError

    raise MissingExtraError(exc.name or "sqlalchemy", "store") from exc

from commgov._hashing import content_hash
from commgov.store._errors import ConflictError, NotFoundError, SchemaVersionError, StoreError
from commgov.store._records import Change, EventRecord, Snapshot, StaleResult
from commgov.store._store import (
    MAX_EVENT_BYTES,
    MAX_EVENTS_PER_APPEND,
    MAX_SNAPSHOT_BYTES,
    MAX_WHY_CHARS,
    Store,
)

__all__ = [
    "MAX_EVENTS_PER_APPEND",
    "MAX_EVENT_BYTES",
    "MAX_SNAPSHOT_BYTES",
    "MAX_WHY_CHARS",
    "Change",
    "ConflictError",
    "EventRecord",
    "NotFoundError",
    "SchemaVersionError",
    "Snapshot",
    "StaleResult",
    "Store",
    "StoreError",
    "content_hash",
]
