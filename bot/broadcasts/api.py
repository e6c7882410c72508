"""The admin HTTP API (JSON, under ``/admin/api``): provider broadcasts — create, list, get
(progress and report), cancel, pause, resume — and the audience options. Documented in
``docs/admin-api.yaml`` (OpenAPI 3).

Every route needs ``Authorization: Bearer <ADMIN_API_TOKEN>``; a missing or wrong token gets
401 before anything is read or changed. Without ``ADMIN_API_TOKEN`` the API is not mounted at
all. A malformed body gets 400 with the field named (``{"error": …, "field": …}``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from backend_client.errors import BackendError
from bot import parsing
from bot.admin_auth import check_token, refusal
from bot.broadcasts.audience import Audience
from bot.broadcasts.content import MEDIA_KINDS, InvalidInput, displayed_text, validate_content
from bot.broadcasts.schedule import check_send_at
from bot.broadcasts.service import BroadcastService, Draft, StateError

logger = logging.getLogger(__name__)
PREFIX = "/admin/api"
SERVICE = web.AppKey("broadcasts", BroadcastService)
TOKEN = web.AppKey("admin_token", str)
CREATE_FIELDS = frozenset({"text", "media", "audience", "send_at", "dry_run"})
MAX_LIMIT = 100
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_admin_routes(app: web.Application, service: BroadcastService, token: str) -> None:
    """Mount the admin API on ``app`` at ``/admin/api``."""
    check_token(token)
    admin = web.Application(middlewares=[_authenticate, _errors])
    admin[SERVICE] = service
    admin[TOKEN] = token
    admin.router.add_get("/broadcasts", list_broadcasts)
    admin.router.add_post("/broadcasts", create_broadcast)
    admin.router.add_get("/broadcasts/{id}", get_broadcast)
    admin.router.add_post("/broadcasts/{id}/cancel", _action("cancel"))
    admin.router.add_post("/broadcasts/{id}/pause", _action("pause"))
    admin.router.add_post("/broadcasts/{id}/resume", _action("resume"))
    admin.router.add_get("/audience/options", audience_options)
    app.add_subapp(PREFIX, admin)


class BadRequest(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _problem(http_status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=http_status)


@web.middleware
async def _authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    refused = refusal(request, request.app[TOKEN])
    return refused if refused is not None else await handler(request)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadRequest as error:
        return _problem(400, str(error), field=error.field)
    except InvalidInput as error:
        return _problem(400, str(error), field=error.field)
    except StateError as error:
        return _problem(409, str(error), status=error.broadcast.status)
    except BackendError as error:
        logger.warning("admin API: provider system unavailable: %s", error)
        return _problem(503, "the provider system is unavailable; try again later")


# --- handlers -------------------------------------------------------------------------------
async def list_broadcasts(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    limit = _int_query(request, "limit", 20, 1, MAX_LIMIT)
    offset = _int_query(request, "offset", 0, 0, 10**9)
    reports = await service.reports(limit, offset)
    total = await service.store.count()
    return web.json_response(
        {
            "broadcasts": [report.to_json() for report in reports],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


async def create_broadcast(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    body = await _json_body(request)
    unknown = sorted(set(body) - CREATE_FIELDS)
    if unknown:
        raise BadRequest(unknown[0], f"unknown field (expected {', '.join(sorted(CREATE_FIELDS))})")
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise BadRequest("dry_run", "expected true or false")
    media_kind, file_id, name = _media(body.get("media"))
    text = body.get("text")
    shown = validate_content(text, media_kind)
    if "audience" not in body:
        raise BadRequest("audience", 'required, e.g. {"all": true}')
    audience = Audience.from_json(body["audience"])
    send_at = _instant(body.get("send_at"))
    draft = Draft(
        text=str(text),
        audience=audience,
        send_at=send_at,
        media_kind=media_kind,
        media_file_id=file_id,
        media_name=name,
    )
    if dry_run:
        if send_at is not None:
            check_send_at(send_at, service.clock())
        checked = await service.check_audience(audience)
        return web.json_response(
            {
                "recipients": await service.count(checked),
                "audience": checked.to_json(),
                "text_shown": shown,
            }
        )
    broadcast = await service.create(draft, created_by="api")
    report = await service.report(broadcast.id)
    assert report is not None
    location = f"{PREFIX}/broadcasts/{broadcast.id}"
    return web.json_response(report.to_json(), status=201, headers={"Location": location})


async def get_broadcast(request: web.Request) -> web.Response:
    report = await request.app[SERVICE].report(_broadcast_id(request))
    if report is None:
        return _problem(404, "no such broadcast")
    data = report.to_json()
    data["text_shown"] = displayed_text(report.broadcast.text)
    return web.json_response(data)


def _action(name: str) -> Handler:
    async def act(request: web.Request) -> web.Response:
        service = request.app[SERVICE]
        broadcast_id = _broadcast_id(request)
        try:
            await getattr(service, name)(broadcast_id)
        except LookupError:
            return _problem(404, "no such broadcast")
        logger.info("admin API: %s broadcast %s", name, broadcast_id)
        report = await service.report(broadcast_id)
        assert report is not None
        return web.json_response(report.to_json())

    return act


async def audience_options(request: web.Request) -> web.Response:
    options = await request.app[SERVICE].options()
    if options is None:
        return web.json_response({"places": None, "plans": None, "statuses": _statuses()})
    return web.json_response(
        {
            "places": [
                {"city": city, "neighbourhoods": list(hoods)} for city, hoods in options.places
            ],
            "plans": [{"id": plan_id, "name": name} for plan_id, name in options.plans],
            "statuses": _statuses(),
        }
    )


# --- parsing ------------------------------------------------------------------------------------
def _statuses() -> list[str]:
    return ["active", "suspended", "overdue"]


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        return parsing.json_object(await request.read())
    except parsing.JsonError as error:
        raise BadRequest("body", str(error)) from None


def _media(value: Any) -> tuple[str | None, str | None, str | None]:
    if value is None:
        return None, None, None
    if not isinstance(value, dict):
        raise BadRequest("media", 'expected {"type": "photo"|"document", "file_id": …} or null')
    kind, file_id, name = value.get("type"), value.get("file_id"), value.get("name")
    if kind not in MEDIA_KINDS:
        raise BadRequest("media.type", "expected photo or document")
    if not isinstance(file_id, str) or not file_id.strip() or len(file_id) > 255:
        raise BadRequest("media.file_id", "expected the file_id Telegram gave this bot")
    if name is not None and (not isinstance(name, str) or len(name) > 255):
        raise BadRequest("media.name", "expected a file name (string) or null")
    return kind, file_id.strip(), name


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    example = "e.g. 2026-11-30T19:30:00-03:00"
    if not isinstance(value, str):
        raise BadRequest("send_at", f"expected an ISO 8601 instant with time zone ({example})")
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest("send_at", f"expected an ISO 8601 instant ({example})") from None
    if instant.tzinfo is None:
        raise BadRequest("send_at", f"the instant needs a time zone ({example})")
    return instant


def _int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    value = parsing.ascii_int(raw, min=low, max=high)
    if value is None:
        raise BadRequest(name, f"expected a whole number from {low} to {high}")
    return value


def _broadcast_id(request: web.Request) -> int:
    value = parsing.ascii_int(request.match_info["id"], max_digits=12)
    if value is None:
        raise BadRequest("id", "expected a broadcast number")
    return value
