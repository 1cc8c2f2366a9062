"""Is a sentence English? A cheap check over scripts and stop words, with no model.

A sentence is taken for another language when most of its letters are outside the Latin script,
or when it has at least twice as many distinct stop words of a common Latin-script language
(spaCy's lists, less the words English shares) as English ones, and they are a fair share of its words.
Short sentences, names and numbers are given the benefit of the doubt.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path

LATIN_LANGUAGES = {
    "cs": "Czech", "da": "Danish", "de": "German", "es": "Spanish", "fi": "Finnish", "fr": "French", "hr": "Croatian",
    "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "nb": "Norwegian", "nl": "Dutch", "pl": "Polish", "pt": "Portuguese",
    "ro": "Romanian", "sv": "Swedish", "tr": "Turkish",
}  # fmt: skip
MIN_FOREIGN_WORDS = 2
MIN_FOREIGN_SHARE = 0.3
FOREIGN_TO_ENGLISH = 2


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
    text = span.text
    if not text.isascii():
        letters = [c for c in text if c.isalpha()]
        other_script = Counter(unicodedata.name(c, "OTHER").split()[0] for c in letters if not _latin(c))
        if letters and other_script.total() > len(letters) / 2:
            script = other_script.most_common(1)[0][0]
            return f"{script if len(script) <= 3 else script.title()} script"
    tokens = [t.lower_ for t in span if t.is_alpha]
    words = {w for w in tokens if len(w) > 1}
    hits = Counter(code for w in words for code in _foreign_codes().get(w, ()))
    english = [w for w in tokens if w in _stop_words("en")]
    best, best_count = None, 0
    for code, foreign in hits.most_common():
        if foreign < max(MIN_FOREIGN_WORDS, MIN_FOREIGN_SHARE * len(tokens), best_count + 1):
            break
        if foreign > FOREIGN_TO_ENGLISH * len({w for w in english if w not in _stop_words(code)}):
            best, best_count = LATIN_LANGUAGES[code], foreign
    return best


@cache
def _foreign_codes() -> dict[str, tuple[str, ...]]:
    """Each stop word of the Latin-script languages that English lacks, and the languages it is one of."""
    codes: dict[str, list[str]] = {}
    for code in LATIN_LANGUAGES:
        for word in _stop_words(code) - _stop_words("en"):
            codes.setdefault(word, []).append(code)
    return {word: tuple(found) for word, found in codes.items()}


def warm_up() -> None:
    """Read the stop-word lists (once)."""
    _foreign_codes()


def _latin(c: str) -> bool:
    """Latin letters, with the extended, fullwidth and mathematical (styled) ones."""
    return c < "\u0250" or "\u1e00" <= c <= "\u1eff" or "\uff21" <= c <= "\uff5a" or "\U0001d400" <= c <= "\U0001d7ff"
