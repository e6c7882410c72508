"""Faturas (seed 1.3.1) and Ver boleto (1.3.1.1)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from backend_client.models import Contract, Invoice, InvoiceStatus
from bot.ui.formatting import day, esc, money

TITLE = "🧾 <b>Faturas em aberto</b>"
BUTTON_ALL_OPEN = "📋 Todas em aberto"
BUTTON_ALL_CONTRACTS = "📑 Todos os contratos"
BUTTON_CONTRACTS = "⬅️ Contratos"
BUTTON_PICK_CONTRACT = "📑 Escolher contrato"
BUTTON_PDF = "📄 Boleto em PDF"
BUTTON_BACK_TO_LIST = "⬅️ Faturas"

CHOOSE_CONTRACT = (
    f"{TITLE}\n\nVocê tem mais de um contrato. De qual deles quer ver as faturas em aberto?"
)
CONTRACT_NOT_FOUND = "Não encontrei esse contrato na sua conta. Escolha um da lista:"
LINHA_LABEL = "📋 <b>Linha digitável do boleto</b> — toque no código abaixo para copiar:"
NO_BOLETO_CODE = "ℹ️ A linha digitável desta fatura não está disponível agora; use o PDF."
QR_CAPTION = "📷 Ou leia este QR Code PIX com o app do seu banco."
NO_PIX = "ℹ️ Esta fatura não tem PIX disponível; pague pela linha digitável ou pelo PDF."
PDF_CAPTION_FALLBACK = "📄 Boleto em PDF"


def contract_button(contract: Contract) -> str:
    """Plain text (button label): number, plan and city (when the system gives one)."""
    parts = (contract.number, contract.plan.name, contract.address.city)
    return " · ".join(part for part in parts if part)


def choose_period(contract_number: str | None) -> str:
    scope = f" — contrato {esc(contract_number)}" if contract_number else ""
    return (
        f"{TITLE}{scope}\n\n"
        "Quer ver <b>todas as faturas em aberto</b> ou só as de um período (pela data de "
        "vencimento)?\n"
        "Nos períodos que chegam até hoje também aparecem as faturas já emitidas que "
        "vencem mais adiante."
    )


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _status(invoice: Invoice, today: date) -> tuple[str, str]:
    """(mark, status words) of an open invoice on ``today``."""
    if invoice.is_overdue(today):
        late = (today - invoice.due_date).days
        return "🔴", f"⚠️ vencida há {_plural(late, 'dia', 'dias')}"
    if invoice.due_date == today:
        return "🟡", "vence hoje"
    return "🟡", "a vencer"


def invoice_line(invoice: Invoice, today: date, contract_number: str | None) -> str:
    mark, status = _status(invoice, today)
    contract = f" · contrato {esc(contract_number)}" if contract_number else ""
    return f"{mark} <b>{day(invoice.due_date)}</b> · {money(invoice.amount)} · {status}{contract}"


def invoice_button(invoice: Invoice, contract_number: str | None) -> str:
    """Plain text (button label)."""
    label = f"Ver boleto {day(invoice.due_date)} · {money(invoice.amount)}"
    return f"{label} · {contract_number}" if contract_number else label


def scope(period_text: str | None, open_ended: bool, contract_number: str | None) -> str:
    """What the list covers, e.g. ``novembro de 2026 e as que vencem depois``."""
    if period_text is None:
        text = "todas"
    elif open_ended:
        text = f"{esc(period_text)} e as que vencem depois"
    else:
        text = esc(period_text)
    if contract_number:
        text += f" · contrato {esc(contract_number)}"
    return text


def invoice_list(
    scope_text: str,
    lines: list[str],
    total: int,
    total_amount: Decimal,
    overdue: int,
    page: int,
    pages: int,
) -> str:
    parts = [f"{TITLE} — {scope_text}", ""]
    parts += lines
    parts.append("")
    summary = f"{_plural(total, 'fatura', 'faturas')} · total {money(total_amount)}"
    if overdue:
        summary += f" · {overdue} vencida{'s' if overdue != 1 else ''} ⚠️"
    parts.append(summary)
    if overdue:
        parts.append("Nas vencidas, multa e juros aparecem em Ver boleto.")
    if pages > 1:
        parts.append(f"Página {page + 1} de {pages}.")
    parts.append("Toque numa fatura para ver o boleto e o PIX.")
    return "\n".join(parts)


def no_invoices(scope_text: str, everything: bool) -> str:
    if everything:
        return f"{TITLE}\n\n✅ Você não tem faturas em aberto. Está tudo em dia!"
    return (
        f"{TITLE} — {scope_text}\n\n"
        "Não há faturas em aberto neste período. Escolha outro período ou veja todas em aberto."
    )


# --- Ver boleto ------------------------------------------------------------------------------
def not_payable(invoice: Invoice) -> str:
    header = f"🧾 <b>Fatura {esc(invoice.reference)}</b>"
    if invoice.status is InvoiceStatus.PAID:
        when = f" em {day(invoice.paid_on)}" if invoice.paid_on else ""
        return f"{header}\n\n✅ Esta fatura já foi paga{when}. Não há boleto para pagar."
    return f"{header}\n\nEsta fatura foi cancelada. Não há boleto para pagar."


def boleto_details(invoice: Invoice, today: date, contract_number: str | None) -> str:
    lines = [f"🧾 <b>Fatura {esc(invoice.reference)}</b>"]
    if contract_number:
        lines.append(f"Contrato: {esc(contract_number)}")
    _, status = _status(invoice, today)
    lines.append(f"Vencimento: <b>{day(invoice.due_date)}</b> — {status}")
    lines.append(f"Valor: <b>{money(invoice.amount)}</b>")
    # Multa and juros only where the system gives them; the updated total is what the codes
    # below charge (a reissued 2ª via says it itself: charged_amount).
    lines += [f"Multa: {money(invoice.fine)}"] if invoice.fine > 0 else []
    lines += [f"Juros: {money(invoice.interest)}"] if invoice.interest > 0 else []
    if invoice.charged_due is not None:
        lines += [
            f"Valor atualizado: <b>{money(invoice.updated_amount)}</b>",
            "",
            f"ℹ️ O boleto e o PIX abaixo são da 2ª via atualizada, com vencimento em "
            f"<b>{day(invoice.charged_due)}</b>: pague até essa data.",
        ]
    elif invoice.updated_amount != invoice.amount:
        lines += [
            f"Valor atualizado: <b>{money(invoice.updated_amount)}</b>",
            "",
            "ℹ️ O boleto mantém o valor e o vencimento originais: o banco cobra a multa e os "
            "juros na hora do pagamento. O PIX abaixo já cobra o valor atualizado.",
        ]
    return "\n".join(lines)


def pix_label(invoice: Invoice) -> str:
    return pix_label_for(invoice.updated_amount, updated=invoice.updated_amount != invoice.amount)


def pix_label_for(amount: Decimal, *, updated: bool) -> str:
    """What goes right above a PIX copia e cola (Faturas and reminders alike)."""
    updated_note = " (valor atualizado)" if updated else ""
    return (
        f"💠 <b>PIX copia e cola</b> — {money(amount)}{updated_note}. Toque no código abaixo para "
        "copiar e cole no app do seu banco:"
    )


def code(value: str) -> str:
    """A value to copy, alone in its message."""
    return f"<code>{esc(value)}</code>"


def pdf_caption(invoice: Invoice) -> str:
    if invoice.charged_due is not None:
        return (
            f"📄 2ª via da fatura {esc(invoice.reference)} — vencimento "
            f"{day(invoice.charged_due)} — {money(invoice.updated_amount)}"
        )
    return (
        f"📄 Boleto da fatura {esc(invoice.reference)} — vencimento {day(invoice.due_date)} — "
        f"{money(invoice.amount)}"
    )
