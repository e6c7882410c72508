"""The four demo accounts' data (``DEMO_ACCOUNTS``): each one's contracts, invoices, tickets and
records, laid out so a demo shows every state the bot handles."""

from __future__ import annotations

from backend_client.models import ContractStatus, InvoiceStatus, TicketAuthor, TicketStatus
from backend_client.sandbox.db import (
    AreaOutageRow,
    PhoneLineRow,
)
from backend_client.sandbox.demo import DEMO_ACCOUNTS, PROVIDER_AGENT, local_instant
from backend_client.sandbox.seeder import Place, Seeder, png_image

_CAMBUI = Place("Rua Coronel Quirino", "1250", "Apto 52", "Cambuí", "Campinas", "SP", "13025002")
_SUMARE = Place("Rua Dom Barreto", "480", "", "Centro", "Sumaré", "SP", "13170040")
_SILVA_MATRIZ = Place(
    "Av. Francisco Glicério", "1020", "Sala 3", "Centro", "Campinas", "SP", "13012100"
)
_SILVA_FILIAL = Place(
    "Rua Antônio Jorge Chebabi", "215", "Galpão 2", "Centro", "Sumaré", "SP", "13170020"
)
_CAFE = Place("Rua Maria Monteiro", "812", "Loja 1", "Cambuí", "Campinas", "SP", "13025151")


def _cable_hint_pixel(x: int, y: int) -> tuple[int, int, int]:
    """A router (grey box) with a blue cable to a laptop (dark box), on white."""
    if 6 <= y <= 18 and 4 <= x <= 22:
        return (150, 150, 150)
    if 30 <= y <= 42 and 40 <= x <= 60:
        return (40, 40, 60)
    if (13 <= y <= 14 and 22 <= x <= 50) or (14 <= y <= 30 and 49 <= x <= 50):
        return (30, 100, 220)
    return (255, 255, 255)


def _receipt_pixel(x: int, y: int) -> tuple[int, int, int]:
    """A receipt-like image: white paper with grey text lines and a green check."""
    if 8 <= y <= 14 and 20 <= x <= 28 and abs((y - 8) - (x - 20) // 2) <= 1:
        return (20, 160, 60)
    if y % 6 == 0 and 4 <= x <= 40 and y >= 20:
        return (120, 120, 120)
    return (250, 250, 250)


def seed_demo_accounts(seeder: Seeder, password_hashes: list[str]) -> None:
    """The four demo accounts, in ``DEMO_ACCOUNTS`` order (one password hash each)."""
    maria, joao, silva, cafe = password_hashes
    _seed_maria(seeder, maria)
    _seed_joao(seeder, joao)
    _seed_silva(seeder, silva)
    _seed_cafe(seeder, cafe)
    _seed_outage(seeder)


def _seed_outage(seeder: Seeder) -> None:
    """An outage in Centro, Sumaré (issue 22): the Silva & Filhos branch (and João) are there,
    the head office in Centro, Campinas is not; back by 18:00 of the seed day."""
    seeder.add(
        AreaOutageRow,
        id="out-1",
        city="Sumaré",
        neighbourhood="Centro",
        description="Rompimento de fibra na Rua Dom Barreto; equipe no local.",
        forecast=local_instant(seeder.seed_day, 18),
        ended_at=None,
    )


def _seed_maria(seeder: Seeder, password_hash: str) -> None:
    """Account 1: active, open + overdue + paid invoices, tickets in every state, online."""
    open_, paid = InvoiceStatus.OPEN, InvoiceStatus.PAID
    seeder.subscriber(
        "s1",
        DEMO_ACCOUNTS[0],
        password_hash,
        "maria.santos@example.com",
        ("5519991234567",),
        _CAMBUI,
    )
    seeder.contract("c1", "s1", 153, "fibra-300", ContractStatus.ACTIVE, 10, 38, _CAMBUI)
    seeder.login("l1", "c1", "maria.santos", "100.64.23.145")
    seeder.invoices("s1", "c1", "fibra-300", 10, [paid] * 10 + [open_, open_], "001", "NFCom")
    seeder.connection_sessions("l1", "100.64.23.145", days=200, running=True)
    seeder.contact(
        "s1",
        "Maria Aparecida dos Santos",
        "financeiro",
        "5519991234567",
        None,
        "maria.santos@example.com",
        True,
    )
    seeder.contact(
        "s1", "Carlos Eduardo Santos", "tecnico", "5519987654321", "551932541234", None, False
    )
    _seed_maria_tickets(seeder)


def _seed_maria_tickets(seeder: Seeder) -> None:
    subscriber, provider = TicketAuthor.SUBSCRIBER, TicketAuthor.PROVIDER
    name = DEMO_ACCOUNTS[0].name
    visit_day = seeder.days_ago(79)
    from backend_client.sandbox import pdf  # fpdf2 (~20 MB): not in a bot that never seeds

    report = pdf.technician_report_pdf(
        name,
        _CAMBUI.one_line(),
        visit_day,
        [
            "Rompimento do cabo drop entre a caixa de atendimento e o imóvel.",
            "Cabo drop substituído e conector óptico refeito.",
            "Sinal óptico após o reparo: -19,8 dBm (normal).",
            "Teste de velocidade no cabo: 312 Mbps de download e 158 Mbps de upload.",
        ],
        local_instant(visit_day, 11, 40),
    )
    seeder.ticket(
        "s1",
        "c1",
        "sem-conexao",
        TicketStatus.CLOSED,
        [
            (
                local_instant(seeder.days_ago(80), 8, 12),
                subscriber,
                name,
                "Estou sem internet desde ontem à noite. A luz LOS do modem está vermelha.",
                (),
            ),
            (
                local_instant(seeder.days_ago(80), 8, 51),
                provider,
                PROVIDER_AGENT,
                "Olá, Maria! Identificamos um problema na fibra da sua rua e agendamos uma "
                "visita técnica para amanhã, entre 8h e 12h.",
                (),
            ),
            (
                local_instant(seeder.days_ago(80), 9, 5),
                subscriber,
                name,
                "Combinado, estarei em casa.",
                (),
            ),
            (
                local_instant(visit_day, 11, 40),
                provider,
                PROVIDER_AGENT,
                "Visita concluída: o cabo foi substituído e o sinal está normal. Segue o laudo "
                "da visita. Estamos encerrando o atendimento — se precisar, é só chamar.",
                (("laudo-visita-tecnica.pdf", "application/pdf", report),),
            ),
        ],
    )
    hint = png_image(64, 48, _cable_hint_pixel)
    seeder.ticket(
        "s1",
        "c1",
        "lentidao",
        TicketStatus.PENDING,
        [
            (
                local_instant(seeder.days_ago(6), 19, 30),
                subscriber,
                name,
                "A internet fica muito lenta à noite, principalmente no Wi-Fi do quarto.",
                (),
            ),
            (
                local_instant(seeder.days_ago(5), 9, 5),
                provider,
                PROVIDER_AGENT,
                "Olá! Pelo nosso monitoramento sua conexão entrega a velocidade contratada. "
                "Você pode fazer um teste com o computador ligado no cabo, como na imagem, e "
                "nos enviar o resultado?",
                (("como-testar-no-cabo.png", "image/png", hint),),
            ),
        ],
    )
    receipt = png_image(48, 64, _receipt_pixel)
    seeder.ticket(
        "s1",
        None,
        "financeiro",
        TicketStatus.OPEN,
        [
            (
                local_instant(seeder.days_ago(1), 10, 2),
                subscriber,
                name,
                "Paguei a fatura do mês passado pelo PIX, mas ela continua aparecendo em "
                "aberto. Segue o comprovante.",
                (("comprovante-pix.png", "image/png", receipt),),
            ),
        ],
    )


def _seed_joao(seeder: Seeder, password_hash: str) -> None:
    """Account 2: suspended for two overdue invoices, eligible for temporary enabling."""
    open_, paid = InvoiceStatus.OPEN, InvoiceStatus.PAID
    seeder.subscriber(
        "s2",
        DEMO_ACCOUNTS[1],
        password_hash,
        "joao.oliveira@example.com",
        ("5519998765432",),
        _SUMARE,
    )
    seeder.contract("c2", "s2", 412, "fibra-500", ContractStatus.SUSPENDED, 5, 26, _SUMARE)
    seeder.login("l2", "c2", "joao.oliveira", "100.64.41.12")
    seeder.invoices("s2", "c2", "fibra-500", 5, [paid] * 6 + [open_] * 3, "001", "NFCom")
    suspended_at = local_instant(seeder.days_ago(4), 10, 15)
    seeder.connection_sessions("l2", "100.64.41.12", days=120, running=False, stop_at=suspended_at)
    seeder.contact(
        "s2",
        "João Pedro Oliveira",
        "administrativo",
        "5519998765432",
        None,
        "joao.oliveira@example.com",
        True,
    )


def _seed_silva(seeder: Seeder, password_hash: str) -> None:
    """Account 3: company, two contracts, a phone line with calls, NFCom and NFS-e notes."""
    open_, paid = InvoiceStatus.OPEN, InvoiceStatus.PAID
    seeder.subscriber(
        "s3",
        DEMO_ACCOUNTS[2],
        password_hash,
        "financeiro@silvaefilhos.example.com",
        ("551932345678", "5519997001122"),
        _SILVA_MATRIZ,
    )
    seeder.contract("c3", "s3", 87, "empresa-600", ContractStatus.ACTIVE, 15, 50, _SILVA_MATRIZ)
    seeder.contract("c4", "s3", 233, "empresa-1g-ip", ContractStatus.ACTIVE, 15, 14, _SILVA_FILIAL)
    seeder.login("l3", "c3", "silvaefilhos.matriz", "203.0.113.10")
    seeder.login("l4", "c4", "silvaefilhos.filial", "203.0.113.26")
    seeder.invoices("s3", "c3", "empresa-600", 15, [paid] * 8 + [open_], "237", "NFCom")
    seeder.invoices("s3", "c4", "empresa-1g-ip", 15, [paid] * 8 + [open_], "237", "NFS-e")
    seeder.connection_sessions("l3", "203.0.113.10", days=190, running=True)
    seeder.connection_sessions("l4", "203.0.113.26", days=190, running=True)
    seeder.add(PhoneLineRow, id="ln-1", contract_id="c3", number="551932345678")
    seeder.call_records("ln-1", days=190)
    seeder.contact(
        "s3",
        "Roberta Silva",
        "financeiro",
        "5519997001122",
        "551932345678",
        "financeiro@silvaefilhos.example.com",
        True,
    )
    seeder.contact("s3", "Anderson Lima", "tecnico", "5519996543210", None, None, False)
    seeder.ticket(
        "s3",
        "c4",
        "mudanca-endereco",
        TicketStatus.OPEN,
        [
            (
                local_instant(seeder.days_ago(3), 15, 47),
                TicketAuthor.SUBSCRIBER,
                DEMO_ACCOUNTS[2].name,
                "Vamos mudar a filial de endereço no mês que vem. Como funciona a "
                "transferência do link?",
                (),
            ),
        ],
    )


def _seed_cafe(seeder: Seeder, password_hash: str) -> None:
    """Account 4: company with an alphanumeric CNPJ, active, every invoice paid."""
    seeder.subscriber(
        "s4",
        DEMO_ACCOUNTS[3],
        password_hash,
        "contato@cafearoma.example.com",
        ("5519993334455",),
        _CAFE,
    )
    seeder.contract("c5", "s4", 318, "fibra-500", ContractStatus.ACTIVE, 20, 16, _CAFE)
    seeder.login("l5", "c5", "cafearoma", "100.64.77.203")
    statuses = [InvoiceStatus.PAID] * 8
    seeder.invoices("s4", "c5", "fibra-500", 20, statuses, "237", "NFCom", upcoming=False)
    seeder.connection_sessions("l5", "100.64.77.203", days=120, running=True)
    seeder.contact(
        "s4",
        "Luciana Ferraz",
        "administrativo",
        "5519993334455",
        None,
        "contato@cafearoma.example.com",
        False,
    )
