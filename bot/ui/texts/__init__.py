"""Every pt-BR text the bot shows, in one place: this package.

Common texts live here; each flow has its own module named like the flow (``texts.invoices``
for ``conversations.invoices``).

Constants are ready-to-send HTML; functions take already-typed values and escape what they
interpolate, so no caller has to remember to.
"""

from __future__ import annotations

from datetime import datetime

from backend_client.models import ContractStatus
from bot.ui.formatting import clock, day, esc

# --- menu ----------------------------------------------------------------------------------
# Callback ids of the main menu, in display order, with their labels (seed 1.2.1.1).
MENU_ITEMS: tuple[tuple[str, str], ...] = (
    ("account", "👤 Minha Conta"),
    ("enabling", "🔓 Habilitação Provisória"),
    ("invoices", "🧾 Faturas"),
    ("fiscal_notes", "📄 Nota Fiscal"),
    ("contacts", "📇 Contatos"),
    ("calls", "📞 Extrato de Ligação"),
    ("connections", "🌐 Extrato de Conexão"),
    ("statement", "💰 Extrato Financeiro"),
    ("due_day", "📅 Alterar Vencimento"),
    ("tickets", "🛠 Atendimentos"),
    ("password", "🔑 Alterar Senha"),
    ("notifications", "🔔 Notificações"),
    ("no_internet", "📶 Estou sem internet"),
)
MENU_LOGOUT = "🚪 Sair"
MENU_LABELS = dict(MENU_ITEMS)
BUTTON_MENU = "⬅️ Menu"
BUTTON_BACK = "⬅️ Voltar"
# The period step of the statement-like flows, and a statement as a file (issue 21).
BUTTON_OTHER_PERIOD = "🗓 Outro período"
BUTTON_EXPORT_PDF = "📄 Baixar PDF"
BUTTON_EXPORT_CSV = "📊 Baixar planilha (CSV)"
BUTTON_LOGIN = "🔐 Entrar"
BUTTON_OTHER_DOCUMENT = "🔁 Usar outro CPF/CNPJ"

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Começar / entrar na sua central"),
    ("menu", "Mostrar o menu"),
    ("ajuda", "Como usar o bot"),
    ("cancelar", "Cancelar o que está em andamento"),
    ("sair", "Sair da sua conta"),
    ("notificacoes", "Avisos neste chat: ver e escolher"),
    ("parar", "Parar de receber avisos neste chat"),
)


def is_company(document: str) -> bool:
    """A CNPJ (14 characters) rather than a CPF (11 digits)."""
    return len(document) == 14


def menu_title(name: str, document: str = "") -> str:
    """A person by the first name; a company (CNPJ) by its whole name, not "olá, Silva!"."""
    words = name.split()
    called = name.strip() if is_company(document) or not words else words[0]
    return f"📋 <b>Menu</b> — olá, {esc(called)}! O que você precisa?"


# --- login ---------------------------------------------------------------------------------
WELCOME = (
    "👋 Olá! Eu sou a <b>Minha Central</b>, o atendimento automático do seu provedor.\n\n"
    "Por aqui você vê faturas, 2ª via do boleto, PIX, notas fiscais, atendimentos e muito mais."
)
ASK_DOCUMENT = "Para entrar, envie o <b>CPF ou CNPJ</b> do titular (com ou sem pontuação)."
INVALID_DOCUMENT = (
    "Esse CPF/CNPJ não é válido. Confira os números e envie de novo.\n"
    "Exemplos: <code>529.982.247-25</code> ou <code>11.222.333/0001-81</code>."
)
ASK_PASSWORD = (
    "Agora envie a sua <b>senha da Central do Assinante</b>.\n"
    "🔒 Vou apagar a mensagem com a senha assim que ler."
)
PASSWORD_NOT_DELETED = (
    "⚠️ Não consegui apagar a mensagem com a sua senha. Por segurança, apague-a você mesmo."
)
INVALID_CREDENTIALS = "Usuário ou senha inválida."
TRY_PASSWORD_AGAIN = "Envie a senha de novo ou use outro CPF/CNPJ."
EXPECTING_TEXT = "Envie o dado por escrito, numa mensagem de texto."
LOGIN_CANCELLED = "Tudo bem, cancelei a entrada. Quando quiser, toque em Entrar."
# The lockout could not read or record the attempt (the bot's database busy): nothing checked.
LOGIN_CHECK_UNAVAILABLE = "⏳ Não consegui conferir o acesso agora. Tente de novo em instantes."


def locked_out(until: datetime) -> str:
    return (
        "🚫 Muitas tentativas sem sucesso. Por segurança, o acesso fica bloqueado "
        f"até <b>{clock(until)}</b> de {day(until.date())} (horário de Brasília). "
        "Tente de novo depois desse horário."
    )


def logged_in(name: str) -> str:
    return f"✅ Pronto, {esc(name)}! Você entrou na sua central."


# --- session -------------------------------------------------------------------------------
SESSION_EXPIRED = (
    "⏰ Sua sessão expirou por inatividade. Para continuar, entre de novo com CPF/CNPJ e senha."
)
NEED_LOGIN = "Para usar esta opção, entre primeiro com o seu CPF/CNPJ e senha."
LOGGED_OUT = "👋 Você saiu da sua conta. Até logo! Quando quiser voltar, toque em Entrar."
NOT_LOGGED_IN = "Você não está conectado. Toque em Entrar para acessar sua central."

# --- general -------------------------------------------------------------------------------
HELP = (
    "ℹ️ <b>Como usar</b>\n\n"
    "Entre com o CPF/CNPJ do titular e a senha da Central do Assinante e escolha uma opção "
    "do menu. Comandos:\n"
    "/start — começar ou voltar ao início\n"
    "/menu — mostrar o menu\n"
    "/cancelar — cancelar o que está em andamento\n"
    "/sair — sair da sua conta\n"
    "/notificacoes — escolher os avisos que chegam neste chat\n"
    "/parar — parar de receber avisos neste chat\n"
    "/ajuda — esta mensagem\n\n"
    "Sua senha nunca fica guardada aqui: a mensagem com ela é apagada assim que eu leio."
)
CANCELLED = "Tudo bem, cancelei. O que mais você precisa?"
NOTHING_TO_CANCEL = "Não há nada em andamento para cancelar."
UNKNOWN_COMMAND = "Não conheço esse comando. Veja as opções em /menu ou peça /ajuda."
NOT_UNDERSTOOD = "Não entendi. Escolha uma opção do menu:"
BUTTON_EXPIRED = "Este botão não está mais disponível."
USE_BUTTONS = "Para esta etapa, toque em um dos botões abaixo."
# A staff command or button pressed by anyone else (bot.handlers.access.refuse).
STAFF_ONLY = "🔒 Este comando é só para a equipe do provedor."
PRIVATE_ONLY = "Por segurança, eu só atendo em conversa privada. Fale comigo no privado."
FLOW_TIMED_OUT = "⏰ Encerrei esta etapa por falta de resposta. Quando quiser, é só abrir o /menu."

# --- errors --------------------------------------------------------------------------------
BACKEND_UNAVAILABLE = (
    "😕 Desculpe, o sistema do provedor não respondeu agora. Tente de novo em alguns minutos."
)
UNEXPECTED_ERROR = (
    "😕 Desculpe, algo deu errado do nosso lado e o problema já foi registrado. "
    "Tente de novo pelo menu."
)
NOT_FOUND = "Não encontrei esse item na sua conta. Ele pode ter sido removido."
NOT_SUPPORTED = (
    "Esta opção não está disponível no sistema do seu provedor. "
    "Para isso, fale com o atendimento do provedor."
)

# --- Minha Conta (seed 1.2.1.1.1) --------------------------------------------------------------
ACCOUNT_TITLE = "👤 <b>Minha Conta</b>"
ACCOUNT_PLANS_TITLE = "📶 <b>Planos contratados</b>"
PLAN_DETAILS_TITLE = "🔎 <b>Detalhes do Plano</b>"
BUTTON_PLAN_DETAILS = "🔎 Detalhes do Plano"
BUTTON_ACCOUNT = "👤 Minha Conta"
NO_CONTRACTS = "Nenhum plano contratado encontrado."
NO_LOGINS = "Nenhum login de acesso cadastrado neste contrato."
NOT_INFORMED = "não informado"
IP_DYNAMIC = "dinâmico (atribuído na conexão)"
ONLINE = "🟢 conectado agora"
OFFLINE = "⚪ desconectado"

CONTRACT_STATUS = {
    ContractStatus.ACTIVE: "🟢 Ativo",
    ContractStatus.SUSPENDED: "🔴 Suspenso",
    ContractStatus.TEMPORARILY_ENABLED: "🟡 Habilitado provisoriamente",
    ContractStatus.CANCELLED: "⚫ Cancelado",
}

# --- period picker (every statement) ---------------------------------------------------------
PERIOD_LABELS = {
    "this_month": "📅 Este mês",
    "last_month": "📅 Mês passado",
    "3m": "3 meses",
    "6m": "6 meses",
    "12m": "12 meses",
    "custom": "✍️ Outro período",
}
PERIOD_FORMS = (
    "Envie o mês como <code>mm/aaaa</code> (ex.: <code>10/2026</code>) ou um intervalo como "
    "<code>dd/mm/aaaa a dd/mm/aaaa</code> (ex.: <code>01/09/2026 a 30/11/2026</code>)."
)
ASK_PERIOD = "✍️ Qual período? " + PERIOD_FORMS
PERIOD_INVALID = "Não entendi esse período. " + PERIOD_FORMS
PERIOD_INVERTED = "A data final vem antes da inicial. " + PERIOD_FORMS
PERIOD_TOO_LONG = "Esse período é longo demais (máximo de 400 dias). " + PERIOD_FORMS
