"""Scores of predictions against gold labels, shared by the evaluation and training scripts.

Only numpy: the training scripts run it on machines without the service's index libraries.
"""

from __future__ import annotations

import numpy as np


def expected_calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    """ECE with equal-width confidence bins."""
    confidence = np.asarray(confidences)
    hits = np.asarray(correct, dtype=float)
    error = 0.0
    for low in np.linspace(0, 1, bins, endpoint=False):
        in_bin = (confidence > low) & (confidence <= low + 1 / bins)
        if in_bin.any():
            error += in_bin.mean() * abs(hits[in_bin].mean() - confidence[in_bin].mean())
    return float(error)


def classification_report(gold: list[str], guess: list[str], label_set: tuple[str, ...]) -> dict:
    """Accuracy, macro-F1 over the gold labels present, per-label precision/recall/F1, confusion matrix."""
    labels = [label for label in label_set if label in gold or label in guess]
    per_label = {}
    for label in labels:
        tp = sum(g == label == p for g, p in zip(gold, guess, strict=True))
        predicted = sum(p == label for p in guess)
        actual = sum(g == label for g in gold)
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "support": actual}
    present = [label for label in labels if per_label[label]["support"]]
    return {
        "accuracy": round(float(np.mean([g == p for g, p in zip(gold, guess, strict=True)])), 4),
        "macro_f1": round(float(np.mean([per_label[label]["f1"] for label in present])), 4),
        "per_label": per_label,
        "confusion_matrix": {g: {p: sum(x == g and y == p for x, y in zip(gold, guess, strict=True)) for p in labels} for g in labels},
    }


def decisive_precision(gold: list[str], verdicts: list[str]) -> dict:
    """Precision first: the share of claims given a verdict that takes a side (supported or refuted:
    `decisive_coverage`) and the share of those verdicts that are right (`decisive_precision`)."""
    decisive = [(g, v) for g, v in zip(gold, verdicts, strict=True) if v in ("supported", "refuted")]
    return {
        "decisive_coverage": round(len(decisive) / len(gold), 4) if gold else None,
        "decisive_precision": round(sum(g == v for g, v in decisive) / len(decisive), 4) if decisive else None,
    }
