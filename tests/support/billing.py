"""Helpers for the billing flows' tests: what the bot sent to copy, and a subscriber with
hundreds of invoices / entries / notes (patched over the sandbox) to check paging and limits."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from backend_client.errors import NotFound
from backend_client.models import (
    DateRange,
    FinancialEntry,
    FiscalNote,
    Invoice,
    InvoiceStatus,
)
from backend_client.sandbox import billing
from tests.support.fake_telegram import Call, parse_html

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024
_CODE_ONLY = re.compile(r"^<code>[^<]*</code>$")


def copy_values(calls: list[Call]) -> list[str]:
    """The texts of the messages made of one ``<code>`` block and nothing else, as displayed."""
    return [
        parse_html(call.params["text"])
        for call in calls
        if call.method == "sendMessage" and _CODE_ONLY.match(str(call.params.get("text", "")))
    ]


def assert_within_limits(calls: list[Call]) -> None:
    """No text, caption or callback data over Telegram's limits (the fake also refuses them)."""
    for call in calls:
        if call.method in ("sendMessage", "editMessageText"):
            assert len(parse_html(call.params["text"])) <= TELEGRAM_TEXT_LIMIT
        if call.params.get("caption"):
            assert len(parse_html(call.params["caption"])) <= TELEGRAM_CAPTION_LIMIT
        for _, data in call.buttons:
            assert 1 <= len(data.encode()) <= 64


def sent_file(call: Call, field: str) -> tuple[str, bytes]:
    """(file name, content) of a sendDocument / sendPhoto call."""
    filename, content, _mime = call.files[field]
    return filename, content


# --- a subscriber with many records ----------------------------------------------------------
def _open_invoice(number: int, due: date, today: date) -> Invoice:
    amount = Decimal("89.90") + Decimal(number % 7)
    fine, interest = billing.late_charges(amount, due, today)
    invoice_id = f"big-{number}"
    return Invoice(
        id=invoice_id,
        contract_id="c1",
        reference=due.strftime("%m/%Y"),
        issued_on=due - timedelta(days=15),
        due_date=due,
        amount=amount,
        status=InvoiceStatus.OPEN,
        fine=fine,
        interest=interest,
        linha_digitavel=billing.linha_digitavel("001", 50000 + number, due, amount),
        pix_code=billing.pix_code(invoice_id, amount + fine + interest, due.strftime("%m/%Y")),
    )


class ManyRecords:
    """``count`` open invoices (one every 3 days up to ``today`` + 30), as many statement entries
    and fiscal notes; installed over the sandbox's methods with pytest's monkeypatch."""

    def __init__(self, today: date, count: int = 300) -> None:
        first = today + timedelta(days=30) - timedelta(days=3 * (count - 1))
        self.invoices = [
            _open_invoice(n, first + timedelta(days=3 * n), today) for n in range(count)
        ]
        self.entries = [
            FinancialEntry(
                invoice_id=i.id,
                contract_id=i.contract_id,
                description=f"Fatura {i.reference} - Fibra 300 Mega com nome de plano comprido",
                due_date=i.due_date,
                amount=i.amount,
                status=InvoiceStatus.PAID if n % 2 else InvoiceStatus.OPEN,
                paid_on=i.due_date if n % 2 else None,
                paid_amount=i.amount if n % 2 else None,
            )
            for n, i in enumerate(self.invoices)
        ]
        self.notes = [
            FiscalNote(
                id=f"bignf-{n}",
                number=str(900000 + n),
                series="1",
                model="NFCom",
                issued_on=i.issued_on,
                amount=i.amount,
                contract_id="c1",
            )
            for n, i in enumerate(self.invoices)
        ]

    def install(self, backend: Any, monkeypatch: Any) -> None:
        by_id = {i.id: i for i in self.invoices}

        async def list_invoices(
            session: Any,
            period: DateRange | None = None,
            statuses: frozenset[InvoiceStatus] | None = None,
            contract_id: str | None = None,
        ) -> list[Invoice]:
            return [
                i
                for i in self.invoices
                if (period is None or i.due_date in period)
                and (statuses is None or i.status in statuses)
            ]

        async def get_invoice(session: Any, invoice_id: str) -> Invoice:
            if invoice_id not in by_id:
                raise NotFound(invoice_id)
            return by_id[invoice_id]

        async def list_financial_entries(session: Any, period: DateRange) -> list[FinancialEntry]:
            return [e for e in self.entries if e.due_date in period]

        async def list_fiscal_notes(session: Any, period: DateRange) -> list[FiscalNote]:
            return [n for n in self.notes if n.issued_on in period]

        monkeypatch.setattr(backend, "list_invoices", list_invoices)
        monkeypatch.setattr(backend, "get_invoice", get_invoice)
        monkeypatch.setattr(backend, "list_financial_entries", list_financial_entries)
        monkeypatch.setattr(backend, "list_fiscal_notes", list_fiscal_notes)
