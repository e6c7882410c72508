"""The period step of the statement-like flows: a period button, or a period typed by the user.

The flow's ``ask`` shows the picker (``periods.keyboard``), whose buttons carry
``<prefix>:period:<key>``. The step's handlers: ``pick`` shows the picker again (the flow's
``<prefix>:periods`` buttons), ``choose`` takes a period button and, after "Outro período",
``typed`` takes what the user types in the flow's typing state. Either way the period is kept as
JSON in ``chat_data[<flow>]["period"]``, then the flow's ``on_chosen`` shows what it has for it::

    PERIOD = PeriodStep(FLOW, PREFIX, TYPE_PERIOD, ask=_ask_period, on_chosen=_show)

    states={
        CHOOSE_PERIOD: [CallbackQueryHandler(PERIOD.choose, pattern=...), ...],
        TYPE_PERIOD: [typed(FLOW, application, PERIOD.typed), ...],
    }
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from backend_client.models import BackendSession, DateRange
from bot.conversations import free_text
from bot.conversations.common import today
from bot.handlers.access import END, step
from bot.services import exports
from bot.services.context import BotContext
from bot.ui import periods, texts
from bot.ui.callbacks import Buttons
from bot.ui.keyboards import button, menu_row
from bot.ui.screens import send, show, uploading

Screen = Callable[[Update, BotContext], Awaitable[int]]
Step = Callable[[Update, BotContext, BackendSession], Awaitable[int]]


class PeriodStep:
    """The period of flow ``name``, whose buttons start with ``prefix``; ``typing`` is the state
    that waits for a typed period.

    ``ask_again`` (by default ``ask``) answers a key no button has (a forged one). ``back`` is
    the keyboard under the typed-period prompt (by default ⬅️ Voltar to ``<prefix>:periods``
    above ⬅️ Menu); with ``back_after_error`` it stays under the reply to a period not understood.
    A flow whose period depends on earlier choices names their keys in ``needs``: when one is
    missing (an old button after the choices were forgotten), ``resume`` takes over.
    """

    def __init__(
        self,
        name: str,
        prefix: str,
        typing: int,
        *,
        ask: Screen,
        on_chosen: Step,
        ask_again: Screen | None = None,
        back: InlineKeyboardMarkup | None = None,
        back_after_error: bool = False,
        needs: tuple[str, ...] = (),
        resume: Step | None = None,
    ) -> None:
        assert resume is not None or not needs, "needs goes with resume"
        self._name = name
        self._buttons = Buttons(prefix)
        self._typing = typing
        self._ask = ask
        self._ask_again = ask_again or ask
        self._on_chosen = on_chosen
        self._back = back or InlineKeyboardMarkup(
            [[button(texts.BUTTON_BACK, self._buttons.pack("periods"))], menu_row()]
        )
        self._back_after_error = back_after_error
        self._needs = needs
        self._resume = resume
        self.pick = step(name)(self._pick)
        self.choose = step(name)(self._choose)
        self.typed = step(name)(self._typed)

    async def _pick(self, update: Update, context: BotContext, session: BackendSession) -> int:
        if self._resume is not None and not self._ready(context):
            return await self._resume(update, context, session)
        return await self._ask(update, context)

    async def _choose(self, update: Update, context: BotContext, session: BackendSession) -> int:
        if self._resume is not None and not self._ready(context):
            return await self._resume(update, context, session)
        key = self._buttons.argument(update, "period")
        if key == periods.CUSTOM:
            await show(update, texts.ASK_PERIOD, self._back)
            return self._typing
        try:
            period = periods.resolve(key, today(context))
        except ValueError:  # a forged key
            return await self._ask_again(update, context)
        return await self._chosen(update, context, session, period)

    async def _typed(self, update: Update, context: BotContext, session: BackendSession) -> int:
        assert update.message is not None and update.message.text is not None
        if self._resume is not None and not self._ready(context):
            return await self._resume(update, context, session)
        try:
            period = periods.parse(update.message.text)
        except periods.PeriodError as error:
            worded = free_text.period_in(update.message.text, today(context))
            if worded is not None:  # "março", "mês passado", "últimos 6 meses" (issue 21)
                return await self._chosen(update, context, session, worded)
            if await free_text.elsewhere(update, context):  # "quero o boleto": went there
                return END
            await send(update, str(error), self._back if self._back_after_error else None)
            return self._typing
        return await self._chosen(update, context, session, period)

    async def open(
        self, update: Update, context: BotContext, session: BackendSession, period: DateRange
    ) -> int:
        """Straight to ``period``, as if it had been chosen (a period written in free text,
        bot.conversations.free_text); the flow's earlier choices first when they are missing."""
        if self._resume is not None and not self._ready(context):
            return await self._resume(update, context, session)
        return await self._chosen(update, context, session, period)

    def _ready(self, context: BotContext) -> bool:
        return set(self._needs) <= context.flow_data(self._name).keys()

    async def _chosen(
        self, update: Update, context: BotContext, session: BackendSession, period: DateRange
    ) -> int:
        context.flow_data(self._name)["period"] = periods.to_json(period)
        return await self._on_chosen(update, context, session)


def other_period(buttons: Buttons) -> InlineKeyboardButton:
    """🗓 Outro período: the period picker again (``<prefix>:periods``, ``PeriodStep.pick``)."""
    return button(texts.BUTTON_OTHER_PERIOD, buttons.pack("periods"))


def export_buttons(buttons: Buttons, *, csv: bool = True) -> list[InlineKeyboardButton]:
    """📄 Baixar PDF (``<prefix>:export:pdf``) and, with ``csv``, 📊 Baixar planilha (CSV)."""
    row = [button(texts.BUTTON_EXPORT_PDF, buttons.pack("export", "pdf"))]
    if csv:
        row.append(button(texts.BUTTON_EXPORT_CSV, buttons.pack("export", "csv")))
    return row


async def send_table(
    update: Update,
    table: exports.Table,
    kind: str,
    *,
    period: str,
    caption: str,
    created_at: datetime,
) -> None:
    """A period's ``table`` as a file (issue 21): ``kind`` "csv" or "pdf", named after the
    table's title and the ``period`` described, with an HTML ``caption``."""
    chat = await uploading(update)
    content = exports.to_csv(table) if kind == "csv" else exports.to_pdf(table, created_at)
    await chat.send_document(
        document=content,
        filename=exports.filename(table.title, period, kind),
        caption=caption,
        parse_mode=ParseMode.HTML,
    )
