"""🔔 Notificações and Vincular contato (seed 1, 1.1, 1.1.1.1): link this chat to a contact.

After a first login on an unlinked chat the bot offers the subscriber's contacts; choosing one
records the chat as that contact's device in the backend and in our database, so notifications
reach it even after logout. The settings screen toggles each kind of notice and unlinks; ``/parar``
unlinks at once.

Where the provider's system records no devices on contacts (SGP, IXC: ``link_contact_device``
not supported) the link lives in our database only, and where it has no contacts at all (IXC) the
subscriber's own account is offered as the one contact ("Titular"); the subscriber sees the same
screens either way. Every link keeps, sealed, the feed's reference of its subscriber
(``backend.feed_reference``: what the provider feed needs to ask about them without a session),
so reminders reach the chat after logout on every backend.

A chat is linked to one contact of one subscriber. A logged-in subscriber sees and changes only a
link to their own contacts: on a chat linked to another subscriber they are told only that it
receives another account's notices (no name), cannot mute or unlink it, and are offered to link it
to themselves, which replaces the old link after an explicit confirmation (the old contact's
device is forgotten and its pending notices are dropped). Logged out, the screen and ``/parar``
act for whoever holds the chat: its notices arrive there.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler

from backend_client.errors import BackendError, NotSupported
from backend_client.features import Feature
from backend_client.models import BackendSession, Contact, ContactType
from bot.conversations.common import flow
from bot.conversations.contacts import NewContactSteps
from bot.handlers.access import END, requires_login, step
from bot.handlers.menu import show_menu
from bot.logs import chat_ref
from bot.notifications.service import GROUP_OF_KIND
from bot.notifications.store import ChatLink
from bot.services.context import BotContext, Services
from bot.ui import keyboards
from bot.ui import texts as common
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import notifications as texts

logger = logging.getLogger(__name__)
FLOW = "link"  # the new-contact-then-link flow
DECLINED_KEY = "link_declined"
GROUPS = {group for group, _ in texts.GROUPS}
assert set(GROUP_OF_KIND.values()) == GROUPS


HOLDER_ID = "titular"  # the account itself, offered where the system keeps no contacts
HOLDER_TYPE = ContactType("titular", "Titular")


def device_id(chat_id: int) -> str:
    return f"telegram:{chat_id}"


async def _contacts(found: Services, session: BackendSession) -> list[Contact]:
    """The contacts a chat may be linked to: the system's, or (a system without contacts, e.g.
    IXC's webservice) the account holder alone."""
    try:
        return await found.backend.list_contacts(session)
    except NotSupported:
        return [Contact(HOLDER_ID, session.name, HOLDER_TYPE, None, None, None, False)]


async def _keep_reference(found: Services, chat_id: int, session: BackendSession) -> None:
    """A link made before references were kept gets one at its subscriber's login."""
    await found.notifications.remember_reference(
        chat_id, session.subscriber_id, found.backend.feed_reference(session)
    )


def _foreign(link: ChatLink | None, session: BackendSession | None) -> bool:
    """Linked to a contact of a subscriber other than the one logged in here."""
    return link is not None and session is not None and link.subscriber_id != session.subscriber_id


async def offer_after_login(update: Update, context: BotContext, session: BackendSession) -> bool:
    """Offer linking when this chat is not linked to this subscriber yet (unlinked, or linked to
    another subscriber: then to replace that link); False when there is nothing to offer."""
    chat = update.effective_chat
    found = context.services
    if chat is None or context.chat_data is None or context.chat_data.get(DECLINED_KEY):
        return False
    link = await found.notifications.get_link(chat.id)
    if link is not None and not _foreign(link, session):
        if not link.has_reference:
            await _keep_reference(found, chat.id, session)
        return False
    try:
        return await _show_offer(update, context, session, edit=False, at_login=True)
    except BackendError as error:
        # No contacts from this provider's system right now: the menu comes first.
        logger.info("link offer skipped: %s", error)
        return False


async def _show_offer(
    update: Update,
    context: BotContext,
    session: BackendSession,
    *,
    edit: bool,
    at_login: bool = False,
) -> bool:
    """The contacts to link this chat to (and a new one, when the system takes new contacts);
    at login, nothing is shown (False) when there is nothing to choose."""
    found = context.services
    contacts = await _contacts(found, session)
    can_add = not found.lacks(Feature.NEW_CONTACT)
    if at_login and not contacts and not can_add:
        return False
    rows = [
        [button(texts.link_contact_label(c.name, c.type.name), f"link:contact:{c.id}")]
        for c in contacts
    ]
    if can_add:
        rows.append([button(texts.BUTTON_NEW_CONTACT, "link:new")])
    rows.append([button(texts.BUTTON_NOT_NOW, "link:later")])
    assert update.effective_chat is not None
    link = await found.notifications.get_link(update.effective_chat.id)
    if contacts:
        text = texts.LINK_OFFER_REPLACING if _foreign(link, session) else texts.LINK_OFFER
    else:
        text = texts.LINK_NO_CONTACTS if can_add else texts.LINK_NO_CONTACTS_CANNOT_ADD
    keyboard = InlineKeyboardMarkup(rows)
    if edit:
        await show(update, text, keyboard)
    else:
        await send(update, text, keyboard)
    return True


@requires_login
async def link_contact(update: Update, context: BotContext, session: BackendSession) -> None:
    assert update.callback_query is not None and update.effective_chat is not None
    contact_id = (update.callback_query.data or "").removeprefix("link:contact:")
    await link_chat(update, context, session, contact_id)


@requires_login
async def replace_link(update: Update, context: BotContext, session: BackendSession) -> None:
    """The confirmation: link this chat to the subscriber's contact, replacing another's link."""
    assert update.callback_query is not None
    contact_id = (update.callback_query.data or "").removeprefix("link:replace:")
    await link_chat(update, context, session, contact_id, replace=True)


async def link_chat(
    update: Update,
    context: BotContext,
    session: BackendSession,
    contact_id: str,
    *,
    replace: bool = False,
) -> None:
    """Link this chat to one of the subscriber's contacts (also used after a new contact). A
    chat linked to another subscriber is asked first, and its link replaced only with
    ``replace`` (the confirmation's button)."""
    assert update.effective_chat is not None
    found = context.services
    contacts = {c.id: c for c in await _contacts(found, session)}
    contact = contacts.get(contact_id)
    if contact is None:  # a forged or stale button
        await answer_query(update, common.BUTTON_EXPIRED)
        await _show_offer(update, context, session, edit=True)
        return
    chat_id = update.effective_chat.id
    assert found.notifications is not None
    old = await found.notifications.get_link(chat_id)
    if _foreign(old, session) and not replace:
        keyboard = InlineKeyboardMarkup(
            [
                [button(texts.BUTTON_REPLACE, f"link:replace:{contact.id}")],
                [button(texts.BUTTON_KEEP, "link:later")],
            ]
        )
        await show(update, texts.confirm_replace(contact.name), keyboard)
        return
    try:
        await found.backend.link_contact_device(session, contact.id, device_id(chat_id))
    except NotSupported:
        # The provider's system keeps no devices: the link lives in our database only.
        logger.info(
            "backend keeps no contact devices; chat %s linked on our side", chat_ref(chat_id)
        )
    if old is not None and (old.subscriber_id, old.contact_id) != (
        session.subscriber_id,
        contact.id,
    ):
        await _forget_old_link(found, session, old)
    await found.notifications.link(
        chat_id,
        session.subscriber_id,
        contact.id,
        contact.name,
        found.clock(),
        reference=found.backend.feed_reference(session),  # stored sealed, never logged
    )
    logger.info("chat %s linked to contact %s", chat_ref(chat_id), contact.id)
    await show(update, texts.LINKED)
    await show_menu(update, context, new_message=True)


async def _forget_old_link(found: Services, session: BackendSession, old: ChatLink) -> None:
    """The chat's previous link is being replaced: drop it (and its pending notices) on our side
    and the device in the provider's system, so the old contact's notices stop here."""
    if _foreign(old, session):
        await found.notifications.unlink(old.chat_id)  # also drops its pending notices
    try:
        if old.subscriber_id == session.subscriber_id:
            await found.backend.unlink_contact_device(
                session, old.contact_id, device_id(old.chat_id)
            )
        elif found.feed is not None:  # another subscriber's contact: no session of theirs here
            await found.feed.unlink_device(old.contact_id, device_id(old.chat_id))
    except NotSupported:
        pass  # the provider's system keeps no devices
    except BackendError as error:
        # Our side no longer sends the old contact's notices here; the provider's record is stale.
        logger.warning(
            "could not unlink chat %s from its old contact: %s", chat_ref(old.chat_id), error
        )
    logger.info("chat %s: link to contact %s replaced", chat_ref(old.chat_id), old.contact_id)


# --- a new contact, then the link (reuses the Contatos steps) ------------------------------------
async def _contact_saved(
    update: Update, context: BotContext, session: BackendSession, contact: Contact
) -> int:
    await link_chat(update, context, session, contact.id)
    return END


async def _contact_cancelled(update: Update, context: BotContext, session: BackendSession) -> int:
    await _show_offer(update, context, session, edit=False)
    return END


NEW_CONTACT = NewContactSteps(FLOW, "lnc", on_saved=_contact_saved, on_cancel=_contact_cancelled)


@step(FLOW)
async def new_contact(update: Update, context: BotContext, session: BackendSession) -> object:
    return await NEW_CONTACT.begin(update, context, session)


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    return flow(
        FLOW,
        application,
        entry_points=[CallbackQueryHandler(new_contact, pattern=r"^link:new$")],
        states=NEW_CONTACT.states(application),
    )


@requires_login
async def later(update: Update, context: BotContext, session: BackendSession) -> None:
    if context.chat_data is not None:
        context.chat_data[DECLINED_KEY] = True  # not offered again; 🔔 Notificações links later
    await show(update, texts.NOT_NOW)
    await show_menu(update, context, new_message=True)


@requires_login
async def offer(update: Update, context: BotContext, session: BackendSession) -> None:
    await _show_offer(update, context, session, edit=True)


# --- settings screen ----------------------------------------------------------------------------
async def _settings_screen(update: Update, context: BotContext) -> tuple[str, InlineKeyboardMarkup]:
    assert update.effective_chat is not None
    store = context.services.notifications
    link = await store.get_link(update.effective_chat.id) if store else None
    session = context.session
    rows = []
    if link is None:
        if session is not None:
            rows.append([button(texts.BUTTON_LINK, "link:offer")])
        title = texts.settings_title(None, True)
    elif _foreign(link, session):
        # Another subscriber's link: not named, not changed; this subscriber may take the chat.
        rows.append([button(texts.BUTTON_LINK_TO_ME, "link:offer")])
        title = texts.SETTINGS_OTHER_ACCOUNT
    else:
        title = texts.settings_title(link.contact_name, link.active)
        rows += [
            [button(texts.toggle_label(group, group not in link.muted), f"notif:toggle:{group}")]
            for group, _ in texts.GROUPS
        ]
        rows.append([button(texts.BUTTON_UNLINK, "notif:unlink")])
    rows.append([button(common.BUTTON_MENU, "menu:home")])
    return title, InlineKeyboardMarkup(rows)


async def settings(update: Update, context: BotContext) -> None:
    """Menu item and /notificacoes: works for a linked chat even after logout."""
    text, keyboard = await _settings_screen(update, context)
    if update.callback_query is not None:
        await show(update, text, keyboard)
    else:
        await send(update, text, keyboard)


async def toggle(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None and update.effective_chat is not None
    group = (update.callback_query.data or "").removeprefix("notif:toggle:")
    store = context.services.notifications
    link = await store.get_link(update.effective_chat.id) if store else None
    if store is None or link is None or group not in GROUPS:
        await answer_query(update, common.BUTTON_EXPIRED)
        await settings(update, context)
        return
    if _foreign(link, context.session):
        await answer_query(update, texts.NOT_YOUR_LINK_ALERT)
        await settings(update, context)
        return
    muted = set(link.muted) ^ {group}
    await store.set_muted(link.chat_id, muted)
    await settings(update, context)


async def unlink(update: Update, context: BotContext) -> None:
    """The button and /parar: stop notifications here, in our database and in the backend."""
    assert update.effective_chat is not None
    found = context.services
    session = context.session
    store = found.notifications
    # One chat's updates run one at a time, so the link read here is the one unlinked below.
    current = await store.get_link(update.effective_chat.id) if store else None
    if _foreign(current, session):
        # Another subscriber's link: this subscriber may replace it (after confirming), not drop it.
        await answer_query(update)
        keyboard = InlineKeyboardMarkup(
            [
                [button(texts.BUTTON_LINK_TO_ME, "link:offer")],
                [button(common.BUTTON_MENU, "menu:home")],
            ]
        )
        await send(update, texts.PARAR_OTHER_ACCOUNT, keyboard)
        return
    link = await store.unlink(update.effective_chat.id) if store else None
    if link is None:
        await answer_query(update)
        await send(update, texts.PARAR_NEEDS_NOTHING, keyboards.back_to_menu())
        return
    try:
        if session is not None and session.subscriber_id == link.subscriber_id:
            await found.backend.unlink_contact_device(
                session, link.contact_id, device_id(link.chat_id)
            )
        elif found.feed is not None:
            await found.feed.unlink_device(link.contact_id, device_id(link.chat_id))
    except BackendError as error:
        # Our side is unlinked already (nothing more is sent); the provider's record is stale.
        logger.warning("could not unlink chat %s in the backend: %s", chat_ref(link.chat_id), error)
    logger.info("chat %s unlinked from contact %s", chat_ref(link.chat_id), link.contact_id)
    await answer_query(update)
    keyboard = keyboards.back_to_menu() if session else keyboards.login()
    await show(update, texts.UNLINKED, keyboard)


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [
        CallbackQueryHandler(link_contact, pattern=r"^link:contact:[\w.-]{1,50}$"),
        CallbackQueryHandler(replace_link, pattern=r"^link:replace:[\w.-]{1,50}$"),
        CallbackQueryHandler(later, pattern=r"^link:later$"),
        CallbackQueryHandler(offer, pattern=r"^link:offer$"),
        CallbackQueryHandler(settings, pattern=r"^menu:notifications$"),
        CommandHandler("notificacoes", settings),
        CallbackQueryHandler(toggle, pattern=r"^notif:toggle:\w{1,30}$"),
        CallbackQueryHandler(unlink, pattern=r"^notif:unlink$"),
        CommandHandler("parar", unlink),
    ]
