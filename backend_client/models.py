"""Domain models shared by every backend adapter and by the bot.

Plain frozen dataclasses: no Telegram types, no ORM types. Money is ``Decimal`` in reais,
dates are ``date``, instants are timezone-aware ``datetime`` (UTC or any zone; the bot
shows them in America/Sao_Paulo).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


class ContractStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # blocked for non-payment
    TEMPORARILY_ENABLED = "temporarily_enabled"  # "habilitação provisória" in force
    CANCELLED = "cancelled"


class InvoiceStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"


class TicketStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the provider
    PENDING = "pending"  # waiting for the subscriber / in progress
    CLOSED = "closed"


class TicketAuthor(enum.StrEnum):
    SUBSCRIBER = "subscriber"
    PROVIDER = "provider"


@dataclass(frozen=True, slots=True)
class DateRange:
    """Inclusive range of calendar days."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("DateRange end is before start")

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class BackendSession:
    """What a successful login returns; passed to every subscriber operation.

    It must be JSON-serialisable through :meth:`to_dict` because the bot persists it so that a
    restart does not log people out. It never contains the password.
    """

    subscriber_id: str
    document: str
    name: str
    token: str

    def to_dict(self) -> dict[str, str]:
        return {
            "subscriber_id": self.subscriber_id,
            "document": self.document,
            "name": self.name,
            "token": self.token,
        }

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> BackendSession:
        return cls(
            subscriber_id=data["subscriber_id"],
            document=data["document"],
            name=data["name"],
            token=data["token"],
        )


@dataclass(frozen=True, slots=True)
class Address:
    street: str
    number: str
    complement: str
    neighbourhood: str
    city: str
    state: str  # UF, e.g. "SP"
    postal_code: str  # CEP, 8 digits


@dataclass(frozen=True, slots=True)
class AccessLogin:
    """A PPPoE/hotspot login of a contract."""

    id: str
    contract_id: str
    login: str
    ip_address: str | None
    kind: str = "pppoe"  # pppoe | hotspot
    online: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    name: str
    download_mbps: int
    upload_mbps: int
    monthly_price: Decimal | None  # None when the system does not say (never shown as R$ 0,00)


@dataclass(frozen=True, slots=True)
class Contract:
    id: str
    number: str  # what the subscriber sees, e.g. "2024/0153"
    plan: Plan
    status: ContractStatus
    address: Address
    due_day: int
    started_on: date
    logins: tuple[AccessLogin, ...] = ()
    temporarily_enabled_until: date | None = None


@dataclass(frozen=True, slots=True)
class Subscriber:
    id: str
    name: str
    document: str  # CPF (11 digits) or CNPJ (14 chars), unformatted
    email: str | None
    phones: tuple[str, ...]
    address: Address
    contracts: tuple[Contract, ...] = ()


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    contract_id: str
    reference: str  # e.g. "11/2026"
    issued_on: date
    due_date: date
    amount: Decimal
    status: InvoiceStatus
    paid_on: date | None = None
    paid_amount: Decimal | None = None
    fine: Decimal = Decimal("0")  # multa, when overdue
    interest: Decimal = Decimal("0")  # juros, when overdue
    linha_digitavel: str | None = None  # 47 digits, unformatted
    pix_code: str | None = None  # PIX BR Code "copia e cola"
    # When the system reissued the boleto (a 2ª via of an overdue invoice): what the linha
    # digitável, the PIX and the PDF given with this invoice charge, and their new due date.
    charged_amount: Decimal | None = None
    charged_due: date | None = None

    def is_overdue(self, today: date) -> bool:
        return self.status is InvoiceStatus.OPEN and self.due_date < today

    @property
    def updated_amount(self) -> Decimal:
        """What paying this invoice today costs, as far as the system says."""
        if self.charged_amount is not None:
            return self.charged_amount
        return self.amount + self.fine + self.interest


@dataclass(frozen=True, slots=True)
class FinancialEntry:
    """One line of the financial statement (Extrato Financeiro)."""

    invoice_id: str
    contract_id: str
    description: str
    due_date: date
    amount: Decimal
    status: InvoiceStatus
    paid_on: date | None = None
    paid_amount: Decimal | None = None

    @classmethod
    def of_invoice(cls, invoice: Invoice) -> FinancialEntry:
        """The statement line of an invoice, for systems whose statement is their invoices."""
        return cls(
            invoice_id=invoice.id,
            contract_id=invoice.contract_id,
            description=f"Fatura {invoice.reference}",
            due_date=invoice.due_date,
            amount=invoice.amount,
            status=invoice.status,
            paid_on=invoice.paid_on,
            paid_amount=invoice.paid_amount,
        )


@dataclass(frozen=True, slots=True)
class FiscalNote:
    id: str
    number: str
    series: str
    model: str  # e.g. "NFCom", "NFS-e", "NF 21"
    issued_on: date
    amount: Decimal
    contract_id: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A file coming from or going to the backend (PDF, image, text)."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class ContactType:
    id: str
    name: str  # "Administrativo", "Financeiro", "Técnico", …


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    name: str
    type: ContactType
    mobile: str | None  # E.164 without "+", e.g. "5511987654321"
    landline: str | None
    email: str | None
    sms_opt_in: bool


@dataclass(frozen=True, slots=True)
class NewContact:
    name: str
    type_id: str
    mobile: str
    landline: str | None
    email: str | None
    sms_opt_in: bool


@dataclass(frozen=True, slots=True)
class PhoneLine:
    id: str
    contract_id: str
    number: str  # E.164 without "+"


@dataclass(frozen=True, slots=True)
class TerminalType:
    id: str  # "local", "mobile", "ddd", "ddi", "0800"
    name: str  # "Local fixo", "Móvel", …


@dataclass(frozen=True, slots=True)
class CallRecord:
    id: str
    line_id: str
    terminal_type_id: str
    started_at: datetime
    called_number: str
    duration_seconds: int
    cost: Decimal


@dataclass(frozen=True, slots=True)
class ConnectionSession:
    id: str
    login: str
    started_at: datetime
    ended_at: datetime | None  # None while still connected
    ip_address: str
    download_bytes: int
    upload_bytes: int
    termination_cause: str | None = None


@dataclass(frozen=True, slots=True)
class TemporaryEnablingPolicy:
    """The provider's rule for "habilitação provisória" on one contract."""

    days: int  # how long one enabling lasts
    interval_days: int  # at most once per this many days
    eligible: bool
    reason: str | None = None  # pt-BR text from the provider when not eligible
    last_used_on: date | None = None


@dataclass(frozen=True, slots=True)
class TemporaryEnabling:
    contract_id: str
    enabled_until: date
    protocol: str


@dataclass(frozen=True, slots=True)
class DueDayChangeRequest:
    contract_id: str
    current_day: int
    requested_day: int
    protocol: str
    requested_at: datetime
    email_sent_to: str | None = None


@dataclass(frozen=True, slots=True)
class DueDayOptions:
    contract_id: str
    current_day: int
    available_days: tuple[int, ...]
    # The contract's request still awaiting the provider, if any: while there is one, the system
    # refuses another request for the contract (Rejected), whatever the day.
    pending: DueDayChangeRequest | None = None


@dataclass(frozen=True, slots=True)
class AreaOutage:
    """A failure or maintenance the provider's system knows in an area (issue 22): a city, or
    one neighbourhood of it (``neighbourhood`` None = the whole city)."""

    id: str
    city: str
    neighbourhood: str | None
    description: str
    forecast: datetime | None = None  # when service should be back, if the system says


@dataclass(frozen=True, slots=True)
class TicketSubject:
    id: str
    name: str  # "Sem conexão", "Lentidão", "Financeiro", …


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    id: str
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class TicketMessage:
    id: str
    author: TicketAuthor
    author_name: str
    sent_at: datetime
    text: str
    attachments: tuple[AttachmentInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    protocol: str
    subject: str
    status: TicketStatus
    opened_at: datetime
    updated_at: datetime
    contract_id: str | None = None
    messages: tuple[TicketMessage, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class NewTicket:
    subject_id: str
    description: str
    contract_id: str | None = None
    attachments: tuple[Document, ...] = ()
    idempotency_key: str | None = None  # a retry with the same key returns the same ticket
