"""The bot over the local stand-ins of real systems (SGP, IXC), driven as a subscriber would:
log in, see the account and take the overdue invoice's 2ª via — with the values the system holds.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from backend_client.ixc import IxcBackend
from backend_client.models import TicketSubject
from backend_client.sgp import SgpBackend
from tests.backends.standin_ixc import IxcStandIn
from tests.backends.standin_sgp import SgpStandIn
from tests.support.bot_env import PERSON, TODAY, BotEnv, login
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

    await chat.press("menu:invoices")  # the open invoices at once (issue 21)
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


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8


@pytest.fixture
async def ixc_env(env: BotEnv) -> AsyncIterator[tuple[BotEnv, IxcStandIn]]:
    """IXC with a webservice user granted as few tables as providers grant: no cidade, uf,
    su_oss_assunto or vd_contratos; the ticket subjects configured instead."""
    standin = IxcStandIn(frozenset({"restricted", "second-copy"}))
    await standin.start()
    subjects = [TicketSubject(i, name) for i, name in standin.accounts["ticket_subjects"]]
    env.make_backend = lambda _: IxcBackend(  # type: ignore[assignment, return-value]
        standin.base_url,
        standin.accounts["user"],
        standin.accounts["token"],
        ticket_subjects=subjects,
        today=lambda: TODAY,
    )
    await env.launch()
    yield env, standin
    await standin.close()


async def test_an_ixc_subscriber_of_a_restricted_user_uses_the_bot_end_to_end(
    ixc_env: tuple[BotEnv, IxcStandIn], caplog: pytest.LogCaptureFixture
) -> None:
    env, standin = ixc_env
    caplog.set_level(logging.INFO)
    chat = env.chat()
    await login(chat, PERSON)

    said = shown(await chat.press("menu:account"))
    assert "Maria" in said and "R$ 0,00" not in said
    assert "+1 " not in said and "+31 " not in said  # phones read as Brazilian

    # A ticket with a photo: subjects from the configuration, the file through su_ticket_arquivos.
    await chat.press("menu:tickets")
    calls = await chat.tap("Novo atendimento")
    assert {"Sem conexão", "Lentidão", "Financeiro"} <= {label for label, _ in calls[-1].buttons}
    calls = await chat.tap("Sem conexão")
    # Two contracts; the city is unknown (cidade refused): the label just leaves it out.
    assert "• 4101 — FIBRA 300 MEGA, Rua Coronel Quirino, 1250\n" in shown(calls)
    await chat.tap("4101")
    await chat.send("Sem internet desde ontem à noite.")
    calls = await chat.send_photo(JPEG)
    assert "Anexo recebido" in shown(calls)
    await chat.tap("Concluir anexos")
    calls = await chat.tap("Confirmar")
    assert "Atendimento aberto" in shown(calls)
    [upload] = standin.uploads
    assert upload["content"] == JPEG and upload["fields"]["id_ticket"]
    created = [row for row in standin.tables["su_ticket"] if row["id_assunto"] == "1"]
    assert created and created[-1]["menssagem"] == "Sem internet desde ontem à noite."

    # The tables the user may not read were named to the admin, once each, without values.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "su_oss_assunto" in logged or "cidade" in logged
    assert PERSON.password not in logged and "31845672062" not in logged
