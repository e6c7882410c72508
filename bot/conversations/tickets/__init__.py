"""Atendimentos (seed 1.9, 1.9.1): follow tickets, open one, answer one, attachments both ways.

States:
    BROWSING        → tabs (abertos / pendentes / fechados), a ticket's history, its attachments
    CHOOSE_SUBJECT  → new ticket: the subject, from the backend's categories
    CHOOSE_CONTRACT → new ticket: the contract, when the subscriber has several
    WRITE           → the description (new ticket) or the message (reply), as text
    ATTACH          → optional photos and documents, finished with a button
    CONFIRM         → the summary: Confirmar sends it, a failure keeps everything for a retry

Modules: ``browse`` (the lists, a ticket's history, its files), ``compose`` (writing a new
ticket or a reply, its files), ``submit`` (sending it), ``draft`` (where the draft and its
files' bytes are kept), ``keyboards`` (the buttons). The draft itself and its submission are
Telegram-free, in :mod:`bot.services.tickets`.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, filters

from bot.conversations.common import flow, typed
from bot.conversations.tickets import browse, compose, submit
from bot.conversations.tickets.draft import (
    ATTACH,
    BROWSING,
    CHOOSE_CONTRACT,
    CHOOSE_SUBJECT,
    CONFIRM,
    FLOW,
    WRITE,
)
from bot.conversations.tickets.keyboards import pattern

__all__ = ["FLOW", "build"]

TEXT = filters.TEXT & ~filters.COMMAND
FILES = filters.PHOTO | filters.Document.ALL
OTHER = ~filters.TEXT & ~filters.PHOTO & ~filters.Document.ALL & ~filters.StatusUpdate.ALL
ANYTHING = ~filters.COMMAND & ~filters.StatusUpdate.ALL


def _drafting_exits() -> list[Any]:
    """/menu, /start, /cancelar and Menu while writing also drop the draft."""
    return [
        CommandHandler(["menu", "start"], compose.leave_to_menu),
        CommandHandler("cancelar", compose.leave_cancelled),
        CallbackQueryHandler(compose.leave_to_menu, pattern=r"^menu:home$"),
        CallbackQueryHandler(compose.discard, pattern=pattern("cancel")),
    ]


def build(application: Any) -> ConversationHandler:  # type: ignore[type-arg]
    def take(callback: Any, what: filters.BaseFilter = TEXT) -> Any:
        return typed(FLOW, application, callback, what)

    return flow(
        FLOW,
        application,
        entry_points=[
            CallbackQueryHandler(browse.start, pattern=r"^menu:tickets$"),
            CallbackQueryHandler(browse.show_tab, pattern=pattern("tab", ":")),
            CallbackQueryHandler(browse.back_to_list, pattern=pattern("list")),
            CallbackQueryHandler(browse.view_ticket, pattern=pattern("view", ":.")),
            CallbackQueryHandler(browse.history_page, pattern=pattern("hist", ":.")),
            CallbackQueryHandler(browse.send_attachment, pattern=pattern("att", ":.+:.")),
            CallbackQueryHandler(compose.new_ticket, pattern=pattern("new", "(:.+)?$")),
            CallbackQueryHandler(compose.start_reply, pattern=pattern("reply", ":.")),
        ],
        states={
            BROWSING: [],
            CHOOSE_SUBJECT: [
                *_drafting_exits(),
                CallbackQueryHandler(compose.choose_subject, pattern=pattern("subject", ":")),
                take(compose.remind_subject, ANYTHING),
            ],
            CHOOSE_CONTRACT: [
                *_drafting_exits(),
                CallbackQueryHandler(compose.choose_contract, pattern=pattern("contract", ":")),
                take(compose.remind_contract, ANYTHING),
            ],
            WRITE: [
                *_drafting_exits(),
                take(compose.receive_text),
                take(compose.receive_file, FILES),
                take(compose.expecting_text, OTHER),
            ],
            ATTACH: [
                *_drafting_exits(),
                CallbackQueryHandler(compose.finish_attachments, pattern=pattern("done")),
                take(compose.receive_file, FILES),
                take(compose.text_while_attaching),
                take(compose.unsupported_file, OTHER),
            ],
            CONFIRM: [
                *_drafting_exits(),
                CallbackQueryHandler(submit.confirm, pattern=pattern("confirm")),
                CallbackQueryHandler(compose.attach_more, pattern=pattern("more")),
                take(compose.receive_file, FILES),
                take(compose.text_while_confirming),
                take(compose.unsupported_file, OTHER),
            ],
        },
    )
