"""Linked chats and the notification outbox.

Exactly-once delivery rests on three rules kept here:
- a notification is enqueued once per (natural key, chat) — a unique constraint, so an
  overlapping poll or a restart cannot enqueue it twice;
- a row is ``sending`` only while one of its messages is in flight: marked (committed, and only
  from ``pending`` with the expected part, so two senders cannot both take it) right before that
  Bot API call, and back to ``pending`` with ``parts_sent`` + 1 (or ``sent`` after the last part)
  right after it. Rows merely due are never marked, so a crash leaves them ``pending`` and they
  go out after the restart; a reminder stopped between its messages resumes with the missing ones;
- a row found ``sending`` at start-up may or may not have reached the chat, so it becomes
  ``uncertain`` and is never sent again — at most the one message in flight at the crash.

A link also keeps what the provider feed needs to ask the system about its subscriber without
their session (:class:`~backend_client.provider.Watched`'s ``reference``: the CPF/CNPJ on SGP),
sealed with ``ENCRYPTION_KEY`` (bot.storage.encryption) and opened only to build the list of
watched subscribers; it is never logged. Large reads (the links of 100,000 chats) are done in
chunks that give the event loop back between them, so the bot keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from backend_client.provider import Watched
from bot.storage.db import Base, UTCDateTime, session_factory
from bot.storage.encryption import SecretBox, Unreadable

logger = logging.getLogger(__name__)
PENDING, SENDING, SENT, FAILED, UNCERTAIN = "pending", "sending", "sent", "failed", "uncertain"


class ChatLinkRow(Base):
    """A chat linked to one of the subscriber's contacts: it receives notifications."""

    __tablename__ = "chat_links"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subscriber_id: Mapped[str] = mapped_column(String(64), index=True)
    contact_id: Mapped[str] = mapped_column(String(64))
    contact_name: Mapped[str] = mapped_column(String(200))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    muted: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The feed's reference of the subscriber, sealed ({"fernet": token}); None before 0005.
    reference: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)


class NotificationRow(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("key", "chat_id", name="uq_notifications_key_chat"),
        Index("ix_notifications_status_send_after", "status", "send_after"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    key: Mapped[str] = mapped_column(String(200))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    send_after: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # Messages of this notification already in the chat (a reminder is text, linha, PIX).
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


@dataclass(frozen=True, slots=True)
class ChatLink:
    chat_id: int
    subscriber_id: str
    contact_id: str
    contact_name: str
    linked_at: datetime
    active: bool
    muted: frozenset[str]
    has_reference: bool = True  # the feed can ask about its subscriber without a session


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One notification to one chat."""

    key: str
    chat_id: int
    kind: str
    payload: dict[str, Any]
    send_after: datetime


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    chat_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int  # failed tries so far
    parts_sent: int = 0  # messages of it already in the chat


def _link(row: ChatLinkRow) -> ChatLink:
    return ChatLink(
        chat_id=row.chat_id,
        subscriber_id=row.subscriber_id,
        contact_id=row.contact_id,
        contact_name=row.contact_name,
        linked_at=row.linked_at,
        active=row.active,
        muted=frozenset(row.muted or ()),
        has_reference=row.reference is not None,
    )


# An active link as the planner reads it: (chat id, linked at, muted groups) — plain tuples of
# atomic values, which the garbage collector stops tracking (100,000 link objects held between
# rounds would lengthen every full collection by tens of milliseconds: pauses of the bot).
LinkEntry = tuple[int, datetime, tuple[str, ...]]


class WatchedList(Sequence[Watched]):
    """The watched subscribers, kept as (subscriber id, reference) pairs of strings (untracked
    by the garbage collector, as above) and made :class:`Watched` as they are read."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __len__(self) -> int:
        return len(self._pairs)

    @overload
    def __getitem__(self, index: int) -> Watched: ...
    @overload
    def __getitem__(self, index: slice) -> list[Watched]: ...
    def __getitem__(self, index: int | slice) -> Watched | list[Watched]:
        if isinstance(index, slice):
            return [Watched(s, r) for s, r in self._pairs[index]]
        return Watched(*self._pairs[index])

    def __iter__(self) -> Iterator[Watched]:
        return (Watched(s, r) for s, r in self._pairs)

    def __repr__(self) -> str:  # never the references
        return f"WatchedList({len(self._pairs)} subscribers)"


LINKS_KEPT = 100_000  # chats whose link (or lack of one) is remembered
CHUNK = 2000  # links read per query when reading them all (then the event loop runs)
OPEN_CHUNK = 250  # references opened between two turns of the event loop (~20 µs each)


class NotificationStore:
    """Links and the notification outbox. The bot asks for a chat's link at every login and
    every delivery; links change only through this object (one per process), so they are kept
    in memory once read, and forgotten when written."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        box: SecretBox | None = None,
        id_is_reference: bool = True,
    ) -> None:
        """``box`` seals the feed references (required to store one); ``id_is_reference``: the
        system's feed reference is the subscriber id (all but SGP), so a link stored without
        one (before revision 0005) is still watched."""
        self._engine = engine
        self._sessions = session_factory(engine)
        self._box = box
        self._id_is_reference = id_is_reference
        self._links: dict[int, ChatLink | None] = {}  # oldest first
        self._link_writes = 0  # a read that overlapped a write is not kept
        self._opened: dict[str, str] = {}  # sealed token → reference (opening costs CPU)
        self._watched: tuple[int, WatchedList] | None = None  # (link writes, list)
        self._active: tuple[int, dict[str, tuple[LinkEntry, ...]]] | None = None
        self._unreadable_logged = False

    # --- links ---------------------------------------------------------------------------------
    def _seal(self, reference: str | None) -> dict[str, str] | None:
        if reference is None:
            return None
        if self._box is None:
            raise ValueError("a feed reference is a secret: the store needs a SecretBox")
        return self._box.seal(reference)

    async def link(
        self,
        chat_id: int,
        subscriber_id: str,
        contact_id: str,
        contact_name: str,
        now: datetime,
        *,
        reference: str | None = None,
    ) -> ChatLink:
        """Link ``chat_id`` to a contact of ``subscriber_id``; ``reference`` (the feed's
        reference of the subscriber, ``backend.feed_reference(session)``) is stored sealed."""
        sealed = self._seal(reference)
        async with self._sessions.begin() as session:
            row = await session.get(ChatLinkRow, chat_id)
            if row is None:
                row = ChatLinkRow(chat_id=chat_id, muted=[])
                session.add(row)
            if sealed is not None or row.subscriber_id != subscriber_id:
                row.reference = sealed  # another subscriber's reference never stays
            row.subscriber_id, row.contact_id, row.contact_name = (
                subscriber_id,
                contact_id,
                contact_name,
            )
            row.linked_at, row.active = now, True
            await session.flush()
            link = _link(row)
        self.links_changed(chat_id)
        return link

    async def remember_reference(self, chat_id: int, subscriber_id: str, reference: str) -> None:
        """A link made before references were kept gets its subscriber's (at their login)."""
        sealed = self._seal(reference)
        try:
            async with self._sessions.begin() as session:
                await session.execute(
                    update(ChatLinkRow)
                    .where(
                        ChatLinkRow.chat_id == chat_id, ChatLinkRow.subscriber_id == subscriber_id
                    )
                    .values(reference=sealed)
                )
        finally:
            self.links_changed(chat_id)

    async def get_link(self, chat_id: int) -> ChatLink | None:
        if chat_id in self._links:
            return self._links[chat_id]
        writes = self._link_writes
        async with self._sessions() as session:
            row = await session.get(ChatLinkRow, chat_id)
            link = _link(row) if row else None
        if writes == self._link_writes:
            self._links[chat_id] = link
            if len(self._links) > LINKS_KEPT:
                del self._links[next(iter(self._links))]
        return link

    def links_changed(self, *chat_ids: int) -> None:
        """These chats' links were written: read them from the database next time (called by
        this store's own writes, and by whoever else writes chat_links)."""
        self._link_writes += 1
        self._watched = self._active = None
        for chat_id in chat_ids:
            self._links.pop(chat_id, None)

    async def unlink(self, chat_id: int) -> ChatLink | None:
        try:
            async with self._sessions.begin() as session:
                row = await session.get(ChatLinkRow, chat_id)
                if row is None:
                    return None
                link = _link(row)
                await session.delete(row)
                await session.execute(
                    delete(NotificationRow).where(
                        NotificationRow.chat_id == chat_id, NotificationRow.status == PENDING
                    )
                )
                return link
        finally:
            self.links_changed(chat_id)

    async def set_muted(self, chat_id: int, muted: Iterable[str]) -> None:
        try:
            async with self._sessions.begin() as session:
                await session.execute(
                    update(ChatLinkRow)
                    .where(ChatLinkRow.chat_id == chat_id)
                    .values(muted=sorted(set(muted)))
                )
        finally:
            self.links_changed(chat_id)

    async def deactivate(self, chat_id: int) -> None:
        """The chat blocked the bot: stop sending until it links again."""
        try:
            async with self._sessions.begin() as session:
                await session.execute(
                    update(ChatLinkRow).where(ChatLinkRow.chat_id == chat_id).values(active=False)
                )
                await session.execute(
                    update(NotificationRow)
                    .where(NotificationRow.chat_id == chat_id, NotificationRow.status == PENDING)
                    .values(status=FAILED, error="chat blocked the bot")
                )
        finally:
            self.links_changed(chat_id)

    async def move_chat(self, old_chat_id: int, new_chat_id: int, notification_id: int) -> bool:
        """A group became a supergroup: its link and its notifications follow the new chat id
        (as broadcasts' ``BroadcastStore.move_chat`` moves a link).

        A notification already queued (or sent) for the new chat under the same key is not moved:
        the old one, if still open, fails as a duplicate. False when that is the case of
        ``notification_id`` (it must not be sent).
        """
        other = NotificationRow.__table__.alias("other")  # not correlated with the UPDATE's
        try:
            async with self._sessions.begin() as session:
                if await session.get(ChatLinkRow, new_chat_id) is None:
                    await session.execute(
                        update(ChatLinkRow)
                        .where(ChatLinkRow.chat_id == old_chat_id)
                        .values(chat_id=new_chat_id)
                    )
                else:  # already linked under the new id: the old link is obsolete
                    await session.execute(
                        delete(ChatLinkRow).where(ChatLinkRow.chat_id == old_chat_id)
                    )
                there = select(other.c.key).where(other.c.chat_id == new_chat_id)
                await session.execute(
                    update(NotificationRow)
                    .where(
                        NotificationRow.chat_id == old_chat_id,
                        NotificationRow.status.in_((PENDING, SENDING)),
                        NotificationRow.key.in_(there),
                    )
                    .values(status=FAILED, error="migrated: already queued for the new chat id")
                )
                await session.execute(
                    update(NotificationRow)
                    .where(
                        NotificationRow.chat_id == old_chat_id,
                        NotificationRow.key.not_in(there),
                    )
                    .values(chat_id=new_chat_id)
                )
                moved = await session.scalar(
                    select(NotificationRow.chat_id).where(NotificationRow.id == notification_id)
                )
                return moved == new_chat_id
        finally:
            self.links_changed(old_chat_id, new_chat_id)

    async def _active_rows(self, *columns: Any) -> list[Any]:
        """``columns`` of the active links, by chat id, read ``CHUNK`` rows a query with the
        event loop let run between them (a long read would hold it for a second per 100k)."""
        found: list[Any] = []
        after: int | None = None
        while True:
            query = select(ChatLinkRow.chat_id, *columns).where(ChatLinkRow.active)
            if after is not None:
                query = query.where(ChatLinkRow.chat_id > after)
            async with self._sessions() as session:
                rows = (
                    await session.execute(query.order_by(ChatLinkRow.chat_id).limit(CHUNK))
                ).all()
            found += rows
            if len(rows) < CHUNK:
                return found
            after = rows[-1][0]
            await asyncio.sleep(0)

    async def link_index(self) -> dict[str, tuple[LinkEntry, ...]]:
        """The active links by subscriber, as (chat id, linked at, muted groups), kept until a
        link changes."""
        version = self._link_writes
        if self._active is not None and self._active[0] == version:
            return self._active[1]
        rows = await self._active_rows(
            ChatLinkRow.subscriber_id, ChatLinkRow.linked_at, ChatLinkRow.muted
        )
        grouped: dict[str, tuple[LinkEntry, ...]] = {}
        for index, (chat_id, subscriber, linked_at, muted) in enumerate(rows):
            entry = (chat_id, linked_at, tuple(sorted(muted or ())))
            grouped[subscriber] = (*grouped.get(subscriber, ()), entry)
            if index % CHUNK == CHUNK - 1:
                await asyncio.sleep(0)
        if version == self._link_writes:
            self._active = (version, grouped)
        return grouped

    async def active_links(self) -> dict[str, list[ChatLink]]:
        """Active links grouped by subscriber."""
        grouped: dict[str, list[ChatLink]] = {}
        async with self._sessions() as session:
            for row in await session.scalars(select(ChatLinkRow).where(ChatLinkRow.active)):
                grouped.setdefault(row.subscriber_id, []).append(_link(row))
        return grouped

    async def watched(self) -> WatchedList:
        """The subscribers with an active linked chat, each with the feed's reference (opened
        from its seal), sorted by subscriber id: what a feed question asks about (only they can
        be notified). Kept until a link changes. A link without a reference is watched by its
        subscriber id where that is the system's reference (``id_is_reference``), else left out
        until its subscriber logs in again."""
        version = self._link_writes
        if self._watched is not None and self._watched[0] == version:
            return self._watched[1]
        rows = await self._active_rows(ChatLinkRow.subscriber_id, ChatLinkRow.reference)
        references: dict[str, str] = {}
        opened, unreadable = 0, 0
        for _chat_id, subscriber_id, sealed in rows:
            if subscriber_id in references:
                continue
            if sealed is None:
                if self._id_is_reference:
                    references[subscriber_id] = subscriber_id
                continue
            token = sealed.get("fernet", "") if isinstance(sealed, dict) else ""
            reference = self._opened.get(token)
            if reference is None:
                if self._box is None:
                    unreadable += 1
                    continue
                try:
                    reference = str(self._box.open(sealed)[0])
                except Unreadable:
                    unreadable += 1
                    continue
                self._opened[token] = reference
                opened += 1
                if opened % OPEN_CHUNK == 0:
                    await asyncio.sleep(0)
            references[subscriber_id] = reference
        if unreadable and not self._unreadable_logged:
            self._unreadable_logged = True
            logger.warning(
                "%d linked chat(s) have a feed reference no ENCRYPTION_KEY opens; they get "
                "notices again after their subscriber logs in",
                unreadable,
            )
        if len(self._opened) > 2 * len(references) + 1000:  # forget the unlinked ones
            kept = set(references.values())
            self._opened = {t: r for t, r in self._opened.items() if r in kept}
        found = WatchedList([(s, references[s]) for s in sorted(references)])
        if version == self._link_writes:
            self._watched = (version, found)
        return found

    # --- outbox --------------------------------------------------------------------------------
    async def enqueue(self, items: Sequence[Outgoing], now: datetime) -> int:
        """Insert what is new; an existing (key, chat) is left alone. Returns how many were new."""
        if not items:
            return 0
        dialect = self._engine.dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(NotificationRow)
            .on_conflict_do_nothing(index_elements=["key", "chat_id"])
            .returning(NotificationRow.id)
        )
        rows = [
            {
                "key": item.key,
                "chat_id": item.chat_id,
                "kind": item.kind,
                "payload": item.payload,
                "created_at": now,
                "send_after": item.send_after,
                "status": PENDING,
                "attempts": 0,
            }
            for item in items
        ]
        added = 0
        async with self._sessions.begin() as session:
            # One cached statement, executed in batches (SQLAlchemy's "insertmanyvalues"); only
            # the rows really inserted come back, so the count is exact on every database.
            for start in range(0, len(rows), 1000):
                result = await session.execute(statement, rows[start : start + 1000])
                added += len(result.all())
        return added

    async def due(self, now: datetime, limit: int = 100) -> list[Claimed]:
        """Pending rows whose time has come, oldest first. Nothing is marked: each row becomes
        ``sending`` only around its own Bot API call (:meth:`start_part`)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(NotificationRow)
                .where(NotificationRow.status == PENDING, NotificationRow.send_after <= now)
                .order_by(NotificationRow.send_after, NotificationRow.id)
                .limit(limit)
            )
            return [
                Claimed(r.id, r.chat_id, r.kind, r.payload, r.attempts, r.parts_sent or 0)
                for r in rows
            ]

    async def start_part(self, notification_id: int, part: int) -> bool:
        """Mark the row ``sending`` (committed) just before its message number ``part`` goes
        out. False when someone else took it or it changed meanwhile: do not send."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(NotificationRow)
                .where(
                    NotificationRow.id == notification_id,
                    NotificationRow.status == PENDING,
                    NotificationRow.parts_sent == part,
                )
                .values(status=SENDING)
            )
            return (result.rowcount or 0) == 1  # type: ignore[attr-defined]

    async def part_sent(self, notification_id: int, part: int, parts: int, now: datetime) -> None:
        """Message ``part`` of ``parts`` reached the chat: the row is ``sent`` after the last one,
        else ``pending`` again with the next part to send (no longer in flight)."""
        if part + 1 >= parts:
            values: dict[str, Any] = {"status": SENT, "sent_at": now, "error": None}
        else:
            values = {"status": PENDING}
        async with self._sessions.begin() as session:
            await session.execute(
                update(NotificationRow)
                .where(NotificationRow.id == notification_id, NotificationRow.status == SENDING)
                .values(parts_sent=part + 1, **values)
            )

    async def _set(self, notification_id: int, **values: Any) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(NotificationRow)
                .where(NotificationRow.id == notification_id)
                .values(**values)
            )

    async def mark_failed(self, notification_id: int, error: str) -> None:
        await self._set(notification_id, status=FAILED, error=error[:300])

    async def mark_uncertain(self, notification_id: int, error: str) -> None:
        """The message in flight may or may not have reached the chat: never sent again."""
        await self._set(notification_id, status=UNCERTAIN, error=error[:300])

    async def retry_later(
        self, notification_id: int, when: datetime, error: str, *, failed_try: bool = False
    ) -> None:
        """Back to ``pending`` until ``when`` (the parts already sent stay sent);
        ``failed_try`` counts the attempt towards giving up."""
        values: dict[str, Any] = {"status": PENDING, "send_after": when, "error": error[:300]}
        if failed_try:
            values["attempts"] = NotificationRow.attempts + 1
        await self._set(notification_id, **values)

    async def recover_interrupted(self) -> int:
        """At start-up: rows left ``sending`` by a crash are never sent again."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(NotificationRow)
                .where(NotificationRow.status == SENDING)
                .values(status=UNCERTAIN, error="interrupted while sending")
            )
            return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]

    async def count_by_status(self) -> dict[str, int]:
        from sqlalchemy import func

        async with self._sessions() as session:
            rows = await session.execute(
                select(NotificationRow.status, func.count()).group_by(NotificationRow.status)
            )
            return {status: count for status, count in rows.all()}
