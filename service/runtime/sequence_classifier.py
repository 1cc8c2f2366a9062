"""Running a fine-tuned Hugging Face sequence classifier on a CPU (the stance and check-worthiness models).

The fp16 weights are computed in fp32. By default the model is exported at start-up to ONNX (in
memory) and run by ONNX Runtime with its matrix products in int8 (`backend="onnx-int8"`, see
service/runtime/onnx_session.py). `backend="onnx"` keeps them in fp32 and gives PyTorch's probabilities
(to 1e-6), faster than PyTorch's eager mode on small batches; `backend="torch"` runs the
PyTorch model itself. Inputs are batched by token length so that little padding is computed,
and with ONNX Runtime the batches run side by side, one per core.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from service.errors import NotLoaded
from service.runtime.onnx_session import ClassifierBackend, ParallelSession, onnx_session, stream_batch_size


class SequenceClassifier:
    """A loaded classifier: its tokenizer, its labels (from `id2label`) and a way to run it."""

    def __init__(self, model, tokenizer, backend: ClassifierBackend = "torch", threads: int | None = None):
        """`model` may come in a one-item list that nothing else references (as `load` passes it): on
        ONNX Runtime its weights are then freed as they are copied into the session (`onnx_session`)."""
        holder = model if isinstance(model, list) else [model]
        del model
        holder[0].eval()
        self.tokenizer = tokenizer
        config = holder[0].config
        self.labels = [config.id2label[i].lower() for i in range(config.num_labels)]
        self.backend = backend
        self._model = None
        self._session: ParallelSession | None = None
        if backend in ("onnx", "onnx-int8"):
            example = tokenizer(["a passage"], ["a claim"], return_tensors="pt")
            self._session = ParallelSession(onnx_session(holder, dict(example), "logits", int8=backend == "onnx-int8"), threads)
        else:
            self._model = holder[0]

    @classmethod
    def load(
        cls, model_dir: Path, backend: ClassifierBackend = "onnx-int8", threads: int | None = None, missing: str = ""
    ) -> SequenceClassifier:
        """The classifier saved in `model_dir`; raises NotLoaded (with `missing` as advice) when there is none."""
        from transformers import AutoTokenizer

        from service.runtime.mean_pooled import load_classifier

        if not (Path(model_dir) / "config.json").is_file():
            raise NotLoaded(f"no model at {model_dir}; {missing}".rstrip("; "))
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        return cls([load_classifier(model_dir)], tokenizer, backend, threads)

    def probabilities(self, encoded: dict[str, list[list[int]]], batch_size: int) -> np.ndarray:
        """Softmax over the labels for each tokenised input (unpadded token id lists), in order."""
        lengths = [len(ids) for ids in encoded["input_ids"]]
        probabilities = np.zeros((len(lengths), len(self.labels)), dtype=np.float32)
        batches = length_batches(lengths, batch_size, self._session.streams if self._session is not None else 1)
        padded = (self._padded(encoded, batch) for batch in batches)
        for batch, logits in zip(batches, self._logits(padded), strict=True):
            exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities[batch] = exponentials / exponentials.sum(axis=1, keepdims=True)
        return probabilities

    def _padded(self, encoded: dict[str, list[list[int]]], batch: list[int]) -> dict[str, np.ndarray]:
        padded = self.tokenizer.pad({name: [values[i] for i in batch] for name, values in encoded.items()}, return_tensors="np")
        return {name: np.asarray(values, dtype=np.int64) for name, values in padded.items()}

    def _logits(self, batches: Iterator[dict[str, np.ndarray]]) -> Iterator[np.ndarray]:
        if self._session is not None:
            yield from self._session.run_batches(batches)
            return
        import torch

        device = self._model.device
        for batch in batches:
            with torch.inference_mode():  # not held across the yield: the caller's code runs outside it
                logits = self._model(**{name: torch.from_numpy(values).to(device) for name, values in batch.items()}).logits
            yield logits.float().cpu().numpy()


def length_batches(lengths: list[int], batch_size: int, streams: int = 1, spread: float = 1.5, slack: int = 8) -> list[list[int]]:
    """Indices grouped into batches of similar length: a batch ends at `batch_size` items or
    when the next item is more than `spread` times (plus `slack` tokens) as long as the batch's
    first, so padding never more than about doubles the work. Batches are made small enough
    that `streams` of them can run side by side, and come costliest first (padded tokens), so
    that streams taking the next batch as they free up finish at about the same time."""
    batch_size = stream_batch_size(len(lengths), batch_size, streams)
    batches: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        if batches and len(batches[-1]) < batch_size and lengths[i] <= spread * lengths[batches[-1][0]] + slack:
            batches[-1].append(i)
        else:
            batches.append([i])
    return sorted(batches, key=lambda batch: -len(batch) * lengths[batch[-1]])
