"""The embedded sandbox backend: every :class:`SubscriberBackend` operation over its own database.

Its policies are the product's reference behaviour (temporary enabling 3 days, once per 30 days;
2% fine and 1% monthly interest pro rata; protocols ``yyyymmdd`` + 6 digits…).
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Select, create_engine, delete, event, func, insert, select, update
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
    InvalidCredentials,
    NotFound,
    Rejected,
    SessionExpired,
    Unavailable,
)
from backend_client.features import Feature, FeatureCheck, all_ok
from backend_client.formats.boleto import format_linha_digitavel
from backend_client.formats.documents import format_document, strip_document
from backend_client.models import (
    AccessLogin,
    AttachmentInfo,
    BackendSession,
    CallRecord,
    ConnectionSession,
    Contact,
    ContactType,
    Contract,
    ContractStatus,
    DateRange,
    Document,
    DueDayChangeRequest,
    DueDayOptions,
    FinancialEntry,
    FiscalNote,
    Invoice,
    InvoiceStatus,
    NewContact,
    NewTicket,
    PhoneLine,
    Subscriber,
    TemporaryEnabling,
    TemporaryEnablingPolicy,
    TerminalType,
    Ticket,
    TicketAuthor,
    TicketMessage,
    TicketStatus,
    TicketSubject,
)
from backend_client.sandbox import billing, convert
from backend_client.sandbox.db import (
    AccessLoginRow,
    AttachmentRow,
    AuthSessionRow,
    Base,
    CallRecordRow,
    ConnectionSessionRow,
    ContactDeviceRow,
    ContactRow,
    ContactTypeRow,
    ContractRow,
    DueDayChangeRow,
    FiscalNoteRow,
    InvoiceRow,
    PhoneLineRow,
    PlanRow,
    ProtocolCounterRow,
    SubscriberRow,
    TemporaryEnablingRow,
    TerminalTypeRow,
    TicketMessageRow,
    TicketRow,
    TicketSubjectRow,
)
from backend_client.sandbox.inline import Db, InlineSession, runs_inline, sync_url
from backend_client.sandbox.security import (
    dummy_hash,
    hash_password,
    needs_rehash,
    new_token,
    password_problem,
    token_hash,
    verify_password,
)
from backend_client.sandbox.seed import PROVIDER_AGENT, SAO_PAULO, local_instant, seed_if_empty

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./minha-central-sandbox.db"
ENABLING_DAYS = 3
ENABLING_INTERVAL_DAYS = 30
DUE_DAYS = (5, 10, 15, 20, 25)
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
SESSION_CACHE_SIZE = 10_000
CLOSED_TICKET_REASON = "Este atendimento está encerrado. Se precisar, abra um novo atendimento."

P = ParamSpec("P")
R = TypeVar("R")


def sao_paulo_today() -> date:
    return datetime.now(SAO_PAULO).date()


def _operation(
    method: Callable[Concatenate[SandboxBackend, P], Awaitable[R]],
) -> Callable[Concatenate[SandboxBackend, P], Awaitable[R]]:
    """Simulate the configured latency (and a simulated outage) before the operation runs."""

    @functools.wraps(method)
    async def wrapper(self: SandboxBackend, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if self.outage:
            raise Unavailable("sandbox outage (simulated)")
        return await method(self, *args, **kwargs)

    return wrapper


def _make_engine(database_url: str) -> Engine | AsyncEngine:
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
    event.listen(engine, "connect", _tune_sqlite)
    return engine


async def _dispose(engine: Engine | AsyncEngine) -> None:
    if isinstance(engine, AsyncEngine):
        await engine.dispose()
    else:
        engine.dispose()


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL (file databases; memory ones ignore it): readers don't wait for the writer, and
    # NORMAL sync spares the fsyncs of every commit (durable across application crashes).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6)}"


def _day_text(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _instant_bounds(period: DateRange) -> tuple[datetime, datetime]:
    """The UTC instants enclosing the São Paulo calendar days of ``period``."""
    return local_instant(period.start), local_instant(period.end + timedelta(days=1))


class SandboxBackend:
    """A self-contained provider system with demo data (see ``DEMO_ACCOUNTS``)."""

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

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._engine is not None:
            return
        engine = _make_engine(self.database_url)
        try:
            if isinstance(engine, AsyncEngine):
                async with engine.begin() as connection:
                    await connection.run_sync(Base.metadata.create_all)
            else:
                Base.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            await _dispose(engine)
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
            await _dispose(self._engine)
        self._engine = None
        self._inline_sessions = self._async_sessions = None

    def unsupported_features(self) -> frozenset[Feature]:
        return frozenset()

    async def check_features(self) -> list[FeatureCheck]:
        await self.ping()
        return all_ok()

    @_operation
    async def ping(self) -> None:
        async with self._reading() as db:
            await db.execute(select(1))

    # --- authentication -------------------------------------------------------------------------
    @_operation
    async def login(self, document: str, password: str) -> BackendSession:
        document = strip_document(document)
        async with self._reading() as db:
            row = await db.scalar(select(SubscriberRow).where(SubscriberRow.document == document))
        stored = row.password_hash if row is not None else await asyncio.to_thread(dummy_hash)
        matches = await asyncio.to_thread(verify_password, password, stored)
        if row is None or not matches:
            raise InvalidCredentials()
        token = new_token()
        if needs_rehash(row.password_hash):  # a database seeded with older parameters
            new_hash = await asyncio.to_thread(hash_password, password)
            async with self._transaction() as db:
                await db.execute(
                    update(SubscriberRow)
                    .where(SubscriberRow.id == row.id)
                    .values(password_hash=new_hash)
                )
        await self._record_session(
            {"token_hash": token_hash(token), "subscriber_id": row.id, "created_at": self._now()}
        )
        self._remember_session(token_hash(token), row.id)
        return BackendSession(
            subscriber_id=row.id, document=row.document, name=row.name, token=token
        )

    async def _record_session(self, values: dict[str, Any]) -> None:
        """Write a new session, with those of the logins waiting meanwhile (group commit): one
        transaction each would make a burst of logins queue for the single writer."""
        self._unwritten_logins.append(values)
        if self._logins_written is None:
            self._logins_written = asyncio.ensure_future(self._write_new_sessions())
        await asyncio.shield(self._logins_written)

    async def _write_new_sessions(self) -> None:
        taken = False
        try:
            async with self._transaction() as db:
                # Taken once this writer's turn has come: logins meanwhile joined the batch.
                batch, self._unwritten_logins = self._unwritten_logins, []
                self._logins_written = None
                taken = True
                await db.execute(insert(AuthSessionRow), batch)
        except BaseException:
            if not taken:  # these logins fail (the error reaches each); the next ones retry
                self._unwritten_logins, self._logins_written = [], None
            raise

    @_operation
    async def logout(self, session: BackendSession) -> None:
        """Forget the session; logging out twice is harmless."""
        key = token_hash(session.token)
        self._session_owners.pop(key, None)
        async with self._transaction() as db:
            await db.execute(delete(AuthSessionRow).where(AuthSessionRow.token_hash == key))

    @_operation
    async def change_password(
        self, session: BackendSession, current_password: str, new_password: str
    ) -> None:
        """The cheap policy check comes first, so a weak password costs no scrypt run."""
        problem = password_problem(current_password, new_password)
        if problem is not None:
            raise Rejected(problem)
        async with self._reading() as db:
            stored = (await self._subscriber(db, session)).password_hash
        if not await asyncio.to_thread(verify_password, current_password, stored):
            raise InvalidCredentials()
        new_hash = await asyncio.to_thread(hash_password, new_password)
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            subscriber.password_hash = new_hash
            # Every other session ends: whoever knew the old password is logged out.
            self._forget_sessions(subscriber.id, keep=token_hash(session.token))
            await db.execute(
                delete(AuthSessionRow).where(
                    AuthSessionRow.subscriber_id == subscriber.id,
                    AuthSessionRow.token_hash != token_hash(session.token),
                )
            )

    # --- account --------------------------------------------------------------------------------
    @_operation
    async def get_subscriber(self, session: BackendSession) -> Subscriber:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            contract_rows = (
                await db.execute(
                    select(ContractRow, PlanRow)
                    .join(PlanRow, PlanRow.id == ContractRow.plan_id)
                    .where(ContractRow.subscriber_id == subscriber.id)
                    .order_by(ContractRow.started_on, ContractRow.id)
                )
            ).all()
            logins = await self._logins_by_contract(db, [c.id for c, _ in contract_rows])
        today = self._today()
        contracts = []
        for contract, plan in contract_rows:
            status, until = convert.effective_status(contract, today)
            contracts.append(
                Contract(
                    id=contract.id,
                    number=contract.number,
                    plan=convert.plan(plan),
                    status=status,
                    address=convert.address(contract),
                    due_day=contract.due_day,
                    started_on=contract.started_on,
                    logins=logins.get(contract.id, ()),
                    temporarily_enabled_until=until,
                )
            )
        return Subscriber(
            id=subscriber.id,
            name=subscriber.name,
            document=subscriber.document,
            email=subscriber.email,
            phones=tuple(p for p in subscriber.phones.split(",") if p),
            address=convert.address(subscriber),
            contracts=tuple(contracts),
        )

    @staticmethod
    async def _logins_by_contract(
        db: Db, contract_ids: list[str]
    ) -> dict[str, tuple[AccessLogin, ...]]:
        rows = (
            await db.scalars(
                select(AccessLoginRow)
                .where(AccessLoginRow.contract_id.in_(contract_ids))
                .order_by(AccessLoginRow.id)
            )
        ).all()
        online = set(
            await db.scalars(
                select(ConnectionSessionRow.login_id).where(
                    ConnectionSessionRow.login_id.in_([r.id for r in rows]),
                    ConnectionSessionRow.ended_at.is_(None),
                )
            )
        )
        result: dict[str, tuple[AccessLogin, ...]] = {}
        for row in rows:
            login = AccessLogin(
                id=row.id,
                contract_id=row.contract_id,
                login=row.login,
                ip_address=row.ip_address,
                kind=row.kind,
                online=row.id in online,
            )
            result[row.contract_id] = (*result.get(row.contract_id, ()), login)
        return result

    # --- temporary enabling ---------------------------------------------------------------------
    async def _enabling_policy(self, db: Db, contract: ContractRow) -> TemporaryEnablingPolicy:
        today = self._today()
        last_used = await db.scalar(
            select(func.max(TemporaryEnablingRow.used_on)).where(
                TemporaryEnablingRow.contract_id == contract.id
            )
        )
        status, until = convert.effective_status(contract, today)
        reason: str | None = None
        if status is ContractStatus.TEMPORARILY_ENABLED and until is not None:
            reason = f"A habilitação provisória deste contrato já vale até {_day_text(until)}."
        elif status is not ContractStatus.SUSPENDED:
            reason = "Este contrato não está suspenso."
        elif last_used is not None and (today - last_used).days < ENABLING_INTERVAL_DAYS:
            again = last_used + timedelta(days=ENABLING_INTERVAL_DAYS)
            reason = (
                f"A habilitação provisória foi usada em {_day_text(last_used)} e só pode ser "
                f"pedida uma vez a cada {ENABLING_INTERVAL_DAYS} dias. Você poderá pedir de novo "
                f"a partir de {_day_text(again)}."
            )
        return TemporaryEnablingPolicy(
            days=ENABLING_DAYS,
            interval_days=ENABLING_INTERVAL_DAYS,
            eligible=reason is None,
            reason=reason,
            last_used_on=last_used,
        )

    @_operation
    async def get_temporary_enabling_policy(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnablingPolicy:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            contract = await self._contract_row(db, subscriber.id, contract_id)
            return await self._enabling_policy(db, contract)

    @_operation
    async def request_temporary_enabling(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnabling:
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            contract = await self._contract_row(db, subscriber.id, contract_id)
            policy = await self._enabling_policy(db, contract)
            if not policy.eligible:
                raise Rejected(policy.reason or "Este contrato não pode ser habilitado agora.")
            today = self._today()
            until = today + timedelta(days=ENABLING_DAYS)
            protocol = await self._next_protocol(db)
            contract.status = ContractStatus.TEMPORARILY_ENABLED.value
            contract.temporarily_enabled_until = until
            db.add(
                TemporaryEnablingRow(
                    contract_id=contract.id, used_on=today, enabled_until=until, protocol=protocol
                )
            )
            await self._reconnect(db, contract.id)
        return TemporaryEnabling(contract_id=contract_id, enabled_until=until, protocol=protocol)

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
                        id=_new_id("cs"),
                        login_id=login.id,
                        started_at=self._now(),
                        ended_at=None,
                        ip_address=login.ip_address,
                        download_bytes=0,
                        upload_bytes=0,
                        termination_cause=None,
                    )
                )

    # --- invoices -------------------------------------------------------------------------------
    @_operation
    async def list_invoices(
        self,
        session: BackendSession,
        period: DateRange | None = None,
        statuses: frozenset[InvoiceStatus] | None = None,
        contract_id: str | None = None,
    ) -> list[Invoice]:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            query = (
                select(InvoiceRow)
                .join(ContractRow, ContractRow.id == InvoiceRow.contract_id)
                .where(ContractRow.subscriber_id == subscriber.id)
                .order_by(InvoiceRow.due_date, InvoiceRow.id)
            )
            if contract_id is not None:
                await self._contract_row(db, subscriber.id, contract_id)
                query = query.where(InvoiceRow.contract_id == contract_id)
            if period is not None:
                query = query.where(InvoiceRow.due_date.between(period.start, period.end))
            if statuses is not None:
                query = query.where(InvoiceRow.status.in_([s.value for s in statuses]))
            rows = (await db.scalars(query)).all()
        today = self._today()
        return [convert.invoice(row, today) for row in rows]

    @_operation
    async def get_invoice(self, session: BackendSession, invoice_id: str) -> Invoice:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            row = await self._invoice_row(db, subscriber.id, invoice_id)
        return convert.invoice(row, self._today())

    @_operation
    async def get_boleto_pdf(self, session: BackendSession, invoice_id: str) -> Document:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            row = await self._invoice_row(db, subscriber.id, invoice_id)
        invoice = convert.invoice(row, self._today())
        if invoice.status is InvoiceStatus.PAID:
            raise Rejected("Esta fatura já está paga; não há boleto para pagar.")
        if invoice.status is InvoiceStatus.CANCELLED or invoice.linha_digitavel is None:
            raise Rejected("Esta fatura foi cancelada; não há boleto para pagar.")
        payer = convert.address(subscriber)
        from backend_client.sandbox import pdf  # fpdf2 (~20 MB) only once a PDF is asked for

        data = pdf.BoletoData(
            payee_name=billing.PAYEE.name,
            payee_document=format_document(billing.PAYEE.cnpj),
            payee_address=billing.PAYEE.address,
            payer_name=subscriber.name,
            payer_document=format_document(subscriber.document),
            payer_address=convert.address_line(payer),
            bank_code=row.bank_code,
            bank_code_with_dv=billing.BANK_CODES_WITH_DV[row.bank_code],
            bank_name=billing.BANK_NAMES[row.bank_code],
            invoice_number=str(row.number),
            nosso_numero=billing.nosso_numero(row.bank_code, row.number),
            reference=row.reference,
            issued_on=row.issued_on,
            due_date=row.due_date,
            amount=invoice.amount,
            linha_digitavel=format_linha_digitavel(invoice.linha_digitavel),
            barcode=billing.boleto_barcode(row.bank_code, row.number, row.due_date, invoice.amount),
            instructions="Após o vencimento: multa de 2% e juros de 1% ao mês (pro rata die).",
            pix_code=invoice.pix_code,
            created_at=self._now(),
        )
        content = await asyncio.to_thread(pdf.boleto_pdf, data)
        filename = f"boleto-{row.reference.replace('/', '-')}.pdf"
        return Document(filename=filename, content_type="application/pdf", content=content)

    @_operation
    async def list_financial_entries(
        self, session: BackendSession, period: DateRange
    ) -> list[FinancialEntry]:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            rows = (
                await db.execute(
                    select(InvoiceRow, PlanRow.name)
                    .join(ContractRow, ContractRow.id == InvoiceRow.contract_id)
                    .join(PlanRow, PlanRow.id == ContractRow.plan_id)
                    .where(
                        ContractRow.subscriber_id == subscriber.id,
                        InvoiceRow.status != InvoiceStatus.CANCELLED.value,
                        InvoiceRow.due_date.between(period.start, period.end),
                    )
                    .order_by(InvoiceRow.due_date, InvoiceRow.id)
                )
            ).all()
        return [
            FinancialEntry(
                invoice_id=row.id,
                contract_id=row.contract_id,
                description=f"Fatura {row.reference} - {plan_name}",
                due_date=row.due_date,
                amount=billing.cents_to_decimal(row.amount_cents),
                status=InvoiceStatus(row.status),
                paid_on=row.paid_on,
                paid_amount=(
                    None
                    if row.paid_amount_cents is None
                    else billing.cents_to_decimal(row.paid_amount_cents)
                ),
            )
            for row, plan_name in rows
        ]

    # --- fiscal notes ---------------------------------------------------------------------------
    @_operation
    async def list_fiscal_notes(
        self, session: BackendSession, period: DateRange
    ) -> list[FiscalNote]:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            rows = await db.scalars(
                select(FiscalNoteRow)
                .where(
                    FiscalNoteRow.subscriber_id == subscriber.id,
                    FiscalNoteRow.issued_on.between(period.start, period.end),
                )
                .order_by(FiscalNoteRow.issued_on, FiscalNoteRow.id)
            )
            return [convert.fiscal_note(row) for row in rows]

    @_operation
    async def get_fiscal_note_pdf(self, session: BackendSession, note_id: str) -> Document:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            note = await db.get(FiscalNoteRow, note_id)
            if note is None or note.subscriber_id != subscriber.id:
                raise NotFound(f"fiscal note {note_id}")
            contract = await db.get(ContractRow, note.contract_id) if note.contract_id else None
        amount = billing.cents_to_decimal(note.amount_cents)
        from backend_client.sandbox import pdf  # see get_boleto_pdf

        data = pdf.FiscalNoteData(
            model=note.model,
            number=note.number,
            series=note.series,
            issued_on=note.issued_on,
            issuer_name=billing.PAYEE.name,
            issuer_document=format_document(billing.PAYEE.cnpj),
            issuer_address=billing.PAYEE.address,
            recipient_name=subscriber.name,
            recipient_document=format_document(subscriber.document),
            recipient_address=convert.address_line(convert.address(contract or subscriber)),
            items=[(note.description, amount)],
            total=amount,
            created_at=self._now(),
        )
        content = await asyncio.to_thread(pdf.fiscal_note_pdf, data)
        return Document(
            filename=f"nota-fiscal-{note.number}.pdf",
            content_type="application/pdf",
            content=content,
        )

    # --- contacts -------------------------------------------------------------------------------
    @_operation
    async def list_contacts(self, session: BackendSession) -> list[Contact]:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            rows = (
                await db.execute(
                    select(ContactRow, ContactTypeRow)
                    .join(ContactTypeRow, ContactTypeRow.id == ContactRow.type_id)
                    .where(ContactRow.subscriber_id == subscriber.id)
                    .order_by(ContactRow.created_at, ContactRow.id)
                )
            ).all()
        return [convert.contact(contact, contact_type) for contact, contact_type in rows]

    @_operation
    async def list_contact_types(self, session: BackendSession) -> list[ContactType]:
        async with self._reading() as db:
            await self._subscriber(db, session)
            rows = await db.scalars(select(ContactTypeRow).order_by(ContactTypeRow.position))
            return [ContactType(id=row.id, name=row.name) for row in rows]

    @_operation
    async def add_contact(self, session: BackendSession, contact: NewContact) -> Contact:
        name = " ".join(contact.name.split())
        if not name:
            raise Rejected("Informe o nome completo do contato.")
        if not contact.mobile.strip():
            raise Rejected("Informe o celular do contato.")
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            contact_type = await db.get(ContactTypeRow, contact.type_id)
            if contact_type is None:
                raise NotFound(f"contact type {contact.type_id}")
            row = ContactRow(
                id=_new_id("ct"),
                subscriber_id=subscriber.id,
                name=name,
                type_id=contact_type.id,
                mobile=contact.mobile.strip(),
                landline=(contact.landline or "").strip() or None,
                email=(contact.email or "").strip() or None,
                sms_opt_in=contact.sms_opt_in,
                created_at=self._now(),
            )
            db.add(row)
        return convert.contact(row, contact_type)

    @_operation
    async def link_contact_device(
        self, session: BackendSession, contact_id: str, device_id: str
    ) -> None:
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            await self._contact_row(db, subscriber.id, contact_id)
            if await db.get(ContactDeviceRow, (contact_id, device_id)) is None:
                db.add(
                    ContactDeviceRow(
                        contact_id=contact_id, device_id=device_id, linked_at=self._now()
                    )
                )

    @_operation
    async def unlink_contact_device(
        self, session: BackendSession, contact_id: str, device_id: str
    ) -> None:
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            await self._contact_row(db, subscriber.id, contact_id)
            await db.execute(
                delete(ContactDeviceRow).where(
                    ContactDeviceRow.contact_id == contact_id,
                    ContactDeviceRow.device_id == device_id,
                )
            )

    async def contact_devices(self, contact_id: str) -> list[str]:
        """Devices linked to a contact (sandbox inspection helper, not part of the protocol)."""
        async with self._reading() as db:
            rows = await db.scalars(
                select(ContactDeviceRow.device_id)
                .where(ContactDeviceRow.contact_id == contact_id)
                .order_by(ContactDeviceRow.device_id)
            )
            return list(rows)

    # --- call records ---------------------------------------------------------------------------
    @_operation
    async def list_phone_lines(self, session: BackendSession) -> list[PhoneLine]:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            rows = await db.scalars(
                select(PhoneLineRow)
                .join(ContractRow, ContractRow.id == PhoneLineRow.contract_id)
                .where(ContractRow.subscriber_id == subscriber.id)
                .order_by(PhoneLineRow.id)
            )
            return [PhoneLine(id=r.id, contract_id=r.contract_id, number=r.number) for r in rows]

    @_operation
    async def list_terminal_types(self, session: BackendSession) -> list[TerminalType]:
        async with self._reading() as db:
            await self._subscriber(db, session)
            rows = await db.scalars(select(TerminalTypeRow).order_by(TerminalTypeRow.position))
            return [TerminalType(id=row.id, name=row.name) for row in rows]

    @_operation
    async def list_call_records(
        self,
        session: BackendSession,
        line_id: str,
        period: DateRange,
        terminal_type_id: str | None = None,
    ) -> list[CallRecord]:
        start, end = _instant_bounds(period)
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            await self._line_row(db, subscriber.id, line_id)
            query = (
                select(CallRecordRow)
                .where(
                    CallRecordRow.line_id == line_id,
                    CallRecordRow.started_at >= start,
                    CallRecordRow.started_at < end,
                )
                .order_by(CallRecordRow.started_at, CallRecordRow.id)
            )
            if terminal_type_id is not None:
                if await db.get(TerminalTypeRow, terminal_type_id) is None:
                    raise NotFound(f"terminal type {terminal_type_id}")
                query = query.where(CallRecordRow.terminal_type_id == terminal_type_id)
            rows = await db.scalars(query)
            return [
                CallRecord(
                    id=row.id,
                    line_id=row.line_id,
                    terminal_type_id=row.terminal_type_id,
                    started_at=row.started_at,
                    called_number=row.called_number,
                    duration_seconds=row.duration_seconds,
                    cost=billing.cents_to_decimal(row.cost_cents),
                )
                for row in rows
            ]

    # --- connection records ---------------------------------------------------------------------
    @_operation
    async def list_connection_sessions(
        self, session: BackendSession, login_id: str, period: DateRange
    ) -> list[ConnectionSession]:
        start, end = _instant_bounds(period)
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            login = await self._login_row(db, subscriber.id, login_id)
            rows = await db.scalars(
                select(ConnectionSessionRow)
                .where(
                    ConnectionSessionRow.login_id == login_id,
                    ConnectionSessionRow.started_at >= start,
                    ConnectionSessionRow.started_at < end,
                )
                .order_by(ConnectionSessionRow.started_at, ConnectionSessionRow.id)
            )
            return [
                ConnectionSession(
                    id=row.id,
                    login=login.login,
                    started_at=row.started_at,
                    ended_at=row.ended_at,
                    ip_address=row.ip_address,
                    download_bytes=row.download_bytes,
                    upload_bytes=row.upload_bytes,
                    termination_cause=row.termination_cause,
                )
                for row in rows
            ]

    # --- due day --------------------------------------------------------------------------------
    @staticmethod
    async def _pending_due_day_change(db: Db, contract: ContractRow) -> DueDayChangeRow | None:
        """The contract's latest request while the provider has not applied it (the contract's
        due day is still another): it awaits the provider, and no other request is taken."""
        latest = await db.scalar(
            select(DueDayChangeRow)
            .where(DueDayChangeRow.contract_id == contract.id)
            .order_by(DueDayChangeRow.requested_at.desc(), DueDayChangeRow.id.desc())
            .limit(1)
        )
        if latest is None or latest.requested_day == contract.due_day:
            return None
        return latest

    @staticmethod
    def _due_day_request(row: DueDayChangeRow) -> DueDayChangeRequest:
        return DueDayChangeRequest(
            contract_id=row.contract_id,
            current_day=row.current_day,
            requested_day=row.requested_day,
            protocol=row.protocol,
            requested_at=row.requested_at,
            email_sent_to=row.email_sent_to,
        )

    @_operation
    async def get_due_day_options(self, session: BackendSession, contract_id: str) -> DueDayOptions:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            contract = await self._contract_row(db, subscriber.id, contract_id)
            pending = await self._pending_due_day_change(db, contract)
        return DueDayOptions(
            contract_id=contract.id,
            current_day=contract.due_day,
            available_days=tuple(day for day in DUE_DAYS if day != contract.due_day),
            pending=self._due_day_request(pending) if pending is not None else None,
        )

    @_operation
    async def request_due_day_change(
        self, session: BackendSession, contract_id: str, new_day: int
    ) -> DueDayChangeRequest:
        """Recorded for the provider's approval; the contract's due day does not change yet.
        While a request awaits the provider, another one (the same day or not) is Rejected."""
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            contract = await self._contract_row(db, subscriber.id, contract_id)
            pending = await self._pending_due_day_change(db, contract)
            if pending is not None:
                same = "para esse mesmo dia " if pending.requested_day == new_day else ""
                raise Rejected(
                    f"Já existe um pedido {same}em análise para este contrato: dia "
                    f"{pending.requested_day}, protocolo {pending.protocol}. Aguarde a resposta "
                    "do provedor."
                )
            options = [day for day in DUE_DAYS if day != contract.due_day]
            if new_day not in options:
                days = ", ".join(str(day) for day in options[:-1]) + f" ou {options[-1]}"
                raise Rejected(f"Dia de vencimento indisponível. Escolha o dia {days}.")
            row = DueDayChangeRow(
                contract_id=contract.id,
                current_day=contract.due_day,
                requested_day=new_day,
                protocol=await self._next_protocol(db),
                requested_at=self._now(),
                email_sent_to=subscriber.email,
            )
            db.add(row)
        return self._due_day_request(row)

    # --- tickets --------------------------------------------------------------------------------
    @_operation
    async def list_ticket_subjects(self, session: BackendSession) -> list[TicketSubject]:
        async with self._reading() as db:
            await self._subscriber(db, session)
            rows = await db.scalars(select(TicketSubjectRow).order_by(TicketSubjectRow.position))
            return [TicketSubject(id=row.id, name=row.name) for row in rows]

    @_operation
    async def list_tickets(
        self, session: BackendSession, statuses: frozenset[TicketStatus] | None = None
    ) -> list[Ticket]:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            query = (
                select(TicketRow, TicketSubjectRow.name)
                .join(TicketSubjectRow, TicketSubjectRow.id == TicketRow.subject_id)
                .where(TicketRow.subscriber_id == subscriber.id)
                .order_by(TicketRow.opened_at.desc(), TicketRow.id.desc())
            )
            if statuses is not None:
                query = query.where(TicketRow.status.in_([s.value for s in statuses]))
            rows = (await db.execute(query)).all()
        return [convert.ticket(row, subject) for row, subject in rows]

    async def _full_ticket(self, db: Db, row: TicketRow) -> Ticket:
        subject = await db.get(TicketSubjectRow, row.subject_id)
        messages = (
            await db.scalars(
                select(TicketMessageRow)
                .where(TicketMessageRow.ticket_id == row.id)
                .order_by(TicketMessageRow.position)
            )
        ).all()
        attachments = (
            await db.execute(
                select(
                    AttachmentRow.id,
                    AttachmentRow.message_id,
                    AttachmentRow.filename,
                    AttachmentRow.content_type,
                    func.length(AttachmentRow.content),
                )
                .where(AttachmentRow.ticket_id == row.id)
                .order_by(AttachmentRow.id)
            )
        ).all()
        infos: dict[str, list[AttachmentInfo]] = {}
        for attachment_id, message_id, filename, content_type, size in attachments:
            infos.setdefault(message_id, []).append(
                AttachmentInfo(
                    id=attachment_id, filename=filename, content_type=content_type, size=size
                )
            )
        history = tuple(
            TicketMessage(
                id=message.id,
                author=TicketAuthor(message.author),
                author_name=message.author_name,
                sent_at=message.sent_at,
                text=message.text,
                attachments=tuple(infos.get(message.id, ())),
            )
            for message in messages
        )
        return convert.ticket(row, subject.name if subject else row.subject_id, history)

    @_operation
    async def get_ticket(self, session: BackendSession, ticket_id: str) -> Ticket:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            row = await self._ticket_row(db, subscriber.id, ticket_id)
            return await self._full_ticket(db, row)

    async def _add_message(
        self,
        db: Db,
        ticket: TicketRow,
        author: TicketAuthor,
        author_name: str,
        text: str,
        attachments: tuple[Document, ...] = (),
    ) -> None:
        """Append a message (and its files) to ``ticket`` and touch its ``updated_at``."""
        last = await db.scalar(
            select(func.max(TicketMessageRow.position)).where(
                TicketMessageRow.ticket_id == ticket.id
            )
        )
        message = TicketMessageRow(
            id=_new_id("msg"),
            ticket_id=ticket.id,
            position=0 if last is None else last + 1,
            author=author.value,
            author_name=author_name,
            sent_at=self._now(),
            text=text,
        )
        db.add(message)
        await db.flush()  # the attachments reference the message
        for document in attachments:
            db.add(
                AttachmentRow(
                    id=_new_id("att"),
                    ticket_id=ticket.id,
                    message_id=message.id,
                    filename=document.filename,
                    content_type=document.content_type,
                    content=document.content,
                )
            )
        ticket.updated_at = message.sent_at
        await db.flush()

    @staticmethod
    def _check_attachments(attachments: tuple[Document, ...]) -> None:
        for document in attachments:
            if len(document.content) > MAX_ATTACHMENT_BYTES:
                limit = MAX_ATTACHMENT_BYTES // (1024 * 1024)
                raise Rejected(f"O arquivo {document.filename} passa do limite de {limit} MB.")

    @_operation
    async def open_ticket(self, session: BackendSession, ticket: NewTicket) -> Ticket:
        description = ticket.description.strip()
        if not description:
            raise Rejected("Descreva o motivo do atendimento.")
        self._check_attachments(ticket.attachments)
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            if ticket.idempotency_key is not None:
                existing = await db.scalar(
                    select(TicketRow).where(
                        TicketRow.subscriber_id == subscriber.id,
                        TicketRow.idempotency_key == ticket.idempotency_key,
                    )
                )
                if existing is not None:
                    return await self._full_ticket(db, existing)
            if await db.get(TicketSubjectRow, ticket.subject_id) is None:
                raise NotFound(f"ticket subject {ticket.subject_id}")
            if ticket.contract_id is not None:
                await self._contract_row(db, subscriber.id, ticket.contract_id)
            now = self._now()
            row = TicketRow(
                id=_new_id("tk"),
                subscriber_id=subscriber.id,
                contract_id=ticket.contract_id,
                subject_id=ticket.subject_id,
                protocol=await self._next_protocol(db),
                status=TicketStatus.OPEN.value,
                opened_at=now,
                updated_at=now,
                idempotency_key=ticket.idempotency_key,
            )
            db.add(row)
            await db.flush()  # the first message references the ticket
            await self._add_message(
                db, row, TicketAuthor.SUBSCRIBER, subscriber.name, description, ticket.attachments
            )
            return await self._full_ticket(db, row)

    @_operation
    async def reply_ticket(
        self,
        session: BackendSession,
        ticket_id: str,
        text: str,
        attachments: tuple[Document, ...] = (),
    ) -> Ticket:
        text = text.strip()
        if not text and not attachments:
            raise Rejected("Escreva uma mensagem ou envie um arquivo.")
        self._check_attachments(attachments)
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            row = await self._ticket_row(db, subscriber.id, ticket_id)
            if row.status == TicketStatus.CLOSED.value:
                raise Rejected(CLOSED_TICKET_REASON)
            row.status = TicketStatus.OPEN.value  # a pending ticket goes back to the provider
            await self._add_message(
                db, row, TicketAuthor.SUBSCRIBER, subscriber.name, text, attachments
            )
            return await self._full_ticket(db, row)

    @_operation
    async def get_ticket_attachment(
        self, session: BackendSession, ticket_id: str, attachment_id: str
    ) -> Document:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            await self._ticket_row(db, subscriber.id, ticket_id)
            attachment = await db.get(AttachmentRow, attachment_id)
            if attachment is None or attachment.ticket_id != ticket_id:
                raise NotFound(f"attachment {attachment_id}")
            return Document(
                filename=attachment.filename,
                content_type=attachment.content_type,
                content=attachment.content,
            )

    # --- sandbox controls (not part of the protocol) ----------------------------------------------
    # What the provider's staff would do in their system, so demos and tests can see the bot
    # react (payment confirmed, ticket answered or closed, backend down).

    async def simulate_payment(self, invoice_id: str, paid_on: date | None = None) -> Invoice:
        """The provider receives an open invoice's payment (with any late charges); a suspended
        or temporarily enabled contract with nothing else overdue becomes active again."""
        day = paid_on or self._today()
        async with self._transaction() as db:
            row = await db.get(InvoiceRow, invoice_id)
            if row is None:
                raise NotFound(f"invoice {invoice_id}")
            if row.status != InvoiceStatus.OPEN.value:
                raise Rejected("Esta fatura não está em aberto.")
            amount = billing.cents_to_decimal(row.amount_cents)
            fine, interest = billing.late_charges(amount, row.due_date, day)
            row.status = InvoiceStatus.PAID.value
            row.paid_on = day
            row.paid_amount_cents = billing.decimal_to_cents(amount + fine + interest)
            await db.flush()
            await self._reactivate_if_settled(db, row.contract_id, day)
        return convert.invoice(row, self._today())

    async def _reactivate_if_settled(self, db: Db, contract_id: str, day: date) -> None:
        contract = await db.get(ContractRow, contract_id)
        if contract is None or contract.status not in (
            ContractStatus.SUSPENDED.value,
            ContractStatus.TEMPORARILY_ENABLED.value,
        ):
            return
        overdue = await db.scalar(
            select(func.count(InvoiceRow.id)).where(
                InvoiceRow.contract_id == contract_id,
                InvoiceRow.status == InvoiceStatus.OPEN.value,
                InvoiceRow.due_date < day,
            )
        )
        if not overdue:
            contract.status = ContractStatus.ACTIVE.value
            contract.temporarily_enabled_until = None
            await self._reconnect(db, contract_id)

    async def simulate_provider_reply(
        self,
        ticket_id: str,
        text: str,
        *,
        close: bool = False,
        attachments: tuple[Document, ...] = (),
    ) -> Ticket:
        """An agent answers a ticket: it becomes pending (waiting for the subscriber) or closed."""
        async with self._transaction() as db:
            row = await db.get(TicketRow, ticket_id)
            if row is None:
                raise NotFound(f"ticket {ticket_id}")
            row.status = (TicketStatus.CLOSED if close else TicketStatus.PENDING).value
            await self._add_message(
                db, row, TicketAuthor.PROVIDER, PROVIDER_AGENT, text, attachments
            )
            return await self._full_ticket(db, row)
