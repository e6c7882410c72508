"""Start-up configuration and the command line, as an operator meets them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from backend_client.formats.documents import normalize_document
from bot.settings import Settings, SettingsError
from tests.support.bot_env import TOKEN


def test_defaults_with_only_a_token() -> None:
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    assert settings.backend == "sandbox"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.bot_base_url == "https://api.telegram.org/bot"
    assert settings.bot_base_file_url == "https://api.telegram.org/file/bot"


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(
            {
                "TELEGRAM_API_URL": "ftp://nope",
                "BACKEND": "oracle",
                "SESSION_IDLE_MINUTES": "-3",
                "DATABASE_URL": "mysql://x",
                "LOG_LEVEL": "LOUD",
            },
            env_file=None,
        )
    message = str(raised.value)
    for name in (
        "TELEGRAM_BOT_TOKEN is missing",
        "TELEGRAM_API_URL",
        "BACKEND",
        "SESSION_IDLE_MINUTES",
        "DATABASE_URL",
        "LOG_LEVEL",
    ):
        assert name in message


def test_malformed_token_is_refused() -> None:
    with pytest.raises(SettingsError, match="does not look like a bot token"):
        Settings.from_env({"TELEGRAM_BOT_TOKEN": "abc"}, env_file=None)


def test_dotenv_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\n"
        "TELEGRAM_API_URL=http://127.0.0.1:8081/\n"
        "SESSION_IDLE_MINUTES=5\n"
        "DATABASE_URL=postgresql://bot@db/central\n"
    )
    settings = Settings.from_env({"SESSION_IDLE_MINUTES": "45"}, env_file=env_file)
    assert settings.bot_base_url == "http://127.0.0.1:8081/bot"
    assert settings.session_idle_timeout == timedelta(minutes=45)
    assert settings.database_url == "postgresql+asyncpg://bot@db/central"


def _cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_sandbox_accounts_as_json() -> None:
    result = _cli("sandbox", "accounts", "--json")
    assert result.returncode == 0, result.stderr
    accounts = json.loads(result.stdout)
    assert len(accounts) >= 4
    for account in accounts:
        assert {"document", "password", "name", "situation"} <= account.keys()
        assert normalize_document(account["document"]) == account["document"]


def test_run_without_a_token_explains_what_is_missing(tmp_path: Path) -> None:
    # In an empty folder, so that no developer's .env is read.
    result = _cli("run", env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is missing" in result.stderr
    assert "Traceback" not in result.stderr
