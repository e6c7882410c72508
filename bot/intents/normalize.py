"""What a subscriber typed, reduced to the words the classifier compares.

``normalize("Qro a 2ª via do bolettto pfv!!")`` → ``"quero a segunda via do boleto por favor"``:
lower case, no accents, no punctuation, letters repeated for emphasis collapsed, and the
abbreviations and misspellings of Brazilian chat ("internetês") spelled out. The classifier's own
patterns go through the same function, so both sides always agree.
"""

from __future__ import annotations

import re
import unicodedata

# Common abbreviations and misspellings, word → what it stands for (after accents are gone and
# repeated letters collapsed, so "vcs", "vcss" and "vcês" all arrive here as "vcs").
ABBREVIATIONS: dict[str, str] = {
    # courtesy
    "pfv": "por favor",
    "pf": "por favor",
    "pfvr": "por favor",
    "pfvor": "por favor",
    "porfavor": "por favor",
    "plz": "por favor",
    "pls": "por favor",
    "obg": "obrigado",
    "obgd": "obrigado",
    "obgda": "obrigada",
    "brigado": "obrigado",
    "brigada": "obrigada",
    "vlw": "valeu",
    "vlew": "valeu",
    "blz": "beleza",
    "bd": "bom dia",
    "bn": "boa noite",
    "bt": "boa tarde",
    "tmj": "tamo junto",
    # pronouns, little words
    "vc": "voce",
    "vcs": "voces",
    "c": "voce",
    "ce": "voce",
    "q": "que",
    "oq": "o que",
    "tb": "tambem",
    "tbm": "tambem",
    "tmb": "tambem",
    "n": "nao",
    "naum": "nao",
    "nn": "nao",
    "pq": "porque",
    "p": "para",
    "pra": "para",
    "pro": "para o",
    "pros": "para os",
    "d": "de",
    "hj": "hoje",
    "agr": "agora",
    "dps": "depois",
    "msm": "mesmo",
    "td": "tudo",
    "tds": "todos",
    "mt": "muito",
    "mto": "muito",
    "mta": "muita",
    "nd": "nada",
    "ngm": "ninguem",
    "alg": "alguem",
    "kd": "cade",
    "qdo": "quando",
    "qnd": "quando",
    "qnto": "quanto",
    "qto": "quanto",
    "qnt": "quanto",
    "qual": "qual",
    "ql": "qual",
    "eh": "e",
    "ta": "esta",
    "tah": "esta",
    "to": "estou",
    "tou": "estou",
    "tava": "estava",
    "qro": "quero",
    "kero": "quero",
    "dnv": "de novo",
    "ctz": "certeza",
    "msg": "mensagem",
    "sla": "sei la",
    # the subject matter
    "net": "internet",
    "intenet": "internet",
    "internte": "internet",
    "uaifai": "wifi",
    "nf": "nota fiscal",
    "nfe": "nota fiscal",
    "nfse": "nota fiscal",
    "nfs": "nota fiscal",
    "nfcom": "nota fiscal",
    "notinha": "nota",
    "cel": "celular",
    "tel": "telefone",
    "fone": "telefone",
    "zap": "whatsapp",
    "zapzap": "whatsapp",
    "whats": "whatsapp",
    "wpp": "whatsapp",
    "wts": "whatsapp",
    "email": "email",
    "mail": "email",
    "venc": "vencimento",
    "vencto": "vencimento",
    "cod": "codigo",
    "pix": "pix",
    "piks": "pix",
    "pics": "pix",
    "qrcode": "qr code",
    "boleta": "boleto",
    "mb": "mega",
    "megas": "mega",
    "gb": "giga",
    "gigas": "giga",
    "vel": "velocidade",
    "conexao": "conexao",
    "senah": "senha",
    "snha": "senha",
    "protoc": "protocolo",
    "atd": "atendimento",
    "atendimeto": "atendimento",
    "tec": "tecnico",
}

# Phrases written in several pieces, joined before the words are looked up ("2 via", "2a via",
# "2ª via" → "segunda via"). Applied to the text once it is lower case and without accents.
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b2\s*(?:a|o|ª|º)?\s*\.?\s*-?\s*via\b"), " segunda via "),
    (re.compile(r"\bseg\.?\s+via\b"), " segunda via "),
    # "segunda vai", "segunda bia": the usual slips of "via" right after "segunda"
    (re.compile(r"\bsegunda\s+(?:vai|vya|bia|cia|vua|vi)\b"), " segunda via "),
    (re.compile(r"\bwi\s*-?\s*fi\b"), " wifi "),
    (re.compile(r"\be\s*-\s*mail\b"), " email "),
    (re.compile(r"\bnfs\s*-\s*e\b"), " nota fiscal "),
    (re.compile(r"\bnf\s*-\s*e\b"), " nota fiscal "),
    (re.compile(r"\bqr\s*-?\s*code\b"), " qr code "),
    (re.compile(r"\bcopia\s*e\s*cola\b"), " copia e cola "),
)
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_REPEATED = re.compile(r"([a-z])\1+")
_SPACES = re.compile(r"\s+")


def strip_accents(text: str) -> str:
    """``"Não é março"`` → ``"Nao e marco"`` (ç → c, ñ → n, ª stays for ``_PHRASES``)."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ª", "\0a").replace("º", "\0o"))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return plain.replace("\0a", "ª").replace("\0o", "º")


def fold(text: str) -> str:
    """Lower case, accents gone, whitespace single: the text the detail readers look at."""
    return _SPACES.sub(" ", strip_accents(text).lower()).strip()


def normalize(text: str) -> str:
    """The words of ``text`` as the classifier compares them (see the module's docstring)."""
    folded = fold(text)
    for pattern, replacement in _PHRASES:
        folded = pattern.sub(replacement, folded)
    words = []
    for raw in _NOT_WORD.sub(" ", folded).split():
        word = raw if raw.isdigit() else _REPEATED.sub(r"\1", raw)
        words.append(ABBREVIATIONS.get(word, word))
    return " ".join(words)


def spell(word: str) -> str:
    """One word as ``normalize`` writes it, abbreviations left alone: "Passado" → "pasado"."""
    folded = fold(word)
    return folded if folded.isdigit() else _REPEATED.sub(r"\1", folded)


def word_list(text: str) -> tuple[str, ...]:
    """The whitespace-separated words of a literal list in the code (no normalising)."""
    return tuple(text.split())


def words(text: str) -> list[str]:
    """``normalize(text)`` as a list of words."""
    return normalize(text).split()
