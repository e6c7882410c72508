"""Lockout: 5 wrong passwords within 15 minutes lock the chat and the document for 15 minutes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.storage.login_failures import LoginFailureRepository

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)


def _scopes(chat_id: int, document: str | None) -> list[str]:
    scopes = [f"chat:{chat_id}"]
    if document:
        # Hashed so the table never lists which documents someone tried.
        scopes.append("doc:" + hashlib.sha256(document.encode()).hexdigest()[:40])
    return scopes


class LoginGuard:
    def __init__(self, repository: LoginFailureRepository, clock: Callable[[], datetime]) -> None:
        self._repository = repository
        self._clock = clock

    async def locked_until(self, chat_id: int, document: str | None = None) -> datetime | None:
        """When the lock of this chat (or of this document, from any chat) ends, if locked."""
        now = self._clock()
        ends: list[datetime] = []
        found = await self._repository.since(_scopes(chat_id, document), now - WINDOW - LOCKOUT)
        for failures in found.values():
            # Newest first: a run of MAX_FAILURES inside WINDOW locks from its newest one.
            for newest, oldest in zip(failures, failures[MAX_FAILURES - 1 :], strict=False):
                if newest - oldest <= WINDOW and newest + LOCKOUT > now:
                    ends.append(newest + LOCKOUT)
                    break
        return max(ends, default=None)

    async def record_failure(self, chat_id: int, document: str) -> datetime | None:
        """Record a wrong attempt; returns the end of the lock it caused, if any."""
        now = self._clock()
        await self._repository.add(_scopes(chat_id, document), now)
        await self._repository.purge_older_than(now - WINDOW - LOCKOUT)
        return await self.locked_until(chat_id, document)

    async def record_success(self, chat_id: int, document: str) -> None:
        await self._repository.clear(_scopes(chat_id, document))
