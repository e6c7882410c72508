"""``/aviso`` and ``/avisos`` as a staff member uses them (and as anyone else is refused)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.broadcasts import texts as t
from bot.broadcasts.audience import Audience
from bot.broadcasts.jobs import service_of
from bot.broadcasts.service import BroadcastService, Draft
from bot.settings import Settings
from bot.ui import texts
from tests.support.bot_env import START, BotEnv
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown
from tests.support.fake_telegram import Call, parse_html

ADMIN = 900001
LINKED = {101: "s1", 201: "s2", 301: "s3"}  # s2 and s3 have contracts in Sumaré/Centro
TEXT = "<b>Manutenção</b> na rede de <i>Sumaré</i> hoje às 23h. Pode haver quedas de 30 min."


@pytest.fixture
def settings(settings: Settings) -> Settings:
    from dataclasses import replace

    return replace(settings, admin_telegram_ids=(ADMIN,))


@pytest.fixture
async def admin(env: BotEnv) -> ChatDriver:
    notifications = env.app.bot_data["services"].notifications
    for chat_id, subscriber in LINKED.items():
        await notifications.link(chat_id, subscriber, "ct", "Contato", START)
    return env.chat(ADMIN)


def service(env: BotEnv) -> BroadcastService:
    return service_of(env.app)


def sent_to(calls: list[Call], chat_id: int) -> list[Call]:
    return [
        c
        for c in calls
        if c.method in ("sendMessage", "sendPhoto") and int(c.params["chat_id"]) == chat_id
    ]


async def _compose(admin: ChatDriver, text: str = TEXT) -> None:
    await admin.send("/aviso")
    calls = await admin.send(text)
    assert "Quer anexar" in shown(calls)
    await admin.press("bc:nomedia")


async def test_only_staff_may_broadcast(env: BotEnv, admin: ChatDriver) -> None:
    broadcast = await service(env).create(
        Draft("Oi", Audience(everyone=True), send_at=START + timedelta(days=1)), "test"
    )
    someone = env.chat(555001)
    for action in ("/aviso", "/avisos"):
        calls = await someone.send(action)
        assert shown(calls) == texts.STAFF_ONLY
    calls = await someone.press(f"avisos:cancelyes:{broadcast.id}", someone.last_bot_message_id())
    assert texts.STAFF_ONLY in shown(calls)
    assert methods(calls).count("answerCallbackQuery") == 1
    assert (await service(env).get(broadcast.id)).status == "scheduled"  # type: ignore[union-attr]
    calls = await someone.send("texto qualquer")  # no flow took it
    assert "Quer anexar" not in shown(calls)


async def test_compose_preview_confirm_and_send_now(env: BotEnv, admin: ChatDriver) -> None:
    calls = await admin.send("/aviso")
    assert "Novo aviso" in shown(calls)

    # Invalid HTML is refused before anything else, and the step waits for the fix.
    # Telegram's own words (tdlib's parse_html).
    calls = await admin.send("<b>Manutenção</b> hoje<br>amanhã")
    assert "erro de formatação HTML" in shown(calls)
    assert 'Unsupported start tag "br" at byte offset' in shown(calls)
    calls = await admin.send("<b>Manutenção <i>hoje</b></i>")
    assert 'expected "&lt;/i&gt;", found "&lt;/b&gt;"' in calls[-1].params["text"]
    calls = await admin.send(TEXT)
    assert "Quer anexar" in shown(calls)

    calls = await admin.press("bc:nomedia")
    assert "Para quem?" in shown(calls)
    calls = await admin.press("bc:cities:page:0")
    assert [label for label, _ in calls[-1].buttons][:2] == ["⬜ Campinas", "⬜ Sumaré"]
    calls = await admin.tap("Sumaré")
    assert "Toda a cidade" in [label.split(" ", 1)[1] for label, _ in calls[-1].buttons]
    calls = await admin.tap("⬜ Centro")
    assert "☑️ Centro" in [label for label, _ in calls[-1].buttons]
    calls = await admin.press("bc:aud")
    assert "Sumaré – Centro" in shown(calls)
    calls = await admin.press("bc:continue")
    assert "Quando" in shown(calls)

    calls = await admin.press("bc:now")
    previews = sent_to(calls, ADMIN)
    assert previews[0].params["text"] == TEXT and previews[0].params["parse_mode"] == "HTML"
    assert "Destinatários agora: 2 chats vinculados" in shown(calls)
    assert any(data == "bc:confirm" for _, data in calls[-1].buttons)
    before = len(env.api.calls)

    calls = await admin.press("bc:confirm")
    assert "Aviso #1" in shown(calls) and "Enviando agora" in shown(calls)
    await service(env).wait_idle()
    delivered = env.api.calls[before:]
    for chat_id in (201, 301):
        (call,) = sent_to(delivered, chat_id)
        # Exactly what the preview showed: same text, same formatting, same options.
        assert call.params == {**previews[0].params, "chat_id": call.params["chat_id"]}
    assert sent_to(delivered, 101) == []
    report = await service(env).report(1)
    assert report is not None and report.broadcast.status == "done" and report.sent == 2
    assert report.broadcast.created_by == f"telegram:{ADMIN}"

    calls = await admin.send("/avisos")
    assert "#1" in shown(calls) and "concluído" in shown(calls)
    calls = await admin.press("avisos:show:1")
    said = shown(calls)
    assert "Enviados: 2" in said and "Sumaré – Centro" in said and "por você" in said


async def test_photo_with_a_caption_too_long_then_fixed(env: BotEnv, admin: ChatDriver) -> None:
    await admin.send("/aviso")
    await admin.send("Promoção! " + "x" * 1500)
    calls = await admin.send_photo(b"\xff\xd8 fake jpeg")
    assert "até 1.024 caracteres" in shown(calls) and "1.510" in shown(calls)
    await admin.tap("Mudar texto")
    calls = await admin.send("<b>Fibra 1 Giga</b> com desconto!")
    assert "Quer anexar" in shown(calls)
    calls = await admin.send_photo(b"\xff\xd8 fake jpeg")
    assert "Imagem recebida" in shown(calls)
    await admin.press("bc:statuses")
    calls = await admin.press("bc:status:overdue")
    assert "☑️ Com fatura em atraso" in [label for label, _ in calls[-1].buttons]
    await admin.press("bc:aud")
    await admin.press("bc:continue")
    calls = await admin.press("bc:now")
    (preview,) = [c for c in calls if c.method == "sendPhoto"]
    assert preview.params["caption"] == "<b>Fibra 1 Giga</b> com desconto!"
    assert preview.params["photo"].endswith("fake")  # the file_id Telegram gave the upload
    assert "Destinatários agora: 2 chats vinculados" in shown(calls)  # s1 and s2 are overdue
    await admin.press("bc:confirm")
    await service(env).wait_idle()
    files = [f for f in env.api.sent_files if f.chat_id in (101, 201)]
    assert sorted(f.chat_id for f in files) == [101, 201]
    assert all(f.content is None and f.method == "sendPhoto" for f in files)  # by file_id


async def test_schedule_for_a_typed_time(env: BotEnv, admin: ChatDriver) -> None:
    await _compose(admin, "Amanhã teremos <u>manutenção</u>.")
    await admin.press("bc:all")
    calls = await admin.press("bc:schedule")
    assert "dd/mm/aaaa hh:mm" in shown(calls)
    calls = await admin.send("31/02/2026 10:00")
    assert "Não entendi a data" in shown(calls)
    calls = await admin.send("27/11/2026 10:00")
    assert "já passou" in shown(calls)
    calls = await admin.send("30/11/2026 19:30")
    assert "Quando: 30/11/2026 19:30" in shown(calls)
    assert "Destinatários agora: 3 chats vinculados" in shown(calls)
    calls = await admin.press("bc:confirm")
    assert "agendado para 30/11/2026 19:30" in shown(calls)

    before = len(env.api.calls)
    assert await service(env).dispatch_due() == []
    env.clock.now = datetime(2026, 11, 30, 22, 29, tzinfo=UTC)  # 19:29 in São Paulo
    assert await service(env).dispatch_due() == []
    await service(env).wait_idle()
    assert all(sent_to(env.api.calls[before:], chat) == [] for chat in LINKED)
    env.clock.now = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    assert await service(env).dispatch_due() == [1]
    await service(env).wait_idle()
    assert all(len(sent_to(env.api.calls[before:], chat)) == 1 for chat in LINKED)


async def test_preview_with_nobody_to_send_to_offers_no_confirmation(
    env: BotEnv, admin: ChatDriver
) -> None:
    await _compose(admin, "Aviso para a lista")
    calls = await admin.press("bc:ids:subscriber_ids")
    assert "códigos dos assinantes" in shown(calls)
    calls = await admin.send("  ,  ")
    assert "Não encontrei nenhum código" in shown(calls)
    calls = await admin.send("s4, s9")
    assert "Assinantes: s4, s9" in shown(calls)
    await admin.press("bc:continue")
    calls = await admin.press("bc:now")
    assert t.NO_RECIPIENTS.split(" ", 1)[1][:30] in shown(calls)
    assert not any(data == "bc:confirm" for _, data in calls[-1].buttons)
    calls = await admin.press("bc:confirm")  # forged: there is nothing to confirm
    assert "Nenhum chat vinculado" in shown(calls)
    assert await service(env).store.count() == 0


async def test_forged_picker_data_and_empty_filters(env: BotEnv, admin: ChatDriver) -> None:
    await _compose(admin)
    calls = await admin.press("bc:continue")
    assert t.NEED_SEGMENT in shown(calls)
    calls = await admin.press("bc:city:99")
    assert "não está mais disponível" in shown(calls)
    calls = await admin.press("bc:hood:1:99")
    assert "não está mais disponível" in shown(calls)
    calls = await admin.press("bc:plan:42")
    assert "não está mais disponível" in shown(calls)
    calls = await admin.press("bc:status:everyone")
    assert "não está mais disponível" in shown(calls)
    calls = await admin.press("bc:cities:page:9")  # clamped to the last page
    assert "Escolha a cidade" in shown(calls)


async def test_cancelar_discards_the_draft(env: BotEnv, admin: ChatDriver) -> None:
    await admin.send("/aviso")
    await admin.send("Rascunho")
    calls = await admin.send("/cancelar")
    assert t.FLOW_CANCELLED in shown(calls)
    calls = await admin.send("outro texto")
    assert "Quer anexar" not in shown(calls)
    await _compose(admin)
    calls = await admin.press("bc:cancel")
    assert "descartei" in shown(calls)
    assert await service(env).store.count() == 0
    assert all(sent_to(env.api.calls, chat) == [] for chat in LINKED)


async def test_avisos_pause_resume_and_cancel(env: BotEnv, admin: ChatDriver) -> None:
    svc = service(env)
    scheduled = await svc.create(
        Draft("Depois", Audience(everyone=True), send_at=START + timedelta(days=2)), "api"
    )
    running = await svc.create(
        Draft("Agora", Audience(everyone=True), send_at=START + timedelta(hours=1)), "cli"
    )
    # As if its time came and another process began sending it.
    await svc.store.transition(running.id, "running", allowed_from=("scheduled",), now=START)

    calls = await admin.send("/avisos")
    assert "Avisos</b> (2)" in calls[-1].params["text"]
    labels = [label for label, _ in calls[-1].buttons]
    assert labels == ["#2 · 📤 enviando", "#1 · 🕒 agendado"]

    calls = await admin.press(f"avisos:show:{running.id}")
    assert "linha de comando" in shown(calls)
    assert [d for _, d in calls[-1].buttons][:2] == ["avisos:pause:2", "avisos:cancel:2"]
    calls = await admin.press("avisos:pause:2")
    assert t.PAUSED in shown(calls) and "pausado" in shown(calls)
    calls = await admin.press("avisos:pause:2")  # a double tap
    assert t.CANNOT["pause"] in shown(calls)
    calls = await admin.press("avisos:resume:2")
    assert t.RESUMED in shown(calls)
    await svc.wait_idle()
    report = await svc.report(running.id)
    assert report is not None and report.broadcast.status == "done" and report.sent == 3

    calls = await admin.press(f"avisos:cancel:{scheduled.id}")
    assert "Cancelar o aviso <b>#1</b>?" in calls[-1].params["text"]
    calls = await admin.press(f"avisos:cancelyes:{scheduled.id}")
    assert t.CANCELLED_ANSWER in shown(calls)
    assert (await svc.get(scheduled.id)).status == "cancelled"  # type: ignore[union-attr]
    calls = await admin.press("avisos:show:999")
    assert t.BROADCAST_NOT_FOUND in shown(calls)


def test_texts_fit_telegram() -> None:
    audience = {"places": [{"city": "A & B", "neighbourhood": "<C>"}], "contract_ids": ["c1"]}
    text = t.describe_audience(audience, {})
    assert parse_html(text).startswith("🏙 Local: A & B – <C>")
