"""The ``http`` adapter: any provider system that implements our REST contract (openapi.yaml).

Reads (GET) are retried with backoff; writes are sent once. The session token the server returns
is used as a bearer token; the server's error envelope (``{"error": {"code", ...}}``) becomes the
matching typed error, and anything else that is not the documented shape becomes Unavailable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from backend_client.errors import BackendError
from backend_client.features import Feature, FeatureCheck, all_ok
from backend_client.http.contract import ROUTES, error_from_envelope
from backend_client.http.wire import WireError, from_json, to_json
from backend_client.kit.transport import HttpTransport
from backend_client.models import (
    AreaOutage,
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
SYSTEM = "HTTP backend"


@dataclass(frozen=True, slots=True)
class LoginAnswer:
    """``POST /v1/sessions`` answers ``{"session": BackendSession}``."""

    session: BackendSession


def _period(period: DateRange | None) -> list[tuple[str, str]]:
    if period is None:
        return []
    return [("start", period.start.isoformat()), ("end", period.end.isoformat())]


class HttpBackend:
    """A :class:`~backend_client.protocol.SubscriberBackend` over our REST contract."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 10.0,
        read_retries: int = 2,
        backoff: float = 0.25,
        pool_size: int = 10,
    ) -> None:
        headers = {"Accept": "application/json"}
        if api_key:
            headers["X-Api-Key"] = api_key
        self._transport = HttpTransport(
            base_url,
            system=SYSTEM,
            timeout=timeout,
            read_retries=read_retries,
            backoff=backoff,
            pool_size=pool_size,
            headers=headers,
            secrets=[api_key] if api_key else [],
        )

    def __repr__(self) -> str:
        return f"HttpBackend({self._transport.base_url!r})"

    # --- plumbing -------------------------------------------------------------------------------
    async def _call(
        self,
        operation: str,
        result: Any = None,
        *,
        session: BackendSession | None = None,
        ids: dict[str, str] | None = None,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
    ) -> Any:
        route = ROUTES[operation]
        path = route.full_path.format(**{k: quote(v, safe="") for k, v in (ids or {}).items()})
        headers: dict[str, str] = {}
        if route.auth:
            assert session is not None
            headers["Authorization"] = f"Bearer {session.token}"
            headers["X-Subscriber-Id"] = session.subscriber_id
        response = await self._transport.request(
            route.method,
            path,
            read=route.method == "GET",
            params=query or None,
            json_body=None if body is None else to_json(body),
            headers=headers,
        )
        if response.status == route.status:
            if route.status == 204:
                return None
            data = self._transport.json(response)
            try:
                if result is not None and getattr(result, "__origin__", None) is list:
                    if not isinstance(data, dict) or "items" not in data:
                        raise WireError("$", 'expected an object with "items"')
                    return from_json(result, data["items"], "$.items")
                return from_json(result, data)
            except WireError as error:
                raise self._transport.malformed(response, f"unexpected shape at {error}") from None
        raise self._error(operation, response)

    def _error(self, operation: str, response: Any) -> BackendError:
        if response.status >= 400 and response.content_type == "application/json":
            data = self._transport.json(response)
            envelope = data.get("error") if isinstance(data, dict) else None
            code = envelope.get("code") if isinstance(envelope, dict) else None
            if isinstance(code, str):
                assert isinstance(envelope, dict)
                return error_from_envelope(code, envelope, operation)
        return self._transport.unexpected(response, "not the documented error envelope")

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        await self._transport.start()

    async def close(self) -> None:
        await self._transport.close()

    async def ping(self) -> None:
        await self._call("ping", Any)

    def unsupported_features(self) -> frozenset[Feature]:
        # The contract has no capability list: what the server answers not_supported is learned
        # per operation by the bot's GuardedBackend.
        return frozenset()

    async def check_features(self) -> list[FeatureCheck]:
        await self.ping()
        return all_ok()

    # --- authentication -------------------------------------------------------------------------
    async def login(self, document: str, password: str) -> BackendSession:
        body = {"document": document, "password": password}
        answer: LoginAnswer = await self._call("login", LoginAnswer, body=body)
        return answer.session

    async def logout(self, session: BackendSession) -> None:
        await self._call("logout", session=session)

    def feed_reference(self, session: BackendSession) -> str:
        return session.subscriber_id  # the contract's feed operations name subscribers by id

    async def change_password(
        self, session: BackendSession, current_password: str, new_password: str
    ) -> None:
        body = {"current_password": current_password, "new_password": new_password}
        await self._call("change_password", session=session, body=body)

    # --- account --------------------------------------------------------------------------------
    async def get_subscriber(self, session: BackendSession) -> Subscriber:
        result: Subscriber = await self._call("get_subscriber", Subscriber, session=session)
        return result

    # --- temporary enabling ---------------------------------------------------------------------
    async def get_temporary_enabling_policy(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnablingPolicy:
        result: TemporaryEnablingPolicy = await self._call(
            "get_temporary_enabling_policy",
            TemporaryEnablingPolicy,
            session=session,
            ids={"contract_id": contract_id},
        )
        return result

    async def request_temporary_enabling(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnabling:
        result: TemporaryEnabling = await self._call(
            "request_temporary_enabling",
            TemporaryEnabling,
            session=session,
            ids={"contract_id": contract_id},
        )
        return result

    # --- invoices -------------------------------------------------------------------------------
    async def list_invoices(
        self,
        session: BackendSession,
        period: DateRange | None = None,
        statuses: frozenset[InvoiceStatus] | None = None,
        contract_id: str | None = None,
    ) -> list[Invoice]:
        query = _period(period)
        if statuses is not None:
            query += [("status", status.value) for status in sorted(statuses)]
            if not statuses:
                return []
        if contract_id is not None:
            query.append(("contract_id", contract_id))
        result: list[Invoice] = await self._call(
            "list_invoices", list[Invoice], session=session, query=query
        )
        return result

    async def get_invoice(self, session: BackendSession, invoice_id: str) -> Invoice:
        result: Invoice = await self._call(
            "get_invoice", Invoice, session=session, ids={"invoice_id": invoice_id}
        )
        return result

    async def get_boleto_pdf(self, session: BackendSession, invoice_id: str) -> Document:
        result: Document = await self._call(
            "get_boleto_pdf", Document, session=session, ids={"invoice_id": invoice_id}
        )
        return result

    async def list_financial_entries(
        self, session: BackendSession, period: DateRange
    ) -> list[FinancialEntry]:
        result: list[FinancialEntry] = await self._call(
            "list_financial_entries", list[FinancialEntry], session=session, query=_period(period)
        )
        return result

    # --- fiscal notes ---------------------------------------------------------------------------
    async def list_fiscal_notes(
        self, session: BackendSession, period: DateRange
    ) -> list[FiscalNote]:
        result: list[FiscalNote] = await self._call(
            "list_fiscal_notes", list[FiscalNote], session=session, query=_period(period)
        )
        return result

    async def get_fiscal_note_pdf(self, session: BackendSession, note_id: str) -> Document:
        result: Document = await self._call(
            "get_fiscal_note_pdf", Document, session=session, ids={"note_id": note_id}
        )
        return result

    # --- contacts -------------------------------------------------------------------------------
    async def list_contacts(self, session: BackendSession) -> list[Contact]:
        result: list[Contact] = await self._call("list_contacts", list[Contact], session=session)
        return result

    async def list_contact_types(self, session: BackendSession) -> list[ContactType]:
        result: list[ContactType] = await self._call(
            "list_contact_types", list[ContactType], session=session
        )
        return result

    async def add_contact(self, session: BackendSession, contact: NewContact) -> Contact:
        result: Contact = await self._call("add_contact", Contact, session=session, body=contact)
        return result

    async def link_contact_device(
        self, session: BackendSession, contact_id: str, device_id: str
    ) -> None:
        ids = {"contact_id": contact_id, "device_id": device_id}
        await self._call("link_contact_device", session=session, ids=ids)

    async def unlink_contact_device(
        self, session: BackendSession, contact_id: str, device_id: str
    ) -> None:
        ids = {"contact_id": contact_id, "device_id": device_id}
        await self._call("unlink_contact_device", session=session, ids=ids)

    # --- call records ---------------------------------------------------------------------------
    async def list_phone_lines(self, session: BackendSession) -> list[PhoneLine]:
        result: list[PhoneLine] = await self._call(
            "list_phone_lines", list[PhoneLine], session=session
        )
        return result

    async def list_terminal_types(self, session: BackendSession) -> list[TerminalType]:
        result: list[TerminalType] = await self._call(
            "list_terminal_types", list[TerminalType], session=session
        )
        return result

    async def list_call_records(
        self,
        session: BackendSession,
        line_id: str,
        period: DateRange,
        terminal_type_id: str | None = None,
    ) -> list[CallRecord]:
        query = _period(period)
        if terminal_type_id is not None:
            query.append(("terminal_type_id", terminal_type_id))
        result: list[CallRecord] = await self._call(
            "list_call_records",
            list[CallRecord],
            session=session,
            ids={"line_id": line_id},
            query=query,
        )
        return result

    # --- area outages (a server without them answers 501 not_supported: NotSupported) --------
    async def list_outages(self, session: BackendSession) -> list[AreaOutage]:
        result: list[AreaOutage] = await self._call(
            "list_outages", list[AreaOutage], session=session
        )
        return result

    # --- connection records ---------------------------------------------------------------------
    async def list_connection_sessions(
        self, session: BackendSession, login_id: str, period: DateRange
    ) -> list[ConnectionSession]:
        result: list[ConnectionSession] = await self._call(
            "list_connection_sessions",
            list[ConnectionSession],
            session=session,
            ids={"login_id": login_id},
            query=_period(period),
        )
        return result

    # --- due day --------------------------------------------------------------------------------
    async def get_due_day_options(self, session: BackendSession, contract_id: str) -> DueDayOptions:
        result: DueDayOptions = await self._call(
            "get_due_day_options", DueDayOptions, session=session, ids={"contract_id": contract_id}
        )
        return result

    async def request_due_day_change(
        self, session: BackendSession, contract_id: str, new_day: int
    ) -> DueDayChangeRequest:
        result: DueDayChangeRequest = await self._call(
            "request_due_day_change",
            DueDayChangeRequest,
            session=session,
            ids={"contract_id": contract_id},
            body={"day": new_day},
        )
        return result

    # --- tickets --------------------------------------------------------------------------------
    async def list_ticket_subjects(self, session: BackendSession) -> list[TicketSubject]:
        result: list[TicketSubject] = await self._call(
            "list_ticket_subjects", list[TicketSubject], session=session
        )
        return result

    async def list_tickets(
        self, session: BackendSession, statuses: frozenset[TicketStatus] | None = None
    ) -> list[Ticket]:
        query: list[tuple[str, str]] = []
        if statuses is not None:
            if not statuses:
                return []
            query = [("status", status.value) for status in sorted(statuses)]
        result: list[Ticket] = await self._call(
            "list_tickets", list[Ticket], session=session, query=query
        )
        return result

    async def get_ticket(self, session: BackendSession, ticket_id: str) -> Ticket:
        result: Ticket = await self._call(
            "get_ticket", Ticket, session=session, ids={"ticket_id": ticket_id}
        )
        return result

    async def open_ticket(self, session: BackendSession, ticket: NewTicket) -> Ticket:
        result: Ticket = await self._call("open_ticket", Ticket, session=session, body=ticket)
        return result

    async def reply_ticket(
        self,
        session: BackendSession,
        ticket_id: str,
        text: str,
        attachments: tuple[Document, ...] = (),
    ) -> Ticket:
        body = {"text": text, "attachments": list(attachments)}
        result: Ticket = await self._call(
            "reply_ticket", Ticket, session=session, ids={"ticket_id": ticket_id}, body=body
        )
        return result

    async def get_ticket_attachment(
        self, session: BackendSession, ticket_id: str, attachment_id: str
    ) -> Document:
        result: Document = await self._call(
            "get_ticket_attachment",
            Document,
            session=session,
            ids={"ticket_id": ticket_id, "attachment_id": attachment_id},
        )
        return result
