"""When a broadcast goes out: now, or an instant in the coming year (typed by staff as
``dd/mm/aaaa hh:mm`` in São Paulo time, or given as an ISO 8601 instant)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from backend_client.timezone import SAO_PAULO
from bot.broadcasts.content import InvalidInput

MAX_AHEAD = timedelta(days=366)
_LOCAL_TIME = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2})[:h](\d{2})\s*$")


def parse_local_time(text: str, now: datetime) -> datetime:
    """``dd/mm/aaaa hh:mm`` in America/Sao_Paulo, in the future → the UTC instant."""
    match = _LOCAL_TIME.match(text)
    if match is None:
        raise InvalidInput("send_at", "expected dd/mm/aaaa hh:mm", "time_format")
    day, month, year, hour, minute = (int(part) for part in match.groups())
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=SAO_PAULO)
    except ValueError as error:
        raise InvalidInput(
            "send_at", f"not a real date or time ({error})", "time_format"
        ) from error
    return check_send_at(local.astimezone(UTC), now)


def check_send_at(instant: datetime, now: datetime) -> datetime:
    if instant.tzinfo is None:
        raise InvalidInput("send_at", "the instant needs a time zone", "time_format")
    instant = instant.astimezone(UTC)
    if instant <= now:
        raise InvalidInput("send_at", "must be in the future", "time_past")
    if instant > now + MAX_AHEAD:
        raise InvalidInput("send_at", "at most one year ahead", "time_far")
    return instant
