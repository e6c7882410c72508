"""The SGP adapter's invoices (``titulos``, ``fatura2via``, ``pagamento/pix``) and fiscal notes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping

from backend_client.errors import (
    NotFound,
    NotPermitted,
    Rejected,
)
from backend_client.formats.pix import brcode_amount
from backend_client.kit.shape import Record, listing, warn_once
from backend_client.kit.statement import StatementFromInvoices, notes_in
from backend_client.kit.vault import VaultEntry
from backend_client.models import (
    BackendSession,
    DateRange,
    Document,
    FiscalNote,
    Invoice,
    InvoiceStatus,
)
from backend_client.sgp import mapping
from backend_client.sgp.base import SgpBase
from backend_client.sgp.mapping import INVOICE_STATUS_CODE, SYSTEM

PAGE_SIZE = 250
MAX_PAGES = 20


class SgpInvoices(StatementFromInvoices, SgpBase):
    """Invoices, boletos, the statement and fiscal notes of the SGP adapter."""

    # --- invoices -------------------------------------------------------------------------------
    async def _titulos(
        self, entry: VaultEntry, contract_id: str, status: str | None
    ) -> list[Record]:
        faturas: list[Record] = []
        for page in range(MAX_PAGES):
            data = await self._central_data(
                "/api/central/titulos/",
                entry,
                contrato=contract_id,
                status=status,
                offset=page * PAGE_SIZE,
                limit=PAGE_SIZE,
            )
            batch = listing(data, SYSTEM, "titulos", "faturas|titulos")
            faturas.extend(batch)
            paging = (
                Record.of(data, SYSTEM, "titulos").raw("paginacao")
                if isinstance(data, Mapping)
                else None
            )
            total = paging.get("total") if isinstance(paging, Mapping) else None
            if len(batch) < PAGE_SIZE or (str(total).isdigit() and len(faturas) >= int(total)):
                break
        return faturas

    async def _all_invoices(
        self,
        entry: VaultEntry,
        statuses: frozenset[InvoiceStatus] | None,
        contract_ids: list[str],
    ) -> list[tuple[Invoice, Record]]:
        # Without "status", SGP answers open and paid ones; cancelled ones need status=3.
        codes: list[str | None]
        if statuses is None:
            codes = [None, "3"]
        else:
            codes = [INVOICE_STATUS_CODE[s] for s in sorted(statuses)]
        calls = [(cid, code) for cid in contract_ids for code in codes]
        batches = await asyncio.gather(*(self._titulos(entry, cid, code) for cid, code in calls))
        seen: dict[str, tuple[Invoice, Record]] = {}
        for (contract_id, _), faturas in zip(calls, batches, strict=True):
            for fatura in faturas:
                invoice = mapping.invoice(fatura, contract_id)
                if statuses is None or invoice.status in statuses:
                    seen[invoice.id] = (invoice, fatura)
        return sorted(seen.values(), key=lambda pair: (pair[0].due_date, pair[0].id))

    async def list_invoices(
        self,
        session: BackendSession,
        period: DateRange | None = None,
        statuses: frozenset[InvoiceStatus] | None = None,
        contract_id: str | None = None,
    ) -> list[Invoice]:
        entry = self._entry(session)
        if contract_id is not None:
            await self._contract(entry, contract_id)
            contract_ids = [contract_id]
        else:
            contract_ids = [mapping.contract_id_of(c) for c in await self._contracts(entry)]
        if statuses is not None and not statuses:
            return []
        pairs = await self._all_invoices(entry, statuses, contract_ids)
        return [inv for inv, _ in pairs if period is None or inv.due_date in period]

    async def _find_invoice(self, entry: VaultEntry, invoice_id: str) -> tuple[Invoice, Record]:
        contract_ids = [mapping.contract_id_of(c) for c in await self._contracts(entry)]
        for invoice, fatura in await self._all_invoices(entry, None, contract_ids):
            if invoice.id == invoice_id:
                return invoice, fatura
        raise NotFound(f"invoice {invoice_id}")

    async def _second_copy(self, entry: VaultEntry, invoice: Invoice) -> tuple[Invoice, str] | None:
        """The reissued 2ª via of an overdue invoice: its amount, due date, linha digitável, PIX
        and PDF link, all from the same ``fatura2via`` item (None when SGP gives none)."""
        answer = await self._central_json(
            "/api/central/fatura2via/",
            entry,
            "fatura2via",
            contrato=invoice.contract_id,
            nao_gerar_os=1,
        )
        for item in answer.opt_records("links|boletos"):
            if not mapping.is_second_copy_of(item, invoice):
                continue
            link = self._link(item.opt_text("link"))
            reissued = mapping.second_copy(item, invoice)
            if link is None or reissued is None:
                return None
            return reissued, link
        return None

    async def get_invoice(self, session: BackendSession, invoice_id: str) -> Invoice:
        entry = self._entry(session)
        invoice, _ = await self._find_invoice(entry, invoice_id)
        if invoice.is_overdue(self._today()):
            reissued = await self._second_copy(entry, invoice)
            if reissued is not None:
                return reissued[0]
        if invoice.status is InvoiceStatus.OPEN and invoice.pix_code is None:
            answer = await self._central_json(
                f"/api/central/pagamento/pix/{invoice.id}",
                entry,
                "pagamento/pix",
                read=False,
                contrato=invoice.contract_id,
            )
            pix = answer.raw("pix")
            source = (
                Record.of(pix, SYSTEM, "pagamento/pix.pix") if isinstance(pix, Mapping) else answer
            )
            code = mapping.pix_code(source, "codigopix|pix_copia_cola|pixCopiaECola|qrcode")
            if code is not None and brcode_amount(code) in (None, invoice.amount):
                invoice = dataclasses.replace(invoice, pix_code=code)
        return invoice

    async def get_boleto_pdf(self, session: BackendSession, invoice_id: str) -> Document:
        entry = self._entry(session)
        invoice, fatura = await self._find_invoice(entry, invoice_id)
        if invoice.status is InvoiceStatus.PAID:
            raise Rejected("Esta fatura já está paga; não há boleto para pagar.")
        if invoice.status is InvoiceStatus.CANCELLED:
            raise Rejected("Esta fatura foi cancelada; não há boleto para pagar.")
        link = self._link(fatura.opt_text("link_completo|link"))
        name = f"boleto-{invoice.reference.replace('/', '-')}.pdf"
        if invoice.is_overdue(self._today()):
            # The same 2ª via whose amount and codes get_invoice showed.
            reissued = await self._second_copy(entry, invoice)
            if reissued is not None:
                link, name = reissued[1], f"boleto-2via-{invoice.reference.replace('/', '-')}.pdf"
        if link is None:
            raise Rejected("O boleto desta fatura não está disponível agora.")
        content = await self._download(link, "boleto")
        return Document(filename=name, content_type="application/pdf", content=content)

    async def _download(self, url: str, what: str) -> bytes:
        response = await self._transport.request("GET", url, read=True)
        if response.status != 200:
            raise self._transport.unexpected(response, f"the {what} could not be downloaded")
        if not response.body.startswith(b"%PDF-"):
            raise self._transport.malformed(response, f"the {what} is not a PDF")
        return response.body

    # --- fiscal notes ---------------------------------------------------------------------------
    async def _note_list(self, entry: VaultEntry, kind: str, contract_id: str) -> list[Record]:
        """One kind of note of a contract; a kind this installation lacks (404) or that the token
        may not read (nfcom) is left out, with one warning."""
        try:
            if kind == "nfcom":
                response = await self._ura(
                    "/api/central/nfcom/list", "list_fiscal_notes", read=True, contrato=contract_id
                )
            else:
                response = await self._central(
                    f"/api/central/{kind}/list/", entry, read=True, contrato=contract_id
                )
        except NotPermitted:
            warn_once(SYSTEM, f"{kind}/list", "is not permitted to the token")
            return []
        if response.status == 404:
            warn_once(SYSTEM, f"{kind}/list", "is not in this installation (HTTP 404)")
            return []
        if response.status != 200:
            raise self._transport.unexpected(response)
        data = self._transport.json(response)
        return listing(data, SYSTEM, kind, "notas|data|notasfiscais", strict=False)

    async def _notes(self, entry: VaultEntry) -> list[tuple[FiscalNote, Record]]:
        contract_ids = [mapping.contract_id_of(c) for c in await self._contracts(entry)]
        kinds = ("notafiscal", "nfse", "nfcom")

        async def of_contract(contract_id: str) -> list[tuple[FiscalNote, Record]]:
            answers = await asyncio.gather(
                *(self._note_list(entry, kind, contract_id) for kind in kinds)
            )
            return [
                (mapping.fiscal_note(kind, record, contract_id), record)
                for kind, records in zip(kinds, answers, strict=True)
                for record in records
            ]

        batches = await asyncio.gather(*(of_contract(cid) for cid in contract_ids))
        return [pair for batch in batches for pair in batch]

    async def list_fiscal_notes(
        self, session: BackendSession, period: DateRange
    ) -> list[FiscalNote]:
        notes = [note for note, _ in await self._notes(self._entry(session))]
        return notes_in(notes, period)

    async def get_fiscal_note_pdf(self, session: BackendSession, note_id: str) -> Document:
        entry = self._entry(session)
        for note, record in await self._notes(entry):
            if note.id != note_id:
                continue
            filename = f"nota-fiscal-{note.number}.pdf"
            if note_id.startswith("nfcom-"):
                response = await self._ura(
                    f"/api/central/nfcom/print/{note.number}",
                    "get_fiscal_note_pdf",
                    read=True,
                    contrato=note.contract_id,
                    formato="pdf",
                )
                if response.status != 200 or not response.body.startswith(b"%PDF-"):
                    raise self._transport.malformed(response, "the NFCom is not a PDF")
                content = response.body
            else:
                link = self._link(record.opt_text("link|link_pdf|url"))
                if link is None:
                    raise Rejected("O PDF desta nota fiscal não está disponível agora.")
                content = await self._download(link, "fiscal note")
            return Document(filename=filename, content_type="application/pdf", content=content)
        raise NotFound(f"fiscal note {note_id}")
