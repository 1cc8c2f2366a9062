"""Hybrid retrieval: BM25 over the passages, fused with the dense ranking by reciprocal rank."""

from __future__ import annotations

import pytest

from service.index.lexical import LexicalIndex, tokenize
from service.pipeline.retrieval import CANDIDATES, RRF_K, hybrid_search, retrieve

CLAIMS = [
    "Article 5 of the NATO Charter stipulates that an attack against one member is an attack against all.",
    "Ukraine formally applied to join NATO in September 2022.",
    "Article 43 obliges members to make armed forces available to the Security Council.",
    "The Security Council has fifteen members.",
]


def test_tokens_keep_single_digits_and_drop_stop_words():
    assert tokenize("In 1949, an attack on one is an attack on ALL.") == ["1949", "attack", "one", "attack", "all"]
    assert tokenize("under 5 flags") == ["under", "5", "flags"]


def test_the_number_of_an_article_is_one_token_with_it():
    assert tokenize("Under Article 5, see Chapter VII") == ["under", "article", "article_5", "see", "chapter", "chapter_vii"]
    assert tokenize("Articles 5 and 6; Art. 51") == ["articles", "article_5", "article_6", "art", "article_51"]
    assert tokenize("an article civil servants read") == ["article", "civil", "servants", "read"]  # no Roman numeral in lower case
    index = LexicalIndex(["### Article 12  The Parties may review the Treaty.", "The Parties number twelve states."])
    assert index.search(["NATO has 12 members"], 2) == [[]]  # the bare number does not meet the heading
    assert [row for row, _ in index.search(["Article 12 allows a review"], 2)[0]][:1] == [0]


def test_bm25_ranks_the_passage_sharing_the_rare_words_first():
    lexical = LexicalIndex(["Article 5: an armed attack against one", "Article 6: territory", "The Charter of the United Nations"])

    assert [row for row, _ in lexical.search(["armed attack, article 5"], 3)[0]] == [0, 1]
    assert lexical.search(["the of an", "zebra crossing", ""], 3) == [[], [], []]  # nothing shared: no guesses
    assert LexicalIndex([]).search(["anything"], 3) == [[]]
    assert LexicalIndex(["the of", "and"]).search(["the", "anything"], 3) == [[], []]  # no word to index at all


def test_hybrid_search_is_reciprocal_rank_fusion_of_both_rankings(pipeline):
    index, embedder = pipeline.index, pipeline.embedder
    vectors = embedder.encode(CLAIMS)
    dense = index.search(vectors, CANDIDATES)
    lexical = index.lexical.search(CLAIMS, CANDIDATES)

    hybrid = hybrid_search(index, CLAIMS, vectors, 5)

    for dense_hits, lexical_hits, hits in zip(dense, lexical, hybrid, strict=True):
        fused: dict[int, float] = {}
        for rank, hit in enumerate(dense_hits):
            fused[hit.row] = 1 / (RRF_K + rank + 1)
        for rank, (row, _) in enumerate(lexical_hits):
            fused[row] = fused.get(row, 0.0) + 1 / (RRF_K + rank + 1)
        scores = [fused[hit.row] for hit in hits]
        assert len(hits) == 5 and len({hit.row for hit in hits}) == 5
        assert scores == sorted(scores, reverse=True)
        assert min(scores) >= max(score for row, score in fused.items() if row not in {hit.row for hit in hits})


def test_every_hit_scores_its_cosine_similarity_whichever_ranking_found_it(pipeline):
    index, embedder = pipeline.index, pipeline.embedder
    vectors = embedder.encode(CLAIMS)
    everything = index.search(vectors, len(index.passages))

    for vector, hits, ranked in zip(vectors, retrieve(embedder, [(index, CLAIMS, 5)]), everything, strict=True):
        cosine = {hit.row: hit.score for hit in ranked}
        assert [hit.score for hit in hits] == pytest.approx([cosine[hit.row] for hit in hits], abs=1e-5)
        assert all(hit.passage == index.passages[hit.row] for hit in hits)
        rows = [hit.row for hit in ranked]  # the path for passages only BM25 found: stored vectors read back
        assert index.similarities(vector, rows).tolist() == pytest.approx([hit.score for hit in ranked], abs=1e-5)
