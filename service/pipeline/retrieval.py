"""Retrieval: find the passages of the reference index that bear on each claim.

Two rankings are fused by reciprocal rank (RRF, k = 60): the dense one (the claim's embedding
against the FAISS index) and BM25's (service/index/lexical.py). Each contributes its best
`CANDIDATES` passages; a passage scores 1/(k + rank) in each ranking it appears in.
`retrieval_score` stays the cosine similarity of claim and passage, whichever ranking found it.
What the fusion gained over dense retrieval alone: docs/how-it-works.md, "Measurements behind the design".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from service.index.reference import ReferenceIndex, SearchHit
from service.runtime.embedding import Embedder

CANDIDATES = 50
RRF_K = 60


def retrieve(
    embedder: Embedder, queries: Sequence[tuple[ReferenceIndex, Sequence[str], int]], vectors: np.ndarray | None = None
) -> list[list[SearchHit]]:
    """For each (index, claims, top_k) query, the `top_k` passages of `index` that best match
    each claim, best first: one list per claim, in order. All claims are embedded in one pass,
    unless their `vectors` are given (in the queries' order)."""
    claims = [claim for _, query_claims, _ in queries for claim in query_claims]
    if not claims:
        return []
    if vectors is None:
        vectors = embedder.encode(claims)
    hits: list[list[SearchHit]] = []
    for index, query_claims, top_k in queries:
        hits += hybrid_search(index, query_claims, vectors[len(hits) : len(hits) + len(query_claims)], top_k)
    return hits


def hybrid_search(index: ReferenceIndex, claims: Sequence[str], vectors: np.ndarray, top_k: int) -> list[list[SearchHit]]:
    """The `top_k` passages for each claim by reciprocal-rank fusion of dense and BM25 rankings."""
    if top_k <= 0:
        return [[] for _ in claims]
    depth = max(CANDIDATES, top_k)
    dense = index.search(vectors, depth)
    lexical = index.lexical.search(claims, depth)
    results = []
    for vector, dense_hits, lexical_hits in zip(vectors, dense, lexical, strict=True):
        fused: dict[int, float] = {}
        for ranking in ([hit.row for hit in dense_hits], [row for row, _ in lexical_hits]):
            for rank, row in enumerate(ranking):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        similarity = {hit.row: hit.score for hit in dense_hits}
        best = sorted(fused, key=lambda row: (-fused[row], -similarity.get(row, -1.0)))[:top_k]
        missing = [row for row in best if row not in similarity]
        similarity |= dict(zip(missing, index.similarities(vector, missing).tolist(), strict=True))
        results.append([SearchHit(index.passages[row], float(similarity[row]), row) for row in best])
    return results
