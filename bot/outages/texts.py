"""Staff texts of area outages (issue 22): the broadcast composer's extra step and
``/ocorrencias``, in Telegram's HTML."""

from __future__ import annotations

from datetime import datetime

from bot.outages.store import DeclaredOutage
from bot.ui.formatting import day_time, esc

BUTTON_RECORD = "🚧 Registrar como falha/manutenção na região"
BUTTON_UNRECORD = "↩️ Não registrar ocorrência"
BUTTON_END = "✅ Encerrar"
ASK_FORECAST = (
    "🚧 <b>Isto é uma falha ou manutenção na região?</b> Registro uma ocorrência para as "
    "localidades escolhidas: quem disser que está sem internet lá fica sabendo na hora.\n\n"
    "Qual a <b>previsão de retorno</b>? Ex.: <code>hoje 18h</code>, <code>18:30</code>, "
    "<code>amanhã 10h</code> ou <code>sem previsão</code>."
)
BAD_FORECAST = (
    "Não entendi a previsão. Escreva, por exemplo, <code>hoje 18h</code>, <code>18:30</code>, "
    "<code>amanhã 10h</code> ou <code>sem previsão</code>."
)
NO_ACTIVE = "Nenhuma ocorrência ativa. Registre uma pelo /aviso (público por cidade/bairro)."
ENDED = "✅ Ocorrência encerrada."
NOT_ACTIVE = "Essa ocorrência já estava encerrada."


def _forecast(when: datetime | None) -> str:
    return f"previsão {day_time(when)}" if when else "sem previsão"


def will_record(when: datetime | None) -> str:
    return f"🚧 Será registrada como ocorrência na região ({_forecast(when)})."


def recorded(count: int) -> str:
    return f"🚧 Ocorrência registrada em {count} localidade(s). Encerre-a em /ocorrencias."


def area(outage: DeclaredOutage) -> str:
    place = f"{outage.neighbourhood}, {outage.city}" if outage.neighbourhood else outage.city
    return esc(place)


def listing(outages: list[DeclaredOutage]) -> str:
    lines = ["🚧 <b>Ocorrências ativas</b>"]
    for outage in outages:
        lines.append(
            f"\n<b>#{outage.id}</b> {area(outage)} — {esc(outage.description[:200])}\n"
            f"{_forecast(outage.forecast)} · por {esc(outage.created_by)} em "
            f"{day_time(outage.created_at)}"
        )
    return "\n".join(lines)


def end_button(outage: DeclaredOutage) -> str:
    label = f"{BUTTON_END} #{outage.id} {outage.neighbourhood or outage.city}"
    return label if len(label) <= 60 else label[:59] + "…"
