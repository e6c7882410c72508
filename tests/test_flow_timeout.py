"""A flow left idle ends politely: a step waiting for typing says so; a results screen does not."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import CallbackContext

from bot.conversations.timeouts import SWEEP_JOB, TimedConversation
from bot.settings import Settings
from tests.support.bot_env import PERSON, TOKEN, BotEnv, login
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return replace(
        Settings(
            telegram_bot_token=TOKEN,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            sandbox_database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}",
        ),
        flow_idle_timeout=timedelta(seconds=0.5),
    )


async def _asked_for_a_description(chat: ChatDriver) -> None:
    """Logged in, in a new ticket, at the step that waits for the problem's description."""
    await login(chat)
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    await chat.tap("Lentidão")


async def test_a_step_waiting_for_text_says_it_was_closed(chat: ChatDriver) -> None:
    await _asked_for_a_description(chat)
    before = len(chat.api.calls)
    await asyncio.sleep(1.2)
    assert "Encerrei esta etapa" in shown(chat.api.calls[before:])
    # What is typed afterwards is not taken as the ticket's description.
    calls = await chat.send("minha internet está lenta")
    assert "Sua conexão agora" in shown(calls)  # free text (issue 21), not the description


async def test_a_results_screen_times_out_quietly(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:statement")
    await chat.tap("Este mês")
    before = len(chat.api.calls)
    await asyncio.sleep(1.2)
    assert "Encerrei esta etapa" not in shown(chat.api.calls[before:])


async def test_a_flow_resumed_after_a_restart_still_times_out(
    env: BotEnv, chat: ChatDriver
) -> None:
    await _asked_for_a_description(chat)
    await env.launch()  # the process restarts while the ticket's description is awaited
    before = len(env.api.calls)
    await asyncio.sleep(1.2)
    assert "Encerrei esta etapa" in shown(env.api.calls[before:])
    calls = await env.chat().send("minha internet está lenta")
    assert "Sua conexão agora" in shown(calls)  # free text (issue 21), not the description


async def test_each_update_gives_the_flow_a_new_idle_period(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    before = len(chat.api.calls)
    await asyncio.sleep(0.35)
    await chat.tap("Lentidão")  # within the idle limit: the flow goes on
    await asyncio.sleep(0.35)  # 0.7 s since it began, 0.35 s since its last step
    calls = await chat.send("minha internet está lenta desde ontem")
    assert "Encerrei esta etapa" not in shown(chat.api.calls[before:])
    assert "Não entendi" not in shown(calls)


async def test_login_left_idle_forgets_the_document_quietly(chat: ChatDriver) -> None:
    await chat.send("/start")
    await chat.send(PERSON.document)
    before = len(chat.api.calls)
    await asyncio.sleep(1.2)
    assert shown(chat.api.calls[before:]) == ""  # nothing said: /start begins again
    calls = await chat.send(PERSON.password)  # no longer taken as the password
    assert "Apaguei a sua última mensagem" in shown(calls)
    assert "Você entrou" not in shown(calls)


async def test_a_chat_that_moves_while_another_times_out_is_not_ended(env: BotEnv) -> None:
    first, second = env.chat(555001), env.chat(555002)
    for chat in (first, second):
        await _asked_for_a_description(chat)
    tickets = next(
        h for handlers in env.app.handlers.values() for h in handlers
        if isinstance(h, TimedConversation) and h.name == "tickets"
    )  # fmt: skip
    for job in env.app.job_queue.get_jobs_by_name(f"{SWEEP_JOB}tickets"):
        job.schedule_removal()  # this test runs the sweep itself
    for key in list(tickets._idle_since):
        tickets._idle_since[key] -= 60  # both idle long enough
    say_timeout = tickets._on_timeout
    replies: list[str] = []

    async def second_types_while_first_is_told(context: Any, chat_id: int, state: object) -> None:
        await say_timeout(context, chat_id, state)
        if chat_id == first.user_id:
            replies.append(shown(await second.send("A internet cai toda noite desde ontem.")))

    tickets._on_timeout = second_types_while_first_is_told
    before = len(env.api.calls)
    await tickets._sweep(CallbackContext(env.app))
    told = [c for c in env.api.calls[before:] if "Encerrei esta etapa" in c.params.get("text", "")]
    assert [c.params["chat_id"] for c in told] == [first.user_id]
    assert replies and "Não entendi" not in replies[0] and "Encerrei" not in replies[0]
