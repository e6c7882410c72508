"""What every part of the IXC adapter shares: its settings, optional lookup tables, sessions and
the subscriber's contracts. The adapter is :class:`backend_client.ixc.backend.IxcBackend`.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import TypeVar

from backend_client.errors import (
    NotFound,
    NotPermitted,
    SessionExpired,
    Unavailable,
)
from backend_client.features import Feature
from backend_client.ixc.query import SYSTEM, IxcClient
from backend_client.kit.shape import SAO_PAULO, Record
from backend_client.kit.tokens import TokenSigner, derive_key
from backend_client.kit.transport import HttpTransport
from backend_client.models import (
    BackendSession,
    TicketSubject,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Tables read when the webservice user may (lookups): the item works without them, as said here.
OPTIONAL_USES: dict[str, tuple[Feature, str]] = {
    "cidade": (Feature.ACCOUNT, "without city names"),
    "uf": (Feature.ACCOUNT, "without states (UF)"),
    "vd_contratos": (Feature.ACCOUNT, "without the price of plans whose contract has none"),
    "fn_areceber": (Feature.ACCOUNT, "without due days"),
    "su_oss_assunto": (Feature.NEW_TICKET, "with the configured ticket subjects"),
    "su_ticket_arquivos": (Feature.TICKET_ATTACHMENTS, "without checking which files went"),
}
RELEARN_SECONDS = 15 * 60  # a refused table is asked again after this (an admin may grant it)
_SESSION_PURPOSE = "minha-central ixc session v1"


def _sao_paulo_today() -> date:
    return datetime.now(SAO_PAULO).date()


class IxcBase:
    """The IXC adapter's settings and plumbing (``base_url`` is IXC's root URL)."""

    def __init__(
        self,
        base_url: str,
        user: str,
        token: str,
        *,
        timeout: float = 10.0,
        read_retries: int = 2,
        backoff: float = 0.25,
        pool_size: int = 10,
        password_field: str = "senha",
        enabling_days: int = 3,
        enabling_interval_days: int = 30,
        session_secret: str | None = None,
        session_max_age_seconds: float = 30 * 24 * 3600,
        today: Callable[[], date] | None = None,
        ticket_subjects: Sequence[TicketSubject] = (),
    ) -> None:
        root = re.sub(r"/webservice/v1/?$", "", base_url.rstrip("/"))
        basic = base64.b64encode(f"{user}:{token}".encode()).decode("ascii")
        self._transport = HttpTransport(
            root,
            system=SYSTEM,
            timeout=timeout,
            read_retries=read_retries,
            backoff=backoff,
            pool_size=pool_size,
            headers={
                "Accept": "application/json",
                "Authorization": "Basic " + basic,
            },
            secrets=[token, basic],
        )
        self._ixc = IxcClient(self._transport)
        self._password_field = password_field
        self._enabling_days = enabling_days
        self._enabling_interval = enabling_interval_days
        self._signer = TokenSigner(
            derive_key(session_secret or token, _SESSION_PURPOSE), session_max_age_seconds
        )
        self._revoked: set[str] = set()
        self._today = today or _sao_paulo_today
        self._places: dict[str, tuple[str, str]] = {}  # cidade id -> (name, UF)
        # Subjects the provider configured, for a webservice user that may not read su_oss_assunto.
        self._ticket_subjects = tuple(ticket_subjects)
        self._refused: dict[str, float] = {}  # optional table -> when it was refused (monotonic)
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        return f"IxcBackend({self._transport.base_url!r})"

    async def _optional(
        self, table: str, fetch: Callable[[], Awaitable[T]], what: str | None = None
    ) -> T | None:
        """``fetch()`` reading a lookup ``table`` the bot can do without: None when the webservice
        user may not read it (one WARNING naming the table; not asked again for a while)."""
        refused_at = self._refused.get(table)
        if refused_at is not None and time.monotonic() - refused_at < RELEARN_SECONDS:
            return None
        try:
            result = await fetch()
        except NotPermitted:
            self._refused[table] = time.monotonic()
            if table not in self._warned:
                self._warned.add(table)
                feature, consequence = OPTIONAL_USES[table]
                logger.warning(
                    "IXC: the webservice user may not read %s: %s %s",
                    table,
                    feature.value,
                    what or consequence,
                )
            return None
        self._refused.pop(table, None)
        return result

    # --- sessions -------------------------------------------------------------------------------
    def _owner(self, session: BackendSession) -> str:
        if session.token in self._revoked:
            raise SessionExpired()
        claims = self._signer.verify(session.token)
        if claims.get("sub") != session.subscriber_id:
            raise SessionExpired()
        return session.subscriber_id

    async def _cliente(self, owner: str) -> Record:
        cliente = await self._ixc.one("cliente", owner)
        if cliente is None:
            raise SessionExpired()
        return cliente

    async def _contracts(self, owner: str) -> list[Record]:
        return await self._ixc.list("cliente_contrato", "id_cliente", owner)

    async def _contract(self, owner: str, contract_id: str) -> Record:
        contract = await self._ixc.one("cliente_contrato", contract_id)
        if contract is None or contract.ident("id_cliente") != owner:
            raise NotFound(f"contract {contract_id}")
        return contract


def _reason(error: Unavailable) -> str:
    """What failed, without the system's name (the message never holds a value)."""
    return str(error).removeprefix(f"{SYSTEM}: ")
