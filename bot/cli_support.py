"""What every ``minha-central`` sub-command shares, below them all: ``bot.cli`` and the feature
CLIs (``bot.broadcasts.cli``) import it, it imports neither."""

from __future__ import annotations

import sys

from bot.settings import Settings, SettingsError


def settings_or_exit() -> Settings | None:
    """The settings, or ``None`` after printing every problem found (the caller exits with 2)."""
    try:
        return Settings.from_env()
    except SettingsError as error:
        print("Minha Central cannot start; fix the configuration:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return None
