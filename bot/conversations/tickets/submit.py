"""✅ Confirmar: the draft's files fetched, the draft sent (:func:`bot.services.tickets.submit`),
the protocol announced; a failure keeps everything for a retry and says what happened."""

from __future__ import annotations

import logging

from telegram import Update

from backend_client.errors import NotSupported, Rejected, Unavailable
from backend_client.features import Feature, feature_of
from backend_client.models import BackendSession, Ticket, TicketStatus
from bot.conversations.tickets import draft as drafts
from bot.conversations.tickets import keyboards
from bot.conversations.tickets.compose import show_summary
from bot.conversations.tickets.draft import BROWSING, CONFIRM, drafting
from bot.services import tickets
from bot.services.context import BotContext
from bot.services.tickets import Mode, TicketDraft
from bot.ui.screens import send, show
from bot.ui.texts import tickets as texts

logger = logging.getLogger(__name__)


@drafting
async def confirm(
    update: Update, context: BotContext, session: BackendSession, draft: TicketDraft
) -> int:
    """✅ Confirmar: download what is not cached, send, answer with the protocol."""
    documents, failed = await drafts.collect_files(update, context, draft)
    if failed:
        draft.files = [f for f in draft.files if f.name not in failed]
        notice = texts.download_failed_on_send(failed)
        return await show_summary(update, context, draft, notice=notice)
    names = draft.file_names
    reply = draft.mode is Mode.REPLY
    try:
        ticket = await tickets.submit(context.services.backend, session, draft, documents)
    except Unavailable as error:  # the draft is marked uncertain: a retry checks first
        logger.warning("could not send a ticket %s: %s", draft.mode.value, error)
        notice = texts.unavailable_while_sending(names, reply=reply)
        return await show_summary(update, context, draft, notice=notice)
    except NotSupported as error:
        if feature_of(error.operation) is not Feature.TICKET_ATTACHMENTS or not draft.files:
            raise
        # The system takes no files here after all: the text stays, to be sent without them.
        logger.info("ticket %s refused its attachments: %s", draft.mode.value, error.operation)
        draft.files, draft.no_files = [], True
        if update.effective_chat is not None:
            drafts.cache(context).discard_where(update.effective_chat.id)
        notice = texts.files_refused_on_send(names, reply=reply)
        return await show_summary(update, context, draft, notice=notice)
    except Rejected as error:
        return await _rejected(update, context, session, draft, error)
    return await _sent(update, context, draft, ticket)


async def _rejected(
    update: Update,
    context: BotContext,
    session: BackendSession,
    draft: TicketDraft,
    error: Rejected,
) -> int:
    """The provider refused: a closed ticket, one attachment, or something else."""
    if draft.mode is Mode.REPLY and draft.ticket_id is not None:
        ticket = await context.services.backend.get_ticket(session, draft.ticket_id)
        if ticket.status is TicketStatus.CLOSED:
            keyboard = keyboards.closed_while_replying(ticket, can_open=drafts.can_open(context))
            await show(update, texts.closed_while_replying(ticket.protocol), keyboard)
            return CONFIRM
    culprit = tickets.rejected_file(draft, error.reason)
    if culprit is None:
        return await show_summary(update, context, draft, notice=texts.rejected(error.reason))
    draft.files.remove(culprit)
    notice = texts.rejected_attachment(culprit.name, error.reason)
    return await show_summary(update, context, draft, notice=notice)


async def _sent(update: Update, context: BotContext, draft: TicketDraft, ticket: Ticket) -> int:
    summary = texts.draft_summary(draft, sent=True, attachable=drafts.attachable(context, draft))
    drafts.forget(update, context)
    await show(update, summary)  # the summary stays in the chat, without its buttons
    keyboard = keyboards.after_sending(ticket.id)
    if draft.mode is Mode.NEW:
        logger.info("ticket %s opened with %d attachment(s)", ticket.id, len(draft.files))
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
