"""The IXC adapter's invoices (``fn_areceber``, ``get_boleto``, ``get_pix``) and fiscal notes."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from typing import Any

from backend_client.errors import (
    CredentialsRefused,
    NotFound,
    Rejected,
    Unavailable,
)
from backend_client.ixc import mapping
from backend_client.ixc.base import IxcBase, _reason
from backend_client.ixc.query import (
    SYSTEM,
    Filter,
    error_message,
    refusal,
)
from backend_client.kit.shape import Record, warn_once
from backend_client.kit.statement import StatementFromInvoices, notes_in
from backend_client.models import (
    BackendSession,
    DateRange,
    Document,
    FiscalNote,
    Invoice,
    InvoiceStatus,
)

# get_boleto flags of the updated 2ª via (public integrations): the PDF and the data agree.
SECOND_COPY = {"juro": "S", "multa": "S", "atualiza_boleto": "S"}
NO_BOLETO = "O boleto desta fatura não está disponível agora. Fale com o provedor."
NO_NOTE_PDF = "O PDF desta nota fiscal não está disponível agora. Fale com o provedor."


class IxcInvoices(StatementFromInvoices, IxcBase):
    """Invoices, boletos, the statement and fiscal notes of the IXC adapter."""

    # --- invoices -------------------------------------------------------------------------------
    async def _invoice_row(self, owner: str, invoice_id: str) -> Record:
        row = await self._ixc.one("fn_areceber", invoice_id)
        if row is None or row.ident("id_cliente") != owner:
            raise NotFound(f"invoice {invoice_id}")
        return row

    async def list_invoices(
        self,
        session: BackendSession,
        period: DateRange | None = None,
        statuses: frozenset[InvoiceStatus] | None = None,
        contract_id: str | None = None,
    ) -> list[Invoice]:
        owner = self._owner(session)
        if contract_id is not None:
            await self._contract(owner, contract_id)
        if statuses is not None and not statuses:
            return []
        filters = []
        if period is not None:
            filters = [
                Filter("fn_areceber.data_vencimento", ">=", period.start.isoformat()),
                Filter("fn_areceber.data_vencimento", "<=", period.end.isoformat()),
            ]
        rows = await self._ixc.list(
            "fn_areceber",
            "id_cliente",
            owner,
            filters=filters,
            sortname="fn_areceber.data_vencimento",
        )
        invoices = [mapping.invoice(row) for row in rows if row.ident("id_cliente") == owner]
        invoices = [
            inv
            for inv in invoices
            if (statuses is None or inv.status in statuses)
            and (period is None or inv.due_date in period)
            and (contract_id is None or inv.contract_id == contract_id)
        ]
        return sorted(invoices, key=lambda inv: (inv.due_date, inv.id))

    async def get_invoice(self, session: BackendSession, invoice_id: str) -> Invoice:
        """An open invoice with its PIX; an overdue one as IXC's updated 2ª via (its amount, due
        date and linha digitável together) when IXC reissues it. A PIX is shown only when it
        charges what the screen says is charged."""
        invoice = mapping.invoice(await self._invoice_row(self._owner(session), invoice_id))
        if invoice.status is not InvoiceStatus.OPEN:
            return invoice
        if invoice.is_overdue(self._today()):
            invoice = await self._second_copy(invoice)
        code = await self._pix(invoice)
        return dataclasses.replace(invoice, pix_code=code) if code else invoice

    async def _optional_answer(self, endpoint: str, body: dict[str, Any]) -> Any:
        """The JSON answer of an action whose result the screen can do without: None (and one
        warning naming the endpoint) when it is refused, fails or is empty."""
        try:
            response = await self._ixc.raw(endpoint, body)
            if response.status != 200:
                raise self._transport.unexpected(response)
            if not response.body.strip():
                return None  # IXC's answer about an invoice it does not know
            data = self._transport.json(response)
        except CredentialsRefused:
            raise
        except Unavailable as error:
            warn_once(SYSTEM, endpoint, f"failed ({_reason(error)})")
            return None
        if refusal(data, endpoint) is not None:
            warn_once(SYSTEM, endpoint, "is not permitted to the webservice user")
            return None
        if error_message(data) is not None:
            return None  # e.g. no PIX for this invoice
        return data

    async def _second_copy(self, invoice: Invoice) -> Invoice:
        """``get_boleto`` with ``tipo_boleto`` "dados" and juro/multa/atualiza_boleto "S": the
        updated 2ª via (public integrations), an object or an array of one with
        ``data_vencimento``, ``valor_boleto``, ``linha_digitavel``. Used when it is payable from
        today on and its linha charges its amount; otherwise the invoice stays as it is."""
        body = {**SECOND_COPY, "boletos": invoice.id, "tipo_boleto": "dados"}
        data = await self._optional_answer("get_boleto", body)
        return mapping.second_copy(data, invoice, self._today())

    async def _pix(self, invoice: Invoice) -> str | None:
        """``get_pix {id_areceber}`` → ``pix.dadosPix{pixCopiaECola, status, valor.original}``
        (public integrations), when it charges ``invoice.updated_amount``."""
        data = await self._optional_answer("get_pix", {"id_areceber": invoice.id})
        return mapping.pix_code(data, invoice)

    async def _pdf(self, table: str, body: dict[str, Any], what: str, missing: str) -> bytes:
        """A PDF IXC answers as base64 text; an empty answer is ``missing`` (Rejected)."""
        response = await self._ixc.raw(table, body)
        if response.status != 200:
            raise self._transport.unexpected(response)
        text = response.body.strip()
        if not text:
            raise Rejected(missing)
        if text.startswith((b"{", b'"', b"[")):
            try:
                data = json.loads(text)
            except ValueError:
                raise self._transport.malformed(response, f"the {what} is not base64") from None
            refused = refusal(data, table)
            if refused is not None:
                raise refused
            message = error_message(data)
            if message is not None:
                raise Rejected(message if message != "no message" else missing)
            if not isinstance(data, str):
                raise self._transport.malformed(response, f"the {what} is not base64")
            text = data.encode("ascii", "ignore")
        try:
            content = base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            raise self._transport.malformed(response, f"the {what} is not base64") from None
        if not content.startswith(b"%PDF-"):
            raise self._transport.malformed(response, f"the {what} is not a PDF")
        return content

    async def get_boleto_pdf(self, session: BackendSession, invoice_id: str) -> Document:
        """The boleto PDF with the same flags as the 2ª via shown (juro, multa, atualiza_boleto):
        for an overdue invoice, the updated one."""
        invoice = mapping.invoice(await self._invoice_row(self._owner(session), invoice_id))
        if invoice.status is InvoiceStatus.PAID:
            raise Rejected("Esta fatura já está paga; não há boleto para pagar.")
        if invoice.status is InvoiceStatus.CANCELLED:
            raise Rejected("Esta fatura foi cancelada; não há boleto para pagar.")
        body = {**SECOND_COPY, "boletos": invoice_id, "tipo_boleto": "arquivo", "base64": "S"}
        content = await self._pdf("get_boleto", body, "boleto", NO_BOLETO)
        filename = f"boleto-{invoice.reference.replace('/', '-')}.pdf"
        return Document(filename=filename, content_type="application/pdf", content=content)

    # --- fiscal notes ---------------------------------------------------------------------------
    async def list_fiscal_notes(
        self, session: BackendSession, period: DateRange
    ) -> list[FiscalNote]:
        owner = self._owner(session)
        rows = await self._ixc.list(
            "vd_saida",
            "id_cliente",
            owner,
            filters=[
                Filter("vd_saida.data_emissao", ">=", period.start.isoformat()),
                Filter("vd_saida.data_emissao", "<=", period.end.isoformat()),
            ],
        )
        notes = [mapping.fiscal_note(r) for r in rows if r.ident("id_cliente") == owner]
        return notes_in(notes, period)

    async def get_fiscal_note_pdf(self, session: BackendSession, note_id: str) -> Document:
        owner = self._owner(session)
        row = await self._ixc.one("vd_saida", note_id)
        if row is None or row.ident("id_cliente") != owner:
            raise NotFound(f"fiscal note {note_id}")
        note = mapping.fiscal_note(row)
        content = await self._pdf(
            "imprimir_nota", {"id": note_id, "base64": "S"}, "fiscal note", NO_NOTE_PDF
        )
        return Document(
            filename=f"nota-fiscal-{note.number}.pdf",
            content_type="application/pdf",
            content=content,
        )
