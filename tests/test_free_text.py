"""Free text (issue 21), as a subscriber sees it: what they type takes them where they meant."""

from __future__ import annotations

import pytest

from backend_client.formats.boleto import is_valid_linha_digitavel
from backend_client.formats.pix import is_valid_brcode
from bot.ui import texts
from bot.ui.formatting import plain_text
from bot.ui.texts import free_text as t
from tests.support.billing import copy_values
from tests.support.bot_env import COMPANY, PERSON, SUSPENDED, BotEnv, login
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown


def _buttons(calls: list) -> list[str]:  # type: ignore[type-arg]
    return [data for _, data in calls[-1].buttons] if calls else []


# --- logged in: each intent opens its item ---------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "account", "seen"),
    [
        ("quero minha segunda via", PERSON, "Faturas em aberto"),
        ("boleto", PERSON, "Faturas em aberto"),
        ("pix", PERSON, "Faturas em aberto"),
        ("nota fiscal", COMPANY, "Notas Fiscais"),
        ("qual meu plano", PERSON, "CPF: 318.456.720-62"),
        ("desbloquear minha internet", SUSPENDED, "Habilitação Provisória"),
        ("extrato financeiro", PERSON, "Extrato Financeiro"),
        ("extrato de conexão", PERSON, "Extrato de Conexão"),
        ("minhas ligações", COMPANY, "Extrato de Ligação"),
        ("atualizar meu email", PERSON, "Contatos"),
        ("mudar vencimento", PERSON, "Alterar Vencimento"),
        ("abrir chamado", PERSON, "Atendimentos"),
        ("trocar senha", PERSON, "Alterar Senha"),
    ],
)
async def test_a_request_typed_opens_its_item(
    chat: ChatDriver, typed: str, account: object, seen: str
) -> None:
    await login(chat, account)
    calls = await chat.send(typed)
    said = shown(calls)
    assert seen in said
    assert texts.NOT_UNDERSTOOD not in said


async def test_the_screen_opened_by_text_keeps_working(chat: ChatDriver) -> None:
    # The flow is in the step it showed: its buttons answer as after a tap on the menu.
    await login(chat, COMPANY)
    await chat.send("quero a nota fiscal")
    calls = await chat.tap("3 meses")
    assert "6 notas fiscais no período" in shown(calls)


async def test_a_typo_and_internetes_are_understood(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.send("qro a 2a via do bolto pfv")
    assert "Faturas em aberto" in shown(calls)


async def test_a_month_in_the_phrase_opens_that_month(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    calls = await chat.send("NF do mês passado")
    said = shown(calls)
    assert "De qual período?" not in said
    assert "notas fiscais no período" in said or "nota fiscal no período" in said
    assert "outubro de 2026" in said.lower() or "10/2026" in said


async def test_a_day_in_the_phrase_is_proposed(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.send("mudar o vencimento para dia 20")
    said = shown(calls)
    assert "novo vencimento: <b>dia 20</b>" in said or "novo vencimento: dia 20" in said
    assert "venc:agree" in _buttons(calls)
    calls = await chat.press("venc:agree")
    assert "dia 20" in shown(calls)


async def test_a_day_not_offered_shows_the_days_with_a_note(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.send("quero mudar o vencimento para o dia 31")
    said = shown(calls)
    assert "31" in said
    assert any(data.startswith("venc:day:") for data in _buttons(calls))


# --- unsure, small talk, nothing -------------------------------------------------------------
async def test_unsure_offers_the_likeliest_few_not_the_menu(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.send("quanto gastei de telefone")
    assert t.DID_YOU_MEAN in shown(calls)
    buttons = _buttons(calls)
    assert buttons[0] == "menu:calls"
    assert 3 <= len(buttons) <= 4  # two or three items, then the menu
    assert buttons[-1] == "menu:home"
    calls = await chat.press(buttons[0])
    assert "Extrato de Ligação" in shown(calls)


@pytest.mark.parametrize(
    ("typed", "answer"),
    [("obrigado!", t.THANKS), ("👍", t.ACK), ("ok", t.ACK), ("tchau", t.BYE)],
)
async def test_small_talk_gets_a_short_human_answer(
    chat: ChatDriver, typed: str, answer: str
) -> None:
    await login(chat)
    calls = await chat.send(typed)
    assert shown(calls) == answer
    assert not _buttons(calls)


async def test_a_greeting_greets_by_name_with_the_menu(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.send("bom dia")
    assert "Olá, Maria!" in shown(calls)
    assert "menu:invoices" in _buttons(calls)


async def test_nonsense_says_so_with_a_way_to_the_menu(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.send("asdfgh")
    assert t.NOT_UNDERSTOOD in shown(calls)
    assert _buttons(calls) == ["menu:home"]


# --- a person, no internet -------------------------------------------------------------------
async def test_asking_for_a_person_offers_a_ticket(chat: ChatDriver) -> None:
    await login(chat)
    calls = await chat.send("quero falar com um atendente")
    assert t.HUMAN_TICKET in shown(calls)
    assert "menu:tickets" in _buttons(calls)


async def test_no_internet_enters_the_self_help_with_the_connection_and_its_steps(
    chat: ChatDriver,
) -> None:
    await login(chat)
    calls = await chat.send("minha internet caiu")
    said = shown(calls)
    assert "Sua conexão agora" in said
    assert "conectado" in said
    assert "reinicie o roteador" in said  # the first guided step (bot.conversations.no_internet)
    await chat.tap("Continua sem internet")
    await chat.tap("Continua sem internet")
    calls = await chat.tap("Abrir atendimento")  # the ticket, described already: its summary
    said = shown(calls)
    assert "Sem conexão" in said
    assert "Reiniciou o roteador" in said


async def test_no_internet_of_a_suspended_subscriber_points_to_the_invoices(
    chat: ChatDriver,
) -> None:
    await login(chat, SUSPENDED)
    calls = await chat.send("to sem net")
    assert "suspenso" in shown(calls)
    assert "menu:invoices" in _buttons(calls)
    assert "menu:enabling" in _buttons(calls)


# --- before the login ------------------------------------------------------------------------
async def test_hi_before_login_is_greeted_and_asked_for_the_document(chat: ChatDriver) -> None:
    calls = await chat.send("oi")
    said = shown(calls)
    assert t.GREETING_LOGGED_OUT in said
    assert plain_text(texts.ASK_DOCUMENT) in said
    assert "não é válido" not in said
    calls = await chat.send("boa tarde")  # at the document step too
    assert "não é válido" not in shown(calls)
    assert plain_text(texts.ASK_DOCUMENT) in shown(calls)
    calls = await chat.send("ok")
    assert plain_text(t.ACK_LOGGED_OUT) in shown(calls)
    assert "não é válido" not in shown(calls)
    calls = await chat.send("123.456")  # a document mistyped is still said to be one
    assert "não é válido" in shown(calls)


async def test_a_cpf_typed_while_logged_out_starts_the_login(chat: ChatDriver) -> None:
    calls = await chat.send(PERSON.document)
    assert plain_text(texts.ASK_PASSWORD) in shown(calls)
    calls = await chat.send(PERSON.password)
    assert "Maria" in shown(calls)


async def test_a_request_before_login_is_opened_after_it(chat: ChatDriver) -> None:
    calls = await chat.send("quero a segunda via do boleto")
    said = shown(calls)
    assert plain_text(t.login_first(texts.MENU_LABELS["invoices"])) in said
    assert plain_text(texts.ASK_DOCUMENT) in said
    await chat.send(PERSON.document)
    calls = await chat.send(PERSON.password)
    assert "Faturas em aberto" in shown(calls)


# --- on a screen: text that answers it is taken there ------------------------------------------
async def test_a_day_typed_on_alterar_vencimento_is_taken(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:due_day")
    calls = await chat.send("dia 20")
    assert "novo vencimento: dia 20" in shown(calls)
    assert "venc:agree" in _buttons(calls)
    calls = await chat.send("melhor o 15")  # changed their mind on the terms screen
    assert "novo vencimento: dia 15" in shown(calls)


async def test_a_month_in_words_on_a_period_step_is_taken(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:statement")
    calls = await chat.send("mês passado")
    said = shown(calls)
    assert "Extrato Financeiro" in said
    assert "10/2026" in said or "outubro de 2026" in said.lower()


async def test_a_request_on_a_period_step_goes_there_and_nonsense_stays(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:statement")
    calls = await chat.send("xyz")  # nothing: the step says what it takes, and waits
    assert "Extrato Financeiro" not in shown(calls)
    calls = await chat.send("10/2026")
    assert "Extrato Financeiro" in shown(calls)
    await chat.press("menu:statement")
    calls = await chat.send("quero a segunda via do boleto")
    assert "Faturas em aberto" in shown(calls)


async def test_a_request_where_buttons_are_expected_goes_there(chat: ChatDriver) -> None:
    await login(chat, COMPANY)
    calls = await chat.press("menu:connections")
    assert "De qual login" in shown(calls)
    calls = await chat.send("blablabla")
    assert shown(calls) == texts.USE_BUTTONS
    calls = await chat.send("nota fiscal do mês passado")
    assert "Notas Fiscais" in shown(calls)


async def test_pix_on_a_list_of_one_invoice_shows_its_boleto_and_pix(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:invoices")
    await chat.tap("Outro período")
    calls = await chat.send("12/2026")
    assert "10/12/2026" in shown(calls) and "10/11/2026" not in shown(calls)
    calls = await chat.send("pix")
    linha, pix = copy_values(calls)
    assert is_valid_linha_digitavel(linha) and is_valid_brcode(pix)


async def test_pix_on_a_list_of_several_asks_which(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:invoices")  # the open invoices at once (issue 21)
    calls = await chat.send("me passa o pix")
    assert shown(calls) == t.PICK_AN_INVOICE
    calls = await chat.tap("Ver boleto 10/12/2026")  # the list still works
    assert "a vencer" in shown(calls)


async def test_pix_typed_anywhere_with_several_open_invoices_opens_faturas(
    chat: ChatDriver,
) -> None:
    await login(chat, PERSON)
    calls = await chat.send("quero pagar no pix")  # two open: the list, to pick one
    assert "Faturas em aberto" in shown(calls)


async def test_no_internet_before_login_enters_the_self_help_after_it(chat: ChatDriver) -> None:
    calls = await chat.send("to sem internet desde ontem")
    assert plain_text(t.login_first(t.NO_INTERNET_LABEL)) in shown(calls)
    await chat.send(PERSON.document)
    calls = await chat.send(PERSON.password)
    assert "Sua conexão agora" in shown(calls)
    assert "net:ok" in _buttons(calls) and "net:still:0" in _buttons(calls)


async def test_a_request_before_login_is_forgotten_after_half_an_hour(
    env: BotEnv, chat: ChatDriver
) -> None:
    await chat.send("quero a segunda via do boleto")
    env.clock.advance(minutes=31)
    await chat.send(PERSON.document)
    calls = await chat.send(PERSON.password)
    assert "Faturas em aberto" not in shown(calls)


async def test_a_forgotten_password_before_login_is_not_asked_to_log_in(chat: ChatDriver) -> None:
    calls = await chat.send("esqueci minha senha")
    said = shown(calls)
    assert plain_text(t.FORGOT_PASSWORD) in said
    assert "primeiro entre" not in said
