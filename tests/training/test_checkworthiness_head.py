"""Fitting the context head on transcripts: how a debate is posted, average precision, the regression."""

from __future__ import annotations

import numpy as np
import pytest

from service.training.checkworthiness_head import Debate, average_precision, filled, fit_logistic, posted


def test_a_debate_is_posted_turn_by_turn_or_line_by_line_with_each_sentence_found_again():
    debate = Debate("d", ["HOLT", "TRUMP", "TRUMP", "HOLT"], ["Welcome.", "Ford is leaving.", "Jobs too.", "Thank you."], np.zeros(4))
    for layout, expected in (
        ("turns", "Welcome.\n\nFord is leaving. Jobs too.\n\nThank you."),
        ("lines", "Welcome.\nFord is leaving.\nJobs too.\nThank you."),
    ):
        text, spans = posted(debate, layout)
        assert text == expected
        assert [text[start:end] for start, end in spans] == debate.sentences


def test_average_precision_is_the_mean_precision_at_each_checked_sentence():
    labels = np.array([1, 0, 1, 0])
    assert average_precision(labels, np.array([0.9, 0.8, 0.7, 0.1])) == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert average_precision(labels, np.array([0.9, 0.1, 0.8, 0.2])) == 1.0
    assert average_precision(np.zeros(3), np.array([0.1, 0.2, 0.3])) == 0.0


def test_the_regression_learns_which_feature_tells_and_a_missing_claim_ranks_last():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    y = (x[:, 0] + 0.3 * rng.normal(size=2000) > 1).astype(int)
    _, _, weights, _ = fit_logistic(x, y, l2=1.0)
    assert weights[0] > 5 * abs(weights[1])
    rows = np.array([[0.5, 1.0], [np.nan, np.nan], [-2.0, 0.0]])
    assert filled(rows)[1].tolist() == [-2.0, 0.0]
