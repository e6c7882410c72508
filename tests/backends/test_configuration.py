"""BACKEND=sgp|ixc|http|sandbox: the variables each needs, and the adapter the bot builds."""

from __future__ import annotations

import pytest

from backend_client.http.backend import HttpBackend
from backend_client.ixc import IxcBackend
from backend_client.sandbox import SandboxBackend
from backend_client.sgp import SgpBackend
from bot.application import create_backend
from bot.settings import Settings, SettingsError
from tests.support.bot_env import TOKEN

SECRET = "s3cr3t-integration-token-value"


ENCRYPTION_KEY = "Kk7F1Vx8b1rXxAq9mJm0c0dHq8y2V8xk3s5b9Q1f2Rw="  # a Fernet key


def settings(**env: str) -> Settings:
    base = {"TELEGRAM_BOT_TOKEN": TOKEN, "ENCRYPTION_KEY": ENCRYPTION_KEY}
    return Settings.from_env({**base, **env}, env_file=None)


@pytest.mark.parametrize(
    ("env", "adapter"),
    [
        ({}, SandboxBackend),
        (
            {"BACKEND": "sgp", "BACKEND_URL": "https://sgp.example/", "BACKEND_TOKEN": SECRET,
             "BACKEND_APP": "MinhaCentral"},
            SgpBackend,
        ),
        (
            {"BACKEND": "ixc", "BACKEND_URL": "https://ixc.example", "BACKEND_USER": "27",
             "BACKEND_TOKEN": SECRET},
            IxcBackend,
        ),
        ({"BACKEND": "http", "BACKEND_URL": "http://127.0.0.1:8099"}, HttpBackend),
    ],
)  # fmt: skip
def test_each_backend_is_built_from_its_settings(env: dict[str, str], adapter: type) -> None:
    chosen = settings(**env)
    backend = create_backend(chosen)
    assert isinstance(backend, adapter)
    assert SECRET not in repr(chosen) and SECRET not in repr(backend)


@pytest.mark.parametrize(
    ("backend", "missing"),
    [
        ("sgp", ["BACKEND_URL", "BACKEND_TOKEN", "BACKEND_APP"]),
        ("ixc", ["BACKEND_URL", "BACKEND_USER", "BACKEND_TOKEN"]),
        ("http", ["BACKEND_URL"]),
    ],
)
def test_missing_variables_are_named(backend: str, missing: list[str]) -> None:
    with pytest.raises(SettingsError) as raised:
        settings(BACKEND=backend)
    message = str(raised.value)
    for name in missing:
        assert f"{name} is missing: BACKEND={backend}" in message


def test_bad_values_are_named_without_repeating_secrets() -> None:
    with pytest.raises(SettingsError) as raised:
        settings(
            BACKEND="ixc",
            BACKEND_URL=f"https://27:{SECRET}@ixc.example",
            BACKEND_USER="admin",
            BACKEND_TOKEN=SECRET,
        )
    message = str(raised.value)
    assert "BACKEND_URL must not carry credentials" in message
    assert "BACKEND_USER must be the numeric id" in message
    assert SECRET not in message
    with pytest.raises(SettingsError, match="BACKEND_URL must be an http"):
        settings(BACKEND="http", BACKEND_URL="ftp://files.example")
    assert settings(BACKEND="sandbox", BACKEND_URL="https://ignored.example").backend == "sandbox"


def test_ticket_subjects_configured_for_a_system_that_hides_its_own() -> None:
    """BACKEND_TICKET_SUBJECTS: what the bot offers when the integration may not read the
    system's subject list (IXC su_oss_assunto, SGP tipoocorrencia)."""
    chosen = settings(
        BACKEND="sgp",
        BACKEND_URL="https://sgp.example",
        BACKEND_TOKEN=SECRET,
        BACKEND_APP="MinhaCentral",
        BACKEND_TICKET_SUBJECTS="200=Sem conexão; 13 = Lentidão ;",
    )
    assert chosen.backend_ticket_subjects == (("200", "Sem conexão"), ("13", "Lentidão"))
    backend = create_backend(chosen)
    assert [s.name for s in backend._ticket_subjects] == ["Sem conexão", "Lentidão"]
    with pytest.raises(SettingsError, match="BACKEND_TICKET_SUBJECTS must be 'id=Nome' pairs"):
        settings(BACKEND_TICKET_SUBJECTS="Sem conexão; Lentidão")
