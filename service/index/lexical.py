"""Lexical retrieval: BM25 over the passages of an index, to fuse with the dense ranking.

Sentence embeddings match meaning but blur names, numbers and rare words ("Article 5",
"1949", "Stoltenberg"), which is where BM25 is strong; the two rankings are fused by
reciprocal rank (service/pipeline/retrieval.py). The BM25 index (bm25s, k1 1.5, b 0.75) is built in
memory when an index is loaded, from the same text the embedder saw, so it always matches the
passages it ranks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

_TOKEN = re.compile(r"\w+")
_DIVISIONS = {"article": "article", "articles": "article", "art": "article", "chapter": "chapter", "chapters": "chapter"}
_DIVISIONS |= {"section": "section", "sections": "section", "paragraph": "paragraph", "paragraphs": "paragraph"}
_NUMBER = re.compile(r"\d+|[IVXLC]+")  # Roman numerals in capitals only: "Chapter VII", not "article civil"
_LIST_WORDS = frozenset({"and", "or", "to"})  # "Articles 5 and 6"


@cache
def _stop_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without English stop words; single digits are kept. A number that
    numbers a division of a text is one token with it ("Article 12" gives "article", "article_12";
    "Articles 5 and 6" and "Art. 5" the same), so that "NATO has 12 members" does not match Article
    12's heading, and "Article 12 says" does."""
    stop_words = _stop_words()
    tokens, division = [], None  # the division a number would number here ("Articles 5 and 6")
    for written in _TOKEN.findall(text):
        word = written.lower()
        if division is not None and _NUMBER.fullmatch(written):
            tokens.append(f"{division}_{word}")
            continue
        if division is None or word not in _LIST_WORDS:
            division = _DIVISIONS.get(word)
        if word not in stop_words:
            tokens.append(word)
    return tokens


class LexicalIndex:
    """BM25 over a fixed list of texts (row n = text n)."""

    def __init__(self, texts: Sequence[str]):
        import bm25s

        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        self._vocabulary: set[str] = set()
        tokens = [tokenize(text) for text in texts]
        if any(tokens):  # bm25s cannot index a corpus without a single word
            self._bm25.index(tokens, show_progress=False)
            self._vocabulary = set(self._bm25.vocab_dict)

    def search(self, queries: Sequence[str], top_n: int) -> list[list[tuple[int, float]]]:
        """For each query, up to `top_n` (row, BM25 score) pairs, best first; rows that share
        no word with the query are left out."""
        top_n = min(top_n, self.size)
        tokens = [[token for token in tokenize(query) if token in self._vocabulary] for query in queries]
        answers: list[list[tuple[int, float]]] = [[] for _ in queries]
        asked = [number for number, query_tokens in enumerate(tokens) if query_tokens]
        if top_n == 0 or not asked:
            return answers
        rows, scores = self._bm25.retrieve([tokens[number] for number in asked], k=top_n, show_progress=False)
        for number, row_ids, row_scores in zip(asked, rows, scores, strict=True):
            answers[number] = [(int(row), float(score)) for row, score in zip(row_ids, row_scores, strict=True) if score > 0]
        return answers
