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


CLEAN_SCOPES_KEPT = 100_000  # chats and documents remembered as having no recent failure


class LoginGuard:
    """The lockout rule. Almost every login is of a chat and a document with no failure: once
    the database has said so, it is remembered here and not asked again (this process is the
    only one that records failures, so such a scope stays clean until it records one)."""

    def __init__(self, repository: LoginFailureRepository, clock: Callable[[], datetime]) -> None:
        self._repository = repository
        self._clock = clock
        self._clean: dict[str, None] = {}  # oldest first

    def _all_clean(self, scopes: list[str]) -> bool:
        return all(scope in self._clean for scope in scopes)

    def _remember_clean(self, scopes: list[str]) -> None:
        for scope in scopes:
            self._clean[scope] = None
        while len(self._clean) > CLEAN_SCOPES_KEPT:
            del self._clean[next(iter(self._clean))]

    async def locked_until(self, chat_id: int, document: str | None = None) -> datetime | None:
        """When the lock of this chat (or of this document, from any chat) ends, if locked."""
        scopes = _scopes(chat_id, document)
        if self._all_clean(scopes):
            return None
        now = self._clock()
        ends: list[datetime] = []
        found = await self._repository.since(scopes, now - WINDOW - LOCKOUT)
        self._remember_clean([scope for scope, failures in found.items() if not failures])
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
        scopes = _scopes(chat_id, document)
        for scope in scopes:
            self._clean.pop(scope, None)
        await self._repository.add(scopes, now)
        await self._repository.purge_older_than(now - WINDOW - LOCKOUT)
        return await self.locked_until(chat_id, document)

    async def record_success(self, chat_id: int, document: str) -> None:
        scopes = _scopes(chat_id, document)
        if not self._all_clean(scopes):
            await self._repository.clear(scopes)
            self._remember_clean(scopes)
