"""Logging: plain text for people, one JSON object per line for log pipelines (LOG_FORMAT=json).

Nothing secret is logged: handlers log hashed chat ids, never passwords; the HTTP client
libraries, whose request lines contain the bot token, are kept at WARNING.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiohttp.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def chat_ref(chat_id: int | None) -> str:
    """A stable, non-reversible reference to a chat for logs."""
    if chat_id is None:
        return "-"
    return hashlib.sha256(f"minha-central:{chat_id}".encode()).hexdigest()[:12]
