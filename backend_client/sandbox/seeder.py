"""The sandbox seeder: collects the rows of every table (subscribers, contracts, invoices,
connections, calls, tickets…) drawn from one seeded ``random.Random``, then inserts them."""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert

from backend_client.models import ContractStatus, InvoiceStatus, TicketAuthor, TicketStatus
from backend_client.sandbox.billing import cents_to_decimal, decimal_to_cents, late_charges
from backend_client.sandbox.db import (
    AccessLoginRow,
    AttachmentRow,
    Base,
    CallRecordRow,
    ConnectionSessionRow,
    ContactRow,
    ContactTypeRow,
    ContractRow,
    FiscalNoteRow,
    InvoiceRow,
    PlanRow,
    ProtocolCounterRow,
    SubscriberRow,
    TerminalTypeRow,
    TicketMessageRow,
    TicketRow,
    TicketSubjectRow,
)
from backend_client.sandbox.demo import (
    CONTACT_TYPES,
    PLAN_NAMES,
    PLAN_PRICES,
    PLANS,
    RANDOM_SEED,
    SAO_PAULO,
    TERMINAL_TYPES,
    TICKET_SUBJECTS,
    DemoAccount,
    add_months,
    due_dates,
    local_instant,
)
from backend_client.sandbox.inline import Db

# Per call type: cents per minute (billed 30 s minimum, then 6 s steps) and number makers.
_CALL_RATES: dict[str, int] = {"local": 10, "mobile": 45, "ddd": 25, "ddi": 190, "0800": 0}
_CALL_WEIGHTS: dict[str, int] = {"local": 45, "mobile": 30, "ddd": 14, "ddi": 3, "0800": 8}
_TERMINATE_CAUSES = ("Lost-Carrier", "User-Request", "Idle-Timeout", "Port-Error", "NAS-Reboot")
_GIB = 1024**3


@dataclass(frozen=True, slots=True)
class Place:
    street: str
    number: str
    complement: str
    neighbourhood: str
    city: str
    state: str
    postal_code: str

    def columns(self) -> dict[str, str]:
        return {
            "street": self.street,
            "street_number": self.number,
            "complement": self.complement,
            "neighbourhood": self.neighbourhood,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
        }

    def one_line(self) -> str:
        complement = f", {self.complement}" if self.complement else ""
        return (
            f"{self.street}, {self.number}{complement} - {self.neighbourhood} - "
            f"{self.city}/{self.state} - CEP {self.postal_code[:5]}-{self.postal_code[5:]}"
        )


@dataclass
class Seeder:
    """Collects the rows of every table, then inserts them in dependency order."""

    seed_day: date
    rng: random.Random = field(default_factory=lambda: random.Random(RANDOM_SEED))
    rows: dict[Table, list[dict[str, Any]]] = field(default_factory=dict)
    protocol_counters: dict[str, int] = field(default_factory=dict)
    invoice_number: int = 1000
    note_numbers: dict[str, int] = field(default_factory=lambda: {"NFCom": 4810, "NFS-e": 1520})
    counters: dict[str, int] = field(default_factory=dict)

    # --- helpers ---------------------------------------------------------------------------
    def add(self, entity: type[Base], /, **values: Any) -> None:
        self.rows.setdefault(cast(Table, entity.__table__), []).append(values)

    def next_id(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}-{self.counters[prefix]}"

    def protocol(self, instant: datetime) -> str:
        day = instant.astimezone(SAO_PAULO).strftime("%Y%m%d")
        self.protocol_counters[day] = self.protocol_counters.get(day, 0) + 1
        return f"{day}{self.protocol_counters[day]:06d}"

    def days_ago(self, days: int) -> date:
        return self.seed_day - timedelta(days=days)

    async def insert_all(self, db: Db) -> None:
        for day, last in self.protocol_counters.items():
            self.add(ProtocolCounterRow, day=day, last=last)
        for table in Base.metadata.sorted_tables:
            if self.rows.get(table):
                await db.execute(insert(table), self.rows[table])

    # --- catalogues ----------------------------------------------------------------------------
    def catalogues(self) -> None:
        for position, (type_id, name) in enumerate(CONTACT_TYPES):
            self.add(ContactTypeRow, id=type_id, name=name, position=position)
        for position, (subject_id, name) in enumerate(TICKET_SUBJECTS):
            self.add(TicketSubjectRow, id=subject_id, name=name, position=position)
        for position, (type_id, name) in enumerate(TERMINAL_TYPES):
            self.add(TerminalTypeRow, id=type_id, name=name, position=position)
        for plan_id, name, down, up, price in PLANS:
            self.add(
                PlanRow,
                id=plan_id,
                name=name,
                download_mbps=down,
                upload_mbps=up,
                price_cents=price,
            )

    # --- people, contracts, logins --------------------------------------------------------------
    def subscriber(
        self,
        subscriber_id: str,
        account: DemoAccount,
        password_hash: str,
        email: str,
        phones: tuple[str, ...],
        place: Place,
    ) -> None:
        self.add(
            SubscriberRow,
            id=subscriber_id,
            name=account.name,
            document=account.document,
            email=email,
            phones=",".join(phones),
            password_hash=password_hash,
            **place.columns(),
        )

    def contract(
        self,
        contract_id: str,
        subscriber_id: str,
        sequence: int,
        plan_id: str,
        status: ContractStatus,
        due_day: int,
        months_ago: int,
        place: Place,
    ) -> None:
        started_on = add_months(self.seed_day, -months_ago).replace(day=min(due_day + 4, 28))
        self.add(
            ContractRow,
            id=contract_id,
            subscriber_id=subscriber_id,
            number=f"{started_on.year}/{sequence:04d}",
            plan_id=plan_id,
            status=status.value,
            due_day=due_day,
            started_on=started_on,
            temporarily_enabled_until=None,
            **place.columns(),
        )

    def login(self, login_id: str, contract_id: str, login: str, ip: str) -> None:
        self.add(AccessLoginRow, id=login_id, contract_id=contract_id, login=login, ip_address=ip)

    # --- invoices and fiscal notes ------------------------------------------------------------
    def invoices(
        self,
        subscriber_id: str,
        contract_id: str,
        plan_id: str,
        due_day: int,
        statuses: list[InvoiceStatus],
        bank_code: str,
        note_model: str,
        upcoming: bool = True,
    ) -> None:
        """One invoice per status, oldest first; the last is due on or after the seed day
        (``upcoming``) or is the last one due before it."""
        dates = due_dates(self.seed_day, due_day, len(statuses) + (0 if upcoming else 1))
        for due, status in zip(dates, statuses, strict=False):
            self.invoice_number += 1
            invoice_id = f"inv-{self.invoice_number}"
            cents = PLAN_PRICES[plan_id]
            issued_on = min(due - timedelta(days=15), self.seed_day)
            paid_on, paid_cents = self._payment(issued_on, due, cents, status)
            reference = due.strftime("%m/%Y")
            self.add(
                InvoiceRow,
                id=invoice_id,
                contract_id=contract_id,
                number=self.invoice_number,
                bank_code=bank_code,
                reference=reference,
                issued_on=issued_on,
                due_date=due,
                amount_cents=cents,
                status=status.value,
                paid_on=paid_on,
                paid_amount_cents=paid_cents,
            )
            self.note_numbers[note_model] += 1
            self.add(
                FiscalNoteRow,
                id=f"nf-{self.invoice_number}",
                subscriber_id=subscriber_id,
                contract_id=contract_id,
                invoice_id=invoice_id,
                number=str(self.note_numbers[note_model]),
                series="1" if note_model == "NFCom" else "E",
                model=note_model,
                issued_on=issued_on,
                amount_cents=cents,
                description=f"{PLAN_NAMES[plan_id]} - referência {reference}",
            )

    def _payment(
        self, issued_on: date, due: date, cents: int, status: InvoiceStatus
    ) -> tuple[date | None, int | None]:
        if status is not InvoiceStatus.PAID:
            return None, None
        offset = timedelta(days=self.rng.choice((-6, -3, -1, 0, 0, 0, 2, 4)))
        paid_on = max(issued_on, min(due + offset, self.seed_day - timedelta(days=1)))
        fine, interest = late_charges(cents_to_decimal(cents), due, paid_on)
        return paid_on, cents + decimal_to_cents(fine + interest)

    # --- RADIUS accounting ----------------------------------------------------------------------
    def connection_sessions(
        self, login_id: str, ip: str, days: int, running: bool, stop_at: datetime | None = None
    ) -> None:
        """Back-to-back sessions of 45 min to 3 days over ``days`` days; the last may still run."""
        horizon = stop_at or local_instant(self.seed_day)
        start = local_instant(self.days_ago(days), self.rng.randint(0, 6), self.rng.randint(0, 59))
        daily_gib = self.rng.uniform(0.8, 2.5)
        while start < horizon:
            duration = timedelta(minutes=self.rng.choice((45, 240, 900, 1440, 2880, 4320)))
            duration += timedelta(minutes=self.rng.randint(0, 59), seconds=self.rng.randint(0, 59))
            end: datetime | None = start + duration
            cause: str | None = self.rng.choice(_TERMINATE_CAUSES)
            if start + duration >= horizon:
                end, cause = (None, None) if running else (horizon, "Admin-Reset")
            counted = ((end or horizon) - start).total_seconds() / 86400
            download = int(counted * daily_gib * self.rng.uniform(0.3, 1.6) * _GIB)
            self.add(
                ConnectionSessionRow,
                id=self.next_id("cs"),
                login_id=login_id,
                started_at=start,
                ended_at=end,
                ip_address=ip,
                download_bytes=download,
                upload_bytes=int(download * self.rng.uniform(0.06, 0.18)),
                termination_cause=cause,
            )
            if end is None:
                return
            start = end + timedelta(seconds=self.rng.randint(4, 180))

    # --- telephony ------------------------------------------------------------------------------
    def call_records(self, line_id: str, days: int) -> None:
        kinds = list(_CALL_WEIGHTS)
        weights = list(_CALL_WEIGHTS.values())
        for back in range(days, 0, -1):
            day = self.days_ago(back)
            calls = self.rng.randint(1, 5) if day.weekday() < 5 else self.rng.randint(0, 1)
            starts = sorted(self.rng.randint(8 * 60, 18 * 60) for _ in range(calls))
            for minute in starts:
                kind = self.rng.choices(kinds, weights)[0]
                seconds = self.rng.randint(8, 900)
                self.add(
                    CallRecordRow,
                    id=self.next_id("call"),
                    line_id=line_id,
                    terminal_type_id=kind,
                    started_at=local_instant(day, minute // 60, minute % 60)
                    + timedelta(seconds=self.rng.randint(0, 59)),
                    called_number=self._called_number(kind),
                    duration_seconds=seconds,
                    cost_cents=_call_cost(kind, seconds),
                )

    def _called_number(self, kind: str) -> str:
        digits = self.rng.randint
        if kind == "local":
            return f"5519{digits(3, 3)}{digits(1000000, 9999999)}"
        if kind == "mobile":
            return f"55{self.rng.choice(('19', '19', '11'))}9{digits(80000000, 99999999)}"
        if kind == "ddd":
            area = self.rng.choice(("11", "21", "31", "41", "51", "61", "71", "81"))
            return f"55{area}{digits(2, 5)}{digits(1000000, 9999999)}"
        if kind == "ddi":
            return self.rng.choice(("351213", "1305", "5411")) + str(digits(1000000, 9999999))
        return f"0800{digits(1000000, 9999999)}"

    # --- contacts -------------------------------------------------------------------------------
    def contact(
        self,
        subscriber_id: str,
        name: str,
        type_id: str,
        mobile: str,
        landline: str | None,
        email: str | None,
        sms_opt_in: bool,
    ) -> None:
        self.add(
            ContactRow,
            id=self.next_id("ct"),
            subscriber_id=subscriber_id,
            name=name,
            type_id=type_id,
            mobile=mobile,
            landline=landline,
            email=email,
            sms_opt_in=sms_opt_in,
            created_at=local_instant(self.days_ago(200), 14, 30),
        )

    # --- tickets --------------------------------------------------------------------------------
    def ticket(
        self,
        subscriber_id: str,
        contract_id: str | None,
        subject_id: str,
        status: TicketStatus,
        messages: list[tuple[datetime, TicketAuthor, str, str, tuple[tuple[str, str, bytes], ...]]],
    ) -> None:
        """``messages``: (sent_at, author, author_name, text, ((filename, type, bytes), …))."""
        ticket_id = self.next_id("tk")
        opened_at = messages[0][0]
        self.add(
            TicketRow,
            id=ticket_id,
            subscriber_id=subscriber_id,
            contract_id=contract_id,
            subject_id=subject_id,
            protocol=self.protocol(opened_at),
            status=status.value,
            opened_at=opened_at,
            updated_at=messages[-1][0],
            idempotency_key=None,
        )
        for position, (sent_at, author, author_name, text, files) in enumerate(messages):
            message_id = self.next_id("msg")
            self.add(
                TicketMessageRow,
                id=message_id,
                ticket_id=ticket_id,
                position=position,
                author=author.value,
                author_name=author_name,
                sent_at=sent_at,
                text=text,
            )
            for filename, content_type, content in files:
                self.add(
                    AttachmentRow,
                    id=self.next_id("att"),
                    ticket_id=ticket_id,
                    message_id=message_id,
                    filename=filename,
                    content_type=content_type,
                    content=content,
                )


def _call_cost(kind: str, seconds: int) -> int:
    """Cents of a call: 30 s minimum, then 6-second steps (Anatel's usual tariffing)."""
    billed = max(30, -(-seconds // 6) * 6)
    return round(_CALL_RATES[kind] * billed / 60)


def png_image(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """A small RGB PNG drawn by ``pixel(x, y)`` (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )
