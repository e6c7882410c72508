"""The bot's own database: engine, session factory and ORM tables.

Only the storage layer imports this module; handlers go through repositories and services.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    event,
    false,
)
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class PersistenceEntry(Base):
    """PTB persistence (user_data, chat_data, conversation states) as JSON rows."""

    __tablename__ = "ptb_persistence"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    data: Mapped[Any] = mapped_column(JSON)


class LoginFailure(Base):
    """One wrong document/password attempt, keyed by chat and by document (hashed)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_scope_at", "scope", "failed_at"),)

    # SQLite only autoincrements an INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    scope: Mapped[str] = mapped_column(String(80))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A password check reserved before it is sent to the backend: pending while it is in
    # flight (it counts as an attempt), then a failure or deleted (see login_failures.py).
    attempt: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LoginScope(Base):
    """One row per chat or document with recent attempts: locked (SELECT … FOR UPDATE /
    upsert) by whoever reserves an attempt of it, so reservations of a scope take turns across
    processes."""

    __tablename__ = "login_scopes"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    touched_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxEmail(Base):
    """An e-mail waiting to be delivered (or delivered / given up), retried with backoff.

    The raw RFC 5322 message is kept as built, so a retry sends exactly the same e-mail
    (same Message-ID and Date).
    """

    __tablename__ = "email_outbox"
    __table_args__ = (
        Index("ix_email_outbox_pending", "sent_at", "abandoned_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sender: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    abandoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def create_engine(database_url: str) -> AsyncEngine:
    # The statements' parameters hold session tokens, documents and chat ids: never in a log line
    # nor in an error's text. SQLAlchemy's create_engine: "hide_parameters: Boolean, when set to
    # True, SQL statement parameters will not be displayed in INFO logging nor will they be
    # formatted into the string representation of StatementError objects."
    hidden: dict[str, Any] = {"hide_parameters": True}
    if database_url in ("sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"):
        # One shared connection, or every session would see its own empty in-memory database.
        return create_async_engine(
            database_url,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
            **hidden,
        )
    if database_url.startswith("sqlite"):
        # WAL lets readers run beside the writer; writers take turns in Sessions.begin (a
        # second writer would otherwise sleep in SQLite's busy handler, up to 100 ms a try).
        engine = create_async_engine(database_url, pool_size=5, max_overflow=5, **hidden)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        return engine
    # A server may drop idle connections (restarts, proxies): check each one before use.
    return create_async_engine(database_url, pool_pre_ping=True, **hidden)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL: readers don't wait for the writer; NORMAL sync is durable across application crashes
    and costs one fsync per checkpoint instead of several per commit."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Per SQLite database: its writers take turns (see Sessions).
_TURNS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


class Sessions:
    """The bot's sessions: ``async with sessions() as s`` to read, ``sessions.begin()`` to write.

    SQLite has one writer at a time: ``begin()`` sessions take turns on a lock, first come first
    served, while reads run beside them (WAL). In memory there is one connection for all, so
    reads take turns too. PostgreSQL needs none of this.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._maker = async_sessionmaker(engine, expire_on_commit=False)
        self._write_turn: asyncio.Lock | None = None
        self._read_turn: asyncio.Lock | None = None
        if engine.dialect.name == "sqlite":
            self._write_turn = _TURNS.setdefault(engine.sync_engine, asyncio.Lock())
            if isinstance(engine.pool, StaticPool):
                self._read_turn = self._write_turn

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with _turn(self._read_turn), self._maker() as session:
            yield session

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        async with _turn(self._write_turn), self._maker.begin() as session:
            yield session


def _turn(lock: asyncio.Lock | None) -> contextlib.AbstractAsyncContextManager[Any]:
    return lock if lock is not None else contextlib.nullcontext()


def session_factory(engine: AsyncEngine) -> Sessions:
    return Sessions(engine)
