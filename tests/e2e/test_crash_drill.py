"""Crash drill: the real ``minha-central`` process killed (SIGKILL) twice in the middle of a round
of 300 reminders, each three messages (text, linha digitável, PIX), then started again.

After the last start every reminder is delivered exactly once and whole, except at most one per
kill — the one whose message was in flight — which is ``uncertain`` and never sent again.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from bot.localapi.core import LocalBotApi
from bot.notifications.jobs import render
from bot.notifications.store import NotificationStore, Outgoing
from bot.storage.db import create_engine
from tests.e2e.conftest import BotProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")
CHATS = [700000 + n for n in range(300)]
KILL_AT = (150, 450)  # messages received when the process is killed
PARTS = 4  # a reminder's messages: text and label, linha digitável, PIX label, PIX


def payload(chat_id: int) -> dict[str, str | int]:
    return {
        "invoice_id": f"inv-{chat_id}",
        "reference": "12/2026",
        "contract_number": "1",
        "due_date": "2026-12-10",
        "amount": "99.90",
        "updated_amount": "99.90",
        "linha": f"linha-{chat_id}",
        "pix": f"pix-{chat_id}",
        "days": 3,
    }


@pytest_asyncio.fixture(loop_scope="module")
async def drill(served_api: tuple[LocalBotApi, str], tmp_path: Path) -> AsyncIterator[BotProcess]:
    api, url = served_api
    process = BotProcess(api, url, tmp_path)
    process.environ["TELEGRAM_MAX_RATE"] = "0"  # as fast as the process goes
    migrate = await process._cli("db", "upgrade")
    assert await migrate.wait() == 0, process.log_path.read_text()
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    store, now = NotificationStore(engine), datetime.now(UTC)
    for chat_id in CHATS:
        api.user(chat_id)
        # A subscriber the sandbox does not know: its polls add nothing to the round.
        await store.link(chat_id, "s-drill", "ct", "Cliente", now)
    rows = [
        Outgoing(f"invoice:inv-{c}:due_soon", c, "invoice_due_soon", payload(c), now) for c in CHATS
    ]
    assert await store.enqueue(rows, now) == len(CHATS)
    await engine.dispose()
    yield process
    if process.process is not None and process.process.returncode is None:
        await process.stop()


def received(api: LocalBotApi, chat_id: int) -> list[str]:
    return [
        e.message.text or ""
        for e in api.chat_events(chat_id)
        if e.kind == "sent" and e.message is not None
    ]


def total(api: LocalBotApi) -> int:
    return sum(len(received(api, chat_id)) for chat_id in CHATS)


async def wait_until(condition: object, seconds: float) -> None:
    for _ in range(int(seconds * 100)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_sigkill_mid_round_loses_no_reminder_and_repeats_none(drill: BotProcess) -> None:
    api = drill.api
    for threshold in KILL_AT:
        await drill.start()
        await wait_until(lambda t=threshold: total(api) >= t, 60)
        assert drill.process is not None
        drill.process.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(drill.process.wait(), 30) == -signal.SIGKILL
        await api.interrupt_polls()
        assert total(api) < PARTS * len(CHATS)  # killed mid-round
    await drill.start()
    # Everything not in flight at a kill goes out after the last start.
    await wait_until(lambda: total(api) >= PARTS * (len(CHATS) - len(KILL_AT)), 60)
    await asyncio.sleep(1.0)  # and nothing more comes
    assert await drill.stop() == 0

    engine = create_engine(f"sqlite+aiosqlite:///{drill.workdir / 'bot.db'}")
    statuses = await NotificationStore(engine).count_by_status()
    await engine.dispose()
    assert statuses.get("sending", 0) == 0 and statuses.get("pending", 0) == 0
    assert statuses.get("uncertain", 0) <= len(KILL_AT)  # only what was in flight
    assert statuses["sent"] + statuses.get("uncertain", 0) == len(CHATS)
    incomplete = 0
    for chat_id in CHATS:
        whole = [
            re.sub(r"<[^>]+>", "", text)  # as the chat shows it
            for text in render("invoice_due_soon", payload(chat_id))
        ]
        got = received(api, chat_id)
        assert got == whole[: len(got)], chat_id  # in order, nothing twice
        incomplete += len(got) < PARTS
    assert incomplete <= statuses.get("uncertain", 0)
    logs = drill.log_path.read_text()
    assert "interrupted mid-send" in logs or statuses.get("uncertain", 0) == 0
