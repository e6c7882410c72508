"""Admin API routes of the satisfaction survey (``docs/admin-api.yaml``, tag *surveys*), issue 22:

- ``GET /admin/api/surveys?from=YYYY-MM-DD&to=YYYY-MM-DD``: the answers given in that period
  (São Paulo dates, both included; default: the last 30 days) — count, promoters, passives,
  detractors and NPS, by trigger and by team member (hand-offs);
- ``GET /admin/api/surveys.csv`` (same query): one row per answer, for a spreadsheet.

Same authentication as the rest of the admin API: ``Authorization: Bearer <ADMIN_API_TOKEN>``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from aiohttp import web

from bot.admin_auth import check_token, requiring_token
from bot.surveys.report import report, to_csv_bytes
from bot.surveys.store import Survey, SurveyStore
from bot.ui.formatting import TIMEZONE, local_time

PATH = "/admin/api/surveys"
STORE = web.AppKey("survey_store", SurveyStore)
CLOCK = web.AppKey("survey_clock", Callable[[], datetime])  # type: ignore[arg-type]
DEFAULT_DAYS = 30
MAX_DAYS = 366


def add_survey_routes(
    app: web.Application, store: SurveyStore, token: str, clock: Callable[[], datetime]
) -> None:
    check_token(token)
    app[STORE] = store
    app[CLOCK] = clock
    app.router.add_get(PATH, requiring_token(token, get_report))
    app.router.add_get(PATH + ".csv", requiring_token(token, get_csv))


class _BadPeriod(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _day(request: web.Request, name: str, default: date) -> date:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _BadPeriod(name, f"{name} must be a date as YYYY-MM-DD") from None


async def _answers(request: web.Request) -> tuple[date, date, list[Survey]]:
    today = local_time(request.app[CLOCK]()).date()
    end = _day(request, "to", today)
    start = _day(request, "from", end - timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        raise _BadPeriod("from", "from must not be after to")
    if (end - start).days >= MAX_DAYS:
        raise _BadPeriod("from", f"a period has at most {MAX_DAYS} days")
    since = datetime.combine(start, time(0), tzinfo=TIMEZONE)
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=TIMEZONE)
    return start, end, await request.app[STORE].answered_between(since, until)


def _bad(error: _BadPeriod) -> web.Response:
    return web.json_response({"error": str(error), "field": error.field}, status=400)


async def get_report(request: web.Request) -> web.Response:
    try:
        start, end, answers = await _answers(request)
    except _BadPeriod as error:
        return _bad(error)
    body = {"from": start.isoformat(), "to": end.isoformat(), **report(answers)}
    return web.json_response(body)


async def get_csv(request: web.Request) -> web.Response:
    try:
        start, end, answers = await _answers(request)
    except _BadPeriod as error:
        return _bad(error)
    name = f"pesquisa-de-satisfacao-{start.isoformat()}-a-{end.isoformat()}.csv"
    return web.Response(
        body=to_csv_bytes(answers),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
