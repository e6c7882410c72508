"""The sandbox posing as a provider's system that lacks some features (as SGP or IXC do)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from backend_client.errors import NotSupported
from backend_client.features import OPERATION_FEATURES, Feature
from backend_client.models import BackendSession, Document, NewTicket, Ticket
from backend_client.sandbox import SandboxBackend


class LackingSandbox(SandboxBackend):
    """``lacking``: declared by :meth:`unsupported_features`, like SGP and IXC declare theirs;
    ``refusing``: not declared, found out only when an operation raises NotSupported. Either way
    the operations of those features raise NotSupported; a ticket with attachments too, when
    ``ticket_attachments`` is one of them (as IXC does)."""

    def __init__(
        self,
        *args: Any,
        lacking: Iterable[Feature] = (),
        refusing: Iterable[Feature] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lacking = frozenset(lacking)
        self.without = self.lacking | frozenset(refusing)
        self.refused_calls: list[str] = []
        for operation, feature in OPERATION_FEATURES.items():
            if feature in self.without and hasattr(self, operation):
                setattr(self, operation, self._refusing(operation))

    def _refusing(self, operation: str) -> Any:
        async def refuse(*args: Any, **kwargs: Any) -> NoReturn:
            self.refused_calls.append(operation)
            raise NotSupported(operation)

        return refuse

    def unsupported_features(self) -> frozenset[Feature]:
        return self.lacking

    async def open_ticket(self, session: BackendSession, ticket: NewTicket) -> Ticket:
        if ticket.attachments and Feature.TICKET_ATTACHMENTS in self.without:
            self.refused_calls.append("open_ticket")
            raise NotSupported("ticket_attachments")
        return await super().open_ticket(session, ticket)

    async def reply_ticket(
        self,
        session: BackendSession,
        ticket_id: str,
        text: str,
        attachments: tuple[Document, ...] = (),
    ) -> Ticket:
        if attachments and Feature.TICKET_ATTACHMENTS in self.without:
            self.refused_calls.append("reply_ticket")
            raise NotSupported("ticket_attachments")
        return await super().reply_ticket(session, ticket_id, text, attachments)
