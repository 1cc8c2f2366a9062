"""Platt scaling (the check-worthiness calibration), and dumped evidence read back for refitting."""

from __future__ import annotations

import numpy as np
import pytest

from service.pipeline.claims.calibration import fit_platt, platt_scaled
from service.training.scoring import expected_calibration_error


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
    calibrated = platt_scaled(np.asarray(raw), scale, bias).tolist()
    assert expected_calibration_error(calibrated, correct) < 0.02 < expected_calibration_error(raw, correct)


def test_dumped_claims_are_decided_again_only_with_as_many_voters_as_the_dump_read():
    from service.evaluation.harness import dumped_evidence

    probs = {"supports": 0.8, "refutes": 0.1, "neutral": 0.1}
    row = {"sentence_passages": 1, "evidence": [{"doc_id": "d", "retrieval_rank": 1, "retrieval_score": 0.7, "stance_probs": probs}]}
    [evidence] = dumped_evidence(row, 1)
    assert (evidence.retrieval_rank, evidence.stance, evidence.stance_probs) == (1, "supports", probs)
    with pytest.raises(ValueError, match="CLAIMCHECK_VERDICT_PASSAGES=2"):
        dumped_evidence(row, 2)
