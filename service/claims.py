"""Claim extraction: split text into claims that stand alone and score how check-worthy each one is.

The text is read through service/markup.py (tags and list bullets blanked out, offsets kept) in blocks
(paragraphs, list items) and parsed with spaCy. Each English sentence gives one claim or more
(service/standalone.py): `text[start:end] == claim.text` is the source span, `checked_as` the standalone text
to check. Text in another language (service/language.py) is skipped, with the reason, and so are fragments
that are no sentence: no verb and no closing punctuation (headings, labels, table cells: "Security Council
deadlock", "1949"). Check-worthy sentences without a verb end with a full stop ("Trillion-dollar deficits for
the last four years."): 40 of CT24's 5,413 check-worthy training sentences have no verb, and every one of them
ends with one. Check-worthiness comes from service/checkworthiness.py, scored on the source span.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from service import language
from service.checkworthiness import CheckworthinessModel
from service.errors import NotLoaded
from service.markup import blocks, mask, plain, widened
from service.onnx_session import ClassifierBackend
from service.standalone import Context, Derived, standalone_claims

NOT_ENGLISH = "not_english"
NOT_A_SENTENCE = "not_a_sentence"


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


def load_spacy(model_name: str = language.SPACY_MODEL):
    """The packaged spaCy English pipeline, labelling parts of speech and lemmas on demand
    (service/token_tags.py)."""
    import spacy

    from service.token_tags import use_on_demand_tags

    nlp = spacy.load(model_name)
    nlp.max_length = 2_000_000
    return use_on_demand_tags(nlp)


class ClaimExtractor:
    """Splits text into standalone claims with spaCy and scores them."""

    def __init__(self, model_dir: Path, backend: ClassifierBackend = "onnx-int8", threads: int | None = None):
        self.scorer = CheckworthinessModel(model_dir, backend=backend, threads=threads)
        self._nlp = None

    @property
    def threshold(self) -> float:
        """The check-worthiness cut-off the scorer was tuned for (on CheckThat! dev)."""
        return self.scorer.threshold

    def warm_up(self) -> None:
        """Load spaCy, the scorer and the stop-word lists (once)."""
        if self._nlp is None:
            self.scorer.warm_up()
            language.warm_up()
            self._nlp = load_spacy()

    def count_tokens(self, text: str) -> int:
        """Words and symbols spaCy would read in `text` (markup and whitespace not counted): the
        work of extracting its claims grows with this, not with its characters."""
        if self._nlp is None:
            raise NotLoaded("ClaimExtractor used before warm_up()")
        return sum(not token.is_space for token in self._nlp.make_doc(mask(text)[0]))

    def extract(self, text: str) -> Extraction:
        """The claims of `text`, in order, and the stretches skipped."""
        return self.extract_many([text])[0]

    def extract_many(self, texts: list[str]) -> list[Extraction]:
        """`extract` for several texts at once: one spaCy stream and one scoring pass for all."""
        if self._nlp is None:
            raise NotLoaded("ClaimExtractor used before warm_up()")
        extractions = [Extraction() for _ in texts]
        english = []  # (text number, offset of the block, tokenised block)
        for number, text in enumerate(texts):
            masked, breaks = mask(text)
            for start, end in blocks(masked, breaks):
                doc = self._nlp.make_doc(masked[start:end])
                if (other := language.foreign_language(doc[:])) is not None:
                    extractions[number].skipped.append(_not_english(text, start, end, other))
                else:
                    english.append((number, start, doc))
        found: list[tuple[int, int, Derived]] = []  # (text number, offset of the block, claim)
        contexts = [Context() for _ in texts]
        for (number, offset, _), doc in zip(english, self._nlp.pipe(doc for _, _, doc in english), strict=True):
            for sentence in doc.sents:
                sentence = _content(sentence)
                if sentence is None:
                    continue
                if (other := language.foreign_language(sentence)) is not None:
                    extractions[number].skipped.append(
                        _not_english(texts[number], offset + sentence.start_char, offset + sentence.end_char, other)
                    )
                elif _not_a_sentence(sentence):
                    start, end = widened(texts[number], offset + sentence.start_char, offset + sentence.end_char)
                    extractions[number].skipped.append(
                        Skipped(start, end, NOT_A_SENTENCE, "no verb and no closing punctuation: a heading, label or table cell")
                    )
                else:
                    claims = standalone_claims(sentence, contexts[number])
                    found += [(number, offset, claim) for claim in claims if any(c.isalnum() for c in claim.checked_as)]
        if found:
            scores = self.scorer.predict([plain(claim.span.text) for _, _, claim in found])
            for (number, offset, derived), score in zip(found, scores, strict=True):
                start, end = widened(texts[number], offset + derived.span.start_char, offset + derived.span.end_char)
                claim = Claim(texts[number][start:end], start, end, round(float(score), 4), derived.checked_as, derived.attribution)
                extractions[number].claims.append(claim)
        for extraction in extractions:
            extraction.skipped.sort(key=lambda skipped: skipped.start)
        return extractions


def _content(sentence):
    """The sentence without its edge whitespace tokens; None when it has no letter or digit."""
    tokens = [t for t in sentence if not t.is_space]
    if not any(c.isalnum() for t in tokens for c in t.text):
        return None
    return sentence.doc[tokens[0].i : tokens[-1].i + 1]


def _not_a_sentence(sentence) -> bool:
    """No verb (by the tagger's fine tags) and no closing punctuation in its last two tokens."""
    if any(token.tag_.startswith("VB") or token.tag_ == "MD" for token in sentence):
        return False
    return not any(c in ".!?…" for c in sentence[-2:].text)


def _not_english(text: str, start: int, end: int, other: str) -> Skipped:
    return Skipped(*widened(text, start, end), NOT_ENGLISH, f"looks like {other}; only English text is checked")
