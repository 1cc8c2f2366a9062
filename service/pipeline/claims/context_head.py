"""A second look at check-worthiness: a claim's score read beside the scores of the claims around it.

The sentence model (service/pipeline/claims/checkworthiness.py) scores each claim alone. Fact-checkers
pick from a transcript, and a claim in a run of factual sentences (a speaker making a case with
figures) is checked more often than one that stands among opinions and questions.
`ContextHead.rescore` reads each claim's score as a logit together with the mean logit of the two
claims before and the two after it in the same posted text, through a logistic regression stored as
JSON beside the model (`context_head.json`), fitted on CLEF 2019 CheckThat! debates by
scripts/train_checkworthiness_head.py and Platt-scaled on CheckThat! 2024 debates held out of the
sentence model's training, with its own threshold. A claim with fewer neighbours reads its own score
in the missing places, so a sentence posted alone keeps the sentence model's ranking.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from service.errors import NotLoaded
from service.pipeline.claims.calibration import platt_scaled

HEAD_FILE = "context_head.json"
FEATURES = ("z", "z_window")
_EPSILON = 1e-4


def logit(scores: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), with p kept off 0 and 1."""
    clipped = np.clip(np.asarray(scores, dtype=np.float64), _EPSILON, 1 - _EPSILON)
    return np.log(clipped / (1 - clipped))


def feature_rows(scores: np.ndarray) -> np.ndarray:
    """The FEATURES of the claims of one text, in order: each claim's score as a logit, and the mean logit
    of the two claims before it and the two after it (the nearest score stands in past either end)."""
    z = logit(scores)
    if len(z) == 0:
        return np.zeros((0, len(FEATURES)))
    padded = np.concatenate([z[:1], z[:1], z, z[-1:], z[-1:]])
    window = (padded[:-4] + padded[1:-3] + padded[3:-1] + padded[4:]) / 4
    return np.column_stack([z, window])


class ContextHead:
    """Logistic regression over FEATURES, then Platt scaling: a claim's served check-worthiness."""

    def __init__(self, weights: np.ndarray, bias: float, platt: tuple[float, float] = (1.0, 0.0), threshold: float = 0.5):
        self.weights, self.bias, self.platt, self.threshold = np.asarray(weights, dtype=np.float64), bias, platt, threshold

    @classmethod
    def load(cls, model_dir: Path) -> ContextHead | None:
        """The head stored beside the model, or None when there is none (the sentence model's scores are served)."""
        path = Path(model_dir) / HEAD_FILE
        if not path.is_file():
            return None
        stored = json.loads(path.read_text(encoding="utf-8"))
        if tuple(stored.get("features", ())) != FEATURES or len(stored.get("weights", ())) != len(FEATURES):
            raise NotLoaded(f"{path} was fitted on features {stored.get('features')}; this code reads {list(FEATURES)}")
        return cls(stored["weights"], float(stored["bias"]), tuple(stored["platt"]), float(stored["threshold"]))

    def to_json(self, report: dict) -> str:
        """The head as stored in `context_head.json`, with the report of its fitting."""
        stored = {
            "features": list(FEATURES),
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(float(self.bias), 6),
            "platt": [round(float(v), 6) for v in self.platt],
            "threshold": round(float(self.threshold), 3),
            "report": report,
        }
        return json.dumps(stored, indent=2) + "\n"

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        """The regression's probability for each claim of one text, before Platt scaling."""
        return 1 / (1 + np.exp(-(feature_rows(scores) @ self.weights + self.bias)))

    def rescore(self, scores: np.ndarray) -> np.ndarray:
        """Served check-worthiness of the claims of one text, in order, from the sentence model's `scores`."""
        if len(scores) == 0:
            return np.zeros(0, dtype=np.float32)
        return platt_scaled(self.probabilities(scores), *self.platt).astype(np.float32)
