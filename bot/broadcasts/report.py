"""A broadcast's progress and report: counts by outcome, duration and rate (the same JSON for
the admin API, the command line and ``/avisos``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.broadcasts import store as db
from bot.broadcasts.store import Broadcast, Counts


@dataclass(frozen=True, slots=True)
class Report:
    broadcast: Broadcast
    counts: Counts
    now: datetime

    @property
    def sent(self) -> int:
        return self.counts[db.SENT]

    @property
    def failed(self) -> int:
        return self.counts[db.FAILED]

    @property
    def blocked(self) -> int:
        return self.counts[db.BLOCKED]

    @property
    def uncertain(self) -> int:
        return self.counts[db.UNCERTAIN]

    @property
    def pending(self) -> int:
        """Not sent yet (or never, if the broadcast was cancelled)."""
        return self.counts[db.PENDING] + self.counts[db.SENDING]

    @property
    def total(self) -> int:
        if self.broadcast.total is not None:
            return self.broadcast.total
        return self.counts.total

    @property
    def processed(self) -> int:
        return self.sent + self.failed + self.blocked + self.uncertain

    @property
    def duration(self) -> float | None:
        """Seconds from the first message to the end (or to now while open)."""
        started = self.broadcast.started_at
        if started is None:
            return None
        end = self.broadcast.finished_at or self.now
        return max(0.0, (end - started).total_seconds())

    @property
    def rate(self) -> float | None:
        """Messages handled per second of sending (pauses left out)."""
        seconds = self.broadcast.active_seconds
        if seconds <= 0 or not self.processed:
            return None
        return (self.sent + self.failed + self.blocked) / seconds

    def to_json(self) -> dict[str, Any]:
        b = self.broadcast
        return {
            "id": b.id,
            "status": b.status,
            "created_at": b.created_at.isoformat(),
            "created_by": b.created_by,
            "send_at": b.send_at.isoformat(),
            "started_at": b.started_at.isoformat() if b.started_at else None,
            "finished_at": b.finished_at.isoformat() if b.finished_at else None,
            "text": b.text,
            "media": (
                {"type": b.media_kind, "file_id": b.media_file_id, "name": b.media_name}
                if b.media_kind
                else None
            ),
            "audience": b.audience,
            "paid_broadcast": b.paid,
            "progress": {
                "total": b.total,
                "processed": self.processed,
                "percent": round(100 * self.processed / self.total, 1) if self.total else None,
            },
            "report": {
                "sent": self.sent,
                "failed": self.failed,
                "failed_by_reason": dict(sorted(self.counts.failed_by_reason.items())),
                "blocked": self.blocked,
                "pending": self.pending,
                "uncertain": self.uncertain,
                "duration_seconds": _round(self.duration),
                "sending_seconds": _round(b.active_seconds),
                "rate_per_second": _round(self.rate),
                "flood_waits": b.flood_waits,
                "flood_wait_seconds": _round(b.flood_seconds),
            },
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
