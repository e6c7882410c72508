"""Real PDFs of the sandbox (boleto, fiscal note, technician's report) drawn with fpdf2.

Only fpdf2's core fonts are used (nothing is fetched or embedded); they cover latin-1, which has
every pt-BR letter ("ç", "ã", "é"…). :func:`pdf_text` maps the rest ("—", "“", "…", emoji…) to
latin-1 so that no text can make fpdf2 raise.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import segno
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

_FONT = "Helvetica"
_LINE = 5.0
_TYPOGRAPHY = str.maketrans(
    {
        "—": "-",
        "–": "-",
        "‐": "-",
        "‑": "-",
        "‘": "'",
        "’": "'",
        "‚": ",",
        "“": '"',
        "”": '"',
        "„": '"',
        "…": "...",
        "•": "-",
        "€": "EUR",
        "\u00a0": " ",
        "\u202f": " ",
        "\t": " ",
    }
)


def pdf_text(text: str) -> str:
    """``text`` made printable with the latin-1 core fonts; accents kept where latin-1 has them."""
    result: list[str] = []
    for char in text.translate(_TYPOGRAPHY):
        if char == "\n" or " " <= char <= "~" or "\u00a0" <= char <= "\u00ff":
            result.append(char)
            continue
        base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        printable = "".join(c for c in base if c.isprintable())
        result.append(printable or ("" if unicodedata.category(char)[0] in "CM" else "?"))
    return "".join(result)


def _money(amount: Decimal) -> str:
    text = f"{amount:,.2f}"
    return "R$ " + text.replace(",", "_").replace(".", ",").replace("_", ".")


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


class _Pdf(FPDF):
    """A4 page with the sandbox's look: a title bar and labelled boxes."""

    def __init__(self, title: str, created_at: datetime) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_creation_date(created_at)
        self.set_title(pdf_text(title))
        self.set_author("Minha Central (sandbox)")
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)
        self.add_page()

    def heading(self, text: str, size: int = 14) -> None:
        self.set_font(_FONT, "B", size)
        self.cell(0, 8, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(self, text: str, size: int = 9, style: str = "") -> None:
        self.set_font(_FONT, style, size)
        self.multi_cell(0, _LINE, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def field(self, label: str, value: str, width: float = 0, last: bool = True) -> None:
        """A bordered box with a small label above its value."""
        x, y = self.get_x(), self.get_y()
        box_width = width or (self.w - self.r_margin - x)
        self.rect(x, y, box_width, 11)
        self.set_xy(x + 1, y + 0.5)
        self.set_font(_FONT, "", 6.5)
        self.cell(box_width - 2, 3.5, pdf_text(label))
        self.set_xy(x + 1, y + 4.5)
        self.cell(box_width - 2, 5.5, self._fit(pdf_text(value), box_width - 2))
        if last:
            self.set_xy(self.l_margin, y + 11)
        else:
            self.set_xy(x + box_width, y)

    def field_lines(self, label: str, lines: Sequence[str]) -> None:
        """A full-width box with a label and several lines (the first bold), all inside it:
        the payer's address belongs in the Pagador box, not below it."""
        x, y = self.l_margin, self.get_y()
        width = self.w - self.l_margin - self.r_margin
        height = 4.5 + 4.5 * len(lines) + 1
        self.rect(x, y, width, height)
        self.set_xy(x + 1, y + 0.5)
        self.set_font(_FONT, "", 6.5)
        self.cell(width - 2, 3.5, pdf_text(label))
        for index, line in enumerate(lines):
            self.set_xy(x + 1, y + 4.5 + 4.5 * index)
            text = self._fit(pdf_text(line), width - 2, "B" if index == 0 else "")
            self.cell(width - 2, 4.5, text)
        self.set_xy(self.l_margin, y + height)

    def _fit(self, text: str, width: float, style: str = "B") -> str:
        """Pick a font size (9 down to 6) that fits ``text``; cut it when none does."""
        for size in (9, 8, 7, 6):
            self.set_font(_FONT, style, size)
            if self.get_string_width(text) <= width:
                return text
        while text and self.get_string_width(text + "...") > width:
            text = text[:-1]
        return text + "..."

    def field_row(self, fields: Sequence[tuple[str, str]]) -> None:
        width = (self.w - self.l_margin - self.r_margin) / len(fields)
        for index, (label, value) in enumerate(fields):
            self.field(label, value, width, last=index == len(fields) - 1)

    def rule(self) -> None:
        self.ln(2)
        self.set_dash_pattern(dash=1, gap=1)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_dash_pattern()
        self.ln(3)

    def render(self) -> bytes:
        return bytes(self.output())


@dataclass(frozen=True, slots=True)
class BoletoData:
    payee_name: str
    payee_document: str  # formatted
    payee_address: str
    payer_name: str
    payer_document: str  # formatted
    payer_address: str
    bank_code: str  # "001"
    bank_code_with_dv: str  # "001-9"
    bank_name: str
    invoice_number: str
    nosso_numero: str
    reference: str
    issued_on: date
    due_date: date
    amount: Decimal
    linha_digitavel: str  # formatted
    barcode: str  # 44 digits
    instructions: str
    pix_code: str | None
    created_at: datetime


def boleto_pdf(data: BoletoData) -> bytes:
    """A boleto: receipt stub, payment slip with linha digitável and barcode, PIX QR code."""
    pdf = _Pdf(f"Boleto {data.reference} - {data.payee_name}", data.created_at)
    pdf.heading(data.payee_name)
    pdf.paragraph(f"CNPJ {data.payee_document} - {data.payee_address}")
    pdf.ln(2)
    pdf.heading("Recibo do pagador", 11)
    pdf.field_row([("Pagador", data.payer_name), ("CPF/CNPJ", data.payer_document)])
    pdf.field_row(
        [
            ("Referência", data.reference),
            ("Vencimento", _day(data.due_date)),
            ("Valor do documento", _money(data.amount)),
        ]
    )
    pdf.rule()

    pdf.set_font(_FONT, "B", 13)
    pdf.cell(28, 8, pdf_text(data.bank_code_with_dv), border=1, align="C")
    pdf.set_font(_FONT, "B", 10.5)
    pdf.cell(0, 8, pdf_text(data.linha_digitavel), border=1, align="R")
    pdf.ln(8)
    pdf.field_row([("Local de pagamento", f"Pagável em qualquer banco - {data.bank_name}")])
    pdf.field_row(
        [
            ("Beneficiário", f"{data.payee_name} - CNPJ {data.payee_document}"),
        ]
    )
    pdf.field_row(
        [
            ("Data do documento", _day(data.issued_on)),
            ("Número do documento", data.invoice_number),
            ("Nosso número", data.nosso_numero),
            ("Vencimento", _day(data.due_date)),
        ]
    )
    pdf.field_row([("Referência", data.reference), ("(=) Valor do documento", _money(data.amount))])
    pdf.field_row([("Instruções", data.instructions)])
    # The payer's address inside the Pagador box (issue 21), as a boleto's "Sacado" field.
    pdf.field_lines("Pagador", [f"{data.payer_name} - {data.payer_document}", data.payer_address])
    pdf.ln(3)
    pdf.set_fill_color(0, 0, 0)
    pdf.interleaved2of5(data.barcode, pdf.l_margin, pdf.get_y(), w=0.75, h=13)
    pdf.ln(17)
    if data.pix_code:
        _pix_block(pdf, data.pix_code)
    return pdf.render()


def _pix_block(pdf: _Pdf, code: str) -> None:
    pdf.rule()
    pdf.heading("Pague com PIX", 11)
    qr = io.BytesIO()
    segno.make(code, error="m").save(qr, kind="png", scale=4, border=2)
    qr.seek(0)
    top = pdf.get_y()
    pdf.image(qr, x=pdf.l_margin, y=top, w=40, h=40)
    pdf.set_xy(pdf.l_margin + 44, top)
    pdf.set_font(_FONT, "B", 8)
    pdf.cell(0, 4, "PIX copia e cola:", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("Courier", "", 8)
    pdf.multi_cell(
        0, 4, pdf_text(code), align="L", wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_y(max(pdf.get_y(), top + 42))


@dataclass(frozen=True, slots=True)
class FiscalNoteData:
    model: str  # "NFCom", "NFS-e"
    number: str
    series: str
    issued_on: date
    issuer_name: str
    issuer_document: str  # formatted
    issuer_address: str
    recipient_name: str
    recipient_document: str  # formatted
    recipient_address: str
    items: Sequence[tuple[str, Decimal]]  # (description, amount)
    total: Decimal
    created_at: datetime


_NOTE_TITLES: dict[str, str] = {
    "NFCom": "DANFE-COM - Documento Auxiliar da Nota Fiscal Fatura de Serviços de Comunicação",
    "NFS-e": "DANFSe - Documento Auxiliar da Nota Fiscal de Serviço eletrônica",
}


def fiscal_note_pdf(data: FiscalNoteData) -> bytes:
    title = _NOTE_TITLES.get(data.model, f"Nota fiscal modelo {data.model}")
    pdf = _Pdf(f"{data.model} {data.number}", data.created_at)
    pdf.heading(title, 11)
    pdf.field_row(
        [
            ("Modelo", data.model),
            ("Número", data.number),
            ("Série", data.series),
            ("Data de emissão", _day(data.issued_on)),
        ]
    )
    pdf.ln(2)
    pdf.heading("Emitente", 10)
    pdf.field_row([("Razão social", data.issuer_name), ("CNPJ", data.issuer_document)])
    pdf.paragraph(data.issuer_address, size=8)
    pdf.ln(2)
    pdf.heading("Destinatário", 10)
    pdf.field_row(
        [("Nome / razão social", data.recipient_name), ("CPF/CNPJ", data.recipient_document)]
    )
    pdf.paragraph(data.recipient_address, size=8)
    pdf.ln(2)
    pdf.heading("Serviços", 10)
    for description, amount in data.items:
        pdf.field_row([("Descrição", description), ("Valor", _money(amount))])
    pdf.field_row([("Valor total da nota", _money(data.total))])
    pdf.ln(4)
    pdf.paragraph(
        "Documento gerado pelo ambiente de demonstração (sandbox) — sem valor fiscal.",
        size=8,
        style="I",
    )
    return pdf.render()


def technician_report_pdf(
    customer_name: str,
    address: str,
    visited_on: date,
    findings: Sequence[str],
    created_at: datetime,
) -> bytes:
    """The "laudo de visita técnica" the provider attaches to a closed ticket."""
    pdf = _Pdf("Laudo de visita técnica", created_at)
    pdf.heading("Laudo de visita técnica")
    pdf.field_row([("Cliente", customer_name), ("Data da visita", _day(visited_on))])
    pdf.field_row([("Endereço", address)])
    pdf.ln(3)
    pdf.heading("Constatações e serviços executados", 10)
    for finding in findings:
        pdf.paragraph(f"- {finding}")
    return pdf.render()
