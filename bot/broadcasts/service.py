"""Provider broadcasts: the one service the chat flow (``/aviso``), the admin API and the command
line go through (``bot.broadcasts``: content, audience, schedule, delivery and report are its
parts, the store its SQL).

Life of a broadcast: ``scheduled`` → (its time comes) ``running`` → ``done``; ``paused`` and back
while running; ``cancelled`` from any open state. Recipients are chosen when sending starts (the
linked chats of that moment); each goes ``pending`` → ``sending`` → ``sent`` / ``failed`` /
``blocked``, every change committed before the next step (``bot.broadcasts.store``), so that a
crash or restart resumes with the recipients still ``pending`` and never sends again to one
left ``sending`` (it becomes ``uncertain``). Sending is :class:`~bot.broadcasts.delivery.Run`'s.

One process sends broadcasts (the bot); the command line and the API of another process only
write to the database, and the bot notices within a second (cancel, pause) or at its next
scheduling tick (new broadcasts).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend_client.errors import BackendError, NotSupported
from backend_client.provider import AudienceOptions, ProviderFeed
from bot.broadcasts import store as db
from bot.broadcasts.audience import Audience, canonical
from bot.broadcasts.content import MEDIA_KINDS, InvalidInput, validate_content
from bot.broadcasts.delivery import Pacer, Run, Sender
from bot.broadcasts.report import Report
from bot.broadcasts.schedule import check_send_at
from bot.broadcasts.store import Broadcast, BroadcastStore
from bot.logs import chat_ref
from bot.notifications.store import NotificationStore

logger = logging.getLogger(__name__)


class StateError(Exception):
    """The broadcast is not in a state that allows this (e.g. cancelling a finished one)."""

    def __init__(self, broadcast: Broadcast, action: str) -> None:
        super().__init__(f"broadcast {broadcast.id} is {broadcast.status}; cannot {action}")
        self.broadcast = broadcast
        self.action = action


def _author_ref(created_by: str) -> str:
    """Who created a broadcast, for logs: "api", "cli" or a staff member's hashed id."""
    if created_by.startswith("telegram:"):
        return "telegram:" + chat_ref(created_by.removeprefix("telegram:"))
    return created_by


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    audience: Audience
    send_at: datetime | None = None  # None: now
    media_kind: str | None = None
    media_file_id: str | None = None
    media_name: str | None = None


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
        self._runs: dict[int, Run] = {}
        self._retry_after: dict[int, float] = {}  # broadcast id → monotonic time
        self._kick: asyncio.Task[Any] | None = None

    # --- audience --------------------------------------------------------------------------------
    async def options(self) -> AudienceOptions | None:
        """What places and plans exist (None when the provider's system cannot say)."""
        if self.feed is None:
            return None
        try:
            return await self.feed.audience_options(watched=await self.links.watched())
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
            wanted = await self._matching(audience)
        else:
            wanted = set(audience.subscriber_ids)
        return [(c, s) for c, s in await self.store.active_chats() if s in wanted]

    async def _matching(self, audience: Audience) -> set[str]:
        """The watched subscribers the provider's system says match, every page of the answer."""
        assert self.feed is not None
        segment, watched = audience.to_filter(), await self.links.watched()
        wanted: set[str] = set()
        cursor: str | None = None
        while True:
            page = await self.feed.audience(segment, watched=watched, cursor=cursor)
            wanted.update(profile.subscriber_id for profile in page.items)
            if page.cursor is None:
                return wanted
            cursor = page.cursor

    async def plan_names(self) -> dict[str, str]:
        """Plan names by id, for summaries; empty when the system cannot say or is down."""
        try:
            options = await self.options()
        except BackendError:
            return {}
        return dict(options.plans) if options else {}

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
            assert self.sender is not None
            run = Run(
                broadcast,
                self.store,
                self.sender,
                self.pacer,
                self.links,
                self.clock,
                self.concurrency,
                self.poll_interval,
                retry_later=functools.partial(self._retry_later, broadcast.id),
            )
            self._runs[broadcast.id] = run
            run.task = asyncio.create_task(self._execute(run), name=f"broadcast-{broadcast.id}")
            run.task.add_done_callback(lambda _, bid=broadcast.id: self._runs.pop(bid, None))
            started.append(broadcast.id)
        return started

    async def _execute(self, run: Run) -> None:
        if await self._prepare(run.broadcast):
            await run.send()

    async def _prepare(self, broadcast: Broadcast) -> bool:
        """Mark a due broadcast ``running`` and, the first time, choose its recipients; False
        when it is not to be sent now."""
        store = self.store
        if broadcast.status == db.SCHEDULED:
            moved = await store.transition(
                broadcast.id, db.RUNNING, allowed_from=(db.SCHEDULED,), now=self.clock()
            )
            if not moved:
                return False
            logger.info("broadcast %s: sending", broadcast.id)
        try:
            if broadcast.total is None:
                audience = Audience.from_json(broadcast.audience)
                found = await self.recipients(audience)
                total = await store.materialize(broadcast.id, found, paid=self.paid)
                logger.info("broadcast %s: %d recipient(s)", broadcast.id, total)
        except (BackendError, NotSupported) as error:
            # The provider's system is down: try again in a minute (the broadcast waits).
            logger.warning("broadcast %s: audience unavailable (%s); retrying", broadcast.id, error)
            self._retry_later(broadcast.id, 60)
            return False
        except InvalidInput as error:
            logger.error("broadcast %s: stored audience is invalid: %s", broadcast.id, error)
            await store.transition(
                broadcast.id, db.CANCELLED, allowed_from=db.OPEN_STATES, now=self.clock()
            )
            return False
        return True

    def _retry_later(self, broadcast_id: int, seconds: float) -> None:
        self._retry_after[broadcast_id] = time.monotonic() + seconds

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
