"""``minha-central config check [FILE]``: validate the provider file, CI-friendly.

Exit 0 when the file is valid (it says which menu items the configured backend lacks and will
stay hidden whatever the file says), 2 when it has problems (each on its own line, on stderr).
Without FILE it checks ``PROVIDER_CONFIG`` (or ``provider.toml`` in the working directory).
It needs no bot token: only ``BACKEND`` is read, to tell the hidden items.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from bot.provider.config import MENU_IDS, ProviderConfig, ProviderConfigError, load
from bot.provider.store import DEFAULT_FILE

EXIT_OK = 0
EXIT_PROBLEMS = 2


def add_parser(commands: Any) -> None:
    config = commands.add_parser("config", help="the provider file (PROVIDER_CONFIG)")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    check = config_commands.add_parser(
        "check", help="validate the provider file: exit 0 valid, 2 with every problem named"
    )
    check.add_argument(
        "file", nargs="?", help="the file (default: PROVIDER_CONFIG, or ./provider.toml)"
    )


def run(args: argparse.Namespace) -> int:
    environment = _environment()
    path = args.file or environment.get("PROVIDER_CONFIG") or DEFAULT_FILE
    if not args.file and not Path(path).exists():
        print(f"no provider file ({path}): the bot runs with its defaults, as Minha Central")
        return EXIT_OK
    try:
        config = load(path)
    except ProviderConfigError as error:
        count = len(error.problems)
        print(f"{path}: {count} problem{'s' if count > 1 else ''}:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_PROBLEMS
    backend = (environment.get("BACKEND") or "sandbox").strip().lower()
    print(f"{path}: ok")
    for line in describe(config, backend, lacking_items(backend)):
        print(f"  {line}")
    return EXIT_OK


def check_at_start(path: str | None) -> bool:
    """Before ``minha-central run`` starts anything: True when the provider file at ``path``
    (None: no file) is valid; else every problem is printed, as for the settings (exit 2)."""
    if path is None:
        return True
    try:
        load(path)
    except ProviderConfigError as error:
        print(f"Minha Central cannot start; fix the provider file {path}:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return False
    return True


def describe(config: ProviderConfig, backend: str, lacking: Iterable[str]) -> list[str]:
    """What the bot will show with ``config`` on ``backend`` (lines for ``config check``)."""
    lacking = set(lacking)
    shown = [item for item in config.menu_items if item not in lacking]
    hidden = [item for item in config.menu_items if item in lacking]
    lines = [f"provider: {config.provider.name or '(no name: the bot speaks as Minha Central)'}"]
    lines.append(f"menu ({len(shown)} items): {', '.join(shown) or '(none)'}")
    if hidden:
        lines.append(
            f"hidden: BACKEND={backend} cannot do {', '.join(hidden)}; these items stay out of "
            "the menu whatever the file says"
        )
    if backend == "http":
        lines.append("BACKEND=http: items the server answers not_supported are hidden once it does")
    left_out = [item for item in MENU_IDS if item not in config.menu_items]
    if left_out:
        lines.append(f"not in [menu] items: {', '.join(left_out)}")
    return lines


def lacking_items(backend: str) -> frozenset[str]:
    """Menu items ``backend`` (a BACKEND name) cannot do by design; empty when unknown."""
    adapter = _adapter(backend)
    if adapter is None:
        return frozenset()
    unsupported = {feature.value for feature in adapter.unsupported_features()}
    return frozenset(item for item in MENU_IDS if item in unsupported)


def _adapter(backend: str) -> Any:
    """An adapter of ``backend``, never started: constructing one opens no connection, so the
    placeholders are never used (it only answers ``unsupported_features``)."""
    url = "https://placeholder.invalid"
    if backend == "sgp":
        from backend_client.sgp import SgpBackend

        return SgpBackend(url, "unused", "unused")
    if backend == "ixc":
        from backend_client.ixc import IxcBackend

        return IxcBackend(url, "1", "unused")
    if backend == "http":
        from backend_client.http.backend import HttpBackend

        return HttpBackend(url)
    return None  # the sandbox does everything


def _environment() -> dict[str, str]:
    """The environment over ``.env``, as Settings reads them (without validating the rest)."""
    values: dict[str, str] = {}
    if Path(".env").is_file():
        values.update({k: v for k, v in dotenv_values(".env").items() if v})
    values.update({k: v for k, v in os.environ.items() if v.strip()})
    return values
