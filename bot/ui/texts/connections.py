"""Texts of Extrato de Conexão (seed 1.6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.ui.formatting import esc

TITLE = "🌐 <b>Extrato de Conexão</b>"
NO_LOGINS = (
    f"{TITLE}\n\n"
    "Não encontrei nenhum login de acesso (PPPoE ou hotspot) nos seus contratos, por isso "
    "não há conexões para mostrar. Se achar que isso está errado, abra um atendimento."
)
CHOOSE_LOGIN = f"{TITLE}\n\nDe qual login de acesso você quer ver as conexões?"
LOGIN_UNAVAILABLE = "Esse login não está disponível. Escolha um dos logins abaixo."
PERIOD_UNAVAILABLE = "Escolha um dos períodos abaixo."
RUNNING = "em andamento"
ONLINE_MARK = "🟢"

BUTTON_OTHER_LOGIN = "🌐 Outro login"
# Downloads of the chosen period (issue 21). The CSV carries exact numbers (bytes, minutes) that
# a spreadsheet adds up; the PDF the units shown on screen.
EXPORT_TITLE = "Extrato de Conexão"
EXPORT_HEADERS_PDF = ("Início", "Fim", "Tempo", "IP", "Download", "Upload")
EXPORT_HEADERS_CSV = (
    "Início",
    "Fim",
    "Duração (min)",
    "IP",
    "Download (bytes)",
    "Upload (bytes)",
)
STILL_RUNNING = "em andamento"


def export_subtitle(login: str, period: str) -> str:
    """Plain text (the file's heading)."""
    return f"Login {login} · {period}"


def export_caption(period: str) -> str:
    return f"{TITLE} — {esc(period)}"


def login_button(login: str, online: bool) -> str:
    return f"{ONLINE_MARK if online else '⚪'} {login}"


def choose_period(login: str) -> str:
    return f"{TITLE}\nLogin: <b>{esc(login)}</b>\n\nDe qual período?"


def empty(login: str, period: str) -> str:
    return (
        f"{TITLE}\nLogin: <b>{esc(login)}</b>\n\n"
        f"Não há conexões em <b>{esc(period)}</b>. Quer ver outro período?"
    )


@dataclass(frozen=True, slots=True)
class SessionLine:
    """One connection session, every value already formatted for display."""

    start: str
    end: str | None  # None while the session is still running
    duration: str
    ip: str
    download: str
    upload: str


@dataclass(frozen=True, slots=True)
class Totals:
    sessions: int
    duration: str
    download: str
    upload: str


def _sessions(count: int) -> str:
    return "1 conexão" if count == 1 else f"{count} conexões"


def _session(line: SessionLine) -> str:
    if line.end is None:
        head = f"{ONLINE_MARK} <b>{esc(line.start)} → {RUNNING}</b>"
        length = f"{esc(line.duration)} até agora"
    else:
        head = f"⚪ <b>{esc(line.start)} → {esc(line.end)}</b>"
        length = esc(line.duration)
    return (
        f"{head}\n"
        f"    ⏱ {length} · IP <code>{esc(line.ip)}</code>\n"
        f"    ⬇️ {esc(line.download)} · ⬆️ {esc(line.upload)}"
    )


def statement(
    login: str,
    period: str,
    sessions: Sequence[SessionLine],
    page: int,
    pages: int,
    totals: Totals,
) -> str:
    """One page of sessions (newest first), then the totals of the whole period."""
    page_note = f" · página {page + 1} de {pages}" if pages > 1 else ""
    # "mais recentes primeiro" only when there is an order to tell (issue 21: not for 1 conexão).
    order = ", mais recentes primeiro" if totals.sessions > 1 else ""
    parts = [
        f"{TITLE}\nLogin: <b>{esc(login)}</b>\n"
        f"Período: <b>{esc(period)}</b> — {_sessions(totals.sessions)}{page_note}{order}",
        *(_session(line) for line in sessions),
        (
            "<b>Totais do período</b>\n"
            f"• Conexões: {totals.sessions}\n"
            f"• Tempo conectado: {esc(totals.duration)}\n"
            f"• Download: {esc(totals.download)}\n"
            f"• Upload: {esc(totals.upload)}"
        ),
    ]
    return "\n\n".join(parts)
