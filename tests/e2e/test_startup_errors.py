"""`minha-central run` when Telegram refuses the token (exit 5) or is out of reach (exit 4)."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import pytest

from bot.localapi.core import LocalBotApi
from tests.e2e.conftest import BotProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _run(process: BotProcess) -> tuple[int, str]:
    migrate = await process._cli("db", "upgrade")
    assert await migrate.wait() == 0
    run = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
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
