"""Risk and coverage at an operating point (service/training/verdict.py), as scripts/choose_operating_point.py
reads them from dev dumps."""

from __future__ import annotations

import pytest

from service.results import Evidence
from service.training.verdict import operating_point_scores

pytestmark = pytest.mark.unit


def supporting(coverage: float) -> list[Evidence]:
    probs = {"supports": 0.9, "refutes": 0.02, "neutral": 0.08}
    return [Evidence("d", None, None, "text", 0, 4, 0.6, 1, "supports", probs, claim_similarity=0.6, claim_coverage=coverage)]


def test_the_coverage_gate_withholds_the_verdicts_of_sentences_that_share_few_of_the_claims_words():
    # a claim its sentence settles (right), and one whose sentence is only on its topic (wrong)
    sets = {"fever": [("supported", supporting(0.8)), ("refuted", supporting(0.1))]}
    ungated = operating_point_scores(sets, None, 0.25, -1.0, 0.0, 0.0)["fever"]
    gated = operating_point_scores(sets, None, 0.25, -1.0, 0.0, 0.3)["fever"]
    assert (ungated["accuracy"], ungated["coverage"], ungated["risk"]) == (0.5, 1.0, 0.5)
    assert (gated["accuracy"], gated["coverage"], gated["risk"]) == (0.5, 0.5, 0.0)
    assert gated["wrong_verdict_rate"] == 0.0
