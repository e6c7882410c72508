"""The SGP adapter's tickets (``chamado``, ``tipoocorrencia``, ``os``)."""

from __future__ import annotations

import asyncio
import base64

from backend_client.errors import (
    CLOSED_TICKET_REASON,
    NotFound,
    NotPermitted,
    NotSupported,
    Rejected,
    SessionExpired,
    reply_text,
)
from backend_client.kit.shape import Record, listing, warn_once
from backend_client.kit.vault import VaultEntry
from backend_client.models import (
    BackendSession,
    Document,
    NewTicket,
    Ticket,
    TicketStatus,
    TicketSubject,
)
from backend_client.sgp import mapping
from backend_client.sgp.base import SgpBase
from backend_client.sgp.mapping import PROTOCOL_TICKET, SYSTEM

NO_REPLY_REASON = (
    "Este atendimento ainda não recebe respostas por aqui. Se precisar, abra um novo atendimento."
)


class SgpTickets(SgpBase):
    """Tickets of :class:`~backend_client.sgp.backend.SgpBackend`."""

    # --- tickets --------------------------------------------------------------------------------
    async def list_ticket_subjects(self, session: BackendSession) -> list[TicketSubject]:
        """SGP's ``tipoocorrencia`` when the subscriber may read it, else the subjects the
        provider configured (BACKEND_TICKET_SUBJECTS)."""
        entry = self._entry(session)
        form = {"cpfcnpj": entry.document, "senha": entry.secret}
        path = "/api/central/tipoocorrencia/list/"
        response = await self._transport.request("POST", path, read=True, data=form)
        subjects: list[TicketSubject] = []
        if response.status == 200:
            data = self._transport.json(response)
            for record in listing(data, SYSTEM, "tipoocorrencia", "tipos|data|ocorrencias"):
                if "ativo" in record and not record.shown(record.flag, "ativo"):
                    continue
                subjects.append(
                    TicketSubject(id=record.ident("codigo|id"), name=record.text("descricao|nome"))
                )
        elif response.status in (401, 403, 404):
            warn_once(SYSTEM, "tipoocorrencia/list", f"answered HTTP {response.status}")
        else:
            raise self._transport.unexpected(response)
        if subjects:
            return subjects
        if self._ticket_subjects:
            return list(self._ticket_subjects)
        raise NotPermitted("list_ticket_subjects", path)

    async def _chamados(self, entry: VaultEntry) -> list[tuple[Record, str]]:
        contract_ids = [mapping.contract_id_of(c) for c in await self._contracts(entry)]
        answers = await asyncio.gather(
            *(
                self._central_data("/api/central/chamado/list/", entry, contrato=cid)
                for cid in contract_ids
            )
        )
        found: dict[str, tuple[Record, str]] = {}
        for contract_id, data in zip(contract_ids, answers, strict=True):
            for record in listing(data, SYSTEM, "chamado/list", "chamados|data", strict=False):
                found.setdefault(mapping.ticket_id_of(record), (record, contract_id))
        return list(found.values())

    async def list_tickets(
        self, session: BackendSession, statuses: frozenset[TicketStatus] | None = None
    ) -> list[Ticket]:
        tickets = [
            mapping.ticket(record, contract_id, full=False)
            for record, contract_id in await self._chamados(self._entry(session))
        ]
        if statuses is not None:
            tickets = [t for t in tickets if t.status in statuses]
        return sorted(tickets, key=lambda t: (t.opened_at, t.id), reverse=True)

    async def _find_ticket(self, entry: VaultEntry, ticket_id: str) -> Ticket:
        for record, contract_id in await self._chamados(entry):
            if mapping.ticket_id_of(record) == ticket_id:
                return mapping.ticket(record, contract_id, full=True)
        raise NotFound(f"ticket {ticket_id}")

    async def get_ticket(self, session: BackendSession, ticket_id: str) -> Ticket:
        return await self._find_ticket(self._entry(session), ticket_id)

    async def _attach(
        self, entry: VaultEntry, ticket_id: str, documents: tuple[Document, ...]
    ) -> None:
        if documents and ticket_id.startswith(PROTOCOL_TICKET):
            # SGP takes files on a service order; a ticket without one cannot take them.
            raise NotSupported("ticket_attachments")
        for document in documents:
            response = await self._central(
                f"/api/central/chamado/{ticket_id}/anexo/add/",
                entry,
                read=False,
                file_b64=base64.b64encode(document.content).decode("ascii"),
                filename=document.filename,
                descricao=document.filename,
            )
            if response.status != 200:
                raise self._transport.unexpected(response, "attachment not accepted")

    async def open_ticket(self, session: BackendSession, ticket: NewTicket) -> Ticket:
        entry = self._entry(session)
        description = ticket.description.strip()
        if not description:
            raise Rejected("Descreva o motivo do atendimento.")
        key = (session.subscriber_id, ticket.idempotency_key or "")
        if ticket.idempotency_key and key in self._opened:
            return await self._find_ticket(entry, self._opened[key])
        subjects = {s.id for s in await self.list_ticket_subjects(session)}
        if ticket.subject_id not in subjects:
            raise NotFound(f"ticket subject {ticket.subject_id}")
        contracts = [mapping.contract_id_of(c) for c in await self._contracts(entry)]
        if ticket.contract_id is not None and ticket.contract_id not in contracts:
            raise NotFound(f"contract {ticket.contract_id}")
        if not contracts:
            raise SessionExpired()
        data = await self._central_data(
            "/api/central/chamado/",
            entry,
            read=False,
            contrato=ticket.contract_id or contracts[0],
            conteudo=description,
            ocorrenciatipo=ticket.subject_id,
        )
        # An object, or a list of one (both seen in public integrations).
        answers = listing(data, SYSTEM, "chamado", "chamado") if isinstance(data, list) else []
        answer = answers[0] if answers else Record.of(data, SYSTEM, "chamado")
        status = str(answer.raw("status", "")).strip()
        if status in ("0", "False", "false"):
            raise Rejected(self._refusal(answer, "O provedor não abriu o atendimento agora."))
        if status == "3":  # already an open one for this subject
            protocol = answer.opt_ident("protocolo")
            which = f" (protocolo {protocol})" if protocol else ""
            raise Rejected(
                f"Já existe um atendimento aberto para este assunto{which}. Acompanhe-o em "
                "Atendimentos."
            )
        ticket_id = mapping.ticket_id_of(answer)
        if ticket.idempotency_key:
            self._opened[key] = ticket_id
            while len(self._opened) > 1000:
                self._opened.popitem(last=False)
        await self._attach(entry, ticket_id, ticket.attachments)
        return await self._find_ticket(entry, ticket_id)

    async def reply_ticket(
        self,
        session: BackendSession,
        ticket_id: str,
        text: str,
        attachments: tuple[Document, ...] = (),
    ) -> Ticket:
        entry = self._entry(session)
        text = reply_text(text, attachments)
        current = await self._find_ticket(entry, ticket_id)
        if current.status is TicketStatus.CLOSED:
            raise Rejected(CLOSED_TICKET_REASON)
        if ticket_id.startswith(PROTOCOL_TICKET):
            raise Rejected(NO_REPLY_REASON)
        if text:
            response = await self._central(
                f"/api/central/chamado/{ticket_id}/anotacao", entry, read=False, anotacao=text
            )
            if response.status != 200:
                raise self._transport.unexpected(response, "reply not accepted")
        await self._attach(entry, ticket_id, attachments)
        return await self._find_ticket(entry, ticket_id)

    async def get_ticket_attachment(
        self, session: BackendSession, ticket_id: str, attachment_id: str
    ) -> Document:
        entry = self._entry(session)
        for record, _ in await self._chamados(entry):
            if mapping.ticket_id_of(record) != ticket_id:
                continue
            for anexo in record.opt_records("anexos"):
                if anexo.ident("id") == attachment_id:
                    url = self._link(anexo.text("url"))
                    if url is None:
                        raise anexo.fail("url", "is not an http(s) link")
                    response = await self._transport.request("GET", url, read=True)
                    if response.status != 200:
                        raise self._transport.unexpected(response, "attachment not downloaded")
                    return Document(
                        filename=anexo.text("nome"),
                        content_type=anexo.opt_text("tipo")
                        or response.content_type
                        or "application/octet-stream",
                        content=response.body,
                    )
            raise NotFound(f"attachment {attachment_id}")
        raise NotFound(f"ticket {ticket_id}")
