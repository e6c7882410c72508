"""Builds the PTB Application in one place: request, persistence, services, handlers."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    TypeHandler,
)
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

from backend_client.feeds import create_feed  # re-exported: bot.application.create_feed
from backend_client.models import TicketSubject
from backend_client.protocol import SubscriberBackend
from backend_client.resilience import GuardedBackend
from bot import logs, metrics
from bot.broadcasts import commands as broadcast_commands
from bot.broadcasts import flow as broadcast_flow
from bot.broadcasts import jobs as broadcast_jobs
from bot.conversations import (
    account,
    calls,
    connections,
    contacts,
    due_day,
    enabling,
    fiscal_notes,
    free_text,
    invoices,
    login,
    no_internet,
    notifications,
    password,
    statement,
    tickets,
    timeouts,
)
from bot.handlers import (
    commands,
    errors,
    guards,
    menu,
    observe,
    provider,
)
from bot.notifications import jobs as notification_jobs
from bot.notifications.service import NotificationDetector, NotificationPlanner, QuietHours
from bot.notifications.store import NotificationStore
from bot.outages import commands as outage_commands
from bot.provider.config import DEFAULT as DEFAULT_PROVIDER
from bot.provider.config import ProviderConfig
from bot.provider.config import load as load_provider
from bot.provider.policies import ProviderPolicies
from bot.provider.store import ProviderConfigStore
from bot.provider.store import install as install_provider
from bot.services import mailer, sessions
from bot.services.context import BotContext, Services, install
from bot.services.login_guard import DOCUMENT_HASH_PURPOSE, LoginGuard
from bot.services.pacing import PacedRateLimiter
from bot.settings import Settings
from bot.storage.db import create_engine
from bot.storage.encryption import box_for
from bot.storage.login_failures import LoginFailureRepository
from bot.storage.persistence import SqlPersistence
from bot.storage.rounds import RoundStore
from bot.support import relay as support_relay
from bot.surveys import flow as surveys
from bot.transport import aiohttp_requests
from bot.ui import texts
from bot.ui.formatting import TIMEZONE
from bot.update_processor import OrderedConcurrentProcessor

logger = logging.getLogger(__name__)

# Our conversations mix message and button handlers on purpose (per_message=False): PTB warns
# that buttons are then tracked per chat, which is exactly what we want.
warnings.filterwarnings("ignore", message=r".*per_message.*", category=PTBUserWarning)

# What the bot handles; getUpdates/setWebhook ask Telegram for nothing else.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]

BotApplication = Application[Any, Any, Any, Any, Any, Any]
# A feed page may take many paced requests (IXC: a 2ª via and a PIX per open invoice; SGP: a few
# per watched subscriber), each bounded by the transport's own timeout and the pacer's back-off:
# the page as a whole gets an hour, not BACKEND_TIMEOUT_SECONDS.
FEED_PAGE_TIMEOUT = 3600.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_backend(settings: Settings, provider: ProviderConfig | None = None) -> SubscriberBackend:
    """The adapter configuration asks for (``BACKEND``), with the policies of ``provider`` (by
    default the provider file's, ``PROVIDER_CONFIG``)."""
    if settings.backend == "sandbox":
        from backend_client.sandbox import SandboxBackend

        return SandboxBackend(settings.sandbox_database_url)
    # Settings validated the variables each backend needs. One request gets a third of the
    # operation's deadline, so a retried read still fits inside BACKEND_TIMEOUT_SECONDS.
    url, token = settings.backend_url or "", settings.backend_token or ""
    timeout = max(1.0, settings.backend_timeout / 3)
    subjects = tuple(TicketSubject(id, name) for id, name in settings.backend_ticket_subjects)
    # The provider file's subjects with ids replace BACKEND_TICKET_SUBJECTS; its enabling_days
    # is what the adapters say when the system does not (bot.provider.policies).
    if provider is None:
        provider = load_provider(settings.provider_config) if settings.provider_config else None
    policies = (provider or DEFAULT_PROVIDER).policies
    subjects = (
        tuple(TicketSubject(i, name) for i, name in policies.ticket_subjects if i) or subjects
    )
    extra = {"enabling_days": policies.enabling_days} if policies.enabling_days else {}
    if settings.backend == "sgp":
        from backend_client.sgp import SgpBackend

        return SgpBackend(
            url,
            token,
            settings.backend_app or "",
            timeout=timeout,
            ticket_subjects=subjects,
            **extra,
        )
    if settings.backend == "ixc":
        from backend_client.ixc import IxcBackend

        return IxcBackend(
            url,
            settings.backend_user or "",
            token,
            timeout=timeout,
            ticket_subjects=subjects,
            **extra,
        )
    if settings.backend == "http":
        from backend_client.http.backend import HttpBackend

        return HttpBackend(url, api_key=token or None, timeout=timeout)
    raise ValueError(f"unknown backend {settings.backend!r}")  # Settings validated it already


def build_application(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    backend: SubscriberBackend | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    clock: Callable[[], datetime] = utc_now,
    rate_limiter: bool = True,
    persistence_interval: float = 1.0,
) -> BotApplication:
    """The whole bot. Tests pass an offline ``request``, a shared ``engine`` and ``backend``."""
    logs.protect(settings)  # its token and secrets are redacted from every log line
    engine = engine or create_engine(settings.database_url)
    box = box_for(settings)  # ENCRYPTION_KEY (the sandbox's own key without it)
    provider_store = ProviderConfigStore.open(settings.provider_config)  # the provider file
    raw_backend = backend or create_backend(settings)  # reads the same file's policies
    guarded: Any = GuardedBackend(raw_backend, settings.backend_timeout, metrics.backend_call)

    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(settings.bot_base_url)
        .base_file_url(settings.bot_base_file_url)
        # Every handler and job gets a BotContext (.services, .session, .flow_data).
        .context_types(ContextTypes(context=BotContext))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=TIMEZONE,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # Written every second: small batches (a few ms each) instead of a pause of the whole
        # bot for a large one, and at most a second of conversation lost to a crash.
        .persistence(
            SqlPersistence(
                engine,
                update_interval=persistence_interval,
                box=box,
                secret_keys=sessions.SECRET_KEYS,
                forget_login=sessions.discard,
            )
        )
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(updates_request or request)
    elif settings.telegram_transport == "aiohttp":
        request, updates_request = aiohttp_requests(settings.telegram_proxy_url)
        builder = builder.request(request).get_updates_request(updates_request)
    elif settings.telegram_proxy_url:  # PTB's own httpx transport, through the proxy
        builder = builder.proxy(settings.telegram_proxy_url)
        builder = builder.get_updates_proxy(settings.telegram_proxy_url)
    # Chats in parallel, each chat's updates in order (see bot.update_processor).
    builder = builder.concurrent_updates(OrderedConcurrentProcessor(settings.concurrent_updates))
    # One pace for replies and broadcasts (bot.services.pacing): Telegram's ~30 messages/s in all
    # (more with paid broadcasts), 20/min per group, one broadcast message a second per chat,
    # replies before broadcast messages; RetryAfter is honoured (replies retried twice).
    pacer = broadcast_jobs.create_pacer(settings)
    if rate_limiter and settings.telegram_max_rate > 0:
        builder = builder.rate_limiter(PacedRateLimiter(pacer))
    application = builder.build()

    raw_feed = create_feed(raw_backend, requests_per_second=settings.backend_feed_rate)
    feed: Any = (
        GuardedBackend(raw_feed, FEED_PAGE_TIMEOUT, metrics.backend_call)
        if raw_feed is not None
        else None
    )
    # Feed references (SGP: the CPF/CNPJ) are kept sealed; elsewhere they are the subscriber id.
    store = NotificationStore(engine, box=box, id_is_reference=settings.backend != "sgp")
    install(
        application,
        Services(
            settings=settings,
            backend=ProviderPolicies(guarded, provider_store),  # [policies], read per call
            login_guard=LoginGuard(
                LoginFailureRepository(engine), clock, box.derive(DOCUMENT_HASH_PURPOSE)
            ),
            clock=clock,
            notifications=store,
            planner=NotificationPlanner(store, QuietHours.parse(settings.quiet_hours)),
            feed=feed,
            detector=(
                NotificationDetector(
                    feed, settings.notify_days_before_due, watched=store, rounds=RoundStore(engine)
                )
                if feed
                else None
            ),
        ),
    )
    application.bot_data["engine"] = engine
    application.bot_data["raw_backend"] = raw_backend
    install_provider(application.bot_data, provider_store)  # .current: read per update
    broadcast_jobs.install(
        application, settings, engine=engine, links=store, feed=feed, clock=clock, pacer=pacer
    )
    _add_handlers(application, settings)
    return application


def _add_handlers(application: BotApplication, settings: Settings) -> None:
    support_relay.install(application)  # hand-off to the team (issue 22), before the guards
    surveys.install(application)  # the satisfaction survey's buttons (issue 22)
    application.add_handler(TypeHandler(Update, observe.record_update), group=-4)
    application.add_handler(TypeHandler(Update, guards.private_chats_only), group=-3)
    application.add_handler(TypeHandler(Update, guards.expire_idle_session), group=-2)
    application.add_handler(TypeHandler(Update, guards.refuse_unsupported), group=-1)
    # Order matters inside group 0: the first handler that accepts an update takes it.
    application.add_handler(login.build(application))
    application.add_handlers(account.handlers())
    application.add_handler(tickets.build(application))
    application.add_handler(enabling.build(application))
    application.add_handler(no_internet.build(application))  # self-help (issue 22)
    application.add_handler(invoices.build(application))
    application.add_handler(fiscal_notes.build(application))
    application.add_handler(contacts.build(application))
    application.add_handler(calls.build(application))
    application.add_handler(connections.build(application))
    application.add_handler(statement.build(application))
    application.add_handler(due_day.build(application))
    application.add_handler(password.build(application))
    application.add_handler(notifications.build(application))
    application.add_handlers(notifications.handlers())
    application.add_handler(broadcast_flow.build(application))  # staff only (ADMIN_TELEGRAM_IDS)
    application.add_handlers(broadcast_commands.handlers())
    application.add_handlers(outage_commands.handlers())  # /ocorrencias (issue 22)
    application.add_handlers(provider.handlers())  # 📞 Fale com a gente, Esqueci minha senha
    application.add_handlers(menu.handlers())
    application.add_handler(surveys.comment_handler(application))  # a survey's comment
    application.add_handlers(free_text.handlers(application))  # what no screen took (issue 21)
    application.add_handlers(commands.handlers())
    application.add_handler(TypeHandler(Update, commands.answer_unanswered), commands.LAST_GROUP)
    application.add_error_handler(errors.on_error)


async def _post_init(application: BotApplication) -> None:
    await application.bot_data["raw_backend"].start()
    timeouts.start_timers(application)
    mailer.schedule_outbox_retries(application)
    await notification_jobs.schedule(application)
    await broadcast_jobs.start(application)
    support_relay.schedule(application)  # no reply within [support] reply_timeout_minutes
    surveys.schedule(application)  # survey offers deferred by quiet hours
    commands = [BotCommand(name, description) for name, description in texts.COMMANDS]
    await application.bot.set_my_commands(commands)
    await application.bot.set_my_commands(commands, language_code="pt")
    await provider.publish_descriptions(application)  # the provider's name, when it has one


async def _post_shutdown(application: BotApplication) -> None:
    await notification_jobs.stop(application)  # a running polling round (it resumes at start)
    await broadcast_jobs.stop(application)  # normally done already (bot.runner), before stop()
    await application.bot_data["raw_backend"].close()
    await application.bot_data["engine"].dispose()
