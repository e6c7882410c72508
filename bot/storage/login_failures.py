"""Repository of failed login attempts (for the lockout rule)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import LoginFailure, session_factory


class LoginFailureRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    async def add(self, scopes: list[str], at: datetime) -> None:
        async with self._sessions.begin() as session:
            session.add_all(LoginFailure(scope=scope, failed_at=at) for scope in scopes)

    async def since(self, scopes: list[str], since: datetime) -> dict[str, list[datetime]]:
        """Failure instants of each of ``scopes`` after ``since``, newest first."""
        found: dict[str, list[datetime]] = {scope: [] for scope in scopes}
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
            await session.execute(delete(LoginFailure).where(LoginFailure.scope.in_(scopes)))

    async def purge_older_than(self, before: datetime) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(LoginFailure).where(LoginFailure.failed_at < before))
