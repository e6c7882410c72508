"""The bot's HTTP server (aiohttp): Telegram webhook, backend event push, health and metrics.

Each path has its own authentication:
- ``POST /telegram/<path>``: Telegram's ``X-Telegram-Bot-Api-Secret-Token`` (403 otherwise);
- ``POST /events/backend``: an HMAC-SHA256 of ``<timestamp>.<body>`` with the shared secret in
  ``X-Minha-Central-Signature: sha256=<hex>`` and ``X-Minha-Central-Timestamp`` (401 otherwise);
- ``/healthz``, ``/readyz``, ``/metrics``: open, meant for the local network / reverse proxy;
- ``/admin/api/…`` (``bot.broadcasts.api``, only with ``ADMIN_API_TOKEN``):
  ``Authorization: Bearer`` with that token (401 otherwise).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web
from sqlalchemy import text
from telegram import Update

from backend_client.errors import BackendError, CredentialsRefused
from backend_client.models import FiscalNote, Invoice, InvoiceStatus
from backend_client.provider import (
    EnablingEnding,
    SubscriberFiscalNote,
    SubscriberInvoice,
    TicketEvent,
    TicketEventKind,
)
from bot import metrics, parsing
from bot.notifications.service import (
    Notice,
    enabling_notice,
    fiscal_note_notice,
    payment_notice,
    ticket_notice,
)
from bot.services.context import services_of

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Minha-Central-Signature"
TIMESTAMP_HEADER = "X-Minha-Central-Timestamp"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_CLOCK_SKEW = 300  # seconds
APPLICATION = web.AppKey("application", object)
EXTRA_ROUTES = web.AppKey("extra", list)


class EventError(ValueError):
    """A pushed event is malformed; the message names the field."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """What a backend puts in ``X-Minha-Central-Signature``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def create_web_app(
    application: Any,
    *,
    webhook_path: str | None = None,
    webhook_secret: str | None = None,
    events_secret: str | None = None,
    on_events: Callable[[list[Notice]], Awaitable[int]] | None = None,
    admin_token: str | None = None,
    broadcasts: Any = None,
) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[APPLICATION] = application
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    if webhook_path is not None:
        if not webhook_secret:
            raise ValueError("a webhook needs a secret token")
        app.router.add_post(webhook_path, _webhook_handler(application, webhook_secret))
    if events_secret and on_events is not None:
        app.router.add_post("/events/backend", _events_handler(events_secret, on_events))
    if admin_token and broadcasts is not None:
        from bot.broadcasts.api import add_admin_routes

        add_admin_routes(app, broadcasts, admin_token)
    if admin_token and "services" in getattr(application, "bot_data", {}):
        from bot.provider.api import add_config_routes  # GET/PUT /admin/api/config
        from bot.provider.store import store_of

        add_config_routes(app, store_of(application), admin_token)
        from bot.support.api import add_handoff_routes  # GET /admin/api/handoffs (issue 22)
        from bot.support.handoff import store_of as handoff_store_of

        if "engine" in application.bot_data:
            add_handoff_routes(app, handoff_store_of(application), admin_token)
            from bot.outages.api import add_outage_routes  # /admin/api/outages (issue 22)
            from bot.outages.service import store_of as outage_store_of
            from bot.outages.watch import notify_ended

            async def outage_ended(outage: Any) -> None:
                await notify_ended(application, outage)

            clock = application.bot_data["services"].clock
            from bot.surveys.api import add_survey_routes  # /admin/api/surveys (issue 22)
            from bot.surveys.flow import store_of as survey_store_of

            add_survey_routes(app, survey_store_of(application), admin_token, clock)
            add_outage_routes(
                app, outage_store_of(application), admin_token, clock, on_end=outage_ended
            )
    return app


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    """200 when the database and the provider's system answer; else 503 with a short reason.

    The system is asked with ``ping()``, the one call every installation answers, so a table
    this installation lacks or refuses does not make the bot "not ready"."""
    application = request.app[APPLICATION]
    checks: dict[str, str] = {}
    try:
        async with application.bot_data["engine"].connect() as connection:  # type: ignore[attr-defined]
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any failure means not ready; say which
        logger.warning("readiness: database check failed: %r", error)
        checks["database"] = "unreachable"
    try:
        await services_of(application).backend.ping()
        checks["backend"] = "ok"
    except CredentialsRefused:
        logger.warning("readiness: the provider's system refused the integration's credentials")
        checks["backend"] = "credentials refused"
    except BackendError as error:
        logger.warning("readiness: backend check failed: %s", error)
        checks["backend"] = "unreachable"
    except Exception as error:  # an adapter's bug: not ready either
        logger.warning("readiness: backend check failed: %s", type(error).__name__)
        checks["backend"] = "unreachable"
    problems = [f"{name} {state}" for name, state in checks.items() if state != "ok"]
    if not problems:
        return web.json_response({"status": "ready", "checks": checks})
    return web.json_response(
        {"status": "not ready", "reason": "; ".join(problems), "checks": checks}, status=503
    )


async def _metrics(request: web.Request) -> web.Response:
    return web.Response(body=metrics.exposition(), content_type="text/plain", charset="utf-8")


def _webhook_handler(
    application: Any, secret: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get(TELEGRAM_SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            logger.warning("webhook call with a wrong or missing secret token; dropped")
            return web.Response(status=403)
        # The secret token matched, so the sender is Telegram or someone who holds the secret.
        # Telegram only ever posts a JSON-serialized Update, which PTB parses (unknown fields go
        # to api_kwargs). A body that is not one never becomes one, so it gets 400 — the answer
        # PTB's own webhook server gives (telegram/ext/_utils/webhookhandler.py: any exception
        # from Update.de_json -> HTTPError 400 "Update could not be processed"). Were Telegram
        # the sender, a non-2xx makes it "repeat the request and give up after a reasonable
        # amount of attempts" (Bot API, setWebhook): a bounded retry, never a lost real update.
        try:
            payload = parsing.json_object(await request.read())
        except parsing.JsonError as error:
            return web.json_response({"error": str(error)}, status=400)
        update_id = payload.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return web.json_response({"error": "not a Telegram Update: no update_id"}, status=400)
        try:
            update = Update.de_json(payload, application.bot)
        except Exception:  # PTB raises AttributeError, TypeError, KeyError… on a malformed one
            logger.warning("webhook body is not a valid Telegram Update; answered 400")
            return web.json_response({"error": "not a valid Telegram Update"}, status=400)
        await application.update_queue.put(update)
        return web.Response(status=200)

    return webhook


def _events_handler(
    secret: str, on_events: Callable[[list[Notice]], Awaitable[int]]
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        seconds = parsing.ascii_int(timestamp, max_digits=12)
        fresh = seconds is not None and abs(time.time() - seconds) <= MAX_CLOCK_SKEW
        expected = sign(secret, timestamp, body)
        if not fresh or not hmac.compare_digest(signature.encode(), expected.encode()):
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            notices = parse_events(parsing.json_body(body))
        except (parsing.JsonError, EventError) as error:
            return web.json_response({"error": str(error)}, status=400)
        added = await on_events(notices)
        return web.json_response({"accepted": len(notices), "enqueued": added}, status=202)

    return events


# --- event parsing ------------------------------------------------------------------------------
def parse_events(body: Any) -> list[Notice]:
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise EventError("events: expected a list")
    return [_event(item, f"events[{i}]") for i, item in enumerate(body["events"])]


def _event(item: Any, where: str) -> Notice:
    if not isinstance(item, dict):
        raise EventError(f"{where}: expected an object")
    kind = _str(item, "type", where)
    subscriber = _str(item, "subscriber_id", where)
    if kind == "invoice_paid":
        data = _obj(item, "invoice", where)
        invoice = Invoice(
            id=_str(data, "id", f"{where}.invoice"),
            contract_id=str(data.get("contract_id", "")),
            reference=_str(data, "reference", f"{where}.invoice"),
            issued_on=_date(data, "paid_on", f"{where}.invoice"),
            due_date=_date(data, "due_date", f"{where}.invoice"),
            amount=_money(data, "amount", f"{where}.invoice"),
            status=InvoiceStatus.PAID,
            paid_on=_date(data, "paid_on", f"{where}.invoice"),
            paid_amount=_money(data, "paid_amount", f"{where}.invoice"),
        )
        return payment_notice(
            SubscriberInvoice(subscriber, str(item.get("contract_number", "")), invoice)
        )
    if kind in ("ticket_answered", "ticket_closed"):
        event = TicketEvent(
            subscriber_id=subscriber,
            ticket_id=_str(item, "ticket_id", where),
            protocol=_str(item, "protocol", where),
            subject=_str(item, "subject", where),
            kind=TicketEventKind.CLOSED if kind == "ticket_closed" else TicketEventKind.ANSWERED,
            event_id=_str(item, "event_id", where),
            at=_instant(item, "at", where),
            text=str(item.get("text", "")),
        )
        return ticket_notice(event)
    if kind == "fiscal_note_issued":
        data = _obj(item, "note", where)
        note = FiscalNote(
            id=_str(data, "id", f"{where}.note"),
            number=_str(data, "number", f"{where}.note"),
            series=str(data.get("series", "")),
            model=_str(data, "model", f"{where}.note"),
            issued_on=_date(data, "issued_on", f"{where}.note"),
            amount=_money(data, "amount", f"{where}.note"),
        )
        return fiscal_note_notice(SubscriberFiscalNote(subscriber, note))
    if kind == "enabling_ending":
        return enabling_notice(
            EnablingEnding(
                subscriber_id=subscriber,
                contract_id=_str(item, "contract_id", where),
                contract_number=_str(item, "contract_number", where),
                enabled_until=_date(item, "enabled_until", where),
            )
        )
    raise EventError(
        f"{where}.type: unknown {kind!r} (invoice_paid, ticket_answered, ticket_closed, "
        "fiscal_note_issued, enabling_ending)"
    )


def _str(data: dict[str, Any], name: str, where: str) -> str:
    value = data.get(name)
    if not isinstance(value, str | int) or not str(value).strip():
        raise EventError(f"{where}.{name}: expected a non-empty string")
    return str(value)


def _obj(data: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise EventError(f"{where}.{name}: expected an object")
    return value


def _date(data: dict[str, Any], name: str, where: str) -> date:
    try:
        return date.fromisoformat(_str(data, name, where))
    except ValueError as error:
        raise EventError(f"{where}.{name}: expected a date like 2026-11-28") from error


def _instant(data: dict[str, Any], name: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(_str(data, name, where))
    except ValueError as error:
        raise EventError(f"{where}.{name}: expected an ISO 8601 instant") from error
    if value.tzinfo is None:
        raise EventError(f"{where}.{name}: the instant needs a time zone")
    return value


def _money(data: dict[str, Any], name: str, where: str) -> Decimal:
    try:
        value = Decimal(str(data.get(name)))
    except InvalidOperation as error:
        raise EventError(f"{where}.{name}: expected an amount like 99.90") from error
    if not value.is_finite() or value < 0:
        raise EventError(f"{where}.{name}: expected an amount like 99.90")
    return value
