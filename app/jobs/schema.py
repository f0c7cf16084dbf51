"""The job database's schema, brought to the newest revision by Alembic migrations.

Every process that opens the store (the API, its reaper, each worker) migrates as it starts,
often at the same moment on a new database. Migrators take turns: on PostgreSQL under an
advisory lock held by the migrating transaction, on SQLite under a file lock beside the
database file. A database made by the first release (tables, no ``alembic_version``) is
recognised as revision 0001 and upgraded from there.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

__all__ = ["head_revision", "migrate", "revision_of"]

log = logging.getLogger("app.jobs")
# Alembic narrates every step at INFO (plugins, contexts); one line of ours says what changed.
logging.getLogger("alembic").setLevel(logging.WARNING)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_FIRST_RELEASE = "0001"
_LOCK_KEY = 0x6469766A  # any constant shared by every migrator of this service


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def revision_of(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Bring the database to the newest revision (nothing to do if it is there)."""
    sqlite = engine.dialect.name == "sqlite"
    with _sqlite_file_lock(engine) if sqlite else _no_lock(), engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # released when this transaction ends
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        current = MigrationContext.configure(connection).get_current_revision()
        if current == head_revision():
            return
        config = _config(connection)
        if current is None and inspect(connection).has_table("jobs"):
            command.stamp(config, _FIRST_RELEASE)  # made by create_all before migrations
        command.upgrade(config, "head")
        log.info("job database migrated from %s to %s", current or "nothing", head_revision())


@contextmanager
def _no_lock() -> Iterator[None]:
    yield
