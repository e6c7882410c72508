"""Contatos (seed 1.4, 1.4.1): the subscriber's contacts, and "➕ Novo contato".

Screens:
    menu:contacts / contacts:page:<n>  → the contacts list, paged (read-only: no state kept)
    contacts:new                       → the new-contact steps (:class:`NewContactSteps`):
        name → type (buttons) → mobile → landline (Pular) → e-mail (Pular) → SMS (Sim/Não)
        → summary with ✅ Confirmar / ✏️ Corrigir (a button per field, back to the summary)
    ✅ Confirmar                        → backend.add_contact → success and the updated list

Reusing the new-contact steps in another flow (e.g. linking this chat to a new contact)::

    NEW_CONTACT = NewContactSteps(FLOW, "link", on_saved=linked, on_cancel=back_to_choice)

    @step(FLOW)
    async def register_new(update, context, session):      # e.g. the "Novo contato" button
        return await NEW_CONTACT.begin(update, context, session)

    async def linked(update, context, session, contact):   # called once the backend saved it
        await context.services.backend.link_contact_device(session, contact.id, device)
        ...
        return END   # or any state of the host flow

    def build(application):
        return flow(FLOW, application, entry_points=[...],
                    states={**my_states, **NEW_CONTACT.states(application)})

The steps keep their draft in ``chat_data[<flow>]["new_contact"]`` (JSON only, so the host must not
replace ``chat_data[<flow>]`` wholesale mid-way), use callback data ``<prefix>:…`` and string states
``new_contact:…`` that cannot collide with a host's own states. While a step waits, any other
``<prefix>:…`` button is answered as no longer valid, unless the host made it an entry point; /menu,
/start, /cancelar, /sair and the Menu button leave and drop the draft.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from backend_client.errors import NotFound, Rejected, Unavailable
from backend_client.features import Feature
from backend_client.models import BackendSession, Contact, ContactType, NewContact
from bot.conversations import common
from bot.conversations.common import flow, typed
from bot.handlers import menu
from bot.handlers.access import END, leave, step
from bot.handlers.provider import unavailable
from bot.services.contact_validation import (
    InvalidValue,
    normalize_email,
    normalize_landline,
    normalize_mobile,
    normalize_name,
)
from bot.services.context import BotContext
from bot.ui import contact_keyboards as keys
from bot.ui import paging, texts
from bot.ui.callbacks import MENU, Buttons
from bot.ui.contact_keyboards import fold
from bot.ui.formatting import esc, phone
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import contacts as t

logger = logging.getLogger(__name__)

FLOW = "contacts"
PREFIX = "contacts"
BUTTONS = Buttons(PREFIX)
PAGE_SIZE = 5

# The fields of a new contact, in the order they are asked.
FIELDS = ("name", "type", "mobile", "landline", "email", "sms")
DRAFT_KEY = "new_contact"

SavedHook = Callable[[Update, BotContext, BackendSession, Contact], Awaitable[object]]
CancelHook = Callable[[Update, BotContext, BackendSession], Awaitable[object]]
Handler = BaseHandler  # type: ignore[type-arg]


class NewContactSteps:
    """The "new contact" steps, reusable by any flow (see the module docstring).

    ``on_saved(update, context, session, contact)`` runs once the backend saved the contact and
    returns the host's next state; ``on_cancel(update, context, session)`` runs when the
    subscriber gives up (✖️ Cancelar cadastro) and returns the host's next state.
    """

    ASK_NAME = "new_contact:name"
    ASK_TYPE = "new_contact:type"
    ASK_MOBILE = "new_contact:mobile"
    ASK_LANDLINE = "new_contact:landline"
    ASK_EMAIL = "new_contact:email"
    ASK_SMS = "new_contact:sms"
    SUMMARY = "new_contact:summary"

    STATES: ClassVar[dict[str, str]] = {
        "name": ASK_NAME,
        "type": ASK_TYPE,
        "mobile": ASK_MOBILE,
        "landline": ASK_LANDLINE,
        "email": ASK_EMAIL,
        "sms": ASK_SMS,
    }

    def __init__(
        self, flow: str, prefix: str, *, on_saved: SavedHook, on_cancel: CancelHook
    ) -> None:
        self.flow = flow
        self.prefix = prefix
        self.buttons = Buttons(prefix)
        self._on_saved = on_saved
        self._on_cancel = on_cancel

    # --- the draft (chat_data[flow]["new_contact"], JSON only) ----------------------------------
    def draft(self, context: BotContext) -> dict[str, Any]:
        assert context.chat_data is not None
        area: dict[str, Any] = context.chat_data.setdefault(self.flow, {})
        found: dict[str, Any] = area.setdefault(DRAFT_KEY, {})
        return found

    def clear(self, context: BotContext) -> None:
        if context.chat_data is None:
            return
        area = context.chat_data.get(self.flow)
        if isinstance(area, dict):
            area.pop(DRAFT_KEY, None)
            if not area:
                context.chat_data.pop(self.flow, None)

    @staticmethod
    def _missing(draft: dict[str, Any]) -> str | None:
        """The first field not answered yet (None: the draft is complete)."""
        return next((field for field in FIELDS if field not in draft), None)

    # --- entry ----------------------------------------------------------------------------------
    async def begin(self, update: Update, context: BotContext, session: BackendSession) -> object:
        """Start a new contact from scratch (call it from a handler of the host flow)."""
        self.clear(context)
        self.draft(context)
        return await self._ask(update, context, session, "name")

    # --- asking -----------------------------------------------------------------------------
    def _keyboard(self, draft: dict[str, Any], rows: keys.Rows | None = None) -> Any:
        return keys.step_keyboard(self.buttons, bool(draft.get("fixing")), rows)

    def _current(self, draft: dict[str, Any], field: str) -> str | None:
        if field == "type":
            return draft.get("type_name")
        if field == "sms":
            return t.sms_value(draft.get("sms"))
        if field in ("mobile", "landline") and draft.get(field):
            return phone(draft[field])
        value = draft.get(field)
        return None if value is None else str(value)

    async def _ask(
        self,
        update: Update,
        context: BotContext,
        session: BackendSession,
        field: str,
        problem: str | None = None,
    ) -> object:
        """Ask ``field``: its question, or ``problem`` (what was wrong, with an example) in its
        place; with the current value when correcting it, and the step's buttons."""
        draft = self.draft(context)
        rows: keys.Rows = []
        question = {
            "name": t.ASK_NAME,
            "type": t.ASK_TYPE,
            "mobile": t.ASK_MOBILE,
            "landline": t.ASK_LANDLINE,
            "email": t.ASK_EMAIL,
            "sms": t.ASK_SMS,
        }[field]
        if field == "type":
            try:
                types = await context.services.backend.list_contact_types(session)
            except Unavailable:
                retry = keys.retry_rows(self.buttons)
                await self._display(update, unavailable(context), self._keyboard(draft, retry))
                return self.ASK_TYPE
            if not types:
                retry = keys.retry_rows(self.buttons)
                await self._display(update, t.NO_TYPES, self._keyboard(draft, retry))
                return self.ASK_TYPE
            rows = keys.type_rows(self.buttons, types)
        elif field in ("landline", "email"):
            rows = keys.skip_rows(self.buttons, field)
        elif field == "sms":
            rows = keys.sms_rows(self.buttons)
        parts = [problem or question]
        if draft.get("fixing") == field:
            parts.append(t.current_value(self._current(draft, field)))
        await self._display(update, "\n\n".join(parts), self._keyboard(draft, rows))
        return self.STATES[field]

    @staticmethod
    async def _display(update: Update, text: str, keyboard: Any) -> None:
        """Edit the pressed message, or send a new one after typed input."""
        if update.callback_query is not None:
            await show(update, text, keyboard)
        else:
            await send(update, text, keyboard)

    async def _advance(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        """The next question, or the summary once every field is answered."""
        draft = self.draft(context)
        draft.pop("fixing", None)
        field = self._missing(draft)
        if field is not None:
            return await self._ask(update, context, session, field)
        return await self._summary(update, context)

    async def _summary(
        self, update: Update, context: BotContext, notice: str | None = None
    ) -> object:
        draft = self.draft(context)
        text = t.summary(
            draft["name"],
            draft["type_name"],
            draft["mobile"],
            draft["landline"],
            draft["email"],
            bool(draft["sms"]),
        )
        if notice:
            text = f"{notice}\n\n{text}"
        await self._display(update, text, keys.summary_keyboard(self.buttons))
        return self.SUMMARY

    # --- typed answers ----------------------------------------------------------------------
    async def _typed(
        self,
        update: Update,
        context: BotContext,
        session: BackendSession,
        field: str,
        normalize: Callable[[str], str],
        explain: Callable[[Any], str],
    ) -> object:
        assert update.message is not None and update.message.text is not None
        try:
            value = normalize(update.message.text)
        except InvalidValue as error:
            return await self._ask(update, context, session, field, explain(error.problem))
        self.draft(context)[field] = value
        return await self._advance(update, context, session)

    async def receive_name(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        return await self._typed(update, context, session, "name", normalize_name, t.invalid_name)

    async def receive_mobile(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        return await self._typed(
            update, context, session, "mobile", normalize_mobile, t.invalid_mobile
        )

    async def receive_landline(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        return await self._typed(
            update, context, session, "landline", normalize_landline, t.invalid_landline
        )

    async def receive_email(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        return await self._typed(
            update, context, session, "email", normalize_email, t.invalid_email
        )

    # --- choices ----------------------------------------------------------------------------
    async def _set_type(
        self,
        update: Update,
        context: BotContext,
        session: BackendSession,
        matches: Callable[[ContactType], bool],
    ) -> object:
        types = await context.services.backend.list_contact_types(session)
        chosen = next((contact_type for contact_type in types if matches(contact_type)), None)
        if chosen is None:  # a forged or outdated button, or a typed word matching no type
            return await self._ask(update, context, session, "type", t.TYPE_UNAVAILABLE)
        draft = self.draft(context)
        draft["type"] = chosen.id
        draft["type_name"] = chosen.name
        return await self._advance(update, context, session)

    async def choose_type(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        type_id = self.buttons.argument(update, "type")
        return await self._set_type(update, context, session, lambda kind: kind.id == type_id)

    async def type_typed(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        """A type typed instead of tapped ("financeiro") is accepted when it names one."""
        assert update.message is not None and update.message.text is not None
        typed_name = fold(update.message.text)
        return await self._set_type(
            update, context, session, lambda kind: typed_name in (fold(kind.name), fold(kind.id))
        )

    async def skip(self, update: Update, context: BotContext, session: BackendSession) -> object:
        field = self.buttons.argument(update, "skip")
        if field not in ("landline", "email"):
            return await self._advance(update, context, session)
        self.draft(context)[field] = None
        return await self._advance(update, context, session)

    async def choose_sms(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        answer = self.buttons.argument(update, "sms")
        if answer not in ("yes", "no"):
            return await self._ask(update, context, session, "sms")
        self.draft(context)["sms"] = answer == "yes"
        return await self._advance(update, context, session)

    async def sms_typed(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        assert update.message is not None and update.message.text is not None
        answer = fold(update.message.text)
        if answer in ("sim", "s", "yes"):
            self.draft(context)["sms"] = True
        elif answer in ("nao", "n", "no"):
            self.draft(context)["sms"] = False
        else:
            return await self._ask(update, context, session, "sms", t.USE_BUTTONS)
        return await self._advance(update, context, session)

    async def summary_typed(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        return await self._summary_again(update, context, session, t.USE_BUTTONS)

    async def _summary_again(
        self, update: Update, context: BotContext, session: BackendSession, notice: str
    ) -> object:
        draft = self.draft(context)
        if self._missing(draft) is not None:
            return await self._advance(update, context, session)
        text = t.summary(
            draft["name"],
            draft["type_name"],
            draft["mobile"],
            draft["landline"],
            draft["email"],
            bool(draft["sms"]),
        )
        await send(update, f"{notice}\n\n{text}", keys.summary_keyboard(self.buttons))
        return self.SUMMARY

    # --- summary: confirm / correct ---------------------------------------------------------------
    async def show_summary(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        return await self._advance(update, context, session)

    async def fix_menu(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        draft = self.draft(context)
        if self._missing(draft) is not None:
            return await self._advance(update, context, session)
        draft.pop("fixing", None)
        await show(update, t.FIX_WHICH, keys.fix_keyboard(self.buttons, FIELDS))
        return self.SUMMARY

    async def fix_field(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        field = self.buttons.argument(update, "fix")
        draft = self.draft(context)
        if field not in FIELDS or self._missing(draft) is not None:
            return await self.fix_menu(update, context, session)
        draft["fixing"] = field
        return await self._ask(update, context, session, field)

    async def confirm(self, update: Update, context: BotContext, session: BackendSession) -> object:
        draft = self.draft(context)
        if self._missing(draft) is not None:  # an old button, or a forged press mid-way
            return await self._advance(update, context, session)
        new_contact = NewContact(
            name=draft["name"],
            type_id=draft["type"],
            mobile=draft["mobile"],
            landline=draft["landline"],
            email=draft["email"],
            sms_opt_in=bool(draft["sms"]),
        )
        try:
            contact = await context.services.backend.add_contact(session, new_contact)
        except Unavailable:
            notice = f"{unavailable(context)}\n{t.SAVE_FAILED}"
            return await self._summary(update, context, notice)
        except Rejected as error:
            return await self._summary(update, context, f"⚠️ {esc(error.reason)}")
        except NotFound:  # the type was withdrawn meanwhile: ask it again, keep the rest
            draft.pop("type", None)
            draft.pop("type_name", None)
            draft["fixing"] = "type"
            return await self._ask(update, context, session, "type", t.TYPE_UNAVAILABLE)
        logger.info("contact %s added for subscriber %s", contact.id, session.subscriber_id)
        self.clear(context)
        return await self._on_saved(update, context, session, contact)

    async def cancel(self, update: Update, context: BotContext, session: BackendSession) -> object:
        self.clear(context)
        return await self._on_cancel(update, context, session)

    async def ask_again(
        self, update: Update, context: BotContext, session: BackendSession
    ) -> object:
        """🔁 Tentar de novo (after the types could not be listed): the same question again."""
        draft = self.draft(context)
        field = draft.get("fixing") if draft.get("fixing") in FIELDS else self._missing(draft)
        if field is None:
            return await self._summary(update, context)
        return await self._ask(update, context, session, str(field))

    async def stale_button(self, update: Update, context: BotContext) -> None:
        """A button of this walk that does not apply to the current step (old or forged):
        say so and stay where we are."""
        await answer_query(update, texts.BUTTON_EXPIRED)

    # --- leaving ------------------------------------------------------------------------------
    async def _leave_to_menu(self, update: Update, context: BotContext) -> int:
        self.clear(context)
        return await common.back_to_menu(update, context)

    async def _leave_cancelling(self, update: Update, context: BotContext) -> int:
        self.clear(context)
        return await common.cancel(update, context)

    async def _leave_logging_out(self, update: Update, context: BotContext) -> int:
        self.clear(context)
        leave(context)
        await menu.logout(update, context)
        return END

    # --- handlers -------------------------------------------------------------------------------
    def states(self, application: Any) -> dict[object, list[Handler]]:
        """The walk's states, to merge into the host's ``flow(..., states=...)``."""
        on_step = step(self.flow)

        def pressed(callback: Any, action: str, argument: str | None = None) -> Handler:
            """``<prefix>:<action>`` exactly, or followed by ``:<argument>`` (a regex; ``""``:
            anything)."""
            pattern = self.buttons.pattern(action, argument, whole=argument != "")
            return CallbackQueryHandler(on_step(callback), pattern=pattern)

        def text(callback: Any) -> Handler:
            return typed(self.flow, application, on_step(callback))

        not_text = ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
        shared: list[Handler] = [
            CommandHandler(["menu", "start"], self._leave_to_menu),
            CommandHandler("cancelar", self._leave_cancelling),
            CommandHandler("sair", self._leave_logging_out),
            CallbackQueryHandler(self._leave_to_menu, pattern=r"^menu:home$"),
            pressed(self.cancel, "cancel"),
            pressed(self.ask_again, "ask"),
            pressed(self.show_summary, "summary"),
            typed(self.flow, application, common.unexpected_input, not_text),
            CallbackQueryHandler(self.stale_button, pattern=self.buttons.pattern()),
        ]
        return {
            self.ASK_NAME: [text(self.receive_name), *shared],
            self.ASK_TYPE: [pressed(self.choose_type, "type", ""), text(self.type_typed), *shared],
            self.ASK_MOBILE: [text(self.receive_mobile), *shared],
            self.ASK_LANDLINE: [
                text(self.receive_landline),
                pressed(self.skip, "skip", "landline"),
                *shared,
            ],
            self.ASK_EMAIL: [
                text(self.receive_email),
                pressed(self.skip, "skip", "email"),
                *shared,
            ],
            self.ASK_SMS: [pressed(self.choose_sms, "sms", ""), text(self.sms_typed), *shared],
            self.SUMMARY: [
                pressed(self.confirm, "confirm"),
                pressed(self.fix_menu, "fix"),
                pressed(self.fix_field, "fix", ""),
                text(self.summary_typed),
                *shared,
            ],
        }


# --- the contacts list ---------------------------------------------------------------------------
async def _show_list(
    update: Update,
    context: BotContext,
    session: BackendSession,
    page: int = 0,
    notice: str | None = None,
    show_contact: str | None = None,
) -> int:
    """The list (``page``, or the page holding ``show_contact``); the flow keeps no state."""
    contacts = await context.services.backend.list_contacts(session)
    if show_contact is not None:
        index = next((i for i, c in enumerate(contacts) if c.id == show_contact), 0)
        page = index // PAGE_SIZE
    page = paging.clamp(page, len(contacts), PAGE_SIZE)
    cards = [t.contact_card(contact) for contact in paging.page_items(contacts, page, PAGE_SIZE)]
    # A system that takes no new contacts is never offered one.
    can_add = not context.services.lacks(Feature.NEW_CONTACT)
    text = t.contact_list(
        cards, page, paging.page_count(len(contacts), PAGE_SIZE), len(contacts), can_add=can_add
    )
    if notice:
        text = f"{notice}\n\n{text}"
    NEW_CONTACT.clear(context)
    leave(context)
    await show(update, text, keys.list_keyboard(BUTTONS, page, len(contacts), PAGE_SIZE, can_add))
    return END


@step(FLOW)
async def start(update: Update, context: BotContext, session: BackendSession) -> int:
    return await _show_list(update, context, session)


@step(FLOW)
async def change_page(update: Update, context: BotContext, session: BackendSession) -> int:
    page = BUTTONS.page(update)
    return await _show_list(update, context, session, page)


@step(FLOW)
async def new_contact(update: Update, context: BotContext, session: BackendSession) -> object:
    return await NEW_CONTACT.begin(update, context, session)


async def _saved(
    update: Update, context: BotContext, session: BackendSession, contact: Contact
) -> int:
    return await _show_list(
        update, context, session, notice=t.saved(contact.name), show_contact=contact.id
    )


async def _cancelled(update: Update, context: BotContext, session: BackendSession) -> int:
    return await _show_list(update, context, session, notice=t.NEW_CANCELLED)


NEW_CONTACT = NewContactSteps(FLOW, PREFIX, on_saved=_saved, on_cancel=_cancelled)


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    return flow(
        FLOW,
        application,
        entry_points=[
            CallbackQueryHandler(start, pattern=MENU.pattern(FLOW)),
            CallbackQueryHandler(change_page, pattern=BUTTONS.pattern("page", "", whole=False)),
            CallbackQueryHandler(new_contact, pattern=BUTTONS.pattern("new")),
        ],
        states=NEW_CONTACT.states(application),
    )
