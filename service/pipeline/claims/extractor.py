"""Claim extraction: split text into claims that stand alone and score how check-worthy each one is.

The text is read through service/pipeline/claims/markup.py (tags, list bullets and Markdown marks blanked out, offsets kept)
in blocks (paragraphs, list items, headings, table cells) and parsed with spaCy. Each English sentence gives
one claim or more (service/pipeline/claims/standalone.py): `text[start:end] == claim.text` is the source span, `checked_as`
the standalone text to check. Text in another language (service/pipeline/claims/language.py) is skipped, with the reason, and
so is a Markdown heading or table cell with no verb and no full stop, question or exclamation mark at its end
("Security Council deadlock", "1949"): a title or a value, not a sentence. The same words on a line of their
own are read, for a headline without a verb can be a claim ("Unemployment at record low"), but not a caption or
credit line ("Source: NATO", service/pipeline/claims/rules.py). A sentence that only refers back ("That is
false.", "the latter" with nothing to point to) is skipped with the reason (standalone.refers_back), and so is a
claim that is the speaker's own expectation or hope ("I expect that allies will ...", standalone.states_an_expectation):
what can be checked is that it was said. Neighbouring
stretches skipped for the same reason are reported as one. Check-worthiness comes from
service/pipeline/claims/checkworthiness.py, scored on the source span, and is read again with its context
beside the scores of the claims around it in the same text by service/pipeline/claims/context_head.py when
the model ships a head.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

import numpy as np

from service.errors import NotLoaded
from service.pipeline.claims import language
from service.pipeline.claims.checkworthiness import CheckworthinessModel
from service.pipeline.claims.context_head import ContextHead
from service.pipeline.claims.markup import blocks, headings_and_cells, mask, plain, widened
from service.pipeline.claims.rules import is_label, states_a_rule
from service.pipeline.claims.standalone import EXPECTATION_MESSAGE, Context, Derived, refers_back, standalone_claims, states_an_expectation
from service.results import EXPECTATION, NOT_A_SENTENCE, NOT_ENGLISH, REFERS_BACK, TRUNCATED, Claim, Extraction, Skipped
from service.runtime.onnx_session import ClassifierBackend

_CLOSERS = {'"', "'", "”", "’", ")", "]", "»"}


def load_spacy(model_name: str = language.SPACY_MODEL):
    """The packaged spaCy English pipeline, labelling parts of speech and lemmas on demand
    (service/pipeline/claims/token_tags.py)."""
    import spacy

    from service.pipeline.claims.token_tags import use_on_demand_tags

    nlp = spacy.load(model_name)
    nlp.max_length = 2_000_000
    return use_on_demand_tags(nlp)


class ClaimExtractor:
    """Splits text into standalone claims with spaCy and scores them."""

    def __init__(self, model_dir: Path, backend: ClassifierBackend = "onnx-int8", threads: int | None = None):
        self.scorer = CheckworthinessModel(model_dir, backend=backend, threads=threads)
        self.head: ContextHead | None = None
        self._nlp = None

    @property
    def threshold(self) -> float:
        """The check-worthiness cut-off the served scores were tuned for (on CheckThat! 2024 debates held out of training)."""
        return self.scorer.threshold if self.head is None else self.head.threshold

    def warm_up(self) -> None:
        """Load spaCy, the scorer and the stop-word lists (once)."""
        if self._nlp is None:
            self.scorer.warm_up()
            self.head = ContextHead.load(self.scorer.model_dir)
            language.warm_up()
            self._nlp = load_spacy()

    def count_tokens(self, text: str) -> int:
        """Words and symbols spaCy would read in `text` (markup and whitespace not counted): the
        work of extracting its claims grows with this, not with its characters."""
        if self._nlp is None:
            raise NotLoaded("ClaimExtractor used before warm_up()")
        return sum(not token.is_space for token in self._nlp.make_doc(mask(text)[0]))

    def parse(self, texts: list[str]):
        """spaCy's parse of each text (markup masked), for the subject check (service/pipeline/subjects.py)."""
        if self._nlp is None:
            raise NotLoaded("ClaimExtractor used before warm_up()")
        return list(self._nlp.pipe(mask(text)[0] for text in texts))

    def extract(self, text: str) -> Extraction:
        """The claims of `text`, in order, and the stretches skipped."""
        return self.extract_many([text])[0]

    def extract_many(self, texts: list[str]) -> list[Extraction]:
        """`extract` for several texts at once: one spaCy stream and one scoring pass for all."""
        extractions, rules = self.sentence_scored(texts)
        for extraction, states_rules in zip(extractions, rules, strict=True):
            scores = np.array([claim.checkworthiness for claim in extraction.claims])
            if self.head is not None:
                scores = self.head.rescore(scores)
            for claim, score, rule in zip(extraction.claims, scores, states_rules, strict=True):
                claim.checkworthiness = round(float(max(score, self.threshold) if rule else score), 4)
        return extractions

    def sentence_scored(self, texts: list[str]) -> tuple[list[Extraction], list[list[bool]]]:
        """`extract_many` with every claim scored by the sentence model alone, before the context head, and
        whether each claim states a rule of law or procedure (service/pipeline/claims/rules.py), which is
        served as check-worthy at least at the threshold."""
        if self._nlp is None:
            raise NotLoaded("ClaimExtractor used before warm_up()")
        extractions = [Extraction() for _ in texts]
        english = []  # (text number, offset of the block, tokenised block)
        titles_and_cells = [headings_and_cells(text) for text in texts]
        for number, text in enumerate(texts):
            masked, breaks = mask(text)
            for start, end in blocks(masked, sorted({*breaks, *_ellipsis_line_ends(masked)})):
                doc = self._nlp.make_doc(masked[start:end])
                if (other := language.foreign_language(doc[:])) is not None:
                    extractions[number].skipped.append(_not_english(text, start, end, other))
                else:
                    english.append((number, start, doc))
        found: list[tuple[int, int, Derived]] = []  # (text number, offset of the block, claim)
        rules: list[list[bool]] = [[] for _ in texts]
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
                elif _cut_off(sentence):
                    start, end = widened(texts[number], offset + sentence.start_char, offset + sentence.end_char)
                    extractions[number].skipped.append(Skipped(start, end, TRUNCATED, "cut off with an ellipsis: not the whole sentence"))
                elif _inside(titles_and_cells[number], offset + sentence.start_char, offset + sentence.end_char) and _no_sentence(sentence):
                    start, end = widened(texts[number], offset + sentence.start_char, offset + sentence.end_char)
                    extractions[number].skipped.append(Skipped(start, end, NOT_A_SENTENCE, "a heading or table cell with no verb"))
                elif (why := refers_back(sentence, contexts[number])) is not None:
                    start, end = widened(texts[number], offset + sentence.start_char, offset + sentence.end_char)
                    extractions[number].skipped.append(Skipped(start, end, REFERS_BACK, why))
                elif is_label(sentence):
                    start, end = widened(texts[number], offset + sentence.start_char, offset + sentence.end_char)
                    extractions[number].skipped.append(Skipped(start, end, NOT_A_SENTENCE, "a caption or credit line, not a sentence"))
                else:
                    claims = [
                        claim for claim in standalone_claims(sentence, contexts[number]) if any(c.isalnum() for c in claim.checked_as)
                    ]
                    expectations = [claim for claim in claims if states_an_expectation(claim.checked_as)]
                    for claim in expectations:
                        start, end = widened(texts[number], offset + claim.span.start_char, offset + claim.span.end_char)
                        extractions[number].skipped.append(Skipped(start, end, EXPECTATION, EXPECTATION_MESSAGE))
                    claims = [claim for claim in claims if claim not in expectations]
                    found += [(number, offset, claim) for claim in claims]
                    rules[number] += [states_a_rule(claim.span) for claim in claims]
        if found:
            scores = self.scorer.predict([claim.scored_as or plain(claim.span.text) for _, _, claim in found])
            for (number, offset, derived), score in zip(found, scores, strict=True):
                start, end = widened(texts[number], offset + derived.span.start_char, offset + derived.span.end_char)
                claim = Claim(texts[number][start:end], start, end, round(float(score), 4), derived.checked_as, derived.attribution)
                extractions[number].claims.append(claim)
        for extraction in extractions:
            extraction.skipped = _merged(sorted(extraction.skipped, key=lambda skipped: skipped.start), extraction.claims)
        return extractions, rules


def _content(sentence):
    """The sentence without its edge whitespace tokens; None when it has no letter or digit."""
    tokens = [t for t in sentence if not t.is_space]
    if not any(c.isalnum() for t in tokens for c in t.text):
        return None
    return sentence.doc[tokens[0].i : tokens[-1].i + 1]


_ELLIPSIS_LINE_END = re.compile(r"…[\"'”’»)\]]*[ \t]*\r?\n(?=[ \t]*[\"“'‘(\[]?[A-Z0-9])")


def _ellipsis_line_ends(masked: str) -> list[int]:
    """Ends of lines that stop at an ellipsis before a line that starts like a sentence: a list of
    cut-off teasers is one line each, never one run-on sentence across them (a single line break
    otherwise joins a wrapped paragraph, and "…" then a lower-case line is one)."""
    return [match.end() - 1 for match in _ELLIPSIS_LINE_END.finditer(masked)]


def _cut_off(sentence) -> bool:
    """Whether a sentence ends its block with the ellipsis character ("…") and no full stop after it:
    a headline or teaser that a web page cut off mid-sentence, whose claim is not all there ("Hundreds
    of people gathered in Tehran on Friday morning in front of the United Nations…"). Three typed dots
    ("we will see what happens...") are a speaker trailing off, read as they are; an ellipsis inside a
    sentence is a quotation's gap."""
    if sentence.end != len(sentence.doc) and any(not t.is_space for t in sentence.doc[sentence.end :]):
        return False
    return sentence.text.rstrip().rstrip("\"'”’»)]").endswith("…")


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether `start`-`end` lies within one of the sorted, non-overlapping `spans`."""
    number = bisect.bisect_right(spans, (start, float("inf"))) - 1
    return number >= 0 and spans[number][0] <= start and end <= spans[number][1]


def _no_sentence(words) -> bool:
    """No verb (by the tagger's fine tags) and no full stop, question or exclamation mark at the end."""
    if any(token.tag_.startswith("VB") or token.tag_ == "MD" for token in words):
        return False
    last = next((token for token in reversed(words) if token.text not in _CLOSERS), None)
    return last is None or not (last.is_punct and last.text[-1] in ".!?…")


def _merged(skipped: list[Skipped], claims: list[Claim]) -> list[Skipped]:
    """`skipped` (sorted) with neighbours of the same reason and message made one stretch when no claim lies
    between them: a table of figures, or an article in another language, is one entry, not one per cell or sentence.
    Cut-off headlines stay one entry each: each is a claim of its own that could not be read."""
    merged: list[Skipped] = []
    claim_starts = sorted(claim.start for claim in claims)
    for item in skipped:
        last = merged[-1] if merged else None
        between = bisect.bisect_left(claim_starts, item.start) - bisect.bisect_left(claim_starts, last.end) if last else 1
        if last is not None and (last.reason, last.message) == (item.reason, item.message) and between == 0 and item.reason != TRUNCATED:
            merged[-1] = Skipped(last.start, item.end, item.reason, item.message)
        else:
            merged.append(item)
    return merged


def _not_english(text: str, start: int, end: int, other: str) -> Skipped:
    return Skipped(*widened(text, start, end), NOT_ENGLISH, f"looks like {other}; only English text is checked")
