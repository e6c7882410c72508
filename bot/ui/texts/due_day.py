"""Alterar Vencimento (seed 1.8): screens and the e-mails of the request.

Screen texts are HTML (escaped); e-mail texts are plain text (no escaping, no HTML).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.ui.formatting import day, day_time, document, esc, local_time

TITLE = "📅 <b>Alterar Vencimento</b>"
CHOOSE_CONTRACT = f"{TITLE}\n\nVocê tem mais de um contrato. De qual deles quer mudar o vencimento?"
NO_CONTRACTS = f"{TITLE}\n\nNão encontrei contratos ativos na sua conta."
BUTTON_AGREE = "✅ Concordo"
BUTTON_BACK = "⬅️ Voltar"
BUTTON_CONTRACTS = "⬅️ Contratos"


def contract_button(number: str, plan: str, due_day: int) -> str:
    """Plain text (button label)."""
    return f"{number} · {plan} · dia {due_day}"


def day_button(value: int) -> str:
    """Plain text (button label)."""
    return f"Dia {value}"


def _contract(number: str, plan: str) -> str:
    return f"Contrato <b>{esc(number)}</b> — {esc(plan)}"


def choose_day(number: str, plan: str, current: int, note: str | None = None) -> str:
    lines = [TITLE, "", _contract(number, plan), f"Vencimento atual: <b>dia {current}</b>", ""]
    if note:
        lines += [f"⚠️ {esc(note)}", ""]
    lines.append("Escolha o novo dia de vencimento:")
    return "\n".join(lines)


def no_other_day(number: str, plan: str, current: int) -> str:
    return (
        f"{TITLE}\n\n{_contract(number, plan)}\nVencimento atual: <b>dia {current}</b>\n\n"
        "No momento o provedor não oferece outro dia de vencimento para este contrato."
    )


DAY_UNAVAILABLE = "Esse dia não está disponível. Escolha um dos dias abaixo."


def pending_request(
    number: str,
    plan: str,
    current: int,
    requested: int,
    protocol: str,
    requested_at: datetime,
    *,
    asked_day: int | None = None,
) -> str:
    """A request awaiting the provider: while it does, no other day can be asked (the system
    refuses it), so a second request for the same day — or another — is not made."""
    lines = [
        TITLE,
        "",
        _contract(number, plan),
        f"Vencimento atual: <b>dia {current}</b>",
        "",
        f"⏳ <b>Pedido em análise:</b> novo vencimento para o <b>dia {requested}</b>",
        f"Protocolo: <code>{esc(protocol)}</code>",
        f"Pedido em: {day(local_time(requested_at).date())}",
        "",
    ]
    if asked_day == requested:
        lines += [
            f"Você já pediu o dia {requested} para este contrato: o pedido acima continua "
            "valendo, não é preciso pedir de novo.",
            "",
        ]
    elif asked_day is not None:
        lines += [f"O pedido para o dia {asked_day} <b>não</b> foi registrado.", ""]
    lines.append(
        "Enquanto este pedido estiver em análise, não é possível pedir outro dia de vencimento "
        "para este contrato. O provedor vai confirmar a mudança; se quiser outro dia, fale com "
        "o atendimento do provedor."
    )
    return "\n".join(lines)


def terms(number: str, plan: str, current: int, new: int) -> str:
    return (
        f"{TITLE}\n\n{_contract(number, plan)}\n"
        f"Vencimento atual: dia {current} → novo vencimento: <b>dia {new}</b>\n\n"
        "<b>Condições</b>\n"
        "• O pedido é registrado agora e o provedor confirma a mudança.\n"
        f"• A próxima fatura virá com o valor <b>proporcional (pro rata)</b> aos dias entre o "
        f"vencimento atual e o novo; depois, as faturas vencem todo dia {new}.\n"
        "• As faturas já emitidas continuam com o vencimento que têm.\n\n"
        "Você concorda?"
    )


def requested_sent(new: int, subscriber_email: str | None) -> str:
    copy = f" e uma cópia para <b>{esc(subscriber_email)}</b>" if subscriber_email else ""
    return (
        f"{TITLE}\n\n"
        f"✅ Pedido registrado: vencimento para o <b>dia {new}</b>.\n"
        f"Enviamos o pedido por e-mail ao financeiro do provedor{copy}. O provedor vai "
        "confirmar a mudança.\n\n"
        "O número do protocolo vem na mensagem abaixo:"
    )


def requested_queued(new: int) -> str:
    return (
        f"{TITLE}\n\n"
        f"✅ Pedido registrado no sistema do provedor: vencimento para o <b>dia {new}</b>.\n"
        "📧 O e-mail de confirmação não pôde ser enviado agora; vamos reenviá-lo "
        "automaticamente em instantes. Seu pedido já vale com o protocolo abaixo:"
    )


def requested_no_email(new: int) -> str:
    return (
        f"{TITLE}\n\n"
        f"✅ Pedido registrado: vencimento para o <b>dia {new}</b>.\n"
        "O provedor vai analisar e confirmar a mudança com você.\n\n"
        "O número do protocolo vem na mensagem abaixo:"
    )


def refused(reason: str) -> str:
    return f"⚠️ {esc(reason)}"


def code(value: str) -> str:
    """A value to copy (the protocol), alone in its message."""
    return f"<code>{esc(value)}</code>"


# --- e-mails (plain text) --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What both e-mails of a due-day request state."""

    protocol: str
    name: str
    subscriber_document: str
    number: str
    plan: str
    current: int
    new: int
    requested_at: datetime


def _facts(facts: RequestFacts) -> list[str]:
    kind = "CPF" if len(facts.subscriber_document) == 11 else "CNPJ"
    return [
        f"Protocolo: {facts.protocol}",
        f"Assinante: {facts.name}",
        f"{kind}: {document(facts.subscriber_document)}",
        f"Contrato: {facts.number} - {facts.plan}",
        f"Vencimento atual: dia {facts.current}",
        f"Novo vencimento pedido: dia {facts.new}",
        f"Pedido em: {day_time(facts.requested_at)} (horário de Brasília)",
    ]


PRORATA_TERMS = (
    "O assinante concordou com as condições: a próxima fatura virá com o valor proporcional "
    "(pro rata) aos dias entre o vencimento atual e o novo; as faturas já emitidas mantêm o "
    "vencimento."
)


def provider_email_subject(protocol: str, number: str, new: int) -> str:
    return f"Alteração de vencimento para o dia {new} - contrato {number} - protocolo {protocol}"


def provider_email_body(facts: RequestFacts, subscriber_email: str | None) -> str:
    lines = [
        "Pedido de alteração de vencimento feito pelo assinante na Minha Central (Telegram).",
        "",
        *_facts(facts),
        f"E-mail do assinante: {subscriber_email or 'não informado'}",
        "",
        PRORATA_TERMS,
        "",
        "O pedido já está registrado no sistema com o protocolo acima. Confirme a mudança "
        "com o assinante.",
    ]
    return "\n".join(lines) + "\n"


def subscriber_email_subject(protocol: str, new: int) -> str:
    return f"Seu pedido de alteração de vencimento para o dia {new} - protocolo {protocol}"


def subscriber_email_body(facts: RequestFacts, provider: str | None = None) -> str:
    """The subscriber's copy; signed with the provider's name (its file) when there is one."""
    sender = f"da Central do Assinante {provider}" if provider else "da Minha Central"
    lines = [
        f"Olá, {facts.name}!",
        "",
        "Recebemos o seu pedido de alteração da data de vencimento:",
        "",
        *_facts(facts),
        "",
        "A próxima fatura virá com o valor proporcional (pro rata) aos dias entre o vencimento "
        "atual e o novo; as faturas já emitidas mantêm o vencimento. O provedor vai confirmar "
        "a mudança com você.",
        "",
        f"Esta é uma mensagem automática {sender}. Guarde o número do protocolo.",
    ]
    return "\n".join(lines) + "\n"
