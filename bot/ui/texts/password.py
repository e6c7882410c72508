"""Texts of Alterar Senha (seed 1.10). No text ever contains a password."""

from __future__ import annotations

from collections.abc import Sequence

TITLE = "🔑 <b>Alterar Senha</b>"
MIN_LENGTH = 8

RULES = (
    "A nova senha precisa:\n"
    f"• ter pelo menos {MIN_LENGTH} caracteres;\n"
    "• ter letras e números;\n"
    "• ser diferente da senha atual;\n"
    "• não ser nem conter o seu CPF/CNPJ."
)
DELETE_NOTE = "🔒 Vou apagar cada mensagem com senha assim que ler."

ASK_CURRENT = f"{TITLE}\n\nEnvie a sua <b>senha atual</b> da Central do Assinante.\n{DELETE_NOTE}"
ASK_CURRENT_AGAIN = "Envie a sua <b>senha atual</b> de novo, por favor."
ASK_CURRENT_RESTORED = (
    "Por segurança, preciso que você envie a sua <b>senha atual</b> de novo para continuar."
)
ASK_NEW = f"Agora envie a <b>nova senha</b>.\n\n{RULES}"
ASK_CONFIRMATION = "Para confirmar, envie a <b>nova senha</b> mais uma vez."
MISMATCH = "⚠️ As duas senhas não conferem. Envie a <b>nova senha</b> de novo."
WRONG_CURRENT = "⚠️ A senha atual não confere. Envie a sua <b>senha atual</b> de novo."


def check_failed(reason: str) -> str:
    """The current password could not be checked now (``reason``: why, already a text)."""
    return f"{reason}\n\n{ASK_CURRENT_AGAIN}"


CHANGED = (
    "✅ Pronto! Sua senha foi alterada. Use a nova senha na próxima vez que entrar, "
    "aqui ou na Central do Assinante."
)
USE_BUTTONS = "Toque em <b>🔁 Tentar de novo</b> ou volte ao menu."
SAVE_FAILED = (
    "A troca ainda não foi feita. Toque em <b>🔁 Tentar de novo</b> para repetir sem digitar "
    "as senhas outra vez."
)
CANCELLED = "Tudo bem, a senha não foi alterada."
# A text sent where a password was asked for lately, outside a step that reads it: deleted.
STRAY_DELETED = "🔒 Apaguei a sua última mensagem, pois ela podia conter uma senha."

BUTTON_RETRY = "🔁 Tentar de novo"
BUTTON_CANCEL = "✖️ Cancelar"

# What is wrong with a new password (one entry per rule; see password.password_problems).
TOO_SHORT = f"tem menos de {MIN_LENGTH} caracteres"
NEEDS_LETTERS_AND_DIGITS = "precisa ter letras e números"
SAME_AS_CURRENT = "é igual à senha atual"
HAS_DOCUMENT = "contém o seu CPF/CNPJ"


def weak(problems: Sequence[str]) -> str:
    """The rules the typed password breaks, then all the rules, then the question again."""
    reasons = "; ".join(problems)
    return f"⚠️ Essa senha não serve: {reasons}.\n\n{RULES}\n\nEnvie outra <b>nova senha</b>."


def rejected(reason: str) -> str:
    """The provider refused the new password (``reason`` is already escaped)."""
    return f"⚠️ {reason}\n\nEnvie outra <b>nova senha</b>."


LOGGED_OUT_ELSEWHERE = (
    "🔑 A senha da sua Central do Assinante foi alterada em outra conversa. "
    "Por segurança, saí da sua conta aqui: para continuar, entre de novo com a nova senha."
)


def others_logged_out(count: int) -> str:
    if count == 1:
        return "Por segurança, também saí da sua conta em 1 outra conversa do Telegram."
    return f"Por segurança, também saí da sua conta em {count} outras conversas do Telegram."
