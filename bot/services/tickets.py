"""Writing to the provider's tickets (Atendimentos) without Telegram: the draft and its submission.

:class:`TicketDraft` is what a subscriber is writing — a new ticket or a reply — with the
Telegram file ids of its attachments (never their bytes) and the idempotency key of its
submission. The bot keeps it in ``chat_data``, which is persisted as JSON:
:meth:`TicketDraft.to_json` writes the very dict the bot has always stored there, and
:meth:`TicketDraft.from_json` reads it (keys it does not know are ignored, missing optional ones
take their defaults).

:func:`submit` sends a draft whose files are at hand to the backend and returns the ticket; the
backend's errors reach the caller, which decides what the subscriber is told.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backend_client.errors import Unavailable
from backend_client.models import BackendSession, Document, NewTicket, Ticket, TicketAuthor
from backend_client.protocol import SubscriberBackend

logger = logging.getLogger(__name__)


class Mode(enum.StrEnum):
    NEW = "new"  # a new ticket
    REPLY = "reply"  # a message on an open or pending ticket


class BadDraft(ValueError):
    """A stored draft that is not one (a hand-edited row, a bug): it cannot be read."""


def _text(data: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadDraft(f"{key} is {type(value).__name__}, not text")
    return value


def _number(data: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadDraft(f"{key} is {type(value).__name__}, not a number")
    return value


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise BadDraft(f"{key} is {type(value).__name__}, not true/false")
    return value


@dataclass(slots=True)
class DraftFile:
    """An attachment accepted into a draft: where Telegram keeps it and what it is."""

    file_id: str  # to download it again (after a restart or a cache eviction)
    unique_id: str  # the same file sent twice has the same one
    name: str  # the safe name it is sent under
    type: str  # its real content type (checked against its bytes)
    size: int

    def to_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "unique_id": self.unique_id,
            "name": self.name,
            "type": self.type,
            "size": self.size,
        }

    @classmethod
    def from_json(cls, data: object) -> DraftFile:
        if not isinstance(data, Mapping):
            raise BadDraft(f"a file is {type(data).__name__}, not an object")
        return cls(
            file_id=str(_text(data, "file_id", required=True)),
            unique_id=str(_text(data, "unique_id", required=True)),
            name=str(_text(data, "name", required=True)),
            type=str(_text(data, "type", required=True)),
            size=_number(data, "size"),
        )


@dataclass(slots=True, kw_only=True)
class TicketDraft:
    """A new ticket or a reply being written; ``stage`` is the flow's step to come back to."""

    mode: Mode
    subscriber_id: str  # whose draft it is: another login never sees it
    stage: int
    ticket_id: str | None = None  # the ticket answered (reply)
    protocol: str | None = None  # its protocol (reply)
    reference: str | None = None  # protocol of the closed ticket a new one is about
    subject_id: str | None = None
    subject: str | None = None
    contract_id: str | None = None
    contract: str | None = None  # the contract as the subscriber picked it (plain text)
    text: str | None = None
    files: list[DraftFile] = field(default_factory=list)
    photos: int = 0  # photos numbered so far (foto-1.jpg, foto-2.jpg…)
    # One key per submission, kept across retries so a retry never opens a second ticket.
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    uncertain: bool = False  # a reply attempt may have reached the backend
    no_files: bool = False  # the system refused this draft's attachments: offer no more

    def to_json(self) -> dict[str, Any]:
        """The draft as the JSON object kept in chat_data."""
        return {
            "mode": self.mode.value,
            "subscriber_id": self.subscriber_id,
            "ticket_id": self.ticket_id,
            "protocol": self.protocol,
            "reference": self.reference,
            "subject_id": self.subject_id,
            "subject": self.subject,
            "contract_id": self.contract_id,
            "contract": self.contract,
            "text": self.text,
            "files": [entry.to_json() for entry in self.files],
            "photos": self.photos,
            "stage": self.stage,
            "key": self.key,
            "uncertain": self.uncertain,
            "no_files": self.no_files,
        }

    @classmethod
    def from_json(cls, data: object) -> TicketDraft:
        """A draft read back from chat_data; :class:`BadDraft` when it is not one."""
        if not isinstance(data, Mapping):
            raise BadDraft(f"the draft is {type(data).__name__}, not an object")
        try:
            mode = Mode(data.get("mode"))
        except ValueError as error:
            raise BadDraft("unknown mode") from error
        files = data.get("files", [])
        if not isinstance(files, list):
            raise BadDraft(f"files is {type(files).__name__}, not a list")
        key = _text(data, "key")
        return cls(
            mode=mode,
            subscriber_id=str(_text(data, "subscriber_id", required=True)),
            stage=_number(data, "stage"),
            ticket_id=_text(data, "ticket_id"),
            protocol=_text(data, "protocol"),
            reference=_text(data, "reference"),
            subject_id=_text(data, "subject_id"),
            subject=_text(data, "subject"),
            contract_id=_text(data, "contract_id"),
            contract=_text(data, "contract"),
            text=_text(data, "text"),
            files=[DraftFile.from_json(entry) for entry in files],
            photos=_number(data, "photos", 0),
            key=key if key else uuid.uuid4().hex,
            uncertain=_flag(data, "uncertain"),
            no_files=_flag(data, "no_files"),
        )

    @property
    def file_names(self) -> list[str]:
        return [entry.name for entry in self.files]

    def has_file(self, unique_id: str) -> bool:
        return any(entry.unique_id == unique_id for entry in self.files)


def reference_prefix(protocol: str) -> str:
    """Plain text opening the description of a ticket about a closed one (the provider's staff
    read it in their system, the subscriber in the summary)."""
    return f"Referente ao atendimento anterior, protocolo {protocol}."


def description(draft: TicketDraft) -> str:
    """What the provider receives as a new ticket's description (or a reply's message)."""
    text = draft.text or ""
    if draft.mode is Mode.NEW and draft.reference:
        return f"{reference_prefix(draft.reference)}\n\n{text}"
    return text


def new_ticket(draft: TicketDraft, documents: Sequence[Document] = ()) -> NewTicket:
    """The backend's request for a new ticket drafted in ``draft``."""
    if draft.mode is not Mode.NEW or draft.subject_id is None:
        raise ValueError("only a new ticket's draft with a subject opens a ticket")
    return NewTicket(
        subject_id=draft.subject_id,
        description=description(draft),
        contract_id=draft.contract_id,
        attachments=tuple(documents),
        idempotency_key=draft.key,
    )


def already_replied(ticket: Ticket, draft: TicketDraft) -> bool:
    """Whether the ticket's last message is this draft's reply (same text, same file names)."""
    if not ticket.messages:
        return False
    last = ticket.messages[-1]
    return (
        last.author is TicketAuthor.SUBSCRIBER
        and last.text.strip() == (draft.text or "").strip()
        and sorted(a.filename for a in last.attachments) == sorted(draft.file_names)
    )


def rejected_file(draft: TicketDraft, reason: str) -> DraftFile | None:
    """The attachment the provider's refusal names (the longest name found in ``reason``)."""
    by_length = sorted(draft.files, key=lambda entry: len(entry.name), reverse=True)
    return next((entry for entry in by_length if entry.name in reason), None)


async def submit(
    backend: SubscriberBackend,
    session: BackendSession,
    draft: TicketDraft,
    documents: Sequence[Document] = (),
) -> Ticket:
    """Open the drafted ticket, or send the drafted reply, with ``documents`` (the draft's
    files' bytes); the ticket as the backend returns it.

    The backend's errors are raised as they come. An :class:`Unavailable` first marks the draft
    ``uncertain``: the attempt may have reached the provider. A new ticket carries the draft's
    idempotency key, so sending it again never opens a second one; replies carry no key in the
    protocol, so before a reply is sent again the ticket's last message is compared with it.
    """
    try:
        if draft.mode is Mode.NEW:
            return await backend.open_ticket(session, new_ticket(draft, documents))
        return await _reply(backend, session, draft, tuple(documents))
    except Unavailable:
        draft.uncertain = True
        raise


async def _reply(
    backend: SubscriberBackend,
    session: BackendSession,
    draft: TicketDraft,
    documents: tuple[Document, ...],
) -> Ticket:
    if draft.ticket_id is None:
        raise ValueError("a reply's draft names the ticket it answers")
    if draft.uncertain:
        ticket = await backend.get_ticket(session, draft.ticket_id)
        if already_replied(ticket, draft):
            logger.info("reply to ticket %s had reached the backend", draft.ticket_id)
            return ticket
    return await backend.reply_ticket(session, draft.ticket_id, draft.text or "", documents)
