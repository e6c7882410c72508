"""Alterar Senha (seed 1.10): current password, new password, confirmation.

States:
    ASK_CURRENT      → the current password
    ASK_NEW          → the new password, checked against the rules before the backend is called
    ASK_CONFIRMATION → the new password again
    RETRY            → the backend was down: 🔁 Tentar de novo repeats without retyping

Every message of these states is deleted as soon as it is read (the user is told if Telegram
refused); one typed after leaving the flow is deleted too (bot.handlers.stray_passwords). The
passwords are never put in ``chat_data`` (persisted): until the flow ends they are held in memory
only, in ``bot_data["pending_passwords"]`` (never persisted) keyed by chat id, and forgotten on
every way out: success, lockout, cancel, /menu, /start, /sair, an error, and a timer of the flow's
idle time-out (which also covers a flow abandoned for another menu item).

The current password is checked first, by a login to the provider's system with it (a check the
lockout reserves like any login), before the new one is asked for: a wrong one is refused at once
and no new password is ever held while the current one is awaited. A wrong current password
counts toward the login lockout; when it locks, this chat is logged out. After a change, every
other chat logged in as the same subscriber is logged out and told why.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    TypeHandler,
    filters,
)

from backend_client.errors import BackendError, InvalidCredentials, Rejected, Unavailable
from backend_client.models import BackendSession
from bot.conversations import common
from bot.conversations.common import flow, typed
from bot.handlers import menu, stray_passwords
from bot.handlers.access import END, leave, step
from bot.handlers.provider import unavailable
from bot.logs import chat_ref
from bot.services import sessions
from bot.services.context import BotContext
from bot.services.login_guard import DATABASE_ERRORS, LockedOut, LockoutUnavailable
from bot.ui import keyboards, texts
from bot.ui.callbacks import MENU
from bot.ui.formatting import esc
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import password as t

logger = logging.getLogger(__name__)

FLOW = "password"
PREFIX = "password"
ASK_CURRENT, ASK_NEW, ASK_CONFIRMATION, RETRY = range(4)
PENDING_KEY = "pending_passwords"  # bot_data (never persisted): chat id → {"current", "new"…}
FORGET_JOB = "password-forget:"
# A handler group of its own, after every feature handler (group 0), for :func:`forget_if_left`.
SWEEP_GROUP = 90
Handler = BaseHandler  # type: ignore[type-arg]
NOT_TEXT = ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL


# --- the rules -----------------------------------------------------------------------------------
def password_problems(current: str, new: str, document: str) -> list[str]:
    """Which rules ``new`` breaks (pt-BR phrases; empty when it is acceptable)."""
    problems = []
    if len(new) < t.MIN_LENGTH:
        problems.append(t.TOO_SHORT)
    if not any(char.isalpha() for char in new) or not any(char.isdigit() for char in new):
        problems.append(t.NEEDS_LETTERS_AND_DIGITS)
    if new == current:
        problems.append(t.SAME_AS_CURRENT)
    folded = re.sub(r"[^0-9A-Za-z]", "", new).upper()
    if document and document.upper() in folded:
        problems.append(t.HAS_DOCUMENT)
    return problems


# --- passwords held in memory only ---------------------------------------------------------------
def _pending(context: BotContext) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = context.application.bot_data.setdefault(PENDING_KEY, {})
    return found


def _chat_id(update: Update) -> int:
    assert update.effective_chat is not None
    return update.effective_chat.id


def _hold(context: BotContext, chat_id: int, **values: str) -> dict[str, str]:
    """Keep ``values`` for this chat until the flow ends (or its idle time-out passes)."""
    entry = _pending(context).setdefault(chat_id, {})
    entry.update(values)
    queue = context.application.job_queue
    if queue is None:  # pragma: no cover - the job-queue extra is a dependency
        return entry
    for job in queue.get_jobs_by_name(f"{FORGET_JOB}{chat_id}"):
        job.schedule_removal()
    queue.run_once(
        _forget_job,
        when=context.services.settings.flow_idle_timeout.total_seconds(),
        data=chat_id,
        name=f"{FORGET_JOB}{chat_id}",
    )
    return entry


def forget(context: BotContext, chat_id: int) -> None:
    """Drop whatever this chat's password change holds, and its timer."""
    _pending(context).pop(chat_id, None)
    queue = context.application.job_queue
    if queue is not None:
        for job in queue.get_jobs_by_name(f"{FORGET_JOB}{chat_id}"):
            job.schedule_removal()


async def _forget_job(context: BotContext) -> None:
    """The flow was left idle: forget its passwords."""
    assert context.job is not None
    _pending(context).pop(int(context.job.data), None)  # type: ignore[arg-type]


async def forget_if_left(update: Update, context: BotContext) -> None:
    """After any update: a chat no longer in this flow (another menu item, /menu caught by
    another flow, a logout…) holds no password any more."""
    chat = update.effective_chat
    pending = context.application.bot_data.get(PENDING_KEY)
    if chat is None or not pending or chat.id not in pending:
        return
    if context.chat_data is None or sessions.active_flow(context.chat_data) != FLOW:
        forget(context, chat.id)


# --- reading a password --------------------------------------------------------------------------
def _password_step(
    handler: Callable[[Update, BotContext, BackendSession], Awaitable[int]],
) -> Callable[[Update, BotContext], Awaitable[Any]]:
    """A step reading a password: the message is deleted first, whatever happens next (and a
    password typed in the next minutes, after leaving the flow, will be deleted too)."""
    stepped = step(FLOW)(handler)

    @functools.wraps(handler)
    async def wrapper(update: Update, context: BotContext) -> Any:
        await stray_passwords.delete_password_message(update, context)
        stray_passwords.mark(context)
        return await stepped(update, context)

    return wrapper


def _typed_password(update: Update) -> str:
    assert update.message is not None and update.message.text is not None
    return update.message.text


def _keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                button(t.BUTTON_CANCEL, f"{PREFIX}:cancel"),
                button(texts.BUTTON_MENU, "menu:home"),
            ]
        ]
    )


def _retry_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(t.BUTTON_RETRY, f"{PREFIX}:retry")],
            [
                button(t.BUTTON_CANCEL, f"{PREFIX}:cancel"),
                button(texts.BUTTON_MENU, "menu:home"),
            ],
        ]
    )


async def _restart(update: Update) -> int:
    """What was held is gone (restart, time-out): ask for the current password again."""
    await send(update, t.ASK_CURRENT_RESTORED, _keyboard())
    return ASK_CURRENT


# --- steps ---------------------------------------------------------------------------------------
@step(FLOW)
async def start(update: Update, context: BotContext, session: BackendSession) -> int:
    forget(context, _chat_id(update))
    stray_passwords.mark(context)
    await show(update, t.ASK_CURRENT, _keyboard())
    return ASK_CURRENT


@_password_step
async def receive_current(update: Update, context: BotContext, session: BackendSession) -> int:
    """Check the current password (a login with it) before asking for the new one."""
    chat_id = _chat_id(update)
    forget(context, chat_id)  # nothing is held while the current password is unchecked
    current = _typed_password(update)
    found = context.services
    try:
        attempt = await found.login_guard.reserve(chat_id, session.document)
    except LockedOut as locked:
        leave(context)
        await send(update, texts.locked_out(locked.until), keyboards.back_to_menu())
        return END
    except LockoutUnavailable:
        logger.warning("password change: the lockout cannot record the attempt; not checked")
        await send(update, t.check_failed(texts.LOGIN_CHECK_UNAVAILABLE), _keyboard())
        return ASK_CURRENT
    try:
        checked = await found.backend.login(session.document, current)
    except InvalidCredentials:
        return await _wrong_current(update, context, await found.login_guard.failed(attempt))
    except Unavailable as error:
        await found.login_guard.release(attempt)
        logger.warning("password change: the current password not checked: %s", error)
        await send(update, t.check_failed(unavailable(context)), _keyboard())
        return ASK_CURRENT
    except BaseException:
        await found.login_guard.release(attempt)
        raise
    await found.login_guard.succeeded(attempt)
    with contextlib.suppress(BackendError):
        await found.backend.logout(checked)  # the check's own session is not needed
    _hold(context, chat_id, current=current)
    await send(update, t.ASK_NEW, _keyboard())
    return ASK_NEW


@_password_step
async def receive_new(update: Update, context: BotContext, session: BackendSession) -> int:
    chat_id = _chat_id(update)
    entry = _pending(context).get(chat_id, {})
    if "current" not in entry:
        return await _restart(update)
    new = _typed_password(update)
    problems = password_problems(entry["current"], new, session.document)
    if problems:
        await send(update, t.weak(problems), _keyboard())
        return ASK_NEW
    _hold(context, chat_id, candidate=new)
    await send(update, t.ASK_CONFIRMATION, _keyboard())
    return ASK_CONFIRMATION


@_password_step
async def receive_confirmation(update: Update, context: BotContext, session: BackendSession) -> int:
    entry = _pending(context).get(_chat_id(update), {})
    if "current" not in entry:
        return await _restart(update)
    candidate = entry.pop("candidate", None)
    if candidate is None or _typed_password(update) != candidate:
        await send(update, t.MISMATCH, _keyboard())
        return ASK_NEW
    entry["new"] = candidate
    return await _submit(update, context, session)


@step(FLOW)
async def retry(update: Update, context: BotContext, session: BackendSession) -> int:
    await answer_query(update)
    entry = _pending(context).get(_chat_id(update), {})
    if "current" not in entry or "new" not in entry:
        return await _restart(update)
    return await _submit(update, context, session)


@_password_step
async def typed_while_retrying(update: Update, context: BotContext, session: BackendSession) -> int:
    await send(update, t.USE_BUTTONS, _retry_keyboard())
    return RETRY


async def _submit(update: Update, context: BotContext, session: BackendSession) -> int:
    chat_id = _chat_id(update)
    entry = _pending(context)[chat_id]
    found = context.services
    try:
        # The current password was checked (a reserved attempt) before the new one was asked.
        await found.backend.change_password(session, entry["current"], entry["new"])
    except InvalidCredentials:
        # Changed elsewhere meanwhile: both are dropped, the current one is asked again.
        forget(context, chat_id)
        try:
            locked_until = await found.login_guard.record_failure(chat_id, session.document)
        except DATABASE_ERRORS:  # the lockout's database: the refusal stands all the same
            logger.warning("password change: a wrong current password could not be recorded")
            locked_until = None
        return await _wrong_current(update, context, locked_until)
    except Rejected as error:
        entry.pop("new", None)
        await send(update, t.rejected(esc(error.reason)), _keyboard())
        return ASK_NEW
    except Unavailable as error:
        logger.warning("password change not done, backend unavailable: %s", error)
        text = f"{unavailable(context)}\n\n{t.SAVE_FAILED}"
        await send(update, text, _retry_keyboard())
        return RETRY
    except BaseException:
        forget(context, chat_id)
        leave(context)
        raise

    forget(context, chat_id)
    leave(context)
    stray_passwords.clear(context)
    logger.info(
        "subscriber %s changed the password from chat %s", session.subscriber_id, chat_ref(chat_id)
    )
    others = _end_other_sessions(context, chat_id, session)
    text = t.CHANGED
    if others:
        text += "\n\n" + t.others_logged_out(len(others))
    await send(update, text, keyboards.back_to_menu())
    await _tell_logged_out(context, others)
    return END


async def _wrong_current(update: Update, context: BotContext, locked_until: datetime | None) -> int:
    """Counted toward the login lockout already; a lock logs this chat out."""
    chat_id = _chat_id(update)
    forget(context, chat_id)
    found = context.services
    logger.info("wrong current password on a password change in chat %s", chat_ref(chat_id))
    if locked_until is None:
        await send(update, t.WRONG_CURRENT, _keyboard())
        return ASK_CURRENT
    forget(context, chat_id)
    assert context.chat_data is not None
    ended = sessions.end(context.chat_data)
    if ended is not None:
        with contextlib.suppress(BackendError):
            await found.backend.logout(ended)
    logger.info("chat %s logged out: locked after wrong current passwords", chat_ref(chat_id))
    await send(update, texts.locked_out(locked_until), keyboards.login())
    return END


def _end_other_sessions(
    context: BotContext, chat_id: int, session: BackendSession
) -> list[tuple[int, BackendSession]]:
    """Log out every other chat of this subscriber (their chat_data is saved right away)."""
    application = context.application
    ended: list[tuple[int, BackendSession]] = []
    for other_id, data in application.chat_data.items():
        if other_id == chat_id or not isinstance(data, dict):
            continue
        other = sessions.current(data)
        if other is None or other.subscriber_id != session.subscriber_id:
            continue
        sessions.end(data)
        forget(context, other_id)
        ended.append((other_id, other))
    if ended:
        application.mark_data_for_update_persistence(chat_ids=[other_id for other_id, _ in ended])
        logger.info("logged out %d other chat(s) after a password change", len(ended))
    return ended


async def _tell_logged_out(context: BotContext, ended: list[tuple[int, BackendSession]]) -> None:
    """Best effort: end those backend sessions too and tell each chat why it was logged out."""
    backend = context.services.backend
    for other_id, other in ended:
        with contextlib.suppress(BackendError):
            await backend.logout(other)  # the backend may already have ended it; harmless
        try:
            await context.bot.send_message(
                other_id, t.LOGGED_OUT_ELSEWHERE, reply_markup=keyboards.login()
            )
        except TelegramError as error:
            logger.warning(
                "could not tell chat %s it was logged out: %s", chat_ref(other_id), error
            )


# --- ways out (each forgets the passwords) -------------------------------------------------------
@step(FLOW)
async def cancel_button(update: Update, context: BotContext, session: BackendSession) -> int:
    forget(context, _chat_id(update))
    leave(context)
    await show(update, t.CANCELLED, keyboards.back_to_menu())
    return END


async def _leave_to_menu(update: Update, context: BotContext) -> int:
    forget(context, _chat_id(update))
    return await common.back_to_menu(update, context)


async def _leave_cancelling(update: Update, context: BotContext) -> int:
    forget(context, _chat_id(update))
    return await common.cancel(update, context)


async def _leave_logging_out(update: Update, context: BotContext) -> int:
    forget(context, _chat_id(update))
    leave(context)
    await menu.logout(update, context)
    return END


async def stale_button(update: Update, context: BotContext) -> None:
    await answer_query(update, texts.BUTTON_EXPIRED)


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    """The flow; also registers :func:`forget_if_left` in its own group (``SWEEP_GROUP``)."""
    application.add_handler(TypeHandler(Update, forget_if_left), group=SWEEP_GROUP)
    exits: list[Handler] = [
        CommandHandler(["menu", "start"], _leave_to_menu),
        CommandHandler("cancelar", _leave_cancelling),
        CommandHandler("sair", _leave_logging_out),
        CallbackQueryHandler(_leave_to_menu, pattern=r"^menu:home$"),
        CallbackQueryHandler(cancel_button, pattern=rf"^{PREFIX}:cancel$"),
        CallbackQueryHandler(stale_button, pattern=rf"^{PREFIX}:"),
        typed(FLOW, application, common.unexpected_input, NOT_TEXT),
    ]
    return flow(
        FLOW,
        application,
        entry_points=[CallbackQueryHandler(start, pattern=MENU.pattern(FLOW))],
        states={
            ASK_CURRENT: [typed(FLOW, application, receive_current), *exits],
            ASK_NEW: [typed(FLOW, application, receive_new), *exits],
            ASK_CONFIRMATION: [typed(FLOW, application, receive_confirmation), *exits],
            RETRY: [
                CallbackQueryHandler(retry, pattern=rf"^{PREFIX}:retry$"),
                typed(FLOW, application, typed_while_retrying),
                *exits,
            ],
        },
    )
