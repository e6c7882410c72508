"""Where the running polling round is, so that a restarted bot continues it.

A round asks the provider's feed a fixed list of questions (``step`` is the one it is on), each
page after page (``cursor`` is the feed's cursor of the next page), with the time windows of the
round's start (``started_at``), so the cursors stay valid across a restart. The position is
written after the notices of a page are in the outbox: a crash in between asks that page again,
and the outbox's natural keys keep every notice once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, String, Text, delete
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.db import Base, UTCDateTime, session_factory


class NotificationRoundRow(Base):
    __tablename__ = "notification_rounds"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    step: Mapped[int] = mapped_column(Integer)
    cursor: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True, slots=True)
class RoundPosition:
    started_at: datetime  # the round's "now": its windows are computed from it
    step: int  # the question it is on
    cursor: str | None  # the feed's cursor of that question's next page (None: its first)


class RoundStore:
    """The position of named rounds (one row each)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    async def get(self, name: str) -> RoundPosition | None:
        async with self._sessions() as session:
            row = await session.get(NotificationRoundRow, name)
            return RoundPosition(row.started_at, row.step, row.cursor) if row else None

    async def save(self, name: str, position: RoundPosition, now: datetime) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(NotificationRoundRow, name)
            if row is None:
                row = NotificationRoundRow(name=name)
                session.add(row)
            row.started_at, row.step, row.cursor = (
                position.started_at,
                position.step,
                position.cursor,
            )
            row.updated_at = now

    async def finish(self, name: str) -> None:
        """The round is over: the next one starts afresh."""
        async with self._sessions.begin() as session:
            await session.execute(
                delete(NotificationRoundRow).where(NotificationRoundRow.name == name)
            )


class MemoryRounds:
    """A RoundStore kept in memory (tests and tools that need no resuming)."""

    def __init__(self) -> None:
        self._rows: dict[str, RoundPosition] = {}

    async def get(self, name: str) -> RoundPosition | None:
        return self._rows.get(name)

    async def save(self, name: str, position: RoundPosition, now: datetime) -> None:
        self._rows[name] = position

    async def finish(self, name: str) -> None:
        self._rows.pop(name, None)
