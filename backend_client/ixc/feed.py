"""IXC's :class:`~backend_client.provider.ProviderFeed`, over the webservice's global listings.

IXC's listing protocol (:mod:`backend_client.ixc.query`) filters any table by one ``qtype``/
``query``/``oper`` condition plus ``grid_param`` conditions ``{TB, OP, P}``, sorted by ``sortname``
and paged by ``page``/``rp`` — e.g. ``fn_areceber`` by ``status`` "A" and a ``data_vencimento``
range (public integrations: ``grid_param: [{TB: "fn_areceber.status", OP: "=", P: "A"}]`` and
``{TB: "fn_areceber.data_vencimento", OP: "<", P: …}`` in node clients of
``/webservice/v1/fn_areceber``; ``pagamento_data`` is the payment day of a row with ``status``
"R", as ``mapping.invoice`` reads it). Each question here is one such listing:

- open invoices: ``fn_areceber`` status A, ``data_vencimento`` in the window; each with its linha
  digitável, the updated 2ª via when overdue (``get_boleto`` "dados") and its PIX (``get_pix``),
  as the subscriber's own screen shows them;
- payments: ``fn_areceber`` status R, ``pagamento_data`` in the window;
- ticket events: ``su_mensagens`` after an instant (``data``) written by an operator, with the
  ticket (``su_ticket``) they belong to; the last one of a closed ticket is its closing;
- fiscal notes: ``vd_saida`` by ``data_emissao``;
- enablings ending: ``cliente_contrato`` with ``desbloqueio_confianca_ativo`` S whose enabling
  (``dt_ult_des_bloq_conf`` + the enabling days) ends that day;
- audiences: per watched subscriber (``cliente``/``cliente_contrato``/``fn_areceber``, as the
  account screen reads them), cached for a few minutes.

Listings page by key: ``qtype`` ``<table>.id > cursor``, sorted by id, so a page taken after a
crash, or after rows changed, neither repeats nor skips a row that still matches. A page sends at
most what fits in a few seconds at the pace (``RequestPacer.allowance``: a PIX and a 2ª via per
invoice, three requests per answered ticket): past that it ends early and the next page resumes at
the first invoice or ticket not done (an answer of a ticket done already may then come again; the
bot keys notices by event, so it is sent once). Only the
watched subscribers' rows are kept (only they can be notified). A table the webservice user may
not read skips that question (an empty answer) with one WARNING naming the table. Every request
goes through the feed's pacer, over the backend's pooled client.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from backend_client.errors import NotPermitted, NotSupported
from backend_client.ixc import mapping
from backend_client.ixc.backend import IxcBackend
from backend_client.ixc.query import SYSTEM, Filter, IxcClient
from backend_client.kit.feed import AccountAudiences, Skipping, ticket_answers
from backend_client.kit.pacing import DEFAULT_RATE, PacedTransport, RequestPacer
from backend_client.kit.per_subscriber import Audiences
from backend_client.kit.shape import SAO_PAULO, Record
from backend_client.models import BackendSession, InvoiceStatus
from backend_client.provider import (
    EnablingEnding,
    FeedPage,
    SubscriberFiscalNote,
    SubscriberInvoice,
    TicketEvent,
    Watched,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 100  # rows per listing request
# The tables the feed lists, and the notices that need them.
FEED_TABLES = {
    "fn_areceber": "invoice reminders and payment confirmations",
    "su_mensagens": "ticket answers",
    "su_ticket": "ticket answers",
    "vd_saida": "fiscal-note notices",
    "cliente_contrato": "end-of-enabling warnings and broadcast audiences",
    "cliente": "broadcast audiences",
}


class IxcFeed(AccountAudiences):
    def __init__(
        self,
        backend: IxcBackend,
        *,
        requests_per_second: float = DEFAULT_RATE,
        pacer: RequestPacer | None = None,
        page_size: int = PAGE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pacer = pacer or RequestPacer(requests_per_second, system=SYSTEM)
        self.page_size = page_size
        paced: Any = PacedTransport(backend._transport, self.pacer)
        # The backend's own reading and mapping, its requests paced: a shallow copy shares its
        # settings and caches (places, refused tables) but talks through the pacer.
        self._ixc = IxcClient(paced, page_size=page_size)
        view = copy.copy(backend)
        view._transport = paced
        view._ixc = self._ixc
        self._view = view
        # A table the webservice user may not read: its questions are skipped, one WARNING each.
        self._skipping = Skipping((NotPermitted,), key=_refused_table, warn=_warn_refused)
        self._audiences = Audiences(
            view, lambda w: self._session(w.reference), pacer=self.pacer, clock=clock
        )

    def __repr__(self) -> str:
        return f"IxcFeed({self._view!r})"

    # --- plumbing -------------------------------------------------------------------------------
    async def _rows(
        self, table: str, filters: list[Filter], cursor: str | None
    ) -> tuple[list[Record], str | None]:
        """One page of ``table`` by id after ``cursor``, and the next cursor."""
        rows = await self._ixc.list(
            table,
            "id",
            cursor or "0",
            ">",
            filters=filters,
            sortname=f"{table}.id",
            sortorder="asc",
            limit=self.page_size,
        )
        if len(rows) < self.page_size:
            return rows, None
        return rows, rows[-1].ident("id")

    def _budget(self) -> Callable[[], bool]:
        """True once this page has sent what one page may (see RequestPacer.allowance)."""
        started, allowance = self.pacer.requests, self.pacer.allowance()
        return lambda: self.pacer.requests - started >= allowance

    @staticmethod
    def _owners(watched: Sequence[Watched]) -> dict[str, str]:
        """cliente id → the bot's subscriber id (the same for IXC)."""
        return {w.reference: w.subscriber_id for w in watched}

    def _session(self, owner: str) -> BackendSession:
        """A session of the adapter's own kind for a watched cliente (never leaves the feed)."""
        token = self._view._signer.sign({"sub": owner})
        return BackendSession(subscriber_id=owner, document="", name="", token=token)

    async def check(self) -> list[str]:
        """What ``backend check`` should say about this feed: one line per question the
        webservice user cannot answer here (empty: every question works)."""
        lines = []
        for table, questions in FEED_TABLES.items():
            try:
                await self._ixc.list(table, "id", "0", ">", limit=1)
            except NotPermitted:
                lines.append(f"{questions}: the webservice user may not read {table}")
        return lines

    # --- invoices -------------------------------------------------------------------------------
    async def open_invoices_due_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberInvoice]:
        async def ask() -> FeedPage[SubscriberInvoice]:
            owners = self._owners(watched)
            rows, next_cursor = await self._rows(
                "fn_areceber",
                [
                    Filter("fn_areceber.status", "=", "A"),
                    *_between("fn_areceber.data_vencimento", start, end),
                ],
                cursor,
            )
            today = self._view._today()
            found = []
            budget = self._budget()
            for subscriber, row in _owned(rows, owners):
                invoice = mapping.invoice(row)
                if invoice.status is not InvoiceStatus.OPEN or not start <= invoice.due_date <= end:
                    continue
                if invoice.is_overdue(today):
                    invoice = await self._view._second_copy(invoice)
                code = await self._view._pix(invoice)
                if code:
                    invoice = dataclasses.replace(invoice, pix_code=code)
                found.append(SubscriberInvoice(subscriber, invoice.contract_id, invoice))
                if budget() and row is not rows[-1]:
                    return FeedPage(found, row.ident("id"))  # the rest on the next page
            return FeedPage(found, next_cursor)

        return await self._skipping("open invoices", ask)

    async def payments_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberInvoice]:
        async def ask() -> FeedPage[SubscriberInvoice]:
            owners = self._owners(watched)
            rows, next_cursor = await self._rows(
                "fn_areceber",
                [
                    Filter("fn_areceber.status", "=", "R"),
                    *_between("fn_areceber.pagamento_data", start, end),
                ],
                cursor,
            )
            found = []
            for subscriber, row in _owned(rows, owners):
                invoice = mapping.invoice(row)
                paid = invoice.paid_on
                if invoice.status is InvoiceStatus.PAID and paid and start <= paid <= end:
                    found.append(SubscriberInvoice(subscriber, invoice.contract_id, invoice))
            return FeedPage(found, next_cursor)

        return await self._skipping("payments", ask)

    # --- tickets --------------------------------------------------------------------------------
    async def ticket_events_since(
        self, since: datetime, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[TicketEvent]:
        async def ask() -> FeedPage[TicketEvent]:
            owners = self._owners(watched)
            local = since.astimezone(SAO_PAULO).strftime("%Y-%m-%d %H:%M:%S")
            rows, next_cursor = await self._rows(
                "su_mensagens", [Filter("su_mensagens.data", ">", local)], cursor
            )
            wanted: dict[str, list[str]] = {}  # ticket id → message ids of this page
            for row in rows:
                if row.opt_ident("operador") is None:
                    continue  # the subscriber's own message
                ticket_id = row.opt_ident("id_ticket")
                if ticket_id:
                    wanted.setdefault(ticket_id, []).append(row.ident("id"))
            events: list[TicketEvent] = []
            budget = self._budget()
            for ticket_id, message_ids in wanted.items():
                if budget():  # the rest of the page on the next one
                    return FeedPage(events, _before(message_ids[0]))
                ticket_row = await self._ixc.one("su_ticket", ticket_id)
                owner = ticket_row.opt_ident("id_cliente") if ticket_row else None
                if owner not in owners:
                    continue
                ticket = await self._view._full_ticket(owner, ticket_id, "")
                events += ticket_answers(
                    ticket, owners[owner], since, keep=lambda m, ids=message_ids: m.id in ids
                )
            return FeedPage(events, next_cursor)

        return await self._skipping("ticket answers", ask)

    # --- fiscal notes and enablings ---------------------------------------------------------------
    async def fiscal_notes_issued_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberFiscalNote]:
        async def ask() -> FeedPage[SubscriberFiscalNote]:
            owners = self._owners(watched)
            rows, next_cursor = await self._rows(
                "vd_saida",
                _between("vd_saida.data_emissao", start, end),
                cursor,
            )
            found = []
            for subscriber, row in _owned(rows, owners):
                note = mapping.fiscal_note(row)
                if start <= note.issued_on <= end:
                    found.append(SubscriberFiscalNote(subscriber, note))
            return FeedPage(found, next_cursor)

        return await self._skipping("fiscal notes", ask)

    async def enablings_ending_on(
        self, day: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[EnablingEnding]:
        async def ask() -> FeedPage[EnablingEnding]:
            owners = self._owners(watched)
            rows, next_cursor = await self._rows(
                "cliente_contrato",
                [Filter("cliente_contrato.desbloqueio_confianca_ativo", "=", "S")],
                cursor,
            )
            found = []
            for subscriber, row in _owned(rows, owners):
                _, until = mapping.contract_status(row, self._view._enabling_days)
                if until == day:
                    contract_id = row.ident("id")
                    found.append(EnablingEnding(subscriber, contract_id, contract_id, day))
            return FeedPage(found, next_cursor)

        return await self._skipping("enablings ending", ask)

    async def unlink_device(self, contact_id: str, device_id: str) -> None:
        raise NotSupported("unlink_device")  # IXC's webservice has no chat links on contacts


def _between(column: str, start: date, end: date) -> list[Filter]:
    """``column`` from ``start`` to ``end``, both days included."""
    return [Filter(column, ">=", start.isoformat()), Filter(column, "<=", end.isoformat())]


def _owned(rows: list[Record], owners: dict[str, str]) -> Iterator[tuple[str, Record]]:
    """The rows of watched clientes (``id_cliente``), each with the bot's subscriber id."""
    for row in rows:
        owner = row.opt_ident("id_cliente")
        if owner in owners:
            yield owners[owner], row


def _refused_table(refused: Exception, question: str) -> str:
    return refused.resource if isinstance(refused, NotPermitted) else question


def _warn_refused(refused: Exception, question: str) -> None:
    logger.warning(
        "IXC: the webservice user may not read %s: %s is skipped",
        _refused_table(refused, question),
        question,
    )


def _before(row_id: str) -> str:
    """The cursor that asks again from ``row_id`` on (ids are numbers in IXC)."""
    return str(int(row_id) - 1) if row_id.isdigit() else row_id
