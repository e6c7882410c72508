"""The shared pieces under the adapters: credential vault, signed tokens, wire codec, shapes."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from backend_client.errors import SessionExpired, Unavailable
from backend_client.http.wire import WireError, from_json, to_json
from backend_client.kit.shape import Record
from backend_client.kit.tokens import TokenSigner
from backend_client.kit.vault import CredentialVault
from backend_client.models import (
    AttachmentInfo,
    Document,
    Ticket,
    TicketAuthor,
    TicketMessage,
    TicketStatus,
)
from tests.backends.conftest import MARIA, start_ixc, start_sgp


def test_vault_forgets_idle_and_oldest_sessions() -> None:
    now = [0.0]
    vault = CredentialVault(idle_seconds=60, max_entries=2, clock=lambda: now[0])
    first = vault.issue("s1", "31845672062", "demo1234")
    assert vault.resolve(first, "s1").secret == "demo1234"
    assert "demo1234" not in repr(vault.resolve(first, "s1"))
    with pytest.raises(SessionExpired):
        vault.resolve(first, "s2")  # somebody else's subscriber id
    now[0] = 61
    with pytest.raises(SessionExpired):
        vault.resolve(first, "s1")
    tokens = [vault.issue("s1", "d", "p") for _ in range(3)]
    with pytest.raises(SessionExpired):
        vault.resolve(tokens[0], "s1")  # evicted: at most two sessions kept
    assert vault.resolve(tokens[2], "s1")


def test_signed_tokens_reject_tampering_and_age() -> None:
    now = [1_000_000.0]
    signer = TokenSigner(b"k" * 32, max_age_seconds=10, clock=lambda: now[0])
    token = signer.sign({"sub": "3101"})
    assert signer.verify(token)["sub"] == "3101"
    prefix, payload, signature = token.split(".")
    for forged in (f"{prefix}.{payload}x.{signature}", "garbage", token + "A"):
        with pytest.raises(SessionExpired):
            signer.verify(forged)
    with pytest.raises(SessionExpired):
        TokenSigner(b"z" * 32, clock=lambda: now[0]).verify(token)
    now[0] += 11
    with pytest.raises(SessionExpired):
        signer.verify(token)


def test_wire_round_trip_and_errors_name_the_path() -> None:
    when = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)
    ticket = Ticket(
        "tk-1", "20261128000001", "Sem conexão", TicketStatus.OPEN, when, when, None,
        (TicketMessage("m1", TicketAuthor.SUBSCRIBER, "Maria", when, "Oi",
                       (AttachmentInfo("a1", "foto.png", "image/png", 3),)),),
    )  # fmt: skip
    assert from_json(Ticket, to_json(ticket)) == ticket
    document = Document("x.pdf", "application/pdf", b"%PDF-1.4")
    assert from_json(Document, to_json(document)) == document
    data = to_json(ticket)
    data["messages"][0]["sent_at"] = "2026-11-28T10:00:00"
    with pytest.raises(WireError, match=r"\$\.messages\[0\]\.sent_at: the date-time has no UTC"):
        from_json(Ticket, data)
    assert to_json(Decimal("99.90")) == "99.90" and to_json(date(2026, 1, 2)) == "2026-01-02"


def test_shape_errors_never_quote_personal_values() -> None:
    record = Record.of({"nome": 12345678901, "valor": "abc"}, "SGP", "cliente")
    with pytest.raises(Unavailable) as raised:
        record.text("nome")
    assert "12345678901" not in str(raised.value) and "cliente.nome" in str(raised.value)
    assert record.opt_text("nada") is None
    with pytest.raises(Unavailable, match="expected an amount"):
        record.money("valor")


async def test_no_credential_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for start in (start_sgp, start_ixc):
        standin, backend = await start()
        try:
            session = await backend.login(MARIA.document, MARIA.password)
            await backend.get_subscriber(session)
            await backend.list_invoices(session)
            secrets = [MARIA.password, session.token]
            accounts = standin.accounts
            secrets.append(accounts["integration"]["token"] if "integration" in accounts else "")
            secrets.append(accounts.get("token", ""))
            text = caplog.text + repr(backend)
            assert not [s for s in secrets if len(s) > 8 and s in text]
        finally:
            await backend.close()
            await standin.close()
