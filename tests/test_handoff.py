"""Hand-off to the provider's team (issue 22), over the local Bot API's forum supergroup: the
subscriber's topic and card, both ways with a photo, the team's /encerrar, out of hours, no
reply in time, a restart mid-hand-off, and the password never reaching the group."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.services import sessions
from bot.settings import Settings
from bot.support import texts as st
from bot.support.handoff import add_ended_listener, store_of
from bot.support.relay import offer_tickets
from bot.ui.formatting import plain_text
from tests.support.bot_env import PERSON, BotEnv, login, settings_with_provider_file
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown

GROUP = -1009876543210
ANA, BETO, CARLA = 91001, 91002, 91003
_updates = itertools.count(900000)

PROVIDER_FILE = f"""
[provider]
name = "Net Exemplo"

[support]
chat_id = {GROUP}
hours = ["seg-sex 08:00-18:00", "sáb 08:00-12:00"]
reply_timeout_minutes = 10
"""


@pytest.fixture
def settings(tmp_path: Path, bot_database_url: str) -> Settings:
    return settings_with_provider_file(tmp_path, bot_database_url, PROVIDER_FILE)


@pytest.fixture
def group(env: BotEnv) -> Any:
    api = env.api.api
    api.open_forum(
        GROUP,
        "Atendimento Net Exemplo",
        admins={ANA: "Ana", CARLA: "Carla"},
        members={BETO: "Beto"},
    )
    return api


async def team_says(env: BotEnv, user_id: int, thread_id: int, **fields: Any) -> None:
    """A team member writes in the topic; the bot gets the update."""
    api = env.api.api
    message = await api.team_member(GROUP, user_id).post(thread_id, **fields)
    data = {"update_id": next(_updates), "message": api.message_json(GROUP, message.message_id)}
    await env.app.process_update(Update.de_json(data, env.app.bot))


def in_topic(group: Any, thread_id: int) -> list[Any]:
    return [m for m in group.messages(GROUP) if m.message_thread_id == thread_id]


def group_text(group: Any) -> str:
    return "\n".join(m.text or m.caption or "" for m in group.messages(GROUP))


async def start(env: BotEnv, chat: ChatDriver, group: Any) -> int:
    await login(chat)
    calls = await chat.press("support:start")
    assert plain_text(st.QUEUED) in shown(calls)
    handoff = await store_of(env.app).current(chat.user_id)
    assert handoff is not None and handoff.status == "queued"
    return handoff.thread_id


@pytest.mark.both_databases
async def test_a_full_hand_off_both_ways_with_a_photo(
    env: BotEnv, chat: ChatDriver, group: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ended: list[Any] = []

    async def survey(application: Any, handoff: Any) -> None:
        ended.append(handoff)

    add_ended_listener(env.app, survey)
    thread = await start(env, chat, group)
    topic = group.topic(GROUP, thread)
    # Name, masked CPF, contract: never the whole document.
    assert PERSON.name in topic["name"] and "***." in topic["name"]
    digits = "".join(c for c in PERSON.document if c.isdigit())
    assert digits not in topic["name"].replace(".", "").replace("-", "")
    card = in_topic(group, thread)[0].text
    assert "Faturas em aberto" in card and "Contrato" in card and digits not in card

    await chat.send("minha internet caiu")
    await chat.send_photo(b"\xff\xd8router-photo", caption="as luzes")
    relayed = in_topic(group, thread)
    assert relayed[-2].text == "minha internet caiu"
    assert relayed[-1].photo is not None and relayed[-1].caption == "as luzes"
    assert relayed[-1].photo.content == b"\xff\xd8router-photo"

    before = len(env.api.calls)
    await team_says(env, ANA, thread, text="Oi! Vou verificar.")
    to_subscriber = [c for c in env.api.calls[before:] if c.params.get("chat_id") == chat.user_id]
    said = shown(to_subscriber)
    assert "Ana está te atendendo." in said and "Oi! Vou verificar." in said
    photo = group.new_file(b"\xff\xd8diagram", None, "image/jpeg")
    before = len(env.api.calls)
    await team_says(env, ANA, thread, photo=photo, caption="reinicie assim")
    sent = [c for c in env.api.calls[before:] if c.method == "sendPhoto"]
    assert sent and sent[0].params["chat_id"] == chat.user_id
    assert sent[0].params["caption"] == "reinicie assim"
    before = len(env.api.calls)
    await team_says(env, CARLA, thread, text="eu também ajudo")  # Ana took the chat
    assert not [c for c in env.api.calls[before:] if c.params.get("chat_id") == chat.user_id]
    assert "Ana já está atendendo" in group_text(group)

    calls = await chat.press("support:end")
    assert plain_text(st.ENDED_BY_SUBSCRIBER) in shown(calls)
    assert group.topic_closed(GROUP, thread)
    assert len(ended) == 1 and ended[0].ended_by == "subscriber"
    # Recorded as a ticket in the provider's system, too.
    assert ended[0].ticket_id
    backend = env.app.bot_data["services"].backend
    session = sessions.current(env.app.chat_data[chat.user_id])
    ticket = await backend.get_ticket(session, ended[0].ticket_id)
    recorded = " ".join(m.text for m in ticket.messages)
    assert "minha internet caiu" in recorded and "Ana: Oi! Vou verificar." in recorded
    lines = await store_of(env.app).lines(ended[0].id)
    assert [(line.author, line.kind) for line in lines] == [
        ("subscriber", "text"), ("subscriber", "photo"), ("team", "text"), ("team", "photo"),
    ]  # fmt: skip
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert digits not in logged and PERSON.password not in logged
    # The next hand-off reuses (reopens) the subscriber's topic.
    await chat.press("support:start")
    assert (await store_of(env.app).current(chat.user_id)).thread_id == thread  # type: ignore[union-attr]
    assert not group.topic_closed(GROUP, thread)


async def test_the_team_ends_with_encerrar_and_only_admins_answer(
    env: BotEnv, chat: ChatDriver, group: Any
) -> None:
    thread = await start(env, chat, group)
    before = len(env.api.calls)
    await team_says(env, BETO, thread, text="posso ajudar?")
    assert not [c for c in env.api.calls[before:] if c.params.get("chat_id") == chat.user_id]
    assert plain_text(st.TEAM_ADMINS_ONLY) in group_text(group)
    before = len(env.api.calls)
    await team_says(env, ANA, thread, text="/encerrar")
    said = shown([c for c in env.api.calls[before:] if c.params.get("chat_id") == chat.user_id])
    assert plain_text(st.ENDED_BY_TEAM) in said
    assert group.topic_closed(GROUP, thread)
    assert await store_of(env.app).current(chat.user_id) is None
    calls = await chat.send("oi")  # the screens take text again
    assert "oi" not in [m.text for m in in_topic(group, thread)]
    assert calls


async def test_out_of_hours_a_ticket_is_offered(env: BotEnv, chat: ChatDriver, group: Any) -> None:
    await login(chat)
    env.clock.advance(hours=3)  # Saturday 13:00 in São Paulo: closed
    calls = await chat.press("support:start")
    said = shown(calls)
    assert "fora do horário" in said and "seg-sex 08:00-18:00" in said
    assert any(data == "tk:new" for call in calls for _, data in call.buttons)
    assert not group.messages(GROUP)
    calls = await chat.press("tk:new")  # the ticket flow opens
    assert calls


async def test_no_reply_in_time_offers_a_ticket_with_what_was_written(
    env: BotEnv, chat: ChatDriver, group: Any
) -> None:
    thread = await start(env, chat, group)
    await chat.send("estou sem internet desde ontem")
    env.clock.advance(minutes=9)
    before = len(env.api.calls)
    await offer_tickets(_JobContext(env.app))  # type: ignore[arg-type]
    assert not env.api.calls[before:]
    env.clock.advance(minutes=2)
    await offer_tickets(_JobContext(env.app))  # type: ignore[arg-type]
    assert plain_text(st.NO_REPLY) in shown(env.api.calls[before:])
    before = len(env.api.calls)
    await offer_tickets(_JobContext(env.app))  # type: ignore[arg-type]
    assert not env.api.calls[before:]  # offered once
    calls = await chat.press("support:ticket")
    said = shown(calls)
    assert "Chamado aberto, protocolo" in said
    handoff = (await store_of(env.app).listing())[0]
    assert handoff.status == "ended" and handoff.ticket_id
    backend = env.app.bot_data["services"].backend
    session = sessions.current(env.app.chat_data[chat.user_id])
    ticket = await backend.get_ticket(session, handoff.ticket_id)
    assert "estou sem internet desde ontem" in " ".join(m.text for m in ticket.messages)
    assert "protocolo" in group_text(group) and group.topic_closed(GROUP, thread)


@pytest.mark.both_databases
async def test_a_restart_mid_hand_off_loses_nothing(
    env: BotEnv, chat: ChatDriver, group: Any
) -> None:
    thread = await start(env, chat, group)
    await chat.send("primeira")
    await team_says(env, ANA, thread, text="resposta 1")
    await env.launch()  # the bot restarts
    chat = env.chat()
    await chat.send("segunda")
    await team_says(env, ANA, thread, text="resposta 2")
    relayed = [m.text for m in in_topic(group, thread)][1:]
    assert [t for t in relayed if t in ("primeira", "segunda", "resposta 1", "resposta 2")] == [
        "primeira", "resposta 1", "segunda", "resposta 2",
    ]  # fmt: skip
    handoff = await store_of(env.app).current(chat.user_id)
    assert handoff is not None and handoff.agent_name == "Ana"
    lines = [line.text for line in await store_of(env.app).lines(handoff.id)]
    assert lines == ["primeira", "resposta 1", "segunda", "resposta 2"]


async def test_the_password_never_reaches_the_group(
    env: BotEnv, chat: ChatDriver, group: Any
) -> None:
    await login(chat)
    await chat.press("menu:password")  # Alterar Senha asks the current password
    calls = await chat.press("support:start")
    assert plain_text(st.NOT_FROM_PASSWORD) in shown(calls)
    assert not group.messages(GROUP)
    await chat.press("menu:home")
    thread = await start_logged_in(env, chat)
    await chat.press("menu:password")  # during the hand-off, the password step takes the text
    await chat.send(PERSON.password)
    assert PERSON.password not in group_text(group)
    assert in_topic(group, thread)


async def start_logged_in(env: BotEnv, chat: ChatDriver) -> int:
    await chat.press("support:start")
    handoff = await store_of(env.app).current(chat.user_id)
    assert handoff is not None
    return handoff.thread_id


class _JobContext:
    def __init__(self, application: Any) -> None:
        self.application = application


API_TOKEN = "a" * 32
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


async def test_the_admin_api_lists_hand_offs_with_their_messages(
    env: BotEnv, chat: ChatDriver, group: Any
) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.web import create_web_app

    thread = await start(env, chat, group)
    await chat.send("olá")
    await team_says(env, ANA, thread, text="oi, aqui é a Ana")
    await chat.press("support:end")
    app = create_web_app(env.app, admin_token=API_TOKEN)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        assert (await client.get("/admin/api/handoffs")).status == 401
        listing = await (await client.get("/admin/api/handoffs", headers=AUTH)).json()
        (handoff,) = listing["handoffs"]
        assert handoff["status"] == "ended" and handoff["agent_name"] == "Ana"
        assert handoff["ended_by"] == "subscriber"
        assert handoff["ticket_id"]  # recorded in the provider's system as well
        one = await (await client.get(f"/admin/api/handoffs/{handoff['id']}", headers=AUTH)).json()
        assert [(m["author"], m["text"]) for m in one["messages"]] == [
            ("subscriber", "olá"), ("team", "oi, aqui é a Ana"),
        ]  # fmt: skip
        assert (await client.get("/admin/api/handoffs/999", headers=AUTH)).status == 404
        bad = await client.get("/admin/api/handoffs?limit=0", headers=AUTH)
        assert bad.status == 400


async def test_the_menu_and_the_apology_offer_a_person(
    env: BotEnv, chat: ChatDriver, group: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend_client.errors import Unavailable

    await login(chat)
    calls = await chat.send("/menu")
    assert any(data == "support:start" for call in calls for _, data in call.buttons)

    async def unavailable(*args: Any, **kwargs: Any) -> None:
        raise Unavailable("down")

    monkeypatch.setattr(env.backend, "get_subscriber", unavailable)
    calls = await chat.press("menu:account")
    assert any(data == "support:start" for call in calls for _, data in call.buttons), shown(calls)
    calls = await chat.press("support:start")  # the card says the system did not answer
    assert plain_text(st.QUEUED) in shown(calls)
    assert "não respondeu: sem resumo" in group_text(group)


async def test_documents_go_both_ways_and_commands_still_reach_the_bot(
    env: BotEnv, chat: ChatDriver, group: Any
) -> None:
    thread = await start(env, chat, group)
    await chat.send_document(b"%PDF-1.4 fatura", "fatura.pdf", "application/pdf")
    relayed = in_topic(group, thread)[-1]
    assert relayed.document is not None and relayed.document.content == b"%PDF-1.4 fatura"
    calls = await chat.send("/menu")
    assert "/menu" not in [m.text for m in in_topic(group, thread)]
    assert any(data == "support:start" for call in calls for _, data in call.buttons)
    calls = await chat.press("support:start")
    assert plain_text(st.ALREADY) in shown(calls)
    manual = group.new_file(b"%PDF manual", "manual.pdf", "application/pdf")
    before = len(env.api.calls)
    await team_says(env, ANA, thread, document=manual)
    sent = [c for c in env.api.calls[before:] if c.method == "sendDocument"]
    assert sent and sent[0].params["chat_id"] == chat.user_id


async def test_asking_for_a_person_in_words_starts_the_hand_off(
    env: BotEnv, chat: ChatDriver, group: Any
) -> None:
    await login(chat)
    calls = await chat.send("quero falar com um atendente por favor")
    assert plain_text(st.QUEUED) in shown(calls)
    handoff = await store_of(env.app).current(chat.user_id)
    assert handoff is not None and handoff.status == "queued"
    assert group.topic(GROUP, handoff.thread_id)["name"].startswith(PERSON.name)
