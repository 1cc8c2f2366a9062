"""Training and evaluation of the check-worthiness model (scripts/train_checkworthiness.py,
scripts/evaluate_claims.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from service.checkworthiness import FEATURE_NAMES, sentence_features
from service.datasets import ct24_sentences
from service.embedding import Embedder

C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)


def featurize(texts: list[str], nlp, embedder: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings, features) of each text, each text scored as one sentence."""
    from tqdm import tqdm

    features = np.stack([sentence_features(doc[:]) for doc in tqdm(nlp.pipe(texts, batch_size=256), total=len(texts), desc="parsing")])
    return embedder.encode(texts, show_progress=True), features


def binary_scores(labels: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict:
    """F1, precision and recall of the positive class at `threshold`, and average precision."""
    from sklearn.metrics import average_precision_score

    predicted = probabilities >= threshold
    tp = int((predicted & (labels == 1)).sum())
    precision = tp / predicted.sum() if predicted.sum() else 0.0
    recall = tp / (labels == 1).sum() if (labels == 1).sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "f1": round(float(f1), 4),
        "precision": round(float(precision), 4),
        "recall": round(float(recall), 4),
        "average_precision": round(float(average_precision_score(labels, probabilities)), 4),
        "threshold": round(float(threshold), 3),
        "sentences": len(labels),
    }


def best_threshold(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The threshold in [0.1, 0.9] that maximises positive-class F1."""
    candidates = np.arange(0.1, 0.91, 0.01)
    return float(max(candidates, key=lambda t: binary_scores(labels, probabilities, t)["f1"]))


def train(data_dir: Path, output_dir: Path) -> dict:
    """Fit on CT24 train, choose C and the threshold on CT24 dev, report on CT24 dev-test."""
    from sklearn.linear_model import LogisticRegression

    from service.claims import load_spacy

    started = time.time()
    nlp = load_spacy()
    embedder = Embedder()
    embedder.warm_up()
    splits = {}
    for split in ("train", "dev", "dev-test"):
        texts, labels = ct24_sentences(data_dir, split)
        embeddings, features = featurize(texts, nlp, embedder)
        splits[split] = (np.hstack([embeddings, features]), np.asarray(labels))
    x_train, y_train = splits["train"]
    x_dev, y_dev = splits["dev"]
    search = []
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=3000).fit(x_train, y_train)
        probabilities = model.predict_proba(x_dev)[:, 1]
        threshold = best_threshold(y_dev, probabilities)
        search.append((binary_scores(y_dev, probabilities, threshold)["f1"], c, threshold, model))
        print(json.dumps({"C": c, "dev": binary_scores(y_dev, probabilities, threshold)}))
    _, c, threshold, model = max(search, key=lambda item: item[0])
    x_test, y_test = splits["dev-test"]
    report = {
        "C": c,
        "threshold": round(threshold, 3),
        "train_sentences": len(y_train),
        "dev": binary_scores(y_dev, model.predict_proba(x_dev)[:, 1], threshold),
        "dev_test": binary_scores(y_test, model.predict_proba(x_test)[:, 1], threshold),
        "dev_test_at_0.5": binary_scores(y_test, model.predict_proba(x_test)[:, 1], 0.5),
        "seconds": round(time.time() - started, 1),
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "model.json").write_text(
        json.dumps(
            {
                "embedding_model": embedder.name,
                "features": list(FEATURE_NAMES),
                "weights": [round(float(w), 6) for w in model.coef_[0]],
                "bias": float(model.intercept_[0]),
                "threshold": round(threshold, 3),
                "report": report,
            }
        )
        + "\n",
        encoding="utf-8",
    )
    return report


def write_model_card(output_dir: Path) -> None:
    """README.md (the model card) beside model.json, from the report stored in it."""
    model = json.loads((output_dir / "model.json").read_text(encoding="utf-8"))
    report = model["report"]

    def row(name: str, scores: dict) -> str:
        return (
            f"| {name} | {scores['sentences']} | {scores['threshold']:.2f} | {scores['f1']:.3f} | {scores['precision']:.3f} | "
            f"{scores['recall']:.3f} | {scores['average_precision']:.3f} |"
        )

    card = f"""# checkworthiness: is a sentence worth fact-checking?

A logistic regression over the sentence's all-MiniLM-L6-v2 embedding (384 values, the same
packaged model the index uses) and {len(model["features"])} cheap features of its spaCy parse:
{", ".join(f"`{name}`" for name in model["features"])}. Weights are plain JSON in
`model.json`; scoring a sentence is one embedding and one dot product. The output is the
model's probability that the sentence is check-worthy; `/v1/check` keeps sentences at or above
the threshold tuned on CT24 dev ({model["threshold"]:.2f}, configurable with
`CLAIMCHECK_CHECKWORTHINESS_THRESHOLD`).

## Training

`scripts/train_checkworthiness.py` (code in `service/checkworthiness_training.py`): fitted on
the CheckThat! 2024 English train split ({report["train_sentences"]} sentences), L2 strength
C={report["C"]} chosen from {list(C_GRID)} and the threshold chosen on the dev split; reported
on dev-test, which it never saw. The ClaimBuster sets hold the same sentences, so they are
not used for evaluation.

## Results

| split | sentences | threshold | F1 (check-worthy) | precision | recall | average precision |
|---|---|---|---|---|---|---|
{row("CT24 dev (tuning)", report["dev"])}
{row("CT24 dev-test", report["dev_test"])}
{row("CT24 dev-test at 0.5", report["dev_test_at_0.5"])}

The strongest CheckThat! 2024 English systems fine-tuned large language models to reach an
F1 near 0.80 on this task; this model trades some of that for milliseconds per sentence
on a CPU. It scores political-debate style sentences best, the domain it was trained on.
"""
    (output_dir / "README.md").write_text(card, encoding="utf-8")
