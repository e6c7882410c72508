"""Atendimentos (seed 1.9, 1.9.1): following, opening and answering tickets, with attachments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from backend_client.models import Contract, Ticket, TicketStatus
from bot.services.attachments import (
    MAX_FILE_BYTES,
    MAX_FILES_PER_MESSAGE,
    AttachmentRefused,
    Kind,
    Problem,
    extension_of,
)
from bot.services.tickets import Mode, TicketDraft, description
from bot.ui.formatting import day, day_time, esc

MIN_DESCRIPTION_CHARS = 10
MAX_TEXT_CHARS = 3000  # a description or reply; the summary screen must stay under 4096

# --- buttons (plain text, never HTML) ----------------------------------------------------------
TAB_LABELS = {
    TicketStatus.OPEN: "Abertos",
    TicketStatus.PENDING: "Pendentes",
    TicketStatus.CLOSED: "Fechados",
}
BUTTON_NEW = "➕ Novo atendimento"
BUTTON_NEW_ABOUT = "➕ Abrir novo atendimento sobre este"
BUTTON_REPLY = "💬 Responder"
BUTTON_LIST = "⬅️ Atendimentos"
BUTTON_VIEW = "📄 Ver atendimento"
BUTTON_CANCEL = "✖️ Cancelar"
BUTTON_SKIP = "Pular"
BUTTON_DONE = "✅ Concluir anexos"
BUTTON_CONFIRM = "✅ Confirmar"
BUTTON_MORE = "📎 Anexar mais arquivos"
BUTTON_TRY_AGAIN = "🔁 Tentar de novo"


def tab_button(status: TicketStatus, count: int, active: bool) -> str:
    label = f"{TAB_LABELS[status]} ({count})"
    return f"● {label}" if active else label


def ticket_button(ticket: Ticket) -> str:
    return f"📄 {ticket.protocol} · {_shorten(ticket.subject, 28)}"


def attachment_button(filename: str) -> str:
    return f"📎 {_shorten(filename, 40)}"


def subject_button(name: str) -> str:
    return _shorten(name, 40)


def contract_button(contract: Contract) -> str:
    return _shorten(f"Contrato {contract.number} · {contract.plan.name}", 60)


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


# --- list --------------------------------------------------------------------------------------
TITLE = "🛠 <b>Atendimentos</b>"
STATUS = {
    TicketStatus.OPEN: "🟢 Aberto",
    TicketStatus.PENDING: "🟡 Pendente",
    TicketStatus.CLOSED: "⚫ Fechado",
}
STATUS_HINT = {
    TicketStatus.OPEN: "aguardando o provedor",
    TicketStatus.PENDING: "aguardando a sua resposta",
    TicketStatus.CLOSED: "encerrado",
}
_EMPTY_TAB = {
    TicketStatus.OPEN: "Você não tem atendimentos abertos.",
    TicketStatus.PENDING: "Você não tem atendimentos pendentes.",
    TicketStatus.CLOSED: "Você não tem atendimentos fechados.",
}


def ticket_list(
    status: TicketStatus,
    tickets: Sequence[Ticket],
    first: int,
    page: int,
    pages: int,
    *,
    can_open: bool = True,
) -> str:
    heading = f"{TITLE} — {TAB_LABELS[status].lower()}"
    if pages > 1:
        heading += f" (página {page + 1} de {pages})"
    if not tickets:
        ask = f"toque em {BUTTON_NEW}" if can_open else "fale com o atendimento do provedor"
        return f"{heading}\n\n{_EMPTY_TAB[status]}\n\nPara pedir ajuda, {ask}."
    lines = [heading]
    for number, ticket in enumerate(tickets, start=first + 1):
        lines += [
            "",
            f"<b>{number}.</b> Protocolo <code>{esc(ticket.protocol)}</code>",
            f"Assunto: {esc(ticket.subject)}",
            f"Aberto em {day(ticket.opened_at.date())} · {STATUS[ticket.status]}",
            f"Última atualização: {day_time(ticket.updated_at)}",
        ]
    lines += ["", "Toque num atendimento para ver o histórico."]
    return "\n".join(lines)


# --- detail ------------------------------------------------------------------------------------
YOU = "Você"
CONTINUED = "<i>(continuação)</i>"
HISTORY_EMPTY = "<i>Ainda não há mensagens neste atendimento.</i>"


def detail_header(ticket: Ticket, page: int, pages: int) -> str:
    lines = [
        f"🛠 <b>Atendimento</b> <code>{esc(ticket.protocol)}</code>",
        f"Assunto: {esc(ticket.subject)}",
        f"Situação: {STATUS[ticket.status]} ({STATUS_HINT[ticket.status]})",
        f"Aberto em {day_time(ticket.opened_at)} · atualizado em {day_time(ticket.updated_at)}",
        "",
        "<b>Histórico</b>" + (f" (parte {page + 1} de {pages})" if pages > 1 else ""),
    ]
    return "\n".join(lines)


def message_heading(from_subscriber: bool, author_name: str, sent_at: datetime) -> str:
    who = YOU if from_subscriber else author_name
    icon = "👤" if from_subscriber else "🎧"
    return f"{icon} <b>{esc(who)}</b> · {day_time(sent_at)}"


def message_text(text: str) -> str:
    return esc(text)


def attachment_line(filename: str, size: int) -> str:
    return f"📎 {esc(filename)} ({esc(file_size(size))})"


def history_footer(has_attachments: bool) -> str:
    return "Toque num anexo para recebê-lo aqui." if has_attachments else ""


def closed_cannot_reply(protocol: str) -> str:
    return (
        f"🔒 O atendimento <code>{esc(protocol)}</code> está fechado e não pode mais ser "
        "respondido.\n\nSe o assunto continua, abra um novo atendimento sobre ele: eu já coloco "
        "o número deste protocolo na descrição."
    )


def attachment_caption(filename: str) -> str:
    return f"📎 {esc(filename)}"


# --- new ticket --------------------------------------------------------------------------------
NEW_TITLE = "➕ <b>Novo atendimento</b>"
ASK_SUBJECT = "Qual é o assunto?"
ASK_CONTRACT = "Sobre qual contrato é este atendimento?"
PICK_A_BUTTON = "Para seguir, escolha uma das opções nos botões."


def ask_subject(reference: str | None) -> str:
    about = ""
    if reference:
        about = f"\nEle vai fazer referência ao atendimento <code>{esc(reference)}</code>.\n"
    return f"{NEW_TITLE}\n{about}\n{ASK_SUBJECT}"


def ask_contract(contracts: Sequence[Contract]) -> str:
    lines = [NEW_TITLE, "", ASK_CONTRACT]
    for contract in contracts:
        address = contract.address
        place = ", ".join(part for part in (address.street, address.number) if part)
        place += f" ({address.city})" if place and address.city else address.city
        where = f", {esc(place)}" if place else ""
        lines.append(f"• <b>{esc(contract.number)}</b> — {esc(contract.plan.name)}{where}")
    return "\n".join(lines)


def contract_label(contract: Contract) -> str:
    """Plain text kept in the draft; escaped wherever it is shown."""
    return f"{contract.number} — {contract.plan.name}"


def ask_description(subject: str, reference: str | None, *, attachable: bool = True) -> str:
    lines = [NEW_TITLE, f"Assunto: <b>{esc(subject)}</b>"]
    if reference:
        lines.append(f"Referente ao atendimento <code>{esc(reference)}</code>")
    lines += [
        "",
        "✍️ Descreva o que está acontecendo, numa mensagem de texto "
        f"(de {MIN_DESCRIPTION_CHARS} a {MAX_TEXT_CHARS} caracteres). Quanto mais detalhes, "
        "mais rápido conseguimos ajudar.",
    ]
    if attachable:
        lines.append("Depois você poderá enviar fotos e documentos.")
    return "\n".join(lines)


def description_too_short(length: int) -> str:
    return (
        f"Essa descrição ficou curta demais ({length} caractere{'s' if length != 1 else ''}). "
        f"Conte com pelo menos {MIN_DESCRIPTION_CHARS} caracteres o que está acontecendo."
    )


def text_too_long(length: int) -> str:
    return (
        f"Esse texto tem {length} caracteres; o máximo é {MAX_TEXT_CHARS}. "
        "Resuma um pouco e envie de novo — se precisar, mande o restante como arquivo .txt."
    )


EXPECTING_DESCRIPTION = (
    "Preciso primeiro da descrição por escrito, numa mensagem de texto. "
    "Fotos e documentos vêm logo depois."
)
EXPECTING_TEXT_ONLY = "Preciso do texto por escrito, numa mensagem de texto."
# The provider's system takes no attachments (e.g. IXC): a file sent anyway.
FILES_NOT_TAKEN = (
    "📎 O sistema do seu provedor não recebe anexos por aqui, então não guardei esse arquivo. "
    "O que você já escreveu continua guardado."
)
SEND_TEXT_ALONE = "Envie o texto numa mensagem, sem arquivo."


def file_kept_ask_text(filename: str, problem: str | None) -> str:
    """A file came before the text: kept; ``problem`` is what was wrong with its caption."""
    text = f"📎 Guardei <b>{esc(filename)}</b> como anexo."
    if problem:
        text += f" A legenda não serviu como texto: {problem}"
    return f"{text}\nAgora me envie o texto, por escrito."


# --- reply -------------------------------------------------------------------------------------
def ask_reply(protocol: str, *, attachable: bool = True) -> str:
    heading = f"💬 <b>Responder</b> ao atendimento <code>{esc(protocol)}</code>"
    text = f"{heading}\n\nEscreva a sua mensagem."
    if attachable:
        text += " Se quiser, depois envie fotos ou documentos (ou envie já uma foto com legenda)."
    return text


EMPTY_REPLY = "A mensagem está vazia. Escreva o que quer dizer ao provedor."
TEXT_STILL_WELCOME = "Se quiser, escreva também uma mensagem para acompanhar o arquivo."
TEXT_KEPT = f"✍️ Mensagem guardada. Envie mais arquivos ou toque em {BUTTON_DONE}."


# --- attachments -------------------------------------------------------------------------------
ALLOWED_TYPES = "imagens (JPG, PNG, GIF, WebP ou HEIC), PDF e texto (.txt)"
KEPT = "O que você já enviou continua guardado."


def file_size(size: int) -> str:
    """``850 KB``, ``1,5 MB``, ``10 MB`` (pt-BR decimal comma)."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    megabytes = f"{size / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",")
    return f"{megabytes} MB"


LIMITS = (
    f"até {MAX_FILES_PER_MESSAGE} arquivos, de no máximo {file_size(MAX_FILE_BYTES)} cada. "
    f"Aceito {ALLOWED_TYPES}"
)


def ask_attachments(count: int) -> str:
    head = "📎 <b>Anexos (opcional)</b>\n\n"
    if count:
        head += f"Você já enviou {count} de {MAX_FILES_PER_MESSAGE} anexos.\n"
    finish = (
        f"Quando terminar, toque em {BUTTON_DONE}."
        if count
        else f"Se não tiver anexos, toque em {BUTTON_SKIP}."
    )
    return f"{head}Envie fotos ou documentos — {LIMITS}.\n{finish}"


def attachment_received(
    filename: str, count: int, caption_added: bool, *, attaching: bool = True
) -> str:
    text = f"✅ Anexo recebido: <b>{esc(filename)}</b> ({count} de {MAX_FILES_PER_MESSAGE})."
    if caption_added:
        text += "\nA legenda foi acrescentada à mensagem."
    if not attaching:
        return text
    if count >= MAX_FILES_PER_MESSAGE:
        return f"{text}\nEsse é o limite de anexos. Toque em {BUTTON_DONE}."
    return f"{text}\nEnvie outro arquivo ou toque em {BUTTON_DONE}."


def caption_not_added(limit: int) -> str:
    return f"A legenda não coube no texto (máximo de {limit} caracteres) e ficou de fora."


_KIND_NAMES = {Kind.IMAGE: "uma imagem", Kind.PDF: "um PDF", Kind.TEXT: "um texto"}

# Refused types in words, never a MIME type (issue 21): by MIME type, else by extension.
_TYPE_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("application/vnd.ms-excel", "spreadsheetml", ".xls", ".xlsx", ".xlsm"),
        "uma planilha do Excel",
    ),
    (("opendocument.spreadsheet", ".ods"), "uma planilha"),
    (("application/msword", "wordprocessingml", ".doc", ".docx"), "um documento do Word"),
    (("opendocument.text", ".odt", ".rtf", "application/rtf"), "um documento de texto formatado"),
    (("powerpoint", "presentationml", ".ppt", ".pptx"), "uma apresentação do PowerPoint"),
    (("zip", "rar", "7z", "x-tar", "gzip", ".zip", ".rar", ".7z", ".gz"), "um arquivo compactado"),
    (("x-msdownload", "x-msdos-program", "x-executable", ".exe", ".msi", ".bat"), "um programa"),
    (("android.package-archive", ".apk"), "um aplicativo de Android"),
    (("image/svg", ".svg"), "uma imagem vetorial (SVG)"),
    (("video/", ".mp4", ".mov", ".avi", ".mkv"), "um vídeo"),
    (("audio/", ".mp3", ".ogg", ".wav", ".m4a", ".opus"), "um áudio"),
    (("text/html", ".html", ".htm"), "uma página da web (HTML)"),
)


def type_in_words(content_type: str | None, filename: str) -> str | None:
    """ "uma planilha do Excel" for an .xlsx; None when the type has no plain name."""
    extension = extension_of(filename)
    for keys, words in _TYPE_WORDS:
        if any(key in (content_type or "") for key in keys if not key.startswith(".")):
            return words
        if extension and extension in keys:
            return words
    return None


def refusal(error: AttachmentRefused) -> str:
    name = f"<b>{esc(error.filename)}</b>"
    if error.problem is Problem.TOO_MANY:
        return (
            f"❌ {name} não foi anexado: o limite é de {MAX_FILES_PER_MESSAGE} anexos por "
            f"mensagem. {KEPT}"
        )
    if error.problem is Problem.TOO_BIG:
        size = f" tem {esc(file_size(error.size))} e" if error.size else ""
        return (
            f"❌ {name}{size} passa do limite de {file_size(MAX_FILE_BYTES)} por arquivo. "
            f"Envie um arquivo menor (uma foto enviada como foto fica bem menor). {KEPT}"
        )
    if error.problem is Problem.EMPTY:
        return f"❌ {name} está vazio. {KEPT}"
    if error.problem is Problem.DUPLICATE:
        return f"ℹ️ {name} já está anexado. {KEPT}"
    if error.problem is Problem.CONTENT_MISMATCH and error.kind is Kind.TEXT:
        reason = f"❌ {name} não é um texto simples válido (o texto precisa estar em UTF-8)."
    elif error.problem is Problem.CONTENT_MISMATCH and error.kind is not None:
        reason = (
            f"❌ {name} diz ser {_KIND_NAMES[error.kind]}, mas o conteúdo do arquivo não "
            "confere. Não vou anexá-lo."
        )
    else:
        words = type_in_words(error.content_type, error.filename)
        what = f"é {words}, e esse tipo" if words else "esse tipo"
        reason = f"❌ Não aceito o arquivo {name}: {what} de arquivo não é permitido."
    return f"{reason}\nTipos aceitos: {ALLOWED_TYPES}. {KEPT}"


UNSUPPORTED_MESSAGE = (
    f"❌ Esse tipo de mensagem não pode ser anexado. Aceito {ALLOWED_TYPES}, enviados como foto "
    f"ou arquivo. {KEPT}"
)


def download_failed(filename: str) -> str:
    return (
        f"❌ Não consegui baixar <b>{esc(filename)}</b> do Telegram. Envie esse arquivo de novo, "
        f"por favor. {KEPT}"
    )


TEXT_WHILE_ATTACHING = (
    f"Agora é a vez dos anexos: envie fotos ou documentos, ou toque em {BUTTON_DONE} "
    f"(ou {BUTTON_SKIP}) para seguir. O texto que você já escreveu está guardado."
)
TEXT_WHILE_CONFIRMING = (
    f"Confira o resumo acima e toque em {BUTTON_CONFIRM} para enviar, ou em {BUTTON_CANCEL}."
)


# --- summary and submission ----------------------------------------------------------------
def summary(
    *,
    reply_to: str | None,
    subject: str | None,
    contract: str | None,
    text: str,
    attachments: Sequence[tuple[str, int]],
    sent: bool = False,
    attachable: bool = True,
) -> str:
    """The draft as it will be (or was) sent; ``reply_to`` is the protocol when answering."""
    if reply_to is not None:
        title = "📨 <b>Resposta enviada</b>" if sent else "📝 <b>Confira a sua resposta</b>"
        lines = [f"{title} ao atendimento <code>{esc(reply_to)}</code>"]
    else:
        title = (
            "📨 <b>Atendimento enviado</b>" if sent else "📝 <b>Confira o seu novo atendimento</b>"
        )
        lines = [title, f"Assunto: {esc(subject or '')}"]
        if contract:
            lines.append(f"Contrato: {esc(contract)}")
    label = "Mensagem" if reply_to is not None else "Descrição"
    lines += ["", f"<b>{label}:</b>", esc(text) if text.strip() else "<i>(sem texto)</i>", ""]
    if attachments:
        lines.append(f"<b>Anexos ({len(attachments)}):</b>")
        lines += [attachment_line(name, size) for name, size in attachments]
    elif attachable:
        lines.append("Sem anexos.")
    if not sent:
        lines += ["", f"Está tudo certo? Toque em {BUTTON_CONFIRM} para enviar."]
    return "\n".join(lines)


def draft_summary(draft: TicketDraft, *, sent: bool = False, attachable: bool = True) -> str:
    """:func:`summary` of a draft; a new ticket's description shows its reference line."""
    return summary(
        reply_to=draft.protocol or "" if draft.mode is Mode.REPLY else None,
        subject=draft.subject,
        contract=draft.contract,
        text=description(draft),
        attachments=[(entry.name, entry.size) for entry in draft.files],
        sent=sent,
        attachable=attachable,
    )


def unavailable_while_sending(filenames: Sequence[str], reply: bool) -> str:
    what = "a sua resposta" if reply else "o seu atendimento"
    lines = [
        f"😕 O sistema do provedor não respondeu e {what} ainda não foi registrad"
        f"{'a' if reply else 'o'}."
    ]
    if filenames:
        names = ", ".join(f"<b>{esc(name)}</b>" for name in filenames)
        files = f"o anexo {names}" if len(filenames) == 1 else f"os anexos {names}"
        lines.append(f"Ainda não foram enviados o texto e {files}.")
    lines.append(
        f"Guardei tudo: toque em {BUTTON_CONFIRM} para tentar de novo daqui a pouco "
        "(não vai duplicar)."
    )
    return "\n".join(lines)


def files_refused_on_send(filenames: Sequence[str], reply: bool) -> str:
    names = ", ".join(f"<b>{esc(name)}</b>" for name in filenames)
    what = "a sua resposta" if reply else "o seu atendimento"
    return (
        f"📎 O sistema do seu provedor não recebe anexos por aqui, então tirei do envio: {names}. "
        f"Nada foi enviado ainda e o texto continua guardado: toque em {BUTTON_CONFIRM} para "
        f"enviar {what} sem os anexos."
    )


def rejected_attachment(filename: str, reason: str) -> str:
    return (
        f"⚠️ O provedor recusou o anexo <b>{esc(filename)}</b>: {esc(reason)}\n"
        f"Tirei esse arquivo; o texto e os outros anexos continuam aqui. Confira e toque em "
        f"{BUTTON_CONFIRM}."
    )


def rejected(reason: str) -> str:
    return (
        f"⚠️ O provedor não aceitou o envio: {esc(reason)}\nO que você escreveu continua guardado."
    )


def download_failed_on_send(filenames: Sequence[str]) -> str:
    names = ", ".join(f"<b>{esc(name)}</b>" for name in filenames)
    return (
        f"❌ Não consegui baixar do Telegram: {names}. Tirei esse(s) arquivo(s) do envio; o texto "
        f"e os outros anexos continuam aqui. Envie o arquivo de novo, se quiser, e toque em "
        f"{BUTTON_CONFIRM}. Nada foi enviado ao provedor ainda."
    )


TICKET_CREATED = "✅ Atendimento aberto! Guarde o número do protocolo:"
TICKET_CREATED_NO_PROTOCOL = "✅ Atendimento aberto!"


def protocol_code(protocol: str) -> str:
    """The protocol alone, ready to copy with one tap."""
    return f"<code>{esc(protocol)}</code>"


AFTER_CREATED = "Você pode acompanhar as respostas aqui em Atendimentos."


def reply_sent(protocol: str) -> str:
    return (
        f"✅ Resposta enviada ao atendimento <code>{esc(protocol)}</code>. "
        "Você pode acompanhar aqui em Atendimentos."
    )


def closed_while_replying(protocol: str) -> str:
    return (
        f"🔒 O atendimento <code>{esc(protocol)}</code> foi fechado enquanto você escrevia, então "
        "a resposta não pôde ser enviada. Guardei o seu texto e os anexos: toque em "
        f"{BUTTON_NEW_ABOUT} para enviá-los num novo atendimento."
    )


DRAFT_DISCARDED = "Tudo bem, descartei o que estava sendo escrito."
DRAFT_GONE = "Esse rascunho não existe mais. Comece de novo pelo menu Atendimentos."
