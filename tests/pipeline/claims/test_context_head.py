"""The check-worthiness context head: its features, its stored form, and how it scores a claim alone and among others."""

from __future__ import annotations

import json

import numpy as np
import pytest

from service.config import Settings
from service.errors import NotLoaded
from service.pipeline.claims.context_head import FEATURES, HEAD_FILE, ContextHead, feature_rows, logit


def test_the_window_is_the_mean_logit_of_two_claims_before_and_two_after():
    scores = np.array([0.1, 0.2, 0.5, 0.8, 0.9])
    rows = feature_rows(scores)
    z = logit(scores)
    assert rows.shape == (5, len(FEATURES))
    assert rows[2, 1] == pytest.approx((z[0] + z[1] + z[3] + z[4]) / 4)
    assert rows[0, 1] == pytest.approx((z[0] + z[0] + z[1] + z[2]) / 4)  # the nearest score stands in past the start
    assert feature_rows(np.array([0.3]))[0].tolist() == pytest.approx([logit(np.array([0.3]))[0]] * 2)  # alone: its own score
    assert feature_rows(np.zeros(0)).shape == (0, len(FEATURES))


def test_a_claim_among_check_worthy_neighbours_ranks_above_the_same_claim_among_opinions():
    head = ContextHead([1.0, 0.5], -1.0)
    among_facts = head.rescore(np.array([0.9, 0.9, 0.4, 0.9, 0.9]))[2]
    among_opinions = head.rescore(np.array([0.05, 0.05, 0.4, 0.05, 0.05]))[2]
    assert among_facts > among_opinions
    alone = head.rescore(np.array([0.2, 0.4, 0.6]))  # with positive weights a text's ranking is kept where neighbours agree
    assert alone.dtype == np.float32 and list(alone) == sorted(alone)


def test_the_stored_head_round_trips_and_refuses_other_features(tmp_path):
    head = ContextHead([0.5, 0.1], -3.0, (1.5, 5.0), 0.27)
    (tmp_path / HEAD_FILE).write_text(head.to_json({"note": "test"}), encoding="utf-8")
    loaded = ContextHead.load(tmp_path)
    assert loaded.weights.tolist() == [0.5, 0.1] and loaded.platt == (1.5, 5.0) and loaded.threshold == 0.27
    scores = np.array([0.1, 0.7, 0.3])
    assert loaded.rescore(scores).tolist() == pytest.approx(head.rescore(scores).tolist())
    stored = json.loads((tmp_path / HEAD_FILE).read_text(encoding="utf-8"))
    (tmp_path / HEAD_FILE).write_text(json.dumps(stored | {"features": ["z", "number"]}), encoding="utf-8")
    with pytest.raises(NotLoaded, match="features"):
        ContextHead.load(tmp_path)
    assert ContextHead.load(tmp_path / "missing") is None


def test_the_shipped_head_keeps_the_sentence_models_order_for_a_sentence_alone():
    head = ContextHead.load(Settings().checkworthiness_model_dir)
    assert head is not None and all(weight > 0 for weight in head.weights) and head.platt[0] > 0
    assert 0.0 < head.threshold < 1.0
