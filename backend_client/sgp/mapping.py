"""SGP records -> models: pure functions, no I/O (the calls are in backend_client.sgp.backend).

Each function reads one SGP answer (a :class:`~backend_client.kit.shape.Record`) the way the
adapter's docstring describes its shapes, and warns once (never fails) about a text it does not know
where a default is safe.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from backend_client.formats.boleto import is_valid_linha_digitavel, parse_linha_digitavel
from backend_client.formats.phones import brazilian_e164
from backend_client.formats.pix import brcode_amount, is_valid_brcode
from backend_client.kit.shape import SAO_PAULO, Record, warn_once
from backend_client.models import (
    AccessLogin,
    Address,
    AttachmentInfo,
    ConnectionSession,
    Contact,
    ContactType,
    Contract,
    ContractStatus,
    DateRange,
    FiscalNote,
    Invoice,
    InvoiceStatus,
    Plan,
    Ticket,
    TicketAuthor,
    TicketMessage,
    TicketStatus,
)
from backend_client.provider import fold

SYSTEM = "SGP"
# contratoStatus: 1 Ativo, 2 Inativo, 3 Cancelado, 4 Suspenso, 5 Inviabilidade técnica, 6 Novo,
# 7 Ativo com velocidade reduzida (por débito: a promessa de pagamento também o libera).
CONTRACT_STATUS: dict[Any, ContractStatus] = {
    1: ContractStatus.ACTIVE,
    2: ContractStatus.CANCELLED,
    3: ContractStatus.CANCELLED,
    4: ContractStatus.SUSPENDED,
    5: ContractStatus.CANCELLED,
    6: ContractStatus.ACTIVE,
    7: ContractStatus.SUSPENDED,
}
CONTRACT_STATUS.update({str(code): status for code, status in list(CONTRACT_STATUS.items())})
# The Central answers the status as display text ("Ativo", "Suspenso", "Ativo com velocidade
# reduzida"…): read by its words, the more specific first.
CONTRACT_STATUS_WORDS: tuple[tuple[str, ContractStatus], ...] = (
    ("suspens", ContractStatus.SUSPENDED),
    ("bloque", ContractStatus.SUSPENDED),
    ("reduzid", ContractStatus.SUSPENDED),
    ("cancel", ContractStatus.CANCELLED),
    ("inativ", ContractStatus.CANCELLED),
    ("inviab", ContractStatus.CANCELLED),
    ("desativ", ContractStatus.CANCELLED),
    ("encerr", ContractStatus.CANCELLED),
    ("ativ", ContractStatus.ACTIVE),
    ("novo", ContractStatus.ACTIVE),
)

# titulos: statusid 1 em aberto, 2 pago, 3 cancelado; "status" is its text ("Pago", "Gerado").
INVOICE_STATUS: dict[Any, InvoiceStatus] = {
    1: InvoiceStatus.OPEN,
    2: InvoiceStatus.PAID,
    3: InvoiceStatus.CANCELLED,
    "1": InvoiceStatus.OPEN,
    "2": InvoiceStatus.PAID,
    "3": InvoiceStatus.CANCELLED,
}
INVOICE_STATUS_WORDS: tuple[tuple[str, InvoiceStatus], ...] = (
    ("cancel", InvoiceStatus.CANCELLED),
    ("pag", InvoiceStatus.PAID),
    ("quitad", InvoiceStatus.PAID),
    ("baixad", InvoiceStatus.PAID),
    ("abert", InvoiceStatus.OPEN),
    ("gerad", InvoiceStatus.OPEN),
    ("vencid", InvoiceStatus.OPEN),
    ("pendente", InvoiceStatus.OPEN),
    ("emitid", InvoiceStatus.OPEN),
)
INVOICE_STATUS_CODE = {
    InvoiceStatus.OPEN: "1",
    InvoiceStatus.PAID: "2",
    InvoiceStatus.CANCELLED: "3",
}

# os_status: 0 Aberta, 1 Encerrada, 2 Em execução, 3 Pendente.
TICKET_STATUS: dict[Any, TicketStatus] = {
    0: TicketStatus.OPEN,
    1: TicketStatus.CLOSED,
    2: TicketStatus.OPEN,
    3: TicketStatus.PENDING,
}
TICKET_STATUS.update({str(code): status for code, status in list(TICKET_STATUS.items())})
TICKET_STATUS_WORDS: tuple[tuple[str, TicketStatus], ...] = (
    ("encerr", TicketStatus.CLOSED),
    ("fechad", TicketStatus.CLOSED),
    ("finaliz", TicketStatus.CLOSED),
    ("conclu", TicketStatus.CLOSED),
    ("resolvid", TicketStatus.CLOSED),
    ("cancel", TicketStatus.CLOSED),
    ("pendente", TicketStatus.PENDING),
    ("aguard", TicketStatus.PENDING),
    ("abert", TicketStatus.OPEN),
    ("execu", TicketStatus.OPEN),
    ("andamento", TicketStatus.OPEN),
    ("agendad", TicketStatus.OPEN),
)
# A ticket without a service order (os_id "") is known by its protocol.
PROTOCOL_TICKET = "oc-"

# Contact categories offered by the bot -> SGP contato "tipo" of the mobile number.
DEFAULT_CONTACT_TYPES: tuple[ContactType, ...] = (
    ContactType("celular_pessoal", "Pessoal"),
    ContactType("celular_comercial", "Comercial"),
)
LANDLINE_TYPE = "telefone_residencial"
EMAIL_TYPE = "email"

# Which plan of a contract names it, in order (a phone-only contract has no internet plan).
PLAN_FIELDS = ("planointernet", "servico_plano", "planotelefonia|planovoip", "planotv")
SPEED_RE = re.compile(r"(\d+(?:[.,]\d+)?)\s*(giga|gb|g\b|mega|mb|m\b)", re.IGNORECASE)
MAX_MONTHS = 36


def speed_mbps(plan_name: str) -> int:
    """Download speed from a plan name like "Fibra 300 Mega" / "1 Giga" (0 when not stated)."""
    match = SPEED_RE.search(plan_name)
    if match is None:
        return 0
    value = float(match.group(1).replace(",", "."))
    return int(value * 1000) if match.group(2).lower().startswith("g") else int(value)


def months(period: DateRange, today: date) -> list[tuple[int, int]]:
    """The (year, month) pairs of ``period`` up to today, the most recent MAX_MONTHS of them."""
    last = min(period.end, today)
    if last < period.start:
        return []
    months: list[tuple[int, int]] = []
    year, month = last.year, last.month
    while (year, month) >= (period.start.year, period.start.month) and len(months) < MAX_MONTHS:
        months.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


def by_words(text: str, words: Sequence[tuple[str, Any]]) -> Any:
    folded = fold(text)
    return next((value for word, value in words if word in folded), None)


def contract_id_of(record: Record) -> str:
    return record.ident("contratoId|contrato")


def contract_status(record: Record) -> ContractStatus:
    if not record._blank("contratoStatus"):
        return record.choice("contratoStatus", CONTRACT_STATUS)
    value = record.raw("status")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        return record.choice("status", CONTRACT_STATUS)
    text = record.opt_text("contratoStatusDisplay|status")
    if text is None:
        raise record.fail("status", "is missing (and so is contratoStatus)")
    status: ContractStatus | None = by_words(text, CONTRACT_STATUS_WORDS)
    if status is None:
        warn_once(SYSTEM, f"{record.where}.status", "has a text the bot does not know")
        return ContractStatus.ACTIVE
    return status


def plan(record: Record, contract_id: str) -> Plan:
    for field in PLAN_FIELDS:
        name = record.shown(record.opt_text, field)
        if name:
            break
    else:
        field, name = PLAN_FIELDS[0], f"Contrato {contract_id}"
    price_field = "|".join(f"{alternative}_valor" for alternative in field.split("|")).replace(
        "servico_plano_valor", "servico_valor"
    )
    price = record.shown(record.opt_money, price_field)
    return Plan(
        id=record.shown(record.opt_ident, f"{field.split('|')[0]}_id|servico_plano_id") or name,
        name=name,
        download_mbps=speed_mbps(name),
        upload_mbps=record.shown(record.opt_integer, "servico_upload") or 0,
        monthly_price=price if price else None,  # 0 means "not priced here", not free
    )


def address(record: Record) -> Address:
    nested = record.shown(record.opt_record, "endereco_instalacao")
    source, prefix = (nested, "") if nested is not None else (record, "endereco_")

    def part(name: str) -> str:
        return source.shown(source.opt_text, prefix + name) or ""

    return Address(
        street=part("logradouro"),
        number=part("numero"),
        complement=part("complemento"),
        neighbourhood=part("bairro"),
        city=part("cidade"),
        state=part("uf").upper(),
        postal_code=digits(part("cep")),
    )


def due_day(record: Record) -> int:
    """``cobVencimento`` (URA) or ``vencimento`` (Central): a day of the month, or a date."""
    value = record.raw("cobVencimento|vencimento")
    if isinstance(value, str) and len(value.strip()) >= 8:
        day = record.shown(record.opt_day, "cobVencimento|vencimento")
        return day.day if day else 0
    day_of_month = record.shown(record.opt_integer, "cobVencimento|vencimento") or 0
    return day_of_month if 1 <= day_of_month <= 31 else 0


def contract(
    record: Record, contract_id: str, online: bool | None, access_login: str | None
) -> Contract:
    """A contract from its Central record merged with its URA one; ``online`` and
    ``access_login`` come from ``verificaacesso`` (None when unknown)."""
    login = access_login or record.shown(record.opt_text, "servico_login")
    logins = (
        (
            AccessLogin(
                id=contract_id,
                contract_id=contract_id,
                login=login,
                ip_address=record.shown(record.opt_text, "servico_ip"),
                online=bool(online),
            ),
        )
        if login
        else ()
    )
    return Contract(
        id=contract_id,
        number=record.shown(record.opt_text, "contratoNumero") or contract_id,
        plan=plan(record, contract_id),
        status=contract_status(record),
        address=address(record),
        due_day=due_day(record),
        started_on=record.shown(record.opt_day, "contratoDataCadastro|data_cadastro") or date.min,
        logins=logins,
    )


def invoice_status(fatura: Record) -> InvoiceStatus:
    if not fatura._blank("statusid"):
        return fatura.choice("statusid", INVOICE_STATUS)
    text = fatura.opt_text("status")
    status: InvoiceStatus | None = by_words(text or "", INVOICE_STATUS_WORDS)
    if status is None:
        raise fatura.fail("statusid", "is missing and status is not a known text")
    return status


def invoice(fatura: Record, contract_id: str) -> Invoice:
    status = invoice_status(fatura)
    amount = fatura.money("valor")
    due = fatura.day("vencimento|dataVencimento")
    open_ = status is InvoiceStatus.OPEN
    paid = status is InvoiceStatus.PAID
    return Invoice(
        id=fatura.ident("id"),
        contract_id=contract_id,
        reference=due.strftime("%m/%Y"),
        issued_on=fatura.shown(fatura.opt_day, "data_documento|emissao|data_emissao") or due,
        due_date=due,
        amount=amount,
        status=status,
        paid_on=fatura.shown(fatura.opt_day, "data_pagamento|dataPagamento") if paid else None,
        paid_amount=fatura.shown(fatura.opt_money, "valorpago|valor_pago") if paid else None,
        linha_digitavel=linha_digitavel(fatura, "linhadigitavel|linhaDigitavel") if open_ else None,
        pix_code=pix_code(fatura, "codigopix|codigoPix") if open_ else None,
    )


def linha_digitavel(record: Record, key: str) -> str | None:
    linha = digits(record.opt_text(key)) or None
    if linha is not None and not is_valid_linha_digitavel(linha):
        warn_once(SYSTEM, f"{record.where}.{key.split('|')[0]}", "is not a valid boleto")
        return None
    return linha


def pix_code(record: Record, key: str) -> str | None:
    code = record.opt_text(key)
    if code is not None and not is_valid_brcode(code):
        warn_once(SYSTEM, f"{record.where}.{key.split('|')[0]}", "is not a valid PIX code")
        return None
    return code


def is_second_copy_of(item: Record, invoice: Invoice) -> bool:
    """Whether a ``fatura2via`` item reissues ``invoice``: by its id, or by the original due date
    when the item has no id."""
    item_id = item.opt_ident("id|fatura|titulo")
    if item_id is not None:
        return item_id == invoice.id
    return item.shown(item.opt_day, "vencimento_original") == invoice.due_date


def second_copy(item: Record, invoice: Invoice) -> Invoice | None:
    """``invoice`` reissued by a ``fatura2via`` item: its amount, due date, linha digitável and
    PIX, each dropped when it charges another amount (None when neither is left)."""
    charged = item.money("valor")
    due = item.day("vencimento")
    linha = linha_digitavel(item, "linhadigitavel")
    pix = pix_code(item, "codigopix")
    if linha is not None and parse_linha_digitavel(linha, today=due)[2] != charged:
        warn_once(SYSTEM, "fatura2via.links.linhadigitavel", "charges another amount")
        linha = None
    if pix is not None and brcode_amount(pix) not in (None, charged):
        warn_once(SYSTEM, "fatura2via.links.codigopix", "charges another amount")
        pix = None
    if linha is None and pix is None:
        return None
    return dataclasses.replace(
        invoice,
        fine=item.shown(item.opt_money, "multa") or Decimal("0"),
        interest=item.shown(item.opt_money, "juros") or Decimal("0"),
        charged_amount=charged,
        charged_due=due,
        linha_digitavel=linha,
        pix_code=pix,
    )


def fiscal_note(kind: str, record: Record, contract_id: str) -> FiscalNote:
    number = record.ident("numero|numero_nf|nota")
    key = record.opt_ident("id") or number
    if kind == "nfcom":
        model, note_id = "NFCom", f"nfcom-{number}"
    elif kind == "nfse":
        model, note_id = "NFS-e", f"nfse-{key}"
    else:
        model, note_id = f"NF {record.opt_text('modelo') or '21'}", f"nf-{key}"
    return FiscalNote(
        id=note_id,
        number=number,
        series=record.shown(record.opt_text, "serie") or "",
        model=model,
        issued_on=record.day("data_emissao|emissao|dataEmissao"),
        amount=record.money("valor|valortotal|valor_total"),
        contract_id=contract_id,
    )


def contact(record: Record, default_name: str, contact_types: Sequence[ContactType]) -> Contact:
    kind = fold(record.opt_text("tipo|tipoContato") or "").replace(" ", "_")
    value = record.text("contato")
    types = {t.id: t for t in contact_types}
    contact_type = types.get(kind) or ContactType(
        kind or "outro", kind.replace("_", " ").title() or "Outro"
    )
    is_email = "@" in value
    is_landline = not is_email and ("telefone" in kind or "fixo" in kind)
    number = None if is_email else (brazilian_e164(value) or digits(value))
    return Contact(
        id=record.opt_ident("id") or f"{kind}-{digits(value) or value}",
        name=record.opt_text("nome") or default_name,
        type=contact_type,
        mobile=None if is_email or is_landline else number,
        landline=number if is_landline else None,
        email=value if is_email else None,
        sms_opt_in=False,
    )


def ticket_id_of(record: Record) -> str:
    service_order = record.opt_ident("os_id|os")
    if service_order is not None:
        return service_order
    return PROTOCOL_TICKET + record.ident("oc_protocolo|protocolo")


def ticket_status(record: Record) -> TicketStatus:
    for key in ("oc_status_descricao", "os_status_descricao", "status_descricao"):
        text = record.opt_text(key)
        status: TicketStatus | None = by_words(text or "", TICKET_STATUS_WORDS)
        if status is not None:
            return status
    for key in ("oc_status", "os_status"):
        if not record._blank(key):
            return record.choice(key, TICKET_STATUS)
    raise record.fail("os_status", "is missing (and so is oc_status)")


def ticket(record: Record, contract_id: str, *, full: bool) -> Ticket:
    ticket_id = ticket_id_of(record)
    opened = record.instant("oc_data_cadastro|data_cadastro|os_data_cadastro")
    updated = record.shown(record.opt_instant, "data_alteracao|oc_data_encerramento") or opened
    messages: list[TicketMessage] = []
    if full:
        files: dict[str | None, list[AttachmentInfo]] = {}
        for anexo in record.opt_records("anexos"):
            info = AttachmentInfo(
                id=anexo.ident("id"),
                filename=anexo.text("nome"),
                content_type=anexo.opt_text("tipo") or "application/octet-stream",
                size=anexo.shown(anexo.opt_integer, "tamanho") or 0,
            )
            files.setdefault(anexo.opt_ident("anotacao"), []).append(info)
        messages.append(
            TicketMessage(
                id=f"{ticket_id}-0",
                author=TicketAuthor.SUBSCRIBER,
                author_name=record.shown(record.opt_text, "contato|cliente") or "",
                sent_at=opened,
                text=record.opt_text("oc_conteudo|conteudo|os_conteudo") or "",
                attachments=tuple(files.get(None, ())),
            )
        )
        for note in record.opt_records("anotacoes"):
            note_id = note.ident("id")
            from_subscriber = note.flag("cliente") if "cliente" in note else False
            messages.append(
                TicketMessage(
                    id=note_id,
                    author=TicketAuthor.SUBSCRIBER if from_subscriber else TicketAuthor.PROVIDER,
                    author_name=note.opt_text("usuario") or "",
                    sent_at=note.instant("data"),
                    text=note.text("anotacao"),
                    attachments=tuple(files.get(note_id, ())),
                )
            )
        # What the technician wrote on the service order is the provider's answer.
        service = record.opt_text("os_servicoprestado")
        if service:
            messages.append(
                TicketMessage(
                    id=f"{ticket_id}-os",
                    author=TicketAuthor.PROVIDER,
                    author_name=record.shown(record.opt_text, "os_tecnico_responsavel") or "",
                    sent_at=record.shown(record.opt_instant, "oc_data_encerramento") or updated,
                    text=service,
                )
            )
        messages.sort(key=lambda m: m.sent_at)
    return Ticket(
        id=ticket_id,
        protocol=record.opt_ident("oc_protocolo|protocolo") or ticket_id,
        subject=record.shown(record.opt_text, "oc_tipo_descricao|oc_tipo") or "",
        status=ticket_status(record),
        opened_at=opened,
        updated_at=updated,
        contract_id=contract_id,
        messages=tuple(messages),
    )


def connection_session(record: Record, period: DateRange) -> ConnectionSession | None:
    """One ``extratouso`` row (a RADIUS accounting record); None when it started (São Paulo
    time) outside ``period``."""
    started = record.instant("acctstarttime|inicio|data_inicio")
    if started.astimezone(SAO_PAULO).date() not in period:
        return None
    return ConnectionSession(
        id=record.opt_ident("radacctid|id") or started.isoformat(),
        login=record.shown(record.opt_text, "username|login") or "",
        started_at=started,
        ended_at=record.shown(record.opt_instant, "acctstoptime|fim|data_fim"),
        ip_address=record.shown(record.opt_text, "framedipaddress|ip") or "",
        download_bytes=record.shown(record.opt_integer, "acctoutputoctets|download") or 0,
        upload_bytes=record.shown(record.opt_integer, "acctinputoctets|upload") or 0,
        termination_cause=record.shown(record.opt_text, "acctterminatecause"),
    )
