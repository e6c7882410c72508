"""The broadcast journal: recipients' states committed in groups (see ``bot.broadcasts.store``
for the rules it keeps: ``sending`` committed before a message goes out, the outcome before the
sender moves on)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, update

from bot.broadcasts.store import SENDING, BroadcastRow, BroadcastStore, Outcome, RecipientRow
from bot.storage.db import UTCDateTime

logger = logging.getLogger(__name__)


class Journal:
    """Group commit of recipient states: callers wait until their own change is committed.

    ``sending()`` must complete before the message goes out; ``record()`` before the sender
    takes the next recipient. Whatever arrives while a commit runs goes in the next one.

    With ``broadcast_id`` and ``take_time`` (the sending time, flood waits and flood seconds
    accrued since it was last taken, as :meth:`BroadcastStore.add_time` adds them), every commit
    also adds that time to the broadcast: the time is then recorded as far as the recipients
    are, and a crash (SIGKILL: nothing more is written) loses only the moments since the last
    recorded message instead of everything since the last periodic flush.
    """

    def __init__(
        self,
        store: BroadcastStore,
        max_batch: int = 2000,
        *,
        broadcast_id: int | None = None,
        take_time: Callable[[], tuple[float, int, float]] | None = None,
    ) -> None:
        self._sessions = store._sessions
        self._max_batch = max_batch
        self._broadcast_id = broadcast_id
        self._take_time = take_time
        self._queue: list[tuple[str, Any, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.commits = 0

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="broadcast-journal")

    async def close(self) -> None:
        """Commit what is queued, then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._queue.append(("stop", None, asyncio.get_running_loop().create_future()))
        self._wake.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def sending(self, recipient_id: int) -> None:
        await self._submit("sending", recipient_id)

    async def record(self, outcome: Outcome) -> None:
        await self._submit("outcome", outcome)

    async def _submit(self, kind: str, value: Any) -> None:
        if self._task is None or self._task.done():
            raise RuntimeError("the broadcast journal is not running")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((kind, value, future))
        self._wake.set()
        await asyncio.shield(future)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = (
                    self._queue[: self._max_batch],
                    self._queue[self._max_batch :],
                )
                stop = any(kind == "stop" for kind, _, _ in batch)
                work = [item for item in batch if item[0] != "stop"]
                try:
                    if work:
                        await self._commit(work)
                except Exception as error:  # the database is down: every waiter learns it
                    logger.error("broadcast journal could not commit: %r", error)
                    for _, _, future in work:
                        if not future.done():
                            future.set_exception(error)
                else:
                    for _, _, future in work:
                        if not future.done():
                            future.set_result(None)
                for kind, _, future in batch:
                    if kind == "stop" and not future.done():
                        future.set_result(None)
                if stop:
                    return

    async def _commit(self, work: list[tuple[str, Any, asyncio.Future[None]]]) -> None:
        sending = [{"rid": value} for kind, value, _ in work if kind == "sending"]
        outcomes = [
            {
                "rid": value.recipient_id,
                "new_status": value.status,
                "new_reason": value.reason,
                "new_error": (value.error or "")[:300] or None,
                "new_sent_at": value.sent_at,
            }
            for kind, value, _ in work
            if kind == "outcome"
        ]
        table = RecipientRow.__table__
        async with self._sessions.begin() as session:
            connection = await session.connection()
            if sending:
                await connection.execute(
                    update(table)
                    .where(table.c.id == bindparam("rid"))
                    .values(status=SENDING, attempts=table.c.attempts + 1),
                    sending,
                )
            if outcomes:
                await connection.execute(
                    update(table)
                    .where(table.c.id == bindparam("rid"))
                    .values(
                        status=bindparam("new_status"),
                        reason=bindparam("new_reason"),
                        error=bindparam("new_error"),
                        sent_at=bindparam("new_sent_at", type_=UTCDateTime()),
                    ),
                    outcomes,
                )
            if self._broadcast_id is not None and self._take_time is not None:
                active, waits, seconds = self._take_time()
                broadcasts = BroadcastRow.__table__
                await connection.execute(
                    update(broadcasts)
                    .where(broadcasts.c.id == self._broadcast_id)
                    .values(
                        active_seconds=broadcasts.c.active_seconds + active,
                        flood_waits=broadcasts.c.flood_waits + waits,
                        flood_seconds=broadcasts.c.flood_seconds + seconds,
                    )
                )
        self.commits += 1
