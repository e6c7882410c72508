"""The period picker shared by every statement."""

from __future__ import annotations

from datetime import date

import pytest

from backend_client.models import DateRange
from bot.ui import periods

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("key", "start", "end"),
    [
        ("this_month", date(2026, 11, 1), date(2026, 11, 30)),
        ("last_month", date(2026, 10, 1), date(2026, 10, 31)),
        ("3m", date(2026, 9, 1), date(2026, 11, 30)),
        ("6m", date(2026, 6, 1), date(2026, 11, 30)),
        ("12m", date(2025, 12, 1), date(2026, 11, 30)),
    ],
)
def test_buttons(key: str, start: date, end: date) -> None:
    assert periods.resolve(key, TODAY) == DateRange(start, end)


def test_last_month_in_january_is_december_of_last_year() -> None:
    assert periods.resolve("last_month", date(2027, 1, 15)) == DateRange(
        date(2026, 12, 1), date(2026, 12, 31)
    )


def test_forged_key_is_refused() -> None:
    with pytest.raises(ValueError):
        periods.resolve("99y", TODAY)


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("02/2024", date(2024, 2, 1), date(2024, 2, 29)),
        (" 9/2026 ", date(2026, 9, 1), date(2026, 9, 30)),
        ("01/09/2026 a 30/11/2026", date(2026, 9, 1), date(2026, 11, 30)),
        ("1/9/2026 até 5/9/2026", date(2026, 9, 1), date(2026, 9, 5)),
        ("01/09/2026 - 02/09/2026", date(2026, 9, 1), date(2026, 9, 2)),
    ],
)
def test_typed_periods(typed: str, start: date, end: date) -> None:
    assert periods.parse(typed) == DateRange(start, end)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("13/2026", "Não entendi"),
        ("ontem", "Não entendi"),
        ("31/02/2026 a 01/03/2026", "Não entendi"),
        ("30/11/2026 a 01/09/2026", "final vem antes"),
        ("01/01/2020 a 01/01/2026", "longo demais"),
    ],
)
def test_bad_periods_explain_the_accepted_forms(typed: str, says: str) -> None:
    with pytest.raises(periods.PeriodError) as raised:
        periods.parse(typed)
    assert says in str(raised.value)
    assert "mm/aaaa" in str(raised.value)


def test_describe() -> None:
    assert periods.describe(DateRange(date(2026, 11, 1), date(2026, 11, 30))) == "novembro de 2026"
    assert periods.describe(DateRange(date(2026, 9, 1), date(2026, 11, 28))) == (
        "01/09/2026 a 28/11/2026"
    )
