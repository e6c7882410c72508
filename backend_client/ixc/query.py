"""IXCSoft webservice v1: the listing protocol behind one small helper.

``POST /webservice/v1/<table>`` with the header ``ixcsoft: listar`` and the body
``{qtype, query, oper, page, rp, sortname, sortorder}`` (optionally ``grid_param``, a JSON list of
``{TB, OP, P}`` filters) answers ``{page, total, registros[]}``. Every value is a string (``total``
too); ``registros`` is absent when nothing matched (``total`` ``"0"``) and some installations send
it as an object indexed ``{"0": {…}, "1": {…}}`` (public integrations: IXC client libraries).
Listings are reads (retried); anything else is a write (sent once).

How IXC refuses (public integrations: goixc response.go and others):

- a wrong token or user id: HTTP 401 → :class:`CredentialsRefused`;
- a table or action the webservice user may not use: **HTTP 200** with an error envelope,
  ``{"type": "error", "message": "Recurso <tabela> não está disponível!"}`` (text/html), or a
  message saying "sem permissão"; some endpoints use Portuguese keys (``tipo``/``mensagem``,
  ``"erro"``) → :class:`NotPermitted` naming the table (the operation is left empty: the bot
  learns the feature from the method that was called);
- any other error envelope of a listing → :class:`Unavailable` naming the table and IXC's message.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backend_client.errors import CredentialsRefused, NotPermitted, Unavailable
from backend_client.kit.shape import Record
from backend_client.kit.transport import HttpResponse, HttpTransport
from backend_client.provider import fold

logger = logging.getLogger(__name__)
SYSTEM = "IXC"
REFUSED = "IXC refused the integration credentials (check BACKEND_USER and BACKEND_TOKEN)"
_ERROR_KINDS = frozenset({"error", "erro"})
# "Recurso cliente não está disponível!", "… não encontrada ou sem permissão de acesso",
# "Você não possui permissão para acessar este recurso" (compared without accents).
_PERMISSION_RE = re.compile(r"permissao|permission|nao esta disponivel|nao disponivel")


def error_message(data: Any) -> str | None:
    """IXC's message when ``data`` is an error envelope (``type``/``tipo`` ``error``/``erro``),
    else None (an envelope without a message gives "no message")."""
    if not isinstance(data, Mapping):
        return None
    answer = Record(data, SYSTEM, "answer")
    kind = answer.raw("type|tipo")
    if not isinstance(kind, str) or kind.strip().casefold() not in _ERROR_KINDS:
        return None
    message = answer.raw("message|mensagem|msg")
    return message.strip() if isinstance(message, str) and message.strip() else "no message"


def is_permission_refusal(message: str) -> bool:
    return bool(_PERMISSION_RE.search(fold(message)))


def refusal(data: Any, table: str) -> NotPermitted | None:
    """NotPermitted naming ``table`` when ``data`` says the webservice user may not use it."""
    message = error_message(data)
    if message is not None and is_permission_refusal(message):
        return NotPermitted("", table)
    return None


@dataclass(frozen=True, slots=True)
class Filter:
    """One ``grid_param`` condition: ``TB`` field, ``OP`` operator, ``P`` value."""

    field: str
    op: str
    value: str

    def as_grid(self) -> dict[str, str]:
        return {"TB": self.field, "OP": self.op, "P": self.value}


class IxcClient:
    def __init__(self, transport: HttpTransport, page_size: int = 200, max_pages: int = 50) -> None:
        self.transport = transport
        self.page_size = page_size
        self.max_pages = max_pages

    @staticmethod
    def path(table: str) -> str:
        return f"/webservice/v1/{table}"

    def _check(self, response: HttpResponse, table: str) -> Any:
        if response.status == 401:
            raise CredentialsRefused(REFUSED)
        if response.status != 200:
            raise self.transport.unexpected(response)
        data = self.transport.json(response)
        refused = refusal(data, table)
        if refused is not None:
            raise refused
        return data

    async def list(
        self,
        table: str,
        field: str,
        value: Any,
        oper: str = "=",
        *,
        filters: Sequence[Filter] = (),
        sortname: str | None = None,
        sortorder: str = "asc",
        limit: int | None = None,
    ) -> list[Record]:
        """Every record of ``table`` where ``field oper value`` (and the filters), all pages."""
        qtype = field if "." in field else f"{table}.{field}"
        rows: list[Record] = []
        page_size = min(self.page_size, limit) if limit else self.page_size
        for page in range(1, self.max_pages + 1):
            body: dict[str, Any] = {
                "qtype": qtype,
                "query": str(value),
                "oper": oper,
                "page": str(page),
                "rp": str(page_size),
                "sortname": sortname or f"{table}.id",
                "sortorder": sortorder,
            }
            if filters:
                body["grid_param"] = json.dumps([f.as_grid() for f in filters])
            response = await self.transport.request(
                "POST",
                self.path(table),
                read=True,
                json_body=body,
                headers={"ixcsoft": "listar"},
            )
            data = self._check(response, table)
            message = error_message(data)
            if message is not None:
                raise Unavailable(f"IXC refused to list {table}: {message}")
            answer = Record.of(data, SYSTEM, table)
            total = answer.integer("total")
            batch = _registros(answer)
            rows.extend(batch)
            if not batch or len(rows) >= total or (limit and len(rows) >= limit):
                return rows[:limit] if limit else rows
        logger.warning("IXC: %s has more than %d pages; the rest is ignored", table, self.max_pages)
        return rows

    async def first(self, table: str, field: str = "id") -> HttpResponse:
        """The raw answer to a one-row listing of ``table`` (the cheapest question: ping)."""
        body = {
            "qtype": f"{table}.{field}",
            "query": "0",
            "oper": ">",
            "page": "1",
            "rp": "1",
            "sortname": f"{table}.{field}",
            "sortorder": "desc",
        }
        return await self.transport.request(
            "POST", self.path(table), read=True, json_body=body, headers={"ixcsoft": "listar"}
        )

    async def one(self, table: str, record_id: str) -> Record | None:
        rows = await self.list(table, "id", record_id, limit=1)
        return rows[0] if rows else None

    async def call(self, table: str, body: dict[str, Any], *, read: bool = False) -> Any:
        """A non-listing call (insert, action); its JSON answer, unparsed (NotPermitted when it
        is a permission refusal)."""
        response = await self.transport.request("POST", self.path(table), read=read, json_body=body)
        return self._check(response, table)

    async def upload(self, table: str, form: Any) -> Any:
        """A multipart insert (``form`` an :class:`aiohttp.FormData`), sent once."""
        response = await self.transport.request("POST", self.path(table), read=False, data=form)
        return self._check(response, table)

    async def raw(self, table: str, body: dict[str, Any], *, read: bool = True) -> HttpResponse:
        """The answer as it came (PDFs as base64 text); 401 is CredentialsRefused."""
        response = await self.transport.request("POST", self.path(table), read=read, json_body=body)
        if response.status == 401:
            raise CredentialsRefused(REFUSED)
        return response


def _registros(answer: Record) -> list[Record]:
    """``registros`` as a list, absent (none), or an object indexed ``{"0": {…}, "1": {…}}``."""
    value = answer.raw("registros")
    if isinstance(value, Mapping) and value and all(str(k).isdigit() for k in value):
        ordered = sorted(value.items(), key=lambda item: int(item[0]))
        return [
            Record.of(item, SYSTEM, f"{answer.where}.registros[{key}]") for key, item in ordered
        ]
    return answer.opt_records("registros")
