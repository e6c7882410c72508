"""Polling rounds over paged feeds: resumed where they stopped (after a provider error or a crash),
every notice once, a back-off after errors — and the feed references kept sealed."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from backend_client.errors import Unavailable
from backend_client.provider import FeedPage, Watched
from backend_client.sandbox import SandboxBackend
from backend_client.sandbox.feed import SandboxFeed
from bot.notifications.jobs import poll_and_plan
from bot.notifications.service import (
    QUESTIONS,
    ROUND,
    NotificationDetector,
    NotificationPlanner,
    QuietHours,
    every_watched_page,
)
from bot.notifications.store import NotificationStore
from bot.storage.db import create_engine
from bot.storage.encryption import SecretBox
from bot.storage.migrations import upgrade
from bot.storage.rounds import RoundStore
from bot.ui.formatting import TIMEZONE, local_time
from tests.support.bot_env import Clock

pytestmark = pytest.mark.both_databases
CHAT = 555001
DOCUMENT = "31845672062"  # Maria's CPF, the SGP-style reference


def at(day: str, hour: int = 10) -> datetime:
    return (
        datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=TIMEZONE).astimezone(UTC)
    )


class FlakyFeed:
    """The sandbox's feed, one item a page, failing (as a provider's system does) when told."""

    def __init__(self, backend: SandboxBackend) -> None:
        self.inner = SandboxFeed(backend, page_size=1)
        self.fail_at: int | None = None  # the call number that fails
        self.calls = 0
        self.watched_seen: list[Sequence[Watched]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def call(*args: Any, **kwargs: Any) -> FeedPage[Any]:
            self.calls += 1
            self.watched_seen.append(kwargs.get("watched", ()))
            if self.fail_at is not None and self.calls == self.fail_at:
                raise Unavailable("HTTP 503 from the provider's system")
            page: FeedPage[Any] = await method(*args, **kwargs)
            return page

        return call


@dataclass
class Rig:
    clock: Clock
    backend: SandboxBackend
    engine: Any
    store: NotificationStore
    feed: FlakyFeed
    planner: NotificationPlanner

    def detector(self) -> NotificationDetector:
        """A detector as a (re)started bot builds it."""
        return NotificationDetector(self.feed, watched=self.store, rounds=RoundStore(self.engine))

    async def outbox(self) -> list[tuple[str, int]]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(text("SELECT key, chat_id FROM notifications"))
            return sorted((key, chat) for key, chat in rows.all())


@pytest.fixture
async def rig(
    seeded_sandbox_file: Path, tmp_path: Path, bot_database_url: str
) -> AsyncIterator[Rig]:
    clock = Clock(at("2026-12-07"))
    shutil.copy(seeded_sandbox_file, tmp_path / "sandbox.db")
    backend = SandboxBackend(
        f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}",
        today=lambda: local_time(clock()).date(),
    )
    await backend.start()
    engine = create_engine(bot_database_url)
    await upgrade(engine)
    store = NotificationStore(engine, box=SecretBox([Fernet.generate_key().decode()]))
    for chat, subscriber in ((CHAT, "s1"), (CHAT + 1, "s2"), (CHAT + 2, "s3")):
        await store.link(chat, subscriber, "ct", "Cliente", at("2026-11-01"), reference=subscriber)
    yield Rig(
        clock, backend, engine, store, FlakyFeed(backend), NotificationPlanner(store, QuietHours())
    )
    await backend.close()
    await engine.dispose()


async def test_a_clean_round_asks_every_question_page_by_page_about_the_watched(rig: Rig) -> None:
    report = await rig.detector().poll(rig.clock(), rig.planner.plan)
    assert report.finished and report.added > 0
    assert report.pages > len(QUESTIONS)  # one item a page: several pages
    assert await RoundStore(rig.engine).get(ROUND) is None  # over: the next one starts afresh
    assert {tuple(w.subscriber_id for w in seen) for seen in rig.feed.watched_seen} == {
        ("s1", "s2", "s3")
    }


async def test_a_round_stopped_by_the_provider_resumes_where_it_stopped(rig: Rig) -> None:
    rig.feed.calls = 0
    await rig.detector().poll(rig.clock(), rig.planner.plan)
    clean_calls = rig.feed.calls
    expected = await rig.outbox()
    async with rig.engine.begin() as connection:
        await connection.execute(text("DELETE FROM notifications"))

    # It fails in a question after the reminders (whose page also asks, once per round and
    # process, the overdue invoices the reminders mention).
    rig.feed.calls, rig.feed.fail_at = 0, clean_calls - 2
    detector = rig.detector()
    first = await poll_and_plan(detector, rig.planner, rig.clock())
    position = await RoundStore(rig.engine).get(ROUND)
    assert position is not None and position.started_at == rig.clock()
    asked = rig.feed.calls

    # A new process (a restart) continues the saved round: the pages already answered are not
    # asked again, and the outbox ends up exactly as after a clean round.
    rig.feed.calls, rig.feed.fail_at = 0, None
    rig.clock.advance(minutes=5)
    report = await rig.detector().poll(rig.clock(), rig.planner.plan)
    assert report.resumed and report.finished
    assert rig.feed.calls == clean_calls - (asked - 1)
    assert first + report.added == len(expected)
    assert await rig.outbox() == expected


async def test_a_crash_after_a_page_is_planned_but_before_its_position_is_saved(rig: Rig) -> None:
    class CrashingRounds(RoundStore):
        saves = 0

        async def save(self, name: str, position: Any, now: datetime) -> None:
            CrashingRounds.saves += 1
            if CrashingRounds.saves == 3:  # the new round, then a page; the next page's save
                raise RuntimeError("killed")
            await super().save(name, position, now)

    crashing = NotificationDetector(rig.feed, watched=rig.store, rounds=CrashingRounds(rig.engine))
    with pytest.raises(RuntimeError):
        await crashing.poll(rig.clock(), rig.planner.plan)
    report = await rig.detector().poll(rig.clock(), rig.planner.plan)
    assert report.resumed and report.finished
    keys = await rig.outbox()
    assert len(keys) == len(set(keys))  # the page asked twice enqueued nothing twice
    async with rig.engine.begin() as connection:
        await connection.execute(text("DELETE FROM notifications"))
    await rig.detector().poll(rig.clock(), rig.planner.plan)
    assert await rig.outbox() == keys  # the same as a round without a crash


async def test_after_an_error_the_round_waits_longer_each_time_then_goes_on(rig: Rig) -> None:
    detector = rig.detector()
    rig.feed.fail_at = 1
    assert not (await detector.poll(rig.clock(), rig.planner.plan)).finished
    rig.feed.calls = 0
    rig.clock.advance(minutes=1)  # within the back-off: the provider is left alone
    await detector.poll(rig.clock(), rig.planner.plan)
    assert rig.feed.calls == 0
    rig.clock.advance(minutes=2)
    rig.feed.fail_at = 1
    await detector.poll(rig.clock(), rig.planner.plan)  # fails again: 4 minutes now
    rig.feed.calls, rig.feed.fail_at = 0, None
    rig.clock.advance(minutes=3)
    await detector.poll(rig.clock(), rig.planner.plan)
    assert rig.feed.calls == 0
    rig.clock.advance(minutes=2)
    assert (await detector.poll(rig.clock(), rig.planner.plan)).finished


async def test_a_round_left_from_another_day_is_not_resumed(rig: Rig) -> None:
    rig.feed.fail_at = 3
    await rig.detector().poll(rig.clock(), rig.planner.plan)
    rig.feed.fail_at = None
    rig.clock.now = at("2026-12-08")
    report = await rig.detector().poll(rig.clock(), rig.planner.plan)
    assert report.finished and not report.resumed


async def test_feed_references_are_stored_sealed_and_opened_for_the_watched_list(
    rig: Rig,
) -> None:
    await rig.store.link(CHAT + 3, "s9", "ct-9", "Outra", rig.clock(), reference=DOCUMENT)
    async with rig.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM chat_links"))).all()
    dump = json.dumps([[str(value) for value in row] for row in rows])
    assert DOCUMENT not in dump and "fernet" in dump
    watched = await rig.store.watched()
    assert Watched("s9", DOCUMENT) in watched
    assert DOCUMENT not in repr(watched)  # never in a log line either

    # Without a key, a reference is refused rather than stored in clear.
    with pytest.raises(ValueError, match="secret"):
        await NotificationStore(rig.engine).link(
            CHAT + 4, "s8", "ct", "X", rig.clock(), reference=DOCUMENT
        )


async def test_a_link_without_a_reference_is_watched_only_where_the_id_is_the_reference(
    rig: Rig,
) -> None:
    await rig.store.link(CHAT + 5, "old", "ct", "Antigo", rig.clock())  # before revision 0005
    assert "old" in {w.subscriber_id for w in await rig.store.watched()}
    sgp_like = NotificationStore(rig.engine, box=None, id_is_reference=False)
    assert "old" not in {w.subscriber_id for w in await sgp_like.watched()}


async def test_an_audience_is_collected_page_by_page_about_the_watched(rig: Rig) -> None:
    from backend_client.provider import AudienceFilter

    profiles = await every_watched_page(
        lambda watched, cursor: rig.feed.audience(AudienceFilter(), watched=watched, cursor=cursor),
        rig.store,
    )
    assert rig.feed.calls > 1
    assert {p.subscriber_id for p in profiles} >= {"s1", "s2", "s3"}
    rig.clock.advance(days=1)
    assert timedelta(0) < rig.clock() - at("2026-12-07")
