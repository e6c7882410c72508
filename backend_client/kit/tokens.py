"""Signed, expiring, self-contained tokens (HMAC-SHA256), for sessions that survive restarts.

``v1.<payload>.<signature>`` where the payload is base64url JSON with ``iat`` (issued at, Unix
seconds). Tampering, a wrong key or an expired token all raise :class:`SessionExpired`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from backend_client.errors import SessionExpired

_PREFIX = "v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for ``purpose`` derived from a configured secret (so one secret serves many uses)."""
    return hmac.new(secret.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest()


class TokenSigner:
    def __init__(
        self,
        key: bytes | None = None,
        max_age_seconds: float = 30 * 24 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = key or secrets.token_bytes(32)
        self._max_age = max_age_seconds
        self._clock = clock

    def __repr__(self) -> str:
        return "TokenSigner(key=***)"

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._key, f"{_PREFIX}.{payload}".encode("ascii"), hashlib.sha256)
        return _b64(digest.digest())

    def sign(self, claims: dict[str, Any]) -> str:
        body = {**claims, "iat": int(self._clock()), "n": secrets.token_hex(4)}
        payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        return f"{_PREFIX}.{payload}.{self._mac(payload)}"

    def verify(self, token: str) -> dict[str, Any]:
        try:
            prefix, payload, signature = token.split(".")
        except ValueError:
            raise SessionExpired() from None
        if prefix != _PREFIX or not hmac.compare_digest(signature, self._mac(payload)):
            raise SessionExpired()
        try:
            claims = json.loads(_unb64(payload))
        except (ValueError, UnicodeDecodeError):
            raise SessionExpired() from None
        issued = claims.get("iat") if isinstance(claims, dict) else None
        if not isinstance(issued, int) or self._clock() - issued > self._max_age:
            raise SessionExpired()
        return claims
