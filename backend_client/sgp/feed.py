"""SGP's :class:`~backend_client.provider.ProviderFeed`, with the integration's token and app.

- **Titles** come from the URA's global listing ``POST /api/ura/titulos/`` (SGP's published
  collection, "URA › Fatura – Listar": ``offset``, ``limit``, ``cpfcnpj``, ``status``,
  ``data_vencimento_inicio``/``_fim``, ``data_pagamento_inicio``/``_fim`` …; public integrations
  call it with ``token``/``app`` and read ``paginacao.total`` and ``titulos[]`` items
  ``{id, clienteContrato, clienteCpfcnpj, status, valor, dataVencimento, dataPagamento,
  linhaDigitavel, codigoPix}``). The cursor is the offset; only the watched subscribers' titles
  (by ``clienteCpfcnpj``) are kept. Open invoices are asked by due-date window and their status
  read from each item, so a title paid between two pages does not shift the offsets.
- **Tickets and fiscal notes** have no global listing the bot can read: they are asked per watched
  subscriber, through the Central endpoints with ``token``/``app`` and the subscriber's
  ``cpfcnpj`` instead of their password (the collection documents ``app``/``token`` on the
  Central's note listings), reading them exactly as the subscriber's own screens do.
- **Audiences** likewise, from ``contratos``/``consultacliente`` and the open titles.
- **Enablings ending**: SGP says for how many days a promise of payment enables a contract
  (``liberado_dias``) but no listing gives when one ends, so that question is skipped with one
  warning; a provider can push the notice (``/events/backend``).

Every request goes through the feed's pacer over the backend's pooled client.
"""

from __future__ import annotations

import copy
import logging
import types
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from backend_client.errors import NotPermitted, NotSupported, SessionExpired
from backend_client.formats.documents import strip_document
from backend_client.kit.feed import AccountAudiences, Skipping, ticket_answers
from backend_client.kit.pacing import DEFAULT_RATE, PacedTransport, RequestPacer
from backend_client.kit.per_subscriber import Audiences, page_per_subscriber
from backend_client.kit.shape import Record, warn_once
from backend_client.kit.transport import HttpResponse
from backend_client.kit.vault import VaultEntry
from backend_client.models import (
    BackendSession,
    DateRange,
    InvoiceStatus,
)
from backend_client.provider import (
    EnablingEnding,
    FeedPage,
    SubscriberFiscalNote,
    SubscriberInvoice,
    TicketEvent,
    Watched,
)
from backend_client.sgp import mapping
from backend_client.sgp.backend import SgpBackend
from backend_client.sgp.mapping import SYSTEM

logger = logging.getLogger(__name__)

TITLES = "/api/ura/titulos/"
PAGE_SIZE = 100  # titles per request


class SgpFeed(AccountAudiences):
    def __init__(
        self,
        backend: SgpBackend,
        *,
        requests_per_second: float = DEFAULT_RATE,
        pacer: RequestPacer | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.pacer = pacer or RequestPacer(requests_per_second, system=SYSTEM)
        self.page_size = page_size
        paced: Any = PacedTransport(backend._transport, self.pacer)
        # The backend's own reading and mapping, its requests paced and its Central calls made
        # with the integration's token instead of a subscriber's password.
        view = copy.copy(backend)
        view._transport = paced
        view._central = types.MethodType(_central_as_integration, view)  # type: ignore[method-assign]
        view._entry = types.MethodType(_entry_of_session, view)  # type: ignore[method-assign]
        self._view = view
        # What the token may not use: those questions are skipped, one WARNING each.
        self._skipping = Skipping(
            (NotPermitted, SessionExpired), key=lambda _, question: question, warn=_warn_refused
        )
        self._audiences = Audiences(view, _session, pacer=self.pacer)

    def __repr__(self) -> str:
        return f"SgpFeed({self._view!r})"

    async def check(self) -> list[str]:
        """What ``backend check`` should say about this feed (empty: every question works)."""
        lines = ["end-of-enabling warnings: SGP does not say when a temporary enabling ends"]
        try:
            await self._view._ura_json(TITLES, "feed", "titulos", offset=0, limit=1)
        except NotPermitted:
            lines.append(
                "invoice reminders and payment confirmations: the token may not use the URA "
                f"({TITLES})"
            )
        return lines

    # --- titles (global listing) ----------------------------------------------------------------
    async def _titles(
        self, fields: dict[str, str], watched: Sequence[Watched], cursor: str | None
    ) -> tuple[list[tuple[str, Record]], str | None]:
        """One page of URA titles: (subscriber id, title) of the watched, and the next cursor."""
        offset = int(cursor or 0)
        answer = await self._view._ura_json(
            TITLES,
            "feed",
            "titulos",
            offset=offset,
            limit=self.page_size,
            **fields,
        )
        items = answer.opt_records("titulos")
        owners = {strip_document(w.reference): w.subscriber_id for w in watched}
        found = []
        for item in items:
            document = item.shown(item.opt_text, "clienteCpfcnpj|cpfCnpj|cpfcnpj")
            if document is None:
                warn_once(SYSTEM, "titulos.clienteCpfcnpj", "is missing: the title is skipped")
                continue
            owner = owners.get(strip_document(document))
            if owner is not None:
                found.append((owner, item))
        total = answer.shown(answer.opt_record, "paginacao")
        known_total = total.shown(total.opt_integer, "total") if total is not None else None
        end = offset + len(items)
        more = len(items) >= self.page_size if known_total is None else end < known_total
        return found, (str(end) if more and items else None)

    async def open_invoices_due_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberInvoice]:
        async def ask() -> FeedPage[SubscriberInvoice]:
            window = {
                "data_vencimento_inicio": start.isoformat(),
                "data_vencimento_fim": end.isoformat(),
            }
            titles, next_cursor = await self._titles(window, watched, cursor)
            found = []
            for owner, item in titles:
                contract_id = item.ident("clienteContrato|contrato")
                invoice = mapping.invoice(item, contract_id)
                if invoice.status is InvoiceStatus.OPEN and start <= invoice.due_date <= end:
                    found.append(SubscriberInvoice(owner, contract_id, invoice))
            return FeedPage(found, next_cursor)

        return await self._skipping("open invoices", ask)

    async def payments_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberInvoice]:
        async def ask() -> FeedPage[SubscriberInvoice]:
            window = {
                "data_pagamento_inicio": start.isoformat(),
                "data_pagamento_fim": end.isoformat(),
            }
            titles, next_cursor = await self._titles(window, watched, cursor)
            found = []
            for owner, item in titles:
                contract_id = item.ident("clienteContrato|contrato")
                invoice = mapping.invoice(item, contract_id)
                paid = invoice.paid_on
                if invoice.status is InvoiceStatus.PAID and paid and start <= paid <= end:
                    found.append(SubscriberInvoice(owner, contract_id, invoice))
            return FeedPage(found, next_cursor)

        return await self._skipping("payments", ask)

    # --- per watched subscriber ------------------------------------------------------------------
    async def ticket_events_since(
        self, since: datetime, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[TicketEvent]:
        async def of(person: Watched) -> list[TicketEvent]:
            entry = _entry(person)
            events: list[TicketEvent] = []
            for record, contract_id in await self._view._chamados(entry):
                ticket = mapping.ticket(record, contract_id, full=True)
                if ticket.updated_at > since:
                    events += ticket_answers(
                        ticket,
                        person.subscriber_id,
                        since,
                        event_id=lambda m, t=ticket: f"{t.id}:{m.id}",
                    )
            return events

        return await self._skipping(
            "ticket answers",
            lambda: page_per_subscriber(watched, cursor, of, pacer=self.pacer),
        )

    async def fiscal_notes_issued_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberFiscalNote]:
        period = DateRange(start, end)

        async def of(person: Watched) -> list[SubscriberFiscalNote]:
            notes = await self._view.list_fiscal_notes(_session(person), period)
            return [SubscriberFiscalNote(person.subscriber_id, note) for note in notes]

        return await self._skipping(
            "fiscal notes", lambda: page_per_subscriber(watched, cursor, of, pacer=self.pacer)
        )

    async def enablings_ending_on(
        self, day: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[EnablingEnding]:
        warn_once(SYSTEM, "enablings ending", "no SGP listing says when an enabling ends")
        return FeedPage([], None)

    async def unlink_device(self, contact_id: str, device_id: str) -> None:
        raise NotSupported("unlink_device")  # SGP keeps no chat links on contacts


def _warn_refused(refused: Exception, question: str) -> None:
    logger.warning(
        "SGP: the integration token may not read what %s needs (%s): skipped",
        question,
        type(refused).__name__,
    )


def _entry(person: Watched) -> VaultEntry:
    """The feed's stand-in for a subscriber's vault entry: their document, no password."""
    return VaultEntry(person.subscriber_id, strip_document(person.reference), "")


def _session(person: Watched) -> BackendSession:
    # Never leaves the feed: its token names no vault entry (see _entry_of_session).
    return BackendSession(
        subscriber_id=person.subscriber_id,
        document=strip_document(person.reference),
        name="",
        token="",
    )


def _entry_of_session(self: SgpBackend, session: BackendSession) -> VaultEntry:
    return VaultEntry(session.subscriber_id, session.document, "")


async def _central_as_integration(
    self: SgpBackend, path: str, entry: VaultEntry, *, read: bool, **fields: Any
) -> HttpResponse:
    """A Central call with the integration's ``token``/``app`` and the subscriber's
    ``cpfcnpj`` (no password); a refusal is NotPermitted, not an expired session."""
    form = {"token": self._token, "app": self._app, "cpfcnpj": entry.document}
    form.update({k: str(v) for k, v in fields.items() if v is not None})
    response = await self._transport.request("POST", path, read=read, data=form)
    if response.status in (401, 403):
        raise NotPermitted("feed", path)
    return response
