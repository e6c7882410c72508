"""What a provider's system can do, in the bot's terms: one feature per menu item (plus the parts
of a flow a system may lack), and which protocol operations each one needs.

A backend declares what its system lacks by design (:meth:`unsupported_features`); what an
installation's integration user is not allowed to read is learned when it is refused
(:class:`~backend_client.errors.NotPermitted`). The bot asks before a flow starts, so a subscriber
is told an item is unavailable before being asked anything.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Feature(enum.StrEnum):
    """Ids of the menu items (as the bot's menu names them), and parts of flows."""

    ACCOUNT = "account"
    ENABLING = "enabling"
    INVOICES = "invoices"
    FISCAL_NOTES = "fiscal_notes"
    CONTACTS = "contacts"
    CALLS = "calls"
    CONNECTIONS = "connections"
    STATEMENT = "statement"
    DUE_DAY = "due_day"
    TICKETS = "tickets"
    PASSWORD = "password"
    # Parts of flows: the flow works without them, but must not offer them.
    NEW_CONTACT = "new_contact"
    CONTACT_LINK = "contact_link"
    NEW_TICKET = "new_ticket"
    TICKET_ATTACHMENTS = "ticket_attachments"
    # Outages the system knows by area (issue 22); without it only staff-declared ones show.
    AREA_OUTAGES = "area_outages"


# The protocol operation (or the name a NotSupported carries) -> the feature it belongs to.
OPERATION_FEATURES: dict[str, Feature] = {
    "get_subscriber": Feature.ACCOUNT,
    "get_temporary_enabling_policy": Feature.ENABLING,
    "request_temporary_enabling": Feature.ENABLING,
    "list_invoices": Feature.INVOICES,
    "get_invoice": Feature.INVOICES,
    "get_boleto_pdf": Feature.INVOICES,
    "list_financial_entries": Feature.STATEMENT,
    "list_fiscal_notes": Feature.FISCAL_NOTES,
    "get_fiscal_note_pdf": Feature.FISCAL_NOTES,
    "list_contacts": Feature.CONTACTS,
    "list_contact_types": Feature.NEW_CONTACT,
    "add_contact": Feature.NEW_CONTACT,
    "link_contact_device": Feature.CONTACT_LINK,
    "unlink_contact_device": Feature.CONTACT_LINK,
    "list_phone_lines": Feature.CALLS,
    "list_terminal_types": Feature.CALLS,
    "list_call_records": Feature.CALLS,
    "list_connection_sessions": Feature.CONNECTIONS,
    "get_due_day_options": Feature.DUE_DAY,
    "request_due_day_change": Feature.DUE_DAY,
    "list_ticket_subjects": Feature.NEW_TICKET,
    "list_tickets": Feature.TICKETS,
    "get_ticket": Feature.TICKETS,
    "open_ticket": Feature.NEW_TICKET,
    "reply_ticket": Feature.TICKETS,
    "ticket_attachments": Feature.TICKET_ATTACHMENTS,
    "change_password": Feature.PASSWORD,
    "list_outages": Feature.AREA_OUTAGES,
}


def feature_of(operation: str) -> Feature | None:
    return OPERATION_FEATURES.get(operation)


class CheckState(enum.StrEnum):
    """What ``backend check`` found for one feature."""

    OK = "ok"
    NOT_PERMITTED = "not permitted"  # the integration user may not read what it needs
    NOT_SUPPORTED = "not supported"  # this system (or this installation's version) has none
    UNREACHABLE = "unreachable"  # the system did not answer (or answered nonsense)


@dataclass(frozen=True, slots=True)
class FeatureCheck:
    """One line of ``backend check``: ``detail`` names the table or endpoint concerned (never a
    value, a credential or a personal datum)."""

    feature: Feature
    state: CheckState
    detail: str = ""


def all_ok(features: frozenset[Feature] = frozenset()) -> list[FeatureCheck]:
    """Every menu feature ok, except ``features`` which the system does not have."""
    return [
        FeatureCheck(f, CheckState.NOT_SUPPORTED if f in features else CheckState.OK)
        for f in Feature
    ]
