"""``/aviso``: staff compose a broadcast to linked chats (only ``ADMIN_TELEGRAM_IDS``).

States:
    TEXT     → the text (Telegram HTML, or formatted in the Telegram app), checked at once
    MEDIA    → an optional photo or document (kept as Telegram's file_id), or "Sem anexo"
    AUDIENCE → everyone, or filters combined with AND: city/neighbourhood, plan, contract
               situation (pickers with ☑️ toggles), explicit contract or subscriber ids
    IDS      → the typed list of contract or subscriber ids
    WHEN     → now, or a date and time typed in TIME (dd/mm/aaaa hh:mm, São Paulo, future)
    CONFIRM  → the message exactly as subscribers will get it, then the summary with the
               recipient count; confirming creates the broadcast (``BroadcastService.create``)

Nothing is sent to subscribers before the confirmation. ``/cancelar`` or ✖️ discards the draft.
Callback data: ``bc:<action>[:<arg>…]`` (indices into the provider's lists; checked, since any
client can forge them). The audience step is ``bot.broadcasts.flow_audience``; what the steps
share (states, the draft in chat_data, button data) is ``bot.broadcasts.flow_common``.

chat_data["broadcast"] = {"text", "media": {"kind", "file_id", "name"} | None, "audience":
{"all", "places": [[city, neighbourhood | None]], "plans", "statuses", "contract_ids",
"subscriber_ids"}, "ids_for", "send_at": ISO | None, "editing"}; cleared when the flow ends.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, filters

from backend_client.errors import BackendError
from bot.broadcasts import commands, flow_outage
from bot.broadcasts import texts as t
from bot.broadcasts.content import InvalidInput, validate_content
from bot.broadcasts.content import Message as Outgoing
from bot.broadcasts.flow_audience import (
    ask_ids,
    audience_menu,
    audience_screen,
    cities,
    city,
    clear,
    continue_,
    everyone,
    hood,
    hoods_page,
    plans,
    receive_ids,
    statuses,
    whole_city,
)
from bot.broadcasts.flow_common import (
    AUDIENCE,
    BUTTONS,
    CONFIRM,
    FLOW,
    IDS,
    MEDIA,
    TEXT,
    TIME,
    WHEN,
    audience_of,
    cancel_row,
    draft_data,
    finish,
    retry_row,
    send_at_of,
    when_screen,
    when_screen_new,
)
from bot.broadcasts.jobs import service_of
from bot.broadcasts.schedule import parse_local_time
from bot.broadcasts.sender import deliver
from bot.broadcasts.service import Draft
from bot.conversations.common import flow, forget, typed
from bot.handlers.access import END, admin_step
from bot.services.context import BotContext
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import BACKEND_UNAVAILABLE

logger = logging.getLogger(__name__)

NOT_TEXT = ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
_FORMATTING = frozenset(
    {
        MessageEntity.BOLD,
        MessageEntity.ITALIC,
        MessageEntity.UNDERLINE,
        MessageEntity.STRIKETHROUGH,
        MessageEntity.SPOILER,
        MessageEntity.CODE,
        MessageEntity.PRE,
        MessageEntity.TEXT_LINK,
        MessageEntity.BLOCKQUOTE,
        MessageEntity.EXPANDABLE_BLOCKQUOTE,
        MessageEntity.CUSTOM_EMOJI,
    }
)


# --- text ---------------------------------------------------------------------------------------
@admin_step(FLOW)
async def start(update: Update, context: BotContext) -> int:
    assert context.chat_data is not None
    context.chat_data.pop(FLOW, None)  # a draft left half-way is dropped
    await answer_query(update)
    await send(update, t.ASK_TEXT, InlineKeyboardMarkup([cancel_row()]))
    return TEXT


def _html_of(message: Message) -> str:
    """Formatting made in the Telegram app becomes HTML; otherwise the text is HTML as typed."""
    if any(entity.type in _FORMATTING for entity in message.entities):
        return message.text_html
    return message.text or ""


@admin_step(FLOW)
async def receive_text(update: Update, context: BotContext) -> int:
    message = update.effective_message
    assert message is not None
    data = draft_data(context)
    markup = _html_of(message)
    media = data.get("media")
    try:
        validate_content(markup, media["kind"] if media else None)
    except InvalidInput as error:
        await send(update, t.text_problem(error.kind, error.details))
        return TEXT
    data["text"] = markup
    if data.pop("editing", False):
        return await _preview(update, context)
    await send(
        update,
        t.ASK_MEDIA,
        InlineKeyboardMarkup([[button(t.BUTTON_NO_MEDIA, BUTTONS.pack("nomedia"))], cancel_row()]),
    )
    return MEDIA


@admin_step(FLOW)
async def text_expected(update: Update, context: BotContext) -> int:
    await send(update, t.TEXT_EXPECTED)
    return TEXT


@admin_step(FLOW)
async def edit_text(update: Update, context: BotContext) -> int:
    """From the preview: a new text, then straight back to the preview."""
    draft_data(context)["editing"] = True
    await answer_query(update)
    await send(update, t.ASK_TEXT, InlineKeyboardMarkup([cancel_row()]))
    return TEXT


@admin_step(FLOW)
async def shorter_text(update: Update, context: BotContext) -> int:
    """From the attachment step (a caption too long): a new text, then the attachment again."""
    draft_data(context).pop("editing", None)
    await answer_query(update)
    await send(update, t.ASK_TEXT, InlineKeyboardMarkup([cancel_row()]))
    return TEXT


# --- media --------------------------------------------------------------------------------------
@admin_step(FLOW)
async def receive_media(update: Update, context: BotContext) -> int:
    message = update.effective_message
    assert message is not None
    data = draft_data(context)
    if message.photo:
        media = {"kind": "photo", "file_id": message.photo[-1].file_id, "name": None}
    elif message.document is not None:
        document = message.document
        media = {"kind": "document", "file_id": document.file_id, "name": document.file_name}
    else:  # the filter lets only photos and documents through
        return MEDIA
    try:
        validate_content(data.get("text", ""), "caption")
    except InvalidInput as error:
        keyboard = InlineKeyboardMarkup(
            [
                [button(t.BUTTON_CHANGE_TEXT, BUTTONS.pack("retext"))],
                [button(t.BUTTON_NO_MEDIA, BUTTONS.pack("nomedia"))],
                cancel_row(),
            ]
        )
        details = error.details
        await send(
            update,
            t.caption_too_long(int(details.get("length", 0)), int(details.get("limit", 0))),
            keyboard,
        )
        return MEDIA
    data["media"] = media
    await send(update, t.media_received(media["kind"], media["name"]))
    if data.pop("editing", False):
        return await _preview(update, context)
    return await audience_screen(update, context, new_message=True)


@admin_step(FLOW)
async def media_expected(update: Update, context: BotContext) -> int:
    keyboard = InlineKeyboardMarkup(
        [[button(t.BUTTON_NO_MEDIA, BUTTONS.pack("nomedia"))], cancel_row()]
    )
    await send(update, t.MEDIA_EXPECTED, keyboard)
    return MEDIA


@admin_step(FLOW)
async def no_media(update: Update, context: BotContext) -> int:
    draft_data(context)["media"] = None
    return await audience_screen(update, context)


# --- when ---------------------------------------------------------------------------------------
@admin_step(FLOW)
async def when(update: Update, context: BotContext) -> int:
    return await when_screen(update)


@admin_step(FLOW)
async def now(update: Update, context: BotContext) -> int:
    draft_data(context)["send_at"] = None
    await answer_query(update)
    return await _preview(update, context)


@admin_step(FLOW)
async def schedule(update: Update, context: BotContext) -> int:
    keyboard = InlineKeyboardMarkup([[button(t.BUTTON_BACK, BUTTONS.pack("when"))], cancel_row()])
    await show(update, t.ASK_TIME, keyboard)
    return TIME


@admin_step(FLOW)
async def receive_time(update: Update, context: BotContext) -> int:
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        instant = parse_local_time(message.text, context.services.clock())
    except InvalidInput as error:
        problem = {"time_past": t.TIME_PAST, "time_far": t.TIME_FAR}.get(error.kind, t.TIME_FORMAT)
        await send(update, problem)
        return TIME
    draft_data(context)["send_at"] = instant.isoformat()
    return await _preview(update, context)


# --- preview and confirmation -------------------------------------------------------------------
async def _preview(update: Update, context: BotContext) -> int:
    """The message exactly as recipients get it, then the summary with the count."""
    chat = update.effective_chat
    assert chat is not None
    data = draft_data(context)
    media = data.get("media")
    audience = audience_of(data)
    service = service_of(context.application)
    try:
        count = await service.count(audience)
        names = await service.plan_names()
    except BackendError as error:
        logger.warning("broadcast preview: backend unavailable (%s)", error)
        await send(update, BACKEND_UNAVAILABLE, InlineKeyboardMarkup([retry_row("preview")]))
        return CONFIRM
    outgoing = Outgoing(
        data["text"], media["kind"] if media else None, (media or {}).get("file_id")
    )
    try:
        await deliver(context.bot, chat.id, outgoing)
    except TelegramError as error:
        logger.info("broadcast preview refused by Telegram: %s", error)
        await send(update, t.text_problem("html", {"problem": str(error)}))
        data["editing"] = True
        return TEXT
    send_at = send_at_of(data)
    media_label = None
    if media:
        media_label = "imagem" if media["kind"] == "photo" else f"documento {media['name'] or ''}"
    summary = t.preview_summary(
        t.describe_audience(audience.to_json(), names), count, send_at, media_label
    )
    rows = []
    if count:
        label = t.BUTTON_CONFIRM_NOW if send_at is None else t.BUTTON_CONFIRM_LATER
        rows.append([button(label, BUTTONS.pack("confirm"))])
    if outage_row := flow_outage.preview_row(data):  # an audience by place (issue 22)
        rows.append(outage_row)
    rows += [
        [
            button(t.BUTTON_CHANGE_TEXT, BUTTONS.pack("edittext")),
            button(t.BUTTON_CHANGE_AUDIENCE, BUTTONS.pack("aud")),
        ],
        [button(t.BUTTON_CHANGE_WHEN, BUTTONS.pack("when")), *cancel_row()],
    ]
    text = f"{t.PREVIEW_ABOVE}\n\n{summary}" + ("" if count else f"\n\n{t.NO_RECIPIENTS}")
    text += flow_outage.preview_note(data)
    await send(update, text, InlineKeyboardMarkup(rows))
    return CONFIRM


@admin_step(FLOW)
async def preview_again(update: Update, context: BotContext) -> int:
    await answer_query(update)
    return await _preview(update, context)


@admin_step(FLOW)
async def outage_forecast(update: Update, context: BotContext) -> int:
    return await flow_outage.receive_forecast(update, context, _preview)


@admin_step(FLOW)
async def no_outage(update: Update, context: BotContext) -> int:
    await answer_query(update)
    draft_data(context).pop("outage", None)
    return await _preview(update, context)


@admin_step(FLOW)
async def confirm(update: Update, context: BotContext) -> int:
    user = update.effective_user
    assert user is not None
    data = draft_data(context)
    media = data.get("media") or {}
    send_at = send_at_of(data)
    draft = Draft(
        text=data["text"],
        audience=audience_of(data),
        send_at=send_at,
        media_kind=media.get("kind"),
        media_file_id=media.get("file_id"),
        media_name=media.get("name"),
    )
    service = service_of(context.application)
    try:
        count = await service.count(draft.audience)
        if not count:  # a forged or stale button: the preview offered no confirmation
            await answer_query(update, t.NO_RECIPIENTS[:200])
            return CONFIRM
        broadcast = await service.create(draft, created_by=f"telegram:{user.id}")
    except InvalidInput as error:
        if error.kind.startswith("time_"):  # the scheduled time passed meanwhile
            await answer_query(update)
            await send(update, t.TIME_PAST)
            return await when_screen_new(update)
        raise
    except BackendError as error:
        logger.warning("broadcast confirm: backend unavailable (%s)", error)
        await answer_query(update)
        await send(update, BACKEND_UNAVAILABLE, InlineKeyboardMarkup([retry_row("preview")]))
        return CONFIRM
    recorded = await flow_outage.record(context, data, user.full_name or f"telegram:{user.id}")
    await show(
        update,
        t.created(broadcast.id, count, send_at) + (f"\n\n{recorded}" if recorded else ""),
        InlineKeyboardMarkup(
            [[button(t.BUTTON_LIST, commands.BUTTONS.pack("show", broadcast.id))]]
        ),
    )
    return finish(context)


async def cancel(update: Update, context: BotContext) -> int:
    """✖️ or /cancelar: the draft is discarded (staff need no subscriber menu afterwards)."""
    forget(context, FLOW)
    if update.callback_query is not None:
        await show(update, t.FLOW_CANCELLED)
    else:
        await send(update, t.FLOW_CANCELLED)
    return END


def _buttons(  # type: ignore[type-arg]
    callback: Any, action: str, argument: str | None = None
) -> CallbackQueryHandler:
    return CallbackQueryHandler(callback, pattern=BUTTONS.pattern(action, argument))


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    exits = [
        CommandHandler("cancelar", cancel),
        _buttons(cancel, "cancel"),
    ]
    audience = [
        _buttons(audience_menu, "aud"),
        _buttons(everyone, "all"),
        _buttons(clear, "clear"),
        _buttons(continue_, "continue"),
        _buttons(cities, "cities:page", r"[0-9]{1,4}"),
        _buttons(city, "city", r"[0-9]{1,4}"),
        _buttons(hoods_page, "hoods", r"[0-9]{1,4}:page:[0-9]{1,4}"),
        _buttons(whole_city, "wholecity", r"[0-9]{1,4}"),
        _buttons(hood, "hood", r"[0-9]{1,4}:[0-9]{1,4}"),
        _buttons(plans, "plans:page", r"[0-9]{1,4}"),
        _buttons(plans, "plan", r"[0-9]{1,4}"),
        _buttons(statuses, "statuses"),
        _buttons(statuses, "status", r"\w{1,20}"),
        _buttons(ask_ids, "ids", r"\w{1,20}"),
    ]
    return flow(
        FLOW,
        application,
        entry_points=[CommandHandler("aviso", start)],
        states={
            TEXT: [
                *exits,
                typed(FLOW, application, receive_text),
                typed(FLOW, application, text_expected, NOT_TEXT),
            ],
            MEDIA: [
                *exits,
                typed(FLOW, application, receive_media, filters.PHOTO | filters.Document.ALL),
                typed(
                    FLOW, application, media_expected, ~filters.COMMAND & ~filters.StatusUpdate.ALL
                ),
                _buttons(no_media, "nomedia"),
                _buttons(shorter_text, "retext"),
                _buttons(edit_text, "edittext"),
                *audience,
            ],
            AUDIENCE: [*exits, *audience],
            IDS: [*exits, typed(FLOW, application, receive_ids), *audience],
            WHEN: [
                *exits,
                _buttons(now, "now"),
                _buttons(schedule, "schedule"),
                _buttons(when, "when"),
                *audience,
            ],
            TIME: [
                *exits,
                typed(FLOW, application, receive_time),
                _buttons(when, "when"),
                _buttons(now, "now"),
            ],
            flow_outage.OUTAGE: [
                *exits,
                typed(FLOW, application, outage_forecast),
                _buttons(no_outage, "nooutage"),
                _buttons(preview_again, "preview"),
            ],
            CONFIRM: [
                *exits,
                _buttons(confirm, "confirm"),
                _buttons(flow_outage.ask_forecast, "outage"),
                _buttons(no_outage, "nooutage"),
                _buttons(preview_again, "preview"),
                _buttons(edit_text, "edittext"),
                _buttons(when, "when"),
                _buttons(now, "now"),
                _buttons(schedule, "schedule"),
                *audience,
            ],
        },
    )
