"""Opening a menu item from outside its button (free text, bot.conversations.free_text).

``open_item`` calls what the ``menu:<item>`` button reaches and leaves the item's flow in the
step that answer showed, so the screen's buttons work as after a tap; ``in_flow`` runs any
step of an item's flow that way. An item the menu does not show (the provider file's items,
minus what its system lacks) is refused as the menu would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

from backend_client.features import Feature
from backend_client.models import BackendSession
from bot.handlers.access import step
from bot.provider.store import current
from bot.services.context import BotContext
from bot.ui import keyboards, texts
from bot.ui.screens import send

Callback = Callable[[Update, BotContext], Awaitable[Any]]


def entry(application: Any, item: str) -> tuple[ConversationHandler | None, Callback] | None:  # type: ignore[type-arg]
    """The handler the menu button ``menu:<item>`` reaches, and its flow's conversation."""
    data = f"menu:{item}"

    def takes(handler: BaseHandler) -> bool:  # type: ignore[type-arg]
        return (
            isinstance(handler, CallbackQueryHandler)
            and hasattr(handler.pattern, "match")
            and handler.pattern.match(data) is not None
        )

    for handler in application.handlers.get(0, []):
        if isinstance(handler, ConversationHandler):
            for entry_point in handler.entry_points:
                if takes(entry_point):
                    return handler, entry_point.callback
        elif takes(handler):
            return None, handler.callback
    return None


def _put_in_state(conversation: ConversationHandler | None, update: Update, state: object) -> None:  # type: ignore[type-arg]
    """The flow's conversation goes to the step its entry returned, as when its button is
    pressed; PTB's own (private) bookkeeping, as bot.conversations.timeouts also uses it."""
    if conversation is None or state is None:
        return
    enter = getattr(conversation, "enter", None)
    if enter is not None:  # TimedConversation.enter: also restarts the idle timer
        enter(update, state)
        return
    conversation._update_state(state, conversation._get_key(update))


_FEATURES = frozenset(feature.value for feature in Feature)


def offered(context: BotContext, item: str) -> bool:
    """The menu shows ``item`` (the provider file's items, minus what its system lacks)."""
    services = context.services

    def lacks(name: str) -> bool:
        return name in _FEATURES and services.lacks(Feature(name))

    return item in current(context).visible_items(lacks)


async def open_item(
    update: Update, context: BotContext, item: str, *, even_hidden: bool = False
) -> object:
    """Open menu item ``item`` as its button does; the state its flow is left in.
    ``even_hidden``: also when the provider file leaves it out of the menu ("📶 Estou sem
    internet" typed still opens the self-help)."""
    found = entry(context.application, item)
    if found is None or not (even_hidden or offered(context, item)):
        await send(update, texts.NOT_SUPPORTED, keyboards.back_to_menu())
        return None
    conversation, callback = found
    state = await callback(update, context)
    _put_in_state(conversation, update, state)
    return state


async def in_flow(
    update: Update,
    context: BotContext,
    item: str,
    flow_name: str,
    run: Callable[[Update, BotContext, BackendSession], Awaitable[object]],
) -> object:
    """Run ``run`` as a step of ``item``'s flow (named ``flow_name``), and leave the flow's
    conversation in the state it returns."""
    found = entry(context.application, item)
    if found is None or not offered(context, item):
        await send(update, texts.NOT_SUPPORTED, keyboards.back_to_menu())
        return None
    state = await step(flow_name)(run)(update, context)
    _put_in_state(found[0], update, state)
    return state
