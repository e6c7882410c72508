"""What every guided flow shares: login check, the active flow, exits, time-outs.

A chat has at most one *active* flow (``chat_data["active_flow"]``). Text and files typed by the
user go only to the active flow's handlers (``typed(...)``), so a flow left half-way (the user
pressed another menu item) can never swallow what was meant for the next one. Showing the menu
leaves every flow.

Writing a flow::

    FLOW = "invoices"

    @step(FLOW)
    async def start(update, context, session) -> int: ...

    def build(application) -> ConversationHandler:
        return flow(FLOW, application, entry_points=[...], states={...})
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from backend_client import timezone
from backend_client.errors import NotFound
from backend_client.models import BackendSession, Contract
from bot.conversations.timeouts import OnTimeout, TimedConversation
from bot.handlers.access import END, leave, step
from bot.handlers.menu import logout, show_menu
from bot.services import sessions
from bot.services.context import BotContext, services_of
from bot.ui import keyboards, texts
from bot.ui.callbacks import Buttons
from bot.ui.screens import answer_query, send, send_to_chat, show


def today(context: BotContext) -> date:
    """The subscriber's date now (São Paulo), by the bot's clock."""
    return timezone.today(context.services.clock())


class InFlow(filters.UpdateFilter):
    """True when the update's chat has ``name`` as its active flow."""

    def __init__(self, name: str, chat_data: Mapping[int, dict[str, Any]]) -> None:
        super().__init__(name=f"InFlow({name})")
        self._flow = name
        self._chat_data = chat_data

    def filter(self, update: Update) -> bool:
        chat = update.effective_chat
        if chat is None:
            return False
        data = self._chat_data.get(chat.id)
        return data is not None and sessions.active_flow(data) == self._flow


def typed(
    name: str,
    application: Any,
    callback: Callable[[Update, BotContext], Awaitable[Any]],
    message_filter: filters.BaseFilter = filters.TEXT & ~filters.COMMAND,
) -> MessageHandler:  # type: ignore[type-arg]
    """A handler for what the user types or sends, only while ``name`` is the active flow."""
    return MessageHandler(message_filter & InFlow(name, application.chat_data), callback)


def on_buttons(buttons: Buttons) -> Callable[..., CallbackQueryHandler]:  # type: ignore[type-arg]
    """``on(action, callback, argument=None, *, whole=True)``: the handler of a flow's buttons
    that ``buttons.pattern(action, argument, whole=whole)`` matches — ``<prefix>:<action>``
    exactly, followed by ``:<argument>`` (a regex), or with ``whole=False`` anything that
    begins so (``on("line", choose, "", whole=False)``: any argument)."""

    def on(
        action: str, callback: Any, argument: str | None = None, *, whole: bool = True
    ) -> CallbackQueryHandler:  # type: ignore[type-arg]
        return CallbackQueryHandler(
            callback, pattern=buttons.pattern(action, argument, whole=whole)
        )

    return on


async def ask_contract(
    update: Update,
    text: str,
    contracts: Iterable[Contract],
    label: Callable[[Contract], str],
    buttons: Buttons,
) -> None:
    """``text`` above a button per contract (``<prefix>:contract:<id>``) and ⬅️ Menu."""
    rows = [[keyboards.button(label(c), buttons.pack("contract", c.id))] for c in contracts]
    rows.append(keyboards.menu_row())
    await show(update, text, InlineKeyboardMarkup(rows))


def pressed_contract(contracts: Iterable[Contract], contract_id: str) -> Contract:
    """The contract a button named, among ``contracts``; NotFound for any other id (a forged
    button, or a contract no longer the subscriber's): ``handlers/errors`` says so."""
    found = next((c for c in contracts if c.id == contract_id), None)
    if found is None:
        raise NotFound(f"contract {contract_id}")
    return found


async def back_to_menu(update: Update, context: BotContext) -> int:
    leave(context)
    await show_menu(update, context, new_message=update.callback_query is None)
    return END


async def cancel(update: Update, context: BotContext) -> int:
    leave(context)
    await send(update, texts.CANCELLED)
    await show_menu(update, context, new_message=True)
    return END


async def unexpected_input(update: Update, context: BotContext) -> None:
    """Something the current step does not take (a sticker, a file…): say what it expects."""
    message = update.effective_message
    if isinstance(message, Message) and message.text is None:
        await send(update, texts.EXPECTING_TEXT)


# What a flow waiting for text does not take: photos, stickers… (not commands, nor the service
# messages Telegram adds to the chat).
NOT_TEXT = ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL


def text_expected(name: str, application: Any) -> MessageHandler:  # type: ignore[type-arg]
    """A photo, a sticker… sent while ``name`` is the active flow: say it takes text."""
    return typed(name, application, unexpected_input, NOT_TEXT)


def buttons_expected(name: str, application: Any) -> MessageHandler:  # type: ignore[type-arg]
    """Text typed where flow ``name`` expects a button: say so (the buttons are just above)."""

    @step(name)
    async def use_buttons(
        update: Update, context: BotContext, session: BackendSession
    ) -> int | None:
        from bot.conversations import free_text  # it opens flows, which import this module

        if await free_text.elsewhere(update, context):  # "quero o boleto": went there
            return END
        await send(update, texts.USE_BUTTONS)
        return None

    return typed(name, application, use_buttons)


async def stale_button(update: Update, context: BotContext) -> None:
    """A button of the flow that the current step does not take (old or forged)."""
    await answer_query(update, texts.BUTTON_EXPIRED)


def forget(context: BotContext, name: str) -> None:
    """Drop what flow ``name`` kept in chat_data (``chat_data[name]``) and leave it."""
    if context.chat_data is not None:
        context.chat_data.pop(name, None)
        if sessions.active_flow(context.chat_data) == name:
            leave(context)


def exits(name: str) -> list[BaseHandler]:  # type: ignore[type-arg]
    """Ways out of flow ``name``: /menu, /start, /cancelar and the Menu button."""

    async def to_menu(update: Update, context: BotContext) -> int:
        forget(context, name)
        return await back_to_menu(update, context)

    async def cancelled(update: Update, context: BotContext) -> int:
        forget(context, name)
        return await cancel(update, context)

    return [
        CommandHandler(["menu", "start"], to_menu),
        CommandHandler("cancelar", cancelled),
        CallbackQueryHandler(to_menu, pattern=r"^menu:home$"),
    ]


def logging_out(name: str) -> CommandHandler:  # type: ignore[type-arg]
    """/sair while in flow ``name``: forget what the flow kept, then log out (leaving every flow).

    Not one of ``exits``: most flows let /sair through to the global handler and stay put.
    """

    async def log_out(update: Update, context: BotContext) -> int:
        forget(context, name)
        await logout(update, context)
        return END

    return CommandHandler("sair", log_out)


def flow(
    name: str,
    application: Any,
    *,
    entry_points: list[BaseHandler],  # type: ignore[type-arg]
    states: dict[object, list[BaseHandler]],  # type: ignore[type-arg]
    fallbacks: list[BaseHandler] | None = None,  # type: ignore[type-arg]
) -> ConversationHandler:  # type: ignore[type-arg]
    """A persistent flow that survives restarts, ends politely when left idle."""
    settings = services_of(application).settings
    return TimedConversation(
        name=name,
        persistent=True,
        entry_points=entry_points,
        states=states,
        fallbacks=[*exits(name), *(fallbacks or [])],
        allow_reentry=True,
        idle_timeout=settings.flow_idle_timeout.total_seconds(),
        on_timeout=_on_timeout(name, _input_states(states)),
    )


def _input_states(states: dict[object, list[BaseHandler]]) -> set[object]:  # type: ignore[type-arg]
    """States that wait for something typed (a message handler), not just for buttons."""
    return {
        state
        for state, handlers in states.items()
        if any(isinstance(handler, MessageHandler) for handler in handlers)
    }


def _on_timeout(name: str, input_states: set[object]) -> OnTimeout:
    """What happens when flow ``name`` has been idle too long (the conversation has ended).

    Only a step that was waiting for the user to type something says it was closed; a screen
    of results just quietly stops being a flow (its buttons start the flow again).
    """

    async def timed_out(context: BotContext, chat_id: int, state: object) -> None:
        data = context.chat_data
        was_active = data is not None and sessions.active_flow(data) == name
        forget(context, name)
        if was_active and state in input_states:
            await send_to_chat(context.bot, chat_id, texts.FLOW_TIMED_OUT, keyboards.back_to_menu())

    return timed_out
