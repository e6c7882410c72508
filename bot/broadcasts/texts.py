"""Texts of provider broadcasts: the ``/aviso`` flow and the ``/avisos`` list (staff only)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.telegram_html import CAPTION_LIMIT, TEXT_LIMIT
from bot.ui.formatting import day_time, esc

# --- buttons ---------------------------------------------------------------------------------
BUTTON_CANCEL = "✖️ Cancelar"
BUTTON_BACK = "⬅️ Voltar"
BUTTON_NO_MEDIA = "⏭ Sem anexo"
BUTTON_CHANGE_TEXT = "✏️ Mudar texto"
BUTTON_EVERYONE = "👥 Todos os chats vinculados"
BUTTON_PLACES = "🏙 Cidade / bairro"
BUTTON_PLANS = "📶 Plano"
BUTTON_STATUSES = "📋 Situação do contrato"
BUTTON_CONTRACTS = "🔢 Contratos"
BUTTON_SUBSCRIBERS = "🪪 Assinantes"
BUTTON_CLEAR = "🧹 Limpar filtros"
BUTTON_CONTINUE = "➡️ Continuar"
BUTTON_WHOLE_CITY = "Toda a cidade"
BUTTON_NOW = "🚀 Agora"
BUTTON_SCHEDULE = "🗓 Agendar"
BUTTON_CHANGE_AUDIENCE = "👥 Mudar público"
BUTTON_CHANGE_WHEN = "🕒 Mudar horário"
BUTTON_CONFIRM_NOW = "✅ Confirmar e enviar"
BUTTON_CONFIRM_LATER = "✅ Confirmar e agendar"
BUTTON_LIST = "📋 Ver avisos"
BUTTON_REFRESH = "🔄 Atualizar"
BUTTON_PAUSE = "⏸ Pausar"
BUTTON_RESUME = "▶️ Retomar"
BUTTON_CANCEL_BROADCAST = "✖️ Cancelar aviso"
BUTTON_YES_CANCEL = "Sim, cancelar"
BUTTON_NO = "Não"

STATUS_LABELS = {
    "active": "ativos",
    "suspended": "suspensos",
    "overdue": "com fatura em atraso",
}
STATUS_BUTTONS = (
    ("active", "Ativos"),
    ("suspended", "Suspensos"),
    ("overdue", "Com fatura em atraso"),
)
STATE_LABELS = {
    "scheduled": "🕒 agendado",
    "running": "📤 enviando",
    "paused": "⏸ pausado",
    "cancelled": "✖️ cancelado",
    "done": "✅ concluído",
}
REASON_LABELS = {
    "rejected": "recusado pelo Telegram",
    "chat_not_found": "chat não existe mais",
    "migrated": "grupo migrado",
    "migrated_duplicate": "grupo migrado (já na lista)",
    "network": "falha de rede",
    "telegram_error": "erro do Telegram",
    "unexpected": "erro inesperado",
}

# --- /aviso -----------------------------------------------------------------------------------
ASK_TEXT = (
    "📣 <b>Novo aviso</b>\n\n"
    "Envie o <b>texto</b> do aviso. Você pode formatar pelo próprio Telegram ou com as tags "
    "HTML do Telegram: &lt;b&gt;negrito&lt;/b&gt;, &lt;i&gt;itálico&lt;/i&gt;, "
    '&lt;u&gt;sublinhado&lt;/u&gt;, &lt;a href="https://…"&gt;link&lt;/a&gt;. Use &amp;amp; '
    "para escrever &amp;.\n\n"
    f"Até {TEXT_LIMIT} caracteres ({CAPTION_LIMIT} se for com imagem ou documento)."
)
ASK_MEDIA = (
    "📎 Quer anexar uma <b>imagem</b> ou um <b>documento</b> (PDF, por exemplo)? Envie agora, "
    "ou toque em <b>Sem anexo</b>."
)
MEDIA_EXPECTED = "Envie uma imagem ou um documento, ou toque em Sem anexo."
TEXT_EXPECTED = "Envie o texto do aviso numa mensagem de texto."
CHOOSE_CITY = "🏙 Escolha a <b>cidade</b>:"
CHOOSE_PLANS = "📶 Marque os <b>planos</b> (qualquer um dos marcados):"
CHOOSE_STATUSES = "📋 Marque a <b>situação do contrato</b> (qualquer uma das marcadas):"
ASK_CONTRACTS = (
    "🔢 Envie os <b>códigos dos contratos</b>, separados por vírgula, espaço ou um por linha."
)
ASK_SUBSCRIBERS = (
    "🪪 Envie os <b>códigos dos assinantes</b>, separados por vírgula, espaço ou um por linha."
)
IDS_EMPTY = "Não encontrei nenhum código na mensagem. Envie os códigos separados por vírgula."
NEED_SEGMENT = "Escolha pelo menos um filtro, ou Todos os chats vinculados."
ASK_WHEN = "🕒 <b>Quando</b> enviar o aviso?"
ASK_TIME = (
    "🗓 Envie a data e a hora do envio (horário de Brasília), assim: "
    "<code>dd/mm/aaaa hh:mm</code>\nExemplo: <code>30/11/2026 19:30</code>"
)
TIME_FORMAT = (
    "Não entendi a data. Envie assim: <code>dd/mm/aaaa hh:mm</code> "
    "(exemplo: <code>30/11/2026 19:30</code>)."
)
TIME_PAST = "Esse horário já passou. Envie uma data e hora no futuro."
TIME_FAR = "Só é possível agendar até um ano à frente. Envie uma data mais próxima."
PREVIEW_ABOVE = "👆 <b>Assim o aviso vai aparecer</b> para os assinantes."
NO_RECIPIENTS = "⚠️ Nenhum chat vinculado corresponde a este público. Mude o público ou cancele."
FLOW_CANCELLED = "Tudo bem, descartei este aviso. Nada foi enviado."
NO_FEED = (
    "ℹ️ O sistema do provedor não informa cidades, planos nem contratos: o aviso pode ir para "
    "todos os chats vinculados ou para uma lista de assinantes."
)
TIMED_OUT = "⏰ Encerrei o aviso em andamento por falta de resposta. Nada foi enviado."

# --- /avisos -------------------------------------------------------------------------------
LIST_EMPTY = "📣 Nenhum aviso ainda. Para criar um, envie /aviso."
CANNOT = {
    "cancel": "Este aviso não pode mais ser cancelado.",
    "pause": "Este aviso não está enviando agora.",
    "resume": "Este aviso não está pausado.",
}
BROADCAST_NOT_FOUND = "Não encontrei esse aviso."
PAUSED = "⏸ Aviso pausado. Os que faltam ficam para quando você retomar."
RESUMED = "▶️ Envio retomado."
CANCELLED_ANSWER = "✖️ Aviso cancelado. Quem ainda não recebeu não vai receber."


def number(value: int) -> str:
    """``12.345`` (pt-BR thousands)."""
    return f"{value:,}".replace(",", ".")


def text_problem(kind: str, details: Mapping[str, Any]) -> str:
    """Why the typed text cannot be a broadcast (kinds from InvalidInput)."""
    if kind == "html":
        return (
            "⚠️ O texto tem um erro de formatação HTML e não pode ser enviado assim:\n"
            f"<code>{esc(details.get('problem', ''))}</code>\n\n"
            "Confira se toda tag aberta foi fechada (&lt;b&gt;…&lt;/b&gt;), se usou só as tags "
            "do Telegram (b, i, u, s, a, code, pre, blockquote, tg-spoiler) e escreva "
            "<code>&amp;amp;</code> no lugar de &amp;, <code>&amp;lt;</code> no lugar de &lt;. "
            "Envie o texto corrigido."
        )
    if kind == "too_long":
        where = "com anexo, a legenda" if details.get("with_media") else "o texto"
        return (
            f"⚠️ O aviso ficou com {number(int(details.get('length', 0)))} caracteres; "
            f"{where} pode ter até {number(int(details.get('limit', 0)))}. "
            "Encurte e envie de novo."
        )
    return "⚠️ O aviso está vazio. Envie o texto do aviso."


def caption_too_long(length: int, limit: int) -> str:
    return (
        f"⚠️ Com anexo, o texto vira legenda e pode ter até {number(limit)} caracteres — o seu "
        f"tem {number(length)}. Toque em <b>Mudar texto</b> para encurtar, ou em "
        "<b>Sem anexo</b>."
    )


def media_received(kind: str, name: str | None) -> str:
    if kind == "photo":
        return "📎 Imagem recebida."
    return f"📎 Documento recebido{f': {esc(name)}' if name else ''}."


def audience_screen(summary: str, has_feed: bool) -> str:
    intro = (
        "👥 <b>Para quem?</b> Combine os filtros (o assinante precisa atender a todos), ou "
        "escolha todos os chats vinculados."
    )
    current = f"\n\n<b>Filtros:</b>\n{summary}" if summary else "\n\nNenhum filtro escolhido."
    return intro + current + ("" if has_feed else f"\n\n{NO_FEED}")


def city_screen(city: str) -> str:
    return f"🏘 <b>{esc(city)}</b>: toda a cidade ou só alguns bairros (qualquer um dos marcados)."


def check(label: str, on: bool) -> str:
    return f"{'☑️' if on else '⬜'} {label}"


def describe_audience(audience: Mapping[str, Any], plan_names: Mapping[str, str]) -> str:
    """One line per segment (HTML), or everyone."""
    if audience.get("all"):
        return "👥 Todos os chats vinculados"
    lines = []
    places = audience.get("places") or []
    if places:
        shown = [
            f"{p['city']} (toda a cidade)"
            if not p.get("neighbourhood")
            else f"{p['city']} – {p['neighbourhood']}"
            for p in places
        ]
        lines.append(f"🏙 Local: {esc('; '.join(shown))}")
    if audience.get("plans"):
        names = [plan_names.get(plan, plan) for plan in audience["plans"]]
        lines.append(f"📶 Plano: {esc(', '.join(names))}")
    if audience.get("statuses"):
        labels = [STATUS_LABELS.get(s, s) for s in audience["statuses"]]
        lines.append(f"📋 Situação: {esc(', '.join(labels))}")
    for key, label in (("contract_ids", "🔢 Contratos"), ("subscriber_ids", "🪪 Assinantes")):
        ids = audience.get(key) or []
        if ids:
            shown = ", ".join(ids[:8]) + (f" e mais {len(ids) - 8}" if len(ids) > 8 else "")
            lines.append(f"{label}: {esc(shown)}")
    return "\n".join(lines)


def preview_summary(
    audience: str, recipients: int, send_at: datetime | None, media: str | None
) -> str:
    when = "agora, assim que você confirmar" if send_at is None else day_time(send_at)
    attachment = f"\n📎 Anexo: {esc(media)}" if media else ""
    plural = "chat vinculado" if recipients == 1 else "chats vinculados"
    who = f"{number(recipients)} {plural}"
    return (
        f"📋 <b>Resumo</b>\n<b>Público:</b>\n{audience}\n"
        f"<b>Destinatários agora:</b> {who}\n<b>Quando:</b> {when}{attachment}"
    )


def created(broadcast_id: int, recipients: int, send_at: datetime | None) -> str:
    if send_at is None:
        return (
            f"✅ Aviso <b>#{broadcast_id}</b> criado. Enviando agora para cerca de "
            f"{number(recipients)} chat(s), no ritmo que o Telegram permite. Acompanhe em "
            "/avisos."
        )
    return (
        f"✅ Aviso <b>#{broadcast_id}</b> agendado para <b>{day_time(send_at)}</b>. Os "
        "destinatários são escolhidos na hora do envio. Acompanhe em /avisos."
    )


# --- /avisos ------------------------------------------------------------------------------------
def list_title(total: int) -> str:
    return f"📣 <b>Avisos</b> ({number(total)}) — toque em um para ver o relatório."


def list_line(
    broadcast_id: int, status: str, processed: int, total: int | None, when: datetime, text: str
) -> str:
    progress = f"{number(processed)}/{number(total)}" if total is not None else "—"
    snippet = text if len(text) <= 40 else text[:39] + "…"
    return (
        f"<b>#{broadcast_id}</b> · {STATE_LABELS.get(status, status)} · {progress} · "
        f"{day_time(when)}\n<i>{esc(snippet)}</i>"
    )


def list_button(broadcast_id: int, status: str) -> str:
    return f"#{broadcast_id} · {STATE_LABELS.get(status, status)}"


def duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def report(data: Mapping[str, Any], audience: str, shown_text: str, author: str) -> str:
    """The report of a broadcast (``Report.to_json()``), HTML."""
    r, progress = data["report"], data["progress"]
    status = STATE_LABELS.get(data["status"], data["status"])
    created_at = datetime.fromisoformat(data["created_at"])
    send_at = datetime.fromisoformat(data["send_at"])
    lines = [
        f"📣 <b>Aviso #{data['id']}</b> — {status}",
        f"Criado em {day_time(created_at)} por {esc(author)}",
        f"Envio: {day_time(send_at)}",
        f"<b>Público:</b>\n{audience}",
    ]
    media = data.get("media")
    if media:
        kind = "imagem" if media["type"] == "photo" else "documento"
        name = f" {media['name']}" if media.get("name") else ""
        lines.append(f"📎 Anexo: {esc(kind + name)}")
    lines.append("")
    total = progress["total"]
    if total is None:
        lines.append("Os destinatários serão escolhidos na hora do envio.")
    else:
        percent = progress["percent"] or 0
        lines.append(
            f"<b>Progresso:</b> {number(progress['processed'])} de {number(total)} "
            f"({str(percent).replace('.', ',')}%)"
        )
        lines.append(f"✅ Enviados: {number(r['sent'])}")
        lines.append(f"🚫 Bloquearam o bot: {number(r['blocked'])}")
        failed = f"⚠️ Falharam: {number(r['failed'])}"
        if r["failed_by_reason"]:
            reasons = ", ".join(
                f"{REASON_LABELS.get(reason, reason)}: {number(count)}"
                for reason, count in r["failed_by_reason"].items()
            )
            failed += f" ({esc(reasons)})"
        lines.append(failed)
        pending = "Não enviados (cancelado)" if data["status"] == "cancelled" else "Pendentes"
        lines.append(f"⏳ {pending}: {number(r['pending'])}")
        if r["uncertain"]:
            lines.append(
                f"❓ Incertos (interrompidos no envio, não reenviados): {number(r['uncertain'])}"
            )
    if r["duration_seconds"] is not None:
        speed = ""
        if r["rate_per_second"]:
            speed = f" · {str(round(r['rate_per_second'], 1)).replace('.', ',')} msg/s"
        lines.append(f"⏱ Duração: {duration(r['duration_seconds'])}{speed}")
    if r["flood_waits"]:
        lines.append(
            f"🐢 Pausas pedidas pelo Telegram: {number(r['flood_waits'])} "
            f"({duration(r['flood_wait_seconds'] or 0)})"
        )
    snippet = shown_text if len(shown_text) <= 300 else shown_text[:299] + "…"
    lines.append(f"\n<b>Texto:</b>\n<blockquote>{esc(snippet)}</blockquote>")
    return "\n".join(lines)


def author(created_by: str, viewer_id: int) -> str:
    if created_by == f"telegram:{viewer_id}":
        return "você"
    if created_by.startswith("telegram:"):
        return f"operador {created_by.removeprefix('telegram:')}"
    return {"api": "API de administração", "cli": "linha de comando"}.get(created_by, created_by)


def cancel_question(broadcast_id: int) -> str:
    return f"Cancelar o aviso <b>#{broadcast_id}</b>? Quem ainda não recebeu não vai mais receber."
