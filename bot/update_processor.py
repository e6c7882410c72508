"""Concurrency across chats, order within a chat: :class:`OrderedConcurrentProcessor`.

PTB's ``concurrent_updates=N`` runs any N updates at once, so two messages of the same person
can be handled out of order (a conversation would see step 2 before step 1). Sequential
processing keeps the order but makes every chat wait for the slowest one. This processor gives
each chat a *lane*: updates of one lane run strictly one after the other, in arrival order,
while different lanes run concurrently, at most ``max_concurrent_updates`` at a time.

* Lane: the chat's id; without a chat (inline queries, callback queries of inline messages,
  …) the user's id — the same number as their private chat, so one person's updates stay in
  one lane; updates with neither (polls, custom objects put in the update queue) share one lane.
* Lanes are a chain of futures: each update waits for the one that arrived before it in its
  lane. A lane exists only while it has updates in flight — an idle chat costs nothing.
* An update waiting for its turn does not hold one of the ``max_concurrent_updates`` slots (the
  base class takes one before :meth:`do_process_update` runs; it is handed back while waiting
  and taken again when the turn comes), so a slow or flooded chat never delays other chats.
* A failing or cancelled update still passes the turn on; the exception goes to PTB as usual.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Hashable
from typing import Any, Final

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot import metrics

__all__ = ["SHARED_LANE", "OrderedConcurrentProcessor", "lane_of"]

logger = logging.getLogger(__name__)

SHARED_LANE: Final = "shared"


def lane_of(update: object) -> Hashable:
    """The lane of ``update``: its chat id, else its user id, else :data:`SHARED_LANE`."""
    if isinstance(update, Update):
        chat = update.effective_chat
        if chat is not None:
            return chat.id
        user = update.effective_user
        if user is not None:
            return user.id
    return SHARED_LANE


class OrderedConcurrentProcessor(BaseUpdateProcessor):
    """Different chats concurrently (bounded), the same chat strictly in arrival order.

    Use with ``ApplicationBuilder().concurrent_updates(OrderedConcurrentProcessor(64))``.
    """

    __slots__ = ("_tails",)

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        # Lane → the future that resolves when its newest update is done.
        self._tails: dict[Hashable, asyncio.Future[None]] = {}

    @property
    def active_lanes(self) -> int:
        """Lanes with updates in flight (running or waiting); 0 when idle."""
        return len(self._tails)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free: ``Application.stop`` already waited for every update."""
        if self._tails:
            logger.warning("update processor shut down with %d busy lanes", len(self._tails))

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the previous update of the same lane, then run ``coroutine``.

        Called by :meth:`process_update` with one of the concurrency slots held.
        """
        lane = lane_of(update)
        previous = self._tails.get(lane)
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[lane] = turn  # from here on, later updates of the lane wait for this one
        try:
            if previous is not None and not previous.done():
                await self._wait_for(previous)
        except BaseException:
            # Cancelled while waiting: never run, but pass the turn on only once the previous
            # update is done, so the lane's order still holds for the ones behind us.
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            assert previous is not None
            previous.add_done_callback(lambda _: self._pass_turn(lane, turn))
            raise
        started = time.perf_counter()
        try:
            await coroutine
        finally:
            self._pass_turn(lane, turn)
            metrics.UPDATE_SECONDS.observe(time.perf_counter() - started)

    async def _wait_for(self, previous: asyncio.Future[None]) -> None:
        """Wait for ``previous`` without holding a concurrency slot; hold one again after."""
        self._semaphore.release()
        try:
            # shield: cancelling us must not cancel the other update's future.
            await asyncio.shield(previous)
        finally:
            await self._take_slot()

    async def _take_slot(self) -> None:
        """Take a slot back even if cancelled meanwhile: the base class will release one."""
        cancelled = False
        while True:
            try:
                await self._semaphore.acquire()
                break
            except asyncio.CancelledError:
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError

    def _pass_turn(self, lane: Hashable, turn: asyncio.Future[None]) -> None:
        if not turn.done():
            turn.set_result(None)
        if self._tails.get(lane) is turn:  # nobody queued behind: the lane is idle
            del self._tails[lane]
