"""The IXCSoft adapter over real HTTP against the local IXC stand-in: what is specific to IXC."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest

from backend_client.errors import (
    CredentialsRefused,
    InvalidCredentials,
    NotPermitted,
    Rejected,
    SessionExpired,
    Unavailable,
)
from backend_client.features import CheckState, Feature, FeatureCheck
from backend_client.formats.pix import brcode_amount
from backend_client.ixc import IxcBackend
from backend_client.models import Document, NewTicket
from backend_client.resilience import GuardedBackend
from tests.backends.conftest import EVERYTHING, JOAO, MARIA, TODAY, start_ixc
from tests.backends.standin import Fault, deep, fixture
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


async def test_desbloqueio_answers_tipo_mensagem_or_type_message(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(JOAO.document, JOAO.password)
    path = f"{V1}/desbloqueio_confianca"
    standin.fail(path, Fault(json_body={"codigo": "1"}, times=1))
    with pytest.raises(Unavailable, match=r"desbloqueio_confianca\.tipo is missing"):
        await backend.request_temporary_enabling(session, "4201")
    standin.fail(path, Fault(json_body=MALFORMED["desbloqueio_with_type"], times=1))
    enabling = await backend.request_temporary_enabling(session, "4201")
    assert enabling.protocol == ""  # no public answer carries a protocol number
    refusal = standin.recorded["desbloqueio_confianca"]["ja_utilizado"]["mensagem"]
    standin.row("cliente_contrato", "4201")["status_internet"] = "CA"
    enabling = await backend.request_temporary_enabling(session, "4201")  # tipo: sucesso
    assert enabling.protocol == ""
    with pytest.raises(Rejected) as refused:
        await backend.request_temporary_enabling(session, "4201")
    assert refused.value.reason == refusal


async def test_refused_api_credentials_are_credentials_refused_everywhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Only a wrong token or user id is HTTP 401 (public integrations: goixc)."""
    caplog.set_level(logging.DEBUG)
    standin, backend = await start_ixc()
    try:
        token = standin.accounts["token"]
        standin.accounts["token"] = "rotated"
        settings = "BACKEND_USER and BACKEND_TOKEN"
        for attempt in (
            lambda: backend.login(MARIA.document, MARIA.password),
            backend.ping,
            backend.check_features,
        ):
            with pytest.raises(CredentialsRefused, match=settings) as raised:
                await attempt()
            assert token not in str(raised.value)
    finally:
        await backend.close()
        await standin.close()
    assert token not in caplog.text and MARIA.password not in caplog.text
    assert MARIA.document not in caplog.text


async def test_ping_says_when_backend_url_is_not_the_webservice(ixc: Pair) -> None:
    standin, backend = ixc
    await backend.ping()
    standin.fail(f"{V1}/cliente", Fault(text="<html>Login</html>", content_type="text/html"))
    with pytest.raises(Unavailable, match="BACKEND_URL may not point at IXC's webservice"):
        await backend.ping()
    standin.fail(f"{V1}/cliente", Fault(text=standin.refused("cliente").text))
    await backend.ping()  # the credentials are good; check_features names what is refused


@pytest.mark.parametrize("refusal", ["no_permission", "no_permission_pt"])
async def test_a_refused_table_is_not_permitted_naming_it(ixc: Pair, refusal: str) -> None:
    """HTTP 200 with {"type": "error", "message": "Recurso <tabela> não está disponível!"} or
    {"tipo": "erro", "mensagem": "… sem permissão de acesso"} (public integrations: goixc)."""
    standin, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    text = ERRORS[refusal]["text"].replace("{TABLE}", "fn_areceber")
    standin.fail(f"{V1}/fn_areceber", Fault(text=text, content_type="text/html"))
    guarded = GuardedBackend(backend, timeout=5)
    with pytest.raises(NotPermitted) as raised:
        await guarded.list_invoices(session)
    assert raised.value.resource == "fn_areceber"
    assert guarded.lacks(Feature.INVOICES) and not guarded.lacks(Feature.TICKETS)


async def test_listing_errors_and_shapes_fail_clearly(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    cases = [
        (Fault(json_body=ERRORS["other_error"]["json"]), "fn_areceber: Erro ao executar"),
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


async def test_registros_as_an_indexed_object_and_totals_as_text() -> None:
    standin, backend = await start_ixc(frozenset({"indexed-registros"}))
    try:
        backend._ixc.page_size = 2
        session = await backend.login(MARIA.document, MARIA.password)
        invoices = await backend.list_invoices(session, EVERYTHING)
    finally:
        await backend.close()
        await standin.close()
    assert [i.id for i in invoices][:3] == ["880100", "880101", "880102"] and len(invoices) == 7


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


# --- a webservice user without the lookup tables ------------------------------------------------
RESTRICTED = frozenset({"restricted"})


async def test_a_restricted_user_still_gets_minha_conta_without_city_names(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    standin, backend = await start_ixc(RESTRICTED)
    try:
        session = await backend.login(MARIA.document, MARIA.password)
        person = await backend.get_subscriber(session)
        again = await backend.get_subscriber(session)
    finally:
        await backend.close()
        await standin.close()
    assert person == again
    assert (person.address.city, person.address.state) == ("", "")
    assert person.address.street == "Rua Coronel Quirino" and person.address.postal_code
    prices = {c.id: c.plan.monthly_price for c in person.contracts}
    assert prices == {"4101": Decimal("99.90"), "4102": None}  # vd_contratos refused
    refused = [r for r in caplog.records if "may not read" in r.getMessage()]
    assert sorted(r.getMessage().split("may not read ")[1].split(":")[0] for r in refused) == [
        "cidade",
        "vd_contratos",
    ]  # once each, though asked twice (uf was never reached: cidade names it)
    assert all(r.levelname == "WARNING" for r in refused)
    assert len(standin.calls_to(f"{V1}/cidade")) == 1  # not asked again for a while
    assert MARIA.document not in caplog.text and "Coronel" not in caplog.text


async def test_a_restricted_user_gets_tickets_with_the_configured_subjects() -> None:
    standin, backend = await start_ixc(RESTRICTED)
    try:
        session = await backend.login(MARIA.document, MARIA.password)
        subjects = await backend.list_ticket_subjects(session)
        assert [s.name for s in subjects] == ["Sem conexão", "Lentidão", "Financeiro"]
        tickets = await backend.list_tickets(session)
        assert {t.subject for t in tickets} == {"Sem conexão", "Lentidão"}
        opened = await backend.open_ticket(session, NewTicket("2", "Lenta de novo."))
        assert opened.subject == "Lentidão"
        inserted = [c for c in standin.calls_to(f"{V1}/su_ticket") if "ixcsoft" not in c.headers]
        assert inserted[0].fields["id_assunto"] == "2"
        assert inserted[0].fields["titulo"] == "Lentidão"
    finally:
        await backend.close()
        await standin.close()


async def test_without_subjects_tickets_are_read_but_not_opened() -> None:
    standin, backend = await start_ixc(RESTRICTED, ticket_subjects=())
    guarded = GuardedBackend(backend, timeout=5)
    try:
        session = await backend.login(MARIA.document, MARIA.password)
        tickets = await backend.list_tickets(session)
        assert {t.subject for t in tickets} == {"Sem conexão", "Lentidão"}  # from titulo
        assert len((await backend.get_ticket(session, "6101")).messages) == 3
        with pytest.raises(NotPermitted) as raised:
            await guarded.list_ticket_subjects(session)
        assert raised.value.resource == "su_oss_assunto"
        with pytest.raises(NotPermitted):
            await backend.open_ticket(session, NewTicket("1", "Sem sinal"))
        assert not [c for c in standin.calls_to(f"{V1}/su_ticket") if "ixcsoft" not in c.headers]
    finally:
        await backend.close()
        await standin.close()


async def test_fiscal_notes_refused_are_not_permitted_naming_vd_saida() -> None:
    standin, backend = await start_ixc(RESTRICTED)
    guarded = GuardedBackend(backend, timeout=5)
    try:
        del standin.tables["vd_saida"]
        session = await backend.login(MARIA.document, MARIA.password)
        with pytest.raises(NotPermitted) as raised:
            await guarded.list_fiscal_notes(session, EVERYTHING)
        assert raised.value.resource == "vd_saida"
        assert guarded.lacks(Feature.FISCAL_NOTES) and not guarded.lacks(Feature.ACCOUNT)
        assert (await guarded.get_subscriber(session)).contracts
    finally:
        await backend.close()
        await standin.close()


async def test_check_features_names_what_a_restricted_user_lacks() -> None:
    standin, backend = await start_ixc(RESTRICTED)
    without_subjects = IxcBackend(
        standin.base_url, standin.accounts["user"], standin.accounts["token"], today=lambda: TODAY
    )
    await without_subjects.start()
    try:
        del standin.tables["vd_saida"]
        checks = {check.feature: check for check in await backend.check_features()}
        bare = {check.feature: check for check in await without_subjects.check_features()}
    finally:
        await without_subjects.close()
        await backend.close()
        await standin.close()
    assert list(checks) == list(Feature)
    account = checks[Feature.ACCOUNT]
    assert account.state is CheckState.OK
    assert "without city names: cidade not permitted" in account.detail
    assert "uf not permitted" in account.detail and "vd_contratos not permitted" in account.detail
    assert checks[Feature.FISCAL_NOTES] == FeatureCheck(
        Feature.FISCAL_NOTES, CheckState.NOT_PERMITTED, "vd_saida"
    )
    assert checks[Feature.TICKETS].state is CheckState.OK  # following tickets needs no subjects
    new_ticket = checks[Feature.NEW_TICKET]
    assert new_ticket.state is CheckState.OK and "su_oss_assunto not permitted" in new_ticket.detail
    assert bare[Feature.TICKETS].state is CheckState.OK
    assert bare[Feature.NEW_TICKET] == FeatureCheck(
        Feature.NEW_TICKET, CheckState.NOT_PERMITTED, "su_oss_assunto"
    )
    for feature in (Feature.INVOICES, Feature.STATEMENT, Feature.CALLS, Feature.CONNECTIONS):
        assert checks[feature] == FeatureCheck(feature, CheckState.OK)
    assert checks[Feature.TICKET_ATTACHMENTS] == FeatureCheck(
        Feature.TICKET_ATTACHMENTS, CheckState.OK
    )
    for feature in (Feature.CONTACTS, Feature.NEW_CONTACT, Feature.CONTACT_LINK):
        assert checks[feature].state is CheckState.NOT_SUPPORTED
    for feature in (Feature.DUE_DAY, Feature.PASSWORD):
        assert checks[feature].state is CheckState.NOT_SUPPORTED
    probes = [c for c in standin.calls if "ixcsoft" in c.headers]
    assert probes and all(c.fields["rp"] == "1" for c in probes)
    assert not [c for c in standin.calls if "ixcsoft" not in c.headers]  # nothing written


async def test_check_features_of_a_full_user_is_all_ok(ixc: Pair) -> None:
    _, backend = ixc
    checks = await backend.check_features()
    assert [c.state for c in checks if c.feature not in backend.unsupported_features()] == [
        CheckState.OK
    ] * (len(Feature) - len(backend.unsupported_features()))
    assert all(not c.detail for c in checks)


# --- values as IXC stores them ------------------------------------------------------------------
async def test_minha_conta_values_phones_as_e164_city_and_prices(ixc: Pair) -> None:
    _, backend = ixc
    maria = await backend.get_subscriber(await backend.login(MARIA.document, MARIA.password))
    assert maria.phones == ("5519991234567", "551932541234")  # "(19) 99123-4567", "(19) 3254-1234"
    assert (maria.address.city, maria.address.state) == ("Campinas", "SP")
    prices = {c.id: c.plan.monthly_price for c in maria.contracts}
    assert prices == {"4101": Decimal("99.90"), "4102": Decimal("39.90")}  # vd_contratos
    joao = await backend.get_subscriber(await backend.login(JOAO.document, JOAO.password))
    assert joao.phones == ("5519998765432", "551932549876")  # "3254-9876" takes the DDD 19


async def test_a_plan_without_any_price_has_none(ixc: Pair) -> None:
    standin, backend = ixc
    standin.row("cliente_contrato", "4101")["valor_unitario"] = ""
    standin.row("vd_contratos", "12")["valor_contrato"] = "0.00"
    person = await backend.get_subscriber(await backend.login(MARIA.document, MARIA.password))
    assert {c.id: c.plan.monthly_price for c in person.contracts}["4101"] is None


async def test_call_records_numbers_as_e164_and_kinds(ixc: Pair) -> None:
    _, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    lines = await backend.list_phone_lines(session)
    assert [(line.id, line.number) for line in lines] == [("4102", "551932345678")]
    calls = await backend.list_call_records(session, "4102", EVERYTHING)
    assert [(c.called_number, c.terminal_type_id) for c in calls] == [
        ("08007777777", "0800"),
        ("551932541234", "local"),  # dialled "32541234": the line's DDD
        ("5511991234567", "mobile"),  # "DDD MÓVEL", dialled "011991234567"
        ("551130000000", "ddd"),
    ]
    mobile = await backend.list_call_records(session, "4102", EVERYTHING, "mobile")
    assert [c.id for c in mobile] == ["660002"]


async def test_a_line_stored_without_its_ddd_takes_the_subscribers(ixc: Pair) -> None:
    standin, backend = ixc
    for row in standin.tables["cdr"]:
        row["src"] = "32345678"
    session = await backend.login(MARIA.document, MARIA.password)
    assert (await backend.list_phone_lines(session))[0].number == "551932345678"
    calls = await backend.list_call_records(session, "4102", EVERYTHING)
    assert "551932541234" in {c.called_number for c in calls}


# --- an overdue invoice: the updated 2ª via -------------------------------------------------------
SECOND_COPY = frozenset({"second-copy"})
UPDATED_LINHA = "23793381029000008801404001234501616460000010387"


async def test_an_overdue_invoice_shows_the_2a_via_amount_linha_and_a_pix_of_that_amount() -> None:
    standin, backend = await start_ixc(SECOND_COPY)
    try:
        session = await backend.login(MARIA.document, MARIA.password)
        invoice = await backend.get_invoice(session, "880104")  # due 10/11, today 28/11
        pdf = await backend.get_boleto_pdf(session, "880104")
    finally:
        await backend.close()
        await standin.close()
    assert (invoice.amount, invoice.due_date) == (Decimal("99.90"), date(2026, 11, 10))
    assert (invoice.charged_amount, invoice.charged_due) == (Decimal("103.87"), date(2026, 11, 30))
    assert invoice.linha_digitavel == UPDATED_LINHA
    assert (invoice.fine, invoice.interest) == (Decimal("2.00"), Decimal("1.97"))
    assert invoice.updated_amount == Decimal("103.87")
    assert invoice.pix_code is not None and brcode_amount(invoice.pix_code) == Decimal("103.87")
    assert pdf.content.startswith(b"%PDF-")
    boletos = [c.fields for c in standin.calls_to(f"{V1}/get_boleto")]
    assert [b["tipo_boleto"] for b in boletos] == ["dados", "arquivo"]
    assert all((b["juro"], b["multa"], b["atualiza_boleto"]) == ("S", "S", "S") for b in boletos)


async def test_a_pix_of_another_amount_is_left_out_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    standin, backend = await start_ixc(SECOND_COPY)
    try:
        session = await backend.login(MARIA.document, MARIA.password)
        original = standin.recorded["get_pix"]["880104"]  # 99.90, the 2ª via charges 103.87
        standin.fail(f"{V1}/get_pix", Fault(json_body=original))
        first = await backend.get_invoice(session, "880104")
        second = await backend.get_invoice(session, "880104")
    finally:
        await backend.close()
        await standin.close()
    assert first.pix_code is None and second.pix_code is None
    assert first.linha_digitavel == UPDATED_LINHA and first.charged_amount == Decimal("103.87")
    mismatch = [r for r in caplog.records if "another amount" in r.getMessage()]
    assert len(mismatch) == 1 and mismatch[0].levelname == "WARNING"
    assert "99.90" not in caplog.text and "103.87" not in caplog.text


async def test_an_overdue_invoice_ixc_does_not_reissue_keeps_its_boleto(ixc: Pair) -> None:
    _, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    invoice = await backend.get_invoice(session, "880104")  # "dados" gives the original due date
    assert (invoice.charged_amount, invoice.charged_due) == (None, None)
    assert invoice.linha_digitavel == "23793381029000008801404001234501216260000009990"
    assert invoice.updated_amount == Decimal("99.90")
    assert invoice.pix_code is not None and brcode_amount(invoice.pix_code) == Decimal("99.90")


async def test_a_2a_via_whose_linha_charges_another_amount_is_not_used(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    reissue = deep(standin.recorded["second_copy"]["dados"]["880104"])
    reissue[0]["valor_boleto"] = "110.00"
    standin.fail(f"{V1}/get_boleto", Fault(json_body=reissue, times=1))
    invoice = await backend.get_invoice(session, "880104")
    assert invoice.charged_amount is None and invoice.linha_digitavel != UPDATED_LINHA


async def test_open_invoice_without_pix_is_still_shown(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    for fault in (
        Fault(json_body=standin.recorded["get_pix_missing"]),
        Fault(status=500, text=ERRORS["pix_of_unknown_invoice"]["text"], content_type="text/html"),
        Fault(text=standin.refused("get_pix").text, content_type="text/html"),
    ):
        standin.fail(f"{V1}/get_pix", fault)
        invoice = await backend.get_invoice(session, "880105")
        assert invoice.pix_code is None and invoice.linha_digitavel
    paid = deep(standin.recorded["get_pix"]["880105"])
    paid["pix"]["dadosPix"]["status"] = "CONCLUIDA"
    standin.fail(f"{V1}/get_pix", Fault(json_body=paid))
    assert (await backend.get_invoice(session, "880105")).pix_code is None


async def test_a_boleto_ixc_has_no_pdf_for_is_refused_clearly(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    standin.fail(f"{V1}/get_boleto", Fault(text="", content_type="text/html", times=1))
    with pytest.raises(Rejected, match="não está disponível"):
        await backend.get_boleto_pdf(session, "880105")
    standin.fail(f"{V1}/get_boleto", Fault(text=standin.refused("get_boleto").text, times=1))
    with pytest.raises(NotPermitted) as raised:
        await backend.get_boleto_pdf(session, "880105")
    assert raised.value.resource == "get_boleto"


# --- ticket attachments: su_ticket_arquivos -------------------------------------------------------
PHOTO = Document("foto.jpg", "image/jpeg", b"\xff\xd8\xff\xe0 not really a photo")
PDF_FILE = Document("laudo.pdf", "application/pdf", b"%PDF-1.4 laudo")


def _writes(standin: IxcStandIn) -> list[str]:
    return [c.path.rsplit("/", 1)[1] for c in standin.calls if "ixcsoft" not in c.headers]


async def test_an_attachment_reaches_su_ticket_arquivos_as_multipart(ixc: Pair) -> None:
    standin, backend = ixc
    assert Feature.TICKET_ATTACHMENTS not in backend.unsupported_features()
    session = await backend.login(MARIA.document, MARIA.password)
    opened = await backend.open_ticket(
        session, NewTicket("1", "Sem sinal, foto da ONU.", attachments=(PHOTO, PDF_FILE))
    )
    replied = await backend.reply_ticket(session, opened.id, "Mais uma.", (PHOTO,))
    assert replied.messages[-1].text == "Mais uma."
    assert _writes(standin) == [
        "su_ticket",
        "su_ticket_arquivos",
        "su_ticket_arquivos",
        "su_ticket_arquivos",  # a reply's files go first…
        "su_mensagens",  # …then its text
    ]
    uploads = [c for c in standin.calls_to(f"{V1}/su_ticket_arquivos")]
    assert all(c.headers["Content-Type"].startswith("multipart/form-data") for c in uploads)
    assert all(c.headers["Authorization"].startswith("Basic ") for c in uploads)
    first = standin.uploads[0]
    assert first["fields"] == {"id_ticket": opened.id, "descricao": "foto.jpg"}
    assert (first["filename"], first["content_type"]) == ("foto.jpg", "image/jpeg")
    assert first["content"] == PHOTO.content
    assert standin.uploads[1]["content"] == PDF_FILE.content
    files_only = await backend.reply_ticket(session, opened.id, "", (PDF_FILE,))
    assert files_only.messages[-1].text == "Mais uma."  # no empty message
    with pytest.raises(Rejected):
        await backend.reply_ticket(session, opened.id, "  ")


async def test_refused_attachments_write_nothing_on_a_reply_and_keep_the_new_ticket(
    ixc: Pair,
) -> None:
    standin, backend = ixc
    del standin.tables["su_ticket_arquivos"]
    guarded = GuardedBackend(backend, timeout=5)
    session = await backend.login(MARIA.document, MARIA.password)
    with pytest.raises(NotPermitted) as raised:
        await guarded.reply_ticket(session, "6102", "Segue foto", (PHOTO,))
    assert (raised.value.operation, raised.value.resource) == (
        "ticket_attachments",
        "su_ticket_arquivos",
    )
    assert guarded.lacks(Feature.TICKET_ATTACHMENTS) and not guarded.lacks(Feature.TICKETS)
    assert "su_mensagens" not in _writes(standin)
    new = NewTicket("1", "Sem sinal.", attachments=(PHOTO,), idempotency_key="k-files")
    with pytest.raises(NotPermitted):
        await backend.open_ticket(session, new)
    # The bot offers to send the text without the files: the same key, the same ticket.
    again = await backend.open_ticket(
        session, NewTicket("1", "Sem sinal.", idempotency_key="k-files")
    )
    assert _writes(standin).count("su_ticket") == 1
    assert again.messages[0].text == "Sem sinal."


async def test_a_submission_sent_again_uploads_only_the_missing_files(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    new = NewTicket("1", "Sem sinal.", attachments=(PHOTO, PDF_FILE), idempotency_key="k-2")
    path = f"{V1}/su_ticket_arquivos"
    standin.fail(path, Fault(status=502, text="Bad Gateway", times=1))
    with pytest.raises(Unavailable):
        await backend.open_ticket(session, new)  # the ticket went, its first file did not
    assert len(standin.calls_to(path)) == 1  # a write is never retried
    again = await backend.open_ticket(session, new)
    assert [u["filename"] for u in standin.uploads] == ["foto.jpg", "laudo.pdf"]
    once_more = await backend.open_ticket(session, new)
    assert once_more.id == again.id and len(standin.uploads) == 2  # both are there by name
    assert _writes(standin).count("su_ticket") == 1


async def test_a_file_ixc_refuses_names_it(ixc: Pair) -> None:
    standin, backend = ixc
    session = await backend.login(MARIA.document, MARIA.password)
    refusal = {"type": "error", "message": "Extensão de arquivo não permitida."}
    standin.fail(f"{V1}/su_ticket_arquivos", Fault(json_body=refusal, times=1))
    with pytest.raises(Rejected) as refused:
        await backend.reply_ticket(session, "6102", "Segue", (PHOTO,))
    assert "foto.jpg" in refused.value.reason and "Extensão" in refused.value.reason
