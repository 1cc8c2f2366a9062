"""Negated claims for the stance reader: one "not" on the main verb, the label turned, only where that holds."""

from __future__ import annotations

import json

import pytest

from service.training.datasets import StancePair
from service.training.negated_pairs import add_negated_pairs, is_negated_source, negated, negated_pairs
from service.training.stance import read_pairs, write_pairs


@pytest.fixture(scope="module")
def nlp():
    import spacy

    from service.pipeline.claims.language import SPACY_MODEL

    return spacy.load(SPACY_MODEL, disable=["ner"])


@pytest.mark.integration
@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("Ukraine would become a member of NATO during the summit.", "Ukraine would not become a member of NATO during the summit."),
        ("Since 2023, Ukraine has signed security pacts with France.", "Since 2023, Ukraine has not signed security pacts with France."),
        ("Barack Obama was born in Hawaii.", "Barack Obama was not born in Hawaii."),
        ("Tides are caused by the Moon.", "Tides are not caused by the Moon."),
        ("The Cretaceous ended.", "The Cretaceous did not end."),
        ("Hydroxychloroquine reduces mortality in patients.", "Hydroxychloroquine does not reduce mortality in patients."),
        ("Masks work.", "Masks do not work."),
        ("Margaret Thatcher was not a politician.", None),  # already negated
        ("A&E is on neither cable nor satellite.", None),
        ("Is the treaty still in force?", None),
    ],
)
def test_the_main_verb_gets_one_not(nlp, claim, expected):
    assert negated(nlp(claim)) == expected


@pytest.mark.integration
def test_a_refuted_claim_that_says_two_things_is_not_negated(nlp):
    claim = "Simón Bolívar was Venezuelan and lived there for 20 years."
    assert negated(nlp(claim)) == "Simón Bolívar was not Venezuelan and lived there for 20 years."  # fine when it was supported
    assert negated(nlp(claim), refuted=True) is None  # refuted by either part: its negation is not supported


@pytest.mark.integration
def test_labels_turn_counter_claims_and_unlabelled_pairs_are_left_and_sources_are_named(nlp):
    pairs = [
        StancePair("Obama was born in Honolulu.", "Barack Obama was born in Hawaii.", "supports", "fever"),
        StancePair("Obama was born in Honolulu.", "Barack Obama was born in Kenya.", "refutes", "fever"),
        StancePair("Obama was a senator.", "Barack Obama was born in Kenya.", "neutral", "fever-siblings"),
        StancePair("Trials found no benefit.", "Hydroxychloroquine increases survival.", "refutes", "covidfact"),
        StancePair("Trials found a benefit.", "Remdesivir shortens recovery.", "unlabelled", "reading-covidfact"),
    ]
    out = negated_pairs(pairs, nlp, share=1.0)
    assert [(p.hypothesis, p.stance, p.source) for p in out] == [
        ("Barack Obama was not born in Hawaii.", "refutes", "negated-fever"),
        ("Barack Obama was not born in Kenya.", "supports", "negated-fever"),
        ("Barack Obama was not born in Kenya.", "neutral", "negated-fever-siblings"),
    ]
    assert all(is_negated_source(p.source) for p in out) and not is_negated_source("fever")
    unturned = negated_pairs(pairs, nlp, share=1.0, unturned=frozenset({"covidfact", "fever"}))
    assert [(p.stance, p.source) for p in unturned] == [("refutes", "negated-fever"), ("neutral", "negated-fever-siblings")]
    assert [p.premise for p in out] == [p.premise for p in pairs[:3]]


@pytest.mark.integration
def test_the_share_chooses_claims_by_their_text_whatever_the_order(nlp):
    pairs = [StancePair("Evidence.", f"Claim number {n} was signed in {1900 + n}.", "neutral", "snli") for n in range(200)]
    first = negated_pairs(pairs, nlp, share=0.3, seed=5)
    again = negated_pairs(list(reversed(pairs)), nlp, share=0.3, seed=5)
    assert 30 <= len(first) <= 90
    assert sorted(p.hypothesis for p in first) == sorted(p.hypothesis for p in again)


@pytest.mark.integration
def test_adding_them_twice_replaces_them_and_records_the_counts(nlp, tmp_path):
    pairs = [StancePair("Obama was born in Honolulu.", "Barack Obama was born in Hawaii.", "supports", "fever")]
    write_pairs(pairs, tmp_path / "train.jsonl.gz")
    (tmp_path / "pairs.json").write_text(json.dumps({"pairs": {"train": {"fever": 1}}}))
    assert add_negated_pairs(tmp_path, share=1.0) == {"negated-fever": 1}
    assert add_negated_pairs(tmp_path, share=1.0) == {"negated-fever": 1}
    assert [p.source for p in read_pairs(tmp_path / "train.jsonl.gz")] == ["fever", "negated-fever"]
    settings = json.loads((tmp_path / "pairs.json").read_text())
    assert settings["pairs"]["train"] == {"fever": 1, "negated-fever": 1}
    assert settings["negated_pairs"]["pairs"] == {"negated-fever": 1}


@pytest.mark.unit
def test_pairs_without_their_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="--write-pairs"):
        add_negated_pairs(tmp_path, share=0.5)
