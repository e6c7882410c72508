"""The sandbox's tickets: subjects, opening, replies, attachments, and a simulated agent reply
(a sandbox control)."""

from __future__ import annotations

from sqlalchemy import func, select

from backend_client.errors import (
    CLOSED_TICKET_REASON,
    NotFound,
    Rejected,
    reply_text,
)
from backend_client.models import (
    AttachmentInfo,
    BackendSession,
    Document,
    NewTicket,
    Ticket,
    TicketAuthor,
    TicketMessage,
    TicketStatus,
    TicketSubject,
)
from backend_client.sandbox import convert
from backend_client.sandbox.core import (
    MAX_ATTACHMENT_BYTES,
    SandboxCore,
    new_id,
    operation,
)
from backend_client.sandbox.db import (
    AttachmentRow,
    TicketMessageRow,
    TicketRow,
    TicketSubjectRow,
)
from backend_client.sandbox.inline import Db
from backend_client.sandbox.seed import PROVIDER_AGENT


class TicketsMixin(SandboxCore):
    """Ticket subjects, tickets with their messages and attachments, agents' replies."""

    # --- tickets --------------------------------------------------------------------------------
    @operation
    async def list_ticket_subjects(self, session: BackendSession) -> list[TicketSubject]:
        async with self._reading() as db:
            await self._subscriber(db, session)
            rows = await db.scalars(select(TicketSubjectRow).order_by(TicketSubjectRow.position))
            return [TicketSubject(id=row.id, name=row.name) for row in rows]

    @operation
    async def list_tickets(
        self, session: BackendSession, statuses: frozenset[TicketStatus] | None = None
    ) -> list[Ticket]:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            query = (
                select(TicketRow, TicketSubjectRow.name)
                .join(TicketSubjectRow, TicketSubjectRow.id == TicketRow.subject_id)
                .where(TicketRow.subscriber_id == subscriber.id)
                .order_by(TicketRow.opened_at.desc(), TicketRow.id.desc())
            )
            if statuses is not None:
                query = query.where(TicketRow.status.in_([s.value for s in statuses]))
            rows = (await db.execute(query)).all()
        return [convert.ticket(row, subject) for row, subject in rows]

    async def _full_ticket(self, db: Db, row: TicketRow) -> Ticket:
        subject = await db.get(TicketSubjectRow, row.subject_id)
        messages = (
            await db.scalars(
                select(TicketMessageRow)
                .where(TicketMessageRow.ticket_id == row.id)
                .order_by(TicketMessageRow.position)
            )
        ).all()
        attachments = (
            await db.execute(
                select(
                    AttachmentRow.id,
                    AttachmentRow.message_id,
                    AttachmentRow.filename,
                    AttachmentRow.content_type,
                    func.length(AttachmentRow.content),
                )
                .where(AttachmentRow.ticket_id == row.id)
                .order_by(AttachmentRow.id)
            )
        ).all()
        infos: dict[str, list[AttachmentInfo]] = {}
        for attachment_id, message_id, filename, content_type, size in attachments:
            infos.setdefault(message_id, []).append(
                AttachmentInfo(
                    id=attachment_id, filename=filename, content_type=content_type, size=size
                )
            )
        history = tuple(
            TicketMessage(
                id=message.id,
                author=TicketAuthor(message.author),
                author_name=message.author_name,
                sent_at=message.sent_at,
                text=message.text,
                attachments=tuple(infos.get(message.id, ())),
            )
            for message in messages
        )
        return convert.ticket(row, subject.name if subject else row.subject_id, history)

    @operation
    async def get_ticket(self, session: BackendSession, ticket_id: str) -> Ticket:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            row = await self._ticket_row(db, subscriber.id, ticket_id)
            return await self._full_ticket(db, row)

    async def _add_message(
        self,
        db: Db,
        ticket: TicketRow,
        author: TicketAuthor,
        author_name: str,
        text: str,
        attachments: tuple[Document, ...] = (),
    ) -> None:
        """Append a message (and its files) to ``ticket`` and touch its ``updated_at``."""
        last = await db.scalar(
            select(func.max(TicketMessageRow.position)).where(
                TicketMessageRow.ticket_id == ticket.id
            )
        )
        message = TicketMessageRow(
            id=new_id("msg"),
            ticket_id=ticket.id,
            position=0 if last is None else last + 1,
            author=author.value,
            author_name=author_name,
            sent_at=self._now(),
            text=text,
        )
        db.add(message)
        await db.flush()  # the attachments reference the message
        for document in attachments:
            db.add(
                AttachmentRow(
                    id=new_id("att"),
                    ticket_id=ticket.id,
                    message_id=message.id,
                    filename=document.filename,
                    content_type=document.content_type,
                    content=document.content,
                )
            )
        ticket.updated_at = message.sent_at
        await db.flush()

    @staticmethod
    def _check_attachments(attachments: tuple[Document, ...]) -> None:
        for document in attachments:
            if len(document.content) > MAX_ATTACHMENT_BYTES:
                limit = MAX_ATTACHMENT_BYTES // (1024 * 1024)
                raise Rejected(f"O arquivo {document.filename} passa do limite de {limit} MB.")

    @operation
    async def open_ticket(self, session: BackendSession, ticket: NewTicket) -> Ticket:
        description = ticket.description.strip()
        if not description:
            raise Rejected("Descreva o motivo do atendimento.")
        self._check_attachments(ticket.attachments)
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            if ticket.idempotency_key is not None:
                existing = await db.scalar(
                    select(TicketRow).where(
                        TicketRow.subscriber_id == subscriber.id,
                        TicketRow.idempotency_key == ticket.idempotency_key,
                    )
                )
                if existing is not None:
                    return await self._full_ticket(db, existing)
            if await db.get(TicketSubjectRow, ticket.subject_id) is None:
                raise NotFound(f"ticket subject {ticket.subject_id}")
            if ticket.contract_id is not None:
                await self._contract_row(db, subscriber.id, ticket.contract_id)
            now = self._now()
            row = TicketRow(
                id=new_id("tk"),
                subscriber_id=subscriber.id,
                contract_id=ticket.contract_id,
                subject_id=ticket.subject_id,
                protocol=await self._next_protocol(db),
                status=TicketStatus.OPEN.value,
                opened_at=now,
                updated_at=now,
                idempotency_key=ticket.idempotency_key,
            )
            db.add(row)
            await db.flush()  # the first message references the ticket
            await self._add_message(
                db, row, TicketAuthor.SUBSCRIBER, subscriber.name, description, ticket.attachments
            )
            return await self._full_ticket(db, row)

    @operation
    async def reply_ticket(
        self,
        session: BackendSession,
        ticket_id: str,
        text: str,
        attachments: tuple[Document, ...] = (),
    ) -> Ticket:
        text = reply_text(text, attachments)
        self._check_attachments(attachments)
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            row = await self._ticket_row(db, subscriber.id, ticket_id)
            if row.status == TicketStatus.CLOSED.value:
                raise Rejected(CLOSED_TICKET_REASON)
            row.status = TicketStatus.OPEN.value  # a pending ticket goes back to the provider
            await self._add_message(
                db, row, TicketAuthor.SUBSCRIBER, subscriber.name, text, attachments
            )
            return await self._full_ticket(db, row)

    @operation
    async def get_ticket_attachment(
        self, session: BackendSession, ticket_id: str, attachment_id: str
    ) -> Document:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            await self._ticket_row(db, subscriber.id, ticket_id)
            attachment = await db.get(AttachmentRow, attachment_id)
            if attachment is None or attachment.ticket_id != ticket_id:
                raise NotFound(f"attachment {attachment_id}")
            return Document(
                filename=attachment.filename,
                content_type=attachment.content_type,
                content=attachment.content,
            )

    # --- sandbox controls (not part of the protocol) ----------------------------------------------
    # What the provider's staff would do in their system, so demos and tests can see the bot
    # react (payment confirmed, ticket answered or closed, backend down).
    async def simulate_provider_reply(
        self,
        ticket_id: str,
        text: str,
        *,
        close: bool = False,
        attachments: tuple[Document, ...] = (),
    ) -> Ticket:
        """An agent answers a ticket: it becomes pending (waiting for the subscriber) or closed."""
        async with self._transaction() as db:
            row = await db.get(TicketRow, ticket_id)
            if row is None:
                raise NotFound(f"ticket {ticket_id}")
            row.status = (TicketStatus.CLOSED if close else TicketStatus.PENDING).value
            await self._add_message(
                db, row, TicketAuthor.PROVIDER, PROVIDER_AGENT, text, attachments
            )
            return await self._full_ticket(db, row)
