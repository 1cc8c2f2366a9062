"""Splitting documents into retrievable passages that keep their character offsets.

A passage is a window of a few consecutive sentences inside one section of a document (a
section starts at a Markdown heading line, or at a heading a PDF, web page or Word file has)
and, in a PDF, inside one page; windows overlap by one sentence when a section needs more than
one. `document.text[start:end] == passage.text`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from service.index.formats import Heading
from service.index.sources import Document

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*(\S.*?)\s*#*\s*$")
_PARAGRAPH = re.compile(r"[^\n]+(?:\n(?![ \t]*\n)[^\n]+)*")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class ChunkingSettings:
    """Window sizes; part of the index manifest, so a change re-embeds everything."""

    max_words: int = 150
    max_sentences: int = 8
    overlap_sentences: int = 1


@dataclass
class Passage:
    """A span of one document that is embedded and retrieved as a unit."""

    doc_id: str
    start: int
    end: int
    text: str
    section: str | None = None
    page: int | None = None  # 1-based, for a PDF: the page the passage is on


@dataclass
class _Unit:
    start: int
    end: int
    words: int
    heading: str | None = None
    path: bool = False  # `heading` is the whole section path (a document's own heading), not one Markdown heading


@lru_cache(maxsize=1)
def _sentencizer():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = 10_000_000
    return nlp


def _sentence_units(text: str, offset: int) -> list[_Unit]:
    units: list[_Unit] = []
    for sentence in _sentencizer()(text).sents:
        chunk = sentence.text.strip()
        if not chunk:
            continue
        start = offset + sentence.start_char + (len(sentence.text) - len(sentence.text.lstrip()))
        end = start + len(chunk)
        words = len(_WORD.findall(chunk))
        if units and units[-1].heading is None and (units[-1].words < 3):
            units[-1] = _Unit(units[-1].start, end, units[-1].words + words)
        else:
            units.append(_Unit(start, end, words))
    return units


def _units(text: str, headings: list[Heading] | None = None) -> list[_Unit]:
    """Heading lines and sentences of `text`, in order, with offsets; the headings are `headings` when the
    document has its own, else its Markdown heading lines."""
    if headings is not None:
        return _units_between(text, headings)
    units: list[_Unit] = []
    for paragraph in _PARAGRAPH.finditer(text):
        position = paragraph.start()
        body_start = None
        for line in paragraph.group().split("\n"):
            heading = _HEADING.match(line)
            if heading:
                if body_start is not None:
                    units += _sentence_units(text[body_start : position - 1], body_start)
                    body_start = None
                units.append(_Unit(position, position + len(line.rstrip()), 0, heading=" ".join(heading.group(1).split())))
            elif body_start is None and line.strip():
                body_start = position
            position += len(line) + 1
        if body_start is not None:
            units += _sentence_units(text[body_start : paragraph.end()], body_start)
    return units


def _units_between(text: str, headings: list[Heading]) -> list[_Unit]:
    units: list[_Unit] = []
    position = 0
    for heading in sorted(headings, key=lambda h: (h.start, h.end)):
        units += _paragraph_units(text, position, heading.start)
        units.append(_Unit(heading.start, heading.end, 0, heading=heading.section, path=True))
        position = max(position, heading.end)
    return units + _paragraph_units(text, position, len(text))


def _paragraph_units(text: str, start: int, end: int) -> list[_Unit]:
    units: list[_Unit] = []
    for paragraph in _PARAGRAPH.finditer(text, start, end):
        if paragraph.group().strip():
            units += _sentence_units(paragraph.group(), paragraph.start())
    return units


def split_passages(document: Document, settings: ChunkingSettings | None = None) -> list[Passage]:
    """Sentence-aware, section-bounded (and, in a PDF, page-bounded), overlapping windows over `document.text`."""
    settings = settings or ChunkingSettings()
    text = document.text
    pages = document.pages
    passages: list[Passage] = []
    section: str | None = None
    pending_headings: list[_Unit] = []
    window: list[_Unit] = []

    def page_of(offset: int) -> int | None:
        return bisect_right(pages, offset) if pages else None

    def emit():
        start = pending_headings[0].start if pending_headings else window[0].start
        passages.append(Passage(document.doc_id, start, window[-1].end, text[start : window[-1].end], section, page_of(start)))
        pending_headings.clear()

    for unit in _units(text, document.headings):
        if unit.heading is not None:
            if window:
                emit()
                window = []
                pending_headings.clear()
            pending_headings.append(unit)
            section = unit.heading if unit.path else " / ".join(h.heading for h in pending_headings)
            continue
        page = page_of(unit.start)
        words = sum(u.words for u in window)
        if window and page_of(window[0].start) != page:
            emit()
            window = []
        elif window and (words + unit.words > settings.max_words or len(window) >= settings.max_sentences):
            emit()
            keep = window[-settings.overlap_sentences :] if settings.overlap_sentences and len(window) > settings.overlap_sentences else []
            if keep and sum(u.words for u in keep) + unit.words > settings.max_words:
                keep = []
            window = keep
        if not window:  # headings at the foot of the page before: the section holds, their text stays on that page
            pending_headings[:] = [h for h in pending_headings if page_of(h.start) == page]
        window.append(unit)
    if window:
        emit()
    return passages


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, heading lines left out."""
    return [(unit.start, unit.end) for unit in _units(text) if unit.heading is None]
