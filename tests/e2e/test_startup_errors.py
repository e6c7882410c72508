"""`minha-central run` when Telegram refuses the token (exit 5) or is out of reach (exit 4), and
when the provider's system refuses the integration's credentials (exit 6)."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import pytest

from bot.localapi.core import LocalBotApi
from tests.e2e.conftest import BotProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")


ROOT = Path(__file__).resolve().parents[2]
# `minha-central run` with a provider's system that refuses the integration's credentials.
RUN_REFUSED = (
    "import bot.application, tests.support.fake_backends as fake; "
    "bot.application.create_backend = fake.refusing; "
    "from bot.cli import main; raise SystemExit(main(['run']))"
)


async def _run(process: BotProcess, *command: str) -> tuple[int, str]:
    migrate = await process._cli("db", "upgrade")
    assert await migrate.wait() == 0
    run = await asyncio.create_subprocess_exec(
        sys.executable, *(command or ("-m", "bot", "run")),
        cwd=process.workdir, env=process.environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(run.communicate(), 60)
    assert run.returncode is not None
    return run.returncode, stderr.decode()


async def test_a_token_telegram_refuses(
    served_api: tuple[LocalBotApi, str], tmp_path: Path
) -> None:
    api, url = served_api
    process = BotProcess(api, url, tmp_path)
    wrong = "987654321:AAWrongTokenWrongTokenWrongToken_0123456"
    process.environ["TELEGRAM_BOT_TOKEN"] = wrong
    code, stderr = await _run(process)
    assert code == 5
    assert "Telegram refused TELEGRAM_BOT_TOKEN" in stderr
    assert wrong not in stderr and "Traceback" not in stderr


async def test_telegram_out_of_reach(served_api: tuple[LocalBotApi, str], tmp_path: Path) -> None:
    api, _ = served_api
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    process = BotProcess(api, closed, tmp_path)
    code, stderr = await _run(process)
    assert code == 4
    assert f"Cannot reach the Telegram Bot API at {closed}" in stderr
    assert "Traceback" not in stderr and "Unclosed client session" not in stderr


async def test_integration_credentials_the_provider_refuses(
    served_api: tuple[LocalBotApi, str], tmp_path: Path
) -> None:
    from tests.support.fake_backends import SECRET_TOKEN

    api, url = served_api
    process = BotProcess(api, url, tmp_path)
    process.environ.update(
        BACKEND="sgp",
        BACKEND_URL="https://sgp.provedor.example",
        BACKEND_TOKEN=SECRET_TOKEN,
        BACKEND_APP="minhacentral",
        ENCRYPTION_KEY="Kk7F1Vx8b1rXxAq9mJm0c0dHq8y2V8xk3s5b9Q1f2Rw=",  # production needs one
        PYTHONPATH=str(ROOT),
    )
    code, stderr = await _run(process, "-c", RUN_REFUSED)
    assert code == 6
    assert stderr.splitlines()[-1] == (
        "The sgp system at https://sgp.provedor.example refused the integration's "
        "credentials: check BACKEND_TOKEN and BACKEND_APP."
    )
    assert "Minha Central running" not in stderr
    assert SECRET_TOKEN not in stderr and "Traceback" not in stderr
    assert "Unclosed" not in stderr
