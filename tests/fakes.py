"""Deterministic stand-ins for the models, for tests about the logic around them (the unit lane).

They are small and fast, and behave enough like the real models for the logic to be tested: texts
that share words embed close together, and a passage that contains a claim's words "supports" it.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import spacy

from service.results import Claim, Extraction

_WORD = re.compile(r"\w+")
_NEGATIONS = frozenset({"not", "no", "never", "none"})


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


class HashEmbedder:
    """A bag of words, each word a fixed random unit vector seeded by its SHA-256: the cosine of two
    texts grows with the words they share. Same interface as service.runtime.embedding.Embedder."""

    name = "fake/sha256-bag-of-words"
    dimension = 64
    batch_size = 16

    def __init__(self, int8: bool = False) -> None:
        self.int8 = int8  # recorded like the real embedder's; the fake's vectors are the same either way
        self.encoded: list[str] = []  # every text encoded, for tests that count model work

    def warm_up(self) -> None:
        pass

    def encode(self, texts, show_progress: bool = False) -> np.ndarray:
        self.encoded += list(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(text) or [""]:
                vectors[row] += _word_vector(word)
            vectors[row] /= max(float(np.linalg.norm(vectors[row])), 1e-9)
        return vectors


def _word_vector(word: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(HashEmbedder.dimension).astype(np.float32)
    return vector / np.linalg.norm(vector)


class KeywordStance:
    """Reads a (passage, claim) pair by word overlap: the passage "supports" a claim whose content
    words it all contains, "refutes" it when it also differs in negation, else it is "neutral".
    Same interface as service.pipeline.stance.StanceClassifier."""

    name = "fake/keyword-stance"

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []  # every pair read, for tests that count model work

    def warm_up(self) -> None:
        pass

    def predict(self, pairs: list[tuple[str, str]]) -> list[dict[str, float]]:
        self.pairs += pairs
        return [self._read(passage, claim) for passage, claim in pairs]

    @staticmethod
    def _read(passage: str, claim: str) -> dict[str, float]:
        passage_words, claim_words = set(words(passage)), set(words(claim))
        content = claim_words - _NEGATIONS
        if not content or not content <= passage_words:
            return {"supports": 0.05, "refutes": 0.05, "neutral": 0.9}
        strength = 0.5 + 0.45 * len(content) / len(passage_words - _NEGATIONS)  # surer of a sentence than of a long passage
        if bool(claim_words & _NEGATIONS) != bool(passage_words & _NEGATIONS):
            return {"supports": 0.05, "refutes": strength, "neutral": 0.95 - strength}
        return {"supports": strength, "refutes": 0.05, "neutral": 0.95 - strength}


class SentenceSplitter:
    """Claims are the text's sentences (split at '. '), all check-worthy; nothing is skipped.
    Same interface as service.pipeline.claims.extractor.ClaimExtractor, for the parts the pipeline uses."""

    threshold = 0.5

    def warm_up(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    _blank = None

    def parse(self, texts: list[str]):
        """Docs without a parse: no subject is found, so the subject check never fires."""
        if SentenceSplitter._blank is None:
            SentenceSplitter._blank = spacy.blank("en")
            SentenceSplitter._blank.add_pipe("sentencizer")
        return list(SentenceSplitter._blank.pipe(texts))

    def extract_many(self, texts: list[str]) -> list[Extraction]:
        return [
            Extraction([Claim(m.group(), m.start(), m.end(), 1.0, m.group()) for m in re.finditer(r"\S[^.]*\.", text)]) for text in texts
        ]
