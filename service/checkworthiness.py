"""Check-worthiness: how worth checking a sentence is, as a calibrated probability.

A logistic regression over the sentence's all-MiniLM-L6-v2 embedding and a few cheap
features of its spaCy parse (question, greeting, cut-off headline, first-person opinion,
numbers, named entities, tense...), trained on CheckThat! 2024 English by
scripts/train_checkworthiness.py and shipped as plain JSON in models/checkworthiness/.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from service.errors import NotLoaded

_GREETING = re.compile(
    r"^\s*(hi|hello|hey|dear|good (morning|afternoon|evening|night)|thanks|thank you|welcome|goodbye|bye|cheers|regards)\b", re.I
)
_ELLIPSIS_END = re.compile(r"(\.\.\.|…)\s*[\"'”’)]?\s*$")
_OPINION_VERBS = {"think", "believe", "feel", "hope", "wish", "guess", "suppose", "love", "hate", "like", "prefer", "want"}
_SUBJECTIVE = {
    "great", "terrible", "awful", "wonderful", "amazing", "horrible", "beautiful", "ugly", "best", "worst", "stupid",
    "brilliant", "disgraceful", "shameful", "fantastic", "bad", "good", "nice", "sad", "disgusting", "ridiculous",
}  # fmt: skip
_FACT_ENTITIES = {"DATE", "CARDINAL", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "TIME"}
_NAMED_ENTITIES = {"PERSON", "ORG", "GPE", "NORP", "LAW", "LOC", "EVENT", "FAC", "PRODUCT"}
_REFERENCE_LEMMAS = {"state", "stipulate", "provide", "require", "say", "declare", "agree", "article", "law", "treaty", "charter"}

FEATURE_NAMES = (
    "question", "greeting", "ellipsis", "short", "no_verb", "first_person", "second_person", "first_person_opinion",
    "subjective", "modal", "exclamation", "imperative", "fact_entity", "named_entity", "past_tense", "number",
    "reference_lemma", "comparative", "superlative", "log_words",
)  # fmt: skip


def sentence_features(sentence) -> np.ndarray:
    """Cheap features of a spaCy sentence span, in FEATURE_NAMES order."""
    text = sentence.text.strip()
    words = [t for t in sentence if not t.is_punct and not t.is_space]
    lower = {t.lower_ for t in sentence}
    lemmas = {t.lemma_.lower() for t in sentence}
    tags = {t.tag_ for t in sentence}
    labels = {e.label_ for e in sentence.ents}
    first_person = bool(lower & {"i", "we", "my", "me", "our", "us"})
    first = sentence[0] if len(sentence) else None
    values = {
        "question": text.rstrip("\"'”’) ").endswith("?"),
        "greeting": bool(_GREETING.match(text)),
        "ellipsis": bool(_ELLIPSIS_END.search(text)),
        "short": len(words) < 4,
        "no_verb": not any(t.pos_ in ("VERB", "AUX") for t in sentence),
        "first_person": first_person,
        "second_person": bool(lower & {"you", "your"}),
        "first_person_opinion": first_person and bool(lemmas & _OPINION_VERBS),
        "subjective": bool(lower & _SUBJECTIVE),
        "modal": bool(lower & {"should", "must", "ought", "could", "might", "would"}),
        "exclamation": text.endswith("!"),
        "imperative": first is not None and (first.tag_ == "VB" or first.lower_ == "let"),
        "fact_entity": bool(labels & _FACT_ENTITIES),
        "named_entity": bool(labels & _NAMED_ENTITIES),
        "past_tense": bool(tags & {"VBD", "VBN"}),
        "number": any(t.like_num for t in sentence),
        "reference_lemma": bool(lemmas & _REFERENCE_LEMMAS),
        "comparative": bool(tags & {"JJR", "RBR"}),
        "superlative": bool(tags & {"JJS", "RBS"}),
        "log_words": math.log1p(len(words)) / 4.0,
    }
    return np.array([float(values[name]) for name in FEATURE_NAMES], dtype=np.float32)


class CheckworthinessModel:
    """Logistic regression over [sentence embedding, sentence features]."""

    def __init__(self, model_dir: Path):
        self.model_dir = Path(model_dir)
        self.threshold = 0.5
        self._weights: np.ndarray | None = None
        self._bias = 0.0

    def warm_up(self, embedding_model_name: str) -> None:
        """Read the weights; refuse them if they were fitted on another embedding model."""
        if self._weights is not None:
            return
        path = self.model_dir / "model.json"
        if not path.is_file():
            raise NotLoaded(f"no check-worthiness model at {path}; train one with scripts/train_checkworthiness.py")
        model = json.loads(path.read_text(encoding="utf-8"))
        if model["embedding_model"] != embedding_model_name or tuple(model["features"]) != FEATURE_NAMES:
            raise NotLoaded(f"{path} was trained for other inputs ({model['embedding_model']}); retrain it")
        self._weights = np.asarray(model["weights"], dtype=np.float32)
        self._bias = float(model["bias"])
        self.threshold = float(model["threshold"])

    def predict(self, embeddings: np.ndarray, features: np.ndarray) -> np.ndarray:
        """Probability that each sentence is worth checking."""
        if self._weights is None:
            raise NotLoaded("CheckworthinessModel used before warm_up()")
        if len(embeddings) == 0:
            return np.zeros(0, dtype=np.float32)
        logits = np.hstack([embeddings, features]) @ self._weights + self._bias
        return 1.0 / (1.0 + np.exp(-logits))
