"""What a broadcast says: its HTML text checked by Telegram's rules (``bot.telegram_html``,
the rules tdlib applies, shared with the local Bot API), its optional media, and the one
:class:`InvalidInput` every part of the package raises for something given wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.telegram_html import CAPTION_LIMIT, TEXT_LIMIT, HtmlError
from bot.telegram_html import displayed as telegram_displayed

if TYPE_CHECKING:
    from bot.broadcasts.store import Broadcast

MEDIA_KINDS = ("photo", "document")


class InvalidInput(ValueError):
    """Something given to create a broadcast is wrong. ``field`` names it (``text``,
    ``audience.places[0].city``…); ``kind`` lets the chat flow say it in Portuguese."""

    def __init__(self, field: str, message: str, kind: str = "invalid", **details: Any) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.kind = kind
        self.details = details


def displayed_text(markup: str) -> str:
    """What subscribers will read, or InvalidInput naming the problem in Telegram's words: the
    rules are tdlib's (bot.telegram_html, shared with the local Bot API), so a bare '&' passes."""
    try:
        return telegram_displayed(markup)
    except HtmlError as error:
        description = str(error)
        raise InvalidInput(
            "text", f"invalid HTML: {description}", "html", problem=description
        ) from None


def validate_content(text: Any, media_kind: str | None = None) -> str:
    """The HTML text of a broadcast, checked; returns what subscribers will read."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("text", "expected a non-empty string", "empty")
    shown = displayed_text(text)
    if not shown:
        raise InvalidInput("text", "the text shows nothing once the HTML is applied", "empty")
    limit = CAPTION_LIMIT if media_kind else TEXT_LIMIT
    if len(shown) > limit:
        what = "a caption (with a photo or document)" if media_kind else "a message"
        raise InvalidInput(
            "text",
            f"{len(shown)} characters; Telegram allows {limit} in {what}",
            "too_long",
            length=len(shown),
            limit=limit,
            with_media=bool(media_kind),
        )
    return shown


@dataclass(frozen=True, slots=True)
class Message:
    """What goes to each chat: HTML text (a caption with media) and the media's file_id."""

    text: str
    media_kind: str | None = None
    media_file_id: str | None = None
    paid: bool = False

    @classmethod
    def of(cls, broadcast: Broadcast, paid: bool = False) -> Message:
        return cls(broadcast.text, broadcast.media_kind, broadcast.media_file_id, paid)
