"""Issue 17, defects 2 and 4: no secret or personal datum in any log line at any level, and the
secrets of a login (backend session token, CPF/CNPJ) encrypted at rest, with key rotation."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from telegram import Update

from backend_client.formats.documents import format_document
from bot import logs
from bot.cli import main
from bot.conversations import login as login_flow
from bot.services import sessions
from bot.settings import Settings, SettingsError
from bot.storage.db import create_engine
from bot.storage.encryption import SEALED, box_for, sandbox_key_file
from bot.storage.migrations import upgrade
from tests.support.bot_env import PERSON, TOKEN, BotEnv, login
from tests.support.driver import Call, ChatDriver
from tests.support.driver import texts as shown

DIGITS = PERSON.document  # 11 digits
FORMATTED = format_document(PERSON.document)
NOISY = ("telegram", "sqlalchemy", "apscheduler", "aiosqlite", "asyncio", "httpx", "httpcore")


class QueuedChat(ChatDriver):
    """Updates go through the Application's update queue, as polling and webhooks deliver
    them (PTB logs each one at DEBUG there)."""

    async def _process(self, data: dict[str, Any]) -> list[Call]:
        before = len(self.api.calls)
        await self.application.update_queue.put(Update.de_json(data, self.application.bot))
        await self.application.update_queue.join()  # task_done() once it is handled
        return self.api.calls[before:]


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything at DEBUG, our libraries' too, through the redactor the bot installs on the
    root handlers (configure_logging)."""
    caplog.set_level(logging.DEBUG)
    for name in NOISY:
        caplog.set_level(logging.DEBUG, logger=name)
    logs.install(caplog.handler)
    return caplog


def _raw_chat_ids(chat: ChatDriver) -> list[str]:
    return [str(chat.user_id)]


async def _stored(env: BotEnv) -> list[tuple[str, str, str]]:
    await env.app.update_persistence()
    async with env.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT kind, key, data FROM ptb_persistence"))).all()
    return [
        (kind, key, data if isinstance(data, str) else json.dumps(data)) for kind, key, data in rows
    ]


# --- defect 2: logs ------------------------------------------------------------------------------
async def test_a_login_and_flows_at_debug_log_no_secret_and_no_chat_id(
    env: BotEnv, debug_logs: pytest.LogCaptureFixture
) -> None:
    await env.launch()  # the Bot logs its API URL (with the token) when it is made
    chat = QueuedChat(env.app, env.api)
    await chat.send("/start")
    await chat.send(FORMATTED)
    calls = await chat.send(PERSON.password)
    assert "Maria" in shown(calls)
    await chat.press("link:later")
    session = sessions.current(env.app.chat_data[chat.user_id])
    assert session is not None
    await chat.press("menu:account")
    await chat.press("menu:home")
    await chat.press("menu:invoices")
    await chat.send("/menu")
    await chat.send("/sair")
    await env.app.update_persistence()

    logged = debug_logs.text
    # The capture really was at DEBUG, PTB's and SQLAlchemy's lines included.
    assert "Calling Bot API endpoint `sendMessage`" in logged
    assert "Processing update" in logged
    assert any(r.name.startswith("sqlalchemy") for r in debug_logs.records)
    for secret in (PERSON.password, DIGITS, FORMATTED, TOKEN, session.token):
        assert secret not in logged, secret
    for raw in _raw_chat_ids(chat):
        assert raw not in logged
    assert logs.chat_ref(chat.user_id) in logged  # observe.py's line, hashed


def test_ptb_payload_dumps_are_withheld(debug_logs: pytest.LogCaptureFixture) -> None:
    """The lines of telegram/_bot.py and telegram/ext/_application.py, as PTB 22.8 writes
    them, with what Telegram would answer getUpdates."""
    bot_logger = logging.getLogger("telegram.Bot")
    answer = [{"update_id": 7, "message": {"chat": {"id": 987654321}, "text": "demo1234"}}]
    bot_logger.debug("Set Bot API URL: %s", f"https://api.telegram.org/bot{TOKEN}")
    bot_logger.debug("Calling Bot API endpoint `%s` with parameters `%s`", "getUpdates", {})
    bot_logger.debug(
        "Call to Bot API endpoint `%s` finished with return value `%s`", "getUpdates", answer
    )
    logging.getLogger("telegram.ext.Application").debug("Processing update %s", answer[0])
    logging.getLogger("telegram.ext.ConversationHandler").debug(
        "Selecting conversation %s with state %s", str((987654321, 987654321)), 1
    )
    logging.getLogger("telegram.request.BaseRequest").error(
        'Can not load invalid JSON data: "%s"', '{"text": "demo1234", "chat": 987654321'
    )
    logging.getLogger("telegram.Bot").debug("Set Bot API URL: %s", "id 987654321")
    logged = debug_logs.text
    assert "demo1234" not in logged and TOKEN not in logged and "987654321" not in logged
    assert "Calling Bot API endpoint `getUpdates`" in logged  # the line stays, its data goes
    assert "Processing update (withheld)" in logged


def test_documents_tokens_and_secrets_are_masked_in_messages_and_tracebacks(
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    logs.secret_values(["integration-token-0123456789"])
    logger = logging.getLogger("bot.test")
    logger.info("document %s and %s, token %s", DIGITS, FORMATTED, TOKEN)
    logger.info("a CNPJ %s and 12.ABC.345/01DE-35 and a number 12345678901", "27481563000103")
    try:
        raise RuntimeError(f"failed for {FORMATTED} with integration-token-0123456789")
    except RuntimeError:
        logger.exception("save failed")
    logged = debug_logs.text
    for secret in (DIGITS, FORMATTED, TOKEN, "27481563000103", "12.ABC.345/01DE-35"):
        assert secret not in logged, secret
    assert "integration-token-0123456789" not in logged
    assert "318.***.***-62" in logged and "(redacted)" in logged
    assert "12345678901" in logged  # not a valid CPF: left alone


def test_configure_logging_installs_the_redactor_and_json_is_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        logs.configure_logging("DEBUG", "json")
        assert all(logs.REDACTOR in handler.filters for handler in root.handlers)
        try:
            raise ValueError(f"bad answer for bot{TOKEN}")
        except ValueError:
            logging.getLogger("telegram.Bot").exception("call failed for %s", DIGITS)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    written = capsys.readouterr().err
    assert "call failed" in written and "ValueError" in written
    assert TOKEN not in written and DIGITS not in written


@pytest.mark.both_databases
async def test_a_failed_database_write_logs_no_parameters(
    bot_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy")
    engine = create_engine(bot_database_url)
    await upgrade(engine)
    secret = {"session": {"token": "session-token-abcdef123456", "document": DIGITS}}
    insert = text("INSERT INTO ptb_persistence (kind, key, data) VALUES (:kind, :key, :data)")
    row = {"kind": "chat", "key": "1", "data": json.dumps(secret)}
    try:
        async with engine.begin() as connection:
            await connection.execute(insert, row)
        with pytest.raises(IntegrityError) as raised:
            async with engine.begin() as connection:
                await connection.execute(insert, row)  # the same key again
        logging.getLogger("bot.storage.persistence").error("save failed", exc_info=raised.value)
    finally:
        await engine.dispose()
    assert "hidden due to hide_parameters" in str(raised.value)
    for value in ("session-token-abcdef123456", DIGITS):
        assert value not in str(raised.value) and value not in caplog.text


# --- defect 4: secrets at rest --------------------------------------------------------------------
async def test_the_stored_chat_data_holds_no_session_token_and_no_document(
    env: BotEnv, chat: ChatDriver
) -> None:
    await chat.send("/start")
    await chat.send(FORMATTED)
    waiting = "\n".join(data for _, _, data in await _stored(env))
    assert DIGITS not in waiting and FORMATTED not in waiting  # the document typed at login
    assert SEALED in waiting
    await chat.send(PERSON.password)
    session = sessions.current(env.app.chat_data[chat.user_id])
    assert session is not None
    stored = "\n".join(data for _, _, data in await _stored(env))
    for secret in (session.token, DIGITS, FORMATTED, PERSON.password):
        assert secret not in stored
    # A restart reads it back: still logged in.
    await env.launch()
    calls = await env.chat().send("/menu")
    assert "O que você precisa?" in shown(calls)


async def test_rotation_old_key_reads_and_is_sealed_again_with_the_new_one(env: BotEnv) -> None:
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env.settings = replace(env.settings, encryption_keys=(key_a,))
    await env.launch()
    await login(env.chat())
    await env.launch()  # written with A

    env.settings = replace(env.settings, encryption_keys=(key_b, key_a))
    await env.launch()
    assert sessions.current(env.app.chat_data[555001]) is not None
    sealed = [json.loads(data) for kind, _, data in await _stored(env) if kind == "chat"]
    token = sealed[0]["session"][SEALED]
    assert Fernet(key_b).decrypt(token.encode())  # sealed again with B at start-up
    await env.launch()

    env.settings = replace(env.settings, encryption_keys=(key_b,))  # A retired
    await env.launch()
    calls = await env.chat().send("/menu")
    assert "O que você precisa?" in shown(calls)


async def test_a_session_stored_in_clear_is_read_once_and_sealed(env: BotEnv) -> None:
    await login(env.chat())
    clear = dict(env.app.chat_data[555001])
    session = sessions.current(clear)
    assert session is not None
    await env.stop()
    async with env.engine.begin() as connection:  # as versions before encryption stored it
        await connection.execute(
            text("UPDATE ptb_persistence SET data = :data WHERE kind = 'chat' AND key = '555001'"),
            {"data": json.dumps(clear)},
        )
    await env.launch()
    stored = "\n".join(data for _, _, data in await _stored(env))
    assert session.token not in stored and DIGITS not in stored and SEALED in stored
    calls = await env.chat().send("/menu")
    assert "O que você precisa?" in shown(calls)


async def test_a_session_no_key_opens_is_ended_cleanly(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    await login(env.chat())
    env.settings = replace(env.settings, encryption_keys=(Fernet.generate_key().decode(),))
    await env.launch()  # the sandbox's generated key is gone
    assert sessions.current(env.app.chat_data[555001]) is None
    assert "opens with none of the ENCRYPTION_KEY keys" in caplog.text
    assert "555001" not in caplog.text
    calls = await env.chat().send("/start")
    assert "CPF" in shown(calls)


def test_the_login_document_key_is_one_of_the_secrets() -> None:
    assert login_flow.DOCUMENT_KEY == sessions.LOGIN_DOCUMENT_KEY
    assert {sessions.SESSION_KEY, login_flow.DOCUMENT_KEY} == sessions.SECRET_KEYS


# --- ENCRYPTION_KEY ------------------------------------------------------------------------------
PRODUCTION = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "BACKEND": "sgp",
    "BACKEND_URL": "https://sgp.provedor.example",
    "BACKEND_TOKEN": "integration-token-value",
    "BACKEND_APP": "minhacentral",
}


def test_production_without_a_key_is_a_settings_error_naming_it() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(PRODUCTION, env_file=None)
    assert any(p.startswith("ENCRYPTION_KEY is missing") for p in raised.value.problems)
    key = Fernet.generate_key().decode()
    settings = Settings.from_env({**PRODUCTION, "ENCRYPTION_KEY": f" {key} , "}, env_file=None)
    assert settings.encryption_keys == (key,) and key not in repr(settings)


def test_a_bad_key_is_named_without_its_value() -> None:
    key = Fernet.generate_key().decode()
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**PRODUCTION, "ENCRYPTION_KEY": f"{key},not-a-key-xyz"}, env_file=None)
    message = str(raised.value)
    assert "ENCRYPTION_KEY: key 2 of 2 is not a Fernet key" in message
    assert "not-a-key-xyz" not in message and key not in message


def test_run_without_a_key_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert main(["run"]) == 2
    assert "ENCRYPTION_KEY is missing" in capsys.readouterr().err


def test_the_sandbox_generates_its_key_beside_its_database(tmp_path: Path) -> None:
    settings = Settings(
        telegram_bot_token=TOKEN,
        sandbox_database_url=f"sqlite+aiosqlite:///{tmp_path / 'minha-central-sandbox.db'}",
    )
    path = sandbox_key_file(settings)
    assert path == tmp_path / "minha-central-sandbox.key"
    first = box_for(settings)
    assert path.is_file() and (os.name != "posix" or path.stat().st_mode & 0o077 == 0)
    assert box_for(settings).open(first.seal("x")) == ("x", False)  # the same key again
    with pytest.raises(SettingsError, match="ENCRYPTION_KEY is missing"):
        box_for(replace(settings, backend="sgp"))


def test_a_staff_member_who_creates_a_broadcast_is_logged_hashed() -> None:
    from bot.broadcasts.service import _author_ref

    assert _author_ref("telegram:123456789") == "telegram:" + logs.chat_ref(123456789)
    assert _author_ref("api") == "api" and _author_ref("cli") == "cli"
