"""Which of the bot's items a subscriber's message asks for: rules you can read, scored.

Each intent has weighted *rules*. A rule is one or more groups joined by ``+``; every group must
be present in the message, in any order. A group is alternatives separated by ``|``; an
alternative is one word or a few consecutive words, and a word ending in ``*`` matches any word
starting with it (``desbloq*``: desbloqueio, desbloquear…)::

    "mud*|troc*|alter* + vencimento|vence*"   (weight 5)

Before matching, the message is normalised (``bot.intents.normalize``), its filler words dropped
("o", "de", "minha", "por favor"…), and a word the rules do not know is corrected to the
closest one they do when at most one letter apart (two for long words: Damerau-Levenshtein,
``rapidfuzz``), so "bolto", "fatuar" and "desbloqeio" read as "boleto", "fatura", "desbloqueio".

An intent's score is the sum of the weights of its rules that match. The confidence of the best
intent is its share of ``exp(score / T)`` among the intents that scored and a constant
"none of these" weight, so one strong rule gives a confident answer, two intents close together
or a single weak word do not (then the bot offers the likeliest few as buttons).
``classify(text).explain()`` lists the rules that fired.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from bot.intents.normalize import normalize, spell, word_list
from bot.intents.small_talk import small_talk

OTHER = "other"
# The ids of issue 21, in the order of the bot's menu (then the two without an item, and other).
INTENTS = (
    "account",
    "unlock",
    "invoices",
    "fiscal_note",
    "contacts",
    "calls",
    "connections",
    "statement",
    "due_date",
    "tickets",
    "password",
    "human",
    "no_internet",
    OTHER,
)
# Below this confidence the bot asks ("Você quer…?") instead of going straight to the item.
CONFIDENT = 0.6
_TEMPERATURE = 1.5
_NONE_OF_THESE = 2.0  # the score of "something else", against which a lone weak word stays unsure

# Words that carry no meaning for the choice of an item (after normalisation).
FILLER = frozenset(
    word_list(
        """
    a o as os ao aos de do da dos das e em no na nos nas num numa um uma uns umas para por favor
    pelo pela com que meu minha meus minhas me mim eu seu sua seus suas te ai la aqui ja se lhe
    isso esse essa este esta isto estou estava estao sou foi ser era vou vai ter tem tenho tinha
    quero queria gostaria preciso precisava precisando poderia pode podia consegue consigo ver
    saber sobre entao mais muito muita bem so agora hoje ainda tambem ola oi bom boa tarde noite
    obrigado obrigada amigo moca moco senhor senhora pessoal
    """
    )
)
# Expressions whose words are filler one by one, kept as one word before the filler goes.
_EXPRESSIONS = {"em dia": "em_dia", "de novo": "de_novo"}

# intent → (rule, weight). Edit these (and run tests/test_intents.py) to teach the bot a phrasing.
RULES: dict[str, tuple[tuple[str, float], ...]] = {
    "invoices": (
        ("boleto*", 4),
        ("fatura*", 3.5),
        ("segunda via", 4),
        ("pix", 4),
        ("codigo barra*|linha digitavel|qr code|copia cola", 4),
        ("pagar|pague|paga|pagamento|pago", 1.5),
        ("pagar|pague|paga|pagamento + internet|mensalidade|conta|fatura*|boleto*", 1.5),
        ("mensalidade*", 3),
        ("conta + pag*|mes|valor|internet|envia|manda", 2.5),
        ("valor + conta|mensalidade|fatura*|internet", 1.5),
        ("aberto|atrasad*|vencid*", 1),
    ),
    "fiscal_note": (
        ("nota fiscal|notas fiscais", 7),
        ("nota|notas|danfe|xml", 3),
        ("fiscal|fiscais", 3),
    ),
    "account": (
        ("plano|planos", 3.5),
        ("dados|cadastro|cadastral|cadastrais|cadastrado", 2.5),
        ("dados cadastrais|dados pessoais|dados conta|dados contrato", 3),
        ("velocidade", 2.5),
        ("velocidade + contratad*|plano|assino", 3),
        ("mega|giga + quantos|contratad*|plano", 3),
        ("ip|ip fixo|pppoe|usuario pppoe|login", 4),
        ("contrato", 3),
        ("conta", 1.5),
        ("assinatura|assino", 3),
        ("endereco + cadastr*", 2),
        ("informac* + conta|cadastr*", 2),
        ("detalhe* + plano", 2),
        ("nome + cadastr*", 2),
        ("codigo + cliente|contrato|assinante", 4),
    ),
    "unlock": (
        ("desbloq*|desbloquei*", 7),
        ("bloquead*|bloqueio|bloquearam|suspens*|suspend*|cortad*|cortaram|cortou", 5),
        ("habilitac* + provisoria|provisorio", 7),
        ("habilit*|reativ*|relig*", 4),
        ("liber*", 4),
        ("confianca", 4),
        ("promessa + pag*", 6),
        ("promet* + pag*", 5),
        ("pago|pagar + amanha|sexta|segunda|semana|depois|libera*", 3),
        ("falta + pagamento", 2),
        ("paguei|pago + volta*|continua|quando", 4),
    ),
    "statement": (
        ("extrato", 3),
        ("extrato + financeiro|pagamento*|pag*", 5),
        ("financeir*|financas", 3.5),
        ("devo|devendo|divida*|debito*|pendencia*|pendente*", 5),
        ("paguei|pago|pagas|pagos|pagamentos|pagamento", 2),
        ("historico + pag*|financeiro|boleto*|fatura*", 4),
        ("quais + paguei|pagas|pagos", 3),
        ("paguei + boleto*|fatura*|mensalidade*|conta", 2),
        ("comprovante*", 3),
        ("atraso", 3),
        ("alguma|algum|alguns|algumas + atrasad*|atraso|aberto|vencid*|pendente*", 4),
        ("em_dia", 4),
        ("lista + pagamento*", 3),
        ("conferir|confere", 1),
    ),
    "connections": (
        ("extrato + conexao|conexoes|uso", 6),
        ("conexao|conexoes|conectei|conectou", 2.5),
        ("consumo|consumi|usei|uso|utilizei", 3),
        ("gastei|gasto", 1.5),
        ("gastei|gasto + dados|internet|giga|mega", 2),
        ("historico|relatorio + conexao|conexoes|consumo|uso", 3),
        ("dados|giga|trafego|download|upload", 1.5),
        ("trafego + dados", 3),
        ("sess*", 3),
        ("navegacao", 2),
        ("historico|relatorio + navegacao|acesso*", 2),
        ("internet + usei|consumi|consumo|uso|gastei", 2),
        ("quantas vezes", 1),
    ),
    "calls": (
        ("ligac*|ligacoes|ligacao|ligaco*|chamadas|telefonema*", 6),
        ("extrato + ligac*|telefon*|chamadas|linha", 5),
        ("telefon* + consumo|gastei|gasto|extrato|minutos|conta", 4),
        ("interurbana*|minutos|fixo", 2),
        ("telefonic*", 3),
    ),
    "contacts": (
        ("contato|contatos", 3.5),
        ("telefone|celular|numero|email|whatsapp|sms", 2),
        (
            "mud*|troc*|alter*|atualiz*|corrig*|cadastr*|inclu*|adicion*|novo|nova + telefone|"
            "celular|numero|email|whatsapp|contato",
            4,
        ),
        ("receber + aviso*|sms|mensage*", 2),
    ),
    "due_date": (
        ("vencimento|vencimeto|vence*|venca", 3),
        ("mud*|troc*|alter*|passar|posso|nova|novo + vencimento|vencimeto|vence*|venca", 5),
        ("mud*|troc*|alter* + data|dia + pagamento|pagar|pago", 4),
        ("data + vencimento", 2),
        ("todo dia", 3),
        ("vencimento|vence*|venca + dia", 2),
        ("dia", 1),
    ),
    "tickets": (
        ("chamado|chamados", 6),
        ("protocolo*", 6),
        ("reclama*", 6),
        ("atendimentos", 4),
        ("ordem servico|visita|tecnico", 4.5),
        ("abrir|abri|registrar|acompanhar|andamento|status|suporte", 1.5),
        ("mudanca + endereco", 5),
        ("mud*|troc* + ponto|comodo|lugar|cabo", 4),
        ("mud* + casa|endereco", 3),
        ("responder|respondeu|resposta", 1.5),
    ),
    "password": (
        ("senha|senhas", 7),
        ("esqueci|redefin*|recuper*|reset*", 1.5),
    ),
    "human": (
        ("atendente*|humano|humana|pessoa|alguem|gente|robo", 5),
        ("falar|conversar|fala", 3),
        ("atendimento humano", 3),
        ("telefone|whatsapp|ligar|liga|contato + voces|empresa", 4),
        ("entrar contato|entro contato", 5),
        ("liga|ligue|ligar", 3),
        ("suporte + falar", 2),
        ("financeiro + falar", 3),
    ),
    "no_internet": (
        ("sem internet|sem conexao|sem sinal|sem acesso", 7),
        ("caiu|caindo|cai|parou|travando|trava", 4),
        ("lenta|lento|lentidao|devagar|ruim|instavel|oscilando|oscila|merda|pessima|baixa", 4),
        ("internet|wifi|sinal|modem|roteador", 1.5),
        ("nao + funciona|conecta|pega|pegando|abre|navega|navegando|liga", 4),
        ("nao internet", 4),
        ("carrega|carregando", 2),
        ("nada + carrega*|abre|funciona|conecta|pega", 4),
        (
            "roteador|modem|pon|onu|ont + "
            "piscando|pisca|luz|vermelha|los|apagad*|desligad*|reinici*",
            4,
        ),
        ("luz + piscando|pisca|vermelha|apagad*", 4),
        ("ping|lag|latencia|jogando|travand*", 3),
        ("wifi + sumiu|nao|funciona", 3),
        ("velocidade + baixa|caiu|ruim", 4),
        ("internet + sumiu|fora", 3),
    ),
    OTHER: (
        ("cancel*", 6),
        ("contratar|contratacao|assinar", 5),
        ("upgrade|aumentar + plano|velocidade", 5),
        ("horario + atendimento|funcionamento|loja|abre|fecha", 3),
        ("horario", 1.5),
        ("funcionamento|domingo|feriado|sabado", 4),
        ("loja|endereco + empresa|voces|loja", 4),
        ("fibra + bairro|rua|cidade", 5),
        ("bairro|cidade", 3),
        ("vendem|vende|revend*|indic*|desconto", 4),
        ("vaga|vagas|emprego|curriculo|trabalhar", 5),
        ("custa|preco", 6),
        ("custa|preco|valor + plano", 2),
        ("tv|cabo", 3),
        ("empresarial|residencial", 3),
        ("plano|planos + celular|movel|chip", 4),
        ("plano|planos + voces", 2),
        ("cnpj + empresa", 4),
        ("onde", 2),
    ),
}


@dataclass(frozen=True, slots=True)
class Guess:
    """An intent, its score, and the rules that fired for it."""

    intent: str
    score: float
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Classification:
    intent: str  # the best of INTENTS ("other" when nothing matched)
    confidence: float  # 0..1, see the module's docstring
    likely: tuple[Guess, ...]  # the likeliest intents (not "other"), best first, at most 3
    small_talk: str | None  # "greeting", "thanks", "ack" or "bye" when that is all it says
    words: tuple[str, ...]  # what the rules looked at, after normalising and correcting

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT

    def explain(self) -> str:
        lines = [f"{self.intent} ({self.confidence:.0%}) ← {' '.join(self.words)!r}"]
        lines += [
            f"  {guess.intent} {guess.score:g}: {'; '.join(guess.rules)}" for guess in self.likely
        ]
        if self.small_talk:
            lines.append(f"  small talk: {self.small_talk}")
        return "\n".join(lines)


def classify(text: str) -> Classification:
    """What ``text`` asks for (see the module's docstring)."""
    normalized = f" {normalize(text)} "
    for expression, word in _EXPRESSIONS.items():
        normalized = normalized.replace(f" {expression} ", f" {word} ")
    content = tuple(_correct(word) for word in normalized.split() if word not in FILLER)
    chat = small_talk(text)
    if chat is not None:
        return Classification(OTHER, 0.0, (), chat, content)
    guesses = sorted(
        (guess for guess in (_score(intent, content) for intent in RULES) if guess.score > 0),
        key=lambda guess: -guess.score,
    )
    if not guesses:
        return Classification(OTHER, 0.0, (), None, content)
    weights = [math.exp(guess.score / _TEMPERATURE) for guess in guesses]
    confidence = weights[0] / (sum(weights) + math.exp(_NONE_OF_THESE / _TEMPERATURE))
    likely = tuple(guess for guess in guesses if guess.intent != OTHER)[:3]
    return Classification(guesses[0].intent, confidence, likely, None, content)


def intent_of(text: str) -> str:
    """Just the intent id (``other`` for small talk and for what nothing matches)."""
    return classify(text).intent


def _score(intent: str, content: tuple[str, ...]) -> Guess:
    fired = [(rule, weight) for rule, weight in RULES[intent] if _matches(_compile(rule), content)]
    return Guess(intent, sum(weight for _, weight in fired), tuple(rule for rule, _ in fired))


Group = tuple[tuple[str, ...], ...]  # alternatives, each a run of words


@cache
def _compile(rule: str) -> tuple[Group, ...]:
    return tuple(
        tuple(
            tuple(_spell(word) for word in alternative.split()) for alternative in group.split("|")
        )
        for group in rule.split("+")
    )


def _spell(word: str) -> str:
    """A rule's word as ``normalize`` spells words (no accents, no doubled letters), ``*`` kept."""
    stem = word.removesuffix("*")
    return spell(stem) + word[len(stem) :]


def _matches(groups: tuple[Group, ...], content: tuple[str, ...]) -> bool:
    return all(any(_contains(content, run) for run in group) for group in groups)


def _contains(content: tuple[str, ...], run: tuple[str, ...]) -> bool:
    size = len(run)
    return any(
        all(_word_matches(content[start + i], run[i]) for i in range(size))
        for start in range(len(content) - size + 1)
    )


def _word_matches(word: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        return word.startswith(pattern[:-1])
    return word == pattern


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]:
    """(known words, their list, the prefixes of ``*`` patterns): what ``_correct`` aims at."""
    words: set[str] = set(FILLER) | set(_KNOWN_WORDS)
    prefixes: set[str] = set()
    for rules in RULES.values():
        for rule, _ in rules:
            for group in _compile(rule):
                for run in group:
                    for word in run:
                        (prefixes.add(word[:-1]) if word.endswith("*") else words.add(word))
    return frozenset(words), tuple(sorted(words)), tuple(sorted(prefixes))


# Not cached: what subscribers type (a password typed by mistake among it) is not kept in memory.
def _correct(word: str) -> str:
    """``word``, or the known word one typo away (two for words of 8 letters or more)."""
    known, choices, prefixes = _vocabulary()
    if len(word) < 4 or word.isdigit() or word in known or word.startswith(prefixes):
        return word
    allowed = 1 if len(word) < 8 else 2
    best = process.extractOne(
        word, choices, scorer=DamerauLevenshtein.distance, score_cutoff=allowed
    )
    if best is None:
        # A misspelt inflection ("desbloqeio") still starts like its pattern's stem.
        for prefix in prefixes:
            if len(prefix) >= 5 and DamerauLevenshtein.distance(word[: len(prefix)], prefix) <= 1:
                return prefix + word[len(prefix) :]
        return word
    return best[0]


# Ordinary words that look like a typo of a rule's word but are not ("conta" is not "contato").
_KNOWN_WORDS: Iterable[str] = word_list(
    """
    conta contas nota notas pagou paga pague pagando meses mes ano anos dia dias semana ontem
    amanha sexta segunda terca quarta quinta sabado domingo casa rua nome dado dados valor
    vezes hora horas noite tarde manha celular sinal ligar ligou liga usar usando tudo nada
    algum alguma coisa coisas mudou muda manda mande envia envie passa passe reiniciei
"""
)
