"""SIGTERM in the middle of a conversation, then a restart: the conversation resumes."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import BotProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_sigterm_mid_login_then_restart_resumes_it(bot_process: BotProcess) -> None:
    api = bot_process.api
    user = api.user(92001)
    await user.send("/start")
    await user.send("318.456.720-62")
    await user.wait_for_text("senha")

    assert await bot_process.stop() == 0  # a graceful stop
    assert "stopped" in bot_process.log_path.read_text()
    await bot_process.start()

    mark = len(user.chat.events)
    password = await user.send("demo1234")
    await user.wait_for_text("Você entrou na sua central", since=mark)
    assert api.message(user.id, password.message_id) is None  # still deleted after the restart
    logs = bot_process.log_path.read_text()
    assert "demo1234" not in logs
    assert bot_process.environ["TELEGRAM_BOT_TOKEN"] not in logs
