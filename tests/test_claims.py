"""Claim extraction with the real spaCy pipeline."""

from __future__ import annotations

import pytest
from conftest import SEED_TEXT

from service.claims import ClaimExtractor
from service.config import Settings
from service.embedding import Embedder


@pytest.fixture(scope="module")
def extractor():
    loaded = ClaimExtractor(Embedder(), Settings().checkworthiness_model_dir)
    loaded.warm_up()
    return loaded


TEXTS = [
    SEED_TEXT,
    "  Leading spaces.\n\nFinland joined NATO in April 2023.   Sweden followed in March 2024!\n",
    "• NATO has 32 members.\n• Its headquarters are in Brussels.\n\n\n",
    "«Quoted» text — with dashes… and “curly quotes”. Another one?",
    "x",
]


@pytest.mark.parametrize("text", TEXTS)
def test_offsets_round_trip_and_do_not_overlap(extractor, text):
    claims = extractor.extract(text)
    assert claims
    previous_end = 0
    for claim in claims:
        assert text[claim.start : claim.end] == claim.text
        assert claim.text == claim.text.strip() and claim.text
        assert claim.start >= previous_end
        previous_end = claim.end
        assert 0.0 <= claim.checkworthiness <= 1.0


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("Do you think NATO will survive?", "Finland joined NATO in April 2023."),
        ("Hello everyone!", "The alliance was founded in 1949 by twelve countries."),
        ("NATO leaders meet in Vilnius as tensions rise...", "Unemployment fell to 3.5 percent last year, the lowest in fifty years."),
        ("I think this summit is a disgrace.", "The summit cost 40 million euros."),
    ],
)
def test_checkworthiness_ranks_factual_claims_above_the_rest(extractor, low, high):
    [low_claim] = extractor.extract(low)
    [high_claim] = extractor.extract(high)
    assert low_claim.checkworthiness < extractor.threshold <= high_claim.checkworthiness


def test_empty_text_gives_no_claims(extractor):
    assert extractor.extract("   \n\t ") == []
