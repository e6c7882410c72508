"""``minha-central broadcast create|list|show|cancel|pause|resume``: provider broadcasts from
the command line.

It uses the same :class:`~bot.broadcasts.service.BroadcastService` as ``/aviso`` and the admin
API, on the bot's database (``DATABASE_URL``) and provider system (``BACKEND``…): it records
broadcasts and changes their state; the running bot sends them (a broadcast for "now" starts
within a few seconds, at the bot's next scheduling tick; a pause or cancel is noticed within a
second).

Exit codes: 0 done, 1 not found, 2 bad input or configuration, 3 schema out of date, 4 the
broadcast's state does not allow it, 5 the provider system is unavailable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.broadcasts.audience import Audience, split_ids
from bot.broadcasts.content import InvalidInput, displayed_text, validate_content
from bot.broadcasts.report import Report
from bot.broadcasts.schedule import parse_local_time
from bot.broadcasts.service import BroadcastService, Draft, StateError
from bot.cli_support import settings_or_exit
from bot.ui.formatting import day_time

STATUSES = ("active", "suspended", "overdue")


def add_parser(commands: Any) -> None:
    broadcast = commands.add_parser(
        "broadcast", help="provider broadcasts to linked chats (the running bot sends them)"
    )
    actions = broadcast.add_subparsers(dest="broadcast_command", required=True)
    create = actions.add_parser("create", help="create a broadcast (now or scheduled)")
    text = create.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the text, Telegram HTML (<b>, <i>, <a href=…>…)")
    text.add_argument("--text-file", type=Path, help="read the text (HTML) from this file")
    media = create.add_mutually_exclusive_group()
    media.add_argument("--photo", metavar="FILE_ID", help="attach a photo by its Telegram file_id")
    media.add_argument("--document", metavar="FILE_ID", help="attach a document by file_id")
    create.add_argument("--media-name", help="the document's file name (for reports)")
    create.add_argument("--all", action="store_true", help="every linked chat")
    create.add_argument(
        "--place",
        action="append",
        default=[],
        metavar="CITY[/NEIGHBOURHOOD]",
        help="a whole city, or one neighbourhood of it (repeat for more)",
    )
    create.add_argument(
        "--plan", action="append", default=[], help="plan id or name (repeat for more)"
    )
    create.add_argument(
        "--status", action="append", default=[], choices=STATUSES, help="contract situation"
    )
    create.add_argument(
        "--contracts", action="append", default=[], help="contract ids, comma-separated"
    )
    create.add_argument(
        "--subscribers", action="append", default=[], help="subscriber ids, comma-separated"
    )
    create.add_argument(
        "--at", help="send at 'dd/mm/aaaa hh:mm' (São Paulo) or an ISO 8601 instant; default now"
    )
    create.add_argument(
        "--dry-run", action="store_true", help="only check it and count the recipients"
    )
    create.add_argument("--json", action="store_true", help="print JSON")
    listing = actions.add_parser("list", help="the latest broadcasts with their progress")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--json", action="store_true", help="print JSON")
    for name, help_text in (
        ("show", "a broadcast's progress and report"),
        ("cancel", "cancel a scheduled, running or paused broadcast"),
        ("pause", "pause a running broadcast"),
        ("resume", "resume a paused broadcast"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("id", type=int, help="the broadcast's number")
        action.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    if settings is None:
        return 2
    try:
        return asyncio.run(_run(settings, args))
    except InvalidInput as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


async def _run(settings: Any, args: argparse.Namespace) -> int:
    from backend_client.errors import BackendError
    from backend_client.resilience import GuardedBackend
    from bot.application import create_backend, create_feed, utc_now
    from bot.broadcasts.store import BroadcastStore
    from bot.notifications.store import NotificationStore
    from bot.storage.db import create_engine
    from bot.storage.migrations import SchemaOutOfDate, ensure_current

    engine = create_engine(settings.database_url)
    backend = create_backend(settings)
    try:
        try:
            await ensure_current(engine)
        except SchemaOutOfDate as error:
            print(str(error), file=sys.stderr)
            return 3
        feed = None
        if args.broadcast_command == "create":
            raw_feed = create_feed(backend)
            if raw_feed is not None:
                await backend.start()
                feed = GuardedBackend(raw_feed, settings.backend_timeout)
        service = BroadcastService(
            BroadcastStore(engine),
            NotificationStore(engine),
            clock=utc_now,
            feed=feed,
            rate=settings.broadcast_rate,
            paid=settings.paid_broadcast,
        )
        try:
            return await _act(service, args)
        except BackendError as error:
            print(f"the provider system is unavailable: {error}", file=sys.stderr)
            return 5
    finally:
        await backend.close()
        await engine.dispose()


async def _act(service: BroadcastService, args: argparse.Namespace) -> int:
    command = args.broadcast_command
    if command == "create":
        return await _create(service, args)
    if command == "list":
        reports = await service.reports(max(1, min(args.limit, 100)))
        if args.json:
            print(json.dumps([r.to_json() for r in reports], ensure_ascii=False, indent=2))
        elif not reports:
            print("no broadcasts yet")
        for report in [] if args.json else reports:
            print(_line(report))
        return 0
    if command == "show":
        report = await service.report(args.id)
        if report is None:
            print(f"broadcast {args.id} does not exist", file=sys.stderr)
            return 1
        _print_report(report, as_json=args.json)
        return 0
    try:
        await getattr(service, command)(args.id)
    except LookupError:
        print(f"broadcast {args.id} does not exist", file=sys.stderr)
        return 1
    except StateError as error:
        print(f"error: {error}", file=sys.stderr)
        return 4
    report = await service.report(args.id)
    assert report is not None
    _print_report(report, as_json=args.json)
    return 0


async def _create(service: BroadcastService, args: argparse.Namespace) -> int:
    text = args.text if args.text is not None else args.text_file.read_text(encoding="utf-8")
    places: list[tuple[str, str | None]] = []
    for place in args.place:
        city, _, hood = place.partition("/")
        places.append((city.strip(), hood.strip() or None))
    audience = Audience(
        everyone=args.all,
        places=tuple(places),
        plans=tuple(args.plan),
        statuses=tuple(dict.fromkeys(args.status)),
        contract_ids=tuple(i for raw in args.contracts for i in split_ids(raw)),
        subscriber_ids=tuple(i for raw in args.subscribers for i in split_ids(raw)),
    )
    if audience.everyone and audience.has_segments:
        raise InvalidInput("audience", "--all cannot be combined with other filters")
    kind = "photo" if args.photo else "document" if args.document else None
    draft = Draft(
        text=text,
        audience=audience,
        send_at=_when(args.at, service),
        media_kind=kind,
        media_file_id=args.photo or args.document,
        media_name=args.media_name,
    )
    if args.dry_run:
        shown = validate_content(draft.text, kind)
        checked = await service.check_audience(audience)
        count = await service.count(checked)
        if args.json:
            print(json.dumps({"recipients": count, "text_shown": shown}, ensure_ascii=False))
        else:
            print(f"{count} recipient(s) now; the text as subscribers will read it:\n\n{shown}")
        return 0
    broadcast = await service.create(draft, created_by="cli")
    report = await service.report(broadcast.id)
    assert report is not None
    _print_report(report, as_json=args.json)
    if not args.json:
        print("\nThe running bot sends it (now: within a few seconds; scheduled: at its time).")
    return 0


def _when(raw: str | None, service: BroadcastService) -> datetime | None:
    if raw is None:
        return None
    if "/" in raw:
        return parse_local_time(raw, service.clock())
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("--at", "expected 'dd/mm/aaaa hh:mm' or an ISO 8601 instant") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _line(report: Report) -> str:
    b = report.broadcast
    total = "-" if b.total is None else str(b.total)
    text = displayed_text(b.text).replace("\n", " ")
    return (
        f"#{b.id:<5} {b.status:<9} {report.processed:>7}/{total:<7} {day_time(b.send_at)}  "
        f"{text[:50]}"
    )


def _print_report(report: Report, *, as_json: bool) -> None:
    data = report.to_json()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return
    r = data["report"]
    when = day_time(report.broadcast.send_at)
    print(f"broadcast #{data['id']}: {data['status']} (send at {when})")
    print(f"audience: {json.dumps(data['audience'], ensure_ascii=False)}")
    progress = data["progress"]
    print(f"recipients: {progress['total'] if progress['total'] is not None else 'at send time'}")
    print(
        f"sent {r['sent']}, failed {r['failed']} {r['failed_by_reason'] or ''}, blocked "
        f"{r['blocked']}, pending {r['pending']}, uncertain {r['uncertain']}"
    )
    if r["duration_seconds"] is not None:
        print(f"duration {r['duration_seconds']} s, rate {r['rate_per_second'] or '-'} msg/s")
