"""``[support] hours``: when the provider's team answers hand-offs, machine-readable.

Each entry is ``"<days> HH:MM-HH:MM"`` in São Paulo time; days are ``dom seg ter qua qui sex sáb``
(``sab`` too), a range (``seg-sex``) or a comma list (``sáb,dom``)::

    hours = ["seg-sex 08:00-18:00", "sáb 08:00-12:00"]

No entry means the team answers at any time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

from backend_client.timezone import SAO_PAULO

# Python's weekday(): Monday is 0.
DAYS = {"seg": 0, "ter": 1, "qua": 2, "qui": 3, "sex": 4, "sáb": 5, "sab": 5, "dom": 6}
_ENTRY = re.compile(r"^\s*(?P<days>\S+)\s+(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class Window:
    days: frozenset[int]
    start: time
    end: time


def parse_entry(entry: str) -> Window:
    """One ``hours`` entry; ValueError says what is wrong (in the file's terms)."""
    match = _ENTRY.match(entry)
    if match is None:
        raise ValueError(f'{entry!r} is not like "seg-sex 08:00-18:00"')
    days: set[int] = set()
    for part in match["days"].casefold().split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"{entry!r}: unknown day in {part!r} (dom seg ter qua qui sex sáb)")
        start_day, end_day = DAYS[first], DAYS[last or first]
        day = start_day
        days.add(day)
        while day != end_day:  # "sex-seg" wraps over the weekend
            day = (day + 1) % 7
            days.add(day)
    try:
        start = time.fromisoformat(match["start"])
        end = time.fromisoformat(match["end"])
    except ValueError:
        raise ValueError(f"{entry!r}: not a time of day (00:00 to 23:59)") from None
    if end <= start:
        raise ValueError(f"{entry!r}: the end must come after the start")
    return Window(frozenset(days), start, end)


def is_open(windows: tuple[Window, ...], now: datetime) -> bool:
    """Whether ``now`` (any zone) falls in a window in São Paulo time; always with none."""
    if not windows:
        return True
    local = now.astimezone(SAO_PAULO)
    moment = local.time().replace(tzinfo=None)
    return any(
        local.weekday() in window.days and window.start <= moment < window.end for window in windows
    )
