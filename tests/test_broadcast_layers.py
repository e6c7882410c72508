"""The broadcasts package keeps its layers (issue 18): entry points (the /aviso flow, /avisos,
the admin API, the CLI, the bot's jobs and sender) → service → its Telegram-free parts → store.

Read from the modules' own import statements (lazy ones included), as ``import-linter`` would."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bot" / "broadcasts"
MODULES = sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__")
ENTRY_POINTS = {
    "flow",
    "flow_audience",
    "flow_common",
    "flow_outage",
    "commands",
    "api",
    "cli",
    "jobs",
    "sender",
}
TELEGRAM_FREE = sorted(set(MODULES) - ENTRY_POINTS - {"texts"})
# What a flow of the package may use from the layers that hold the other flows: the access
# guards, and the guided-flow machinery (flow, typed, forget) of conversations.common.
ALLOWED_ABOVE = {"bot.handlers.access", "bot.conversations.common"}


def _imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "bot.broadcasts":  # from bot.broadcasts import store as db
                found.update(f"bot.broadcasts.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_package_has_the_modules_the_layers_name() -> None:
    assert {"service", "store", "content", "delivery", "flow", "api", "cli"} <= set(MODULES)
    assert TELEGRAM_FREE  # the parts below the service


@pytest.mark.parametrize("module", TELEGRAM_FREE)
def test_the_service_and_its_parts_are_telegram_free(module: str) -> None:
    imports = _imports(module)
    above = {f"bot.broadcasts.{name}" for name in ENTRY_POINTS} | {"bot.broadcasts.texts"}
    for name in imports:
        assert not name.startswith(("telegram", "aiohttp", "bot.handlers", "bot.ui")), name
        assert not name.startswith(("bot.conversations", "bot.localapi", "bot.web")), name
        assert name not in above, name


@pytest.mark.parametrize("module", MODULES)
def test_no_module_reaches_into_other_flows_or_the_emulator(module: str) -> None:
    for name in _imports(module):
        if name.startswith(("bot.handlers", "bot.conversations")):
            assert name in ALLOWED_ABOVE, name
        assert not name.startswith("bot.localapi"), name


def test_no_import_loop_inside_the_package() -> None:
    graph = {
        module: {
            name.removeprefix("bot.broadcasts.")
            for name in _imports(module)
            if name.startswith("bot.broadcasts.")
        }
        for module in MODULES
    }
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " → ".join((*path, module))
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            visit(imported, (*path, module))
        done.add(module)

    for module in MODULES:
        visit(module, ())


@pytest.mark.parametrize("module", MODULES)
def test_no_module_is_over_600_lines(module: str) -> None:
    lines = (PACKAGE / f"{module}.py").read_text(encoding="utf-8").count("\n")
    assert lines <= 600, f"{module}.py has {lines} lines"
