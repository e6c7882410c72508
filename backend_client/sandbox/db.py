"""ORM models of the sandbox's private database (SQLAlchemy 2, typed declarative mapping).

Money is stored as integer cents, instants as naive UTC (see :class:`UTCDateTime`), enums as
their string values. Ids are readable strings: ``"c1"``, ``"inv-1001"``, ``"tk-3"``…
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as naive UTC, returned as aware UTC (SQLite has no zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class MetaRow(Base):
    """Key/value facts about the store itself (e.g. the day it was seeded)."""

    __tablename__ = "sandbox_meta"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class ProtocolCounterRow(Base):
    """Last protocol sequence used on a day (protocols are ``yyyymmdd`` + 6 digits)."""

    __tablename__ = "protocol_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class AddressMixin:
    street: Mapped[str] = mapped_column(String(120))
    street_number: Mapped[str] = mapped_column(String(20))
    complement: Mapped[str] = mapped_column(String(60), default="")
    neighbourhood: Mapped[str] = mapped_column(String(60))
    city: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(8))


class SubscriberRow(AddressMixin, Base):
    __tablename__ = "subscribers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    document: Mapped[str] = mapped_column(String(14), unique=True)
    email: Mapped[str | None] = mapped_column(String(120))
    phones: Mapped[str] = mapped_column(String(200), default="")  # comma-separated E.164
    password_hash: Mapped[str] = mapped_column(String(200))


class AuthSessionRow(Base):
    """A logged-in session; only the SHA-256 of the token is stored."""

    __tablename__ = "auth_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subscriber_id: Mapped[str] = mapped_column(ForeignKey("subscribers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PlanRow(Base):
    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    download_mbps: Mapped[int] = mapped_column(Integer)
    upload_mbps: Mapped[int] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(Integer)


class ContractRow(AddressMixin, Base):
    __tablename__ = "contracts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscriber_id: Mapped[str] = mapped_column(ForeignKey("subscribers.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    status: Mapped[str] = mapped_column(String(30))
    due_day: Mapped[int] = mapped_column(Integer)
    started_on: Mapped[date] = mapped_column(Date)
    temporarily_enabled_until: Mapped[date | None] = mapped_column(Date)


class AccessLoginRow(Base):
    __tablename__ = "access_logins"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    kind: Mapped[str] = mapped_column(String(20), default="pppoe")


class ConnectionSessionRow(Base):
    __tablename__ = "connection_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    login_id: Mapped[str] = mapped_column(ForeignKey("access_logins.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ip_address: Mapped[str] = mapped_column(String(45))
    download_bytes: Mapped[int] = mapped_column(BigInteger)
    upload_bytes: Mapped[int] = mapped_column(BigInteger)
    termination_cause: Mapped[str | None] = mapped_column(String(40))


class TemporaryEnablingRow(Base):
    """One use of "habilitação provisória"."""

    __tablename__ = "temporary_enablings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    used_on: Mapped[date] = mapped_column(Date)
    enabled_until: Mapped[date] = mapped_column(Date)
    protocol: Mapped[str] = mapped_column(String(14), unique=True)


class InvoiceRow(Base):
    __tablename__ = "invoices"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)  # "nosso número" base
    bank_code: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(7))
    issued_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    paid_on: Mapped[date | None] = mapped_column(Date)
    paid_amount_cents: Mapped[int | None] = mapped_column(Integer)

    # The feed pages invoices by (date, id) (backend_client.sandbox.feed): read in index order,
    # a page never sorts the whole window (100 ms and more at 100,000 invoices).
    __table_args__ = (
        Index("ix_invoices_due_date_id", "due_date", "id"),
        Index("ix_invoices_paid_on_id", "paid_on", "id"),
    )


class FiscalNoteRow(Base):
    __tablename__ = "fiscal_notes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscriber_id: Mapped[str] = mapped_column(ForeignKey("subscribers.id"), index=True)
    contract_id: Mapped[str | None] = mapped_column(ForeignKey("contracts.id"))
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"))
    number: Mapped[str] = mapped_column(String(20))
    series: Mapped[str] = mapped_column(String(5))
    model: Mapped[str] = mapped_column(String(10))
    issued_on: Mapped[date] = mapped_column(Date, index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200))


class ContactTypeRow(Base):
    __tablename__ = "contact_types"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer)


class ContactRow(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscriber_id: Mapped[str] = mapped_column(ForeignKey("subscribers.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    type_id: Mapped[str] = mapped_column(ForeignKey("contact_types.id"))
    mobile: Mapped[str | None] = mapped_column(String(20))
    landline: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(120))
    sms_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContactDeviceRow(Base):
    __tablename__ = "contact_devices"

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PhoneLineRow(Base):
    __tablename__ = "phone_lines"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))


class TerminalTypeRow(Base):
    __tablename__ = "terminal_types"

    id: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer)


class CallRecordRow(Base):
    __tablename__ = "call_records"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    line_id: Mapped[str] = mapped_column(ForeignKey("phone_lines.id"), index=True)
    terminal_type_id: Mapped[str] = mapped_column(ForeignKey("terminal_types.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    called_number: Mapped[str] = mapped_column(String(20))
    duration_seconds: Mapped[int] = mapped_column(Integer)
    cost_cents: Mapped[int] = mapped_column(Integer)


class DueDayChangeRow(Base):
    __tablename__ = "due_day_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contract_id: Mapped[str] = mapped_column(ForeignKey("contracts.id"), index=True)
    current_day: Mapped[int] = mapped_column(Integer)
    requested_day: Mapped[int] = mapped_column(Integer)
    protocol: Mapped[str] = mapped_column(String(14), unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    email_sent_to: Mapped[str | None] = mapped_column(String(120))


class TicketSubjectRow(Base):
    __tablename__ = "ticket_subjects"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer)


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("subscriber_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscriber_id: Mapped[str] = mapped_column(ForeignKey("subscribers.id"), index=True)
    contract_id: Mapped[str | None] = mapped_column(ForeignKey("contracts.id"))
    subject_id: Mapped[str] = mapped_column(ForeignKey("ticket_subjects.id"))
    protocol: Mapped[str] = mapped_column(String(14), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str | None] = mapped_column(String(120))


class TicketMessageRow(Base):
    __tablename__ = "ticket_messages"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(20))
    author_name: Mapped[str] = mapped_column(String(120))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)


class AttachmentRow(Base):
    __tablename__ = "ticket_attachments"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("ticket_messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class AreaOutageRow(Base):
    """A failure or maintenance the provider knows in a city (or one neighbourhood of it)."""

    __tablename__ = "area_outages"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    city: Mapped[str] = mapped_column(String(120))
    neighbourhood: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    forecast: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
