"""What the survey says in the chat (pt-BR)."""

from __future__ import annotations

from bot.ui.formatting import esc

DEFAULT_NAME = "nosso atendimento"


def question(provider_name: str | None, trigger: str) -> str:
    after = {
        "ticket": "Seu atendimento foi encerrado.",
        "handoff": "Sua conversa com a nossa equipe terminou.",
    }.get(trigger, "")
    whom = f"a <b>{esc(provider_name)}</b>" if provider_name else DEFAULT_NAME
    return (
        f"⭐ {after} Uma pergunta rápida:\n\n"
        f"De <b>0 a 10</b>, quanto você recomendaria {whom} a um amigo ou familiar?"
    )


def thanks_for_score(score: int) -> str:
    return (
        f"🙏 Obrigado! Sua nota: <b>{score}</b>.\n\n"
        "Quer contar o porquê? Escreva numa mensagem (opcional) ou toque em <b>Pular</b>."
    )


BUTTON_SKIP = "Pular"
THANKS = "💙 Obrigado pela resposta! Ela ajuda a melhorar o atendimento."
THANKS_FOR_COMMENT = "💙 Obrigado pelo comentário! Nossa equipe vai ler."
ALREADY_ANSWERED = "Você já respondeu esta pesquisa. Obrigado!"
