"""Deterministic demo data of the sandbox and the documented demo accounts.

Everything comes from one ``random.Random`` with a fixed seed; dates are relative to the seed day
(stored in ``sandbox_meta``) so a demo always has an overdue, an open and paid invoices. Seeding the
same day twice yields the same rows, and :func:`seed_if_empty` never seeds a store twice.
"""

from __future__ import annotations

import asyncio
import functools
import random
import struct
import zlib
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, select

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
    MetaRow,
    PhoneLineRow,
    PlanRow,
    ProtocolCounterRow,
    SubscriberRow,
    TerminalTypeRow,
    TicketMessageRow,
    TicketRow,
    TicketSubjectRow,
)
from backend_client.sandbox.inline import Db
from backend_client.sandbox.security import SALT_BYTES, hash_password

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
SEED_VERSION = "1"
RANDOM_SEED = 1532
META_SEED_DAY = "seed_day"
META_SEED_VERSION = "seed_version"
PROVIDER_AGENT = "Suporte Conecta Vale"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """A sandbox subscriber anyone can log in as; fixed forever, listed in the README."""

    document: str  # unformatted CPF / CNPJ
    password: str
    name: str
    situation: str  # pt-BR


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        document="31845672062",
        password="demo1234",
        name="Maria Aparecida dos Santos",
        situation=(
            "Ativa, com fatura em aberto e uma vencida; atendimentos aberto, pendente e "
            "encerrado; conexão online"
        ),
    ),
    DemoAccount(
        document="40211783927",
        password="demo2345",
        name="João Pedro Oliveira",
        situation=(
            "Suspenso por falta de pagamento, com duas faturas vencidas; pode pedir "
            "habilitação provisória"
        ),
    ),
    DemoAccount(
        document="27481563000103",
        password="demo3456",
        name="Silva & Filhos <Ltda>",
        situation=(
            "Empresa com dois contratos, linha telefônica com extrato de ligações e notas "
            "NFCom e NFS-e; fatura do mês em aberto"
        ),
    ),
    DemoAccount(
        document="12ABC34501DE35",
        password="demo4567",
        name="Café Aroma Paulista Ltda",
        situation="Empresa com CNPJ alfanumérico, ativa, todas as faturas pagas",
    ),
)

CONTACT_TYPES: tuple[tuple[str, str], ...] = (
    ("administrativo", "Administrativo"),
    ("financeiro", "Financeiro"),
    ("tecnico", "Técnico"),
    ("comercial", "Comercial"),
    ("outro", "Outro"),
)

TICKET_SUBJECTS: tuple[tuple[str, str], ...] = (
    ("sem-conexao", "Sem conexão"),
    ("lentidao", "Lentidão"),
    ("financeiro", "Financeiro"),
    ("mudanca-endereco", "Mudança de endereço"),
    ("cancelamento", "Cancelamento"),
    ("outro", "Outro"),
)

TERMINAL_TYPES: tuple[tuple[str, str], ...] = (
    ("local", "Local fixo"),
    ("mobile", "Móvel"),
    ("ddd", "Longa distância (DDD)"),
    ("ddi", "Internacional (DDI)"),
    ("0800", "0800"),
)

# (id, name, download, upload, price in cents)
PLANS: tuple[tuple[str, str, int, int, int], ...] = (
    ("fibra-300", "Fibra 300 Mega", 300, 150, 9990),
    ("fibra-500", "Fibra 500 Mega", 500, 250, 11990),
    ("fibra-1g", "Fibra 1 Giga", 1000, 500, 15990),
    ("empresa-600", "Fibra Empresarial 600 Mega", 600, 300, 24990),
    ("empresa-1g-ip", "Fibra Empresarial 1 Giga + IP fixo", 1000, 500, 39990),
)
_PLAN_PRICES = {plan_id: price for plan_id, _, _, _, price in PLANS}
_PLAN_NAMES = {plan_id: name for plan_id, name, _, _, _ in PLANS}

# Per call type: cents per minute (billed 30 s minimum, then 6 s steps) and number makers.
_CALL_RATES: dict[str, int] = {"local": 10, "mobile": 45, "ddd": 25, "ddi": 190, "0800": 0}
_CALL_WEIGHTS: dict[str, int] = {"local": 45, "mobile": 30, "ddd": 14, "ddi": 3, "0800": 8}
_TERMINATE_CAUSES = ("Lost-Carrier", "User-Request", "Idle-Timeout", "Port-Error", "NAS-Reboot")
_GIB = 1024**3


@dataclass(frozen=True, slots=True)
class _Place:
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


_CAMBUI = _Place("Rua Coronel Quirino", "1250", "Apto 52", "Cambuí", "Campinas", "SP", "13025002")
_SUMARE = _Place("Rua Dom Barreto", "480", "", "Centro", "Sumaré", "SP", "13170040")
_SILVA_MATRIZ = _Place(
    "Av. Francisco Glicério", "1020", "Sala 3", "Centro", "Campinas", "SP", "13012100"
)
_SILVA_FILIAL = _Place(
    "Rua Antônio Jorge Chebabi", "215", "Galpão 2", "Centro", "Sumaré", "SP", "13170020"
)
_CAFE = _Place("Rua Maria Monteiro", "812", "Loja 1", "Cambuí", "Campinas", "SP", "13025151")


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clipped to the last day of the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def local_instant(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """The UTC instant of a wall-clock time in São Paulo."""
    return datetime.combine(day, time(hour, minute), tzinfo=SAO_PAULO).astimezone(UTC)


def due_dates(seed_day: date, due_day: int, count: int) -> list[date]:
    """``count`` monthly due dates, the last one being the first on or after ``seed_day``."""
    candidate = date(seed_day.year, seed_day.month, due_day)
    upcoming = candidate if candidate >= seed_day else add_months(candidate, 1)
    return [add_months(upcoming, -back) for back in reversed(range(count))]


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


def _cable_hint_pixel(x: int, y: int) -> tuple[int, int, int]:
    """A router (grey box) with a blue cable to a laptop (dark box), on white."""
    if 6 <= y <= 18 and 4 <= x <= 22:
        return (150, 150, 150)
    if 30 <= y <= 42 and 40 <= x <= 60:
        return (40, 40, 60)
    if (13 <= y <= 14 and 22 <= x <= 50) or (14 <= y <= 30 and 49 <= x <= 50):
        return (30, 100, 220)
    return (255, 255, 255)


def _receipt_pixel(x: int, y: int) -> tuple[int, int, int]:
    """A receipt-like image: white paper with grey text lines and a green check."""
    if 8 <= y <= 14 and 20 <= x <= 28 and abs((y - 8) - (x - 20) // 2) <= 1:
        return (20, 160, 60)
    if y % 6 == 0 and 4 <= x <= 40 and y >= 20:
        return (120, 120, 120)
    return (250, 250, 250)


@functools.cache
def _seed_hash(password: str, salt: bytes) -> str:
    return hash_password(password, salt)


@dataclass
class _Seeder:
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
        place: _Place,
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
        place: _Place,
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
            cents = _PLAN_PRICES[plan_id]
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
                description=f"{_PLAN_NAMES[plan_id]} - referência {reference}",
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


async def _demo_hashes(rng: random.Random) -> list[str]:
    salts = [rng.randbytes(SALT_BYTES) for _ in DEMO_ACCOUNTS]
    return list(
        await asyncio.gather(
            *(
                asyncio.to_thread(_seed_hash, account.password, salt)
                for account, salt in zip(DEMO_ACCOUNTS, salts, strict=True)
            )
        )
    )


async def seed_if_empty(db: Db, seed_day: date) -> bool:
    """Seed the demo data unless the store was already seeded; True when it seeded."""
    if await db.get(MetaRow, META_SEED_DAY) is not None:
        return False
    seeder = _Seeder(seed_day)
    hashes = await _demo_hashes(seeder.rng)
    seeder.catalogues()
    _seed_maria(seeder, hashes[0])
    _seed_joao(seeder, hashes[1])
    _seed_silva(seeder, hashes[2])
    _seed_cafe(seeder, hashes[3])
    seeder.add(MetaRow, key=META_SEED_DAY, value=seed_day.isoformat())
    seeder.add(MetaRow, key=META_SEED_VERSION, value=SEED_VERSION)
    await seeder.insert_all(db)
    return True


async def stored_seed_day(db: Db) -> date | None:
    value = await db.scalar(select(MetaRow.value).where(MetaRow.key == META_SEED_DAY))
    return date.fromisoformat(value) if value else None


def _seed_maria(seeder: _Seeder, password_hash: str) -> None:
    """Account 1: active, open + overdue + paid invoices, tickets in every state, online."""
    open_, paid = InvoiceStatus.OPEN, InvoiceStatus.PAID
    seeder.subscriber(
        "s1",
        DEMO_ACCOUNTS[0],
        password_hash,
        "maria.santos@example.com",
        ("5519991234567",),
        _CAMBUI,
    )
    seeder.contract("c1", "s1", 153, "fibra-300", ContractStatus.ACTIVE, 10, 38, _CAMBUI)
    seeder.login("l1", "c1", "maria.santos", "100.64.23.145")
    seeder.invoices("s1", "c1", "fibra-300", 10, [paid] * 10 + [open_, open_], "001", "NFCom")
    seeder.connection_sessions("l1", "100.64.23.145", days=200, running=True)
    seeder.contact(
        "s1",
        "Maria Aparecida dos Santos",
        "financeiro",
        "5519991234567",
        None,
        "maria.santos@example.com",
        True,
    )
    seeder.contact(
        "s1", "Carlos Eduardo Santos", "tecnico", "5519987654321", "551932541234", None, False
    )
    _seed_maria_tickets(seeder)


def _seed_maria_tickets(seeder: _Seeder) -> None:
    subscriber, provider = TicketAuthor.SUBSCRIBER, TicketAuthor.PROVIDER
    name = DEMO_ACCOUNTS[0].name
    visit_day = seeder.days_ago(79)
    from backend_client.sandbox import pdf  # fpdf2 (~20 MB): not in a bot that never seeds

    report = pdf.technician_report_pdf(
        name,
        _CAMBUI.one_line(),
        visit_day,
        [
            "Rompimento do cabo drop entre a caixa de atendimento e o imóvel.",
            "Cabo drop substituído e conector óptico refeito.",
            "Sinal óptico após o reparo: -19,8 dBm (normal).",
            "Teste de velocidade no cabo: 312 Mbps de download e 158 Mbps de upload.",
        ],
        local_instant(visit_day, 11, 40),
    )
    seeder.ticket(
        "s1",
        "c1",
        "sem-conexao",
        TicketStatus.CLOSED,
        [
            (
                local_instant(seeder.days_ago(80), 8, 12),
                subscriber,
                name,
                "Estou sem internet desde ontem à noite. A luz LOS do modem está vermelha.",
                (),
            ),
            (
                local_instant(seeder.days_ago(80), 8, 51),
                provider,
                PROVIDER_AGENT,
                "Olá, Maria! Identificamos um problema na fibra da sua rua e agendamos uma "
                "visita técnica para amanhã, entre 8h e 12h.",
                (),
            ),
            (
                local_instant(seeder.days_ago(80), 9, 5),
                subscriber,
                name,
                "Combinado, estarei em casa.",
                (),
            ),
            (
                local_instant(visit_day, 11, 40),
                provider,
                PROVIDER_AGENT,
                "Visita concluída: o cabo foi substituído e o sinal está normal. Segue o laudo "
                "da visita. Estamos encerrando o atendimento — se precisar, é só chamar.",
                (("laudo-visita-tecnica.pdf", "application/pdf", report),),
            ),
        ],
    )
    hint = png_image(64, 48, _cable_hint_pixel)
    seeder.ticket(
        "s1",
        "c1",
        "lentidao",
        TicketStatus.PENDING,
        [
            (
                local_instant(seeder.days_ago(6), 19, 30),
                subscriber,
                name,
                "A internet fica muito lenta à noite, principalmente no Wi-Fi do quarto.",
                (),
            ),
            (
                local_instant(seeder.days_ago(5), 9, 5),
                provider,
                PROVIDER_AGENT,
                "Olá! Pelo nosso monitoramento sua conexão entrega a velocidade contratada. "
                "Você pode fazer um teste com o computador ligado no cabo, como na imagem, e "
                "nos enviar o resultado?",
                (("como-testar-no-cabo.png", "image/png", hint),),
            ),
        ],
    )
    receipt = png_image(48, 64, _receipt_pixel)
    seeder.ticket(
        "s1",
        None,
        "financeiro",
        TicketStatus.OPEN,
        [
            (
                local_instant(seeder.days_ago(1), 10, 2),
                subscriber,
                name,
                "Paguei a fatura do mês passado pelo PIX, mas ela continua aparecendo em "
                "aberto. Segue o comprovante.",
                (("comprovante-pix.png", "image/png", receipt),),
            ),
        ],
    )


def _seed_joao(seeder: _Seeder, password_hash: str) -> None:
    """Account 2: suspended for two overdue invoices, eligible for temporary enabling."""
    open_, paid = InvoiceStatus.OPEN, InvoiceStatus.PAID
    seeder.subscriber(
        "s2",
        DEMO_ACCOUNTS[1],
        password_hash,
        "joao.oliveira@example.com",
        ("5519998765432",),
        _SUMARE,
    )
    seeder.contract("c2", "s2", 412, "fibra-500", ContractStatus.SUSPENDED, 5, 26, _SUMARE)
    seeder.login("l2", "c2", "joao.oliveira", "100.64.41.12")
    seeder.invoices("s2", "c2", "fibra-500", 5, [paid] * 6 + [open_] * 3, "001", "NFCom")
    suspended_at = local_instant(seeder.days_ago(4), 10, 15)
    seeder.connection_sessions("l2", "100.64.41.12", days=120, running=False, stop_at=suspended_at)
    seeder.contact(
        "s2",
        "João Pedro Oliveira",
        "administrativo",
        "5519998765432",
        None,
        "joao.oliveira@example.com",
        True,
    )


def _seed_silva(seeder: _Seeder, password_hash: str) -> None:
    """Account 3: company, two contracts, a phone line with calls, NFCom and NFS-e notes."""
    open_, paid = InvoiceStatus.OPEN, InvoiceStatus.PAID
    seeder.subscriber(
        "s3",
        DEMO_ACCOUNTS[2],
        password_hash,
        "financeiro@silvaefilhos.example.com",
        ("551932345678", "5519997001122"),
        _SILVA_MATRIZ,
    )
    seeder.contract("c3", "s3", 87, "empresa-600", ContractStatus.ACTIVE, 15, 50, _SILVA_MATRIZ)
    seeder.contract("c4", "s3", 233, "empresa-1g-ip", ContractStatus.ACTIVE, 15, 14, _SILVA_FILIAL)
    seeder.login("l3", "c3", "silvaefilhos.matriz", "203.0.113.10")
    seeder.login("l4", "c4", "silvaefilhos.filial", "203.0.113.26")
    seeder.invoices("s3", "c3", "empresa-600", 15, [paid] * 8 + [open_], "237", "NFCom")
    seeder.invoices("s3", "c4", "empresa-1g-ip", 15, [paid] * 8 + [open_], "237", "NFS-e")
    seeder.connection_sessions("l3", "203.0.113.10", days=190, running=True)
    seeder.connection_sessions("l4", "203.0.113.26", days=190, running=True)
    seeder.add(PhoneLineRow, id="ln-1", contract_id="c3", number="551932345678")
    seeder.call_records("ln-1", days=190)
    seeder.contact(
        "s3",
        "Roberta Silva",
        "financeiro",
        "5519997001122",
        "551932345678",
        "financeiro@silvaefilhos.example.com",
        True,
    )
    seeder.contact("s3", "Anderson Lima", "tecnico", "5519996543210", None, None, False)
    seeder.ticket(
        "s3",
        "c4",
        "mudanca-endereco",
        TicketStatus.OPEN,
        [
            (
                local_instant(seeder.days_ago(3), 15, 47),
                TicketAuthor.SUBSCRIBER,
                DEMO_ACCOUNTS[2].name,
                "Vamos mudar a filial de endereço no mês que vem. Como funciona a "
                "transferência do link?",
                (),
            ),
        ],
    )


def _seed_cafe(seeder: _Seeder, password_hash: str) -> None:
    """Account 4: company with an alphanumeric CNPJ, active, every invoice paid."""
    seeder.subscriber(
        "s4",
        DEMO_ACCOUNTS[3],
        password_hash,
        "contato@cafearoma.example.com",
        ("5519993334455",),
        _CAFE,
    )
    seeder.contract("c5", "s4", 318, "fibra-500", ContractStatus.ACTIVE, 20, 16, _CAFE)
    seeder.login("l5", "c5", "cafearoma", "100.64.77.203")
    statuses = [InvoiceStatus.PAID] * 8
    seeder.invoices("s4", "c5", "fibra-500", 20, statuses, "237", "NFCom", upcoming=False)
    seeder.connection_sessions("l5", "100.64.77.203", days=120, running=True)
    seeder.contact(
        "s4",
        "Luciana Ferraz",
        "administrativo",
        "5519993334455",
        None,
        "contato@cafearoma.example.com",
        False,
    )
