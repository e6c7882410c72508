"""Habilitação Provisória (seed 1.3)."""

from __future__ import annotations

from datetime import date

from backend_client.models import Contract, TemporaryEnablingPolicy
from bot.ui.formatting import day, esc
from bot.ui.texts import CONTRACT_STATUS

TITLE = "🔓 <b>Habilitação Provisória</b>"
# The seed's message for subscribers with no suspended plan (1.3).
NOTHING_SUSPENDED = f"{TITLE}\n\n✅ Não há planos suspensos para habilitar."
CHOOSE_CONTRACT = f"{TITLE}\n\nMais de um contrato está suspenso. Qual deles você quer habilitar?"
BUTTON_CONFIRM = "✅ Confirmar habilitação"
BUTTON_CONTRACTS = "⬅️ Contratos"
BUTTON_INVOICES = "🧾 Ver faturas"
DEFAULT_REFUSAL = "Este contrato não pode ser habilitado agora."


def _days(count: int) -> str:
    return "1 dia" if count == 1 else f"{count} dias"


def contract_button(contract: Contract) -> str:
    """Plain text (button label)."""
    status = CONTRACT_STATUS[contract.status]
    return f"{contract.number} · {contract.plan.name} · {status}"


def _contract(contract: Contract) -> str:
    return f"Contrato <b>{esc(contract.number)}</b> — {esc(contract.plan.name)}"


def not_suspended(contract: Contract) -> str:
    return (
        f"{TITLE}\n\n{_contract(contract)}\n\n"
        "✅ Este contrato não está suspenso: não há o que habilitar."
    )


def not_eligible(contract: Contract, reason: str | None) -> str:
    return f"{TITLE}\n\n{_contract(contract)}\n\n⚠️ {esc(reason or DEFAULT_REFUSAL)}"


def confirm(contract: Contract, policy: TemporaryEnablingPolicy) -> str:
    return (
        f"{TITLE}\n\n{_contract(contract)}\n"
        f"Situação: {CONTRACT_STATUS[contract.status]}\n\n"
        "<b>Como funciona</b>\n"
        f"• A conexão volta em poucos minutos e fica liberada por <b>{_days(policy.days)}</b>.\n"
        f"• Pode ser usada <b>uma vez a cada {_days(policy.interval_days)}</b>.\n"
        "• Passado esse prazo sem o pagamento, o contrato volta a ficar suspenso.\n\n"
        "Quer habilitar agora?"
    )


def enabled(contract: Contract, until: date, *, has_protocol: bool = True) -> str:
    which = f"\n{_contract(contract)}"
    text = (
        f"{TITLE}{which}\n\n"
        f"✅ Pronto! Sua conexão está habilitada até <b>{day(until)}</b>. Em alguns minutos a "
        "internet volta a funcionar (se precisar, reinicie o roteador).\n"
        "Pague as faturas em aberto até essa data para não voltar a ser suspenso."
    )
    if has_protocol:
        text += "\n\nO número do protocolo vem na mensagem abaixo:"
    return text


def refused(reason: str) -> str:
    return f"{TITLE}\n\n⚠️ {esc(reason)}"


def code(value: str) -> str:
    """A value to copy (the protocol), alone in its message."""
    return f"<code>{esc(value)}</code>"
