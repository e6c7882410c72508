"""The local Bot API over HTTP (aiohttp): ``/bot{token}/{method}`` and ``/file/bot{token}/{path}``.

Accepts what real clients send — JSON bodies, url-encoded forms, multipart uploads, query
strings — and answers with Telegram's envelope, status codes and descriptions.
"""

from __future__ import annotations

import logging
import mimetypes
from typing import Any

from aiohttp import web

from bot.localapi.core import BotApiError, LocalBotApi, StoredFile
from bot.parsing import JsonError, json_object

logger = logging.getLogger(__name__)
API_KEY = web.AppKey("api", LocalBotApi)


def create_app(api: LocalBotApi) -> web.Application:
    app = web.Application(client_max_size=60 * 1024 * 1024)
    app[API_KEY] = api
    app.router.add_route("*", "/bot{token}/{method}", _method)
    app.router.add_get("/file/bot{token}/{path:.+}", _download)
    return app


async def _method(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token, method = request.match_info["token"], request.match_info["method"]
    try:
        params, files = await _read_parameters(request, api)
        result = await api.call(token, method, params, files)
    except BotApiError as error:
        return web.json_response(error.envelope(), status=error.code)
    return web.json_response({"ok": True, "result": result})


async def _download(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    try:
        stored = api.file_content(request.match_info["token"], request.match_info["path"])
    except BotApiError as error:
        return web.json_response(error.envelope(), status=error.code)
    content_type = stored.mime_type or mimetypes.guess_type(stored.path)[0]
    return web.Response(
        body=stored.content, content_type=content_type or "application/octet-stream"
    )


async def _read_parameters(
    request: web.Request, api: LocalBotApi
) -> tuple[dict[str, Any], dict[str, StoredFile]]:
    params: dict[str, Any] = dict(request.query)
    files: dict[str, StoredFile] = {}
    if request.method != "POST" or not request.can_read_body:
        return params, files
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = json_object(await request.read())
        except JsonError as error:  # not JSON, not an object, or nested too deeply
            raise BotApiError(f"Bad Request: can't parse JSON body: {error}") from error
        params.update(body)
    elif content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if part is None or not hasattr(part, "read"):
                continue
            name = part.name or ""
            content = await part.read(decode=False)
            if part.filename:
                mime = part.headers.get("Content-Type")
                files[name] = api.new_file(bytes(content), part.filename, mime)
            else:
                params[name] = bytes(content).decode()
    else:
        params.update(await request.post())
    return params, files
