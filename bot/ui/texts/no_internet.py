"""Texts of the "📶 Estou sem internet" self-help (issue 22), in Telegram's HTML."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from backend_client.models import AccessLogin, ConnectionSession, Contract
from bot.ui.formatting import clock, day, day_time, esc, local_time

TITLE = "📶 <b>Sem internet</b>"
CHOOSE_CONTRACT = f"{TITLE}\n\nQual endereço está sem internet?"
NO_CONTRACTS = f"{TITLE}\n\nNão encontrei um contrato ativo no seu cadastro."

BUTTON_INVOICES = "🧾 Faturas"
BUTTON_ENABLING = "🔓 Habilitação Provisória"
BUTTON_BACK_ONLINE = "✅ Voltou!"
BUTTON_STILL_DOWN = "❌ Continua sem internet"
BUTTON_TRY_STEPS = "🔧 Testar mesmo assim"
BUTTON_TICKET = "🛠️ Abrir atendimento"
BUTTON_HUMAN = "👩‍💼 Falar com atendente"
BUTTON_WATCH = "🔔 Avise-me quando voltar"
WATCHING = "🔔 Combinado! Eu te aviso aqui assim que a nossa equipe encerrar essa ocorrência."

# The ticket subject the self-help opens (matched by name against the system's subjects);
# "Outros" when the system has none of that name.
SUBJECT = "Sem conexão"
FALLBACK_SUBJECT = "Outros"


def contract_button(contract: Contract) -> str:
    """Plain text (button label)."""
    address = contract.address
    label = f"{contract.number} · {address.street}, {address.number} ({address.neighbourhood})"
    return label if len(label) <= 60 else label[:59].rstrip() + "…"


def suspended(contract: Contract) -> str:
    return (
        f"{TITLE}\n\n⚠️ O contrato <b>{esc(contract.number)}</b> está <b>suspenso por falta de "
        "pagamento</b>: por isso a internet está bloqueada.\n\nPague a fatura em aberto (a "
        "liberação é automática após a compensação) ou peça a <b>habilitação provisória</b> "
        "para navegar por alguns dias enquanto isso."
    )


def _area(city: str, neighbourhood: str | None) -> str:
    return (
        f"{esc(neighbourhood)}, {esc(city)}" if neighbourhood else f"toda a cidade de {esc(city)}"
    )


def forecast(instant: datetime | None, now: datetime) -> str:
    if instant is None:
        return "ainda sem previsão de retorno"
    if local_time(instant).date() == local_time(now).date():
        return f"previsão de retorno: <b>hoje às {clock(instant)}</b>"
    return f"previsão de retorno: <b>{day(local_time(instant).date())} às {clock(instant)}</b>"


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def outage(
    city: str, neighbourhood: str | None, description: str, when: datetime | None, now: datetime
) -> str:
    return (
        f"{TITLE}\n\n🚧 Estamos com uma <b>falha na sua região</b> ({_area(city, neighbourhood)})"
        f": {esc(description)}\n\n⏱️ {_first_upper(forecast(when, now))}.\n\nNão precisa "
        "fazer nada: a conexão volta sozinha assim que o reparo terminar. Desculpe o transtorno!"
    )


def outage_over(city: str, neighbourhood: str | None) -> str:
    return (
        f"✅ A falha na sua região ({_area(city, neighbourhood)}) foi resolvida: a internet deve "
        "ter voltado. Se ainda estiver sem conexão, desligue o roteador da tomada por 30 "
        "segundos e ligue de novo, ou toque em <b>📶 Estou sem internet</b> no menu."
    )


def login_line(login: AccessLogin) -> str:
    state = "🟢 conectado" if login.online else "🔴 desconectado"
    return f"• {esc(login.login)}: {state}"


def last_session(found: ConnectionSession | None) -> str:
    if found is None:
        return "Não encontrei conexões recentes desse acesso."
    if found.ended_at is None:
        return f"Conectado desde {day_time(found.started_at)}."
    cause = f" (motivo: {esc(found.termination_cause)})" if found.termination_cause else ""
    return (
        f"Última conexão: de {day_time(found.started_at)} até "
        f"<b>{day_time(found.ended_at)}</b>{cause}."
    )


def status(logins: Sequence[tuple[AccessLogin, ConnectionSession | None]]) -> str:
    if not logins:
        return "Não encontrei um acesso de internet nesse contrato."
    lines = [f"{login_line(login)}\n  {last_session(last)}" for login, last in logins]
    return "\n".join(lines)


def diagnosis(contract: Contract, status_text: str, online: bool) -> str:
    verdict = (
        "Para nós o seu acesso aparece <b>conectado</b>: o problema pode estar no roteador ou "
        "no Wi-Fi. Vamos testar juntos?"
        if online
        else "Seu acesso aparece <b>desconectado</b>. Vamos tentar resolver juntos?"
    )
    return (
        f"{TITLE} — contrato {esc(contract.number)}\n\n<b>Sua conexão agora</b>\n{status_text}"
        f"\n\n{verdict}"
    )


STEPS: tuple[str, ...] = (
    "🔌 <b>Passo 1 de 2: reinicie o roteador</b>\n\nTire o roteador (e a ONU, a caixinha da "
    "fibra, se for separada) da tomada, espere <b>30 segundos</b> e ligue de novo. Aguarde "
    "uns 2 minutos até as luzes se acenderem e teste a internet.",
    "🔍 <b>Passo 2 de 2: confira os cabos e as luzes</b>\n\nVeja se os cabos estão bem "
    "encaixados e se o cabo da fibra (o fino, verde ou azul) não está dobrado.\n\nNa ONU: "
    "luz <b>PON</b> piscando ou apagada, ou <b>LOS</b> vermelha, indica <b>problema na "
    "fibra</b> — aí é com a nossa equipe técnica.",
)
# What the ticket's description says of each step tried.
STEPS_TRIED = (
    "Reiniciou o roteador (30 s fora da tomada): não voltou.",
    "Conferiu cabos e luzes: não voltou.",
)

BACK_ONLINE = (
    "🎉 Que bom que voltou! Se cair de novo, é só me chamar: toque em "
    '<b>📶 Estou sem internet</b> no menu ou escreva "estou sem internet".'
)
STILL_DOWN = (
    "😕 Sinto muito, a internet continua fora mesmo depois dos testes. Nossa equipe precisa "
    "olhar: abra um atendimento (já preenchi a descrição com o que vimos e o que você testou, "
    "você confere antes de enviar)"
)
STILL_DOWN_HUMAN = " ou fale agora com um atendente."
STILL_DOWN_END = "."
NOTHING_MORE = (
    "😕 Sinto muito, a internet continua fora. Fale com a nossa equipe pelos nossos contatos."
)


def ticket_description(
    contract: Contract,
    logins: Sequence[tuple[AccessLogin, ConnectionSession | None]],
    steps_tried: int,
    *,
    outage: str | None = None,
) -> str:
    """Plain text (the ticket's description; escaped wherever it is shown)."""
    address = contract.address
    lines = [
        "Cliente sem internet (aberto pelo autoatendimento do bot).",
        f"Contrato {contract.number} — {address.street}, {address.number}, "
        f"{address.neighbourhood}, {address.city}.",
    ]
    for login, last in logins:
        state = "conectado" if login.online else "desconectado"
        line = f"Acesso {login.login}: {state}"
        if last is not None and last.ended_at is not None:
            line += f"; última conexão terminou em {day_time(last.ended_at)}"
            if last.termination_cause:
                line += f" ({last.termination_cause})"
        elif last is not None:
            line += f"; conectado desde {day_time(last.started_at)}"
        lines.append(line + ".")
    if outage:
        lines.append(f"Há ocorrência ativa na região: {outage}")
    lines += STEPS_TRIED[:steps_tried]
    return "\n".join(lines)
