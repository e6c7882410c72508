"""Extrato Financeiro (seed 1.7)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from backend_client.models import FinancialEntry, InvoiceStatus
from bot.ui.formatting import day, esc, money

TITLE = "💰 <b>Extrato Financeiro</b>"
CHOOSE_PERIOD = (
    f"{TITLE}\n\n"
    "Escolha o período. O extrato mostra as faturas pela data de vencimento: "
    "🟢 pagas e 🔴 pendentes."
)
# The chosen period as a PDF (issue 21).
EXPORT_TITLE = "Extrato Financeiro"
EXPORT_HEADERS = ("Vencimento", "Descrição", "Valor", "Situação", "Pago em", "Valor pago")


def export_row(entry: FinancialEntry, today: date) -> tuple[str, ...]:
    """Plain text: one line of the downloaded PDF."""
    if entry.status is InvoiceStatus.PAID:
        paid = entry.paid_amount if entry.paid_amount is not None else entry.amount
        when = day(entry.paid_on) if entry.paid_on else ""
        return (
            day(entry.due_date),
            entry.description,
            money(entry.amount),
            "Paga",
            when,
            money(paid),
        )
    status = "Pendente, vencida" if entry.due_date < today else "Pendente, a vencer"
    return (day(entry.due_date), entry.description, money(entry.amount), status, "", "")


def export_totals(paid: Decimal, pending: Decimal, overdue: int) -> list[str]:
    late = f" ({overdue} vencida{'s' if overdue != 1 else ''})" if overdue else ""
    return [f"Total pago: {money(paid)}", f"Total pendente: {money(pending)}{late}"]


def export_caption(period: str) -> str:
    return f"{TITLE} — {esc(period)}"


def boleto_button(entry: FinancialEntry) -> str:
    """A pending line's own "Ver boleto" (plain text, a button label)."""
    return f"🔴 Ver boleto {day(entry.due_date)} · {money(entry.amount)}"


def entry_line(entry: FinancialEntry, today: date) -> str:
    description = esc(entry.description)
    due = f"<b>{day(entry.due_date)}</b>"
    if entry.status is InvoiceStatus.PAID:
        paid = f"paga em {day(entry.paid_on)}" if entry.paid_on else "paga"
        amount = entry.paid_amount if entry.paid_amount is not None else entry.amount
        extra = f" ({money(amount)})" if amount != entry.amount else ""
        return f"🟢 {due} · {description} · {money(entry.amount)} · {paid}{extra}"
    status = "⚠️ vencida" if entry.due_date < today else "a vencer"
    return f"🔴 {due} · {description} · {money(entry.amount)} · pendente, {status}"


def statement(
    period_text: str,
    lines: list[str],
    count: int,
    total_paid: Decimal,
    total_pending: Decimal,
    overdue: int,
    page: int,
    pages: int,
) -> str:
    parts = [f"{TITLE} — {esc(period_text)}", ""]
    parts += lines
    parts.append("")
    if pages > 1:
        parts.append(f"Página {page + 1} de {pages} · {count} lançamentos no período.")
    parts.append(f"🟢 <b>Total pago:</b> {money(total_paid)}")
    pending = f"🔴 <b>Total pendente:</b> {money(total_pending)}"
    if overdue:
        pending += f" ({overdue} vencida{'s' if overdue != 1 else ''} ⚠️)"
    parts.append(pending)
    return "\n".join(parts)


def empty(period_text: str) -> str:
    return (
        f"{TITLE} — {esc(period_text)}\n\n"
        "Não há lançamentos com vencimento neste período. Escolha outro período:"
    )
