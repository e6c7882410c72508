"""Minha Conta (seed 1.2.1.1.1) and Detalhes do Plano (1.2.1.1.1.1)."""

from __future__ import annotations

from backend_client.models import Address, Contract, Subscriber
from bot.ui.formatting import day, document, esc, money, phone
from bot.ui.texts import (
    ACCOUNT_PLANS_TITLE,
    ACCOUNT_TITLE,
    CONTRACT_STATUS,
    IP_DYNAMIC,
    NO_CONTRACTS,
    NO_LOGINS,
    NOT_INFORMED,
    OFFLINE,
    ONLINE,
    PLAN_DETAILS_TITLE,
)


def _address(address: Address) -> str:
    """The parts the system gave, e.g. ``Rua X, 12 (Apto 5) — Centro, Campinas/SP — CEP …``;
    a real system may leave any of them out."""
    street = ", ".join(part for part in (address.street, address.number) if part)
    if street and address.complement:
        street += f" ({address.complement})"
    place = "/".join(part for part in (address.city, address.state) if part)
    area = ", ".join(part for part in (address.neighbourhood, place) if part)
    cep = address.postal_code
    cep = f"CEP {cep[:5]}-{cep[5:]}" if len(cep) == 8 else (f"CEP {cep}" if cep else "")
    return " — ".join(part for part in (street, area, cep) if part)


# Access login kinds as spelled in the trade: "PPPoE", never "PPPOE" (issue 21).
_LOGIN_KINDS = {"pppoe": "PPPoE", "hotspot": "Hotspot", "ipoe": "IPoE", "dhcp": "DHCP"}


def _speeds(download: int, upload: int) -> str:
    if download and upload:
        return f" ({download}/{upload} Mbps)"
    return f" ({download} Mbps)" if download else ""


def _contract_line(contract: Contract) -> str:
    plan = contract.plan
    price = f" — {money(plan.monthly_price)}/mês" if plan.monthly_price is not None else ""
    due = f" · vencimento dia {contract.due_day}" if contract.due_day else ""
    line = (
        f"• <b>{esc(plan.name)}</b>{_speeds(plan.download_mbps, plan.upload_mbps)}{price}\n"
        f"  Contrato {esc(contract.number)} · {CONTRACT_STATUS[contract.status]}{due}"
    )
    if contract.temporarily_enabled_until is not None:
        line += f"\n  Habilitado provisoriamente até {day(contract.temporarily_enabled_until)}"
    return line


def account_text(subscriber: Subscriber) -> str:
    kind = "CPF" if len(subscriber.document) == 11 else "CNPJ"
    phones = ", ".join(phone(number) for number in subscriber.phones) or NOT_INFORMED
    lines = [
        ACCOUNT_TITLE,
        "",
        f"<b>{'Razão social' if kind == 'CNPJ' else 'Nome'}:</b> {esc(subscriber.name)}",
        f"<b>{kind}:</b> {esc(document(subscriber.document))}",
        f"<b>Endereço:</b> {esc(_address(subscriber.address) or NOT_INFORMED)}",
        f"<b>E-mail:</b> {esc(subscriber.email or NOT_INFORMED)}",
        f"<b>Telefones:</b> {esc(phones)}",
        "",
        ACCOUNT_PLANS_TITLE,
    ]
    lines += [_contract_line(c) for c in subscriber.contracts] or [NO_CONTRACTS]
    return "\n".join(lines)


def plan_details_text(subscriber: Subscriber) -> str:
    lines = [PLAN_DETAILS_TITLE]
    for contract in subscriber.contracts:
        lines += ["", f"<b>{esc(contract.plan.name)}</b> — contrato {esc(contract.number)}"]
        lines.append(f"Instalação: {esc(_address(contract.address) or NOT_INFORMED)}")
        if not contract.logins:
            lines.append(NO_LOGINS)
        for login in contract.logins:
            ip = f"<code>{esc(login.ip_address)}</code>" if login.ip_address else IP_DYNAMIC
            kind = _LOGIN_KINDS.get(login.kind.lower(), login.kind)
            lines.append(f"Login ({esc(kind)}): <code>{esc(login.login)}</code>")
            lines.append(f"IP: {ip}")
            lines.append(f"Situação: {ONLINE if login.online else OFFLINE}")
    if not subscriber.contracts:
        lines += ["", NO_CONTRACTS]
    return "\n".join(lines)
