"""Backends under test: the sandbox, our HTTP contract over the sandbox, and the SGP and IXC
adapters over their local stand-ins — all on 127.0.0.1, nothing reaches the internet."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from backend_client.http.backend import HttpBackend
from backend_client.ixc import IxcBackend
from backend_client.kit.shape import forget_warnings
from backend_client.models import DateRange
from backend_client.sandbox import DEMO_ACCOUNTS, SandboxBackend
from backend_client.sandbox.api import create_app
from backend_client.sgp import SgpBackend
from tests.backends.standin_ixc import IxcStandIn
from tests.backends.standin_sgp import SgpStandIn

TODAY = date(2026, 11, 28)
EVERYTHING = DateRange(date(2000, 1, 1), date(2100, 12, 31))
FAST = {"timeout": 2.0, "backoff": 0.01}


@pytest.fixture(autouse=True)
def _fresh_warnings() -> None:
    """Each test sees the once-per-process warnings about odd fields anew."""
    forget_warnings()


@dataclass(frozen=True)
class Account:
    document: str
    password: str


MARIA = Account(DEMO_ACCOUNTS[0].document, DEMO_ACCOUNTS[0].password)
JOAO = Account(DEMO_ACCOUNTS[1].document, DEMO_ACCOUNTS[1].password)
SILVA = Account(DEMO_ACCOUNTS[2].document, DEMO_ACCOUNTS[2].password)

SGP_UNSUPPORTED = frozenset(
    {
        "change_password",
        "link_contact_device",
        "unlink_contact_device",
        "list_phone_lines",
        "list_terminal_types",
        "list_call_records",
        "get_due_day_options",
        "request_due_day_change",
    }
)
IXC_UNSUPPORTED = frozenset(
    {
        "change_password",
        "list_contacts",
        "list_contact_types",
        "add_contact",
        "link_contact_device",
        "unlink_contact_device",
        "get_due_day_options",
        "request_due_day_change",
        "get_ticket_attachment",
    }
)


@dataclass
class Case:
    """One backend and what its dataset offers for the shared behavioural checks."""

    name: str
    backend: Any
    person: Account  # active; open, paid and cancelled invoices; tickets incl. a closed one
    suspended: Account  # a suspended contract that may ask for temporary enabling once
    caller: Account  # has a phone line with call records (when supported)
    refusal: str  # a fragment of the provider's text refusing a second enabling
    unsupported: frozenset[str] = frozenset()
    standin: Any = None
    extras: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="session")
def sandbox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox seeded once (scrypt hashing is slow); each test copies the file."""
    path = tmp_path_factory.mktemp("backends-sandbox") / "template.db"

    async def seed() -> None:
        backend = SandboxBackend(f"sqlite+aiosqlite:///{path}", today=lambda: TODAY)
        await backend.start()
        await backend.close()

    asyncio.run(seed())
    return path


async def start_sandbox(template: Path, tmp_path: Path) -> SandboxBackend:
    target = tmp_path / "sandbox.db"
    shutil.copy(template, target)
    backend = SandboxBackend(f"sqlite+aiosqlite:///{target}", today=lambda: TODAY)
    await backend.start()
    return backend


async def start_sgp(
    variant: frozenset[str] = frozenset(), **options: Any
) -> tuple[SgpStandIn, SgpBackend]:
    standin = SgpStandIn(variant)
    url = await standin.start()
    integration = standin.accounts["integration"]
    backend = SgpBackend(
        url, integration["token"], integration["app"], today=lambda: TODAY, **{**FAST, **options}
    )
    await backend.start()
    return standin, backend


async def start_ixc(
    variant: frozenset[str] = frozenset(), **options: Any
) -> tuple[IxcStandIn, IxcBackend]:
    standin = IxcStandIn(variant)
    standin.today = lambda: TODAY
    url = await standin.start()
    if "restricted" in variant:  # the provider configures the subjects IXC will not list
        from backend_client.models import TicketSubject

        subjects = [TicketSubject(i, name) for i, name in standin.accounts["ticket_subjects"]]
        options.setdefault("ticket_subjects", subjects)
    backend = IxcBackend(
        url,
        standin.accounts["user"],
        standin.accounts["token"],
        today=lambda: TODAY,
        **{**FAST, **options},
    )
    await backend.start()
    return standin, backend


@pytest.fixture
async def sgp() -> AsyncIterator[tuple[SgpStandIn, SgpBackend]]:
    standin, backend = await start_sgp()
    yield standin, backend
    await backend.close()
    await standin.close()


@pytest.fixture
async def ixc() -> AsyncIterator[tuple[IxcStandIn, IxcBackend]]:
    standin, backend = await start_ixc()
    yield standin, backend
    await backend.close()
    await standin.close()


# The answers real installations give differ; the stand-ins answer each variant (see their
# VARIANTS), and the whole conformance suite runs on every one.
SGP_VARIANTS: dict[str, frozenset[str]] = {
    "sgp": frozenset(),
    "sgp-variants": frozenset(
        {"objects-in-lists", "strings", "wrapped", "phone-only", "relative-links"}
    ),
    "sgp-central-only": frozenset({"ura-refused"}),
}
# Without the URA, SGP's contacts are out of reach (NotPermitted, a NotSupported).
SGP_URA_OPERATIONS = frozenset({"list_contacts"})
IXC_VARIANTS: dict[str, frozenset[str]] = {
    "ixc": frozenset(),
    "ixc-restricted": frozenset({"restricted", "second-copy"}),
    "ixc-indexed": frozenset({"indexed-registros"}),
}


@pytest.fixture(params=["sandbox", "http", *SGP_VARIANTS, *IXC_VARIANTS])
async def case(
    request: pytest.FixtureRequest, sandbox_template: Path, tmp_path: Path
) -> AsyncIterator[Case]:
    closers: list[Any] = []
    name = request.param
    if name in ("sandbox", "http"):
        sandbox = await start_sandbox(sandbox_template, tmp_path)
        closers.append(sandbox.close)
        backend: Any = sandbox
        if name == "http":
            server = TestServer(create_app(sandbox), host="127.0.0.1", port=0)
            await server.start_server()
            closers.append(server.close)
            backend = HttpBackend(str(server.make_url("")), **FAST)
            await backend.start()
            closers.append(backend.close)
        result = Case(name, backend, MARIA, JOAO, SILVA, refusal="já vale até")
    elif name in SGP_VARIANTS:
        variant = SGP_VARIANTS[name]
        standin, backend = await start_sgp(variant)
        closers += [standin.close, backend.close]
        unsupported = SGP_UNSUPPORTED
        if "ura-refused" in variant:
            unsupported |= SGP_URA_OPERATIONS
        result = Case(
            name,
            backend,
            MARIA,
            JOAO,
            MARIA,
            "atingiu quantidade permitida",
            unsupported,
            standin,
        )
    else:
        standin, backend = await start_ixc(IXC_VARIANTS[name])
        closers += [standin.close, backend.close]
        result = Case(name, backend, MARIA, JOAO, MARIA, "já utilizado", IXC_UNSUPPORTED, standin)
    yield result
    for close in reversed(closers):
        await close()
