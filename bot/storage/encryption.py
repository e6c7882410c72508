"""Secrets at rest: what chat data keeps of a login (the backend session token, the CPF/CNPJ) is
stored encrypted with Fernet, under the keys of the ``ENCRYPTION_KEY`` setting.

Fernet (https://cryptography.io/en/latest/fernet/) is authenticated encryption (AES-128-CBC and
HMAC-SHA256) with a URL-safe base64 key of 32 bytes. ``ENCRYPTION_KEY`` holds one or more keys
separated by commas: :class:`~cryptography.fernet.MultiFernet` "performs all encryption options
using the first key in the list provided" and "attempts to decrypt tokens with each key in turn",
which is how keys are rotated (a new key first, the old ones after it until nothing uses them).

The sandbox may run without ``ENCRYPTION_KEY``: it then generates a key once and keeps it in a
file beside its own database (``minha-central-sandbox.key`` beside ``minha-central-sandbox.db``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.engine import make_url

from bot.settings import ENCRYPTION_KEY_HINT, Settings, SettingsError, missing_encryption_key

logger = logging.getLogger(__name__)

SEALED = "fernet"  # a sealed value is stored as {"fernet": "<Fernet token>"}


class Unreadable(Exception):
    """A sealed value that none of the keys opens (its key was removed or lost)."""


class SecretBox:
    """Seals JSON values with the first key; opens them with any key."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._primary = Fernet(keys[0])
        self._first = keys[0]
        self._any = MultiFernet([Fernet(key) for key in keys])

    def derive(self, purpose: str) -> bytes:
        """A key for another use (e.g. HMAC of documents), derived from the first key:
        HMAC-SHA256(key, "minha-central:" + purpose). The label keeps it apart from Fernet's own
        use of the key and from other purposes; changing the first key changes it too."""
        raw = base64.urlsafe_b64decode(self._first)  # Fernet keys: 32 bytes, URL-safe base64
        return hmac.new(raw, b"minha-central:" + purpose.encode(), hashlib.sha256).digest()

    def seal(self, value: Any) -> dict[str, str]:
        token = self._primary.encrypt(json.dumps(value, separators=(",", ":")).encode())
        return {SEALED: token.decode()}

    @staticmethod
    def is_sealed(stored: Any) -> bool:
        return isinstance(stored, dict) and set(stored) == {SEALED}

    def open(self, stored: Any) -> tuple[Any, bool]:
        """The value and whether it should be written again: stored in clear (before encryption
        at rest) or sealed with a key that is no longer the first. Raises :class:`Unreadable`."""
        if not self.is_sealed(stored):
            return stored, True
        token = stored[SEALED].encode()
        try:
            return json.loads(self._primary.decrypt(token)), False
        except InvalidToken:
            pass
        try:
            return json.loads(self._any.decrypt(token)), True
        except InvalidToken:
            raise Unreadable from None


def sandbox_key_file(settings: Settings) -> Path | None:
    """Where the sandbox keeps its generated key: beside its database file (None in memory or
    on a server database)."""
    url = make_url(settings.sandbox_database_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    database = Path(url.database)
    return database.with_name(database.stem + ".key")


def box_for(settings: Settings) -> SecretBox:
    """The keys of ``ENCRYPTION_KEY``; on the sandbox without it, its generated key."""
    if settings.encryption_keys:
        return SecretBox(settings.encryption_keys)
    if settings.backend != "sandbox":
        raise SettingsError([missing_encryption_key(settings.backend)])
    path = sandbox_key_file(settings)
    if path is None:
        logger.warning(
            "ENCRYPTION_KEY is not set and the sandbox's database is not a file: logins are "
            "encrypted with a key of this process only and end when it stops"
        )
        return SecretBox([Fernet.generate_key().decode()])
    try:
        return SecretBox([_read_or_create(path)])
    except (OSError, ValueError) as error:
        raise SettingsError(
            [
                f"ENCRYPTION_KEY is not set and the sandbox's key file {path} cannot be used "
                f"({type(error).__name__}); set ENCRYPTION_KEY ({ENCRYPTION_KEY_HINT}) or "
                "delete the file (logins stored with it are then lost)."
            ]
        ) from None


def _read_or_create(path: Path) -> str:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        Fernet(key)  # ValueError when it is not a key
        return key
    key = Fernet.generate_key().decode()
    with os.fdopen(descriptor, "w") as file:
        file.write(key + "\n")
    logger.info("sandbox: generated an encryption key in %s", path)
    return key
