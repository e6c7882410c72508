"""Provider broadcasts: content rules, audiences, scheduling, paced delivery and the report.

Telegram-free: messages go out through a :class:`Sender` (``bot.handlers.broadcast_jobs`` has the
Telegram one, which raises :class:`Undelivered` with ``bot.delivery``'s outcome) at the pace
of a :class:`Pacer` (``bot.services.pacing`` — shared with the bot's replies, see that module
for how subscribers chatting meanwhile are not starved). The chat
flow (``/aviso``), the admin API and the command line all go through :class:`BroadcastService`.

Life of a broadcast: ``scheduled`` → (its time comes) ``running`` → ``done``; ``paused`` and back
while running; ``cancelled`` from any open state. Recipients are chosen when sending starts (the
linked chats of that moment); each goes ``pending`` → ``sending`` → ``sent`` / ``failed`` /
``blocked``, every change committed before the next step (``bot.storage.broadcasts``), so that a
crash or restart resumes with the recipients still ``pending`` and never sends again to one
left ``sending`` (it becomes ``uncertain``).

Telegram's answers: RetryAfter pauses the whole broadcast (everything the bot sends, in fact)
for the time asked and the recipient is sent again later; Forbidden marks the recipient
``blocked`` and deactivates the chat's link; a migrated group follows its new chat id; "chat not
found" fails the recipient and deactivates the link; other refusals fail the recipient with
their reason; network errors before the request went out are retried (3 attempts); a timeout
after it went out is ``uncertain`` (never resent).

One process sends broadcasts (the bot); the command line and the API of another process only
write to the database, and the bot notices within a second (cancel, pause) or at its next
scheduling tick (new broadcasts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from backend_client.errors import BackendError, NotSupported
from backend_client.provider import (
    AudienceFilter,
    AudienceOptions,
    AudienceStatus,
    ProviderFeed,
    fold,
)
from bot import delivery, metrics
from bot.logs import chat_ref
from bot.storage import broadcasts as db
from bot.storage.broadcasts import Broadcast, BroadcastStore, Counts, Journal, Outcome, Recipient
from bot.storage.notifications import NotificationStore
from bot.telegram_html import CAPTION_LIMIT, TEXT_LIMIT, HtmlError
from bot.telegram_html import displayed as telegram_displayed
from bot.ui.formatting import TIMEZONE

logger = logging.getLogger(__name__)

MEDIA_KINDS = ("photo", "document")
MAX_ATTEMPTS = 3  # network errors before the request went out
MAX_IDS = 10_000  # explicit contract / subscriber ids in one audience
MAX_AHEAD = timedelta(days=366)
PAGE = 1000  # recipients read at a time
_LOCAL_TIME = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2})[:h](\d{2})\s*$")


# --- errors --------------------------------------------------------------------------------------
class InvalidInput(ValueError):
    """Something given to create a broadcast is wrong. ``field`` names it (``text``,
    ``audience.places[0].city``…); ``kind`` lets the chat flow say it in Portuguese."""

    def __init__(self, field: str, message: str, kind: str = "invalid", **details: Any) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.kind = kind
        self.details = details


class StateError(Exception):
    """The broadcast is not in a state that allows this (e.g. cancelling a finished one)."""

    def __init__(self, broadcast: Broadcast, action: str) -> None:
        super().__init__(f"broadcast {broadcast.id} is {broadcast.status}; cannot {action}")
        self.broadcast = broadcast
        self.action = action


# --- content ------------------------------------------------------------------------------------
def _author_ref(created_by: str) -> str:
    """Who created a broadcast, for logs: "api", "cli" or a staff member's hashed id."""
    if created_by.startswith("telegram:"):
        return "telegram:" + chat_ref(created_by.removeprefix("telegram:"))
    return created_by


def displayed_text(markup: str) -> str:
    """What subscribers will read, or InvalidInput naming the problem in Telegram's words: the
    rules are tdlib's (bot.telegram_html, shared with the local Bot API), so a bare '&' passes."""
    try:
        return telegram_displayed(markup)
    except HtmlError as error:
        description = str(error)
        raise InvalidInput(
            "text", f"invalid HTML: {description}", "html", problem=description
        ) from None


def validate_content(text: Any, media_kind: str | None = None) -> str:
    """The HTML text of a broadcast, checked; returns what subscribers will read."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("text", "expected a non-empty string", "empty")
    shown = displayed_text(text)
    if not shown:
        raise InvalidInput("text", "the text shows nothing once the HTML is applied", "empty")
    limit = CAPTION_LIMIT if media_kind else TEXT_LIMIT
    if len(shown) > limit:
        what = "a caption (with a photo or document)" if media_kind else "a message"
        raise InvalidInput(
            "text",
            f"{len(shown)} characters; Telegram allows {limit} in {what}",
            "too_long",
            length=len(shown),
            limit=limit,
            with_media=bool(media_kind),
        )
    return shown


# --- audience ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Audience:
    """Who a broadcast is for (JSON-able through :meth:`to_json`; the API body's shape).

    ``everyone``: every linked chat. Otherwise the segments combine with AND (see
    :class:`~backend_client.provider.AudienceFilter`).
    """

    everyone: bool = False
    places: tuple[tuple[str, str | None], ...] = ()
    plans: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    contract_ids: tuple[str, ...] = ()
    subscriber_ids: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.everyone and not self.has_segments

    @property
    def has_segments(self) -> bool:
        return bool(
            self.places or self.plans or self.statuses or self.contract_ids or self.subscriber_ids
        )

    @property
    def needs_feed(self) -> bool:
        """Whether the provider's system must say who matches (everything but ids of
        subscribers, which our linked chats know)."""
        return bool(self.places or self.plans or self.statuses or self.contract_ids)

    def to_filter(self) -> AudienceFilter:
        return AudienceFilter(
            places=frozenset(self.places),
            plan_ids=frozenset(self.plans),
            statuses=frozenset(AudienceStatus(s) for s in self.statuses),
            contract_ids=frozenset(self.contract_ids),
            subscriber_ids=frozenset(self.subscriber_ids),
        )

    def to_json(self) -> dict[str, Any]:
        if self.everyone:
            return {"all": True}
        data: dict[str, Any] = {}
        if self.places:
            data["places"] = [
                {"city": city} if hood is None else {"city": city, "neighbourhood": hood}
                for city, hood in self.places
            ]
        for name in ("plans", "statuses", "contract_ids", "subscriber_ids"):
            if getattr(self, name):
                data[name] = list(getattr(self, name))
        return data

    @classmethod
    def from_json(cls, data: Any, where: str = "audience") -> Audience:
        """Parse and check the shape; InvalidInput names the field."""
        if not isinstance(data, dict):
            raise InvalidInput(where, 'expected an object, e.g. {"all": true}')
        known = {"all", "places", "plans", "statuses", "contract_ids", "subscriber_ids"}
        for key in data:
            if key not in known:
                raise InvalidInput(
                    f"{where}.{key}", f"unknown segment ({', '.join(sorted(known))})"
                )
        everyone = data.get("all", False)
        if not isinstance(everyone, bool):
            raise InvalidInput(f"{where}.all", "expected true or false")
        raw_places = _list(data, "places", where)
        places = tuple(_place(item, f"{where}.places[{i}]") for i, item in enumerate(raw_places))
        statuses = _strings(data, "statuses", where)
        for i, status in enumerate(statuses):
            if status not in {s.value for s in AudienceStatus}:
                raise InvalidInput(
                    f"{where}.statuses[{i}]",
                    f"unknown status {status!r} (active, suspended, overdue)",
                )
        audience = cls(
            everyone=everyone,
            places=tuple(dict.fromkeys(places)),
            plans=tuple(dict.fromkeys(_strings(data, "plans", where))),
            statuses=tuple(dict.fromkeys(statuses)),
            contract_ids=tuple(dict.fromkeys(_strings(data, "contract_ids", where))),
            subscriber_ids=tuple(dict.fromkeys(_strings(data, "subscriber_ids", where))),
        )
        if audience.everyone and audience.has_segments:
            raise InvalidInput(f"{where}.all", "cannot be combined with segments")
        if audience.is_empty:
            raise InvalidInput(
                where, 'choose {"all": true} or at least one segment', "empty_audience"
            )
        return audience


def _list(data: dict[str, Any], name: str, where: str) -> list[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise InvalidInput(f"{where}.{name}", "expected a list")
    if len(value) > MAX_IDS:
        raise InvalidInput(f"{where}.{name}", f"at most {MAX_IDS} items")
    return value


def _strings(data: dict[str, Any], name: str, where: str) -> list[str]:
    items = _list(data, name, where)
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip() or len(item) > 100:
            raise InvalidInput(f"{where}.{name}[{i}]", "expected a non-empty string")
    return [item.strip() for item in items]


def _place(item: Any, where: str) -> tuple[str, str | None]:
    if not isinstance(item, dict):
        raise InvalidInput(where, 'expected {"city": …, "neighbourhood": …}')
    city, hood = item.get("city"), item.get("neighbourhood")
    if not isinstance(city, str) or not city.strip():
        raise InvalidInput(f"{where}.city", "expected a non-empty string")
    if hood is not None and (not isinstance(hood, str) or not hood.strip()):
        raise InvalidInput(f"{where}.neighbourhood", "expected a non-empty string or null")
    return city.strip(), hood.strip() if hood else None


def canonical(audience: Audience, options: AudienceOptions) -> Audience:
    """The audience with places and plans as the provider's system names them (typed names
    are matched ignoring case and accents; a plan may be given by id or by name)."""
    cities = {fold(city): (city, {fold(h): h for h in hoods}) for city, hoods in options.places}
    places: list[tuple[str, str | None]] = []
    for i, (city, hood) in enumerate(audience.places):
        found = cities.get(fold(city))
        if found is None:
            known = ", ".join(c for c, _ in options.places)
            raise InvalidInput(
                f"audience.places[{i}].city",
                f"no subscriber in {city!r} (cities: {known})",
                "unknown_city",
                value=city,
            )
        name, hoods = found
        if hood is not None and fold(hood) not in hoods:
            raise InvalidInput(
                f"audience.places[{i}].neighbourhood",
                f"no subscriber in {hood!r}, {name} (neighbourhoods: {', '.join(hoods.values())})",
                "unknown_neighbourhood",
                value=hood,
            )
        places.append((name, None if hood is None else hoods[fold(hood)]))
    plans_by_key = {plan_id: plan_id for plan_id, _ in options.plans}
    plans_by_key |= {fold(name): plan_id for plan_id, name in options.plans}
    plans = []
    for i, plan in enumerate(audience.plans):
        plan_id = plans_by_key.get(plan) or plans_by_key.get(fold(plan))
        if plan_id is None:
            known = ", ".join(plan_id for plan_id, _ in options.plans)
            raise InvalidInput(
                f"audience.plans[{i}]", f"unknown plan {plan!r} (plans: {known})", "unknown_plan"
            )
        plans.append(plan_id)
    return Audience(
        everyone=audience.everyone,
        places=tuple(dict.fromkeys(places)),
        plans=tuple(dict.fromkeys(plans)),
        statuses=audience.statuses,
        contract_ids=audience.contract_ids,
        subscriber_ids=audience.subscriber_ids,
    )


def split_ids(text: str) -> list[str]:
    """Ids typed or pasted: separated by commas, semicolons, spaces or lines."""
    return [item for item in re.split(r"[\s,;]+", text) if item]


# --- when ----------------------------------------------------------------------------------------
def parse_local_time(text: str, now: datetime) -> datetime:
    """``dd/mm/aaaa hh:mm`` in America/Sao_Paulo, in the future → the UTC instant."""
    match = _LOCAL_TIME.match(text)
    if match is None:
        raise InvalidInput("send_at", "expected dd/mm/aaaa hh:mm", "time_format")
    day, month, year, hour, minute = (int(part) for part in match.groups())
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=TIMEZONE)
    except ValueError as error:
        raise InvalidInput(
            "send_at", f"not a real date or time ({error})", "time_format"
        ) from error
    return check_send_at(local.astimezone(UTC), now)


def check_send_at(instant: datetime, now: datetime) -> datetime:
    if instant.tzinfo is None:
        raise InvalidInput("send_at", "the instant needs a time zone", "time_format")
    instant = instant.astimezone(UTC)
    if instant <= now:
        raise InvalidInput("send_at", "must be in the future", "time_past")
    if instant > now + MAX_AHEAD:
        raise InvalidInput("send_at", "at most one year ahead", "time_far")
    return instant


# --- what a broadcast is made of -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    audience: Audience
    send_at: datetime | None = None  # None: now
    media_kind: str | None = None
    media_file_id: str | None = None
    media_name: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """What goes to each chat: HTML text (a caption with media) and the media's file_id."""

    text: str
    media_kind: str | None = None
    media_file_id: str | None = None
    paid: bool = False

    @classmethod
    def of(cls, broadcast: Broadcast, paid: bool = False) -> Message:
        return cls(broadcast.text, broadcast.media_kind, broadcast.media_file_id, paid)


# --- delivery ------------------------------------------------------------------------------------
class Undelivered(Exception):
    """What a Sender raises when a message did not (certainly) arrive: the one delivery policy's
    reading of the error (``bot.delivery.classify``)."""

    def __init__(self, outcome: delivery.Outcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


class Sender(Protocol):
    async def send(self, chat_id: int, message: Message) -> None: ...


class Pacer(Protocol):
    async def bulk_slot(self, chat_id: int) -> None: ...

    def hold(self, seconds: float) -> None: ...


# --- the report ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Report:
    broadcast: Broadcast
    counts: Counts
    now: datetime

    @property
    def sent(self) -> int:
        return self.counts[db.SENT]

    @property
    def failed(self) -> int:
        return self.counts[db.FAILED]

    @property
    def blocked(self) -> int:
        return self.counts[db.BLOCKED]

    @property
    def uncertain(self) -> int:
        return self.counts[db.UNCERTAIN]

    @property
    def pending(self) -> int:
        """Not sent yet (or never, if the broadcast was cancelled)."""
        return self.counts[db.PENDING] + self.counts[db.SENDING]

    @property
    def total(self) -> int:
        if self.broadcast.total is not None:
            return self.broadcast.total
        return self.counts.total

    @property
    def processed(self) -> int:
        return self.sent + self.failed + self.blocked + self.uncertain

    @property
    def duration(self) -> float | None:
        """Seconds from the first message to the end (or to now while open)."""
        started = self.broadcast.started_at
        if started is None:
            return None
        end = self.broadcast.finished_at or self.now
        return max(0.0, (end - started).total_seconds())

    @property
    def rate(self) -> float | None:
        """Messages handled per second of sending (pauses left out)."""
        seconds = self.broadcast.active_seconds
        if seconds <= 0 or not self.processed:
            return None
        return (self.sent + self.failed + self.blocked) / seconds

    def to_json(self) -> dict[str, Any]:
        b = self.broadcast
        return {
            "id": b.id,
            "status": b.status,
            "created_at": b.created_at.isoformat(),
            "created_by": b.created_by,
            "send_at": b.send_at.isoformat(),
            "started_at": b.started_at.isoformat() if b.started_at else None,
            "finished_at": b.finished_at.isoformat() if b.finished_at else None,
            "text": b.text,
            "media": (
                {"type": b.media_kind, "file_id": b.media_file_id, "name": b.media_name}
                if b.media_kind
                else None
            ),
            "audience": b.audience,
            "paid_broadcast": b.paid,
            "progress": {
                "total": b.total,
                "processed": self.processed,
                "percent": round(100 * self.processed / self.total, 1) if self.total else None,
            },
            "report": {
                "sent": self.sent,
                "failed": self.failed,
                "failed_by_reason": dict(sorted(self.counts.failed_by_reason.items())),
                "blocked": self.blocked,
                "pending": self.pending,
                "uncertain": self.uncertain,
                "duration_seconds": _round(self.duration),
                "sending_seconds": _round(b.active_seconds),
                "rate_per_second": _round(self.rate),
                "flood_waits": b.flood_waits,
                "flood_wait_seconds": _round(b.flood_seconds),
            },
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# --- the service ---------------------------------------------------------------------------------
def default_concurrency(rate: float) -> int:
    """Messages in flight: enough for the rate at Telegram's usual latency (~0.25 s), and at most
    half the HTTP pool (256 connections), so replies always find a connection."""
    return max(4, min(128, math.ceil(rate * 0.25)))


class BroadcastService:
    def __init__(
        self,
        store: BroadcastStore,
        links: NotificationStore,
        *,
        clock: Callable[[], datetime],
        feed: ProviderFeed | None = None,
        sender: Sender | None = None,
        pacer: Pacer | None = None,
        rate: float = 25.0,
        paid: bool = False,
        concurrency: int | None = None,
        poll_interval: float = 1.0,
    ) -> None:
        """Without a ``sender`` the service only records (command line, another process)."""
        self.store = store
        self.links = links
        self.clock = clock
        self.feed = feed
        self.sender = sender
        if pacer is None:
            from bot.services.pacing import TrafficPacer

            pacer = TrafficPacer(overall_rate=0, bulk_rate=rate)
        self.pacer = pacer
        self.rate = rate
        self.paid = paid
        self.concurrency = concurrency or default_concurrency(rate)
        self.poll_interval = poll_interval
        self._runs: dict[int, _Run] = {}
        self._retry_after: dict[int, float] = {}  # broadcast id → monotonic time
        self._kick: asyncio.Task[Any] | None = None

    # --- audience --------------------------------------------------------------------------------
    async def options(self) -> AudienceOptions | None:
        """What places and plans exist (None when the provider's system cannot say)."""
        if self.feed is None:
            return None
        try:
            return await self.feed.audience_options()
        except NotSupported:
            return None

    async def check_audience(self, audience: Audience) -> Audience:
        if audience.is_empty:
            raise InvalidInput("audience", 'choose {"all": true} or a segment', "empty_audience")
        if not audience.needs_feed:
            return audience
        options = await self.options()
        if options is None:
            raise InvalidInput(
                "audience",
                "this provider system gives no data on places, plans or contracts; target all "
                "linked chats or a list of subscriber ids",
                "no_feed",
            )
        return canonical(audience, options)

    async def recipients(self, audience: Audience) -> list[tuple[int, str]] | None:
        """(chat id, subscriber id) of the audience's active linked chats; None = all of them."""
        if audience.everyone:
            return None
        if audience.needs_feed:
            if self.feed is None:
                raise NotSupported("audience")
            profiles = await self.feed.audience(audience.to_filter())
            wanted = {profile.subscriber_id for profile in profiles}
        else:
            wanted = set(audience.subscriber_ids)
        return [(c, s) for c, s in await self.store.active_chats() if s in wanted]

    async def count(self, audience: Audience) -> int:
        found = await self.recipients(audience)
        return await self.store.count_active_chats() if found is None else len(found)

    # --- creating and controlling ------------------------------------------------------------
    async def create(self, draft: Draft, created_by: str) -> Broadcast:
        media_kind = draft.media_kind
        if media_kind is not None:
            if media_kind not in MEDIA_KINDS:
                raise InvalidInput("media.type", "expected photo or document")
            if not draft.media_file_id or len(draft.media_file_id) > 255:
                raise InvalidInput("media.file_id", "expected the file_id Telegram gave this bot")
        validate_content(draft.text, media_kind)
        now = self.clock()
        send_at = now if draft.send_at is None else check_send_at(draft.send_at, now)
        audience = await self.check_audience(draft.audience)
        broadcast = await self.store.create(
            text=draft.text,
            audience=audience.to_json(),
            send_at=send_at,
            created_by=created_by,
            now=now,
            media_kind=media_kind,
            media_file_id=draft.media_file_id if media_kind else None,
            media_name=draft.media_name if media_kind else None,
        )
        logger.info(
            "broadcast %s created by %s for %s, at %s",
            broadcast.id,
            _author_ref(created_by),
            audience.to_json(),
            send_at.isoformat(),
        )
        if draft.send_at is None:
            self.kick()
        return broadcast

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return await self.store.get(broadcast_id)

    async def report(self, broadcast_id: int) -> Report | None:
        broadcast = await self.store.get(broadcast_id)
        if broadcast is None:
            return None
        counts = await self.store.counts([broadcast_id])
        return Report(broadcast, counts[broadcast_id], self.clock())

    async def reports(self, limit: int = 20, offset: int = 0) -> list[Report]:
        found = await self.store.list(limit, offset)
        counts = await self.store.counts([b.id for b in found])
        now = self.clock()
        return [Report(b, counts[b.id], now) for b in found]

    async def cancel(self, broadcast_id: int) -> Broadcast:
        return await self._move(broadcast_id, db.CANCELLED, db.OPEN_STATES, "cancel")

    async def pause(self, broadcast_id: int) -> Broadcast:
        return await self._move(broadcast_id, db.PAUSED, (db.RUNNING,), "pause")

    async def resume(self, broadcast_id: int) -> Broadcast:
        moved = await self._move(broadcast_id, db.RUNNING, (db.PAUSED,), "resume")
        self.kick()
        return moved

    async def _move(
        self, broadcast_id: int, to: str, allowed: Sequence[str], action: str
    ) -> Broadcast:
        broadcast = await self.store.get(broadcast_id)
        if broadcast is None:
            raise LookupError(broadcast_id)
        if not await self.store.transition(
            broadcast_id, to, allowed_from=allowed, now=self.clock()
        ):
            current = await self.store.get(broadcast_id)
            raise StateError(current or broadcast, action)
        run = self._runs.get(broadcast_id)
        if run is not None and to != db.RUNNING:
            run.stop(to)
        logger.info("broadcast %s: %s", broadcast_id, to)
        updated = await self.store.get(broadcast_id)
        assert updated is not None
        return updated

    # --- running -------------------------------------------------------------------------------
    async def recover(self) -> int:
        """At start-up: recipients a crash left mid-send are never sent again."""
        found = await self.store.recover_interrupted()
        if found:
            logger.warning("%d broadcast recipient(s) were interrupted mid-send: uncertain", found)
        return found

    def kick(self) -> None:
        """Start what is due now, without waiting for the next scheduling tick."""
        if self.sender is None:
            return
        with contextlib.suppress(RuntimeError):  # no running loop: the tick will do it
            if self._kick is None or self._kick.done():
                self._kick = asyncio.get_running_loop().create_task(self.dispatch_due())

    async def dispatch_due(self) -> list[int]:
        """Start every broadcast whose time has come (and resume those left running)."""
        if self.sender is None:
            return []
        started = []
        for broadcast in await self.store.due(self.clock()):
            if broadcast.id in self._runs:
                continue
            if self._retry_after.get(broadcast.id, 0) > time.monotonic():
                continue
            run = _Run(self, broadcast)
            self._runs[broadcast.id] = run
            run.task = asyncio.create_task(run.execute(), name=f"broadcast-{broadcast.id}")
            run.task.add_done_callback(lambda _, bid=broadcast.id: self._runs.pop(bid, None))
            started.append(broadcast.id)
        return started

    async def run(self, broadcast_id: int) -> None:
        """Start ``broadcast_id`` if it is due and wait until it stops (tests, scripts)."""
        await self.dispatch_due()
        run = self._runs.get(broadcast_id)
        if run is not None and run.task is not None:
            await run.task

    async def wait_idle(self) -> None:
        """Wait until no broadcast runs here (nor is about to start)."""
        if self._kick is not None:
            await asyncio.gather(self._kick, return_exceptions=True)
        while self._runs:
            await asyncio.gather(
                *(r.task for r in list(self._runs.values()) if r.task), return_exceptions=True
            )

    @property
    def running(self) -> list[int]:
        return sorted(self._runs)

    async def stop(self, grace: float = 10.0) -> None:
        """Shutting down: finish the messages in flight, record them, send nothing more. The
        broadcasts stay ``running`` and resume at the next start."""
        if self._kick is not None:
            self._kick.cancel()
        runs = list(self._runs.values())
        for run in runs:
            run.stop("shutdown")
        tasks = [run.task for run in runs if run.task is not None]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
            logger.warning("%d broadcast(s) cut short at shutdown", len(pending))


@dataclass
class _Worker:
    task: asyncio.Task[None] | None = None
    waiting: bool = False  # for a pace slot: safe to cancel


@dataclass
class _Run:
    """One broadcast being sent by this process."""

    service: BroadcastService
    broadcast: Broadcast
    task: asyncio.Task[None] | None = None
    journal: Journal | None = None
    control: asyncio.Task[None] | None = None
    stopped: str | None = None  # why: paused, cancelled, shutdown, error
    workers: list[_Worker] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _next_pass_at: float = 0.0
    _flood_waits: int = 0
    _flood_seconds: float = 0.0
    _last_tick: float = field(default_factory=time.monotonic)

    def stop(self, reason: str) -> None:
        if self.stopped is None:
            self.stopped = reason
        self._stopping.set()
        for worker in self.workers:
            if worker.waiting and worker.task is not None:
                worker.task.cancel()

    async def execute(self) -> None:
        service, store = self.service, self.service.store
        broadcast = self.broadcast
        if broadcast.status == db.SCHEDULED:
            moved = await store.transition(
                broadcast.id, db.RUNNING, allowed_from=(db.SCHEDULED,), now=service.clock()
            )
            if not moved:
                return
            logger.info("broadcast %s: sending", broadcast.id)
        try:
            if broadcast.total is None:
                audience = Audience.from_json(broadcast.audience)
                found = await service.recipients(audience)
                total = await store.materialize(broadcast.id, found, paid=service.paid)
                logger.info("broadcast %s: %d recipient(s)", broadcast.id, total)
        except (BackendError, NotSupported) as error:
            # The provider's system is down: try again in a minute (the broadcast waits).
            logger.warning("broadcast %s: audience unavailable (%s); retrying", broadcast.id, error)
            service._retry_after[broadcast.id] = time.monotonic() + 60
            return
        except InvalidInput as error:
            logger.error("broadcast %s: stored audience is invalid: %s", broadcast.id, error)
            await store.transition(
                broadcast.id, db.CANCELLED, allowed_from=db.OPEN_STATES, now=service.clock()
            )
            return
        broadcast = await store.get(broadcast.id) or broadcast
        message = Message.of(broadcast, broadcast.paid)
        await store.settle_sending(broadcast.id)
        # The journal records the sending time with the recipients (it survives a crash).
        journal = self.journal = Journal(
            store, broadcast_id=broadcast.id, take_time=self._take_time
        )
        journal.start()
        control = self.control = asyncio.create_task(
            self._control(), name=f"broadcast-{broadcast.id}-control"
        )
        try:
            await self._send_all(journal, message)
        finally:
            self.stop(self.stopped or "finished")
            control.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await control
            await self._flush_time()
            await journal.close()
        if self.stopped == "finished":
            if await store.count_status(broadcast.id, db.PENDING) == 0:
                await store.transition(
                    broadcast.id, db.DONE, allowed_from=(db.RUNNING,), now=service.clock()
                )
                logger.info("broadcast %s: done", broadcast.id)
        else:
            logger.info("broadcast %s: stopped (%s)", broadcast.id, self.stopped)

    # --- the loop --------------------------------------------------------------------------------
    async def _send_all(self, journal: Journal, message: Message) -> None:
        service = self.service
        queue: asyncio.Queue[Recipient | None] = asyncio.Queue(maxsize=service.concurrency * 4)
        self.workers = [_Worker() for _ in range(service.concurrency)]
        for worker in self.workers:
            worker.task = asyncio.create_task(self._work(worker, queue, journal, message))
        try:
            while not self._stopping.is_set():
                put = await self._one_pass(queue)
                await self._join(queue)
                if self._stopping.is_set():
                    break
                if not put and not await service.store.count_status(self.broadcast.id, db.PENDING):
                    break
                delay = self._next_pass_at - time.monotonic()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), delay)
            if not self._stopping.is_set():
                self.stopped = "finished"
        finally:
            while not queue.empty():  # not taken: stays pending
                queue.get_nowait()
                queue.task_done()
            for _ in self.workers:
                queue.put_nowait(None)
            tasks = [w.task for w in self.workers if w.task is not None]
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _one_pass(self, queue: asyncio.Queue[Recipient | None]) -> int:
        """Queue every pending recipient once; returns how many."""
        after, put = 0, 0
        while not self._stopping.is_set():
            page = await self.service.store.pending_page(self.broadcast.id, after, PAGE)
            if not page:
                break
            for recipient in page:
                if self._stopping.is_set():
                    break
                await queue.put(recipient)
                put += 1
            after = page[-1].id
        return put

    async def _join(self, queue: asyncio.Queue[Recipient | None]) -> None:
        """Wait until the workers took everything (or the run stops)."""
        joined = asyncio.create_task(queue.join())
        stopping = asyncio.create_task(self._stopping.wait())
        await asyncio.wait({joined, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (joined, stopping):
            task.cancel()
        if self._stopping.is_set():  # drop what was not taken; it stays pending
            while not queue.empty():
                queue.get_nowait()
                queue.task_done()

    async def _work(
        self,
        worker: _Worker,
        queue: asyncio.Queue[Recipient | None],
        journal: Journal,
        message: Message,
    ) -> None:
        while True:
            recipient = await queue.get()
            try:
                if recipient is None:
                    return
                if self._stopping.is_set():
                    continue
                worker.waiting = True
                try:
                    await self.service.pacer.bulk_slot(recipient.chat_id)
                finally:
                    worker.waiting = False
                if self._stopping.is_set():
                    continue
                await self._deliver(recipient, journal, message)
            except asyncio.CancelledError:
                if recipient is not None and not self._stopping.is_set():
                    raise
                return  # stopped while waiting for a slot: the recipient stays pending
            except Exception as error:  # the database failed: stop, resume later
                logger.error("broadcast %s stopped: %r", self.broadcast.id, error)
                self.stop("error")
                self.service._retry_after[self.broadcast.id] = time.monotonic() + 30
            finally:
                queue.task_done()

    async def _deliver(self, recipient: Recipient, journal: Journal, message: Message) -> None:
        service = self.service
        await journal.sending(recipient.id)  # committed before anything goes out
        outcome, chat_id = await self._attempt(recipient, recipient.chat_id, message, moved=False)
        await journal.record(outcome)  # committed before taking the next recipient
        metrics.BROADCAST_MESSAGES.labels(outcome.status).inc()
        if outcome.status == db.BLOCKED or outcome.reason == "chat_not_found":
            await service.links.deactivate(chat_id)

    async def _attempt(
        self, recipient: Recipient, chat_id: int, message: Message, *, moved: bool
    ) -> tuple[Outcome, int]:
        """Send once (and once more to a migrated chat's new id); the outcome and the chat."""
        outcome = await self._try(recipient, chat_id, message)
        if isinstance(outcome, delivery.Outcome):  # the chat moved
            new_id = outcome.new_chat_id
            assert new_id is not None
            if moved:
                return Outcome(recipient.id, db.FAILED, "migrated", outcome.detail), chat_id
            moved_link = await self.service.store.move_chat(chat_id, new_id, recipient.id)
            self.service.links.links_changed(chat_id, new_id)
            if not moved_link:
                detail = outcome.detail
                return Outcome(recipient.id, db.FAILED, "migrated_duplicate", detail), chat_id
            logger.info(
                "chat %s migrated to %s; sending there", chat_ref(chat_id), chat_ref(new_id)
            )
            return await self._attempt(recipient, new_id, message, moved=True)
        return outcome, chat_id

    async def _try(
        self, recipient: Recipient, chat_id: int, message: Message
    ) -> Outcome | delivery.Outcome:
        """Send once; the recipient's outcome, or the delivery outcome when the chat moved."""
        service = self.service
        assert service.sender is not None
        rid = recipient.id
        try:
            await service.sender.send(chat_id, message)
        except Undelivered as error:
            found = error.outcome
        except Exception as error:  # a bug or an unknown answer: recorded, never resent
            logger.exception(
                "broadcast %s: unexpected error for chat %s", self.broadcast.id, chat_ref(chat_id)
            )
            return Outcome(rid, db.FAILED, "unexpected", repr(error))
        else:
            return Outcome(rid, db.SENT, sent_at=service.clock())
        kind, detail = found.kind, found.detail
        if kind is delivery.Kind.FLOOD_WAIT:
            seconds = found.retry_after
            service.pacer.hold(seconds)
            self._flood_waits += 1
            self._flood_seconds += seconds
            self._later(seconds)
            logger.warning(
                "broadcast %s: Telegram asked to wait %.1f s; pausing", self.broadcast.id, seconds
            )
            return Outcome(rid, db.PENDING, "flood_wait", detail)
        if kind is delivery.Kind.BLOCKED:
            return Outcome(rid, db.BLOCKED, "blocked", detail)
        if kind is delivery.Kind.CHAT_GONE:
            return Outcome(rid, db.FAILED, "chat_not_found", detail)
        if kind is delivery.Kind.MOVED:
            return found
        if kind is delivery.Kind.NOT_SENT:
            if recipient.attempts + 1 >= MAX_ATTEMPTS:
                return Outcome(rid, db.FAILED, "network", detail)
            self._later(2.0 * 2**recipient.attempts)
            return Outcome(rid, db.PENDING, "network", detail)
        if kind is delivery.Kind.MAYBE_SENT:
            return Outcome(rid, db.UNCERTAIN, "timeout", detail)
        return Outcome(rid, db.FAILED, (found.reason or "rejected")[:40], detail)

    def _later(self, seconds: float) -> None:
        """The next pass (recipients to try again) starts no sooner than this."""
        self._next_pass_at = max(self._next_pass_at, time.monotonic() + seconds)

    # --- control -------------------------------------------------------------------------------
    async def _control(self) -> None:
        """Notice a pause or cancel made elsewhere; count the sending time."""
        store = self.service.store
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.service.poll_interval)
            await self._flush_time()
            if self._stopping.is_set():
                return
            status = await store.status_of(self.broadcast.id)
            if status != db.RUNNING:
                self.stop(status or "deleted")

    def _take_time(self) -> tuple[float, int, float]:
        """Sending time, flood waits and flood seconds since they were last taken: each moment
        is counted once, by the journal's next commit or by the periodic flush."""
        now = time.monotonic()
        active, self._last_tick = now - self._last_tick, now
        waits, seconds = self._flood_waits, self._flood_seconds
        self._flood_waits, self._flood_seconds = 0, 0.0
        return active, waits, seconds

    async def _flush_time(self) -> None:
        active, waits, seconds = self._take_time()
        await self.service.store.add_time(
            self.broadcast.id, active=active, flood_waits=waits, flood_seconds=seconds
        )


def describe_ids(ids: Iterable[str], limit: int = 5) -> str:
    """``c1, c2, c3 +4`` (for short summaries)."""
    items = list(ids)
    shown = ", ".join(items[:limit])
    return shown + (f" +{len(items) - limit}" if len(items) > limit else "")
