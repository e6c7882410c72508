"""IXCSoft (IXC Provedor, webservice v1) as a :class:`~backend_client.protocol.SubscriberBackend`.

The integration authenticates with HTTP Basic ``<user id>:<token>`` (``BACKEND_USER`` /
``BACKEND_TOKEN``). IXC has no subscriber-login endpoint: the adapter looks ``cliente`` up by
``cnpj_cpf`` (formatted first, then unformatted: installations store either) and compares the
Central password field with :func:`hmac.compare_digest`. The password is not needed afterwards, so
the session token is a signed (HMAC) token naming the ``cliente`` id: it survives a restart.

Every id the bot acts on is looked up and its ``id_cliente`` compared with the session's before use.
Not in IXC's webservice (NotSupported): due-day change, changing the Central password, contacts and
chat links, and downloading ticket attachments.

Installations give their webservice user different permissions. A table it may not use answers
with an error envelope (see :mod:`backend_client.ixc.query`): the operation that needed it raises
NotPermitted naming the table, and the bot says the item is unavailable. Lookup tables are
optional: without ``cidade``/``uf`` addresses have no city or UF, without ``vd_contratos`` a plan
whose contract has no price has none, without ``su_oss_assunto`` the subjects come from
``ticket_subjects`` (the provider's configuration). Each is logged once as a WARNING naming it.
``check_features`` probes each table with a one-row listing.

This module makes the calls; turning IXC's rows into models is :mod:`backend_client.ixc.mapping`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import aiohttp

from backend_client.errors import (
    CredentialsRefused,
    InvalidCredentials,
    NotFound,
    NotPermitted,
    NotSupported,
    Rejected,
    SessionExpired,
    Unavailable,
)
from backend_client.features import CheckState, Feature, FeatureCheck
from backend_client.formats.documents import format_document, strip_document
from backend_client.formats.phones import brazilian_e164
from backend_client.ixc import mapping
from backend_client.ixc.query import (
    REFUSED,
    SYSTEM,
    Filter,
    IxcClient,
    error_message,
    refusal,
)
from backend_client.kit.shape import SAO_PAULO, Record, warn_once
from backend_client.kit.tokens import TokenSigner, derive_key
from backend_client.kit.transport import HttpTransport
from backend_client.models import (
    Address,
    BackendSession,
    CallRecord,
    ConnectionSession,
    Contact,
    ContactType,
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
    TicketStatus,
    TicketSubject,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

# The tables each menu item reads; check_features probes each with a one-row listing.
FEATURE_TABLES: dict[Feature, tuple[str, ...]] = {
    Feature.ACCOUNT: ("cliente", "cliente_contrato", "radusuarios"),
    Feature.ENABLING: ("cliente_contrato",),
    Feature.INVOICES: ("fn_areceber",),
    Feature.STATEMENT: ("fn_areceber",),
    Feature.FISCAL_NOTES: ("vd_saida",),
    Feature.CONNECTIONS: ("radusuarios", "radacct"),
    Feature.CALLS: ("cliente_contrato", "cdr"),
    Feature.TICKETS: ("su_ticket", "su_mensagens"),
    Feature.NEW_TICKET: ("su_ticket",),
    Feature.TICKET_ATTACHMENTS: ("su_ticket_arquivos",),
}
# Tables read when the webservice user may (lookups): the item works without them, as said here.
OPTIONAL_USES: dict[str, tuple[Feature, str]] = {
    "cidade": (Feature.ACCOUNT, "without city names"),
    "uf": (Feature.ACCOUNT, "without states (UF)"),
    "vd_contratos": (Feature.ACCOUNT, "without the price of plans whose contract has none"),
    "fn_areceber": (Feature.ACCOUNT, "without due days"),
    "su_oss_assunto": (Feature.NEW_TICKET, "with the configured ticket subjects"),
    "su_ticket_arquivos": (Feature.TICKET_ATTACHMENTS, "without checking which files went"),
}
OPTIONAL_TABLES = frozenset(OPTIONAL_USES)
# radacct has no "id" column (public integrations: generated schemas of IXC's tables).
PROBE_FIELDS = {"radacct": "radacctid"}
RELEARN_SECONDS = 15 * 60  # a refused table is asked again after this (an admin may grant it)
ENABLING_OUTCOMES = {"sucesso": True, "success": True, "erro": False, "error": False}
# get_boleto flags of the updated 2ª via (public integrations): the PDF and the data agree.
SECOND_COPY = {"juro": "S", "multa": "S", "atualiza_boleto": "S"}
NO_BOLETO = "O boleto desta fatura não está disponível agora. Fale com o provedor."
NO_NOTE_PDF = "O PDF desta nota fiscal não está disponível agora. Fale com o provedor."
CLOSED_TICKET_REASON = "Este atendimento está encerrado. Se precisar, abra um novo atendimento."
_PROTOCOL_RE = re.compile(r"protocolo\D{0,5}(\d{4,})", re.IGNORECASE)
_SESSION_PURPOSE = "minha-central ixc session v1"


def _sao_paulo_today() -> date:
    return datetime.now(SAO_PAULO).date()


class IxcBackend:
    """Subscriber operations against an IXC Provedor installation (``base_url`` = its root)."""

    def __init__(
        self,
        base_url: str,
        user: str,
        token: str,
        *,
        timeout: float = 10.0,
        read_retries: int = 2,
        backoff: float = 0.25,
        pool_size: int = 10,
        password_field: str = "senha",
        enabling_days: int = 3,
        enabling_interval_days: int = 30,
        session_secret: str | None = None,
        session_max_age_seconds: float = 30 * 24 * 3600,
        today: Callable[[], date] | None = None,
        ticket_subjects: Sequence[TicketSubject] = (),
    ) -> None:
        root = re.sub(r"/webservice/v1/?$", "", base_url.rstrip("/"))
        basic = base64.b64encode(f"{user}:{token}".encode()).decode("ascii")
        self._transport = HttpTransport(
            root,
            system=SYSTEM,
            timeout=timeout,
            read_retries=read_retries,
            backoff=backoff,
            pool_size=pool_size,
            headers={
                "Accept": "application/json",
                "Authorization": "Basic " + basic,
            },
            secrets=[token, basic],
        )
        self._ixc = IxcClient(self._transport)
        self._password_field = password_field
        self._enabling_days = enabling_days
        self._enabling_interval = enabling_interval_days
        self._signer = TokenSigner(
            derive_key(session_secret or token, _SESSION_PURPOSE), session_max_age_seconds
        )
        self._revoked: set[str] = set()
        self._today = today or _sao_paulo_today
        self._places: dict[str, tuple[str, str]] = {}  # cidade id -> (name, UF)
        # Subjects the provider configured, for a webservice user that may not read su_oss_assunto.
        self._ticket_subjects = tuple(ticket_subjects)
        self._refused: dict[str, float] = {}  # optional table -> when it was refused (monotonic)
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        return f"IxcBackend({self._transport.base_url!r})"

    async def _optional(
        self, table: str, fetch: Callable[[], Awaitable[T]], what: str | None = None
    ) -> T | None:
        """``fetch()`` reading a lookup ``table`` the bot can do without: None when the webservice
        user may not read it (one WARNING naming the table; not asked again for a while)."""
        refused_at = self._refused.get(table)
        if refused_at is not None and time.monotonic() - refused_at < RELEARN_SECONDS:
            return None
        try:
            result = await fetch()
        except NotPermitted:
            self._refused[table] = time.monotonic()
            if table not in self._warned:
                self._warned.add(table)
                feature, consequence = OPTIONAL_USES[table]
                logger.warning(
                    "IXC: the webservice user may not read %s: %s %s",
                    table,
                    feature.value,
                    what or consequence,
                )
            return None
        self._refused.pop(table, None)
        return result

    # --- sessions -------------------------------------------------------------------------------
    def _owner(self, session: BackendSession) -> str:
        if session.token in self._revoked:
            raise SessionExpired()
        claims = self._signer.verify(session.token)
        if claims.get("sub") != session.subscriber_id:
            raise SessionExpired()
        return session.subscriber_id

    async def _cliente(self, owner: str) -> Record:
        cliente = await self._ixc.one("cliente", owner)
        if cliente is None:
            raise SessionExpired()
        return cliente

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        await self._transport.start()

    async def close(self) -> None:
        await self._transport.close()

    def unsupported_features(self) -> frozenset[Feature]:
        return frozenset(
            {
                Feature.PASSWORD,
                Feature.CONTACTS,
                Feature.NEW_CONTACT,
                Feature.CONTACT_LINK,
                Feature.DUE_DAY,
            }
        )

    async def ping(self) -> None:
        """A one-row listing of ``cliente``: 401 is CredentialsRefused; an answer that is not
        JSON means BACKEND_URL is not IXC's webservice. A permission refusal is an answer too
        (check_features names it)."""
        response = await self._ixc.first("cliente")
        if response.status == 401:
            raise CredentialsRefused(REFUSED)
        if response.status != 200:
            raise self._transport.unexpected(response, "is BACKEND_URL the IXC address?")
        try:
            self._transport.json(response)
        except Unavailable:
            raise Unavailable(
                f"IXC: {response.target} did not answer JSON (HTTP {response.status}): "
                "BACKEND_URL may not point at IXC's webservice"
            ) from None

    async def _probe(self, table: str) -> CheckState:
        """What a one-row listing of ``table`` says (CredentialsRefused passes through)."""
        field = PROBE_FIELDS.get(table, "id")
        try:
            await self._ixc.list(
                table, field, "0", ">", sortname=f"{table}.{field}", sortorder="desc", limit=1
            )
        except NotPermitted:
            return CheckState.NOT_PERMITTED
        except CredentialsRefused:
            raise
        except Unavailable:
            return CheckState.UNREACHABLE
        return CheckState.OK

    async def check_features(self) -> list[FeatureCheck]:
        """Each table a menu item reads, probed with a one-row listing (never a write): ``ok``,
        ``not permitted (tables)``; what IXC's webservice has no way to do is not supported."""
        await self.ping()
        tables = sorted({t for needs in FEATURE_TABLES.values() for t in needs} | OPTIONAL_TABLES)
        states = dict(
            zip(tables, await asyncio.gather(*(self._probe(t) for t in tables)), strict=True)
        )
        found: list[FeatureCheck] = []
        for feature in Feature:
            if feature in self.unsupported_features():
                found.append(FeatureCheck(feature, CheckState.NOT_SUPPORTED))
                continue
            needs = list(FEATURE_TABLES.get(feature, ()))
            if feature is Feature.NEW_TICKET and not self._ticket_subjects:
                needs.append("su_oss_assunto")
            found.append(self._feature_check(feature, needs, states))
        return found

    def _feature_check(
        self, feature: Feature, needs: list[str], states: dict[str, CheckState]
    ) -> FeatureCheck:
        for state in (CheckState.UNREACHABLE, CheckState.NOT_PERMITTED):
            tables = [t for t in needs if states[t] is state]
            if tables:
                return FeatureCheck(feature, state, ", ".join(tables))
        without = [
            f"{what}: {table} not permitted"
            for table, (owner, what) in OPTIONAL_USES.items()
            if owner is feature
            and states[table] is CheckState.NOT_PERMITTED
            and (table != "su_oss_assunto" or self._ticket_subjects)
        ]
        return FeatureCheck(feature, CheckState.OK, "; ".join(without))

    # --- authentication -------------------------------------------------------------------------
    async def login(self, document: str, password: str) -> BackendSession:
        document = strip_document(document)
        try:
            candidates = await self._ixc.list("cliente", "cnpj_cpf", format_document(document))
            if not candidates:
                candidates = await self._ixc.list("cliente", "cnpj_cpf", document)
        except NotPermitted:
            # Logging in is no menu item the bot could hide: the system is unusable as it is.
            raise Unavailable(
                "IXC: the webservice user may not read cliente, which login needs"
            ) from None
        candidates = [
            c for c in candidates if strip_document(c.opt_text("cnpj_cpf") or "") == document
        ]
        matched: Record | None = None
        given = password.encode("utf-8")
        for cliente in candidates:
            if self._password_field not in cliente:
                raise Unavailable(
                    f"IXC cliente records have no '{self._password_field}' field: the API user "
                    "needs read access to the Central password"
                )
            stored = (cliente.opt_text(self._password_field) or "").encode("utf-8")
            same = hmac.compare_digest(stored, given) and bool(stored)
            active = (cliente.opt_text("ativo") or "S").upper() == "S"
            if same and active and matched is None:
                matched = cliente
        if not candidates:
            hmac.compare_digest(given, b"\x00" * max(len(given), 1))  # same work either way
        if matched is None:
            raise InvalidCredentials()
        subscriber_id = matched.ident("id")
        return BackendSession(
            subscriber_id=subscriber_id,
            document=document,
            name=matched.text("razao"),
            token=self._signer.sign({"sub": subscriber_id}),
        )

    async def logout(self, session: BackendSession) -> None:
        self._revoked.add(session.token)

    async def change_password(
        self, session: BackendSession, current_password: str, new_password: str
    ) -> None:
        raise NotSupported("change_password")

    # --- account --------------------------------------------------------------------------------
    async def _place(self, cidade_id: str | None) -> tuple[str, str]:
        """City name and UF of a ``cidade`` id (``cidade{id, nome, uf}``, ``uf{id, sigla}``:
        public integrations); blank parts when the webservice user may not read those tables."""
        if not cidade_id:
            return "", ""
        if cidade_id in self._places:
            return self._places[cidade_id]
        cidades = await self._optional(
            "cidade", lambda: self._ixc.list("cidade", "id", cidade_id, limit=1)
        )
        if cidades is None:
            return "", ""
        name, uf, known = "", "", True
        if cidades:
            cidade = cidades[0]
            name = cidade.shown(cidade.opt_text, "nome") or ""
            uf_id = cidade.shown(cidade.opt_ident, "uf")
            if uf_id:
                estados = await self._optional(
                    "uf", lambda: self._ixc.list("uf", "id", uf_id, limit=1)
                )
                known = estados is not None
                if estados:
                    uf = (estados[0].shown(estados[0].opt_text, "sigla") or "").upper()
        if known:
            self._places[cidade_id] = (name, uf)
        return name, uf

    async def _address(self, record: Record, fallback: Address | None = None) -> Address:
        if fallback is not None and not record.opt_text("endereco"):
            return fallback
        city, uf = await self._place(record.opt_ident("cidade"))
        return mapping.address(record, city, uf)

    async def _contracts(self, owner: str) -> list[Record]:
        return await self._ixc.list("cliente_contrato", "id_cliente", owner)

    async def _contract(self, owner: str, contract_id: str) -> Record:
        contract = await self._ixc.one("cliente_contrato", contract_id)
        if contract is None or contract.ident("id_cliente") != owner:
            raise NotFound(f"contract {contract_id}")
        return contract

    async def _plan_prices(self, contracts: list[Record]) -> dict[str, Decimal | None]:
        """Each contract's monthly price: ``cliente_contrato.valor_unitario`` when above zero (it
        may be null), else the plan's ``vd_contratos.valor_contrato`` through ``id_vd_contrato``
        when the webservice user may read it, else unknown (public integrations)."""
        prices: dict[str, Decimal | None] = {}
        plans: dict[str, str] = {}  # contract id -> vd_contratos id, where the contract has none
        for contract in contracts:
            price = contract.shown(contract.opt_money, "valor_unitario")
            prices[contract.ident("id")] = price if price is not None and price > 0 else None
            plan_id = contract.shown(contract.opt_ident, "id_vd_contrato")
            if prices[contract.ident("id")] is None and plan_id:
                plans[contract.ident("id")] = plan_id
        if not plans:
            return prices

        async def catalogue() -> dict[str, Decimal | None]:
            ids = sorted(set(plans.values()))
            found = await asyncio.gather(
                *(self._ixc.list("vd_contratos", "id", plan_id, limit=1) for plan_id in ids)
            )
            return {
                plan_id: rows[0].shown(rows[0].opt_money, "valor_contrato") if rows else None
                for plan_id, rows in zip(ids, found, strict=True)
            }

        values = await self._optional("vd_contratos", catalogue) or {}
        for contract_id, plan_id in plans.items():
            price = values.get(plan_id)
            prices[contract_id] = price if price is not None and price > 0 else None
        return prices

    async def get_subscriber(self, session: BackendSession) -> Subscriber:
        owner = self._owner(session)
        cliente, contracts, logins, invoices = await asyncio.gather(
            self._cliente(owner),
            self._contracts(owner),
            self._ixc.list("radusuarios", "id_cliente", owner),
            self._optional(
                "fn_areceber",
                lambda: self._ixc.list(
                    "fn_areceber",
                    "id_cliente",
                    owner,
                    sortname="fn_areceber.data_vencimento",
                    sortorder="desc",
                    limit=24,
                ),
            ),
        )
        address = await self._address(cliente)
        prices = await self._plan_prices(contracts)
        due_days: dict[str, int] = {}
        for invoice in invoices or []:
            contract_id = invoice.opt_ident("id_contrato")
            if contract_id and contract_id not in due_days:
                due_days[contract_id] = invoice.day("data_vencimento").day
        result = []
        for contract in contracts:
            contract_id = contract.ident("id")
            status = mapping.contract_status(contract, self._enabling_days)
            plan = mapping.plan(contract, contract_id, prices.get(contract_id))
            place = await self._address(contract, address)
            due_day = due_days.get(contract_id, 0)
            result.append(mapping.contract(contract, plan, status, place, due_day, logins))
        phones = mapping.phones(cliente)
        return Subscriber(
            id=owner,
            name=cliente.text("razao"),
            document=strip_document(cliente.opt_text("cnpj_cpf") or session.document),
            email=cliente.opt_text("email"),
            phones=tuple(dict.fromkeys(phones)),
            address=address,
            contracts=tuple(result),
        )

    # --- temporary enabling ---------------------------------------------------------------------
    def _policy(self, contract: Record) -> TemporaryEnablingPolicy:
        return mapping.enabling_policy(
            contract, self._today(), self._enabling_days, self._enabling_interval
        )

    async def get_temporary_enabling_policy(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnablingPolicy:
        return self._policy(await self._contract(self._owner(session), contract_id))

    async def request_temporary_enabling(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnabling:
        await self._contract(self._owner(session), contract_id)
        data = await self._ixc.call("desbloqueio_confianca", {"id": contract_id})
        answer = Record.of(data, SYSTEM, "desbloqueio_confianca")
        # {tipo: "sucesso"|"erro", codigo, mensagem} (public integrations: goixc), or the
        # {type, message} of the rest of the API. No public answer carries a protocol number.
        succeeded = answer.choice("tipo|type", ENABLING_OUTCOMES)
        message = answer.opt_text("mensagem|message") or ""
        if not succeeded:
            raise Rejected(message or "O provedor não liberou o contrato agora.")
        found = _PROTOCOL_RE.search(message)
        return TemporaryEnabling(
            contract_id=contract_id,
            enabled_until=self._today() + timedelta(days=self._enabling_days),
            protocol=found.group(1) if found else "",
        )

    # --- invoices -------------------------------------------------------------------------------
    async def _invoice_row(self, owner: str, invoice_id: str) -> Record:
        row = await self._ixc.one("fn_areceber", invoice_id)
        if row is None or row.ident("id_cliente") != owner:
            raise NotFound(f"invoice {invoice_id}")
        return row

    async def list_invoices(
        self,
        session: BackendSession,
        period: DateRange | None = None,
        statuses: frozenset[InvoiceStatus] | None = None,
        contract_id: str | None = None,
    ) -> list[Invoice]:
        owner = self._owner(session)
        if contract_id is not None:
            await self._contract(owner, contract_id)
        if statuses is not None and not statuses:
            return []
        filters = []
        if period is not None:
            filters = [
                Filter("fn_areceber.data_vencimento", ">=", period.start.isoformat()),
                Filter("fn_areceber.data_vencimento", "<=", period.end.isoformat()),
            ]
        rows = await self._ixc.list(
            "fn_areceber",
            "id_cliente",
            owner,
            filters=filters,
            sortname="fn_areceber.data_vencimento",
        )
        invoices = [mapping.invoice(row) for row in rows if row.ident("id_cliente") == owner]
        invoices = [
            inv
            for inv in invoices
            if (statuses is None or inv.status in statuses)
            and (period is None or inv.due_date in period)
            and (contract_id is None or inv.contract_id == contract_id)
        ]
        return sorted(invoices, key=lambda inv: (inv.due_date, inv.id))

    async def get_invoice(self, session: BackendSession, invoice_id: str) -> Invoice:
        """An open invoice with its PIX; an overdue one as IXC's updated 2ª via (its amount, due
        date and linha digitável together) when IXC reissues it. A PIX is shown only when it
        charges what the screen says is charged."""
        invoice = mapping.invoice(await self._invoice_row(self._owner(session), invoice_id))
        if invoice.status is not InvoiceStatus.OPEN:
            return invoice
        if invoice.is_overdue(self._today()):
            invoice = await self._second_copy(invoice)
        code = await self._pix(invoice)
        return dataclasses.replace(invoice, pix_code=code) if code else invoice

    async def _optional_answer(self, endpoint: str, body: dict[str, Any]) -> Any:
        """The JSON answer of an action whose result the screen can do without: None (and one
        warning naming the endpoint) when it is refused, fails or is empty."""
        try:
            response = await self._ixc.raw(endpoint, body)
            if response.status != 200:
                raise self._transport.unexpected(response)
            if not response.body.strip():
                return None  # IXC's answer about an invoice it does not know
            data = self._transport.json(response)
        except CredentialsRefused:
            raise
        except Unavailable as error:
            warn_once(SYSTEM, endpoint, f"failed ({_reason(error)})")
            return None
        if refusal(data, endpoint) is not None:
            warn_once(SYSTEM, endpoint, "is not permitted to the webservice user")
            return None
        if error_message(data) is not None:
            return None  # e.g. no PIX for this invoice
        return data

    async def _second_copy(self, invoice: Invoice) -> Invoice:
        """``get_boleto`` with ``tipo_boleto`` "dados" and juro/multa/atualiza_boleto "S": the
        updated 2ª via (public integrations), an object or an array of one with
        ``data_vencimento``, ``valor_boleto``, ``linha_digitavel``. Used when it is payable from
        today on and its linha charges its amount; otherwise the invoice stays as it is."""
        body = {**SECOND_COPY, "boletos": invoice.id, "tipo_boleto": "dados"}
        data = await self._optional_answer("get_boleto", body)
        return mapping.second_copy(data, invoice, self._today())

    async def _pix(self, invoice: Invoice) -> str | None:
        """``get_pix {id_areceber}`` → ``pix.dadosPix{pixCopiaECola, status, valor.original}``
        (public integrations), when it charges ``invoice.updated_amount``."""
        data = await self._optional_answer("get_pix", {"id_areceber": invoice.id})
        return mapping.pix_code(data, invoice)

    async def _pdf(self, table: str, body: dict[str, Any], what: str, missing: str) -> bytes:
        """A PDF IXC answers as base64 text; an empty answer is ``missing`` (Rejected)."""
        response = await self._ixc.raw(table, body)
        if response.status != 200:
            raise self._transport.unexpected(response)
        text = response.body.strip()
        if not text:
            raise Rejected(missing)
        if text.startswith((b"{", b'"', b"[")):
            try:
                data = json.loads(text)
            except ValueError:
                raise self._transport.malformed(response, f"the {what} is not base64") from None
            refused = refusal(data, table)
            if refused is not None:
                raise refused
            message = error_message(data)
            if message is not None:
                raise Rejected(message if message != "no message" else missing)
            if not isinstance(data, str):
                raise self._transport.malformed(response, f"the {what} is not base64")
            text = data.encode("ascii", "ignore")
        try:
            content = base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            raise self._transport.malformed(response, f"the {what} is not base64") from None
        if not content.startswith(b"%PDF-"):
            raise self._transport.malformed(response, f"the {what} is not a PDF")
        return content

    async def get_boleto_pdf(self, session: BackendSession, invoice_id: str) -> Document:
        """The boleto PDF with the same flags as the 2ª via shown (juro, multa, atualiza_boleto):
        for an overdue invoice, the updated one."""
        invoice = mapping.invoice(await self._invoice_row(self._owner(session), invoice_id))
        if invoice.status is InvoiceStatus.PAID:
            raise Rejected("Esta fatura já está paga; não há boleto para pagar.")
        if invoice.status is InvoiceStatus.CANCELLED:
            raise Rejected("Esta fatura foi cancelada; não há boleto para pagar.")
        body = {**SECOND_COPY, "boletos": invoice_id, "tipo_boleto": "arquivo", "base64": "S"}
        content = await self._pdf("get_boleto", body, "boleto", NO_BOLETO)
        filename = f"boleto-{invoice.reference.replace('/', '-')}.pdf"
        return Document(filename=filename, content_type="application/pdf", content=content)

    async def list_financial_entries(
        self, session: BackendSession, period: DateRange
    ) -> list[FinancialEntry]:
        open_or_paid = frozenset({InvoiceStatus.OPEN, InvoiceStatus.PAID})
        return [
            FinancialEntry(
                invoice_id=inv.id,
                contract_id=inv.contract_id,
                description=f"Fatura {inv.reference}",
                due_date=inv.due_date,
                amount=inv.amount,
                status=inv.status,
                paid_on=inv.paid_on,
                paid_amount=inv.paid_amount,
            )
            for inv in await self.list_invoices(session, period, open_or_paid)
        ]

    # --- fiscal notes ---------------------------------------------------------------------------
    async def list_fiscal_notes(
        self, session: BackendSession, period: DateRange
    ) -> list[FiscalNote]:
        owner = self._owner(session)
        rows = await self._ixc.list(
            "vd_saida",
            "id_cliente",
            owner,
            filters=[
                Filter("vd_saida.data_emissao", ">=", period.start.isoformat()),
                Filter("vd_saida.data_emissao", "<=", period.end.isoformat()),
            ],
        )
        notes = [mapping.fiscal_note(r) for r in rows if r.ident("id_cliente") == owner]
        return sorted(
            (n for n in notes if n.issued_on in period), key=lambda n: (n.issued_on, n.id)
        )

    async def get_fiscal_note_pdf(self, session: BackendSession, note_id: str) -> Document:
        owner = self._owner(session)
        row = await self._ixc.one("vd_saida", note_id)
        if row is None or row.ident("id_cliente") != owner:
            raise NotFound(f"fiscal note {note_id}")
        note = mapping.fiscal_note(row)
        content = await self._pdf(
            "imprimir_nota", {"id": note_id, "base64": "S"}, "fiscal note", NO_NOTE_PDF
        )
        return Document(
            filename=f"nota-fiscal-{note.number}.pdf",
            content_type="application/pdf",
            content=content,
        )

    # --- contacts (not in IXC's webservice) -----------------------------------------------------
    async def list_contacts(self, session: BackendSession) -> list[Contact]:
        raise NotSupported("list_contacts")

    async def list_contact_types(self, session: BackendSession) -> list[ContactType]:
        raise NotSupported("list_contact_types")

    async def add_contact(self, session: BackendSession, contact: NewContact) -> Contact:
        raise NotSupported("add_contact")

    async def link_contact_device(
        self, session: BackendSession, contact_id: str, device_id: str
    ) -> None:
        raise NotSupported("link_contact_device")

    async def unlink_contact_device(
        self, session: BackendSession, contact_id: str, device_id: str
    ) -> None:
        raise NotSupported("unlink_contact_device")

    # --- call records (cdr) ---------------------------------------------------------------------
    async def _subscriber_area(self, owner: str) -> str | None:
        """The DDD of the subscriber's first phone, for numbers stored without one."""
        return next(
            (a for a in map(mapping.area_code, mapping.phones(await self._cliente(owner))) if a),
            None,
        )

    async def _line_number(self, row: Record, owner: str, area: list[str | None]) -> str:
        """The line's own number (``cdr.src``) as E.164 digits; ``area`` caches the subscriber's
        DDD, asked only for a number stored without one."""
        raw = row.shown(row.opt_text, "src") or ""
        number = brazilian_e164(raw)
        if number is None and len(mapping.digits(raw)) in (8, 9):
            number = brazilian_e164(raw, await self._area(owner, area))
        return number or mapping.digits(raw)

    async def _area(self, owner: str, area: list[str | None]) -> str | None:
        if not area:
            area.append(await self._subscriber_area(owner))
        return area[0]

    async def list_phone_lines(self, session: BackendSession) -> list[PhoneLine]:
        """One line per contract with call records (``cdr.id_contrato_servico``)."""
        owner = self._owner(session)
        contracts = [c.ident("id") for c in await self._contracts(owner)]
        latest = await asyncio.gather(
            *(
                self._ixc.list("cdr", "id_contrato_servico", cid, sortorder="desc", limit=1)
                for cid in contracts
            )
        )
        area: list[str | None] = []
        return [
            PhoneLine(id=cid, contract_id=cid, number=await self._line_number(rows[0], owner, area))
            for cid, rows in zip(contracts, latest, strict=True)
            if rows
        ]

    async def list_terminal_types(self, session: BackendSession) -> list[TerminalType]:
        self._owner(session)
        return list(mapping.TERMINAL_TYPES)

    async def list_call_records(
        self,
        session: BackendSession,
        line_id: str,
        period: DateRange,
        terminal_type_id: str | None = None,
    ) -> list[CallRecord]:
        owner = self._owner(session)
        if terminal_type_id is not None and terminal_type_id not in {
            t.id for t in mapping.TERMINAL_TYPES
        }:
            raise NotFound(f"terminal type {terminal_type_id}")
        try:
            await self._contract(owner, line_id)
        except NotFound:
            raise NotFound(f"phone line {line_id}") from None
        rows = await self._ixc.list(
            "cdr",
            "id_contrato_servico",
            line_id,
            filters=[
                Filter("cdr.calldate", ">=", f"{period.start.isoformat()} 00:00:00"),
                Filter("cdr.calldate", "<=", f"{period.end.isoformat()} 23:59:59"),
            ],
            sortname="cdr.calldate",
        )
        records = []
        area: list[str | None] = []
        for row in rows:
            started = row.instant("calldate")
            if started.astimezone(SAO_PAULO).date() not in period:
                continue
            kind = mapping.call_kind(row.shown(row.opt_text, "tp_chamada"))
            if terminal_type_id is not None and kind != terminal_type_id:
                continue
            # A number dialled without its DDD is in the line's own area.
            line = await self._line_number(row, owner, area)
            dialled = row.shown(row.opt_text, "dst") or ""
            called = brazilian_e164(
                dialled, mapping.area_code(line) or await self._area(owner, area)
            )
            records.append(
                CallRecord(
                    id=row.ident("id"),
                    line_id=line_id,
                    terminal_type_id=kind,
                    started_at=started,
                    called_number=called or mapping.digits(dialled),
                    duration_seconds=row.opt_integer("billsec") or row.opt_integer("duration") or 0,
                    cost=row.opt_money("valor_user") or row.opt_money("custo") or Decimal("0.00"),
                )
            )
        return sorted(records, key=lambda r: (r.started_at, r.id))

    # --- connection records (radacct) -----------------------------------------------------------
    async def list_connection_sessions(
        self, session: BackendSession, login_id: str, period: DateRange
    ) -> list[ConnectionSession]:
        owner = self._owner(session)
        login = await self._ixc.one("radusuarios", login_id)
        if login is None or login.ident("id_cliente") != owner:
            raise NotFound(f"login {login_id}")
        username = login.text("login")
        rows = await self._ixc.list(
            "radacct",
            "username",
            username,
            filters=[
                Filter("radacct.acctstarttime", ">=", f"{period.start.isoformat()} 00:00:00"),
                Filter("radacct.acctstarttime", "<=", f"{period.end.isoformat()} 23:59:59"),
            ],
            sortname="radacct.acctstarttime",
        )
        sessions = []
        for row in rows:
            found = mapping.connection_session(row, username, period)
            if found is not None:
                sessions.append(found)
        return sorted(sessions, key=lambda s: (s.started_at, s.id))

    # --- due day (no IXC endpoint) --------------------------------------------------------------
    async def get_due_day_options(self, session: BackendSession, contract_id: str) -> DueDayOptions:
        raise NotSupported("get_due_day_options")

    async def request_due_day_change(
        self, session: BackendSession, contract_id: str, new_day: int
    ) -> DueDayChangeRequest:
        raise NotSupported("request_due_day_change")

    # --- tickets (su_ticket, su_mensagens) ------------------------------------------------------
    async def _subject_rows(self) -> list[Record] | None:
        """Active ``su_oss_assunto{id, assunto, ativo, mostra_hotsite}`` rows; None when the
        webservice user may not read them."""
        what = None if self._ticket_subjects else "without subjects: no new tickets"
        return await self._optional(
            "su_oss_assunto",
            lambda: self._ixc.list("su_oss_assunto", "ativo", "S", sortname="su_oss_assunto.id"),
            what,
        )

    async def list_ticket_subjects(self, session: BackendSession) -> list[TicketSubject]:
        """The subjects IXC shows in the hotsite, else the ones the provider configured (for a
        webservice user that may not read ``su_oss_assunto``); NotPermitted without either."""
        self._owner(session)
        rows = await self._subject_rows()
        subjects = [
            TicketSubject(id=row.ident("id"), name=row.text("assunto"))
            for row in rows or []
            if (row.shown(row.opt_text, "mostra_hotsite") or "S").upper() == "S"
        ]
        if subjects:
            return subjects
        if self._ticket_subjects:
            return list(self._ticket_subjects)
        if rows is None:
            raise NotPermitted("", "su_oss_assunto")
        return []

    async def _subjects(self) -> dict[str, str]:
        """Subject names by id for showing tickets (configured ones, then IXC's own)."""
        names = {subject.id: subject.name for subject in self._ticket_subjects}
        for row in await self._subject_rows() or []:
            name = row.shown(row.opt_text, "assunto")
            if name:
                names[row.ident("id")] = name
        return names

    async def list_tickets(
        self, session: BackendSession, statuses: frozenset[TicketStatus] | None = None
    ) -> list[Ticket]:
        owner = self._owner(session)
        rows, subjects = await asyncio.gather(
            self._ixc.list("su_ticket", "id_cliente", owner), self._subjects()
        )
        tickets = [mapping.ticket(r, subjects) for r in rows if r.ident("id_cliente") == owner]
        if statuses is not None:
            tickets = [t for t in tickets if t.status in statuses]
        return sorted(tickets, key=lambda t: (t.opened_at, t.id), reverse=True)

    async def _ticket_row(self, owner: str, ticket_id: str) -> Record:
        row = await self._ixc.one("su_ticket", ticket_id)
        if row is None or row.ident("id_cliente") != owner:
            raise NotFound(f"ticket {ticket_id}")
        return row

    async def _full_ticket(self, owner: str, ticket_id: str, name: str) -> Ticket:
        row, subjects, rows = await asyncio.gather(
            self._ticket_row(owner, ticket_id),
            self._subjects(),
            self._ixc.list("su_mensagens", "id_ticket", ticket_id, sortname="su_mensagens.data"),
        )
        messages = mapping.ticket_messages(row, rows, ticket_id, name)
        return mapping.ticket(row, subjects, messages)

    async def get_ticket(self, session: BackendSession, ticket_id: str) -> Ticket:
        return await self._full_ticket(self._owner(session), ticket_id, session.name)

    @staticmethod
    def _inserted(data: Any, what: str) -> str:
        answer = Record.of(data, SYSTEM, what)
        kind = answer.opt_text("type")
        if kind == "error":
            raise Rejected(answer.opt_text("message") or "O provedor recusou o pedido.")
        if kind != "success":
            raise answer.fail("type", "is not 'success'")
        return answer.ident("id")

    async def open_ticket(self, session: BackendSession, ticket: NewTicket) -> Ticket:
        owner = self._owner(session)
        description = ticket.description.strip()
        if not description:
            raise Rejected("Descreva o motivo do atendimento.")
        if ticket.idempotency_key:
            existing = await self._ixc.list(
                "su_ticket",
                "id_cliente",
                owner,
                filters=[Filter("su_ticket.token", "=", ticket.idempotency_key)],
            )
            for row in existing:
                if row.opt_text("token") == ticket.idempotency_key:
                    # The same submission again (an earlier one may have stopped mid-files).
                    await self._attach(row.ident("id"), ticket.attachments, again=True)
                    return await self._full_ticket(owner, row.ident("id"), session.name)
        subjects = {s.id: s.name for s in await self.list_ticket_subjects(session)}
        if ticket.subject_id not in subjects:
            raise NotFound(f"ticket subject {ticket.subject_id}")
        if ticket.contract_id is not None:
            await self._contract(owner, ticket.contract_id)
        body = {
            "tipo": "C",
            "id_cliente": owner,
            "id_contrato": ticket.contract_id or "",
            "id_assunto": ticket.subject_id,
            "titulo": subjects[ticket.subject_id],
            "menssagem": description,
            "su_status": "N",
            "id_ticket_origem": "I",
            "prioridade": "M",
            "token": ticket.idempotency_key or "",
        }
        ticket_id = self._inserted(await self._ixc.call("su_ticket", body), "su_ticket")
        # The files follow the ticket they belong to; if they are refused, the ticket stays and
        # sending it again with the same key returns it.
        await self._attach(ticket_id, ticket.attachments)
        return await self._full_ticket(owner, ticket_id, session.name)

    async def reply_ticket(
        self,
        session: BackendSession,
        ticket_id: str,
        text: str,
        attachments: tuple[Document, ...] = (),
    ) -> Ticket:
        owner = self._owner(session)
        text = text.strip()
        if not text and not attachments:
            raise Rejected("Escreva uma mensagem ou envie um arquivo.")
        row = await self._ticket_row(owner, ticket_id)
        if mapping.ticket_status(row) is TicketStatus.CLOSED:
            raise Rejected(CLOSED_TICKET_REASON)
        # Files first: if IXC refuses them, nothing was written and the text can go alone.
        await self._attach(ticket_id, attachments)
        if not text:
            return await self._full_ticket(owner, ticket_id, session.name)
        body = {
            "id_ticket": ticket_id,
            "mensagem": text,
            "titulo": session.name,
            "visibilidade_mensagens": "PU",
            "su_status": "N",
        }
        self._inserted(await self._ixc.call("su_mensagens", body), "su_mensagens")
        return await self._full_ticket(owner, ticket_id, session.name)

    async def _attach(
        self, ticket_id: str, documents: tuple[Document, ...], *, again: bool = False
    ) -> None:
        """Each file into ``su_ticket_arquivos``: multipart, the file in ``local_arquivo``, with
        ``id_ticket`` and ``descricao``; success is ``type == "success"`` (public integrations:
        a Python and a TypeScript one). ``again``: only the files not there yet (by name)."""
        if not documents:
            return
        if again:
            present = await self._attached_names(ticket_id)
            documents = tuple(d for d in documents if d.filename not in present)
        for document in documents:
            form = aiohttp.FormData()
            form.add_field("id_ticket", ticket_id)
            form.add_field("descricao", document.filename)
            form.add_field(
                "local_arquivo",
                document.content,
                filename=document.filename,
                content_type=document.content_type,
            )
            try:
                data = await self._ixc.upload("su_ticket_arquivos", form)
            except NotPermitted:
                raise NotPermitted("ticket_attachments", "su_ticket_arquivos") from None
            message = error_message(data)
            if message is not None:
                raise Rejected(f"O provedor recusou o arquivo {document.filename}: {message}")
            answer = Record.of(data, SYSTEM, "su_ticket_arquivos")
            if (answer.opt_text("type|tipo") or "").casefold() not in ("success", "sucesso"):
                raise answer.fail("type", "is not 'success'")

    async def _attached_names(self, ticket_id: str) -> set[str]:
        """Names of the files a ticket has (nothing when the user may not list them)."""
        rows = await self._optional(
            "su_ticket_arquivos",
            lambda: self._ixc.list("su_ticket_arquivos", "id_ticket", ticket_id),
        )
        return {
            name
            for row in rows or []
            for name in (
                row.shown(row.opt_text, "descricao"),
                row.shown(row.opt_text, "nome_arquivo"),
            )
            if name
        }

    async def get_ticket_attachment(
        self, session: BackendSession, ticket_id: str, attachment_id: str
    ) -> Document:
        raise NotSupported("get_ticket_attachment")


def _reason(error: Unavailable) -> str:
    """What failed, without the system's name (the message never holds a value)."""
    return str(error).removeprefix(f"{SYSTEM}: ")
