"""The login lockout is exact whatever the concurrency, and fails closed (issue 17, defects 1, 7).

At most 5 password checks of a document (and of a chat) reach the backend within 15 minutes:
many chats at once in one process, and two processes (two engines) sharing the database.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from typing import Any

import pytest
from sqlalchemy import text

from bot.services.login_guard import (
    DOCUMENT_HASH_PURPOSE,
    LockedOut,
    LockoutUnavailable,
    LoginGuard,
)
from bot.storage import login_failures
from bot.storage.db import create_engine
from bot.storage.login_failures import LoginFailureRepository
from bot.ui import texts
from tests.support.bot_env import COMPANY, PERSON, BotEnv, Clock
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown
from tests.support.fake_telegram import Call
from tests.support.postgres import hold_write_lock

pytestmark = pytest.mark.both_databases


def _checks(env: BotEnv, monkeypatch: pytest.MonkeyPatch, delay: float = 0.3) -> list[str]:
    """The passwords that reach the backend, each answered only after ``delay`` (so that every
    chat of a burst has tried before the first answer)."""
    checked: list[str] = []
    assert env.backend is not None
    real_login = env.backend.login

    async def login(document: str, password: str) -> Any:
        checked.append(password)
        await asyncio.sleep(delay)
        return await real_login(document, password)

    monkeypatch.setattr(env.backend, "login", login)
    return checked


def _key(env: BotEnv) -> bytes:
    """The documents' hash key of the running bot: another process has the same settings."""
    return env.app.bot_data["services"].login_guard._key  # type: ignore[no-any-return]


def _of(chat: ChatDriver, calls: list[Call]) -> list[Call]:
    return [c for c in calls if str(c.params.get("chat_id")) == str(chat.user_id)]


async def _failures(env: BotEnv, prefix: str) -> int:
    async with env.engine.connect() as connection:
        return (
            await connection.execute(
                text("SELECT count(*) FROM login_failures WHERE scope LIKE :p AND NOT pending"),
                {"p": prefix + "%"},
            )
        ).scalar_one()


async def _at_password_step(env: BotEnv, user_ids: range, document: str) -> list[ChatDriver]:
    chats = [env.chat(user_id) for user_id in user_ids]
    for chat in chats:
        await chat.send("/start")
        assert "senha" in shown(await chat.send(document))
    return chats


async def test_fifteen_parallel_chats_with_one_cnpj_reach_the_backend_five_times(
    env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """14 wrong passwords at once, then the right one while they are being checked."""
    chats = await _at_password_step(env, range(81001, 81016), COMPANY.document)
    checked = _checks(env, monkeypatch)

    async def right_one_after_the_others() -> list[Call]:
        await asyncio.sleep(0.1)  # the backend answers the first checks after 0.3 s
        return await chats[-1].send(COMPANY.password)

    before = len(env.api.calls)
    await asyncio.gather(
        *(chat.send("wrong-password") for chat in chats[:-1]), right_one_after_the_others()
    )
    calls = env.api.calls[before:]

    assert checked == ["wrong-password"] * 5
    said = shown(_of(chats[-1], calls))
    assert "bloqueado até" in said and "Você entrou" not in said
    assert await _failures(env, "doc:") == 5
    assert not [chat for chat in chats if "Você entrou" in shown(_of(chat, calls))]
    # …and the document stays locked for everyone, the right password included.
    late = env.chat(81099)
    await late.send("/start")
    assert "bloqueado até" in shown(await late.send(COMPANY.document))
    assert len(checked) == 5


async def test_fifteen_parallel_chats_in_any_order_reach_the_backend_five_times(
    env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All 15 at once: whichever 5 come first are checked, the others are refused unchecked."""
    chats = await _at_password_step(env, range(81101, 81116), COMPANY.document)
    checked = _checks(env, monkeypatch)
    passwords = ["wrong-password"] * 14 + [COMPANY.password]

    before = len(env.api.calls)
    await asyncio.gather(
        *(chat.send(password) for chat, password in zip(chats, passwords, strict=True))
    )
    calls = env.api.calls[before:]

    assert len(checked) == 5
    entered = [chat for chat in chats if "Você entrou" in shown(_of(chat, calls))]
    if COMPANY.password in checked:
        assert entered == [chats[-1]]
    else:
        assert entered == []
        assert "bloqueado até" in shown(_of(chats[-1], calls))
        assert await _failures(env, "doc:") == 5


async def test_twelve_parallel_wrong_passwords_are_five_checks_recorded(
    env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    chats = await _at_password_step(env, range(82001, 82013), PERSON.document)
    checked = _checks(env, monkeypatch)

    before = len(env.api.calls)
    await asyncio.gather(*(chat.send("wrong-password") for chat in chats))
    calls = env.api.calls[before:]

    assert len(checked) == 5
    assert await _failures(env, "doc:") == 5
    locked = [chat for chat in chats if "bloqueado até" in shown(_of(chat, calls))]
    # Five checks failed or in flight already lock: every chat is told so, none is asked again.
    assert len(locked) == 12


async def test_one_chat_is_locked_after_five_checks_whatever_the_documents(
    env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = env.chat(83001)
    checked = _checks(env, monkeypatch, delay=0)
    for document in [PERSON.document, COMPANY.document] * 3:
        await chat.send("/start")
        if "bloqueado até" in shown(await chat.send(document)):
            break
        await chat.send("wrong-password")
    assert len(checked) == 5
    assert await _failures(env, f"chat:{chat.user_id}") == 5


async def test_two_processes_sharing_the_database_reserve_five_checks_in_all(
    env: BotEnv, clock: Clock
) -> None:
    """Two engines are two processes: neither shares Python locks with the other."""
    other_engine = create_engine(env.settings.database_url)
    try:
        guards = [
            LoginGuard(LoginFailureRepository(env.engine), clock, _key(env)),
            LoginGuard(LoginFailureRepository(other_engine), clock, _key(env)),
        ]

        async def try_once(index: int) -> bool:
            try:
                await guards[index % 2].reserve(90000 + index, PERSON.document)
            except LockedOut:
                return False
            return True

        granted = await asyncio.gather(*(try_once(index) for index in range(12)))
        assert sum(granted) == 5
        # The checks in flight hold the document from any process until they are answered.
        with pytest.raises(LockedOut):
            await guards[1].reserve(91000, PERSON.document)
    finally:
        await other_engine.dispose()


async def test_a_right_password_after_five_reserved_checks_is_not_checked(
    env: BotEnv, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five checks still in flight (say, in another process) already refuse a sixth."""
    chat = env.chat(84100)
    await chat.send("/start")
    assert "senha" in shown(await chat.send(PERSON.document))
    other_process = LoginGuard(LoginFailureRepository(env.engine), clock, _key(env))
    for index in range(5):
        await other_process.reserve(84000 + index, PERSON.document)
    checked = _checks(env, monkeypatch, delay=0)
    calls = await chat.send(PERSON.password)
    assert checked == []
    assert "bloqueado até" in shown(calls)


# --- the database locked: fail closed -------------------------------------------------------


async def test_with_the_database_locked_a_password_is_refused_unchecked(
    env: BotEnv, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(login_failures, "LOCK_WAIT", 0.2)
    checked = _checks(env, monkeypatch, delay=0)
    await chat.send("/start")
    await chat.send(PERSON.document)

    lock = hold_write_lock(env.settings.database_url, "login_scopes")
    await lock.__anext__()
    try:
        calls = await chat.send(PERSON.password)
    finally:
        await lock.aclose()

    assert checked == []
    said = shown(calls)
    assert texts.LOGIN_CHECK_UNAVAILABLE in said
    assert "Você entrou" not in said
    assert "deleteMessage" in [c.method for c in calls]  # the password is still deleted
    # Once the database answers again, the same chat logs in.
    calls = await chat.send(PERSON.password)
    assert "Você entrou" in shown(calls)
    assert checked == [PERSON.password]


async def test_the_guard_raises_instead_of_granting_when_it_cannot_reserve(
    env: BotEnv, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(login_failures, "LOCK_WAIT", 0.2)
    guard = LoginGuard(LoginFailureRepository(env.engine), clock, _key(env))
    lock = hold_write_lock(env.settings.database_url, "login_scopes")
    await lock.__anext__()
    try:
        with pytest.raises(LockoutUnavailable):
            await guard.reserve(85000, PERSON.document)
    finally:
        await lock.aclose()


# --- documents hashed with a key (defect 4) ------------------------------------------------


async def test_failure_rows_hold_no_plain_hash_of_the_document(
    env: BotEnv, chat: ChatDriver
) -> None:
    """A plain SHA-256 of a CPF is reversed by trying the 10^9 candidates: the rows hold an
    HMAC under a key derived from ENCRYPTION_KEY, and no form of the document."""
    await chat.send("/start")
    await chat.send(PERSON.document)
    await chat.send("wrong-password")
    async with env.engine.connect() as connection:
        scopes = (await connection.execute(text("SELECT scope FROM login_failures"))).scalars()
        scopes = list(scopes)
    assert f"chat:{chat.user_id}" in scopes
    (document_scope,) = [scope for scope in scopes if scope.startswith("doc:")]
    digits = "".join(ch for ch in PERSON.document if ch.isalnum())
    plain = hashlib.sha256(digits.encode()).hexdigest()
    assert plain[:16] not in document_scope
    assert digits not in document_scope
    key = _key(env)
    assert document_scope == "doc:" + hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()
    # Another key (another installation, or after a rotation) gives another hash.
    other = LoginGuard(LoginFailureRepository(env.engine), env.clock, b"k" * 32)
    assert await other.locked_until(chat.user_id + 1, PERSON.document) is None
    with pytest.raises(ValueError):
        LoginGuard(LoginFailureRepository(env.engine), env.clock, b"")


def test_the_hash_key_comes_from_the_encryption_key_and_a_purpose() -> None:
    from cryptography.fernet import Fernet

    from bot.storage.encryption import SecretBox

    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    box = SecretBox([first, second])
    derived = box.derive(DOCUMENT_HASH_PURPOSE)
    assert len(derived) == 32
    assert derived == SecretBox([first]).derive(DOCUMENT_HASH_PURPOSE)  # the first key decides
    assert derived != SecretBox([second, first]).derive(DOCUMENT_HASH_PURPOSE)
    assert derived != box.derive("another purpose")
    assert base64.urlsafe_b64decode(first) not in derived
