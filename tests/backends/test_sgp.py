"""The SGP adapter over real HTTP against the local SGP stand-in: what is specific to SGP."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

import backend_client.sgp.backend as sgp_module
import backend_client.sgp.invoices as sgp_invoices
from backend_client.errors import (
    CredentialsRefused,
    NotFound,
    Rejected,
    SessionExpired,
    Unavailable,
)
from backend_client.features import CheckState, Feature
from backend_client.formats.boleto import parse_linha_digitavel
from backend_client.formats.pix import brcode_amount
from backend_client.models import ContractStatus, InvoiceStatus
from backend_client.sgp import SgpBackend
from tests.backends.conftest import EVERYTHING, JOAO, MARIA, TODAY, start_sgp
from tests.backends.standin import Fault, fixture
from tests.backends.standin_sgp import SgpStandIn

MALFORMED = fixture("sgp", "malformed")
OPEN = frozenset({InvoiceStatus.OPEN})
Pair = tuple[SgpStandIn, SgpBackend]


async def test_second_copy_never_opens_a_service_record(sgp: Pair) -> None:
    standin, backend = sgp
    session = await backend.login(MARIA.document, MARIA.password)
    invoices = await backend.list_invoices(session, EVERYTHING, frozenset({InvoiceStatus.OPEN}))
    for invoice in invoices:
        await backend.get_boleto_pdf(session, invoice.id)
    calls = standin.calls_to("/api/central/fatura2via/")
    assert calls and all(call.fields["nao_gerar_os"] == "1" for call in calls)
    assert standin.service_records_opened == 0


async def test_session_lives_only_in_adapter_memory(sgp: Pair) -> None:
    standin, backend = sgp
    session = await backend.login(MARIA.document, MARIA.password)
    assert MARIA.password not in repr(session.to_dict())
    restarted = SgpBackend(standin.base_url, "t", "a", today=lambda: TODAY)
    await restarted.start()
    try:
        with pytest.raises(SessionExpired):
            await restarted.get_subscriber(session)
    finally:
        await restarted.close()
    # The Central password changed elsewhere: SGP refuses it, the bot must ask for a login.
    standin.accounts["central"][MARIA.document] = "nova-senha-1"
    with pytest.raises(SessionExpired):
        await backend.list_invoices(session)


async def test_wrong_integration_credentials_are_refused_clearly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A wrong app name: SGP answers 403 "Credenciais de autenticação incorretas". The admin is
    told which settings to check (ping, backend check, a warning); subscribers keep what the
    Central gives with their own login."""
    caplog.set_level(logging.DEBUG)
    standin, backend = await start_sgp()
    try:
        token = standin.accounts["integration"]["token"]
        standin.accounts["integration"]["app"] = "minhacentral"  # the app name is case-sensitive
        session = await backend.login(MARIA.document, MARIA.password)
        person = await backend.get_subscriber(session)
        assert person.name == "Maria Aparecida dos Santos" and person.contracts
        assert "BACKEND_TOKEN and BACKEND_APP" in caplog.text
        for probe in (backend.ping, backend.check_features):
            with pytest.raises(CredentialsRefused, match="BACKEND_TOKEN and BACKEND_APP") as raised:
                await probe()
            assert token not in str(raised.value)
    finally:
        await backend.close()
        await standin.close()
    assert token not in caplog.text and MARIA.password not in caplog.text


async def test_reads_are_retried_and_time_out_clearly() -> None:
    standin, backend = await start_sgp(timeout=0.3, read_retries=1)
    try:
        session = await backend.login(MARIA.document, MARIA.password)
        standin.fail("/api/central/titulos/", Fault(sleep=1.0))
        with pytest.raises(Unavailable, match=r"did not answer POST /api/central/titulos/"):
            await backend.list_invoices(session, statuses=OPEN, contract_id="1101")
        assert len(standin.calls_to("/api/central/titulos/")) == 2  # one retry, then give up
        standin.faults.clear()
        standin.fail("/api/central/titulos/", Fault(status=502, text="Bad Gateway", times=1))
        assert await backend.list_invoices(session, contract_id="1101")
    finally:
        await backend.close()
        await standin.close()


async def test_writes_are_never_retried() -> None:
    standin, backend = await start_sgp(timeout=0.3, read_retries=3)
    try:
        session = await backend.login(JOAO.document, JOAO.password)
        standin.fail("/api/central/promessapagamento/", Fault(sleep=1.0))
        with pytest.raises(Unavailable, match="writes are not retried"):
            await backend.request_temporary_enabling(session, "1201")
        assert len(standin.calls_to("/api/central/promessapagamento/")) == 1
        standin.faults.clear()
        standin.fail("/api/central/chamado/", Fault(status=502, text="Bad Gateway"))
        with pytest.raises(Unavailable):
            await backend.reply_ticket(session, "90050", "Olá")
        assert len(standin.calls_to("/api/central/chamado/90050/anotacao")) == 0
    finally:
        await backend.close()
        await standin.close()


TITULOS, CONSULTA = "/api/central/titulos/", "/api/ura/consultacliente/"
SHAPES = {
    "no faturas": (TITULOS, Fault(json_body=MALFORMED["titulos_without_faturas"]), "faturas is"),
    "no due date": (TITULOS, Fault(json_body=MALFORMED["fatura_without_vencimento"]), "vencimento"),
    "text amount": (
        TITULOS,
        Fault(json_body=MALFORMED["fatura_with_text_amount"]),
        "valor is text",
    ),
    "html page": (
        TITULOS,
        Fault(text=MALFORMED["maintenance_page"], content_type="text/html"),
        "JSON",
    ),
    "http 500": (TITULOS, Fault(status=500, text="<h1>500</h1>", content_type="text/html"), "500"),
    "status 99": (CONSULTA, Fault(json_body=MALFORMED["unknown_contract_status"]), "value 99"),
}


@pytest.mark.parametrize(("path", "fault", "message"), SHAPES.values(), ids=SHAPES.keys())
async def test_unexpected_shapes_fail_clearly(
    sgp: Pair, path: str, fault: Fault, message: str
) -> None:
    standin, backend = sgp
    session = await backend.login(MARIA.document, MARIA.password)
    standin.fail(path, fault)
    with pytest.raises(Unavailable, match=message) as raised:
        await backend.get_subscriber(
            session
        ) if "consulta" in path else await backend.list_invoices(session)
    assert "SGP" in str(raised.value)


async def test_enabling_answer_without_liberado_is_unavailable(sgp: Pair) -> None:
    standin, backend = sgp
    session = await backend.login(JOAO.document, JOAO.password)
    standin.fail(
        "/api/central/promessapagamento/", Fault(json_body=MALFORMED["promessa_without_liberado"])
    )
    with pytest.raises(Unavailable, match=r"promessapagamento\.liberado is missing"):
        await backend.request_temporary_enabling(session, "1201")


async def test_refusal_text_is_passed_on_and_foreign_ids_never_reach_sgp(sgp: Pair) -> None:
    standin, backend = sgp
    session = await backend.login(MARIA.document, MARIA.password)
    # SGP answers status 0 with an empty msg: the adapter says what it means.
    expected = sgp_module.NOT_BLOCKED_REASON
    with pytest.raises(Rejected) as refused:
        await backend.request_temporary_enabling(session, "1101")
    assert refused.value.reason == expected
    before = len(standin.calls_to("/api/central/promessapagamento/"))
    with pytest.raises(NotFound):
        await backend.request_temporary_enabling(session, "1201")  # João's contract
    assert len(standin.calls_to("/api/central/promessapagamento/")) == before


async def test_secrets_of_consultacliente_never_reach_the_models(sgp: Pair) -> None:
    _, backend = sgp
    session = await backend.login(MARIA.document, MARIA.password)
    shown = repr(await backend.get_subscriber(session)) + repr(await backend.list_contacts(session))
    assert "pppoe-Segredo" not in shown and "contratoCentralSenha" not in shown


async def test_invalid_codes_from_the_provider_are_not_shown(sgp: Pair) -> None:
    standin, backend = sgp
    session = await backend.login(MARIA.document, MARIA.password)
    fatura = dict(standin.state["titulos"]["1101"][3])
    fatura["linhadigitavel"] = "00190.00009 03128.557000 00000.101217 8 11656000000999"
    fatura["codigopix"] = "000201not-a-brcode6304ABCD"
    standin.fail("/api/central/titulos/", Fault(json_body={"faturas": [fatura]}))
    [invoice] = await backend.list_invoices(session, contract_id="1101")
    assert invoice.linha_digitavel is None and invoice.pix_code is None


async def test_titulos_are_paged(sgp: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    standin, backend = sgp
    monkeypatch.setattr(sgp_invoices, "PAGE_SIZE", 2)
    session = await backend.login(MARIA.document, MARIA.password)
    invoices = await backend.list_invoices(session, contract_id="1101")
    assert len(invoices) == 6
    offsets = [c.fields["offset"] for c in standin.calls_to("/api/central/titulos/")]
    assert {"0", "2", "4"} <= set(offsets)


async def test_overdue_invoice_shows_one_reissued_second_copy(sgp: Pair) -> None:
    """Amount, due date, linha digitável, PIX and PDF of an overdue invoice all come from the
    same fatura2via item, so what the subscriber pays is what the label says."""
    standin, backend = sgp
    session = await backend.login(MARIA.document, MARIA.password)
    invoice = await backend.get_invoice(session, "70104")
    assert (invoice.amount, invoice.charged_amount) == (Decimal("99.90"), Decimal("102.51"))
    assert invoice.charged_due == date(2026, 12, 1)
    assert (invoice.fine, invoice.interest) == (Decimal("2.00"), Decimal("0.61"))
    assert invoice.linha_digitavel is not None and invoice.pix_code is not None
    _, due, charged = parse_linha_digitavel(invoice.linha_digitavel, today=TODAY)
    assert (due, charged) == (date(2026, 12, 1), Decimal("102.51"))
    assert brcode_amount(invoice.pix_code) == Decimal("102.51")
    pdf = await backend.get_boleto_pdf(session, "70104")
    assert pdf.content.startswith(b"%PDF-") and "2via" in pdf.filename
    assert standin.calls_to("/boleto/70104-2via.pdf")
    # An invoice not yet due keeps its own codes (no 2ª via asked).
    before = len(standin.calls_to("/api/central/fatura2via/"))
    current = await backend.get_invoice(session, "70105")
    assert current.charged_amount is None and current.updated_amount == Decimal("99.90")
    assert len(standin.calls_to("/api/central/fatura2via/")) == before


async def test_second_copy_with_a_pix_of_another_amount_leaves_the_pix_out(sgp: Pair) -> None:
    standin, backend = sgp
    session = await backend.login(MARIA.document, MARIA.password)
    links = standin.state["fatura2via"]["1101"]["links"]
    links[0]["codigopix"] = links[1]["codigopix"]  # charges 99.90, not the 102.51 shown
    invoice = await backend.get_invoice(session, "70104")
    assert invoice.charged_amount == Decimal("102.51") and invoice.pix_code is None


async def test_minha_conta_reads_the_centrals_lowercase_answer(sgp: Pair) -> None:
    """Central contratos as real installations answer it (cabosat_app's model): lowercase keys,
    status as text with spaces, planointernet_valor, endereco_instalacao{}."""
    standin, backend = sgp
    session = await backend.login(MARIA.document, MARIA.password)
    assert session.name == "Maria Aparecida dos Santos"
    person = await backend.get_subscriber(session)
    [contract] = person.contracts
    assert contract.status is ContractStatus.ACTIVE and contract.due_day == 10
    assert contract.plan.monthly_price == Decimal("99.90")
    assert (contract.address.city, contract.address.state) == ("Campinas", "SP")
    assert contract.logins[0].login == "maria.santos" and contract.logins[0].online
    assert person.phones == ("5519991234567",)  # "(19) 99123-4567", E.164 without "+"
    answered = standin.calls_to("/api/central/contratos")
    assert answered and "razaoSocial" not in str(answered)


async def test_a_phone_only_contract_is_shown_without_an_access(
    caplog: pytest.LogCaptureFixture,
) -> None:
    standin, backend = await start_sgp(frozenset({"phone-only"}))
    try:
        session = await backend.login(MARIA.document, MARIA.password)
        person = await backend.get_subscriber(session)
    finally:
        await backend.close()
        await standin.close()
    phone = next(c for c in person.contracts if c.id == "1102")
    assert phone.plan.name == "Fone Fixo Ilimitado"
    assert phone.plan.monthly_price == Decimal("29.90") and phone.logins == ()
    assert "verificaacesso" not in caplog.text  # a legitimate answer, not an odd one


ODD_DISPLAY_FIELDS = {
    "emails as a number": ("emails", 42),
    "price as words": ("planointernet_valor", "noventa reais"),
    "address as a list": ("endereco_instalacao", ["Rua X"]),
}


@pytest.mark.parametrize(("field", "value"), ODD_DISPLAY_FIELDS.values(), ids=ODD_DISPLAY_FIELDS)
async def test_an_odd_display_field_leaves_the_screen_working_and_warns_once(
    sgp: Pair, caplog: pytest.LogCaptureFixture, field: str, value: Any
) -> None:
    standin, backend = sgp
    session = await backend.login(MARIA.document, MARIA.password)
    contract = standin._central_contract(standin._contracts_of(MARIA.document)[0])
    contract[field] = value
    standin.fail("/api/central/contratos", Fault(json_body={"contratos": [contract]}))
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        person = await backend.get_subscriber(session)
        assert person.name == "Maria Aparecida dos Santos" and person.contracts
    warnings = [r.getMessage() for r in caplog.records if field in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "SGP" in warnings[0] and str(value) not in warnings[0]
    assert MARIA.document not in caplog.text


async def test_check_features_names_what_to_fix() -> None:
    standin, backend = await start_sgp(frozenset({"ura-refused"}))
    try:
        checks = {check.feature: check for check in await backend.check_features()}
    finally:
        await backend.close()
        await standin.close()
    assert checks[Feature.INVOICES].state is CheckState.OK
    assert checks[Feature.PASSWORD].state is CheckState.NOT_SUPPORTED
    contacts = checks[Feature.CONTACTS]
    assert contacts.state is CheckState.NOT_PERMITTED and "consultacliente" in contacts.detail
    assert "IP" in checks[Feature.ACCOUNT].detail


async def test_an_endpoint_missing_in_the_installation_is_not_supported(sgp: Pair) -> None:
    standin, backend = sgp
    standin.fail("/api/central/extratouso/", Fault(status=404, text="Not Found"))
    checks = {check.feature: check for check in await backend.check_features()}
    assert checks[Feature.CONNECTIONS].state is CheckState.NOT_SUPPORTED
    assert "/api/central/extratouso/" in checks[Feature.CONNECTIONS].detail


async def test_without_the_ura_the_subscriber_id_is_not_the_document() -> None:
    """The Central's contratos carries no client id; the bot logs and stores subscriber ids, so
    the adapter never uses the CPF/CNPJ as one."""
    standin, backend = await start_sgp(frozenset({"ura-refused"}))
    try:
        session = await backend.login(MARIA.document, MARIA.password)
        again = await backend.login(MARIA.document, MARIA.password)
    finally:
        await backend.close()
        await standin.close()
    assert session.subscriber_id == again.subscriber_id  # stable
    assert MARIA.document not in session.subscriber_id and session.subscriber_id.startswith("doc-")
