"""Every table of the bot's database, so that metadata-wide operations see them all."""

from __future__ import annotations


def register_all() -> None:
    """Import the modules that declare tables (importing registers them on ``Base``)."""
    import bot.broadcasts.store
    import bot.notifications.store
    import bot.outages.store
    import bot.storage.db
    import bot.storage.rounds
    import bot.support.store
    import bot.surveys.store  # noqa: F401
