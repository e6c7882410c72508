"""IXCSoft webservice v1: the listing protocol behind one small helper.

``POST /webservice/v1/<table>`` with the header ``ixcsoft: listar`` and the body
``{qtype, query, oper, page, rp, sortname, sortorder}`` (optionally ``grid_param``, a JSON list of
``{TB, OP, P}`` filters) answers ``{page, total, registros[]}`` — ``registros`` is absent when
``total`` is 0. Listings are reads (retried); anything else is a write (sent once). IXC reports
refusals as ``{"type": "error", "message": …}`` with HTTP 200.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backend_client.errors import Unavailable
from backend_client.http.shape import Record
from backend_client.http.transport import HttpResponse, HttpTransport

logger = logging.getLogger(__name__)
SYSTEM = "IXC"


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

    def _path(self, table: str) -> str:
        return f"/webservice/v1/{table}"

    def _check(self, response: HttpResponse, table: str) -> Any:
        if response.status in (401, 403):
            raise Unavailable(
                "IXC refused the API credentials (check BACKEND_USER and BACKEND_TOKEN, and the "
                "user's permissions)"
            )
        if response.status != 200:
            raise self.transport.unexpected(response)
        return self.transport.json(response)

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
                self._path(table),
                read=True,
                json_body=body,
                headers={"ixcsoft": "listar"},
            )
            answer = Record.of(self._check(response, table), SYSTEM, table)
            if answer.raw("type") == "error":
                message = answer.opt_text("message") or "no message"
                raise Unavailable(f"IXC refused to list {table}: {message}")
            total = answer.integer("total")
            batch = answer.opt_records("registros")
            rows.extend(batch)
            if not batch or len(rows) >= total or (limit and len(rows) >= limit):
                return rows[:limit] if limit else rows
        logger.warning("IXC: %s has more than %d pages; the rest is ignored", table, self.max_pages)
        return rows

    async def one(self, table: str, record_id: str) -> Record | None:
        rows = await self.list(table, "id", record_id, limit=1)
        return rows[0] if rows else None

    async def call(self, table: str, body: dict[str, Any], *, read: bool = False) -> Any:
        """A non-listing call (insert, action); its JSON answer, unparsed."""
        response = await self.transport.request(
            "POST", self._path(table), read=read, json_body=body
        )
        return self._check(response, table)

    async def raw(self, table: str, body: dict[str, Any], *, read: bool = True) -> HttpResponse:
        response = await self.transport.request(
            "POST", self._path(table), read=read, json_body=body
        )
        if response.status in (401, 403):
            raise Unavailable("IXC refused the API credentials (check BACKEND_USER/BACKEND_TOKEN)")
        return response
