"""The subscriber's login session of a chat, kept in (persisted) chat_data.

Stored as JSON: the backend session (never the password) and the instant of the last
interaction, which drives the idle timeout. The values under :data:`SECRET_KEYS` (the backend
session with its token and the CPF/CNPJ, and the document typed at login) are kept encrypted in
the database by bot.storage.persistence; in memory they are plain.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from backend_client.models import BackendSession

SESSION_KEY = "session"
LAST_SEEN_KEY = "last_seen"
ACTIVE_FLOW_KEY = "active_flow"  # see bot.conversations.common
FLOW_STATE_KEY = "flow_state"  # not written any more; dropped on leaving where a chat has it
LOGIN_DOCUMENT_KEY = "login_document"  # bot.conversations.login.DOCUMENT_KEY, between the steps
# Encrypted at rest (bot.storage.persistence): the session token and the document.
SECRET_KEYS = frozenset({SESSION_KEY, LOGIN_DOCUMENT_KEY})


def current(chat_data: dict[str, Any]) -> BackendSession | None:
    stored = chat_data.get(SESSION_KEY)
    return BackendSession.from_dict(stored) if stored else None


def begin(chat_data: dict[str, Any], session: BackendSession, now: datetime) -> None:
    chat_data[SESSION_KEY] = session.to_dict()
    chat_data[LAST_SEEN_KEY] = now.isoformat()


def end(chat_data: dict[str, Any]) -> BackendSession | None:
    session = current(chat_data)
    chat_data.pop(SESSION_KEY, None)
    chat_data.pop(LAST_SEEN_KEY, None)
    chat_data.pop(ACTIVE_FLOW_KEY, None)
    return session


def discard(chat_data: dict[str, Any]) -> None:
    """End a login whose stored session cannot be read (its key is gone): log in again."""
    chat_data.pop(SESSION_KEY, None)
    chat_data.pop(LAST_SEEN_KEY, None)
    chat_data.pop(ACTIVE_FLOW_KEY, None)
    chat_data.pop(LOGIN_DOCUMENT_KEY, None)


def is_idle(chat_data: dict[str, Any], now: datetime, timeout: timedelta) -> bool:
    last_seen = chat_data.get(LAST_SEEN_KEY)
    return last_seen is not None and now - datetime.fromisoformat(last_seen) > timeout


def touch(chat_data: dict[str, Any], now: datetime) -> None:
    if SESSION_KEY in chat_data:
        chat_data[LAST_SEEN_KEY] = now.isoformat()


def active_flow(chat_data: dict[str, Any]) -> str | None:
    flow: str | None = chat_data.get(ACTIVE_FLOW_KEY)
    return flow


def enter_flow(chat_data: dict[str, Any], name: str) -> None:
    chat_data[ACTIVE_FLOW_KEY] = name


def leave_flow(chat_data: dict[str, Any]) -> None:
    chat_data.pop(ACTIVE_FLOW_KEY, None)
    chat_data.pop(FLOW_STATE_KEY, None)
