"""Writing a ticket: a new one (subject, contract, description) or a reply, then its files.

Every step here works on the draft (:mod:`bot.conversations.tickets.draft`); the summary it ends
on is sent by :mod:`bot.conversations.tickets.submit`.
"""

from __future__ import annotations

from telegram import Message, Update

from backend_client.models import BackendSession, TicketStatus, TicketSubject
from bot.conversations.common import back_to_menu, cancel
from bot.conversations.tickets import draft as drafts
from bot.conversations.tickets import keyboards
from bot.conversations.tickets.draft import (
    ATTACH,
    BROWSING,
    CHOOSE_CONTRACT,
    CHOOSE_SUBJECT,
    CONFIRM,
    FLOW,
    WRITE,
    DownloadFailed,
    attachable,
    drafting,
)
from bot.conversations.tickets.keyboards import argument
from bot.handlers.access import step
from bot.intents.normalize import fold
from bot.services import attachments
from bot.services.attachments import AttachmentRefused, Problem
from bot.services.context import BotContext
from bot.services.tickets import DraftFile, Mode, TicketDraft
from bot.ui.formatting import esc
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import tickets as texts


# --- new ticket ----------------------------------------------------------------------------------
@step(FLOW)
async def new_ticket(update: Update, context: BotContext, session: BackendSession) -> int:
    """``tk:new`` or ``tk:new:<id>`` (a new ticket about a closed one)."""
    backend = context.services.backend
    about_id = argument(update, "new")
    reference = (await backend.get_ticket(session, about_id)).protocol if about_id else None
    subjects = await backend.list_ticket_subjects(session)
    previous = drafts.load(context, session)
    if previous and previous.mode is Mode.REPLY and about_id and previous.ticket_id == about_id:
        # A reply that could not be sent (the ticket closed meanwhile) becomes the new ticket.
        drafts.begin(
            update,
            context,
            session,
            Mode.NEW,
            keep_files=True,
            reference=reference,
            text=previous.text,
            files=previous.files,
            photos=previous.photos,
        )
    else:
        drafts.begin(update, context, session, Mode.NEW, reference=reference)
    await show(update, texts.ask_subject(reference), keyboards.subjects(subjects))
    return CHOOSE_SUBJECT


@drafting
async def choose_subject(
    update: Update, context: BotContext, session: BackendSession, draft: TicketDraft
) -> int:
    """``tk:subject:<id>``; then the contract, when the subscriber has several."""
    backend = context.services.backend
    subjects = await backend.list_ticket_subjects(session)
    chosen = next((s for s in subjects if s.id == argument(update, "subject")), None)
    if chosen is None:  # forged or withdrawn: ask again
        await answer_query(update)
        await send(update, texts.ask_subject(draft.reference), keyboards.subjects(subjects))
        return CHOOSE_SUBJECT
    return await _subject_chosen(update, context, session, draft, chosen)


async def new_ticket_on(
    update: Update,
    context: BotContext,
    session: BackendSession,
    subject: str,
    *,
    fallback: str | None = None,
    text: str | None = None,
    contract_id: str | None = None,
) -> int:
    """A new ticket with the system's subject named ``subject`` (case and accents aside)
    already chosen: "Sem conexão" from free text (bot.conversations.free_text) and the "Sem
    internet" self-help; else the one named ``fallback`` ("Outros"); else the subjects to pick
    from. ``text`` fills the description in (the summary then shows, to confirm before it is
    sent) and ``contract_id`` chooses the contract (the self-help's)."""
    subjects = await context.services.backend.list_ticket_subjects(session)
    chosen = None
    for name in (subject, fallback):
        wanted = fold(name) if name else None
        chosen = chosen or next((s for s in subjects if wanted and fold(s.name) == wanted), None)
    draft = drafts.begin(update, context, session, Mode.NEW, text=text)
    if chosen is None:
        await show(update, texts.ask_subject(None), keyboards.subjects(subjects))
        return CHOOSE_SUBJECT
    try:
        if contract_id is None:
            return await _subject_chosen(update, context, session, draft, chosen)
        draft.subject_id, draft.subject = chosen.id, chosen.name
        contracts = (await context.services.backend.get_subscriber(session)).contracts
        contract = next((c for c in contracts if c.id == contract_id), None)
        if contract is None:
            return await _subject_chosen(update, context, session, draft, chosen)
        draft.contract_id, draft.contract = contract.id, texts.contract_label(contract)
        return await _ask_text_or_summary(update, context, draft)
    finally:
        drafts.save(context, draft)


async def _subject_chosen(
    update: Update,
    context: BotContext,
    session: BackendSession,
    draft: TicketDraft,
    chosen: TicketSubject,
) -> int:
    """The draft's subject is ``chosen``; then the contract, when the subscriber has several."""
    draft.subject_id, draft.subject = chosen.id, chosen.name
    contracts = (await context.services.backend.get_subscriber(session)).contracts
    if len(contracts) > 1:
        await show(update, texts.ask_contract(contracts), keyboards.contracts(contracts))
        return CHOOSE_CONTRACT
    only = contracts[0] if contracts else None
    draft.contract_id = only.id if only else None
    draft.contract = texts.contract_label(only) if only else None
    return await _ask_text_or_summary(update, context, draft)


@drafting
async def choose_contract(
    update: Update, context: BotContext, session: BackendSession, draft: TicketDraft
) -> int:
    """``tk:contract:<id>``."""
    contracts = (await context.services.backend.get_subscriber(session)).contracts
    chosen = next((c for c in contracts if c.id == argument(update, "contract")), None)
    if chosen is None:
        await answer_query(update)
        await send(update, texts.ask_contract(contracts), keyboards.contracts(contracts))
        return CHOOSE_CONTRACT
    draft.contract_id, draft.contract = chosen.id, texts.contract_label(chosen)
    return await _ask_text_or_summary(update, context, draft)


async def _ask_text_or_summary(update: Update, context: BotContext, draft: TicketDraft) -> int:
    if draft.text and text_problem(draft.text, draft.mode) is None:
        return await show_summary(update, context, draft)  # text carried over from a reply
    draft.stage = WRITE
    prompt = texts.ask_description(
        draft.subject or "", draft.reference, attachable=attachable(context, draft)
    )
    await show(update, prompt, keyboards.drafting())
    return WRITE


@drafting
async def remind_subject(
    update: Update, context: BotContext, session: BackendSession, draft: TicketDraft
) -> int:
    """Something typed while a subject button is expected."""
    subjects = await context.services.backend.list_ticket_subjects(session)
    await send(update, texts.PICK_A_BUTTON)
    await send(update, texts.ask_subject(draft.reference), keyboards.subjects(subjects))
    return CHOOSE_SUBJECT


@drafting
async def remind_contract(
    update: Update, context: BotContext, session: BackendSession, draft: TicketDraft
) -> int:
    contracts = (await context.services.backend.get_subscriber(session)).contracts
    await send(update, texts.PICK_A_BUTTON)
    await send(update, texts.ask_contract(contracts), keyboards.contracts(contracts))
    return CHOOSE_CONTRACT


# --- replying ------------------------------------------------------------------------------------
@step(FLOW)
async def start_reply(update: Update, context: BotContext, session: BackendSession) -> int:
    """``tk:reply:<id>``: only an open or pending ticket can be answered."""
    ticket = await context.services.backend.get_ticket(session, argument(update, "reply"))
    if ticket.status is TicketStatus.CLOSED:
        keyboard = keyboards.closed_ticket(ticket, can_open=drafts.can_open(context))
        await show(update, texts.closed_cannot_reply(ticket.protocol), keyboard)
        return BROWSING
    drafts.begin(
        update, context, session, Mode.REPLY, ticket_id=ticket.id, protocol=ticket.protocol
    )
    await answer_query(update)  # the history stays on screen above the prompt
    prompt = texts.ask_reply(ticket.protocol, attachable=attachable(context))
    await send(update, prompt, keyboards.drafting())
    return WRITE


# --- writing and attaching -----------------------------------------------------------------------
def text_problem(text: str, mode: Mode) -> str | None:
    """What is wrong with a description or reply, as the message to show; None when fine."""
    length = len(esc(text))  # what the summary shows must fit one message
    if length > texts.MAX_TEXT_CHARS:
        return texts.text_too_long(length)
    if mode is Mode.NEW and len(text) < texts.MIN_DESCRIPTION_CHARS:
        return texts.description_too_short(len(text))
    if mode is Mode.REPLY and not text:
        return texts.EMPTY_REPLY
    return None


@drafting
async def receive_text(
    update: Update, context: BotContext, session: BackendSession, draft: TicketDraft
) -> int:
    message = update.effective_message
    assert message is not None and message.text is not None
    text = message.text.strip()
    problem = text_problem(text, draft.mode)
    if problem is not None:
        await send(update, problem)
        return WRITE
    draft.text = text
    if not attachable(context, draft):
        return await show_summary(update, context, draft)
    return await ask_attachments(update, draft)


async def ask_attachments(update: Update, draft: TicketDraft) -> int:
    draft.stage = ATTACH
    count = len(draft.files)
    await show(update, texts.ask_attachments(count), keyboards.attaching(count))
    return ATTACH


@drafting
async def receive_file(
    update: Update, context: BotContext, session: BackendSession, draft: TicketDraft
) -> int:
    """A photo or document while writing, attaching or confirming: checked, then kept."""
    message = update.effective_message
    assert isinstance(message, Message)
    stage = draft.stage
    if not attachable(context, draft):
        return await _files_not_taken(update, context, draft, stage)
    try:
        entry = await _take_file(update, context, message, draft)
    except AttachmentRefused as refused:
        await send(update, texts.refusal(refused))
        return stage
    except DownloadFailed as failed:
        await send(update, texts.download_failed(str(failed)))
        return stage
    draft.files.append(entry)
    count = len(draft.files)
    caption = (message.caption or "").strip()
    if stage == WRITE:
        # The caption is the text; a reply may also be files alone (text can come later).
        problem = text_problem(caption, draft.mode) if caption or draft.mode is Mode.NEW else None
        if problem is not None:
            await send(update, texts.file_kept_ask_text(entry.name, problem if caption else None))
            return WRITE
        draft.text, draft.stage = caption, ATTACH
        received = texts.attachment_received(entry.name, count, bool(caption))
        if not caption:
            received = f"{received}\n{texts.TEXT_STILL_WELCOME}"
        await send(update, received, keyboards.attaching(count))
        return ATTACH
    added = _absorb_caption(draft, caption)
    if caption and not added:
        await send(update, texts.caption_not_added(texts.MAX_TEXT_CHARS))
    received = texts.attachment_received(entry.name, count, added, attaching=stage != CONFIRM)
    if stage == CONFIRM:
        return await show_summary(update, context, draft, notice=received, new_message=True)
    await send(update, received, keyboards.attaching(count))
    return ATTACH


async def _files_not_taken(
    update: Update, context: BotContext, draft: TicketDraft, stage: int
) -> int:
    """A file where the provider's system takes none: said, nothing typed lost, same step."""
    if stage == WRITE:
        await send(update, f"{texts.FILES_NOT_TAKEN}\n{texts.SEND_TEXT_ALONE}")
        return WRITE
    if stage == CONFIRM:
        await send(update, f"{texts.FILES_NOT_TAKEN}\n{texts.TEXT_WHILE_CONFIRMING}")
        return CONFIRM
    # Attaching, in a draft begun before the system refused files: on to the summary.
    return await show_summary(
        update, context, draft, notice=texts.FILES_NOT_TAKEN, new_message=True
    )


def _absorb_caption(draft: TicketDraft, caption: str) -> bool:
    """Append a file's caption to the text, when it fits; True when appended."""
    if not caption:
        return False
    combined = f"{draft.text}\n\n{caption}" if draft.text else caption
    if len(esc(combined)) > texts.MAX_TEXT_CHARS:
        return False
    draft.text = combined
    return True


async def _take_file(
    update: Update, context: BotContext, message: Message, draft: TicketDraft
) -> DraftFile:
    """Check what the update says, download, check the bytes; the draft entry to keep."""
    if message.photo:
        photo = message.photo[-1]  # the largest size Telegram made
        number = draft.photos + 1
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
    if draft.has_file(unique_id):
        raise AttachmentRefused(Problem.DUPLICATE, name)
    declared = attachments.check_before_download(name, mime, size, len(draft.files))
    content = await drafts.download(context, file_id, name)
    accepted = attachments.check_content(name, declared, content)
    if message.photo:
        draft.photos = number
    assert update.effective_chat is not None
    drafts.cache(context).put((update.effective_chat.id, unique_id), content)
    return DraftFile(
        file_id=file_id,
        unique_id=unique_id,
        name=accepted.filename,
        type=accepted.content_type,
        size=accepted.size,
    )


@step(FLOW)
async def expecting_text(update: Update, context: BotContext, session: BackendSession) -> int:
    """A sticker, voice… while the description or reply is expected."""
    files = attachable(context, drafts.load(context, session))
    await send(update, texts.EXPECTING_DESCRIPTION if files else texts.EXPECTING_TEXT_ONLY)
    return WRITE


@step(FLOW)
async def unsupported_file(update: Update, context: BotContext, session: BackendSession) -> None:
    """A video, voice, sticker… while attachments are expected: refused, nothing lost."""
    if attachable(context, drafts.load(context, session)):
        await send(update, texts.UNSUPPORTED_MESSAGE)
    else:
        await send(update, texts.TEXT_WHILE_CONFIRMING)


@drafting
async def text_while_attaching(
    update: Update, context: BotContext, session: BackendSession, draft: TicketDraft
) -> int:
    """Text after the files: the message of a reply begun with a file, else a reminder."""
    message = update.effective_message
    assert message is not None and message.text is not None
    if draft.text:
        await send(update, texts.TEXT_WHILE_ATTACHING)
        return ATTACH
    text = message.text.strip()
    problem = text_problem(text, draft.mode)
    if problem is not None:
        await send(update, problem)
        return ATTACH
    draft.text = text
    await send(update, texts.TEXT_KEPT, keyboards.attaching(len(draft.files)))
    return ATTACH


@step(FLOW)
async def text_while_confirming(
    update: Update, context: BotContext, session: BackendSession
) -> int:
    await send(update, texts.TEXT_WHILE_CONFIRMING)
    return CONFIRM


@drafting
async def finish_attachments(
    update: Update, context: BotContext, session: BackendSession, draft: TicketDraft
) -> int:
    """✅ Concluir anexos / Pular."""
    return await show_summary(update, context, draft)


@drafting
async def attach_more(
    update: Update, context: BotContext, session: BackendSession, draft: TicketDraft
) -> int:
    if not attachable(context, draft):  # an old or forged button
        return await show_summary(update, context, draft)
    return await ask_attachments(update, draft)


async def show_summary(
    update: Update,
    context: BotContext,
    draft: TicketDraft,
    *,
    notice: str | None = None,
    new_message: bool = False,
) -> int:
    """The draft as it will be sent, with ✅ Confirmar; ``notice`` above it."""
    draft.stage = CONFIRM
    files = attachable(context, draft)
    summary = texts.draft_summary(draft, attachable=files)
    text = summary if notice is None else f"{notice}\n\n{summary}"
    keyboard = keyboards.confirming(len(draft.files), files)
    if new_message:
        await send(update, text, keyboard)
    else:
        await show(update, text, keyboard)
    return CONFIRM


# --- leaving -------------------------------------------------------------------------------------
@step(FLOW)
async def discard(update: Update, context: BotContext, session: BackendSession) -> int:
    """✖️ Cancelar while writing: the draft is dropped."""
    draft = drafts.load(context, session)
    drafts.forget(update, context)
    reply_to = draft.ticket_id if draft is not None and draft.mode is Mode.REPLY else None
    await show(update, texts.DRAFT_DISCARDED, keyboards.after_discarding(reply_to))
    return BROWSING


async def leave_to_menu(update: Update, context: BotContext) -> int:
    drafts.forget(update, context)
    return await back_to_menu(update, context)


async def leave_cancelled(update: Update, context: BotContext) -> int:
    drafts.forget(update, context)
    return await cancel(update, context)
