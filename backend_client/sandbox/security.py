"""Password hashing (scrypt), session tokens and the password policy of the sandbox."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

# The sandbox runs inside the bot's process, so its password check costs the bot's CPU, unlike
# a provider's system which pays for it on its own servers. 2**10 keeps a salted, memory-hard
# hash at about 3 ms; 2**14 (~60 ms) made the login step the bot's slowest by far.
SCRYPT_N = 2**10
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
MIN_PASSWORD_LENGTH = 8


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES, maxmem=64 * 2**20
    )


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt_b64$hash_b64``; ``salt`` is random unless given (deterministic seeds)."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    encoded_salt = base64.b64encode(salt).decode("ascii")
    encoded_hash = base64.b64encode(digest).decode("ascii")
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded_salt}${encoded_hash}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a :func:`hash_password` string."""
    try:
        scheme, n, r, p, encoded_salt, encoded_hash = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(encoded_salt)
        expected = base64.b64decode(encoded_hash)
        actual = _scrypt(password, salt, int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than today's (rehash on next login)."""
    return not stored.startswith(f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$")


@functools.cache
def dummy_hash() -> str:
    """Verified against when the document is unknown, so both cases cost the same time."""
    return hash_password("not-a-password", salt=b"\x00" * SALT_BYTES)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def password_problem(current: str, new: str) -> str | None:
    """The pt-BR reason why ``new`` is not acceptable, or None when it is."""
    if len(new) < MIN_PASSWORD_LENGTH:
        return f"A nova senha precisa ter pelo menos {MIN_PASSWORD_LENGTH} caracteres."
    if not any(c.isalpha() for c in new) or not any(c.isdigit() for c in new):
        return "A nova senha precisa ter letras e números."
    if new == current:
        return "A nova senha precisa ser diferente da senha atual."
    return None
