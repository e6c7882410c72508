"""The Bot API methods the local Bot API answers (``_m_<method>``, looked up by ``call``), with
Telegram's checks, error codes and descriptions."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

from bot.localapi.model import BotApiError, BotEvent, StoredFile
from bot.localapi.params import checked_markup, display_text
from bot.localapi.store import ChatStore

CALLBACK_ANSWER_LIMIT = 200
DESCRIPTION_LIMIT = 512
SHORT_DESCRIPTION_LIMIT = 120
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files on the public Bot API


class BotMethods(ChatStore):
    """The methods; ``LocalBotApi`` sets the bot's identity, commands and webhook."""

    bot_user: dict[str, Any]
    commands: dict[str, list[dict[str, Any]]]
    descriptions: dict[tuple[str, str], str]
    webhook_url: str

    def _m_getme(self, params: dict[str, Any], files: dict[str, StoredFile]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_logout(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        return True

    def _m_close(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        return True

    def _m_setmycommands(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise BotApiError("Bad Request: commands must be a list of at most 100 commands")
        for command in commands:
            name = str(command.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise BotApiError("Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise BotApiError("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[str(params.get("language_code", ""))] = commands
        return True

    def _m_getmycommands(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        return self.commands.get(str(params.get("language_code", "")), [])

    def _m_deletemycommands(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        self.commands.pop(str(params.get("language_code", "")), None)
        return True

    # setMyDescription / setMyShortDescription: "New bot description; 0-512 characters",
    # "New short description for the bot; 0-120 characters"; "Pass an empty string to remove
    # the dedicated description for the given language"; the get methods answer BotDescription
    # / BotShortDescription (https://core.telegram.org/bots/api#setmydescription). The limits
    # are Telegram's; the wording of its refusal could not be checked, so ours says the limit.
    def _m_setmydescription(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        return self._set_description(params, "description", DESCRIPTION_LIMIT)

    def _m_setmyshortdescription(
        self, params: dict[str, Any], files: dict[str, StoredFile]
    ) -> bool:
        return self._set_description(params, "short_description", SHORT_DESCRIPTION_LIMIT)

    def _m_getmydescription(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        return {"description": self._description(params, "description")}

    def _m_getmyshortdescription(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        return {"short_description": self._description(params, "short_description")}

    def _set_description(self, params: dict[str, Any], name: str, limit: int) -> bool:
        text = str(params.get(name, ""))
        if len(text) > limit:
            raise BotApiError(f"Bad Request: {name} must be 0-{limit} characters")
        key = (name, str(params.get("language_code", "")))
        if text:
            self.descriptions[key] = text
        else:
            self.descriptions.pop(key, None)
        return True

    def _description(self, params: dict[str, Any], name: str) -> str:
        """The text set for exactly this language_code ("" when none: no fallback emulated)."""
        return self.descriptions.get((name, str(params.get("language_code", ""))), "")

    def _m_setwebhook(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        url = str(params.get("url", ""))
        if url and not url.startswith("https://"):
            raise BotApiError("Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_deletewebhook(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_getwebhookinfo(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _m_getupdates(
        self, params: dict[str, Any], files: dict[str, StoredFile]
    ) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise BotApiError(
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
                409,
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0)
        allowed = params.get("allowed_updates")
        if offset:
            confirmed = 0  # updates are kept in update_id order
            while confirmed < len(self._updates) and self._updates[confirmed]["update_id"] < offset:
                confirmed += 1
            del self._updates[:confirmed]

        def pending() -> list[dict[str, Any]]:
            return [u for u in self._updates if not allowed or any(kind in u for kind in allowed)][
                :limit
            ]

        async with self._changed:
            if not pending() and timeout and not self._closing:
                interruptions = self._interruptions
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(
                            lambda: (
                                bool(pending())
                                or self._closing
                                or self._interruptions != interruptions
                            )
                        ),
                        timeout,
                    )
            return pending()

    def _m_sendchataction(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        chat = self._bot_chat(params)
        self._record(BotEvent("action", chat.id, text=str(params.get("action"))))
        return True

    async def _m_sendmessage(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        chat = self._bot_chat(params)
        text = display_text(params, "text")
        markup = checked_markup(params.get("reply_markup"))
        message = self._new_message(chat.id, self.bot_user, text=text, reply_markup=markup)
        await self._emit(BotEvent("sent", chat.id, message))
        return message.to_json(chat.to_json())

    async def _m_sendphoto(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        return await self._send_media(params, files, "photo")

    async def _m_senddocument(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        return await self._send_media(params, files, "document")

    async def _send_media(
        self, params: dict[str, Any], files: dict[str, StoredFile], kind: str
    ) -> Any:
        chat = self._bot_chat(params)
        stored = files.get(kind)
        if stored is None:
            reference = params.get(kind)
            if isinstance(reference, str) and reference in self._files:
                stored = self._files[reference]
            else:
                raise BotApiError(f"Bad Request: there is no {kind} in the request")
        if not stored.content:
            raise BotApiError("Bad Request: file must be non-empty")
        if kind == "photo" and len(stored.content) > 10 * 1024 * 1024:
            raise BotApiError("Bad Request: PHOTO_INVALID_DIMENSIONS")
        self._register_file(stored)
        caption = display_text(params, "caption")
        markup = checked_markup(params.get("reply_markup"))
        message = self._new_message(chat.id, self.bot_user, caption=caption, reply_markup=markup)
        setattr(message, kind, stored)
        await self._emit(BotEvent("sent", chat.id, message))
        return message.to_json(chat.to_json())

    async def _m_editmessagetext(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        message = self._message(params, "message to edit not found")
        if message.text is None:
            raise BotApiError("Bad Request: there is no text in the message to edit")
        if not message.from_bot:
            raise BotApiError("Bad Request: message can't be edited")
        text = display_text(params, "text")
        markup = checked_markup(params.get("reply_markup"))
        if text == message.text and markup == message.reply_markup:
            raise BotApiError(
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message"
            )
        message.text, message.reply_markup, message.edited = text, markup, True
        await self._emit(BotEvent("edited", message.chat_id, message))
        return message.to_json(self._chats[message.chat_id].to_json())

    async def _m_editmessagereplymarkup(
        self, params: dict[str, Any], files: dict[str, StoredFile]
    ) -> Any:
        message = self._message(params, "message to edit not found")
        markup = checked_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise BotApiError(
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message"
            )
        message.reply_markup, message.edited = markup, True
        await self._emit(BotEvent("edited", message.chat_id, message))
        return message.to_json(self._chats[message.chat_id].to_json())

    async def _m_deletemessage(self, params: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        message = self._message(params, "message to delete not found")
        del self._chats[message.chat_id].messages[message.message_id]
        await self._emit(BotEvent("deleted", message.chat_id, message))
        return True

    async def _m_answercallbackquery(
        self, params: dict[str, Any], files: dict[str, StoredFile]
    ) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._queries or self._queries[query_id][1]:
            raise BotApiError(
                "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and len(str(text)) > CALLBACK_ANSWER_LIMIT:
            raise BotApiError("Bad Request: MESSAGE_TOO_LONG")
        chat_id = self._queries[query_id][0]
        self._queries[query_id] = (chat_id, True)
        await self._emit(BotEvent("answered", chat_id, text=str(text) if text else None))
        return True

    def _m_getfile(self, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise BotApiError("Bad Request: invalid file_id")
        if stored.file_size > DOWNLOAD_LIMIT:
            raise BotApiError("Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": stored.file_size,
            "file_path": stored.path,
        }
