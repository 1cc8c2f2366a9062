"""Fitting the verdict head (service/pipeline/verdict.py) on dev-split evaluation dumps (scripts/train_verdict.py).

The stance model was trained on the train splits' claim-evidence pairs, so its outputs there
are over-confident; the head is fitted on dev-split claims, which it was not trained on, and reported on
test. scikit-learn (a development dependency) fits it; the service reads the stored weights.
"""

from __future__ import annotations

import random

import numpy as np

from service.config import MIN_CLAIM_COVERAGE, MIN_RELEVANCE
from service.pipeline.verdict import HEAD_PASSAGES, VerdictHead, counted, decide, head_features
from service.results import VERDICTS, ClaimResult, Evidence
from service.training.scoring import classification_report, decisive_precision, expected_calibration_error

REGULARISATION = 1.0  # scikit-learn's C, chosen out of fold on dev (docs/how-it-works.md)

Example = tuple[str, list[Evidence]]  # (gold verdict, evidence)


def fit_head(
    examples: list[Example],
    sentence_passages: int,
    passages: int = HEAD_PASSAGES,
    c: float = REGULARISATION,
    min_relevance: float = MIN_RELEVANCE,
) -> VerdictHead:
    """One logistic regression per number of passages read, 1 to `passages`, on the same claims."""
    from sklearn.linear_model import LogisticRegression

    gold = [verdict for verdict, _ in examples]
    labels = tuple(sorted(set(gold)))
    if len(labels) < 2:
        raise ValueError(f"the head needs claims of at least two verdicts; these are all {labels}")
    if short := [i for i, (_, evidence) in enumerate(examples) if len(evidence) < passages]:
        raise ValueError(
            f"{len(short)} claims have fewer than {passages} passages (the first: number {short[0] + 1}); dump with --top-k {passages}"
        )
    weights, biases = {}, {}
    for n in range(1, passages + 1):
        model = LogisticRegression(C=c, max_iter=5000).fit(
            [head_features(counted(evidence, min_relevance), n) for _, evidence in examples], gold
        )
        assert tuple(model.classes_) == labels
        coef, intercept = model.coef_, model.intercept_
        if len(labels) == 2:  # scikit-learn keeps one row, the logit of the second label against the first
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
        weights[n] = tuple(tuple(float(w) for w in row) for row in coef)
        biases[n] = tuple(float(b) for b in intercept)
    return VerdictHead(labels, weights, biases, sentence_passages, min_relevance=min_relevance)


def cross_validated(
    sets: dict[str, list[Example]],
    sentence_passages: int,
    folds: int = 5,
    seed: int = 0,
    c: float = REGULARISATION,
    min_relevance: float = MIN_RELEVANCE,
) -> dict:
    """The head's out-of-fold verdicts beside the fixed rule's, per set: accuracy, macro-F1 and the
    calibration error of the confidence, for the head at each number of passages read (a request's
    `top_k` up to `HEAD_PASSAGES`). Folds are drawn within each (set, verdict), so every fold has the same mix."""
    numbered = [(name, i) for name, examples in sets.items() for i in range(len(examples))]
    strata: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for name, i in numbered:
        strata.setdefault((name, sets[name][i][0]), []).append((name, i))
    fold_of = {}
    rng = random.Random(seed)
    for members in strata.values():
        rng.shuffle(members)
        fold_of |= {member: k % folds for k, member in enumerate(members)}
    head_results: dict[tuple[int, str, int], ClaimResult] = {}  # (passages read, set, claim number) -> result
    for fold in range(folds):
        head = fit_head(
            [sets[name][i] for name, i in numbered if fold_of[(name, i)] != fold], sentence_passages, c=c, min_relevance=min_relevance
        )
        for name, i in numbered:
            if fold_of[(name, i)] == fold:
                ranked = sorted(sets[name][i][1], key=lambda e: e.retrieval_rank)
                for n in range(1, HEAD_PASSAGES + 1):
                    head_results[(n, name, i)] = decide("", None, None, ranked[:n], head=head, min_relevance=min_relevance)
    report = {}
    for name, examples in sets.items():
        gold = [verdict for verdict, _ in examples]
        by_passages = {
            str(n): _scores(gold, [head_results[(n, name, i)] for i in range(len(examples))]) for n in range(1, HEAD_PASSAGES + 1)
        }
        report[name] = {
            "claims": len(examples),
            "rule": _scores(gold, [decide("", None, None, evidence, min_relevance=min_relevance) for _, evidence in examples]),
            "head_out_of_fold_by_passages": by_passages,
        }
    return report


def _scores(gold: list[str], results: list[ClaimResult]) -> dict:
    guess = [r.verdict for r in results]
    report = classification_report(gold, guess, VERDICTS)
    correct = [g == p for g, p in zip(gold, guess, strict=True)]
    ece = expected_calibration_error([r.confidence for r in results], correct)
    return {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"], "ece": round(ece, 4)}


def operating_point_scores(
    sets: dict[str, list[Example]],
    head: VerdictHead,
    min_relevance: float,
    min_claim_similarity: float,
    min_verdict_confidence: float,
    min_claim_coverage: float = MIN_CLAIM_COVERAGE,
) -> dict[str, dict[str, float]]:
    """Risk and coverage of the verdicts at one operating point, per set of (gold verdict, evidence):
    accuracy, the share of claims answered supported or refuted (coverage), the share of those that are
    wrong (risk = 1 - precision, as the evaluation reports them), and the share of all claims given a
    wrong verdict other than not_enough_info (on a near-topic set, whose gold is not_enough_info
    throughout, the wrong-verdict rate)."""
    scores = {}
    for name, examples in sets.items():
        verdicts = [
            decide("", None, None, evidence, head=head, min_relevance=min_relevance, min_claim_similarity=min_claim_similarity,
                   min_confidence=min_verdict_confidence, min_claim_coverage=min_claim_coverage).verdict
            for _, evidence in examples
        ]  # fmt: skip
        gold = [g for g, _ in examples]
        decisive = decisive_precision(gold, verdicts)
        precision = decisive["decisive_precision"]
        scores[name] = {
            "claims": len(examples),
            "accuracy": round(sum(g == v for g, v in zip(gold, verdicts, strict=True)) / len(examples), 4),
            "coverage": decisive["decisive_coverage"],
            "risk": round(1 - precision, 4) if precision is not None else 0.0,
            "wrong_verdict_rate": round(
                sum(v not in (g, "not_enough_info") for g, v in zip(gold, verdicts, strict=True)) / len(examples), 4
            ),
        }
    return scores
