"""Many generated subscribers for the sandbox, for benchmarks and audience tests.

The four demo accounts (``seed.DEMO_ACCOUNTS``) are never touched: generated rows use their own
id prefix (``g…``), documents that are not valid CPFs (so nobody can log in as them) and one
shared password hash. The same ``count`` and ``seed`` always give the same rows. Given a
``password`` (benchmarks), they can log in instead: valid CPFs (:func:`loggable_document`), that
password, and each an open invoice to show.

Places are real cities and neighbourhoods of the Campinas region; plans are the sandbox's plans;
contract situations follow an ISP's usual mix (most active, some suspended for non-payment, a few
temporarily enabled or cancelled) and some active contracts have an overdue invoice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import insert

from backend_client.formats.documents import cpf_with_check_digits
from backend_client.models import ContractStatus, InvoiceStatus
from backend_client.sandbox.backend import SandboxBackend
from backend_client.sandbox.db import ContractRow, InvoiceRow, SubscriberRow
from backend_client.sandbox.security import hash_password
from backend_client.sandbox.seed import PLANS, add_months

# (city, state, postal code prefix, neighbourhoods)
PLACES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "Campinas",
        "SP",
        "130",
        ("Barão Geraldo", "Cambuí", "Castelo", "Centro", "Guanabara", "Jardim Proença", "Taquaral"),
    ),
    ("Sumaré", "SP", "131", ("Centro", "Jardim Denadai", "Nova Veneza", "Parque Franceschini")),
    ("Hortolândia", "SP", "131", ("Jardim Amanda", "Remanso Campineiro", "Jardim Rosolém")),
    ("Paulínia", "SP", "131", ("Centro", "Morumbi", "João Aranha")),
    ("Valinhos", "SP", "132", ("Centro", "Vila Santana", "Jardim Pinheiros")),
)
STREETS = (
    "Rua das Palmeiras",
    "Avenida Brasil",
    "Rua José Paulino",
    "Rua Barão de Jaguara",
    "Avenida Norte-Sul",
    "Rua Sete de Setembro",
)
# Contract situation weights: (status, weight)
SITUATIONS: tuple[tuple[ContractStatus, int], ...] = (
    (ContractStatus.ACTIVE, 85),
    (ContractStatus.SUSPENDED, 8),
    (ContractStatus.TEMPORARILY_ENABLED, 2),
    (ContractStatus.CANCELLED, 5),
)
OVERDUE_SHARE = 0.12  # active contracts with an overdue invoice
BATCH = 5000
_PLAN_WEIGHTS = (40, 30, 15, 10, 5)


@dataclass(frozen=True, slots=True)
class Generated:
    """What was generated: subscriber ids in order (contract ``gc<n>`` belongs to ``g<n>``)."""

    subscriber_ids: tuple[str, ...]


def subscriber_id(number: int) -> str:
    return f"g{number}"


def contract_id(number: int) -> str:
    return f"gc{number}"


def loggable_document(number: int) -> str:
    """The CPF of generated subscriber ``number`` when generated with a password (9xxxxxxxx-dd)."""
    return cpf_with_check_digits(f"9{number:08d}")


async def populate(
    backend: SandboxBackend,
    count: int,
    *,
    today: date,
    seed: int = 2026,
    password: str | None = None,
) -> Generated:
    """Insert ``count`` generated subscribers, each with one contract (and its overdue invoice,
    for suspended ones and a share of the active ones; for every one, with ``password``) into a
    started sandbox."""
    rng = random.Random(seed)
    # One hash for all (scrypt is slow on purpose); without a password, nobody's.
    password_hash = hash_password(password, salt=b"generated-popula") if password else "generated"
    plan_ids = [plan[0] for plan in PLANS]
    prices = {plan[0]: plan[4] for plan in PLANS}
    statuses = [status for status, _ in SITUATIONS]
    weights = [weight for _, weight in SITUATIONS]
    if backend._engine is None:
        raise RuntimeError("start the sandbox backend first")
    async with backend._transaction() as db:
        for start in range(0, count, BATCH):
            subscribers, contracts, invoices = [], [], []
            for number in range(start, min(start + BATCH, count)):
                city, state, prefix, neighbourhoods = rng.choice(PLACES)
                address = {
                    "street": rng.choice(STREETS),
                    "street_number": str(rng.randint(10, 3999)),
                    "complement": "",
                    "neighbourhood": rng.choice(neighbourhoods),
                    "city": city,
                    "state": state,
                    "postal_code": f"{prefix}{rng.randint(0, 99999):05d}",
                }
                subscribers.append(
                    {
                        "id": subscriber_id(number),
                        "name": f"Assinante Gerado {number}",
                        "document": loggable_document(number) if password else f"9{number:010d}",
                        "email": None,
                        "phones": "",
                        "password_hash": password_hash,
                        **address,
                    }
                )
                plan = rng.choices(plan_ids, _PLAN_WEIGHTS)[0]
                status = rng.choices(statuses, weights)[0]
                due_day = rng.choice((5, 10, 15, 20, 25))
                contracts.append(
                    {
                        "id": contract_id(number),
                        "subscriber_id": subscriber_id(number),
                        "number": f"G/{number:07d}",
                        "plan_id": plan,
                        "status": status.value,
                        "due_day": due_day,
                        "started_on": add_months(today, -rng.randint(2, 60)).replace(day=1),
                        "temporarily_enabled_until": (
                            today + timedelta(days=2)
                            if status is ContractStatus.TEMPORARILY_ENABLED
                            else None
                        ),
                        **address,
                    }
                )
                overdue = (
                    password is not None
                    or status in (ContractStatus.SUSPENDED, ContractStatus.TEMPORARILY_ENABLED)
                    or (status is ContractStatus.ACTIVE and rng.random() < OVERDUE_SHARE)
                )
                if overdue:
                    due = today - timedelta(days=rng.randint(3, 40))
                    invoices.append(
                        {
                            "id": f"gi{number}",
                            "contract_id": contract_id(number),
                            "number": 50_000_000 + number,
                            "bank_code": "001",
                            "reference": due.strftime("%m/%Y"),
                            "issued_on": due - timedelta(days=15),
                            "due_date": due,
                            "amount_cents": prices[plan],
                            "status": InvoiceStatus.OPEN.value,
                            "paid_on": None,
                            "paid_amount_cents": None,
                        }
                    )
            await db.execute(insert(SubscriberRow), subscribers)
            await db.execute(insert(ContractRow), contracts)
            if invoices:
                await db.execute(insert(InvoiceRow), invoices)
    return Generated(tuple(subscriber_id(n) for n in range(count)))
