"""Attachment rules: the Telegram-free policy, then the same rules as a subscriber meets them."""

from __future__ import annotations

import pytest

from bot.services import attachments
from bot.services.attachments import (
    MAX_FILE_BYTES,
    AttachmentRefused,
    ContentCache,
    Problem,
    check_before_download,
    check_content,
    declared_type,
    safe_filename,
    sniff,
)
from tests.support.bot_env import BotEnv, login
from tests.support.driver import ChatDriver, methods
from tests.support.driver import texts as shown
from tests.support.fake_telegram import TelegramRejection

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 64
GIF = b"GIF89a" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 16
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 64
ZIP = b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 64
MB = 1024 * 1024


# --- the policy ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (WEBP, "image/webp"),
        (HEIC, "image/heic"),
        (PDF, "application/pdf"),
        (b"\n\n%PDF-1.4 after a little garbage", "application/pdf"),
        (EXE, None),
        (ZIP, None),
        (b"just words", None),
        (b"", None),
    ],
)
def test_sniff_recognises_signatures(content: bytes, expected: str | None) -> None:
    assert sniff(content) == expected


@pytest.mark.parametrize(
    ("mime", "filename", "expected"),
    [
        ("application/pdf", "a.pdf", "application/pdf"),
        ("Application/PDF; name=x", "a", "application/pdf"),
        ("image/jpg", "a.jpg", "image/jpeg"),
        ("application/octet-stream", "Laudo.PDF", "application/pdf"),
        (None, "notas.txt", "text/plain"),
        (None, "sem-extensao", ""),
        ("application/octet-stream", "setup.exe", ""),
        ("application/zip", "fotos.zip", "application/zip"),
        (None, ".pdf", ""),  # a hidden file, not an extension
    ],
)
def test_declared_type_uses_the_mime_type_then_the_extension(
    mime: str | None, filename: str, expected: str
) -> None:
    assert declared_type(mime, filename) == expected


def test_checks_before_downloading() -> None:
    assert check_before_download("a.pdf", "application/pdf", 1000, 0) == "application/pdf"
    assert check_before_download("a.pdf", "application/pdf", None, 4) == "application/pdf"
    assert check_before_download("a.png", "image/png", MAX_FILE_BYTES, 0) == "image/png"
    cases = [
        (("a.pdf", "application/pdf", 10, 5), Problem.TOO_MANY),
        (("a.pdf", "application/pdf", MAX_FILE_BYTES + 1, 0), Problem.TOO_BIG),
        (("a.pdf", "application/pdf", 0, 0), Problem.EMPTY),
        (("setup.exe", "application/x-msdownload", 100, 0), Problem.TYPE_NOT_ALLOWED),
        (("fotos.zip", "application/zip", 100, 0), Problem.TYPE_NOT_ALLOWED),
        (("logo.svg", "image/svg+xml", 100, 0), Problem.TYPE_NOT_ALLOWED),
        (("video.mp4", "video/mp4", 100, 0), Problem.TYPE_NOT_ALLOWED),
    ]
    for args, problem in cases:
        with pytest.raises(AttachmentRefused) as refused:
            check_before_download(*args)
        assert refused.value.problem is problem, args
        assert refused.value.filename == args[0]


def test_content_must_be_what_the_file_claims() -> None:
    accepted = check_content("foto.png", "image/png", PNG)
    assert (accepted.filename, accepted.content_type, accepted.size) == (
        "foto.png",
        "image/png",
        len(PNG),
    )
    # An image labelled with the wrong image type is still an image: its real type is kept.
    relabelled = check_content("foto.png", "image/png", JPEG)
    # ... and its name too, never "foto.png.jpg" (issue 21).
    assert (relabelled.content_type, relabelled.filename) == ("image/jpeg", "foto.png")
    assert check_content("leia.txt", "text/plain", "Olá, ação!".encode()).content_type == (
        "text/plain"
    )
    assert check_content("bom.txt", "text/plain", b"\xef\xbb\xbfcom BOM\r\n").filename == "bom.txt"
    refusals = [
        ("falso.pdf", "application/pdf", EXE),
        ("falso.pdf", "application/pdf", b"not a pdf at all"),
        ("foto.jpg", "image/jpeg", PDF),
        ("foto.jpg", "image/jpeg", ZIP),
        ("latin1.txt", "text/plain", "ação".encode("latin-1")),
        ("binario.txt", "text/plain", b"abc\x00def"),
        ("disfarce.txt", "text/plain", PNG),
        ("vazio.txt", "text/plain", b"   \n"),
    ]
    for filename, declared, content in refusals:
        with pytest.raises(AttachmentRefused) as refused:
            check_content(filename, declared, content)
        assert refused.value.problem is Problem.CONTENT_MISMATCH, filename
    with pytest.raises(AttachmentRefused) as too_big:
        check_content("grande.pdf", "application/pdf", b"%PDF-" + b"0" * MAX_FILE_BYTES)
    assert too_big.value.problem is Problem.TOO_BIG
    with pytest.raises(AttachmentRefused) as empty:
        check_content("vazio.pdf", "application/pdf", b"")
    assert empty.value.problem is Problem.EMPTY


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("laudo.pdf", "application/pdf", "laudo.pdf"),
        ("Laudo Técnico.PDF", "application/pdf", "Laudo Técnico.PDF"),
        ("../../etc/passwd", "text/plain", "passwd.txt"),
        ("C:\\Users\\ana\\foto.jpeg", "image/jpeg", "foto.jpeg"),
        ("re<la>tó:rio?.pdf", "application/pdf", "re_la_tó_rio_.pdf"),
        ("nome\x00com\ncontrole.txt", "text/plain", "nomecomcontrole.txt"),
        (".bashrc", "text/plain", "bashrc.txt"),
        ("relatorio", "application/pdf", "relatorio.pdf"),
        ("virus.pdf.exe", "application/pdf", "virus.pdf.exe.pdf"),
        ("CON.txt", "text/plain", "_CON.txt"),
        ("", "image/png", "arquivo.png"),
        (None, "application/pdf", "arquivo.pdf"),
        ("...", "application/pdf", "arquivo.pdf"),
        ("  muitos     espaços  .txt", "text/plain", "muitos espaços.txt"),
        ("x" * 300 + ".pdf", "application/pdf", "x" * 96 + ".pdf"),
    ],
)
def test_safe_filenames(name: str | None, content_type: str, expected: str) -> None:
    assert safe_filename(name, content_type) == expected


def test_photos_get_numbered_names_and_only_common_images_go_as_photo() -> None:
    assert attachments.photo_filename(2) == "foto-2.jpg"
    assert attachments.is_sendable_photo("image/png", 1000)
    assert not attachments.is_sendable_photo("image/gif", 1000)
    assert not attachments.is_sendable_photo("image/heic", 1000)
    assert not attachments.is_sendable_photo("image/jpeg", MAX_FILE_BYTES + 1)


def test_the_download_cache_is_bounded_and_per_chat() -> None:
    cache = ContentCache(max_bytes=10)
    cache.put((1, "a"), b"1234")
    cache.put((1, "b"), b"5678")
    cache.put((2, "a"), b"90")
    assert cache.size == 10 and len(cache) == 3
    assert cache.get((1, "a")) == b"1234"  # now the most recently used
    cache.put((2, "b"), b"xyz")  # evicts the least recently used: (1, "b")
    assert cache.get((1, "b")) is None and cache.get((1, "a")) == b"1234"
    assert cache.size <= 10
    cache.put((3, "huge"), b"x" * 11)  # bigger than the whole cache: not kept
    assert cache.get((3, "huge")) is None
    cache.discard_where(2)
    assert cache.get((2, "a")) is None and cache.get((2, "b")) is None
    assert cache.get((1, "a")) == b"1234"
    cache.put((1, "a"), b"12")  # replacing keeps the accounting right
    assert cache.size == 2


# --- the same rules in the chat ------------------------------------------------------------------
async def at_attachments(chat: ChatDriver) -> None:
    await login(chat)
    await chat.press("menu:tickets")
    await chat.tap("Novo atendimento")
    await chat.tap("Sem conexão")
    calls = await chat.send("Sem internet desde ontem, segue o que tenho.")
    assert "Anexos (opcional)" in shown(calls)


def getfile_calls(env: BotEnv) -> int:
    return methods(env.api.calls).count("getFile")


async def test_an_oversize_file_is_refused_without_downloading(
    env: BotEnv, chat: ChatDriver
) -> None:
    await at_attachments(chat)
    calls = await chat.send_document(PDF, "laudo.pdf", "application/pdf")
    assert "Anexo recebido" in shown(calls)
    downloads = getfile_calls(env)
    calls = await chat.send_document(
        PDF, "video-do-modem.pdf", "application/pdf", file_size=11 * MB
    )
    said = shown(calls)
    assert "video-do-modem.pdf tem 11 MB e passa do limite de 10 MB" in said
    assert "continua guardado" in said
    assert getfile_calls(env) == downloads  # nothing was downloaded
    calls = await chat.tap("Concluir anexos")
    assert "Anexos (1):" in shown(calls) and "laudo.pdf" in shown(calls)


async def test_forbidden_types_are_refused_by_name_and_the_flow_goes_on(
    env: BotEnv, chat: ChatDriver
) -> None:
    await at_attachments(chat)
    await chat.send_photo(JPEG)
    calls = await chat.send_document(EXE, "boleto.exe", "application/x-msdownload")
    said = shown(calls)
    assert "Não aceito o arquivo boleto.exe" in said
    assert "Tipos aceitos: imagens" in said and "PDF" in said and "texto (.txt)" in said
    calls = await chat.send_document(ZIP, "fotos.zip", "application/zip")
    assert "fotos.zip" in shown(calls) and "não é permitido" in shown(calls)
    calls = await chat.send_document(EXE, "falso.pdf", "application/pdf")
    said = shown(calls)
    assert "falso.pdf diz ser um PDF, mas o conteúdo do arquivo não confere" in said
    calls = await chat.send_document(PNG, "disfarce.jpg", "image/jpeg")  # a PNG: still an image
    assert "Anexo recebido: disfarce.jpg" in shown(calls) and "(2 de 5)" in shown(calls)
    calls = await chat.send_document("ação".encode("latin-1"), "notas.txt", "text/plain")
    assert "UTF-8" in shown(calls)
    calls = await chat.send_document(PDF, "Laudo", "application/octet-stream")
    assert "Anexo recebido" not in shown(calls)  # nothing says it is a PDF
    calls = await chat.send_document(PDF, "Laudo.PDF", "application/octet-stream")
    assert "Anexo recebido: Laudo.PDF (3 de 5)" in shown(calls)
    calls = await chat.tap("Concluir anexos")
    said = shown(calls)
    assert "Anexos (3):" in said and "boleto.exe" not in said
    calls = await chat.tap("Confirmar")
    assert "Atendimento aberto" in shown(calls)


async def test_more_than_five_attachments_are_refused(env: BotEnv, chat: ChatDriver) -> None:
    await at_attachments(chat)
    for number in range(5):
        calls = await chat.send_document(
            PDF + bytes([number]), f"doc{number}.pdf", "application/pdf"
        )
        assert f"({number + 1} de 5)" in shown(calls)
    assert "limite de anexos" in shown(calls)
    downloads = getfile_calls(env)
    calls = await chat.send_photo(JPEG)
    said = shown(calls)
    assert "foto-1.jpg não foi anexado: o limite é de 5 anexos" in said
    assert getfile_calls(env) == downloads
    calls = await chat.tap("Concluir anexos")
    assert "Anexos (5):" in shown(calls)
    assert "tk:more" not in [data for _, data in calls[-1].buttons]  # full: no "attach more"


async def test_the_same_file_twice_is_attached_once(chat: ChatDriver) -> None:
    await at_attachments(chat)
    calls = await chat.send_document(PDF, "laudo.pdf", "application/pdf")
    assert "Anexo recebido" in shown(calls)
    sent = list(chat.api.files.values())[-1]
    calls = await chat.send_message_with(  # the same file again (e.g. forwarded)
        document={
            "file_id": sent.file_id,
            "file_unique_id": sent.file_unique_id,
            "file_name": "laudo.pdf",
            "mime_type": "application/pdf",
            "file_size": len(PDF),
        }
    )
    assert "laudo.pdf já está anexado" in shown(calls)
    calls = await chat.tap("Concluir anexos")
    assert "Anexos (1):" in shown(calls)


async def test_a_failed_download_names_the_file_and_keeps_the_rest(
    env: BotEnv, chat: ChatDriver
) -> None:
    await at_attachments(chat)
    await chat.send_document(PDF, "laudo.pdf", "application/pdf")
    env.api.fail_methods["getFile"] = TelegramRejection("Bad Gateway", 502)
    calls = await chat.send_photo(JPEG)
    said = shown(calls)
    assert "Não consegui baixar foto-1.jpg do Telegram" in said and "continua guardado" in said
    del env.api.fail_methods["getFile"]
    stored = env.api.register_file(PDF)
    env.api.broken_downloads.add(stored.file_id)
    calls = await chat.send_message_with(
        document={
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": "contrato.pdf",
            "mime_type": "application/pdf",
        }
    )
    assert "Não consegui baixar contrato.pdf do Telegram" in shown(calls)
    calls = await chat.send_photo(JPEG)  # sent again: now it works
    assert "Anexo recebido: foto-1.jpg (2 de 5)" in shown(calls)
    calls = await chat.tap("Concluir anexos")
    assert "Anexos (2):" in shown(calls) and "contrato.pdf" not in shown(calls)


async def test_telegram_refusing_a_huge_file_is_a_download_failure(
    env: BotEnv, chat: ChatDriver
) -> None:
    """An update without file_size for a file over 20 MB: getFile says "file is too big"."""
    await at_attachments(chat)
    stored = env.api.register_file(PDF, file_size=25 * MB)
    calls = await chat.send_message_with(
        document={
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": "enorme.pdf",
            "mime_type": "application/pdf",
        }
    )
    assert "Não consegui baixar enorme.pdf" in shown(calls)
    assert methods(calls).count("getFile") == 1 and stored.file_id not in env.api.downloads


async def test_videos_and_stickers_are_not_attachments(chat: ChatDriver) -> None:
    await at_attachments(chat)
    calls = await chat.send_message_with(
        video={
            "file_id": "v1",
            "file_unique_id": "uv1",
            "width": 640,
            "height": 480,
            "duration": 3,
        }
    )
    assert "não pode ser anexado" in shown(calls) and "PDF" in shown(calls)
    calls = await chat.send("posso mandar um vídeo?")
    assert "Agora é a vez dos anexos" in shown(calls)
    calls = await chat.tap("Pular")
    assert "Sem anexos." in shown(calls)


async def test_files_sent_on_the_summary_are_added_to_it(chat: ChatDriver) -> None:
    await at_attachments(chat)
    await chat.tap("Pular")
    calls = await chat.send_document(
        b"velocidade: 312 Mbps", "teste.txt", "text/plain", caption="Resultado do teste"
    )
    said = shown(calls)
    assert "Anexo recebido: teste.txt (1 de 5)" in said and "Anexos (1):" in said
    assert "Resultado do teste" in said  # the caption joined the message
    calls = await chat.tap("Anexar mais arquivos")
    assert "Você já enviou 1 de 5 anexos" in shown(calls)
