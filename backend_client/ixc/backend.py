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

This module and its parts make the calls (``base``: settings, optional tables and sessions,
``invoices``: invoices and fiscal notes, ``tickets``); turning IXC's rows into models is
``ixc/mapping.py``.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from datetime import timedelta
from decimal import Decimal

from backend_client.errors import (
    CredentialsRefused,
    InvalidCredentials,
    NotFound,
    NotPermitted,
    NotSupported,
    Rejected,
    Unavailable,
)
from backend_client.features import CheckState, Feature, FeatureCheck
from backend_client.formats.documents import format_document, strip_document
from backend_client.formats.phones import brazilian_e164
from backend_client.ixc import mapping
from backend_client.ixc.base import OPTIONAL_USES
from backend_client.ixc.invoices import IxcInvoices
from backend_client.ixc.query import (
    REFUSED,
    SYSTEM,
    Filter,
)
from backend_client.ixc.tickets import IxcTickets
from backend_client.kit.shape import SAO_PAULO, Record
from backend_client.models import (
    Address,
    AreaOutage,
    BackendSession,
    CallRecord,
    ConnectionSession,
    Contact,
    ContactType,
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
OPTIONAL_TABLES = frozenset(OPTIONAL_USES)
# radacct has no "id" column (public integrations: generated schemas of IXC's tables).
PROBE_FIELDS = {"radacct": "radacctid"}
ENABLING_OUTCOMES = {"sucesso": True, "success": True, "erro": False, "error": False}
_PROTOCOL_RE = re.compile(r"protocolo\D{0,5}(\d{4,})", re.IGNORECASE)


class IxcBackend(IxcInvoices, IxcTickets):
    """Subscriber operations against an IXC Provedor installation (``base_url`` = its root)."""

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
                Feature.AREA_OUTAGES,
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

    def feed_reference(self, session: BackendSession) -> str:
        return session.subscriber_id  # the cliente id the listings filter by

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

    # --- area outages: not mapped (the bot shows only the ones its staff declares) ---------------
    async def list_outages(self, session: BackendSession) -> list[AreaOutage]:
        raise NotSupported("list_outages")

    # --- due day (no IXC endpoint) --------------------------------------------------------------
    async def get_due_day_options(self, session: BackendSession, contract_id: str) -> DueDayOptions:
        raise NotSupported("get_due_day_options")

    async def request_due_day_change(
        self, session: BackendSession, contract_id: str, new_day: int
    ) -> DueDayChangeRequest:
        raise NotSupported("request_due_day_change")
