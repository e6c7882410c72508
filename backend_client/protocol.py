"""The one contract between the bot and a provider's management system.

Every adapter (sandbox, SGP, IXCSoft, our HTTP contract…) implements :class:`SubscriberBackend`.
Operations taking a :class:`BackendSession` act on behalf of that subscriber only: an id that does
not belong to them raises :class:`~backend_client.errors.NotFound`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from backend_client.features import Feature, FeatureCheck
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


@runtime_checkable
class SubscriberBackend(Protocol):
    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Open connections / prepare storage. Called once before use."""

    async def close(self) -> None:
        """Release connections. Called once at shutdown."""

    async def ping(self) -> None:
        """Raise Unavailable when the system cannot be reached (CredentialsRefused when it
        refuses the integration's credentials). Uses a call every installation answers."""

    def unsupported_features(self) -> frozenset[Feature]:
        """What this kind of system has no operation for (known without asking it)."""

    async def check_features(self) -> list[FeatureCheck]:
        """Probe the system with the integration credentials: one line per Feature. Raises
        CredentialsRefused when the system refuses them (Unavailable when it cannot be reached).
        """

    # --- authentication (seed 1.2, 1.10) ------------------------------------------------------
    async def login(self, document: str, password: str) -> BackendSession:
        """``document`` is a normalised CPF (11 digits) or CNPJ (14 chars)."""

    async def logout(self, session: BackendSession) -> None: ...

    def feed_reference(self, session: BackendSession) -> str:
        """What this system's ProviderFeed needs to ask about this session's subscriber without
        their session (``Watched.reference``; SGP: the CPF/CNPJ, IXC: the cliente id). A secret
        to the bot: stored encrypted, never logged."""

    async def change_password(
        self, session: BackendSession, current_password: str, new_password: str
    ) -> None:
        """InvalidCredentials when ``current_password`` is wrong; Rejected for a weak new one."""

    # --- account (seed 1.2.1.1.1) ---------------------------------------------------------------
    async def get_subscriber(self, session: BackendSession) -> Subscriber:
        """The subscriber with contracts, plans and access logins."""

    # --- temporary enabling (seed 1.3) ----------------------------------------------------------
    async def get_temporary_enabling_policy(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnablingPolicy: ...

    async def request_temporary_enabling(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnabling:
        """Rejected (with the provider's reason) when the contract is not eligible."""

    # --- invoices, boletos, statement (seed 1.3.1, 1.3.1.1, 1.7) --------------------------------
    async def list_invoices(
        self,
        session: BackendSession,
        period: DateRange | None = None,
        statuses: frozenset[InvoiceStatus] | None = None,
        contract_id: str | None = None,
    ) -> list[Invoice]:
        """Invoices whose due date is in ``period`` (all when None), sorted by due date."""

    async def get_invoice(self, session: BackendSession, invoice_id: str) -> Invoice: ...

    async def get_boleto_pdf(self, session: BackendSession, invoice_id: str) -> Document: ...

    async def list_financial_entries(
        self, session: BackendSession, period: DateRange
    ) -> list[FinancialEntry]: ...

    # --- fiscal notes (seed 1.3.2) --------------------------------------------------------------
    async def list_fiscal_notes(
        self, session: BackendSession, period: DateRange
    ) -> list[FiscalNote]: ...

    async def get_fiscal_note_pdf(self, session: BackendSession, note_id: str) -> Document: ...

    # --- contacts and device link (seed 1, 1.1, 1.4) ----------------------------------------
    async def list_contacts(self, session: BackendSession) -> list[Contact]: ...

    async def list_contact_types(self, session: BackendSession) -> list[ContactType]: ...

    async def add_contact(self, session: BackendSession, contact: NewContact) -> Contact: ...

    async def link_contact_device(
        self, session: BackendSession, contact_id: str, device_id: str
    ) -> None:
        """Record ``device_id`` (e.g. ``telegram:<chat id>``) as a device of the contact."""

    async def unlink_contact_device(
        self, session: BackendSession, contact_id: str, device_id: str
    ) -> None: ...

    # --- call records (seed 1.5) --------------------------------------------------------------
    async def list_phone_lines(self, session: BackendSession) -> list[PhoneLine]: ...

    async def list_terminal_types(self, session: BackendSession) -> list[TerminalType]: ...

    async def list_call_records(
        self,
        session: BackendSession,
        line_id: str,
        period: DateRange,
        terminal_type_id: str | None = None,
    ) -> list[CallRecord]: ...

    # --- connection records (seed 1.6) ---------------------------------------------------------
    async def list_connection_sessions(
        self, session: BackendSession, login_id: str, period: DateRange
    ) -> list[ConnectionSession]:
        """Sessions of one access login (an id from ``Contract.logins``) sorted by start."""

    # --- area outages (issue 22) -----------------------------------------------------------
    async def list_outages(self, session: BackendSession) -> list[AreaOutage]:
        """Current failures or maintenance by area that the system knows (none ended).
        Systems that cannot tell raise NotSupported("list_outages") (Feature.AREA_OUTAGES)."""

    # --- due date (seed 1.8) ------------------------------------------------------------------
    async def get_due_day_options(
        self, session: BackendSession, contract_id: str
    ) -> DueDayOptions: ...

    async def request_due_day_change(
        self, session: BackendSession, contract_id: str, new_day: int
    ) -> DueDayChangeRequest: ...

    # --- tickets (seed 1.9, 1.9.1) ------------------------------------------------------------
    async def list_ticket_subjects(self, session: BackendSession) -> list[TicketSubject]: ...

    async def list_tickets(
        self, session: BackendSession, statuses: frozenset[TicketStatus] | None = None
    ) -> list[Ticket]:
        """Tickets newest first; ``messages`` may be empty in listings."""

    async def get_ticket(self, session: BackendSession, ticket_id: str) -> Ticket:
        """The ticket with its whole history."""

    async def open_ticket(self, session: BackendSession, ticket: NewTicket) -> Ticket: ...

    async def reply_ticket(
        self,
        session: BackendSession,
        ticket_id: str,
        text: str,
        attachments: tuple[Document, ...] = (),
    ) -> Ticket:
        """Rejected when the ticket is closed."""

    async def get_ticket_attachment(
        self, session: BackendSession, ticket_id: str, attachment_id: str
    ) -> Document: ...
