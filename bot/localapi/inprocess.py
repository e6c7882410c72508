"""The local Bot API inside the bot's own process: a PTB request object with no sockets.

Used by tests that drive many updates quickly; behaviour (answers, errors, constraints) is the
same as over HTTP because both go through :meth:`LocalBotApi.call`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

from telegram.request import BaseRequest, RequestData

from bot.localapi.core import BotApiError, LocalBotApi, StoredFile


class InProcessRequest(BaseRequest):
    def __init__(self, api: LocalBotApi) -> None:
        self.api = api

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float:
        return 10.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        path = unquote(urlsplit(url).path)
        try:
            if "/file/bot" in path:
                token, _, file_path = path.split("/file/bot", 1)[1].partition("/")
                return 200, self.api.file_content(token, file_path).content
            token, _, api_method = path.rsplit("/bot", 1)[1].partition("/")
            params = dict(request_data.json_parameters) if request_data else {}
            files: dict[str, StoredFile] = {}
            if request_data is not None and request_data.contains_files:
                for name, (filename, content, mime) in _files(request_data).items():
                    files[name] = self.api.new_file(content, filename, mime)
            result = await self.api.call(token, api_method, params, files)
        except BotApiError as error:
            return error.code, json.dumps(error.envelope()).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()


def _files(request_data: RequestData) -> dict[str, tuple[str, bytes, str | None]]:
    found = {}
    for name, value in request_data.multipart_data.items():
        filename, content, mime = [*list(value), None][:3]  # type: ignore[arg-type]
        raw = content if isinstance(content, bytes) else content.read()
        found[name] = (str(filename or name), raw, mime)
    return found
