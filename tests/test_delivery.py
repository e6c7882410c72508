"""The one delivery policy (bot.delivery.classify): Telegram's errors as python-telegram-bot
raises them, and what each means for the message."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest

from bot.delivery import Kind, classify
from bot.transport import _POOL_TIMEOUT_MESSAGE

# PTB 22 telegram/request/_httpxrequest.py, do_request on httpx.PoolTimeout
PTB_POOL_TIMEOUT = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent "
    "to Telegram. Consider adjusting the connection pool size or the pool timeout."
)

MAYBE = Kind.MAYBE_SENT
TABLE: list[tuple[Exception, Kind]] = [
    (RetryAfter(7), Kind.FLOOD_WAIT),
    (RetryAfter(timedelta(seconds=7)), Kind.FLOOD_WAIT),
    (Forbidden("Forbidden: bot was blocked by the user"), Kind.BLOCKED),
    (Forbidden("Forbidden: user is deactivated"), Kind.BLOCKED),
    (BadRequest("Bad Request: chat not found"), Kind.CHAT_GONE),
    (ChatMigrated(-1001234), Kind.MOVED),
    (BadRequest("Bad Request: can't parse entities"), Kind.REFUSED),
    (BadRequest("Bad Request: message is too long"), Kind.REFUSED),
    (InvalidToken("Unauthorized"), Kind.REFUSED),
    (EndPointNotFound("Not Found"), Kind.REFUSED),
    (Conflict("Conflict"), Kind.REFUSED),
    (ValueError("a bug"), Kind.REFUSED),
    (TimedOut(PTB_POOL_TIMEOUT), Kind.NOT_SENT),
    (TimedOut(_POOL_TIMEOUT_MESSAGE), Kind.NOT_SENT),
    (NetworkError("httpx.ConnectError: All connection attempts failed"), Kind.NOT_SENT),
    (NetworkError("Bad Gateway (502)"), Kind.NOT_SENT),
    (TimedOut(), Kind.MAYBE_SENT),  # PTB's httpx read/write/connect timeouts: "Timed out"
    (TimedOut("Timed out waiting for the answer to POST sendMessage (read timeout 5)"), MAYBE),
    (TimedOut("Timed out sending POST sendMessage (write timeout 5 s)"), Kind.MAYBE_SENT),
    (TelegramError("Invalid server response"), Kind.MAYBE_SENT),
]


@pytest.mark.parametrize(("error", "kind"), TABLE, ids=lambda v: repr(v)[:60])
def test_classify(error: Exception, kind: Kind) -> None:
    outcome = classify(error)
    assert outcome.kind is kind
    assert outcome.resend is (kind in (Kind.FLOOD_WAIT, Kind.NOT_SENT))


def test_classify_carries_the_wait_the_new_chat_and_the_reason() -> None:
    assert classify(RetryAfter(7)).retry_after == 7.0
    assert classify(RetryAfter(timedelta(seconds=2.5))).retry_after == 2.5
    assert classify(ChatMigrated(-1001234)).new_chat_id == -1001234
    assert classify(BadRequest("Bad Request: can't parse entities")).reason == "rejected"
    assert classify(InvalidToken("Unauthorized")).reason == "telegram_error"
    assert classify(ValueError("a bug")).reason == "unexpected"


class Answering(BaseRequest):
    """PTB's request machinery over a canned HTTP answer: the exception PTB itself raises."""

    def __init__(self, code: int, body: bytes) -> None:
        self.code, self.body = code, body

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        return self.code, self.body


def _answer(code: int, description: str, **parameters: Any) -> bytes:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("code", "body", "kind"),
    [
        (429, _answer(429, "Too Many Requests: retry after 5", retry_after=5), Kind.FLOOD_WAIT),
        (400, _answer(400, "Bad Request: group upgraded", migrate_to_chat_id=-100), Kind.MOVED),
        (403, _answer(403, "Forbidden: bot was blocked by the user"), Kind.BLOCKED),
        (400, _answer(400, "Bad Request: chat not found"), Kind.CHAT_GONE),
        (400, _answer(400, "Bad Request: can't parse entities"), Kind.REFUSED),
        (401, _answer(401, "Unauthorized"), Kind.REFUSED),
        (500, _answer(500, "Internal Server Error"), Kind.NOT_SENT),
        (200, b"<html>not json</html>", Kind.MAYBE_SENT),
    ],
    ids=["429", "migrated", "403", "chat-not-found", "400", "401", "500", "200-not-json"],
)
async def test_what_ptb_raises_for_an_answer_is_classified(
    code: int, body: bytes, kind: Kind
) -> None:
    """PTB 22's own mapping of an answer to an exception (BaseRequest._request_wrapper, post)."""
    with pytest.raises(TelegramError) as raised:
        await Answering(code, body).post("https://api.telegram.org/botX/sendMessage")
    assert classify(raised.value).kind is kind
