"""Minha Conta (seed 1.2.1.1.1) and Detalhes do Plano (1.2.1.1.1.1)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from backend_client.models import Address, BackendSession, Contract, Subscriber
from bot.handlers.guards import Context, requires_login
from bot.services.context import services
from bot.ui import keyboards, texts
from bot.ui.formatting import day, document, esc, money, phone
from bot.ui.screens import show


def _address(address: Address) -> str:
    street = ", ".join(part for part in (address.street, address.number) if part)
    if address.complement:
        street += f" ({address.complement})"
    cep = address.postal_code
    cep = f"{cep[:5]}-{cep[5:]}" if len(cep) == 8 else cep
    return f"{street} — {address.neighbourhood}, {address.city}/{address.state} — CEP {cep}"


def _contract_line(contract: Contract) -> str:
    plan = contract.plan
    line = (
        f"• <b>{esc(plan.name)}</b> ({plan.download_mbps}/{plan.upload_mbps} Mbps)"
        f" — {money(plan.monthly_price)}/mês\n"
        f"  Contrato {esc(contract.number)} · {texts.CONTRACT_STATUS[contract.status]}"
        f" · vencimento dia {contract.due_day}"
    )
    if contract.temporarily_enabled_until is not None:
        line += f"\n  Habilitado provisoriamente até {day(contract.temporarily_enabled_until)}"
    return line


def account_text(subscriber: Subscriber) -> str:
    kind = "CPF" if len(subscriber.document) == 11 else "CNPJ"
    phones = ", ".join(phone(number) for number in subscriber.phones) or texts.NOT_INFORMED
    lines = [
        texts.ACCOUNT_TITLE,
        "",
        f"<b>Nome:</b> {esc(subscriber.name)}",
        f"<b>{kind}:</b> {esc(document(subscriber.document))}",
        f"<b>Endereço:</b> {esc(_address(subscriber.address))}",
        f"<b>E-mail:</b> {esc(subscriber.email or texts.NOT_INFORMED)}",
        f"<b>Telefones:</b> {esc(phones)}",
        "",
        texts.ACCOUNT_PLANS_TITLE,
    ]
    lines += [_contract_line(c) for c in subscriber.contracts] or [texts.NO_CONTRACTS]
    return "\n".join(lines)


def plan_details_text(subscriber: Subscriber) -> str:
    lines = [texts.PLAN_DETAILS_TITLE]
    for contract in subscriber.contracts:
        lines += ["", f"<b>{esc(contract.plan.name)}</b> — contrato {esc(contract.number)}"]
        lines.append(f"Instalação: {esc(_address(contract.address))}")
        if not contract.logins:
            lines.append(texts.NO_LOGINS)
        for login in contract.logins:
            ip = f"<code>{esc(login.ip_address)}</code>" if login.ip_address else texts.IP_DYNAMIC
            lines.append(f"Login ({esc(login.kind.upper())}): <code>{esc(login.login)}</code>")
            lines.append(f"IP: {ip}")
            lines.append(f"Situação: {texts.ONLINE if login.online else texts.OFFLINE}")
    if not subscriber.contracts:
        lines += ["", texts.NO_CONTRACTS]
    return "\n".join(lines)


@requires_login
async def show_account(update: Update, context: Context, session: BackendSession) -> None:
    subscriber = await services(context).backend.get_subscriber(session)
    await show(update, account_text(subscriber), keyboards.account())


@requires_login
async def show_plan_details(update: Update, context: Context, session: BackendSession) -> None:
    subscriber = await services(context).backend.get_subscriber(session)
    await show(update, plan_details_text(subscriber), keyboards.plan_details())


def handlers() -> list[CallbackQueryHandler]:  # type: ignore[type-arg]
    return [
        CallbackQueryHandler(show_account, pattern=r"^menu:account$"),
        CallbackQueryHandler(show_plan_details, pattern=r"^account:plans$"),
    ]
