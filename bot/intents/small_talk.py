"""Greetings, thanks, "ok" and 👍: messages that ask for nothing and deserve a short human reply.

``small_talk(text)`` is ``"greeting"``, ``"thanks"``, ``"ack"`` or ``"bye"`` when that is all the
message says (emoji and punctuation aside), else None: "oi, quero meu boleto" asks for something.
"""

from __future__ import annotations

import re

from bot.intents.normalize import normalize, word_list

GREETING, THANKS, ACK, BYE = "greeting", "thanks", "ack", "bye"

# Words and short expressions of each kind, normalised (bot.intents.normalize); a message made
# only of these (and of filler below) is small talk of the first kind found in it, thanks first.
_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        THANKS,
        (
            "muito obrigado",
            "muito obrigada",
            "obrigado",
            "obrigada",
            "valeu",
            "agradeco",
            "grato",
            "grata",
            "thanks",
            "tamo junto",
            "show",
            "perfeito",
            "otimo",
            "maravilha",
            "top",
        ),
    ),
    (BYE, ("tchau", "ate mais", "ate logo", "ate amanha", "falou", "flw", "adeus", "bye")),
    (
        GREETING,
        (
            "bom dia",
            "boa tarde",
            "boa noite",
            "oi",
            "ola",
            "oie",
            "opa",
            "eai",
            "e ai",
            "salve",
            "hello",
            "hi",
            "alo",
            "tudo bem",
            "tudo bom",
            "como vai",
        ),
    ),
    (
        ACK,
        (
            "ok",
            "okay",
            "okey",
            "beleza",
            "certo",
            "entendi",
            "combinado",
            "sim",
            "blz",
            "tranquilo",
        ),
    ),
)
_FILLER = frozenset(
    word_list("a o e de da do tudo bem voce voces pessoal gente amigo moca moco kk rs")
)
_EMOJI = {
    "👍": ACK,
    "👌": ACK,
    "🙂": ACK,
    "😊": THANKS,
    "🙏": THANKS,
    "❤": THANKS,
    "🥰": THANKS,
    "👋": GREETING,
    "✌": BYE,
}
_LAUGH = re.compile(r"^(?:k+|(?:ha)+|(?:he)+|rs+)$")


def small_talk(text: str) -> str | None:
    """The kind of small talk ``text`` is, or None when it says more (see the module)."""
    emoji = [kind for symbol, kind in _EMOJI.items() if symbol in text]
    normalized = f" {normalize(text)} "
    found: list[str] = []
    for kind, expressions in _KINDS:
        for expression in sorted(expressions, key=len, reverse=True):
            padded = f" {normalize(expression)} "
            if padded in normalized:
                found.append(kind)
                normalized = normalized.replace(padded, " ")
    rest = [word for word in normalized.split() if word not in _FILLER and not _LAUGH.match(word)]
    if rest:
        return None
    kinds = found + emoji
    for kind in (THANKS, BYE, GREETING, ACK):
        if kind in kinds:
            return kind
    return None
