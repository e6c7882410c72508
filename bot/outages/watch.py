"""🔔 "Avise-me quando voltar" (issue 22): a subscriber told of a declared outage asks to be told
when it ends; the chat keeps the outage ids it waits for (chat_data["outage_watch"], persisted
with the chat) and, when staff end the outage (admin API or /ocorrencias), each waiting chat
gets one message."""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import TelegramError

from bot.outages.store import DeclaredOutage
from bot.ui.screens import send_to_chat
from bot.ui.texts import no_internet as t

logger = logging.getLogger(__name__)

WATCH_KEY = "outage_watch"


def watch(chat_data: dict[str, Any], outage_id: int) -> None:
    ids = chat_data.setdefault(WATCH_KEY, [])
    if outage_id not in ids:
        ids.append(outage_id)


async def notify_ended(application: Any, outage: DeclaredOutage) -> int:
    """Tell every chat waiting for ``outage`` that it ended; how many were told."""
    waiting = [
        chat_id
        for chat_id, data in list(application.chat_data.items())
        if outage.id in (data.get(WATCH_KEY) or [])
    ]
    told = 0
    for chat_id in waiting:
        data = application.chat_data[chat_id]
        data[WATCH_KEY] = [i for i in data.get(WATCH_KEY, []) if i != outage.id]
        if not data[WATCH_KEY]:
            del data[WATCH_KEY]
        try:
            await send_to_chat(
                application.bot, chat_id, t.outage_over(outage.city, outage.neighbourhood)
            )
            told += 1
        except TelegramError as error:  # blocked the bot, chat gone: nothing more to do
            logger.info("outage %s: a waiting chat could not be told (%s)", outage.id, error)
    if waiting:
        application.mark_data_for_update_persistence(chat_ids=waiting)
    return told
