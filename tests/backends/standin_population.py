"""Many generated subscribers in the SGP and IXC stand-ins, for feed rounds at scale (tests and
the benchmark's 10k-linked-chat rounds).

Each generated subscriber has one active contract (every tenth suspended), an open invoice due
``due_in_days`` from ``today`` with its linha digitável and PIX, an invoice paid the day before
``today``, and — every fifth — an open ticket a staff member answered ``now``. Rows are copies of
the recorded fixtures with new ids, so they read exactly as the recorded ones do.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from backend_client.provider import Watched
from tests.backends.standin import now_text
from tests.backends.standin_ixc import IxcStandIn
from tests.backends.standin_sgp import SgpStandIn

NEIGHBOURHOODS = ("Cambuí", "Centro", "Taquaral", "Barão Geraldo")


@dataclass(frozen=True)
class Generated:
    watched: Watched  # what the bot keeps for the subscriber's linked chat
    document: str  # CPF, digits only (log in with it and ``password``)
    password: str


def cpf(number: int) -> str:
    """A valid CPF (check digits computed) from a running number."""
    base = [int(d) for d in f"{number % 10**9:09d}"]
    for size in (9, 10):
        total = sum(d * w for d, w in zip(base, range(size + 1, 1, -1), strict=True))
        base.append((total * 10 % 11) % 10)
    return "".join(map(str, base))


def formatted(document: str) -> str:
    return f"{document[:3]}.{document[3:6]}.{document[6:9]}-{document[9:]}"


def populate_ixc(
    standin: IxcStandIn, count: int, today: date, *, due_in_days: int = 3, first: int = 0
) -> list[Generated]:
    tables = standin.tables
    cliente0 = next(r for r in tables["cliente"] if r["id"] == "3101")
    contract0 = next(r for r in tables["cliente_contrato"] if r["id"] == "4101")
    open0 = next(r for r in tables["fn_areceber"] if r["id"] == "880104")
    paid0 = next(r for r in tables["fn_areceber"] if r["id"] == "880101")
    ticket0 = next(r for r in tables["su_ticket"] if r["id"] == "6102")
    message0 = tables["su_mensagens"][0]
    pix0 = standin.pix["880104"]
    found = []
    for i in range(first, first + count):
        document, password = cpf(100_000_000 + i), f"senha{i:06d}"
        cliente_id, contract_id = str(700_000 + i), str(800_000 + i)
        tables["cliente"].append(
            {
                **cliente0,
                "id": cliente_id,
                "razao": f"Assinante {i}",
                "cnpj_cpf": formatted(document),
                "senha": password,
                "bairro": NEIGHBOURHOODS[i % len(NEIGHBOURHOODS)],
            }
        )
        tables["cliente_contrato"].append(
            {
                **contract0,
                "id": contract_id,
                "id_cliente": cliente_id,
                "status_internet": "CA" if i % 10 == 9 else "A",
            }
        )
        open_id, paid_id = str(9_000_000 + 2 * i), str(9_000_001 + 2 * i)
        tables["fn_areceber"] += [
            {
                **open0,
                "id": open_id,
                "id_cliente": cliente_id,
                "id_contrato": contract_id,
                "data_vencimento": (today + timedelta(days=due_in_days)).isoformat(),
            },
            {
                **paid0,
                "id": paid_id,
                "id_cliente": cliente_id,
                "id_contrato": contract_id,
                "pagamento_data": (today - timedelta(days=1)).isoformat(),
            },
        ]
        standin.pix[open_id] = copy.deepcopy(pix0)
        if i % 5 == 0:
            ticket_id = str(600_000 + i)
            tables["su_ticket"].append(
                {**ticket0, "id": ticket_id, "id_cliente": cliente_id, "id_contrato": contract_id}
            )
            tables["su_mensagens"].append(
                {**message0, "id": str(7_000_000 + i), "id_ticket": ticket_id, "data": now_text()}
            )
        found.append(Generated(Watched(cliente_id, cliente_id), document, password))
    return found


def populate_sgp(
    standin: SgpStandIn, count: int, today: date, *, due_in_days: int = 3, first: int = 0
) -> list[Generated]:
    state = standin.state
    contract0 = state["consultacliente"]["31845672062"]["contratos"][0]
    faturas0 = {f["id"]: f for f in state["titulos"]["1101"]}
    open0, paid0 = faturas0[70104], faturas0[70101]
    chamado0 = state["chamados"]["1101"][1]
    found = []
    for i in range(first, first + count):
        document, password = cpf(200_000_000 + i), f"senha{i:06d}"
        contract_id, client_id = 200_000 + i, 600_000 + i
        contract: dict[str, Any] = {
            **copy.deepcopy(contract0),
            "contratoId": contract_id,
            "clienteId": client_id,
            "razaoSocial": f"Assinante {i}",
            "cpfCnpj": formatted(document),
            "endereco_bairro": NEIGHBOURHOODS[i % len(NEIGHBOURHOODS)],
        }
        if i % 10 == 9:
            contract.update(contratoStatus=4, contratoStatusDisplay="Suspenso")
        state["consultacliente"][document] = {"msg": "", "contratos": [contract]}
        state["verificaacesso"][str(contract_id)] = {
            **state["verificaacesso"]["1101"],
            "contratoId": contract_id,
            "login": f"assinante{i}",
        }
        standin.accounts["central"][document] = password
        state["titulos"][str(contract_id)] = [
            {
                **open0,
                "id": 3_000_000 + 2 * i,
                "vencimento": (today + timedelta(days=due_in_days)).isoformat(),
            },
            {
                **paid0,
                "id": 3_000_001 + 2 * i,
                "data_pagamento": (today - timedelta(days=1)).isoformat(),
            },
        ]
        chamados = []
        if i % 5 == 0:
            chamado = copy.deepcopy(chamado0)
            chamado.update(os=4_000_000 + i, contrato=contract_id, data_alteracao=now_text())
            for number, anotacao in enumerate(chamado.get("anotacoes", [])):
                anotacao["id"] = 5_000_000 + 10 * i + number
                anotacao["data"] = now_text()
            chamados.append(chamado)
        state["chamados"][str(contract_id)] = chamados
        subscriber_id = str(client_id)
        found.append(Generated(Watched(subscriber_id, document), document, password))
    return found
