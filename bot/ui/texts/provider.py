"""Texts that carry the provider's own configuration (issue 20, ``bot.provider``): its name in the
welcome and the menu, its contacts ("📞 Fale com a gente", /ajuda), the password help, the
support phone after an apology, the bot's profile descriptions.

Without a provider file every function gives today's text exactly (the name is ``None``).
Values from the file are escaped here; ``password_help`` and ``[texts]`` overrides are already
Telegram HTML (checked when the file is read).
"""

from __future__ import annotations

from bot.provider.config import Provider, ProviderConfig
from bot.ui import texts
from bot.ui.formatting import esc

MENU_CONTACT = "📞 Fale com a gente"
BUTTON_FORGOT_PASSWORD = "🤔 Esqueci minha senha"
# Bot API setMyDescription: "New bot description; 0-512 characters", setMyShortDescription:
# "0-120 characters" (https://core.telegram.org/bots/api#setmydescription; PTB's
# telegram.constants.BotDescriptionLimit has the same 512 and 120).
DESCRIPTION_LIMIT = 512
SHORT_DESCRIPTION_LIMIT = 120


def welcome(config: ProviderConfig) -> str:
    """The /start greeting before the login: ``[texts] welcome``, or the provider's name."""
    name = config.provider.name
    if name is None:
        return config.text("welcome", texts.WELCOME)
    default = (
        f"👋 Olá! Esta é a <b>Central do Assinante {esc(name)}</b>, o atendimento automático "
        "pelo Telegram.\n\n"
        "Por aqui você vê faturas, 2ª via do boleto, PIX, notas fiscais, atendimentos e muito mais."
    )
    return config.text("welcome", default)


def menu_title(subscriber_name: str, config: ProviderConfig, document: str = "") -> str:
    """The menu's heading: today's, with the provider's name when there is one."""
    title = texts.menu_title(subscriber_name, document)
    name = config.provider.name
    if name is None:
        return title
    return title.replace("📋 <b>Menu</b>", f"📋 <b>Menu {esc(name)}</b>", 1)


def contacts(provider: Provider) -> str:
    """The provider's channels, one a line; empty when the file gives none."""
    lines: list[str] = []
    if provider.support_phone:
        lines.append(f"☎️ Telefone: {esc(provider.support_phone)}")
    if provider.support_whatsapp:
        link = provider.whatsapp_link
        lines.append(f'💬 WhatsApp: <a href="{link}">{esc(provider.support_whatsapp)}</a>')
    if provider.support_email:
        lines.append(f"✉️ E-mail: {esc(provider.support_email)}")
    if provider.website:
        website = esc(provider.website).replace('"', "&quot;")
        lines.append(f'🌐 Site: <a href="{website}">{esc(provider.website)}</a>')
    if provider.support_hours:
        lines.append(f"🕘 Horário de atendimento: {esc(provider.support_hours)}")
    return "\n".join(lines)


def contact_card(provider: Provider) -> str:
    """The "📞 Fale com a gente" screen."""
    heading = "📞 <b>Fale com a gente</b>"
    if provider.name:
        heading += f" — {esc(provider.name)}"
    return f"{heading}\n\n{contacts(provider)}"


def help_text(config: ProviderConfig) -> str:
    """/ajuda: the catalogue's help (or ``[texts] help``), then the provider's contacts."""
    body = config.text("help", texts.HELP)
    channels = contacts(config.provider)
    if not channels:
        return body
    return f"{body}\n\n📞 <b>Fale com a gente</b>\n{channels}"


def offers_password_help(provider: Provider) -> bool:
    """Whether the password step shows "Esqueci minha senha" (not without a provider file)."""
    return provider.password_help is not None or provider.has_contacts


def password_help(provider: Provider) -> str:
    """The answer to "Esqueci minha senha": ``password_help``, or the provider's contacts."""
    if provider.password_help is not None:
        return f"🔑 {provider.password_help}"
    return (
        "🔑 A senha da Central do Assinante é criada e recuperada pelo provedor. "
        f"Fale com a gente:\n\n{contacts(provider)}"
    )


def backend_unavailable(provider: Provider) -> str:
    """The apology for a system that did not answer, ending with the support phone."""
    if not provider.support_phone:
        return texts.BACKEND_UNAVAILABLE
    return f"{texts.BACKEND_UNAVAILABLE} Se for urgente, ligue para {esc(provider.support_phone)}."


def description(provider: Provider) -> str | None:
    """setMyDescription (the empty chat's "What can this bot do?"), plain text; None without
    a name (the description BotFather set stays)."""
    if provider.name is None:
        return None
    text = (
        f"Central do Assinante {provider.name} no Telegram: faturas, 2ª via do boleto, PIX, "
        "notas fiscais, atendimentos e muito mais. Entre com o CPF/CNPJ do titular e a senha "
        "da Central do Assinante."
    )
    if provider.support_phone:
        text += f" Atendimento humano: {provider.support_phone}."
    return text[:DESCRIPTION_LIMIT]


def short_description(provider: Provider) -> str | None:
    """setMyShortDescription (the bot's profile page and shared links), plain text."""
    if provider.name is None:
        return None
    text = f"Central do Assinante {provider.name}: faturas, 2ª via, PIX e atendimentos."
    if len(text) > SHORT_DESCRIPTION_LIMIT:
        text = f"Central do Assinante {provider.name}"
    return text[:SHORT_DESCRIPTION_LIMIT]
