"""Verdicts: combine the stance of each evidence passage into one verdict per claim.

Only the `verdict_passages` best-retrieved passages vote (by `retrieval_rank`: the fused
dense and BM25 ranking of service/retrieval.py). With s = the strongest support and
r = the strongest refutation among them, and treating "some passage supports" and "some
passage refutes" as independent events, the four verdicts have probabilities
    supported s(1-r), refuted r(1-s), conflicting s*r, not_enough_info (1-s)(1-r),
which sum to one. Evidence counts as strong only from `strong_stance` up: the verdict is the
most probable one once weaker support or refutation is set to zero, and its confidence is its
probability under the unfloored s and r, mapped through the stance model's calibration
(service/calibration.py) when it has one.

`scripts/tune_verdict.py` chose the settings on the FEVER, COVID-Fact and Climate-FEVER dev
splits, by mean macro-F1 over the three: the best-ranked passage alone, strong from 0.5, gave
0.500 against 0.491 for three passages from 0.55, and FEVER dev accuracy 0.663 against 0.616
for the earlier three passages from 0.6. More voters mostly let a related but silent passage
decide a NOT ENOUGH INFO claim. With one voter, `conflicting` needs `verdict_passages` >= 2;
the earlier rule got none of the dev or test disputed claims right either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.calibration import Calibration


@dataclass
class EvidenceSentence:
    """The sentence of a passage that carries its stance; offsets into the source document."""

    start: int
    end: int
    text: str


@dataclass
class Evidence:
    """One retrieved passage and its stance towards the claim."""

    doc_id: str
    title: str | None
    url: str | None
    text: str
    start: int
    end: int
    retrieval_score: float
    retrieval_rank: int  # 1 = the best-retrieved passage
    stance: str
    stance_probs: dict[str, float]
    section: str | None = None
    sentence: EvidenceSentence | None = None


@dataclass
class ClaimResult:
    """The verdict on one claim with its evidence, best first."""

    claim: str
    start: int | None
    end: int | None
    verdict: str
    confidence: float
    evidence: list[Evidence] = field(default_factory=list)
    checkworthiness: float | None = None
    checked_as: str | None = None  # the standalone text checked, when it differs from a span of the submitted text
    attribution: str | None = None  # the speaker, for reported speech
    raw_confidence: float | None = None  # before calibration; for evaluation, not served


VERDICT_PASSAGES = 1
STRONG_STANCE = 0.5


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
    calibration: Calibration | None = None,
) -> ClaimResult:
    """The verdict on `claim` from its evidence, with the evidence ordered best first."""
    voters = sorted(evidence, key=lambda e: e.retrieval_rank)[:verdict_passages]
    support = max((e.stance_probs["supports"] for e in voters), default=0.0)
    refute = max((e.stance_probs["refutes"] for e in voters), default=0.0)
    strong = verdict_probabilities(support if support >= strong_stance else 0.0, refute if refute >= strong_stance else 0.0)
    verdict = max(strong, key=strong.get)
    probability = verdict_probabilities(support, refute)[verdict]
    return ClaimResult(
        claim=claim,
        start=start,
        end=end,
        verdict=verdict,
        confidence=round(calibration.apply(verdict, probability) if calibration else probability, 4),
        evidence=sorted(evidence, key=evidence_order_key),
        raw_confidence=round(probability, 4),
    )
