"""The Telegram-free side of Atendimentos: the draft's JSON round-trip (the shape chat_data has
always held) and the submission of a draft to the sandbox provider."""

from __future__ import annotations

import ast
import copy
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from backend_client.errors import Rejected, Unavailable
from backend_client.models import BackendSession, Document, TicketAuthor, TicketStatus
from backend_client.sandbox import SandboxBackend
from bot.services import tickets
from bot.services.tickets import BadDraft, DraftFile, Mode, TicketDraft
from tests.support.bot_env import PERSON, TODAY, BotEnv, login
from tests.support.driver import ChatDriver
from tests.support.driver import texts as shown

# A draft exactly as the bot has been keeping it in chat_data["tickets"]["draft"]: a new ticket
# about a closed one, with a photo, at the summary (CONFIRM is state 5).
LEGACY_NEW: dict[str, Any] = {
    "mode": "new",
    "subscriber_id": "1",
    "ticket_id": None,
    "protocol": None,
    "reference": "20260909000001",
    "subject_id": "sem-conexao",
    "subject": "Sem conexão",
    "contract_id": "ct-1",
    "contract": "1001 — Fibra 500 Mega",
    "text": "Sem internet desde ontem à noite, luz LOS acesa.",
    "files": [
        {
            "file_id": "AgACAgEAAxkBAAIBZ2dF",
            "unique_id": "AQADrLsxG",
            "name": "foto-1.jpg",
            "type": "image/jpeg",
            "size": 2061,
        }
    ],
    "photos": 1,
    "stage": 5,
    "key": "5f0c6f8e9a3b4c2d8e7f6a5b4c3d2e1f",
    "uncertain": False,
    "no_files": False,
}
# A reply begun with a file whose first attempt may have reached the provider (ATTACH is 4).
LEGACY_REPLY: dict[str, Any] = {
    **LEGACY_NEW,
    "mode": "reply",
    "ticket_id": "tk-2",
    "protocol": "20261120000001",
    "reference": None,
    "subject_id": None,
    "subject": None,
    "contract_id": None,
    "contract": None,
    "text": "",
    "stage": 4,
    "uncertain": True,
    "no_files": True,
}
WITHOUT_LATER_KEYS = {k: v for k, v in LEGACY_NEW.items() if k not in ("uncertain", "no_files")}

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
PHOTO = DraftFile("file-1", "unique-1", "foto-1.jpg", "image/jpeg", len(JPEG))


# --- the draft's JSON ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "stored", [LEGACY_NEW, LEGACY_REPLY], ids=["new ticket", "reply with a file"]
)
def test_a_stored_draft_reads_back_and_writes_the_same_json(stored: dict[str, Any]) -> None:
    draft = TicketDraft.from_json(json.loads(json.dumps(stored)))
    assert draft.to_json() == stored
    assert json.loads(json.dumps(draft.to_json())) == stored


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (
            LEGACY_NEW,
            dict(
                mode=Mode.NEW,
                reference="20260909000001",
                subject_id="sem-conexao",
                contract_id="ct-1",
                photos=1,
                stage=5,
                files=[
                    DraftFile("AgACAgEAAxkBAAIBZ2dF", "AQADrLsxG", "foto-1.jpg", "image/jpeg", 2061)
                ],
                uncertain=False,
                no_files=False,
            ),
        ),
        (
            LEGACY_REPLY,
            dict(
                mode=Mode.REPLY, ticket_id="tk-2", text="", stage=4, uncertain=True, no_files=True
            ),
        ),
        (WITHOUT_LATER_KEYS, dict(uncertain=False, no_files=False, key=LEGACY_NEW["key"])),
        ({**LEGACY_NEW, "someday": "a key this version does not know"}, dict(stage=5)),
        ({**LEGACY_NEW, "files": []}, dict(files=[], photos=1)),
    ],
    ids=["new ticket", "reply", "without the flags", "an unknown key", "no files"],
)
def test_each_field_of_a_stored_draft_is_read(
    stored: dict[str, Any], expected: dict[str, Any]
) -> None:
    draft = TicketDraft.from_json(copy.deepcopy(stored))
    assert {name: getattr(draft, name) for name in expected} == expected


def test_a_new_draft_has_its_own_key_and_no_file() -> None:
    first = TicketDraft(mode=Mode.NEW, subscriber_id="1", stage=3)
    second = TicketDraft(mode=Mode.NEW, subscriber_id="1", stage=3)
    assert first.key != second.key and len(first.key) == 32
    assert first.to_json()["files"] == [] and first.to_json()["uncertain"] is False
    assert TicketDraft.from_json(first.to_json()) == first


@pytest.mark.parametrize(
    "stored",
    [
        None,
        ["not", "an", "object"],
        {**LEGACY_NEW, "mode": "forward"},
        {**LEGACY_NEW, "subscriber_id": None},
        {**LEGACY_NEW, "stage": "5"},
        {**LEGACY_NEW, "stage": True},
        {**LEGACY_NEW, "files": "foto-1.jpg"},
        {**LEGACY_NEW, "files": [{"file_id": "x", "unique_id": "y", "type": "image/jpeg"}]},
        {**LEGACY_NEW, "text": 42},
        {**LEGACY_NEW, "uncertain": "no"},
    ],
    ids=[
        "nothing",
        "a list",
        "unknown mode",
        "nobody's",
        "stage as text",
        "stage as a flag",
        "files as text",
        "a file without name",
        "text as a number",
        "flag as text",
    ],
)
def test_what_is_not_a_draft_is_refused(stored: object) -> None:
    with pytest.raises(BadDraft):
        TicketDraft.from_json(stored)


async def test_a_draft_stored_in_the_old_shape_is_sent_after_a_restart(env: BotEnv) -> None:
    """A draft the running bot kept (a hand-written dict of the shape it has always stored) is
    picked up by the new code after a restart and sent as written."""
    chat = env.chat()
    await login(chat)
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    await chat.press("tk:subject:sem-conexao")
    await chat.send("Texto que o rascunho guardado vai substituir.")
    await chat.tap("Pular")  # the conversation now waits at the summary (CONFIRM)
    assert env.backend is not None
    session = await env.backend.login(PERSON.document, PERSON.password)
    stored = {
        **LEGACY_NEW,
        "subscriber_id": session.subscriber_id,
        "contract_id": None,
        "contract": None,
        "files": [],
        "photos": 0,
    }
    env.app.chat_data[chat.user_id]["tickets"]["draft"] = copy.deepcopy(stored)
    await chat.send("ok")  # an update of the chat: its chat_data is written at the next flush
    await env.launch()  # written to the database, read back by a new application
    chat = env.chat()
    calls = await chat.tap("Confirmar")
    said = shown(calls)
    assert "Atendimento aberto" in said
    assert "Referente ao atendimento anterior, protocolo 20260909000001." in said
    created = [t for t in await env.backend.list_tickets(session) if t.subject == "Sem conexão"]
    opened = [await env.backend.get_ticket(session, t.id) for t in created]
    descriptions = [t.messages[0].text for t in opened if t.messages]
    assert (
        "Referente ao atendimento anterior, protocolo 20260909000001.\n\n"
        "Sem internet desde ontem à noite, luz LOS acesa."
    ) in descriptions


async def test_a_draft_of_another_subscriber_or_unreadable_is_gone(
    env: BotEnv, chat: ChatDriver
) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    await chat.press("tk:subject:sem-conexao")
    await chat.send("Sem internet desde ontem à noite, luz LOS acesa.")
    await chat.tap("Pular")
    flow_data = env.app.chat_data[chat.user_id]["tickets"]
    flow_data["draft"] = {**flow_data["draft"], "stage": "five"}
    calls = await chat.tap("Confirmar")
    assert "Esse rascunho não existe mais" in shown(calls)
    assert "draft" not in env.app.chat_data[chat.user_id]["tickets"]


# --- submitting to the sandbox provider ----------------------------------------------------------
@pytest.fixture
async def backend(seeded_sandbox_file: Path, tmp_path: Path) -> AsyncIterator[SandboxBackend]:
    shutil.copy(seeded_sandbox_file, tmp_path / "provider.db")
    sandbox = SandboxBackend(f"sqlite+aiosqlite:///{tmp_path / 'provider.db'}", today=lambda: TODAY)
    await sandbox.start()
    yield sandbox
    await sandbox.close()


@pytest.fixture
async def session(backend: SandboxBackend) -> BackendSession:
    return await backend.login(PERSON.document, PERSON.password)


def draft_of(session: BackendSession, mode: Mode, **fields: Any) -> TicketDraft:
    return TicketDraft(mode=mode, subscriber_id=session.subscriber_id, stage=5, **fields)


NEW_TICKET = dict(subject_id="sem-conexao", subject="Sem conexão", text="Sem sinal desde ontem.")


@pytest.mark.parametrize(
    ("fields", "documents", "description", "files"),
    [
        (NEW_TICKET, (), "Sem sinal desde ontem.", []),
        (
            {**NEW_TICKET, "reference": "20260909000001", "files": [PHOTO]},
            (Document("foto-1.jpg", "image/jpeg", JPEG),),
            "Referente ao atendimento anterior, protocolo 20260909000001.\n\n"
            "Sem sinal desde ontem.",
            ["foto-1.jpg"],
        ),
    ],
    ids=["text only", "about a closed ticket, with a photo"],
)
async def test_a_new_ticket_is_opened_as_drafted(
    backend: SandboxBackend,
    session: BackendSession,
    fields: dict[str, Any],
    documents: tuple[Document, ...],
    description: str,
    files: list[str],
) -> None:
    draft = draft_of(session, Mode.NEW, **fields)
    ticket = await tickets.submit(backend, session, draft, documents)
    stored = await backend.get_ticket(session, ticket.id)
    assert stored.subject == "Sem conexão" and stored.status is TicketStatus.OPEN
    [first] = stored.messages
    assert first.text == description and first.author is TicketAuthor.SUBSCRIBER
    assert [a.filename for a in first.attachments] == files
    assert not draft.uncertain


async def test_submitting_the_same_new_draft_twice_opens_one_ticket(
    backend: SandboxBackend, session: BackendSession
) -> None:
    draft = draft_of(session, Mode.NEW, **NEW_TICKET)
    before = len(await backend.list_tickets(session))
    first = await tickets.submit(backend, session, draft)
    again = await tickets.submit(backend, session, TicketDraft.from_json(draft.to_json()))
    assert again.id == first.id and again.protocol == first.protocol
    assert len(await backend.list_tickets(session)) == before + 1


@pytest.mark.parametrize("uncertain", [False, True], ids=["first attempt", "after a doubt"])
async def test_a_reply_reaches_the_ticket_once(
    backend: SandboxBackend, session: BackendSession, uncertain: bool
) -> None:
    text = "Resultado: 300 Mbps no cabo."
    draft = draft_of(session, Mode.REPLY, ticket_id="tk-2", protocol="x", text=text)
    await tickets.submit(backend, session, draft)
    draft.uncertain = uncertain  # as if the answer to the first attempt had been lost
    if uncertain:
        await tickets.submit(backend, session, draft)
    messages = (await backend.get_ticket(session, "tk-2")).messages
    assert [m.text for m in messages].count(text) == 1
    assert messages[-1].author is TicketAuthor.SUBSCRIBER


async def test_a_reply_to_a_closed_ticket_is_rejected_by_the_provider(
    backend: SandboxBackend, session: BackendSession
) -> None:
    draft = draft_of(session, Mode.REPLY, ticket_id="tk-1", protocol="x", text="Voltou a cair.")
    with pytest.raises(Rejected):
        await tickets.submit(backend, session, draft)
    assert not draft.uncertain


@pytest.mark.parametrize("mode", [Mode.NEW, Mode.REPLY])
async def test_a_provider_that_does_not_answer_leaves_the_draft_uncertain(
    backend: SandboxBackend, session: BackendSession, mode: Mode
) -> None:
    fields = NEW_TICKET if mode is Mode.NEW else dict(ticket_id="tk-2", text="Oi.")
    draft = draft_of(session, mode, **fields)
    backend.outage = True
    with pytest.raises(Unavailable):
        await tickets.submit(backend, session, draft)
    assert draft.uncertain and draft.to_json()["uncertain"] is True


@pytest.mark.parametrize(
    ("names", "reason", "culprit"),
    [
        (["foto-1.jpg", "laudo.pdf"], "O arquivo laudo.pdf está corrompido.", "laudo.pdf"),
        (["a.pdf", "ba.pdf"], "ba.pdf: tipo não aceito", "ba.pdf"),  # the longest name found
        (["foto-1.jpg"], "Assunto inválido.", None),
    ],
)
def test_the_file_a_refusal_names(names: list[str], reason: str, culprit: str | None) -> None:
    files = [DraftFile(f"id-{n}", f"u-{n}", n, "application/pdf", 10) for n in names]
    draft = TicketDraft(mode=Mode.NEW, subscriber_id="1", stage=5, files=files)
    found = tickets.rejected_file(draft, reason)
    assert (found.name if found else None) == culprit


def test_the_ticket_service_knows_nothing_of_telegram_nor_of_the_chat() -> None:
    tree = ast.parse(Path(tickets.__file__).read_text(encoding="utf-8"))
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [
        a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names
    ]
    above = ("telegram", "bot.conversations", "bot.handlers", "bot.ui")
    assert [
        name for name in imported if name.split(".")[0] == "telegram" or name.startswith(above)
    ] == []
