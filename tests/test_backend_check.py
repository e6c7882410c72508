"""``minha-central backend check``, the same check at ``run`` start-up, and what it teaches the
bot (GuardedBackend.remember_checks)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from backend_client.errors import CredentialsRefused, Unavailable
from backend_client.features import CheckState, Feature, FeatureCheck, all_ok
from backend_client.resilience import GuardedBackend
from bot import application as application_module
from bot.backend_check import RECHECK_JOB, BackendCredentialsRefused, check_at_start_up
from bot.cli import main
from bot.localapi.core import LocalBotApi
from bot.settings import Settings
from bot.storage.db import create_engine
from bot.storage.migrations import upgrade
from tests.support.bot_env import TOKEN, BotEnv, login
from tests.support.driver import texts as shown
from tests.support.fake_backends import SECRET_TOKEN, CheckOnlyBackend, refusing, unreachable
from tests.support.local_api import serving

ROOT = Path(__file__).resolve().parents[1]
ENCRYPTION_KEY = "Kk7F1Vx8b1rXxAq9mJm0c0dHq8y2V8xk3s5b9Q1f2Rw="  # production needs a Fernet key

MIXED = [
    FeatureCheck(Feature.ACCOUNT, CheckState.OK),
    FeatureCheck(Feature.ENABLING, CheckState.OK),
    FeatureCheck(Feature.INVOICES, CheckState.OK),
    FeatureCheck(Feature.FISCAL_NOTES, CheckState.NOT_PERMITTED, "vd_saida"),
    FeatureCheck(Feature.CONTACTS, CheckState.OK),
    FeatureCheck(Feature.CALLS, CheckState.NOT_SUPPORTED),
    FeatureCheck(Feature.CONNECTIONS, CheckState.OK),
    FeatureCheck(Feature.STATEMENT, CheckState.OK),
    FeatureCheck(Feature.DUE_DAY, CheckState.NOT_SUPPORTED),
    FeatureCheck(Feature.PASSWORD, CheckState.NOT_SUPPORTED),
    FeatureCheck(Feature.NEW_CONTACT, CheckState.OK),
    FeatureCheck(Feature.CONTACT_LINK, CheckState.NOT_SUPPORTED),
    FeatureCheck(Feature.NEW_TICKET, CheckState.OK),
    FeatureCheck(Feature.TICKET_ATTACHMENTS, CheckState.OK),
    FeatureCheck(Feature.AREA_OUTAGES, CheckState.NOT_SUPPORTED),
    # The adapter's order is not the menu's: tickets comes last here.
    FeatureCheck(Feature.TICKETS, CheckState.OK),
]


# --- minha-central backend check ----------------------------------------------------------------
@pytest.fixture
def sgp_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    for name, value in {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "BACKEND": "sgp",
        "BACKEND_URL": "https://sgp.provedor.example/",
        "BACKEND_TOKEN": SECRET_TOKEN,
        "BACKEND_APP": "minhacentral",
        "ENCRYPTION_KEY": ENCRYPTION_KEY,
    }.items():
        monkeypatch.setenv(name, value)


def _check(monkeypatch: pytest.MonkeyPatch, backend: CheckOnlyBackend) -> int:
    monkeypatch.setattr(application_module, "create_backend", lambda settings: backend)
    return main(["backend", "check"])


def test_check_prints_every_feature_in_menu_order_and_exits_0(
    sgp_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = CheckOnlyBackend(MIXED)
    assert _check(monkeypatch, backend) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Checking the sgp system at https://sgp.provedor.example with the " + (
        "integration's credentials…"
    )
    summary = _summary_index(lines)
    features = [re.split(r"\s{2,}", line)[0] for line in lines[1:summary]]
    assert features == [feature.value for feature in Feature]
    assert re.search(r"^invoices\s+ok$", out, re.M)
    assert re.search(r"^fiscal_notes\s+not permitted \(vd_saida\)$", out, re.M)
    assert re.search(r"^password\s+not supported$", out, re.M)
    # the states line up in one column
    assert len({re.match(r"\S+\s+", line).end() for line in lines[1:summary]}) == 1  # type: ignore[union-attr]
    assert lines[summary] == "16 features: 10 ok, 1 not permitted, 5 not supported, 0 unreachable"
    # A system the bot has no feed for says that nothing is polled (no reminders from it).
    assert lines[summary + 1 :] == [
        "Notifications and broadcast audiences: none — this system has no feed, so nothing is "
        "polled."
    ]
    assert backend.started and backend.closed
    assert SECRET_TOKEN not in out


def test_a_feature_out_of_reach_exits_7(
    sgp_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    checks = [
        FeatureCheck(c.feature, CheckState.UNREACHABLE, "/api/ura/chamadas/")
        if c.feature is Feature.CALLS
        else c
        for c in all_ok()
    ]
    assert _check(monkeypatch, CheckOnlyBackend(checks)) == 7
    out = capsys.readouterr().out
    assert re.search(r"^calls\s+unreachable \(/api/ura/chamadas/\)$", out, re.M)
    lines = out.splitlines()
    assert lines[_summary_index(lines)].endswith(
        "15 ok, 0 not permitted, 0 not supported, 1 unreachable"
    )


def test_refused_credentials_exit_6_naming_the_settings_not_their_values(
    sgp_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = refusing()
    assert _check(monkeypatch, backend) == 6
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "The sgp system at https://sgp.provedor.example refused the integration's "
        "credentials: check BACKEND_TOKEN and BACKEND_APP."
    )
    assert SECRET_TOKEN not in captured.out + captured.err
    assert "Traceback" not in captured.err
    assert backend.closed


def test_ixc_refusal_names_the_ixc_settings(
    sgp_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKEND", "ixc")
    monkeypatch.setenv("BACKEND_USER", "7")
    assert _check(monkeypatch, refusing()) == 6
    assert "check BACKEND_USER and BACKEND_TOKEN." in capsys.readouterr().err


def test_a_system_out_of_reach_exits_7(
    sgp_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = unreachable()
    assert _check(monkeypatch, backend) == 7
    err = capsys.readouterr().err
    assert err.startswith("Cannot reach the sgp system at https://sgp.provedor.example: ")
    assert "Check BACKEND_URL" in err and "Traceback" not in err
    assert backend.closed


def test_a_check_that_hangs_counts_as_out_of_reach(
    sgp_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Hanging(CheckOnlyBackend):
        async def check_features(self) -> list[FeatureCheck]:
            await asyncio.sleep(3600)
            return []

    monkeypatch.setattr("bot.backend_check.deadline", lambda settings: 0.05)
    assert _check(monkeypatch, Hanging()) == 7
    assert "did not finish within 0.05s" in capsys.readouterr().err


def test_the_sandbox_checks_ok(
    tmp_path: Path,
    seeded_sandbox_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import shutil

    shutil.copy(seeded_sandbox_file, tmp_path / "sandbox.db")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SANDBOX_DATABASE_URL", f"sqlite:///{tmp_path / 'sandbox.db'}")
    assert main(["backend", "check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2:] == [
        "16 features: 16 ok, 0 not permitted, 0 not supported, 0 unreachable",
        "Notifications and broadcast audiences: every question works",
    ]


class _Feed:
    """A feed whose own check finds what ``problems`` says (or raises it)."""

    def __init__(self, problems: list[str] | Exception) -> None:
        self.problems = problems

    async def check(self) -> list[str]:
        if isinstance(self.problems, Exception):
            raise self.problems
        return self.problems


def test_the_feed_check_names_each_question_the_system_cannot_answer(
    sgp_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    problems = [
        "end-of-enabling warnings: SGP does not say when a temporary enabling ends",
        "invoice reminders and payment confirmations: the token may not use the URA "
        "(/api/ura/titulos/)",
    ]
    monkeypatch.setenv("BACKEND_FEED_RATE", "3")
    monkeypatch.setattr("bot.backend_check.create_feed", lambda backend, **pace: _Feed(problems))
    assert _check(monkeypatch, CheckOnlyBackend()) == 0  # the features decide the exit status
    lines = capsys.readouterr().out.splitlines()
    assert lines[_summary_index(lines) + 1 :] == [
        "Notifications and broadcast audiences (polled at most 3 requests/s, BACKEND_FEED_RATE):",
        *(f"  - {problem}" for problem in problems),
    ]


def test_a_feed_check_out_of_reach_is_said_not_fatal(
    sgp_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "bot.backend_check.create_feed",
        lambda backend, **pace: _Feed(Unavailable("/api/ura/titulos/: 503")),
    )
    assert _check(monkeypatch, CheckOnlyBackend()) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (
        "Notifications and broadcast audiences (polled at most 2 requests/s, BACKEND_FEED_RATE): "
        "not checked (Unavailable)"
    )


def _summary_index(lines: list[str]) -> int:
    [index] = [i for i, line in enumerate(lines) if re.match(r"^\d+ features: ", line)]
    return index


# --- what the check teaches the bot -------------------------------------------------------------
def test_remember_checks() -> None:
    guarded = GuardedBackend(CheckOnlyBackend(), timeout=1.0)
    guarded.remember_checks(MIXED)
    lacking = {feature for feature in Feature if guarded.lacks(feature)}
    assert lacking == {
        Feature.FISCAL_NOTES,
        Feature.CALLS,
        Feature.DUE_DAY,
        Feature.PASSWORD,
        Feature.CONTACT_LINK,
        Feature.AREA_OUTAGES,
    }
    # Out of reach says nothing; ok clears what an earlier check found.
    guarded.remember_checks([FeatureCheck(Feature.CALLS, CheckState.UNREACHABLE)])
    assert guarded.lacks(Feature.CALLS)
    guarded.remember_checks(
        [FeatureCheck(Feature.CALLS, CheckState.OK), FeatureCheck(Feature.PASSWORD, CheckState.OK)]
    )
    assert not guarded.lacks(Feature.CALLS) and not guarded.lacks(Feature.PASSWORD)
    # A refusal is forgotten after relearn_seconds (an admin may grant it); absence is not.
    guarded.remember_checks(MIXED)
    guarded.relearn_seconds = -1
    assert not guarded.lacks(Feature.FISCAL_NOTES)
    assert guarded.lacks(Feature.PASSWORD)


# --- at run start-up ----------------------------------------------------------------------------
def _answering(env: BotEnv, checks: list[FeatureCheck] | None = None, error: Any = None) -> None:
    async def check_features() -> list[FeatureCheck]:
        if error is not None:
            raise error
        return list(checks or [])

    env.backend.check_features = check_features  # type: ignore[union-attr,method-assign]


async def test_start_up_check_teaches_the_bot_and_logs_one_line(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _answering(env, MIXED)
    await check_at_start_up(env.app, env.settings)
    guarded = env.app.bot_data["services"].backend
    assert guarded.lacks(Feature.FISCAL_NOTES) and guarded.lacks(Feature.PASSWORD)
    assert not guarded.lacks(Feature.INVOICES)
    [summary] = [r for r in caplog.records if r.getMessage().startswith("backend check:")]
    assert summary.levelno == logging.INFO
    assert summary.getMessage() == (
        "backend check: 10 ok, 1 not permitted, 5 not supported, 0 unreachable; "
        "not permitted: fiscal_notes (vd_saida); "
        "not supported: calls, due_day, password, contact_link, area_outages"
    )
    assert not env.app.job_queue.get_jobs_by_name(RECHECK_JOB)


async def test_an_item_the_check_found_not_permitted_asks_nothing(
    env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answering(env, MIXED)  # fiscal_notes: not permitted (vd_saida)
    await check_at_start_up(env.app, env.settings)
    asked: list[str] = []

    async def list_fiscal_notes(*args: object, **kwargs: object) -> None:
        asked.append("list_fiscal_notes")

    monkeypatch.setattr(env.backend, "list_fiscal_notes", list_fiscal_notes)
    chat = env.chat()
    await login(chat)
    calls = await chat.press("menu:fiscal_notes")
    assert "não está disponível" in shown(calls)
    assert asked == []


async def test_start_up_check_refused_raises(env: BotEnv) -> None:
    _answering(env, error=CredentialsRefused("401"))
    with pytest.raises(BackendCredentialsRefused, match="refused the integration's credentials"):
        await check_at_start_up(env.app, env.settings)


async def test_out_of_reach_at_start_up_warns_and_checks_again_in_the_background(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    _answering(env, error=Unavailable("sandbox outage (simulated)"))
    await check_at_start_up(env.app, env.settings)
    warning = [r for r in caplog.records if "backend check" in r.getMessage()]
    assert [r.levelno for r in warning] == [logging.WARNING]
    assert "checking again every 5 minutes" in warning[0].getMessage()
    [job] = env.app.job_queue.get_jobs_by_name(RECHECK_JOB)

    # Later the credentials are refused: an ERROR, and the check goes on.
    caplog.clear()
    _answering(env, error=CredentialsRefused("401"))
    await job.run(env.app)
    assert [r.levelno for r in caplog.records if "backend check" in r.getMessage()] == [
        logging.ERROR
    ]
    assert not job.removed

    # Then it answers: what it found is taken, and the check stops repeating.
    _answering(env, MIXED)
    await job.run(env.app)
    assert env.app.bot_data["services"].backend.lacks(Feature.FISCAL_NOTES)
    await asyncio.sleep(0.05)
    assert not env.app.job_queue.get_jobs_by_name(RECHECK_JOB)


@pytest.fixture
async def served_api() -> AsyncIterator[str]:
    async with serving(LocalBotApi(TOKEN)) as url:
        yield url


async def test_run_stops_before_taking_updates_when_credentials_are_refused(
    served_api: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.runner import serve

    caplog.set_level(logging.DEBUG)
    settings = Settings(
        telegram_bot_token=TOKEN,
        telegram_api_url=served_api,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        backend="sgp",
        backend_url="https://sgp.provedor.example",
        backend_token=SECRET_TOKEN,
        backend_app="minhacentral",
        encryption_keys=(ENCRYPTION_KEY,),
    )
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    await engine.dispose()
    backend = refusing()
    monkeypatch.setattr(application_module, "create_backend", lambda settings: backend)
    with pytest.raises(BackendCredentialsRefused) as raised:
        await asyncio.wait_for(serve(settings, webhook=False, stop=asyncio.Event()), 30)
    assert "check BACKEND_TOKEN and BACKEND_APP" in str(raised.value)
    assert "Minha Central running" not in caplog.text
    assert SECRET_TOKEN not in caplog.text and SECRET_TOKEN not in str(raised.value)
    assert backend.closed


def test_run_exits_6_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def refused(settings: Settings, *, webhook: bool) -> None:
        raise BackendCredentialsRefused("The sgp system refused … check BACKEND_TOKEN.")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setattr("bot.runner.serve", refused)
    monkeypatch.setattr("bot.logs.configure_logging", lambda *args: None)
    assert main(["run"]) == 6
    assert capsys.readouterr().err == "The sgp system refused … check BACKEND_TOKEN.\n"


def test_systemd_does_not_restart_on_refused_credentials() -> None:
    unit = (ROOT / "deploy" / "minha-central.service").read_text()
    [line] = re.findall(r"^RestartPreventExitStatus=(.*)$", unit, re.M)
    assert set(line.split()) == {"2", "3", "5", "6"}
