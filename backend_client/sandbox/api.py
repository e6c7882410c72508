"""Any :class:`SubscriberBackend` served over our REST contract (``backend_client/openapi.yaml``).

``create_app(SandboxBackend(...))`` is what ``minha-central sandbox serve`` runs, so the ``http``
adapter is tested against a real server and a provider can compare its own implementation with
ours. Session tokens are signed (HMAC) envelopes of the wrapped backend's session: the server keeps
no state of its own, and the wrapped backend still decides whether its session is valid.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from aiohttp import web

from backend_client.errors import BackendError, NotSupported, SessionExpired
from backend_client.http.contract import ERROR_CODES, ROUTES, envelope_for, error_body
from backend_client.http.feed_contract import FEED_ROUTES, options_to_json, segment_from_json
from backend_client.http.wire import WireError, from_json, to_json
from backend_client.kit.tokens import TokenSigner
from backend_client.models import (
    BackendSession,
    DateRange,
    Document,
    InvoiceStatus,
    NewContact,
    NewTicket,
    TicketStatus,
)
from backend_client.protocol import SubscriberBackend
from backend_client.provider import FeedPage, ProviderFeed, Watched

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 32 * 1024 * 1024  # attachments travel as base64 inside JSON
BACKEND_KEY = web.AppKey("backend", object)
FEED_KEY = web.AppKey("feed", object)
SIGNER_KEY = web.AppKey("signer", TokenSigner)

Handler = Callable[[web.Request, SubscriberBackend, BackendSession | None], Awaitable[Any]]


class BadRequest(Exception):
    """The request does not follow the contract (answered 400 bad_request)."""


def _json_error(code: str, message: str, **extra: str) -> web.Response:
    return web.json_response(error_body(code, message, **extra), status=ERROR_CODES[code])


# --- request parsing ---------------------------------------------------------------------------
def _day(request: web.Request, name: str) -> date | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"query parameter {name} must be a date YYYY-MM-DD") from None


def _period(request: web.Request, *, required: bool) -> DateRange | None:
    start, end = _day(request, "start"), _day(request, "end")
    if start is None and end is None and not required:
        return None
    if start is None or end is None:
        raise BadRequest("query parameters start and end are required together")
    try:
        return DateRange(start, end)
    except ValueError:
        raise BadRequest("end is before start") from None


def _statuses(request: web.Request, enum: Any) -> frozenset[Any] | None:
    values = request.query.getall("status", [])
    if not values:
        return None
    try:
        return frozenset(enum(value) for value in values)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise BadRequest(f"status must be one of {allowed}") from None


async def _body(request: web.Request, tp: Any) -> Any:
    try:
        data = await request.json()
    except ValueError:
        raise BadRequest("the body must be JSON") from None
    try:
        return from_json(tp, data, "body")
    except WireError as error:
        raise BadRequest(str(error)) from None


async def _object(request: web.Request, *fields: tuple[str, type]) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise BadRequest("the body must be JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    result: dict[str, Any] = {}
    for name, tp in fields:
        if name not in data:
            raise BadRequest(f"body.{name} is required")
        try:
            result[name] = from_json(tp, data[name], f"body.{name}")
        except WireError as error:
            raise BadRequest(str(error)) from None
    return result


def _id(request: web.Request, name: str) -> str:
    return request.match_info[name]


# --- one handler per operation -----------------------------------------------------------------
async def _ping(request: web.Request, backend: Any, session: Any) -> Any:
    await backend.ping()
    return {"status": "ok"}


async def _login(request: web.Request, backend: Any, session: Any) -> Any:
    body = await _object(request, ("document", str), ("password", str))
    inner = await backend.login(body["document"], body["password"])
    signer: TokenSigner = request.app[SIGNER_KEY]
    token = signer.sign({"s": inner.to_dict()})
    outer = BackendSession(inner.subscriber_id, inner.document, inner.name, token)
    return {"session": to_json(outer)}


async def _change_password(request: web.Request, backend: Any, session: Any) -> Any:
    body = await _object(request, ("current_password", str), ("new_password", str))
    await backend.change_password(session, body["current_password"], body["new_password"])


async def _list_invoices(request: web.Request, backend: Any, session: Any) -> Any:
    return await backend.list_invoices(
        session,
        _period(request, required=False),
        _statuses(request, InvoiceStatus),
        request.query.get("contract_id"),
    )


async def _list_call_records(request: web.Request, backend: Any, session: Any) -> Any:
    return await backend.list_call_records(
        session,
        _id(request, "line_id"),
        _period(request, required=True),
        request.query.get("terminal_type_id"),
    )


async def _reply_ticket(request: web.Request, backend: Any, session: Any) -> Any:
    body = await _object(request, ("text", str), ("attachments", tuple[Document, ...]))
    return await backend.reply_ticket(
        session, _id(request, "ticket_id"), body["text"], body["attachments"]
    )


async def _due_day_change(request: web.Request, backend: Any, session: Any) -> Any:
    body = await _object(request, ("day", int))
    return await backend.request_due_day_change(session, _id(request, "contract_id"), body["day"])


def _simple(method: str, *ids: str) -> Handler:
    async def handler(request: web.Request, backend: Any, session: Any) -> Any:
        return await getattr(backend, method)(session, *(_id(request, name) for name in ids))

    return handler


def _with_period(method: str, *ids: str) -> Handler:
    async def handler(request: web.Request, backend: Any, session: Any) -> Any:
        args = [_id(request, name) for name in ids]
        return await getattr(backend, method)(session, *args, _period(request, required=True))

    return handler


def _with_body(method: str, tp: Any) -> Handler:
    async def handler(request: web.Request, backend: Any, session: Any) -> Any:
        return await getattr(backend, method)(session, await _body(request, tp))

    return handler


async def _list_tickets(request: web.Request, backend: Any, session: Any) -> Any:
    return await backend.list_tickets(session, _statuses(request, TicketStatus))


HANDLERS: dict[str, Handler] = {
    "ping": _ping,
    "login": _login,
    "logout": _simple("logout"),
    "change_password": _change_password,
    "get_subscriber": _simple("get_subscriber"),
    "get_temporary_enabling_policy": _simple("get_temporary_enabling_policy", "contract_id"),
    "request_temporary_enabling": _simple("request_temporary_enabling", "contract_id"),
    "list_invoices": _list_invoices,
    "get_invoice": _simple("get_invoice", "invoice_id"),
    "get_boleto_pdf": _simple("get_boleto_pdf", "invoice_id"),
    "list_financial_entries": _with_period("list_financial_entries"),
    "list_fiscal_notes": _with_period("list_fiscal_notes"),
    "get_fiscal_note_pdf": _simple("get_fiscal_note_pdf", "note_id"),
    "list_contacts": _simple("list_contacts"),
    "add_contact": _with_body("add_contact", NewContact),
    "list_contact_types": _simple("list_contact_types"),
    "link_contact_device": _simple("link_contact_device", "contact_id", "device_id"),
    "unlink_contact_device": _simple("unlink_contact_device", "contact_id", "device_id"),
    "list_phone_lines": _simple("list_phone_lines"),
    "list_terminal_types": _simple("list_terminal_types"),
    "list_call_records": _list_call_records,
    "list_connection_sessions": _with_period("list_connection_sessions", "login_id"),
    "get_due_day_options": _simple("get_due_day_options", "contract_id"),
    "request_due_day_change": _due_day_change,
    "list_ticket_subjects": _simple("list_ticket_subjects"),
    "list_outages": _simple("list_outages"),
    "list_tickets": _list_tickets,
    "get_ticket": _simple("get_ticket", "ticket_id"),
    "open_ticket": _with_body("open_ticket", NewTicket),
    "reply_ticket": _reply_ticket,
    "get_ticket_attachment": _simple("get_ticket_attachment", "ticket_id", "attachment_id"),
}


# --- the feed (no subscriber session; X-Api-Key when the server has one) -------------------------
def _required_day(request: web.Request, name: str) -> date:
    found = _day(request, name)
    if found is None:
        raise BadRequest(f"query parameter {name} is required")
    return found


def _cursor(request: web.Request) -> str | None:
    return request.query.get("cursor") or None


def _page(page: FeedPage[Any]) -> dict[str, Any]:
    return {"items": to_json(page.items), "cursor": page.cursor}


def _feed_window(method: str) -> Callable[[web.Request, Any], Awaitable[Any]]:
    async def handler(request: web.Request, feed: Any) -> Any:
        period = _period(request, required=True)
        assert period is not None
        return _page(
            await getattr(feed, method)(
                period.start, period.end, watched=(), cursor=_cursor(request)
            )
        )

    return handler


async def _ticket_events(request: web.Request, feed: Any) -> Any:
    raw = request.query.get("since", "")
    try:
        since = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest("query parameter since must be an ISO 8601 date-time") from None
    if since.tzinfo is None:
        raise BadRequest("query parameter since needs a UTC offset")
    return _page(await feed.ticket_events_since(since, watched=(), cursor=_cursor(request)))


async def _enablings(request: web.Request, feed: Any) -> Any:
    day = _required_day(request, "day")
    return _page(await feed.enablings_ending_on(day, watched=(), cursor=_cursor(request)))


async def _audience(request: web.Request, feed: Any) -> Any:
    try:
        data = await request.json()
    except ValueError:
        raise BadRequest("the body must be JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    try:
        segment = segment_from_json(data.get("segment"), "body.segment")
        ids = from_json(list[str] | None, data.get("subscriber_ids"), "body.subscriber_ids")
        cursor = from_json(str | None, data.get("cursor"), "body.cursor")
    except WireError as error:
        raise BadRequest(str(error)) from None
    watched: list[Watched] = []
    if ids is not None:  # only the bot's linked subscribers
        if not ids:
            return {"items": [], "cursor": None}
        segment = replace(
            segment,
            subscriber_ids=(
                segment.subscriber_ids & frozenset(ids)
                if segment.subscriber_ids
                else frozenset(ids)
            ),
        )
        watched = [Watched(i, i) for i in ids]
        if not segment.subscriber_ids:
            return {"items": [], "cursor": None}
    return _page(await feed.audience(segment, watched=watched, cursor=cursor or None))


async def _audience_options(request: web.Request, feed: Any) -> Any:
    return options_to_json(await feed.audience_options(watched=()))


async def _unlink_device(request: web.Request, feed: Any) -> Any:
    await feed.unlink_device(_id(request, "contact_id"), _id(request, "device_id"))


FEED_HANDLERS: dict[str, Callable[[web.Request, Any], Awaitable[Any]]] = {
    "open_invoices_due_between": _feed_window("open_invoices_due_between"),
    "payments_between": _feed_window("payments_between"),
    "ticket_events_since": _ticket_events,
    "fiscal_notes_issued_between": _feed_window("fiscal_notes_issued_between"),
    "enablings_ending_on": _enablings,
    "audience": _audience,
    "audience_options": _audience_options,
    "unlink_device": _unlink_device,
}


def _feed_endpoint(operation: str, status: int) -> Callable[..., Awaitable[web.Response]]:
    handler = FEED_HANDLERS[operation]

    async def endpoint(request: web.Request) -> web.Response:
        feed: Any = request.app[FEED_KEY]
        if feed is None:
            raise NotSupported(operation)
        result = await handler(request, feed)
        if status == 204:
            return web.Response(status=204)
        return web.json_response(result, status=status)

    endpoint.__name__ = operation
    return endpoint


def _session(request: web.Request) -> BackendSession:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SessionExpired()
    claims = request.app[SIGNER_KEY].verify(token.strip())
    stored = claims.get("s")
    try:
        session = BackendSession.from_dict(stored)  # type: ignore[arg-type]
    except (KeyError, TypeError):
        raise SessionExpired() from None
    claimed = request.headers.get("X-Subscriber-Id")
    if claimed is not None and claimed != session.subscriber_id:
        raise SessionExpired()  # a session mixed up with someone else's token
    return session


def _endpoint(operation: str, status: int, auth: bool) -> Callable[..., Awaitable[web.Response]]:
    handler = HANDLERS[operation]

    async def endpoint(request: web.Request) -> web.Response:
        backend: Any = request.app[BACKEND_KEY]
        session = _session(request) if auth else None
        result = await handler(request, backend, session)
        if status == 204:
            return web.Response(status=204)
        if isinstance(result, list):
            return web.json_response({"items": to_json(result)}, status=status)
        return web.json_response(to_json(result), status=status)

    endpoint.__name__ = operation
    return endpoint


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except BackendError as error:
        status, body = envelope_for(error)
        return web.json_response(body, status=status)
    except BadRequest as error:
        return _json_error("bad_request", str(error))
    except web.HTTPRequestEntityTooLarge:
        return _json_error("bad_request", "the request body is too large")
    except web.HTTPNotFound:
        return _json_error("not_found", "no such route")
    except web.HTTPMethodNotAllowed:
        return _json_error("bad_request", "method not allowed on this route")
    except Exception:
        logger.exception("unexpected error serving %s %s", request.method, request.path)
        return _json_error("internal", "unexpected server error")


def _api_key_check(api_key: str | None) -> Any:
    @web.middleware
    async def check(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        given = request.headers.get("X-Api-Key", "")
        if api_key and not hmac.compare_digest(given.encode(), api_key.encode()):
            return _json_error("forbidden", "this client is not authorised (X-Api-Key)")
        return await handler(request)

    return check


def create_app(
    backend: SubscriberBackend,
    *,
    signer: TokenSigner | None = None,
    api_key: str | None = None,
    manage_backend: bool = False,
    feed: ProviderFeed | None = None,
) -> web.Application:
    """The aiohttp application; ``manage_backend`` starts and closes ``backend`` with the app.
    The feed routes answer from ``feed`` (by default ``backend``'s own, unpaced: the sandbox's
    for ``minha-central sandbox serve``); without one, ``not_supported``."""
    app = web.Application(
        middlewares=[_errors, _api_key_check(api_key)], client_max_size=MAX_REQUEST_BYTES
    )
    app[BACKEND_KEY] = backend
    app[SIGNER_KEY] = signer or TokenSigner()
    for operation, route in ROUTES.items():
        app.router.add_route(
            route.method, route.full_path, _endpoint(operation, route.status, route.auth)
        )
    if feed is None:
        from backend_client.sandbox.backend import SandboxBackend

        if isinstance(backend, SandboxBackend):
            from backend_client.sandbox.feed import SandboxFeed

            feed = SandboxFeed(backend)
    app[FEED_KEY] = feed
    for operation, route in FEED_ROUTES.items():
        app.router.add_route(route.method, route.full_path, _feed_endpoint(operation, route.status))
    if manage_backend:

        async def lifecycle(app: web.Application) -> Any:
            await backend.start()
            yield
            await backend.close()

        app.cleanup_ctx.append(lifecycle)
    return app
