"""The satisfaction survey (issue 22, NPS): offered after a hand-off the team answered and after
a ticket's closure notice, 0-10 then an optional comment, at most once per subscriber in 30 days,
never in quiet hours (a restart keeps what waits), and its report through the admin API."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.notifications import jobs as notification_jobs
from bot.settings import Settings
from bot.surveys import flow as surveys
from bot.surveys import texts
from bot.ui.formatting import plain_text
from bot.web import create_web_app
from tests.support.bot_env import BotEnv, settings_with_provider_file
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown
from tests.test_handoff import ANA, CARLA, GROUP, PROVIDER_FILE, group, start, team_says  # noqa: F401
from tests.test_linking import _log_in_to_the_offer

API_TOKEN = "adm-0123456789abcdef0123456789"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
def settings(tmp_path: Path, bot_database_url: str) -> Settings:
    return settings_with_provider_file(tmp_path, bot_database_url, PROVIDER_FILE)


def question_of(env: BotEnv, chat_id: int) -> Any:
    """The last survey question sent to ``chat_id`` (None when there is none)."""
    asked = [
        call
        for call in env.api.calls
        if call.method == "sendMessage"
        and call.params.get("chat_id") == chat_id
        and "De 0 a 10" in plain_text(call.params.get("text", ""))
    ]
    return asked[-1] if asked else None


async def hand_off_answered_and_ended(env: BotEnv, chat: ChatDriver, forum: Any, who: int) -> None:
    thread = await start(env, chat, forum)
    await team_says(env, who, thread, text="Oi! Já resolvi por aqui.")
    await team_says(env, who, thread, text="/encerrar")


async def test_after_a_hand_off_a_score_then_a_comment(
    env: BotEnv,
    chat: ChatDriver,
    group: Any,  # noqa: F811
) -> None:
    await hand_off_answered_and_ended(env, chat, group, ANA)
    question = question_of(env, chat.user_id)
    assert question is not None
    assert "Sua conversa com a nossa equipe terminou." in plain_text(question.params["text"])
    assert "quanto você recomendaria a Net Exemplo" in plain_text(question.params["text"])
    labels = [label for label, _ in question.buttons]
    assert labels == [str(n) for n in range(11)]

    nine = dict(question.buttons)["9"]
    calls = await chat.press(nine)
    assert "Obrigado! Sua nota: 9." in shown(calls)
    assert ("Pular", nine.replace(":s:", ":skip:").rsplit(":", 1)[0]) in [
        b for call in calls for b in call.buttons
    ]
    calls = await chat.send("A Ana foi muito atenciosa")
    assert plain_text(texts.THANKS_FOR_COMMENT) in shown(calls)
    # The next text is not a comment any more: the screens take it.
    assert plain_text(texts.THANKS_FOR_COMMENT) not in shown(await chat.send("boleto"))
    # A score pressed again changes nothing.
    calls = await chat.press(dict(question.buttons)["3"])
    assert texts.ALREADY_ANSWERED in [c.params.get("text") for c in calls]

    store = surveys.store_of(env.app)
    later = env.clock() + timedelta(minutes=1)
    [answer] = await store.answered_between(datetime(2026, 1, 1, tzinfo=UTC), later)
    assert (answer.score, answer.comment, answer.trigger, answer.member) == (
        9,
        "A Ana foi muito atenciosa",
        "handoff",
        "Ana",
    )


async def test_a_second_trigger_within_30_days_asks_nothing(
    env: BotEnv,
    chat: ChatDriver,
    group: Any,  # noqa: F811
) -> None:
    await hand_off_answered_and_ended(env, chat, group, ANA)
    first = question_of(env, chat.user_id)
    assert first is not None
    await chat.press(dict(first.buttons)["10"])
    await chat.press(first.buttons[-1][1].replace(":s:", ":skip:").rsplit(":", 1)[0])
    env.clock.advance(days=23)  # Monday 21/12, 10:00 in São Paulo: the team is at work
    await hand_off_answered_and_ended(env, chat, group, CARLA)
    assert question_of(env, chat.user_id) is first  # not asked again
    env.clock.advance(days=8)  # more than 30 days after the first offer
    assert await surveys.offer(env.app, chat.user_id, "s1", "ticket", "2026-9") is True


async def test_quiet_hours_defer_the_offer_and_a_restart_keeps_it(
    env: BotEnv, chat: ChatDriver
) -> None:
    env.clock.now = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # 22:30 in São Paulo
    assert await surveys.offer(env.app, chat.user_id, "s1", "ticket", "2026-77") is True
    assert question_of(env, chat.user_id) is None  # not at night
    await env.launch()  # a restart meanwhile
    env.clock.now = datetime(2026, 12, 1, 10, 59, tzinfo=UTC)  # 07:59
    assert await surveys.send_due(env.app) == 0
    env.clock.now = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # 08:00: quiet hours are over
    assert await surveys.send_due(env.app) == 1
    question = question_of(env, chat.user_id)
    assert question is not None and "Seu atendimento foi encerrado." in question.params["text"]
    assert await surveys.send_due(env.app) == 0  # once


async def test_a_ticket_closure_notice_is_followed_by_the_survey(
    env: BotEnv, chat: ChatDriver
) -> None:
    # The sandbox stamps the staff's reply on its day (28/11) at the wall clock's time: the
    # chat is linked at 00:00 of that day and the round runs the morning after.
    env.clock.now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    await _log_in_to_the_offer(chat)
    await chat.tap("Maria Aparecida dos Santos")  # this chat is linked: it gets notices
    await chat.send("/sair")
    await env.backend.simulate_provider_reply("tk-1", "Trocamos o roteador.", close=True)
    env.clock.now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # 09:00 in São Paulo
    services = env.app.bot_data["services"]
    await notification_jobs.poll_and_plan(services.detector, services.planner, env.clock())
    delivery = env.app.bot_data[notification_jobs.DELIVERY_KEY]
    await delivery.run(env.app.bot)
    texts_sent = [c.params.get("text", "") for c in env.api.calls if c.method == "sendMessage"]
    closed = [i for i, text in enumerate(texts_sent) if "Trocamos o roteador." in text]
    asked = [i for i, text in enumerate(texts_sent) if "De 0 a 10" in plain_text(text)]
    assert closed and asked and asked[0] > closed[0]  # the survey follows the notice
    question = question_of(env, chat.user_id)
    assert "Seu atendimento foi encerrado." in plain_text(question.params["text"])
    calls = await chat.press(dict(question.buttons)["4"])  # logged out: still answered
    assert "Obrigado! Sua nota: 4." in shown(calls)


@pytest.fixture
async def client(env: BotEnv) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = create_web_app(env.app, admin_token=API_TOKEN)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def answer(env: BotEnv, subscriber: str, score: int, **offer: Any) -> None:
    """A subscriber offered the survey in their chat who presses ``score``."""
    chat_id = 700000 + int(subscriber.removeprefix("s"))
    env.api.api.user(chat_id)
    assert await surveys.offer(env.app, chat_id, subscriber, **offer)
    driver = ChatDriver(env.app, env.api, chat_id)
    question = question_of(env, chat_id)
    assert question is not None
    assert "Sua nota" in shown(await driver.press(dict(question.buttons)[str(score)]))


async def test_the_report_and_its_csv(env: BotEnv, client: TestClient) -> None:  # type: ignore[type-arg]
    await answer(env, "s1", 10, trigger="handoff", reference="1", member="Ana")
    await answer(env, "s2", 9, trigger="handoff", reference="2", member="Ana")
    await answer(env, "s3", 3, trigger="handoff", reference="3", member="Beto")
    await answer(env, "s4", 7, trigger="ticket", reference="2026-15")
    await answer(env, "s5", 0, trigger="ticket", reference="2026-16")
    assert (await client.get("/admin/api/surveys")).status == 401

    response = await client.get("/admin/api/surveys?from=2026-11-01&to=2026-11-30", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    # 2 promoters, 1 passive, 2 detractors out of 5: NPS 0.
    assert (body["answers"], body["promoters"], body["passives"], body["detractors"]) == (
        5,
        2,
        1,
        2,
    )
    assert body["nps"] == 0
    assert body["by_trigger"]["handoff"]["nps"] == 33  # 2 promoters, 1 detractor of 3
    assert body["by_trigger"]["ticket"]["nps"] == -50
    assert body["by_member"] == [
        {"name": "Ana", "answers": 2, "promoters": 2, "passives": 0, "detractors": 0, "nps": 100},
        {"name": "Beto", "answers": 1, "promoters": 0, "passives": 0, "detractors": 1, "nps": -100},
    ]
    earlier = await client.get("/admin/api/surveys?from=2026-10-01&to=2026-10-31", headers=AUTH)
    assert (await earlier.json())["answers"] == 0
    bad = await client.get("/admin/api/surveys?from=2026-13-01", headers=AUTH)
    assert bad.status == 400 and (await bad.json())["field"] == "from"

    response = await client.get("/admin/api/surveys.csv?from=2026-11-01", headers=AUTH)
    assert response.status == 200 and response.content_type == "text/csv"
    raw = await response.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel in pt-BR reads it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["respondida em", "origem", "referência", "atendente", "nota", "comentário"]
    assert sorted(row[4] for row in rows[1:]) == ["0", "10", "3", "7", "9"]
    assert ["28/11/2026 10:00", "conversa com atendente", "1", "Ana", "10", ""] in rows


async def test_a_pending_comment_times_out(
    env: BotEnv,
    chat: ChatDriver,
    group: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Shorter than the login session's idle limit, so the session is still open when it ends.
    monkeypatch.setattr(surveys, "COMMENT_MINUTES", 5)
    await hand_off_answered_and_ended(env, chat, group, ANA)
    question = question_of(env, chat.user_id)
    assert question is not None
    await chat.press(dict(question.buttons)["7"])
    env.clock.advance(minutes=6)
    calls = await chat.send("boleto")  # goes to the normal handlers, not to the survey
    assert shown(calls)  # something answered it
    assert plain_text(texts.THANKS_FOR_COMMENT) not in shown(calls)
    assert plain_text(texts.THANKS) not in shown(calls)
    store = surveys.store_of(env.app)
    later = env.clock() + timedelta(minutes=1)
    [answer] = await store.answered_between(datetime(2026, 1, 1, tzinfo=UTC), later)
    assert (answer.score, answer.comment) == (7, None)
