"""The sandbox's fixed demo facts: the documented demo accounts, the catalogues (contact types,
ticket subjects, terminal types, plans) and the calendar helpers the seed dates are built with."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from backend_client.timezone import SAO_PAULO

SEED_VERSION = "1"
RANDOM_SEED = 1532
META_SEED_DAY = "seed_day"
META_SEED_VERSION = "seed_version"
PROVIDER_AGENT = "Suporte Conecta Vale"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """A sandbox subscriber anyone can log in as; fixed forever, listed in the README."""

    document: str  # unformatted CPF / CNPJ
    password: str
    name: str
    situation: str  # pt-BR


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        document="31845672062",
        password="demo1234",
        name="Maria Aparecida dos Santos",
        situation=(
            "Ativa, com fatura em aberto e uma vencida; atendimentos aberto, pendente e "
            "encerrado; conexão online"
        ),
    ),
    DemoAccount(
        document="40211783927",
        password="demo2345",
        name="João Pedro Oliveira",
        situation=(
            "Suspenso por falta de pagamento, com duas faturas vencidas; pode pedir "
            "habilitação provisória"
        ),
    ),
    DemoAccount(
        document="27481563000103",
        password="demo3456",
        name="Silva & Filhos <Ltda>",
        situation=(
            "Empresa com dois contratos, linha telefônica com extrato de ligações e notas "
            "NFCom e NFS-e; fatura do mês em aberto"
        ),
    ),
    DemoAccount(
        document="12ABC34501DE35",
        password="demo4567",
        name="Café Aroma Paulista Ltda",
        situation="Empresa com CNPJ alfanumérico, ativa, todas as faturas pagas",
    ),
)

CONTACT_TYPES: tuple[tuple[str, str], ...] = (
    ("administrativo", "Administrativo"),
    ("financeiro", "Financeiro"),
    ("tecnico", "Técnico"),
    ("comercial", "Comercial"),
    ("outro", "Outro"),
)

TICKET_SUBJECTS: tuple[tuple[str, str], ...] = (
    ("sem-conexao", "Sem conexão"),
    ("lentidao", "Lentidão"),
    ("financeiro", "Financeiro"),
    ("mudanca-endereco", "Mudança de endereço"),
    ("cancelamento", "Cancelamento"),
    ("outro", "Outro"),
)

TERMINAL_TYPES: tuple[tuple[str, str], ...] = (
    ("local", "Local fixo"),
    ("mobile", "Móvel"),
    ("ddd", "Longa distância (DDD)"),
    ("ddi", "Internacional (DDI)"),
    ("0800", "0800"),
)

# (id, name, download, upload, price in cents)
PLANS: tuple[tuple[str, str, int, int, int], ...] = (
    ("fibra-300", "Fibra 300 Mega", 300, 150, 9990),
    ("fibra-500", "Fibra 500 Mega", 500, 250, 11990),
    ("fibra-1g", "Fibra 1 Giga", 1000, 500, 15990),
    ("empresa-600", "Fibra Empresarial 600 Mega", 600, 300, 24990),
    ("empresa-1g-ip", "Fibra Empresarial 1 Giga + IP fixo", 1000, 500, 39990),
)
PLAN_PRICES = {plan_id: price for plan_id, _, _, _, price in PLANS}
PLAN_NAMES = {plan_id: name for plan_id, name, _, _, _ in PLANS}


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clipped to the last day of the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def local_instant(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """The UTC instant of a wall-clock time in São Paulo."""
    return datetime.combine(day, time(hour, minute), tzinfo=SAO_PAULO).astimezone(UTC)


def due_dates(seed_day: date, due_day: int, count: int) -> list[date]:
    """``count`` monthly due dates, the last one being the first on or after ``seed_day``."""
    candidate = date(seed_day.year, seed_day.month, due_day)
    upcoming = candidate if candidate >= seed_day else add_months(candidate, 1)
    return [add_months(upcoming, -back) for back in reversed(range(count))]
