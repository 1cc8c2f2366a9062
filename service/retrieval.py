"""Retrieval: embed claims and find their nearest passages in the reference index."""

from __future__ import annotations

from collections.abc import Sequence

from service.embedding import Embedder
from service.index import ReferenceIndex, SearchHit


def retrieve(embedder: Embedder, queries: Sequence[tuple[ReferenceIndex, Sequence[str], int]]) -> list[list[SearchHit]]:
    """For each (index, claims, top_k) query, the `top_k` passages of `index` closest to each
    claim, best first: one list per claim, in order. All claims are embedded in one pass."""
    claims = [claim for _, query_claims, _ in queries for claim in query_claims]
    if not claims:
        return []
    vectors = embedder.encode(claims)
    hits: list[list[SearchHit]] = []
    for index, query_claims, top_k in queries:
        hits += index.search(vectors[len(hits) : len(hits) + len(query_claims)], top_k)
    return hits
