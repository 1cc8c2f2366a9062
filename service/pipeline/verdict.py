"""Verdicts: combine the stance of each evidence passage into one verdict per claim, with a confidence.

The verdict head (`VerdictHead`, `verdict_head.json` beside the stance model) reads the support
and refutation probabilities of the best-retrieved passages, in retrieval order, and gives the
probability of each verdict: a multinomial logistic regression fitted on dev-split claims
(`scripts/train_verdict.py`), one per number of passages read (1 to `HEAD_PASSAGES`), so that a
request's `top_k` below that still meets a head fitted for it. Its probability of the verdict is
the confidence. The head stores the fingerprint of the stance weights, the runtime and the
relevance floor it was fitted with; the service warns when any differs.

A passage whose cosine similarity to the claim (`retrieval_score`) is below `min_relevance` is not
about the claim, whatever the stance model reads in it: it counts as neutral, for the head and the
rule alike, and is listed after the passages that count.

Without a head (a freshly trained stance model), a fixed rule decides. Only the
`verdict_passages` best-retrieved passages vote (by `retrieval_rank`: the fused dense and BM25
ranking of service/pipeline/retrieval.py). With s = the strongest support and r = the strongest
refutation among them, and treating "some passage supports" and "some passage refutes" as
independent events, the four verdicts have probabilities
    supported s(1-r), refuted r(1-s), conflicting s*r, not_enough_info (1-s)(1-r),
which sum to one. Evidence counts as strong only from `strong_stance` up: the verdict is the
most probable one once weaker support or refutation is set to zero, and its confidence is its
probability under the unfloored s and r (uncalibrated). `verdict_passages` also sets how many of
the best-retrieved passages are read sentence by sentence, besides every passage of more than
`max_sentences_read_whole` sentences (service/pipeline/stance.py).

How these settings were chosen, with the figures: docs/how-it-works.md, "Measurements behind the design".
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from service.config import (
    MIN_CLAIM_COVERAGE,
    MIN_CLAIM_SIMILARITY,
    MIN_RELEVANCE,
    MIN_VERDICT_CONFIDENCE,
    STRONG_STANCE,
    VERDICT_PASSAGES,
    Settings,
)
from service.errors import NotLoaded
from service.results import VERDICTS, ClaimResult, Evidence
from service.runtime.compact_weights import WEIGHTS_FILE

logger = logging.getLogger("claimcheck")


HEAD_PASSAGES = 5


class OperatingPoint(NamedTuple):
    """The gates a verdict passes (`counts`, `decide`), chosen on dev and stored in the head (`VerdictHead.operating_point`):
    how close to the claim, and how much of its wording, a deciding sentence must be, and how probable a verdict."""

    min_claim_similarity: float = MIN_CLAIM_SIMILARITY
    min_claim_coverage: float = MIN_CLAIM_COVERAGE
    min_verdict_confidence: float = MIN_VERDICT_CONFIDENCE


NEUTRAL = {"supports": 0.0, "refutes": 0.0, "neutral": 1.0}
HEAD_FILE = "verdict_head.json"


def weights_fingerprint(model_dir: Path) -> str | None:
    """sha256 of the stance model's weights file, to tell whether a head was fitted on them."""
    path = Path(model_dir) / WEIGHTS_FILE
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def head_features(evidence: list[Evidence], passages: int) -> list[float]:
    """What the verdict head reads: the support, then the refutation probabilities of the
    `passages` best-retrieved passages, in retrieval order."""
    ranked = sorted(evidence, key=lambda e: e.retrieval_rank)[:passages]
    return [e.stance_probs["supports"] for e in ranked] + [e.stance_probs["refutes"] for e in ranked]


@dataclass(frozen=True)
class VerdictHead:
    """Multinomial logistic regressions from `head_features` to verdict probabilities, one per
    number of passages read: `weights[n]` is a (verdict x 2n) matrix, `biases[n]` its intercepts."""

    labels: tuple[str, ...]
    weights: dict[int, tuple[tuple[float, ...], ...]]
    biases: dict[int, tuple[float, ...]]
    sentence_passages: int  # how many best-retrieved passages were also read sentence by sentence when it was fitted
    stance_weights: str | None = None  # weights_fingerprint() of the stance model whose outputs it was fitted on
    stance_backend: str | None = None  # the runtime those outputs came from
    min_relevance: float | None = None  # the relevance floor (`counted`) its training claims were read with
    operating_point: dict[str, float] | None = None  # min_claim_similarity, min_claim_coverage and min_verdict_confidence chosen on dev
    max_sentences_read_whole: int | None = None  # longer passages were read sentence by sentence only when it was fitted
    rereader_weights: str | None = None  # weights_fingerprint() of the cascade's second reader it was fitted with; None: no cascade

    def probabilities(self, evidence: list[Evidence]) -> dict[str, float]:
        """Probability of each verdict given the evidence (at least one passage)."""
        passages = min(len(evidence), max(self.weights))
        features = head_features(evidence, passages)
        logits = [
            b + sum(w * x for w, x in zip(row, features, strict=True))
            for row, b in zip(self.weights[passages], self.biases[passages], strict=True)
        ]
        top = max(logits)
        exps = [math.exp(logit - top) for logit in logits]
        total = sum(exps)
        return {label: e / total for label, e in zip(self.labels, exps, strict=True)}

    @classmethod
    def load(cls, model_dir: Path) -> VerdictHead | None:
        """The head stored beside a stance model, or None when there is none; raises NotLoaded
        when the file is not a head the service can use."""
        path = Path(model_dir) / HEAD_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            heads = {int(n): head for n, head in data["heads"].items()}
            head = cls(
                tuple(data["labels"]),
                {n: tuple(tuple(float(w) for w in row) for row in head["weights"]) for n, head in heads.items()},
                {n: tuple(float(b) for b in head["biases"]) for n, head in heads.items()},
                int(data["sentence_passages"]),
                data.get("stance_weights"),
                data.get("stance_backend"),
                _optional_float(data.get("min_relevance")),
                {name: float(value) for name, value in data["operating_point"].items()} if data.get("operating_point") else None,
                _optional_int(data.get("max_sentences_read_whole")),
                data.get("rereader_weights"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise NotLoaded(f"{path} is not a verdict head ({error!r}); refit it with scripts/train_verdict.py") from error
        if problem := head.problem():
            raise NotLoaded(f"{path}: {problem}; refit it with scripts/train_verdict.py")
        return head

    def problem(self) -> str | None:
        """What makes this head unusable, or None."""
        point = self.operating_point or {}
        if unknown := set(point) - set(OperatingPoint._fields):
            return f"operating_point has unknown settings {sorted(unknown)}"
        if not -1 <= point.get("min_claim_similarity", 0) <= 1 or not all(
            0 <= point.get(name, 0) <= 1 for name in ("min_claim_coverage", "min_verdict_confidence")
        ):
            return f"operating_point {point} is out of range (similarity -1 to 1, coverage and confidence 0 to 1)"
        if unknown := set(self.labels) - set(VERDICTS):
            return f"labels {sorted(unknown)} are not verdicts ({', '.join(VERDICTS)})"
        if len(self.labels) < 2 or len(set(self.labels)) < len(self.labels):
            return "it needs at least two labels, each once"
        if not self.weights or sorted(self.weights) != list(range(1, len(self.weights) + 1)) or self.weights.keys() != self.biases.keys():
            return f"it must have one regression for each number of passages from 1 up, with biases; it has {sorted(self.weights)}"
        for n, rows in self.weights.items():
            if len(rows) != len(self.labels) or len(self.biases[n]) != len(self.labels) or any(len(row) != 2 * n for row in rows):
                return (
                    f"the regression for {n} passage(s) must have {len(self.labels)} rows of {2 * n} weights and {len(self.labels)} biases"
                )
        return None

    def save(self, model_dir: Path, fitted_on: dict) -> Path:
        """Write `verdict_head.json` with a note of what it was fitted on."""
        path = Path(model_dir) / HEAD_FILE
        heads = {str(n): {"weights": [list(row) for row in self.weights[n]], "biases": list(self.biases[n])} for n in sorted(self.weights)}
        data = {
            "method": "multinomial logistic regression on the support and refutation probabilities of the best-retrieved passages",
            "labels": list(self.labels),
            "sentence_passages": self.sentence_passages,
            "max_sentences_read_whole": self.max_sentences_read_whole,
            "stance_weights": self.stance_weights,
            "stance_backend": self.stance_backend,
            "rereader_weights": self.rereader_weights,
            "min_relevance": self.min_relevance,
            "operating_point": self.operating_point,
            "heads": heads,
            "fitted_on": fitted_on,
        }
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return path


def _optional_float(value) -> float | None:
    return None if value is None else float(value)


def _optional_int(value) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{value!r} is not a whole number")
    return value


def verdict_probabilities(support: float, refute: float) -> dict[str, float]:
    """Probability of each verdict from the strongest support and refutation (module docstring)."""
    return {
        "supported": support * (1 - refute),
        "refuted": refute * (1 - support),
        "conflicting": support * refute,
        "not_enough_info": (1 - support) * (1 - refute),
    }


def decisiveness(probs: dict[str, float]) -> float:
    """How strongly a stance prediction takes a side."""
    return max(probs["supports"], probs["refutes"])


def counts(
    evidence: Evidence,
    min_relevance: float = MIN_RELEVANCE,
    min_claim_similarity: float = MIN_CLAIM_SIMILARITY,
    min_claim_coverage: float = MIN_CLAIM_COVERAGE,
) -> bool:
    """Whether a passage may decide the verdict: it is about the claim (`retrieval_score` at or above
    `min_relevance`), and it addresses the claim: the sentence that gave it its stance, or the passage
    itself, is at least `min_claim_similarity` close to the claim (cosine), and that sentence, with its
    section heading and document title, carries at least `min_claim_coverage` of the claim's content
    words (service/pipeline/wording.py). A passage on the claim's topic whose words say something else
    ("support for Ukraine" against the UN Charter's article on armaments) falls below; a sentence that
    uses a pronoun for the claim's subject is carried by its passage, and by its document's title.
    A reading of a negated claim that does not flip without the negation (`negation_consistent` False,
    service/pipeline/polarity.py) rests on the word "not" and does not count either, nor a sentence about another
    named subject than the claim's (`other_subject`, service/pipeline/subjects.py)."""
    if evidence.retrieval_score < min_relevance or evidence.negation_consistent is False or evidence.other_subject is not None:
        return False
    if evidence.claim_coverage is not None and evidence.claim_coverage < min_claim_coverage:
        return False
    similarity = evidence.claim_similarity
    return similarity is None or max(similarity, evidence.retrieval_score) >= min_claim_similarity


def counted(
    evidence: list[Evidence],
    min_relevance: float = MIN_RELEVANCE,
    min_claim_similarity: float = MIN_CLAIM_SIMILARITY,
    min_claim_coverage: float = MIN_CLAIM_COVERAGE,
) -> list[Evidence]:
    """The evidence as the verdict reads it: a passage that may not decide (`counts`) is neutral."""
    return [e if counts(e, min_relevance, min_claim_similarity, min_claim_coverage) else as_neutral(e) for e in evidence]


def as_neutral(evidence: Evidence) -> Evidence:
    """A passage as the verdict reads one that may not decide: neutral, whatever the reader read."""
    return replace(evidence, stance="neutral", stance_probs=NEUTRAL)


def evidence_order_key(evidence: Evidence) -> tuple[float, int]:
    """Decisive passages first (by their stance probability), then in retrieval order."""
    decisive = 0.0 if evidence.stance == "neutral" else decisiveness(evidence.stance_probs)
    return (-decisive, evidence.retrieval_rank)


def decide(
    claim: str,
    start: int | None,
    end: int | None,
    evidence: list[Evidence],
    verdict_passages: int = VERDICT_PASSAGES,
    strong_stance: float = STRONG_STANCE,
    head: VerdictHead | None = None,
    min_relevance: float = MIN_RELEVANCE,
    min_claim_similarity: float = MIN_CLAIM_SIMILARITY,
    min_confidence: float = MIN_VERDICT_CONFIDENCE,
    min_claim_coverage: float = MIN_CLAIM_COVERAGE,
) -> ClaimResult:
    """The verdict on `claim` from its evidence, with the evidence ordered best first: by the
    head when there is one and some evidence, else by the rule (`verdict_passages`, `strong_stance`).
    Passages that may not decide (`counts`) count as neutral; the evidence keeps the stance the model
    read. A verdict other than not_enough_info below `min_confidence`, or without a passage that may decide read as
    taking its side (`settled_by`: supports for supported, refutes for refuted, both for conflicting), is withheld:
    the answer is then not_enough_info, with the probability the head or the rule gives that. Each passage says whether it
    `decides`."""
    decides = [counts(e, min_relevance, min_claim_similarity, min_claim_coverage) for e in evidence]
    read = [e if d else as_neutral(e) for e, d in zip(evidence, decides, strict=True)]
    if head is not None and read:
        probabilities = head.probabilities(read)
        verdict = max(probabilities, key=probabilities.get)
    else:
        verdict, probabilities = rule_probabilities(read, verdict_passages, strong_stance)
    if verdict != "not_enough_info" and (probabilities[verdict] < min_confidence or not settled_by(verdict, read)):
        verdict = "not_enough_info"
    probability = probabilities.get(verdict, 0.0)
    order = sorted(range(len(read)), key=lambda i: (not decides[i], *evidence_order_key(read[i])))
    return ClaimResult(
        claim=claim,
        start=start,
        end=end,
        verdict=verdict,
        confidence=round(probability, 4),
        evidence=[replace(evidence[i], decides=decides[i]) for i in order],
    )


SIDES = {"supported": ("supports",), "refuted": ("refutes",), "conflicting": ("supports", "refutes")}


def settled_by(verdict: str, read: list[Evidence]) -> bool:
    """Whether `read` (the evidence as it counts) holds, for each side `verdict` takes, a passage read as taking it:
    a head sums weak leanings, but a fact-checker is shown the sentence that settles the claim, or no verdict."""
    return all(any(e.stance == side for e in read) for side in SIDES[verdict])


def rule_verdict(
    evidence: list[Evidence], verdict_passages: int = VERDICT_PASSAGES, strong_stance: float = STRONG_STANCE
) -> tuple[str, float]:
    """The fixed rule's verdict and its probability (module docstring)."""
    verdict, probabilities = rule_probabilities(evidence, verdict_passages, strong_stance)
    return verdict, probabilities[verdict]


def rule_probabilities(
    evidence: list[Evidence], verdict_passages: int = VERDICT_PASSAGES, strong_stance: float = STRONG_STANCE
) -> tuple[str, dict[str, float]]:
    """The fixed rule's verdict and the probability of each verdict under the unfloored support and refutation."""
    voters = sorted(evidence, key=lambda e: e.retrieval_rank)[:verdict_passages]
    support = max((e.stance_probs["supports"] for e in voters), default=0.0)
    refute = max((e.stance_probs["refutes"] for e in voters), default=0.0)
    strong = verdict_probabilities(support if support >= strong_stance else 0.0, refute if refute >= strong_stance else 0.0)
    return max(strong, key=strong.get), verdict_probabilities(support, refute)


def load_verdict_head(settings: Settings) -> VerdictHead | None:
    """The verdict head beside the stance model; None (the fixed rule decides) when there is none.
    Warns when the head was fitted on the outputs of other weights, another runtime, passages
    read sentence by sentence differently or another relevance floor: its verdicts would then be off."""
    head = VerdictHead.load(settings.stance_model_dir)
    if head is None:
        logger.warning(
            "no %s beside the stance model in %s: the fixed rule decides verdicts, with uncalibrated confidence",
            HEAD_FILE,
            settings.stance_model_dir,
        )
        return None
    if settings.sentence_passages != head.sentence_passages:
        logger.warning(
            "the verdict head was fitted on claims whose %d best passage(s) were read sentence by sentence; the service reads %d",
            head.sentence_passages,
            settings.sentence_passages,
        )
    if settings.whole_reading_limit != head.max_sentences_read_whole:
        logger.warning(
            "the verdict head was fitted with CLAIMCHECK_MAX_SENTENCES_READ_WHOLE=%s and the service reads passages with %s",
            head.max_sentences_read_whole,
            settings.whole_reading_limit,
        )
    if head.stance_backend is not None and (head.stance_backend == "onnx-int8") != (settings.stance_backend == "onnx-int8"):
        logger.warning(
            "the verdict head was fitted on %s stance outputs and the stance model runs on %s", head.stance_backend, settings.stance_backend
        )
    if head.stance_weights is not None and head.stance_weights != weights_fingerprint(settings.stance_model_dir):
        logger.warning("the verdict head was fitted on the outputs of other stance weights than those in %s", settings.stance_model_dir)
    rereader = settings.stance_rereader_model_dir
    if head.rereader_weights != (weights_fingerprint(rereader) if rereader is not None else None):
        if rereader is None:
            found = "was fitted with a re-reader and the service runs none"
        elif head.rereader_weights is None:
            found = f"was fitted without a re-reader and the service runs the one in {rereader}"
        else:
            found = f"was fitted with other re-reader weights than those in {rereader}"
        logger.warning("the verdict head %s: refit it (scripts/train_verdict.py --rereader-dir)", found)
    if not head.operating_point:
        logger.warning(
            "the verdict head has no operating point: every passage above the relevance floor may decide and no verdict is withheld"
            " (choose one: scripts/choose_operating_point.py --write)"
        )
    if head.min_relevance is not None and head.min_relevance != settings.min_relevance:
        logger.warning(
            "the verdict head was fitted with CLAIMCHECK_MIN_RELEVANCE=%g and the service runs with %g (refit: scripts/train_verdict.py)",
            head.min_relevance,
            settings.min_relevance,
        )
    return head
