"""What the SGP and IXC adapters answer the same way from what they already read: the statement
(financial entries) from the invoices, and a period's fiscal notes in order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from backend_client.models import (
    BackendSession,
    DateRange,
    FinancialEntry,
    FiscalNote,
    Invoice,
    InvoiceStatus,
)


class StatementFromInvoices:
    """``list_financial_entries`` for a system whose listing of invoices is its statement: the
    period's open and paid invoices (cancelled ones are no entry)."""

    if TYPE_CHECKING:  # the adapter's own listing

        async def list_invoices(
            self,
            session: BackendSession,
            period: DateRange | None = None,
            statuses: frozenset[InvoiceStatus] | None = None,
            contract_id: str | None = None,
        ) -> list[Invoice]: ...

    async def list_financial_entries(
        self, session: BackendSession, period: DateRange
    ) -> list[FinancialEntry]:
        open_or_paid = frozenset({InvoiceStatus.OPEN, InvoiceStatus.PAID})
        invoices = await self.list_invoices(session, period, open_or_paid)
        return [FinancialEntry.of_invoice(invoice) for invoice in invoices]


def notes_in(notes: Iterable[FiscalNote], period: DateRange) -> list[FiscalNote]:
    """The notes issued in ``period``, oldest first (ties by id)."""
    return sorted((n for n in notes if n.issued_on in period), key=lambda n: (n.issued_on, n.id))
