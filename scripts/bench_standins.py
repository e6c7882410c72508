"""The SGP and IXC stand-ins (tests/backends) with N generated subscribers, served from a process
of their own, for ``bench_notifications.py``: the provider's system must not share the bot's
event loop, or its work would count as the bot's pauses.

Each generated subscriber copies Maria's records (a contract and her open invoice due on
10/12/2026) with its own ids, a valid CPF of its own and a due date spread over the reminder
windows, so every one has a reminder to send; no ticket or fiscal note is new.
"""

from __future__ import annotations

import asyncio
import copy
import multiprocessing
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the stand-ins live in tests/backends
    sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from backend_client.formats.documents import cpf_with_check_digits  # noqa: E402

FIRST_ID = 100_000


def document_of(number: int) -> str:
    return cpf_with_check_digits(f"7{number:08d}")


def due_of(number: int, today: date) -> date:
    return today + timedelta(days=(number % 14) - 10)  # D-10 … D+3


def populate_sgp(standin: Any, count: int, today: date) -> list[tuple[str, str]]:
    """(subscriber id, feed reference) of each generated subscriber."""
    state = standin.state
    maria = state["consultacliente"]["31845672062"]
    title = next(t for t in state["titulos"]["1101"] if t["id"] == 70105)
    watched = []
    for n in range(count):
        document, client, contract = document_of(n), FIRST_ID + n, FIRST_ID + n
        answer = copy.deepcopy(maria)
        answer["contratos"] = answer["contratos"][:1]
        answer["contratos"][0].update(
            contratoId=contract, clienteId=client, razaoSocial=f"Assinante {n}", cpfCnpj=document
        )
        state["consultacliente"][document] = answer
        due = due_of(n, today).isoformat()
        state["titulos"][str(contract)] = [
            {**title, "id": 800_000 + n, "vencimento": due, "vencimento_atualizado": due}
        ]
        state["chamados"][str(contract)] = []
        for kind in ("notafiscal", "nfse", "nfcom"):
            state[kind][str(contract)] = {"notas": []}
        watched.append((str(client), document))
    return watched


def populate_ixc(standin: Any, count: int, today: date) -> list[tuple[str, str]]:
    tables = standin.tables
    maria = next(r for r in tables["cliente"] if r["id"] == "3101")
    contract = next(r for r in tables["cliente_contrato"] if r["id"] == "4101")
    invoice = next(r for r in tables["fn_areceber"] if r["id"] == "880105")
    pix = standin.pix.get("880105")
    watched = []
    for n in range(count):
        client, contract_id, invoice_id = str(FIRST_ID + n), str(FIRST_ID + n), str(900_000 + n)
        tables["cliente"].append(
            {**maria, "id": client, "cnpj_cpf": document_of(n), "razao": f"Assinante {n}"}
        )
        tables["cliente_contrato"].append({**contract, "id": contract_id, "id_cliente": client})
        tables["fn_areceber"].append(
            {
                **invoice,
                "id": invoice_id,
                "id_cliente": client,
                "id_contrato": contract_id,
                "data_vencimento": due_of(n, today).isoformat(),
            }
        )
        if pix is not None:
            standin.pix[invoice_id] = pix
        watched.append((client, client))
    # The stand-in finds a row by scanning its table: index them (10,000s of rows).
    index = {table: {r.get("id"): r for r in rows} for table, rows in tables.items()}
    standin._row = lambda table, row_id: index[table].get(str(row_id))
    return watched


def _serve(system: str, count: int, today: date, answer: Any) -> None:
    from tests.backends.standin_ixc import IxcStandIn
    from tests.backends.standin_sgp import SgpStandIn

    standin: Any = SgpStandIn() if system == "sgp" else IxcStandIn()
    populate = populate_sgp if system == "sgp" else populate_ixc
    watched = populate(standin, count, today)

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
