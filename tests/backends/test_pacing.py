"""The pace of what the bot asks a provider's system on its own behalf: requests per second,
back-off on errors (exponential, capped, Retry-After honoured), and a round that resumes from its
cursor after the system failed or slowed down mid-listing."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backend_client.errors import Unavailable
from backend_client.ixc.feed import IxcFeed
from backend_client.kit.pacing import RequestPacer, retry_after_seconds
from backend_client.provider import AudienceFilter, FeedPage, Watched
from backend_client.sgp.feed import SgpFeed
from tests.backends.conftest import JOAO, MARIA, TODAY, start_ixc, start_sgp
from tests.backends.standin import Fault
from tests.backends.test_feeds import watch

WIDE = (TODAY - timedelta(days=400), TODAY + timedelta(days=400))


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


async def test_requests_wait_for_their_turn() -> None:
    fake = FakeTime()
    pacer = RequestPacer(2, clock=fake.clock, sleep=fake.sleep)
    for _ in range(4):
        await pacer.turn()
    assert fake.slept == [0.5, 0.5, 0.5]  # the first at once, then one every half second
    assert pacer.requests == 4


async def test_errors_back_off_exponentially_capped_and_honour_retry_after() -> None:
    fake = FakeTime()
    pacer = RequestPacer(
        0, backoff=1, max_backoff=5, max_wait=100, clock=fake.clock, sleep=fake.sleep
    )
    assert [pacer.failed() for _ in range(5)] == [1, 2, 4, 5, 5]
    assert pacer.failed(retry_after=30) == 30  # the system asked for more
    await pacer.turn()
    assert fake.slept == [30]
    pacer.succeeded()
    assert pacer.failed() == 1  # a success starts the count again


async def test_a_long_back_off_fails_fast_instead_of_holding_the_round() -> None:
    fake = FakeTime()
    pacer = RequestPacer(2, max_wait=5, clock=fake.clock, sleep=fake.sleep)
    pacer.failed(retry_after=60)
    with pytest.raises(Unavailable, match="backing off"):
        await pacer.turn()
    assert fake.slept == []


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Sat, 28 Nov 2026 12:00:30 GMT", now) == 30
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


def quick_pacer(rate: float = 0) -> RequestPacer:
    return RequestPacer(rate, system="test", backoff=0.01, max_backoff=0.05)


async def collect(ask: Any) -> tuple[list[Any], int]:
    """Every item, asking again from the last cursor after a failure (as a round resumes)."""
    items: list[Any] = []
    cursor: str | None = None
    failures = 0
    while True:
        try:
            page: FeedPage[Any] = await ask(cursor)
        except Unavailable:
            failures += 1
            assert failures < 20
            continue
        items += page.items
        if page.cursor is None:
            return items, failures
        cursor = page.cursor


async def ixc_feed(**options: Any) -> tuple[Any, Any, IxcFeed, list[Watched]]:
    standin, backend = await start_ixc()
    feed = IxcFeed(backend, pacer=quick_pacer(**options), page_size=1)
    return standin, backend, feed, await watch(backend, MARIA, JOAO)


async def test_errors_mid_listing_back_off_then_resume_from_the_cursor() -> None:
    standin, backend, feed, watched = await ixc_feed()
    try:

        def ask(c: str | None) -> Any:
            return feed.payments_between(*WIDE, watched=watched, cursor=c)

        expected, _ = await collect(ask)
        assert len(expected) > 2
        faults = {
            # the system fails mid-listing: more often than the retries, then recovers
            1: Fault(status=500, times=4),
            # it answers 503 once, asking for a pause
            2: Fault(status=503, times=1, headers={"Retry-After": "0"}),
        }
        pages = failures = 0
        cursor = None
        items: list[Any] = []
        while True:
            if pages in faults:
                standin.fail("/webservice/v1/fn_areceber", faults.pop(pages))
            try:
                page = await ask(cursor)
            except Unavailable:
                failures += 1  # the round ends; the next one asks the same page again
                assert failures < 5
                continue
            pages += 1
            items += page.items
            if page.cursor is None:
                break
            cursor = page.cursor
        assert [i.invoice.id for i in items] == [i.invoice.id for i in expected]  # each once
        assert failures == 1 and feed.pacer.backoffs == 5
    finally:
        await backend.close()
        await standin.close()


async def test_a_slow_answer_backs_off_and_is_asked_again() -> None:
    standin, backend = await start_ixc(timeout=0.3)
    feed = IxcFeed(backend, pacer=quick_pacer(), page_size=1)
    watched = await watch(backend, MARIA)
    try:
        standin.fail("/webservice/v1/fn_areceber", Fault(sleep=0.6, times=1))
        items, failures = await collect(
            lambda c: feed.open_invoices_due_between(*WIDE, watched=watched, cursor=c)
        )
        assert items and failures == 0 and feed.pacer.backoffs == 1
    finally:
        await backend.close()
        await standin.close()


async def test_the_feed_keeps_to_its_rate_and_the_subscribers_do_not_wait() -> None:
    standin, backend = await start_sgp()
    feed = SgpFeed(backend, pacer=quick_pacer(rate=20), page_size=1)
    watched = await watch(backend, MARIA, JOAO)
    try:
        started = time.monotonic()
        items, _ = await collect(lambda c: feed.payments_between(*WIDE, watched=watched, cursor=c))
        elapsed = time.monotonic() - started
        requests = feed.pacer.requests
        assert items and requests >= 4
        assert elapsed >= (requests - 1) / 20 * 0.9
        # A subscriber's own request does not queue behind the feed's pace.
        feed.pacer.failed(retry_after=3)
        started = time.monotonic()
        session = await backend.login(MARIA.document, MARIA.password)
        await backend.list_invoices(session)
        assert time.monotonic() - started < 1.0
    finally:
        await backend.close()
        await standin.close()


async def test_a_page_sends_no_more_than_fits_in_its_time() -> None:
    """At 1000 requests/s and 2 ms a page, a page may send 2 requests after its listing: the
    IXC feed stops once they are spent (a PIX each, a 2ª via too when overdue) and the next page
    goes on from the last invoice it completed."""
    standin, backend = await start_ixc()
    pacer = RequestPacer(1000, system="test", page_seconds=0.002)
    feed = IxcFeed(backend, pacer=pacer)
    watched = await watch(backend, MARIA, JOAO)
    try:
        pages: list[FeedPage[Any]] = []
        cursor = None
        while True:
            page = await feed.open_invoices_due_between(*WIDE, watched=watched, cursor=cursor)
            pages.append(page)
            if page.cursor is None:
                break
            cursor = page.cursor
        ids = [item.invoice.id for page in pages for item in page.items]
        assert len(pages) >= 2 and all(len(page.items) <= 2 for page in pages)
        unpaced = IxcFeed(backend, pacer=quick_pacer())
        whole, _ = await collect(
            lambda c: unpaced.open_invoices_due_between(*WIDE, watched=watched, cursor=c)
        )
        assert ids == [item.invoice.id for item in whole]  # every one, once, in order
        profiles = await feed.audience(AudienceFilter(), watched=watched)
        assert len(profiles.items) == 1 and profiles.cursor is not None
    finally:
        await backend.close()
        await standin.close()
