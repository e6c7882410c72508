"""Lockout: 5 wrong passwords within 15 minutes lock the chat and the document for 15 minutes.

Exact whatever the concurrency: a password check is reserved in the database before it is sent
to the backend (see ``LoginFailureRepository.reserve``), so at most ``MAX_FAILURES`` checks of a
chat or a document are ever in flight or failed within the window, across chats and processes.
When the attempts cannot be read or reserved (the database locked or down) the login is refused:
the lockout fails closed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from bot.storage.login_failures import LoginFailureRepository

logger = logging.getLogger(__name__)

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
# What a failing database may raise (SQLAlchemy wraps the drivers' errors; a connection that
# cannot be opened may surface as OSError or a timeout).
DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)


class LockoutUnavailable(Exception):
    """The attempts could not be read or recorded: the login must be refused."""


class LockedOut(Exception):
    def __init__(self, until: datetime) -> None:
        super().__init__("locked out")
        self.until = until


@dataclass(frozen=True)
class Attempt:
    """A password check reserved before it is sent to the backend."""

    id: str
    scopes: list[str]
    found: dict[str, list[datetime]]  # the attempts seen when it was reserved


# The key of the documents' hashes is derived from ENCRYPTION_KEY for this purpose only.
DOCUMENT_HASH_PURPOSE = "login-failures/document"


def _scopes(chat_id: int, document: str | None, key: bytes) -> list[str]:
    scopes = [f"chat:{chat_id}"]
    if document:
        # Keyed so the table never tells which documents someone tried: a plain hash of a CPF
        # (11 digits, 2 of them check digits) is reversed by trying the 10^9 candidates.
        digest = hmac.new(key, document.encode(), hashlib.sha256).hexdigest()
        scopes.append("doc:" + digest)
    return scopes


CLEAN_SCOPES_KEPT = 100_000  # chats and documents remembered as having no recent failure


def _lock_end(found: dict[str, list[datetime]], now: datetime) -> datetime | None:
    """The end of the lock these attempts (newest first, per scope) cause, if any."""
    ends: list[datetime] = []
    for attempts in found.values():
        # A run of MAX_FAILURES inside WINDOW locks from its newest one.
        for newest, oldest in zip(attempts, attempts[MAX_FAILURES - 1 :], strict=False):
            if newest - oldest <= WINDOW and newest + LOCKOUT > now:
                ends.append(newest + LOCKOUT)
                break
    return max(ends, default=None)


class LoginGuard:
    """The lockout rule. Almost every login is of a chat and a document with no failure: once
    the database has said so, ``locked_until`` remembers it and does not ask again. That answer
    only decides whether to ask for the password; the check itself is always reserved in the
    database (``reserve``), which is exact even when another process recorded failures since."""

    def __init__(
        self,
        repository: LoginFailureRepository,
        clock: Callable[[], datetime],
        document_key: bytes,
    ) -> None:
        if len(document_key) < 16:
            raise ValueError("the documents' hash key is too short")
        self._repository = repository
        self._clock = clock
        self._key = document_key
        self._clean: dict[str, None] = {}  # oldest first

    def _all_clean(self, scopes: list[str]) -> bool:
        return all(scope in self._clean for scope in scopes)

    def _remember_clean(self, scopes: list[str]) -> None:
        for scope in scopes:
            self._clean[scope] = None
        while len(self._clean) > CLEAN_SCOPES_KEPT:
            del self._clean[next(iter(self._clean))]

    def _forget_clean(self, scopes: list[str]) -> None:
        for scope in scopes:
            self._clean.pop(scope, None)

    async def locked_until(self, chat_id: int, document: str | None = None) -> datetime | None:
        """When the lock of this chat (or of this document, from any chat) ends, if locked.

        Raises LockoutUnavailable when the database cannot say."""
        scopes = _scopes(chat_id, document, self._key)
        if self._all_clean(scopes):
            return None
        now = self._clock()
        try:
            found = await self._repository.since(scopes, now - WINDOW - LOCKOUT)
        except DATABASE_ERRORS as error:
            raise LockoutUnavailable from error
        self._remember_clean([scope for scope, attempts in found.items() if not attempts])
        return _lock_end(found, now)

    async def reserve(self, chat_id: int, document: str) -> Attempt:
        """Reserve a password check of this chat and document, before sending it to the backend.

        Raises LockedOut when the chat or the document is locked, or already has as many checks
        failed or in flight as a lock takes; LockoutUnavailable when the database cannot record
        it (the check must not be made)."""
        now = self._clock()
        scopes = _scopes(chat_id, document, self._key)
        self._forget_clean(scopes)

        def allow(found: dict[str, list[datetime]]) -> bool:
            return _lock_end(found, now) is None and all(
                sum(1 for at in attempts if at > now - WINDOW) < MAX_FAILURES
                for attempts in found.values()
            )

        try:
            attempt, found = await self._repository.reserve(
                scopes, now, now - WINDOW - LOCKOUT, allow
            )
        except DATABASE_ERRORS as error:
            raise LockoutUnavailable from error
        if attempt is None:
            # Checks still in flight count as attempts made when they were reserved.
            raise LockedOut(_lock_end(found, now) or now + LOCKOUT)
        return Attempt(attempt, scopes, found)

    async def failed(self, attempt: Attempt) -> datetime | None:
        """The password was wrong; returns the end of the lock it caused, if any. The attempt
        stays counted even if the database cannot be written now (it is pending there)."""
        now = self._clock()
        try:
            await self._repository.confirm_failure(attempt.id, now)
            await self._repository.purge_older_than(now - WINDOW - LOCKOUT)
            found = await self._repository.since(attempt.scopes, now - WINDOW - LOCKOUT)
        except DATABASE_ERRORS as error:
            logger.warning("login failure left pending (it still counts): %s", type(error).__name__)
            found = {
                scope: sorted([*attempts, now], reverse=True)
                for scope, attempts in attempt.found.items()
            }
        return _lock_end(found, now)

    async def succeeded(self, attempt: Attempt) -> None:
        try:
            await self._repository.succeed(attempt.id, attempt.scopes)
        except DATABASE_ERRORS as error:
            logger.warning("login success not recorded: %s", type(error).__name__)

    async def release(self, attempt: Attempt) -> None:
        """The check got no answer (backend unavailable, an error): it does not count."""
        try:
            await self._repository.release(attempt.id)
        except DATABASE_ERRORS as error:
            logger.warning("login attempt left pending: %s", type(error).__name__)

    # --- for checks that are not reserved (the current password of Alterar Senha) ---
    async def record_failure(self, chat_id: int, document: str) -> datetime | None:
        """Record a wrong attempt; returns the end of the lock it caused, if any."""
        now = self._clock()
        scopes = _scopes(chat_id, document, self._key)
        self._forget_clean(scopes)
        await self._repository.add(scopes, now)
        await self._repository.purge_older_than(now - WINDOW - LOCKOUT)
        return await self.locked_until(chat_id, document)

    async def record_success(self, chat_id: int, document: str) -> None:
        scopes = _scopes(chat_id, document, self._key)
        if not self._all_clean(scopes):
            await self._repository.clear(scopes)
