"""Engines for the job database: bounded connect timeouts, and SQLite set up for several
processes (WAL, a busy timeout)."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Engine, create_engine, event

__all__ = ["make_engine"]


def make_engine(url: str, connect_timeout: float = 3.0) -> Engine:
    """An engine for ``url`` that gives up on an unreachable database in ``connect_timeout``.

    SQLite gets WAL and a busy timeout for its several processes: a lock held by another
    process is normal there, so it waits a few connect timeouts for one, not forever.
    """
    if url.startswith("sqlite"):
        busy = 5 * connect_timeout
        engine = create_engine(url, connect_args={"timeout": busy, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql"):  # libpq counts whole seconds, at least 2
        connect_args["connect_timeout"] = max(2, math.ceil(connect_timeout))
    return create_engine(
        url, pool_pre_ping=True, pool_timeout=connect_timeout, connect_args=connect_args
    )
