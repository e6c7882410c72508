"""Checking what the provider's system lets the bot do: ``minha-central backend check`` and the
same check when ``run`` starts (then again in the background while the system is out of reach).

The check probes the system with the integration's credentials (``check_features``), never with
a subscriber's. Every line it prints or logs names a feature, a state and, at most, the table or
endpoint concerned: never a credential or a value.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from backend_client.errors import BackendError, CredentialsRefused, Unavailable
from backend_client.features import CheckState, Feature, FeatureCheck
from backend_client.feeds import create_feed
from bot.services.context import services_of
from bot.services.scheduling import repeat_once
from bot.settings import Settings

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 5 * 60  # while the system is out of reach at start-up, check again this often
RECHECK_JOB = "backend-check"
NOT_CHECKED = "not checked"  # a feature the backend's answer left out
_NAME_WIDTH = max(len(feature.value) for feature in Feature) + 2

# The settings that make up each system's integration credentials (what to check when refused).
CREDENTIAL_SETTINGS: dict[str, tuple[str, ...]] = {
    "sgp": ("BACKEND_TOKEN", "BACKEND_APP"),
    "ixc": ("BACKEND_USER", "BACKEND_TOKEN"),
    "http": ("BACKEND_TOKEN",),
}


class BackendCredentialsRefused(Exception):
    """``run`` stops: the provider's system refused the integration's credentials (the message
    names the settings to check, never their values)."""


def deadline(settings: Settings) -> float:
    """How long a whole check may take: it makes several calls, each within the per-call one."""
    return max(30.0, 4 * settings.backend_timeout)


def where(settings: Settings) -> str:
    """``the sgp system at https://host``: scheme and host only (no path, no query)."""
    if settings.backend == "sandbox" or not settings.backend_url:
        return f"the {settings.backend} system"
    parts = urlsplit(settings.backend_url)
    return f"the {settings.backend} system at {parts.scheme}://{parts.hostname or ''}" + (
        f":{parts.port}" if parts.port else ""
    )


def refused_message(settings: Settings) -> str:
    names = " and ".join(CREDENTIAL_SETTINGS.get(settings.backend, ("BACKEND_TOKEN",)))
    system = where(settings)
    return f"{system[0].upper()}{system[1:]} refused the integration's credentials: check {names}."


def unreachable_message(settings: Settings, error: Exception) -> str:
    return (
        f"Cannot reach {where(settings)}: {error}. Check BACKEND_URL and this machine's connection."
    )


async def run_check(backend: Any, seconds: float) -> list[FeatureCheck]:
    """``backend.check_features()`` within ``seconds``; a transport failure or a time-out becomes
    Unavailable (CredentialsRefused passes through)."""
    try:
        async with asyncio.timeout(seconds):
            return list(await backend.check_features())
    except TimeoutError as error:
        raise Unavailable(f"the check did not finish within {seconds:g}s") from error
    except (OSError, aiohttp.ClientError) as error:
        raise Unavailable(f"the check failed ({type(error).__name__})") from error


def in_menu_order(checks: Iterable[FeatureCheck]) -> list[tuple[Feature, FeatureCheck | None]]:
    """One entry per Feature, in the menu's order (None: the backend did not report it)."""
    found = {check.feature: check for check in checks}
    return [(feature, found.get(feature)) for feature in Feature]


def line(feature: Feature, check: FeatureCheck | None) -> str:
    """``fiscal_notes        not permitted (vd_saida)``"""
    if check is None:
        return f"{feature.value:<{_NAME_WIDTH}}{NOT_CHECKED}"
    state = check.state.value + (f" ({check.detail})" if check.detail else "")
    return f"{feature.value:<{_NAME_WIDTH}}{state}"


def counts(checks: Iterable[FeatureCheck]) -> str:
    """``11 ok, 1 not permitted, 2 not supported, 0 unreachable`` (+ ``, 1 not checked``)."""
    ordered = in_menu_order(checks)
    tally = {state: 0 for state in CheckState}
    missing = 0
    for _, check in ordered:
        if check is None:
            missing += 1
        else:
            tally[check.state] += 1
    text = ", ".join(f"{number} {state.value}" for state, number in tally.items())
    return text + (f", {missing} {NOT_CHECKED}" if missing else "")


def has_unreachable(checks: Iterable[FeatureCheck]) -> bool:
    return any(check.state is CheckState.UNREACHABLE for check in checks)


def summary(checks: Iterable[FeatureCheck]) -> str:
    """One log line: the counts, then each feature that is not ok (with its table/endpoint)."""
    ordered = in_menu_order(checks)
    parts = [counts(check for _, check in ordered if check is not None)]
    for state in (CheckState.NOT_PERMITTED, CheckState.NOT_SUPPORTED, CheckState.UNREACHABLE):
        named = [
            feature.value + (f" ({check.detail})" if check.detail else "")
            for feature, check in ordered
            if check is not None and check.state is state
        ]
        if named:
            parts.append(f"{state.value}: {', '.join(named)}")
    missing = [feature.value for feature, check in ordered if check is None]
    if missing:
        parts.append(f"{NOT_CHECKED}: {', '.join(missing)}")
    return "; ".join(parts)


# --- at run start-up ---------------------------------------------------------------------------
async def check_at_start_up(application: Any, settings: Settings) -> None:
    """Once, before updates are taken (the backend is started). Refused credentials raise
    :class:`BackendCredentialsRefused`; a system out of reach is logged and checked again in the
    background every :data:`RECHECK_SECONDS` until it answers."""
    try:
        checks = await run_check(application.bot_data["raw_backend"], deadline(settings))
    except CredentialsRefused:
        raise BackendCredentialsRefused(refused_message(settings)) from None
    except Unavailable as error:
        logger.warning(
            "backend check: cannot reach %s (%s); subscribers get an apology per request, "
            "checking again every %d minutes",
            where(settings),
            error,
            RECHECK_SECONDS // 60,
        )
        _schedule_recheck(application, settings)
        return
    except Exception as error:  # an adapter's bug must not keep the bot from starting
        logger.warning("backend check failed (%s); checking again later", type(error).__name__)
        _schedule_recheck(application, settings)
        return
    _take(application, checks)
    if has_unreachable(checks):
        _schedule_recheck(application, settings)


def _take(application: Any, checks: list[FeatureCheck]) -> None:
    services_of(application).backend.remember_checks(checks)
    logger.info("backend check: %s", summary(checks))


def _schedule_recheck(application: Any, settings: Settings) -> None:
    repeat_once(
        application,
        recheck,
        every=RECHECK_SECONDS,
        name=RECHECK_JOB,
        without_queue="no job queue: the backend check is not repeated",
        data=settings,
    )


async def recheck(context: Any) -> None:
    """The background check: stops repeating once every feature got an answer."""
    settings: Settings = context.job.data
    try:
        checks = await run_check(context.application.bot_data["raw_backend"], deadline(settings))
    except CredentialsRefused:
        logger.error("backend check: %s", refused_message(settings))
        return
    except Unavailable as error:
        logger.warning("backend check: still cannot reach %s (%s)", where(settings), error)
        return
    except Exception as error:
        logger.warning("backend check failed (%s)", type(error).__name__)
        return
    _take(context.application, checks)
    if not has_unreachable(checks):
        context.job.schedule_removal()


# --- minha-central backend check ----------------------------------------------------------------
EXIT_OK = 0
EXIT_CREDENTIALS_REFUSED = 6
EXIT_UNREACHABLE = 7


async def check_command(settings: Settings, backend: Any) -> int:
    """Start ``backend``, check it, print one line per feature and a summary; close it."""
    print(f"Checking {where(settings)} with the integration's credentials…", flush=True)
    try:
        await backend.start()
        checks = await run_check(backend, deadline(settings))
        for feature, check in in_menu_order(checks):
            print(line(feature, check))
        print(f"{len(Feature)} features: {counts(checks)}")
        for feed_line in await feed_lines(settings, backend):
            print(feed_line)
    except CredentialsRefused:
        print(refused_message(settings), file=sys.stderr)
        return EXIT_CREDENTIALS_REFUSED
    except Unavailable as error:
        print(unreachable_message(settings, error), file=sys.stderr)
        return EXIT_UNREACHABLE
    finally:
        await backend.close()
    return EXIT_UNREACHABLE if has_unreachable(checks) else EXIT_OK


async def feed_lines(settings: Settings, backend: Any) -> list[str]:
    """What the polling behind reminders, payment confirmations, ticket answers and broadcast
    audiences can ask this system (its feed's own check): a heading and one line per question
    it cannot answer. A feed that cannot be checked in time is said so, not fatal."""
    heading = "Notifications and broadcast audiences"
    feed = create_feed(backend, requests_per_second=settings.backend_feed_rate)
    if feed is None:
        return [f"{heading}: none — this system has no feed, so nothing is polled."]
    pace = (
        ""
        if settings.backend == "sandbox"
        else (f" (polled at most {settings.backend_feed_rate:g} requests/s, BACKEND_FEED_RATE)")
    )
    try:
        problems = await asyncio.wait_for(feed.check(), deadline(settings))
    except (BackendError, TimeoutError) as error:
        return [f"{heading}{pace}: not checked ({type(error).__name__})"]
    if not problems:
        return [f"{heading}{pace}: every question works"]
    return [f"{heading}{pace}:", *(f"  - {problem}" for problem in problems)]
