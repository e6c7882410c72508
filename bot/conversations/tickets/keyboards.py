"""The buttons of Atendimentos. Their data (``tk:<action>[:<argument>]``) never changes shape:
buttons already in chats must keep working."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from backend_client.models import AttachmentInfo, Contract, Ticket, TicketStatus, TicketSubject
from bot.services import attachments
from bot.ui import paging
from bot.ui import texts as common_texts
from bot.ui.callbacks import Buttons
from bot.ui.keyboards import button
from bot.ui.texts import tickets as texts

PREFIX = "tk"
BUTTONS = Buttons(PREFIX)
LIST_PAGE_SIZE = 5

data = BUTTONS.pack  # tk:<action>[:<argument>…]
argument = BUTTONS.argument  # what follows tk:<action>: in the pressed button's data


def pattern(action: str, rest: str = "") -> str:
    """The regex of ``tk:<action>`` followed by ``rest`` (a regex; nothing else when empty)."""
    if not rest:
        return BUTTONS.pattern(action)
    return BUTTONS.pattern(action, whole=False) + rest


def menu_button() -> InlineKeyboardButton:
    return button(common_texts.BUTTON_MENU, "menu:home")


def list_row() -> list[InlineKeyboardButton]:
    """⬅️ Atendimentos · Menu."""
    return [button(texts.BUTTON_LIST, data("list")), menu_button()]


def view_row(ticket_id: str) -> list[InlineKeyboardButton]:
    return [button(texts.BUTTON_VIEW, data("view", ticket_id))]


def new_about(ticket: Ticket, can_open: bool) -> list[list[InlineKeyboardButton]]:
    """The "open a new ticket about this one" row, where new tickets can be opened."""
    return [[button(texts.BUTTON_NEW_ABOUT, data("new", ticket.id))]] if can_open else []


# --- following tickets ---------------------------------------------------------------------------
def ticket_list(
    status: TicketStatus,
    counts: dict[TicketStatus, int],
    shown: Sequence[Ticket],
    page: int,
    total: int,
    *,
    can_open: bool,
) -> InlineKeyboardMarkup:
    tabs = [
        button(texts.tab_button(tab, counts[tab], tab is status), data("tab", tab.value))
        for tab in texts.TAB_LABELS
    ]
    rows = [tabs]
    rows += [[button(texts.ticket_button(t), data("view", t.id))] for t in shown]
    nav = paging.nav_row(data("tab", status.value), page, total, LIST_PAGE_SIZE)
    if nav:
        rows.append(nav)
    if can_open:
        rows.append([button(texts.BUTTON_NEW, data("new"))])
    rows.append([menu_button()])
    return InlineKeyboardMarkup(rows)


def ticket_detail(
    ticket: Ticket,
    files: Sequence[AttachmentInfo],
    page: int,
    pages: int,
    *,
    can_open: bool,
) -> InlineKeyboardMarkup:
    rows = [
        [button(texts.attachment_button(f.filename), data("att", ticket.id, f.id))] for f in files
    ]
    nav = paging.nav_row(data("hist", ticket.id), page, pages, 1)
    if nav:
        rows.append(nav)
    if ticket.status is TicketStatus.CLOSED:
        rows += new_about(ticket, can_open)
    else:
        rows.append([button(texts.BUTTON_REPLY, data("reply", ticket.id))])
    rows.append(list_row())
    return InlineKeyboardMarkup(rows)


def closed_ticket(ticket: Ticket, *, can_open: bool) -> InlineKeyboardMarkup:
    """A closed ticket someone tried to answer: follow it up, see it, or go back."""
    return InlineKeyboardMarkup([*new_about(ticket, can_open), view_row(ticket.id), list_row()])


# --- writing -------------------------------------------------------------------------------------
def drafting_row() -> list[InlineKeyboardButton]:
    return [button(texts.BUTTON_CANCEL, data("cancel")), menu_button()]


def drafting() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([drafting_row()])


def subjects(choices: Sequence[TicketSubject]) -> InlineKeyboardMarkup:
    buttons = [button(texts.subject_button(s.name), data("subject", s.id)) for s in choices]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(drafting_row())
    return InlineKeyboardMarkup(rows)


def contracts(choices: Sequence[Contract]) -> InlineKeyboardMarkup:
    rows = [[button(texts.contract_button(c), data("contract", c.id))] for c in choices]
    rows.append(drafting_row())
    return InlineKeyboardMarkup(rows)


def attaching(count: int) -> InlineKeyboardMarkup:
    label = texts.BUTTON_DONE if count else texts.BUTTON_SKIP
    return InlineKeyboardMarkup([[button(label, data("done"))], drafting_row()])


def confirming(count: int, attachable: bool) -> InlineKeyboardMarkup:
    rows = [[button(texts.BUTTON_CONFIRM, data("confirm"))]]
    if attachable and count < attachments.MAX_FILES_PER_MESSAGE:
        rows.append([button(texts.BUTTON_MORE, data("more"))])
    rows.append(drafting_row())
    return InlineKeyboardMarkup(rows)


def closed_while_replying(ticket: Ticket, *, can_open: bool) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([*new_about(ticket, can_open), drafting_row()])


# --- after sending or leaving --------------------------------------------------------------------
def after_sending(ticket_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([view_row(ticket_id), list_row()])


def after_discarding(reply_to: str | None) -> InlineKeyboardMarkup:
    """A discarded reply leads back to its ticket; any draft to the list."""
    rows = [view_row(reply_to)] if reply_to is not None else []
    return InlineKeyboardMarkup([*rows, list_row()])
