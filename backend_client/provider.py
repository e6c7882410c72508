"""What the bot asks the provider's system on its own behalf (not a subscriber's).

Notifications reach subscribers who are not logged in, so their source cannot be a subscriber
session: these queries run with the provider's integration credentials. Each returns *facts*
inside a window; the bot derives notifications from them and deduplicates by natural key, so
asking twice (an overlapping poll, a restart) never notifies twice.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, Protocol, TypeVar, runtime_checkable

from backend_client.models import ContractStatus, FiscalNote, Invoice

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SubscriberInvoice:
    subscriber_id: str
    contract_number: str
    invoice: Invoice


class TicketEventKind(enum.StrEnum):
    ANSWERED = "answered"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class TicketEvent:
    subscriber_id: str
    ticket_id: str
    protocol: str
    subject: str
    kind: TicketEventKind
    event_id: str  # unique per event (the message id for answers)
    at: datetime
    text: str = ""  # the provider's answer, for ANSWERED


@dataclass(frozen=True, slots=True)
class SubscriberFiscalNote:
    subscriber_id: str
    note: FiscalNote


@dataclass(frozen=True, slots=True)
class EnablingEnding:
    subscriber_id: str
    contract_id: str
    contract_number: str
    enabled_until: date


def fold(name: str) -> str:
    """A place or plan name compared ignoring case, accents and extra spaces."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


class AudienceStatus(enum.StrEnum):
    """Contract situations a broadcast can target."""

    ACTIVE = "active"  # in service (not suspended)
    SUSPENDED = "suspended"  # blocked for non-payment, temporary enabling included
    OVERDUE = "overdue"  # an open invoice past its due date, whatever the contract status


@dataclass(frozen=True, slots=True)
class AudienceFilter:
    """Who a provider broadcast is for. Segments combine with AND; the values inside one segment
    with OR (``plan_ids={"a", "b"}``: plan a or plan b). An empty segment does not restrict.

    Contract segments (places, plans, statuses, contract ids) must all hold for the *same*
    contract of the subscriber; cancelled contracts never match them. Places are the contracts'
    installation addresses: ``(city, None)`` is the whole city, ``(city, neighbourhood)`` one
    neighbourhood of it. Names are matched ignoring case and accents.
    """

    places: frozenset[tuple[str, str | None]] = frozenset()
    plan_ids: frozenset[str] = frozenset()
    statuses: frozenset[AudienceStatus] = frozenset()
    contract_ids: frozenset[str] = frozenset()
    subscriber_ids: frozenset[str] = frozenset()

    @property
    def by_contract(self) -> bool:
        return bool(self.places or self.plan_ids or self.statuses or self.contract_ids)


@dataclass(frozen=True, slots=True)
class ContractProfile:
    """What a broadcast segment looks at in one contract."""

    contract_id: str
    city: str
    neighbourhood: str
    plan_id: str
    plan_name: str
    status: str  # backend_client.models.ContractStatus value
    overdue: bool


@dataclass(frozen=True, slots=True)
class SubscriberProfile:
    """A subscriber in a broadcast audience, with the contracts that matched the filter (all of
    them when the filter has no contract segment)."""

    subscriber_id: str
    contracts: tuple[ContractProfile, ...]


@dataclass(frozen=True, slots=True)
class AudienceOptions:
    """The values broadcast segments can take: cities with their neighbourhoods, and plans."""

    places: tuple[tuple[str, tuple[str, ...]], ...]  # (city, neighbourhoods), sorted
    plans: tuple[tuple[str, str], ...]  # (plan id, name)


def matching_contracts(
    segment: AudienceFilter, contracts: Iterable[ContractProfile]
) -> tuple[ContractProfile, ...]:
    """The contracts of one subscriber that ``segment`` selects (all of them when it has no
    contract segment; cancelled ones never match a contract segment)."""
    if not segment.by_contract:
        return tuple(contracts)
    cities = {fold(city) for city, neighbourhood in segment.places if neighbourhood is None}
    pairs = {
        (fold(city), fold(neighbourhood))
        for city, neighbourhood in segment.places
        if neighbourhood is not None
    }
    found = []
    for contract in contracts:
        if contract.status == ContractStatus.CANCELLED.value:
            continue
        if segment.contract_ids and contract.contract_id not in segment.contract_ids:
            continue
        if segment.plan_ids and contract.plan_id not in segment.plan_ids:
            continue
        if segment.statuses and not any(in_status(contract, s) for s in segment.statuses):
            continue
        if segment.places:
            city = fold(contract.city)
            if city not in cities and (city, fold(contract.neighbourhood)) not in pairs:
                continue
        found.append(contract)
    return tuple(found)


def in_status(contract: ContractProfile, status: AudienceStatus) -> bool:
    if status is AudienceStatus.OVERDUE:
        return contract.overdue
    if status is AudienceStatus.SUSPENDED:
        return contract.status in (
            ContractStatus.SUSPENDED.value,
            ContractStatus.TEMPORARILY_ENABLED.value,
        )
    return contract.status == ContractStatus.ACTIVE.value


def options_of(contracts: Iterable[ContractProfile]) -> AudienceOptions:
    """The places and plans of ``contracts`` (cancelled ones left out), sorted as shown."""
    cities: dict[str, set[str]] = {}
    plans: dict[str, str] = {}
    for contract in contracts:
        if contract.status == ContractStatus.CANCELLED.value:
            continue
        if contract.city:
            cities.setdefault(contract.city, set()).add(contract.neighbourhood)
        if contract.plan_id:
            plans.setdefault(contract.plan_id, contract.plan_name or contract.plan_id)
    return AudienceOptions(
        places=tuple(
            (city, tuple(sorted((n for n in names if n), key=fold)))
            for city, names in sorted(cities.items(), key=lambda item: fold(item[0]))
        ),
        plans=tuple(sorted(plans.items())),
    )


@dataclass(frozen=True, slots=True)
class Watched:
    """A subscriber the bot watches (one with a linked chat)."""

    subscriber_id: str
    # What the feed needs to ask the system about them without their session (SGP: the
    # CPF/CNPJ; IXC: the cliente id; http/sandbox: the subscriber id). A secret: the bot stores
    # it encrypted (bot/storage/encryption.py) and never logs it.
    reference: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class FeedPage(Generic[T]):
    """One page of a feed question's answer."""

    items: list[T]
    cursor: str | None  # pass back for the next page; None = that question is answered


async def every_page(ask: Callable[[str | None], Awaitable[FeedPage[T]]]) -> list[T]:
    """All the items of a paged question, page after page (tests and small callers; the bot's
    detector persists the cursors instead)."""
    items: list[T] = []
    cursor: str | None = None
    while True:
        page = await ask(cursor)
        items += page.items
        if page.cursor is None:
            return items
        if page.cursor == cursor:
            raise RuntimeError("a feed returned the same cursor twice")
        cursor = page.cursor


@runtime_checkable
class ProviderFeed(Protocol):
    """Paged questions. ``watched`` are the subscribers with a linked chat (only they can be
    notified): a system with a global listing may ignore it or filter by it; one without pages
    over it, asking per subscriber. A ``cursor`` from the previous page asks for the next one;
    the page size is the adapter's. A page may be empty while its cursor is not None."""

    async def open_invoices_due_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberInvoice]:
        """Open invoices (with linha digitável and PIX) due in [start, end]."""

    async def payments_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberInvoice]:
        """Invoices paid in [start, end]."""

    async def ticket_events_since(
        self, since: datetime, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[TicketEvent]:
        """Provider answers and ticket closures after ``since``."""

    async def fiscal_notes_issued_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberFiscalNote]: ...

    async def enablings_ending_on(
        self, day: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[EnablingEnding]:
        """Temporary enablings whose last day is ``day``."""

    async def unlink_device(self, contact_id: str, device_id: str) -> None:
        """Forget a contact's device without a subscriber session (``/parar`` logged out)."""

    async def audience(
        self, segment: AudienceFilter, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberProfile]:
        """Subscribers with at least one contract matching ``segment`` (see AudienceFilter)."""

    async def audience_options(self, *, watched: Sequence[Watched]) -> AudienceOptions:
        """Cities, neighbourhoods and plans that broadcasts can target."""
