"""Which outages touch a subscriber's address (issue 22): the ones the provider's staff declared
(bot.outages.store) merged with the ones its system knows (``list_outages``, when it has them),
matched by city and neighbourhood with case and accents aside; and the forecasts staff type
("hoje 18h", "18:30", "amanhã 10h", "sem previsão") read as instants in São Paulo time."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from backend_client.errors import BackendError
from backend_client.features import Feature
from backend_client.models import Address, AreaOutage, BackendSession
from backend_client.timezone import SAO_PAULO
from bot.intents.normalize import fold
from bot.outages.store import DeclaredOutage, OutageStore

logger = logging.getLogger(__name__)

STORE_KEY = "outage_store"


@dataclass(frozen=True, slots=True)
class Outage:
    """An outage as the subscriber is told of it, whoever knows it."""

    city: str
    neighbourhood: str | None  # None: the whole city
    description: str
    forecast: datetime | None
    source: str  # "declared" | "system"
    declared_id: int | None = None  # the bot's row (staff end it; chats may wait for that)


def store_of(application: Any) -> OutageStore:
    store = application.bot_data.get(STORE_KEY)
    if store is None:
        store = application.bot_data[STORE_KEY] = OutageStore(application.bot_data["engine"])
    return store


def touches(city: str, neighbourhood: str | None, address: Address) -> bool:
    """The outage's area holds ``address`` (same city; same neighbourhood or the whole city)."""
    if not city.strip() or fold(city) != fold(address.city):
        return False
    return not (neighbourhood or "").strip() or fold(neighbourhood or "") == fold(
        address.neighbourhood
    )


def _of_declared(outage: DeclaredOutage) -> Outage:
    return Outage(
        outage.city,
        outage.neighbourhood,
        outage.description,
        outage.forecast,
        "declared",
        outage.id,
    )


def _of_system(outage: AreaOutage) -> Outage:
    return Outage(outage.city, outage.neighbourhood, outage.description, outage.forecast, "system")


async def outages_at(
    services: Any, store: OutageStore, session: BackendSession, address: Address
) -> list[Outage]:
    """Active outages whose area holds ``address``: declared ones first, then the system's
    (skipped when the system has none, or does not answer: the self-help goes on without)."""
    found = [
        _of_declared(o) for o in await store.active() if touches(o.city, o.neighbourhood, address)
    ]
    if services.lacks(Feature.AREA_OUTAGES):
        return found
    try:
        known = await services.backend.list_outages(session)
    except BackendError as error:  # NotSupported is learned by the GuardedBackend
        logger.info("outages: the system's list is unavailable: %s", type(error).__name__)
        return found
    found += [_of_system(o) for o in known if touches(o.city, o.neighbourhood, address)]
    return found


# --- forecasts typed by staff ----------------------------------------------------------------
class ForecastError(ValueError):
    pass


NO_FORECAST = ("sem previsao", "sem", "nao sei", "-", "nenhuma")
_WHEN = re.compile(
    r"^(?:(?P<day>hoje|amanha|\d{1,2}/\d{1,2}(?:/\d{2,4})?)\s*(?:as\s*|a\s*)?)?"
    r"(?P<hour>\d{1,2})\s*(?:h|:)\s*(?P<minute>\d{2})?\s*(?:h|min)?$"
)


def parse_forecast(text: str, now: datetime) -> datetime | None:
    """``"hoje 18h"``, ``"18:30"``, ``"amanhã 10h"``, ``"05/12 9h"`` (São Paulo time) → the
    instant; ``"sem previsão"`` → None. A bare hour already past today means tomorrow.
    Raises ForecastError for anything else."""
    folded = fold(text)
    if folded in NO_FORECAST:
        return None
    match = _WHEN.match(folded)
    if match is None:
        raise ForecastError(text)
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    if hour > 23 or minute > 59:
        raise ForecastError(text)
    local_now = now.astimezone(SAO_PAULO)
    today = local_now.date()
    word = match["day"]
    if word == "amanha":
        day = today + timedelta(days=1)
    elif word and "/" in word:
        parts = [int(p) for p in word.split("/")]
        year = parts[2] if len(parts) == 3 else today.year
        year = year + 2000 if year < 100 else year
        try:
            day = date(year, parts[1], parts[0])
        except ValueError as error:
            raise ForecastError(text) from error
    else:
        day = today
    instant = datetime.combine(day, time(hour, minute), tzinfo=SAO_PAULO)
    if word is None and instant <= local_now:
        instant += timedelta(days=1)
    return instant
