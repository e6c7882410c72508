"""The feed part of our REST contract: what the bot asks on its own behalf (no subscriber session),
one route per :class:`~backend_client.provider.ProviderFeed` question, paged by cursor.

Answers are pages, ``{"items": [...], "cursor": "…" | null}``: the client passes ``cursor`` back
to get the next page; ``null`` means the question is answered. A cursor is the server's own opaque
text (ours: the last key of the page). Audience segments and options have a JSON form of their
own (the frozensets of pairs of the models have none in ``wire``).
"""

from __future__ import annotations

from typing import Any

from backend_client.http.contract import Route
from backend_client.http.wire import WireError, from_json
from backend_client.provider import AudienceFilter, AudienceOptions, AudienceStatus

FEED_ROUTES: dict[str, Route] = {
    route.operation: route
    for route in (
        Route("open_invoices_due_between", "GET", "/feed/invoices/due", auth=False),
        Route("payments_between", "GET", "/feed/payments", auth=False),
        Route("ticket_events_since", "GET", "/feed/ticket-events", auth=False),
        Route("fiscal_notes_issued_between", "GET", "/feed/fiscal-notes", auth=False),
        Route("enablings_ending_on", "GET", "/feed/enablings-ending", auth=False),
        Route("audience", "POST", "/feed/audience", auth=False),
        Route("audience_options", "GET", "/feed/audience-options", auth=False),
        Route(
            "unlink_device",
            "DELETE",
            "/feed/contacts/{contact_id}/devices/{device_id}",
            204,
            auth=False,
        ),
    )
}


def segment_to_json(segment: AudienceFilter) -> dict[str, Any]:
    return {
        "places": [
            {"city": city, "neighbourhood": neighbourhood}
            for city, neighbourhood in sorted(segment.places, key=lambda p: (p[0], p[1] or ""))
        ],
        "plan_ids": sorted(segment.plan_ids),
        "statuses": sorted(status.value for status in segment.statuses),
        "contract_ids": sorted(segment.contract_ids),
        "subscriber_ids": sorted(segment.subscriber_ids),
    }


def segment_from_json(data: Any, path: str = "segment") -> AudienceFilter:
    if not isinstance(data, dict):
        raise WireError(path, "expected an object")
    places = []
    for i, place in enumerate(data.get("places") or []):
        where = f"{path}.places[{i}]"
        if not isinstance(place, dict):
            raise WireError(where, "expected an object")
        city = from_json(str, place.get("city"), f"{where}.city")
        neighbourhood = from_json(str | None, place.get("neighbourhood"), f"{where}.neighbourhood")
        places.append((city, neighbourhood))

    def strings(name: str) -> frozenset[str]:
        return frozenset(from_json(list[str], data.get(name) or [], f"{path}.{name}"))

    return AudienceFilter(
        places=frozenset(places),
        plan_ids=strings("plan_ids"),
        statuses=frozenset(
            from_json(list[AudienceStatus], data.get("statuses") or [], f"{path}.statuses")
        ),
        contract_ids=strings("contract_ids"),
        subscriber_ids=strings("subscriber_ids"),
    )


def options_to_json(options: AudienceOptions) -> dict[str, Any]:
    return {
        "places": [
            {"city": city, "neighbourhoods": list(neighbourhoods)}
            for city, neighbourhoods in options.places
        ],
        "plans": [{"id": plan_id, "name": name} for plan_id, name in options.plans],
    }


def options_from_json(data: Any, path: str = "$") -> AudienceOptions:
    if not isinstance(data, dict):
        raise WireError(path, "expected an object")
    places = []
    for i, place in enumerate(from_json(list[Any], data.get("places"), f"{path}.places")):
        where = f"{path}.places[{i}]"
        if not isinstance(place, dict):
            raise WireError(where, "expected an object")
        city = from_json(str, place.get("city"), f"{where}.city")
        names = from_json(tuple[str, ...], place.get("neighbourhoods"), f"{where}.neighbourhoods")
        places.append((city, names))
    plans = []
    for i, plan in enumerate(from_json(list[Any], data.get("plans"), f"{path}.plans")):
        where = f"{path}.plans[{i}]"
        if not isinstance(plan, dict):
            raise WireError(where, "expected an object")
        plans.append(
            (from_json(str, plan.get("id"), f"{where}.id"), from_json(str, plan.get("name"), where))
        )
    return AudienceOptions(places=tuple(places), plans=tuple(plans))
