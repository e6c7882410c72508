"""Supergroups with forum topics in the local Bot API, as the Bot API documents them
(https://core.telegram.org/bots/api#createforumtopic and the methods below):

- ``createForumTopic`` (chat_id, name "1-128 characters", icon_color) "Returns information about
  the created topic as a ForumTopic object" (message_thread_id, name, icon_color); "the bot must be
  an administrator in the chat for this to work and must have the can_manage_topics administrator
  rights". Telegram's refusals for a chat that is not a forum and an empty title are MTProto's
  ``CHANNEL_FORUM_MISSING`` and ``TOPIC_TITLE_EMPTY`` (core.telegram.org/method/
  channels.createForumTopic, "Possible errors"), which the Bot API passes on after "Bad Request: ".
- ``closeForumTopic`` / ``reopenForumTopic`` (chat_id, message_thread_id) return True; sending to
  a closed topic is refused (``TOPIC_CLOSED``), as is an unknown thread (``TOPIC_ID_INVALID``) —
  MTProto's error names again; repeating a close answers ``TOPIC_NOT_MODIFIED``.
- ``message_thread_id`` on sendMessage/sendPhoto/sendDocument/copyMessage: "Unique identifier for
  the target message thread (topic) of the forum; for forum supergroups only"; messages in a topic
  carry ``message_thread_id`` and ``is_topic_message: true``.
- ``copyMessage`` (chat_id, from_chat_id, message_id, message_thread_id, caption) "Returns the
  MessageId of the sent message on success".
- ``getChatMember`` (chat_id, user_id) answers a ChatMember whose ``status`` is "creator",
  "administrator", "member" or "left"; ``getChatAdministrators`` the administrators (bots
  included) as ChatMember objects.

The test side opens a forum (:meth:`ForumMethods.open_forum`) with its administrators, and a
:class:`TeamMember` writes in a topic.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.localapi.methods import BotMethods
from bot.localapi.model import BotApiError, BotEvent, StoredFile, StoredMessage
from bot.localapi.params import checked_markup, display_text
from bot.localapi.user import LocalUser

if TYPE_CHECKING:
    from bot.localapi.core import LocalBotApi

DEFAULT_ICON_COLOR = 7322096  # 0x6FB9F0, the first colour the Bot API allows
ICON_COLORS = frozenset({7322096, 16766590, 13338331, 9367192, 16749490, 16478047})
TOPIC_NAME_LIMIT = 128


@dataclass
class Forum:
    """A forum supergroup's topics and people (user id → status, first name)."""

    topics: dict[int, dict[str, Any]] = field(default_factory=dict)
    closed: set[int] = field(default_factory=set)
    members: dict[int, tuple[str, str]] = field(default_factory=dict)


class ForumMethods(BotMethods):
    """Forum topics, chat members and copyMessage."""

    def __init__(self, first_message_id: int = 1) -> None:
        super().__init__(first_message_id)
        self._forums: dict[int, Forum] = {}
        self._thread_ids = itertools.count(2)

    # --- test side ------------------------------------------------------------------------
    def open_forum(
        self,
        chat_id: int,
        title: str,
        admins: dict[int, str] | None = None,
        members: dict[int, str] | None = None,
        *,
        bot_admin: bool = True,
        forum: bool = True,
    ) -> None:
        """A supergroup (with topics when ``forum``), its administrators and members by id →
        first name; the bot is an administrator (can_manage_topics) when ``bot_admin``."""
        chat = self._chat(chat_id, "supergroup", title)
        chat.type, chat.first_name, chat.is_forum = "supergroup", title, forum
        state = self._forums.setdefault(chat_id, Forum())
        for user_id, name in (admins or {}).items():
            state.members[user_id] = ("administrator", name)
        for user_id, name in (members or {}).items():
            state.members[user_id] = ("member", name)
        bot_id = int(self.bot_user["id"])
        state.members[bot_id] = ("administrator" if bot_admin else "member", "bot")

    def _sees(self, chat_id: int, message: StoredMessage) -> bool:
        """Privacy mode (on by default, getMe's can_read_all_group_messages false): in groups
        the bot receives commands and replies to it, but every message when it is an
        administrator (https://core.telegram.org/bots/features#privacy-mode)."""
        forum = self._forums.get(chat_id)
        if forum and forum.members.get(int(self.bot_user["id"]), ("", ""))[0] == "administrator":
            return True
        return bool(message.text and message.text.startswith("/"))

    def topic(self, chat_id: int, thread_id: int) -> dict[str, Any] | None:
        forum = self._forums.get(chat_id)
        return forum.topics.get(thread_id) if forum else None

    def topic_closed(self, chat_id: int, thread_id: int) -> bool:
        forum = self._forums.get(chat_id)
        return bool(forum and thread_id in forum.closed)

    def team_member(self, chat_id: int, user_id: int) -> TeamMember:
        return TeamMember(self, chat_id, user_id)  # type: ignore[arg-type]

    # --- methods --------------------------------------------------------------------------
    def _forum(self, params: dict[str, Any]) -> tuple[int, Forum]:
        chat = self._bot_chat(params)
        forum = self._forums.get(chat.id)
        if forum is None or not chat.is_forum:
            raise BotApiError("Bad Request: CHANNEL_FORUM_MISSING")
        return chat.id, forum

    def _m_createforumtopic(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        _, forum = self._forum(params)
        if forum.members.get(int(self.bot_user["id"]), ("left", ""))[0] != "administrator":
            raise BotApiError("Bad Request: not enough rights to create a topic")
        name = str(params.get("name") or "")
        if not name.strip():
            raise BotApiError("Bad Request: TOPIC_TITLE_EMPTY")
        if len(name) > TOPIC_NAME_LIMIT:
            raise BotApiError("Bad Request: TOPIC_TITLE_TOO_LONG")
        color = int(params.get("icon_color") or DEFAULT_ICON_COLOR)
        if color not in ICON_COLORS:
            raise BotApiError("Bad Request: TOPIC_ICON_COLOR_INVALID")
        thread_id = next(self._thread_ids)
        topic = {"message_thread_id": thread_id, "name": name, "icon_color": color}
        forum.topics[thread_id] = topic
        return dict(topic)

    def _known_topic(self, params: dict[str, Any]) -> tuple[Forum, int]:
        _, forum = self._forum(params)
        thread_id = int(params.get("message_thread_id") or 0)
        if thread_id not in forum.topics:
            raise BotApiError("Bad Request: TOPIC_ID_INVALID")
        return forum, thread_id

    def _m_closeforumtopic(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        forum, thread_id = self._known_topic(params)
        if thread_id in forum.closed:
            raise BotApiError("Bad Request: TOPIC_NOT_MODIFIED")
        forum.closed.add(thread_id)
        return True

    def _m_reopenforumtopic(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        forum, thread_id = self._known_topic(params)
        if thread_id not in forum.closed:
            raise BotApiError("Bad Request: TOPIC_NOT_MODIFIED")
        forum.closed.discard(thread_id)
        return True

    def _m_getchatmember(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        chat = self._bot_chat(params)
        user_id = int(params.get("user_id") or 0)
        forum = self._forums.get(chat.id)
        status, name = forum.members.get(user_id, ("left", "")) if forum else ("left", "")
        return self._member(user_id, status, name)

    def _m_getchatadministrators(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        chat = self._bot_chat(params)
        forum = self._forums.get(chat.id)
        if forum is None:
            raise BotApiError("Bad Request: there are no administrators in the private chat")
        return [
            self._member(user_id, status, name)
            for user_id, (status, name) in forum.members.items()
            if status in ("creator", "administrator")
        ]

    def _member(self, user_id: int, status: str, name: str) -> dict[str, Any]:
        if user_id == int(self.bot_user["id"]):
            user = dict(self.bot_user)
        else:
            user = {"id": user_id, "is_bot": False, "first_name": name or "Usuário"}
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "administrator":
            member.update(
                can_be_edited=False, is_anonymous=False, can_manage_chat=True,
                can_delete_messages=True, can_manage_video_chats=False, can_restrict_members=True,
                can_promote_members=False, can_change_info=True, can_invite_users=True,
                can_post_stories=False, can_edit_stories=False, can_delete_stories=False,
                can_manage_topics=True, can_pin_messages=True,
            )  # fmt: skip
        return member

    # --- message_thread_id on the sending methods ----------------------------------------
    def _thread_of(self, params: dict[str, Any]) -> int | None:
        """The target topic of a send, checked; None when the message goes to the chat."""
        raw = params.get("message_thread_id")
        if raw in (None, ""):
            return None
        chat = self._bot_chat(params)
        forum = self._forums.get(chat.id)
        thread_id = int(raw)
        if forum is None or not chat.is_forum or thread_id not in forum.topics:
            raise BotApiError("Bad Request: message thread not found")
        if thread_id in forum.closed:
            raise BotApiError("Bad Request: TOPIC_CLOSED")
        return thread_id

    def _in_thread(self, result: dict[str, Any], thread_id: int | None) -> dict[str, Any]:
        if thread_id is not None:
            message = self._chats[result["chat"]["id"]].messages[result["message_id"]]
            message.message_thread_id = thread_id
            result = {**result, "message_thread_id": thread_id, "is_topic_message": True}
        return result

    async def _m_sendmessage(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        thread_id = self._thread_of(params)
        return self._in_thread(await super()._m_sendmessage(params, files), thread_id)

    async def _m_sendphoto(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        thread_id = self._thread_of(params)
        return self._in_thread(await super()._m_sendphoto(params, files), thread_id)

    async def _m_senddocument(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        thread_id = self._thread_of(params)
        return self._in_thread(await super()._m_senddocument(params, files), thread_id)

    async def _m_copymessage(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        source = self._chats.get(int(params.get("from_chat_id") or 0))
        original = source.messages.get(int(params.get("message_id") or 0)) if source else None
        if original is None:
            raise BotApiError("Bad Request: message to copy not found")
        chat = self._bot_chat(params)
        thread_id = self._thread_of(params)
        caption = original.caption
        if "caption" in params:
            caption = display_text(params, "caption")
        message = self._new_message(
            chat.id,
            self.bot_user,
            text=original.text,
            entities=original.entities,
            caption=caption,
            photo=original.photo,
            document=original.document,
            reply_markup=checked_markup(params.get("reply_markup")),
            message_thread_id=thread_id,
        )
        await self._emit(BotEvent("sent", chat.id, message))
        return {"message_id": message.message_id}


class TeamMember(LocalUser):
    """Someone of the provider's team writing in a forum topic of ``chat_id``; waits on (and
    reads) the group's messages."""

    def __init__(self, api: LocalBotApi, chat_id: int, user_id: int) -> None:
        forum = api._forums[chat_id]
        name = forum.members.get(user_id, ("left", "Fulano"))[1]
        super().__init__(api, user_id, name, "private")
        self.chat = api._chats[chat_id]

    async def post(self, thread_id: int | None, **fields: Any) -> StoredMessage:
        """A message in the topic (text=…, photo=StoredFile, document=…, caption=…)."""
        text = fields.get("text")
        if text and text.startswith("/"):
            command = text.split()[0]
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        message = self.api._new_message(
            self.chat.id, self.profile, message_thread_id=thread_id, **fields
        )
        if self.api._sees(self.chat.id, message):
            await self.api._push_update("message", message.to_json(self.chat.to_json()))
        return message

    def in_topic(self, thread_id: int) -> list[StoredMessage]:
        return [m for m in self.api.messages(self.chat.id) if m.message_thread_id == thread_id]
