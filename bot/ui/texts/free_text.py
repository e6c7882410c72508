"""Texts of free-text understanding (bot.conversations.free_text): small talk, "did you mean",
the way to a person, the connection status."""

from __future__ import annotations

from bot.ui.formatting import esc

# What each intent opens, as a button label (the menu's own labels where there is an item).
HUMAN_LABEL = "👩‍💼 Falar com a equipe"
NO_INTERNET_LABEL = "📶 Estou sem internet"

# --- small talk ----------------------------------------------------------------------------------
GREETING_LOGGED_OUT = "👋 Olá! Que bom falar com você."
ACK_LOGGED_OUT = "👍 Certo!"


def greeting(first_name: str | None) -> str:
    hello = f"👋 Olá, {esc(first_name)}!" if first_name else "👋 Olá!"
    return (
        f"{hello} Em que posso ajudar? Escreva o que precisa (por exemplo, “segunda via” ou "
        "“sem internet”) ou escolha no menu:"
    )


THANKS = "😊 Por nada! Se precisar de mais alguma coisa, é só escrever."
ACK = "👍 Combinado! Se precisar de algo, é só escrever ou mandar /menu."
BYE = "👋 Até logo! Quando precisar, é só mandar uma mensagem."

# --- before the login ----------------------------------------------------------------------------


def login_first(label: str) -> str:
    """Something asked before logging in: it is kept, and opened right after the login."""
    return (
        f"Para abrir <b>{esc(label)}</b>, primeiro entre na sua central. "
        "Logo depois eu levo você até lá."
    )


# --- not sure / not understood -------------------------------------------------------------------
DID_YOU_MEAN = "🤔 Não tenho certeza do que você precisa. É uma destas opções?"
NOT_UNDERSTOOD = (
    "🤔 Não entendi. Você pode escrever com outras palavras (por exemplo, “segunda via”, "
    "“nota fiscal”, “sem internet”, “falar com atendente”) ou abrir o menu."
)
OTHER = (
    "Isso eu ainda não consigo resolver por aqui. Você pode abrir um atendimento para a nossa "
    "equipe, ou escolher outra opção no menu."
)
OTHER_WITH_CONTACTS = "Isso eu ainda não consigo resolver por aqui. Fale com a nossa equipe:"
BUTTON_MENU_ALL = "📋 Ver o menu"
BUTTON_OPEN_TICKET = "🛠️ Abrir atendimento"

# --- a person ------------------------------------------------------------------------------------
HUMAN_CONTACTS = "👩‍💼 Para falar com uma pessoa da nossa equipe:"
OR_LOG_IN = "Ou entre na sua central para resolver por aqui mesmo."
FORGOT_PASSWORD = (
    "🔑 A senha da Central do Assinante é criada e recuperada pelo seu provedor: fale com ele "
    "para ter uma nova. Se lembrar dela, é só entrar."
)
HUMAN_TICKET = (
    "👩‍💼 Para falar com a nossa equipe, abra um atendimento: descreva o que precisa e a "
    "resposta chega aqui mesmo, no chat."
)

PICK_AN_INVOICE = "Toque na fatura que você quer pagar: o boleto e o PIX aparecem em seguida."

# --- a detail that could not be used ------------------------------------------------------------


def day_not_offered(day: int, current: int) -> str:
    """A due day asked for in words that the contract does not offer (a plain-text note)."""
    if day == current:
        return f"O dia {day} já é o seu vencimento atual."
    return f"O dia {day} não está entre os dias de vencimento disponíveis."
