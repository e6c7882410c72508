"""Survey offers and answers in the bot's database.

One row per offer: who (a hash of the subscriber id — the survey never needs to know who
answered, only not to ask the same subscriber twice in 30 days), the chat, what triggered it
(``ticket`` or ``handoff``) and its reference (the ticket's protocol, the hand-off's id), the team
member who answered a hand-off (first name), when it may be sent (after quiet hours), when it
was sent, and the answer (score 0-10, optional comment).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Integer, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.db import Base, UTCDateTime, session_factory

ONCE_EVERY = timedelta(days=30)
TRIGGERS = ("ticket", "handoff")
MAX_COMMENT = 1000


class SurveyRow(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscriber_key: Mapped[str] = mapped_column(String(64), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    trigger: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    member: Mapped[str | None] = mapped_column(String(64), nullable=True)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    send_after: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


@dataclass(frozen=True, slots=True)
class Survey:
    id: int
    chat_id: int
    trigger: str
    reference: str | None
    member: str | None
    offered_at: datetime
    send_after: datetime
    sent_at: datetime | None
    score: int | None
    comment: str | None
    answered_at: datetime | None


def _survey(row: SurveyRow) -> Survey:
    return Survey(
        row.id, row.chat_id, row.trigger, row.reference, row.member, row.offered_at,
        row.send_after, row.sent_at, row.score, row.comment, row.answered_at,
    )  # fmt: skip


def subscriber_key(subscriber_id: str) -> str:
    """What the table keeps of the subscriber: enough to tell one from another, nothing more."""
    return hashlib.sha256(f"minha-central-survey:{subscriber_id}".encode()).hexdigest()


class SurveyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    async def offer(
        self,
        subscriber_id: str,
        chat_id: int,
        trigger: str,
        reference: str | None,
        member: str | None,
        now: datetime,
        send_after: datetime,
    ) -> Survey | None:
        """A new offer, or None when this subscriber was offered one in the last 30 days."""
        key = subscriber_key(subscriber_id)
        async with self._sessions.begin() as session:
            recent = await session.scalar(
                select(SurveyRow.id)
                .where(SurveyRow.subscriber_key == key, SurveyRow.offered_at > now - ONCE_EVERY)
                .limit(1)
            )
            if recent is not None:
                return None
            row = SurveyRow(
                subscriber_key=key, chat_id=chat_id, trigger=trigger,
                reference=(reference or None) and reference[:64],
                member=(member or None) and member[:64], offered_at=now, send_after=send_after,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            return _survey(row)

    async def due(self, now: datetime, limit: int = 50) -> list[Survey]:
        """Offers whose quiet hours are over and that were not sent yet, oldest first."""
        query = (
            select(SurveyRow)
            .where(SurveyRow.sent_at.is_(None), SurveyRow.send_after <= now)
            .order_by(SurveyRow.id)
            .limit(limit)
        )
        async with self._sessions() as session:
            return [_survey(row) for row in await session.scalars(query)]

    async def mark_sent(self, survey_id: int, now: datetime) -> bool:
        """True for the one caller that marks it (two senders never both send it)."""
        async with self._sessions.begin() as session:
            done = await session.execute(
                update(SurveyRow)
                .where(SurveyRow.id == survey_id, SurveyRow.sent_at.is_(None))
                .values(sent_at=now)
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    async def get(self, survey_id: int) -> Survey | None:
        async with self._sessions() as session:
            row = await session.get(SurveyRow, survey_id)
            return _survey(row) if row is not None else None

    async def answer(self, survey_id: int, chat_id: int, score: int, now: datetime) -> bool:
        """Record the score once (a second press, or another chat's, changes nothing)."""
        async with self._sessions.begin() as session:
            done = await session.execute(
                update(SurveyRow)
                .where(
                    SurveyRow.id == survey_id,
                    SurveyRow.chat_id == chat_id,
                    SurveyRow.score.is_(None),
                )
                .values(score=score, answered_at=now)
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    async def comment(self, survey_id: int, chat_id: int, text: str) -> bool:
        async with self._sessions.begin() as session:
            done = await session.execute(
                update(SurveyRow)
                .where(
                    SurveyRow.id == survey_id,
                    SurveyRow.chat_id == chat_id,
                    SurveyRow.score.is_not(None),
                    SurveyRow.comment.is_(None),
                )
                .values(comment=text[:MAX_COMMENT])
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    async def answered_between(self, start: datetime, end: datetime) -> list[Survey]:
        """Answers given in [start, end), oldest first."""
        query = (
            select(SurveyRow)
            .where(
                SurveyRow.score.is_not(None),
                SurveyRow.answered_at >= start,
                SurveyRow.answered_at < end,
            )
            .order_by(SurveyRow.answered_at, SurveyRow.id)
        )
        async with self._sessions() as session:
            return [_survey(row) for row in await session.scalars(query)]
