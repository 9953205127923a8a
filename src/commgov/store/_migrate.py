"""Schema migrations with Alembic, run when a store is opened (private).

The migration scripts ship inside the package (``_migrations/versions``); they are run with
Alembic's API (:class:`alembic.runtime.environment.EnvironmentContext`), in one transaction
that holds the write lock (SQLite ``BEGIN IMMEDIATE``; a PostgreSQL advisory lock), so two
processes opening a new database at once create it once. A database at a revision this code
does not know was written by a newer commgov and is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from commgov._redact import escaped
from commgov.store._engine import WRITE
from commgov.store._errors import SchemaVersionError

__all__ = ["MIGRATIONS", "head_revision", "upgrade"]

#: The folder of the migration scripts (inside the installed package).
MIGRATIONS: Final = Path(__file__).with_name("_migrations")

#: Key of the PostgreSQL advisory lock taken while migrating (any constant 64-bit number).
_PG_LOCK: Final = 0x636F6D6D676F76  # "commgov"


def _script() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    """The newest revision of the shipped migrations."""
    head = _script().get_current_head()
    assert head is not None
    return head


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _check_known(script: ScriptDirectory, current: str | None) -> None:
    if current is None:
        return
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        raise SchemaVersionError(
            f"the database's schema revision {escaped(current)} is newer than this commgov "
            f"knows (newest: {script.get_current_head()}): it was written by a newer "
            "commgov; upgrade commgov (pip install -U 'commgov[store]') to open it"
        )


def upgrade(engine: Engine) -> str:
    """Bring the database to the newest revision; return the revision it was at before.

    Raises
    ------
    SchemaVersionError
        If the database is at a revision the shipped migrations do not know.
    """
    script = _script()
    head = script.get_current_head()
    with engine.connect() as conn:  # fast path: already current (a read, no write lock)
        current = _current(conn)
    _check_known(script, current)
    if current == head:
        return head or ""
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        before = _current(conn)  # again, under the lock: another process may have done it
        _check_known(script, before)
        if before != head:
            _run(script, conn)
    return before or ""


def _run(script: ScriptDirectory, conn: Connection) -> None:
    def steps(rev: Any, _context: Any) -> Any:
        return script._upgrade_revs("head", rev)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with EnvironmentContext(config, script, fn=steps, destination_rev="head") as env:
        env.configure(connection=conn, transactional_ddl=True)
        env.run_migrations()
