"""The embedded sandbox backend, as the bot (and a person trying the demo) experiences it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from backend_client.errors import (
    InvalidCredentials,
    NotFound,
    Rejected,
    SessionExpired,
    Unavailable,
)
from backend_client.formats.boleto import due_date_factor, is_valid_linha_digitavel
from backend_client.formats.documents import is_valid_cnpj, is_valid_cpf
from backend_client.formats.pix import is_valid_brcode
from backend_client.models import (
    BackendSession,
    ContractStatus,
    DateRange,
    Document,
    InvoiceStatus,
    NewContact,
    NewTicket,
    TicketAuthor,
    TicketStatus,
)
from backend_client.protocol import SubscriberBackend
from backend_client.sandbox import DEMO_ACCOUNTS, SandboxBackend
from backend_client.sandbox.db import SubscriberRow
from backend_client.sandbox.pdf import pdf_text, technician_report_pdf
from backend_client.sandbox.seed import SAO_PAULO
from tests.support.postgres import ThrowawayDatabase

TODAY = date(2026, 11, 28)
MARIA, JOAO, SILVA, CAFE = range(4)
EVERYTHING = DateRange(date(2000, 1, 1), date(2100, 12, 31))


@pytest.fixture
async def backend() -> AsyncIterator[SandboxBackend]:
    sandbox = SandboxBackend("sqlite+aiosqlite://", today=lambda: TODAY)
    await sandbox.start()
    yield sandbox
    await sandbox.close()


async def login(backend: SandboxBackend, account: int) -> BackendSession:
    demo = DEMO_ACCOUNTS[account]
    return await backend.login(demo.document, demo.password)


async def login_all(backend: SandboxBackend) -> list[BackendSession]:
    """Every demo account, logged in concurrently (scrypt runs in threads)."""
    return list(await asyncio.gather(*(login(backend, i) for i in range(len(DEMO_ACCOUNTS)))))


def test_sandbox_implements_the_protocol() -> None:
    assert isinstance(SandboxBackend("sqlite+aiosqlite://"), SubscriberBackend)


def test_demo_accounts_are_fixed_and_valid() -> None:
    assert [a.document for a in DEMO_ACCOUNTS] == [
        "31845672062",
        "40211783927",
        "27481563000103",
        "12ABC34501DE35",
    ]
    assert is_valid_cpf(DEMO_ACCOUNTS[MARIA].document)
    assert is_valid_cpf(DEMO_ACCOUNTS[JOAO].document)
    assert is_valid_cnpj(DEMO_ACCOUNTS[SILVA].document)
    assert is_valid_cnpj(DEMO_ACCOUNTS[CAFE].document)
    assert DEMO_ACCOUNTS[SILVA].name == "Silva & Filhos <Ltda>"
    assert all(a.password and a.situation for a in DEMO_ACCOUNTS)


async def test_every_demo_account_logs_in(backend: SandboxBackend) -> None:
    for demo, session in zip(DEMO_ACCOUNTS, await login_all(backend), strict=True):
        assert (session.document, session.name) == (demo.document, demo.name)
        assert session.token and demo.password not in session.to_dict().values()
        subscriber = await backend.get_subscriber(session)
        assert subscriber.document == demo.document
        assert subscriber.contracts


async def test_many_logins_at_once_all_get_sessions_that_outlive_a_restart(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"
    first = SandboxBackend(url, today=lambda: TODAY)
    await first.start()
    demos = [DEMO_ACCOUNTS[n % len(DEMO_ACCOUNTS)] for n in range(30)]
    sessions = await asyncio.gather(*(first.login(d.document, d.password) for d in demos))
    await first.close()
    second = SandboxBackend(url, today=lambda: TODAY)  # nothing remembered in memory
    await second.start()
    try:
        for demo, session in zip(demos, sessions, strict=True):
            assert (await second.get_subscriber(session)).document == demo.document
    finally:
        await second.close()


async def test_a_login_whose_session_cannot_be_written_fails_and_the_next_one_works(
    backend: SandboxBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_transaction = backend._transaction

    def broken() -> object:
        monkeypatch.setattr(backend, "_transaction", real_transaction)  # only this once
        raise Unavailable("sandbox database error")

    monkeypatch.setattr(backend, "_transaction", broken)
    with pytest.raises(Unavailable):
        await login(backend, MARIA)
    session = await login(backend, MARIA)
    assert (await backend.get_subscriber(session)).name == DEMO_ACCOUNTS[MARIA].name


async def test_wrong_pair_is_invalid_credentials(backend: SandboxBackend) -> None:
    maria = DEMO_ACCOUNTS[MARIA]
    attempts = [
        backend.login(maria.document, "demo9999"),
        backend.login(maria.document, DEMO_ACCOUNTS[JOAO].password),  # another account's
        backend.login("52998224725", maria.password),  # a valid CPF with no account
    ]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    assert all(isinstance(result, InvalidCredentials) for result in results)


async def test_logout_expires_the_session(backend: SandboxBackend) -> None:
    session = await login(backend, MARIA)
    await backend.logout(session)
    with pytest.raises(SessionExpired):
        await backend.get_subscriber(session)
    with pytest.raises(SessionExpired):
        await backend.list_invoices(session)
    forged = BackendSession("s1", session.document, session.name, "not-a-token")
    with pytest.raises(SessionExpired):
        await backend.list_tickets(forged)


async def test_open_invoices_carry_valid_boleto_and_pix(backend: SandboxBackend) -> None:
    open_invoices = 0
    for session in await login_all(backend):
        invoices = await backend.list_invoices(session)
        assert [i.due_date for i in invoices] == sorted(i.due_date for i in invoices)
        for invoice in invoices:
            if invoice.status is not InvoiceStatus.OPEN:
                assert invoice.linha_digitavel is None and invoice.pix_code is None
                continue
            open_invoices += 1
            linha = invoice.linha_digitavel
            assert linha is not None and is_valid_linha_digitavel(linha)
            assert linha[:3] in {"001", "237"}
            assert int(linha[33:37]) == due_date_factor(invoice.due_date)
            assert int(linha[37:]) == int(invoice.amount * 100)
            pix = invoice.pix_code
            assert pix is not None and is_valid_brcode(pix)
            amount = f"{invoice.updated_amount:.2f}"
            assert f"54{len(amount):02d}{amount}" in pix
            assert invoice.id.replace("-", "").upper() in pix
    assert open_invoices >= 6


async def test_first_account_has_open_overdue_and_paid_invoices(backend: SandboxBackend) -> None:
    session = await login(backend, MARIA)
    invoices = await backend.list_invoices(session)
    overdue = [i for i in invoices if i.is_overdue(TODAY)]
    still_open = [i for i in invoices if i.status is InvoiceStatus.OPEN and i not in overdue]
    paid = [i for i in invoices if i.status is InvoiceStatus.PAID]
    assert overdue and still_open and len(paid) >= 6
    late = overdue[0]
    days_late = (TODAY - late.due_date).days
    assert late.fine == (late.amount * 2 / 100).quantize(late.amount)
    expected_interest = (late.amount / 100 * days_late / 30).quantize(late.amount)
    assert late.interest == expected_interest > 0
    assert all(i.fine == i.interest == 0 for i in still_open)
    assert all(i.paid_on and i.paid_amount and i.paid_amount >= i.amount for i in paid)

    only_open = await backend.list_invoices(session, statuses=frozenset({InvoiceStatus.OPEN}))
    assert {i.id for i in only_open} == {i.id for i in overdue + still_open}
    november = DateRange(date(2026, 11, 1), date(2026, 11, 30))
    assert [i.due_date for i in await backend.list_invoices(session, period=november)] == [
        date(2026, 11, 10)
    ]
    entries = await backend.list_financial_entries(session, november)
    assert [(e.due_date, e.status) for e in entries] == [(date(2026, 11, 10), InvoiceStatus.OPEN)]
    assert "Fibra 300 Mega" in entries[0].description


async def test_boleto_and_fiscal_note_pdfs(backend: SandboxBackend) -> None:
    session = await login(backend, MARIA)
    invoices = await backend.list_invoices(session)
    open_invoice = next(i for i in invoices if i.status is InvoiceStatus.OPEN)
    boleto = await backend.get_boleto_pdf(session, open_invoice.id)
    assert boleto.filename == f"boleto-{open_invoice.reference.replace('/', '-')}.pdf"
    assert boleto.content_type == "application/pdf"
    assert boleto.content.startswith(b"%PDF")
    paid_invoice = next(i for i in invoices if i.status is InvoiceStatus.PAID)
    with pytest.raises(Rejected):
        await backend.get_boleto_pdf(session, paid_invoice.id)

    notes = await backend.list_fiscal_notes(session, DateRange(TODAY - timedelta(days=365), TODAY))
    assert len(notes) >= 10 and {n.model for n in notes} == {"NFCom"}
    document = await backend.get_fiscal_note_pdf(session, notes[-1].id)
    assert document.filename == f"nota-fiscal-{notes[-1].number}.pdf"
    assert document.content.startswith(b"%PDF")


async def test_first_account_tickets_in_every_state(backend: SandboxBackend) -> None:
    session = await login(backend, MARIA)
    tickets = await backend.list_tickets(session)
    assert {t.status for t in tickets} == set(TicketStatus)
    assert [t.opened_at for t in tickets] == sorted((t.opened_at for t in tickets), reverse=True)
    assert all(t.protocol.isdigit() and len(t.protocol) == 14 for t in tickets)
    pending = await backend.list_tickets(session, frozenset({TicketStatus.PENDING}))
    assert [t.status for t in pending] == [TicketStatus.PENDING]

    closed = next(t for t in tickets if t.status is TicketStatus.CLOSED)
    history = (await backend.get_ticket(session, closed.id)).messages
    assert {m.author for m in history} == set(TicketAuthor)
    assert [m.sent_at for m in history] == sorted(m.sent_at for m in history)
    assert all(m.sent_at.utcoffset() == timedelta(0) for m in history)
    from_provider = [a for m in history if m.author is TicketAuthor.PROVIDER for a in m.attachments]
    assert from_provider
    attachment = await backend.get_ticket_attachment(session, closed.id, from_provider[0].id)
    assert attachment.content.startswith(b"%PDF")
    assert len(attachment.content) == from_provider[0].size


async def test_first_account_connection_history(backend: SandboxBackend) -> None:
    session = await login(backend, MARIA)
    (contract,) = (await backend.get_subscriber(session)).contracts
    (access,) = contract.logins
    assert access.online and access.ip_address
    period = DateRange(TODAY - timedelta(days=190), TODAY)
    sessions = await backend.list_connection_sessions(session, access.id, period)
    starts = [s.started_at for s in sessions]
    assert starts == sorted(starts)
    assert (starts[-1] - starts[0]).days >= 182
    assert all(s.started_at.utcoffset() == timedelta(0) for s in sessions)
    running = [s for s in sessions if s.ended_at is None]
    assert running == [sessions[-1]]
    assert {s.ip_address for s in sessions} == {access.ip_address}
    assert {s.login for s in sessions} == {access.login}
    finished = sessions[:-1]
    last_end = finished[-1].ended_at
    assert last_end is not None
    days = (last_end - finished[0].started_at).total_seconds() / 86400
    daily = sum(s.download_bytes for s in finished) / days
    assert 200 * 1024**2 < daily < 5 * 1024**3
    assert all(0 < s.upload_bytes < s.download_bytes for s in finished)

    one_day = DateRange(TODAY - timedelta(days=30), TODAY - timedelta(days=30))
    for item in await backend.list_connection_sessions(session, access.id, one_day):
        assert item.started_at.astimezone(SAO_PAULO).date() == one_day.start


async def test_temporary_enabling_once_per_policy(tmp_path: Path) -> None:
    clock = {"today": TODAY}
    sandbox = SandboxBackend("sqlite+aiosqlite://", today=lambda: clock["today"])
    await sandbox.start()
    try:
        session = await login(sandbox, JOAO)
        (contract,) = (await sandbox.get_subscriber(session)).contracts
        assert contract.status is ContractStatus.SUSPENDED
        policy = await sandbox.get_temporary_enabling_policy(session, contract.id)
        assert (policy.eligible, policy.days, policy.interval_days) == (True, 3, 30)

        enabling = await sandbox.request_temporary_enabling(session, contract.id)
        assert enabling.enabled_until == TODAY + timedelta(days=3)
        assert enabling.protocol.startswith("20261128") and len(enabling.protocol) == 14
        (contract,) = (await sandbox.get_subscriber(session)).contracts
        assert contract.status is ContractStatus.TEMPORARILY_ENABLED
        assert contract.temporarily_enabled_until == TODAY + timedelta(days=3)
        assert contract.logins[0].online
        with pytest.raises(Rejected):
            await sandbox.request_temporary_enabling(session, contract.id)

        clock["today"] = TODAY + timedelta(days=5)  # the enabling expired, still unpaid
        (contract,) = (await sandbox.get_subscriber(session)).contracts
        assert contract.status is ContractStatus.SUSPENDED
        policy = await sandbox.get_temporary_enabling_policy(session, contract.id)
        assert not policy.eligible and policy.last_used_on == TODAY
        assert policy.reason and "28/12/2026" in policy.reason
        with pytest.raises(Rejected) as refused:
            await sandbox.request_temporary_enabling(session, contract.id)
        assert refused.value.reason == policy.reason

        clock["today"] = TODAY + timedelta(days=30)
        assert (await sandbox.get_temporary_enabling_policy(session, contract.id)).eligible
    finally:
        await sandbox.close()


async def test_temporary_enabling_refused_for_active_contract(backend: SandboxBackend) -> None:
    session = await login(backend, MARIA)
    (contract,) = (await backend.get_subscriber(session)).contracts
    policy = await backend.get_temporary_enabling_policy(session, contract.id)
    assert not policy.eligible
    assert policy.reason == "Este contrato não está suspenso."
    with pytest.raises(Rejected, match="não está suspenso"):
        await backend.request_temporary_enabling(session, contract.id)


async def test_change_password(backend: SandboxBackend) -> None:
    demo = DEMO_ACCOUNTS[CAFE]
    session = await login(backend, CAFE)
    other_device = await login(backend, CAFE)
    with pytest.raises(InvalidCredentials):
        await backend.change_password(session, "wrong-password1", "novaSenha2026")
    for weak in ("abc123", "somenteletras", "1234567890", demo.password):
        with pytest.raises(Rejected) as rejected:
            await backend.change_password(session, demo.password, weak)
        assert rejected.value.reason

    await backend.change_password(session, demo.password, "novaSenha2026")
    await backend.get_subscriber(session)  # this session goes on
    with pytest.raises(SessionExpired):
        await backend.get_subscriber(other_device)
    with pytest.raises(InvalidCredentials):
        await backend.login(demo.document, demo.password)
    assert (await backend.login(demo.document, "novaSenha2026")).subscriber_id == "s4"


async def test_a_password_hashed_with_older_parameters_still_logs_in_and_is_upgraded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sandbox database seeded by an earlier version (costlier scrypt) keeps working."""
    from backend_client.sandbox import security

    demo = DEMO_ACCOUNTS[MARIA]
    monkeypatch.setattr(security, "SCRYPT_N", 2**12)
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    seeded_before = SandboxBackend(url, today=lambda: TODAY)
    await seeded_before.start()
    await seeded_before.close()
    monkeypatch.undo()

    backend = SandboxBackend(url, today=lambda: TODAY)
    await backend.start()
    try:
        assert (await backend.login(demo.document, demo.password)).subscriber_id == "s1"
        async with backend._transaction() as db:
            stored = await db.scalar(
                select(SubscriberRow.password_hash).where(SubscriberRow.id == "s1")
            )
        assert stored.startswith(f"scrypt${security.SCRYPT_N}$")
        assert security.verify_password(demo.password, stored)
        with pytest.raises(InvalidCredentials):
            await backend.login(demo.document, "wrong-password1")
    finally:
        await backend.close()


async def test_open_ticket_is_idempotent_and_keeps_attachments(backend: SandboxBackend) -> None:
    session = await login(backend, MARIA)
    subjects = await backend.list_ticket_subjects(session)
    assert [s.name for s in subjects] == [
        "Sem conexão",
        "Lentidão",
        "Financeiro",
        "Mudança de endereço",
        "Cancelamento",
        "Outro",
    ]
    photo = Document("roteador.jpg", "image/jpeg", b"\xff\xd8\xff\xe0fake-jpeg")
    request = NewTicket(
        subject_id=subjects[0].id,
        description="Sem internet desde as 14h — luz vermelha no modem.",
        contract_id="c1",
        attachments=(photo,),
        idempotency_key="chat-42-msg-7",
    )
    first = await backend.open_ticket(session, request)
    again = await backend.open_ticket(session, request)
    assert again.id == first.id and again.protocol == first.protocol
    assert first.status is TicketStatus.OPEN and first.subject == "Sem conexão"
    assert len([t for t in await backend.list_tickets(session) if t.id == first.id]) == 1
    (message,) = first.messages
    assert message.author is TicketAuthor.SUBSCRIBER and message.text == request.description
    (info,) = message.attachments
    assert (info.filename, info.size) == ("roteador.jpg", len(photo.content))
    assert await backend.get_ticket_attachment(session, first.id, info.id) == photo

    other = await backend.open_ticket(session, NewTicket(subjects[1].id, "Lento", None))
    assert other.id != first.id and other.protocol != first.protocol
    with pytest.raises(NotFound):
        await backend.open_ticket(session, NewTicket("no-such-subject", "x"))


async def test_replies(backend: SandboxBackend) -> None:
    session = await login(backend, MARIA)
    tickets = await backend.list_tickets(session)
    closed = next(t for t in tickets if t.status is TicketStatus.CLOSED)
    with pytest.raises(Rejected, match="encerrado"):
        await backend.reply_ticket(session, closed.id, "Voltou a cair!")

    pending = next(t for t in tickets if t.status is TicketStatus.PENDING)
    before = await backend.get_ticket(session, pending.id)
    print_screen = Document("teste.png", "image/png", b"\x89PNG\r\n\x1a\nfake")
    updated = await backend.reply_ticket(session, pending.id, "Segue o teste.", (print_screen,))
    assert updated.status is TicketStatus.OPEN
    assert updated.updated_at > before.updated_at
    assert len(updated.messages) == len(before.messages) + 1
    assert updated.messages[-1].text == "Segue o teste."
    assert updated.messages[-1].attachments[0].filename == "teste.png"


async def test_ids_of_another_subscriber_are_not_found(backend: SandboxBackend) -> None:
    maria = await login(backend, MARIA)
    silva = await login(backend, SILVA)
    subscriber = await backend.get_subscriber(silva)
    contract = subscriber.contracts[0]
    invoice = (await backend.list_invoices(silva))[0]
    note = (await backend.list_fiscal_notes(silva, EVERYTHING))[0]
    (line,) = await backend.list_phone_lines(silva)
    contact = (await backend.list_contacts(silva))[0]
    ticket = (await backend.list_tickets(silva))[0]
    maria_ticket = (await backend.list_tickets(maria))[0]  # has the subscriber's receipt
    maria_full = await backend.get_ticket(maria, maria_ticket.id)
    maria_attachment = next(a for m in maria_full.messages for a in m.attachments)

    attempts = [
        backend.get_temporary_enabling_policy(maria, contract.id),
        backend.request_temporary_enabling(maria, contract.id),
        backend.get_due_day_options(maria, contract.id),
        backend.request_due_day_change(maria, contract.id, 5),
        backend.list_invoices(maria, contract_id=contract.id),
        backend.get_invoice(maria, invoice.id),
        backend.get_boleto_pdf(maria, invoice.id),
        backend.get_fiscal_note_pdf(maria, note.id),
        backend.list_call_records(maria, line.id, EVERYTHING),
        backend.list_connection_sessions(maria, contract.logins[0].id, EVERYTHING),
        backend.link_contact_device(maria, contact.id, "telegram:1"),
        backend.unlink_contact_device(maria, contact.id, "telegram:1"),
        backend.get_ticket(maria, ticket.id),
        backend.reply_ticket(maria, ticket.id, "oi"),
        backend.get_ticket_attachment(silva, maria_ticket.id, maria_attachment.id),
        backend.get_ticket_attachment(silva, ticket.id, maria_attachment.id),
        backend.open_ticket(maria, NewTicket("outro", "x", contract_id=contract.id)),
        backend.get_invoice(maria, "inv-0"),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            await attempt
    assert await backend.list_phone_lines(maria) == []


async def test_company_account(backend: SandboxBackend) -> None:
    session = await login(backend, SILVA)
    subscriber = await backend.get_subscriber(session)
    assert subscriber.name == "Silva & Filhos <Ltda>"
    assert len(subscriber.contracts) == 2
    assert [len(c.logins) for c in subscriber.contracts] == [1, 1]
    assert {c.status for c in subscriber.contracts} == {ContractStatus.ACTIVE}

    notes = await backend.list_fiscal_notes(session, EVERYTHING)
    assert {n.model for n in notes} == {"NFCom", "NFS-e"}
    assert len({(n.model, n.series, n.number) for n in notes}) == len(notes)

    types = await backend.list_terminal_types(session)
    assert [t.name for t in types] == [
        "Local fixo",
        "Móvel",
        "Longa distância (DDD)",
        "Internacional (DDI)",
        "0800",
    ]
    (line,) = await backend.list_phone_lines(session)
    calls = await backend.list_call_records(session, line.id, EVERYTHING)
    assert {c.terminal_type_id for c in calls} == {t.id for t in types}
    assert [c.started_at for c in calls] == sorted(c.started_at for c in calls)
    assert len({(c.started_at.year, c.started_at.month) for c in calls}) >= 6
    mobile = await backend.list_call_records(session, line.id, EVERYTHING, "mobile")
    assert mobile and {c.terminal_type_id for c in mobile} == {"mobile"}
    assert all(c.cost == 0 for c in calls if c.terminal_type_id == "0800")
    november = DateRange(date(2026, 11, 1), date(2026, 11, 30))
    in_november = await backend.list_call_records(session, line.id, november)
    assert in_november and all(c.started_at.astimezone(SAO_PAULO).month == 11 for c in in_november)


async def test_alphanumeric_cnpj_company_has_everything_paid(backend: SandboxBackend) -> None:
    session = await backend.login("12ABC34501DE35", DEMO_ACCOUNTS[CAFE].password)
    invoices = await backend.list_invoices(session)
    assert invoices and {i.status for i in invoices} == {InvoiceStatus.PAID}
    assert all(i.paid_on and i.issued_on <= i.paid_on < TODAY for i in invoices)


async def test_contacts_and_device_links(backend: SandboxBackend) -> None:
    session = await login(backend, MARIA)
    types = await backend.list_contact_types(session)
    assert [t.name for t in types] == [
        "Administrativo",
        "Financeiro",
        "Técnico",
        "Comercial",
        "Outro",
    ]
    contacts = await backend.list_contacts(session)
    assert {c.type.name for c in contacts} >= {"Financeiro", "Técnico"}

    new = NewContact(
        "Ana Beatriz Santos", "comercial", "5519981112222", None, "ana@example.com", True
    )
    added = await backend.add_contact(session, new)
    assert added.type.name == "Comercial" and added.mobile == "5519981112222"
    assert (await backend.list_contacts(session))[-1] == added
    with pytest.raises(NotFound):
        await backend.add_contact(
            session, NewContact("X", "nope", "5519981112222", None, None, False)
        )

    for _ in range(2):  # linking twice is harmless
        await backend.link_contact_device(session, added.id, "telegram:1001")
    assert await backend.contact_devices(added.id) == ["telegram:1001"]
    await backend.unlink_contact_device(session, added.id, "telegram:1001")
    await backend.unlink_contact_device(session, added.id, "telegram:1001")
    assert await backend.contact_devices(added.id) == []


async def test_due_day_change_request(backend: SandboxBackend) -> None:
    session = await login(backend, MARIA)
    options = await backend.get_due_day_options(session, "c1")
    assert options.current_day == 10 and 10 not in options.available_days
    assert set(options.available_days) == {5, 15, 20, 25}
    for day in (10, 31, 0):
        with pytest.raises(Rejected):
            await backend.request_due_day_change(session, "c1", day)
    request = await backend.request_due_day_change(session, "c1", 20)
    assert (request.current_day, request.requested_day) == (10, 20)
    assert request.email_sent_to == "maria.santos@example.com"
    assert request.protocol.startswith("20261128") and request.requested_at.tzinfo is not None
    (contract,) = (await backend.get_subscriber(session)).contracts
    assert contract.due_day == 10  # only the provider's approval changes it


async def test_restart_on_the_same_file_keeps_data(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"
    first = SandboxBackend(url, today=lambda: TODAY)
    await first.start()
    session = await login(first, MARIA)
    before = (await first.list_invoices(session), await first.list_tickets(session))
    await first.close()

    later = TODAY + timedelta(days=40)
    second = SandboxBackend(url, today=lambda: later)
    await second.start()
    try:
        session = (await login_all(second))[MARIA]
        invoices = await second.list_invoices(session)
        assert [i.id for i in invoices] == [i.id for i in before[0]]
        assert [i.due_date for i in invoices] == [i.due_date for i in before[0]]
        assert await second.list_tickets(session) == before[1]
    finally:
        await second.close()


async def test_seed_is_deterministic(backend: SandboxBackend) -> None:
    other = SandboxBackend("sqlite+aiosqlite://", today=lambda: TODAY)
    await other.start()
    try:
        mine, theirs = await login(backend, SILVA), await login(other, SILVA)
        assert await backend.list_invoices(mine) == await other.list_invoices(theirs)
        assert await backend.list_call_records(mine, "ln-1", EVERYTHING) == (
            await other.list_call_records(theirs, "ln-1", EVERYTHING)
        )
        assert await backend.get_subscriber(mine) == await other.get_subscriber(theirs)
    finally:
        await other.close()


def test_pdf_text_never_breaks_the_core_fonts() -> None:
    text = "Ação, pão, café — “aspas” … € 😀 Łódź"
    assert pdf_text(text).encode("latin-1")
    assert pdf_text("ção ã é") == "ção ã é"
    created = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    report = technician_report_pdf("Zoë — 😀", "Rua ç", TODAY, [text], created)
    assert report.startswith(b"%PDF")


async def test_latency_and_outage_are_simulated(backend: SandboxBackend) -> None:
    await backend.ping()
    backend.latency = 0.05
    started = time.perf_counter()
    await backend.ping()
    assert time.perf_counter() - started >= 0.05
    backend.latency = 0
    backend.outage = True
    with pytest.raises(Unavailable):
        await backend.ping()
    with pytest.raises(Unavailable):
        await backend.login(DEMO_ACCOUNTS[MARIA].document, DEMO_ACCOUNTS[MARIA].password)


async def test_provider_side_controls(backend: SandboxBackend) -> None:
    session = await login(backend, JOAO)
    overdue = [i for i in await backend.list_invoices(session) if i.is_overdue(TODAY)]
    assert len(overdue) == 2
    paid = await backend.simulate_payment(overdue[0].id)
    assert paid.status is InvoiceStatus.PAID and paid.paid_amount == overdue[0].updated_amount
    (contract,) = (await backend.get_subscriber(session)).contracts
    assert contract.status is ContractStatus.SUSPENDED  # one invoice still overdue
    await backend.simulate_payment(overdue[1].id)
    (contract,) = (await backend.get_subscriber(session)).contracts
    assert contract.status is ContractStatus.ACTIVE and contract.logins[0].online
    with pytest.raises(Rejected):
        await backend.simulate_payment(overdue[1].id)

    ticket = await backend.open_ticket(session, NewTicket("financeiro", "Já paguei."))
    answered = await backend.simulate_provider_reply(ticket.id, "Pagamento confirmado!")
    assert answered.status is TicketStatus.PENDING
    assert answered.messages[-1].author is TicketAuthor.PROVIDER
    closed = await backend.simulate_provider_reply(ticket.id, "Encerrado.", close=True)
    assert closed.status is TicketStatus.CLOSED
    with pytest.raises(Rejected):
        await backend.reply_ticket(session, ticket.id, "Obrigado!")


async def test_the_sandbox_also_runs_on_postgresql(postgres: ThrowawayDatabase | str) -> None:
    # SQLite is queried inline on the event loop; a server database keeps the async driver.
    if isinstance(postgres, str):
        pytest.skip(postgres)
    await postgres.reset()
    sandbox = SandboxBackend(postgres.url, today=lambda: TODAY)
    await sandbox.start()
    try:
        session = await login(sandbox, MARIA)
        invoices = await sandbox.list_invoices(session)
        assert any(invoice.status is InvoiceStatus.OPEN for invoice in invoices)
        subject = (await sandbox.list_ticket_subjects(session))[0]
        ticket = await sandbox.open_ticket(
            session, NewTicket(subject_id=subject.id, description="Sem sinal desde ontem.")
        )
        assert (await sandbox.get_ticket(session, ticket.id)).id == ticket.id
    finally:
        await sandbox.close()
    await postgres.reset()


def test_a_failed_sandbox_query_never_carries_its_values() -> None:
    """The sandbox provider's engine hides SQL parameters, so an error logged with its message
    never shows a document or a password hash."""
    from sqlalchemy import text
    from sqlalchemy.engine import Engine

    from backend_client.sandbox.backend import _make_engine

    engine = _make_engine("sqlite+aiosqlite:///:memory:")
    assert isinstance(engine, Engine)
    with engine.connect() as connection, pytest.raises(Exception) as raised:
        connection.execute(text("select * from nope where doc = :doc"), {"doc": "31845672062"})
    assert "31845672062" not in str(raised.value)
