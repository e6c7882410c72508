"""Our REST contract: the ``http`` adapter against servers, and the sandbox served over it."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from backend_client import errors
from backend_client.errors import CredentialsRefused, Unavailable
from backend_client.http.backend import HttpBackend
from backend_client.kit.tokens import TokenSigner
from backend_client.models import BackendSession
from backend_client.sandbox.api import create_app
from tests.backends.conftest import FAST, MARIA, start_sandbox
from tests.backends.standin import fixture

RECORDED = fixture("http", "errors")
SESSION = BackendSession("s1", "31845672062", "Maria", "token-abc")


class Scripted:
    """A server that answers every request with what the test scripts."""

    def __init__(self) -> None:
        self.status = 200
        self.json: Any = None
        self.text: str | None = None
        self.sleep = 0.0
        self.calls: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append(f"{request.method} {request.path}")
        if self.sleep:
            await asyncio.sleep(self.sleep)
        if self.text is not None:
            return web.Response(text=self.text, status=self.status, content_type="text/html")
        return web.json_response(self.json, status=self.status)


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Scripted, HttpBackend]]:
    script = Scripted()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", script.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    backend = HttpBackend(str(server.make_url("")), timeout=0.3, read_retries=1, backoff=0.01)
    await backend.start()
    yield script, backend
    await backend.close()
    await server.close()


@pytest.mark.parametrize("case", RECORDED["cases"], ids=lambda c: f"{c['status']}-{c['raises']}")
async def test_error_envelopes_become_typed_errors(
    scripted: tuple[Scripted, HttpBackend], case: dict[str, Any]
) -> None:
    script, backend = scripted
    script.status, script.json, script.text = case["status"], case.get("json"), case.get("text")
    expected = getattr(errors, case["raises"])
    with pytest.raises(expected) as raised:
        await backend.get_invoice(SESSION, "9")
    if "reason" in case:
        assert raised.value.reason == case["reason"]
    if case["raises"] == "NotSupported":
        assert raised.value.operation == "get_invoice"


@pytest.mark.parametrize("body", ["malformed_invoice", "invoice_with_float_amount"])
async def test_malformed_answers_are_unavailable(
    scripted: tuple[Scripted, HttpBackend], body: str
) -> None:
    script, backend = scripted
    script.json = RECORDED[body]
    with pytest.raises(Unavailable, match="unexpected shape at"):
        await backend.get_invoice(SESSION, "inv-1")
    script.json = {"items": "nope"}
    with pytest.raises(Unavailable, match=r"\$\.items"):
        await backend.list_invoices(SESSION)


async def test_slow_reads_are_retried_and_writes_sent_once(
    scripted: tuple[Scripted, HttpBackend],
) -> None:
    script, backend = scripted
    script.sleep, script.json = 1.0, {}
    with pytest.raises(Unavailable, match="did not answer GET /v1/me"):
        await backend.get_subscriber(SESSION)
    assert script.calls == ["GET /v1/me", "GET /v1/me"]
    script.calls.clear()
    with pytest.raises(Unavailable, match="writes are not retried"):
        await backend.request_temporary_enabling(SESSION, "c1")
    assert script.calls == ["POST /v1/contracts/c1/temporary-enabling"]


@pytest.fixture
async def served_sandbox(sandbox_template: Path, tmp_path: Path) -> AsyncIterator[tuple[str, Any]]:
    sandbox = await start_sandbox(sandbox_template, tmp_path)
    server = TestServer(create_app(sandbox, api_key="bot-key-123"), host="127.0.0.1", port=0)
    await server.start_server()
    yield str(server.make_url("")).rstrip("/"), sandbox
    await server.close()
    await sandbox.close()


async def test_api_key_is_required_when_the_server_sets_one(
    served_sandbox: tuple[str, Any],
) -> None:
    url, _ = served_sandbox
    without = HttpBackend(url, **FAST)
    with_key = HttpBackend(url, api_key="bot-key-123", **FAST)
    await without.start()
    await with_key.start()
    try:
        with pytest.raises(CredentialsRefused, match=r"refused this client.*BACKEND_TOKEN"):
            await without.ping()  # run stops on it with its own exit code
        await with_key.ping()
        session = await with_key.login(MARIA.document, MARIA.password)
        assert (await with_key.get_subscriber(session)).name
    finally:
        await without.close()
        await with_key.close()


async def test_server_answers_the_envelope_for_bad_requests(
    served_sandbox: tuple[str, Any],
) -> None:
    url, _ = served_sandbox
    headers = {"X-Api-Key": "bot-key-123"}
    async with aiohttp.ClientSession(headers=headers) as client:
        async with client.post(f"{url}/v1/sessions", json={"document": 1}) as response:
            body = await response.json()
            assert response.status == 400 and body["error"]["code"] == "bad_request"
        async with client.get(f"{url}/v1/nowhere") as response:
            assert (await response.json())["error"]["code"] == "not_found"
        async with client.get(f"{url}/v1/me") as response:
            assert response.status == 401
            assert (await response.json())["error"]["code"] == "session_expired"
        forged = TokenSigner().sign({"s": SESSION.to_dict()})
        auth = {"Authorization": f"Bearer {forged}"}
        async with client.get(f"{url}/v1/me", headers=auth) as response:
            assert (await response.json())["error"]["code"] == "session_expired"
        login = {"document": MARIA.document, "password": MARIA.password}
        async with client.post(f"{url}/v1/sessions", json=login) as response:
            token = (await response.json())["session"]["token"]
        auth = {"Authorization": f"Bearer {token}"}
        async with client.get(f"{url}/v1/invoices?start=2026-13-01&end=x", headers=auth) as r:
            assert r.status == 400 and "start" in (await r.json())["error"]["message"]
        async with client.get(f"{url}/v1/fiscal-notes", headers=auth) as response:
            assert response.status == 400  # the period is required here
        wrong = {**auth, "X-Subscriber-Id": "s2"}
        async with client.get(f"{url}/v1/me", headers=wrong) as response:
            assert response.status == 401


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sandbox_serve_command(tmp_path: Path) -> None:
    """``minha-central sandbox serve`` answers the contract until it is stopped."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKEND", "SANDBOX_"))}
    env["SANDBOX_DATABASE_URL"] = f"sqlite:///{tmp_path / 'served.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                    conn.sendall(b"GET /v1/health HTTP/1.0\r\nHost: x\r\n\r\n")
                    answer = conn.recv(4096)
                if b'"ok"' in answer:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the sandbox API did not come up")
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"127.0.0.1:{port}" in output
