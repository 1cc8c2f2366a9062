"""Confidence calibration: Platt scaling fitted, stored, and applied without changing verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from service.calibration import Calibration, fit_calibration, fit_platt
from service.scoring import expected_calibration_error
from service.verdict import Evidence, decide


def overconfident_sample(size: int, seed: int = 0):
    """Raw probabilities whose true accuracy is sigmoid(0.5 * logit(p) - 0.3)."""
    rng = np.random.default_rng(seed)
    raw = rng.uniform(0.3, 0.99, size)
    logit = np.log(raw / (1 - raw))
    correct = rng.uniform(size=size) < 1 / (1 + np.exp(-(0.5 * logit - 0.3)))
    return raw.tolist(), correct.tolist()


def test_fit_recovers_the_scale_and_bias_and_lowers_calibration_error():
    raw, correct = overconfident_sample(20_000)
    scale, bias = fit_platt(raw, correct)
    assert scale == pytest.approx(0.5, abs=0.05) and bias == pytest.approx(-0.3, abs=0.07)
    calibration = Calibration({}, (scale, bias))
    calibrated = [calibration.apply("supported", p) for p in raw]
    assert expected_calibration_error(calibrated, correct) < 0.02 < expected_calibration_error(raw, correct)


def test_verdicts_with_few_examples_use_the_pooled_fit():
    raw, correct = overconfident_sample(400)
    verdicts = ["supported"] * 380 + ["conflicting"] * 20
    calibration = fit_calibration(verdicts, raw, correct)
    assert set(calibration.by_verdict) == {"supported"}
    assert calibration.apply("conflicting", 0.8) == Calibration({}, calibration.default).apply("conflicting", 0.8)


def test_saved_calibration_loads_back(tmp_path):
    assert Calibration.load(tmp_path) is None
    original = Calibration({"refuted": (0.7, -0.1)}, (0.6, 0.2))
    original.save(tmp_path, {"claims": 3})
    assert Calibration.load(tmp_path) == original


def test_calibration_changes_confidence_but_never_the_verdict():
    def evidence(supports: float, refutes: float, score: float) -> Evidence:
        probs = {"supports": supports, "refutes": refutes, "neutral": round(1 - supports - refutes, 4)}
        return Evidence("d", None, None, "text", 0, 4, score, round(100 * (1 - score)), max(probs, key=probs.get), probs)

    squash = Calibration({}, (0.5, 0.0))
    for items in (
        [evidence(0.9, 0.05, 0.8)],
        [evidence(0.05, 0.7, 0.8)],
        [evidence(0.1, 0.1, 0.8)],
        [evidence(0.8, 0.1, 0.9), evidence(0.1, 0.85, 0.7)],
    ):
        plain, calibrated = decide("c", None, None, items), decide("c", None, None, items, calibration=squash)
        assert plain.verdict == calibrated.verdict
        assert calibrated.raw_confidence == plain.confidence
        assert abs(calibrated.confidence - 0.5) < abs(plain.confidence - 0.5)


def test_dumped_claims_are_decided_again_only_with_as_many_voters_as_the_dump_read():
    from service.evaluation import dumped_evidence

    probs = {"supports": 0.8, "refutes": 0.1, "neutral": 0.1}
    row = {"sentence_passages": 1, "evidence": [{"doc_id": "d", "retrieval_rank": 1, "retrieval_score": 0.7, "stance_probs": probs}]}
    [evidence] = dumped_evidence(row, 1)
    assert (evidence.retrieval_rank, evidence.stance, evidence.stance_probs) == (1, "supports", probs)
    with pytest.raises(ValueError, match="CLAIMCHECK_VERDICT_PASSAGES=2"):
        dumped_evidence(row, 2)
