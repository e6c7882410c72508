"""Texts of linking a chat (Vincular contato) and of the notifications it receives."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from backend_client.formats.boleto import format_linha_digitavel
from bot.ui.formatting import day, esc, money
from bot.ui.texts import invoices as invoice_texts

# Preference groups a chat can mute, in display order.
GROUPS: tuple[tuple[str, str], ...] = (
    ("invoices", "🧾 Lembretes de fatura"),
    ("payments", "✅ Pagamento confirmado"),
    ("enabling", "🔓 Fim da habilitação provisória"),
    ("tickets", "🛠 Respostas de atendimento"),
    ("fiscal_notes", "📄 Nova nota fiscal"),
)
GROUP_LABELS = dict(GROUPS)

# --- linking -------------------------------------------------------------------------------
LINK_OFFER = (
    "🔔 <b>Receber avisos neste chat?</b>\n\n"
    "Vincule este chat a um contato da sua conta para receber aqui lembretes de fatura, "
    "confirmação de pagamento e respostas de atendimento. Escolha o contato:"
)
LINK_NO_CONTACTS = (
    "🔔 <b>Receber avisos neste chat?</b>\n\n"
    "Sua conta ainda não tem contatos cadastrados. Cadastre um para vincular este chat."
)
LINK_NO_CONTACTS_CANNOT_ADD = (
    "🔔 <b>Receber avisos neste chat?</b>\n\n"
    "Sua conta ainda não tem contatos cadastrados. Para cadastrar um, fale com o atendimento do "
    "provedor; depois, vincule este chat em 🔔 Notificações, no menu."
)
LINK_OFFER_REPLACING = (
    "🔔 <b>Receber seus avisos neste chat?</b>\n\n"
    "Este chat hoje recebe os avisos de <b>outra conta</b>. Se você vinculá-lo a um contato "
    "seu, ele deixa de receber os avisos da outra conta e passa a receber os seus. "
    "Escolha o contato:"
)
SETTINGS_OTHER_ACCOUNT = (
    "🔔 <b>Notificações</b>\n\n"
    "Este chat está vinculado a <b>outra conta</b> e recebe os avisos dela. Você só pode "
    "ver e alterar os vínculos dos seus próprios contatos.\n"
    "Para receber aqui os seus avisos, vincule este chat à sua conta:"
)
PARAR_OTHER_ACCOUNT = (
    "Este chat está vinculado a outra conta, e você só pode desvincular os seus próprios "
    "contatos: nada foi alterado. Para receber aqui os seus avisos (no lugar dos da outra "
    "conta), vincule este chat à sua conta."
)
NOT_YOUR_LINK_ALERT = "Este chat está vinculado a outra conta; nada foi alterado."
BUTTON_LINK_TO_ME = "🔗 Vincular este chat à minha conta"
BUTTON_REPLACE = "✅ Sim, vincular à minha conta"
BUTTON_KEEP = "Cancelar"
BUTTON_NEW_CONTACT = "➕ Cadastrar novo contato"
BUTTON_NOT_NOW = "Agora não"
BUTTON_LINK = "🔗 Vincular este chat"
BUTTON_UNLINK = "🔕 Desvincular este chat"
LINKED = "✅ Cadastro vinculado com sucesso"
NOT_NOW = "Tudo bem. Você pode vincular depois em 🔔 Notificações, no menu."
UNLINKED = "🔕 Pronto: este chat não recebe mais avisos. Para voltar a receber, use /notificacoes."
NOT_LINKED = "Este chat não está vinculado, então não recebe avisos."
PARAR_NEEDS_NOTHING = "Este chat não está vinculado a nenhum contato; não há avisos para parar."


def link_contact_label(name: str, type_name: str) -> str:
    label = f"👤 {name} ({type_name})"
    return label if len(label) <= 60 else label[:57] + "…"


def confirm_replace(contact_name: str) -> str:
    return (
        "🔔 <b>Substituir o vínculo deste chat?</b>\n\n"
        "Este chat passará a receber os avisos da sua conta, no contato "
        f"<b>{esc(contact_name)}</b>, e deixará de receber os avisos da outra conta à qual "
        "está vinculado hoje.\n\n"
        "Confirma?"
    )


def settings_title(contact_name: str | None, active: bool) -> str:
    if contact_name is None:
        return "🔔 <b>Notificações</b>\n\n" + NOT_LINKED
    status = "" if active else "\n⚠️ Os avisos estão pausados porque o bot foi bloqueado."
    return (
        "🔔 <b>Notificações</b>\n\n"
        f"Este chat está vinculado ao contato <b>{esc(contact_name)}</b>.{status}\n"
        "Toque num tipo de aviso para ligar ou desligar:"
    )


def toggle_label(group: str, enabled: bool) -> str:
    """The group's name behind its state (its own emoji dropped: never "✅ ✅ Pagamento")."""
    name = GROUP_LABELS[group].split(" ", 1)[1]
    return f"{'✅' if enabled else '🚫'} {name}"


# --- notifications (payloads are JSON: dates ISO, money as strings) --------------------------
def _money(value: str) -> str:
    return money(Decimal(value))


def _day(value: str) -> str:
    return day(date.fromisoformat(value))


def invoice_reminder(kind: str, payload: dict[str, Any]) -> str:
    reference = esc(payload["reference"])
    due = _day(payload["due_date"])
    if kind == "invoice_due_soon":
        days = int(payload["days"])
        when = "amanhã" if days == 1 else f"em {days} dias"
        head = f"🧾 Sua fatura de {reference} vence <b>{when}</b>, em {due}."
    elif kind == "invoice_due_today":
        head = f"🧾 Sua fatura de {reference} vence <b>hoje</b> ({due})."
    else:
        days = int(payload["days"])
        unit = "dia" if days == 1 else "dias"
        head = (
            f"⚠️ Sua fatura de {reference}, vencida em {due}, está em aberto há {days} {unit}. "
            "Pague para evitar a suspensão do serviço."
        )
    lines = [head, "", f"Valor: <b>{_money(payload['amount'])}</b>"]
    if payload.get("updated_amount") and payload["updated_amount"] != payload["amount"]:
        lines.append(f"Valor atualizado (PIX): <b>{_money(payload['updated_amount'])}</b>")
    others = payload.get("others")
    if others:
        count = int(others["count"])
        invoices = "outra fatura vencida" if count == 1 else f"outras {count} faturas vencidas"
        lines += [
            "",
            f"⚠️ Você tem também {invoices} em aberto, {_money(others['total'])} no total. "
            "Com faturas vencidas o serviço pode ser suspenso, e só volta com todas pagas: "
            "veja todas no botão abaixo.",
        ]
    return "\n".join(lines)


def reminder_codes(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """The reminder's codes to copy, each with the label that goes right above it (the same
    as on Faturas' "Ver boleto" screen): ``(label, code message)``."""
    codes = []
    if payload.get("linha"):
        try:
            linha = format_linha_digitavel(payload["linha"])
        except ValueError:  # not 47 digits: shown as the system sent it, never dropped
            linha = payload["linha"]
        codes.append((invoice_texts.LINHA_LABEL, copy_value(linha)))
    if payload.get("pix"):
        amount = Decimal(payload.get("updated_amount") or payload["amount"])
        label = invoice_texts.pix_label_for(amount, updated=amount != Decimal(payload["amount"]))
        codes.append((label, copy_value(payload["pix"])))
    return codes


BUTTON_SEE_BOLETO = "🧾 Ver boleto"
BUTTON_BOLETO_PDF = "📄 Boleto em PDF"
BUTTON_ALL_INVOICES = "🧾 Ver todas as faturas em aberto"


def copy_value(value: str) -> str:
    return invoice_texts.code(value)


def payment_confirmed(payload: dict[str, Any]) -> str:
    return (
        f"✅ Recebemos o pagamento da sua fatura de {esc(payload['reference'])}: "
        f"{_money(payload['paid_amount'])} em {_day(payload['paid_on'])}. Obrigado!"
    )


def enabling_ending(payload: dict[str, Any]) -> str:
    return (
        f"⏳ A habilitação provisória do contrato {esc(payload['contract_number'])} termina "
        f"amanhã ({_day(payload['until'])}). Para não ter o serviço suspenso de novo, pague as "
        "faturas em aberto (veja em 🧾 Faturas)."
    )


def ticket_event(kind: str, payload: dict[str, Any]) -> str:
    protocol = esc(payload["protocol"])
    subject = esc(payload["subject"])
    if kind == "ticket_closed":
        head = f"🛠 Seu atendimento {protocol} ({subject}) foi <b>encerrado</b>."
    else:
        head = f"🛠 Seu atendimento {protocol} ({subject}) recebeu uma <b>resposta</b>."
    text = str(payload.get("text") or "").strip()
    if text:
        quoted = text if len(text) <= 600 else text[:597] + "…"
        head += f"\n\n<blockquote>{esc(quoted)}</blockquote>"
    return head + "\n\nVeja os detalhes em 🛠 Atendimentos."


def fiscal_note(payload: dict[str, Any]) -> str:
    return (
        f"📄 Nova nota fiscal emitida: {esc(payload['model'])} nº {esc(payload['number'])}, "
        f"de {_day(payload['issued_on'])}, no valor de {_money(payload['amount'])}. "
        "Baixe o PDF em 📄 Nota Fiscal."
    )
