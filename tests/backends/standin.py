"""What every local stand-in of a provider system shares: fixtures, a call log, injected faults.

A stand-in is a real aiohttp server on 127.0.0.1 (a free port) that answers with the shapes recorded
under ``tests/backends/fixtures/``. Tests inject faults per path prefix: a handler that sleeps past
the adapter's timeout, an error status, or a body that is not the documented shape.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestServer

FIXTURES = Path(__file__).parent / "fixtures"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def fixture(system: str, name: str) -> Any:
    return json.loads((FIXTURES / system / f"{name}.json").read_text("utf-8"))


def now_text() -> str:
    return datetime.now(SAO_PAULO).strftime("%Y-%m-%d %H:%M:%S")


def substitute(value: Any, replacements: dict[str, str]) -> Any:
    """A deep copy of ``value`` with ``{NAME}`` placeholders in strings replaced."""
    if isinstance(value, str):
        for name, replacement in replacements.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, list):
        return [substitute(item, replacements) for item in value]
    if isinstance(value, dict):
        return {k: substitute(v, replacements) for k, v in value.items()}
    return value


@dataclass
class Fault:
    """What to do instead of answering (``times`` answers, then normal again; None = always)."""

    sleep: float = 0.0
    status: int | None = None
    text: str | None = None
    json_body: Any = None
    content_type: str = "application/json"
    times: int | None = None
    headers: dict[str, str] | None = None  # e.g. Retry-After

    def response(self) -> web.Response | None:
        if self.json_body is not None:
            return web.json_response(
                self.json_body, status=self.status or 200, headers=self.headers
            )
        if self.text is not None or self.status is not None:
            return web.Response(
                text=self.text or "",
                status=self.status or 200,
                content_type=self.content_type,
                headers=self.headers,
            )
        return None


@dataclass
class Call:
    method: str
    path: str
    fields: dict[str, Any]
    headers: dict[str, str]


class StandIn:
    """Base class: subclasses add routes in :meth:`routes`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.faults: dict[str, Fault] = {}
        self.server: TestServer | None = None
        self.base_url = ""

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def fail(self, path_prefix: str, fault: Fault) -> None:
        self.faults[path_prefix] = fault

    def calls_to(self, path_prefix: str) -> list[Call]:
        return [call for call in self.calls if call.path.startswith(path_prefix)]

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        fields: dict[str, Any] = {}
        if request.content_type == "application/x-www-form-urlencoded":
            fields = dict(await request.post())
        elif request.content_type == "application/json" and request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                body = None
            fields = body if isinstance(body, dict) else {"_body": body}
        self.calls.append(Call(request.method, request.path, fields, dict(request.headers)))
        for prefix, fault in list(self.faults.items()):
            if not request.path.startswith(prefix):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[prefix]
            if fault.sleep:
                await asyncio.sleep(fault.sleep)
            response = fault.response()
            if response is not None:
                return response
        return await handler(request)

    async def start(self) -> str:
        app = web.Application(middlewares=[self._middleware], client_max_size=32 * 1024 * 1024)
        self.routes(app)
        self.server = TestServer(app, host="127.0.0.1", port=0)
        await self.server.start_server()
        self.base_url = str(self.server.make_url("")).rstrip("/")
        return self.base_url

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()


def deep(value: Any) -> Any:
    return copy.deepcopy(value)
