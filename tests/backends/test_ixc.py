"""The IXCSoft adapter over real HTTP against the local IXC stand-in: what is specific to IXC."""

from __future__ import annotations

import logging

import pytest

from backend_client.errors import (
    InvalidCredentials,
    NotSupported,
    Rejected,
    SessionExpired,
    Unavailable,
)
from backend_client.ixc import IxcBackend
from backend_client.models import Document, NewTicket
from tests.backends.conftest import EVERYTHING, JOAO, MARIA, TODAY, start_ixc
from tests.backends.standin import Fault, fixture
from tests.backends.standin_ixc import IxcStandIn

MALFORMED = fixture("ixc", "malformed")
ERRORS = fixture("ixc", "errors")
Pair = tuple[IxcStandIn, IxcBackend]
V1 = "/webservice/v1"


async def test_login_finds_formatted_and_unformatted_documents(ixc: Pair) -> None:
    standin, backend = ixc
    maria = await backend.login(MARIA.document, MARIA.password)  # stored as 318.456.720-62
    joao = await backend.login(JOAO.document, JOAO.password)  # stored unformatted
    assert (maria.subscriber_id, joao.subscriber_id) == ("3101", "3102")
    queries = [c.fields["query"] for c in standin.calls_to(f"{V1}/cliente")]
    assert queries[:3] == ["318.456.720-62", "402.117.839-27", "40211783927"]
    with pytest.raises(InvalidCredentials):
        await backend.login("52998224725", "inativo123")  # cliente.ativo = N


async def test_password_field_must_be_readable() -> None:
    standin, backend = await start_ixc(password_field="hotsite_senha")
    try:
        with pytest.raises(Unavailable, match="'hotsite_senha' field"):
            await backend.login(MARIA.document, MARIA.password)
    finally:
        await backend.close()
        await standin.close()


async def test_signed_session_survives_a_restart_but_not_a_new_key(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    assert MARIA.password not in session.token
    accounts = standin.accounts
    for secret, works in ((None, True), ("another-secret", False)):
        restarted = IxcBackend(
            standin.base_url, accounts["user"], accounts["token"], session_secret=secret,
            today=lambda: TODAY,
        )  # fmt: skip
        await restarted.start()
        try:
            if works:
                assert (await restarted.get_subscriber(session)).id == "3101"
            else:
                with pytest.raises(SessionExpired):
                    await restarted.get_subscriber(session)
        finally:
            await restarted.close()


async def test_desbloqueio_envelope_is_tipo_mensagem(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(JOAO.document, JOAO.password)
    path = f"{V1}/desbloqueio_confianca"
    standin.fail(path, Fault(json_body=MALFORMED["desbloqueio_with_type"], times=1))
    with pytest.raises(Unavailable, match=r"desbloqueio_confianca\.tipo is missing"):
        await backend.request_temporary_enabling(session, "4201")
    enabling = await backend.request_temporary_enabling(session, "4201")
    assert enabling.protocol == "202611280077"
    refusal = standin.recorded["desbloqueio_confianca"]["ja_utilizado"]["mensagem"]
    with pytest.raises(Rejected) as refused:
        await backend.request_temporary_enabling(session, "4201")
    assert refused.value.reason == refusal


async def test_refused_api_credentials_are_a_clear_unavailable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    standin, backend = await start_ixc()
    try:
        token = standin.accounts["token"]
        standin.accounts["token"] = "rotated"
        with pytest.raises(Unavailable, match="BACKEND_USER and BACKEND_TOKEN") as raised:
            await backend.login(MARIA.document, MARIA.password)
        assert token not in str(raised.value)
    finally:
        await backend.close()
        await standin.close()
    assert token not in caplog.text and MARIA.password not in caplog.text


async def test_listing_errors_and_shapes_fail_clearly(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    cases = [
        (Fault(json_body=ERRORS["no_permission"]["json"]), "não possui permissão"),
        (Fault(json_body=MALFORMED["listing_without_total"]), r"fn_areceber\.total is missing"),
        (Fault(json_body=MALFORMED["invoice_without_due_date"]), "data_vencimento is missing"),
        (Fault(json_body=MALFORMED["invoice_unknown_status"]), "status has an unknown value 'X'"),
        (Fault(status=500, text=ERRORS["server_error"]["text"], content_type="text/html"), "500"),
    ]
    for fault, message in cases:
        standin.fail(f"{V1}/fn_areceber", fault)
        with pytest.raises(Unavailable, match=message):
            await backend.list_invoices(session)
    standin.faults.clear()
    assert await backend.list_invoices(session)


async def test_listing_pages_through_everything(ixc: Pair) -> None:
    standin, backend = ixc
    backend._ixc.page_size = 2
    session = await backend.login(MARIA.document, MARIA.password)
    assert len(await backend.list_invoices(session, EVERYTHING)) == 7
    pages = [c.fields["page"] for c in standin.calls_to(f"{V1}/fn_areceber")]
    assert pages == ["1", "2", "3", "4"]


async def test_timeouts_retry_reads_and_never_writes() -> None:
    standin, backend = await start_ixc(timeout=0.3, read_retries=1)
    try:
        session = await backend.login(MARIA.document, MARIA.password)
        standin.fail(f"{V1}/fn_areceber", Fault(sleep=1.0))
        with pytest.raises(Unavailable, match="did not answer"):
            await backend.list_invoices(session)
        assert len(standin.calls_to(f"{V1}/fn_areceber")) == 2
        standin.faults.clear()
        standin.fail(f"{V1}/su_ticket", Fault(sleep=1.0))
        with pytest.raises(Unavailable):
            await backend.open_ticket(session, NewTicket("1", "Sem sinal"))
        inserts = [c for c in standin.calls_to(f"{V1}/su_ticket") if "ixcsoft" not in c.headers]
        assert len(inserts) == 1
    finally:
        await backend.close()
        await standin.close()


async def test_private_messages_never_reach_the_subscriber(ixc: Pair) -> None:
    _, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    ticket = await backend.get_ticket(session, "6101")
    assert all("NOTA INTERNA" not in m.text for m in ticket.messages)
    assert len(ticket.messages) == 3


async def test_pdfs_and_provider_refusals(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    standin.fail(f"{V1}/get_boleto", Fault(json_body=ERRORS["boleto_error"]["json"], times=1))
    with pytest.raises(Rejected, match="Boleto não encontrado"):
        await backend.get_boleto_pdf(session, "880104")
    standin.fail(f"{V1}/get_boleto", Fault(text=MALFORMED["boleto_not_pdf"], times=1))
    with pytest.raises(Unavailable, match="not a PDF"):
        await backend.get_boleto_pdf(session, "880104")
    assert (await backend.get_boleto_pdf(session, "880104")).content.startswith(b"%PDF-")


async def test_attachments_are_refused_before_anything_is_written(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    photo = Document("foto.jpg", "image/jpeg", b"\xff\xd8\xff")
    with pytest.raises(NotSupported):
        await backend.open_ticket(session, NewTicket("1", "Sem sinal", attachments=(photo,)))
    with pytest.raises(NotSupported):
        await backend.reply_ticket(session, "6102", "Segue foto", (photo,))
    assert not [c for c in standin.calls if c.path.endswith(("su_ticket", "su_mensagens"))
                and "ixcsoft" not in c.headers]  # fmt: skip


async def test_open_invoice_without_pix_is_still_shown(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    standin.fail(f"{V1}/get_pix", Fault(json_body=standin.recorded["get_pix_missing"]))
    invoice = await backend.get_invoice(session, "880104")
    assert invoice.pix_code is None and invoice.linha_digitavel
