"""The tables of the store, as SQLAlchemy Core metadata (private).

This is the schema at the newest migration (``_migrations/versions``); the migrations build
it step by step and never import this module (a migration is frozen when it ships).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["ID_LEN", "changes", "events", "metadata", "snapshots"]

#: Longest key, name and actor (as :data:`commgov.types.Id`).
ID_LEN = 200
_HASH_LEN = 80


class UTCDateTime(TypeDecorator[datetime]):
    """A tz-aware UTC instant on every backend (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            naive: datetime = value
            return naive.replace(tzinfo=UTC)
        out: datetime = value.astimezone(UTC)
        return out


metadata = MetaData()

snapshots = Table(
    "commgov_snapshots",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("key", String(ID_LEN), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", String(ID_LEN), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type_name", String(64), nullable=False),
    Column("hash", String(_HASH_LEN), nullable=False),
    Column("model_hash", String(_HASH_LEN), nullable=True),
    Column("problem_hash", String(_HASH_LEN), nullable=True),
    Column("encoding", String(8), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("actor", String(ID_LEN), nullable=False),
    UniqueConstraint("key", "kind", "name", "version", name="uq_commgov_snapshots_version"),
)

events = Table(
    "commgov_events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("key", String(ID_LEN), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("key", "seq", name="uq_commgov_events_seq"),
)

changes = Table(
    "commgov_changes",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("key", String(ID_LEN), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", String(ID_LEN), nullable=False),
    Column("first_version", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("type_name", String(64), nullable=False),
    Column("hash", String(_HASH_LEN), nullable=False),
    Column("actor", String(ID_LEN), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("why", Text, nullable=False),
    Index("ix_commgov_changes_key", "key", "id"),
)
