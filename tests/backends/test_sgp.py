"""The SGP adapter over real HTTP against the local SGP stand-in: what is specific to SGP."""

from __future__ import annotations

import logging

import pytest

import backend_client.sgp.backend as sgp_module
from backend_client.errors import NotFound, Rejected, SessionExpired, Unavailable
from backend_client.models import InvoiceStatus
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


async def test_wrong_integration_credentials_are_a_clear_unavailable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    standin, backend = await start_sgp()
    try:
        token = standin.accounts["integration"]["token"]
        standin.accounts["integration"]["app"] = "minhacentral"  # the app name is case-sensitive
        session = await backend.login(MARIA.document, MARIA.password)
        with pytest.raises(Unavailable, match="BACKEND_TOKEN and BACKEND_APP") as raised:
            await backend.get_subscriber(session)
        assert token not in str(raised.value)
        with pytest.raises(Unavailable):
            await backend.ping()
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
    expected = standin.recorded["promessapagamento"]["nao_suspenso"]["msg"]
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
    monkeypatch.setattr(sgp_module, "PAGE_SIZE", 2)
    session = await backend.login(MARIA.document, MARIA.password)
    invoices = await backend.list_invoices(session, contract_id="1101")
    assert len(invoices) == 6
    offsets = [c.fields["offset"] for c in standin.calls_to("/api/central/titulos/")]
    assert {"0", "2", "4"} <= set(offsets)


async def test_overdue_invoice_carries_the_corrected_amount(sgp: Pair) -> None:
    _, backend = sgp
    session = await backend.login(MARIA.document, MARIA.password)
    invoice = await backend.get_invoice(session, "70104")
    assert str(invoice.updated_amount) == "102.51"
