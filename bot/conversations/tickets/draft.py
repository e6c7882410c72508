"""Where a ticket's draft lives while it is written, and where its files' bytes wait.

The draft (:class:`bot.services.tickets.TicketDraft`) is kept in ``chat_data["tickets"]["draft"]``
as JSON, so it survives a restart. A step that works on the draft is written ``@drafting``: it
gets the draft read from chat_data, and whatever it changed is written back when it returns,
unless the draft was dropped or replaced meanwhile (sent, discarded).

Downloaded bytes are kept in a bounded in-memory cache only (:class:`ContentCache`, in bot_data,
which is not persisted); after a restart or an eviction they are downloaded again from Telegram
when the draft is sent.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from backend_client.features import Feature
from backend_client.models import BackendSession, Document
from bot.conversations.tickets import keyboards
from bot.handlers.access import step
from bot.services import attachments
from bot.services.attachments import AttachmentRefused, ContentCache
from bot.services.context import BotContext
from bot.services.tickets import BadDraft, Mode, TicketDraft
from bot.ui.screens import show
from bot.ui.texts import tickets as texts

logger = logging.getLogger(__name__)

FLOW = "tickets"
# The flow's states; WRITE, ATTACH and CONFIRM are also a draft's ``stage``.
BROWSING, CHOOSE_SUBJECT, CHOOSE_CONTRACT, WRITE, ATTACH, CONFIRM = range(6)

DRAFT_KEY = "draft"  # in chat_data["tickets"]
CACHE_KEY = "tickets_file_cache"  # bot_data (not persisted): the ContentCache
DOWNLOAD_TIMEOUT = 60.0  # seconds to read a file of up to 10 MB from Telegram

DraftStep = Callable[[Update, BotContext, BackendSession, TicketDraft], Awaitable[int]]


class DownloadFailed(Exception):
    """Telegram did not give us the file's bytes."""


# --- the draft in chat_data ------------------------------------------------------------------
def load(context: BotContext, session: BackendSession) -> TicketDraft | None:
    """The draft in progress, if it belongs to the subscriber logged in now (and can be read)."""
    data = context.flow_data(FLOW)
    stored = data.get(DRAFT_KEY)
    if stored is None:
        return None
    try:
        draft = TicketDraft.from_json(stored)
    except BadDraft as error:
        logger.warning("unreadable ticket draft dropped: %s", error)
        data.pop(DRAFT_KEY, None)
        return None
    if draft.subscriber_id != session.subscriber_id:
        data.pop(DRAFT_KEY, None)
        return None
    return draft


def save(context: BotContext, draft: TicketDraft) -> None:
    context.flow_data(FLOW)[DRAFT_KEY] = draft.to_json()


def _save_if_current(context: BotContext, draft: TicketDraft) -> None:
    """Write ``draft`` back unless it was dropped or replaced by another one meanwhile."""
    if context.chat_data is None:
        return
    stored = context.chat_data.get(FLOW, {}).get(DRAFT_KEY)
    if isinstance(stored, dict) and stored.get("key") == draft.key:
        save(context, draft)


def begin(
    update: Update,
    context: BotContext,
    session: BackendSession,
    mode: Mode,
    *,
    keep_files: bool = False,
    **fields: Any,
) -> TicketDraft:
    """A fresh draft replacing any other (whose downloaded files go too, unless kept)."""
    if keep_files:
        context.flow_data(FLOW).pop(DRAFT_KEY, None)
    else:
        forget(update, context)
    draft = TicketDraft(mode=mode, subscriber_id=session.subscriber_id, stage=WRITE, **fields)
    save(context, draft)
    return draft


def forget(update: Update, context: BotContext) -> None:
    """Drop the draft and its downloaded files."""
    if context.chat_data is not None:
        context.chat_data.get(FLOW, {}).pop(DRAFT_KEY, None)
    if update.effective_chat is not None:
        cache(context).discard_where(update.effective_chat.id)


async def gone(update: Update) -> int:
    """A drafting button whose draft no longer exists (another login, a cleared chat)."""
    await show(update, texts.DRAFT_GONE, InlineKeyboardMarkup([keyboards.list_row()]))
    return BROWSING


def drafting(handler: DraftStep) -> Callable[[Update, BotContext], Awaitable[Any]]:
    """A step of flow ``tickets`` that works on the draft: without one it says the draft is
    gone; what the step changes in the draft is kept (even when it fails half-way, as an
    in-place change of chat_data would be)."""

    @step(FLOW)
    @functools.wraps(handler)
    async def wrapper(update: Update, context: BotContext, session: BackendSession) -> int:
        draft = load(context, session)
        if draft is None:
            return await gone(update)
        try:
            return await handler(update, context, session, draft)
        finally:
            _save_if_current(context, draft)

    return wrapper


# --- what the provider's system takes ------------------------------------------------------------
def can_open(context: BotContext) -> bool:
    """Whether a new ticket may be offered: the system takes them (and tells its subjects, or
    the provider configured them)."""
    return not context.services.lacks(Feature.NEW_TICKET)


def attachable(context: BotContext, draft: TicketDraft | None = None) -> bool:
    """Whether files may be offered and taken: the provider's system takes attachments (and did
    not refuse this draft's)."""
    if draft is not None and draft.no_files:
        return False
    return not context.services.lacks(Feature.TICKET_ATTACHMENTS)


# --- the draft's files ---------------------------------------------------------------------------
def cache(context: BotContext) -> ContentCache:
    found: ContentCache = context.application.bot_data.setdefault(CACHE_KEY, ContentCache())
    return found


async def download(context: BotContext, file_id: str, name: str) -> bytes:
    try:
        telegram_file = await context.bot.get_file(file_id)
        content = await telegram_file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT)
        return bytes(content)
    except (TelegramError, RuntimeError) as error:
        logger.warning("could not download attachment %s: %s", file_id, error)
        raise DownloadFailed(name) from error


async def collect_files(
    update: Update, context: BotContext, draft: TicketDraft
) -> tuple[tuple[Document, ...], list[str]]:
    """The draft's files as backend documents; names of those Telegram would not give back."""
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    kept = cache(context)
    documents: list[Document] = []
    failed: list[str] = []
    for entry in draft.files:
        content = kept.get((chat_id, entry.unique_id))
        if content is None:  # restarted or evicted: fetch it again
            try:
                content = await download(context, entry.file_id, entry.name)
                attachments.check_content(entry.name, entry.type, content)
            except (DownloadFailed, AttachmentRefused):
                failed.append(entry.name)
                continue
            kept.put((chat_id, entry.unique_id), content)
        documents.append(Document(entry.name, entry.type, content))
    return tuple(documents), failed
