"""Nota Fiscal (seed 1.3.2)."""

from __future__ import annotations

from backend_client.models import FiscalNote
from bot.ui.formatting import day, esc, money

TITLE = "📄 <b>Notas Fiscais</b>"
CHOOSE_PERIOD = f"{TITLE}\n\nDe qual período? As notas são buscadas pela data de emissão."


def note_button(note: FiscalNote) -> str:
    """Plain text (button label): model, number, issue date, amount."""
    return f"{note.model} nº {note.number} · {day(note.issued_on)} · {money(note.amount)}"


def note_list(period_text: str, count: int, page: int, pages: int) -> str:
    found = "1 nota fiscal" if count == 1 else f"{count} notas fiscais"
    page_text = f" Página {page + 1} de {pages}." if pages > 1 else ""
    return (
        f"{TITLE} — {esc(period_text)}\n\n"
        f"{found} no período.{page_text}\n"
        "Toque numa nota para receber o PDF."
    )


def empty(period_text: str) -> str:
    return (
        f"{TITLE} — {esc(period_text)}\n\n"
        "Não há notas fiscais emitidas neste período. Escolha outro período:"
    )


def pdf_caption(note: FiscalNote | None) -> str:
    if note is None:
        return "📄 Nota fiscal em PDF"
    return (
        f"📄 {esc(note.model)} nº {esc(note.number)} (série {esc(note.series)}) — emitida em "
        f"{day(note.issued_on)} — {money(note.amount)}"
    )
