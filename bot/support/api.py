"""Admin API routes of the hand-offs (``docs/admin-api.yaml``, tag *handoffs*), issue 22:

- ``GET /admin/api/handoffs?limit=N``: the newest hand-offs (1-100, default 50), without their
  messages;
- ``GET /admin/api/handoffs/{id}``: one hand-off with its messages in order (who, when, text or
  caption, the Telegram ``file_id`` of a photo or document); 404 when there is none.

The conversation is kept here even when it was also recorded in a ticket. Same authentication
as the rest of the admin API: ``Authorization: Bearer <ADMIN_API_TOKEN>``.
"""

from __future__ import annotations

from aiohttp import web

from bot.admin_auth import check_token, requiring_token
from bot.support.store import HandoffStore

PATH = "/admin/api/handoffs"
STORE = web.AppKey("handoff_store", HandoffStore)
MAX_LIMIT = 100


def add_handoff_routes(app: web.Application, store: HandoffStore, token: str) -> None:
    """Mount ``GET /admin/api/handoffs`` and ``GET /admin/api/handoffs/{id}`` on ``app``."""
    check_token(token)
    app[STORE] = store
    app.router.add_get(PATH, requiring_token(token, list_handoffs))
    app.router.add_get(PATH + "/{id}", requiring_token(token, get_handoff))


async def list_handoffs(request: web.Request) -> web.Response:
    raw = request.query.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        return web.json_response(
            {"error": f"limit must be a whole number from 1 to {MAX_LIMIT}", "field": "limit"},
            status=400,
        )
    handoffs = await request.app[STORE].listing(int(raw))
    return web.json_response({"handoffs": [handoff.to_json() for handoff in handoffs]})


async def get_handoff(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    store = request.app[STORE]
    handoff = await store.get(int(raw)) if raw.isdigit() else None
    if handoff is None:
        return web.json_response({"error": "no such hand-off"}, status=404)
    lines = await store.lines(handoff.id)
    return web.json_response({**handoff.to_json(), "messages": [line.to_json() for line in lines]})
