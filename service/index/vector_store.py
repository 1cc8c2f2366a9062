"""Where an index's passage vectors are searched: a FAISS file in the index directory (the default) or a Milvus
collection (`service.index.milvus_store`), behind one interface, chosen at build time and named in the manifest.

Row n of either store is passage n of the index's passage store; scores are inner products of L2-normalised
vectors (= cosine similarity) in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from service.errors import ClaimCheckError

FAISS = "faiss"
MILVUS = "milvus"


class VectorStoreError(ClaimCheckError):
    """A `--vector-store` that cannot be parsed, reached or written."""

    code = "bad_vector_store"


class VectorStore(Protocol):
    """Search over the passage vectors of one index build."""

    @property
    def count(self) -> int: ...

    @property
    def dimension(self) -> int: ...

    def search(self, vectors: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows), each of shape (len(vectors), top_k), best first; row -1 where fewer were found."""
        ...

    def stored_vectors(self, rows: list[int]) -> np.ndarray:
        """The stored vectors of `rows`, in that order."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class VectorStoreSpec:
    """A parsed `--vector-store`: `faiss`, or `milvus:URI` with URI a local Milvus Lite file or http(s)://host:port."""

    kind: str
    uri: str | None = None

    @classmethod
    def parse(cls, text: str) -> VectorStoreSpec:
        text = text.strip()
        if text == FAISS:
            return cls(FAISS)
        if text.startswith(f"{MILVUS}:") and (uri := text[len(MILVUS) + 1 :].strip()):
            return cls(MILVUS, uri)
        raise VectorStoreError(
            f"--vector-store {text!r}: expected 'faiss' or 'milvus:URI' (URI: a local Milvus Lite file such as ./milvus.db, "
            "or http(s)://host:port of a Milvus server)"
        )


class FaissStore:
    """A FAISS index read from the index directory, its search parameters set."""

    def __init__(self, index):
        self.index = index

    @property
    def count(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    def search(self, vectors: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.index.search(np.ascontiguousarray(vectors, dtype=np.float32), top_k)

    def stored_vectors(self, rows: list[int]) -> np.ndarray:
        return self.index.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def close(self) -> None:
        """Nothing to release: the index lives in this process's memory."""
