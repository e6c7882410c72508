"""Deterministic demo data of the sandbox and the documented demo accounts.

Everything comes from one ``random.Random`` with a fixed seed; dates are relative to the seed day
(stored in ``sandbox_meta``) so a demo always has an overdue, an open and paid invoices. Seeding the
same day twice yields the same rows, and :func:`seed_if_empty` never seeds a store twice.

The demo facts live in ``demo.py``, the row builder in ``seeder.py`` and the four accounts'
data in ``demo_accounts.py``; their public names stay importable from here.
"""

from __future__ import annotations

import asyncio
import functools
import random
from datetime import date

from sqlalchemy import select

from backend_client.sandbox.db import (
    MetaRow,
)
from backend_client.sandbox.demo import (
    CONTACT_TYPES,
    DEMO_ACCOUNTS,
    META_SEED_DAY,
    META_SEED_VERSION,
    PLANS,
    PROVIDER_AGENT,
    RANDOM_SEED,
    SAO_PAULO,
    SEED_VERSION,
    TERMINAL_TYPES,
    TICKET_SUBJECTS,
    DemoAccount,
    add_months,
    due_dates,
    local_instant,
)
from backend_client.sandbox.demo_accounts import seed_demo_accounts
from backend_client.sandbox.inline import Db
from backend_client.sandbox.security import SALT_BYTES, hash_password
from backend_client.sandbox.seeder import Seeder, png_image

__all__ = [
    "CONTACT_TYPES",
    "DEMO_ACCOUNTS",
    "META_SEED_DAY",
    "META_SEED_VERSION",
    "PLANS",
    "PROVIDER_AGENT",
    "RANDOM_SEED",
    "SAO_PAULO",
    "SEED_VERSION",
    "TERMINAL_TYPES",
    "TICKET_SUBJECTS",
    "DemoAccount",
    "add_months",
    "due_dates",
    "local_instant",
    "png_image",
    "seed_if_empty",
    "stored_seed_day",
]


@functools.cache
def _seed_hash(password: str, salt: bytes) -> str:
    return hash_password(password, salt)


async def _demo_hashes(rng: random.Random) -> list[str]:
    salts = [rng.randbytes(SALT_BYTES) for _ in DEMO_ACCOUNTS]
    return list(
        await asyncio.gather(
            *(
                asyncio.to_thread(_seed_hash, account.password, salt)
                for account, salt in zip(DEMO_ACCOUNTS, salts, strict=True)
            )
        )
    )


async def seed_if_empty(db: Db, seed_day: date) -> bool:
    """Seed the demo data unless the store was already seeded; True when it seeded."""
    if await db.get(MetaRow, META_SEED_DAY) is not None:
        return False
    seeder = Seeder(seed_day)
    hashes = await _demo_hashes(seeder.rng)
    seeder.catalogues()
    seed_demo_accounts(seeder, hashes)
    seeder.add(MetaRow, key=META_SEED_DAY, value=seed_day.isoformat())
    seeder.add(MetaRow, key=META_SEED_VERSION, value=SEED_VERSION)
    await seeder.insert_all(db)
    return True


async def stored_seed_day(db: Db) -> date | None:
    value = await db.scalar(select(MetaRow.value).where(MetaRow.key == META_SEED_DAY))
    return date.fromisoformat(value) if value else None
