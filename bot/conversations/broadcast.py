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
client can forge them).

chat_data["broadcast"] = {"text", "media": {"kind", "file_id", "name"} | None, "audience":
{"all", "places": [[city, neighbourhood | None]], "plans", "statuses", "contract_ids",
"subscriber_ids"}, "ids_for", "send_at": ISO | None, "editing"}; cleared when the flow ends.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, filters

from backend_client.errors import BackendError
from backend_client.provider import AudienceOptions
from bot.conversations.common import END, flow, forget, typed
from bot.handlers.admin import admin_step, plan_names
from bot.handlers.broadcast_jobs import deliver, service_of
from bot.handlers.guards import Context
from bot.parsing import ascii_int
from bot.services.broadcasts import (
    Audience,
    Draft,
    InvalidInput,
    parse_local_time,
    split_ids,
    validate_content,
)
from bot.services.broadcasts import Message as Outgoing
from bot.services.context import services
from bot.ui import paging
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import BACKEND_UNAVAILABLE, BUTTON_EXPIRED
from bot.ui.texts import broadcast as t

logger = logging.getLogger(__name__)

FLOW = "broadcast"
PREFIX = "bc"
TEXT, MEDIA, AUDIENCE, IDS, WHEN, TIME, CONFIRM = range(7)
PICK_PAGE = 12  # cities / neighbourhoods / plans per picker page
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
_SEGMENTS = ("places", "plans", "statuses", "contract_ids", "subscriber_ids")


# --- chat_data --------------------------------------------------------------------------------
def _data(context: Context) -> dict[str, Any]:
    assert context.chat_data is not None
    data: dict[str, Any] = context.chat_data.setdefault(FLOW, {})
    return data


def _audience_data(data: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = data.setdefault("audience", {})
    found.setdefault("all", False)
    for key in _SEGMENTS:
        found.setdefault(key, [])
    return found


def _audience(data: dict[str, Any]) -> Audience:
    raw = _audience_data(data)
    return Audience(
        everyone=bool(raw["all"]),
        places=tuple((city, hood) for city, hood in raw["places"]),
        plans=tuple(raw["plans"]),
        statuses=tuple(raw["statuses"]),
        contract_ids=tuple(raw["contract_ids"]),
        subscriber_ids=tuple(raw["subscriber_ids"]),
    )


def _send_at(data: dict[str, Any]) -> datetime | None:
    value = data.get("send_at")
    return datetime.fromisoformat(value) if value else None


def _parts(update: Update) -> list[str]:
    assert update.callback_query is not None
    return (update.callback_query.data or "").split(":")


def _index(raw: str, size: int) -> int | None:
    """A list index from callback data (untrusted): None when it is not one."""
    index = ascii_int(raw, max_digits=5)
    return index if index is not None and index < size else None


def _done(context: Context) -> int:
    forget(context, FLOW)
    return END


def _cancel_row() -> list[InlineKeyboardButton]:
    return [button(t.BUTTON_CANCEL, f"{PREFIX}:cancel")]


async def _options(update: Update, context: Context) -> AudienceOptions | bool | None:
    """The provider's places and plans; None when it has none; False when it is down (the
    admin was told, and may try again)."""
    try:
        return await service_of(context.application).options()
    except BackendError as error:
        logger.warning("audience options unavailable: %s", error)
        await answer_query(update)
        await send(update, BACKEND_UNAVAILABLE, InlineKeyboardMarkup([_retry_row("aud")]))
        return False


def _retry_row(action: str) -> list[InlineKeyboardButton]:
    return [button(t.BUTTON_REFRESH, f"{PREFIX}:{action}"), *_cancel_row()]


# --- text ---------------------------------------------------------------------------------------
@admin_step(FLOW)
async def start(update: Update, context: Context) -> int:
    assert context.chat_data is not None
    context.chat_data.pop(FLOW, None)  # a draft left half-way is dropped
    await answer_query(update)
    await send(update, t.ASK_TEXT, InlineKeyboardMarkup([_cancel_row()]))
    return TEXT


def _html_of(message: Message) -> str:
    """Formatting made in the Telegram app becomes HTML; otherwise the text is HTML as typed."""
    if any(entity.type in _FORMATTING for entity in message.entities):
        return message.text_html
    return message.text or ""


@admin_step(FLOW)
async def receive_text(update: Update, context: Context) -> int:
    message = update.effective_message
    assert message is not None
    data = _data(context)
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
        InlineKeyboardMarkup([[button(t.BUTTON_NO_MEDIA, f"{PREFIX}:nomedia")], _cancel_row()]),
    )
    return MEDIA


@admin_step(FLOW)
async def text_expected(update: Update, context: Context) -> int:
    await send(update, t.TEXT_EXPECTED)
    return TEXT


@admin_step(FLOW)
async def edit_text(update: Update, context: Context) -> int:
    """From the preview: a new text, then straight back to the preview."""
    _data(context)["editing"] = True
    await answer_query(update)
    await send(update, t.ASK_TEXT, InlineKeyboardMarkup([_cancel_row()]))
    return TEXT


@admin_step(FLOW)
async def shorter_text(update: Update, context: Context) -> int:
    """From the attachment step (a caption too long): a new text, then the attachment again."""
    _data(context).pop("editing", None)
    await answer_query(update)
    await send(update, t.ASK_TEXT, InlineKeyboardMarkup([_cancel_row()]))
    return TEXT


# --- media --------------------------------------------------------------------------------------
@admin_step(FLOW)
async def receive_media(update: Update, context: Context) -> int:
    message = update.effective_message
    assert message is not None
    data = _data(context)
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
                [button(t.BUTTON_CHANGE_TEXT, f"{PREFIX}:retext")],
                [button(t.BUTTON_NO_MEDIA, f"{PREFIX}:nomedia")],
                _cancel_row(),
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
    return await _audience_screen(update, context, new_message=True)


@admin_step(FLOW)
async def media_expected(update: Update, context: Context) -> int:
    keyboard = InlineKeyboardMarkup(
        [[button(t.BUTTON_NO_MEDIA, f"{PREFIX}:nomedia")], _cancel_row()]
    )
    await send(update, t.MEDIA_EXPECTED, keyboard)
    return MEDIA


@admin_step(FLOW)
async def no_media(update: Update, context: Context) -> int:
    _data(context)["media"] = None
    return await _audience_screen(update, context)


# --- audience -----------------------------------------------------------------------------------
async def _audience_screen(update: Update, context: Context, *, new_message: bool = False) -> int:
    options = await _options(update, context)
    if options is False:
        return AUDIENCE
    has_feed = options is not None
    data = _data(context)
    audience = _audience_data(data)
    audience["all"] = False
    summary = t.describe_audience(_audience(data).to_json(), await plan_names(context))
    rows = [[button(t.BUTTON_EVERYONE, f"{PREFIX}:all")]]
    if has_feed:
        rows += [
            [
                button(t.BUTTON_PLACES, f"{PREFIX}:cities:page:0"),
                button(t.BUTTON_PLANS, f"{PREFIX}:plans:page:0"),
            ],
            [
                button(t.BUTTON_STATUSES, f"{PREFIX}:statuses"),
                button(t.BUTTON_CONTRACTS, f"{PREFIX}:ids:contract_ids"),
            ],
        ]
    rows.append([button(t.BUTTON_SUBSCRIBERS, f"{PREFIX}:ids:subscriber_ids")])
    if _audience(data).has_segments:
        rows.append(
            [
                button(t.BUTTON_CLEAR, f"{PREFIX}:clear"),
                button(t.BUTTON_CONTINUE, f"{PREFIX}:continue"),
            ]
        )
    rows.append(_cancel_row())
    text, keyboard = t.audience_screen(summary, has_feed), InlineKeyboardMarkup(rows)
    if new_message:
        await send(update, text, keyboard)
    else:
        await show(update, text, keyboard)
    return AUDIENCE


@admin_step(FLOW)
async def audience_menu(update: Update, context: Context) -> int:
    return await _audience_screen(update, context)


@admin_step(FLOW)
async def everyone(update: Update, context: Context) -> int:
    data = _data(context)
    data["audience"] = {"all": True, **{key: [] for key in _SEGMENTS}}
    return await _when_screen(update)


@admin_step(FLOW)
async def clear(update: Update, context: Context) -> int:
    data = _data(context)
    data["audience"] = {"all": False, **{key: [] for key in _SEGMENTS}}
    return await _audience_screen(update, context)


@admin_step(FLOW)
async def continue_(update: Update, context: Context) -> int:
    if not _audience(_data(context)).has_segments:
        await answer_query(update, t.NEED_SEGMENT)
        return AUDIENCE
    return await _when_screen(update)


# cities and neighbourhoods
@admin_step(FLOW)
async def cities(update: Update, context: Context) -> int:
    parts = _parts(update)  # bc:cities:page:<n>
    options = await _options(update, context)
    if not options:
        return AUDIENCE if options is False else await _audience_screen(update, context)
    places = _audience_data(_data(context))["places"]
    chosen = {city for city, _ in places}
    names = [city for city, _ in options.places]
    page = paging.clamp(paging.page_number(parts[-1]), len(names), PICK_PAGE)
    start_at = page * PICK_PAGE
    buttons = [
        button(t.check(city, city in chosen), f"{PREFIX}:city:{start_at + i}")
        for i, city in enumerate(names[start_at : start_at + PICK_PAGE])
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    nav = paging.nav_row(f"{PREFIX}:cities", page, len(names), PICK_PAGE)
    rows += [nav] if nav else []
    rows.append([button(t.BUTTON_BACK, f"{PREFIX}:aud")])
    await show(update, t.CHOOSE_CITY, InlineKeyboardMarkup(rows))
    return AUDIENCE


async def _city_screen(
    update: Update, context: Context, options: AudienceOptions, city_index: int, page: int
) -> int:
    city, hoods = options.places[city_index]
    places = _audience_data(_data(context))["places"]
    whole = [city, None] in places
    chosen = {hood for c, hood in places if c == city and hood is not None}
    page = paging.clamp(page, len(hoods), PICK_PAGE)
    start_at = page * PICK_PAGE
    buttons = [
        button(t.check(hood, hood in chosen), f"{PREFIX}:hood:{city_index}:{start_at + i}")
        for i, hood in enumerate(hoods[start_at : start_at + PICK_PAGE])
    ]
    whole_button = button(t.check(t.BUTTON_WHOLE_CITY, whole), f"{PREFIX}:wholecity:{city_index}")
    rows = [[whole_button]]
    rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    nav = paging.nav_row(f"{PREFIX}:hoods:{city_index}", page, len(hoods), PICK_PAGE)
    rows += [nav] if nav else []
    rows.append(
        [
            button(t.BUTTON_BACK, f"{PREFIX}:cities:page:0"),
            button(t.BUTTON_CONTINUE, f"{PREFIX}:aud"),
        ]
    )
    await show(update, t.city_screen(city), InlineKeyboardMarkup(rows))
    return AUDIENCE


async def _city_from(
    update: Update, context: Context, raw: str
) -> tuple[AudienceOptions, int] | int:
    """The options and a checked city index, or the state to return (stale or forged data)."""
    options = await _options(update, context)
    if not options:
        return AUDIENCE if options is False else await _audience_screen(update, context)
    city_index = _index(raw, len(options.places))
    if city_index is None:
        await answer_query(update, BUTTON_EXPIRED)
        return await _audience_screen(update, context)
    return options, city_index


@admin_step(FLOW)
async def city(update: Update, context: Context) -> int:
    found = await _city_from(update, context, _parts(update)[-1])  # bc:city:<i>
    if isinstance(found, int):
        return found
    return await _city_screen(update, context, *found, 0)


@admin_step(FLOW)
async def hoods_page(update: Update, context: Context) -> int:
    parts = _parts(update)  # bc:hoods:<i>:page:<n>
    found = await _city_from(update, context, parts[2])
    if isinstance(found, int):
        return found
    page = paging.page_number(parts[-1])
    return await _city_screen(update, context, *found, page)


@admin_step(FLOW)
async def whole_city(update: Update, context: Context) -> int:
    found = await _city_from(update, context, _parts(update)[-1])  # bc:wholecity:<i>
    if isinstance(found, int):
        return found
    options, city_index = found
    name = options.places[city_index][0]
    audience = _audience_data(_data(context))
    if [name, None] in audience["places"]:
        audience["places"].remove([name, None])
    else:  # the whole city replaces its neighbourhoods
        audience["places"] = [p for p in audience["places"] if p[0] != name] + [[name, None]]
    return await _city_screen(update, context, options, city_index, 0)


@admin_step(FLOW)
async def hood(update: Update, context: Context) -> int:
    parts = _parts(update)  # bc:hood:<city>:<hood>
    found = await _city_from(update, context, parts[2])
    if isinstance(found, int):
        return found
    options, city_index = found
    name, hoods = options.places[city_index]
    hood_index = _index(parts[-1], len(hoods))
    if hood_index is None:
        await answer_query(update, BUTTON_EXPIRED)
        return await _city_screen(update, context, options, city_index, 0)
    entry = [name, hoods[hood_index]]
    audience = _audience_data(_data(context))
    places = [p for p in audience["places"] if p != [name, None]]
    others = [p for p in places if p != entry]
    audience["places"] = others if entry in places else [*others, entry]
    return await _city_screen(update, context, options, city_index, hood_index // PICK_PAGE)


# plans and statuses
@admin_step(FLOW)
async def plans(update: Update, context: Context) -> int:
    parts = _parts(update)  # bc:plans:page:<n> or bc:plan:<i>
    options = await _options(update, context)
    if not options:
        return AUDIENCE if options is False else await _audience_screen(update, context)
    audience = _audience_data(_data(context))
    page = paging.page_number(parts[-1]) if parts[1] == "plans" else 0
    if parts[1] == "plan":
        index = _index(parts[-1], len(options.plans))
        if index is None:
            await answer_query(update, BUTTON_EXPIRED)
        else:
            plan_id = options.plans[index][0]
            chosen = [p for p in audience["plans"] if p != plan_id]
            audience["plans"] = chosen if plan_id in audience["plans"] else [*chosen, plan_id]
            page = index // PICK_PAGE
    page = paging.clamp(page, len(options.plans), PICK_PAGE)
    start_at = page * PICK_PAGE
    rows = [
        [button(t.check(name, plan_id in audience["plans"]), f"{PREFIX}:plan:{start_at + i}")]
        for i, (plan_id, name) in enumerate(options.plans[start_at : start_at + PICK_PAGE])
    ]
    nav = paging.nav_row(f"{PREFIX}:plans", page, len(options.plans), PICK_PAGE)
    rows += [nav] if nav else []
    rows.append([button(t.BUTTON_BACK, f"{PREFIX}:aud")])
    await show(update, t.CHOOSE_PLANS, InlineKeyboardMarkup(rows))
    return AUDIENCE


@admin_step(FLOW)
async def statuses(update: Update, context: Context) -> int:
    parts = _parts(update)  # bc:statuses or bc:status:<key>
    audience = _audience_data(_data(context))
    if parts[1] == "status":
        key = parts[-1]
        if key not in t.STATUS_LABELS:
            await answer_query(update, BUTTON_EXPIRED)
        elif key in audience["statuses"]:
            audience["statuses"].remove(key)
        else:
            audience["statuses"].append(key)
    rows = [
        [button(t.check(label, key in audience["statuses"]), f"{PREFIX}:status:{key}")]
        for key, label in t.STATUS_BUTTONS
    ]
    rows.append([button(t.BUTTON_BACK, f"{PREFIX}:aud")])
    await show(update, t.CHOOSE_STATUSES, InlineKeyboardMarkup(rows))
    return AUDIENCE


# explicit ids
@admin_step(FLOW)
async def ask_ids(update: Update, context: Context) -> int:
    kind = _parts(update)[-1]  # bc:ids:contract_ids | bc:ids:subscriber_ids
    if kind not in ("contract_ids", "subscriber_ids"):
        await answer_query(update, BUTTON_EXPIRED)
        return AUDIENCE
    _data(context)["ids_for"] = kind
    text = t.ASK_CONTRACTS if kind == "contract_ids" else t.ASK_SUBSCRIBERS
    await show(update, text, InlineKeyboardMarkup([[button(t.BUTTON_BACK, f"{PREFIX}:aud")]]))
    return IDS


@admin_step(FLOW)
async def receive_ids(update: Update, context: Context) -> int:
    message = update.effective_message
    assert message is not None and message.text is not None
    data = _data(context)
    ids = [item[:100] for item in split_ids(message.text)]
    if not ids:
        await send(update, t.IDS_EMPTY)
        return IDS
    kind = data.get("ids_for", "subscriber_ids")
    _audience_data(data)[kind] = list(dict.fromkeys(ids))[:10_000]
    return await _audience_screen(update, context, new_message=True)


# --- when ---------------------------------------------------------------------------------------
async def _when_screen(update: Update) -> int:
    keyboard = InlineKeyboardMarkup(
        [
            [
                button(t.BUTTON_NOW, f"{PREFIX}:now"),
                button(t.BUTTON_SCHEDULE, f"{PREFIX}:schedule"),
            ],
            [button(t.BUTTON_CHANGE_AUDIENCE, f"{PREFIX}:aud")],
            _cancel_row(),
        ]
    )
    await show(update, t.ASK_WHEN, keyboard)
    return WHEN


@admin_step(FLOW)
async def when(update: Update, context: Context) -> int:
    return await _when_screen(update)


@admin_step(FLOW)
async def now(update: Update, context: Context) -> int:
    _data(context)["send_at"] = None
    await answer_query(update)
    return await _preview(update, context)


@admin_step(FLOW)
async def schedule(update: Update, context: Context) -> int:
    keyboard = InlineKeyboardMarkup([[button(t.BUTTON_BACK, f"{PREFIX}:when")], _cancel_row()])
    await show(update, t.ASK_TIME, keyboard)
    return TIME


@admin_step(FLOW)
async def receive_time(update: Update, context: Context) -> int:
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        instant = parse_local_time(message.text, services(context).clock())
    except InvalidInput as error:
        problem = {"time_past": t.TIME_PAST, "time_far": t.TIME_FAR}.get(error.kind, t.TIME_FORMAT)
        await send(update, problem)
        return TIME
    _data(context)["send_at"] = instant.isoformat()
    return await _preview(update, context)


# --- preview and confirmation -------------------------------------------------------------------
async def _preview(update: Update, context: Context) -> int:
    """The message exactly as recipients get it, then the summary with the count."""
    chat = update.effective_chat
    assert chat is not None
    data = _data(context)
    media = data.get("media")
    audience = _audience(data)
    service = service_of(context.application)
    try:
        count = await service.count(audience)
        names = await plan_names(context)
    except BackendError as error:
        logger.warning("broadcast preview: backend unavailable (%s)", error)
        await send(update, BACKEND_UNAVAILABLE, InlineKeyboardMarkup([_retry_row("preview")]))
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
    send_at = _send_at(data)
    media_label = None
    if media:
        media_label = "imagem" if media["kind"] == "photo" else f"documento {media['name'] or ''}"
    summary = t.preview_summary(
        t.describe_audience(audience.to_json(), names), count, send_at, media_label
    )
    rows = []
    if count:
        label = t.BUTTON_CONFIRM_NOW if send_at is None else t.BUTTON_CONFIRM_LATER
        rows.append([button(label, f"{PREFIX}:confirm")])
    rows += [
        [
            button(t.BUTTON_CHANGE_TEXT, f"{PREFIX}:edittext"),
            button(t.BUTTON_CHANGE_AUDIENCE, f"{PREFIX}:aud"),
        ],
        [button(t.BUTTON_CHANGE_WHEN, f"{PREFIX}:when"), *_cancel_row()],
    ]
    text = f"{t.PREVIEW_ABOVE}\n\n{summary}" + ("" if count else f"\n\n{t.NO_RECIPIENTS}")
    await send(update, text, InlineKeyboardMarkup(rows))
    return CONFIRM


@admin_step(FLOW)
async def preview_again(update: Update, context: Context) -> int:
    await answer_query(update)
    return await _preview(update, context)


@admin_step(FLOW)
async def confirm(update: Update, context: Context) -> int:
    user = update.effective_user
    assert user is not None
    data = _data(context)
    media = data.get("media") or {}
    send_at = _send_at(data)
    draft = Draft(
        text=data["text"],
        audience=_audience(data),
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
            return await _when_screen_new(update)
        raise
    except BackendError as error:
        logger.warning("broadcast confirm: backend unavailable (%s)", error)
        await answer_query(update)
        await send(update, BACKEND_UNAVAILABLE, InlineKeyboardMarkup([_retry_row("preview")]))
        return CONFIRM
    await show(
        update,
        t.created(broadcast.id, count, send_at),
        InlineKeyboardMarkup([[button(t.BUTTON_LIST, f"avisos:show:{broadcast.id}")]]),
    )
    return _done(context)


async def _when_screen_new(update: Update) -> int:
    keyboard = InlineKeyboardMarkup(
        [
            [
                button(t.BUTTON_NOW, f"{PREFIX}:now"),
                button(t.BUTTON_SCHEDULE, f"{PREFIX}:schedule"),
            ],
            _cancel_row(),
        ]
    )
    await send(update, t.ASK_WHEN, keyboard)
    return WHEN


async def cancel(update: Update, context: Context) -> int:
    """✖️ or /cancelar: the draft is discarded (staff need no subscriber menu afterwards)."""
    forget(context, FLOW)
    if update.callback_query is not None:
        await show(update, t.FLOW_CANCELLED)
    else:
        await send(update, t.FLOW_CANCELLED)
    return END


def _buttons(pattern: str, callback: Any) -> CallbackQueryHandler:  # type: ignore[type-arg]
    return CallbackQueryHandler(callback, pattern=rf"^{PREFIX}:{pattern}$")


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    exits = [
        CommandHandler("cancelar", cancel),
        _buttons("cancel", cancel),
    ]
    audience = [
        _buttons("aud", audience_menu),
        _buttons("all", everyone),
        _buttons("clear", clear),
        _buttons("continue", continue_),
        _buttons(r"cities:page:[0-9]{1,4}", cities),
        _buttons(r"city:[0-9]{1,4}", city),
        _buttons(r"hoods:[0-9]{1,4}:page:[0-9]{1,4}", hoods_page),
        _buttons(r"wholecity:[0-9]{1,4}", whole_city),
        _buttons(r"hood:[0-9]{1,4}:[0-9]{1,4}", hood),
        _buttons(r"plans:page:[0-9]{1,4}", plans),
        _buttons(r"plan:[0-9]{1,4}", plans),
        _buttons("statuses", statuses),
        _buttons(r"status:\w{1,20}", statuses),
        _buttons(r"ids:\w{1,20}", ask_ids),
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
                _buttons("nomedia", no_media),
                _buttons("retext", shorter_text),
                _buttons("edittext", edit_text),
                *audience,
            ],
            AUDIENCE: [*exits, *audience],
            IDS: [*exits, typed(FLOW, application, receive_ids), *audience],
            WHEN: [
                *exits,
                _buttons("now", now),
                _buttons("schedule", schedule),
                _buttons("when", when),
                *audience,
            ],
            TIME: [
                *exits,
                typed(FLOW, application, receive_time),
                _buttons("when", when),
                _buttons("now", now),
            ],
            CONFIRM: [
                *exits,
                _buttons("confirm", confirm),
                _buttons("preview", preview_again),
                _buttons("edittext", edit_text),
                _buttons("when", when),
                _buttons("now", now),
                _buttons("schedule", schedule),
                *audience,
            ],
        },
    )
