"""Issue 19, done: on real systems (the IXC and SGP stand-ins, and our HTTP contract served by the
sandbox) a chat linked after login, then logged out, receives the D-3 / D0 / D+1 / D+5 reminders
with the linha digitável and PIX of the right invoice, a payment confirmation and a ticket answer —
exactly once each, across a restart, a crash between "sent" and "recorded", and a provider system
that slows down or fails in the middle of a round."""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from backend_client.formats.boleto import format_linha_digitavel
from backend_client.http.backend import HttpBackend
from backend_client.ixc import IxcBackend
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.api import create_app
from backend_client.sandbox.feed import SandboxFeed
from backend_client.sgp import SgpBackend
from bot.notifications import jobs as notification_jobs
from bot.notifications.jobs import deliver_due
from bot.notifications.service import ROUND
from bot.storage.rounds import RoundStore
from bot.ui.formatting import TIMEZONE, local_time
from tests.backends.standin import Fault
from tests.backends.standin_ixc import IxcStandIn
from tests.backends.standin_sgp import SgpStandIn
from tests.support.bot_env import PERSON, BotEnv
from tests.support.driver import texts as shown

SYSTEMS = ["ixc", "http", "sgp"]


def at(day: str, hour: int = 10) -> datetime:
    return (
        datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=TIMEZONE).astimezone(UTC)
    )


@dataclass
class System:
    """The provider's side of one system, as its staff would act on it."""

    name: str
    env: BotEnv
    invoice_id: str  # Maria's invoice due on 10/12/2026
    pay: Callable[[str, date], Any]
    answer: Callable[[str], Any]  # staff answer Maria's open ticket with this text
    fault_path: str  # a path of the feed's requests (to slow or fail them)
    standin: Any = None
    closers: list[Any] = field(default_factory=list)


def _today(env: BotEnv) -> Callable[[], date]:
    return lambda: local_time(env.clock()).date()


async def _ixc(env: BotEnv) -> System:
    standin = IxcStandIn()
    await standin.start()
    env.make_backend = lambda _: IxcBackend(  # type: ignore[assignment, return-value]
        standin.base_url,
        standin.accounts["user"],
        standin.accounts["token"],
        today=_today(env),
        timeout=2.0,
        backoff=0.01,
    )

    def pay(invoice_id: str, day: date) -> None:
        row = next(r for r in standin.tables["fn_areceber"] if r["id"] == invoice_id)
        row.update(status="R", pagamento_data=day.isoformat(), valor_recebido=row["valor"])

    def answer(text: str) -> None:
        when = local_time(env.clock()).strftime("%Y-%m-%d %H:%M:%S")
        standin.tables["su_mensagens"].append(
            {
                "id": str(9000 + len(standin.tables["su_mensagens"])),
                "id_ticket": "6102",
                "mensagem": text,
                "operador": "12",
                "data": when,
                "titulo": "Suporte Conecta",
                "visibilidade_mensagens": "PU",
                "su_status": "P",
            }
        )

    return System("ixc", env, "880105", pay, answer, "/webservice/v1/fn_areceber", standin)


class ServerFaults:
    """Faults on our HTTP contract's server, as StandIn.fail makes them on the stand-ins."""

    def __init__(self) -> None:
        self.faults: dict[str, Fault] = {}

    def fail(self, path_prefix: str, fault: Fault) -> None:
        self.faults[path_prefix] = fault

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        for prefix, fault in list(self.faults.items()):
            if request.path.startswith(prefix):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        del self.faults[prefix]
                await asyncio.sleep(fault.sleep)
                response = fault.response()
                if response is not None:
                    return response
        response: web.StreamResponse = await handler(request)
        return response

    async def close(self) -> None:
        pass


async def _http(env: BotEnv) -> System:
    sandbox = SandboxBackend(env.sandbox_url, today=_today(env))
    await sandbox.start()
    faults = ServerFaults()
    app = create_app(sandbox, feed=SandboxFeed(sandbox, page_size=2))
    app.middlewares.insert(0, faults.middleware)
    server = TestServer(app, port=0)
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    env.make_backend = lambda _: HttpBackend(url, timeout=2.0)  # type: ignore[assignment, return-value]

    async def pay(invoice_id: str, day: date) -> None:
        await sandbox.simulate_payment(invoice_id, paid_on=day)

    async def answer(text: str) -> None:
        await sandbox.simulate_provider_reply("tk-1", text)  # Maria's open ticket

    system = System("http", env, "inv-1012", pay, answer, "/v1/feed", faults)
    system.closers += [server.close, sandbox.close]
    return system


async def _sgp(env: BotEnv) -> System:
    standin = SgpStandIn()
    await standin.start()
    integration = standin.accounts["integration"]
    env.make_backend = lambda _: SgpBackend(  # type: ignore[assignment, return-value]
        standin.base_url,
        integration["token"],
        integration["app"],
        today=_today(env),
        timeout=2.0,
        backoff=0.01,
    )

    def pay(invoice_id: str, day: date) -> None:
        title = next(t for t in standin.state["titulos"]["1101"] if str(t["id"]) == invoice_id)
        title.update(
            statusid=2, status="Pago", data_pagamento=day.isoformat(), valorpago=title["valor"]
        )

    def answer(text: str) -> None:
        ticket = next(c for c in standin.state["chamados"]["1101"] if c["os"] == 90042)
        when = local_time(env.clock()).strftime("%Y-%m-%d %H:%M:%S")
        ticket["anotacoes"].append(
            {"id": 7999, "anotacao": text, "data": when, "usuario": "suporte.ana", "cliente": False}
        )
        ticket["data_alteracao"] = when

    return System("sgp", env, "70105", pay, answer, "/api/ura/titulos", standin)


@pytest.fixture(params=SYSTEMS)
async def system(request: pytest.FixtureRequest, env: BotEnv) -> AsyncIterator[System]:
    # The feed unpaced (pacing has its own tests and benchmark); polls driven by the test.
    env.settings = replace(env.settings, backend_feed_rate=0)
    found = await {"ixc": _ixc, "http": _http, "sgp": _sgp}[request.param](env)
    await env.launch()
    yield found
    await env.stop()
    for close in found.closers:
        await close()
    if found.standin is not None:
        await found.standin.close()
    await env.launch()  # the env fixture stops what it started


async def act(done: Any) -> None:
    """What the staff did (a stand-in's change is immediate, the sandbox's awaited)."""
    if inspect.isawaitable(done):
        await done


def received(env: BotEnv, chat_id: int) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", c.params.get("text", ""))
        for c in env.api.calls
        if c.method == "sendMessage" and c.params.get("chat_id") == chat_id
    ]


async def round_and_delivery(env: BotEnv) -> None:
    """A polling round as the running bot does it, then the delivery loop."""
    poll = env.app.bot_data[notification_jobs.POLL_KEY]
    await poll.wait()  # a round the poll job may have started
    poll.kick(lambda: None)
    await poll.wait()
    services = env.app.bot_data["services"]
    await deliver_due(env.app.bot, services.notifications, env.clock)


async def news(env: BotEnv, chat_id: int) -> list[str]:
    before = len(received(env, chat_id))
    await round_and_delivery(env)
    return received(env, chat_id)[before:]


async def link_then_log_out(system: System, account: Any = PERSON, user_id: int = 555001) -> int:
    chat = system.env.chat(user_id)
    await chat.send("/start")
    await chat.send(account.document)
    calls = await chat.send(account.password)
    contacts = [data for call in calls for _, data in call.buttons if data.startswith("link:c")]
    assert contacts, shown(calls)
    assert "Cadastro vinculado com sucesso" in shown(await chat.press(contacts[0]))
    await chat.send("/sair")
    return chat.user_id


async def expected_codes(system: System) -> tuple[str, str | None]:
    """The linha digitável and PIX the subscriber's own screen shows for the invoice now."""
    backend = system.env.app.bot_data["raw_backend"]
    session = await backend.login(PERSON.document, PERSON.password)
    invoice = await backend.get_invoice(session, system.invoice_id)
    await backend.logout(session)
    return invoice.linha_digitavel or "", invoice.pix_code


async def test_a_linked_chat_gets_every_notice_once_after_logout(
    system: System, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    env = system.env
    chat_id = await link_then_log_out(system)
    store = env.app.bot_data["services"].notifications
    link = await store.get_link(chat_id)
    assert link is not None and link.has_reference

    env.clock.now = at("2026-12-07")  # D-3 of the invoice due on 10/12/2026
    sent = await news(env, chat_id)
    reminder = [t for t in sent if "10/12/2026" in t]
    assert len(reminder) == 1 and "vence em 3 dias" in reminder[0], sent
    linha, pix = await expected_codes(system)
    assert format_linha_digitavel(linha) in sent and (pix is None or pix in sent)

    await env.launch()  # a restart: nothing is sent again
    assert await news(env, chat_id) == []

    for day, words in (
        ("2026-12-10", "vence hoje (10/12/2026)"),
        ("2026-12-11", "em aberto há 1 dia"),
        ("2026-12-15", "em aberto há 5 dias"),
    ):
        env.clock.now = at(day)
        sent = await news(env, chat_id)
        assert sum(words in t for t in sent) == 1, (day, sent)
        linha, pix = await expected_codes(system)  # overdue: the updated 2ª via's codes
        assert format_linha_digitavel(linha) in sent and (pix is None or pix in sent), day
        assert await news(env, chat_id) == []  # the next poll: nothing twice

    await act(system.pay(system.invoice_id, local_time(env.clock()).date()))
    env.clock.advance(hours=1)
    sent = await news(env, chat_id)
    assert sum("Pagamento" in t or "pagamento" in t for t in sent) == 1, sent

    await act(system.answer("Seu técnico chega amanhã às 9h."))
    env.clock.advance(minutes=10)
    sent = await news(env, chat_id)
    assert sum("Seu técnico chega amanhã às 9h." in t for t in sent) == 1, sent

    await env.launch()
    assert await news(env, chat_id) == []
    # The feed reference (SGP: the CPF) is never logged, nor the password.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "31845672062" not in logged and PERSON.password not in logged


async def test_a_provider_failing_mid_round_resumes_it_and_repeats_nothing(
    system: System,
) -> None:
    env = system.env
    chat_id = await link_then_log_out(system)
    env.clock.now = at("2026-12-11")
    poll = env.app.bot_data[notification_jobs.POLL_KEY]
    # The system answers slowly, then fails: the round pauses where it was.
    system.standin.fail(system.fault_path, Fault(sleep=0.3, status=503, times=3))
    poll.kick(lambda: None)
    await poll.wait()
    position = await RoundStore(env.engine).get(ROUND)
    assert position is not None  # stopped mid-round, position kept
    await env.launch()  # the bot restarted meanwhile (a new process: no back-off pending)
    sent = await news(env, chat_id)
    assert sum("em aberto há 1 dia" in t for t in sent) == 1, sent
    assert await RoundStore(env.engine).get(ROUND) is None
    assert await news(env, chat_id) == []


class Killed(BaseException):
    """The process dies (nothing after this point runs)."""


async def test_a_crash_between_sent_and_recorded_sends_nothing_twice(system: System) -> None:
    env = system.env
    chat_id = await link_then_log_out(system)
    env.clock.now = at("2026-12-07")
    store = env.app.bot_data["services"].notifications

    async def killed(*_: Any, **__: Any) -> None:
        raise Killed  # Telegram has the message; the outbox never hears of it

    store.part_sent = killed
    with pytest.raises(Killed):
        await round_and_delivery(env)
    assert sum("vence em 3 dias" in t for t in received(env, chat_id)) == 1

    await env.launch()  # the restart finds the row mid-send: uncertain, never sent again
    assert await news(env, chat_id) == []
    statuses = await env.app.bot_data["services"].notifications.count_by_status()
    assert statuses.get("uncertain") == 1 and statuses.get("sending", 0) == 0

    env.clock.now = at("2026-12-10")  # the next reminder is a new notice: it goes out whole
    sent = await news(env, chat_id)
    assert sum("vence hoje (10/12/2026)" in t for t in sent) == 1, sent
