"""Hand-offs in the bot's database, so a restart loses nothing: one row per hand-off (its chat,
topic, status and who took it), its messages in order (``handoff_messages.id`` grows), and the
topic of each subscriber's chat in the team's group (reused by the next hand-off).

Statuses: ``queued`` (waiting for the team), ``active`` (a team member answered), ``ended``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.db import Base, UTCDateTime, session_factory

OPEN = ("queued", "active")


class SupportTopicRow(Base):
    __tablename__ = "support_topics"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    group_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int] = mapped_column(BigInteger)


class HandoffRow(Base):
    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    group_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    agent_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    ticket_offered: Mapped[bool] = mapped_column(default=False)
    ticket_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class HandoffMessageRow(Base):
    __tablename__ = "handoff_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(String(16))  # "subscriber" | "team" | "bot"
    author_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # "text" | "photo" | "document"
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    file_id: Mapped[str | None] = mapped_column(String(255), nullable=True)


@dataclass(frozen=True, slots=True)
class Handoff:
    id: int
    chat_id: int
    group_id: int
    thread_id: int
    status: str
    agent_id: int | None
    agent_name: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None
    ticket_offered: bool
    ticket_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "chat_id": self.chat_id,
            "thread_id": self.thread_id,
            "status": self.status,
            "agent_name": self.agent_name,
            "started_at": self.started_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "ended_by": self.ended_by,
            "ticket_id": self.ticket_id,
        }


@dataclass(frozen=True, slots=True)
class Line:
    at: datetime
    author: str
    author_name: str | None
    kind: str
    text: str | None
    file_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "author": self.author,
            "author_name": self.author_name,
            "kind": self.kind,
            "text": self.text,
            "file_id": self.file_id,
        }


def _handoff(row: HandoffRow) -> Handoff:
    return Handoff(
        row.id, row.chat_id, row.group_id, row.thread_id, row.status, row.agent_id,
        row.agent_name, row.started_at, row.answered_at, row.ended_at, row.ended_by,
        row.ticket_offered, row.ticket_id,
    )  # fmt: skip


class HandoffStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    async def topic(self, chat_id: int, group_id: int) -> int | None:
        async with self._sessions() as session:
            row = await session.get(SupportTopicRow, chat_id)
            return row.thread_id if row is not None and row.group_id == group_id else None

    async def save_topic(self, chat_id: int, group_id: int, thread_id: int) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(SupportTopicRow, chat_id)
            if row is None:
                session.add(
                    SupportTopicRow(chat_id=chat_id, group_id=group_id, thread_id=thread_id)
                )
            else:
                row.group_id, row.thread_id = group_id, thread_id

    async def open(self, chat_id: int, group_id: int, thread_id: int, now: datetime) -> Handoff:
        async with self._sessions.begin() as session:
            row = HandoffRow(
                chat_id=chat_id, group_id=group_id, thread_id=thread_id, status="queued",
                started_at=now, ticket_offered=False,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            return _handoff(row)

    async def current(self, chat_id: int) -> Handoff | None:
        """The chat's open hand-off, if any."""
        query = select(HandoffRow).where(HandoffRow.chat_id == chat_id, HandoffRow.status.in_(OPEN))
        async with self._sessions() as session:
            row = (await session.scalars(query.order_by(HandoffRow.id.desc()))).first()
            return _handoff(row) if row else None

    async def in_topic(self, group_id: int, thread_id: int) -> Handoff | None:
        query = select(HandoffRow).where(
            HandoffRow.group_id == group_id,
            HandoffRow.thread_id == thread_id,
            HandoffRow.status.in_(OPEN),
        )
        async with self._sessions() as session:
            row = (await session.scalars(query.order_by(HandoffRow.id.desc()))).first()
            return _handoff(row) if row else None

    async def get(self, handoff_id: int) -> Handoff | None:
        async with self._sessions() as session:
            row = await session.get(HandoffRow, handoff_id)
            return _handoff(row) if row else None

    async def listing(self, limit: int = 100) -> list[Handoff]:
        query = select(HandoffRow).order_by(HandoffRow.id.desc()).limit(limit)
        async with self._sessions() as session:
            return [_handoff(row) for row in await session.scalars(query)]

    async def take(self, handoff_id: int, agent_id: int, agent_name: str, now: datetime) -> bool:
        """The first team member's reply takes the chat; False when someone already had."""
        async with self._sessions.begin() as session:
            row = await session.get(HandoffRow, handoff_id, with_for_update=True)
            if row is None or row.status != "queued":
                return False
            row.status, row.agent_id, row.agent_name, row.answered_at = (
                "active", agent_id, agent_name, now,
            )  # fmt: skip
            return True

    async def mark_offered(self, handoff_id: int) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(HandoffRow, handoff_id)
            if row is not None:
                row.ticket_offered = True

    async def end(self, handoff_id: int, by: str, now: datetime) -> Handoff | None:
        """End an open hand-off; None when it was not open (ended twice)."""
        async with self._sessions.begin() as session:
            row = await session.get(HandoffRow, handoff_id, with_for_update=True)
            if row is None or row.status not in OPEN:
                return None
            row.status, row.ended_at, row.ended_by = "ended", now, by
            return _handoff(row)

    async def set_ticket(self, handoff_id: int, ticket_id: str) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(HandoffRow, handoff_id)
            if row is not None:
                row.ticket_id = ticket_id

    async def waiting(self, started_before: datetime) -> list[Handoff]:
        """Queued hand-offs nobody answered since ``started_before`` and not offered a ticket."""
        query = select(HandoffRow).where(
            HandoffRow.status == "queued",
            HandoffRow.ticket_offered.is_(False),
            HandoffRow.started_at <= started_before,
        )
        async with self._sessions() as session:
            return [_handoff(row) for row in await session.scalars(query.order_by(HandoffRow.id))]

    async def add_line(
        self,
        handoff_id: int,
        now: datetime,
        author: str,
        kind: str,
        *,
        text: str | None = None,
        file_id: str | None = None,
        author_name: str | None = None,
    ) -> None:
        async with self._sessions.begin() as session:
            session.add(
                HandoffMessageRow(
                    handoff_id=handoff_id, at=now, author=author, author_name=author_name,
                    kind=kind, text=text, file_id=file_id,
                )
            )  # fmt: skip

    async def lines(self, handoff_id: int) -> list[Line]:
        query = (
            select(HandoffMessageRow)
            .where(HandoffMessageRow.handoff_id == handoff_id)
            .order_by(HandoffMessageRow.id)
        )
        async with self._sessions() as session:
            return [
                Line(r.at, r.author, r.author_name, r.kind, r.text, r.file_id)
                for r in await session.scalars(query)
            ]
