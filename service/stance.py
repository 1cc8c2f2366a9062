"""Stance classification: does a passage support, refute, or say nothing about a claim?

A MiniLM cross-encoder trained by scripts/train_stance.py reads (passage, claim) pairs. The
label order is read from the model's config (`id2label`), never assumed. By default the
weights are exported at start-up to ONNX (in memory) and run by ONNX Runtime, which gives the
same probabilities faster than PyTorch's eager mode on a CPU (scripts/bench.py measures it);
`backend="torch"` runs the PyTorch model itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from service.errors import NotLoaded
from service.onnx_session import Backend, onnx_session

STANCES = ("supports", "refutes", "neutral")


class StanceClassifier:
    """Batched (passage, claim) -> {"supports", "refutes", "neutral"} probabilities."""

    def __init__(self, model_dir: Path, max_length: int = 256, batch_size: int = 16, backend: Backend = "onnx", threads: int | None = None):
        self.model_dir = Path(model_dir)
        self.max_length = max_length
        self.batch_size = batch_size
        self.backend = backend
        self.threads = threads
        self._model = None
        self._session = None
        self._tokenizer = None
        self.labels: list[str] = []

    @property
    def name(self) -> str:
        return self.model_dir.name

    def warm_up(self) -> None:
        """Load tokenizer and model (fp16 weights are computed in fp32 on the CPU), and with the
        ONNX backend export them to an ONNX Runtime session."""
        if self._model is not None or self._session is not None:
            return
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if not (self.model_dir / "config.json").is_file():
            raise NotLoaded(f"no stance model at {self.model_dir}; train one with scripts/train_stance.py")
        tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        model = AutoModelForSequenceClassification.from_pretrained(self.model_dir, dtype=torch.float32)
        self._adopt(model, tokenizer)
        if self.backend == "onnx":
            example = tokenizer(["a passage"], ["a claim"], return_tensors="pt")
            self._session = onnx_session(model, dict(example), "logits", self.threads)
            self._model = None  # the session holds its own copy of the weights

    @classmethod
    def from_model(cls, model, tokenizer, max_length: int = 256) -> StanceClassifier:
        """Wrap a model already in memory (used when evaluating right after training)."""
        classifier = cls(Path("."), max_length=max_length, backend="torch")
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
        """Stance probabilities for each (passage, claim) pair, in the order given; pairs are
        batched by token length so that little padding is computed."""
        if self._model is None and self._session is None:
            raise NotLoaded("StanceClassifier used before warm_up()")
        if not pairs:
            return []
        encoded = self._tokenizer(
            [passage for passage, _ in pairs], [claim for _, claim in pairs], truncation="longest_first", max_length=self.max_length
        )
        lengths = [len(ids) for ids in encoded["input_ids"]]
        probabilities = np.zeros((len(pairs), len(self.labels)), dtype=np.float32)
        for batch in length_batches(lengths, self.batch_size):
            padded = self._tokenizer.pad({name: [values[i] for i in batch] for name, values in encoded.items()}, return_tensors="np")
            logits = self._logits(padded)
            exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities[batch] = exponentials / exponentials.sum(axis=1, keepdims=True)
        return [{label: round(float(p), 4) for label, p in zip(self.labels, row, strict=True)} for row in probabilities]

    def _logits(self, encoded) -> np.ndarray:
        if self._session is not None:
            return self._session.run(None, {name: np.asarray(values, dtype=np.int64) for name, values in encoded.items()})[0]
        import torch

        with torch.inference_mode():
            return self._model(**{name: torch.from_numpy(values) for name, values in encoded.items()}).logits.float().numpy()


def length_batches(lengths: list[int], batch_size: int, spread: float = 1.5, slack: int = 8) -> list[list[int]]:
    """Indices grouped into batches of similar length, shortest first: a batch ends at
    `batch_size` items or when the next item is more than `spread` times (plus `slack` tokens)
    as long as the batch's first, so padding never more than about doubles the work."""
    batches: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        if batches and len(batches[-1]) < batch_size and lengths[i] <= spread * lengths[batches[-1][0]] + slack:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches
