"""The local Bot API's supergroups with forum topics (bot.localapi.forum), as the Bot API
documents them: createForumTopic, message_thread_id on sends, close/reopen, members, copyMessage."""

from __future__ import annotations

import pytest

from bot.localapi.core import BotApiError, LocalBotApi

TOKEN = "123456789:AAFakeTokenForOfflineTestsOnly_0123456789"
GROUP = -1001234567890


async def test_a_topic_takes_messages_until_it_is_closed() -> None:
    api = LocalBotApi(TOKEN)
    api.open_forum(GROUP, "Atendimento", admins={42: "Ana"}, members={43: "Beto"})
    topic = await api.call(TOKEN, "createForumTopic", {"chat_id": GROUP, "name": "Maria"})
    thread = topic["message_thread_id"]
    assert topic["name"] == "Maria" and topic["icon_color"] == 7322096
    sent = await api.call(
        TOKEN, "sendMessage", {"chat_id": GROUP, "text": "oi", "message_thread_id": thread}
    )
    assert sent["message_thread_id"] == thread and sent["is_topic_message"] is True
    assert sent["chat"]["is_forum"] is True and sent["chat"]["type"] == "supergroup"
    member = api.team_member(GROUP, 42)
    reply = await member.post(thread, text="Olá!")
    assert api.message_json(GROUP, reply.message_id)["message_thread_id"] == thread
    assert [m.text for m in member.in_topic(thread)] == ["oi", "Olá!"]

    assert await api.call(TOKEN, "closeForumTopic", {"chat_id": GROUP, "message_thread_id": thread})
    with pytest.raises(BotApiError, match="TOPIC_CLOSED"):
        await api.call(
            TOKEN, "sendMessage", {"chat_id": GROUP, "text": "x", "message_thread_id": thread}
        )
    with pytest.raises(BotApiError, match="TOPIC_NOT_MODIFIED"):
        await api.call(TOKEN, "closeForumTopic", {"chat_id": GROUP, "message_thread_id": thread})
    await api.call(TOKEN, "reopenForumTopic", {"chat_id": GROUP, "message_thread_id": thread})
    with pytest.raises(BotApiError, match="message thread not found"):
        await api.call(
            TOKEN, "sendMessage", {"chat_id": GROUP, "text": "x", "message_thread_id": 999}
        )


async def test_topics_need_a_forum_a_name_and_an_administrator_bot() -> None:
    api = LocalBotApi(TOKEN)
    api.open_forum(GROUP, "Atendimento", forum=False)
    with pytest.raises(BotApiError, match="CHANNEL_FORUM_MISSING"):
        await api.call(TOKEN, "createForumTopic", {"chat_id": GROUP, "name": "x"})
    api.open_forum(GROUP - 1, "Sem direitos", bot_admin=False)
    with pytest.raises(BotApiError, match="not enough rights"):
        await api.call(TOKEN, "createForumTopic", {"chat_id": GROUP - 1, "name": "x"})
    api.open_forum(GROUP - 2, "Ok")
    for name, error in (("", "TOPIC_TITLE_EMPTY"), ("x" * 129, "TOPIC_TITLE_TOO_LONG")):
        with pytest.raises(BotApiError, match=error):
            await api.call(TOKEN, "createForumTopic", {"chat_id": GROUP - 2, "name": name})


async def test_members_administrators_and_copies() -> None:
    api = LocalBotApi(TOKEN)
    api.open_forum(GROUP, "Atendimento", admins={42: "Ana"}, members={43: "Beto"})
    status = [
        (await api.call(TOKEN, "getChatMember", {"chat_id": GROUP, "user_id": u}))["status"]
        for u in (42, 43, 44)
    ]
    assert status == ["administrator", "member", "left"]
    admins = await api.call(TOKEN, "getChatAdministrators", {"chat_id": GROUP})
    assert {a["user"]["id"] for a in admins} == {42, api.bot_id}
    topic = await api.call(TOKEN, "createForumTopic", {"chat_id": GROUP, "name": "Maria"})
    user = api.user(555)
    photo = await user.send_photo(b"\xff\xd8jpeg", caption="meu roteador")
    copied = await api.call(
        TOKEN,
        "copyMessage",
        {"chat_id": GROUP, "from_chat_id": 555, "message_id": photo.message_id,
         "message_thread_id": topic["message_thread_id"]},
    )  # fmt: skip
    copy = api.message(GROUP, copied["message_id"])
    assert copy is not None and copy.photo is photo.photo and copy.caption == "meu roteador"
    assert copy.message_thread_id == topic["message_thread_id"]


async def test_privacy_mode_a_bot_that_is_not_an_administrator_sees_only_commands() -> None:
    api = LocalBotApi(TOKEN)
    api.open_forum(GROUP, "Atendimento", admins={42: "Ana"}, bot_admin=False)
    member = api.team_member(GROUP, 42)
    await member.post(None, text="bom dia")
    await member.post(None, text="/encerrar")
    updates = await api.call(TOKEN, "getUpdates", {})
    assert [u["message"]["text"] for u in updates] == ["/encerrar"]
    api.open_forum(GROUP, "Atendimento")  # now an administrator: every message
    await member.post(None, text="boa tarde")
    updates = await api.call(TOKEN, "getUpdates", {"offset": updates[-1]["update_id"] + 1})
    assert [u["message"]["text"] for u in updates] == ["boa tarde"]
