"""What to notify, to whom and when — no Telegram here (delivery is in handlers/notifications).

The detector turns the provider's facts (``ProviderFeed``) into notifications with natural keys;
the planner fans them out to the linked chats that want them, deferring what falls in quiet hours,
and stores them in the outbox (``NotificationStore``), which refuses a key it already has.
Polling and the push endpoint both end in :meth:`NotificationPlanner.plan`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from backend_client.provider import (
    EnablingEnding,
    ProviderFeed,
    SubscriberFiscalNote,
    SubscriberInvoice,
    TicketEvent,
    TicketEventKind,
    Watched,
    every_page,
)
from bot.storage.notifications import ChatLink, NotificationStore, Outgoing
from bot.ui.formatting import TIMEZONE, local_time

logger = logging.getLogger(__name__)

# kind → the preference group a chat can mute
GROUP_OF_KIND = {
    "invoice_due_soon": "invoices",
    "invoice_due_today": "invoices",
    "invoice_overdue": "invoices",
    "payment_confirmed": "payments",
    "enabling_ending": "enabling",
    "ticket_answered": "tickets",
    "ticket_closed": "tickets",
    "fiscal_note": "fiscal_notes",
}
EVENT_WINDOW_DAYS = 3  # how far back facts are looked for (covers a bot that was down a while)


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification for a subscriber (to be fanned out to their linked chats)."""

    key: str
    subscriber_id: str
    kind: str
    payload: dict[str, Any]
    happened_at: datetime | None = None  # facts older than a chat's link are not sent to it


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time = time(21, 0)
    end: time = time(8, 0)

    def next_allowed(self, now: datetime) -> datetime:
        """``now`` outside quiet hours, else the end of the quiet period (local time)."""
        local = local_time(now)
        clock = local.time()
        overnight = self.start > self.end
        quiet = (
            (clock >= self.start or clock < self.end)
            if overnight
            else self.start <= clock < self.end
        )
        if not quiet:
            return now
        end_day = (
            local.date() + timedelta(days=1) if overnight and clock >= self.start else local.date()
        )
        return datetime.combine(end_day, self.end, tzinfo=TIMEZONE)

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """``21:00-08:00``; ValueError otherwise."""
        start, _, end = text.partition("-")
        return cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))


# --- notices from facts --------------------------------------------------------------------------
def _invoice_payload(item: SubscriberInvoice, days: int = 0) -> dict[str, Any]:
    invoice = item.invoice
    return {
        "invoice_id": invoice.id,
        "reference": invoice.reference,
        "contract_number": item.contract_number,
        "due_date": invoice.due_date.isoformat(),
        "amount": str(invoice.amount),
        "updated_amount": str(invoice.updated_amount),
        "linha": invoice.linha_digitavel,
        "pix": invoice.pix_code,
        "days": days,
    }


def invoice_notices(
    items: Iterable[SubscriberInvoice], today: date, days_before: int
) -> list[Notice]:
    notices = []
    for item in items:
        due = item.invoice.due_date
        offset = (due - today).days
        if 1 <= offset <= days_before:
            kind, tag, days = "invoice_due_soon", "due_soon", offset
        elif offset == 0:
            kind, tag, days = "invoice_due_today", "due_today", 0
        elif -4 <= offset <= -1:
            kind, tag, days = "invoice_overdue", "overdue_1", -offset
        elif -10 <= offset <= -5:
            kind, tag, days = "invoice_overdue", "overdue_5", -offset
        else:
            continue
        notices.append(
            Notice(
                key=f"invoice:{item.invoice.id}:{tag}:{due.isoformat()}",
                subscriber_id=item.subscriber_id,
                kind=kind,
                payload=_invoice_payload(item, days),
            )
        )
    return notices


def payment_notice(item: SubscriberInvoice) -> Notice:
    invoice = item.invoice
    paid_on = invoice.paid_on or invoice.due_date
    return Notice(
        key=f"payment:{invoice.id}",
        subscriber_id=item.subscriber_id,
        kind="payment_confirmed",
        payload={
            "invoice_id": invoice.id,
            "reference": invoice.reference,
            "paid_on": paid_on.isoformat(),
            "paid_amount": str(invoice.paid_amount or invoice.amount),
        },
        happened_at=datetime.combine(paid_on, time(23, 59), tzinfo=TIMEZONE),
    )


def ticket_notice(event: TicketEvent) -> Notice:
    kind = "ticket_closed" if event.kind is TicketEventKind.CLOSED else "ticket_answered"
    return Notice(
        key=f"ticket:{event.ticket_id}:{event.event_id}:{event.kind.value}",
        subscriber_id=event.subscriber_id,
        kind=kind,
        payload={
            "ticket_id": event.ticket_id,
            "protocol": event.protocol,
            "subject": event.subject,
            "text": event.text,
        },
        happened_at=event.at,
    )


def fiscal_note_notice(item: SubscriberFiscalNote) -> Notice:
    note = item.note
    return Notice(
        key=f"note:{note.id}",
        subscriber_id=item.subscriber_id,
        kind="fiscal_note",
        payload={
            "note_id": note.id,
            "number": note.number,
            "model": note.model,
            "issued_on": note.issued_on.isoformat(),
            "amount": str(note.amount),
        },
        happened_at=datetime.combine(note.issued_on, time(23, 59), tzinfo=TIMEZONE),
    )


def enabling_notice(item: EnablingEnding) -> Notice:
    return Notice(
        key=f"enabling:{item.contract_id}:{item.enabled_until.isoformat()}",
        subscriber_id=item.subscriber_id,
        kind="enabling_ending",
        payload={"contract_number": item.contract_number, "until": item.enabled_until.isoformat()},
    )


class NotificationDetector:
    """Asks the provider what happened and what is due, as notices."""

    def __init__(self, feed: ProviderFeed, days_before_due: int = 3) -> None:
        self._feed = feed
        self._days_before_due = days_before_due

    async def detect(self, now: datetime, watched: Sequence[Watched] = ()) -> list[Notice]:
        """Every page of every question (``watched``: the subscribers with a linked chat)."""
        feed = self._feed
        today = local_time(now).date()
        window_start = today - timedelta(days=EVENT_WINDOW_DAYS)
        due_from, due_to = today - timedelta(days=10), today + timedelta(days=self._days_before_due)
        due = await every_page(
            lambda c: feed.open_invoices_due_between(due_from, due_to, watched=watched, cursor=c)
        )
        notices = invoice_notices(due, today, self._days_before_due)
        paid = await every_page(
            lambda c: feed.payments_between(window_start, today, watched=watched, cursor=c)
        )
        notices += [payment_notice(p) for p in paid]
        since = now - timedelta(days=EVENT_WINDOW_DAYS)
        events = await every_page(
            lambda c: feed.ticket_events_since(since, watched=watched, cursor=c)
        )
        notices += [ticket_notice(e) for e in events]
        notes = await every_page(
            lambda c: feed.fiscal_notes_issued_between(
                window_start, today, watched=watched, cursor=c
            )
        )
        notices += [fiscal_note_notice(n) for n in notes]
        tomorrow = today + timedelta(days=1)
        ending = await every_page(
            lambda c: feed.enablings_ending_on(tomorrow, watched=watched, cursor=c)
        )
        notices += [enabling_notice(e) for e in ending]
        return notices


class NotificationPlanner:
    """Fans notices out to linked chats and stores them in the outbox, once."""

    def __init__(self, store: NotificationStore, quiet_hours: QuietHours) -> None:
        self._store = store
        self._quiet_hours = quiet_hours

    async def plan(self, notices: Iterable[Notice], now: datetime) -> int:
        links = await self._store.active_links()
        send_after = self._quiet_hours.next_allowed(now)
        outgoing = [
            Outgoing(notice.key, link.chat_id, notice.kind, notice.payload, send_after)
            for notice in notices
            for link in links.get(notice.subscriber_id, ())
            if self._wants(link, notice)
        ]
        added = await self._store.enqueue(outgoing, now)
        if added:
            logger.info("%d notification(s) enqueued", added)
        return added

    @staticmethod
    def _wants(link: ChatLink, notice: Notice) -> bool:
        if GROUP_OF_KIND[notice.kind] in link.muted:
            return False
        # A fact from before the chat was linked is old news for that chat.
        return notice.happened_at is None or notice.happened_at >= link.linked_at
