"""The pairs the service reads, collected for distillation: retrieved as /v1/verify retrieves, unlabelled."""

from __future__ import annotations

import json

import pytest

from service.config import MIN_RELEVANCE
from service.training import reading_pairs
from service.training.datasets import StancePair
from service.training.reading_pairs import UNLABELLED, add_reading_pairs, readings
from service.training.stance import read_pairs, write_pairs

CORPUS = [
    {
        "id": "article-5",
        "title": "North Atlantic Treaty",
        "text": "The Parties agree that an armed attack against one or more of them shall be considered an attack against them all."
        " Each of them will assist the Party so attacked.",
    },
    {"id": "council", "title": "UN Charter", "text": "The Security Council shall consist of fifteen Members of the United Nations."},
    {"id": "bread", "title": "Baking", "text": "Knead the dough for ten minutes and let it rise in a warm place."},
]


@pytest.mark.integration
def test_each_claim_gets_its_retrieved_passages_and_their_sentences_once_unlabelled_and_nothing_under_the_floor(tmp_path):
    from service.runtime.embedding import Embedder

    claims = ["An attack on one NATO member is an attack on all.", "The Security Council has fifteen members."]
    pairs = readings(claims, CORPUS, tmp_path / "index", "reading-test", top_k=3)
    assert pairs and all(p.stance == UNLABELLED and p.source == "reading-test" for p in pairs)
    assert len({(p.premise, p.hypothesis) for p in pairs}) == len(pairs)
    texts = {doc["text"] for doc in CORPUS}
    for pair in pairs:
        assert pair.hypothesis in claims
        assert any(pair.premise in text for text in texts)  # a passage whole, or one of its sentences
    article = CORPUS[0]["text"]
    first, second = article.split(" Each")
    assert {(article, claims[0]), (first, claims[0]), ("Each" + second, claims[0])} <= {(p.premise, p.hypothesis) for p in pairs}
    embedder = Embedder()
    embedder.warm_up()
    bread = embedder.encode([CORPUS[2]["text"]])[0]
    below = [c for c, v in zip(claims, embedder.encode(claims), strict=True) if float(v @ bread) < MIN_RELEVANCE]
    assert below  # the recipe is off-topic for at least one claim, and never read for it
    assert not [p for p in pairs if p.premise == CORPUS[2]["text"] and p.hypothesis in below]


def test_added_reading_pairs_replace_earlier_ones_in_train_only_and_are_recorded(tmp_path, monkeypatch):
    labelled = StancePair("The Treaty shall remain in force.", "The Treaty is in force.", "supports", "fever")
    for split in ("train", "dev", "test"):
        write_pairs([labelled, StancePair("old", "old claim", UNLABELLED, "reading-fever")], tmp_path / f"{split}.jsonl.gz")
    (tmp_path / "pairs.json").write_text(json.dumps({"hard_neutrals": 2, "pairs": {}}))
    asked = []

    def fake(name, data_dir, split, limit, index_dir, top_k=5):
        asked.append((name, split, limit))
        return [StancePair(f"{name} passage", "a claim", UNLABELLED, f"reading-{name}")]

    monkeypatch.setattr(reading_pairs, "reading_pairs", fake)
    assert add_reading_pairs(tmp_path, tmp_path, {"covidfact": 7}, tmp_path / "scratch") == {"reading-covidfact": 1}
    assert asked == [("covidfact", "train", 7)]
    assert [p.premise for p in read_pairs(tmp_path / "train.jsonl.gz")] == ["The Treaty shall remain in force.", "covidfact passage"]
    assert len(read_pairs(tmp_path / "dev.jsonl.gz")) == 2  # dev and test are not touched
    assert json.loads((tmp_path / "pairs.json").read_text())["reading_pairs"] == {
        "claims_per_set": {"covidfact": 7},
        "pairs": {"reading-covidfact": 1},
    }
    with pytest.raises(ValueError, match="no reading pairs for"):
        add_reading_pairs(tmp_path, tmp_path, {"snli": 3}, tmp_path / "scratch")
