"""The running bot's provider configuration: one object whose ``.current`` every update reads,
replaced as a whole (never edited in place) when the admin API writes a new file."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from bot.provider.config import DEFAULT, ProviderConfig, load, parse
from bot.services.context import services_of

logger = logging.getLogger(__name__)
DEFAULT_FILE = "provider.toml"  # in the working directory, when PROVIDER_CONFIG is not set
STORE_KEY = "provider_config"  # in Application.bot_data


class ProviderConfigStore:
    """``current``: the configuration in force; ``path``: the file it is read from and written
    to (``provider.toml`` in the working directory when no file was configured)."""

    def __init__(self, path: str | Path | None, current: ProviderConfig = DEFAULT) -> None:
        self.path = Path(path) if path is not None else Path(DEFAULT_FILE)
        self.current = current
        self._lock = asyncio.Lock()

    @classmethod
    def open(cls, path: str | Path | None) -> ProviderConfigStore:
        """The store of the file at ``path`` (read and validated now: ProviderConfigError names
        every problem), or of the defaults when ``path`` is None."""
        return cls(path, load(path) if path is not None else DEFAULT)

    def text(self) -> str | None:
        """The file as written, or None when there is none."""
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    async def replace(self, text: str) -> ProviderConfig:
        """Validate ``text`` (ProviderConfigError names every problem; nothing changes then),
        write it atomically and make it current: the next update reads it."""
        config = parse(text, str(self.path))
        async with self._lock:
            await asyncio.to_thread(write_atomically, self.path, text)
            self.current = config
        logger.info("provider configuration replaced (%s)", self.path)
        return config


def write_atomically(path: Path, text: str) -> None:
    """A temporary file beside ``path``, flushed to disk, then renamed over it (``os.replace``
    is atomic on POSIX and Windows): a reader sees the old file or the new, never half of one."""
    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, path.stat().st_mode & 0o777)  # keep the file's permissions
        if not path.exists():
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def install(bot_data: dict[Any, Any], store: ProviderConfigStore) -> None:
    """Done once by bot.application.build_application."""
    bot_data[STORE_KEY] = store


def store_of(application: Any) -> ProviderConfigStore:
    """The application's store: the one ``.current`` every update reads. Opened the first time
    it is asked for, from the settings' ``PROVIDER_CONFIG`` (``minha-central run`` has checked
    the file before starting: see :func:`bot.provider.cli.check_at_start`)."""
    bot_data = application.bot_data
    store: ProviderConfigStore | None = bot_data.get(STORE_KEY)
    if store is None:
        settings = services_of(application).settings
        store = ProviderConfigStore.open(settings.provider_config)
        bot_data[STORE_KEY] = store
    return store


def current(context: Any) -> ProviderConfig:
    """The configuration in force for this update (from any PTB callback context)."""
    return store_of(context.application).current
