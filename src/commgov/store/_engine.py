"""Opening the database: a file path is SQLite, anything else a SQLAlchemy URL (private).

SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout, and every
write transaction starts with ``BEGIN IMMEDIATE``, so two writers queue for the write lock
instead of failing half-way when a read lock cannot be upgraded. pysqlite's own transaction
handling is switched off (``isolation_level = None``) and SQLAlchemy emits ``BEGIN`` itself,
the recipe of SQLAlchemy's SQLite dialect documentation ("Serializable isolation /
Savepoints / Transactional DDL"). PostgreSQL runs as configured (READ COMMITTED): the
unique constraints decide which of two concurrent writers wins.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from commgov.errors import InputError

__all__ = ["BUSY_TIMEOUT_S", "WRITE", "open_engine", "shown_url"]

#: How long a SQLite writer waits for another writer's lock before failing, in seconds.
BUSY_TIMEOUT_S: Final = 60.0

#: Execution option marking a connection that writes (``BEGIN IMMEDIATE`` on SQLite).
WRITE: Final = "commgov_write"

_BACKENDS = ("sqlite", "postgresql")


def _url(target: str | os.PathLike[str]) -> URL:
    if isinstance(target, os.PathLike):
        return URL.create("sqlite", database=str(Path(target).resolve()))
    if not isinstance(target, str):
        raise TypeError(f"Store needs a file path or a database URL, not {type(target).__name__}")
    if "://" not in target:
        if not target.strip():
            raise InputError.single("store", "url", target, "must be a file path or a URL")
        return URL.create("sqlite", database=str(Path(target).resolve()))
    try:
        url = make_url(target)
    except ArgumentError:
        raise InputError.single(
            "store", "url", "<url>", "is not a SQLAlchemy URL (dialect+driver://...)"
        ) from None
    if url.get_backend_name() not in _BACKENDS:
        raise InputError.single(
            "store",
            "url",
            url.get_backend_name(),
            "must be sqlite or postgresql (postgresql+psycopg://user@host/db)",
        )
    return url


def shown_url(url: URL) -> str:
    """The URL with its password hidden, for messages and ``repr``."""
    return url.render_as_string(hide_password=True)


def open_engine(target: str | os.PathLike[str], *, echo: bool = False) -> Engine:
    """An engine for a file path (SQLite) or a URL (SQLite or PostgreSQL)."""
    url = _url(target)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo)
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _sqlite_engine(url: URL, echo: bool) -> Engine:
    memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_S}}
    if memory:  # one connection, or every checkout would be a new empty database
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"]["check_same_thread"] = False
    else:
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if not memory:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
