"""Following tickets: the tabs (abertos / pendentes / fechados), a ticket's history in parts,
the provider's files on it."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest

from backend_client.features import Feature
from backend_client.models import AttachmentInfo, BackendSession, Ticket, TicketAuthor, TicketStatus
from bot.conversations.tickets import keyboards
from bot.conversations.tickets.draft import BROWSING, FLOW, can_open
from bot.conversations.tickets.keyboards import LIST_PAGE_SIZE, argument
from bot.handlers.access import step
from bot.services import attachments
from bot.services.context import BotContext
from bot.ui import callbacks, paging
from bot.ui.formatting import MESSAGE_LIMIT, esc
from bot.ui.screens import answer_query, show
from bot.ui.texts import tickets as texts

logger = logging.getLogger(__name__)


@step(FLOW)
async def start(update: Update, context: BotContext, session: BackendSession) -> int:
    """Menu → Atendimentos: the open tickets first."""
    return await _show_list(update, context, session, TicketStatus.OPEN, 0)


@step(FLOW)
async def show_tab(update: Update, context: BotContext, session: BackendSession) -> int:
    """``tk:tab:<status>[:page:<n>]``; an unknown status shows the open ones."""
    tab, _, page = argument(update, "tab").partition(":page:")
    status = TicketStatus(tab) if tab in set(TicketStatus) else TicketStatus.OPEN
    return await _show_list(update, context, session, status, callbacks.page_number(page))


@step(FLOW)
async def back_to_list(update: Update, context: BotContext, session: BackendSession) -> int:
    """``tk:list``: the tab and page last shown."""
    remembered = context.flow_data(FLOW)
    tab = remembered.get("tab")
    status = TicketStatus(tab) if tab in set(TicketStatus) else TicketStatus.OPEN
    return await _show_list(update, context, session, status, int(remembered.get("page", 0)))


async def _show_list(
    update: Update, context: BotContext, session: BackendSession, status: TicketStatus, page: int
) -> int:
    every = await context.services.backend.list_tickets(session)
    counts = {tab: sum(1 for t in every if t.status is tab) for tab in texts.TAB_LABELS}
    selected = [t for t in every if t.status is status]
    page = paging.clamp(page, len(selected), LIST_PAGE_SIZE)
    shown = paging.page_items(selected, page, LIST_PAGE_SIZE)
    context.flow_data(FLOW).update(tab=status.value, page=page)
    pages = paging.page_count(len(selected), LIST_PAGE_SIZE)
    opening = can_open(context)
    text = texts.ticket_list(status, shown, page * LIST_PAGE_SIZE, page, pages, can_open=opening)
    keyboard = keyboards.ticket_list(status, counts, shown, page, len(selected), can_open=opening)
    await show(update, text, keyboard)
    return BROWSING


@step(FLOW)
async def view_ticket(update: Update, context: BotContext, session: BackendSession) -> int:
    """``tk:view:<id>``: the ticket on the part of its history with the newest message."""
    ticket = await context.services.backend.get_ticket(session, argument(update, "view"))
    return await _show_ticket(update, context, ticket, page=None)


@step(FLOW)
async def history_page(update: Update, context: BotContext, session: BackendSession) -> int:
    """``tk:hist:<id>:page:<n>``: another part of a long history."""
    ticket_id, _, page = argument(update, "hist").rpartition(":page:")
    ticket = await context.services.backend.get_ticket(session, ticket_id)
    return await _show_ticket(update, context, ticket, page=callbacks.page_number(page))


async def _show_ticket(
    update: Update, context: BotContext, ticket: Ticket, page: int | None
) -> int:
    budget = MESSAGE_LIMIT - len(texts.detail_header(ticket, 998, 999)) - 80
    pages = history_pages(ticket, budget)
    page = len(pages) - 1 if page is None else paging.clamp(page, len(pages), 1)
    body, files = pages[page]
    if context.services.lacks(Feature.TICKET_ATTACHMENTS):
        files = []  # listed in the history, but the system does not hand them out
    parts = [texts.detail_header(ticket, page, len(pages)), body]
    if files:
        parts.append(texts.history_footer(has_attachments=True))
    keyboard = keyboards.ticket_detail(ticket, files, page, len(pages), can_open=can_open(context))
    await show(update, "\n\n".join(parts), keyboard)
    return BROWSING


def history_pages(ticket: Ticket, budget: int) -> list[tuple[str, list[AttachmentInfo]]]:
    """The history as parts of at most ``budget`` characters, each with its attachments."""
    blocks: list[tuple[str, list[AttachmentInfo]]] = []
    for message in ticket.messages:
        heading = texts.message_heading(
            message.author is TicketAuthor.SUBSCRIBER, message.author_name, message.sent_at
        )
        files = [texts.attachment_line(f.filename, f.size) for f in message.attachments]
        room = max(500, budget - len(heading) - len(texts.CONTINUED) - len("\n".join(files)) - 8)
        pieces = split_text(message.text, room)
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


def split_text(text: str, limit: int) -> list[str]:
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
async def send_attachment(update: Update, context: BotContext, session: BackendSession) -> None:
    """``tk:att:<ticket id>:<attachment id>``: the file, as a photo when it is a picture."""
    ticket_id, _, attachment_id = argument(update, "att").rpartition(":")
    document = await context.services.backend.get_ticket_attachment(
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
