"""The sandbox backend's foundation: its policies (constants), the database engine and
transactions, the session cache and the ownership checks every operation starts with.

``SandboxBackend`` (``backend.py``) is :class:`SandboxCore` plus one mixin per area: accounts,
invoices, contacts, records and tickets.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Select, create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from backend_client.errors import (
    CLOSED_TICKET_REASON as CLOSED_TICKET_REASON,  # the sandbox package exports it
)
from backend_client.errors import (
    NotFound,
    SessionExpired,
    Unavailable,
)
from backend_client.models import (
    BackendSession,
    DateRange,
)
from backend_client.sandbox.db import (
    AccessLoginRow,
    AuthSessionRow,
    ConnectionSessionRow,
    ContactRow,
    ContractRow,
    InvoiceRow,
    PhoneLineRow,
    ProtocolCounterRow,
    SubscriberRow,
    TicketRow,
)
from backend_client.sandbox.inline import Db, InlineSession, runs_inline, sync_url
from backend_client.sandbox.security import (
    token_hash,
)
from backend_client.sandbox.seed import SAO_PAULO, local_instant

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./minha-central-sandbox.db"
ENABLING_DAYS = 3
ENABLING_INTERVAL_DAYS = 30
DUE_DAYS = (5, 10, 15, 20, 25)
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
SESSION_CACHE_SIZE = 10_000

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="SandboxCore")


def sao_paulo_today() -> date:
    return datetime.now(SAO_PAULO).date()


def operation(
    method: Callable[Concatenate[S, P], Awaitable[R]],
) -> Callable[Concatenate[S, P], Awaitable[R]]:
    """Simulate the configured latency (and a simulated outage) before the operation runs."""

    @functools.wraps(method)
    async def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if self.outage:
            raise Unavailable("sandbox outage (simulated)")
        return await method(self, *args, **kwargs)

    return wrapper


def make_engine(database_url: str) -> Engine | AsyncEngine:
    """SQLite: a synchronous engine, queried inline (see ``inline``); else an async one."""
    # hide_parameters: an error never carries the rows' values (documents, password hashes) into
    # a log line (SQLAlchemy: create_engine(hide_parameters=True)).
    if not runs_inline(database_url):
        return create_async_engine(database_url, hide_parameters=True)
    # Inline, a wait for another process's write lock would hold up the whole bot: give up
    # after a second (the operation fails as Unavailable) instead of SQLite's default five.
    options: dict[str, Any] = {"connect_args": {"timeout": 1.0}, "hide_parameters": True}
    if make_url(database_url).database in (None, "", ":memory:"):
        options["poolclass"] = StaticPool  # one shared connection keeps the in-memory data
    engine = create_engine(sync_url(database_url), **options)
    event.listen(engine, "connect", tune_sqlite)
    return engine


async def dispose(engine: Engine | AsyncEngine) -> None:
    if isinstance(engine, AsyncEngine):
        await engine.dispose()
    else:
        engine.dispose()


def tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL (file databases; memory ones ignore it): readers don't wait for the writer, and
    # NORMAL sync spares the fsyncs of every commit (durable across application crashes).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def day_text(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def instant_bounds(period: DateRange) -> tuple[datetime, datetime]:
    """The UTC instants enclosing the São Paulo calendar days of ``period``."""
    return local_instant(period.start), local_instant(period.end + timedelta(days=1))


class SandboxCore:
    """The sandbox's database, sessions and ownership checks, shared by the areas that
    ``SandboxBackend`` is composed of."""

    def __init__(
        self,
        database_url: str = DEFAULT_DATABASE_URL,
        *,
        today: Callable[[], date] | None = None,
        latency: float = 0.0,
    ) -> None:
        self.database_url = database_url
        self.latency = latency
        self.outage = False  # set True to make every operation raise Unavailable
        self._today = today or sao_paulo_today
        self._engine: Engine | AsyncEngine | None = None
        self._inline_sessions: sessionmaker[Session] | None = None  # SQLite
        self._async_sessions: async_sessionmaker[AsyncSession] | None = None  # a server database
        self._lock = asyncio.Lock()  # see _transaction and _reading
        self._in_memory = make_url(database_url).database in (None, "", ":memory:")
        self._session_owners: dict[str, str] = {}  # session token hash → subscriber id
        self._unwritten_logins: list[dict[str, Any]] = []  # see _record_session
        self._logins_written: asyncio.Future[None] | None = None

    # --- infrastructure -------------------------------------------------------------------------
    def _now(self) -> datetime:
        """Now, on the configured ``today`` (so a fixed test day still has a moving clock)."""
        wall_clock = datetime.now(SAO_PAULO).timetz()
        return datetime.combine(self._today(), wall_clock).astimezone(UTC)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Db]:
        """A transaction that writes: one at a time (SQLite has one writer, and a second one
        would wait in SQLite's busy handler, polling)."""
        async with self._lock, self._session() as db:
            yield db

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[Db]:
        """A transaction that only reads: in a database file (WAL) it runs beside the others;
        the single connection of an in-memory database takes them in turn."""
        if self._in_memory:
            async with self._transaction() as db:
                yield db
        else:
            async with self._session() as db:
                yield db

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[Db]:
        try:
            if self._inline_sessions is not None:
                with self._inline_sessions.begin() as sync:
                    yield InlineSession(sync)
            elif self._async_sessions is not None:
                async with self._async_sessions() as db, db.begin():
                    yield db
            else:
                raise Unavailable("the sandbox backend is not started")
        except SQLAlchemyError as exc:
            raise Unavailable("sandbox database error") from exc

    async def _subscriber(self, db: Db, session: BackendSession) -> SubscriberRow:
        key = token_hash(session.token)
        owner = self._session_owners.get(key)
        if owner is None:
            auth = await db.get(AuthSessionRow, key)
            if auth is None:
                raise SessionExpired()
            owner = self._remember_session(key, auth.subscriber_id)
        if owner != session.subscriber_id:
            raise SessionExpired()
        subscriber = await db.get(SubscriberRow, owner)
        if subscriber is None:
            raise SessionExpired()
        return subscriber

    def _remember_session(self, key: str, subscriber_id: str) -> str:
        """Sessions end only through this object (logout, password change), so their owners
        can be kept in memory: one query less for every operation."""
        self._session_owners[key] = subscriber_id
        if len(self._session_owners) > SESSION_CACHE_SIZE:
            self._session_owners.pop(next(iter(self._session_owners)))  # the oldest
        return subscriber_id

    def _forget_sessions(self, subscriber_id: str, keep: str | None = None) -> None:
        for key, owner in list(self._session_owners.items()):
            if owner == subscriber_id and key != keep:
                del self._session_owners[key]

    async def _next_protocol(self, db: Db) -> str:
        day = self._today().strftime("%Y%m%d")
        counter = await db.get(ProtocolCounterRow, day)
        if counter is None:
            counter = ProtocolCounterRow(day=day, last=0)
            db.add(counter)
        counter.last += 1
        return f"{day}{counter.last:06d}"

    # --- ownership checks -----------------------------------------------------------------------
    @staticmethod
    async def _one_or_not_found(db: Db, query: Select[Any], what: str) -> Any:
        row = await db.scalar(query)
        if row is None:
            raise NotFound(what)
        return row

    async def _contract_row(self, db: Db, owner: str, contract_id: str) -> ContractRow:
        query = select(ContractRow).where(
            ContractRow.id == contract_id, ContractRow.subscriber_id == owner
        )
        row: ContractRow = await self._one_or_not_found(db, query, f"contract {contract_id}")
        return row

    async def _invoice_row(self, db: Db, owner: str, invoice_id: str) -> InvoiceRow:
        query = (
            select(InvoiceRow)
            .join(ContractRow, ContractRow.id == InvoiceRow.contract_id)
            .where(InvoiceRow.id == invoice_id, ContractRow.subscriber_id == owner)
        )
        row: InvoiceRow = await self._one_or_not_found(db, query, f"invoice {invoice_id}")
        return row

    async def _login_row(self, db: Db, owner: str, login_id: str) -> AccessLoginRow:
        query = (
            select(AccessLoginRow)
            .join(ContractRow, ContractRow.id == AccessLoginRow.contract_id)
            .where(AccessLoginRow.id == login_id, ContractRow.subscriber_id == owner)
        )
        row: AccessLoginRow = await self._one_or_not_found(db, query, f"login {login_id}")
        return row

    async def _line_row(self, db: Db, owner: str, line_id: str) -> PhoneLineRow:
        query = (
            select(PhoneLineRow)
            .join(ContractRow, ContractRow.id == PhoneLineRow.contract_id)
            .where(PhoneLineRow.id == line_id, ContractRow.subscriber_id == owner)
        )
        row: PhoneLineRow = await self._one_or_not_found(db, query, f"phone line {line_id}")
        return row

    async def _ticket_row(self, db: Db, owner: str, ticket_id: str) -> TicketRow:
        query = select(TicketRow).where(TicketRow.id == ticket_id, TicketRow.subscriber_id == owner)
        row: TicketRow = await self._one_or_not_found(db, query, f"ticket {ticket_id}")
        return row

    async def _contact_row(self, db: Db, owner: str, contact_id: str) -> ContactRow:
        query = select(ContactRow).where(
            ContactRow.id == contact_id, ContactRow.subscriber_id == owner
        )
        row: ContactRow = await self._one_or_not_found(db, query, f"contact {contact_id}")
        return row

    # --- contract state ---------------------------------------------------------------------------
    async def _reconnect(self, db: Db, contract_id: str) -> None:
        """The PPPoE logins of a re-enabled contract connect again right away."""
        logins = await db.scalars(
            select(AccessLoginRow).where(AccessLoginRow.contract_id == contract_id)
        )
        for login in logins:
            running = await db.scalar(
                select(ConnectionSessionRow.id).where(
                    ConnectionSessionRow.login_id == login.id,
                    ConnectionSessionRow.ended_at.is_(None),
                )
            )
            if running is None and login.ip_address:
                db.add(
                    ConnectionSessionRow(
                        id=new_id("cs"),
                        login_id=login.id,
                        started_at=self._now(),
                        ended_at=None,
                        ip_address=login.ip_address,
                        download_bytes=0,
                        upload_bytes=0,
                        termination_cause=None,
                    )
                )
