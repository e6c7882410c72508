"""Staff declare an area outage from Telegram (issue 22): the broadcast composer's extra step
for an audience by place (forecast typed as "hoje 18h"), ``/ocorrencias`` to end it; the
subscriber of that neighbourhood is told at once in "Estou sem internet", and no longer once it
ended."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.broadcasts.jobs import service_of
from bot.outages import texts as ot
from bot.outages.service import store_of
from bot.settings import Settings
from bot.ui import texts
from bot.ui.formatting import plain_text
from bot.ui.texts import no_internet as t
from tests.support.bot_env import START, BotEnv, login
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown

ADMIN = 900001


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, admin_telegram_ids=(ADMIN,))


async def test_an_outage_declared_with_a_broadcast_reaches_the_self_help_until_ended(
    env: BotEnv, chat: ChatDriver
) -> None:
    notifications = env.app.bot_data["services"].notifications
    await notifications.link(101, "s1", "ct", "Contato", START)  # Maria: Cambuí, Campinas
    admin = env.chat(ADMIN)
    await admin.send("/aviso")
    await admin.send("Manutenção na fibra do Cambuí até as 18h.")
    await admin.press("bc:nomedia")
    await admin.press("bc:cities:page:0")
    await admin.tap("Campinas")
    await admin.tap("⬜ Cambuí")
    await admin.press("bc:aud")
    await admin.press("bc:continue")
    calls = await admin.press("bc:now")
    assert "bc:outage" in [data for _, data in calls[-1].buttons]
    calls = await admin.press("bc:outage")
    assert "previsão de retorno" in shown(calls)
    calls = await admin.send("logo mais")
    assert plain_text(ot.BAD_FORECAST) in shown(calls)
    calls = await admin.send("hoje 18h")
    assert "Será registrada como ocorrência na região (previsão 28/11/2026 18:00)" in shown(calls)
    assert await store_of(env.app).active() == []  # nothing recorded before the confirmation
    calls = await admin.press("bc:confirm")
    assert "Ocorrência registrada em 1 localidade(s)" in shown(calls)
    await service_of(env.app).wait_idle()
    [outage] = await store_of(env.app).active()
    assert (outage.city, outage.neighbourhood) == ("Campinas", "Cambuí")

    await login(chat)  # Maria
    calls = await chat.press("menu:no_internet")
    said = shown(calls)
    assert "falha na sua região" in said and "hoje às 18:00" in said
    assert "Manutenção na fibra do Cambuí" in said
    await chat.tap("Avise-me quando voltar")

    someone = env.chat(555009)
    assert shown(await someone.send("/ocorrencias")) == texts.STAFF_ONLY
    calls = await admin.send("/ocorrencias")
    assert "Cambuí, Campinas" in shown(calls)
    before = len(env.api.calls)
    calls = await admin.press(f"oc:end:{outage.id}")
    assert plain_text(ot.ENDED) in shown(calls) and plain_text(ot.NO_ACTIVE) in shown(calls)
    told = [
        c.params["text"]
        for c in env.api.calls[before:]
        if c.method == "sendMessage" and int(c.params["chat_id"]) == chat.user_id
    ]
    assert len(told) == 1 and "foi resolvida" in told[0]
    calls = await admin.press(f"oc:end:{outage.id}")  # twice (or forged)
    assert ot.NOT_ACTIVE in shown(calls)

    calls = await chat.press("menu:no_internet")
    assert "falha na sua região" not in shown(calls)
    assert plain_text(t.STEPS[0]) in shown(calls)


async def test_a_broadcast_to_everyone_offers_no_outage(env: BotEnv) -> None:
    notifications = env.app.bot_data["services"].notifications
    await notifications.link(101, "s1", "ct", "Contato", START)
    admin = env.chat(ADMIN)
    await admin.send("/aviso")
    await admin.send("Novidade para todos")
    await admin.press("bc:nomedia")
    await admin.press("bc:all")
    calls = await admin.press("bc:now")
    assert "Destinatários agora: 1 chat" in shown(calls)
    assert "bc:confirm" in [data for _, data in calls[-1].buttons]
    assert "bc:outage" not in [data for _, data in calls[-1].buttons]
