"""What every part of the SGP adapter shares: its settings, the Central and URA calls and the
subscriber's contracts. The adapter is :class:`backend_client.sgp.backend.SgpBackend`, whose module
docstring describes SGP's two kinds of calls.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from backend_client.errors import (
    CredentialsRefused,
    NotFound,
    NotPermitted,
    SessionExpired,
    Unavailable,
)
from backend_client.formats.documents import strip_document
from backend_client.kit.shape import SAO_PAULO, Record, listing, warn_once
from backend_client.kit.transport import HttpResponse, HttpTransport
from backend_client.kit.vault import CredentialVault, VaultEntry
from backend_client.models import (
    BackendSession,
    ContactType,
    TicketSubject,
)
from backend_client.sgp import mapping
from backend_client.sgp.mapping import DEFAULT_CONTACT_TYPES, SYSTEM

logger = logging.getLogger(__name__)

URA_CONTACTS = "/api/ura/consultacliente/"
REFUSED = (
    "SGP refused the integration credentials (check BACKEND_TOKEN and BACKEND_APP; the app name "
    "is case-sensitive)"
)


def _sao_paulo_today() -> date:
    return datetime.now(SAO_PAULO).date()


def _refused_credentials(response: HttpResponse) -> bool:
    """SGP's 403 for a token/app pair that does not exist ("… incorretas"), as opposed to one
    that exists but may not use this endpoint family ("… não foram fornecidas")."""
    if response.status == 401:
        return True
    return b"incorreta" in response.body.lower()


class SgpBase:
    """The SGP adapter's settings and HTTP plumbing (``base_url`` is SGP's root URL)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        app: str,
        *,
        timeout: float = 10.0,
        read_retries: int = 2,
        backoff: float = 0.25,
        pool_size: int = 10,
        enabling_days: int = 3,
        enabling_interval_days: int = 30,
        contact_types: Sequence[ContactType] = DEFAULT_CONTACT_TYPES,
        ticket_subjects: Sequence[TicketSubject] = (),
        session_idle_seconds: float = 12 * 3600,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._token = token
        self._app = app
        self._transport = HttpTransport(
            base_url,
            system=SYSTEM,
            timeout=timeout,
            read_retries=read_retries,
            backoff=backoff,
            pool_size=pool_size,
            headers={"Accept": "application/json"},
            secrets=[token],
        )
        self._vault = CredentialVault(idle_seconds=session_idle_seconds)
        self._enabling_days = enabling_days
        self._enabling_interval = enabling_interval_days
        self._contact_types = tuple(contact_types)
        self._ticket_subjects = tuple(ticket_subjects)
        self._today = today or _sao_paulo_today
        self._opened: OrderedDict[tuple[str, str], str] = OrderedDict()  # idempotency keys

    def __repr__(self) -> str:
        return f"SgpBackend({self._transport.base_url!r})"

    # --- plumbing -------------------------------------------------------------------------------
    def _link(self, link: str | None) -> str | None:
        """An absolute http(s) address for a link SGP gives absolute or relative to its root."""
        if not link:
            return None
        if link.lower().startswith(("http://", "https://")):
            return link
        if link.startswith("/"):
            return self._transport.base_url + link
        return None

    async def _central(
        self, path: str, entry: VaultEntry, *, read: bool, **fields: Any
    ) -> HttpResponse:
        form = {"cpfcnpj": entry.document, "senha": entry.secret}
        form.update({k: str(v) for k, v in fields.items() if v is not None})
        response = await self._transport.request("POST", path, read=read, data=form)
        if response.status in (401, 403):
            # The password was changed elsewhere (or the Central access was revoked).
            raise SessionExpired()
        return response

    async def _central_data(
        self, path: str, entry: VaultEntry, *, read: bool = True, **fields: Any
    ) -> Any:
        """The JSON of a Central answer (an object, or a bare list for some listings)."""
        response = await self._central(path, entry, read=read, **fields)
        if response.status != 200:
            raise self._transport.unexpected(response)
        return self._transport.json(response)

    async def _central_json(
        self, path: str, entry: VaultEntry, where: str, *, read: bool = True, **fields: Any
    ) -> Record:
        return Record.of(await self._central_data(path, entry, read=read, **fields), SYSTEM, where)

    async def _ura(self, path: str, operation: str, *, read: bool, **fields: Any) -> HttpResponse:
        form = {"token": self._token, "app": self._app}
        form.update({k: str(v) for k, v in fields.items() if v is not None})
        response = await self._transport.request("POST", path, read=read, data=form)
        if response.status in (401, 403):
            if _refused_credentials(response):
                raise CredentialsRefused(REFUSED)
            raise NotPermitted(operation, path)
        return response

    async def _ura_json(
        self, path: str, operation: str, where: str, *, read: bool = True, **fields: Any
    ) -> Record:
        response = await self._ura(path, operation, read=read, **fields)
        if response.status != 200:
            raise self._transport.unexpected(response)
        return Record.of(self._transport.json(response), SYSTEM, where)

    def _entry(self, session: BackendSession) -> VaultEntry:
        return self._vault.resolve(session.token, session.subscriber_id)

    @staticmethod
    def _refusal(answer: Record, default: str) -> str:
        message = answer.opt_text("msg|mensagem")
        return message or default

    # --- contracts (ownership) ------------------------------------------------------------------
    async def _contracts(self, entry: VaultEntry) -> list[Record]:
        """The subscriber's contracts, as SGP scopes them to the subscriber's own login."""
        data = await self._central_data("/api/central/contratos", entry)
        owned = []
        for contract in listing(data, SYSTEM, "contratos", "contratos"):
            document = contract.opt_text("cpfCnpj")
            if document is not None and strip_document(document) != entry.document:
                continue  # a loose filter on the provider's side must not leak other people
            owned.append(contract)
        return owned

    async def _contract(self, entry: VaultEntry, contract_id: str) -> Record:
        for contract in await self._contracts(entry):
            if mapping.contract_id_of(contract) == contract_id:
                return contract
        raise NotFound(f"contract {contract_id}")

    async def _ura_contracts(self, document: str, operation: str) -> dict[str, Record]:
        """URA ``consultacliente`` for the logged-in document, by contract id (what the Central
        lacks: the client id, the access login's IP, phones, contacts)."""
        answer = await self._ura_json(URA_CONTACTS, operation, "consultacliente", cpfcnpj=document)
        found: dict[str, Record] = {}
        for contract in answer.opt_records("contratos"):
            given = contract.opt_text("cpfCnpj")
            if given is not None and strip_document(given) != document:
                continue
            found[mapping.contract_id_of(contract)] = contract
        return found

    async def _ura_extras(self, entry: VaultEntry) -> dict[str, Record]:
        """:meth:`_ura_contracts` where it only adds to a screen: a URA the token may not use
        (or that fails) leaves those details out."""
        try:
            return await self._ura_contracts(entry.document, "get_subscriber")
        except (NotPermitted, Unavailable) as error:
            # Messages of these errors name paths and settings, never values.
            warn_once(SYSTEM, "consultacliente", f"failed: {error}")
            return {}

    async def _access(self, entry: VaultEntry, contract_id: str) -> tuple[bool | None, str | None]:
        """Whether the contract's access is online (status 1) or offline (2), and its login.

        Any other status (a phone-only contract) or a failure leaves the access unknown."""
        try:
            answer = await self._central_json(
                "/api/central/verificaacesso/", entry, "verificaacesso", contrato=contract_id
            )
        except Unavailable as error:
            warn_once(SYSTEM, "verificaacesso", f"failed ({type(error).__name__})")
            return None, None
        status = answer.raw("status")
        online = {1: True, 2: False}.get(int(status)) if str(status).isdigit() else None
        return online, answer.shown(answer.opt_text, "login|servico_login")
