"""Confidence calibration: map a verdict's raw probability to how often such verdicts are right.

The verdict rule (service/verdict.py) gives each verdict a probability built from the stance
model's outputs, which are over-confident. Platt scaling, one (scale, bias) pair per verdict,
maps it to a calibrated confidence: sigmoid(scale * logit(p) + bias). It is monotone, so it
never changes which verdict wins. `scripts/calibrate.py` fits it on dev-split evaluation dumps
and stores it as `calibration.json` beside the stance model; without that file confidence is
the raw probability.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CALIBRATION_FILE = "calibration.json"
MIN_EXAMPLES_PER_VERDICT = 30
_EPSILON = 1e-6


def _logit(probability: float | np.ndarray) -> float | np.ndarray:
    clipped = np.clip(probability, _EPSILON, 1 - _EPSILON)
    return np.log(clipped / (1 - clipped))


@dataclass(frozen=True)
class Calibration:
    """Per-verdict Platt scaling; a verdict without its own pair uses `default`."""

    by_verdict: dict[str, tuple[float, float]]
    default: tuple[float, float] = (1.0, 0.0)

    def apply(self, verdict: str, probability: float) -> float:
        """The calibrated confidence of a `verdict` whose raw probability is `probability`."""
        return float(platt_scaled(probability, *self.by_verdict.get(verdict, self.default)))

    @classmethod
    def load(cls, model_dir: Path) -> Calibration | None:
        """The calibration stored beside a stance model, or None when there is none."""
        path = Path(model_dir) / CALIBRATION_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls({verdict: tuple(pair) for verdict, pair in data["by_verdict"].items()}, tuple(data["default"]))

    def save(self, model_dir: Path, fitted_on: dict) -> Path:
        """Write `calibration.json` with a note of what it was fitted on."""
        path = Path(model_dir) / CALIBRATION_FILE
        data = {"method": "Platt scaling per verdict", "by_verdict": self.by_verdict, "default": self.default, "fitted_on": fitted_on}
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return path


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


def fit_calibration(verdicts: list[str], probabilities: list[float], correct: list[bool]) -> Calibration:
    """Platt scaling per verdict (pooled for verdicts with fewer than 30 examples)."""
    default = fit_platt(probabilities, correct)
    by_verdict = {}
    for verdict in sorted(set(verdicts)):
        rows = [i for i, v in enumerate(verdicts) if v == verdict]
        if len(rows) >= MIN_EXAMPLES_PER_VERDICT and 0 < sum(correct[i] for i in rows) < len(rows):
            by_verdict[verdict] = fit_platt([probabilities[i] for i in rows], [correct[i] for i in rows])
    return Calibration(by_verdict, default)
