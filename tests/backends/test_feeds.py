"""One suite for every backend's ProviderFeed: the questions notifications and broadcast audiences
ask, paged, over the sandbox, our HTTP contract (over ``sandbox serve``'s app) and the SGP and IXC
stand-ins. Feeds are built by ``create_feed``, as the bot builds them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from backend_client.errors import CredentialsRefused, NotSupported
from backend_client.feeds import create_feed
from backend_client.formats.boleto import is_valid_linha_digitavel
from backend_client.formats.pix import is_valid_brcode
from backend_client.http.backend import HttpBackend
from backend_client.models import ContractStatus, InvoiceStatus, TicketAuthor, TicketStatus
from backend_client.provider import (
    AudienceFilter,
    AudienceStatus,
    FeedPage,
    ProviderFeed,
    TicketEventKind,
    Watched,
    every_page,
)
from backend_client.sandbox.api import create_app
from backend_client.sandbox.db import TicketMessageRow
from backend_client.sandbox.feed import SandboxFeed
from tests.backends.conftest import (
    EVERYTHING,
    FAST,
    IXC_VARIANTS,
    JOAO,
    MARIA,
    SGP_VARIANTS,
    TODAY,
    Account,
    start_ixc,
    start_sandbox,
    start_sgp,
)
from tests.backends.standin import now_text
from tests.backends.standin_population import populate_ixc, populate_sgp

FEED_CASES = ["sandbox", "http", "sgp", "sgp-variants", "ixc", "ixc-restricted"]
WIDE_START, WIDE_END = TODAY - timedelta(days=400), TODAY + timedelta(days=400)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class FeedCase:
    name: str
    backend: Any
    feed: Any
    watched: list[Watched]
    standin: Any = None
    sandbox: Any = None
    closers: list[Any] = field(default_factory=list)


async def watch(backend: Any, *accounts: Account) -> list[Watched]:
    """What the bot keeps for a chat linked after login (then the session is logged out)."""
    found = []
    for account in accounts:
        session = await backend.login(account.document, account.password)
        found.append(Watched(session.subscriber_id, backend.feed_reference(session)))
        await backend.logout(session)
    return found


@pytest.fixture(params=FEED_CASES)
async def fcase(
    request: pytest.FixtureRequest, sandbox_template: Path, tmp_path: Path
) -> AsyncIterator[FeedCase]:
    name = request.param
    closers: list[Any] = []
    standin = sandbox = None
    if name in ("sandbox", "http"):
        sandbox = await start_sandbox(sandbox_template, tmp_path)
        closers.append(sandbox.close)
        backend: Any = sandbox
        if name == "http":
            # The server's pages hold one item: every answer takes many pages.
            app = create_app(sandbox, feed=SandboxFeed(sandbox, page_size=1))
            server = TestServer(app, host="127.0.0.1", port=0)
            await server.start_server()
            closers.append(server.close)
            backend = HttpBackend(str(server.make_url("")), **FAST)
            await backend.start()
            closers.append(backend.close)
    elif name in SGP_VARIANTS:
        standin, backend = await start_sgp(SGP_VARIANTS[name])
        closers += [standin.close, backend.close]
    else:
        standin, backend = await start_ixc(IXC_VARIANTS[name])
        closers += [standin.close, backend.close]
    feed = create_feed(backend, requests_per_second=0)
    assert isinstance(feed, ProviderFeed), name
    watched = await watch(backend, MARIA, JOAO)
    yield FeedCase(name, backend, feed, watched, standin, sandbox, closers)
    for close in reversed(closers):
        await close()


async def test_open_invoices_due_come_with_linha_digitavel_and_pix(fcase: FeedCase) -> None:
    feed, watched = fcase.feed, fcase.watched
    found = await every_page(
        lambda c: feed.open_invoices_due_between(WIDE_START, WIDE_END, watched=watched, cursor=c)
    )
    maria = fcase.watched[0].subscriber_id
    session = await fcase.backend.login(MARIA.document, MARIA.password)
    expected = {
        inv.id
        for inv in await fcase.backend.list_invoices(session, EVERYTHING)
        if inv.status is InvoiceStatus.OPEN and WIDE_START <= inv.due_date <= WIDE_END
    }
    mine = [item for item in found if item.subscriber_id == maria]
    assert {item.invoice.id for item in mine} == expected and expected
    for item in mine:
        assert item.invoice.status is InvoiceStatus.OPEN
        assert item.contract_number
        assert is_valid_linha_digitavel(item.invoice.linha_digitavel or ""), item.invoice.id
        assert item.invoice.pix_code is None or is_valid_brcode(item.invoice.pix_code)
    assert any(item.invoice.pix_code for item in mine), "no PIX for any open invoice"
    # A narrow window holds only what is due in it.
    first = min(item.invoice.due_date for item in mine)
    narrow = await every_page(
        lambda c: feed.open_invoices_due_between(first, first, watched=watched, cursor=c)
    )
    assert narrow and all(item.invoice.due_date == first for item in narrow)


async def test_paid_invoices_appear_in_payments(fcase: FeedCase) -> None:
    feed, watched = fcase.feed, fcase.watched
    found = await every_page(
        lambda c: feed.payments_between(WIDE_START, WIDE_END, watched=watched, cursor=c)
    )
    session = await fcase.backend.login(MARIA.document, MARIA.password)
    paid = {
        inv.id
        for inv in await fcase.backend.list_invoices(session, EVERYTHING)
        if inv.status is InvoiceStatus.PAID
        and inv.paid_on is not None
        and WIDE_START <= inv.paid_on <= WIDE_END
    }
    maria = fcase.watched[0].subscriber_id
    assert paid and {i.invoice.id for i in found if i.subscriber_id == maria} == paid
    assert all(i.invoice.status is InvoiceStatus.PAID for i in found)


async def test_staff_replies_are_ticket_events(fcase: FeedCase) -> None:
    feed, watched = fcase.feed, fcase.watched
    events = await every_page(
        lambda c: feed.ticket_events_since(LONG_AGO, watched=watched, cursor=c)
    )
    session = await fcase.backend.login(MARIA.document, MARIA.password)
    answered = set()
    for ticket in await fcase.backend.list_tickets(session):
        full = await fcase.backend.get_ticket(session, ticket.id)
        if any(m.author is TicketAuthor.PROVIDER for m in full.messages):
            answered.add(ticket.id)
    maria = fcase.watched[0].subscriber_id
    mine = [e for e in events if e.subscriber_id == maria]
    assert answered and {e.ticket_id for e in mine} == answered
    assert len({e.event_id for e in events}) == len(events)
    assert all(e.kind in (TicketEventKind.ANSWERED, TicketEventKind.CLOSED) for e in events)
    assert any(e.text for e in mine if e.kind is TicketEventKind.ANSWERED)
    later = max(e.at for e in events)
    after = await every_page(lambda c: feed.ticket_events_since(later, watched=watched, cursor=c))
    assert after == []


async def test_paging_returns_every_item_once(fcase: FeedCase) -> None:
    feed, watched = fcase.feed, fcase.watched
    whole = await every_page(
        lambda c: feed.payments_between(WIDE_START, WIDE_END, watched=watched, cursor=c)
    )
    feed_small = create_feed(fcase.backend, requests_per_second=0)
    if fcase.name != "http":  # the server's page size (1 here)
        feed_small.page_size = 1
    pages: list[FeedPage[Any]] = []
    cursor = None
    while True:
        page = await feed_small.payments_between(
            WIDE_START, WIDE_END, watched=watched, cursor=cursor
        )
        pages.append(page)
        if page.cursor is None:
            break
        cursor = page.cursor
    assert len(pages) > 1
    ids = [item.invoice.id for page in pages for item in page.items]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(item.invoice.id for item in whole)


async def test_audience_of_a_segment(fcase: FeedCase) -> None:
    feed, watched = fcase.feed, fcase.watched
    maria, joao = (w.subscriber_id for w in watched)  # active in Campinas; suspended in Sumaré

    async def audience(segment: AudienceFilter) -> dict[str, Any]:
        found = await every_page(lambda c: feed.audience(segment, watched=watched, cursor=c))
        return {p.subscriber_id: p for p in found}

    everybody = await audience(AudienceFilter())
    assert {maria, joao} <= everybody.keys()
    # Both have an overdue invoice in the stand-ins' data; each status picks one of them.
    overdue = frozenset({AudienceStatus.OVERDUE})
    assert {maria, joao} <= (await audience(AudienceFilter(statuses=overdue))).keys()
    active = await audience(AudienceFilter(statuses=frozenset({AudienceStatus.ACTIVE})))
    suspended = await audience(AudienceFilter(statuses=frozenset({AudienceStatus.SUSPENDED})))
    assert maria in active and joao not in active
    assert joao in suspended and maria not in suspended
    options = await feed.audience_options(watched=watched)
    assert options.plans
    # Without the cidade table (ixc-restricted), IXC's contracts have no city names.
    assert bool(options.places) is (fcase.name != "ixc-restricted")
    if options.places:
        in_campinas = await audience(AudienceFilter(places=frozenset({("CAMPINAS", None)})))
        assert maria in in_campinas and joao not in in_campinas
        assert all(c.city == "Campinas" for p in in_campinas.values() for c in p.contracts)
    joao_plan = everybody[joao].contracts[0].plan_id
    on_plan = await audience(AudienceFilter(plan_ids=frozenset({joao_plan})))
    assert joao in on_plan
    assert all(c.plan_id == joao_plan for p in on_plan.values() for c in p.contracts)
    if joao_plan not in {c.plan_id for c in everybody[maria].contracts}:
        assert maria not in on_plan


async def test_enablings_ending(fcase: FeedCase) -> None:
    feed, watched = fcase.feed, fcase.watched
    found = await every_page(
        lambda c: feed.enablings_ending_on(TODAY + timedelta(days=1), watched=watched, cursor=c)
    )
    assert all(e.enabled_until == TODAY + timedelta(days=1) for e in found)


async def test_fiscal_notes_issued(fcase: FeedCase) -> None:
    feed, watched = fcase.feed, fcase.watched
    found = await every_page(
        lambda c: feed.fiscal_notes_issued_between(WIDE_START, WIDE_END, watched=watched, cursor=c)
    )
    session = await fcase.backend.login(MARIA.document, MARIA.password)
    expected = {n.id for n in await fcase.backend.list_fiscal_notes(session, EVERYTHING)}
    maria = fcase.watched[0].subscriber_id
    assert expected and {n.note.id for n in found if n.subscriber_id == maria} == expected


async def test_an_enabling_asked_for_appears_on_its_last_day(fcase: FeedCase) -> None:
    session = await fcase.backend.login(JOAO.document, JOAO.password)
    contract = next(
        c
        for c in (await fcase.backend.get_subscriber(session)).contracts
        if c.status is ContractStatus.SUSPENDED
    )
    enabling = await fcase.backend.request_temporary_enabling(session, contract.id)
    feed, watched = fcase.feed, fcase.watched
    found = await every_page(
        lambda c: feed.enablings_ending_on(enabling.enabled_until, watched=watched, cursor=c)
    )
    if fcase.name.startswith("sgp"):  # SGP does not say when an enabling ends
        assert found == []
        return
    assert [(e.subscriber_id, e.contract_id) for e in found] == [
        (fcase.watched[1].subscriber_id, contract.id)
    ]


async def test_a_staff_reply_after_a_point_is_a_ticket_event(fcase: FeedCase) -> None:
    mark = datetime.now(UTC) - timedelta(minutes=1)
    ticket_id = await staff_replies(fcase, "Trocamos o equipamento; pode testar?")
    feed, watched = fcase.feed, fcase.watched
    events = await every_page(lambda c: feed.ticket_events_since(mark, watched=watched, cursor=c))
    assert [(e.ticket_id, e.kind, e.text) for e in events] == [
        (ticket_id, TicketEventKind.ANSWERED, "Trocamos o equipamento; pode testar?")
    ]
    assert events[0].subscriber_id == fcase.watched[0].subscriber_id


async def staff_replies(fcase: FeedCase, text: str) -> str:
    """The provider's staff answer one of Maria's open tickets, in the system itself."""
    session = await fcase.backend.login(MARIA.document, MARIA.password)
    ticket = next(
        t for t in await fcase.backend.list_tickets(session) if t.status is not TicketStatus.CLOSED
    )
    now = datetime.now(UTC)
    if fcase.sandbox is not None:
        async with fcase.sandbox._transaction() as db:
            db.add(
                TicketMessageRow(
                    id="msg-staff-test",
                    ticket_id=ticket.id,
                    position=99,
                    author=TicketAuthor.PROVIDER.value,
                    author_name="Suporte",
                    sent_at=now,
                    text=text,
                )
            )
    elif fcase.name.startswith("ixc"):
        fcase.standin.tables["su_mensagens"].append(
            {
                "id": "99901",
                "id_ticket": ticket.id,
                "mensagem": text,
                "operador": "12",
                "data": now_text(),
                "titulo": "Suporte Conecta",
                "visibilidade_mensagens": "PU",
                "su_status": "EP",
            }
        )
    else:
        for chamados in fcase.standin.state["chamados"].values():
            for chamado in chamados:
                if str(chamado["os"]) == ticket.id:
                    chamado["anotacoes"].append(
                        {
                            "id": 99901,
                            "anotacao": text,
                            "data": now_text(),
                            "usuario": "suporte.ana",
                            "cliente": False,
                        }
                    )
                    chamado["data_alteracao"] = now_text()
    return ticket.id


async def test_the_feed_says_what_it_cannot_answer(fcase: FeedCase) -> None:
    lines = await fcase.feed.check()
    if fcase.name.startswith("sgp"):
        assert lines == [
            "end-of-enabling warnings: SGP does not say when a temporary enabling ends"
        ]
    else:
        assert lines == []


async def test_a_restricted_table_skips_its_question_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    standin, backend = await start_ixc()
    del standin.tables["su_mensagens"]
    feed = create_feed(backend, requests_per_second=0)
    watched = await watch(backend, MARIA)
    caplog.set_level(logging.WARNING)
    try:
        for _ in range(2):
            page = await feed.ticket_events_since(LONG_AGO, watched=watched)
            assert page == FeedPage([], None)
        assert await feed.check() == [
            "ticket answers: the webservice user may not read su_mensagens"
        ]
    finally:
        await backend.close()
        await standin.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "IXC: the webservice user may not read su_mensagens: ticket answers is skipped"
    ]
    assert MARIA.document not in caplog.text


async def test_sandbox_serve_answers_the_feed_behind_its_api_key(
    sandbox_template: Path, tmp_path: Path
) -> None:
    sandbox = await start_sandbox(sandbox_template, tmp_path)
    server = TestServer(create_app(sandbox, api_key="chave-do-bot-123"), host="127.0.0.1", port=0)
    await server.start_server()
    url = str(server.make_url(""))
    allowed, refused = (
        HttpBackend(url, api_key="chave-do-bot-123", **FAST),
        HttpBackend(url, **FAST),
    )
    try:
        await allowed.start()
        await refused.start()
        feed = create_feed(allowed)
        watched = await watch(allowed, MARIA)
        options = await feed.audience_options(watched=watched)
        assert options.places and options.plans
        audience = await every_page(
            lambda c: feed.audience(AudienceFilter(), watched=watched, cursor=c)
        )
        assert [p.subscriber_id for p in audience] == [watched[0].subscriber_id]
        with pytest.raises(CredentialsRefused):
            await create_feed(refused).audience_options(watched=watched)
    finally:
        await allowed.close()
        await refused.close()
        await server.close()
        await sandbox.close()


async def test_a_server_without_the_feed_says_so(sandbox_template: Path, tmp_path: Path) -> None:
    sandbox = await start_sandbox(sandbox_template, tmp_path)

    class NoFeed:  # a provider's server implementing only the subscriber operations
        def __getattr__(self, name: str) -> Any:
            return getattr(sandbox, name)

    server = TestServer(create_app(NoFeed()), host="127.0.0.1", port=0)  # type: ignore[arg-type]
    await server.start_server()
    backend = HttpBackend(str(server.make_url("")), **FAST)
    try:
        await backend.start()
        feed = create_feed(backend)
        assert await feed.check() == [
            "notifications and broadcast audiences: the server has no /v1/feed/ routes"
        ]
        with pytest.raises(NotSupported):
            await feed.payments_between(WIDE_START, WIDE_END, watched=[])
    finally:
        await backend.close()
        await server.close()
        await sandbox.close()


@pytest.mark.parametrize("system", ["sgp", "ixc"])
async def test_a_round_over_many_generated_subscribers(system: str) -> None:
    """What the benchmark's 10k-linked rounds do, at a test's size: every question, every page."""
    standin, backend = await (start_sgp() if system == "sgp" else start_ixc())
    populate = populate_sgp if system == "sgp" else populate_ixc
    generated = populate(standin, 60, TODAY)
    watched = [g.watched for g in generated]
    feed = create_feed(backend, requests_per_second=0)
    try:
        first = generated[0]
        session = await backend.login(first.document, first.password)
        assert Watched(session.subscriber_id, backend.feed_reference(session)) == first.watched
        due = await every_page(
            lambda c: feed.open_invoices_due_between(
                TODAY, TODAY + timedelta(days=3), watched=watched, cursor=c
            )
        )
        assert len(due) == 60 and all(d.invoice.linha_digitavel and d.invoice.pix_code for d in due)
        paid = await every_page(
            lambda c: feed.payments_between(
                TODAY - timedelta(days=1), TODAY, watched=watched, cursor=c
            )
        )
        assert len(paid) == 60
        since = datetime.now(UTC) - timedelta(minutes=5)
        events = await every_page(
            lambda c: feed.ticket_events_since(since, watched=watched, cursor=c)
        )
        assert {e.subscriber_id for e in events} == {w.subscriber_id for w in watched[::5]}
        suspended = await every_page(
            lambda c: feed.audience(
                AudienceFilter(statuses=frozenset({AudienceStatus.SUSPENDED})),
                watched=watched,
                cursor=c,
            )
        )
        assert {p.subscriber_id for p in suspended} == {w.subscriber_id for w in watched[9::10]}
    finally:
        await backend.close()
        await standin.close()
