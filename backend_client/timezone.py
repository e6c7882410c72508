"""The subscribers' local time: São Paulo's (Brasília time), the one constant for it.

The bot shows dates and times there, and the backends' naive dates are read there; the lower
layer holds it so that ``backend_client`` and ``bot`` share it (``bot`` may import
``backend_client``, never the reverse).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def local_time(instant: datetime) -> datetime:
    """``instant`` in São Paulo (a naive instant is taken as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(SAO_PAULO)


def today(now: datetime) -> date:
    """The subscribers' date at the instant ``now``."""
    return local_time(now).date()
