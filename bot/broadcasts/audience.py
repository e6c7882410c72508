"""Who a broadcast is for: :class:`Audience` (the API body's shape, kept as JSON with the
broadcast), its check against the provider's places and plans, and typed lists of ids."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from backend_client.provider import AudienceFilter, AudienceOptions, AudienceStatus, fold
from bot.broadcasts.content import InvalidInput

MAX_IDS = 10_000  # explicit contract / subscriber ids in one audience


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a broadcast is for (JSON-able through :meth:`to_json`; the API body's shape).

    ``everyone``: every linked chat. Otherwise the segments combine with AND (see
    :class:`~backend_client.provider.AudienceFilter`).
    """

    everyone: bool = False
    places: tuple[tuple[str, str | None], ...] = ()
    plans: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    contract_ids: tuple[str, ...] = ()
    subscriber_ids: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.everyone and not self.has_segments

    @property
    def has_segments(self) -> bool:
        return bool(
            self.places or self.plans or self.statuses or self.contract_ids or self.subscriber_ids
        )

    @property
    def needs_feed(self) -> bool:
        """Whether the provider's system must say who matches (everything but ids of
        subscribers, which our linked chats know)."""
        return bool(self.places or self.plans or self.statuses or self.contract_ids)

    def to_filter(self) -> AudienceFilter:
        return AudienceFilter(
            places=frozenset(self.places),
            plan_ids=frozenset(self.plans),
            statuses=frozenset(AudienceStatus(s) for s in self.statuses),
            contract_ids=frozenset(self.contract_ids),
            subscriber_ids=frozenset(self.subscriber_ids),
        )

    def to_json(self) -> dict[str, Any]:
        if self.everyone:
            return {"all": True}
        data: dict[str, Any] = {}
        if self.places:
            data["places"] = [
                {"city": city} if hood is None else {"city": city, "neighbourhood": hood}
                for city, hood in self.places
            ]
        for name in ("plans", "statuses", "contract_ids", "subscriber_ids"):
            if getattr(self, name):
                data[name] = list(getattr(self, name))
        return data

    @classmethod
    def from_json(cls, data: Any, where: str = "audience") -> Audience:
        """Parse and check the shape; InvalidInput names the field."""
        if not isinstance(data, dict):
            raise InvalidInput(where, 'expected an object, e.g. {"all": true}')
        known = {"all", "places", "plans", "statuses", "contract_ids", "subscriber_ids"}
        for key in data:
            if key not in known:
                raise InvalidInput(
                    f"{where}.{key}", f"unknown segment ({', '.join(sorted(known))})"
                )
        everyone = data.get("all", False)
        if not isinstance(everyone, bool):
            raise InvalidInput(f"{where}.all", "expected true or false")
        raw_places = _list(data, "places", where)
        places = tuple(_place(item, f"{where}.places[{i}]") for i, item in enumerate(raw_places))
        statuses = _strings(data, "statuses", where)
        for i, status in enumerate(statuses):
            if status not in {s.value for s in AudienceStatus}:
                raise InvalidInput(
                    f"{where}.statuses[{i}]",
                    f"unknown status {status!r} (active, suspended, overdue)",
                )
        audience = cls(
            everyone=everyone,
            places=tuple(dict.fromkeys(places)),
            plans=tuple(dict.fromkeys(_strings(data, "plans", where))),
            statuses=tuple(dict.fromkeys(statuses)),
            contract_ids=tuple(dict.fromkeys(_strings(data, "contract_ids", where))),
            subscriber_ids=tuple(dict.fromkeys(_strings(data, "subscriber_ids", where))),
        )
        if audience.everyone and audience.has_segments:
            raise InvalidInput(f"{where}.all", "cannot be combined with segments")
        if audience.is_empty:
            raise InvalidInput(
                where, 'choose {"all": true} or at least one segment', "empty_audience"
            )
        return audience


def _list(data: dict[str, Any], name: str, where: str) -> list[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise InvalidInput(f"{where}.{name}", "expected a list")
    if len(value) > MAX_IDS:
        raise InvalidInput(f"{where}.{name}", f"at most {MAX_IDS} items")
    return value


def _strings(data: dict[str, Any], name: str, where: str) -> list[str]:
    items = _list(data, name, where)
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip() or len(item) > 100:
            raise InvalidInput(f"{where}.{name}[{i}]", "expected a non-empty string")
    return [item.strip() for item in items]


def _place(item: Any, where: str) -> tuple[str, str | None]:
    if not isinstance(item, dict):
        raise InvalidInput(where, 'expected {"city": …, "neighbourhood": …}')
    city, hood = item.get("city"), item.get("neighbourhood")
    if not isinstance(city, str) or not city.strip():
        raise InvalidInput(f"{where}.city", "expected a non-empty string")
    if hood is not None and (not isinstance(hood, str) or not hood.strip()):
        raise InvalidInput(f"{where}.neighbourhood", "expected a non-empty string or null")
    return city.strip(), hood.strip() if hood else None


def canonical(audience: Audience, options: AudienceOptions) -> Audience:
    """The audience with places and plans as the provider's system names them (typed names
    are matched ignoring case and accents; a plan may be given by id or by name)."""
    cities = {fold(city): (city, {fold(h): h for h in hoods}) for city, hoods in options.places}
    places: list[tuple[str, str | None]] = []
    for i, (city, hood) in enumerate(audience.places):
        found = cities.get(fold(city))
        if found is None:
            known = ", ".join(c for c, _ in options.places)
            raise InvalidInput(
                f"audience.places[{i}].city",
                f"no subscriber in {city!r} (cities: {known})",
                "unknown_city",
                value=city,
            )
        name, hoods = found
        if hood is not None and fold(hood) not in hoods:
            raise InvalidInput(
                f"audience.places[{i}].neighbourhood",
                f"no subscriber in {hood!r}, {name} (neighbourhoods: {', '.join(hoods.values())})",
                "unknown_neighbourhood",
                value=hood,
            )
        places.append((name, None if hood is None else hoods[fold(hood)]))
    plans_by_key = {plan_id: plan_id for plan_id, _ in options.plans}
    plans_by_key |= {fold(name): plan_id for plan_id, name in options.plans}
    plans = []
    for i, plan in enumerate(audience.plans):
        plan_id = plans_by_key.get(plan) or plans_by_key.get(fold(plan))
        if plan_id is None:
            known = ", ".join(plan_id for plan_id, _ in options.plans)
            raise InvalidInput(
                f"audience.plans[{i}]", f"unknown plan {plan!r} (plans: {known})", "unknown_plan"
            )
        plans.append(plan_id)
    return Audience(
        everyone=audience.everyone,
        places=tuple(dict.fromkeys(places)),
        plans=tuple(dict.fromkeys(plans)),
        statuses=audience.statuses,
        contract_ids=audience.contract_ids,
        subscriber_ids=audience.subscriber_ids,
    )


def split_ids(text: str) -> list[str]:
    """Ids typed or pasted: separated by commas, semicolons, spaces or lines."""
    return [item for item in re.split(r"[\s,;]+", text) if item]


def describe_ids(ids: Iterable[str], limit: int = 5) -> str:
    """``c1, c2, c3 +4`` (for short summaries)."""
    items = list(ids)
    shown = ", ".join(items[:limit])
    return shown + (f" +{len(items) - limit}" if len(items) > limit else "")
