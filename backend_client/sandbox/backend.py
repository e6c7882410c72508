"""The embedded sandbox backend: every :class:`SubscriberBackend` operation over its own database.

Its policies are the product's reference behaviour (temporary enabling 3 days, once per 30 days;
2% fine and 1% monthly interest pro rata; protocols ``yyyymmdd`` + 6 digits…).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
)
from sqlalchemy.orm import sessionmaker

from backend_client.errors import (
    Unavailable,
)
from backend_client.features import Feature, FeatureCheck, all_ok
from backend_client.sandbox.accounts import AccountsMixin
from backend_client.sandbox.contacts import ContactsMixin
from backend_client.sandbox.core import (
    CLOSED_TICKET_REASON,
    DEFAULT_DATABASE_URL,
    DUE_DAYS,
    ENABLING_DAYS,
    ENABLING_INTERVAL_DAYS,
    MAX_ATTACHMENT_BYTES,
    SESSION_CACHE_SIZE,
    SandboxCore,
    dispose,
    make_engine,
    operation,
    sao_paulo_today,
)
from backend_client.sandbox.db import (
    Base,
)
from backend_client.sandbox.invoices import InvoicesMixin
from backend_client.sandbox.outages import OutagesMixin
from backend_client.sandbox.records import RecordsMixin
from backend_client.sandbox.seed import seed_if_empty
from backend_client.sandbox.tickets import TicketsMixin

# Names other modules and tests import from here (``feed.py`` decorates with ``_operation``).
_operation = operation
_make_engine = make_engine

__all__ = [
    "CLOSED_TICKET_REASON",
    "DEFAULT_DATABASE_URL",
    "DUE_DAYS",
    "ENABLING_DAYS",
    "ENABLING_INTERVAL_DAYS",
    "MAX_ATTACHMENT_BYTES",
    "SESSION_CACHE_SIZE",
    "SandboxBackend",
    "sao_paulo_today",
]


class SandboxBackend(
    AccountsMixin,
    InvoicesMixin,
    ContactsMixin,
    RecordsMixin,
    TicketsMixin,
    OutagesMixin,
    SandboxCore,
):
    """A self-contained provider system with demo data (see ``DEMO_ACCOUNTS``)."""

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._engine is not None:
            return
        engine = make_engine(self.database_url)
        try:
            if isinstance(engine, AsyncEngine):
                async with engine.begin() as connection:
                    await connection.run_sync(Base.metadata.create_all)
            else:
                Base.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            await dispose(engine)
            raise Unavailable("cannot open the sandbox database") from exc
        self._engine = engine
        if isinstance(engine, AsyncEngine):
            self._async_sessions = async_sessionmaker(engine, expire_on_commit=False)
        else:
            self._inline_sessions = sessionmaker(engine, expire_on_commit=False)
        async with self._transaction() as db:
            await seed_if_empty(db, self._today())

    async def close(self) -> None:
        if self._engine is not None:
            await dispose(self._engine)
        self._engine = None
        self._inline_sessions = self._async_sessions = None

    def unsupported_features(self) -> frozenset[Feature]:
        return frozenset()

    async def check_features(self) -> list[FeatureCheck]:
        await self.ping()
        return all_ok()

    @operation
    async def ping(self) -> None:
        async with self._reading() as db:
            await db.execute(select(1))
