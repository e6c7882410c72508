"""SGP (TSMX) as a :class:`~backend_client.protocol.SubscriberBackend`.

Two kinds of calls, both form-urlencoded POSTs answering JSON:

- **Central** (``/api/central/*``): authenticated with the subscriber's own ``cpfcnpj`` + ``senha``,
  so SGP itself scopes every answer to that subscriber. SGP wants them on every call; the adapter
  keeps them only in memory (:class:`CredentialVault`) behind a random session token, and a token it
  does not know (after a restart) raises SessionExpired so the bot asks for a new login.
- **URA** (``/api/ura/*``): authenticated with the integration's ``token`` + ``app``
  (``BACKEND_TOKEN`` / ``BACKEND_APP``); used for ``consultacliente`` (the subscriber's contracts,
  phones and address), ``contato/add`` and ``nfcom`` — always with the logged-in document or one of
  its contracts, checked first.

What SGP has no operation for raises NotSupported: due-day change, call records, linking a chat to a
contact, and changing the Central password (``cliente/servico/senha/edit`` changes the PPPoE
*service* password, which would disconnect the subscriber's router, so it is deliberately not used).
2ª via always sends ``nao_gerar_os=1``: without it every call opens a service record.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from backend_client.errors import (
    InvalidCredentials,
    NotFound,
    NotSupported,
    Rejected,
    SessionExpired,
    Unavailable,
)
from backend_client.features import Feature, FeatureCheck, all_ok
from backend_client.formats.boleto import is_valid_linha_digitavel
from backend_client.formats.documents import strip_document
from backend_client.formats.pix import is_valid_brcode
from backend_client.http.shape import SAO_PAULO, Record
from backend_client.http.transport import HttpResponse, HttpTransport
from backend_client.http.vault import CredentialVault, VaultEntry
from backend_client.models import (
    AccessLogin,
    Address,
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
    Plan,
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

logger = logging.getLogger(__name__)

SYSTEM = "SGP"
PAGE_SIZE = 250
MAX_PAGES = 20
MAX_MONTHS = 36

# contratoStatus: 1 Ativo, 2 Inativo, 3 Cancelado, 4 Suspenso, 5 Inviabilidade técnica, 6 Novo,
# 7 Ativo com velocidade reduzida (por débito: a promessa de pagamento também o libera).
CONTRACT_STATUS: dict[Any, ContractStatus] = {
    1: ContractStatus.ACTIVE,
    2: ContractStatus.CANCELLED,
    3: ContractStatus.CANCELLED,
    4: ContractStatus.SUSPENDED,
    5: ContractStatus.CANCELLED,
    6: ContractStatus.ACTIVE,
    7: ContractStatus.SUSPENDED,
}
CONTRACT_STATUS.update({str(code): status for code, status in list(CONTRACT_STATUS.items())})

# titulos: statusid 1 em aberto, 2 pago, 3 cancelado.
INVOICE_STATUS: dict[Any, InvoiceStatus] = {
    1: InvoiceStatus.OPEN,
    2: InvoiceStatus.PAID,
    3: InvoiceStatus.CANCELLED,
    "1": InvoiceStatus.OPEN,
    "2": InvoiceStatus.PAID,
    "3": InvoiceStatus.CANCELLED,
}
INVOICE_STATUS_CODE = {
    InvoiceStatus.OPEN: "1",
    InvoiceStatus.PAID: "2",
    InvoiceStatus.CANCELLED: "3",
}

# os_status: 0 Aberta, 1 Encerrada, 2 Em execução, 3 Pendente.
TICKET_STATUS: dict[Any, TicketStatus] = {
    0: TicketStatus.OPEN,
    1: TicketStatus.CLOSED,
    2: TicketStatus.OPEN,
    3: TicketStatus.PENDING,
}
TICKET_STATUS.update({str(code): status for code, status in list(TICKET_STATUS.items())})

# Contact categories offered by the bot -> SGP contato "tipo" of the mobile number.
DEFAULT_CONTACT_TYPES: tuple[ContactType, ...] = (
    ContactType("celular_pessoal", "Pessoal"),
    ContactType("celular_comercial", "Comercial"),
)
LANDLINE_TYPE = "telefone_residencial"
EMAIL_TYPE = "email"

CLOSED_TICKET_REASON = "Este atendimento está encerrado. Se precisar, abra um novo atendimento."
NOT_SUSPENDED_REASON = "Este contrato não está suspenso."
_SPEED_RE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(giga|gb|g\b|mega|mb|m\b)", re.IGNORECASE)
_PROTOCOL_RE = re.compile(r"protocolo\D{0,5}(\d{4,})", re.IGNORECASE)


def _sao_paulo_today() -> date:
    return datetime.now(SAO_PAULO).date()


def _speed_mbps(plan_name: str) -> int:
    """Download speed from a plan name like "Fibra 300 Mega" / "1 Giga" (0 when not stated)."""
    match = _SPEED_RE.search(plan_name)
    if match is None:
        return 0
    value = float(match.group(1).replace(",", "."))
    return int(value * 1000) if match.group(2).lower().startswith("g") else int(value)


def _months(period: DateRange, today: date) -> list[tuple[int, int]]:
    """The (year, month) pairs of ``period`` up to today, the most recent MAX_MONTHS of them."""
    last = min(period.end, today)
    if last < period.start:
        return []
    months: list[tuple[int, int]] = []
    year, month = last.year, last.month
    while (year, month) >= (period.start.year, period.start.month) and len(months) < MAX_MONTHS:
        months.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def _digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


class SgpBackend:
    """Subscriber operations against an SGP installation (``base_url`` is its root URL)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        app: str,
        *,
        timeout: float = 10.0,
        read_retries: int = 2,
        backoff: float = 0.25,
        pool_size: int = 10,
        enabling_days: int = 3,
        enabling_interval_days: int = 30,
        contact_types: Sequence[ContactType] = DEFAULT_CONTACT_TYPES,
        session_idle_seconds: float = 12 * 3600,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._token = token
        self._app = app
        self._transport = HttpTransport(
            base_url,
            system=SYSTEM,
            timeout=timeout,
            read_retries=read_retries,
            backoff=backoff,
            pool_size=pool_size,
            headers={"Accept": "application/json"},
            secrets=[token],
        )
        self._vault = CredentialVault(idle_seconds=session_idle_seconds)
        self._enabling_days = enabling_days
        self._enabling_interval = enabling_interval_days
        self._contact_types = tuple(contact_types)
        self._today = today or _sao_paulo_today
        self._opened: OrderedDict[tuple[str, str], str] = OrderedDict()  # idempotency keys

    def __repr__(self) -> str:
        return f"SgpBackend({self._transport.base_url!r})"

    # --- plumbing -------------------------------------------------------------------------------
    def _object(self, response: HttpResponse, where: str) -> Record:
        return Record.of(self._transport.json(response), SYSTEM, where)

    async def _central(
        self, path: str, entry: VaultEntry, *, read: bool, **fields: Any
    ) -> HttpResponse:
        form = {"cpfcnpj": entry.document, "senha": entry.secret}
        form.update({k: str(v) for k, v in fields.items() if v is not None})
        response = await self._transport.request("POST", path, read=read, data=form)
        if response.status in (401, 403):
            # The password was changed elsewhere (or the Central access was revoked).
            raise SessionExpired()
        return response

    async def _central_json(
        self, path: str, entry: VaultEntry, where: str, *, read: bool = True, **fields: Any
    ) -> Record:
        response = await self._central(path, entry, read=read, **fields)
        if response.status != 200:
            raise self._transport.unexpected(response)
        return self._object(response, where)

    async def _ura(self, path: str, *, read: bool, **fields: Any) -> HttpResponse:
        form = {"token": self._token, "app": self._app}
        form.update({k: str(v) for k, v in fields.items() if v is not None})
        response = await self._transport.request("POST", path, read=read, data=form)
        if response.status in (401, 403):
            raise Unavailable(
                "SGP refused the integration credentials (check BACKEND_TOKEN and BACKEND_APP; "
                "the app name is case-sensitive)"
            )
        return response

    async def _ura_json(self, path: str, where: str, *, read: bool = True, **fields: Any) -> Record:
        response = await self._ura(path, read=read, **fields)
        if response.status != 200:
            raise self._transport.unexpected(response)
        return self._object(response, where)

    def _entry(self, session: BackendSession) -> VaultEntry:
        return self._vault.resolve(session.token, session.subscriber_id)

    @staticmethod
    def _refusal(answer: Record, default: str) -> str:
        message = answer.opt_text("msg")
        return message or default

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        await self._transport.start()

    async def close(self) -> None:
        await self._transport.close()
        self._vault.clear()

    def unsupported_features(self) -> frozenset[Feature]:
        return frozenset({Feature.PASSWORD, Feature.CALLS, Feature.DUE_DAY, Feature.CONTACT_LINK})

    async def check_features(self) -> list[FeatureCheck]:
        await self.ping()
        return all_ok(self.unsupported_features())

    async def ping(self) -> None:
        response = await self._ura("/api/ura/pops/", read=True)
        if response.status != 200:
            raise self._transport.unexpected(response)

    # --- authentication -------------------------------------------------------------------------
    async def login(self, document: str, password: str) -> BackendSession:
        document = strip_document(document)
        form = {"cpfcnpj": document, "senha": password}
        response = await self._transport.request(
            "POST", "/api/central/contratos", read=True, data=form
        )
        if response.status in (401, 403):
            raise InvalidCredentials()
        if response.status != 200:
            raise self._transport.unexpected(response)
        answer = self._object(response, "contratos")
        if "contratos" not in answer:
            # SGP answers a refused Central login with a message instead of contracts.
            if "msg" in answer or "status" in answer:
                raise InvalidCredentials()
            raise answer.fail("contratos", "is missing")
        contracts = answer.records("contratos")
        if not contracts:
            raise InvalidCredentials()  # no contract, no Central access
        first = contracts[0]
        subscriber_id = first.opt_ident("clienteId") or document
        name = first.text("razaoSocial")
        token = self._vault.issue(subscriber_id, document, password)
        return BackendSession(
            subscriber_id=subscriber_id, document=document, name=name, token=token
        )

    async def logout(self, session: BackendSession) -> None:
        self._vault.revoke(session.token)

    async def change_password(
        self, session: BackendSession, current_password: str, new_password: str
    ) -> None:
        raise NotSupported("change_password")

    # --- contracts (ownership) ------------------------------------------------------------------
    async def _contracts(self, entry: VaultEntry) -> list[Record]:
        """The subscriber's contracts from URA ``consultacliente``, filtered by document."""
        answer = await self._ura_json(
            "/api/ura/consultacliente/", "consultacliente", cpfcnpj=entry.document
        )
        if "contratos" not in answer and answer.opt_text("msg") is not None:
            return []  # "cliente não encontrado"
        contracts = answer.records("contratos")
        owned = []
        for contract in contracts:
            document = contract.opt_text("cpfCnpj")
            if document is not None and strip_document(document) != entry.document:
                continue  # a loose filter on the provider's side must not leak other people
            owned.append(contract)
        return owned

    async def _contract(self, entry: VaultEntry, contract_id: str) -> Record:
        for contract in await self._contracts(entry):
            if contract.ident("contratoId") == contract_id:
                return contract
        raise NotFound(f"contract {contract_id}")

    def _plan(self, contract: Record) -> Plan:
        name = contract.opt_text("planointernet") or contract.opt_text("servico_plano")
        if name is None:
            raise contract.fail("planointernet", "is missing (and so is servico_plano)")
        download = _speed_mbps(name)
        return Plan(
            id=contract.opt_ident("servico_plano_id") or name,
            name=name,
            download_mbps=download,
            upload_mbps=contract.opt_integer("servico_upload") or 0,
            monthly_price=contract.opt_money("servico_valor") or Decimal("0.00"),
        )

    @staticmethod
    def _address(contract: Record) -> Address:
        return Address(
            street=contract.opt_text("endereco_logradouro") or "",
            number=contract.opt_text("endereco_numero") or "",
            complement=contract.opt_text("endereco_complemento") or "",
            neighbourhood=contract.opt_text("endereco_bairro") or "",
            city=contract.opt_text("endereco_cidade") or "",
            state=(contract.opt_text("endereco_uf") or "").upper(),
            postal_code=_digits(contract.opt_text("endereco_cep")),
        )

    async def _online(self, entry: VaultEntry, contract_id: str) -> bool:
        answer = await self._central_json(
            "/api/central/verificaacesso/", entry, "verificaacesso", contrato=contract_id
        )
        return answer.choice("status", {1: True, 2: False, "1": True, "2": False})

    # --- account --------------------------------------------------------------------------------
    async def get_subscriber(self, session: BackendSession) -> Subscriber:
        entry = self._entry(session)
        records = await self._contracts(entry)
        if not records:
            raise SessionExpired()  # the subscriber no longer has contracts at this provider
        ids = [record.ident("contratoId") for record in records]
        online = await asyncio.gather(*(self._online(entry, cid) for cid in ids))
        contracts = []
        for record, contract_id, is_online in zip(records, ids, online, strict=True):
            status = record.choice("contratoStatus", CONTRACT_STATUS)
            login = record.opt_text("servico_login")
            logins = (
                (
                    AccessLogin(
                        id=contract_id,
                        contract_id=contract_id,
                        login=login,
                        ip_address=record.opt_text("servico_ip"),
                        online=is_online,
                    ),
                )
                if login
                else ()
            )
            contracts.append(
                Contract(
                    id=contract_id,
                    number=record.opt_text("contratoNumero") or contract_id,
                    plan=self._plan(record),
                    status=status,
                    address=self._address(record),
                    due_day=record.opt_integer("cobVencimento") or 0,
                    started_on=record.opt_day("contratoDataCadastro") or date.min,
                    logins=logins,
                )
            )
        first = records[0]
        emails = first.strings("emails")
        phones = tuple(
            dict.fromkeys(p for r in records for p in map(_digits, r.strings("telefones")))
        )
        return Subscriber(
            id=session.subscriber_id,
            name=first.text("razaoSocial"),
            document=entry.document,
            email=emails[0] if emails else None,
            phones=tuple(p for p in phones if p),
            address=self._address(first),
            contracts=tuple(contracts),
        )

    # --- temporary enabling ---------------------------------------------------------------------
    async def get_temporary_enabling_policy(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnablingPolicy:
        contract = await self._contract(self._entry(session), contract_id)
        status = contract.choice("contratoStatus", CONTRACT_STATUS)
        suspended = status is ContractStatus.SUSPENDED
        return TemporaryEnablingPolicy(
            days=self._enabling_days,
            interval_days=self._enabling_interval,
            eligible=suspended,
            reason=None if suspended else NOT_SUSPENDED_REASON,
        )

    async def request_temporary_enabling(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnabling:
        entry = self._entry(session)
        await self._contract(entry, contract_id)
        answer = await self._central_json(
            "/api/central/promessapagamento/",
            entry,
            "promessapagamento",
            read=False,
            contrato=contract_id,
        )
        if not answer.flag("liberado"):
            raise Rejected(self._refusal(answer, "O provedor não liberou o contrato agora."))
        days = answer.opt_integer("liberado_dias") or self._enabling_days
        protocol = answer.opt_ident("protocolo")
        if protocol is None:
            found = _PROTOCOL_RE.search(answer.opt_text("msg") or "")
            protocol = found.group(1) if found else ""
        return TemporaryEnabling(
            contract_id=contract_id,
            enabled_until=self._today() + timedelta(days=days),
            protocol=protocol,
        )

    # --- invoices -------------------------------------------------------------------------------
    async def _titulos(
        self, entry: VaultEntry, contract_id: str, status: str | None
    ) -> list[Record]:
        faturas: list[Record] = []
        for page in range(MAX_PAGES):
            answer = await self._central_json(
                "/api/central/titulos/",
                entry,
                "titulos",
                contrato=contract_id,
                status=status,
                offset=page * PAGE_SIZE,
                limit=PAGE_SIZE,
            )
            batch = answer.records("faturas")
            faturas.extend(batch)
            if len(batch) < PAGE_SIZE:
                break
        return faturas

    def _invoice(self, fatura: Record, contract_id: str) -> Invoice:
        status = fatura.choice("statusid", INVOICE_STATUS)
        amount = fatura.money("valor")
        due = fatura.day("vencimento")
        corrected = fatura.opt_money("valorcorrigido")
        linha = _digits(fatura.opt_text("linhadigitavel")) or None
        if linha is not None and not is_valid_linha_digitavel(linha):
            logger.warning(
                "SGP: invoice %s has an invalid linha digitável; not shown", fatura.raw("id")
            )
            linha = None
        pix = fatura.opt_text("codigopix")
        if pix is not None and not is_valid_brcode(pix):
            logger.warning("SGP: invoice %s has an invalid PIX code; not shown", fatura.raw("id"))
            pix = None
        open_ = status is InvoiceStatus.OPEN
        surcharge = (corrected - amount) if open_ and corrected and corrected > amount else None
        return Invoice(
            id=fatura.ident("id"),
            contract_id=contract_id,
            reference=due.strftime("%m/%Y"),
            issued_on=fatura.opt_day("data_documento") or fatura.opt_day("emissao") or due,
            due_date=due,
            amount=amount,
            status=status,
            paid_on=fatura.opt_day("data_pagamento") if status is InvoiceStatus.PAID else None,
            paid_amount=fatura.opt_money("valorpago") if status is InvoiceStatus.PAID else None,
            # SGP reports only the corrected total; the difference is fine plus interest.
            interest=surcharge or Decimal("0"),
            linha_digitavel=linha if open_ else None,
            pix_code=pix if open_ else None,
        )

    async def _all_invoices(
        self,
        entry: VaultEntry,
        statuses: frozenset[InvoiceStatus] | None,
        contract_ids: list[str],
    ) -> list[tuple[Invoice, Record]]:
        # Without "status", SGP answers open and paid ones; cancelled ones need status=3.
        codes: list[str | None]
        if statuses is None:
            codes = [None, "3"]
        else:
            codes = [INVOICE_STATUS_CODE[s] for s in sorted(statuses)]
        calls = [(cid, code) for cid in contract_ids for code in codes]
        batches = await asyncio.gather(*(self._titulos(entry, cid, code) for cid, code in calls))
        seen: dict[str, tuple[Invoice, Record]] = {}
        for (contract_id, _), faturas in zip(calls, batches, strict=True):
            for fatura in faturas:
                invoice = self._invoice(fatura, contract_id)
                if statuses is None or invoice.status in statuses:
                    seen[invoice.id] = (invoice, fatura)
        return sorted(seen.values(), key=lambda pair: (pair[0].due_date, pair[0].id))

    async def list_invoices(
        self,
        session: BackendSession,
        period: DateRange | None = None,
        statuses: frozenset[InvoiceStatus] | None = None,
        contract_id: str | None = None,
    ) -> list[Invoice]:
        entry = self._entry(session)
        if contract_id is not None:
            await self._contract(entry, contract_id)
            contract_ids = [contract_id]
        else:
            contract_ids = [c.ident("contratoId") for c in await self._contracts(entry)]
        if statuses is not None and not statuses:
            return []
        pairs = await self._all_invoices(entry, statuses, contract_ids)
        return [inv for inv, _ in pairs if period is None or inv.due_date in period]

    async def _find_invoice(self, entry: VaultEntry, invoice_id: str) -> tuple[Invoice, Record]:
        contract_ids = [c.ident("contratoId") for c in await self._contracts(entry)]
        for invoice, fatura in await self._all_invoices(entry, None, contract_ids):
            if invoice.id == invoice_id:
                return invoice, fatura
        raise NotFound(f"invoice {invoice_id}")

    async def get_invoice(self, session: BackendSession, invoice_id: str) -> Invoice:
        entry = self._entry(session)
        invoice, _ = await self._find_invoice(entry, invoice_id)
        if invoice.status is InvoiceStatus.OPEN and invoice.pix_code is None:
            answer = await self._central_json(
                f"/api/central/pagamento/pix/{invoice.id}",
                entry,
                "pagamento/pix",
                read=False,
                contrato=invoice.contract_id,
            )
            code = answer.opt_text("codigopix") or answer.opt_text("pix_copia_cola")
            if code is not None and is_valid_brcode(code):
                invoice = dataclasses.replace(invoice, pix_code=code)
        return invoice

    async def get_boleto_pdf(self, session: BackendSession, invoice_id: str) -> Document:
        entry = self._entry(session)
        invoice, fatura = await self._find_invoice(entry, invoice_id)
        if invoice.status is InvoiceStatus.PAID:
            raise Rejected("Esta fatura já está paga; não há boleto para pagar.")
        if invoice.status is InvoiceStatus.CANCELLED:
            raise Rejected("Esta fatura foi cancelada; não há boleto para pagar.")
        # The 2ª via brings the boleto updated to today; never open a service record for it.
        answer = await self._central_json(
            "/api/central/fatura2via/",
            entry,
            "fatura2via",
            contrato=invoice.contract_id,
            nao_gerar_os=1,
        )
        link = None
        for item in answer.opt_records("links"):
            same_code = invoice.linha_digitavel and (
                _digits(item.opt_text("linhadigitavel")) == invoice.linha_digitavel
            )
            if same_code or item.opt_day("vencimento") == invoice.due_date:
                link = item.opt_text("link")
                break
        link = link or fatura.opt_text("link")
        if link is None or not link.lower().startswith(("http://", "https://")):
            raise Rejected("O boleto desta fatura não está disponível agora.")
        content = await self._download(link, "boleto")
        return Document(
            filename=f"boleto-{invoice.reference.replace('/', '-')}.pdf",
            content_type="application/pdf",
            content=content,
        )

    async def _download(self, url: str, what: str) -> bytes:
        response = await self._transport.request("GET", url, read=True)
        if response.status != 200:
            raise self._transport.unexpected(response, f"the {what} could not be downloaded")
        if not response.body.startswith(b"%PDF-"):
            raise self._transport.malformed(response, f"the {what} is not a PDF")
        return response.body

    async def list_financial_entries(
        self, session: BackendSession, period: DateRange
    ) -> list[FinancialEntry]:
        open_or_paid = frozenset({InvoiceStatus.OPEN, InvoiceStatus.PAID})
        invoices = await self.list_invoices(session, period, open_or_paid)
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
            for inv in invoices
        ]

    # --- fiscal notes ---------------------------------------------------------------------------
    async def _notes(self, entry: VaultEntry) -> list[tuple[FiscalNote, Record]]:
        contract_ids = [c.ident("contratoId") for c in await self._contracts(entry)]

        async def of_contract(contract_id: str) -> list[tuple[FiscalNote, Record]]:
            nf, nfse, nfcom = await asyncio.gather(
                self._central_json(
                    "/api/central/notafiscal/list/", entry, "notafiscal", contrato=contract_id
                ),
                self._central_json("/api/central/nfse/list/", entry, "nfse", contrato=contract_id),
                self._ura_json("/api/central/nfcom/list", "nfcom", contrato=contract_id),
            )
            notes = []
            for kind, answer in (("nf", nf), ("nfse", nfse), ("nfcom", nfcom)):
                for record in answer.opt_records("notas"):
                    notes.append((self._note(kind, record, contract_id), record))
            return notes

        batches = await asyncio.gather(*(of_contract(cid) for cid in contract_ids))
        return [pair for batch in batches for pair in batch]

    @staticmethod
    def _note(kind: str, record: Record, contract_id: str) -> FiscalNote:
        number = record.ident("numero")
        if kind == "nfcom":
            model, note_id = "NFCom", f"nfcom-{number}"
        elif kind == "nfse":
            model, note_id = "NFS-e", f"nfse-{record.ident('id')}"
        else:
            model, note_id = f"NF {record.opt_text('modelo') or '21'}", f"nf-{record.ident('id')}"
        return FiscalNote(
            id=note_id,
            number=number,
            series=record.opt_text("serie") or "",
            model=model,
            issued_on=record.day("data_emissao"),
            amount=record.money("valor"),
            contract_id=contract_id,
        )

    async def list_fiscal_notes(
        self, session: BackendSession, period: DateRange
    ) -> list[FiscalNote]:
        notes = [note for note, _ in await self._notes(self._entry(session))]
        return sorted(
            (n for n in notes if n.issued_on in period), key=lambda n: (n.issued_on, n.id)
        )

    async def get_fiscal_note_pdf(self, session: BackendSession, note_id: str) -> Document:
        entry = self._entry(session)
        for note, record in await self._notes(entry):
            if note.id != note_id:
                continue
            filename = f"nota-fiscal-{note.number}.pdf"
            if note_id.startswith("nfcom-"):
                response = await self._ura(
                    f"/api/central/nfcom/print/{note.number}",
                    read=True,
                    contrato=note.contract_id,
                    formato="pdf",
                )
                if response.status != 200 or not response.body.startswith(b"%PDF-"):
                    raise self._transport.malformed(response, "the NFCom is not a PDF")
                content = response.body
            else:
                link = record.opt_text("link")
                if link is None or not link.lower().startswith(("http://", "https://")):
                    raise Rejected("O PDF desta nota fiscal não está disponível agora.")
                content = await self._download(link, "fiscal note")
            return Document(filename=filename, content_type="application/pdf", content=content)
        raise NotFound(f"fiscal note {note_id}")

    # --- contacts -------------------------------------------------------------------------------
    async def list_contacts(self, session: BackendSession) -> list[Contact]:
        contacts: dict[str, Contact] = {}
        for contract in await self._contracts(self._entry(session)):
            for record in contract.opt_records("contatos"):
                contact = self._contact(record, contract.text("razaoSocial"))
                contacts.setdefault(contact.id, contact)
        return list(contacts.values())

    def _contact(self, record: Record, default_name: str) -> Contact:
        kind = (record.opt_text("tipo") or "").lower()
        value = record.text("contato")
        types = {t.id: t for t in self._contact_types}
        contact_type = types.get(kind) or ContactType(
            kind or "outro", kind.replace("_", " ").title()
        )
        is_email = "@" in value
        is_landline = not is_email and ("telefone" in kind or "fixo" in kind)
        return Contact(
            id=record.ident("id"),
            name=record.opt_text("nome") or default_name,
            type=contact_type,
            mobile=None if is_email or is_landline else _digits(value),
            landline=_digits(value) if is_landline else None,
            email=value if is_email else None,
            sms_opt_in=False,
        )

    async def list_contact_types(self, session: BackendSession) -> list[ContactType]:
        self._entry(session)
        return list(self._contact_types)

    async def add_contact(self, session: BackendSession, contact: NewContact) -> Contact:
        entry = self._entry(session)
        types = {t.id: t for t in self._contact_types}
        if contact.type_id not in types:
            raise NotFound(f"contact type {contact.type_id}")
        if not _digits(contact.mobile):
            raise Rejected("Informe o celular do contato.")
        contracts = await self._contracts(entry)
        if not contracts:
            raise SessionExpired()
        contract_id = contracts[0].ident("contratoId")
        # SGP keeps one value per contact: the mobile first, then the optional ones.
        values = [(contact.type_id, _digits(contact.mobile))]
        if contact.landline and _digits(contact.landline):
            values.append((LANDLINE_TYPE, _digits(contact.landline)))
        if contact.email:
            values.append((EMAIL_TYPE, contact.email.strip()))
        first_id: str | None = None
        for kind, value in values:
            response = await self._ura(
                "/api/ura/contato/add/", read=False, contrato=contract_id, contato=value, tipo=kind
            )
            if response.status != 200:
                raise self._transport.unexpected(response)
            answer = self._object(response, "contato/add")
            if answer.raw("status") in (0, "0", False):
                raise Rejected(self._refusal(answer, "O provedor não aceitou este contato."))
            first_id = first_id or answer.opt_ident("id") or f"{contract_id}-{value}"
        assert first_id is not None
        return Contact(
            id=first_id,
            name=" ".join(contact.name.split()),
            type=types[contact.type_id],
            mobile=_digits(contact.mobile),
            landline=_digits(contact.landline) or None,
            email=(contact.email or "").strip() or None,
            sms_opt_in=contact.sms_opt_in,
        )

    async def link_contact_device(
        self, session: BackendSession, contact_id: str, device_id: str
    ) -> None:
        raise NotSupported("link_contact_device")

    async def unlink_contact_device(
        self, session: BackendSession, contact_id: str, device_id: str
    ) -> None:
        raise NotSupported("unlink_contact_device")

    # --- call records (SGP has none) ------------------------------------------------------------
    async def list_phone_lines(self, session: BackendSession) -> list[PhoneLine]:
        raise NotSupported("list_phone_lines")

    async def list_terminal_types(self, session: BackendSession) -> list[TerminalType]:
        raise NotSupported("list_terminal_types")

    async def list_call_records(
        self,
        session: BackendSession,
        line_id: str,
        period: DateRange,
        terminal_type_id: str | None = None,
    ) -> list[CallRecord]:
        raise NotSupported("list_call_records")

    # --- connection records ---------------------------------------------------------------------
    async def list_connection_sessions(
        self, session: BackendSession, login_id: str, period: DateRange
    ) -> list[ConnectionSession]:
        entry = self._entry(session)
        contract = await self._contract(entry, login_id)  # a login's id is its contract's id
        login = contract.opt_text("servico_login")
        if login is None:
            raise NotFound(f"login {login_id}")
        answers = await asyncio.gather(
            *(
                self._central_json(
                    "/api/central/extratouso/",
                    entry,
                    "extratouso",
                    contrato=login_id,
                    ano=year,
                    mes=month,
                )
                for year, month in _months(period, self._today())
            )
        )
        sessions: dict[str, ConnectionSession] = {}
        for answer in answers:
            for record in answer.opt_records("acessos"):
                started = record.instant("acctstarttime")
                if started.astimezone(SAO_PAULO).date() not in period:
                    continue
                item = ConnectionSession(
                    id=record.ident("radacctid"),
                    login=record.opt_text("username") or login,
                    started_at=started,
                    ended_at=record.opt_instant("acctstoptime"),
                    ip_address=record.opt_text("framedipaddress") or "",
                    download_bytes=record.opt_integer("acctoutputoctets") or 0,
                    upload_bytes=record.opt_integer("acctinputoctets") or 0,
                    termination_cause=record.opt_text("acctterminatecause"),
                )
                sessions[item.id] = item
        return sorted(sessions.values(), key=lambda s: (s.started_at, s.id))

    # --- due day (no SGP endpoint) --------------------------------------------------------------
    async def get_due_day_options(self, session: BackendSession, contract_id: str) -> DueDayOptions:
        raise NotSupported("get_due_day_options")

    async def request_due_day_change(
        self, session: BackendSession, contract_id: str, new_day: int
    ) -> DueDayChangeRequest:
        raise NotSupported("request_due_day_change")

    # --- tickets --------------------------------------------------------------------------------
    async def list_ticket_subjects(self, session: BackendSession) -> list[TicketSubject]:
        answer = await self._central_json(
            "/api/central/tipoocorrencia/list/", self._entry(session), "tipoocorrencia"
        )
        return [
            TicketSubject(id=record.ident("codigo"), name=record.text("descricao"))
            for record in answer.records("tipos")
        ]

    async def _chamados(self, entry: VaultEntry) -> list[tuple[Record, str]]:
        contract_ids = [c.ident("contratoId") for c in await self._contracts(entry)]
        answers = await asyncio.gather(
            *(
                self._central_json("/api/central/chamado/list/", entry, "chamado", contrato=cid)
                for cid in contract_ids
            )
        )
        found: dict[str, tuple[Record, str]] = {}
        for contract_id, answer in zip(contract_ids, answers, strict=True):
            for record in answer.records("chamados"):
                found.setdefault(record.ident("os"), (record, contract_id))
        return list(found.values())

    def _ticket(self, record: Record, contract_id: str, *, full: bool) -> Ticket:
        opened = record.instant("data_cadastro")
        messages: list[TicketMessage] = []
        if full:
            files: dict[str | None, list[AttachmentInfo]] = {}
            for anexo in record.opt_records("anexos"):
                info = AttachmentInfo(
                    id=anexo.ident("id"),
                    filename=anexo.text("nome"),
                    content_type=anexo.opt_text("tipo") or "application/octet-stream",
                    size=anexo.opt_integer("tamanho") or 0,
                )
                files.setdefault(anexo.opt_ident("anotacao"), []).append(info)
            messages.append(
                TicketMessage(
                    id=f"{record.ident('os')}-0",
                    author=TicketAuthor.SUBSCRIBER,
                    author_name=record.opt_text("contato") or "",
                    sent_at=opened,
                    text=record.opt_text("conteudo") or "",
                    attachments=tuple(files.get(None, ())),
                )
            )
            for note in record.opt_records("anotacoes"):
                note_id = note.ident("id")
                from_subscriber = note.flag("cliente") if "cliente" in note else False
                messages.append(
                    TicketMessage(
                        id=note_id,
                        author=TicketAuthor.SUBSCRIBER
                        if from_subscriber
                        else TicketAuthor.PROVIDER,
                        author_name=note.opt_text("usuario") or "",
                        sent_at=note.instant("data"),
                        text=note.text("anotacao"),
                        attachments=tuple(files.get(note_id, ())),
                    )
                )
            messages.sort(key=lambda m: m.sent_at)
        return Ticket(
            id=record.ident("os"),
            protocol=record.opt_ident("oc_protocolo") or record.ident("os"),
            subject=record.opt_text("oc_tipo") or "",
            status=record.choice("os_status", TICKET_STATUS),
            opened_at=opened,
            updated_at=record.opt_instant("data_alteracao") or opened,
            contract_id=contract_id,
            messages=tuple(messages),
        )

    async def list_tickets(
        self, session: BackendSession, statuses: frozenset[TicketStatus] | None = None
    ) -> list[Ticket]:
        tickets = [
            self._ticket(record, contract_id, full=False)
            for record, contract_id in await self._chamados(self._entry(session))
        ]
        if statuses is not None:
            tickets = [t for t in tickets if t.status in statuses]
        return sorted(tickets, key=lambda t: (t.opened_at, t.id), reverse=True)

    async def _find_ticket(self, entry: VaultEntry, ticket_id: str) -> Ticket:
        for record, contract_id in await self._chamados(entry):
            if record.ident("os") == ticket_id:
                return self._ticket(record, contract_id, full=True)
        raise NotFound(f"ticket {ticket_id}")

    async def get_ticket(self, session: BackendSession, ticket_id: str) -> Ticket:
        return await self._find_ticket(self._entry(session), ticket_id)

    async def _attach(
        self, entry: VaultEntry, ticket_id: str, documents: tuple[Document, ...]
    ) -> None:
        for document in documents:
            response = await self._central(
                f"/api/central/chamado/{ticket_id}/anexo/add/",
                entry,
                read=False,
                file_b64=base64.b64encode(document.content).decode("ascii"),
                filename=document.filename,
                descricao=document.filename,
            )
            if response.status != 200:
                raise self._transport.unexpected(response, "attachment not accepted")

    async def open_ticket(self, session: BackendSession, ticket: NewTicket) -> Ticket:
        entry = self._entry(session)
        description = ticket.description.strip()
        if not description:
            raise Rejected("Descreva o motivo do atendimento.")
        key = (session.subscriber_id, ticket.idempotency_key or "")
        if ticket.idempotency_key and key in self._opened:
            return await self._find_ticket(entry, self._opened[key])
        subjects = {s.id for s in await self.list_ticket_subjects(session)}
        if ticket.subject_id not in subjects:
            raise NotFound(f"ticket subject {ticket.subject_id}")
        contracts = [c.ident("contratoId") for c in await self._contracts(entry)]
        if ticket.contract_id is not None and ticket.contract_id not in contracts:
            raise NotFound(f"contract {ticket.contract_id}")
        if not contracts:
            raise SessionExpired()
        answer = await self._central_json(
            "/api/central/chamado/",
            entry,
            "chamado",
            read=False,
            contrato=ticket.contract_id or contracts[0],
            conteudo=description,
            ocorrenciatipo=ticket.subject_id,
        )
        if answer.raw("status") in (0, "0", False):
            raise Rejected(self._refusal(answer, "O provedor não abriu o atendimento agora."))
        ticket_id = answer.ident("os")
        if ticket.idempotency_key:
            self._opened[key] = ticket_id
            while len(self._opened) > 1000:
                self._opened.popitem(last=False)
        await self._attach(entry, ticket_id, ticket.attachments)
        return await self._find_ticket(entry, ticket_id)

    async def reply_ticket(
        self,
        session: BackendSession,
        ticket_id: str,
        text: str,
        attachments: tuple[Document, ...] = (),
    ) -> Ticket:
        entry = self._entry(session)
        text = text.strip()
        if not text and not attachments:
            raise Rejected("Escreva uma mensagem ou envie um arquivo.")
        current = await self._find_ticket(entry, ticket_id)
        if current.status is TicketStatus.CLOSED:
            raise Rejected(CLOSED_TICKET_REASON)
        if text:
            response = await self._central(
                f"/api/central/chamado/{ticket_id}/anotacao", entry, read=False, anotacao=text
            )
            if response.status != 200:
                raise self._transport.unexpected(response, "reply not accepted")
        await self._attach(entry, ticket_id, attachments)
        return await self._find_ticket(entry, ticket_id)

    async def get_ticket_attachment(
        self, session: BackendSession, ticket_id: str, attachment_id: str
    ) -> Document:
        entry = self._entry(session)
        for record, _ in await self._chamados(entry):
            if record.ident("os") != ticket_id:
                continue
            for anexo in record.opt_records("anexos"):
                if anexo.ident("id") == attachment_id:
                    url = anexo.text("url")
                    if not url.lower().startswith(("http://", "https://")):
                        raise anexo.fail("url", "is not an http(s) link")
                    response = await self._transport.request("GET", url, read=True)
                    if response.status != 200:
                        raise self._transport.unexpected(response, "attachment not downloaded")
                    return Document(
                        filename=anexo.text("nome"),
                        content_type=anexo.opt_text("tipo")
                        or response.content_type
                        or "application/octet-stream",
                        content=response.body,
                    )
            raise NotFound(f"attachment {attachment_id}")
        raise NotFound(f"ticket {ticket_id}")
