"""SGP records -> models (backend_client.sgp.mapping): table tests of the pure mappers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from backend_client.errors import Unavailable
from backend_client.kit.shape import Record
from backend_client.models import (
    ContactType,
    ContractStatus,
    DateRange,
    InvoiceStatus,
    TicketAuthor,
    TicketStatus,
)
from backend_client.sgp import mapping


def record(data: dict[str, Any], where: str = "test") -> Record:
    return Record(data, mapping.SYSTEM, where)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"contratoStatus": 1}, ContractStatus.ACTIVE),
        ({"contratoStatus": "4"}, ContractStatus.SUSPENDED),
        ({"contratoStatus": 7}, ContractStatus.SUSPENDED),  # ativo com velocidade reduzida
        ({"contratoStatus": 3, "status": "Ativo"}, ContractStatus.CANCELLED),  # the code wins
        ({"status": 2}, ContractStatus.CANCELLED),
        ({"status": "Ativo"}, ContractStatus.ACTIVE),
        ({"status": "Ativo com velocidade reduzida"}, ContractStatus.SUSPENDED),
        ({"status": "INATIVO"}, ContractStatus.CANCELLED),  # "inativ" before "ativ"
        ({"contratoStatusDisplay": "Suspenso por débito"}, ContractStatus.SUSPENDED),
        ({"status": "Em análise"}, ContractStatus.ACTIVE),  # unknown text: warned, not failed
    ],
)
def test_contract_status_by_code_and_by_words(data: dict[str, Any], status: ContractStatus) -> None:
    assert mapping.contract_status(record(data)) is status


def test_contract_status_missing_is_a_shape_error() -> None:
    with pytest.raises(Unavailable):
        mapping.contract_status(record({"contrato": 1}))


@pytest.mark.parametrize(
    ("data", "name", "download", "price"),
    [
        (
            {"planointernet": "Fibra 300 Mega", "planointernet_valor": "99.90"},
            "Fibra 300 Mega",
            300,
            Decimal("99.90"),
        ),
        ({"planointernet": "Fibra 1 Giga"}, "Fibra 1 Giga", 1000, None),
        ({"servico_plano": "500MB", "servico_valor": "0"}, "500MB", 500, None),  # 0: not priced
        ({"planotelefonia": "Fixo ilimitado"}, "Fixo ilimitado", 0, None),
        ({}, "Contrato 77", 0, None),
    ],
)
def test_plan_by_the_first_named_field(
    data: dict[str, Any], name: str, download: int, price: Decimal | None
) -> None:
    plan = mapping.plan(record(data), "77")
    assert (plan.name, plan.download_mbps, plan.monthly_price) == (name, download, price)


@pytest.mark.parametrize(
    ("data", "street", "postal_code", "state"),
    [
        (
            {"endereco_logradouro": "Rua A", "endereco_cep": "01310-100", "endereco_uf": "sp"},
            "Rua A",
            "01310100",
            "SP",
        ),
        (
            {"endereco_instalacao": {"logradouro": "Av. B", "cep": "20040-020", "uf": "RJ"}},
            "Av. B",
            "20040020",
            "RJ",
        ),
        ({}, "", "", ""),
    ],
)
def test_address_flat_or_nested(
    data: dict[str, Any], street: str, postal_code: str, state: str
) -> None:
    address = mapping.address(record(data))
    assert (address.street, address.postal_code, address.state) == (street, postal_code, state)


@pytest.mark.parametrize(
    ("data", "day"),
    [
        ({"cobVencimento": 10}, 10),
        ({"vencimento": "15"}, 15),
        ({"vencimento": "2026-11-20"}, 20),
        ({"vencimento": 40}, 0),
        ({}, 0),
    ],
)
def test_due_day_from_a_day_or_a_date(data: dict[str, Any], day: int) -> None:
    assert mapping.due_day(record(data)) == day


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"statusid": 1, "status": "Pago"}, InvoiceStatus.OPEN),  # the id wins
        ({"statusid": "2"}, InvoiceStatus.PAID),
        ({"status": "Gerado"}, InvoiceStatus.OPEN),
        ({"status": "Quitado"}, InvoiceStatus.PAID),
        ({"status": "Cancelada"}, InvoiceStatus.CANCELLED),
        ({"status": "Vencido"}, InvoiceStatus.OPEN),
    ],
)
def test_invoice_status_by_id_or_text(data: dict[str, Any], status: InvoiceStatus) -> None:
    assert mapping.invoice_status(record(data)) is status


def test_invoice_status_unknown_text_is_a_shape_error() -> None:
    with pytest.raises(Unavailable):
        mapping.invoice_status(record({"status": "Estranho"}))


def test_invoice_rows() -> None:
    paid = mapping.invoice(
        record(
            {
                "id": 9,
                "statusid": 2,
                "valor": "99.90",
                "vencimento": "2026-10-10",
                "data_pagamento": "2026-10-09",
                "valorpago": "99.90",
                "linhadigitavel": "123",  # not shown for a paid invoice
            }
        ),
        "77",
    )
    assert (paid.id, paid.contract_id, paid.reference, paid.status) == (
        "9",
        "77",
        "10/2026",
        InvoiceStatus.PAID,
    )
    assert (paid.paid_on, paid.paid_amount, paid.linha_digitavel) == (
        date(2026, 10, 9),
        Decimal("99.90"),
        None,
    )
    assert paid.issued_on == date(2026, 10, 10)  # no emission date: the due date

    open_ = mapping.invoice(
        record(
            {
                "id": "10",
                "status": "Gerado",
                "valor": 120,
                "vencimento": "2026-11-10",
                "linhadigitavel": "1234",
            }
        ),
        "77",
    )
    assert (open_.status, open_.amount, open_.paid_on) == (InvoiceStatus.OPEN, Decimal("120"), None)
    assert open_.linha_digitavel is None  # not a valid boleto: warned and left out


def test_second_copy_item_matches_by_id_or_original_due_date() -> None:
    invoice = mapping.invoice(
        record({"id": "10", "statusid": 1, "valor": "100", "vencimento": "2026-11-10"}), "77"
    )
    assert mapping.is_second_copy_of(record({"id": "10"}), invoice)
    assert not mapping.is_second_copy_of(
        record({"id": "11", "vencimento_original": "2026-11-10"}), invoice
    )
    assert mapping.is_second_copy_of(record({"vencimento_original": "2026-11-10"}), invoice)
    assert not mapping.is_second_copy_of(record({"vencimento_original": "2026-12-10"}), invoice)
    # Neither a valid linha digitável nor a PIX code: no 2ª via to offer.
    assert (
        mapping.second_copy(record({"valor": "103.50", "vencimento": "2026-12-01"}), invoice)
        is None
    )


@pytest.mark.parametrize(
    ("kind", "data", "note_id", "model"),
    [
        ("nfcom", {"numero": 55, "valor": "10", "data_emissao": "2026-11-01"}, "nfcom-55", "NFCom"),
        (
            "nfse",
            {"id": 3, "numero": 56, "valor": "10", "data_emissao": "2026-11-01"},
            "nfse-3",
            "NFS-e",
        ),
        ("nf", {"numero": 57, "valor": "10", "data_emissao": "2026-11-01"}, "nf-57", "NF 21"),
        (
            "nf",
            {"numero": 58, "modelo": "22", "valor": "10", "emissao": "2026-11-01"},
            "nf-58",
            "NF 22",
        ),
    ],
)
def test_fiscal_notes_by_kind(kind: str, data: dict[str, Any], note_id: str, model: str) -> None:
    note = mapping.fiscal_note(kind, record(data), "77")
    assert (note.id, note.model, note.contract_id) == (note_id, model, "77")


TYPES = (ContactType("celular_pessoal", "Pessoal"),)


@pytest.mark.parametrize(
    ("data", "type_id", "mobile", "landline", "email"),
    [
        (
            {"tipo": "Celular Pessoal", "contato": "(11) 98765-4321"},
            "celular_pessoal",
            "5511987654321",
            None,
            None,
        ),
        (
            {"tipoContato": "telefone_residencial", "contato": "1133334444"},
            "telefone_residencial",
            None,
            "551133334444",
            None,
        ),
        (
            {"tipo": "email", "contato": "maria@example.com"},
            "email",
            None,
            None,
            "maria@example.com",
        ),
    ],
)
def test_contact_kinds(
    data: dict[str, Any], type_id: str, mobile: str | None, landline: str | None, email: str | None
) -> None:
    contact = mapping.contact(record(data), "Maria", TYPES)
    assert (contact.type.id, contact.mobile, contact.landline, contact.email) == (
        type_id,
        mobile,
        landline,
        email,
    )
    assert contact.name == "Maria"


@pytest.mark.parametrize(
    ("data", "ticket_id", "status"),
    [
        ({"os_id": 12, "oc_protocolo": "2026001", "os_status": 0}, "12", TicketStatus.OPEN),
        (
            {"os_id": "", "oc_protocolo": "2026002", "oc_status": "3"},
            "oc-2026002",
            TicketStatus.PENDING,
        ),
        (
            {"os_id": 13, "os_status": 0, "os_status_descricao": "Encerrada"},
            "13",
            TicketStatus.CLOSED,
        ),  # words win
        (
            {"os_id": 14, "oc_status_descricao": "Aguardando cliente", "os_status": 1},
            "14",
            TicketStatus.PENDING,
        ),
    ],
)
def test_ticket_ids_and_statuses(
    data: dict[str, Any], ticket_id: str, status: TicketStatus
) -> None:
    assert mapping.ticket_id_of(record(data)) == ticket_id
    assert mapping.ticket_status(record(data)) is status


def test_ticket_thread_in_time_order_with_the_technicians_answer() -> None:
    ticket = mapping.ticket(
        record(
            {
                "os_id": 12,
                "oc_protocolo": "2026001",
                "os_status": 1,
                "oc_tipo_descricao": "Sem conexão",
                "oc_data_cadastro": "2026-11-01 10:00:00",
                "oc_data_encerramento": "2026-11-02 09:00:00",
                "oc_conteudo": "Estou sem internet",
                "anotacoes": [
                    {
                        "id": 5,
                        "data": "2026-11-01 12:00:00",
                        "anotacao": "Técnico agendado",
                        "usuario": "Ana",
                    }
                ],
                "os_servicoprestado": "Conector trocado",
            }
        ),
        "77",
        full=True,
    )
    assert (ticket.id, ticket.protocol, ticket.subject, ticket.status) == (
        "12",
        "2026001",
        "Sem conexão",
        TicketStatus.CLOSED,
    )
    assert [(m.author, m.text) for m in ticket.messages] == [
        (TicketAuthor.SUBSCRIBER, "Estou sem internet"),
        (TicketAuthor.PROVIDER, "Técnico agendado"),
        (TicketAuthor.PROVIDER, "Conector trocado"),
    ]
    assert (
        mapping.ticket(
            record({"os_id": 12, "os_status": 0, "oc_data_cadastro": "2026-11-01 10:00:00"}),
            "77",
            full=False,
        ).messages
        == ()
    )


@pytest.mark.parametrize(
    ("start", "end", "today", "months"),
    [
        (
            date(2026, 9, 15),
            date(2026, 11, 2),
            date(2026, 11, 28),
            [(2026, 9), (2026, 10), (2026, 11)],
        ),
        (
            date(2025, 12, 1),
            date(2027, 1, 1),
            date(2026, 1, 5),
            [(2025, 12), (2026, 1)],
        ),  # not after today
        (date(2026, 12, 1), date(2026, 12, 31), date(2026, 11, 28), []),
    ],
)
def test_months_of_a_period(
    start: date, end: date, today: date, months: list[tuple[int, int]]
) -> None:
    assert mapping.months(DateRange(start, end), today) == months


def test_connection_session_inside_the_period_only() -> None:
    row = record(
        {
            "radacctid": 1,
            "username": "maria",
            "acctstarttime": "2026-11-10 08:00:00",
            "acctoutputoctets": 1000,
        }
    )
    found = mapping.connection_session(row, DateRange(date(2026, 11, 1), date(2026, 11, 30)))
    assert found is not None
    assert (found.id, found.login, found.download_bytes, found.upload_bytes) == (
        "1",
        "maria",
        1000,
        0,
    )
    assert mapping.connection_session(row, DateRange(date(2026, 12, 1), date(2026, 12, 31))) is None
