"""Stance classification: does a passage support, refute, or say nothing about a claim?

A MiniLM cross-encoder trained by scripts/train_stance.py reads (passage, claim) pairs. The
label order is read from the model's config (`id2label`), never assumed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from service.errors import NotLoaded

STANCES = ("supports", "refutes", "neutral")


class StanceClassifier:
    """Batched (passage, claim) -> {"supports", "refutes", "neutral"} probabilities."""

    def __init__(self, model_dir: Path, max_length: int = 256, batch_size: int = 32):
        self.model_dir = Path(model_dir)
        self.max_length = max_length
        self.batch_size = batch_size
        self._model = None
        self._tokenizer = None
        self.labels: list[str] = []

    @property
    def name(self) -> str:
        return self.model_dir.name

    def warm_up(self) -> None:
        """Load tokenizer and model (fp16 weights are computed in fp32 on the CPU)."""
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if not (self.model_dir / "config.json").is_file():
            raise NotLoaded(f"no stance model at {self.model_dir}; train one with scripts/train_stance.py")
        tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        model = AutoModelForSequenceClassification.from_pretrained(self.model_dir, dtype=torch.float32)
        self._adopt(model, tokenizer)

    @classmethod
    def from_model(cls, model, tokenizer, max_length: int = 256) -> StanceClassifier:
        """Wrap a model already in memory (used when evaluating right after training)."""
        classifier = cls(Path("."), max_length=max_length)
        classifier._adopt(model, tokenizer)
        return classifier

    def _adopt(self, model, tokenizer) -> None:
        model.eval()
        labels = [model.config.id2label[i].lower() for i in range(model.config.num_labels)]
        if sorted(labels) != sorted(STANCES):
            raise NotLoaded(f"stance model {self.model_dir} has labels {labels}, expected {list(STANCES)}")
        self.labels = labels
        self._tokenizer = tokenizer
        self._model = model

    def predict(self, pairs: list[tuple[str, str]]) -> list[dict[str, float]]:
        """Stance probabilities for each (passage, claim) pair, in the order given."""
        import torch

        if self._model is None:
            raise NotLoaded("StanceClassifier used before warm_up()")
        if not pairs:
            return []
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        probabilities = np.zeros((len(pairs), len(self.labels)), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                encoded = self._tokenizer(
                    [pairs[i][0] for i in batch],
                    [pairs[i][1] for i in batch],
                    truncation="longest_first",
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                )
                probabilities[batch] = torch.softmax(self._model(**encoded).logits.float(), dim=-1).numpy()
        return [{label: round(float(p), 4) for label, p in zip(self.labels, row, strict=True)} for row in probabilities]
