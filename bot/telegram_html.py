"""Telegram's rules for a message's text, as the Bot API applies them: the HTML parse mode, the
text and caption limits, and the errors Telegram gives — the text subscribers will read, or the
error. Production code: the composer, the senders (``bot.ui``) and the local Bot API
(``bot.localapi``, which the tests' recorder runs on) all take Telegram's rules from here.

A port of tdlib's ``parse_html`` and ``decode_html_entity`` (td/telegram/MessageEntity.cpp, tdlib/td
at 022d602, July 2026; the Bot API server hands ``parse_mode=HTML`` texts to it and prefixes its
error with "Bad Request: can't parse entities: "). One module, used by the broadcast composer
(``bot.broadcasts.content``) and by the local Bot API (``bot.localapi.core``), so that the two
agree with Telegram and with each other. The rules, as tdlib has them:

- Entities: ``&lt;`` ``&gt;`` ``&amp;`` ``&quot;`` (case-sensitive), ``&#NNN;`` and ``&#xHHH;``
  (lowercase ``x``); the ``;`` is optional. Anything else after ``&`` — a bare ``&`` as in
  "23h & sem interrupção", ``&nbsp;``, ``&#0;``, ``&#X26;``, a code point from U+10FFFF up, or a
  reference 10 characters or longer — is not an entity and stays literal text (no error).
- A decoded UTF-16 surrogate (``&#xD800;``…``&#xDFFF;``) makes the text invalid UTF-8: refused.
- Tags (names compared in ASCII lowercase): a, b, strong, i, em, s, strike, del, u, ins, span,
  tg-spoiler, tg-emoji, tg-time, pre, code, blockquote; any other ``<…`` (a bare ``<`` too) is
  "Unsupported start tag". ``span`` needs ``class="tg-spoiler"``. Tags must nest properly; an
  end tag may be ``</>``. Attribute values are quoted strings (entities decoded) or name tokens
  (letters, digits, ``.``, ``-``).
- Not emulated: ``tg-time``'s date format check (FormattedDate) and ``<a href>`` link checks (an
  invalid link only drops the entity in tdlib, never an error).

The length limits apply to the text after entities parsing, counted in Unicode code points
(tdlib's ``utf8_length`` in td/telegram/MessageContent.cpp: "Message is too long", "Message caption
is too long"), after Telegram trims surrounding white space.
"""

from __future__ import annotations

import re
import string

TEXT_LIMIT = 4096  # Bot API sendMessage: "1-4096 characters after entities parsing"
CAPTION_LIMIT = 1024  # Bot API sendPhoto/sendDocument: "0-1024 characters after entities parsing"
ERROR_PREFIX = "Bad Request: can't parse entities: "  # what the Bot API puts before tdlib's text
# The Bot API's descriptions (the error's first letter lowered, after "Bad Request: ") when the
# text is empty or over the limit once parsed and trimmed. "Message is too long" is tdlib's for a
# bot's text over message_text_length_max counted with utf8_length (td/telegram/MessageContent.cpp);
# the empty-text and caption descriptions are the ones the local Bot API has always given.
EMPTY_TEXT = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"

TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
     "tg-time", "span", "pre", "code", "blockquote"}
)  # fmt: skip
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = frozenset(" \t\r\n\0\v")  # td::is_space (tdutils/td/utils/misc.h) counts NUL as space
_HEX = frozenset(string.hexdigits)
_LETTERS = frozenset(string.ascii_letters)
_DIGITS = frozenset(string.digits)
_TOKEN = _LETTERS | _DIGITS | {".", "-"}
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_INT64 = re.compile(r"-?[0-9]+", re.ASCII)


class HtmlError(ValueError):
    """Telegram refuses the markup; ``str()`` is tdlib's own description."""


class Refused(ValueError):
    """The Bot API refuses a text or caption: ``description`` is its 400 answer's, word for word."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def _lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)  # td::to_lower: ASCII letters only


class _Parser:
    def __init__(self, markup: str) -> None:
        self.s = markup
        self.n = len(markup)

    def at(self, i: int) -> str:
        # tdlib reads a NUL-terminated string: past the end is "\0".
        return self.s[i] if i < self.n else "\0"

    def byte_offset(self, i: int) -> int:
        return len(self.s[:i].encode("utf-8", "surrogatepass"))

    def entity(self, pos: int) -> tuple[int, int]:
        """tdlib's decode_html_entity: (code point, position after it), or (0, pos)."""
        end = pos + 1
        code = 0
        if self.at(end) == "#":
            end += 1
            if self.at(pos + 2) == "x":
                end += 1
                while self.at(end) in _HEX:
                    code = code * 16 + int(self.at(end), 16)
                    end += 1
            else:
                while self.at(end) in _DIGITS:
                    code = code * 10 + int(self.at(end))
                    end += 1
            if code == 0 or code >= 0x10FFFF or end - pos >= 10:
                return 0, pos
        else:
            while self.at(end) in _LETTERS:
                end += 1
            named = _NAMED.get(self.s[pos + 1 : end])
            if named is None:
                return 0, pos  # "unsupported literal entity": the '&' stays text
            code = ord(named)
        if self.at(end) == ";":
            end += 1
        return code, end

    def skip_spaces(self, i: int) -> int:
        while self.at(i) != "\0" and self.at(i) in _SPACE:
            i += 1
        return i

    def parse(self) -> str:
        out: list[str] = []
        length = 0
        surrogate = False
        # open tags: (name, argument, length of the text when opened)
        opened: list[tuple[str, str, int]] = []
        i = 0
        while i < self.n:
            char = self.s[i]
            if char == "&":
                code, after = self.entity(i)
                if code:
                    surrogate = surrogate or 0xD800 <= code <= 0xDFFF
                    out.append(chr(code))
                    length += 1
                    i = after
                    continue
            if char != "<":
                out.append(char)
                length += 1
                i += 1
                continue
            begin = i
            i += 1
            if self.at(i) != "/":
                i = self._start_tag(begin, i, opened, length)
            else:
                i = self._end_tag(begin, i, opened, length)
            i += 1  # past the '>'
        if opened:
            raise HtmlError(f'Can\'t find end tag corresponding to start tag "{opened[-1][0]}"')
        if surrogate:
            raise HtmlError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        return "".join(out)

    def _start_tag(
        self, begin: int, i: int, opened: list[tuple[str, str, int]], length: int
    ) -> int:
        at = self.byte_offset(begin)
        while self.at(i) not in _SPACE and self.at(i) != ">":
            i += 1
        if self.at(i) == "\0":
            raise HtmlError(f"Unclosed start tag at byte offset {at}")
        tag = _lower(self.s[begin + 1 : i])
        if tag not in TAGS:
            raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {at}')
        argument = ""
        while self.at(i) != ">":
            i = self.skip_spaces(i)
            if self.at(i) == ">":
                break
            name_begin = i
            while self.at(i) not in _SPACE and self.at(i) not in "=>/\"'":
                i += 1
            name = self.s[name_begin:i]
            if not name:
                raise HtmlError(f'Empty attribute name in the tag "{tag}" at byte offset {at}')
            i = self.skip_spaces(i)
            if self.at(i) != "=":
                if self.at(i) == "\0":
                    raise HtmlError(f'Unclosed start tag "{tag}" at byte offset {at}')
                if tag == "blockquote" and name == "expandable":
                    argument = "1"
                continue
            i = self.skip_spaces(i + 1)
            if self.at(i) == "\0":
                raise HtmlError(f'Unclosed start tag "{tag}" at byte offset {at}')
            if self.at(i) not in "'\"":
                token_begin = i
                while self.at(i) in _TOKEN:
                    i += 1
                value = _lower(self.s[token_begin:i])
                if self.at(i) not in _SPACE and self.at(i) != ">":
                    offset = self.byte_offset(token_begin)
                    raise HtmlError(f"Unexpected end of name token at byte offset {offset}")
            else:
                quote = self.at(i)
                i += 1
                chars: list[str] = []
                while self.at(i) != quote and self.at(i) != "\0":
                    if self.at(i) == "&":
                        code, after = self.entity(i)
                        if code:
                            chars.append(chr(code))
                            i = after
                            continue
                    chars.append(self.at(i))
                    i += 1
                if self.at(i) == quote:
                    i += 1
                value = "".join(chars)
            if self.at(i) == "\0":
                raise HtmlError(f"Unclosed start tag at byte offset {at}")
            if tag == "a" and name == "href":
                argument = value
            elif tag == "code" and name == "class" and value.startswith("language-"):
                argument = value[9:]
            elif tag == "span" and name == "class" and value.startswith("tg-"):
                argument = value[3:]
            elif (tag, name) in (("tg-emoji", "emoji-id"), ("tg-time", "format")):
                argument = value
            elif tag == "blockquote" and name == "expandable":
                argument = "1"
        if tag == "span" and argument != "spoiler":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        opened.append((tag, argument, length))
        return i

    def _end_tag(self, begin: int, i: int, opened: list[tuple[str, str, int]], length: int) -> int:
        at = self.byte_offset(begin)
        if not opened:
            raise HtmlError(f"Unexpected end tag at byte offset {at}")
        while self.at(i) not in _SPACE and self.at(i) != ">":
            i += 1
        end_name = _lower(self.s[begin + 2 : i])
        while self.at(i) in _SPACE and self.at(i) != "\0":
            i += 1
        if self.at(i) != ">":
            raise HtmlError(f"Unclosed end tag at byte offset {at}")
        tag, argument, start = opened[-1]
        if end_name and end_name != tag:
            raise HtmlError(
                f'Unmatched end tag at byte offset {at}, expected "</{tag}>", found "</{end_name}>"'
            )
        if length > start and tag == "tg-emoji":
            number = int(argument) if _INT64.fullmatch(argument) else 0
            if not number or not -(2**63) <= number < 2**63:
                raise HtmlError("Invalid custom emoji identifier specified")
        opened.pop()
        return i


def parse(markup: str) -> str:
    """The text of ``markup`` after Telegram's HTML parsing (untrimmed), or HtmlError."""
    return _Parser(markup).parse()


def displayed(markup: str) -> str:
    """What a chat shows for ``markup`` sent with ``parse_mode=HTML``: parsed, then trimmed as
    Telegram trims a message's surrounding white space. Raises HtmlError."""
    return parse(markup).strip()


def html_to_text(markup: str) -> str:
    """The text of ``markup`` after Telegram's HTML parsing (untrimmed), or HtmlError."""
    return parse(markup)


def message_text(raw: str | None, *, html: bool, caption: bool = False) -> str | None:
    """What a chat shows for a ``text`` (or, with ``caption``, a caption) parameter: parsed when
    ``html``, trimmed, within :data:`TEXT_LIMIT` or :data:`CAPTION_LIMIT` code points. ``None`` for
    an empty caption (allowed); Refused with the Bot API's description otherwise."""
    if raw is None or raw == "":
        if caption:
            return None
        raise Refused(EMPTY_TEXT)
    try:
        text = (parse(raw) if html else raw).strip()
    except HtmlError as error:
        raise Refused(f"{ERROR_PREFIX}{error}") from None
    if not text:
        if caption:
            return None
        raise Refused(EMPTY_TEXT)
    if len(text) > (CAPTION_LIMIT if caption else TEXT_LIMIT):
        raise Refused(CAPTION_TOO_LONG if caption else TEXT_TOO_LONG)
    return text
