"""IXC rows -> models: pure functions, no I/O (the calls are in backend_client.ixc.backend).

Each function reads rows of IXC's tables (``cliente_contrato``, ``fn_areceber``, ``vd_saida``,
``su_ticket``, ``su_mensagens``, ``radacct``, ``cdr``) or an action's answer (``get_boleto``,
``get_pix``) as :class:`~backend_client.kit.shape.Record`; a field the bot only shows that is odd
is warned about once and left out, never fails the screen.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from backend_client.formats.boleto import is_valid_linha_digitavel, parse_linha_digitavel
from backend_client.formats.phones import brazilian_e164
from backend_client.formats.pix import brcode_amount, is_valid_brcode
from backend_client.ixc.query import SYSTEM
from backend_client.kit.shape import SAO_PAULO, Record, warn_once
from backend_client.models import (
    AccessLogin,
    Address,
    ConnectionSession,
    Contract,
    ContractStatus,
    DateRange,
    FiscalNote,
    Invoice,
    InvoiceStatus,
    Plan,
    TemporaryEnablingPolicy,
    TerminalType,
    Ticket,
    TicketAuthor,
    TicketMessage,
    TicketStatus,
)
from backend_client.provider import fold

# fn_areceber.status: A aberto, R recebido, P parcial, C cancelado.
INVOICE_STATUS = {
    "A": InvoiceStatus.OPEN,
    "P": InvoiceStatus.OPEN,
    "R": InvoiceStatus.PAID,
    "C": InvoiceStatus.CANCELLED,
}
# cliente_contrato.status: A ativo, P pré-contrato, N negativado, I inativo, D desistiu.
CONTRACT_STATUS = {"A": True, "P": True, "N": True, "I": False, "D": False, "": True}
# cliente_contrato.status_internet: A ativo, D desativado, CM/CA bloqueio manual/automático,
# CE, FA financeiro em atraso, AA aguardando assinatura.
INTERNET_STATUS = {
    "A": ContractStatus.ACTIVE,
    "AA": ContractStatus.ACTIVE,
    "D": ContractStatus.CANCELLED,
    "CM": ContractStatus.SUSPENDED,
    "CA": ContractStatus.SUSPENDED,
    "CE": ContractStatus.SUSPENDED,
    "FA": ContractStatus.SUSPENDED,
    "": ContractStatus.ACTIVE,
}
TERMINAL_TYPES = (
    TerminalType("local", "Local fixo"),
    TerminalType("mobile", "Móvel"),
    TerminalType("ddd", "Longa distância (DDD)"),
    TerminalType("ddi", "Internacional (DDI)"),
    TerminalType("0800", "0800"),
    TerminalType("outro", "Outras"),
)
# cdr.tp_chamada: the values are not public; installations show words such as "DDD MÓVEL" or
# "LOCAL FIXO". Read by folded words, in this order (so "DDD MÓVEL" is a mobile call).
CALL_WORDS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"MOVEL", "CELULAR", "VC", "VC1", "VC2", "VC3"}), "mobile"),
    (frozenset({"DDI", "LDI", "INTERNACIONAL"}), "ddi"),
    (frozenset({"DDD", "LDN", "INTERURBANO", "INTERURBANA"}), "ddd"),
    (frozenset({"0800"}), "0800"),
    (frozenset({"LOCAL", "FIXO", "LF"}), "local"),
)
CALL_LETTERS = {"L": "local", "M": "mobile", "D": "ddd", "I": "ddi"}  # one-letter codes
PHONE_FIELDS = ("telefone_celular", "whatsapp", "fone", "telefone_comercial")


def digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


def _folded_words(text: str) -> list[str]:
    return re.findall(r"[A-Z0-9]+", fold(text).upper())


def call_kind(tp_chamada: str | None) -> str:
    """The terminal type of a ``cdr.tp_chamada`` ("DDD MÓVEL" → mobile, "LOCAL FIXO" → local)."""
    words = set(_folded_words(tp_chamada or ""))
    for vocabulary, kind in CALL_WORDS:
        if words & vocabulary:
            return kind
    return CALL_LETTERS.get((tp_chamada or "").strip().upper(), "outro")


def area_code(e164: str | None) -> str | None:
    """The DDD of a Brazilian E.164 number (``5519…`` → ``19``)."""
    if e164 and e164.startswith("55") and len(e164) in (12, 13):
        return e164[2:4]
    return None


def day_text(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def speed_mbps(plan_name: str) -> int:
    match = re.search(r"(\d+)\s*(giga|gb|g\b|mega|mb|m\b)", plan_name, re.IGNORECASE)
    if match is None:
        return 0
    value = int(match.group(1))
    return value * 1000 if match.group(2).lower().startswith("g") else value


def linha_digitavel(record: Record, key: str) -> str | None:
    """A linha digitável (47 digits, checked), or None (one warning when it is not valid)."""
    linha = digits(record.shown(record.opt_text, key)) or None
    if linha is not None and not is_valid_linha_digitavel(linha):
        warn_once(SYSTEM, f"{record.where}.{key}", "is not a valid linha digitável")
        return None
    return linha


def phones(cliente: Record) -> list[str]:
    """The subscriber's phones as E.164 digits; one stored without its DDD takes the DDD of the
    others. What is no phone number is left out (one warning per field)."""
    stored = {field: cliente.shown(cliente.opt_text, field) for field in PHONE_FIELDS}
    found = {field: brazilian_e164(raw) for field, raw in stored.items() if raw}
    area = next((a for a in map(area_code, found.values()) if a), None)
    numbers = []
    for field, number in found.items():
        if number is None and area is not None:
            number = brazilian_e164(stored[field] or "", area)
        if number is None:
            warn_once(SYSTEM, f"cliente.{field}", "is not a phone number")
        else:
            numbers.append(number)
    return numbers


# --- account ------------------------------------------------------------------------------------
def address(record: Record, city: str, state: str) -> Address:
    """The address of a ``cliente`` or ``cliente_contrato`` row; ``city``/``state`` are the names
    of its ``cidade`` id (looked up by the caller)."""
    return Address(
        street=record.opt_text("endereco") or "",
        number=record.opt_text("numero") or "",
        complement=record.opt_text("complemento") or "",
        neighbourhood=record.opt_text("bairro") or "",
        city=city,
        state=state,
        postal_code=digits(record.opt_text("cep")),
    )


def contract_status(contract: Record, enabling_days: int) -> tuple[ContractStatus, date | None]:
    """A contract's status, and until when a temporary enabling (``desbloqueio de confiança``)
    that is in force lasts."""
    if not contract.choice("status", CONTRACT_STATUS):
        return ContractStatus.CANCELLED, None
    if (contract.opt_text("desbloqueio_confianca_ativo") or "N").upper() == "S":
        last = contract.opt_day("dt_ult_des_bloq_conf")
        until = last + timedelta(days=enabling_days) if last else None
        return ContractStatus.TEMPORARILY_ENABLED, until
    return contract.choice("status_internet", INTERNET_STATUS), None


def plan(contract: Record, contract_id: str, monthly_price: Decimal | None) -> Plan:
    name = contract.opt_text("contrato") or f"Contrato {contract_id}"
    return Plan(
        id=contract.opt_ident("id_vd_contrato") or contract_id,
        name=name,
        download_mbps=speed_mbps(name),
        upload_mbps=0,
        monthly_price=monthly_price,
    )


def access_logins(logins: Sequence[Record], contract_id: str) -> tuple[AccessLogin, ...]:
    """The ``radusuarios`` rows of one contract."""
    return tuple(
        AccessLogin(
            id=login.ident("id"),
            contract_id=contract_id,
            login=login.text("login"),
            ip_address=login.opt_text("ip"),
            online=(login.opt_text("online") or "N").upper() in ("S", "SS"),
        )
        for login in logins
        if login.opt_ident("id_contrato") == contract_id
    )


def contract(
    record: Record,
    plan: Plan,
    status: tuple[ContractStatus, date | None],
    address: Address,
    due_day: int,
    logins: Sequence[Record],
) -> Contract:
    contract_id = record.ident("id")
    return Contract(
        id=contract_id,
        number=contract_id,
        plan=plan,
        status=status[0],
        address=address,
        due_day=due_day,
        started_on=record.opt_day("data_ativacao") or record.opt_day("data") or date.min,
        logins=access_logins(logins, contract_id),
        temporarily_enabled_until=status[1],
    )


def enabling_policy(
    contract: Record, today: date, days: int, interval_days: int
) -> TemporaryEnablingPolicy:
    """Whether a contract may ask for a temporary enabling today (``days`` long, once every
    ``interval_days``), and why not."""
    status, until = contract_status(contract, days)
    last = contract.opt_day("dt_ult_des_bloq_conf")
    reason: str | None = None
    if status is ContractStatus.TEMPORARILY_ENABLED:
        reason = "A habilitação provisória deste contrato já está em vigor" + (
            f" até {day_text(until)}." if until else "."
        )
    elif status is not ContractStatus.SUSPENDED:
        reason = "Este contrato não está suspenso."
    elif last is not None and (today - last).days < interval_days:
        again = last + timedelta(days=interval_days)
        reason = (
            f"A habilitação provisória foi usada em {day_text(last)}; você poderá pedir "
            f"de novo a partir de {day_text(again)}."
        )
    return TemporaryEnablingPolicy(
        days=days,
        interval_days=interval_days,
        eligible=reason is None,
        reason=reason,
        last_used_on=last,
    )


# --- invoices -----------------------------------------------------------------------------------
def invoice(row: Record) -> Invoice:
    """One ``fn_areceber`` row."""
    status = row.choice("status", INVOICE_STATUS)
    due = row.day("data_vencimento")
    open_ = status is InvoiceStatus.OPEN
    paid = status is InvoiceStatus.PAID
    return Invoice(
        id=row.ident("id"),
        contract_id=row.opt_ident("id_contrato") or "",
        reference=due.strftime("%m/%Y"),
        issued_on=row.opt_day("data_emissao") or due,
        due_date=due,
        amount=row.money("valor"),
        status=status,
        paid_on=row.opt_day("pagamento_data") if paid else None,
        paid_amount=row.opt_money("valor_recebido") if paid else None,
        # Multa and juros only where fn_areceber gives them (valor_multas, valor_juros).
        fine=(row.shown(row.opt_money, "valor_multas") if open_ else None) or Decimal("0"),
        interest=(row.shown(row.opt_money, "valor_juros") if open_ else None) or Decimal("0"),
        linha_digitavel=linha_digitavel(row, "linha_digitavel") if open_ else None,
    )


def second_copy(data: Any, invoice: Invoice, today: date) -> Invoice:
    """``invoice`` as the updated 2ª via ``get_boleto`` "dados" answered (an object or an array
    of one with ``data_vencimento``, ``valor_boleto``, ``linha_digitavel``), when it is payable
    from ``today`` on and its linha charges its amount; otherwise ``invoice`` as it is."""
    if isinstance(data, list):
        data = data[0] if len(data) == 1 else None
    if not isinstance(data, dict):
        if data is not None:
            warn_once(SYSTEM, "get_boleto.dados", "is not one object")
        return invoice
    item = Record(data, SYSTEM, "get_boleto.dados")
    due = item.shown(item.opt_day, "data_vencimento")
    charged = item.shown(item.opt_money, "valor_boleto|valor")
    linha = linha_digitavel(item, "linha_digitavel")
    if due is None or charged is None or linha is None or due < today:
        return invoice  # not reissued: the original boleto (the bank adds multa and juros)
    if parse_linha_digitavel(linha, today=due)[2] not in (charged, Decimal("0.00")):
        warn_once(SYSTEM, "get_boleto.dados.linha_digitavel", "charges another amount")
        return invoice
    return dataclasses.replace(
        invoice, charged_amount=charged, charged_due=due, linha_digitavel=linha
    )


def pix_code(data: Any, invoice: Invoice) -> str | None:
    """The PIX code of a ``get_pix`` answer (``pix.dadosPix{pixCopiaECola, status,
    valor.original}``), when it is active and charges ``invoice.updated_amount``."""
    if not isinstance(data, dict):
        return None
    answer = Record(data, SYSTEM, "get_pix")
    pix = answer.shown(answer.opt_record, "pix")
    details = pix.shown(pix.opt_record, "dadosPix") if pix is not None else None
    if details is None:
        warn_once(SYSTEM, "get_pix.pix.dadosPix", "is missing")
        return None
    code = details.shown(details.opt_text, "pixCopiaECola")
    if code is None or not is_valid_brcode(code):
        warn_once(SYSTEM, "get_pix.pix.dadosPix.pixCopiaECola", "is not a valid PIX code")
        return None
    state = details.shown(details.opt_text, "status")
    if state is not None and state.upper() != "ATIVA":
        return None  # paid (CONCLUIDA) or withdrawn (REMOVIDA_…): nothing to pay with it
    value = details.shown(details.opt_record, "valor")
    label = value.shown(value.opt_money, "original") if value is not None else None
    in_code = brcode_amount(code)
    charged = invoice.updated_amount
    if label is None and in_code is None:
        warn_once(SYSTEM, "get_pix.pix.dadosPix.valor.original", "is missing")
        return None
    if (label is not None and label != charged) or in_code not in (None, charged):
        warn_once(SYSTEM, "get_pix.pix", "charges another amount than the invoice shows")
        return None
    return code


# --- fiscal notes -------------------------------------------------------------------------------
def fiscal_note(row: Record) -> FiscalNote:
    """One ``vd_saida`` row."""
    return FiscalNote(
        id=row.ident("id"),
        number=row.opt_ident("numero_nf") or row.ident("id"),
        series=row.opt_text("serie") or "",
        model=row.opt_text("modelo") or "NF",
        issued_on=row.day("data_emissao"),
        amount=row.money("valor_total"),
        contract_id=row.opt_ident("id_contrato"),
    )


# --- connection records -------------------------------------------------------------------------
def connection_session(row: Record, username: str, period: DateRange) -> ConnectionSession | None:
    """One ``radacct`` row of ``username``; None when it is another login's or started (São
    Paulo time) outside ``period``."""
    if row.opt_text("username") not in (None, username):
        return None
    started = row.instant("acctstarttime")
    if started.astimezone(SAO_PAULO).date() not in period:
        return None
    return ConnectionSession(
        id=row.ident("radacctid"),
        login=username,
        started_at=started,
        ended_at=row.opt_instant("acctstoptime"),
        ip_address=row.opt_text("framedipaddress") or "",
        download_bytes=row.opt_integer("acctoutputoctets") or 0,
        upload_bytes=row.opt_integer("acctinputoctets") or 0,
        termination_cause=row.opt_text("acctterminatecause"),
    )


# --- tickets ------------------------------------------------------------------------------------
def ticket_status(row: Record) -> TicketStatus:
    """A ``su_ticket`` row's status: ``status`` F (finalizado) or ``su_status`` S/C is closed,
    P pending, anything else open."""
    if (row.opt_text("status") or "").upper() == "F":
        return TicketStatus.CLOSED
    su_status = (row.opt_text("su_status") or "N").upper()
    if su_status in ("S", "C"):
        return TicketStatus.CLOSED
    if su_status == "P":
        return TicketStatus.PENDING
    return TicketStatus.OPEN


def ticket(
    row: Record, subjects: dict[str, str], messages: tuple[TicketMessage, ...] = ()
) -> Ticket:
    """One ``su_ticket`` row; ``subjects`` names subjects by id."""
    opened = row.instant("data_criacao")
    subject_id = row.opt_ident("id_assunto")
    return Ticket(
        id=row.ident("id"),
        protocol=row.opt_ident("protocolo") or row.ident("id"),
        subject=subjects.get(subject_id or "", "") or row.opt_text("titulo") or "",
        status=ticket_status(row),
        opened_at=opened,
        updated_at=row.opt_instant("data_ultima_alteracao") or opened,
        contract_id=row.opt_ident("id_contrato"),
        messages=messages,
    )


def ticket_messages(
    row: Record, rows: Sequence[Record], ticket_id: str, name: str
) -> tuple[TicketMessage, ...]:
    """A ticket's thread in time order: the subscriber's opening text (``su_ticket.menssagem``)
    and the public ``su_mensagens`` rows (an operator's are the provider's); ``name`` is the
    subscriber's."""
    first = TicketMessage(
        id=f"{ticket_id}-0",
        author=TicketAuthor.SUBSCRIBER,
        author_name=name,
        sent_at=row.instant("data_criacao"),
        text=row.opt_text("menssagem") or "",  # sic: IXC spells the field with "ss"
    )
    messages = [first]
    for message in rows:
        if message.ident("id_ticket") != ticket_id:
            continue
        if (message.opt_text("visibilidade_mensagens") or "PU").upper() == "PR":
            continue  # private notes of the provider's staff
        operator = message.opt_ident("operador")
        from_subscriber = operator is None
        messages.append(
            TicketMessage(
                id=message.ident("id"),
                author=TicketAuthor.SUBSCRIBER if from_subscriber else TicketAuthor.PROVIDER,
                author_name=name if from_subscriber else (message.opt_text("titulo") or ""),
                sent_at=message.instant("data"),
                text=message.text("mensagem"),
            )
        )
    messages.sort(key=lambda m: m.sent_at)
    return tuple(messages)
