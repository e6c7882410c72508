"""Atendimentos (seed 1.9, 1.9.1): follow tickets, open one, answer one, attachments both ways.

States:
    BROWSING        → tabs (abertos / pendentes / fechados), a ticket's history, its attachments
    CHOOSE_SUBJECT  → new ticket: the subject, from the backend's categories
    CHOOSE_CONTRACT → new ticket: the contract, when the subscriber has several
    WRITE           → the description (new ticket) or the message (reply), as text
    ATTACH          → optional photos and documents, finished with a button
    CONFIRM         → the summary: Confirmar sends it, a failure keeps everything for a retry

What is being written (the *draft*) lives in ``chat_data["tickets"]["draft"]`` as JSON: texts, the
Telegram file ids of the attachments, and the idempotency key of the submission. Downloaded bytes
are kept in a bounded in-memory cache only (:class:`ContentCache`); after a restart or an eviction
they are downloaded again from Telegram when the draft is sent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, filters

from backend_client.errors import NotSupported, Rejected, Unavailable
from backend_client.features import Feature, feature_of
from backend_client.models import (
    AttachmentInfo,
    BackendSession,
    Contract,
    Document,
    NewTicket,
    Ticket,
    TicketAuthor,
    TicketStatus,
)
from bot.conversations.common import back_to_menu, cancel, flow, step, typed
from bot.handlers.guards import Context
from bot.services import attachments
from bot.services.attachments import AttachmentRefused, ContentCache, Problem
from bot.services.context import services
from bot.ui import paging
from bot.ui import texts as common_texts
from bot.ui.formatting import MESSAGE_LIMIT, esc
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import tickets as texts

logger = logging.getLogger(__name__)

FLOW = "tickets"
BROWSING, CHOOSE_SUBJECT, CHOOSE_CONTRACT, WRITE, ATTACH, CONFIRM = range(6)
END = ConversationHandler.END

PREFIX = "tk"
LIST_PAGE_SIZE = 5
CACHE_KEY = "tickets_file_cache"  # bot_data (not persisted): the ContentCache
DOWNLOAD_TIMEOUT = 60.0  # seconds to read a file of up to 10 MB from Telegram
NEW, REPLY = "new", "reply"

TEXT = filters.TEXT & ~filters.COMMAND
FILES = filters.PHOTO | filters.Document.ALL
OTHER = ~filters.TEXT & ~filters.PHOTO & ~filters.Document.ALL & ~filters.StatusUpdate.ALL
ANYTHING = ~filters.COMMAND & ~filters.StatusUpdate.ALL


class DownloadFailed(Exception):
    """Telegram did not give us the file's bytes."""


# --- chat_data -----------------------------------------------------------------------------------
def _flow_data(context: Context) -> dict[str, Any]:
    assert context.chat_data is not None
    data: dict[str, Any] = context.chat_data.setdefault(FLOW, {})
    return data


def _draft(context: Context, session: BackendSession) -> dict[str, Any] | None:
    """The draft in progress, if it belongs to the subscriber logged in now."""
    draft: dict[str, Any] | None = _flow_data(context).get("draft")
    if draft is not None and draft.get("subscriber_id") != session.subscriber_id:
        _flow_data(context).pop("draft", None)
        return None
    return draft


def _new_draft(
    update: Update,
    context: Context,
    session: BackendSession,
    mode: str,
    *,
    keep_files: bool = False,
    **fields: Any,
) -> dict[str, Any]:
    """A fresh draft replacing any other (whose downloaded files go too, unless kept)."""
    if keep_files:
        _flow_data(context).pop("draft", None)
    else:
        _forget_draft(update, context)
    draft: dict[str, Any] = {
        "mode": mode,
        "subscriber_id": session.subscriber_id,
        "ticket_id": None,  # the ticket answered (reply)
        "protocol": None,  # its protocol (reply)
        "reference": None,  # protocol of the closed ticket a new one is about
        "subject_id": None,
        "subject": None,
        "contract_id": None,
        "contract": None,
        "text": None,
        "files": [],  # {"file_id", "unique_id", "name", "type", "size"}
        "photos": 0,  # photos numbered so far (foto-1.jpg, foto-2.jpg…)
        "stage": WRITE,
        # One key per submission, kept across retries so a retry never opens a second ticket.
        "key": uuid.uuid4().hex,
        "uncertain": False,  # a reply attempt may have reached the backend
        "no_files": False,  # the system refused this draft's attachments: offer no more
    }
    draft.update(fields)
    _flow_data(context)["draft"] = draft
    return draft


def _forget_draft(update: Update, context: Context) -> None:
    if context.chat_data is not None:
        context.chat_data.get(FLOW, {}).pop("draft", None)
    if update.effective_chat is not None:
        _cache(context).discard_where(update.effective_chat.id)


def _can_open(context: Context) -> bool:
    """Whether a new ticket may be offered: the system takes them (and tells its subjects, or
    the provider configured them)."""
    return not services(context).lacks(Feature.NEW_TICKET)


def _new_about(ticket: Ticket, context: Context) -> list[list[InlineKeyboardButton]]:
    """The "open a new ticket about this one" row, where new tickets can be opened."""
    if not _can_open(context):
        return []
    return [[button(texts.BUTTON_NEW_ABOUT, f"{PREFIX}:new:{ticket.id}")]]


def _attachable(context: Context, draft: dict[str, Any] | None = None) -> bool:
    """Whether files may be offered and taken: the provider's system takes attachments (and did
    not refuse this draft's)."""
    if draft is not None and draft.get("no_files"):
        return False
    return not services(context).lacks(Feature.TICKET_ATTACHMENTS)


def _cache(context: Context) -> ContentCache:
    cache: ContentCache = context.application.bot_data.setdefault(CACHE_KEY, ContentCache())
    return cache


def _callback_arg(update: Update, action: str) -> str:
    """What follows ``tk:<action>:`` in the pressed button's data ('' when nothing)."""
    assert update.callback_query is not None
    data = update.callback_query.data or ""
    return data.removeprefix(f"{PREFIX}:{action}").removeprefix(":")


def _page_number(value: str) -> int:
    """A page from callback data; anything odd (forged) becomes 0 and is clamped later."""
    return paging.page_number(value)


# --- keyboards -----------------------------------------------------------------------------------
def _menu_button() -> InlineKeyboardButton:
    return button(common_texts.BUTTON_MENU, "menu:home")


def _list_keyboard(
    status: TicketStatus,
    counts: dict[TicketStatus, int],
    shown: Sequence[Ticket],
    page: int,
    total: int,
    *,
    can_open: bool,
) -> InlineKeyboardMarkup:
    tabs = [
        button(texts.tab_button(tab, counts[tab], tab is status), f"{PREFIX}:tab:{tab.value}")
        for tab in texts.TAB_LABELS
    ]
    rows = [tabs]
    rows += [[button(texts.ticket_button(t), f"{PREFIX}:view:{t.id}")] for t in shown]
    nav = paging.nav_row(f"{PREFIX}:tab:{status.value}", page, total, LIST_PAGE_SIZE)
    if nav:
        rows.append(nav)
    if can_open:
        rows.append([button(texts.BUTTON_NEW, f"{PREFIX}:new")])
    rows.append([_menu_button()])
    return InlineKeyboardMarkup(rows)


def _detail_keyboard(
    ticket: Ticket,
    files: Sequence[AttachmentInfo],
    page: int,
    pages: int,
    new_about: list[list[InlineKeyboardButton]],
) -> InlineKeyboardMarkup:
    rows = [
        [button(texts.attachment_button(f.filename), f"{PREFIX}:att:{ticket.id}:{f.id}")]
        for f in files
    ]
    nav = paging.nav_row(f"{PREFIX}:hist:{ticket.id}", page, pages, 1)
    if nav:
        rows.append(nav)
    if ticket.status is TicketStatus.CLOSED:
        rows += new_about
    else:
        rows.append([button(texts.BUTTON_REPLY, f"{PREFIX}:reply:{ticket.id}")])
    rows.append([button(texts.BUTTON_LIST, f"{PREFIX}:list"), _menu_button()])
    return InlineKeyboardMarkup(rows)


def _drafting_row() -> list[InlineKeyboardButton]:
    return [button(texts.BUTTON_CANCEL, f"{PREFIX}:cancel"), _menu_button()]


def _attach_keyboard(count: int) -> InlineKeyboardMarkup:
    label = texts.BUTTON_DONE if count else texts.BUTTON_SKIP
    return InlineKeyboardMarkup([[button(label, f"{PREFIX}:done")], _drafting_row()])


def _confirm_keyboard(count: int, attachable: bool) -> InlineKeyboardMarkup:
    rows = [[button(texts.BUTTON_CONFIRM, f"{PREFIX}:confirm")]]
    if attachable and count < attachments.MAX_FILES_PER_MESSAGE:
        rows.append([button(texts.BUTTON_MORE, f"{PREFIX}:more")])
    rows.append(_drafting_row())
    return InlineKeyboardMarkup(rows)


def _after_send_keyboard(ticket_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [button(texts.BUTTON_VIEW, f"{PREFIX}:view:{ticket_id}")],
            [button(texts.BUTTON_LIST, f"{PREFIX}:list"), _menu_button()],
        ]
    )


# --- following tickets ---------------------------------------------------------------------------
@step(FLOW)
async def start(update: Update, context: Context, session: BackendSession) -> int:
    """Menu → Atendimentos: the open tickets first."""
    return await _show_list(update, context, session, TicketStatus.OPEN, 0)


@step(FLOW)
async def show_tab(update: Update, context: Context, session: BackendSession) -> int:
    """``tk:tab:<status>[:page:<n>]``; an unknown status shows the open ones."""
    tab, _, page = _callback_arg(update, "tab").partition(":page:")
    status = TicketStatus(tab) if tab in set(TicketStatus) else TicketStatus.OPEN
    return await _show_list(update, context, session, status, _page_number(page))


@step(FLOW)
async def back_to_list(update: Update, context: Context, session: BackendSession) -> int:
    remembered = _flow_data(context)
    tab = remembered.get("tab")
    status = TicketStatus(tab) if tab in set(TicketStatus) else TicketStatus.OPEN
    return await _show_list(update, context, session, status, int(remembered.get("page", 0)))


async def _show_list(
    update: Update, context: Context, session: BackendSession, status: TicketStatus, page: int
) -> int:
    every = await services(context).backend.list_tickets(session)
    counts = {tab: sum(1 for t in every if t.status is tab) for tab in texts.TAB_LABELS}
    selected = [t for t in every if t.status is status]
    page = paging.clamp(page, len(selected), LIST_PAGE_SIZE)
    shown = paging.page_items(selected, page, LIST_PAGE_SIZE)
    _flow_data(context).update(tab=status.value, page=page)
    pages = paging.page_count(len(selected), LIST_PAGE_SIZE)
    can_open = _can_open(context)
    text = texts.ticket_list(status, shown, page * LIST_PAGE_SIZE, page, pages, can_open=can_open)
    keyboard = _list_keyboard(status, counts, shown, page, len(selected), can_open=can_open)
    await show(update, text, keyboard)
    return BROWSING


@step(FLOW)
async def view_ticket(update: Update, context: Context, session: BackendSession) -> int:
    """``tk:view:<id>``: the ticket on the part of its history with the newest message."""
    ticket = await services(context).backend.get_ticket(session, _callback_arg(update, "view"))
    return await _show_ticket(update, context, ticket, page=None)


@step(FLOW)
async def history_page(update: Update, context: Context, session: BackendSession) -> int:
    """``tk:hist:<id>:page:<n>``: another part of a long history."""
    ticket_id, _, page = _callback_arg(update, "hist").rpartition(":page:")
    ticket = await services(context).backend.get_ticket(session, ticket_id)
    return await _show_ticket(update, context, ticket, page=_page_number(page))


async def _show_ticket(update: Update, context: Context, ticket: Ticket, page: int | None) -> int:
    budget = MESSAGE_LIMIT - len(texts.detail_header(ticket, 998, 999)) - 80
    pages = _history_pages(ticket, budget)
    page = len(pages) - 1 if page is None else paging.clamp(page, len(pages), 1)
    body, files = pages[page]
    if services(context).lacks(Feature.TICKET_ATTACHMENTS):
        files = []  # listed in the history, but the system does not hand them out
    parts = [texts.detail_header(ticket, page, len(pages)), body]
    if files:
        parts.append(texts.history_footer(has_attachments=True))
    keyboard = _detail_keyboard(ticket, files, page, len(pages), _new_about(ticket, context))
    await show(update, "\n\n".join(parts), keyboard)
    return BROWSING


def _history_pages(ticket: Ticket, budget: int) -> list[tuple[str, list[AttachmentInfo]]]:
    """The history as parts of at most ``budget`` characters, each with its attachments."""
    blocks: list[tuple[str, list[AttachmentInfo]]] = []
    for message in ticket.messages:
        heading = texts.message_heading(
            message.author is TicketAuthor.SUBSCRIBER, message.author_name, message.sent_at
        )
        files = [texts.attachment_line(f.filename, f.size) for f in message.attachments]
        room = max(500, budget - len(heading) - len(texts.CONTINUED) - len("\n".join(files)) - 8)
        pieces = _split_text(message.text, room)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            lines = [heading if index == 0 else f"{heading} {texts.CONTINUED}"]
            if piece:
                lines.append(texts.message_text(piece))
            if last:
                lines += files
            blocks.append(("\n".join(lines), list(message.attachments) if last else []))
    if not blocks:
        return [(texts.HISTORY_EMPTY, [])]
    pages: list[tuple[str, list[AttachmentInfo]]] = []
    current: list[str] = []
    current_files: list[AttachmentInfo] = []
    for block, files in blocks:
        if current and len("\n\n".join([*current, block])) > budget:
            pages.append(("\n\n".join(current), current_files))
            current, current_files = [], []
        current.append(block)
        current_files += files
    pages.append(("\n\n".join(current), current_files))
    return pages


def _split_text(text: str, limit: int) -> list[str]:
    """Plain ``text`` in pieces whose HTML-escaped form fits ``limit``, cut at line or word
    boundaries when there is one in the last part of the piece."""
    rest = text.strip()
    pieces: list[str] = []
    while len(esc(rest)) > limit:
        cut = min(len(rest), limit)
        while len(esc(rest[:cut])) > limit:
            cut -= max(1, (len(esc(rest[:cut])) - limit) // 4)
        boundary = max(rest.rfind("\n", 0, cut), rest.rfind(" ", 0, cut))
        if boundary > cut * 0.6:
            cut = boundary
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return pieces


@step(FLOW)
async def send_attachment(update: Update, context: Context, session: BackendSession) -> None:
    """``tk:att:<ticket id>:<attachment id>``: the file, as a photo when it is a picture."""
    ticket_id, _, attachment_id = _callback_arg(update, "att").rpartition(":")
    document = await services(context).backend.get_ticket_attachment(
        session, ticket_id, attachment_id
    )
    await answer_query(update)
    chat = update.effective_chat
    assert chat is not None
    content_type = document.content_type.split(";", 1)[0].strip().lower()
    filename = attachments.safe_filename(document.filename, content_type)
    caption = texts.attachment_caption(filename)
    if (
        attachments.is_sendable_photo(content_type, len(document.content))
        and attachments.sniff(document.content) == content_type
    ):
        try:
            await chat.send_photo(photo=document.content, caption=caption, filename=filename)
            return None  # the conversation stays where it was
        except BadRequest as error:  # e.g. dimensions Telegram does not take as a photo
            logger.info("attachment %s not sendable as photo (%s)", attachment_id, error)
    await chat.send_document(document=document.content, filename=filename, caption=caption)
    return None


# --- new ticket ----------------------------------------------------------------------------------
@step(FLOW)
async def new_ticket(update: Update, context: Context, session: BackendSession) -> int:
    """``tk:new`` or ``tk:new:<id>`` (a new ticket about a closed one)."""
    backend = services(context).backend
    about_id = _callback_arg(update, "new")
    reference = (await backend.get_ticket(session, about_id)).protocol if about_id else None
    subjects = await backend.list_ticket_subjects(session)
    previous = _draft(context, session)
    if previous and previous["mode"] == REPLY and about_id and previous["ticket_id"] == about_id:
        # A reply that could not be sent (the ticket closed meanwhile) becomes the new ticket.
        carried = {key: previous[key] for key in ("text", "files", "photos")}
        _new_draft(update, context, session, NEW, keep_files=True, reference=reference, **carried)
    else:
        _new_draft(update, context, session, NEW, reference=reference)
    await show(update, texts.ask_subject(reference), _subjects_keyboard(subjects))
    return CHOOSE_SUBJECT


def _subjects_keyboard(subjects: Sequence[Any]) -> InlineKeyboardMarkup:
    buttons = [button(texts.subject_button(s.name), f"{PREFIX}:subject:{s.id}") for s in subjects]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(_drafting_row())
    return InlineKeyboardMarkup(rows)


def _contracts_keyboard(contracts: Sequence[Contract]) -> InlineKeyboardMarkup:
    rows = [[button(texts.contract_button(c), f"{PREFIX}:contract:{c.id}")] for c in contracts]
    rows.append(_drafting_row())
    return InlineKeyboardMarkup(rows)


@step(FLOW)
async def choose_subject(update: Update, context: Context, session: BackendSession) -> int:
    draft = _draft(context, session)
    if draft is None:
        return await _draft_gone(update)
    backend = services(context).backend
    subjects = await backend.list_ticket_subjects(session)
    chosen = next((s for s in subjects if s.id == _callback_arg(update, "subject")), None)
    if chosen is None:  # forged or withdrawn: ask again
        await answer_query(update)
        await send(update, texts.ask_subject(draft["reference"]), _subjects_keyboard(subjects))
        return CHOOSE_SUBJECT
    draft.update(subject_id=chosen.id, subject=chosen.name)
    contracts = (await backend.get_subscriber(session)).contracts
    if len(contracts) > 1:
        await show(update, texts.ask_contract(contracts), _contracts_keyboard(contracts))
        return CHOOSE_CONTRACT
    only = contracts[0] if contracts else None
    draft.update(
        contract_id=only.id if only else None,
        contract=texts.contract_label(only) if only else None,
    )
    return await _ask_text_or_summary(update, context, draft)


@step(FLOW)
async def choose_contract(update: Update, context: Context, session: BackendSession) -> int:
    draft = _draft(context, session)
    if draft is None:
        return await _draft_gone(update)
    contracts = (await services(context).backend.get_subscriber(session)).contracts
    chosen = next((c for c in contracts if c.id == _callback_arg(update, "contract")), None)
    if chosen is None:
        await answer_query(update)
        await send(update, texts.ask_contract(contracts), _contracts_keyboard(contracts))
        return CHOOSE_CONTRACT
    draft.update(contract_id=chosen.id, contract=texts.contract_label(chosen))
    return await _ask_text_or_summary(update, context, draft)


async def _ask_text_or_summary(update: Update, context: Context, draft: dict[str, Any]) -> int:
    if draft["text"] and _text_problem(draft["text"], draft["mode"]) is None:
        return await _show_summary(update, context, draft)  # text carried over from a reply
    draft["stage"] = WRITE
    keyboard = InlineKeyboardMarkup([_drafting_row()])
    prompt = texts.ask_description(
        draft["subject"], draft["reference"], attachable=_attachable(context, draft)
    )
    await show(update, prompt, keyboard)
    return WRITE


@step(FLOW)
async def remind_subject(update: Update, context: Context, session: BackendSession) -> int:
    """Something typed while a subject button is expected."""
    draft = _draft(context, session)
    if draft is None:
        return await _draft_gone(update)
    subjects = await services(context).backend.list_ticket_subjects(session)
    await send(update, texts.PICK_A_BUTTON)
    await send(update, texts.ask_subject(draft["reference"]), _subjects_keyboard(subjects))
    return CHOOSE_SUBJECT


@step(FLOW)
async def remind_contract(update: Update, context: Context, session: BackendSession) -> int:
    draft = _draft(context, session)
    if draft is None:
        return await _draft_gone(update)
    contracts = (await services(context).backend.get_subscriber(session)).contracts
    await send(update, texts.PICK_A_BUTTON)
    await send(update, texts.ask_contract(contracts), _contracts_keyboard(contracts))
    return CHOOSE_CONTRACT


# --- replying ------------------------------------------------------------------------------------
@step(FLOW)
async def start_reply(update: Update, context: Context, session: BackendSession) -> int:
    """``tk:reply:<id>``: only an open or pending ticket can be answered."""
    ticket = await services(context).backend.get_ticket(session, _callback_arg(update, "reply"))
    if ticket.status is TicketStatus.CLOSED:
        keyboard = InlineKeyboardMarkup(
            [
                *_new_about(ticket, context),
                [button(texts.BUTTON_VIEW, f"{PREFIX}:view:{ticket.id}")],
                [button(texts.BUTTON_LIST, f"{PREFIX}:list"), _menu_button()],
            ]
        )
        await show(update, texts.closed_cannot_reply(ticket.protocol), keyboard)
        return BROWSING
    _new_draft(update, context, session, REPLY, ticket_id=ticket.id, protocol=ticket.protocol)
    await answer_query(update)  # the history stays on screen above the prompt
    prompt = texts.ask_reply(ticket.protocol, attachable=_attachable(context))
    await send(update, prompt, InlineKeyboardMarkup([_drafting_row()]))
    return WRITE


# --- writing and attaching -----------------------------------------------------------------------
def _text_problem(text: str, mode: str) -> str | None:
    """What is wrong with a description or reply, as the message to show; None when fine."""
    length = len(esc(text))  # what the summary shows must fit one message
    if length > texts.MAX_TEXT_CHARS:
        return texts.text_too_long(length)
    if mode == NEW and len(text) < texts.MIN_DESCRIPTION_CHARS:
        return texts.description_too_short(len(text))
    if mode == REPLY and not text:
        return texts.EMPTY_REPLY
    return None


@step(FLOW)
async def receive_text(update: Update, context: Context, session: BackendSession) -> int:
    message = update.effective_message
    assert message is not None and message.text is not None
    draft = _draft(context, session)
    if draft is None:
        return await _draft_gone(update)
    text = message.text.strip()
    problem = _text_problem(text, draft["mode"])
    if problem is not None:
        await send(update, problem)
        return WRITE
    draft["text"] = text
    if not _attachable(context, draft):
        return await _show_summary(update, context, draft)
    return await _ask_attachments(update, draft)


async def _ask_attachments(update: Update, draft: dict[str, Any]) -> int:
    draft["stage"] = ATTACH
    count = len(draft["files"])
    await show(update, texts.ask_attachments(count), _attach_keyboard(count))
    return ATTACH


@step(FLOW)
async def receive_file(update: Update, context: Context, session: BackendSession) -> int:
    """A photo or document while writing, attaching or confirming: checked, then kept."""
    message = update.effective_message
    assert isinstance(message, Message)
    draft = _draft(context, session)
    if draft is None:
        return await _draft_gone(update)
    stage: int = draft["stage"]
    if not _attachable(context, draft):
        return await _files_not_taken(update, context, draft, stage)
    try:
        entry = await _take_file(update, context, message, draft)
    except AttachmentRefused as refused:
        await send(update, texts.refusal(refused))
        return stage
    except DownloadFailed as failed:
        await send(update, texts.download_failed(str(failed)))
        return stage
    draft["files"].append(entry)
    count = len(draft["files"])
    caption = (message.caption or "").strip()
    if stage == WRITE:
        # The caption is the text; a reply may also be files alone (text can come later).
        problem = _text_problem(caption, draft["mode"]) if caption or draft["mode"] == NEW else None
        if problem is not None:
            await send(
                update, texts.file_kept_ask_text(entry["name"], problem if caption else None)
            )
            return WRITE
        draft.update(text=caption, stage=ATTACH)
        received = texts.attachment_received(entry["name"], count, bool(caption))
        if not caption:
            received = f"{received}\n{texts.TEXT_STILL_WELCOME}"
        await send(update, received, _attach_keyboard(count))
        return ATTACH
    added = _absorb_caption(draft, caption)
    if caption and not added:
        await send(update, texts.caption_not_added(texts.MAX_TEXT_CHARS))
    received = texts.attachment_received(entry["name"], count, added, attaching=stage != CONFIRM)
    if stage == CONFIRM:
        return await _show_summary(update, context, draft, notice=received, new_message=True)
    await send(update, received, _attach_keyboard(count))
    return ATTACH


async def _files_not_taken(
    update: Update, context: Context, draft: dict[str, Any], stage: int
) -> int:
    """A file where the provider's system takes none: said, nothing typed lost, same step."""
    if stage == WRITE:
        await send(update, f"{texts.FILES_NOT_TAKEN}\n{texts.SEND_TEXT_ALONE}")
        return WRITE
    if stage == CONFIRM:
        await send(update, f"{texts.FILES_NOT_TAKEN}\n{texts.TEXT_WHILE_CONFIRMING}")
        return CONFIRM
    # Attaching, in a draft begun before the system refused files: on to the summary.
    return await _show_summary(
        update, context, draft, notice=texts.FILES_NOT_TAKEN, new_message=True
    )


def _absorb_caption(draft: dict[str, Any], caption: str) -> bool:
    """Append a file's caption to the text, when it fits; True when appended."""
    if not caption:
        return False
    combined = f"{draft['text']}\n\n{caption}" if draft["text"] else caption
    if len(esc(combined)) > texts.MAX_TEXT_CHARS:
        return False
    draft["text"] = combined
    return True


async def _take_file(
    update: Update, context: Context, message: Message, draft: dict[str, Any]
) -> dict[str, Any]:
    """Check what the update says, download, check the bytes; the draft entry to keep."""
    files: list[dict[str, Any]] = draft["files"]
    if message.photo:
        photo = message.photo[-1]  # the largest size Telegram made
        number = draft["photos"] + 1
        file_id, unique_id, size = photo.file_id, photo.file_unique_id, photo.file_size
        name, mime = attachments.photo_filename(number), attachments.PHOTO_CONTENT_TYPE
    else:
        document = message.document
        assert document is not None
        file_id, unique_id, size = document.file_id, document.file_unique_id, document.file_size
        mime = document.mime_type
        name = document.file_name or attachments.safe_filename(
            None, attachments.declared_type(mime, None)
        )
    if any(f["unique_id"] == unique_id for f in files):
        raise AttachmentRefused(Problem.DUPLICATE, name)
    declared = attachments.check_before_download(name, mime, size, len(files))
    content = await _download(context, file_id, name)
    accepted = attachments.check_content(name, declared, content)
    if message.photo:
        draft["photos"] = number
    assert update.effective_chat is not None
    _cache(context).put((update.effective_chat.id, unique_id), content)
    return {
        "file_id": file_id,
        "unique_id": unique_id,
        "name": accepted.filename,
        "type": accepted.content_type,
        "size": accepted.size,
    }


async def _download(context: Context, file_id: str, name: str) -> bytes:
    try:
        telegram_file = await context.bot.get_file(file_id)
        content = await telegram_file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT)
        return bytes(content)
    except (TelegramError, RuntimeError) as error:
        logger.warning("could not download attachment %s: %s", file_id, error)
        raise DownloadFailed(name) from error


@step(FLOW)
async def expecting_text(update: Update, context: Context, session: BackendSession) -> int:
    """A sticker, voice… while the description or reply is expected."""
    draft = _draft(context, session)
    attachable = _attachable(context, draft)
    await send(update, texts.EXPECTING_DESCRIPTION if attachable else texts.EXPECTING_TEXT_ONLY)
    return WRITE


@step(FLOW)
async def unsupported_file(update: Update, context: Context, session: BackendSession) -> None:
    """A video, voice, sticker… while attachments are expected: refused, nothing lost."""
    if _attachable(context, _draft(context, session)):
        await send(update, texts.UNSUPPORTED_MESSAGE)
    else:
        await send(update, texts.TEXT_WHILE_CONFIRMING)


@step(FLOW)
async def text_while_attaching(update: Update, context: Context, session: BackendSession) -> int:
    """Text after the files: the message of a reply begun with a file, else a reminder."""
    message = update.effective_message
    assert message is not None and message.text is not None
    draft = _draft(context, session)
    if draft is None:
        return await _draft_gone(update)
    if draft["text"]:
        await send(update, texts.TEXT_WHILE_ATTACHING)
        return ATTACH
    text = message.text.strip()
    problem = _text_problem(text, draft["mode"])
    if problem is not None:
        await send(update, problem)
        return ATTACH
    draft["text"] = text
    count = len(draft["files"])
    await send(update, texts.TEXT_KEPT, _attach_keyboard(count))
    return ATTACH


@step(FLOW)
async def text_while_confirming(update: Update, context: Context, session: BackendSession) -> int:
    await send(update, texts.TEXT_WHILE_CONFIRMING)
    return CONFIRM


@step(FLOW)
async def finish_attachments(update: Update, context: Context, session: BackendSession) -> int:
    """✅ Concluir anexos / Pular."""
    draft = _draft(context, session)
    if draft is None:
        return await _draft_gone(update)
    return await _show_summary(update, context, draft)


@step(FLOW)
async def attach_more(update: Update, context: Context, session: BackendSession) -> int:
    draft = _draft(context, session)
    if draft is None:
        return await _draft_gone(update)
    if not _attachable(context, draft):  # an old or forged button
        return await _show_summary(update, context, draft)
    return await _ask_attachments(update, draft)


def _summary(draft: dict[str, Any], *, sent: bool = False, attachable: bool = True) -> str:
    text = draft["text"] or ""
    if draft["mode"] == NEW and draft["reference"]:
        text = f"{texts.reference_prefix(draft['reference'])}\n\n{text}"
    return texts.summary(
        reply_to=draft["protocol"] if draft["mode"] == REPLY else None,
        subject=draft["subject"],
        contract=draft["contract"],
        text=text,
        attachments=[(f["name"], f["size"]) for f in draft["files"]],
        sent=sent,
        attachable=attachable,
    )


async def _show_summary(
    update: Update,
    context: Context,
    draft: dict[str, Any],
    *,
    notice: str | None = None,
    new_message: bool = False,
) -> int:
    draft["stage"] = CONFIRM
    attachable = _attachable(context, draft)
    summary = _summary(draft, attachable=attachable)
    text = summary if notice is None else f"{notice}\n\n{summary}"
    keyboard = _confirm_keyboard(len(draft["files"]), attachable)
    if new_message:
        await send(update, text, keyboard)
    else:
        await show(update, text, keyboard)
    return CONFIRM


# --- sending -------------------------------------------------------------------------------------
@step(FLOW)
async def confirm(update: Update, context: Context, session: BackendSession) -> int:
    """✅ Confirmar: download what is not cached, send, answer with the protocol."""
    draft = _draft(context, session)
    if draft is None:
        return await _draft_gone(update)
    documents, failed = await _collect_files(update, context, draft)
    if failed:
        draft["files"] = [f for f in draft["files"] if f["name"] not in failed]
        notice = texts.download_failed_on_send(failed)
        return await _show_summary(update, context, draft, notice=notice)
    names = [f["name"] for f in draft["files"]]
    backend = services(context).backend
    try:
        if draft["mode"] == NEW:
            ticket = await backend.open_ticket(session, _new_ticket(draft, documents))
        else:
            ticket = await _send_reply(context, session, draft, documents)
    except Unavailable as error:
        logger.warning("could not send a ticket %s: %s", draft["mode"], error)
        draft["uncertain"] = True
        notice = texts.unavailable_while_sending(names, reply=draft["mode"] == REPLY)
        return await _show_summary(update, context, draft, notice=notice)
    except NotSupported as error:
        if feature_of(error.operation) is not Feature.TICKET_ATTACHMENTS or not draft["files"]:
            raise
        # The system takes no files here after all: the text stays, to be sent without them.
        logger.info("ticket %s refused its attachments: %s", draft["mode"], error.operation)
        draft.update(files=[], no_files=True)
        if update.effective_chat is not None:
            _cache(context).discard_where(update.effective_chat.id)
        notice = texts.files_refused_on_send(names, reply=draft["mode"] == REPLY)
        return await _show_summary(update, context, draft, notice=notice)
    except Rejected as error:
        return await _rejected(update, context, session, draft, error)
    return await _sent(update, context, draft, ticket)


def _new_ticket(draft: dict[str, Any], documents: tuple[Document, ...]) -> NewTicket:
    description = draft["text"]
    if draft["reference"]:
        description = f"{texts.reference_prefix(draft['reference'])}\n\n{description}"
    return NewTicket(
        subject_id=draft["subject_id"],
        description=description,
        contract_id=draft["contract_id"],
        attachments=documents,
        idempotency_key=draft["key"],
    )


async def _send_reply(
    context: Context,
    session: BackendSession,
    draft: dict[str, Any],
    documents: tuple[Document, ...],
) -> Ticket:
    """Reply, unless an earlier attempt that seemed to fail did reach the backend.

    Replies carry no idempotency key in the protocol: after an uncertain failure the ticket's
    last message is compared with the draft before sending it again.
    """
    backend = services(context).backend
    if draft["uncertain"]:
        ticket = await backend.get_ticket(session, draft["ticket_id"])
        if _already_replied(ticket, draft):
            logger.info("reply to ticket %s had reached the backend", draft["ticket_id"])
            return ticket
    return await backend.reply_ticket(session, draft["ticket_id"], draft["text"] or "", documents)


def _already_replied(ticket: Ticket, draft: dict[str, Any]) -> bool:
    if not ticket.messages:
        return False
    last = ticket.messages[-1]
    return (
        last.author is TicketAuthor.SUBSCRIBER
        and last.text.strip() == (draft["text"] or "").strip()
        and sorted(a.filename for a in last.attachments)
        == sorted(f["name"] for f in draft["files"])
    )


async def _collect_files(
    update: Update, context: Context, draft: dict[str, Any]
) -> tuple[tuple[Document, ...], list[str]]:
    """The draft's files as backend documents; names of those Telegram would not give back."""
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    cache = _cache(context)
    documents: list[Document] = []
    failed: list[str] = []
    for entry in draft["files"]:
        content = cache.get((chat_id, entry["unique_id"]))
        if content is None:  # restarted or evicted: fetch it again
            try:
                content = await _download(context, entry["file_id"], entry["name"])
                attachments.check_content(entry["name"], entry["type"], content)
            except (DownloadFailed, AttachmentRefused):
                failed.append(entry["name"])
                continue
            cache.put((chat_id, entry["unique_id"]), content)
        documents.append(Document(entry["name"], entry["type"], content))
    return tuple(documents), failed


async def _rejected(
    update: Update,
    context: Context,
    session: BackendSession,
    draft: dict[str, Any],
    error: Rejected,
) -> int:
    """The provider refused: a closed ticket, one attachment, or something else."""
    if draft["mode"] == REPLY:
        ticket = await services(context).backend.get_ticket(session, draft["ticket_id"])
        if ticket.status is TicketStatus.CLOSED:
            keyboard = InlineKeyboardMarkup([*_new_about(ticket, context), _drafting_row()])
            await show(update, texts.closed_while_replying(ticket.protocol), keyboard)
            return CONFIRM
    by_length = sorted(draft["files"], key=lambda f: len(f["name"]), reverse=True)
    culprit = next((f for f in by_length if f["name"] in error.reason), None)
    if culprit is None:
        return await _show_summary(update, context, draft, notice=texts.rejected(error.reason))
    draft["files"].remove(culprit)
    notice = texts.rejected_attachment(culprit["name"], error.reason)
    return await _show_summary(update, context, draft, notice=notice)


async def _sent(update: Update, context: Context, draft: dict[str, Any], ticket: Ticket) -> int:
    summary = _summary(draft, sent=True, attachable=_attachable(context, draft))
    _forget_draft(update, context)
    await show(update, summary)  # the summary stays in the chat, without its buttons
    keyboard = _after_send_keyboard(ticket.id)
    if draft["mode"] == NEW:
        logger.info("ticket %s opened with %d attachment(s)", ticket.id, len(draft["files"]))
        if ticket.protocol.strip():
            await send(update, texts.TICKET_CREATED)
            await send(update, texts.protocol_code(ticket.protocol.strip()))
        else:  # a system that gives no protocol: none is announced
            await send(update, texts.TICKET_CREATED_NO_PROTOCOL)
        await send(update, texts.AFTER_CREATED, keyboard)
    else:
        logger.info("reply sent to ticket %s", ticket.id)
        await send(update, texts.reply_sent(ticket.protocol), keyboard)
    return BROWSING


# --- leaving -------------------------------------------------------------------------------------
@step(FLOW)
async def discard(update: Update, context: Context, session: BackendSession) -> int:
    """✖️ Cancelar while writing: the draft is dropped."""
    draft = _draft(context, session)
    _forget_draft(update, context)
    rows = []
    if draft is not None and draft["mode"] == REPLY:
        rows.append([button(texts.BUTTON_VIEW, f"{PREFIX}:view:{draft['ticket_id']}")])
    rows.append([button(texts.BUTTON_LIST, f"{PREFIX}:list"), _menu_button()])
    await show(update, texts.DRAFT_DISCARDED, InlineKeyboardMarkup(rows))
    return BROWSING


async def _draft_gone(update: Update) -> int:
    """A drafting button whose draft no longer exists (another login, a cleared chat)."""
    keyboard = InlineKeyboardMarkup([[button(texts.BUTTON_LIST, f"{PREFIX}:list"), _menu_button()]])
    await show(update, texts.DRAFT_GONE, keyboard)
    return BROWSING


async def leave_to_menu(update: Update, context: Context) -> int:
    _forget_draft(update, context)
    return await back_to_menu(update, context)


async def leave_cancelled(update: Update, context: Context) -> int:
    _forget_draft(update, context)
    return await cancel(update, context)


def _drafting_exits() -> list[Any]:
    """/menu, /start, /cancelar and Menu while writing also drop the draft."""
    return [
        CommandHandler(["menu", "start"], leave_to_menu),
        CommandHandler("cancelar", leave_cancelled),
        CallbackQueryHandler(leave_to_menu, pattern=r"^menu:home$"),
        CallbackQueryHandler(discard, pattern=rf"^{PREFIX}:cancel$"),
    ]


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    def take(callback: Any, what: filters.BaseFilter = TEXT) -> Any:
        return typed(FLOW, application, callback, what)

    return flow(
        FLOW,
        application,
        entry_points=[
            CallbackQueryHandler(start, pattern=r"^menu:tickets$"),
            CallbackQueryHandler(show_tab, pattern=rf"^{PREFIX}:tab:"),
            CallbackQueryHandler(back_to_list, pattern=rf"^{PREFIX}:list$"),
            CallbackQueryHandler(view_ticket, pattern=rf"^{PREFIX}:view:."),
            CallbackQueryHandler(history_page, pattern=rf"^{PREFIX}:hist:."),
            CallbackQueryHandler(send_attachment, pattern=rf"^{PREFIX}:att:.+:."),
            CallbackQueryHandler(new_ticket, pattern=rf"^{PREFIX}:new(:.+)?$"),
            CallbackQueryHandler(start_reply, pattern=rf"^{PREFIX}:reply:."),
        ],
        states={
            BROWSING: [],
            CHOOSE_SUBJECT: [
                *_drafting_exits(),
                CallbackQueryHandler(choose_subject, pattern=rf"^{PREFIX}:subject:"),
                take(remind_subject, ANYTHING),
            ],
            CHOOSE_CONTRACT: [
                *_drafting_exits(),
                CallbackQueryHandler(choose_contract, pattern=rf"^{PREFIX}:contract:"),
                take(remind_contract, ANYTHING),
            ],
            WRITE: [
                *_drafting_exits(),
                take(receive_text),
                take(receive_file, FILES),
                take(expecting_text, OTHER),
            ],
            ATTACH: [
                *_drafting_exits(),
                CallbackQueryHandler(finish_attachments, pattern=rf"^{PREFIX}:done$"),
                take(receive_file, FILES),
                take(text_while_attaching),
                take(unsupported_file, OTHER),
            ],
            CONFIRM: [
                *_drafting_exits(),
                CallbackQueryHandler(confirm, pattern=rf"^{PREFIX}:confirm$"),
                CallbackQueryHandler(attach_more, pattern=rf"^{PREFIX}:more$"),
                take(receive_file, FILES),
                take(text_while_confirming),
                take(unsupported_file, OTHER),
            ],
        },
    )
