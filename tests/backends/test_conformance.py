"""One behavioural suite for every backend: a new adapter is done when it passes here.

Parametrized over the sandbox, our HTTP contract over the sandbox, and the SGP and IXC adapters
over their stand-ins (see conftest.py). Where a system lacks an operation, the check is that it
says so with NotSupported — nothing here is skipped.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from backend_client.errors import (
    CLOSED_TICKET_REASON,
    EMPTY_REPLY_REASON,
    InvalidCredentials,
    NotFound,
    NotSupported,
    Rejected,
    SessionExpired,
)
from backend_client.formats.boleto import is_valid_linha_digitavel
from backend_client.formats.documents import strip_document
from backend_client.formats.pix import is_valid_brcode
from backend_client.models import (
    BackendSession,
    ContractStatus,
    DateRange,
    InvoiceStatus,
    NewContact,
    NewTicket,
    TicketAuthor,
    TicketStatus,
)
from backend_client.protocol import SubscriberBackend
from tests.backends.conftest import EVERYTHING, TODAY, Account, Case


async def login(case: Case, account: Account) -> BackendSession:
    session: BackendSession = await case.backend.login(account.document, account.password)
    return session


async def test_implements_the_protocol_and_answers_ping(case: Case) -> None:
    assert isinstance(case.backend, SubscriberBackend)
    await case.backend.ping()


async def test_login_returns_a_session_that_is_not_the_password(case: Case) -> None:
    session = await login(case, case.person)
    assert session.document == case.person.document
    assert session.name and session.subscriber_id and session.token
    assert case.person.password not in session.token
    assert BackendSession.from_dict(session.to_dict()) == session


async def test_wrong_password_and_unknown_document_are_invalid_credentials(case: Case) -> None:
    with pytest.raises(InvalidCredentials):
        await case.backend.login(case.person.document, case.person.password + "x")
    with pytest.raises(InvalidCredentials):
        await case.backend.login(case.suspended.document, case.person.password)
    with pytest.raises(InvalidCredentials):
        await case.backend.login("52998224725", "whatever1")


async def test_unknown_or_forged_token_is_session_expired(case: Case) -> None:
    session = await login(case, case.person)
    forged = BackendSession(session.subscriber_id, session.document, session.name, "forged")
    with pytest.raises(SessionExpired):
        await case.backend.get_subscriber(forged)
    other = await login(case, case.suspended)
    borrowed = BackendSession(other.subscriber_id, other.document, other.name, session.token)
    with pytest.raises(SessionExpired):
        await case.backend.list_invoices(borrowed)


async def test_logout_ends_the_session(case: Case) -> None:
    session = await login(case, case.person)
    await case.backend.logout(session)
    with pytest.raises(SessionExpired):
        await case.backend.get_subscriber(session)


async def test_subscriber_with_contracts_plans_and_logins(case: Case) -> None:
    person = await case.backend.get_subscriber(await login(case, case.person))
    assert strip_document(person.document) == case.person.document
    assert person.name and person.contracts
    assert all(c.plan.name and c.id for c in person.contracts)
    assert any(c.status is ContractStatus.ACTIVE for c in person.contracts)
    logins = [login for c in person.contracts for login in c.logins]
    assert logins and all(login.login for login in logins)
    assert any(login.online for login in logins)
    suspended = await case.backend.get_subscriber(await login(case, case.suspended))
    assert any(c.status is ContractStatus.SUSPENDED for c in suspended.contracts)


async def test_invoices_sorted_filtered_with_valid_codes(case: Case) -> None:
    session = await login(case, case.person)
    invoices = await case.backend.list_invoices(session, EVERYTHING)
    assert invoices == sorted(invoices, key=lambda i: (i.due_date, i.id))
    statuses = {i.status for i in invoices}
    assert {InvoiceStatus.OPEN, InvoiceStatus.PAID} <= statuses
    for invoice in invoices:
        if invoice.linha_digitavel is not None:
            assert is_valid_linha_digitavel(invoice.linha_digitavel)
        if invoice.pix_code is not None:
            assert is_valid_brcode(invoice.pix_code)
    assert any(i.linha_digitavel for i in invoices if i.status is InvoiceStatus.OPEN)
    only_open = await case.backend.list_invoices(
        session, EVERYTHING, frozenset({InvoiceStatus.OPEN})
    )
    assert only_open and all(i.status is InvoiceStatus.OPEN for i in only_open)
    first = invoices[0].due_date
    narrow = await case.backend.list_invoices(session, DateRange(first, first))
    assert narrow and all(i.due_date == first for i in narrow)


async def test_open_invoice_details_pix_and_boleto_pdf(case: Case) -> None:
    session = await login(case, case.person)
    invoices = await case.backend.list_invoices(session, EVERYTHING)
    open_one = next(i for i in invoices if i.status is InvoiceStatus.OPEN)
    invoice = await case.backend.get_invoice(session, open_one.id)
    assert (invoice.id, invoice.amount, invoice.due_date) == (
        open_one.id,
        open_one.amount,
        open_one.due_date,
    )
    assert invoice.pix_code is not None and is_valid_brcode(invoice.pix_code)
    pdf = await case.backend.get_boleto_pdf(session, open_one.id)
    assert pdf.content.startswith(b"%PDF-") and pdf.filename.endswith(".pdf")
    paid = next(i for i in invoices if i.status is InvoiceStatus.PAID)
    with pytest.raises(Rejected) as refused:
        await case.backend.get_boleto_pdf(session, paid.id)
    assert refused.value.reason


async def test_financial_statement_has_no_cancelled_invoices(case: Case) -> None:
    session = await login(case, case.person)
    entries = await case.backend.list_financial_entries(session, EVERYTHING)
    assert entries and all(e.status is not InvoiceStatus.CANCELLED for e in entries)
    assert {e.status for e in entries} == {InvoiceStatus.OPEN, InvoiceStatus.PAID}


async def test_fiscal_notes_and_their_pdf(case: Case) -> None:
    session = await login(case, case.person)
    notes = await case.backend.list_fiscal_notes(session, EVERYTHING)
    assert notes and all(n.number and n.model for n in notes)
    pdf = await case.backend.get_fiscal_note_pdf(session, notes[-1].id)
    assert pdf.content.startswith(b"%PDF-")
    first = notes[0].issued_on
    assert all(
        n.issued_on == first
        for n in await case.backend.list_fiscal_notes(session, DateRange(first, first))
    )


async def test_connection_sessions_of_a_login(case: Case) -> None:
    session = await login(case, case.person)
    person = await case.backend.get_subscriber(session)
    login_id = next(login.id for c in person.contracts for login in c.logins)
    sessions = await case.backend.list_connection_sessions(session, login_id, EVERYTHING)
    assert sessions and sessions == sorted(sessions, key=lambda s: (s.started_at, s.id))
    assert all(s.ip_address and s.started_at.tzinfo for s in sessions)


async def test_temporary_enabling_once_then_the_providers_refusal(case: Case) -> None:
    person = await login(case, case.person)
    active = next(
        c
        for c in (await case.backend.get_subscriber(person)).contracts
        if c.status is ContractStatus.ACTIVE
    )
    policy = await case.backend.get_temporary_enabling_policy(person, active.id)
    assert not policy.eligible and policy.reason
    with pytest.raises(Rejected):
        await case.backend.request_temporary_enabling(person, active.id)

    session = await login(case, case.suspended)
    contract = next(
        c
        for c in (await case.backend.get_subscriber(session)).contracts
        if c.status is ContractStatus.SUSPENDED
    )
    policy = await case.backend.get_temporary_enabling_policy(session, contract.id)
    assert policy.eligible and policy.days > 0
    enabling = await case.backend.request_temporary_enabling(session, contract.id)
    assert enabling.contract_id == contract.id
    assert TODAY < enabling.enabled_until <= TODAY + timedelta(days=policy.days)
    with pytest.raises(Rejected) as refused:
        await case.backend.request_temporary_enabling(session, contract.id)
    assert case.refusal in refused.value.reason


async def test_tickets_listing_history_open_and_reply(case: Case) -> None:
    session = await login(case, case.person)
    tickets = await case.backend.list_tickets(session)
    assert tickets == sorted(tickets, key=lambda t: (t.opened_at, t.id), reverse=True)
    closed = await case.backend.list_tickets(session, frozenset({TicketStatus.CLOSED}))
    assert closed and all(t.status is TicketStatus.CLOSED for t in closed)
    history = await case.backend.get_ticket(session, closed[0].id)
    assert history.messages and history.messages[0].author is TicketAuthor.SUBSCRIBER
    assert any(m.author is TicketAuthor.PROVIDER for m in history.messages)
    with pytest.raises(Rejected) as refused:
        await case.backend.reply_ticket(session, closed[0].id, "Ainda preciso de ajuda")
    assert refused.value.reason == CLOSED_TICKET_REASON

    subjects = await case.backend.list_ticket_subjects(session)
    assert subjects and all(s.name for s in subjects)
    new = NewTicket(subjects[0].id, "Minha internet caiu agora há pouco.", idempotency_key="k-1")
    opened = await case.backend.open_ticket(session, new)
    assert opened.protocol and opened.status is not TicketStatus.CLOSED
    assert opened.messages[0].text == "Minha internet caiu agora há pouco."
    again = await case.backend.open_ticket(session, new)
    assert again.id == opened.id
    replied = await case.backend.reply_ticket(session, opened.id, "Continua sem sinal.")
    assert replied.messages[-1].text == "Continua sem sinal."
    assert replied.messages[-1].author is TicketAuthor.SUBSCRIBER
    with pytest.raises(Rejected) as refused:  # neither text nor file
        await case.backend.reply_ticket(session, opened.id, "  \n ")
    assert refused.value.reason == EMPTY_REPLY_REASON
    assert opened.id in {t.id for t in await case.backend.list_tickets(session)}


async def test_ticket_attachments(case: Case) -> None:
    session = await login(case, case.person)
    tickets = await case.backend.list_tickets(session)
    full = [await case.backend.get_ticket(session, t.id) for t in tickets]
    files = [(t.id, a) for t in full for m in t.messages for a in m.attachments]
    if "get_ticket_attachment" in case.unsupported:
        with pytest.raises(NotSupported):
            await case.backend.get_ticket_attachment(session, tickets[0].id, "1")
        return
    ticket_id, info = files[0]
    document = await case.backend.get_ticket_attachment(session, ticket_id, info.id)
    assert document.filename == info.filename and document.content
    with pytest.raises(NotFound):
        await case.backend.get_ticket_attachment(session, ticket_id, "no-such-file")


async def test_contacts(case: Case) -> None:
    session = await login(case, case.person)
    if "list_contacts" in case.unsupported:
        with pytest.raises(NotSupported):
            await case.backend.list_contacts(session)
        return
    before = await case.backend.list_contacts(session)
    types = await case.backend.list_contact_types(session)
    assert types
    added = await case.backend.add_contact(
        session,
        NewContact("Ana Paula Souza", types[0].id, "5519991112222", None, "ana@example.com", True),
    )
    assert added.name == "Ana Paula Souza" and added.type.id == types[0].id
    after = await case.backend.list_contacts(session)
    assert len(after) > len(before)


async def test_call_records(case: Case) -> None:
    session = await login(case, case.caller)
    if "list_phone_lines" in case.unsupported:
        for operation in ("list_phone_lines", "list_terminal_types"):
            with pytest.raises(NotSupported):
                await getattr(case.backend, operation)(session)
        with pytest.raises(NotSupported):
            await case.backend.list_call_records(session, "1", EVERYTHING)
        return
    lines = await case.backend.list_phone_lines(session)
    types = {t.id for t in await case.backend.list_terminal_types(session)}
    assert lines and types
    calls = await case.backend.list_call_records(session, lines[0].id, EVERYTHING)
    assert calls and all(c.terminal_type_id in types for c in calls)
    kind = calls[0].terminal_type_id
    filtered = await case.backend.list_call_records(session, lines[0].id, EVERYTHING, kind)
    assert filtered and all(c.terminal_type_id == kind for c in filtered)


async def test_foreign_ids_are_not_found(case: Case) -> None:
    """Ids of another subscriber behave exactly like ids that do not exist."""
    other = await login(case, case.suspended)
    other_person = await case.backend.get_subscriber(other)
    contract = other_person.contracts[0]
    login_id = next(login.id for c in other_person.contracts for login in c.logins)
    invoice = (await case.backend.list_invoices(other, EVERYTHING))[0]
    subject = (await case.backend.list_ticket_subjects(other))[0]
    ticket = await case.backend.open_ticket(other, NewTicket(subject.id, "Quero negociar."))
    note = (await case.backend.list_fiscal_notes(other, EVERYTHING))[0]

    session = await login(case, case.person)
    attempts: list[Any] = [
        case.backend.get_temporary_enabling_policy(session, contract.id),
        case.backend.request_temporary_enabling(session, contract.id),
        case.backend.list_invoices(session, EVERYTHING, None, contract.id),
        case.backend.get_invoice(session, invoice.id),
        case.backend.get_boleto_pdf(session, invoice.id),
        case.backend.get_fiscal_note_pdf(session, note.id),
        case.backend.list_connection_sessions(session, login_id, EVERYTHING),
        case.backend.get_ticket(session, ticket.id),
        case.backend.reply_ticket(session, ticket.id, "Olá"),
        case.backend.get_invoice(session, "999999999"),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            await attempt
    # Nothing happened to the other subscriber's contract.
    policy = await case.backend.get_temporary_enabling_policy(other, contract.id)
    assert policy.eligible


async def test_unsupported_operations_say_so(case: Case) -> None:
    session = await login(case, case.person)
    contract_id = (await case.backend.get_subscriber(session)).contracts[0].id
    calls = {
        "change_password": lambda: case.backend.change_password(session, "a", "b"),
        "link_contact_device": lambda: case.backend.link_contact_device(session, "1", "tg:1"),
        "unlink_contact_device": lambda: case.backend.unlink_contact_device(session, "1", "tg:1"),
        "list_contacts": lambda: case.backend.list_contacts(session),
        "list_contact_types": lambda: case.backend.list_contact_types(session),
        "add_contact": lambda: case.backend.add_contact(
            session, NewContact("Ana", "1", "5519991112222", None, None, False)
        ),
        "list_phone_lines": lambda: case.backend.list_phone_lines(session),
        "list_terminal_types": lambda: case.backend.list_terminal_types(session),
        "list_call_records": lambda: case.backend.list_call_records(session, "1", EVERYTHING),
        "get_due_day_options": lambda: case.backend.get_due_day_options(session, contract_id),
        "request_due_day_change": lambda: case.backend.request_due_day_change(
            session, contract_id, 20
        ),
        "get_ticket_attachment": lambda: case.backend.get_ticket_attachment(session, "1", "1"),
    }
    for operation in sorted(case.unsupported):
        with pytest.raises(NotSupported) as raised:
            await calls[operation]()
        assert raised.value.operation == operation
    if "get_due_day_options" not in case.unsupported:
        options = await case.backend.get_due_day_options(session, contract_id)
        assert options.available_days
