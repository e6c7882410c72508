"""What the SGP and IXC feeds (:class:`~backend_client.provider.ProviderFeed`) share: a question
skipped, with one warning, when the system refuses what it needs, and a ticket's answers from the
provider as notice events; broadcast audiences read from the watched subscribers' accounts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from backend_client.kit.per_subscriber import Audiences
from backend_client.models import Ticket, TicketAuthor, TicketMessage, TicketStatus
from backend_client.provider import (
    AudienceFilter,
    AudienceOptions,
    FeedPage,
    SubscriberProfile,
    TicketEvent,
    TicketEventKind,
    Watched,
)

T = TypeVar("T")


class Skipping:
    """Ask a feed question, or answer it with nothing (an empty last page) when the system
    refuses one of ``refused``; ``warn(error)`` is called once per ``key(error)`` (the refused
    table, or the question), so a refusal is logged once, not at every poll."""

    def __init__(
        self,
        refused: tuple[type[Exception], ...],
        *,
        key: Callable[[Exception, str], str],
        warn: Callable[[Exception, str], None],
    ) -> None:
        self._refused = refused
        self._key = key
        self._warn = warn
        self._warned: set[str] = set()

    async def __call__(
        self, question: str, ask: Callable[[], Awaitable[FeedPage[T]]]
    ) -> FeedPage[T]:
        try:
            return await ask()
        except self._refused as error:
            key = self._key(error, question)
            if key not in self._warned:
                self._warned.add(key)
                self._warn(error, question)
            return FeedPage([], None)


def ticket_answers(
    ticket: Ticket,
    subscriber_id: str,
    since: datetime,
    *,
    event_id: Callable[[TicketMessage], str] = lambda message: message.id,
    keep: Callable[[TicketMessage], bool] = lambda message: True,
) -> list[TicketEvent]:
    """The provider's messages on ``ticket`` sent after ``since`` (and ``keep``-ing), as events:
    the last provider message of a closed ticket is its closing, the others answers."""
    provider = [m for m in ticket.messages if m.author is TicketAuthor.PROVIDER]
    closing = provider[-1].id if provider and ticket.status is TicketStatus.CLOSED else None
    return [
        TicketEvent(
            subscriber_id=subscriber_id,
            ticket_id=ticket.id,
            protocol=ticket.protocol,
            subject=ticket.subject,
            kind=TicketEventKind.CLOSED if message.id == closing else TicketEventKind.ANSWERED,
            event_id=event_id(message),
            at=message.sent_at,
            text=message.text,
        )
        for message in provider
        if message.sent_at > since and keep(message)
    ]


class AccountAudiences:
    """A feed's broadcast audiences from its ``_audiences`` (the watched subscribers' own
    account data, a few per page), skipped by its ``_skipping`` when refused."""

    _audiences: Audiences
    _skipping: Skipping

    async def audience(
        self, segment: AudienceFilter, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberProfile]:
        """Over the watched subscribers, a few at a time, as their account screens read them."""
        return await self._skipping(
            "audiences", lambda: self._audiences.page(segment, watched, cursor)
        )

    async def audience_options(self, *, watched: Sequence[Watched]) -> AudienceOptions:
        return await self._audiences.options(watched)
