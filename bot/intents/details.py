"""The details a request carries, so the bot can act on them instead of asking again.

``details("mudar o vencimento para dia 20", today)`` → ``day=20``;
``details("NF do mês passado", today)`` → ``period="last_month"``;
``details("fatura de março", today)`` → ``month=date(<the last March up to today>, 3, 1)``;
``details("me manda o pix", today)`` → ``payment="pix"``.

Only what is written plainly is read: a number that is part of a CPF, a phone or a protocol
(digits glued to dots, dashes or more digits) is never a day or a month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from bot.intents.normalize import fold

PIX, PDF, BARCODE = "pix", "pdf", "barcode"

MONTHS = (
    "janeiro",
    "fevereiro",
    "marco",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
)
_ABBREVIATED = tuple(name[:3] for name in MONTHS)

# A number standing alone: not glued to other digits, nor to a "." "-" "/" followed by digits.
_N = r"(?<![\d./-])(\d{1,2})(?![\d]|[./-]\d)"
# The day asked for: "para o dia 20", "pro 20", "p/ dia 5", "vencimento 15", "vença dia 10".
_TARGET_DAY = re.compile(
    r"\b(?:para|pra|pro|p/|ate|vencimento|vencer|venca|vence|vencendo)\s+(?:o\s+)?(?:dia\s+)?" + _N
)
_ANY_DAY = re.compile(r"\bdia\s+" + _N)
_NUMERIC_MONTH = re.compile(r"(?<![\d./-])(?:\d{1,2}/)?(\d{1,2})/(\d{4}|\d{2})(?![\d]|[./-]\d)")
_NAMED_MONTH = re.compile(
    r"\b(" + "|".join(MONTHS) + r")\b(?:\s*(?:de|/)?\s*(\d{4}))?"
    r"|\b(" + "|".join(_ABBREVIATED) + r")\s*/\s*(\d{4}|\d{2})\b"
)
_PERIODS = (
    (re.compile(r"\b(?:mes\s+passado|ultimo\s+mes|mes\s+anterior)\b"), "last_month"),
    (
        re.compile(r"\b(?:(?:este|esse|deste|desse|neste|nesse)\s+mes|mes\s+atual|do\s+mes)\b"),
        "this_month",
    ),
    (re.compile(r"\bultimos\s+(?:3|tres)\s+meses\b|\btrimestre\b"), "3m"),
    (re.compile(r"\bultimos\s+(?:6|seis)\s+meses\b|\bsemestre\b"), "6m"),
    (
        re.compile(r"\bultimos\s+(?:12|doze)\s+meses\b|\b(?:do|deste|desse|este|esse)\s+ano\b"),
        "12m",
    ),
)
_RETRASADO = re.compile(r"\bmes\s+retrasado\b")
_PAYMENT = (
    (re.compile(r"\bpix\b|\bcopia\s+e\s+cola\b|\bqr\s*-?\s*code\b"), PIX),
    (re.compile(r"\bpdf\b"), PDF),
    (re.compile(r"\bcod(?:igo|\.)?\s+de\s+barras?\b|\blinha\s+digitavel\b"), BARCODE),
)


@dataclass(frozen=True, slots=True)
class Details:
    day: int | None = None  # a day of the month asked for (1..31): "dia 20", "para o 20"
    month: date | None = None  # the first day of a month named: "março", "03/2026"
    period: str | None = None  # a period button's key (bot.ui.periods.KEYS): "mês passado"
    payment: str | None = None  # PIX, PDF or BARCODE: how the subscriber wants to pay

    def __bool__(self) -> bool:
        return any(value is not None for value in (self.day, self.month, self.period, self.payment))


def details(text: str, today: date) -> Details:
    """What ``text`` says about a day, a month or a period, and a way to pay (see the module)."""
    folded = fold(text).replace("º", "").replace("ª", "")
    return Details(
        day=due_day(folded),
        month=_month(folded, today),
        period=_period(folded),
        payment=next((kind for pattern, kind in _PAYMENT if pattern.search(folded)), None),
    )


def due_day(text: str, *, loose: bool = False) -> int | None:
    """The day asked for: the last "para o dia N"-like one, else the last "dia N"; or a bare
    number when that is all the text is ("20"). ``loose`` (on a screen that asks for a day):
    also the only number of the text ("melhor o 15")."""
    folded = fold(text)
    for pattern in (_TARGET_DAY, _ANY_DAY):
        days = [int(match) for match in pattern.findall(folded)]
        days = [day for day in days if 1 <= day <= 31]
        if days:
            return days[-1]
    bare = re.fullmatch(r"(?:dia\s*)?(\d{1,2})", folded.strip(" .!"))
    if bare and 1 <= int(bare.group(1)) <= 31:
        return int(bare.group(1))
    numbers = re.findall(_N, folded) if loose else []
    if len(numbers) == 1 and 1 <= int(numbers[0]) <= 31 and not re.search(r"\d{3}", folded):
        return int(numbers[0])
    return None


def _month(text: str, today: date) -> date | None:
    if _RETRASADO.search(text):
        return today.replace(day=1) - relativedelta(months=2)
    numeric = _NUMERIC_MONTH.search(text)
    if numeric:
        month, year = int(numeric.group(1)), int(numeric.group(2))
        year += 2000 if year < 100 else 0
        if 1 <= month <= 12 and 2000 <= year <= 2100:
            return date(year, month, 1)
    named = _NAMED_MONTH.search(text)
    if named is None:
        return None
    if named.group(1):
        month, year_text = MONTHS.index(named.group(1)) + 1, named.group(2)
    else:
        month, year_text = _ABBREVIATED.index(named.group(3)) + 1, named.group(4)
    if year_text:
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        return date(year, month, 1)
    # "março" alone: the last March that has begun (this year's, or last year's if still ahead).
    year = today.year if month <= today.month else today.year - 1
    return date(year, month, 1)


def _period(text: str) -> str | None:
    return next((key for pattern, key in _PERIODS if pattern.search(text)), None)
