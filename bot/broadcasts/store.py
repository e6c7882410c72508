"""Provider broadcasts and their recipients (``broadcasts``, ``broadcast_recipients``).

Nobody receives a broadcast twice, and a crash loses nobody, because of three rules kept here:
- a chat is a recipient of a broadcast at most once (unique ``(broadcast_id, chat_id)``);
- a recipient is marked ``sending`` (committed) before its message goes out, and its outcome
  (``sent``/``failed``/``blocked``) is committed before its sender moves on;
- a recipient found ``sending`` at start-up may or may not have the message, so it becomes
  ``uncertain`` and is never sent again (:meth:`BroadcastStore.recover_interrupted`).

Outcomes are written through :class:`bot.broadcasts.journal.Journal`, which commits what many
concurrent senders report in one transaction (group commit): each caller still waits for its own
row to be committed, but a broadcast at 1000 messages/s costs tens of commits per second, not
thousands. The sending time (``active_seconds``) goes into the same commits, so a crash loses at
most the time since the last recorded message, and the time the bot was down is never counted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from bot.notifications.store import ChatLinkRow
from bot.storage.db import Base, UTCDateTime, session_factory

logger = logging.getLogger(__name__)

# Broadcast states.
SCHEDULED, RUNNING, PAUSED, CANCELLED, DONE = "scheduled", "running", "paused", "cancelled", "done"
STATES = (SCHEDULED, RUNNING, PAUSED, CANCELLED, DONE)
OPEN_STATES = (SCHEDULED, RUNNING, PAUSED)  # may still send
# Recipient states.
PENDING, SENDING, SENT, FAILED, BLOCKED, UNCERTAIN = (
    "pending",
    "sending",
    "sent",
    "failed",
    "blocked",
    "uncertain",
)
RECIPIENT_STATES = (PENDING, SENDING, SENT, FAILED, BLOCKED, UNCERTAIN)
_BIG_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only
_INSERT_BATCH = 5000


class BroadcastRow(Base):
    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)  # Telegram HTML, validated
    media_kind: Mapped[str | None] = mapped_column(String(10), nullable=True)  # photo/document
    media_file_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    media_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default=SCHEDULED)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Recipients are chosen when sending starts; None until then.
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Seconds spent sending (running, not paused), flood waits imposed by Telegram.
    active_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    flood_waits: Mapped[int] = mapped_column(Integer, default=0)
    flood_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)


class RecipientRow(Base):
    __tablename__ = "broadcast_recipients"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "chat_id", name="uq_broadcast_recipients_chat"),
        Index("ix_broadcast_recipients_progress", "broadcast_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    broadcast_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("broadcasts.id", ondelete="CASCADE")
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    subscriber_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)  # why it failed
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    created_at: datetime
    created_by: str
    text: str
    media_kind: str | None
    media_file_id: str | None
    media_name: str | None
    audience: dict[str, Any]
    send_at: datetime
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    total: int | None
    active_seconds: float
    flood_waits: int
    flood_seconds: float
    paid: bool


@dataclass(frozen=True, slots=True)
class Recipient:
    id: int
    chat_id: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Counts:
    """Recipients of one broadcast by state, and the failures by reason."""

    by_status: dict[str, int] = field(default_factory=dict)
    failed_by_reason: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True, slots=True)
class Outcome:
    """The end of one attempt: the recipient's new state (``pending`` = try again later)."""

    recipient_id: int
    status: str
    reason: str | None = None
    error: str | None = None
    sent_at: datetime | None = None


def _broadcast(row: BroadcastRow) -> Broadcast:
    return Broadcast(
        id=row.id,
        created_at=row.created_at,
        created_by=row.created_by,
        text=row.text,
        media_kind=row.media_kind,
        media_file_id=row.media_file_id,
        media_name=row.media_name,
        audience=dict(row.audience or {}),
        send_at=row.send_at,
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        total=row.total,
        active_seconds=row.active_seconds or 0.0,
        flood_waits=row.flood_waits or 0,
        flood_seconds=row.flood_seconds or 0.0,
        paid=bool(row.paid),
    )


class BroadcastStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = session_factory(engine)

    # --- broadcasts ----------------------------------------------------------------------------
    async def create(
        self,
        *,
        text: str,
        audience: dict[str, Any],
        send_at: datetime,
        created_by: str,
        now: datetime,
        media_kind: str | None = None,
        media_file_id: str | None = None,
        media_name: str | None = None,
    ) -> Broadcast:
        async with self._sessions.begin() as session:
            row = BroadcastRow(
                created_at=now,
                created_by=created_by[:80],
                text=text,
                media_kind=media_kind,
                media_file_id=media_file_id,
                media_name=media_name,
                audience=audience,
                send_at=send_at,
                status=SCHEDULED,
                active_seconds=0.0,
                flood_waits=0,
                flood_seconds=0.0,
                paid=False,
            )
            session.add(row)
            await session.flush()
            return _broadcast(row)

    async def get(self, broadcast_id: int) -> Broadcast | None:
        async with self._sessions() as session:
            row = await session.get(BroadcastRow, broadcast_id)
            return _broadcast(row) if row else None

    async def status_of(self, broadcast_id: int) -> str | None:
        async with self._sessions() as session:
            found: str | None = await session.scalar(
                select(BroadcastRow.status).where(BroadcastRow.id == broadcast_id)
            )
            return found

    async def list(self, limit: int = 20, offset: int = 0) -> list[Broadcast]:
        """Newest first."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(BroadcastRow).order_by(BroadcastRow.id.desc()).limit(limit).offset(offset)
            )
            return [_broadcast(row) for row in rows]

    async def count(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(BroadcastRow)) or 0)

    async def transition(
        self, broadcast_id: int, to: str, *, allowed_from: Iterable[str], now: datetime
    ) -> bool:
        """Move to state ``to`` only from one of ``allowed_from`` (atomic); True when it moved."""
        values: dict[str, Any] = {"status": to}
        if to in (CANCELLED, DONE):
            values["finished_at"] = now
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(BroadcastRow)
                .where(BroadcastRow.id == broadcast_id, BroadcastRow.status.in_(allowed_from))
                .values(**values)
            )
            moved = (result.rowcount or 0) > 0  # type: ignore[attr-defined]
            if moved and to == RUNNING:
                await session.execute(
                    update(BroadcastRow)
                    .where(BroadcastRow.id == broadcast_id, BroadcastRow.started_at.is_(None))
                    .values(started_at=now)
                )
            return moved

    async def due(self, now: datetime) -> list[Broadcast]:
        """Scheduled broadcasts whose time has come, and those already running."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(BroadcastRow)
                .where(
                    (BroadcastRow.status == RUNNING)
                    | ((BroadcastRow.status == SCHEDULED) & (BroadcastRow.send_at <= now))
                )
                .order_by(BroadcastRow.send_at, BroadcastRow.id)
            )
            return [_broadcast(row) for row in rows]

    async def next_send_at(self) -> datetime | None:
        async with self._sessions() as session:
            found: datetime | None = await session.scalar(
                select(func.min(BroadcastRow.send_at)).where(BroadcastRow.status == SCHEDULED)
            )
            return found

    async def add_time(
        self,
        broadcast_id: int,
        *,
        active: float = 0.0,
        flood_waits: int = 0,
        flood_seconds: float = 0.0,
    ) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(BroadcastRow)
                .where(BroadcastRow.id == broadcast_id)
                .values(
                    active_seconds=BroadcastRow.active_seconds + active,
                    flood_waits=BroadcastRow.flood_waits + flood_waits,
                    flood_seconds=BroadcastRow.flood_seconds + flood_seconds,
                )
            )

    # --- recipients ----------------------------------------------------------------------------
    async def materialize(
        self,
        broadcast_id: int,
        recipients: Sequence[tuple[int, str]] | None,
        *,
        paid: bool,
    ) -> int:
        """Record who receives the broadcast, once: ``None`` means every active linked chat.

        Idempotent: when the recipients were recorded already (a restart), nothing changes.
        Returns the number of recipients.
        """
        async with self._sessions.begin() as session:
            row = await session.get(BroadcastRow, broadcast_id, with_for_update=True)
            if row is None:
                raise LookupError(f"broadcast {broadcast_id} does not exist")
            if row.total is not None:
                return row.total
            table = RecipientRow.__table__
            if recipients is None:
                await session.execute(
                    insert(table).from_select(
                        ["broadcast_id", "chat_id", "subscriber_id", "status", "attempts"],
                        select(
                            literal(broadcast_id, _BIG_ID),
                            ChatLinkRow.chat_id,
                            ChatLinkRow.subscriber_id,
                            literal(PENDING),
                            literal(0),
                        )
                        .where(ChatLinkRow.active)
                        .order_by(ChatLinkRow.chat_id),
                    )
                )
            else:
                rows = [
                    {
                        "broadcast_id": broadcast_id,
                        "chat_id": chat_id,
                        "subscriber_id": subscriber_id,
                        "status": PENDING,
                        "attempts": 0,
                    }
                    for chat_id, subscriber_id in dict(recipients).items()
                ]
                for start in range(0, len(rows), _INSERT_BATCH):
                    await session.execute(insert(table), rows[start : start + _INSERT_BATCH])
            total = int(
                await session.scalar(
                    select(func.count())
                    .select_from(RecipientRow)
                    .where(RecipientRow.broadcast_id == broadcast_id)
                )
                or 0
            )
            row.total, row.paid = total, paid
            return total

    async def pending_page(
        self, broadcast_id: int, after_id: int, limit: int = 1000
    ) -> list[Recipient]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(RecipientRow.id, RecipientRow.chat_id, RecipientRow.attempts)
                .where(
                    RecipientRow.broadcast_id == broadcast_id,
                    RecipientRow.status == PENDING,
                    RecipientRow.id > after_id,
                )
                .order_by(RecipientRow.id)
                .limit(limit)
            )
            return [Recipient(rid, chat_id, attempts) for rid, chat_id, attempts in rows.all()]

    async def counts(self, broadcast_ids: Sequence[int]) -> dict[int, Counts]:
        """Recipients by state (and failures by reason) of each broadcast."""
        if not broadcast_ids:
            return {}
        by_status: dict[int, dict[str, int]] = {b: {} for b in broadcast_ids}
        reasons: dict[int, dict[str, int]] = {b: {} for b in broadcast_ids}
        async with self._sessions() as session:
            rows = await session.execute(
                select(RecipientRow.broadcast_id, RecipientRow.status, func.count())
                .where(RecipientRow.broadcast_id.in_(list(broadcast_ids)))
                .group_by(RecipientRow.broadcast_id, RecipientRow.status)
            )
            for broadcast_id, status, count in rows.all():
                by_status[broadcast_id][status] = count
            rows = await session.execute(
                select(RecipientRow.broadcast_id, RecipientRow.reason, func.count())
                .where(
                    RecipientRow.broadcast_id.in_(list(broadcast_ids)),
                    RecipientRow.status == FAILED,
                )
                .group_by(RecipientRow.broadcast_id, RecipientRow.reason)
            )
            for broadcast_id, reason, count in rows.all():
                reasons[broadcast_id][reason or "unknown"] = count
        return {b: Counts(by_status[b], reasons[b]) for b in broadcast_ids}

    async def recipients(self, broadcast_id: int) -> list[tuple[int, str, str | None]]:
        """(chat id, state, reason) of every recipient, in order (reports, tests)."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(RecipientRow.chat_id, RecipientRow.status, RecipientRow.reason)
                .where(RecipientRow.broadcast_id == broadcast_id)
                .order_by(RecipientRow.id)
            )
            return [(chat_id, status, reason) for chat_id, status, reason in rows.all()]

    async def count_status(self, broadcast_id: int, status: str) -> int:
        async with self._sessions() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(RecipientRow)
                .where(RecipientRow.broadcast_id == broadcast_id, RecipientRow.status == status)
            )
            return int(found or 0)

    async def active_chats(self) -> list[tuple[int, str]]:
        """(chat id, subscriber id) of every active linked chat, by chat id."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(ChatLinkRow.chat_id, ChatLinkRow.subscriber_id)
                .where(ChatLinkRow.active)
                .order_by(ChatLinkRow.chat_id)
            )
            return [(chat_id, subscriber_id) for chat_id, subscriber_id in rows.all()]

    async def count_active_chats(self) -> int:
        async with self._sessions() as session:
            found = await session.scalar(
                select(func.count()).select_from(ChatLinkRow).where(ChatLinkRow.active)
            )
            return int(found or 0)

    async def settle_sending(self, broadcast_id: int) -> int:
        """Before (re)starting a broadcast here: its recipients left ``sending`` cannot be in
        flight any more (one process sends broadcasts), so they become ``uncertain``."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(RecipientRow)
                .where(RecipientRow.broadcast_id == broadcast_id, RecipientRow.status == SENDING)
                .values(status=UNCERTAIN, reason="interrupted", error="interrupted while sending")
            )
            return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]

    async def recover_interrupted(self) -> int:
        """At start-up: recipients left ``sending`` by a crash are never sent again."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(RecipientRow)
                .where(RecipientRow.status == SENDING)
                .values(status=UNCERTAIN, reason="interrupted", error="interrupted while sending")
            )
            return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]

    async def move_chat(self, old_chat_id: int, new_chat_id: int, recipient_id: int) -> bool:
        """A group became a supergroup: its link and this recipient follow the new chat id.

        False when the new chat is already a recipient of the same broadcast (it gets the
        message there; this row must not be sent again).
        """
        async with self._sessions.begin() as session:
            taken = await session.get(ChatLinkRow, new_chat_id)
            if taken is None:
                await session.execute(
                    update(ChatLinkRow)
                    .where(ChatLinkRow.chat_id == old_chat_id)
                    .values(chat_id=new_chat_id)
                )
            else:  # already linked under the new id: the old link is obsolete
                await session.execute(delete(ChatLinkRow).where(ChatLinkRow.chat_id == old_chat_id))
            row = await session.get(RecipientRow, recipient_id)
            assert row is not None
            duplicate = await session.scalar(
                select(RecipientRow.id).where(
                    RecipientRow.broadcast_id == row.broadcast_id,
                    RecipientRow.chat_id == new_chat_id,
                )
            )
            if duplicate is not None:
                return False
            row.chat_id = new_chat_id
            return True
