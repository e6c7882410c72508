"""What the tickets' tests share: files to attach, the seeded tickets, reading what was sent."""

from __future__ import annotations

import re
from typing import Any

from backend_client.models import BackendSession, Ticket
from tests.support.bot_env import PERSON, BotEnv
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown
from tests.support.fake_telegram import Call

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
TXT = b"Teste no cabo: 312 Mbps de download, 158 de upload.\n"

# Seeded tickets of PERSON (Maria): tk-1 closed (PDF from the provider), tk-2 pending (PNG from
# the provider), tk-3 open; tk-4 belongs to COMPANY.
CLOSED, PENDING, OPEN, OTHERS = "tk-1", "tk-2", "tk-3", "tk-4"
CLOSED_PROTOCOL = "20260909000001"


async def backend_session(env: BotEnv, account: Any = PERSON) -> BackendSession:
    assert env.backend is not None
    return await env.backend.login(account.document, account.password)


async def all_tickets(env: BotEnv, account: Any = PERSON) -> list[Ticket]:
    assert env.backend is not None
    return await env.backend.list_tickets(await backend_session(env, account))


def protocol_messages(calls: list[Call]) -> list[str]:
    """sendMessage texts that are a protocol number alone in a <code> block."""
    return [
        match.group(1)
        for call in calls
        if call.method == "sendMessage"
        and (match := re.fullmatch(r"<code>(\d+)</code>", str(call.params.get("text"))))
    ]


def answers(calls: list[Call]) -> int:
    return methods(calls).count("answerCallbackQuery")


async def new_ticket_until_attachments(
    chat: ChatDriver, description: str = "Sem internet desde ontem à noite, luz LOS acesa."
) -> None:
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    await chat.press("tk:subject:sem-conexao")
    calls = await chat.send(description)
    assert "Anexos (opcional)" in shown(calls)
