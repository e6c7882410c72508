"""Minha Central: the Telegram bot."""

import os

# Opt in to python-telegram-bot's future behaviour (durations as timedelta, e.g.
# RetryAfter.retry_after) instead of reading deprecated integer values.
os.environ.setdefault("PTB_TIMEDELTA", "1")
