"""Platt scaling: map a raw probability to how often such predictions are right.

sigmoid(scale * logit(p) + bias), fitted by logistic regression of correctness on logit(p). It
is monotone, so it never changes which way a prediction goes. The check-worthiness model
(service/pipeline/claims/checkworthiness.py) is calibrated with it; verdicts get their confidence from the
verdict head instead (service/pipeline/verdict.py).
"""

from __future__ import annotations

import numpy as np

_EPSILON = 1e-6


def _logit(probability: float | np.ndarray) -> float | np.ndarray:
    clipped = np.clip(probability, _EPSILON, 1 - _EPSILON)
    return np.log(clipped / (1 - clipped))


def platt_scaled(probability: float | np.ndarray, scale: float, bias: float) -> float | np.ndarray:
    """sigmoid(scale * logit(probability) + bias), element-wise."""
    return 1 / (1 + np.exp(-(scale * _logit(probability) + bias)))


def fit_platt(probabilities: list[float], correct: list[bool], iterations: int = 50) -> tuple[float, float]:
    """(scale, bias) of the logistic regression of `correct` on logit(probability), by Newton's
    method with a little ridge so that a separable set cannot diverge."""
    x = _logit(np.asarray(probabilities, dtype=np.float64))
    y = np.asarray(correct, dtype=np.float64)
    features = np.stack([x, np.ones_like(x)], axis=1)
    weights = np.array([1.0, 0.0])
    ridge = 1e-3 * np.eye(2)
    for _ in range(iterations):
        predicted = 1 / (1 + np.exp(-(features @ weights)))
        gradient = features.T @ (predicted - y) + ridge @ (weights - np.array([1.0, 0.0]))
        hessian = (features * (predicted * (1 - predicted))[:, None]).T @ features + ridge
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return float(weights[0]), float(weights[1])
