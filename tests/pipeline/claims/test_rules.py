"""Rules of law and caption lines, on the dev set service/evaluation/sets/procedural_and_labels.jsonl and through the extractor."""

from __future__ import annotations

import json

import pytest

from service.config import REPO_ROOT, Settings
from service.pipeline.claims.extractor import ClaimExtractor, load_spacy
from service.pipeline.claims.rules import is_label, states_a_rule
from service.results import NOT_A_SENTENCE

DEV_SET = [json.loads(line) for line in (REPO_ROOT / "service/evaluation/sets/procedural_and_labels.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def nlp():
    return load_spacy()


@pytest.fixture(scope="module")
def extractor():
    loaded = ClaimExtractor(Settings().checkworthiness_model_dir)
    loaded.warm_up()
    return loaded


@pytest.mark.parametrize("item", DEV_SET, ids=lambda item: item["text"][:40])
def test_the_dev_set_reads_as_its_kind(nlp, item):
    sentence = nlp(item["text"])[:]
    assert states_a_rule(sentence) == (item["kind"] == "rule")
    assert is_label(sentence) == (item["kind"] == "label")


def test_rules_are_served_checkworthy_and_labels_skipped(extractor):
    rules = [item["text"] for item in DEV_SET if item["kind"] == "rule"]
    for text, extraction in zip(rules, extractor.extract_many(rules), strict=True):
        assert max(claim.checkworthiness for claim in extraction.claims) >= extractor.threshold, text
    labels = [item["text"] for item in DEV_SET if item["kind"] == "label"]
    for text, extraction in zip(labels, extractor.extract_many(labels), strict=True):
        assert not extraction.claims and [s.reason for s in extraction.skipped] == [NOT_A_SENTENCE], text


def test_a_caption_under_a_paragraph_is_skipped_and_the_paragraph_read(extractor):
    text = "NATO allies spent 2% of GDP on defence in 2024.\nSource: NATO\n\nPhoto: Reuters"
    extraction = extractor.extract(text)
    assert [claim.text for claim in extraction.claims] == ["NATO allies spent 2% of GDP on defence in 2024."]
    assert [text[s.start : s.end] for s in extraction.skipped] == ["Source: NATO\n\nPhoto: Reuters"]  # neighbours merged
