"""Repository of the e-mail outbox: messages are stored before the first delivery attempt, so
an SMTP server that is down (or a restart) never loses one; a job retries the due ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import OutboxEmail, session_factory

ERROR_LIMIT = 1000  # characters of the last error kept for the logs and the operator


@dataclass(frozen=True, slots=True)
class PendingEmail:
    id: int
    sender: str
    recipients: tuple[str, ...]
    subject: str
    raw: bytes
    attempts: int  # attempts made before this one


@dataclass(frozen=True, slots=True)
class OutboxState:
    """One stored e-mail as the operator (and tests) see it."""

    id: int
    recipients: tuple[str, ...]
    subject: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    abandoned_at: datetime | None
    last_error: str | None


class OutboxRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    async def add(
        self,
        *,
        sender: str,
        recipients: Sequence[str],
        subject: str,
        raw: bytes,
        now: datetime,
        first_attempt_at: datetime,
    ) -> PendingEmail:
        """Store a message; the retry job leaves it alone until ``first_attempt_at``."""
        row = OutboxEmail(
            created_at=now,
            sender=sender,
            recipients=list(recipients),
            subject=subject,
            raw=raw,
            attempts=0,
            next_attempt_at=first_attempt_at,
        )
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()
            return _pending(row)

    async def claim_due(
        self, now: datetime, lease: timedelta, limit: int = 20
    ) -> list[PendingEmail]:
        """Pending messages due by ``now``, oldest first, each pushed ``lease`` into the future
        so that no other run picks it while it is being sent."""
        async with self._sessions.begin() as session:
            rows = (
                await session.scalars(
                    select(OutboxEmail)
                    .where(
                        OutboxEmail.sent_at.is_(None),
                        OutboxEmail.abandoned_at.is_(None),
                        OutboxEmail.next_attempt_at <= now,
                    )
                    .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
                    .limit(limit)
                )
            ).all()
            for row in rows:
                row.next_attempt_at = now + lease
            return [_pending(row) for row in rows]

    async def mark_sent(self, email_id: int, now: datetime) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(OutboxEmail, email_id)
            if row is not None:
                row.attempts += 1
                row.sent_at = now
                row.last_error = None

    async def record_failure(
        self, email_id: int, now: datetime, error: str, retry_at: datetime | None
    ) -> int:
        """Count a failed attempt; ``retry_at`` None gives the message up. Returns attempts."""
        async with self._sessions.begin() as session:
            row = await session.get(OutboxEmail, email_id)
            if row is None:
                return 0
            row.attempts += 1
            row.last_error = error[:ERROR_LIMIT]
            if retry_at is None:
                row.abandoned_at = now
            else:
                row.next_attempt_at = retry_at
            return row.attempts

    async def pending_count(self) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count(OutboxEmail.id)).where(
                    OutboxEmail.sent_at.is_(None), OutboxEmail.abandoned_at.is_(None)
                )
            )
            return int(count or 0)

    async def all(self) -> list[OutboxState]:
        async with self._sessions() as session:
            rows = await session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
            return [
                OutboxState(
                    id=row.id,
                    recipients=tuple(row.recipients),
                    subject=row.subject,
                    attempts=row.attempts,
                    next_attempt_at=row.next_attempt_at,
                    sent_at=row.sent_at,
                    abandoned_at=row.abandoned_at,
                    last_error=row.last_error,
                )
                for row in rows
            ]


def _pending(row: OutboxEmail) -> PendingEmail:
    return PendingEmail(
        id=row.id,
        sender=row.sender,
        recipients=tuple(row.recipients),
        subject=row.subject,
        raw=row.raw,
        attempts=row.attempts,
    )
