"""What a subscriber may attach to a ticket, and how it is named (no Telegram in here).

The policy is checked twice:

* :func:`check_before_download` with what the chat update says (name, declared MIME type, size),
  so an oversize or forbidden file is refused without downloading a byte;
* :func:`check_content` once the bytes are here: the content must really be what was declared
  (magic bytes for images and PDF, valid UTF-8 for text), whatever the file claims to be.

A refusal is an :class:`AttachmentRefused` carrying a :class:`Problem` code; the pt-BR wording
lives in the text catalogue. :class:`ContentCache` keeps downloaded bytes of drafts in memory,
bounded: losing an entry only costs downloading the file again.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

MAX_FILE_BYTES = 10 * 1024 * 1024  # per attachment
MAX_FILES_PER_MESSAGE = 5  # per new ticket or reply
MAX_FILENAME_CHARS = 100
DEFAULT_CACHE_BYTES = 128 * 1024 * 1024


class Kind(enum.StrEnum):
    IMAGE = "image"
    PDF = "pdf"
    TEXT = "text"


# Accepted content types and the family each belongs to.
ALLOWED_TYPES: dict[str, Kind] = {
    "image/jpeg": Kind.IMAGE,
    "image/png": Kind.IMAGE,
    "image/gif": Kind.IMAGE,
    "image/webp": Kind.IMAGE,
    "image/heic": Kind.IMAGE,
    "image/heif": Kind.IMAGE,
    "application/pdf": Kind.PDF,
    "text/plain": Kind.TEXT,
}

# Extensions that fit each accepted type; the first is the one added when a name lacks it.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/heic": (".heic",),
    "image/heif": (".heif", ".heic"),
    "application/pdf": (".pdf",),
    "text/plain": (".txt", ".text", ".log", ".csv"),
}
_TYPE_BY_EXTENSION: dict[str, str] = {
    extension: content_type
    for content_type, extensions in reversed(EXTENSIONS.items())
    for extension in extensions
}
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "application/x-pdf": "application/pdf",
    "application/acrobat": "application/pdf",
}
# Types that say nothing: the extension decides what the file claims to be.
_UNINFORMATIVE = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}

# Telegram's own photos (not sent "as file") are always JPEG.
PHOTO_CONTENT_TYPE = "image/jpeg"

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"heif"}
_RESERVED_CHARS = re.compile(r'[<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul"} | {
    f"{p}{n}" for p in ("com", "lpt") for n in range(10)
}
# Control characters that do not belong in a plain text file (tab, LF, FF and CR do).
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class Problem(enum.StrEnum):
    TOO_MANY = "too_many"  # the message already has MAX_FILES_PER_MESSAGE attachments
    TOO_BIG = "too_big"  # over MAX_FILE_BYTES
    EMPTY = "empty"  # zero bytes
    TYPE_NOT_ALLOWED = "type_not_allowed"  # neither image, PDF nor plain text
    CONTENT_MISMATCH = "content_mismatch"  # the bytes are not what the file claims to be
    DUPLICATE = "duplicate"  # this very file is already attached


class AttachmentRefused(Exception):
    """A file the policy does not accept; ``filename`` is the name the user knows it by."""

    def __init__(
        self,
        problem: Problem,
        filename: str,
        *,
        size: int | None = None,
        content_type: str | None = None,
    ) -> None:
        super().__init__(f"{problem.value}: {filename}")
        self.problem = problem
        self.filename = filename
        self.size = size
        self.content_type = content_type

    @property
    def kind(self) -> Kind | None:
        """The family the refused file claimed to be (for a content mismatch)."""
        return ALLOWED_TYPES.get(self.content_type or "")


@dataclass(frozen=True, slots=True)
class Accepted:
    """A file that passed every check: its safe name and its real content type."""

    filename: str
    content_type: str
    size: int

    @property
    def kind(self) -> Kind:
        return ALLOWED_TYPES[self.content_type]


def declared_type(mime_type: str | None, filename: str | None) -> str:
    """The normalised type a file claims to be: its MIME type, else its extension's type.

    Parameters (``; charset=…``) and case are dropped; well-known aliases are mapped. An empty or
    generic type (``application/octet-stream``) falls back to the extension; ``""`` when neither
    says anything.
    """
    declared = (mime_type or "").split(";", 1)[0].strip().lower()
    declared = _ALIASES.get(declared, declared)
    if declared in _UNINFORMATIVE:
        return _TYPE_BY_EXTENSION.get(extension_of(filename or ""), "")
    return declared


def extension_of(filename: str) -> str:
    """``".pdf"`` for ``"Laudo.PDF"``; ``""`` when there is none."""
    base = re.split(r"[/\\]", filename)[-1]
    stem, dot, extension = base.rpartition(".")
    return f".{extension.lower()}" if dot and stem.strip(" .") and extension else ""


def check_before_download(
    filename: str, mime_type: str | None, size: int | None, already_attached: int
) -> str:
    """Refuse what can be refused from the update alone; returns the declared content type."""
    if already_attached >= MAX_FILES_PER_MESSAGE:
        raise AttachmentRefused(Problem.TOO_MANY, filename, size=size)
    if size is not None and size > MAX_FILE_BYTES:
        raise AttachmentRefused(Problem.TOO_BIG, filename, size=size)
    if size == 0:
        raise AttachmentRefused(Problem.EMPTY, filename, size=0)
    declared = declared_type(mime_type, filename)
    if declared not in ALLOWED_TYPES:
        raise AttachmentRefused(
            Problem.TYPE_NOT_ALLOWED, filename, size=size, content_type=declared or None
        )
    return declared


def sniff(content: bytes) -> str | None:
    """The content type the bytes themselves show (by signature), or None when unknown."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if len(content) >= 12 and content[4:8] == b"ftyp" and content[8:12] in _HEIF_BRANDS:
        return (
            "image/heic" if content[8:12] in (b"heic", b"heix", b"heim", b"heis") else "image/heif"
        )
    # A PDF header may follow a little garbage (the spec tolerates it within the first KiB).
    if b"%PDF-" in content[:1024]:
        return "application/pdf"
    return None


def is_plain_text(content: bytes) -> bool:
    """UTF-8 (with or without BOM) and no control characters a text file would not have."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return bool(text.strip()) and _TEXT_CONTROLS.search(text) is None


def check_content(filename: str, declared: str, content: bytes) -> Accepted:
    """Check downloaded bytes against the declared type; the accepted name is made safe."""
    size = len(content)
    if size > MAX_FILE_BYTES:
        raise AttachmentRefused(Problem.TOO_BIG, filename, size=size)
    if size == 0:
        raise AttachmentRefused(Problem.EMPTY, filename, size=0)
    claimed = ALLOWED_TYPES.get(declared)
    if claimed is None:
        raise AttachmentRefused(
            Problem.TYPE_NOT_ALLOWED, filename, size=size, content_type=declared or None
        )
    detected = sniff(content)
    if claimed is Kind.TEXT:
        real = "text/plain" if detected is None and is_plain_text(content) else None
    else:
        real = detected if detected is not None and ALLOWED_TYPES[detected] is claimed else None
    if real is None:
        raise AttachmentRefused(
            Problem.CONTENT_MISMATCH, filename, size=size, content_type=declared
        )
    return Accepted(filename=safe_filename(filename, real), content_type=real, size=size)


def safe_filename(filename: str | None, content_type: str, fallback: str = "arquivo") -> str:
    """A name safe to store and send back: no path, no control or reserved characters, no
    leading dot, at most :data:`MAX_FILENAME_CHARS`, ending with an extension that fits
    ``content_type``."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(char for char in name if not unicodedata.category(char).startswith("C"))
    name = _SPACES.sub(" ", _RESERVED_CHARS.sub("_", name)).strip(" .")
    fitting = EXTENSIONS.get(content_type, ())
    kind = ALLOWED_TYPES.get(content_type)
    if (
        kind is not None
        and ALLOWED_TYPES.get(_TYPE_BY_EXTENSION.get(extension_of(name), "")) is kind
    ):
        # Same family (a PNG named .jpg): the name is kept, never "foto-1.jpg.png" (issue 21).
        fitting = (extension_of(name), *fitting)
    stem, extension = name, ""
    if extension_of(name) in fitting:
        stem, extension = name[: -len(extension_of(name))], name[-len(extension_of(name)) :]
    elif fitting:
        extension = fitting[0]
    stem = stem.strip(" .") or fallback
    if stem.split(".")[0].lower() in _WINDOWS_DEVICES:
        stem = f"_{stem}"
    stem = stem[: MAX_FILENAME_CHARS - len(extension)].rstrip(" .") or fallback
    return f"{stem}{extension}"


def photo_filename(number: int) -> str:
    """Telegram photos have no name: ``foto-1.jpg``, ``foto-2.jpg``…"""
    return f"foto-{number}.jpg"


def is_sendable_photo(content_type: str, size: int) -> bool:
    """Whether Telegram's sendPhoto takes it (else the file goes as a document)."""
    return content_type in ("image/jpeg", "image/png", "image/webp") and size <= MAX_FILE_BYTES


class ContentCache:
    """Downloaded bytes kept while a draft is being written, least recently used out first.

    Memory is bounded by ``max_bytes``; an evicted entry is simply downloaded again when the
    draft is sent. Keys are ``(chat id, file unique id)`` tuples (any hashable works).
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        return self._size

    def put(self, key: Hashable, content: bytes) -> None:
        self.discard(key)
        if len(content) > self.max_bytes:
            return
        self._entries[key] = content
        self._size += len(content)
        while self._size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._size -= len(evicted)

    def get(self, key: Hashable) -> bytes | None:
        content = self._entries.get(key)
        if content is not None:
            self._entries.move_to_end(key)
        return content

    def discard(self, key: Hashable) -> None:
        content = self._entries.pop(key, None)
        if content is not None:
            self._size -= len(content)

    def discard_where(self, owner: object) -> None:
        """Drop every entry whose tuple key starts with ``owner`` (e.g. one chat's files)."""
        for key in [k for k in self._entries if isinstance(k, tuple) and k and k[0] == owner]:
            self.discard(key)
