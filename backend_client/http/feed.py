"""The ``http`` adapter's :class:`~backend_client.provider.ProviderFeed`: the feed routes of our
REST contract (``backend_client/http/feed_contract.py``, ``openapi.yaml`` tag ``feed``).

A server implementing the contract has a global listing, so ``watched`` is not sent, except to
``POST /v1/feed/audience`` (``subscriber_ids``: the linked subscribers, the only ones a broadcast
can reach). Every request goes through the feed's pacer over the backend's pooled client.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from backend_client.errors import NotSupported
from backend_client.http.backend import HttpBackend
from backend_client.http.feed_contract import (
    FEED_ROUTES,
    options_from_json,
    segment_to_json,
)
from backend_client.http.wire import WireError, from_json, to_json
from backend_client.kit.pacing import DEFAULT_RATE, PacedTransport, RequestPacer
from backend_client.provider import (
    AudienceFilter,
    AudienceOptions,
    EnablingEnding,
    FeedPage,
    SubscriberFiscalNote,
    SubscriberInvoice,
    SubscriberProfile,
    TicketEvent,
    Watched,
)


class HttpFeed:
    def __init__(
        self,
        backend: HttpBackend,
        *,
        requests_per_second: float = DEFAULT_RATE,
        pacer: RequestPacer | None = None,
    ) -> None:
        self._backend = backend
        self.pacer = pacer or RequestPacer(requests_per_second, system="HTTP backend")
        self._transport: Any = PacedTransport(backend._transport, self.pacer)

    def __repr__(self) -> str:
        return f"HttpFeed({self._transport.base_url!r})"

    async def check(self) -> list[str]:
        """What ``backend check`` should say: a server without the feed routes answers
        ``not_supported`` (then no notification or segmented broadcast works)."""
        try:
            await self._call("audience_options")
        except NotSupported:
            return ["notifications and broadcast audiences: the server has no /v1/feed/ routes"]
        return []

    async def _call(
        self,
        operation: str,
        *,
        ids: dict[str, str] | None = None,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
    ) -> Any:
        route = FEED_ROUTES[operation]
        path = route.full_path.format(**{k: quote(v, safe="") for k, v in (ids or {}).items()})
        response = await self._transport.request(
            route.method,
            path,
            # Feed reads are idempotent, the audience POST included (it changes nothing).
            read=route.method in ("GET", "POST"),
            params=query or None,
            json_body=body,
        )
        if response.status == route.status:
            return None if route.status == 204 else self._transport.json(response)
        raise self._backend._error(operation, response)

    async def _page(
        self, operation: str, item: Any, query: list[tuple[str, str]], cursor: str | None
    ) -> FeedPage[Any]:
        if cursor is not None:
            query = [*query, ("cursor", cursor)]
        return self._decode(await self._call(operation, query=query), item)

    def _decode(self, data: Any, item: Any) -> FeedPage[Any]:
        try:
            if not isinstance(data, dict) or "items" not in data:
                raise WireError("$", 'expected an object with "items" and "cursor"')
            items = from_json(list[item], data["items"], "$.items")
            cursor = from_json(str | None, data.get("cursor"), "$.cursor")
        except WireError as error:
            raise self._transport._fail(f"a feed page has an unexpected shape at {error}") from None
        return FeedPage(items, cursor or None)

    @staticmethod
    def _window(start: date, end: date) -> list[tuple[str, str]]:
        return [("start", start.isoformat()), ("end", end.isoformat())]

    async def open_invoices_due_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberInvoice]:
        return await self._page(
            "open_invoices_due_between", SubscriberInvoice, self._window(start, end), cursor
        )

    async def payments_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberInvoice]:
        return await self._page(
            "payments_between", SubscriberInvoice, self._window(start, end), cursor
        )

    async def ticket_events_since(
        self, since: datetime, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[TicketEvent]:
        query = [("since", to_json(since))]
        return await self._page("ticket_events_since", TicketEvent, query, cursor)

    async def fiscal_notes_issued_between(
        self, start: date, end: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberFiscalNote]:
        return await self._page(
            "fiscal_notes_issued_between", SubscriberFiscalNote, self._window(start, end), cursor
        )

    async def enablings_ending_on(
        self, day: date, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[EnablingEnding]:
        query = [("day", day.isoformat())]
        return await self._page("enablings_ending_on", EnablingEnding, query, cursor)

    async def unlink_device(self, contact_id: str, device_id: str) -> None:
        ids = {"contact_id": contact_id, "device_id": device_id}
        await self._call("unlink_device", ids=ids)

    async def audience(
        self, segment: AudienceFilter, *, watched: Sequence[Watched], cursor: str | None = None
    ) -> FeedPage[SubscriberProfile]:
        body = {
            "segment": segment_to_json(segment),
            # null: the bot named nobody (everybody may match); a list: only those.
            "subscriber_ids": sorted({w.subscriber_id for w in watched}) or None,
            "cursor": cursor,
        }
        return self._decode(await self._call("audience", body=body), SubscriberProfile)

    async def audience_options(self, *, watched: Sequence[Watched]) -> AudienceOptions:
        data = await self._call("audience_options")
        try:
            return options_from_json(data)
        except WireError as error:
            raise self._transport._fail(f"audience options: unexpected shape at {error}") from None
