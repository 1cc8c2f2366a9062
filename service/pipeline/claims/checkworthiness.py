"""Check-worthiness: how worth checking a sentence is, as a probability.

A MiniLM sentence classifier fine-tuned on CheckThat! 2024 English by
scripts/train_checkworthiness.py and shipped in models/checkworthiness/ (fp16 weights, its
model card, and `checkworthiness.json` with the Platt scaling and threshold fitted on debates held
out of training). It runs like the stance model (service/runtime/sequence_classifier.py): sentences are
scored in batches of similar length.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from service.errors import NotLoaded
from service.pipeline.claims.calibration import platt_scaled
from service.runtime.onnx_session import ClassifierBackend
from service.runtime.sequence_classifier import SequenceClassifier

logger = logging.getLogger("claimcheck")

LABELS = ("not_checkworthy", "checkworthy")
SETTINGS_FILE = "checkworthiness.json"


class CheckworthinessModel:
    """Sentence -> probability that it is worth fact-checking."""

    def __init__(
        self,
        model_dir: Path,
        max_length: int = 128,
        batch_size: int = 8,  # on one core each, small int8 batches pad least
        backend: ClassifierBackend = "onnx-int8",
        threads: int | None = None,
    ):
        self.model_dir = Path(model_dir)
        self.max_length = max_length
        self.batch_size = batch_size
        self.backend = backend
        self.threads = threads
        self.threshold = 0.5
        self.platt: tuple[float, float] = (1.0, 0.0)
        self._classifier: SequenceClassifier | None = None

    def warm_up(self) -> None:
        """Load the classifier and its tuned threshold (once)."""
        if self._classifier is not None:
            return
        advice = "train one with scripts/train_checkworthiness.py"
        settings = self.model_dir / SETTINGS_FILE
        if (self.model_dir / "config.json").is_file() and not settings.is_file():
            raise NotLoaded(f"no {SETTINGS_FILE} beside the check-worthiness model in {self.model_dir}; {advice}")
        classifier = SequenceClassifier.load(self.model_dir, self.backend, self.threads, advice)
        if classifier.labels != list(LABELS):
            raise NotLoaded(f"check-worthiness model {self.model_dir} has labels {classifier.labels}, expected {list(LABELS)}")
        stored = json.loads(settings.read_text(encoding="utf-8"))
        platt = stored.get("platt", [1.0, 0.0])
        if not (isinstance(platt, list) and len(platt) == 2 and all(isinstance(value, int | float) for value in platt)):
            raise NotLoaded(f"`platt` in {settings} must be [scale, bias], got {platt!r}; {advice}")
        threshold = stored.get("threshold")
        if not isinstance(threshold, int | float):
            raise NotLoaded(f"no `threshold` in {settings}; fit it with scripts/train_checkworthiness.py --calibrate-only")
        fitted_on = stored.get("backend")
        if fitted_on is not None and (fitted_on == "onnx-int8") != (self.backend == "onnx-int8"):
            logger.warning(
                "the check-worthiness threshold and calibration were fitted on %s scores and the model runs on %s; "
                "refit them with scripts/train_checkworthiness.py --calibrate-only --backend %s",
                fitted_on,
                self.backend,
                self.backend,
            )
        self.threshold = float(threshold)
        self.platt = (float(platt[0]), float(platt[1]))
        self._classifier = classifier

    def predict(self, sentences: list[str]) -> np.ndarray:
        """Probability that each sentence is worth checking (the model's, Platt-scaled)."""
        if self._classifier is None:
            raise NotLoaded("CheckworthinessModel used before warm_up()")
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        encoded = self._classifier.tokenizer(list(sentences), truncation=True, max_length=self.max_length)
        raw = self._classifier.probabilities(encoded, self.batch_size)[:, LABELS.index("checkworthy")]
        return raw if self.platt == (1.0, 0.0) else platt_scaled(raw, *self.platt).astype(np.float32)
