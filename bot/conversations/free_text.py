"""Free text (issue 21): what a subscriber types that no screen takes, understood and routed.

``bot.intents`` names what a message asks for; this module takes the subscriber there:

- a confident intent opens its menu item exactly as its button would (the item's flow is then in
  the step it showed, so the screen's buttons work), acting on a detail when it is cheap: a
  period or month for Nota Fiscal and Extrato Financeiro opens that period's list, a day for
  Alterar Vencimento proposes it;
- an unsure one offers the two or three likeliest items as buttons (not the whole menu);
- greetings, thanks, "ok" and 👍 get a short human answer;
- ``human`` shows the provider's contacts (the provider file's) or the way to open a ticket;
  ``no_internet`` opens the "Sem internet" self-help (bot.conversations.no_internet);
- before the login, what was asked is kept (``PENDING_KEY``) and opened right after it
  (``resume``); a greeting gets a greeting, not "CPF inválido" (``before_login``).
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from backend_client.models import BackendSession, DateRange
from bot.conversations import opening
from bot.handlers import stray_passwords
from bot.handlers.provider import menu_keyboard
from bot.intents import OTHER, Classification, Details, classify, details
from bot.intents.details import due_day as day_in
from bot.intents.normalize import normalize
from bot.intents.small_talk import ACK, BYE, GREETING, THANKS
from bot.provider.store import current
from bot.services import sessions
from bot.services.context import BotContext
from bot.support.handoff import start_handoff
from bot.ui import periods, texts
from bot.ui.formatting import local_time
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import free_text as t
from bot.ui.texts import provider as provider_texts
from bot.ui.texts.password import STRAY_DELETED

logger = logging.getLogger(__name__)

PREFIX = "ft"
HUMAN, NO_INTERNET = "human", "no_internet"
# intent → the menu item (bot.ui.texts.MENU_ITEMS id) that serves it.
ITEM_OF: Mapping[str, str] = {
    "account": "account",
    "unlock": "enabling",
    "invoices": "invoices",
    "fiscal_note": "fiscal_notes",
    "contacts": "contacts",
    "calls": "calls",
    "connections": "connections",
    "statement": "statement",
    "due_date": "due_day",
    "tickets": "tickets",
    "password": "password",
}
# What was asked before the login: {"intent", "at", and the details}; kept this long.
PENDING_KEY = "free_text_pending"
PENDING_FOR = timedelta(minutes=30)
# Flows whose list a period or a month in the phrase opens at once (their PeriodStep).
_PERIOD_FLOWS = ("fiscal_notes", "statement")


def understand(text: str) -> Classification:
    """``classify`` (not cached: what subscribers type, a password typed by mistake among it,
    is not kept in memory)."""
    return classify(text)


_FORGOT = ("esqueci", "esqueceu", "lembro", "perdi", "recuper", "redefin", "reset")


def forgot(text: str) -> bool:
    """ "esqueci a senha", "não lembro", "recuperar": the password is lost, not to be changed."""
    return any(word.startswith(_FORGOT) for word in normalize(text).split())


def _today(context: BotContext) -> date:
    return local_time(context.services.clock()).date()


async def _open_with_period(
    update: Update, context: BotContext, item: str, period: DateRange
) -> object:
    """Nota Fiscal / Extrato Financeiro straight on ``period``'s list (their PeriodStep)."""
    module = importlib.import_module(f"bot.conversations.{item}")

    async def chosen(update: Update, context: BotContext, session: BackendSession) -> object:
        assert context.chat_data is not None
        context.chat_data[module.FLOW] = {}  # what the flow's own start does
        return await module.PERIOD.open(update, context, session, period)

    return await opening.in_flow(update, context, item, module.FLOW, chosen)


def period_in(text: str, today: date) -> DateRange | None:
    """The period ``text`` names in words ("março", "mês passado", "últimos 6 meses"), if any:
    what a period step takes besides ``mm/aaaa`` (bot.conversations.period_step). Digits with
    a "/" are left to ``periods.parse``, whose errors say what is wrong with them."""
    if _SLASHED.search(text):
        return None
    return _period_of(details(text, today), today)


def _period_of(found: Details, today: date) -> DateRange | None:
    if found.month is not None:
        end = found.month + relativedelta(months=1, days=-1)
        return DateRange(found.month, end)
    if found.period is not None:
        return periods.resolve(found.period, today)
    return None


async def go(update: Update, context: BotContext, intent: str, found: Details) -> None:
    """Take the subscriber to what ``intent`` asks for (logged in)."""
    logger.info("free text: routed to %s", intent)
    if intent == HUMAN:
        await _human(update, context)
        return
    if intent == NO_INTERNET:
        await opening.open_item(update, context, NO_INTERNET, even_hidden=True)
        return
    item = ITEM_OF.get(intent)
    if item is None:
        await _other(update, context)
        return
    message = update.effective_message
    text = message.text if isinstance(message, Message) else None
    provider = current(context).provider
    if (
        item == "password"
        and text
        and forgot(text)
        and provider_texts.offers_password_help(provider)
    ):
        rows = [[button(texts.BUTTON_MENU, "menu:home")]]
        if opening.offered(context, "password"):
            rows.insert(0, [button(texts.MENU_LABELS["password"], "menu:password")])
        await send(update, provider_texts.password_help(provider), InlineKeyboardMarkup(rows))
        return
    period = _period_of(found, _today(context))
    if item in _PERIOD_FLOWS and period is not None:
        await _open_with_period(update, context, item, period)
        return
    if item == "due_day" and found.day is not None:
        await _propose_day(update, context, found.day)
        return
    if item == "invoices" and found.payment is not None:
        await _the_only_boleto(update, context, fresh=True)
        return
    await opening.open_item(update, context, item)


async def _the_only_boleto(update: Update, context: BotContext, *, fresh: bool) -> bool:
    """ "pix", "código de barras": the boleto and PIX of the only open invoice (of the list on
    screen, or of all when ``fresh``), True; with several, ``fresh`` shows them (True), else
    False."""
    from bot.conversations import invoices

    async def pay(update: Update, context: BotContext, session: BackendSession) -> object:
        if fresh and context.chat_data is not None:
            context.chat_data[invoices.FLOW] = {}  # not the period of an earlier visit
        state = await invoices.the_only_boleto(update, context, session)
        if state is None and fresh:
            return await invoices.start(update, context)
        return state

    return await opening.in_flow(update, context, "invoices", invoices.FLOW, pay) is not None


async def _propose_day(update: Update, context: BotContext, day: int) -> None:
    from bot.conversations import due_day

    async def propose(update: Update, context: BotContext, session: BackendSession) -> object:
        return await due_day.propose(update, context, session, day)

    await opening.in_flow(update, context, "due_day", due_day.FLOW, propose)


_SLASHED = re.compile(r"\d\s*/\s*\d")
# Flows with a period step (their module's PERIOD) whose screens take a period typed anywhere.
_PERIOD_STEP_FLOWS = ("invoices", "fiscal_notes", "statement", "calls", "connections")


async def _on_period_screen(
    update: Update, context: BotContext, active: str | None, text: str
) -> bool:
    """A period (``mm/aaaa``, ``dd/mm/aaaa a dd/mm/aaaa`` or in words) typed on a screen of a
    flow with a period step: that period's list (True); else False."""
    if active not in _PERIOD_STEP_FLOWS:
        return False
    try:
        period: DateRange | None = periods.parse(text)
    except periods.PeriodError:
        period = period_in(text, _today(context))
    if period is None:
        return False
    module = importlib.import_module(f"bot.conversations.{active}")
    chosen = period

    async def show_period(update: Update, context: BotContext, session: BackendSession) -> object:
        return await module.PERIOD.open(update, context, session, chosen)

    await opening.in_flow(update, context, active, module.FLOW, show_period)
    return True


async def elsewhere(update: Update, context: BotContext) -> bool:
    """Text a step could not take (not a period, not a button): when it clearly asks for
    something else, go there and say True; else False (the step explains what it expects)."""
    message = update.effective_message
    if not isinstance(message, Message) or message.text is None or context.session is None:
        return False
    result = understand(message.text)
    if result.small_talk is not None or result.intent == OTHER or not result.confident:
        return False
    await go(update, context, result.intent, details(message.text, _today(context)))
    return True


# --- logged in: what no screen took --------------------------------------------------------------
async def answer(update: Update, context: BotContext) -> None:
    """Text a logged-in subscriber typed that no flow or screen took."""
    message = update.effective_message
    assert isinstance(message, Message) and message.text is not None
    if stray_passwords.was_deleted(context):  # it looked like a password: say why it is gone
        await send(update, f"{STRAY_DELETED}\n\n{texts.NOT_UNDERSTOOD}", menu_keyboard(context))
        return
    # On a screen, what answers that screen first: a day on Alterar Vencimento (its days step
    # takes one itself; its other screens come here), a period where a flow lists by period,
    # "pix" on the list of Faturas.
    active = sessions.active_flow(context.chat_data) if context.chat_data is not None else None
    day = day_in(message.text, loose=True)
    if active == "due_day" and day is not None:
        await _propose_day(update, context, day)
        return
    if await _on_period_screen(update, context, active, message.text):
        return
    listing = active == "invoices" and "period" in context.flow_data("invoices")
    if listing and details(message.text, _today(context)).payment is not None:
        if not await _the_only_boleto(update, context, fresh=False):
            await send(update, t.PICK_AN_INVOICE)
        return
    result = understand(message.text)
    if result.small_talk is not None:
        await _small_talk(update, context, result.small_talk)
    elif result.intent != OTHER and result.confident:
        await go(update, context, result.intent, details(message.text, _today(context)))
    elif result.likely:
        await _did_you_mean(update, context, result)
    elif result.intent == OTHER and result.confident:
        await _other(update, context)
    else:
        rows = [[button(t.BUTTON_MENU_ALL, "menu:home")]]
        await send(update, t.NOT_UNDERSTOOD, InlineKeyboardMarkup(rows))


async def _small_talk(update: Update, context: BotContext, kind: str) -> None:
    if kind == GREETING:
        session = context.session
        first = session.name.split()[0] if session and session.name.split() else None
        await send(update, t.greeting(first), menu_keyboard(context))
    elif kind == THANKS:
        await send(update, t.THANKS)
    elif kind == BYE:
        await send(update, t.BYE)
    else:
        assert kind == ACK
        await send(update, t.ACK)


def _label(intent: str) -> str:
    if intent == HUMAN:
        return t.HUMAN_LABEL
    if intent == NO_INTERNET:
        return t.NO_INTERNET_LABEL
    return texts.MENU_LABELS[ITEM_OF[intent]]


def _data_of(intent: str) -> str:
    """The button that opens ``intent``: its menu item's, or ours for a person / no internet."""
    if intent in (HUMAN, NO_INTERNET):
        return f"{PREFIX}:{intent}"
    return f"menu:{ITEM_OF[intent]}"


async def _did_you_mean(update: Update, context: BotContext, result: Classification) -> None:
    choices = [
        guess.intent
        for guess in result.likely
        if guess.intent in (HUMAN, NO_INTERNET) or opening.offered(context, ITEM_OF[guess.intent])
    ]
    rows = [[button(_label(intent), _data_of(intent))] for intent in choices[:3]]
    rows.append([button(t.BUTTON_MENU_ALL, "menu:home")])
    await send(update, t.DID_YOU_MEAN if choices else t.NOT_UNDERSTOOD, InlineKeyboardMarkup(rows))


async def _other(update: Update, context: BotContext) -> None:
    provider = current(context).provider
    rows = [[button(t.BUTTON_MENU_ALL, "menu:home")]]
    if provider.has_contacts:
        text = f"{t.OTHER_WITH_CONTACTS}\n\n{provider_texts.contacts(provider)}"
    else:
        text = t.OTHER
        if opening.offered(context, "tickets"):
            rows.insert(0, [button(t.BUTTON_OPEN_TICKET, "menu:tickets")])
    await send(update, text, InlineKeyboardMarkup(rows))


async def _human(update: Update, context: BotContext) -> None:
    """A person of the provider's team when it works in Telegram ([support] chat_id) and the
    chat is logged in (bot.support.handoff says when it is out of hours); else the provider's
    contacts when the provider file gives them, or the way to a ticket."""
    logged_in = context.session is not None
    if logged_in and current(context).support.chat_id is not None:
        await start_handoff(update, context)
        return
    provider = current(context).provider
    rows = []
    if logged_in and opening.offered(context, "tickets"):
        rows.append([button(t.BUTTON_OPEN_TICKET, "menu:tickets")])
    rows.append(
        [button(t.BUTTON_MENU_ALL, "menu:home")]
        if logged_in
        else [button(texts.BUTTON_LOGIN, "login:start")]
    )
    if provider.has_contacts:
        text = f"{t.HUMAN_CONTACTS}\n\n{provider_texts.contacts(provider)}"
    else:
        text = t.HUMAN_TICKET
    await show(update, text, InlineKeyboardMarkup(rows))


async def _pressed_human(update: Update, context: BotContext) -> None:
    await answer_query(update)
    await _human(update, context)


async def _pressed_no_internet(update: Update, context: BotContext) -> None:
    """ "📶 Estou sem internet" among the guesses: the self-help, as its menu button."""
    await opening.open_item(update, context, NO_INTERNET, even_hidden=True)


# --- before the login ----------------------------------------------------------------------------
def before_login(update: Update, context: BotContext) -> str | None:
    """What to say before asking for the CPF/CNPJ again, for a message that is not one: a
    greeting, or "log in first" for a request (kept for after the login, see ``resume``);
    None when the message says nothing the bot understood (then: "CPF inválido")."""
    message = update.effective_message
    if not isinstance(message, Message) or message.text is None:
        return None
    result = understand(message.text)
    if result.small_talk == GREETING:
        return t.GREETING_LOGGED_OUT
    if result.small_talk == ACK:
        return t.ACK_LOGGED_OUT
    if result.small_talk == THANKS:
        return t.THANKS
    if result.small_talk == BYE:
        return t.BYE
    if result.intent == OTHER or not result.confident:
        return None
    provider = current(context).provider
    if result.intent == HUMAN and provider.has_contacts:  # no login needed for those
        return f"{t.HUMAN_CONTACTS}\n\n{provider_texts.contacts(provider)}\n\n{t.OR_LOG_IN}"
    if result.intent == "password" and forgot(message.text):  # the login cannot help with that
        if provider_texts.offers_password_help(provider):
            return provider_texts.password_help(provider)
        return t.FORGOT_PASSWORD
    if context.chat_data is not None:
        found = details(message.text, _today(context))
        context.chat_data[PENDING_KEY] = {
            "intent": result.intent,
            "at": context.services.clock().isoformat(),
            "day": found.day,
            "month": found.month.isoformat() if found.month else None,
            "period": found.period,
            "payment": found.payment,
        }
    return t.login_first(_label(result.intent))


async def resume(update: Update, context: BotContext) -> bool:
    """Right after the login: open what was asked before it, if anything (True then)."""
    if context.chat_data is None:
        return False
    pending = context.chat_data.pop(PENDING_KEY, None)
    if not isinstance(pending, dict) or pending.get("intent") not in (*ITEM_OF, HUMAN, NO_INTERNET):
        return False
    try:
        asked_at = datetime.fromisoformat(pending["at"])
    except (KeyError, TypeError, ValueError):
        return False
    if context.services.clock() - asked_at > PENDING_FOR:
        return False
    month = date.fromisoformat(pending["month"]) if pending.get("month") else None
    found = Details(
        day=pending.get("day"),
        month=month,
        period=pending.get("period"),
        payment=pending.get("payment"),
    )
    await go(update, context, pending["intent"], found)
    return True


# --- registration --------------------------------------------------------------------------------
class LoggedIn(filters.UpdateFilter):
    """The update's chat has a subscriber login."""

    def __init__(self, chat_data: Mapping[int, dict[str, Any]], *, wanted: bool = True) -> None:
        super().__init__(name="LoggedIn" if wanted else "LoggedOut")
        self._chat_data = chat_data
        self._wanted = wanted

    def filter(self, update: Update) -> bool:
        chat = update.effective_chat
        data = self._chat_data.get(chat.id) if chat is not None else None
        logged_in = data is not None and sessions.current(data) is not None
        return logged_in == self._wanted


class NoFlow(filters.UpdateFilter):
    """No flow is active in the update's chat."""

    def __init__(self, chat_data: Mapping[int, dict[str, Any]]) -> None:
        super().__init__(name="NoFlow")
        self._chat_data = chat_data

    def filter(self, update: Update) -> bool:
        chat = update.effective_chat
        data = self._chat_data.get(chat.id) if chat is not None else None
        return data is None or sessions.active_flow(data) is None


def _loose_day(text: str) -> int | None:
    return day_in(text, loose=True)


class _Mentions(filters.MessageFilter):
    """Text from which ``reader`` reads something (not None)."""

    def __init__(self, reader: Callable[[str], object], name: str) -> None:
        super().__init__(name=name)
        self._reader = reader

    def filter(self, message: Message) -> bool:
        return message.text is not None and self._reader(message.text) is not None


# Text that names a day of the month ("15", "dia 15", "para o dia 15"): Alterar Vencimento's
# days step takes it (bot.conversations.due_day); other text goes on to free text.
TYPED_DAY = filters.TEXT & ~filters.COMMAND & _Mentions(_loose_day, "TYPED_DAY")


def logged_out_text(application: Any) -> filters.BaseFilter:
    """Text typed by a chat without a login, outside any flow (the login takes it)."""
    return (
        filters.TEXT
        & ~filters.COMMAND
        & LoggedIn(application.chat_data, wanted=False)
        & NoFlow(application.chat_data)
    )


def handlers(application: Any) -> list[BaseHandler]:  # type: ignore[type-arg]
    """Registered after every flow and menu item, before the catch-alls (bot.handlers.commands)."""
    return [
        MessageHandler(filters.TEXT & ~filters.COMMAND & LoggedIn(application.chat_data), answer),
        CallbackQueryHandler(_pressed_human, pattern=rf"^{PREFIX}:{HUMAN}$"),
        CallbackQueryHandler(_pressed_no_internet, pattern=rf"^{PREFIX}:{NO_INTERNET}$"),
    ]
