"""Admin API routes of area outages (``docs/admin-api.yaml``, tag *outages*), issue 22:

- ``GET /admin/api/outages?all=1``: the active outages (``all=1``: the newest 100, ended too);
- ``POST /admin/api/outages``: declare one — ``{"city", "neighbourhood" (optional: the whole
  city), "description", "forecast" (ISO 8601 with offset, optional), "created_by"}`` → 201
  with the outage;
- ``POST /admin/api/outages/{id}/end`` (or ``DELETE /admin/api/outages/{id}``): it is over →
  200 with the outage; 404 when there is no such active outage.

A subscriber of that area who says "estou sem internet" is told at once (bot.conversations.
no_internet). Same authentication as the rest of the admin API: ``Authorization: Bearer
<ADMIN_API_TOKEN>``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.admin_auth import check_token, requiring_token
from bot.outages.store import DeclaredOutage, OutageStore

PATH = "/admin/api/outages"
STORE = web.AppKey("outage_store", OutageStore)
CLOCK = web.AppKey("outage_clock", Callable[[], datetime])  # type: ignore[arg-type]
ON_END = web.AppKey("outage_on_end", Callable[[DeclaredOutage], Awaitable[object]])  # type: ignore[arg-type]
MAX_TEXT = {"city": 128, "neighbourhood": 128, "description": 1000, "created_by": 64}


def add_outage_routes(
    app: web.Application,
    store: OutageStore,
    token: str,
    clock: Callable[[], datetime],
    on_end: Callable[[DeclaredOutage], Awaitable[object]] | None = None,
) -> None:
    """``on_end(outage)`` runs after an outage is ended (the chats waiting for it are told)."""
    check_token(token)
    app[STORE] = store
    app[CLOCK] = clock
    if on_end is not None:
        app[ON_END] = on_end
    app.router.add_get(PATH, requiring_token(token, list_outages))
    app.router.add_post(PATH, requiring_token(token, declare_outage))
    app.router.add_post(PATH + "/{id}/end", requiring_token(token, end_outage))
    app.router.add_delete(PATH + "/{id}", requiring_token(token, end_outage))


def _error(message: str, field: str | None = None, status: int = 400) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status)


async def list_outages(request: web.Request) -> web.Response:
    store = request.app[STORE]
    everything = request.query.get("all") in ("1", "true")
    outages = await (store.listing() if everything else store.active())
    return web.json_response({"outages": [outage.to_json() for outage in outages]})


async def declare_outage(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return _error("the body must be a JSON object")
    if not isinstance(body, dict):
        return _error("the body must be a JSON object")
    values: dict[str, str | None] = {}
    for field, limit in MAX_TEXT.items():
        value = body.get(field)
        if value is not None and not isinstance(value, str):
            return _error(f"{field} must be text", field)
        value = (value or "").strip()
        if len(value) > limit:
            return _error(f"{field} is longer than {limit} characters", field)
        values[field] = value or None
    for required in ("city", "description"):
        if not values[required]:
            return _error(f"{required} is required", required)
    forecast = None
    raw = body.get("forecast")
    if raw is not None:
        try:
            forecast = datetime.fromisoformat(str(raw))
        except ValueError:
            return _error("forecast must be an ISO 8601 date-time with its offset", "forecast")
        if forecast.tzinfo is None:
            return _error("forecast must be an ISO 8601 date-time with its offset", "forecast")
    outage = await request.app[STORE].declare(
        city=values["city"] or "",
        neighbourhood=values["neighbourhood"],
        description=values["description"] or "",
        forecast=forecast,
        created_by=values["created_by"] or "API",
        now=request.app[CLOCK](),
    )
    return web.json_response(outage.to_json(), status=201)


async def end_outage(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    valid = raw.isdigit() and len(raw) <= 9  # an id the database's integer holds
    ended = await request.app[STORE].end(int(raw), request.app[CLOCK]()) if valid else None
    if ended is None:
        return _error("no such active outage", status=404)
    on_end = request.app.get(ON_END)
    if on_end is not None:
        await on_end(ended)
    return web.json_response(ended.to_json())
