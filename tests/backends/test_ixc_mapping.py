"""IXC rows -> models (backend_client.ixc.mapping): table tests of the pure mappers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from backend_client.errors import Unavailable
from backend_client.ixc import mapping
from backend_client.ixc.mapping import call_kind
from backend_client.kit.shape import Record
from backend_client.models import (
    ContractStatus,
    DateRange,
    Invoice,
    InvoiceStatus,
    TicketAuthor,
    TicketStatus,
)

SYSTEM = "IXC"


def record(data: dict[str, Any], where: str = "test") -> Record:
    return Record(data, SYSTEM, where)


@pytest.mark.parametrize(
    ("tp_chamada", "kind"),
    [
        ("DDD MÓVEL", "mobile"),
        ("LOCAL MOVEL", "mobile"),
        ("VC2", "mobile"),
        ("Celular", "mobile"),
        ("LOCAL FIXO", "local"),
        ("DDD FIXO", "ddd"),
        ("LDN", "ddd"),
        ("Interurbano", "ddd"),
        ("DDI", "ddi"),
        ("INTERNACIONAL", "ddi"),
        ("0800", "0800"),
        ("SERVIÇO ESPECIAL", "outro"),
        ("", "outro"),
    ],
)
def test_call_kinds_by_folded_words(tp_chamada: str, kind: str) -> None:
    assert call_kind(tp_chamada) == kind


@pytest.mark.parametrize(
    ("e164", "area"),
    [("5519987654321", "19"), ("551932345678", "19"), ("08007777777", None), (None, None)],
)
def test_area_code_of_brazilian_numbers(e164: str | None, area: str | None) -> None:
    assert mapping.area_code(e164) == area


@pytest.mark.parametrize(
    ("row", "status", "paid_on", "linha"),
    [
        ({"status": "A"}, InvoiceStatus.OPEN, None, None),
        ({"status": "P"}, InvoiceStatus.OPEN, None, None),  # partly paid: still open
        (
            {"status": "R", "pagamento_data": "2026-10-09"},
            InvoiceStatus.PAID,
            date(2026, 10, 9),
            None,
        ),
        ({"status": "C", "pagamento_data": "2026-10-09"}, InvoiceStatus.CANCELLED, None, None),
        ({"status": "A", "linha_digitavel": "1234"}, InvoiceStatus.OPEN, None, None),  # not valid
    ],
)
def test_invoice_rows(
    row: dict[str, Any], status: InvoiceStatus, paid_on: date | None, linha: str | None
) -> None:
    base = {"id": 7, "id_contrato": 41, "valor": "99.90", "data_vencimento": "2026-10-10"}
    invoice = mapping.invoice(record({**base, **row}))
    assert (invoice.id, invoice.contract_id, invoice.reference) == ("7", "41", "10/2026")
    assert (invoice.status, invoice.paid_on, invoice.linha_digitavel) == (status, paid_on, linha)
    assert invoice.amount == Decimal("99.90")


def test_invoice_fine_and_interest_only_while_open() -> None:
    row = {
        "id": 7,
        "valor": "100",
        "data_vencimento": "2026-10-10",
        "valor_multas": "2",
        "valor_juros": "0.5",
    }
    open_ = mapping.invoice(record({**row, "status": "A"}))
    paid = mapping.invoice(record({**row, "status": "R"}))
    assert (open_.fine, open_.interest, open_.contract_id) == (Decimal("2"), Decimal("0.5"), "")
    assert (paid.fine, paid.interest) == (Decimal("0"), Decimal("0"))


def test_unknown_invoice_status_is_a_shape_error() -> None:
    with pytest.raises(Unavailable):
        mapping.invoice(
            record({"id": 7, "status": "X", "valor": "1", "data_vencimento": "2026-10-10"})
        )


@pytest.mark.parametrize(
    ("row", "status", "until"),
    [
        ({"status": "A", "status_internet": "A"}, ContractStatus.ACTIVE, None),
        ({"status": "A", "status_internet": "CA"}, ContractStatus.SUSPENDED, None),
        ({"status": "N", "status_internet": "FA"}, ContractStatus.SUSPENDED, None),
        ({"status": "I", "status_internet": "A"}, ContractStatus.CANCELLED, None),
        ({"status": "A", "status_internet": "D"}, ContractStatus.CANCELLED, None),
        (
            {
                "status": "A",
                "status_internet": "CA",
                "desbloqueio_confianca_ativo": "S",
                "dt_ult_des_bloq_conf": "2026-11-20",
            },
            ContractStatus.TEMPORARILY_ENABLED,
            date(2026, 11, 23),
        ),
    ],
)
def test_contract_status(row: dict[str, Any], status: ContractStatus, until: date | None) -> None:
    assert mapping.contract_status(record(row), 3) == (status, until)


@pytest.mark.parametrize(
    ("row", "eligible", "reason"),
    [
        ({"status": "A", "status_internet": "CA"}, True, None),
        ({"status": "A", "status_internet": "A"}, False, "Este contrato não está suspenso."),
        (
            {"status": "A", "status_internet": "CA", "dt_ult_des_bloq_conf": "2026-11-10"},
            False,
            "A habilitação provisória foi usada em 10/11/2026; "
            "você poderá pedir de novo a partir de 10/12/2026.",
        ),
        (
            {"status": "A", "status_internet": "CA", "dt_ult_des_bloq_conf": "2026-10-01"},
            True,
            None,
        ),
        (
            {
                "status": "A",
                "status_internet": "CA",
                "desbloqueio_confianca_ativo": "S",
                "dt_ult_des_bloq_conf": "2026-11-27",
            },
            False,
            "A habilitação provisória deste contrato já está em vigor até 30/11/2026.",
        ),
    ],
)
def test_enabling_policy(row: dict[str, Any], eligible: bool, reason: str | None) -> None:
    policy = mapping.enabling_policy(record(row), date(2026, 11, 28), 3, 30)
    assert (policy.eligible, policy.reason, policy.days, policy.interval_days) == (
        eligible,
        reason,
        3,
        30,
    )


@pytest.mark.parametrize(
    ("name", "mbps"),
    [("FIBRA 300 MEGA", 300), ("1 Giga", 1000), ("500MB", 500), ("Plano Básico", 0)],
)
def test_plan_speed_from_its_name(name: str, mbps: int) -> None:
    plan = mapping.plan(record({"contrato": name}), "41", None)
    assert (plan.name, plan.download_mbps, plan.id) == (name, mbps, "41")


def test_a_contract_without_a_plan_name_is_named_by_its_id() -> None:
    plan = mapping.plan(record({"id_vd_contrato": 9}), "41", Decimal("99.90"))
    assert (plan.id, plan.name, plan.monthly_price) == ("9", "Contrato 41", Decimal("99.90"))


def test_phones_take_the_ddd_of_the_others_and_leave_out_what_is_no_number() -> None:
    cliente = record(
        {"telefone_celular": "(19) 98765-4321", "fone": "3234-5678", "whatsapp": "abc"}
    )
    assert mapping.phones(cliente) == ["5519987654321", "551932345678"]


def test_access_logins_of_one_contract() -> None:
    logins = [
        record({"id": 1, "id_contrato": 41, "login": "maria", "online": "S", "ip": "10.0.0.1"}),
        record({"id": 2, "id_contrato": 42, "login": "outro"}),
        record({"id": 3, "id_contrato": 41, "login": "maria2"}),
    ]
    found = mapping.access_logins(logins, "41")
    assert [(a.id, a.login, a.online, a.ip_address) for a in found] == [
        ("1", "maria", True, "10.0.0.1"),
        ("3", "maria2", False, None),
    ]


OVERDUE = Invoice(
    id="7",
    contract_id="41",
    reference="10/2026",
    issued_on=date(2026, 10, 1),
    due_date=date(2026, 10, 10),
    amount=Decimal("100.00"),
    status=InvoiceStatus.OPEN,
)


@pytest.mark.parametrize(
    "answer",
    [
        None,  # refused or empty
        [],
        [{"data_vencimento": "2026-12-01"}, {"data_vencimento": "2026-12-02"}],  # not one object
        "texto",
        {"data_vencimento": "2026-12-01", "valor_boleto": "103.00"},  # no linha digitável
        {"data_vencimento": "2026-11-01", "valor_boleto": "103.00", "linha_digitavel": "1234"},
    ],
)
def test_a_second_copy_ixc_does_not_give_keeps_the_invoice(answer: Any) -> None:
    assert mapping.second_copy(answer, OVERDUE, date(2026, 11, 28)) is OVERDUE


@pytest.mark.parametrize(
    "answer",
    [
        None,
        {"pix": {}},  # no dadosPix
        {"pix": {"dadosPix": {"pixCopiaECola": "not a brcode"}}},
    ],
)
def test_no_pix_code_without_a_valid_one(answer: Any) -> None:
    assert mapping.pix_code(answer, OVERDUE) is None


@pytest.mark.parametrize(
    ("row", "status"),
    [
        ({"status": "F", "su_status": "N"}, TicketStatus.CLOSED),
        ({"su_status": "S"}, TicketStatus.CLOSED),
        ({"su_status": "C"}, TicketStatus.CLOSED),
        ({"su_status": "P"}, TicketStatus.PENDING),
        ({"su_status": "N"}, TicketStatus.OPEN),
        ({}, TicketStatus.OPEN),
    ],
)
def test_ticket_status(row: dict[str, Any], status: TicketStatus) -> None:
    assert mapping.ticket_status(record(row)) is status


def test_ticket_thread_leaves_out_private_notes_and_other_tickets() -> None:
    row = record(
        {
            "id": 5,
            "protocolo": "2026005",
            "id_assunto": 2,
            "titulo": "Sem conexão",
            "data_criacao": "2026-11-01 10:00:00",
            "menssagem": "Estou sem internet",
        }
    )
    rows = [
        record(
            {
                "id": 9,
                "id_ticket": 5,
                "operador": 3,
                "titulo": "Suporte",
                "data": "2026-11-01 12:00:00",
                "mensagem": "Técnico agendado",
            }
        ),
        record(
            {
                "id": 10,
                "id_ticket": 5,
                "operador": 3,
                "visibilidade_mensagens": "PR",
                "data": "2026-11-01 12:30:00",
                "mensagem": "nota interna",
            }
        ),
        record(
            {
                "id": 11,
                "id_ticket": 6,
                "data": "2026-11-01 11:00:00",
                "mensagem": "outro atendimento",
            }
        ),
        record(
            {"id": 8, "id_ticket": 5, "data": "2026-11-01 11:00:00", "mensagem": "Ainda sem sinal"}
        ),
    ]
    messages = mapping.ticket_messages(row, rows, "5", "Maria")
    assert [(m.id, m.author, m.author_name, m.text) for m in messages] == [
        ("5-0", TicketAuthor.SUBSCRIBER, "Maria", "Estou sem internet"),
        ("8", TicketAuthor.SUBSCRIBER, "Maria", "Ainda sem sinal"),
        ("9", TicketAuthor.PROVIDER, "Suporte", "Técnico agendado"),
    ]
    ticket = mapping.ticket(row, {"2": "Lentidão"}, messages)
    assert (ticket.id, ticket.protocol, ticket.subject, ticket.status) == (
        "5",
        "2026005",
        "Lentidão",
        TicketStatus.OPEN,
    )
    assert mapping.ticket(row, {}).subject == "Sem conexão"  # an unknown subject: the title


def test_connection_sessions_of_the_login_inside_the_period() -> None:
    november = DateRange(date(2026, 11, 1), date(2026, 11, 30))
    row = {
        "radacctid": 1,
        "username": "maria",
        "acctstarttime": "2026-11-10 08:00:00",
        "acctoutputoctets": 1000,
    }
    found = mapping.connection_session(record(row), "maria", november)
    assert found is not None
    assert (found.id, found.login, found.download_bytes, found.ended_at) == (
        "1",
        "maria",
        1000,
        None,
    )
    assert (
        mapping.connection_session(record({**row, "username": "outro"}), "maria", november) is None
    )
    december = DateRange(date(2026, 12, 1), date(2026, 12, 31))
    assert mapping.connection_session(record(row), "maria", december) is None


def test_fiscal_note_row() -> None:
    note = mapping.fiscal_note(
        record(
            {
                "id": 3,
                "numero_nf": 120,
                "serie": "1",
                "modelo": "21",
                "data_emissao": "2026-11-01",
                "valor_total": "99.90",
                "id_contrato": 41,
            }
        )
    )
    assert (note.id, note.number, note.series, note.model, note.contract_id) == (
        "3",
        "120",
        "1",
        "21",
        "41",
    )
    assert (
        mapping.fiscal_note(
            record({"id": 4, "data_emissao": "2026-11-01", "valor_total": 1})
        ).number
        == "4"
    )
