"""The provider file (issue 20): loading, every problem named at once, the default without a file,
``PROVIDER_CONFIG``, ``minha-central config check`` and the start-up refusal of a broken file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.provider.config import (
    DEFAULT,
    MENU_IDS,
    PROVIDER_KEYS,
    ProviderConfigError,
    load,
    parse,
)
from bot.settings import Settings, SettingsError
from tests.support.bot_env import TOKEN

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "deploy" / "provider.example.toml"
BROKEN = """
[provider]
name = ""
support_phone = "123"
support_whatsapp = "+55 11 98888-7777"
support_email = "suporte@"
website = "ftp://netexemplo.com.br"
slogan = "A melhor"

[menu]
items = ["invoices", "boletos", "invoices"]

[texts]
welcome = "<b>Olá"
goodbye = "Tchau"

[policies]
due_days = [5, 31]
enabling_days = "três"

[brand]
color = "azul"
"""
BROKEN_PROBLEMS = (
    "unknown section [brand]",
    "[provider] slogan: unknown key",
    "[provider] name is empty",
    "[provider] support_phone: '123' is not a valid phone",
    "[provider] support_email: 'suporte@' is not an e-mail address",
    "[provider] website: 'ftp://netexemplo.com.br' is not an http(s) address",
    "[menu] items: unknown item 'boletos'",
    "[menu] items: 'invoices' is listed twice",
    "[texts] welcome: Telegram would refuse this HTML",
    "[texts] goodbye: unknown text",
    "[policies] due_days: 31 is not a day from 1 to 28",
    "[policies] enabling_days must be a whole number",
)


def test_the_example_file_sets_every_key() -> None:
    config = load(EXAMPLE)
    provider = config.provider
    assert provider.name == "Net Exemplo"
    assert provider.support_phone == "(11) 4000-1234"
    assert provider.whatsapp_link == "https://wa.me/5511988887777"
    assert provider.support_email == "suporte@netexemplo.com.br"
    assert provider.support_hours == "seg a sex, 8h às 18h; sáb 8h às 12h"
    assert provider.website == "https://netexemplo.com.br"
    assert provider.password_help is not None and "recuperar a senha" in provider.password_help
    assert config.menu_items[:3] == ("invoices", "account", "enabling")
    assert "calls" not in config.menu_items
    assert "Net Exemplo" in config.text("welcome", "")
    assert config.policies.due_days == (5, 10, 15, 20, 25)
    assert config.policies.enabling_days == 3
    assert config.policies.ticket_subjects[0] == (None, "Sem conexão")


def test_without_a_file_the_bot_keeps_todays_behaviour() -> None:
    assert DEFAULT.provider.name is None and not DEFAULT.provider.has_contacts
    assert DEFAULT.menu_items == MENU_IDS and len(MENU_IDS) == 13
    assert DEFAULT.text("welcome", "today's") == "today's"
    assert DEFAULT.policies.due_days == () and DEFAULT.policies.enabling_days is None
    # An empty file changes nothing either, but the menu then leaves out what the system lacks.
    assert replace(parse(""), from_file=False) == DEFAULT
    assert DEFAULT.visible_items(lambda item: item == "calls") == MENU_IDS
    assert "calls" not in parse("").visible_items(lambda item: item == "calls")


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(ProviderConfigError) as raised:
        parse(BROKEN, "provider.toml")
    problems = raised.value.problems
    for expected in BROKEN_PROBLEMS:
        assert any(problem.startswith(expected) for problem in problems), (expected, problems)
    assert len(problems) == len(BROKEN_PROBLEMS), problems


def test_a_toml_syntax_error_names_its_line() -> None:
    with pytest.raises(ProviderConfigError) as raised:
        parse('[provider]\nname = "Net Exemplo\n')
    assert raised.value.problems[0].startswith("not valid TOML")
    assert "line 2" in raised.value.problems[0]


def test_wrong_types_are_named() -> None:
    with pytest.raises(ProviderConfigError) as raised:
        parse('provider = "Net"\n[menu]\nitems = "invoices"\n[policies]\ndue_days = [5, "10"]\n')
    assert raised.value.problems == [
        "[provider] must be a table (a [provider] header), got text",
        '[menu] items must be a list of item ids in quotes, e.g. ["invoices", "account"]',
        "[policies] due_days: '10' is not a day from 1 to 28 (every month has it)",
    ]


def test_ticket_subjects_are_names_or_id_and_name() -> None:
    config = parse('[policies]\nticket_subjects = ["12=Sem conexão", "Outros"]\n')
    assert config.policies.ticket_subjects == (("12", "Sem conexão"), (None, "Outros"))
    with pytest.raises(ProviderConfigError) as raised:
        parse('[policies]\nticket_subjects = ["=Sem id", "Outros", "outros", 7]\n')
    assert len(raised.value.problems) == 3


def test_provider_config_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    environ = {"TELEGRAM_BOT_TOKEN": TOKEN}
    assert Settings.from_env(environ, env_file=None).provider_config is None
    (tmp_path / "provider.toml").write_text('[provider]\nname = "Net"\n')
    assert Settings.from_env(environ, env_file=None).provider_config == "provider.toml"
    chosen = tmp_path / "outro.toml"
    chosen.write_text("")
    given = Settings.from_env({**environ, "PROVIDER_CONFIG": str(chosen)}, env_file=None)
    assert given.provider_config == str(chosen)
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**environ, "PROVIDER_CONFIG": "sumiu.toml"}, env_file=None)
    assert raised.value.problems == [
        "PROVIDER_CONFIG names 'sumiu.toml', which is not a file here; leave it unset to run "
        "without one (see deploy/provider.example.toml)."
    ]


def test_config_check_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROVIDER_CONFIG", raising=False)
    monkeypatch.setenv("BACKEND", "sandbox")
    assert main(["config", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert f"{EXAMPLE}: ok" in out and "provider: Net Exemplo" in out
    assert "hidden" not in out  # the sandbox does everything

    broken = tmp_path / "provider.toml"
    broken.write_text(BROKEN)
    assert main(["config", "check"]) == 2  # ./provider.toml when no FILE is given
    captured = capsys.readouterr()
    assert captured.err.startswith(f"provider.toml: {len(BROKEN_PROBLEMS)} problems:\n")
    lines = captured.err.splitlines()[1:]
    assert len(lines) == len(BROKEN_PROBLEMS) and all(line.startswith("  - ") for line in lines)

    broken.unlink()
    assert main(["config", "check"]) == 0  # no file at all: the defaults
    assert "runs with its defaults" in capsys.readouterr().out
    assert main(["config", "check", "sumiu.toml"]) == 2  # a file asked for must exist


def test_config_check_names_the_items_the_backend_lacks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKEND", "sgp")  # SGP has no call records, due-day change, password
    assert main(["config", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "hidden: BACKEND=sgp cannot do due_day, password;" in out
    assert "menu (10 items): invoices, account, enabling, tickets," in out
    monkeypatch.setenv("BACKEND", "ixc")
    assert main(["config", "check", str(EXAMPLE)]) == 0
    assert "hidden: BACKEND=ixc cannot do contacts, due_day, password;" in capsys.readouterr().out


def test_run_stops_on_a_broken_file_naming_every_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    broken = tmp_path / "net.toml"
    broken.write_text(BROKEN)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("PROVIDER_CONFIG", str(broken))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"Minha Central cannot start; fix the provider file {broken}:\n")
    for expected in BROKEN_PROBLEMS:
        assert f"  - {expected}" in err
    assert not (tmp_path / "bot.db").exists()  # stopped before anything started


def test_the_readmes_example_is_complete_and_valid() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The provider's file", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    config = parse(example, "README.md")
    assert config.provider.name == "Net Exemplo"
    assert all(getattr(config.provider, key) for key in PROVIDER_KEYS)  # every key given
    assert config.policies.due_days and config.policies.enabling_days
    assert config.policies.ticket_subjects and config.texts


def test_sgp_and_ixc_get_the_files_enabling_days_and_subjects_with_ids() -> None:
    from bot.application import create_backend

    provider = parse('[policies]\nenabling_days = 5\nticket_subjects = ["12=Sem conexão", "X"]\n')
    for backend, extra in (("sgp", {"backend_app": "app"}), ("ixc", {"backend_user": "7"})):
        settings = Settings(
            telegram_bot_token=TOKEN,
            backend=backend,
            backend_url="https://sistema.provedor.example",
            backend_token="t",
            backend_ticket_subjects=(("99", "Do ambiente"),),
            **extra,  # type: ignore[arg-type]
        )
        adapter: Any = create_backend(settings, provider)
        assert adapter._enabling_days == 5
        assert [(s.id, s.name) for s in adapter._ticket_subjects] == [("12", "Sem conexão")]
        # Without the file: BACKEND_TICKET_SUBJECTS and the adapters' own default (3 days).
        adapter = create_backend(settings)
        assert adapter._enabling_days == 3
        assert [(s.id, s.name) for s in adapter._ticket_subjects] == [("99", "Do ambiente")]
