"""The SGP and IXC stand-ins (tests/backends) with N generated subscribers, served from a process
of their own, for ``bench_notifications.py``: the provider's system must not share the bot's
event loop, or its work would count as the bot's pauses.

The subscribers are ``tests/backends/standin_population``'s: each with a contract, an invoice
due in 3 days (a reminder to send), one paid the day before (a payment confirmation) and, every
fifth, an answered ticket.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the stand-ins live in tests/backends
    sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402


def _index_rows(standin: Any) -> None:
    """The IXC stand-in finds a row by scanning its table: index them (10,000s of rows)."""
    index = {table: {r.get("id"): r for r in rows} for table, rows in standin.tables.items()}
    standin._row = lambda table, row_id: index[table].get(str(row_id))


def _serve(system: str, count: int, today: date, answer: Any) -> None:
    from tests.backends.standin_ixc import IxcStandIn
    from tests.backends.standin_population import populate_ixc, populate_sgp
    from tests.backends.standin_sgp import SgpStandIn

    standin: Any
    if system == "sgp":
        standin = SgpStandIn()
        generated = populate_sgp(standin, count, today)
    else:
        standin = IxcStandIn()
        generated = populate_ixc(standin, count, today)
        _index_rows(standin)
    watched = [(g.watched.subscriber_id, g.watched.reference) for g in generated]

    async def run() -> None:
        app = web.Application(middlewares=[standin._middleware], client_max_size=32 * 1024**2)
        standin.routes(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        standin.calls = _Forgetful()  # the stand-in records every call: not for 100,000s
        answer.send((f"http://127.0.0.1:{port}", standin.accounts, watched))
        await asyncio.Event().wait()

    asyncio.run(run())


class _Forgetful(list):  # type: ignore[type-arg]
    def append(self, item: Any) -> None:
        pass


def serve(system: str, count: int, today: date) -> tuple[Any, str, Any, list[tuple[str, str]]]:
    """Start the stand-in of ``system`` with ``count`` subscribers in a process of its own:
    (the process, its base URL, its accounts, the (subscriber id, reference) watched)."""
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(system, count, today, theirs), daemon=True)
    process.start()
    if not mine.poll(300):
        process.terminate()
        raise RuntimeError(f"the {system} stand-in did not start (see its traceback above)")
    url, accounts, watched = mine.recv()
    return process, url, accounts, watched
