"""The one check of the admin API's bearer token (``Authorization: Bearer <ADMIN_API_TOKEN>``).

Every admin route (broadcasts, provider configuration, hand-offs, …) refuses a request without
the token with the same 401 before anything is read or changed; the comparison takes constant
time, and the log line names the caller's address, never what it sent.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

logger = logging.getLogger(__name__)
MIN_TOKEN_LENGTH = 24
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def check_token(token: str) -> None:
    """Refuse to mount admin routes behind a token too short to resist guessing."""
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"the admin API token must have at least {MIN_TOKEN_LENGTH} characters")


def refusal(request: web.Request, token: str) -> web.Response | None:
    """``None`` when ``request`` carries ``token``; else the 401 to answer with."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return None
    logger.warning("admin API: wrong or missing token from %s", request.remote)
    response = web.json_response({"error": "missing or wrong bearer token"}, status=401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="minha-central-admin"'
    return response


def requiring_token(token: str, handler: Handler) -> Handler:
    """``handler`` behind the token check (for routes mounted one by one on the main app)."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        refused = refusal(request, token)
        return refused if refused is not None else await handler(request)

    return guarded
