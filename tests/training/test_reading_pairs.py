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
    from service.index.reference import ReferenceIndex
    from service.pipeline.retrieval import retrieve
    from service.runtime.embedding import Embedder

    claims = ["An attack on one NATO member is an attack on all.", "The Security Council has fifteen members."]
    pairs = readings(claims, CORPUS, tmp_path / "index", "reading-test")
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
    hits = retrieve(embedder, [(ReferenceIndex.load(tmp_path / "index", embedder), claims, 3)])
    for claim, claim_hits in zip(claims, hits, strict=True):  # every passage is retrieved for every claim (top 3 of 3)
        for hit in claim_hits:
            read = (hit.passage.text, claim) in {(p.premise, p.hypothesis) for p in pairs}
            assert read == (round(hit.score, 4) >= MIN_RELEVANCE), (claim, hit.passage.text, hit.score)
    assert any(round(hit.score, 4) < MIN_RELEVANCE for claim_hits in hits for hit in claim_hits)  # the recipe, off-topic


def write_folder(folder, train_pairs):
    labelled = StancePair("The Treaty shall remain in force.", "The Treaty is in force.", "supports", "fever")
    for split in ("train", "dev", "test"):
        pairs = train_pairs if split == "train" else [labelled, StancePair("old", "old claim", UNLABELLED, "reading-fever")]
        write_pairs(pairs, folder / f"{split}.jsonl.gz")
    (folder / "pairs.json").write_text(json.dumps({"hard_neutrals": 2, "hard_neutral_sets": {"sets": ["treaty"]}, "pairs": {}}))
    return labelled


def test_added_reading_pairs_replace_earlier_ones_in_train_only_skip_labelled_ones_and_are_recorded(tmp_path, monkeypatch):
    labelled = write_folder(tmp_path, [])
    write_folder(tmp_path, [labelled, StancePair("old", "old claim", UNLABELLED, "reading-fever")])
    asked = []

    def fake(name, data_dir, limit, index_dir):
        asked.append((name, limit))
        return [
            StancePair(f"{name} passage", "a claim", UNLABELLED, f"reading-{name}"),
            StancePair(labelled.premise, labelled.hypothesis, UNLABELLED, f"reading-{name}"),  # a labelled pair asks it already
        ]

    monkeypatch.setattr(reading_pairs, "reading_pairs", fake)
    assert add_reading_pairs(tmp_path, tmp_path, {"covidfact": 7}, tmp_path / "scratch") == {"reading-covidfact": 1}
    assert asked == [("covidfact", 7)]
    assert [p.premise for p in read_pairs(tmp_path / "train.jsonl.gz")] == ["The Treaty shall remain in force.", "covidfact passage"]
    for split in ("dev", "test"):
        assert len(read_pairs(tmp_path / f"{split}.jsonl.gz")) == 2  # not touched
    settings = json.loads((tmp_path / "pairs.json").read_text())
    assert settings["hard_neutrals"] == 2 and settings["hard_neutral_sets"] == {"sets": ["treaty"]}
    assert settings["pairs"]["train"] == {"fever": 1, "reading-covidfact": 1}
    assert settings["reading_pairs"]["claims_per_set"] == {"covidfact": 7}
    assert settings["reading_pairs"]["pairs"] == {"reading-covidfact": 1}
    assert settings["reading_pairs"]["min_relevance"] == MIN_RELEVANCE
    with pytest.raises(ValueError, match="no reading pairs for"):
        add_reading_pairs(tmp_path, tmp_path, {"snli": 3}, tmp_path / "scratch")
    (tmp_path / "pairs.json").unlink()
    with pytest.raises(ValueError, match="has no pairs.json"):
        add_reading_pairs(tmp_path, tmp_path, {"covidfact": 7}, tmp_path / "scratch")


def test_pair_files_made_from_a_folder_keep_its_settings_and_leave_its_reading_pairs_out(tmp_path):
    from service.training.stance import TrainingConfig, save_split_pairs

    source, copy = tmp_path / "source", tmp_path / "copy"
    source.mkdir()
    labelled = write_folder(source, [])
    write_folder(source, [labelled, StancePair("old", "old claim", UNLABELLED, "reading-fever")])
    counts = save_split_pairs(TrainingConfig(tmp_path, tmp_path / "out", pairs_dir=source), copy)
    assert counts["train"] == {"fever": 1}
    assert read_pairs(copy / "train.jsonl.gz") == [labelled]
    settings = json.loads((copy / "pairs.json").read_text())
    assert settings["hard_neutrals"] == 2 and settings["hard_neutral_sets"] == {"sets": ["treaty"]}  # the folder's, not the defaults
