"""The claim-checking pipeline: claims -> retrieval -> stance -> verdict, over one loaded index."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from service.claims import Claim, ClaimExtractor
from service.config import Settings
from service.embedding import Embedder
from service.errors import InputTooLarge, InvalidInput, NotLoaded
from service.index import ReferenceIndex
from service.passages import sentence_spans
from service.retrieval import retrieve
from service.stance import StanceClassifier
from service.verdict import ClaimResult, Evidence, EvidenceSentence, decide, decisiveness


@dataclass
class Checked:
    """Verdicts and the build id of the index that gave them."""

    results: list[ClaimResult]
    index_build_id: str


class Pipeline:
    """Owns the models and the live index; every method is blocking and thread-safe."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.embedder = Embedder()
        self.extractor = ClaimExtractor(self.embedder, settings.checkworthiness_model_dir)
        self.stance = StanceClassifier(settings.stance_model_dir)
        self._index: ReferenceIndex | None = None
        self.models_ready = False
        self._model_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self.load_seconds: float | None = None

    def warm_up(self) -> None:
        """Load the models and the index (slow: seconds); a no-op once loaded."""
        if self._index is not None:
            return
        started = time.perf_counter()
        if self.settings.torch_threads:
            import torch

            torch.set_num_threads(self.settings.torch_threads)
        self.extractor.warm_up()
        self.embedder.warm_up()
        self.stance.warm_up()
        self.models_ready = True
        self._index = ReferenceIndex.load(self.settings.index_dir, self.embedder)
        self.load_seconds = round(time.perf_counter() - started, 3)

    @property
    def checkworthiness_threshold(self) -> float:
        """The configured cut-off for /v1/check, else the one the scorer was tuned for."""
        configured = self.settings.checkworthiness_threshold
        return self.extractor.threshold if configured is None else configured

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
        loaded models, and swap it in; raises BadIndex and keeps the old one on any problem."""
        with self._reload_lock:
            new_index = ReferenceIndex.load(directory or self.settings.index_dir, self.embedder)
            self._index = new_index
            return new_index

    def claims(self, text: str) -> list[Claim]:
        """Every sentence-level claim candidate of `text`."""
        _require_text(text)
        self.index  # noqa: B018 - refuse work until ready
        with self._model_lock:
            return self.extractor.extract(text)

    def check(self, text: str, top_k: int, max_claims: int | None = None) -> Checked:
        """Verdicts on the check-worthy claims of `text`, in order; raises InputTooLarge when
        there are more than `max_claims` of them."""
        _require_text(text)
        index = self.index
        with self._model_lock:
            claims = [c for c in self.extractor.extract(text) if c.checkworthiness >= self.checkworthiness_threshold]
        if max_claims is not None and len(claims) > max_claims:
            raise InputTooLarge(f"the text has {len(claims)} check-worthy claims; at most {max_claims} are checked per request")
        results = self._verify(index, [c.text for c in claims], top_k)
        for claim, result in zip(claims, results, strict=True):
            result.start, result.end, result.checkworthiness = claim.start, claim.end, claim.checkworthiness
        return Checked(results, index.build_id)

    def verify(self, claims: list[str], top_k: int) -> Checked:
        """Verdicts on each claim exactly as given."""
        for claim in claims:
            if not claim.strip():
                raise InvalidInput("a claim is blank")
        index = self.index
        return Checked(self._verify(index, claims, top_k), index.build_id)

    def _verify(self, index: ReferenceIndex, claims: list[str], top_k: int) -> list[ClaimResult]:
        if not claims:
            return []
        with self._model_lock:
            hits = retrieve(self.embedder, index, claims, top_k)
            # Each passage is read whole and, when it has several sentences, sentence by sentence;
            # the reading that takes a side most strongly gives the passage its stance.
            readings = []  # (claim number, hit number, sentence span in the passage or None)
            for number, claim_hits in enumerate(hits):
                for hit_number, hit in enumerate(claim_hits):
                    readings.append((number, hit_number, None))
                    if self.settings.sentence_evidence:
                        spans = sentence_spans(hit.passage.text)
                        readings += [(number, hit_number, span) for span in spans if len(spans) > 1]
            pairs = [(_reading_text(hits[n][h].passage.text, span), claims[n]) for n, h, span in readings]
            probabilities = self.stance.predict(pairs)
        best: dict[tuple[int, int], tuple[dict[str, float], tuple[int, int] | None]] = {}
        for (number, hit_number, span), probs in zip(readings, probabilities, strict=True):
            current = best.get((number, hit_number))
            if current is None or decisiveness(probs) > decisiveness(current[0]):
                best[(number, hit_number)] = (probs, span)
        results = []
        for number, (claim, claim_hits) in enumerate(zip(claims, hits, strict=True)):
            evidence = []
            for hit_number, hit in enumerate(claim_hits):
                probs, span = best[(number, hit_number)]
                passage = hit.passage
                document = index.documents[passage.doc_id]
                sentence = None
                if span is not None:
                    sentence = EvidenceSentence(passage.start + span[0], passage.start + span[1], passage.text[span[0] : span[1]])
                evidence.append(
                    Evidence(
                        doc_id=passage.doc_id,
                        title=document.title,
                        url=document.url,
                        text=passage.text,
                        start=passage.start,
                        end=passage.end,
                        retrieval_score=round(hit.score, 4),
                        stance=max(probs, key=probs.get),
                        stance_probs=probs,
                        section=passage.section,
                        sentence=sentence,
                    )
                )
            results.append(decide(claim, None, None, evidence, self.settings.verdict_passages, self.settings.strong_stance))
        return results


def _require_text(text: str) -> None:
    if not text.strip():
        raise InvalidInput("text is blank")


def _reading_text(passage_text: str, span: tuple[int, int] | None) -> str:
    return passage_text if span is None else passage_text[span[0] : span[1]]
