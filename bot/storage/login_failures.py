"""Repository of login attempts (for the lockout rule).

A password check is *reserved* here before it reaches the backend: in one transaction the
scopes' rows in ``login_scopes`` are locked (an upsert: PostgreSQL's ``INSERT … ON CONFLICT DO
UPDATE`` locks the row it updates or inserts until commit; SQLite takes its single write lock at
the first write of a transaction), their attempts are counted, and a pending attempt is inserted
only if the rule allows it. Reservations of one chat or document therefore take turns, in one
process and across processes sharing the database, and the count a reservation sees includes
every check still in flight. The pending row is then confirmed as a failure or deleted.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.storage.db import LoginFailure, LoginScope, session_factory

# How long a reservation waits for another one holding its scopes (another process on SQLite,
# any transaction on PostgreSQL) before it gives up; the login is then refused (fail closed).
LOCK_WAIT = 5.0

Found = dict[str, list[datetime]]


class LoginFailureRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)
        self._dialect = engine.dialect.name

    async def reserve(
        self, scopes: list[str], now: datetime, since: datetime, allow: Callable[[Found], bool]
    ) -> tuple[str | None, Found]:
        """Reserve one attempt of every scope if ``allow`` accepts their attempts (failed and
        pending) after ``since``, atomically. Returns the attempt's id (None when refused) and
        the attempts seen."""
        ordered = sorted(set(scopes))  # one locking order for all: no deadlock between two
        wait_ms = int(LOCK_WAIT * 1000)
        async with self._sessions.begin() as session:
            if self._dialect == "postgresql":
                # https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT
                # (SET LOCAL: for this transaction only)
                await session.execute(text(f"SET LOCAL lock_timeout = {wait_ms}"))
                return await self._reserve(session, pg_insert, ordered, scopes, now, since, allow)
            # https://www.sqlite.org/pragma.html#pragma_busy_timeout: a setting of the
            # connection, put back for whoever uses it next (issued before the first write, so
            # outside the transaction Python's sqlite3 opens at that write).
            previous = (await session.execute(text("PRAGMA busy_timeout"))).scalar()
            await session.execute(text(f"PRAGMA busy_timeout = {wait_ms}"))
            try:
                return await self._reserve(
                    session, sqlite_insert, ordered, scopes, now, since, allow
                )
            finally:
                await session.execute(text(f"PRAGMA busy_timeout = {int(previous or 0)}"))

    @staticmethod
    async def _reserve(
        session: AsyncSession,
        insert: Any,
        ordered: list[str],
        scopes: list[str],
        now: datetime,
        since: datetime,
        allow: Callable[[Found], bool],
    ) -> tuple[str | None, Found]:
        statement = insert(LoginScope).values(
            [{"scope": scope, "touched_at": now} for scope in ordered]
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["scope"], set_={"touched_at": statement.excluded.touched_at}
            )
        )
        found: Found = {scope: [] for scope in scopes}
        rows = await session.execute(
            select(LoginFailure.scope, LoginFailure.failed_at)
            .where(LoginFailure.scope.in_(ordered), LoginFailure.failed_at > since)
            .order_by(LoginFailure.failed_at.desc())
        )
        for scope, failed_at in rows:
            found[scope].append(failed_at)
        if not allow(found):
            return None, found
        attempt = secrets.token_hex(16)
        session.add_all(
            LoginFailure(scope=scope, failed_at=now, attempt=attempt, pending=True)
            for scope in ordered
        )
        await session.flush()
        return attempt, found

    async def confirm_failure(self, attempt: str, at: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(LoginFailure)
                .where(LoginFailure.attempt == attempt)
                .values(pending=False, failed_at=at)
            )

    async def release(self, attempt: str) -> None:
        """The check gave no answer: it does not count."""
        async with self._sessions.begin() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.attempt == attempt))

    async def succeed(self, attempt: str, scopes: list[str]) -> None:
        """The right password: the attempt and the failures reserved before it are forgotten
        (checks reserved after it, still in flight or failed since, keep counting)."""
        async with self._sessions.begin() as session:
            first = (
                await session.execute(
                    select(func.min(LoginFailure.id)).where(LoginFailure.attempt == attempt)
                )
            ).scalar()
            await session.execute(delete(LoginFailure).where(LoginFailure.attempt == attempt))
            if first is not None:
                await session.execute(
                    delete(LoginFailure).where(
                        LoginFailure.scope.in_(scopes),
                        LoginFailure.id < first,
                        LoginFailure.pending.is_(False),
                    )
                )

    async def add(self, scopes: list[str], at: datetime) -> None:
        async with self._sessions.begin() as session:
            session.add_all(LoginFailure(scope=scope, failed_at=at) for scope in scopes)

    async def since(self, scopes: list[str], since: datetime) -> Found:
        """Attempt instants (failed or in flight) of each of ``scopes`` after ``since``, newest
        first."""
        found: Found = {scope: [] for scope in scopes}
        async with self._sessions() as session:
            rows = await session.execute(
                select(LoginFailure.scope, LoginFailure.failed_at)
                .where(LoginFailure.scope.in_(scopes), LoginFailure.failed_at > since)
                .order_by(LoginFailure.failed_at.desc())
            )
            for scope, failed_at in rows:
                found[scope].append(failed_at)
        return found

    async def clear(self, scopes: list[str]) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(LoginFailure).where(
                    LoginFailure.scope.in_(scopes), LoginFailure.pending.is_(False)
                )
            )

    async def purge_older_than(self, before: datetime) -> None:
        """Attempts too old to lock anything (a pending one left by a crash included), and the
        scopes nobody tried since."""
        async with self._sessions.begin() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.failed_at < before))
            await session.execute(delete(LoginScope).where(LoginScope.touched_at < before))
