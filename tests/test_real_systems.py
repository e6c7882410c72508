"""The bot over the local stand-ins of real systems (SGP, IXC), driven as a subscriber would:
log in, see the account and take the overdue invoice's 2ª via — with the values the system holds.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from backend_client.sgp import SgpBackend
from tests.backends.standin_sgp import SgpStandIn
from tests.conftest import PERSON, TODAY, BotEnv, login
from tests.support.driver import methods
from tests.support.driver import texts as shown


@pytest.fixture
async def sgp_env(env: BotEnv) -> AsyncIterator[tuple[BotEnv, SgpStandIn]]:
    standin = SgpStandIn()
    await standin.start()
    integration = standin.accounts["integration"]
    env.make_backend = lambda _: SgpBackend(  # type: ignore[assignment, return-value]
        standin.base_url, integration["token"], integration["app"], today=lambda: TODAY
    )
    await env.launch()
    yield env, standin
    await standin.close()


async def test_an_sgp_subscriber_logs_in_and_sees_the_systems_values(
    sgp_env: tuple[BotEnv, SgpStandIn], caplog: pytest.LogCaptureFixture
) -> None:
    env, standin = sgp_env
    caplog.set_level(logging.DEBUG)
    chat = env.chat()
    await login(chat, PERSON)  # the Central answers lowercase keys: razaosocial, contrato…

    said = shown(await chat.press("menu:account"))
    assert "Maria Aparecida dos Santos" in said
    assert "(19) 99123-4567" in said  # a Brazilian phone, not "+1 9…"
    assert "Fibra 300 Mega (300 Mbps) — R$ 99,90/mês" in said  # planointernet_valor
    assert "Cambuí, Campinas/SP" in said  # endereco_instalacao
    assert "Ativo" in said

    await chat.press("menu:invoices")
    calls = await chat.tap("Todas em aberto")
    calls = await chat.tap("Ver boleto 10/11/2026")
    said = shown(calls)
    # The overdue invoice: the 2ª via's amount, due date, linha and PIX, all the same 2ª via.
    assert "Valor: R$ 99,90" in said
    assert "Multa: R$ 2,00" in said and "Juros: R$ 0,61" in said
    assert "Valor atualizado: R$ 102,51" in said
    assert "2ª via atualizada, com vencimento em 01/12/2026" in said
    assert "PIX copia e cola — R$ 102,51 (valor atualizado)" in said
    assert "00190.00009 03128.557000 00080.104177 7 16470000010251" in said  # charges 102,51
    calls = await chat.press("inv:pdf:70104")
    assert "sendDocument" in methods(calls)
    assert standin.calls_to("/boleto/70104-2via.pdf")  # the same 2ª via's PDF

    # No document in the logs (the Central has no client id: the adapter's id is not the CPF),
    # and nothing was sent empty. (python-telegram-bot's own DEBUG lines are issue 17's.)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert PERSON.password not in ours and "31845672062" not in caplog.text
    assert all(c.text.strip() for c in calls if c.method == "sendMessage")
    assert standin.service_records_opened == 0
