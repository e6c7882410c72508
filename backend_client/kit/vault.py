"""Subscriber credentials kept only in the adapter's memory, behind an opaque session token.

For systems that want the subscriber's own CPF/CNPJ and password on every call (SGP's Central
endpoints), the adapter must not hand the password to the bot, which persists sessions. It keeps
the pair here, keyed by the SHA-256 of a random token; :class:`BackendSession` carries the token.
After a restart (or idle expiry) the token is unknown and :class:`SessionExpired` asks the
subscriber to log in again.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from backend_client.errors import SessionExpired

DEFAULT_IDLE_SECONDS = 12 * 3600
DEFAULT_MAX_ENTRIES = 10_000


@dataclass(slots=True)
class VaultEntry:
    subscriber_id: str
    document: str
    secret: str = field(repr=False)
    last_used: float = 0.0


def _key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class CredentialVault:
    """Token -> (subscriber, document, password), in memory, bounded, with idle expiry."""

    def __init__(
        self,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, VaultEntry] = OrderedDict()
        self._idle = idle_seconds
        self._max = max_entries
        self._clock = clock

    def __repr__(self) -> str:
        return f"CredentialVault({len(self._entries)} sessions)"

    def __len__(self) -> int:
        return len(self._entries)

    def issue(self, subscriber_id: str, document: str, secret: str) -> str:
        token = secrets.token_urlsafe(32)
        self._entries[_key(token)] = VaultEntry(subscriber_id, document, secret, self._clock())
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)  # the least recently used session goes first
        return token

    def resolve(self, token: str, subscriber_id: str) -> VaultEntry:
        key = _key(token)
        entry = self._entries.get(key)
        now = self._clock()
        if entry is None or entry.subscriber_id != subscriber_id:
            raise SessionExpired()
        if now - entry.last_used > self._idle:
            del self._entries[key]
            raise SessionExpired()
        entry.last_used = now
        self._entries.move_to_end(key)
        return entry

    def revoke(self, token: str) -> None:
        self._entries.pop(_key(token), None)

    def revoke_others(self, subscriber_id: str, keep_token: str) -> None:
        keep = _key(keep_token)
        for key in [k for k, e in self._entries.items() if e.subscriber_id == subscriber_id]:
            if key != keep:
                del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()
