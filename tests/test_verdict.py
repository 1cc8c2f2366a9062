"""Verdict logic on hand-made evidence (no model needed: this is about the aggregation)."""

from __future__ import annotations

import pytest

from service.verdict import Evidence, decide, verdict_probabilities


def evidence(supports: float, refutes: float, retrieval: float = 0.5, doc: str = "d") -> Evidence:
    probs = {"supports": supports, "refutes": refutes, "neutral": round(1 - supports - refutes, 4)}
    return Evidence(doc, None, None, "text", 0, 4, retrieval, round(100 * (1 - retrieval)), max(probs, key=probs.get), probs)


@pytest.mark.parametrize(
    ("items", "verdict"),
    [
        ([evidence(0.95, 0.01), evidence(0.02, 0.03)], "supported"),
        ([evidence(0.01, 0.9), evidence(0.1, 0.1)], "refuted"),
        ([evidence(0.9, 0.01), evidence(0.02, 0.92)], "conflicting"),
        ([evidence(0.2, 0.1), evidence(0.1, 0.3)], "not_enough_info"),
        ([], "not_enough_info"),
    ],
)
def test_verdicts(items, verdict):
    assert decide("claim", None, None, items, verdict_passages=3, strong_stance=0.6).verdict == verdict


def test_probabilities_sum_to_one_and_confidence_is_the_winners():
    items = [evidence(0.7, 0.05), evidence(0.1, 0.4)]
    probabilities = verdict_probabilities(0.7, 0.4)
    assert sum(probabilities.values()) == pytest.approx(1.0)
    result = decide("claim", 3, 9, items, verdict_passages=2, strong_stance=0.6)
    assert result.verdict == "supported"  # the 0.4 refutation is below the strong-stance floor
    assert result.confidence == pytest.approx(probabilities["supported"], abs=1e-4)
    assert (result.start, result.end) == (3, 9)


def test_weak_evidence_either_way_is_not_enough_info():
    assert decide("claim", None, None, [evidence(0.55, 0.02), evidence(0.03, 0.5)], 2, strong_stance=0.6).verdict == "not_enough_info"
    assert decide("claim", None, None, [evidence(0.55, 0.02)], strong_stance=0.5).verdict == "supported"


def test_by_default_the_best_ranked_passage_alone_decides():
    best, second = evidence(0.1, 0.8, retrieval=0.9), evidence(0.95, 0.01, retrieval=0.8)
    assert decide("claim", None, None, [second, best]).verdict == "refuted"
    assert decide("claim", None, None, [second, best], verdict_passages=2).verdict == "conflicting"


def test_only_the_best_retrieved_passages_vote():
    close = [evidence(0.05, 0.05, retrieval=0.8 - i / 10) for i in range(3)]
    far_but_decisive = evidence(0.95, 0.01, retrieval=0.1)
    assert decide("claim", None, None, [*close, far_but_decisive], verdict_passages=3).verdict == "not_enough_info"
    assert decide("claim", None, None, [*close, far_but_decisive], verdict_passages=4).verdict == "supported"


def test_evidence_is_ordered_decisive_first_then_by_retrieval():
    weak_but_close = evidence(0.1, 0.1, retrieval=0.9, doc="close")
    decisive = evidence(0.9, 0.05, retrieval=0.4, doc="decisive")
    neutral_far = evidence(0.05, 0.05, retrieval=0.2, doc="far")
    ordered = decide("claim", None, None, [neutral_far, weak_but_close, decisive]).evidence
    assert [e.doc_id for e in ordered] == ["decisive", "close", "far"]
