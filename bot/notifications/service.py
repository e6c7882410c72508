"""What to notify, to whom and when — no Telegram here (delivery: ``bot.notifications.jobs``).

The detector turns the provider's facts (``ProviderFeed``, asked page by page about the watched
subscribers, in resumable rounds) into notifications with natural keys;
the planner fans them out to the linked chats that want them, deferring what falls in quiet hours,
and stores them in the outbox (``NotificationStore``), which refuses a key it already has.
Polling and the push endpoint both end in :meth:`NotificationPlanner.plan`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol, TypeVar

from backend_client.errors import BackendError
from backend_client.models import Invoice
from backend_client.provider import (
    EnablingEnding,
    FeedPage,
    ProviderFeed,
    SubscriberFiscalNote,
    SubscriberInvoice,
    TicketEvent,
    TicketEventKind,
    Watched,
    every_page,
)
from bot.notifications.store import NotificationStore, Outgoing
from bot.storage.rounds import MemoryRounds, RoundPosition
from bot.ui.formatting import TIMEZONE, local_time

logger = logging.getLogger(__name__)
T = TypeVar("T")

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
# A reminder mentions the subscriber's other overdue invoices due this far back (issue 21).
OVERDUE_WINDOW_DAYS = 365


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


QUESTIONS = ("invoices_due", "payments", "ticket_events", "fiscal_notes", "enablings_ending")
ROUND = "notifications"  # the polling round's name in the round store
PLAN_CHUNK = 1000  # notices fanned out between two turns of the event loop
MAX_BACKOFF = timedelta(hours=1)


class WatchedSource(Protocol):
    async def watched(self) -> Sequence[Watched]: ...


class RoundPositions(Protocol):
    async def get(self, name: str) -> RoundPosition | None: ...
    async def save(self, name: str, position: RoundPosition, now: datetime) -> None: ...
    async def finish(self, name: str) -> None: ...


@dataclass
class RoundReport:
    added: int = 0  # outbox rows enqueued
    pages: int = 0  # feed pages asked
    finished: bool = False  # every question answered (else it resumes at the next poll)
    resumed: bool = False  # continued a round a previous run (or an error) left


class NotificationDetector:
    """Asks the provider what happened and what is due, page by page, as notices.

    A polling *round* asks the questions of :data:`QUESTIONS` in turn, each page after page,
    about the watched subscribers (those with a linked chat: :meth:`NotificationStore.watched`).
    The notices of each page go to the outbox (``plan``) before the round's position (question,
    the feed's cursor) is saved, so a crash or a provider error repeats at most one page — whose
    notices the outbox's natural keys refuse — and the next poll (or the restarted bot)
    continues the round where it stopped, with the windows of the round's start. The event loop
    runs between pages and between chunks of notices, so subscribers chatting meanwhile are
    answered. A round still running makes a poll do nothing; one stopped by an error is resumed
    only after a back-off that doubles with each failure in a row (up to an hour).
    """

    def __init__(
        self,
        feed: ProviderFeed,
        days_before_due: int = 3,
        *,
        watched: WatchedSource | None = None,
        rounds: RoundPositions | None = None,
    ) -> None:
        self._feed = feed
        self._days_before_due = days_before_due
        self._watched = watched
        self._rounds: RoundPositions = rounds if rounds is not None else MemoryRounds()
        self._running = False
        self._failures = 0
        self._resume_after: datetime | None = None
        self._overdue: tuple[datetime, dict[str, list[Invoice]]] | None = None

    @property
    def running(self) -> bool:
        return self._running

    async def poll(
        self, now: datetime, plan: Callable[[list[Notice], datetime], Awaitable[int]]
    ) -> RoundReport:
        """Run (or continue) the polling round; ``plan`` stores a page's notices. A provider
        error ends this call (logged, never raised): the round continues at a later poll."""
        if self._running:
            return RoundReport()
        if self._resume_after is not None and now < self._resume_after:
            return RoundReport()
        self._running = True
        report = RoundReport()
        try:
            await self._round(now, plan, report)
        except BackendError as error:
            self._failures += 1
            wait = min(timedelta(minutes=2) * 2 ** (self._failures - 1), MAX_BACKOFF)
            self._resume_after = now + wait
            logger.warning(
                "notification round paused: the provider's system failed (%s); it continues "
                "where it stopped in %d s",
                error,
                wait.total_seconds(),
            )
            return report  # what the pages before the error added
        finally:
            self._running = False
        self._failures, self._resume_after = 0, None
        return report

    async def _round(
        self,
        now: datetime,
        plan: Callable[[list[Notice], datetime], Awaitable[int]],
        report: RoundReport,
    ) -> None:
        position = await self._rounds.get(ROUND)
        if (
            position is not None
            and local_time(position.started_at).date() == local_time(now).date()
        ):
            report.resumed = True
        else:  # none, or one of another day (its windows are stale): a new round
            position = RoundPosition(now, 0, None)
            await self._rounds.save(ROUND, position, now)
        started, step, cursor = position.started_at, position.step, position.cursor
        watched: Sequence[Watched] = await self._watched.watched() if self._watched else []
        while step < len(QUESTIONS):
            page = await self._ask(QUESTIONS[step], started, watched, cursor)
            report.pages += 1
            notices = await self._notices(QUESTIONS[step], page.items, started)
            if QUESTIONS[step] == "invoices_due" and notices:
                await self._mention_other_overdue(notices, started, watched)
            report.added += await plan(notices, now)
            if page.cursor is None:
                step, cursor = step + 1, None
            elif page.cursor == cursor:  # a feed that does not advance would loop forever
                logger.warning("feed question %s repeated its cursor; moving on", QUESTIONS[step])
                step, cursor = step + 1, None
            else:
                cursor = page.cursor
            await self._rounds.save(ROUND, RoundPosition(started, step, cursor), now)
            await asyncio.sleep(0)
        await self._rounds.finish(ROUND)
        report.finished = True

    async def _mention_other_overdue(
        self, notices: list[Notice], started: datetime, watched: Sequence[Watched]
    ) -> None:
        """A reminder says how many *other* invoices of the subscriber are overdue and their
        total (a suspended subscriber is reconnected only when all are paid). The overdue open
        invoices are asked once per round, the first time a page has reminders (kept while the
        round runs; a resumed round asks again), so a round costs one more listing at most."""
        overdue = await self._overdue_of_round(started, watched)
        for notice in notices:
            others = [
                invoice
                for invoice in overdue.get(notice.subscriber_id, ())
                if invoice.id != notice.payload["invoice_id"]
            ]
            if others:
                notice.payload["others"] = {
                    "count": len(others),
                    "total": str(sum(invoice.updated_amount for invoice in others)),
                }

    async def _overdue_of_round(
        self, started: datetime, watched: Sequence[Watched]
    ) -> dict[str, list[Invoice]]:
        if self._overdue is not None and self._overdue[0] == started:
            return self._overdue[1]
        today = local_time(started).date()
        found = await every_page(
            lambda cursor: self._feed.open_invoices_due_between(
                today - timedelta(days=OVERDUE_WINDOW_DAYS),
                today - timedelta(days=1),
                watched=watched,
                cursor=cursor,
            )
        )
        by_subscriber: dict[str, list[Invoice]] = {}
        for item in found:
            by_subscriber.setdefault(item.subscriber_id, []).append(item.invoice)
        self._overdue = (started, by_subscriber)
        return by_subscriber

    async def _ask(
        self, question: str, started: datetime, watched: Sequence[Watched], cursor: str | None
    ) -> FeedPage[Any]:
        feed = self._feed
        today = local_time(started).date()
        window_start = today - timedelta(days=EVENT_WINDOW_DAYS)
        if question == "invoices_due":
            due_from = today - timedelta(days=10)
            due_to = today + timedelta(days=self._days_before_due)
            return await feed.open_invoices_due_between(
                due_from, due_to, watched=watched, cursor=cursor
            )
        if question == "payments":
            return await feed.payments_between(window_start, today, watched=watched, cursor=cursor)
        if question == "ticket_events":
            since = started - timedelta(days=EVENT_WINDOW_DAYS)
            return await feed.ticket_events_since(since, watched=watched, cursor=cursor)
        if question == "fiscal_notes":
            return await feed.fiscal_notes_issued_between(
                window_start, today, watched=watched, cursor=cursor
            )
        tomorrow = today + timedelta(days=1)
        return await feed.enablings_ending_on(tomorrow, watched=watched, cursor=cursor)

    async def _notices(self, question: str, items: list[Any], started: datetime) -> list[Notice]:
        if question == "invoices_due":
            today = local_time(started).date()
            return invoice_notices(items, today, self._days_before_due)
        make: Callable[[Any], Notice] = {
            "payments": payment_notice,
            "ticket_events": ticket_notice,
            "fiscal_notes": fiscal_note_notice,
            "enablings_ending": enabling_notice,
        }[question]
        notices = []
        for index, item in enumerate(items):
            notices.append(make(item))
            if index % PLAN_CHUNK == PLAN_CHUNK - 1:
                await asyncio.sleep(0)
        return notices

    async def detect(self, now: datetime) -> list[Notice]:
        """Every notice of a whole round at once, without saving a position (tools, tests)."""
        found: list[Notice] = []

        async def keep(notices: list[Notice], _: datetime) -> int:
            found.extend(notices)
            return 0

        detector = NotificationDetector(self._feed, self._days_before_due, watched=self._watched)
        await detector._round(now, keep, RoundReport())
        return found


async def every_watched_page(
    ask: Callable[[Sequence[Watched], str | None], Awaitable[FeedPage[T]]],
    watched: WatchedSource,
) -> list[T]:
    """All the items of a paged feed question about the watched subscribers, letting the event
    loop run between pages — for broadcasts' audiences::

        profiles = await every_watched_page(
            lambda w, c: feed.audience(segment, watched=w, cursor=c), store
        )
    """
    subscribers = await watched.watched()
    items: list[T] = []
    cursor: str | None = None
    while True:
        page = await ask(subscribers, cursor)
        items += page.items
        if page.cursor is None or page.cursor == cursor:
            return items
        cursor = page.cursor
        await asyncio.sleep(0)


class NotificationPlanner:
    """Fans notices out to linked chats and stores them in the outbox, once."""

    def __init__(self, store: NotificationStore, quiet_hours: QuietHours) -> None:
        self._store = store
        self.quiet_hours = quiet_hours  # also what the satisfaction survey waits for

    async def plan(self, notices: Iterable[Notice], now: datetime) -> int:
        links = await self._store.link_index()
        send_after = self.quiet_hours.next_allowed(now)
        outgoing = []
        for index, notice in enumerate(notices):
            group = GROUP_OF_KIND[notice.kind]
            for chat_id, linked_at, muted in links.get(notice.subscriber_id, ()):
                # A fact from before the chat was linked is old news for that chat.
                old = notice.happened_at is not None and notice.happened_at < linked_at
                if group not in muted and not old:
                    outgoing.append(
                        Outgoing(notice.key, chat_id, notice.kind, notice.payload, send_after)
                    )
            if index % PLAN_CHUNK == PLAN_CHUNK - 1:
                await asyncio.sleep(0)
        added = await self._store.enqueue(outgoing, now)
        if added:
            logger.info("%d notification(s) enqueued", added)
        return added
