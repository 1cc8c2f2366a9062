"""Retrieval: embed claims and find their nearest passages in the reference index."""

from __future__ import annotations

from service.embedding import Embedder
from service.index import ReferenceIndex, SearchHit


def retrieve(embedder: Embedder, index: ReferenceIndex, claims: list[str], top_k: int) -> list[list[SearchHit]]:
    """The `top_k` passages of `index` closest to each claim, best first."""
    if not claims:
        return []
    return index.search(embedder.encode(claims), top_k)
