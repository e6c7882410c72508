"""Feed questions asked one watched subscriber at a time (a system without a global listing for
them), and broadcast audiences computed from the subscriber's own account data.

Watched subscribers are taken in the order of their subscriber id, a few per page; the cursor is
the last subscriber id looked at (never the reference, which may be a CPF/CNPJ), so a page asked
again after a crash resumes after the same subscriber even if links were added meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from backend_client.kit.pacing import RequestPacer
from backend_client.models import BackendSession, InvoiceStatus
from backend_client.provider import (
    AudienceFilter,
    AudienceOptions,
    ContractProfile,
    FeedPage,
    SubscriberProfile,
    Watched,
    every_page,
    matching_contracts,
    options_of,
)

T = TypeVar("T")

SUBSCRIBERS_PER_PAGE = 10
PROFILE_TTL = 300.0  # seconds a subscriber's audience profile is reused (count, then send)


def chunk(
    watched: Iterable[Watched], cursor: str | None, size: int = SUBSCRIBERS_PER_PAGE
) -> tuple[list[Watched], bool]:
    """The next ``size`` watched subscribers after ``cursor``, and whether more follow."""
    people = sorted({w.subscriber_id: w for w in watched}.values(), key=lambda w: w.subscriber_id)
    if cursor is not None:
        people = [w for w in people if w.subscriber_id > cursor]
    return people[:size], len(people) > size


async def page_per_subscriber(
    watched: Sequence[Watched],
    cursor: str | None,
    ask: Callable[[Watched], Awaitable[list[T]]],
    size: int = SUBSCRIBERS_PER_PAGE,
    pacer: RequestPacer | None = None,
) -> FeedPage[T]:
    """Up to ``size`` subscribers' answers; fewer when ``pacer``'s allowance for one page is
    spent (at least one subscriber per page, so every page moves on)."""
    taken, more = chunk(watched, cursor, size)
    allowance = pacer.allowance() if pacer is not None else 0
    started = pacer.requests if pacer is not None else 0
    items: list[T] = []
    for done, person in enumerate(taken, start=1):
        items += await ask(person)
        if pacer is not None and pacer.requests - started >= allowance and done < len(taken):
            return FeedPage(items, person.subscriber_id)
    return FeedPage(items, taken[-1].subscriber_id if more and taken else None)


class Audiences:
    """Audience pages and options over the watched subscribers, from ``backend``'s
    ``get_subscriber`` and open invoices under a session ``session_for(watched)`` gives."""

    def __init__(
        self,
        backend: Any,
        session_for: Callable[[Watched], BackendSession],
        *,
        size: int = SUBSCRIBERS_PER_PAGE,
        pacer: RequestPacer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pacer = pacer
        self._backend = backend
        self._session_for = session_for
        self._size = size
        self._clock = clock
        self._profiles: dict[str, tuple[float, tuple[ContractProfile, ...]]] = {}

    async def profile(self, person: Watched) -> tuple[ContractProfile, ...]:
        cached = self._profiles.get(person.subscriber_id)
        if cached is not None and self._clock() - cached[0] < PROFILE_TTL:
            return cached[1]
        session = self._session_for(person)
        subscriber = await self._backend.get_subscriber(session)
        today = self._backend._today()
        open_ = await self._backend.list_invoices(session, statuses=frozenset({InvoiceStatus.OPEN}))
        overdue = {invoice.contract_id for invoice in open_ if invoice.due_date < today}
        contracts = tuple(
            ContractProfile(
                contract_id=contract.id,
                city=contract.address.city,
                neighbourhood=contract.address.neighbourhood,
                plan_id=contract.plan.id,
                plan_name=contract.plan.name,
                status=contract.status.value,
                overdue=contract.id in overdue,
            )
            for contract in subscriber.contracts
        )
        self._profiles[person.subscriber_id] = (self._clock(), contracts)
        return contracts

    async def page(
        self, segment: AudienceFilter, watched: Sequence[Watched], cursor: str | None
    ) -> FeedPage[SubscriberProfile]:
        people = watched
        if segment.subscriber_ids:
            people = [w for w in watched if w.subscriber_id in segment.subscriber_ids]

        async def ask(person: Watched) -> list[SubscriberProfile]:
            chosen = matching_contracts(segment, await self.profile(person))
            return [SubscriberProfile(person.subscriber_id, chosen)] if chosen else []

        return await page_per_subscriber(people, cursor, ask, self._size, self._pacer)

    async def options(self, watched: Sequence[Watched]) -> AudienceOptions:
        """The places and plans of the watched subscribers' contracts."""
        profiles = await every_page(lambda c: self.page(AudienceFilter(), watched, c))
        return options_of(c for profile in profiles for c in profile.contracts)
