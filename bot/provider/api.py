"""Admin API routes of the provider file (``docs/admin-api.yaml``, tag *config*):

- ``GET /admin/api/config``: the configuration in force (``config``, every key) and the file
  (``file``: its path; ``toml``: its text, or null when the bot runs without one);
- ``PUT /admin/api/config``: a whole new configuration, as TOML (``Content-Type:
  application/toml``, kept as written, comments included) or as JSON in ``config``'s shape.
  It is validated first (400 with every problem in ``problems``; nothing changes), then written
  atomically (temporary file + ``os.replace``) and applied to the next update; the bot reads the
  same file when it starts again.

Same authentication as the rest of the admin API: ``Authorization: Bearer <ADMIN_API_TOKEN>``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot import parsing
from bot.admin_auth import check_token, requiring_token
from bot.provider.config import ProviderConfigError, from_mapping
from bot.provider.store import ProviderConfigStore

logger = logging.getLogger(__name__)
PATH = "/admin/api/config"
STORE = web.AppKey("provider_config_store", ProviderConfigStore)
TOML_TYPES = ("application/toml", "text/plain")
MAX_BODY = 256 * 1024


def add_config_routes(app: web.Application, store: ProviderConfigStore, token: str) -> None:
    """Mount ``GET`` and ``PUT /admin/api/config`` on ``app`` (the bot's HTTP server)."""
    check_token(token)
    app[STORE] = store
    app.router.add_get(PATH, requiring_token(token, get_config))
    app.router.add_put(PATH, requiring_token(token, put_config))


async def get_config(request: web.Request) -> web.Response:
    store = request.app[STORE]
    return web.json_response(
        {"config": store.current.to_json(), "file": str(store.path), "toml": store.text()}
    )


async def put_config(request: web.Request) -> web.Response:
    body = await request.read()
    if len(body) > MAX_BODY:
        return _problem(413, f"the configuration is larger than {MAX_BODY // 1024} KiB")
    try:
        text = _toml_of(request.content_type, body)
    except _Problems as problems:
        return _problem(400, str(problems), problems=problems.error.problems)
    except ValueError as error:
        return _problem(400, str(error))
    store = request.app[STORE]
    try:
        config = await store.replace(text)
    except ProviderConfigError as error:
        return _problem(400, "the configuration has problems", problems=error.problems)
    except OSError as error:
        logger.error("admin API: cannot write %s: %s", store.path, error.strerror)
        return _problem(500, f"cannot write the provider file: {error.strerror}")
    logger.info("admin API: provider configuration replaced")
    return web.json_response({"config": config.to_json(), "file": str(store.path), "toml": text})


def _problem(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _toml_of(content_type: str, body: bytes) -> str:
    """The body as the TOML text to write: as sent, or written from the JSON document."""
    if content_type in TOML_TYPES:
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the TOML body is not UTF-8 text") from None
    if content_type != "application/json":
        raise ValueError("send application/toml (the file) or application/json (its tables)")
    try:
        document = parsing.json_object(body)
    except parsing.JsonError as error:
        raise ValueError(str(error)) from None
    try:
        from_mapping(_without_nulls(document))  # the problems, before any TOML is written
    except ProviderConfigError as error:
        raise _Problems(error) from None
    return to_toml(document)


class _Problems(ValueError):
    def __init__(self, error: ProviderConfigError) -> None:
        super().__init__("the configuration has problems")
        self.error = error


def _without_nulls(document: Mapping[str, Any]) -> dict[str, Any]:
    """JSON's ``null`` means "not given" (TOML has no null): the key is left out."""
    return {
        name: (
            {k: v for k, v in table.items() if v is not None} if isinstance(table, dict) else table
        )
        for name, table in document.items()
        if table is not None
    }


def to_toml(document: Mapping[str, Any]) -> str:
    """TOML for a validated document (tables of text, whole numbers and lists of them).
    Strings are written as TOML basic strings, whose escapes are JSON's
    (https://toml.io/en/v1.0.0#string)."""
    lines = ["# Written by the admin API (PUT /admin/api/config)."]
    for name, table in _without_nulls(document).items():
        if not table:
            continue
        lines.append(f"\n[{name}]")
        for key, value in table.items():
            lines.append(f"{key} = {_value(value)}")
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, int | str):
        return json.dumps(value, ensure_ascii=False)
    raise ValueError(f"cannot write {type(value).__name__} as TOML")
