"""Login (seed 1.2, 1.2.1): CPF/CNPJ, then password; lockout after repeated failures.

States:
    ASK_DOCUMENT → the subscriber types a CPF or CNPJ (validated locally first)
    ASK_PASSWORD → the password; its message is deleted as soon as it is read
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from backend_client.errors import InvalidCredentials, Unavailable
from backend_client.formats.documents import mask_document, normalize_document
from bot.conversations import free_text, notifications
from bot.conversations.common import InFlow, typed
from bot.conversations.timeouts import TimedConversation
from bot.handlers import provider, stray_passwords
from bot.handlers.access import enter, leave
from bot.handlers.menu import show_menu
from bot.logs import chat_ref
from bot.services import sessions
from bot.services.context import BotContext, services_of
from bot.services.login_guard import LockedOut, LockoutUnavailable
from bot.ui import keyboards, texts
from bot.ui.screens import answer_query, send
from bot.ui.texts import password as password_texts
from bot.ui.texts import provider as provider_texts

logger = logging.getLogger(__name__)

FLOW = "login"
ASK_DOCUMENT, ASK_PASSWORD = range(2)
END = ConversationHandler.END
DOCUMENT_KEY = "login_document"


async def start(update: Update, context: BotContext) -> int:
    """/start or the Entrar button: the menu when logged in, else ask for the document."""
    await answer_query(update)
    if context.session is not None:
        await show_menu(update, context)
        return END
    # /start: the welcome and the CPF/CNPJ request in one message, as the seed's login screen.
    welcome = None
    if update.callback_query is None:
        welcome = provider_texts.welcome(provider.current(context))
    return await _ask_document(update, context, welcome)


async def _ask_document(update: Update, context: BotContext, intro: str | None = None) -> int:
    """Ask for the CPF/CNPJ, after ``intro`` in the same message when given."""
    assert context.chat_data is not None
    context.chat_data.pop(DOCUMENT_KEY, None)
    enter(context, FLOW)
    stray_passwords.mark(context)  # a password is often typed here, before the CPF/CNPJ
    ask = provider.current(context).text("ask_document", texts.ASK_DOCUMENT)
    await send(update, f"{intro}\n\n{ask}" if intro else ask)
    return ASK_DOCUMENT


async def from_text(update: Update, context: BotContext) -> int:
    """Text typed without a login, outside any flow: a CPF/CNPJ starts the login with it;
    anything else is answered (a greeting; "log in first", keeping the request for after the
    login: bot.conversations.free_text) and the CPF/CNPJ is asked for."""
    assert update.message is not None and update.message.text is not None
    if normalize_document(update.message.text) is not None:
        enter(context, FLOW)
        return await receive_document(update, context)
    intro = free_text.before_login(update, context)
    if stray_passwords.was_deleted(context):  # it may have been a password: say why it is gone
        deleted = password_texts.STRAY_DELETED
        intro = f"{deleted}\n\n{intro}" if intro else deleted
    return await _ask_document(update, context, intro)


async def other_document(update: Update, context: BotContext) -> int:
    await answer_query(update)
    return await _ask_document(update, context)


async def receive_document(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.text is not None
    assert context.chat_data is not None and update.effective_chat is not None
    document = normalize_document(update.message.text)
    if document is None:
        # "oi", "quero meu boleto"…: answered, and the CPF/CNPJ asked for again (issue 21).
        intro = free_text.before_login(update, context)
        deleted = stray_passwords.was_deleted(context)
        if intro is not None:
            intro = f"{password_texts.STRAY_DELETED}\n\n{intro}" if deleted else intro
            return await _ask_document(update, context, intro)
        text = texts.INVALID_DOCUMENT
        if deleted:
            text = f"{password_texts.STRAY_DELETED}\n\n{text}"
        await send(update, text)
        return ASK_DOCUMENT
    try:
        locked_until = await context.services.login_guard.locked_until(
            update.effective_chat.id, document
        )
    except LockoutUnavailable:
        logger.warning("login: the lockout cannot read the bot's database; document refused")
        await send(update, texts.LOGIN_CHECK_UNAVAILABLE)
        return ASK_DOCUMENT
    if locked_until is not None:
        leave(context)
        stray_passwords.mark(context)
        await send(update, texts.locked_out(locked_until))
        return END
    context.chat_data[DOCUMENT_KEY] = document
    stray_passwords.mark(context)
    ask = provider.current(context).text("ask_password", texts.ASK_PASSWORD)
    await send(update, ask, provider.password_keyboard(context))  # Esqueci minha senha
    return ASK_PASSWORD


async def receive_password(update: Update, context: BotContext) -> int:
    message = update.message
    assert message is not None and message.text is not None
    assert context.chat_data is not None and update.effective_chat is not None
    password = message.text
    await stray_passwords.delete_password_message(update, context)
    # Refused, locked or asked again, the next minutes may bring the password once more.
    stray_passwords.mark(context)

    found = context.services
    chat_id = update.effective_chat.id
    document = context.chat_data.get(DOCUMENT_KEY)
    if document is None:  # a state restored without its data: start over, losing nothing typed
        return await _ask_document(update, context)
    # The check is reserved before it is sent: at most MAX_FAILURES of a chat or a document
    # reach the backend in the window, however many chats try at once (login_guard).
    try:
        attempt = await found.login_guard.reserve(chat_id, document)
    except LockedOut as locked:
        context.chat_data.pop(DOCUMENT_KEY, None)
        leave(context)
        await send(update, texts.locked_out(locked.until))
        return END
    except LockoutUnavailable:
        # Fail closed: an attempt that cannot be counted is not checked.
        logger.warning("login: the lockout cannot record the attempt; password not checked")
        await send(update, texts.LOGIN_CHECK_UNAVAILABLE)
        await send(
            update, texts.TRY_PASSWORD_AGAIN, provider.password_keyboard(context, retry=True)
        )
        return ASK_PASSWORD

    try:
        backend_session = await found.backend.login(document, password)
    except InvalidCredentials:
        logger.info("login failed for %s in chat %s", mask_document(document), chat_ref(chat_id))
        locked_until = await found.login_guard.failed(attempt)
        if locked_until is not None:
            context.chat_data.pop(DOCUMENT_KEY, None)
            leave(context)
            await send(update, texts.locked_out(locked_until))
            return END
        await send(update, texts.INVALID_CREDENTIALS)
        await send(
            update, texts.TRY_PASSWORD_AGAIN, provider.password_keyboard(context, retry=True)
        )
        return ASK_PASSWORD
    except Unavailable as error:
        await found.login_guard.release(attempt)
        # The error names the system, endpoint and field (never the document or password): an
        # installation where nobody can log in must say why in its log.
        logger.warning("login: the provider's system is unavailable: %s", error)
        await send(update, provider_texts.backend_unavailable(provider.current(context).provider))
        await send(
            update, texts.TRY_PASSWORD_AGAIN, provider.password_keyboard(context, retry=True)
        )
        return ASK_PASSWORD

    except Exception:
        await found.login_guard.release(attempt)
        raise

    await found.login_guard.succeeded(attempt)
    context.chat_data.pop(DOCUMENT_KEY, None)
    stray_passwords.clear(context)
    sessions.begin(context.chat_data, backend_session, found.clock())
    logger.info(
        "subscriber %s logged in from chat %s", backend_session.subscriber_id, chat_ref(chat_id)
    )
    await send(update, texts.logged_in(backend_session.name))
    if await free_text.resume(update, context):  # what was asked before the login
        return END
    if not await notifications.offer_after_login(update, context, backend_session):
        await show_menu(update, context, new_message=True)
    return END


async def expect_text(update: Update, context: BotContext) -> None:
    """A photo, sticker… while a document or password is expected: ask again, stay put."""
    await send(update, texts.EXPECTING_TEXT)


async def cancel(update: Update, context: BotContext) -> int:
    assert context.chat_data is not None
    context.chat_data.pop(DOCUMENT_KEY, None)
    leave(context)
    await send(update, texts.LOGIN_CANCELLED, keyboards.login())
    return END


async def menu_while_logged_out(update: Update, context: BotContext) -> int:
    assert context.chat_data is not None
    context.chat_data.pop(DOCUMENT_KEY, None)
    leave(context)
    await answer_query(update)
    await send(update, texts.NOT_LOGGED_IN, keyboards.login())
    return END


async def timed_out(context: BotContext, chat_id: int, state: object) -> None:
    """Left idle: forget the document typed (nothing is said: /start begins again)."""
    if context.chat_data is not None:
        context.chat_data.pop(DOCUMENT_KEY, None)
        if sessions.active_flow(context.chat_data) == FLOW:
            leave(context)


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    """The flow; also installs the early handler that deletes stray passwords."""
    stray_passwords.install(application)
    settings = services_of(application).settings
    not_text = ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    return TimedConversation(
        name="login",
        persistent=True,
        entry_points=[
            CommandHandler("start", start),
            CallbackQueryHandler(start, pattern=r"^login:start$"),
            MessageHandler(free_text.logged_out_text(application), from_text),
        ],
        states={
            ASK_DOCUMENT: [typed(FLOW, application, receive_document)],
            ASK_PASSWORD: [
                typed(FLOW, application, receive_password),
                CallbackQueryHandler(other_document, pattern=r"^login:other_document$"),
            ],
        },
        fallbacks=[
            CommandHandler("start", start),
            CallbackQueryHandler(start, pattern=r"^login:start$"),
            CommandHandler(["cancelar", "sair"], cancel),
            CommandHandler("menu", menu_while_logged_out),
            CallbackQueryHandler(menu_while_logged_out, pattern=r"^menu:"),
            MessageHandler(not_text & InFlow(FLOW, application.chat_data), expect_text),
        ],
        allow_reentry=True,
        idle_timeout=settings.flow_idle_timeout.total_seconds(),
        on_timeout=timed_out,
    )
