"""One delivery policy: what a Telegram error means for the message that raised it.

Notifications (``bot.notifications.jobs``) and broadcasts (``bot.broadcasts.sender``,
interpreted by ``bot.broadcasts.delivery``) both ask :func:`classify` and act on its
:class:`Outcome`:

========== ============================================ ==========================================
Kind       Raised by (python-telegram-bot v22)          What the sender does
========== ============================================ ==========================================
FLOOD_WAIT ``RetryAfter`` (``parameters.retry_after``)  not sent; it and what follows wait
BLOCKED    ``Forbidden`` (403)                          never again; the chat's link deactivated
CHAT_GONE  ``BadRequest`` "Chat not found" (400)        failed; the chat's link deactivated
MOVED      ``ChatMigrated`` (``migrate_to_chat_id``)    the link follows the new id; sent there once
REFUSED    any other ``BadRequest`` (400), 401/404/409  failed, never resent
NOT_SENT   ``NetworkError``; the pool ``TimedOut``      safe to resend (bounded, with back-off)
MAYBE_SENT ``TimedOut`` otherwise; a 2xx without JSON   ``uncertain``: flagged, never resent
========== ============================================ ==========================================

Where these come from (python-telegram-bot 22, ``telegram/request/_baserequest.py``
``_request_wrapper``): an answer's ``parameters.migrate_to_chat_id`` raises ``ChatMigrated`` and
``parameters.retry_after`` raises ``RetryAfter`` before the HTTP status is looked at; then 403 is
``Forbidden``, 401/404 ``InvalidToken``, 400 ``BadRequest``, 409 ``Conflict`` and any other
status (502 included) ``NetworkError``; an exception of the HTTP layer that is not a
``TelegramError`` becomes ``NetworkError("Unknown error in HTTP implementation …")``. A 2xx
answer whose body is not JSON raises the bare ``TelegramError("Invalid server response")``
(``parse_json_payload``): Telegram answered success, so the message probably went out.
``telegram/error.py``: ``TimedOut`` and ``BadRequest`` are subclasses of ``NetworkError``, so
they are looked at first.

The ``TimedOut`` rule, decided once: a timeout may come after Telegram got the request, so the
message may be in the chat — it is ``MAYBE_SENT`` and never sent again (a duplicate reminder or
notice is worse than one flagged as uncertain). The one exception is a *pool* timeout: the
request waited for a free connection and never left; PTB's ``HTTPXRequest.do_request``
(``telegram/request/_httpxrequest.py``, on ``httpx.PoolTimeout``) and our
``bot/transport.py`` (``_POOL_TIMEOUT_MESSAGE``) both say "Request was *not* sent to Telegram".
``NetworkError`` other than a timeout is ``NOT_SENT`` as both senders have always treated it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.services.pacing import retry_seconds

__all__ = ["Kind", "Outcome", "classify"]


class Kind(enum.Enum):
    FLOOD_WAIT = "flood_wait"
    BLOCKED = "blocked"
    CHAT_GONE = "chat_gone"
    MOVED = "moved"
    REFUSED = "refused"
    NOT_SENT = "not_sent"
    MAYBE_SENT = "maybe_sent"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to a message that raised: ``retry_after`` (seconds) for ``FLOOD_WAIT``,
    ``new_chat_id`` for ``MOVED``, ``reason`` groups ``REFUSED`` ones in reports."""

    kind: Kind
    detail: str
    retry_after: float = 0.0
    new_chat_id: int | None = None
    reason: str = ""

    @property
    def resend(self) -> bool:
        """May the same message be sent to the same chat again (later)?"""
        return self.kind in (Kind.FLOOD_WAIT, Kind.NOT_SENT)


def _pool_timeout(error: TimedOut) -> bool:
    """The request never left: PTB's and our transport's pool timeouts say so in the message."""
    text = str(error)
    return "not* sent" in text or "not sent" in text.lower()


def classify(error: TelegramError | Exception) -> Outcome:
    """The one reading of an exception raised while sending a message (see the module)."""
    detail = str(error)
    if isinstance(error, RetryAfter):
        return Outcome(Kind.FLOOD_WAIT, detail, retry_after=retry_seconds(error))
    if isinstance(error, ChatMigrated):
        return Outcome(Kind.MOVED, detail, new_chat_id=int(error.new_chat_id))
    if isinstance(error, Forbidden):
        return Outcome(Kind.BLOCKED, detail)
    if isinstance(error, BadRequest):
        if "chat not found" in detail.lower():
            return Outcome(Kind.CHAT_GONE, detail)
        return Outcome(Kind.REFUSED, detail, reason="rejected")
    if isinstance(error, TimedOut):
        if _pool_timeout(error):
            return Outcome(Kind.NOT_SENT, detail)
        return Outcome(Kind.MAYBE_SENT, detail)
    if isinstance(error, NetworkError):
        return Outcome(Kind.NOT_SENT, detail)
    if type(error) is TelegramError:  # a 2xx answer that is not JSON (see the module)
        return Outcome(Kind.MAYBE_SENT, detail)
    if isinstance(error, TelegramError):  # InvalidToken, Conflict, EndPointNotFound…
        return Outcome(Kind.REFUSED, detail, reason="telegram_error")
    # Not from the Bot API request (PTB wraps everything under it in NetworkError): a bug or an
    # unknown answer; whether the message left is unknown, so it is never resent.
    return Outcome(Kind.REFUSED, repr(error), reason="unexpected")
