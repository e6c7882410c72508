"""The IXC adapter's tickets (``su_ticket``, ``su_mensagens``, ``su_ticket_arquivos``)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from backend_client.errors import (
    CLOSED_TICKET_REASON,
    NotFound,
    NotPermitted,
    NotSupported,
    Rejected,
    reply_text,
)
from backend_client.ixc import mapping
from backend_client.ixc.base import IxcBase
from backend_client.ixc.query import (
    SYSTEM,
    Filter,
    error_message,
)
from backend_client.kit.shape import Record
from backend_client.models import (
    BackendSession,
    Document,
    NewTicket,
    Ticket,
    TicketStatus,
    TicketSubject,
)


class IxcTickets(IxcBase):
    """Tickets of :class:`~backend_client.ixc.backend.IxcBackend`."""

    # --- tickets (su_ticket, su_mensagens) ------------------------------------------------------
    async def _subject_rows(self) -> list[Record] | None:
        """Active ``su_oss_assunto{id, assunto, ativo, mostra_hotsite}`` rows; None when the
        webservice user may not read them."""
        what = None if self._ticket_subjects else "without subjects: no new tickets"
        return await self._optional(
            "su_oss_assunto",
            lambda: self._ixc.list("su_oss_assunto", "ativo", "S", sortname="su_oss_assunto.id"),
            what,
        )

    async def list_ticket_subjects(self, session: BackendSession) -> list[TicketSubject]:
        """The subjects IXC shows in the hotsite, else the ones the provider configured (for a
        webservice user that may not read ``su_oss_assunto``); NotPermitted without either."""
        self._owner(session)
        rows = await self._subject_rows()
        subjects = [
            TicketSubject(id=row.ident("id"), name=row.text("assunto"))
            for row in rows or []
            if (row.shown(row.opt_text, "mostra_hotsite") or "S").upper() == "S"
        ]
        if subjects:
            return subjects
        if self._ticket_subjects:
            return list(self._ticket_subjects)
        if rows is None:
            raise NotPermitted("", "su_oss_assunto")
        return []

    async def _subjects(self) -> dict[str, str]:
        """Subject names by id for showing tickets (configured ones, then IXC's own)."""
        names = {subject.id: subject.name for subject in self._ticket_subjects}
        for row in await self._subject_rows() or []:
            name = row.shown(row.opt_text, "assunto")
            if name:
                names[row.ident("id")] = name
        return names

    async def list_tickets(
        self, session: BackendSession, statuses: frozenset[TicketStatus] | None = None
    ) -> list[Ticket]:
        owner = self._owner(session)
        rows, subjects = await asyncio.gather(
            self._ixc.list("su_ticket", "id_cliente", owner), self._subjects()
        )
        tickets = [mapping.ticket(r, subjects) for r in rows if r.ident("id_cliente") == owner]
        if statuses is not None:
            tickets = [t for t in tickets if t.status in statuses]
        return sorted(tickets, key=lambda t: (t.opened_at, t.id), reverse=True)

    async def _ticket_row(self, owner: str, ticket_id: str) -> Record:
        row = await self._ixc.one("su_ticket", ticket_id)
        if row is None or row.ident("id_cliente") != owner:
            raise NotFound(f"ticket {ticket_id}")
        return row

    async def _full_ticket(self, owner: str, ticket_id: str, name: str) -> Ticket:
        row, subjects, rows = await asyncio.gather(
            self._ticket_row(owner, ticket_id),
            self._subjects(),
            self._ixc.list("su_mensagens", "id_ticket", ticket_id, sortname="su_mensagens.data"),
        )
        messages = mapping.ticket_messages(row, rows, ticket_id, name)
        return mapping.ticket(row, subjects, messages)

    async def get_ticket(self, session: BackendSession, ticket_id: str) -> Ticket:
        return await self._full_ticket(self._owner(session), ticket_id, session.name)

    @staticmethod
    def _inserted(data: Any, what: str) -> str:
        answer = Record.of(data, SYSTEM, what)
        kind = answer.opt_text("type")
        if kind == "error":
            raise Rejected(answer.opt_text("message") or "O provedor recusou o pedido.")
        if kind != "success":
            raise answer.fail("type", "is not 'success'")
        return answer.ident("id")

    async def open_ticket(self, session: BackendSession, ticket: NewTicket) -> Ticket:
        owner = self._owner(session)
        description = ticket.description.strip()
        if not description:
            raise Rejected("Descreva o motivo do atendimento.")
        if ticket.idempotency_key:
            existing = await self._ixc.list(
                "su_ticket",
                "id_cliente",
                owner,
                filters=[Filter("su_ticket.token", "=", ticket.idempotency_key)],
            )
            for row in existing:
                if row.opt_text("token") == ticket.idempotency_key:
                    # The same submission again (an earlier one may have stopped mid-files).
                    await self._attach(row.ident("id"), ticket.attachments, again=True)
                    return await self._full_ticket(owner, row.ident("id"), session.name)
        subjects = {s.id: s.name for s in await self.list_ticket_subjects(session)}
        if ticket.subject_id not in subjects:
            raise NotFound(f"ticket subject {ticket.subject_id}")
        if ticket.contract_id is not None:
            await self._contract(owner, ticket.contract_id)
        body = {
            "tipo": "C",
            "id_cliente": owner,
            "id_contrato": ticket.contract_id or "",
            "id_assunto": ticket.subject_id,
            "titulo": subjects[ticket.subject_id],
            "menssagem": description,
            "su_status": "N",
            "id_ticket_origem": "I",
            "prioridade": "M",
            "token": ticket.idempotency_key or "",
        }
        ticket_id = self._inserted(await self._ixc.call("su_ticket", body), "su_ticket")
        # The files follow the ticket they belong to; if they are refused, the ticket stays and
        # sending it again with the same key returns it.
        await self._attach(ticket_id, ticket.attachments)
        return await self._full_ticket(owner, ticket_id, session.name)

    async def reply_ticket(
        self,
        session: BackendSession,
        ticket_id: str,
        text: str,
        attachments: tuple[Document, ...] = (),
    ) -> Ticket:
        owner = self._owner(session)
        text = reply_text(text, attachments)
        row = await self._ticket_row(owner, ticket_id)
        if mapping.ticket_status(row) is TicketStatus.CLOSED:
            raise Rejected(CLOSED_TICKET_REASON)
        # Files first: if IXC refuses them, nothing was written and the text can go alone.
        await self._attach(ticket_id, attachments)
        if not text:
            return await self._full_ticket(owner, ticket_id, session.name)
        body = {
            "id_ticket": ticket_id,
            "mensagem": text,
            "titulo": session.name,
            "visibilidade_mensagens": "PU",
            "su_status": "N",
        }
        self._inserted(await self._ixc.call("su_mensagens", body), "su_mensagens")
        return await self._full_ticket(owner, ticket_id, session.name)

    async def _attach(
        self, ticket_id: str, documents: tuple[Document, ...], *, again: bool = False
    ) -> None:
        """Each file into ``su_ticket_arquivos``: multipart, the file in ``local_arquivo``, with
        ``id_ticket`` and ``descricao``; success is ``type == "success"`` (public integrations:
        a Python and a TypeScript one). ``again``: only the files not there yet (by name)."""
        if not documents:
            return
        if again:
            present = await self._attached_names(ticket_id)
            documents = tuple(d for d in documents if d.filename not in present)
        for document in documents:
            form = aiohttp.FormData()
            form.add_field("id_ticket", ticket_id)
            form.add_field("descricao", document.filename)
            form.add_field(
                "local_arquivo",
                document.content,
                filename=document.filename,
                content_type=document.content_type,
            )
            try:
                data = await self._ixc.upload("su_ticket_arquivos", form)
            except NotPermitted:
                raise NotPermitted("ticket_attachments", "su_ticket_arquivos") from None
            message = error_message(data)
            if message is not None:
                raise Rejected(f"O provedor recusou o arquivo {document.filename}: {message}")
            answer = Record.of(data, SYSTEM, "su_ticket_arquivos")
            if (answer.opt_text("type|tipo") or "").casefold() not in ("success", "sucesso"):
                raise answer.fail("type", "is not 'success'")

    async def _attached_names(self, ticket_id: str) -> set[str]:
        """Names of the files a ticket has (nothing when the user may not list them)."""
        rows = await self._optional(
            "su_ticket_arquivos",
            lambda: self._ixc.list("su_ticket_arquivos", "id_ticket", ticket_id),
        )
        return {
            name
            for row in rows or []
            for name in (
                row.shown(row.opt_text, "descricao"),
                row.shown(row.opt_text, "nome_arquivo"),
            )
            if name
        }

    async def get_ticket_attachment(
        self, session: BackendSession, ticket_id: str, attachment_id: str
    ) -> Document:
        raise NotSupported("get_ticket_attachment")
