"""SGP (TSMX) as a :class:`~backend_client.protocol.SubscriberBackend`.

Two kinds of calls, both form-urlencoded POSTs answering JSON:

- **Central** (``/api/central/*``): authenticated with the subscriber's own ``cpfcnpj`` + ``senha``,
  so SGP itself scopes every answer to that subscriber. SGP wants them on every call; the adapter
  keeps them only in memory (:class:`CredentialVault`) behind a random session token, and a token it
  does not know (after a restart) raises SessionExpired so the bot asks for a new login. Central
  answers use lowercase keys (``contrato``, ``razaosocial``, ``cpfcnpj``, ``status`` as text,
  ``planointernet_valor``, ``endereco_instalacao{…}``).
- **URA** (``/api/ura/*``): authenticated with the integration's ``token`` + ``app``
  (``BACKEND_TOKEN`` / ``BACKEND_APP``), camelCase keys (``contratoId``, ``razaoSocial``); used for
  what the Central does not give (the access login's IP, phones, contacts, ``contato/add``,
  ``nfcom``). A token not allowed to use the URA leaves those parts out; the rest works.

Shapes as public integrations read them (citations by repository): lowercase Central
``contratos`` and its types — LucasPizol/cabosat_app ``lib/models/contract_model.dart``;
``titulos`` ``{paginacao, faturas[]}`` with relative ``link`` — telemar53-beep/dw-whatsapp-backend
``src/integrations/sgp-client.js``; ``chamado/list`` as a bare array of ``oc_*``/``os_*`` fields
and ``promessapagamento`` ``status`` 0/1/2 with ``data_promessa`` — ecswood/stonechat
``backend/src/services/SgpServices/SgpService.ts`` and its plan notes; a wrong token is HTTP 403
``{"detail": "Credenciais de autenticação incorretas."}`` while "… não foram fornecidas" means the
token exists but may not use that family. Answers nobody public reads (notes, ``extratouso``,
``tipoocorrencia``) are read with every plausible spelling and never take a screen down alone.

What SGP has no operation for raises NotSupported: due-day change, call records, linking a chat to a
contact, and changing the Central password (``cliente/servico/senha/edit`` changes the PPPoE
*service* password, which would disconnect the subscriber's router, so it is deliberately not used).
2ª via always sends ``nao_gerar_os=1``: without it every call opens a service record.

This module makes the calls; turning SGP's records into models is :mod:`backend_client.sgp.mapping`.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

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
from backend_client.formats.documents import strip_document
from backend_client.formats.phones import brazilian_e164
from backend_client.formats.pix import brcode_amount
from backend_client.kit.shape import SAO_PAULO, Record, listing, warn_once
from backend_client.kit.transport import HttpResponse, HttpTransport
from backend_client.kit.vault import CredentialVault, VaultEntry
from backend_client.models import (
    BackendSession,
    CallRecord,
    ConnectionSession,
    Contact,
    ContactType,
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
    TicketStatus,
    TicketSubject,
)
from backend_client.sgp import mapping
from backend_client.sgp.mapping import (
    DEFAULT_CONTACT_TYPES,
    EMAIL_TYPE,
    INVOICE_STATUS_CODE,
    LANDLINE_TYPE,
    PROTOCOL_TICKET,
    SYSTEM,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 250
MAX_PAGES = 20
NO_DOCUMENT = "00000000000"  # what a probe asks URA about: answers {"contratos": []}


CLOSED_TICKET_REASON = "Este atendimento está encerrado. Se precisar, abra um novo atendimento."
NO_REPLY_REASON = (
    "Este atendimento ainda não recebe respostas por aqui. Se precisar, abra um novo atendimento."
)
NOT_SUSPENDED_REASON = "Este contrato não está suspenso."
NOT_BLOCKED_REASON = "Este contrato não está bloqueado: não há o que liberar."
_PROTOCOL_RE = re.compile(r"protocolo\D{0,5}(\d{4,})", re.IGNORECASE)

# Central endpoints a probe asks with the integration's token (no ids: nothing is changed) and
# the features that need them; "ura" ones need the token to be allowed to use the URA.
CENTRAL_PROBES: tuple[tuple[str, tuple[Feature, ...]], ...] = (
    ("/api/central/contratos", (Feature.ACCOUNT,)),
    ("/api/central/verificaacesso/", (Feature.ACCOUNT,)),
    ("/api/central/promessapagamento/", (Feature.ENABLING,)),
    ("/api/central/titulos/", (Feature.INVOICES, Feature.STATEMENT)),
    ("/api/central/fatura2via/", (Feature.INVOICES,)),
    ("/api/central/notafiscal/list/", (Feature.FISCAL_NOTES,)),
    ("/api/central/extratouso/", (Feature.CONNECTIONS,)),
    ("/api/central/chamado/list/", (Feature.TICKETS, Feature.NEW_TICKET)),
    ("/api/central/tipoocorrencia/list/", (Feature.NEW_TICKET,)),
)
URA_CONTACTS = "/api/ura/consultacliente/"
REFUSED = (
    "SGP refused the integration credentials (check BACKEND_TOKEN and BACKEND_APP; the app name "
    "is case-sensitive)"
)


def _sao_paulo_today() -> date:
    return datetime.now(SAO_PAULO).date()


def _refused_credentials(response: HttpResponse) -> bool:
    """SGP's 403 for a token/app pair that does not exist ("… incorretas"), as opposed to one
    that exists but may not use this endpoint family ("… não foram fornecidas")."""
    if response.status == 401:
        return True
    return b"incorreta" in response.body.lower()


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
        ticket_subjects: Sequence[TicketSubject] = (),
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
        self._ticket_subjects = tuple(ticket_subjects)
        self._today = today or _sao_paulo_today
        self._opened: OrderedDict[tuple[str, str], str] = OrderedDict()  # idempotency keys

    def __repr__(self) -> str:
        return f"SgpBackend({self._transport.base_url!r})"

    # --- plumbing -------------------------------------------------------------------------------
    def _link(self, link: str | None) -> str | None:
        """An absolute http(s) address for a link SGP gives absolute or relative to its root."""
        if not link:
            return None
        if link.lower().startswith(("http://", "https://")):
            return link
        if link.startswith("/"):
            return self._transport.base_url + link
        return None

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

    async def _central_data(
        self, path: str, entry: VaultEntry, *, read: bool = True, **fields: Any
    ) -> Any:
        """The JSON of a Central answer (an object, or a bare list for some listings)."""
        response = await self._central(path, entry, read=read, **fields)
        if response.status != 200:
            raise self._transport.unexpected(response)
        return self._transport.json(response)

    async def _central_json(
        self, path: str, entry: VaultEntry, where: str, *, read: bool = True, **fields: Any
    ) -> Record:
        return Record.of(await self._central_data(path, entry, read=read, **fields), SYSTEM, where)

    async def _ura(self, path: str, operation: str, *, read: bool, **fields: Any) -> HttpResponse:
        form = {"token": self._token, "app": self._app}
        form.update({k: str(v) for k, v in fields.items() if v is not None})
        response = await self._transport.request("POST", path, read=read, data=form)
        if response.status in (401, 403):
            if _refused_credentials(response):
                raise CredentialsRefused(REFUSED)
            raise NotPermitted(operation, path)
        return response

    async def _ura_json(
        self, path: str, operation: str, where: str, *, read: bool = True, **fields: Any
    ) -> Record:
        response = await self._ura(path, operation, read=read, **fields)
        if response.status != 200:
            raise self._transport.unexpected(response)
        return Record.of(self._transport.json(response), SYSTEM, where)

    def _entry(self, session: BackendSession) -> VaultEntry:
        return self._vault.resolve(session.token, session.subscriber_id)

    @staticmethod
    def _refusal(answer: Record, default: str) -> str:
        message = answer.opt_text("msg|mensagem")
        return message or default

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        await self._transport.start()

    async def close(self) -> None:
        await self._transport.close()
        self._vault.clear()

    def unsupported_features(self) -> frozenset[Feature]:
        return frozenset({Feature.PASSWORD, Feature.CALLS, Feature.DUE_DAY, Feature.CONTACT_LINK})

    async def ping(self) -> None:
        """URA ``consultacliente`` about no one: every installation with the URA answers it
        (``{"contratos": []}``); a login page instead of JSON means BACKEND_URL is not the API."""
        try:
            response = await self._ura(URA_CONTACTS, "ping", read=True, cpfcnpj=NO_DOCUMENT)
        except NotPermitted:
            return  # the token is valid; it only may not use the URA
        if response.status != 200:
            raise self._transport.unexpected(response, "is BACKEND_URL the SGP address?")
        try:
            self._transport.json(response)
        except Unavailable:
            raise Unavailable(
                f"SGP: {URA_CONTACTS} did not answer JSON (HTTP {response.status}): BACKEND_URL "
                "may not point at SGP's API"
            ) from None

    async def check_features(self) -> list[FeatureCheck]:
        await self.ping()
        found: dict[Feature, FeatureCheck] = {}

        def note(feature: Feature, state: CheckState, detail: str) -> None:
            current = found.get(feature)
            if current is None or current.state is CheckState.OK:
                found[feature] = FeatureCheck(feature, state, detail)

        async def central(path: str) -> tuple[CheckState, str]:
            form = {"token": self._token, "app": self._app, "limit": "1", "nao_gerar_os": "1"}
            try:
                response = await self._transport.request("POST", path, read=True, data=form)
            except Unavailable:
                return CheckState.UNREACHABLE, path
            if response.status == 404:
                return CheckState.NOT_SUPPORTED, f"{path} is not in this installation"
            if response.status in (401, 403) and _refused_credentials(response):
                raise CredentialsRefused(REFUSED)
            return CheckState.OK, ""

        results = await asyncio.gather(*(central(path) for path, _ in CENTRAL_PROBES))
        for (_, features), (state, detail) in zip(CENTRAL_PROBES, results, strict=True):
            for feature in features:
                note(feature, state, detail)
        try:
            await self._ura(URA_CONTACTS, "list_contacts", read=True, cpfcnpj=NO_DOCUMENT)
            ura = CheckState.OK, ""
        except NotPermitted:
            ura = CheckState.NOT_PERMITTED, f"{URA_CONTACTS}: the token may not use the URA"
        except CredentialsRefused:
            raise
        except Unavailable:
            ura = CheckState.UNREACHABLE, URA_CONTACTS
        for feature in (Feature.CONTACTS, Feature.NEW_CONTACT):
            note(feature, *ura)
        if ura[0] is not CheckState.OK and found[Feature.ACCOUNT].state is CheckState.OK:
            found[Feature.ACCOUNT] = FeatureCheck(
                Feature.ACCOUNT, CheckState.OK, "without the access login's IP and phones"
            )
        if self._ticket_subjects and found[Feature.NEW_TICKET].state is not CheckState.OK:
            found[Feature.NEW_TICKET] = FeatureCheck(
                Feature.NEW_TICKET, CheckState.OK, "with the configured ticket subjects"
            )
        for feature in self.unsupported_features():
            found[feature] = FeatureCheck(feature, CheckState.NOT_SUPPORTED)
        return [found.get(f) or FeatureCheck(f, CheckState.OK) for f in Feature]

    # --- authentication -------------------------------------------------------------------------
    async def login(self, document: str, password: str) -> BackendSession:
        document = strip_document(document)
        form = {"cpfcnpj": document, "senha": password}
        path = "/api/central/contratos"
        response = await self._transport.request("POST", path, read=True, data=form)
        if response.status in (401, 403):
            raise InvalidCredentials()
        if response.status != 200:
            raise self._transport.unexpected(response)
        data = self._transport.json(response)
        if isinstance(data, Mapping) and "contratos" not in data:
            # SGP answers a refused Central login with a message instead of contracts.
            answer = Record.of(data, SYSTEM, "contratos")
            if any(key in answer for key in ("msg", "status", "detail", "auth")):
                raise InvalidCredentials()
        contracts = listing(data, SYSTEM, "contratos", "contratos")
        if not contracts:
            raise InvalidCredentials()  # no contract, no Central access
        first = contracts[0]
        name = first.text("razaoSocial|nome")
        subscriber_id = first.opt_ident("clienteId|cliente_id") or await self._client_id(document)
        token = self._vault.issue(subscriber_id, document, password)
        return BackendSession(
            subscriber_id=subscriber_id, document=document, name=name, token=token
        )

    async def _client_id(self, document: str) -> str:
        """SGP's client id from the URA (the Central's contratos has none); without the URA, a
        keyed hash of the document, so the bot's id (logged, stored) is never the CPF/CNPJ."""
        try:
            contracts = await self._ura_contracts(document, "login")
        except (NotPermitted, Unavailable):
            contracts = {}
        for contract in contracts.values():
            client = contract.opt_ident("clienteId|cliente_id")
            if client is not None:
                return client
        digest = hmac.new(self._token.encode(), document.encode(), hashlib.sha256)
        return "doc-" + digest.hexdigest()[:20]

    async def logout(self, session: BackendSession) -> None:
        self._vault.revoke(session.token)

    async def change_password(
        self, session: BackendSession, current_password: str, new_password: str
    ) -> None:
        raise NotSupported("change_password")

    # --- contracts (ownership) ------------------------------------------------------------------
    async def _contracts(self, entry: VaultEntry) -> list[Record]:
        """The subscriber's contracts, as SGP scopes them to the subscriber's own login."""
        data = await self._central_data("/api/central/contratos", entry)
        owned = []
        for contract in listing(data, SYSTEM, "contratos", "contratos"):
            document = contract.opt_text("cpfCnpj")
            if document is not None and strip_document(document) != entry.document:
                continue  # a loose filter on the provider's side must not leak other people
            owned.append(contract)
        return owned

    async def _contract(self, entry: VaultEntry, contract_id: str) -> Record:
        for contract in await self._contracts(entry):
            if mapping.contract_id_of(contract) == contract_id:
                return contract
        raise NotFound(f"contract {contract_id}")

    async def _ura_contracts(self, document: str, operation: str) -> dict[str, Record]:
        """URA ``consultacliente`` for the logged-in document, by contract id (what the Central
        lacks: the client id, the access login's IP, phones, contacts)."""
        answer = await self._ura_json(URA_CONTACTS, operation, "consultacliente", cpfcnpj=document)
        found: dict[str, Record] = {}
        for contract in answer.opt_records("contratos"):
            given = contract.opt_text("cpfCnpj")
            if given is not None and strip_document(given) != document:
                continue
            found[mapping.contract_id_of(contract)] = contract
        return found

    async def _ura_extras(self, entry: VaultEntry) -> dict[str, Record]:
        """:meth:`_ura_contracts` where it only adds to a screen: a URA the token may not use
        (or that fails) leaves those details out."""
        try:
            return await self._ura_contracts(entry.document, "get_subscriber")
        except (NotPermitted, Unavailable) as error:
            # Messages of these errors name paths and settings, never values.
            warn_once(SYSTEM, "consultacliente", f"failed: {error}")
            return {}

    async def _access(self, entry: VaultEntry, contract_id: str) -> tuple[bool | None, str | None]:
        """Whether the contract's access is online (status 1) or offline (2), and its login.

        Any other status (a phone-only contract) or a failure leaves the access unknown."""
        try:
            answer = await self._central_json(
                "/api/central/verificaacesso/", entry, "verificaacesso", contrato=contract_id
            )
        except Unavailable as error:
            warn_once(SYSTEM, "verificaacesso", f"failed ({type(error).__name__})")
            return None, None
        status = answer.raw("status")
        online = {1: True, 2: False}.get(int(status)) if str(status).isdigit() else None
        return online, answer.shown(answer.opt_text, "login|servico_login")

    # --- account --------------------------------------------------------------------------------
    async def get_subscriber(self, session: BackendSession) -> Subscriber:
        entry = self._entry(session)
        records, extras = await asyncio.gather(self._contracts(entry), self._ura_extras(entry))
        if not records:
            raise SessionExpired()  # the subscriber no longer has contracts at this provider
        ids = [mapping.contract_id_of(record) for record in records]
        access = await asyncio.gather(*(self._access(entry, cid) for cid in ids))
        merged: list[Record] = []
        contracts = []
        for record, contract_id, (online, access_login) in zip(records, ids, access, strict=True):
            extra = extras.get(contract_id)
            data = {**extra.data, **record.data} if extra is not None else record.data
            view = Record(data, SYSTEM, record.where)
            merged.append(view)
            contracts.append(mapping.contract(view, contract_id, online, access_login))
        first = merged[0]
        emails = [e for r in merged for e in (r.shown(r.strings, "emails|email") or [])]
        phones = (
            brazilian_e164(raw) for r in merged for raw in (r.shown(r.strings, "telefones") or [])
        )
        return Subscriber(
            id=session.subscriber_id,
            name=first.text("razaoSocial|nome"),
            document=entry.document,
            email=emails[0] if emails else None,
            phones=tuple(dict.fromkeys(p for p in phones if p)),
            address=mapping.address(first),
            contracts=tuple(contracts),
        )

    # --- temporary enabling ---------------------------------------------------------------------
    async def get_temporary_enabling_policy(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnablingPolicy:
        contract = await self._contract(self._entry(session), contract_id)
        suspended = mapping.contract_status(contract) is ContractStatus.SUSPENDED
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
        # status 1 liberado; 0 nothing to release (or refused, with msg); 2 limit reached.
        status = str(answer.raw("status", "")).strip()
        if "liberado" not in answer and status not in ("0", "1", "2"):
            raise answer.fail("liberado", "is missing (and status is not 0, 1 or 2)")
        released = answer.flag("liberado") if "liberado" in answer else None
        if not (released or (released is None and status == "1")):
            default = NOT_BLOCKED_REASON if status == "0" else "O provedor não liberou agora."
            raise Rejected(self._refusal(answer, default))
        days = answer.shown(answer.opt_integer, "liberado_dias") or self._enabling_days
        until = answer.shown(answer.opt_day, "data_promessa")
        protocol = answer.opt_ident("protocolo")
        if protocol is None:
            found = _PROTOCOL_RE.search(answer.opt_text("msg") or "")
            protocol = found.group(1) if found else ""
        return TemporaryEnabling(
            contract_id=contract_id,
            enabled_until=until or self._today() + timedelta(days=days),
            protocol=protocol,
        )

    # --- invoices -------------------------------------------------------------------------------
    async def _titulos(
        self, entry: VaultEntry, contract_id: str, status: str | None
    ) -> list[Record]:
        faturas: list[Record] = []
        for page in range(MAX_PAGES):
            data = await self._central_data(
                "/api/central/titulos/",
                entry,
                contrato=contract_id,
                status=status,
                offset=page * PAGE_SIZE,
                limit=PAGE_SIZE,
            )
            batch = listing(data, SYSTEM, "titulos", "faturas|titulos")
            faturas.extend(batch)
            paging = (
                Record.of(data, SYSTEM, "titulos").raw("paginacao")
                if isinstance(data, Mapping)
                else None
            )
            total = paging.get("total") if isinstance(paging, Mapping) else None
            if len(batch) < PAGE_SIZE or (str(total).isdigit() and len(faturas) >= int(total)):
                break
        return faturas

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
                invoice = mapping.invoice(fatura, contract_id)
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
            contract_ids = [mapping.contract_id_of(c) for c in await self._contracts(entry)]
        if statuses is not None and not statuses:
            return []
        pairs = await self._all_invoices(entry, statuses, contract_ids)
        return [inv for inv, _ in pairs if period is None or inv.due_date in period]

    async def _find_invoice(self, entry: VaultEntry, invoice_id: str) -> tuple[Invoice, Record]:
        contract_ids = [mapping.contract_id_of(c) for c in await self._contracts(entry)]
        for invoice, fatura in await self._all_invoices(entry, None, contract_ids):
            if invoice.id == invoice_id:
                return invoice, fatura
        raise NotFound(f"invoice {invoice_id}")

    async def _second_copy(self, entry: VaultEntry, invoice: Invoice) -> tuple[Invoice, str] | None:
        """The reissued 2ª via of an overdue invoice: its amount, due date, linha digitável, PIX
        and PDF link, all from the same ``fatura2via`` item (None when SGP gives none)."""
        answer = await self._central_json(
            "/api/central/fatura2via/",
            entry,
            "fatura2via",
            contrato=invoice.contract_id,
            nao_gerar_os=1,
        )
        for item in answer.opt_records("links|boletos"):
            if not mapping.is_second_copy_of(item, invoice):
                continue
            link = self._link(item.opt_text("link"))
            reissued = mapping.second_copy(item, invoice)
            if link is None or reissued is None:
                return None
            return reissued, link
        return None

    async def get_invoice(self, session: BackendSession, invoice_id: str) -> Invoice:
        entry = self._entry(session)
        invoice, _ = await self._find_invoice(entry, invoice_id)
        if invoice.is_overdue(self._today()):
            reissued = await self._second_copy(entry, invoice)
            if reissued is not None:
                return reissued[0]
        if invoice.status is InvoiceStatus.OPEN and invoice.pix_code is None:
            answer = await self._central_json(
                f"/api/central/pagamento/pix/{invoice.id}",
                entry,
                "pagamento/pix",
                read=False,
                contrato=invoice.contract_id,
            )
            pix = answer.raw("pix")
            source = (
                Record.of(pix, SYSTEM, "pagamento/pix.pix") if isinstance(pix, Mapping) else answer
            )
            code = mapping.pix_code(source, "codigopix|pix_copia_cola|pixCopiaECola|qrcode")
            if code is not None and brcode_amount(code) in (None, invoice.amount):
                invoice = dataclasses.replace(invoice, pix_code=code)
        return invoice

    async def get_boleto_pdf(self, session: BackendSession, invoice_id: str) -> Document:
        entry = self._entry(session)
        invoice, fatura = await self._find_invoice(entry, invoice_id)
        if invoice.status is InvoiceStatus.PAID:
            raise Rejected("Esta fatura já está paga; não há boleto para pagar.")
        if invoice.status is InvoiceStatus.CANCELLED:
            raise Rejected("Esta fatura foi cancelada; não há boleto para pagar.")
        link = self._link(fatura.opt_text("link_completo|link"))
        name = f"boleto-{invoice.reference.replace('/', '-')}.pdf"
        if invoice.is_overdue(self._today()):
            # The same 2ª via whose amount and codes get_invoice showed.
            reissued = await self._second_copy(entry, invoice)
            if reissued is not None:
                link, name = reissued[1], f"boleto-2via-{invoice.reference.replace('/', '-')}.pdf"
        if link is None:
            raise Rejected("O boleto desta fatura não está disponível agora.")
        content = await self._download(link, "boleto")
        return Document(filename=name, content_type="application/pdf", content=content)

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
    async def _note_list(self, entry: VaultEntry, kind: str, contract_id: str) -> list[Record]:
        """One kind of note of a contract; a kind this installation lacks (404) or that the token
        may not read (nfcom) is left out, with one warning."""
        try:
            if kind == "nfcom":
                response = await self._ura(
                    "/api/central/nfcom/list", "list_fiscal_notes", read=True, contrato=contract_id
                )
            else:
                response = await self._central(
                    f"/api/central/{kind}/list/", entry, read=True, contrato=contract_id
                )
        except NotPermitted:
            warn_once(SYSTEM, f"{kind}/list", "is not permitted to the token")
            return []
        if response.status == 404:
            warn_once(SYSTEM, f"{kind}/list", "is not in this installation (HTTP 404)")
            return []
        if response.status != 200:
            raise self._transport.unexpected(response)
        data = self._transport.json(response)
        return listing(data, SYSTEM, kind, "notas|data|notasfiscais", strict=False)

    async def _notes(self, entry: VaultEntry) -> list[tuple[FiscalNote, Record]]:
        contract_ids = [mapping.contract_id_of(c) for c in await self._contracts(entry)]
        kinds = ("notafiscal", "nfse", "nfcom")

        async def of_contract(contract_id: str) -> list[tuple[FiscalNote, Record]]:
            answers = await asyncio.gather(
                *(self._note_list(entry, kind, contract_id) for kind in kinds)
            )
            return [
                (mapping.fiscal_note(kind, record, contract_id), record)
                for kind, records in zip(kinds, answers, strict=True)
                for record in records
            ]

        batches = await asyncio.gather(*(of_contract(cid) for cid in contract_ids))
        return [pair for batch in batches for pair in batch]

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
                    "get_fiscal_note_pdf",
                    read=True,
                    contrato=note.contract_id,
                    formato="pdf",
                )
                if response.status != 200 or not response.body.startswith(b"%PDF-"):
                    raise self._transport.malformed(response, "the NFCom is not a PDF")
                content = response.body
            else:
                link = self._link(record.opt_text("link|link_pdf|url"))
                if link is None:
                    raise Rejected("O PDF desta nota fiscal não está disponível agora.")
                content = await self._download(link, "fiscal note")
            return Document(filename=filename, content_type="application/pdf", content=content)
        raise NotFound(f"fiscal note {note_id}")

    # --- contacts -------------------------------------------------------------------------------
    async def list_contacts(self, session: BackendSession) -> list[Contact]:
        contacts: dict[str, Contact] = {}
        entry = self._entry(session)
        for contract in (await self._ura_contracts(entry.document, "list_contacts")).values():
            name = contract.opt_text("razaoSocial") or ""
            records = contract.opt_records("contatos")
            if not records:
                # Some installations give the phones and e-mails as {tipoContato, contato}.
                records = [
                    r
                    for key in ("telefones", "emails")
                    for r in contract.opt_records(key)
                    if isinstance(contract.raw(key), list)
                    and all(isinstance(item, Mapping) for item in contract.raw(key))
                ]
            for record in records:
                contact = mapping.contact(record, name, self._contact_types)
                contacts.setdefault(contact.id, contact)
        return list(contacts.values())

    async def list_contact_types(self, session: BackendSession) -> list[ContactType]:
        self._entry(session)
        return list(self._contact_types)

    async def add_contact(self, session: BackendSession, contact: NewContact) -> Contact:
        entry = self._entry(session)
        types = {t.id: t for t in self._contact_types}
        if contact.type_id not in types:
            raise NotFound(f"contact type {contact.type_id}")
        if not mapping.digits(contact.mobile):
            raise Rejected("Informe o celular do contato.")
        contracts = await self._contracts(entry)
        if not contracts:
            raise SessionExpired()
        contract_id = mapping.contract_id_of(contracts[0])
        # SGP keeps one value per contact: the mobile first, then the optional ones.
        values = [(contact.type_id, mapping.digits(contact.mobile))]
        if contact.landline and mapping.digits(contact.landline):
            values.append((LANDLINE_TYPE, mapping.digits(contact.landline)))
        if contact.email:
            values.append((EMAIL_TYPE, contact.email.strip()))
        first_id: str | None = None
        for kind, value in values:
            answer = await self._ura_json(
                "/api/ura/contato/add/",
                "add_contact",
                "contato/add",
                read=False,
                contrato=contract_id,
                contato=value,
                tipo=kind,
            )
            if answer.raw("status") in (0, "0", False):
                raise Rejected(self._refusal(answer, "O provedor não aceitou este contato."))
            first_id = first_id or answer.opt_ident("id") or f"{contract_id}-{value}"
        assert first_id is not None
        return Contact(
            id=first_id,
            name=" ".join(contact.name.split()),
            type=types[contact.type_id],
            mobile=mapping.digits(contact.mobile),
            landline=mapping.digits(contact.landline) or None,
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
        try:
            await self._contract(entry, login_id)  # a login's id is its contract's id
        except NotFound:
            raise NotFound(f"login {login_id}") from None
        answers = await asyncio.gather(
            *(
                self._central_data(
                    "/api/central/extratouso/", entry, contrato=login_id, ano=year, mes=month
                )
                for year, month in mapping.months(period, self._today())
            )
        )
        sessions: dict[str, ConnectionSession] = {}
        for data in answers:
            for record in listing(
                data, SYSTEM, "extratouso", "acessos|extrato|list|dados|data", strict=False
            ):
                item = mapping.connection_session(record, period)
                if item is None:
                    continue
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
        """SGP's ``tipoocorrencia`` when the subscriber may read it, else the subjects the
        provider configured (BACKEND_TICKET_SUBJECTS)."""
        entry = self._entry(session)
        form = {"cpfcnpj": entry.document, "senha": entry.secret}
        path = "/api/central/tipoocorrencia/list/"
        response = await self._transport.request("POST", path, read=True, data=form)
        subjects: list[TicketSubject] = []
        if response.status == 200:
            data = self._transport.json(response)
            for record in listing(data, SYSTEM, "tipoocorrencia", "tipos|data|ocorrencias"):
                if "ativo" in record and not record.shown(record.flag, "ativo"):
                    continue
                subjects.append(
                    TicketSubject(id=record.ident("codigo|id"), name=record.text("descricao|nome"))
                )
        elif response.status in (401, 403, 404):
            warn_once(SYSTEM, "tipoocorrencia/list", f"answered HTTP {response.status}")
        else:
            raise self._transport.unexpected(response)
        if subjects:
            return subjects
        if self._ticket_subjects:
            return list(self._ticket_subjects)
        raise NotPermitted("list_ticket_subjects", path)

    async def _chamados(self, entry: VaultEntry) -> list[tuple[Record, str]]:
        contract_ids = [mapping.contract_id_of(c) for c in await self._contracts(entry)]
        answers = await asyncio.gather(
            *(
                self._central_data("/api/central/chamado/list/", entry, contrato=cid)
                for cid in contract_ids
            )
        )
        found: dict[str, tuple[Record, str]] = {}
        for contract_id, data in zip(contract_ids, answers, strict=True):
            for record in listing(data, SYSTEM, "chamado/list", "chamados|data", strict=False):
                found.setdefault(mapping.ticket_id_of(record), (record, contract_id))
        return list(found.values())

    async def list_tickets(
        self, session: BackendSession, statuses: frozenset[TicketStatus] | None = None
    ) -> list[Ticket]:
        tickets = [
            mapping.ticket(record, contract_id, full=False)
            for record, contract_id in await self._chamados(self._entry(session))
        ]
        if statuses is not None:
            tickets = [t for t in tickets if t.status in statuses]
        return sorted(tickets, key=lambda t: (t.opened_at, t.id), reverse=True)

    async def _find_ticket(self, entry: VaultEntry, ticket_id: str) -> Ticket:
        for record, contract_id in await self._chamados(entry):
            if mapping.ticket_id_of(record) == ticket_id:
                return mapping.ticket(record, contract_id, full=True)
        raise NotFound(f"ticket {ticket_id}")

    async def get_ticket(self, session: BackendSession, ticket_id: str) -> Ticket:
        return await self._find_ticket(self._entry(session), ticket_id)

    async def _attach(
        self, entry: VaultEntry, ticket_id: str, documents: tuple[Document, ...]
    ) -> None:
        if documents and ticket_id.startswith(PROTOCOL_TICKET):
            # SGP takes files on a service order; a ticket without one cannot take them.
            raise NotSupported("ticket_attachments")
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
        contracts = [mapping.contract_id_of(c) for c in await self._contracts(entry)]
        if ticket.contract_id is not None and ticket.contract_id not in contracts:
            raise NotFound(f"contract {ticket.contract_id}")
        if not contracts:
            raise SessionExpired()
        data = await self._central_data(
            "/api/central/chamado/",
            entry,
            read=False,
            contrato=ticket.contract_id or contracts[0],
            conteudo=description,
            ocorrenciatipo=ticket.subject_id,
        )
        # An object, or a list of one (both seen in public integrations).
        answers = listing(data, SYSTEM, "chamado", "chamado") if isinstance(data, list) else []
        answer = answers[0] if answers else Record.of(data, SYSTEM, "chamado")
        status = str(answer.raw("status", "")).strip()
        if status in ("0", "False", "false"):
            raise Rejected(self._refusal(answer, "O provedor não abriu o atendimento agora."))
        if status == "3":  # already an open one for this subject
            protocol = answer.opt_ident("protocolo")
            which = f" (protocolo {protocol})" if protocol else ""
            raise Rejected(
                f"Já existe um atendimento aberto para este assunto{which}. Acompanhe-o em "
                "Atendimentos."
            )
        ticket_id = mapping.ticket_id_of(answer)
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
        if ticket_id.startswith(PROTOCOL_TICKET):
            raise Rejected(NO_REPLY_REASON)
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
            if mapping.ticket_id_of(record) != ticket_id:
                continue
            for anexo in record.opt_records("anexos"):
                if anexo.ident("id") == attachment_id:
                    url = self._link(anexo.text("url"))
                    if url is None:
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
