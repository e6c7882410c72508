"""The feed pieces SGP and IXC share (backend_client/kit/feed.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend_client.errors import NotPermitted, Unavailable
from backend_client.kit.feed import Skipping, ticket_answers
from backend_client.models import Ticket, TicketAuthor, TicketMessage, TicketStatus
from backend_client.provider import FeedPage, TicketEventKind

SINCE = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def _message(ident: str, author: TicketAuthor, hour: int) -> TicketMessage:
    return TicketMessage(ident, author, "", datetime(2026, 11, 10, hour, tzinfo=UTC), f"m{ident}")


def _ticket(status: TicketStatus, *messages: TicketMessage) -> Ticket:
    at = datetime(2026, 11, 10, 9, tzinfo=UTC)
    return Ticket("t1", "P-1", "Sem sinal", status, at, at, messages=messages)


def test_a_closed_tickets_last_answer_is_its_closing_and_older_ones_are_left_out() -> None:
    ticket = _ticket(
        TicketStatus.CLOSED,
        _message("1", TicketAuthor.PROVIDER, 11),  # before since
        _message("2", TicketAuthor.SUBSCRIBER, 13),
        _message("3", TicketAuthor.PROVIDER, 14),
        _message("4", TicketAuthor.PROVIDER, 15),
    )
    events = ticket_answers(ticket, "sub-9", SINCE, event_id=lambda m: f"t1:{m.id}")
    assert [(e.event_id, e.kind, e.text) for e in events] == [
        ("t1:3", TicketEventKind.ANSWERED, "m3"),
        ("t1:4", TicketEventKind.CLOSED, "m4"),
    ]
    assert {(e.subscriber_id, e.ticket_id, e.protocol) for e in events} == {("sub-9", "t1", "P-1")}
    kept = ticket_answers(ticket, "sub-9", SINCE, keep=lambda m: m.id == "3")
    assert [(e.event_id, e.kind) for e in kept] == [("3", TicketEventKind.ANSWERED)]


def test_a_ticket_closed_without_an_answer_gives_no_event() -> None:
    ticket = _ticket(TicketStatus.CLOSED, _message("2", TicketAuthor.SUBSCRIBER, 13))
    assert ticket_answers(ticket, "sub-9", SINCE) == []


async def test_a_refused_question_is_skipped_with_one_warning_per_key() -> None:
    warned: list[str] = []
    skipping = Skipping(
        (NotPermitted,),
        key=lambda error, question: str(getattr(error, "resource", question)),
        warn=lambda error, question: warned.append(question),
    )

    async def refused() -> FeedPage[int]:
        raise NotPermitted("feed", "su_ticket")

    async def answered() -> FeedPage[int]:
        return FeedPage([1], "c")

    assert await skipping("ticket answers", refused) == FeedPage([], None)
    assert await skipping("ticket answers", refused) == FeedPage([], None)
    assert await skipping("audiences", answered) == FeedPage([1], "c")
    assert warned == ["ticket answers"]

    async def down() -> FeedPage[int]:
        raise Unavailable("down")

    with pytest.raises(Unavailable):  # not a refusal: the poll sees it
        await skipping("payments", down)
