"""Drift references and their checks in the job database.

A reference is addressed by ``(owner, name)``; creating one again makes the next version.
An owner's quota of stored versions is checked in the transaction that inserts, under a
per-owner lock (as ``JobStore.create``); two creators racing for one version number lose
to the unique constraint and try again. A check is one INSERT, the reference's summary of
its newest check one UPDATE, and the oldest checks beyond the cap are deleted in the same
transaction.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.jobs.models import DriftCheckRow, DriftReferenceRow
from app.jobs.store import JobStore, decode_cursor, encode_cursor
from app.jobs.transitions import utcnow

__all__ = ["DriftStore", "ReferenceQuotaError"]

_ATTEMPTS = 5


class ReferenceQuotaError(Exception):
    """The owner stores as many reference versions as it may; nothing was created."""


class DriftStore:
    """Drift rows, on the job store's database and sessions."""

    def __init__(self, store: JobStore) -> None:
        self.store = store

    def _lock_owner(self, s: Session, owner: str) -> None:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(select(func.pg_advisory_xact_lock(func.hashtext("drift:" + owner))))

    def create(
        self, owner: str, name: str, spec: dict[str, Any], max_versions: int
    ) -> DriftReferenceRow:
        """A new version of ``name`` (1 if it has none); ReferenceQuotaError beyond
        ``max_versions`` stored versions of ``owner``."""
        for attempt in range(_ATTEMPTS):
            try:
                return self._create(owner, name, spec, max_versions)
            except IntegrityError:  # another creator took this version number
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _create(
        self, owner: str, name: str, spec: dict[str, Any], max_versions: int
    ) -> DriftReferenceRow:
        with self.store.session() as s:
            self._lock_owner(s, owner)
            latest = s.scalar(
                select(func.max(DriftReferenceRow.version)).where(
                    DriftReferenceRow.owner == owner, DriftReferenceRow.name == name
                )
            )
            row = DriftReferenceRow(
                id=str(uuid.uuid4()),
                owner=owner,
                name=name,
                version=(latest or 0) + 1,
                created_at=utcnow(),
                spec=spec,
            )
            s.add(row)
            s.flush()
            stored = s.scalar(select(func.count()).where(DriftReferenceRow.owner == owner))
            if stored is not None and stored > max_versions:
                raise ReferenceQuotaError(owner)  # rolls the insert back
        return row

    def get(self, owner: str, name: str, version: int | None = None) -> DriftReferenceRow | None:
        """The version asked for, else the newest one."""
        query = select(DriftReferenceRow).where(
            DriftReferenceRow.owner == owner, DriftReferenceRow.name == name
        )
        if version is not None:
            query = query.where(DriftReferenceRow.version == version)
        with self.store.session() as s:
            return s.scalar(query.order_by(DriftReferenceRow.version.desc()).limit(1))

    def versions(self, owner: str, name: str) -> list[int]:
        with self.store.session() as s:
            found = s.scalars(
                select(DriftReferenceRow.version)
                .where(DriftReferenceRow.owner == owner, DriftReferenceRow.name == name)
                .order_by(DriftReferenceRow.version)
            )
            return list(found)

    def page(
        self, owner: str | None, limit: int, cursor: str | None
    ) -> tuple[list[DriftReferenceRow], str | None]:
        """The newest version of each name, by owner then name; ``owner`` None: everybody's.
        ``cursor``: the previous page's ``next_cursor`` (ValueError if it is not one)."""
        newest = (
            select(
                DriftReferenceRow.owner.label("o"),
                DriftReferenceRow.name.label("n"),
                func.max(DriftReferenceRow.version).label("v"),
            )
            .group_by(DriftReferenceRow.owner, DriftReferenceRow.name)
            .subquery()
        )
        query = select(DriftReferenceRow).join(
            newest,
            (DriftReferenceRow.owner == newest.c.o)
            & (DriftReferenceRow.name == newest.c.n)
            & (DriftReferenceRow.version == newest.c.v),
        )
        if owner is not None:
            query = query.where(DriftReferenceRow.owner == owner)
        if cursor is not None:
            after_owner, after_name = _decode_names(cursor)
            query = query.where(
                (DriftReferenceRow.owner > after_owner)
                | ((DriftReferenceRow.owner == after_owner) & (DriftReferenceRow.name > after_name))
            )
        query = query.order_by(DriftReferenceRow.owner, DriftReferenceRow.name).limit(limit + 1)
        with self.store.session() as s:
            rows = list(s.scalars(query))
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], _encode_names(last.owner, last.name)

    def delete(self, owner: str, name: str, version: int | None = None) -> int:
        """Delete the version (default: every version) and its checks; the rows deleted."""
        mine = [DriftReferenceRow.owner == owner, DriftReferenceRow.name == name]
        if version is not None:
            mine.append(DriftReferenceRow.version == version)
        with self.store.session() as s:
            ids = select(DriftReferenceRow.id).where(*mine)
            s.execute(delete(DriftCheckRow).where(DriftCheckRow.reference_id.in_(ids)))
            gone = s.execute(delete(DriftReferenceRow).where(*mine))
            return int(gone.rowcount)  # type: ignore[attr-defined]

    def add_check(
        self,
        reference: DriftReferenceRow,
        verdict: str | None,
        result: dict[str, Any],
        latest: dict[str, Any],
        max_checks: int,
        created_at: datetime,
        check_id: str,
    ) -> bool:
        """Store a check; keep the newest ``max_checks`` of the reference version. False if
        the reference was deleted meanwhile (nothing stored)."""
        with self.store.session() as s:
            done = s.execute(
                update(DriftReferenceRow)
                .where(DriftReferenceRow.id == reference.id)
                .values(latest=latest, latest_at=created_at)
            )
            if not done.rowcount:  # type: ignore[attr-defined]
                return False
            s.add(
                DriftCheckRow(
                    id=check_id,
                    reference_id=reference.id,
                    created_at=created_at,
                    verdict=verdict,
                    result=result,
                )
            )
            s.flush()
            kept = (
                select(DriftCheckRow.id)
                .where(DriftCheckRow.reference_id == reference.id)
                .order_by(DriftCheckRow.created_at.desc(), DriftCheckRow.id.desc())
                .limit(max_checks)
            )
            s.execute(
                delete(DriftCheckRow).where(
                    DriftCheckRow.reference_id == reference.id,
                    DriftCheckRow.id.not_in(kept.scalar_subquery()),
                )
            )
        return True

    def checks(
        self,
        reference_ids: Sequence[str],
        since: datetime | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[DriftCheckRow], str | None]:
        """Checks of these reference versions, newest first, made after ``since``."""
        query = select(DriftCheckRow).where(DriftCheckRow.reference_id.in_(list(reference_ids)))
        if since is not None:
            query = query.where(DriftCheckRow.created_at > since)
        if cursor is not None:
            created, check_id = decode_cursor(cursor)
            query = query.where(
                (DriftCheckRow.created_at < created)
                | ((DriftCheckRow.created_at == created) & (DriftCheckRow.id < check_id))
            )
        query = query.order_by(DriftCheckRow.created_at.desc(), DriftCheckRow.id.desc())
        with self.store.session() as s:
            rows = list(s.scalars(query.limit(limit + 1)))
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(last.created_at, last.id)

    def check(self, reference_ids: Sequence[str], check_id: str) -> DriftCheckRow | None:
        with self.store.session() as s:
            return s.scalar(
                select(DriftCheckRow).where(
                    DriftCheckRow.id == check_id,
                    DriftCheckRow.reference_id.in_(list(reference_ids)),
                )
            )

    def reference_ids(self, owner: str, name: str, version: int | None) -> list[str]:
        query = select(DriftReferenceRow.id).where(
            DriftReferenceRow.owner == owner, DriftReferenceRow.name == name
        )
        if version is not None:
            query = query.where(DriftReferenceRow.version == version)
        with self.store.session() as s:
            return list(s.scalars(query))

    def latest(self, limit: int) -> list[tuple[str, str, dict[str, Any]]]:
        """``(owner, name, latest)`` of the references checked most recently, newest first,
        one per name (its most recently checked version), at most ``limit``."""
        query = (
            select(DriftReferenceRow.owner, DriftReferenceRow.name, DriftReferenceRow.latest)
            .where(DriftReferenceRow.latest_at.is_not(None))
            .order_by(DriftReferenceRow.latest_at.desc(), DriftReferenceRow.id)
            .limit(limit)
        )
        found: dict[tuple[str, str], dict[str, Any]] = {}
        with self.store.session() as s:
            for owner, name, latest in s.execute(query):
                if latest is not None:
                    found.setdefault((owner, name), latest)
        return [(owner, name, latest) for (owner, name), latest in found.items()]


def _encode_names(owner: str, name: str) -> str:
    raw = json.dumps([owner, name]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_names(cursor: str) -> tuple[str, str]:
    """Raise ValueError for a cursor this store did not make."""
    try:
        names = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        names = None
    if not (isinstance(names, list) and len(names) == 2 and all(isinstance(n, str) for n in names)):
        raise ValueError("not a cursor from this service")
    return names[0], names[1]
