"""Stance classification: does a passage support, refute, or say nothing about a claim?

A MiniLM cross-encoder (runs of scripts/train_stance.py, averaged by scripts/average_stance_models.py)
reads (passage, claim) pairs. The
label order is read from the model's config (`id2label`), never assumed. It runs on ONNX
Runtime by default (service/runtime/sequence_classifier.py; scripts/bench.py measures the speed).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby, islice
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

from service.errors import NotLoaded
from service.index.passages import sentence_spans
from service.index.reference import SearchHit
from service.pipeline.polarity import OTHER_SIDE, affirmative, flips
from service.pipeline.verdict import decisiveness
from service.results import STANCES
from service.runtime.onnx_session import ClassifierBackend
from service.runtime.sequence_classifier import SequenceClassifier

if TYPE_CHECKING:
    from service.config import Settings


class StanceClassifier:
    """Batched (passage, claim) -> {"supports", "refutes", "neutral"} probabilities."""

    def __init__(
        self,
        model_dir: Path,
        max_length: int = 256,
        batch_size: int = 4,  # on one core each, int8 batches of 4 pairs ran as fast as 16 and pad less
        backend: ClassifierBackend = "onnx-int8",
        threads: int | None = None,
    ):
        self.model_dir = Path(model_dir)
        self.max_length = max_length
        self.batch_size = batch_size
        self.backend = backend
        self.threads = threads
        self._classifier: SequenceClassifier | None = None

    @property
    def name(self) -> str:
        return self.model_dir.name

    @property
    def labels(self) -> list[str]:
        return self._classifier.labels if self._classifier is not None else []

    def warm_up(self) -> None:
        """Load the model (once); with the ONNX backend, export it to an ONNX Runtime session."""
        if self._classifier is None:
            self._adopt(SequenceClassifier.load(self.model_dir, self.backend, self.threads, "train one with scripts/train_stance.py"))

    @classmethod
    def configured(cls, settings: Settings) -> StanceClassifier:
        """The stance model as the service runs it: its folder, backend and threads from `settings`."""
        return cls(settings.stance_model_dir, backend=settings.stance_backend, threads=settings.torch_threads)

    @classmethod
    def rereader_configured(cls, settings: Settings) -> StanceClassifier | None:
        """The cascade's stronger reader (CLAIMCHECK_STANCE_REREADER_MODEL_DIR), or None when none is set."""
        if settings.stance_rereader_model_dir is None:
            return None
        return cls(settings.stance_rereader_model_dir, backend=settings.stance_backend, threads=settings.torch_threads)

    @classmethod
    def from_model(cls, model, tokenizer, max_length: int = 256) -> StanceClassifier:
        """Wrap a model already in memory (used when evaluating right after training)."""
        classifier = cls(Path("."), max_length=max_length, batch_size=32, backend="torch")  # PyTorch, often a GPU: larger batches
        classifier._adopt(SequenceClassifier(model, tokenizer))
        return classifier

    def _adopt(self, classifier: SequenceClassifier) -> None:
        if sorted(classifier.labels) != sorted(STANCES):
            raise NotLoaded(f"stance model {self.model_dir} has labels {classifier.labels}, expected {list(STANCES)}")
        self._classifier = classifier

    def predict(self, pairs: list[tuple[str, str]]) -> list[dict[str, float]]:
        """Stance probabilities for each (passage, claim) pair, in the order given."""
        if self._classifier is None:
            raise NotLoaded("StanceClassifier used before warm_up()")
        if not pairs:
            return []
        unique = list(dict.fromkeys(pairs))
        if len(unique) < len(pairs):  # the same claim twice in a batch, or from two requests at once: read it once
            read = dict(zip(unique, self.predict(unique), strict=True))
            return [dict(read[pair]) for pair in pairs]
        encoded = self._classifier.tokenizer(
            [passage for passage, _ in pairs], [claim for _, claim in pairs], truncation="longest_first", max_length=self.max_length
        )
        probabilities = self._classifier.probabilities(encoded, self.batch_size)
        return [{label: round(float(p), 4) for label, p in zip(self.labels, row, strict=True)} for row in probabilities]


@dataclass
class Reading:
    """One stance question: does this passage (or this sentence of it) support the claim?"""

    claim: int  # number of the claim in the batch
    hit: int  # rank of the passage among the claim's hits
    span: tuple[int, int] | None  # the sentence within the passage, or None for the whole passage
    pair: tuple[str, str]  # (passage or sentence text, claim) as the stance model reads it


def stance_readings(
    claims: list[str], hits: list[list[SearchHit]], sentence_passages: int, max_sentences_read_whole: int | None = None
) -> list[Reading]:
    """Every reading the verdict needs: each passage whole and, for the `sentence_passages`
    best-retrieved passages of a claim (`verdict_passages`) when they have several
    sentences, each sentence alone; a passage of more than `max_sentences_read_whole`
    sentences (at least one) is read sentence by sentence only, whatever its rank, so every
    passage gets a reading. The reading that takes a side most strongly gives the passage its
    stance and its highlighted sentence."""
    readings = []
    for number, (claim, claim_hits) in enumerate(zip(claims, hits, strict=True)):
        for rank, hit in enumerate(claim_hits):
            text = hit.passage.text
            spans = cached_sentence_spans(text)
            too_long = max_sentences_read_whole is not None and len(spans) > max(max_sentences_read_whole, 1)
            if not too_long:
                readings.append(Reading(number, rank, None, (text, claim)))
            if len(spans) > 1 and (too_long or rank < sentence_passages):
                readings += [Reading(number, rank, span, (text[span[0] : span[1]], claim)) for span in spans]
    return readings


@lru_cache(maxsize=65536)
def cached_sentence_spans(passage_text: str) -> tuple[tuple[int, int], ...]:
    """Sentence spans of a passage, computed once per passage text."""
    return tuple(sentence_spans(passage_text))


Decisive = dict[tuple[int, int], tuple[Reading, dict[str, float]]]  # (claim, passage rank) -> its deciding reading


def most_decisive(readings: list[Reading], probabilities: list[dict[str, float]]) -> Decisive:
    """For each (claim, passage), the reading that takes a side most strongly, with its probabilities:
    it gives the passage its stance and its highlighted sentence. A text that holds, or is held in, the
    deciding text of a better-ranked passage of the same claim (a sentence in two overlapping windows, a
    passage the corpus holds twice) does not decide again: the passage takes its next reading, so that one
    statement is neither shown nor counted twice; a passage with no other reading keeps it."""
    options: dict[tuple[int, int], list[tuple[Reading, dict[str, float]]]] = defaultdict(list)
    for reading, probs in zip(readings, probabilities, strict=True):
        options[(reading.claim, reading.hit)].append((reading, probs))
    best: Decisive = {}
    decided: dict[int, list[str]] = defaultdict(list)  # claim -> the texts deciding its passages so far, in rank order
    for key in sorted(options):
        ranked = sorted(options[key], key=lambda option: -decisiveness(option[1]))  # stable: ties go to the first read
        shown = decided[key[0]]
        fresh = (option for option in ranked if not any(_overlap(option[0].pair[0], text) for text in shown))
        best[key] = next(fresh, ranked[0])
        shown.append(best[key][0].pair[0])
    return best


def _overlap(text: str, other: str) -> bool:
    return text in other or other in text


def reread(
    rereader: StanceClassifier,
    best: Decisive,
    hits: list[list[SearchHit]],
    passages: int,
    min_relevance: float,
) -> Decisive:
    """The cascade's second step: a stronger (slower) reader re-reads the deciding reading of each
    claim's `passages` best-ranked passages at or above the relevance floor, the ones the verdict
    rests on, and its probabilities replace the first reader's there. The other passages keep the
    first reader's: they inform the verdict little, and reading them all would cost the stronger
    model's time on every passage."""
    chosen = sorted(reread_keys(hits, passages, min_relevance))
    probabilities = rereader.predict([best[key][0].pair for key in chosen])
    return {**best, **{key: (best[key][0], probs) for key, probs in zip(chosen, probabilities, strict=True)}}


def about_their_claims(hits: list[list[SearchHit]], min_relevance: float) -> list[tuple[int, int]]:
    """The (claim, passage rank) of every passage about its claim, in rank order: at or above the relevance floor,
    as `Evidence.retrieval_score` (rounded to 4 places) reads it."""
    return [
        (claim, rank)
        for claim, claim_hits in enumerate(hits)
        for rank, hit in enumerate(claim_hits)
        if round(hit.score, 4) >= min_relevance
    ]


def reread_keys(hits: list[list[SearchHit]], passages: int, min_relevance: float) -> set[tuple[int, int]]:
    """The (claim, passage rank) readings `reread` gives to the second reader: each claim's `passages` best-ranked
    passages about it."""
    return {key for _, keys in groupby(about_their_claims(hits, min_relevance), key=itemgetter(0)) for key in islice(keys, passages)}


def negation_consistency(
    claims: list[str],
    best: Decisive,
    keys: list[tuple[int, int]],
    readers: dict[tuple[int, int], StanceClassifier],
) -> dict[tuple[int, int], bool]:
    """The negation check (service/pipeline/polarity.py) of each reading in `keys` that takes a side, for
    claims with one negation: its text read again with the affirmative claim, by the reader that gave
    its probabilities (`readers`), all of one reader's readings in one batch."""
    affirmatives = {number: affirmative(claim) for number, claim in enumerate(claims)}
    checked = [key for key in keys if affirmatives[key[0]] is not None and max(best[key][1], key=best[key][1].get) in OTHER_SIDE]
    result = {}
    for reader in {id(readers[key]): readers[key] for key in checked}.values():
        mine = [key for key in checked if readers[key] is reader]
        flipped = reader.predict([(best[key][0].pair[0], affirmatives[key[0]]) for key in mine])
        result |= {key: flips(best[key][1], probs) for key, probs in zip(mine, flipped, strict=True)}
    return result
