"""Statements as files to keep or reconcile (issue 21): PDF for every statement, CSV for records.

No Telegram in here: a flow builds a :class:`Table` (texts already formatted for pt-BR) and
sends what :func:`to_pdf` or :func:`to_csv` returns.

CSV for Excel in Brazil: fields separated by ``;`` and the file starts with the UTF-8 byte order
mark. Excel reads a text file that starts with EF BB BF as UTF-8 (otherwise in the PC's code
page, and "ç"/"ã" come out garbled) — https://wiki.scn.sap.com/wiki/display/ABAP/Excel+files+-+CSV+format
("How does Excel recognize text files"); and it splits fields on the system's list separator,
which is the semicolon where the decimal separator is a comma, as in pt-BR (so "R$ 1,50" stays
one field) — https://grokipedia.com/page/List_separator_Microsoft_Excel.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

CSV_SEPARATOR = ";"
UTF8_BOM = "\ufeff"
_FONT = "Helvetica"
_ROW = 5.5
_SAFE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Table:
    """A statement as rows of already formatted cells."""

    title: str  # "Extrato de Ligação"
    subtitle: str  # "Linha (19) 3234-5678 · novembro de 2026"
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    totals: Sequence[str] = field(default=())  # lines printed after the table (PDF only)
    widths: Sequence[float] = field(default=())  # relative column widths (PDF); equal if empty


def decimal_br(value: Decimal) -> str:
    """``1234.5`` → ``1234,50``: a number Excel in pt-BR reads as a number (no "R$")."""
    return f"{value:.2f}".replace(".", ",")


def filename(title: str, period: str, extension: str) -> str:
    """``extrato-de-ligacao-novembro-de-2026.csv``: ASCII, no spaces, any system opens it."""
    plain = unicodedata.normalize("NFKD", f"{title} {period}").encode("ascii", "ignore").decode()
    stem = _SAFE.sub("-", plain.lower()).strip("-")[:80].rstrip("-") or "extrato"
    return f"{stem}.{extension}"


def to_csv(table: Table) -> bytes:
    """The header line then one line per row; ``;`` separated, UTF-8 with BOM, CRLF lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_SEPARATOR, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    return (UTF8_BOM + buffer.getvalue()).encode("utf-8")


def to_pdf(table: Table, created_at: datetime) -> bytes:
    """An A4 page (more when needed) with the title, the period, the table and its totals."""
    # fpdf2 costs ~40 MB and 0.3 s to import: only once somebody asks for a PDF (as the sandbox).
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    from backend_client.sandbox.pdf import pdf_text

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(created_at)
    pdf.set_title(pdf_text(table.title))
    pdf.set_author("Minha Central")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    pdf.set_font(_FONT, "B", 14)
    pdf.cell(0, 8, pdf_text(table.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 10)
    pdf.multi_cell(0, 5, pdf_text(table.subtitle), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    weights = list(table.widths) or [1.0] * len(table.headers)
    widths = [usable * weight / sum(weights) for weight in weights]

    def header() -> None:
        pdf.set_font(_FONT, "B", 8.5)
        pdf.set_fill_color(230, 230, 230)
        for width, text in zip(widths, table.headers, strict=True):
            pdf.cell(width, _ROW + 0.5, _fit(pdf, pdf_text(text), width - 1.5), border=1, fill=True)
        pdf.ln(_ROW + 0.5)
        pdf.set_font(_FONT, "", 8.5)

    header()
    for row in table.rows:
        if pdf.get_y() + _ROW > pdf.h - pdf.b_margin:
            pdf.add_page()
            header()
        for width, text in zip(widths, row, strict=True):
            pdf.cell(width, _ROW, _fit(pdf, pdf_text(text), width - 1.5), border=1)
        pdf.ln(_ROW)
    if table.totals:
        pdf.ln(3)
        pdf.set_font(_FONT, "B", 9.5)
        for line in table.totals:
            pdf.multi_cell(0, 5, pdf_text(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` cut with "..." so that it stays inside its cell."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text + "..."
