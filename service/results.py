"""The typed results the stages hand on and the API returns: claims, evidence, verdicts.

The names of verdicts, stances and skip reasons are defined here once; the stages and the
API schemas (service/api/schemas.py) both read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Verdict = Literal["supported", "refuted", "conflicting", "not_enough_info"]
Stance = Literal["supports", "refutes", "neutral"]
SkipReason = Literal["not_english", "not_a_sentence", "truncated", "refers_back", "expectation"]

VERDICTS: tuple[str, ...] = get_args(Verdict)
STANCES: tuple[str, ...] = get_args(Stance)
NOT_ENGLISH, NOT_A_SENTENCE, TRUNCATED, REFERS_BACK, EXPECTATION = get_args(SkipReason)


@dataclass
class Claim:
    """A claim of the submitted text: its source span, the text it is checked as, and how worth checking it is."""

    text: str  # the source span: text[start:end]
    start: int
    end: int
    checkworthiness: float
    checked_as: str  # the standalone text to check: pronouns resolved, reported speech unwrapped
    attribution: str | None = None  # the speaker of reported speech


@dataclass
class Skipped:
    """A stretch of the submitted text that was not read for claims, and why."""

    start: int
    end: int
    reason: str
    message: str


@dataclass
class Extraction:
    """The claims of one text, in order, and what was skipped."""

    claims: list[Claim] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


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
    page: int | None = None  # 1-based, for a PDF source: the page the passage is on
    sentence: EvidenceSentence | None = None
    claim_similarity: float | None = (
        None  # cosine of the claim and the deciding sentence (the passage, read whole); None: not about the claim
    )
    claim_coverage: float | None = (
        None  # share of the claim's content words the deciding sentence carries (wording.py); None: not about the claim
    )
    decides: bool | None = None  # whether it may decide the verdict (verdict.counts); None: not judged yet
    negation_consistent: bool | None = None  # for a claim with one negation: whether the deciding reading flips without it (polarity.py)
    other_subject: str | None = None  # the deciding text's subject, a name other than the claim's named subject (subjects.py)


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
