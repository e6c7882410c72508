"""Texts of Contatos (seed 1.4, 1.4.1) and of the "new contact" steps other flows reuse."""

from __future__ import annotations

from backend_client.models import Contact
from bot.services.contact_validation import Problem
from bot.ui.formatting import esc, phone

TITLE = "📇 <b>Contatos</b>"
EMPTY = "Você ainda não tem contatos cadastrados. Toque em <b>➕ Novo contato</b> para cadastrar."
# When the provider's system takes no new contacts from here.
EMPTY_CANNOT_ADD = (
    "Você ainda não tem contatos cadastrados. Para cadastrar um, fale com o atendimento do "
    "provedor."
)
BUTTON_NEW = "➕ Novo contato"
YES = "Sim"
NO = "Não"
NOT_INFORMED = "não informado"


def contact_card(contact: Contact) -> str:
    landline = phone(contact.landline) if contact.landline else NOT_INFORMED
    mobile = phone(contact.mobile) if contact.mobile else NOT_INFORMED
    return (
        f"👤 <b>{esc(contact.name)}</b> — {esc(contact.type.name)}\n"
        f"📱 Celular: {esc(mobile)}\n"
        f"☎️ Fixo: {esc(landline)}\n"
        f"✉️ E-mail: {esc(contact.email or NOT_INFORMED)}\n"
        f"💬 Aviso por SMS: {YES if contact.sms_opt_in else NO}"
    )


def contact_list(
    cards: list[str], page: int, pages: int, total: int, *, can_add: bool = True
) -> str:
    """The list screen; ``cards`` are the :func:`contact_card` texts of this page."""
    if not cards:
        return f"{TITLE}\n\n{EMPTY if can_add else EMPTY_CANNOT_ADD}"
    count = "1 contato cadastrado" if total == 1 else f"{total} contatos cadastrados"
    page_note = f" · página {page + 1} de {pages}" if pages > 1 else ""
    return f"{TITLE} — {count}{page_note}\n\n" + "\n\n".join(cards)


def saved(name: str) -> str:
    return f"✅ Contato <b>{esc(name)}</b> cadastrado com sucesso!"


NEW_CANCELLED = "Tudo bem, não cadastrei o contato."

# --- the "new contact" steps -------------------------------------------------------------------
NEW_TITLE = "➕ <b>Novo contato</b>"
EXAMPLE_NAME = "Ana Paula Souza"
EXAMPLE_MOBILE = "(19) 98765-4321"
EXAMPLE_LANDLINE = "(19) 3234-5678"
EXAMPLE_EMAIL = "ana.souza@gmail.com"

ASK_NAME = (
    f"{NEW_TITLE}\n\n👤 Qual é o <b>nome completo</b> do contato?\n"
    f"Exemplo: <code>{EXAMPLE_NAME}</code>"
)
ASK_TYPE = "🏷 Qual é o <b>tipo de contato</b>? Escolha abaixo."
ASK_MOBILE = (
    "📱 Qual é o <b>celular com DDD</b>?\n"
    f"Exemplo: <code>{EXAMPLE_MOBILE}</code> ou <code>19987654321</code>"
)
ASK_LANDLINE = (
    "☎️ Qual é o <b>telefone fixo com DDD</b>? Se não houver, toque em <b>Pular</b>.\n"
    f"Exemplo: <code>{EXAMPLE_LANDLINE}</code>"
)
ASK_EMAIL = (
    "✉️ Qual é o <b>e-mail</b> do contato? Se não houver, toque em <b>Pular</b>.\n"
    f"Exemplo: <code>{EXAMPLE_EMAIL}</code>"
)
ASK_SMS = "💬 O contato quer receber <b>avisos por SMS</b> no celular?"
FIX_WHICH = "✏️ Qual dado você quer corrigir? Os outros continuam como estão."
USE_BUTTONS = "Para esta etapa, toque em um dos botões abaixo."
TYPE_UNAVAILABLE = "Esse tipo de contato não está disponível. Escolha um dos tipos abaixo."
NO_TYPES = (
    "😕 O sistema do provedor não informou os tipos de contato agora. "
    "Tente de novo em alguns minutos."
)
SAVE_FAILED = "Seus dados continuam aqui: toque em <b>✅ Confirmar</b> para tentar de novo."

BUTTON_SKIP = "⏭ Pular"
BUTTON_YES = "✅ Sim"
BUTTON_NO = "❌ Não"
BUTTON_CONFIRM = "✅ Confirmar"
BUTTON_FIX = "✏️ Corrigir"
BUTTON_CANCEL = "✖️ Cancelar cadastro"
BUTTON_BACK_TO_SUMMARY = "⬅️ Voltar ao resumo"
BUTTON_RETRY = "🔁 Tentar de novo"

FIELD_LABELS = {
    "name": "👤 Nome",
    "type": "🏷 Tipo",
    "mobile": "📱 Celular",
    "landline": "☎️ Telefone fixo",
    "email": "✉️ E-mail",
    "sms": "💬 Aviso por SMS",
}


def current_value(value: str | None) -> str:
    """Shown under a question when the subscriber is correcting an answer."""
    return f"Atual: <b>{esc(value or NOT_INFORMED)}</b>"


def summary(
    name: str,
    type_name: str,
    mobile: str,
    landline: str | None,
    email: str | None,
    sms_opt_in: bool,
) -> str:
    """``mobile``/``landline`` are E.164 digits; shown formatted."""
    return (
        "📋 <b>Confira o novo contato</b>\n\n"
        f"<b>Nome:</b> {esc(name)}\n"
        f"<b>Tipo:</b> {esc(type_name)}\n"
        f"<b>Celular:</b> {esc(phone(mobile))}\n"
        f"<b>Telefone fixo:</b> {esc(phone(landline) if landline else NOT_INFORMED)}\n"
        f"<b>E-mail:</b> {esc(email or NOT_INFORMED)}\n"
        f"<b>Aviso por SMS:</b> {YES if sms_opt_in else NO}\n\n"
        "Está tudo certo?"
    )


def sms_value(sms_opt_in: bool | None) -> str | None:
    return None if sms_opt_in is None else (YES if sms_opt_in else NO)


# --- what is wrong with a typed value, always with an example ------------------------------------
_NAME_PROBLEMS = {
    Problem.NAME_EMPTY: "Envie o nome completo do contato.",
    Problem.NAME_ONE_WORD: "Preciso do <b>nome completo</b>: nome e sobrenome.",
    Problem.NAME_NOT_LETTERS: (
        "O nome deve ter só letras (acentos, hífen e apóstrofo valem), sem números ou símbolos."
    ),
    Problem.NAME_TOO_LONG: "Esse nome é longo demais: use até 100 caracteres.",
}

_PHONE_PROBLEMS = {
    Problem.PHONE_EMPTY: "Envie o número com DDD.",
    Problem.PHONE_NOT_A_NUMBER: "Não reconheci um número de telefone nessa mensagem.",
    Problem.PHONE_NO_AREA_CODE: "Faltou o <b>DDD</b> antes do número.",
    Problem.PHONE_UNKNOWN_AREA_CODE: "Esse DDD não existe. Confira os dois dígitos do DDD.",
    Problem.PHONE_FOREIGN: "Aceito apenas números do Brasil.",
    Problem.PHONE_SPECIAL: "Números 0800, 0300 e similares não valem: envie um telefone pessoal.",
    Problem.PHONE_NOT_MOBILE: "Esse número é de telefone fixo. Aqui preciso do <b>celular</b>.",
    Problem.PHONE_NOT_LANDLINE: (
        "Esse número é de celular. Aqui vai o <b>telefone fixo</b> (ou toque em Pular)."
    ),
    Problem.MOBILE_INVALID: "O celular tem <b>9 dígitos começando com 9</b>, depois do DDD.",
    Problem.LANDLINE_INVALID: (
        "O telefone fixo tem <b>8 dígitos começando com 2, 3, 4 ou 5</b>, depois do DDD."
    ),
}

_EMAIL_PROBLEMS = {
    Problem.EMAIL_EMPTY: "Envie o e-mail do contato (ou toque em Pular).",
    Problem.EMAIL_INVALID: "Esse e-mail não parece válido.",
    Problem.EMAIL_NO_DOMAIN_DOT: "Falta o domínio completo depois do @ (como gmail.com).",
    Problem.EMAIL_TOO_LONG: "Esse e-mail é longo demais.",
}


def _with_example(reason: str, example: str, tail: str = "") -> str:
    return f"⚠️ {reason}\nExemplo: <code>{esc(example)}</code>{tail}\nEnvie de novo, por favor."


def invalid_name(problem: Problem) -> str:
    return _with_example(
        _NAME_PROBLEMS.get(problem, _NAME_PROBLEMS[Problem.NAME_EMPTY]), EXAMPLE_NAME
    )


def invalid_mobile(problem: Problem) -> str:
    reason = _PHONE_PROBLEMS.get(problem, _PHONE_PROBLEMS[Problem.MOBILE_INVALID])
    return _with_example(reason, EXAMPLE_MOBILE)


def invalid_landline(problem: Problem) -> str:
    reason = _PHONE_PROBLEMS.get(problem, _PHONE_PROBLEMS[Problem.LANDLINE_INVALID])
    return _with_example(reason, EXAMPLE_LANDLINE, " (ou toque em Pular)")


def invalid_email(problem: Problem) -> str:
    reason = _EMAIL_PROBLEMS.get(problem, _EMAIL_PROBLEMS[Problem.EMAIL_INVALID])
    return _with_example(reason, EXAMPLE_EMAIL)
