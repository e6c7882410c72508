"""Alterar Vencimento and its e-mails, through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from backend_client.errors import Rejected
from bot.services import mailer
from bot.settings import Settings, SettingsError
from bot.storage.outbox import OutboxRepository
from bot.ui import texts
from tests.support.billing import copy_values
from tests.support.bot_env import COMPANY, PERSON, TOKEN, BotEnv, Clock, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown

BILLING = "financeiro@conectavale.example.com"
SENDER = "Minha Central <central@conectavale.example.com>"
PROTOCOL = re.compile(r"\d{14}")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every message it accepts."""

    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.recorder = Recorder()
        self._controller = Controller(self.recorder, hostname="127.0.0.1", port=port)

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SmtpServer]:
    server = SmtpServer(smtp_port)
    server.start()
    yield server
    server.stop()


def use_smtp(env: BotEnv, port: int) -> None:
    """Configure the running bot for the SMTP server on ``port`` (plain, no STARTTLS)."""
    services = env.app.bot_data["services"]
    services.settings = replace(
        services.settings,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_from=SENDER,
        billing_email=BILLING,
    )


async def _ask_for_day_15(chat: ChatDriver) -> list[Any]:
    await login(chat, PERSON)
    calls = await chat.press("menu:due_day")
    said = shown(calls)
    assert "Contrato 2023/0153 — Fibra 300 Mega" in said
    assert "Vencimento atual: dia 10" in said
    assert [label for label, _ in calls[-1].buttons][:4] == ["Dia 5", "Dia 15", "Dia 20", "Dia 25"]
    calls = await chat.tap("Dia 15")
    said = shown(calls)
    assert "dia 10 → novo vencimento: dia 15" in said
    assert "proporcional (pro rata)" in said
    assert [label for label, _ in calls[-1].buttons] == ["✅ Concordo", "⬅️ Voltar", "⬅️ Menu"]
    return await chat.tap("Concordo")


async def test_request_is_e_mailed_to_billing_and_to_the_subscriber(
    env: BotEnv, chat: ChatDriver, smtp: SmtpServer
) -> None:
    use_smtp(env, smtp.port)
    calls = await _ask_for_day_15(chat)
    said = shown(calls)
    assert "Pedido registrado: vencimento para o dia 15" in said
    assert "financeiro do provedor e uma cópia para maria.santos@example.com" in said
    (protocol,) = copy_values(calls)
    assert PROTOCOL.fullmatch(protocol)
    assert calls[-1].params["text"] == f"<code>{protocol}</code>"

    provider, subscriber = smtp.received
    assert provider.rcpt_tos == [BILLING] and provider.message["To"] == BILLING
    assert provider.mail_from == "central@conectavale.example.com"
    assert provider.message["From"] == SENDER
    assert provider.message["Reply-To"] == "maria.santos@example.com"
    assert protocol in provider.message["Subject"] and "dia 15" in provider.message["Subject"]
    assert f"Protocolo: {protocol}" in provider.body
    assert "Novo vencimento pedido: dia 15" in provider.body
    assert "Vencimento atual: dia 10" in provider.body
    assert "Maria Aparecida dos Santos" in provider.body and "318.456.720-62" in provider.body
    assert "pro rata" in provider.body

    assert subscriber.message["To"] == "maria.santos@example.com"
    assert subscriber.rcpt_tos == ["maria.santos@example.com"]
    assert protocol in subscriber.message["Subject"]
    assert f"Protocolo: {protocol}" in subscriber.body and "dia 15" in subscriber.body
    assert await OutboxRepository(env.engine).pending_count() == 0


async def test_subscriber_without_e_mail_gets_no_copy(
    env: BotEnv, chat: ChatDriver, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_smtp(env, smtp.port)
    original = env.backend.get_subscriber  # type: ignore[union-attr]

    async def without_email(session: Any) -> Any:
        return replace(await original(session), email=None)

    monkeypatch.setattr(env.backend, "get_subscriber", without_email)
    calls = await _ask_for_day_15(chat)
    said = shown(calls)
    assert "Enviamos o pedido por e-mail ao financeiro do provedor." in said
    assert "cópia" not in said
    (provider,) = smtp.received
    assert provider.rcpt_tos == [BILLING] and provider.message["Reply-To"] is None
    assert "E-mail do assinante: não informado" in provider.body


async def test_without_smtp_the_request_stands_and_the_provider_confirms(
    env: BotEnv, chat: ChatDriver
) -> None:
    calls = await _ask_for_day_15(chat)
    said = shown(calls)
    assert "Pedido registrado: vencimento para o dia 15" in said
    assert "O provedor vai analisar e confirmar" in said
    assert "e-mail" not in said
    (protocol,) = copy_values(calls)
    assert PROTOCOL.fullmatch(protocol)
    assert await OutboxRepository(env.engine).all() == []


async def test_smtp_down_request_stands_and_the_outbox_delivers_later(
    env: BotEnv, chat: ChatDriver, smtp_port: int, clock: Clock
) -> None:
    use_smtp(env, smtp_port)  # nothing listens there yet
    calls = await _ask_for_day_15(chat)
    said = shown(calls)
    assert "Pedido registrado no sistema do provedor" in said
    assert "não pôde ser enviado agora" in said and "reenviá-lo automaticamente" in said
    (protocol,) = copy_values(calls)
    outbox = OutboxRepository(env.engine)
    stored = await outbox.all()
    assert [s.recipients for s in stored] == [(BILLING,), ("maria.santos@example.com",)]
    assert all(s.attempts == 1 and s.sent_at is None and s.last_error for s in stored)

    server = SmtpServer(smtp_port)
    server.start()
    try:
        # Not due yet (backoff): nothing is sent.
        assert await mailer.retry_outbox(env.app) == 0
        assert server.received == []
        clock.advance(minutes=6)
        assert await mailer.retry_outbox(env.app) == 2
        assert {r.message["To"] for r in server.received} == {BILLING, "maria.santos@example.com"}
        assert all(protocol in r.message["Subject"] for r in server.received)
        assert all("dia 15" in r.body for r in server.received)
        # Delivered once: another pass sends nothing again.
        clock.advance(minutes=30)
        assert await mailer.retry_outbox(env.app) == 0
        assert len(server.received) == 2
    finally:
        server.stop()
    assert await outbox.pending_count() == 0
    assert all(s.sent_at is not None and s.attempts == 2 for s in await outbox.all())


async def test_outbox_backs_off_and_gives_up_after_bounded_attempts(
    env: BotEnv, chat: ChatDriver, smtp_port: int, clock: Clock
) -> None:
    use_smtp(env, smtp_port)
    await _ask_for_day_15(chat)
    outbox = OutboxRepository(env.engine)
    waits = []
    for _ in range(mailer.MAX_ATTEMPTS + 3):
        before = clock.now
        pending = [s for s in await outbox.all() if s.abandoned_at is None]
        if not pending:
            break
        waits.append(pending[0].next_attempt_at - before)
        clock.now = pending[0].next_attempt_at
        await mailer.retry_outbox(env.app)
    stored = await outbox.all()
    assert all(s.abandoned_at is not None and s.sent_at is None for s in stored)
    assert all(s.attempts == mailer.MAX_ATTEMPTS for s in stored)
    # Exponential backoff, capped.
    assert waits[:4] == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert max(waits) == mailer.MAX_BACKOFF
    assert await outbox.pending_count() == 0


async def test_retry_job_is_registered(env: BotEnv) -> None:
    jobs = env.app.job_queue.get_jobs_by_name(mailer.OUTBOX_JOB)
    assert len(jobs) == 1
    mailer.schedule_outbox_retries(env.app)  # idempotent
    assert len(env.app.job_queue.get_jobs_by_name(mailer.OUTBOX_JOB)) == 1


async def test_company_picks_a_contract_and_forged_ids_are_refused(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat, COMPANY)
    calls = await chat.press("menu:due_day")
    labels = [label for label, _ in calls[-1].buttons]
    assert labels[:2] == [
        "2022/0087 · Fibra Empresarial 600 Mega · dia 15",
        "2025/0233 · Fibra Empresarial 1 Giga + IP fixo · dia 15",
    ]
    calls = await chat.press("venc:contract:c1")  # Maria's contract
    assert texts.NOT_FOUND in shown(calls)
    calls = await chat.tap("2025/0233")
    assert "Contrato 2025/0233" in shown(calls)
    assert ("⬅️ Contratos", "venc:contracts") in calls[-1].buttons
    # A day the provider does not offer (or the current one) is refused politely.
    for forged in ("venc:day:7", "venc:day:15", "venc:day:x"):
        calls = await chat.press(forged)
        assert methods(calls)[0] == "answerCallbackQuery"
        assert "Esse dia não está disponível" in chat.screen()
    calls = await chat.tap("Dia 25")
    assert "novo vencimento: dia 25" in shown(calls)
    calls = await chat.tap("Voltar")
    assert "Escolha o novo dia de vencimento" in shown(calls)
    calls = await chat.tap("Dia 5")
    calls = await chat.tap("Concordo")
    assert "vencimento para o dia 5" in shown(calls)
    # The request is over: its buttons are stale now.
    calls = await chat.press("venc:agree")
    assert texts.BUTTON_EXPIRED in shown(calls)
    assert copy_values(calls) == []


async def test_backend_down_at_agreeing_keeps_the_choice(env: BotEnv, chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:due_day")
    await chat.tap("Dia 20")
    env.backend.outage = True  # type: ignore[union-attr]
    calls = await chat.tap("Concordo")
    assert "não respondeu" in shown(calls)
    assert copy_values(calls) == []
    env.backend.outage = False  # type: ignore[union-attr]
    calls = await chat.tap("Concordo")
    assert "vencimento para o dia 20" in shown(calls)
    assert len(copy_values(calls)) == 1


async def test_provider_refusal_goes_back_to_the_days(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*_: object) -> None:
        raise Rejected("Já existe um pedido de alteração em análise para este contrato.")

    await login(chat, PERSON)
    await chat.press("menu:due_day")
    await chat.tap("Dia 20")
    monkeypatch.setattr(env.backend, "request_due_day_change", refuse)
    calls = await chat.tap("Concordo")
    said = shown(calls)
    assert "Já existe um pedido de alteração em análise" in said
    assert "Escolha o novo dia de vencimento" in said
    assert copy_values(calls) == [] and "sendMessage" not in methods(calls)


async def test_menu_mid_flow(chat: ChatDriver) -> None:
    await login(chat, PERSON)
    await chat.press("menu:due_day")
    await chat.tap("Dia 20")
    calls = await chat.send("/cancelar")
    assert "cancelei" in shown(calls)
    calls = await chat.press("venc:agree")
    assert texts.BUTTON_EXPIRED in shown(calls)


# --- configuration ----------------------------------------------------------------------------
def test_smtp_settings_are_read_and_the_password_is_not_shown() -> None:
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "SMTP_HOST": "smtp.conectavale.example.com",
            "SMTP_PORT": "2525",
            "SMTP_USERNAME": "central",
            "SMTP_PASSWORD": " s3cr3t ",
            "SMTP_STARTTLS": "false",
            "SMTP_FROM": SENDER,
            "BILLING_EMAIL": BILLING,
        },
        env_file=None,
    )
    assert settings.email_enabled and settings.smtp_port == 2525
    assert settings.smtp_starttls is False and settings.smtp_password == " s3cr3t "
    assert "s3cr3t" not in repr(settings)
    defaults = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    assert not defaults.email_enabled
    assert defaults.smtp_port == 587 and defaults.smtp_starttls is True


def test_smtp_problems_are_named() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "SMTP_HOST": "smtp://mail.example.com",
                "SMTP_PORT": "99999",
                "SMTP_STARTTLS": "maybe",
                "SMTP_USERNAME": "central",
            },
            env_file=None,
        )
    message = str(raised.value)
    for expected in (
        "SMTP_HOST must be a host name",
        "SMTP_PORT must be a port number",
        "SMTP_STARTTLS must be true or false",
        "SMTP_USERNAME and SMTP_PASSWORD must be set together",
        "SMTP_FROM is missing",
        "BILLING_EMAIL is missing",
    ):
        assert expected in message
    with pytest.raises(SettingsError, match="BILLING_EMAIL must be one e-mail address"):
        Settings.from_env(
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "SMTP_HOST": "mail.example.com",
                "SMTP_FROM": "central@example.com",
                "BILLING_EMAIL": "a@example.com, b@example.com",
            },
            env_file=None,
        )
