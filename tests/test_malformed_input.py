"""Unicode digits and odd JSON (issue 17, defect 6): every number from outside is parsed with
bot.parsing's ASCII-only helpers, every malformed request gets 400 with a short JSON error, and
start-up names a bad setting instead of a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.broadcasts.jobs import service_of
from bot.parsing import JsonError, ascii_int, ascii_number, json_body, json_object
from bot.settings import Settings, SettingsError
from bot.web import SIGNATURE_HEADER, TELEGRAM_SECRET_HEADER, TIMESTAMP_HEADER, create_web_app, sign
from tests.support.bot_env import BotEnv

WEBHOOK_SECRET = "s3cret-token_for-tests"
EVENTS_SECRET = "events-shared-secret-0123456789"
API_TOKEN = "adm-0123456789abcdef0123456789"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
DEEP = b"[" * 200_000 + b"]" * 200_000
DEEP_OBJECT = b'{"a":' * 200_000 + b"1" + b"}" * 200_000
TOKEN = "123456789:AAFakeTokenForOfflineTestsOnly_0123456789"


# --- the helpers ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text", ["²", "٣", "１", " 7", "7 ", "+7", "-7", "1_000", "", "7\n", "9" * 40]
)
def test_ascii_int_takes_only_ascii_digits(text: str) -> None:
    assert ascii_int(text) is None


def test_ascii_int_bounds() -> None:
    assert ascii_int("0") == 0 and ascii_int("0042") == 42
    assert ascii_int("5", min=1, max=5) == 5
    assert ascii_int("6", min=1, max=5) is None and ascii_int("0", min=1) is None
    assert ascii_int(None) is None and ascii_int(7) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["nan", "inf", "1e3", "٣", "²", " 1", "1.", "-1", ""])
def test_ascii_number_refuses_what_float_takes(text: str) -> None:
    assert ascii_number(text) is None


def test_ascii_number_takes_decimals() -> None:
    assert ascii_number("0.5") == 0.5 and ascii_number("30") == 30.0 and ascii_number(".5") == 0.5


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, b"[" * 40 + b"]" * 40])
def test_deep_json_is_refused_not_a_recursion_error(body: bytes) -> None:
    with pytest.raises(JsonError, match="nested too deeply"):
        json_body(body)


@pytest.mark.parametrize("body", [b"[]", b"5", b'"x"', b"null"])
def test_a_json_value_that_is_not_an_object(body: bytes) -> None:
    with pytest.raises(JsonError, match="expected a JSON object"):
        json_object(body)


# --- webhook and events --------------------------------------------------------------------------
@pytest.fixture
async def client(env: BotEnv) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    services = env.app.bot_data["services"]
    app = create_web_app(
        env.app,
        webhook_path="/telegram/webhook",
        webhook_secret=WEBHOOK_SECRET,
        events_secret=EVENTS_SECRET,
        on_events=services.accept_pushed_notices,
        admin_token=API_TOKEN,
        broadcasts=service_of(env.app),
    )
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


WEBHOOK_BODIES = [
    b"[]",
    b"5",
    b'{"message":"x"}',
    b"{}",
    b'{"update_id":"\xc2\xb2"}',
    b'{"update_id":true}',
    b'{"update_id":1,"message":"x"}',
    b'{"update_id":1,"message":{"message_id":1}}',
    b'{"update_id":1,"callback_query":{"id":"1","from":5}}',
    b"not json",
    b"\xff\xfe",
    DEEP,
    DEEP_OBJECT,
]


@pytest.mark.parametrize("body", WEBHOOK_BODIES)
async def test_a_webhook_body_that_is_no_update_is_400(
    client: TestClient,  # type: ignore[type-arg]
    body: bytes,
) -> None:
    headers = {TELEGRAM_SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"}
    response = await client.post("/telegram/webhook", data=body, headers=headers)
    assert response.status == 400
    assert set(await response.json()) == {"error"}


def _signed(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    stamp = str(int(time.time())) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(EVENTS_SECRET, stamp, body)}


@pytest.mark.parametrize("stamp", ["²", "١٧٠٠٠٠٠٠٠٠", " 1", "9" * 5000])
async def test_an_odd_event_timestamp_is_401_not_500(
    client: TestClient,  # type: ignore[type-arg]
    stamp: str,
) -> None:
    body = b'{"events": []}'
    headers = _signed(body, stamp)
    response = await client.post("/events/backend", data=body, headers=headers)
    assert response.status == 401


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, b"[]", b"5", b"\xff"])
async def test_odd_signed_event_bodies_are_400(
    client: TestClient,  # type: ignore[type-arg]
    body: bytes,
) -> None:
    response = await client.post("/events/backend", data=body, headers=_signed(body))
    assert response.status == 400
    assert "error" in await response.json()


# --- admin API -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    ["/broadcasts?limit=²", "/broadcasts?offset=٣", "/broadcasts?limit=%201", "/broadcasts/²"],
)
async def test_admin_numbers_in_unicode_digits_are_400(
    client: TestClient,  # type: ignore[type-arg]
    path: str,
) -> None:
    response = await client.get("/admin/api" + path, headers=AUTH)
    assert response.status == 400
    assert "error" in await response.json()


async def test_admin_actions_on_a_unicode_id_are_400(
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    response = await client.post("/admin/api/broadcasts/²/cancel", headers=AUTH)
    assert response.status == 400


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, b"[]", b"5", b"\xff"])
async def test_admin_odd_bodies_are_400(
    client: TestClient,  # type: ignore[type-arg]
    body: bytes,
) -> None:
    response = await client.post("/admin/api/broadcasts", data=body, headers=AUTH)
    assert response.status == 400
    assert (await response.json())["field"] == "body"


# --- settings ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HTTP_PORT", "²"),
        ("HTTP_PORT", "８０８０"),
        ("NOTIFY_DAYS_BEFORE_DUE", "²"),
        ("CONCURRENT_UPDATES", "²"),
        ("ADMIN_TELEGRAM_IDS", "²"),
        ("NOTIFY_POLL_SECONDS", "nan"),
        ("TELEGRAM_MAX_RATE", "٣"),
        ("BROADCAST_RATE", "²"),
    ],
)
def test_a_unicode_digit_setting_is_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, name: value}, env_file=None)


def test_a_unicode_digit_in_the_token_is_refused() -> None:
    with pytest.raises(SettingsError, match="does not look like a bot token"):
        Settings.from_env({"TELEGRAM_BOT_TOKEN": "١٢٣٤٥" + TOKEN[9:]}, env_file=None)


def test_http_port_in_unicode_digits_stops_start_up_with_exit_2(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "HTTP_PORT": "²",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "HTTP_PORT must be a port number" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("path", ["/admin/api/broadcasts", "/telegram/webhook", "/events/backend"])
async def test_a_body_over_2_mb_is_413(
    client: TestClient,  # type: ignore[type-arg]
    path: str,
) -> None:
    body = b'{"text": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    headers = {**AUTH, TELEGRAM_SECRET_HEADER: WEBHOOK_SECRET, **_signed(body)}
    response = await client.post(path, data=body, headers=headers)
    assert response.status == 413
