"""Fitting and measuring the check-worthiness context head (service/pipeline/claims/context_head.py) on
CLEF 2019 CheckThat! Task 1 debates, as fact-checkers triage a transcript (scripts/train_checkworthiness_head.py).

A debate is posted to the extractor as a transcript (`posted`): one speaker turn a paragraph, its
sentences joined by spaces, or one sentence a line. A gold sentence's score is the highest of the claims
that overlap it, as the held-out check reads `POST /v1/claims`. The measure is the task's: mean over
debates of the average precision of the debate's sentences ranked by score, estimated by leaving
each debate out in turn.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.pipeline.claims.calibration import platt_scaled
from service.pipeline.claims.context_head import FEATURES, ContextHead, feature_rows, logit
from service.pipeline.claims.extractor import ClaimExtractor
from service.training.checkworthiness import best_threshold, binary_scores
from service.training.datasets import ct24_sentences

CLEF2019_DIR = Path("checkworthiness") / "clef2019_train"
LAYOUTS = ("turns", "lines")


@dataclass
class Debate:
    """One CLEF 2019 transcript: its sentences in order, who spoke each, and whether FactCheck.org checked it."""

    name: str
    speakers: list[str]
    sentences: list[str]
    labels: np.ndarray


def clef2019_debates(data_dir: Path) -> list[Debate]:
    """The 19 training debates, speeches and press conferences of CLEF 2019 Task 1, by file name."""
    debates = []
    for path in sorted((data_dir / CLEF2019_DIR).glob("*.tsv")):
        with open(path, encoding="utf-8", newline="") as handle:
            rows = [row for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE) if len(row) == 4]
        debates.append(Debate(path.stem, [r[1] for r in rows], [r[2].strip() for r in rows], np.array([int(r[3]) for r in rows])))
    return debates


def posted(debate: Debate, layout: str) -> tuple[str, list[tuple[int, int]]]:
    """The debate as the text posted for it, and each sentence's (start, end) in it."""
    parts, spans, length = [], [], 0
    for number, sentence in enumerate(debate.sentences):
        if number:
            same_turn = layout == "turns" and debate.speakers[number] == debate.speakers[number - 1]
            separator = " " if same_turn else ("\n\n" if layout == "turns" else "\n")
            parts.append(separator)
            length += len(separator)
        spans.append((length, length + len(sentence)))
        parts.append(sentence)
        length += len(sentence)
    return "".join(parts), spans


def sentence_rows(extractor: ClaimExtractor, texts: list[str], spans: list[list[tuple[int, int]]]) -> list[np.ndarray]:
    """For each text, one row of FEATURES per gold sentence: that of its claim the sentence model scores
    highest (a sentence with no claim, skipped as not English or not a sentence, gets NaN)."""
    rows_by_text = []
    for extraction, sentence_spans in zip(extractor.sentence_scored(texts)[0], spans, strict=True):
        scores = np.array([claim.checkworthiness for claim in extraction.claims])
        rows = feature_rows(scores)
        out = np.full((len(sentence_spans), len(FEATURES)), np.nan)
        starts = np.array([claim.start for claim in extraction.claims])
        ends = np.array([claim.end for claim in extraction.claims])
        for number, (start, end) in enumerate(sentence_spans):
            overlapping = np.flatnonzero((starts < end) & (ends > start))
            if len(overlapping):
                out[number] = rows[overlapping[np.argmax(scores[overlapping])]]
        rows_by_text.append(out)
    return rows_by_text


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision of `labels` ranked by `scores` (ties broken by order, as a stable sort does)."""
    order = np.argsort(-scores, kind="stable")
    hits = labels[order] == 1
    if not hits.any():
        return 0.0
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision_at[hits].mean())


def fit_logistic(
    rows: np.ndarray, labels: np.ndarray, l2: float = 1.0, iterations: int = 100
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, weights, bias) of an L2-regularised logistic regression on standardised rows, by Newton's method."""
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale == 0] = 1.0
    x = np.column_stack([(rows - mean) / scale, np.ones(len(rows))])
    y = labels.astype(np.float64)
    weights = np.zeros(x.shape[1])
    ridge = l2 * np.eye(x.shape[1])
    ridge[-1, -1] = 0.0
    for _ in range(iterations):
        predicted = 1 / (1 + np.exp(-(x @ weights)))
        gradient = x.T @ (predicted - y) + ridge @ weights
        hessian = (x * (predicted * (1 - predicted))[:, None]).T @ x + ridge
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, weights[:-1], float(weights[-1])


def filled(rows: np.ndarray) -> np.ndarray:
    """`rows` with a sentence that gave no claim read as the least check-worthy one there is."""
    out = rows.copy()
    low = np.nanmin(out, axis=0)
    missing = np.isnan(out)
    out[missing] = np.broadcast_to(low, out.shape)[missing]
    return out


def fitted_head(debates: list[Debate], rows: list[np.ndarray], l2: float) -> ContextHead:
    """A head fitted on `debates`, before its Platt scaling: the regression's weights on the raw FEATURES."""
    mean, scale, weights, bias = fit_logistic(np.concatenate([filled(r) for r in rows]), np.concatenate([d.labels for d in debates]), l2)
    return ContextHead(weights / scale, bias - float(np.sum(weights * mean / scale)))


def leave_debates_out(debates: list[Debate], rows: list[np.ndarray], l2: float) -> dict[str, float]:
    """Average precision of each debate ranked by a head fitted on the other debates."""
    results = {}
    for held_out, debate in enumerate(debates):
        others = [i for i in range(len(debates)) if i != held_out]
        head = fitted_head([debates[i] for i in others], [rows[i] for i in others], l2)
        scores = filled(rows[held_out]) @ head.weights + head.bias
        results[debate.name] = round(average_precision(debate.labels, scores), 4)
    return results


def ct24_alone(extractor: ClaimExtractor, head: ContextHead | None, data_dir: Path, split: str, ids: range | None = None):
    """(labels, scores) of CT24 sentences each posted alone: the highest score of its claims (the sentence
    model's, or the head's before Platt scaling when `head` is given); 0 for a sentence with no claim."""
    texts, labels = ct24_sentences(data_dir, split, ids)
    scores = []
    for extraction in extractor.sentence_scored(texts)[0]:
        base = np.array([claim.checkworthiness for claim in extraction.claims])
        if len(base) and head is not None:
            base = head.probabilities(base)
        scores.append(float(base.max()) if len(base) else 0.0)
    return np.asarray(labels), np.asarray(scores)


def calibrate_on_ct24(extractor: ClaimExtractor, head: ContextHead, data_dir: Path, tuning_from_id: int = 30000) -> dict:
    """Fit the head's Platt scaling and the served threshold on the CT24 train debates held out of the
    sentence model's training (ids from `tuning_from_id` on), as the model's own were, each sentence posted
    alone; report CT24 dev and dev-test at that threshold."""
    labels, raw = ct24_alone(extractor, head, data_dir, "train", range(tuning_from_id, 10**9))
    mean, scale, weights, bias = fit_logistic(
        logit(raw)[:, None], labels, l2=1e-3
    )  # standardised: Newton from [1, 0] diverges this far off
    head.platt = (float(weights[0] / scale[0]), float(bias - weights[0] * mean[0] / scale[0]))
    head.threshold = best_threshold(labels, platt_scaled(raw, *head.platt))
    report = {"tuning": binary_scores(labels, platt_scaled(raw, *head.platt), head.threshold)}
    for split in ("dev", "dev-test"):
        split_labels, split_raw = ct24_alone(extractor, head, data_dir, split)
        report[split.replace("-", "_")] = binary_scores(split_labels, platt_scaled(split_raw, *head.platt), head.threshold)
    return report
