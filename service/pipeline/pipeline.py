"""The claim-checking pipeline: claims -> retrieval -> stance -> verdict, over one loaded index."""

from __future__ import annotations

import copy
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from service.config import Settings
from service.errors import InputTooLarge, NotLoaded
from service.index.reference import ReferenceIndex, SearchHit
from service.pipeline.claims.extractor import ClaimExtractor
from service.pipeline.inputs import require_claims, require_text
from service.pipeline.retrieval import retrieve
from service.pipeline.stance import (
    Decisive,
    Reading,
    StanceClassifier,
    about_their_claims,
    most_decisive,
    negation_consistency,
    reread,
    reread_keys,
    stance_readings,
)
from service.pipeline.subjects import other_subjects
from service.pipeline.verdict import OperatingPoint, VerdictHead, decide, load_verdict_head
from service.pipeline.wording import claim_coverage
from service.results import Claim, ClaimResult, Evidence, EvidenceSentence, Extraction, Skipped
from service.runtime.batching import MicroBatcher
from service.runtime.embedding import Embedder

logger = logging.getLogger("claimcheck")


@dataclass
class Checked:
    """Verdicts, the build id of the index that gave them, and what of the text was skipped."""

    results: list[ClaimResult]
    index_build_id: str
    skipped: list[Skipped] = field(default_factory=list)


class Pipeline:
    """Owns the models and the live index; every method is thread-safe.

    All model work runs on one worker thread (service/runtime/batching.py): concurrent calls queue
    there and share forward passes, each within the configured time budget. The `_async`
    methods wait on the event loop without holding a thread; `verify` blocks its caller.
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        extractor: ClaimExtractor | None = None,
        stance: StanceClassifier | None = None,
        rereader: StanceClassifier | None = None,
    ):
        """The models are built from `settings` unless given (tests pass small fakes)."""
        self.settings = settings
        self.embedder = embedder or Embedder(threads=settings.torch_threads)
        self.extractor = extractor or ClaimExtractor(
            settings.checkworthiness_model_dir, settings.checkworthiness_backend, settings.torch_threads
        )
        self.stance = stance or StanceClassifier.configured(settings)
        self.rereader = rereader or StanceClassifier.rereader_configured(settings)  # None: no cascade
        self._index: ReferenceIndex | None = None
        self.models_ready = False
        self._reload_lock = threading.Lock()
        self.load_seconds: float | None = None
        self.verdict_head: VerdictHead | None = None
        self.batcher = MicroBatcher(
            {"extract": self._extract_batch, "verify": self._verify_batch},
            max_queued=settings.max_queued_claims,
            max_batch_weight=settings.micro_batch_claims,
            window_s=settings.batch_window_ms / 1000,
            on_start=self._set_torch_threads,
        )

    def warm_up(self) -> None:
        """Load the models and the index (slow: seconds) and start the model worker; a no-op
        once loaded."""
        if self._index is not None:
            return
        started = time.perf_counter()
        self._set_torch_threads()
        if self.rereader is not None:  # the largest model first: its start-up peak does not stack on the others
            self.rereader.warm_up()
        self.extractor.warm_up()
        self.embedder.warm_up()
        self.stance.warm_up()
        self.verdict_head = load_verdict_head(self.settings)
        self.batcher.start()
        self.models_ready = True
        self._index = ReferenceIndex.load(self.settings.index_dir, self.embedder)
        self.load_seconds = round(time.perf_counter() - started, 3)

    def close(self) -> None:
        """Stop the model worker once its current batch is done; queued work is cancelled."""
        self.batcher.stop()

    def _set_torch_threads(self) -> None:
        if self.settings.torch_threads:
            import torch

            torch.set_num_threads(self.settings.torch_threads)

    @property
    def operating_point(self) -> OperatingPoint:
        """The gates verdicts pass: the configured ones, else the verdict head's, chosen on dev, else none."""
        chosen = (self.verdict_head.operating_point if self.verdict_head is not None else None) or {}
        configured = {name: getattr(self.settings, name) for name in OperatingPoint._fields}
        return OperatingPoint(
            **{name: chosen.get(name, default) for name, default in OperatingPoint._field_defaults.items()}
            | {name: value for name, value in configured.items() if value is not None}
        )

    @property
    def checkworthiness_threshold(self) -> float:
        """The configured cut-off for /v1/check, else the one the scorer was tuned for."""
        configured = self.settings.checkworthiness_threshold
        return self.extractor.threshold if configured is None else configured

    def is_checkworthy(self, claim: Claim) -> bool:
        """Whether /v1/check checks `claim`: its check-worthiness is at or above the threshold."""
        return claim.checkworthiness >= self.checkworthiness_threshold

    @property
    def ready(self) -> bool:
        return self._index is not None

    @property
    def index(self) -> ReferenceIndex:
        if self._index is None:
            raise NotLoaded("the models and the index are still loading")
        return self._index

    def reload_index(self, directory: Path | None = None) -> ReferenceIndex:
        """Load the index at `directory` (default: the configured one), validate it against the
        loaded models, and swap it in; raises BadIndex and keeps the old one on any problem.
        Requests already running finish on the index they started with."""
        with self._reload_lock:
            new_index = ReferenceIndex.load(directory or self.settings.index_dir, self.embedder)
            self._index = new_index
            return new_index

    async def claims_async(self, text: str, max_tokens: int | None = None) -> Extraction:
        """Every claim candidate of `text`, and the stretches skipped; raises InputTooLarge when
        the text has more than `max_tokens` words and symbols."""
        require_text(text)
        self.index  # noqa: B018 - refuse work until ready
        return await self.batcher.run_async("extract", ExtractWork(text, max_tokens), 1, self._deadline())

    async def check_async(self, text: str, top_k: int, max_claims: int | None = None, max_tokens: int | None = None) -> Checked:
        """Verdicts on the check-worthy claims of `text`, in order; raises InputTooLarge when
        there are more than `max_claims` of them, or more than `max_tokens` words and symbols."""
        require_text(text)
        deadline, index = self._deadline(), self.index
        extraction = await self.batcher.run_async("extract", ExtractWork(text, max_tokens), 1, deadline)
        claims = [c for c in extraction.claims if self.is_checkworthy(c)]
        if max_claims is not None and len(claims) > max_claims:
            raise InputTooLarge(f"the text has {len(claims)} check-worthy claims; at most {max_claims} are checked per request")
        results = await self._verify_async(index, [c.checked_as for c in claims], top_k, deadline)
        for claim, result in zip(claims, results, strict=True):
            result.claim, result.start, result.end, result.checkworthiness = claim.text, claim.start, claim.end, claim.checkworthiness
            result.checked_as, result.attribution = claim.checked_as, claim.attribution
        return Checked(results, index.build_id, extraction.skipped)

    def verify(self, claims: list[str], top_k: int) -> Checked:
        """Verdicts on each claim exactly as given."""
        require_claims(claims)
        index = self.index
        return Checked(self._verify(index, claims, top_k, self._deadline()), index.build_id)

    async def verify_async(self, claims: list[str], top_k: int) -> Checked:
        """`verify` for the event loop: waits without holding a thread."""
        require_claims(claims)
        index = self.index
        return Checked(await self._verify_async(index, claims, top_k, self._deadline()), index.build_id)

    def _deadline(self) -> float:
        return time.monotonic() + self.settings.request_timeout_s

    def _verify(self, index: ReferenceIndex, claims: list[str], top_k: int, deadline: float) -> list[ClaimResult]:
        if not claims:
            return []
        distinct = list(dict.fromkeys(claims))
        results = self.batcher.run("verify", VerifyWork(index, distinct, top_k), len(distinct), deadline)
        return _one_result_per_position(claims, distinct, results)

    async def _verify_async(self, index: ReferenceIndex, claims: list[str], top_k: int, deadline: float) -> list[ClaimResult]:
        if not claims:
            return []
        distinct = list(dict.fromkeys(claims))
        results = await self.batcher.run_async("verify", VerifyWork(index, distinct, top_k), len(distinct), deadline)
        return _one_result_per_position(claims, distinct, results)

    def _extract_batch(self, works: list[ExtractWork]) -> list[Extraction | InputTooLarge]:
        """Worker side of `claims_async`: every waiting text in one spaCy stream and one scoring
        pass; a text over its token limit is answered InputTooLarge, before any parsing."""
        refusals = [self._refusal(work) for work in works]
        readable = [work.text for work, refusal in zip(works, refusals, strict=True) if refusal is None]
        extractions = iter(self.extractor.extract_many(readable))
        return [refusal or next(extractions) for refusal in refusals]

    def _refusal(self, work: ExtractWork) -> InputTooLarge | None:
        if work.max_tokens is None or len(work.text) <= work.max_tokens:  # every token has a character
            return None
        if (tokens := self.extractor.count_tokens(work.text)) <= work.max_tokens:
            return None
        return InputTooLarge(
            f"the text has {tokens} words and symbols; the limit is {work.max_tokens} (CLAIMCHECK_MAX_TEXT_TOKENS): send it in parts"
        )

    def _verify_batch(self, works: list[VerifyWork]) -> list[list[ClaimResult]]:
        """Worker side of `verify`: the claims of every job embedded in one pass, searched in
        their own index, and every (passage, claim) reading classified in one stance pass."""
        claims = [claim for work in works for claim in work.claims]
        claim_vectors = self.embedder.encode(claims)  # for retrieval, and for how close each deciding sentence is
        hits = retrieve(self.embedder, [(work.index, work.claims, work.top_k) for work in works], vectors=claim_vectors)
        readings = stance_readings(claims, hits, self.settings.sentence_passages, self.settings.whole_reading_limit)
        best = most_decisive(readings, self.stance.predict([reading.pair for reading in readings]))
        if self.rereader is not None:
            best = reread(self.rereader, best, hits, self.settings.rereader_passages, self.settings.min_relevance)
        similarity = self._claim_similarities(claim_vectors, hits, best)
        negation = self._negation_checks(claims, hits, best) if self.settings.negation_check else {}
        index_of = [work.index for work in works for _ in work.claims]
        evidence = [
            [
                self._evidence(index_of[number], hit, rank + 1, *best[key], similarity.get(key), negation.get(key))
                for rank, hit in enumerate(claim_hits)
                for key in [(number, rank)]
            ]
            for number, claim_hits in enumerate(hits)
        ]
        if self.settings.subject_check:
            evidence = self._subject_checks(claims, evidence)
        answers, number, point = [], 0, self.operating_point
        for work in works:
            results = []
            for claim in work.claims:
                result = decide(
                    claim,
                    None,
                    None,
                    evidence[number],
                    self.settings.verdict_passages,
                    self.settings.strong_stance,
                    self.verdict_head,
                    self.settings.min_relevance,
                    min_claim_similarity=point.min_claim_similarity,
                    min_confidence=point.min_verdict_confidence,
                    min_claim_coverage=point.min_claim_coverage,
                )
                result.checked_as = claim
                results.append(result)
                number += 1
            answers.append(results)
        return answers

    def _claim_similarities(self, claim_vectors: np.ndarray, hits: list[list[SearchHit]], best: Decisive) -> dict[tuple[int, int], float]:
        """For each passage about its claim (retrieval score at or above the relevance floor), the cosine
        similarity of the claim and the reading that gave the passage its stance: its sentence, embedded
        here (one pass for all), or, read whole, the passage itself, whose similarity retrieval measured:
        whether what decides addresses the claim, not only its topic."""
        keys = about_their_claims(hits, self.settings.min_relevance)
        similarity = {key: round(hits[key[0]][key[1]].score, 4) for key in keys if best[key][0].span is None}
        sentences = [key for key in keys if key not in similarity]
        if sentences:
            vectors = self.embedder.encode([best[key][0].pair[0] for key in sentences])
            similarity |= {key: round(float(claim_vectors[key[0]] @ vectors[n]), 4) for n, key in enumerate(sentences)}
        return similarity

    def _subject_checks(self, claims: list[str], evidence: list[list[Evidence]]) -> list[list[Evidence]]:
        """The subject check (subjects.py) of every passage about its claim (with a `claim_similarity`) read as taking a side,
        whatever the other gates say, so that a dump serves every operating point. A passage read as neutral is not checked:
        the head was fitted with its leanings, and checking it as well cost dev verdicts (docs/how-it-works.md)."""
        asked = [
            (number, rank)
            for number, found in enumerate(evidence)
            for rank, e in enumerate(found)
            if e.claim_similarity is not None and e.stance != "neutral"
        ]
        if not asked:
            return evidence
        subjects = other_subjects(
            self.extractor.parse,
            [(claims[n], _deciding_text(evidence[n][r]), (evidence[n][r].section, evidence[n][r].title)) for n, r in asked],
        )
        checked = [list(found) for found in evidence]
        for (number, rank), subject in zip(asked, subjects, strict=True):
            if subject is not None:
                checked[number][rank] = replace(evidence[number][rank], other_subject=subject)
        return checked

    def _negation_checks(self, claims: list[str], hits: list[list[SearchHit]], best: Decisive) -> dict[tuple[int, int], bool]:
        """The negation check of every passage about its claim (polarity.py), each by the reader that read it."""
        keys = about_their_claims(hits, self.settings.min_relevance)
        by_rereader = set()
        if self.rereader is not None:
            by_rereader = reread_keys(hits, self.settings.rereader_passages, self.settings.min_relevance)
        return negation_consistency(claims, best, keys, {key: self.rereader if key in by_rereader else self.stance for key in keys})

    @staticmethod
    def _evidence(
        index: ReferenceIndex,
        hit: SearchHit,
        rank: int,
        reading: Reading,
        probs: dict[str, float],
        claim_similarity: float | None,
        negation_consistent: bool | None = None,
    ) -> Evidence:
        """One passage as evidence; one about the claim (with a `claim_similarity`) also gets its `claim_coverage`."""
        passage = hit.passage
        document = index.documents[passage.doc_id]
        coverage = None if claim_similarity is None else claim_coverage(reading.pair[1], reading.pair[0], passage.section, document.title)
        sentence, span = None, reading.span
        if span is not None:
            sentence = EvidenceSentence(passage.start + span[0], passage.start + span[1], passage.text[span[0] : span[1]])
        return Evidence(
            doc_id=passage.doc_id,
            title=document.title,
            url=document.url,
            text=passage.text,
            start=passage.start,
            end=passage.end,
            retrieval_score=round(hit.score, 4),
            retrieval_rank=rank,
            stance=max(probs, key=probs.get),
            stance_probs=probs,
            section=passage.section,
            page=passage.page,
            sentence=sentence,
            claim_similarity=claim_similarity,
            claim_coverage=coverage,
            negation_consistent=negation_consistent,
        )


def _deciding_text(evidence: Evidence) -> str:
    """The text that gave a passage its stance: its sentence, or the passage read whole."""
    return evidence.sentence.text if evidence.sentence is not None else evidence.text


def _one_result_per_position(claims: list[str], distinct: list[str], results: list[ClaimResult]) -> list[ClaimResult]:
    """The results of the `distinct` claims (each computed once) spread back over every position of
    `claims`, in order; a claim given more than once gets a copy of its result at each later position,
    so that no two positions share an object (callers set a position's offsets on its own result)."""
    if len(distinct) == len(claims):
        return results
    result_of = dict(zip(distinct, results, strict=True))
    spread, placed = [], set()
    for claim in claims:
        spread.append(copy.deepcopy(result_of[claim]) if claim in placed else result_of[claim])
        placed.add(claim)
    return spread


@dataclass
class ExtractWork:
    """A text to split into claims, and how many words and symbols it may have (None: no limit)."""

    text: str
    max_tokens: int | None = None


@dataclass
class VerifyWork:
    """Claims to verify against the index that was live when the request came in."""

    index: ReferenceIndex
    claims: list[str]
    top_k: int
