"""The survey's results (Telegram-free): Net Promoter Score over a period, by trigger and by
team member, and the answers as CSV.

NPS: answers 9-10 are promoters, 7-8 passives, 0-6 detractors; the score is the percentage of
promoters minus that of detractors, from -100 to 100 (Reichheld, "The One Number You Need to
Grow", HBR 2003; https://en.wikipedia.org/wiki/Net_promoter_score).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.services.exports import Table, to_csv
from bot.surveys.store import Survey
from bot.ui.formatting import local_time


def summary(answers: Iterable[Survey]) -> dict[str, Any]:
    scores = [answer.score for answer in answers if answer.score is not None]
    promoters = sum(score >= 9 for score in scores)
    detractors = sum(score <= 6 for score in scores)
    return {
        "answers": len(scores),
        "promoters": promoters,
        "passives": len(scores) - promoters - detractors,
        "detractors": detractors,
        "nps": round(100 * (promoters - detractors) / len(scores)) if scores else None,
    }


def report(answers: list[Survey]) -> dict[str, Any]:
    """The whole period, then per trigger and per team member who answered a hand-off."""
    by_trigger = {
        trigger: summary(a for a in answers if a.trigger == trigger)
        for trigger in sorted({a.trigger for a in answers})
    }
    members = sorted({a.member for a in answers if a.trigger == "handoff" and a.member})
    by_member = [
        {"name": name, **summary(a for a in answers if a.member == name)} for name in members
    ]
    return {**summary(answers), "by_trigger": by_trigger, "by_member": by_member}


CSV_COLUMNS = ("respondida em", "origem", "referência", "atendente", "nota", "comentário")
TRIGGER_NAMES = {"ticket": "atendimento encerrado", "handoff": "conversa com atendente"}


def to_csv_bytes(answers: list[Survey]) -> bytes:
    """One row per answer (São Paulo time), as the statements' CSVs: ';' and UTF-8 with BOM."""
    rows = [
        (
            local_time(a.answered_at).strftime("%d/%m/%Y %H:%M") if a.answered_at else "",
            TRIGGER_NAMES.get(a.trigger, a.trigger),
            a.reference or "",
            a.member or "",
            str(a.score),
            a.comment or "",
        )
        for a in answers
    ]
    return to_csv(
        Table(title="Pesquisa de satisfação", subtitle="", headers=CSV_COLUMNS, rows=rows)
    )
