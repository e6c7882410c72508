"""Texts of Extrato de Ligação (seed 1.5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.ui.formatting import esc

TITLE = "📞 <b>Extrato de Ligação</b>"
NO_LINES = (
    f"{TITLE}\n\n"
    "Não encontrei nenhuma linha telefônica nos seus contratos, por isso não há ligações "
    "para mostrar. Se quiser contratar telefonia fixa, é só abrir um atendimento."
)
CHOOSE_LINE = f"{TITLE}\n\nDe qual linha você quer ver as ligações?"
LINE_UNAVAILABLE = "Essa linha não está disponível. Escolha uma das linhas abaixo."
TYPE_UNAVAILABLE = "Esse tipo de ligação não está disponível. Escolha uma das opções abaixo."
PERIOD_UNAVAILABLE = "Escolha um dos períodos abaixo."
ALL_TYPES = "Todos os tipos"
TOTAL = "Total"

BUTTON_ALL_TYPES = "📋 Todos"
BUTTON_OTHER_TYPE = "🔀 Outro tipo"
# Downloads of the chosen period (issue 21).
EXPORT_TITLE = "Extrato de Ligação"
EXPORT_HEADERS = ("Data e hora", "Número", "Tipo", "Duração", "Valor (R$)")


def export_subtitle(line_number: str, type_name: str, period: str) -> str:
    """Plain text (the file's heading)."""
    return f"Linha {line_number} · {type_name} · {period}"


def export_caption(period: str) -> str:
    return f"{TITLE} — {esc(period)}"


BUTTON_OTHER_LINE = "📞 Outra linha"


def _context(line: str, type_name: str | None = None) -> str:
    text = f"Linha: <b>{esc(line)}</b>"
    if type_name is not None:
        text += f" · Tipo: <b>{esc(type_name)}</b>"
    return text


def choose_type(line: str) -> str:
    return f"{TITLE}\n{_context(line)}\n\nQue tipo de ligação você quer ver?"


def choose_period(line: str, type_name: str) -> str:
    return f"{TITLE}\n{_context(line, type_name)}\n\nDe qual período?"


def empty(line: str, type_name: str, period: str) -> str:
    return (
        f"{TITLE}\n{_context(line, type_name)}\n\n"
        f"Não há ligações em <b>{esc(period)}</b>. Quer ver outro período?"
    )


@dataclass(frozen=True, slots=True)
class CallLine:
    """One call, with every value already formatted for display."""

    when: str  # dd/mm/aaaa hh:mm
    number: str  # partly masked
    duration: str
    cost: str
    type_name: str | None = None  # shown when every type is listed


@dataclass(frozen=True, slots=True)
class TotalLine:
    label: str
    count: int
    duration: str
    cost: str


def _calls(count: int) -> str:
    return "1 ligação" if count == 1 else f"{count} ligações"


def _total(total: TotalLine) -> str:
    return f"{esc(total.label)}: {_calls(total.count)} · {esc(total.duration)} · {esc(total.cost)}"


def statement(
    line: str,
    type_name: str,
    period: str,
    calls: Sequence[CallLine],
    page: int,
    pages: int,
    per_type: Sequence[TotalLine],
    overall: TotalLine,
) -> str:
    """One page of calls, then the totals of the whole period (per type, and overall)."""
    page_note = f" · página {page + 1} de {pages}" if pages > 1 else ""
    lines = [
        TITLE,
        _context(line, type_name),
        f"Período: <b>{esc(period)}</b> — {_calls(overall.count)}{page_note}",
        "",
    ]
    for call in calls:
        kind = f" · {esc(call.type_name)}" if call.type_name else ""
        lines.append(f"🕑 <b>{esc(call.when)}</b>{kind}")
        lines.append(f"    {esc(call.number)} · {esc(call.duration)} · {esc(call.cost)}")
    lines += ["", "<b>Totais do período</b>"]
    lines += [f"• {_total(total)}" for total in per_type]
    lines.append(f"<b>{_total(overall)}</b>")
    return "\n".join(lines)


def export_total(line: TotalLine) -> str:
    """Plain text: a total line of the downloaded PDF."""
    return f"{line.label}: {_calls(line.count)} · {line.duration} · {line.cost}"
