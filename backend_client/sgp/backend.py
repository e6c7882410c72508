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

This module and its parts make the calls (``base``: settings and plumbing, ``invoices``: invoices
and fiscal notes, ``tickets``); turning SGP's records into models is ``sgp/mapping.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import timedelta

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
from backend_client.kit.shape import Record, listing
from backend_client.models import (
    AreaOutage,
    BackendSession,
    CallRecord,
    ConnectionSession,
    Contact,
    ContactType,
    ContractStatus,
    DateRange,
    DueDayChangeRequest,
    DueDayOptions,
    NewContact,
    PhoneLine,
    Subscriber,
    TemporaryEnabling,
    TemporaryEnablingPolicy,
    TerminalType,
)
from backend_client.sgp import mapping
from backend_client.sgp.base import (
    REFUSED,
    URA_CONTACTS,
    _refused_credentials,
)
from backend_client.sgp.invoices import SgpInvoices
from backend_client.sgp.mapping import (
    EMAIL_TYPE,
    LANDLINE_TYPE,
    SYSTEM,
)
from backend_client.sgp.tickets import SgpTickets

NO_DOCUMENT = "00000000000"  # what a probe asks URA about: answers {"contratos": []}

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


class SgpBackend(SgpInvoices, SgpTickets):
    """Subscriber operations against an SGP installation (``base_url`` is its root URL)."""

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        await self._transport.start()

    async def close(self) -> None:
        await self._transport.close()
        self._vault.clear()

    def unsupported_features(self) -> frozenset[Feature]:
        return frozenset(
            {
                Feature.PASSWORD,
                Feature.CALLS,
                Feature.DUE_DAY,
                Feature.CONTACT_LINK,
                Feature.AREA_OUTAGES,  # no verified public outage listing (issue 22)
            }
        )

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

    def feed_reference(self, session: BackendSession) -> str:
        # The URA asks by cpfcnpj (and the Central's own ids may be a hash of it, see _client_id).
        return session.document

    async def change_password(
        self, session: BackendSession, current_password: str, new_password: str
    ) -> None:
        raise NotSupported("change_password")

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

    # --- area outages: no public source verified for SGP's maintenance listing (issue 22) ------
    async def list_outages(self, session: BackendSession) -> list[AreaOutage]:
        raise NotSupported("list_outages")

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
