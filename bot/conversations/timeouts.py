"""Idle time-outs of guided flows: one timer per flow, not one job per conversation.

PTB's ``conversation_timeout`` schedules an APScheduler job for every conversation and keeps
that conversation's whole last update and context alive until it fires — several KB per chat,
most of the memory of 10,000 chats in the middle of a step. It also forgets every timer at a
restart, so a conversation resumed from persistence never timed out.

:class:`TimedConversation` keeps, per conversation, only when it went idle. Every conversation
of a flow has the same idle limit, so the dict kept in the order of the last update is also the
order of the deadlines: a sweep looks only at the expired ones at its front. Conversations
loaded at start-up get a fresh idle period.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application, ConversationHandler
from telegram.ext._utils.types import ConversationKey

from bot.logs import chat_ref
from bot.services.context import BotContext

logger = logging.getLogger(__name__)

# Called with a context for the conversation's chat, the chat's id and the state it idled in.
OnTimeout = Callable[[BotContext, int, object], Awaitable[None]]

SWEEP_JOB = "flow-timeouts:"
LONGEST_SWEEP_INTERVAL = 15.0  # seconds: a flow ends at most this late


class TimedConversation(ConversationHandler[Any]):
    """A ``ConversationHandler`` (per chat and user) that ends after ``idle_timeout`` seconds
    without an update; ``on_timeout`` runs once the conversation has ended."""

    def __init__(self, *, idle_timeout: float, on_timeout: OnTimeout, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.idle_timeout = idle_timeout
        self._on_timeout = on_timeout
        self._idle_since: dict[ConversationKey, float] = {}  # oldest first

    # PTB calls this only for updates the conversation takes; ``check_result`` is
    # (state, key, handler, the handler's check result).
    async def handle_update(
        self, update: Update, application: Any, check_result: Any, context: Any
    ) -> object:
        key: ConversationKey = check_result[1]
        self._idle_since.pop(key, None)  # not idle while its update is being handled
        try:
            return await super().handle_update(update, application, check_result, context)
        finally:
            if key in self._conversations:
                self._idle_since[key] = time.monotonic()

    def enter(self, update: Update, state: object) -> None:
        """Put the update's conversation in ``state``, as if one of its entry points had
        returned it: a flow opened from outside its own handlers (free text,
        bot.conversations.free_text). PTB's own bookkeeping, as ``_sweep`` uses it."""
        key = self._get_key(update)
        self._idle_since.pop(key, None)
        self._update_state(state, key)
        if key in self._conversations:
            self._idle_since[key] = time.monotonic()

    def start_timer(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Give conversations restored from persistence an idle period and start sweeping."""
        now = time.monotonic()
        for key in self._conversations:
            self._idle_since.setdefault(key, now)
        assert application.job_queue is not None, "the job-queue extra is a dependency"
        interval = min(LONGEST_SWEEP_INTERVAL, max(self.idle_timeout / 10, 0.05))
        application.job_queue.run_repeating(
            self._sweep, interval=interval, first=interval, name=f"{SWEEP_JOB}{self.name}"
        )

    async def _sweep(self, context: BotContext) -> None:
        expired_before = time.monotonic() - self.idle_timeout
        expired: list[ConversationKey] = []
        for key, since in self._idle_since.items():
            if since > expired_before:
                break
            expired.append(key)
        for key in expired:
            # Checked again: while an earlier time-out was being said, this chat may have moved.
            since = self._idle_since.get(key)
            if since is None or since > expired_before:
                continue
            del self._idle_since[key]
            state = self._conversations.get(key)
            if state is None:
                continue  # ended meanwhile
            self._update_state(self.END, key)  # PTB's own way: persisted like any other change
            chat_id, user_id = int(key[0]), int(key[-1])  # per chat and user: (chat, user)
            chat_context = context.application.context_types.context(
                context.application, chat_id=chat_id, user_id=user_id
            )
            try:
                await self._on_timeout(chat_context, chat_id, state)
            except Exception:  # one chat's failure must not stop the others' time-outs
                logger.exception(
                    "Flow %s: time-out of chat %s failed", self.name, chat_ref(chat_id)
                )


def start_timers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Start the idle timer of every flow (after persistence is loaded: in ``post_init``)."""
    for handlers in application.handlers.values():
        for handler in handlers:
            if isinstance(handler, TimedConversation):
                handler.start_timer(application)
