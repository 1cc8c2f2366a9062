"""Running a fine-tuned Hugging Face sequence classifier on a CPU (the stance and check-worthiness models).

The fp16 weights are computed in fp32. By default the model is exported at start-up to ONNX (in
memory) and run by ONNX Runtime with its matrix products in int8 (`backend="onnx-int8"`, see
service/onnx_session.py). `backend="onnx"` keeps them in fp32 and gives PyTorch's probabilities
(to 1e-6), faster than PyTorch's eager mode on small batches; `backend="torch"` runs the
PyTorch model itself. Inputs are batched by token length so that little padding is computed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from service.errors import NotLoaded
from service.onnx_session import ClassifierBackend, onnx_session


class SequenceClassifier:
    """A loaded classifier: its tokenizer, its labels (from `id2label`) and a way to run it."""

    def __init__(self, model, tokenizer, backend: ClassifierBackend = "torch", threads: int | None = None):
        model.eval()
        self.tokenizer = tokenizer
        self.labels = [model.config.id2label[i].lower() for i in range(model.config.num_labels)]
        self.backend = backend
        self._model = None
        self._session = None
        if backend in ("onnx", "onnx-int8"):
            example = tokenizer(["a passage"], ["a claim"], return_tensors="pt")
            self._session = onnx_session(model, dict(example), "logits", threads, int8=backend == "onnx-int8")
        else:
            self._model = model

    @classmethod
    def load(
        cls, model_dir: Path, backend: ClassifierBackend = "onnx-int8", threads: int | None = None, missing: str = ""
    ) -> SequenceClassifier:
        """The classifier saved in `model_dir`; raises NotLoaded (with `missing` as advice) when there is none."""
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if not (Path(model_dir) / "config.json").is_file():
            raise NotLoaded(f"no model at {model_dir}; {missing}".rstrip("; "))
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, dtype=torch.float32)
        return cls(model, tokenizer, backend, threads)

    def probabilities(self, encoded: dict[str, list[list[int]]], batch_size: int) -> np.ndarray:
        """Softmax over the labels for each tokenised input (unpadded token id lists), in order."""
        lengths = [len(ids) for ids in encoded["input_ids"]]
        probabilities = np.zeros((len(lengths), len(self.labels)), dtype=np.float32)
        for batch in length_batches(lengths, batch_size):
            padded = self.tokenizer.pad({name: [values[i] for i in batch] for name, values in encoded.items()}, return_tensors="np")
            logits = self._logits(padded)
            exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities[batch] = exponentials / exponentials.sum(axis=1, keepdims=True)
        return probabilities

    def _logits(self, encoded) -> np.ndarray:
        if self._session is not None:
            return self._session.run(None, {name: np.asarray(values, dtype=np.int64) for name, values in encoded.items()})[0]
        import torch

        device = self._model.device
        with torch.inference_mode():
            inputs = {name: torch.from_numpy(values).to(device) for name, values in encoded.items()}
            return self._model(**inputs).logits.float().cpu().numpy()


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
