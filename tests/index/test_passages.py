"""Splitting documents into passages: exact offsets, full coverage, section-bounded overlapping windows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.index.passages import ChunkingSettings, split_passages
from service.index.sources import Document, read_documents

SHIPPED_SOURCES = Path(__file__).resolve().parents[2] / "index" / "sources"
TREATY_ID = "north_atlantic_treaty_1949_en.md"


@pytest.fixture(scope="module")
def shipped():
    """(document, passages) for every shipped reference document, by id."""
    documents = read_documents([SHIPPED_SOURCES])
    assert {d.doc_id for d in documents} >= {TREATY_ID, "un_charter_en.md"}
    return {d.doc_id: (d, split_passages(d)) for d in documents}


def _check_offsets(document: Document, passages) -> None:
    assert passages, f"{document.doc_id}: no passages"
    for passage in passages:
        assert passage.doc_id == document.doc_id
        assert 0 <= passage.start < passage.end <= len(document.text)
        assert document.text[passage.start : passage.end] == passage.text
        assert passage.text == passage.text.strip(), "a passage starts or ends with whitespace"


def _check_order(passages) -> None:
    for before, after in zip(passages, passages[1:], strict=False):
        assert before.start < after.start
        assert before.end <= after.end


def _uncovered(document: Document, passages) -> list[int]:
    """Offsets of non-whitespace characters of the text that no passage covers."""
    covered = bytearray(len(document.text))
    for passage in passages:
        covered[passage.start : passage.end] = b"\x01" * (passage.end - passage.start)
    return [i for i, char in enumerate(document.text) if not covered[i] and not char.isspace()]


def _words_cut(document: Document, passages) -> list[str]:
    """Passage boundaries that fall inside a word."""
    text = document.text
    cuts = []
    for passage in passages:
        if passage.start > 0 and not text[passage.start - 1].isspace():
            cuts.append(f"start {passage.start}: {text[passage.start - 10 : passage.start + 10]!r}")
        if passage.end < len(text) and not text[passage.end].isspace():
            cuts.append(f"end {passage.end}: {text[passage.end - 10 : passage.end + 10]!r}")
    return cuts


# --- shipped documents ------------------------------------------------------------------------------


@pytest.mark.parametrize("doc_id", [TREATY_ID, "un_charter_en.md"])
def test_shipped_offsets_round_trip(shipped, doc_id):
    document, passages = shipped[doc_id]
    _check_offsets(document, passages)


@pytest.mark.parametrize("doc_id", [TREATY_ID, "un_charter_en.md"])
def test_shipped_passages_in_order_and_cover_all_text(shipped, doc_id):
    document, passages = shipped[doc_id]
    _check_order(passages)
    missing = _uncovered(document, passages)
    assert not missing, f"uncovered text at {missing[0]}: {document.text[missing[0] - 20 : missing[0] + 40]!r}"
    assert not _words_cut(document, passages)


@pytest.mark.parametrize("doc_id", [TREATY_ID, "un_charter_en.md"])
def test_shipped_sentences_each_lie_inside_one_passage(shipped, doc_id):
    # Every sentence (cut independently of the code under test: at ". " / "; " style ends) lies whole in some passage.
    document, passages = shipped[doc_id]
    text = document.text
    for paragraph in re.finditer(r"[^\n]+", text):
        if paragraph.group().lstrip().startswith("#"):
            continue
        for sentence in re.finditer(r"\S[^.?!]*[.?!]+(?=\s|$)", paragraph.group()):
            start = paragraph.start() + sentence.start()
            end = paragraph.start() + sentence.end()
            assert any(p.start <= start and end <= p.end for p in passages), f"sentence split across passages: {sentence.group()!r}"


def test_treaty_article_5_is_kept_together(shipped):
    document, passages = shipped[TREATY_ID]
    phrase = "an armed attack against one or more of them"
    assert phrase in document.text

    holding = [p for p in passages if phrase in p.text]
    assert 1 <= len(holding) <= 2

    heading = re.search(r"^#+\s*Article\s+5\s*$", document.text, flags=re.MULTILINE)
    assert heading is not None
    first_sentence_start = document.text.index("The Parties agree that an armed attack")
    first_sentence_end = document.text.index("North Atlantic area.", first_sentence_start) + len("North Atlantic area.")
    whole = [p for p in passages if p.start <= heading.start() and first_sentence_end <= p.end]
    assert len(whole) == 1
    (article_5,) = whole
    assert re.match(r"#+\s*Article\s+5\b", article_5.text)
    assert document.text[first_sentence_start:first_sentence_end] in article_5.text
    assert article_5.section == "Article 5"
    # The passage is Article 5 only: Article 6 is a section of its own.
    assert not re.search(r"Article\s+6\s*$", article_5.text, flags=re.MULTILINE)


def test_sections_follow_markdown_headings(shipped):
    document, passages = shipped[TREATY_ID]
    headings = [m.start() for m in re.finditer(r"^#+\s", document.text, flags=re.MULTILINE)]
    for passage in passages:
        # A passage never runs past the start of a heading that comes after its own start.
        inner = [h for h in headings if passage.start < h < passage.end]
        assert not inner, f"passage {passage.start}:{passage.end} crosses a heading"
    assert {p.section for p in passages} >= {"North Atlantic Treaty", "Article 1", "Article 5", "Article 14"}


# --- a long document without headings -------------------------------------------------------------

_SUBJECTS = [
    "The harbour master",
    "A young botanist",
    "Every committee member",
    "The old lighthouse keeper",
    "Our regional librarian",
    "A travelling violinist",
    "The night-shift engineer",
    "That stubborn goat",
]
_VERBS = ["carefully recorded", "quietly questioned", "eagerly described", "patiently repaired", "briefly mentioned"]
_OBJECTS = [
    "the northern tide tables",
    "a cracked copper kettle",
    "seventeen unusual orchids near the river",
    "the minutes of a very long meeting about parking",
    "the broken gears of the clock tower",
    "an old map of the eastern marshes",
]
_TAILS = [
    "before sunrise",
    "while the rain kept falling on the slate roofs of the village",
    "during the autumn festival",
    "without telling anyone in the office",
    "after a long and rather confusing discussion with the neighbours about fences and hedges",
]


def _long_sentences(count: int) -> list[str]:
    sentences = []
    for i in range(count):
        sentence = (
            f"{_SUBJECTS[i % len(_SUBJECTS)]} {_VERBS[i % len(_VERBS)]} {_OBJECTS[(i * 5) % len(_OBJECTS)]} "
            f"{_TAILS[(i * 3) % len(_TAILS)]} on day {i + 1}."
        )
        sentences.append(sentence)
    assert len(set(sentences)) == count
    return sentences


def _document_from(sentences: list[str], separators: list[str] | None = None) -> tuple[Document, list[tuple[int, int]]]:
    """A document made of `sentences`, with the (start, end) of each sentence."""
    parts, spans, position = [], [], 0
    for i, sentence in enumerate(sentences):
        if i:
            separator = separators[i % len(separators)] if separators else " "
            parts.append(separator)
            position += len(separator)
        parts.append(sentence)
        spans.append((position, position + len(sentence)))
        position += len(sentence)
    return Document(doc_id="long.txt", text="".join(parts)), spans


def _sentences_of(passage, spans) -> list[int]:
    """Indexes of the sentences a passage is made of; fails when it does not start and end at sentence boundaries."""
    starts = [i for i, (start, _) in enumerate(spans) if start == passage.start]
    ends = [i for i, (_, end) in enumerate(spans) if end == passage.end]
    assert starts and ends, f"passage {passage.start}:{passage.end} does not align with sentence boundaries"
    return list(range(starts[0], ends[0] + 1))


@pytest.mark.parametrize(
    "settings",
    [ChunkingSettings(), ChunkingSettings(max_words=60, max_sentences=8, overlap_sentences=1)],
    ids=["default", "small-windows"],
)
@pytest.mark.parametrize("separators", [None, [" ", "\n", "  "]], ids=["spaces", "mixed-whitespace"])
def test_long_document_gives_overlapping_windows(settings, separators):
    sentences = _long_sentences(40)
    document, spans = _document_from(sentences, separators)

    passages = split_passages(document, settings)

    _check_offsets(document, passages)
    _check_order(passages)
    assert len(passages) >= 3
    assert not _uncovered(document, passages)
    windows = [_sentences_of(p, spans) for p in passages]
    for passage, window in zip(passages, windows, strict=True):
        words = len(passage.text.split())
        assert words <= settings.max_words or len(window) == 1, f"{words} words in {len(window)} sentences"
        assert len(window) <= settings.max_sentences
        assert passage.section is None
    assert windows[0][0] == 0 and windows[-1][-1] == len(sentences) - 1
    for before, after in zip(windows, windows[1:], strict=False):
        assert after[0] == before[-1], "consecutive windows must share exactly their boundary sentence"


def test_a_sentence_longer_than_max_words_gets_a_window_of_its_own():
    sentences = _long_sentences(12)
    giant = "This single enormous sentence " + " ".join(f"mentions item{n}" for n in range(90)) + " and then stops."
    sentences.insert(6, giant)
    document, spans = _document_from(sentences)
    settings = ChunkingSettings(max_words=60)

    passages = split_passages(document, settings)

    _check_offsets(document, passages)
    assert not _uncovered(document, passages)
    windows = [_sentences_of(p, spans) for p in passages]
    assert [6] in windows
    for passage, window in zip(passages, windows, strict=True):
        if len(passage.text.split()) > settings.max_words:
            assert window == [6]


def test_no_overlap_when_overlap_is_off():
    document, spans = _document_from(_long_sentences(30))

    passages = split_passages(document, ChunkingSettings(max_words=60, overlap_sentences=0))

    windows = [_sentences_of(p, spans) for p in passages]
    assert len(windows) >= 3
    assert [i for window in windows for i in window] == list(range(30))


# --- other shapes of text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "First paragraph has a sentence. And another one here.\n   \n\tSecond paragraph starts indented.\n \t \n"
        "Third paragraph has no final stop\n\n\n\nFourth one.",
        "   \n  Only one paragraph, surrounded by whitespace lines.  \n\n \n",
        "one\n\ntwo\n\nthree",
        "Windows line ends here.\r\n\r\nNext paragraph.\r\n",
    ],
    ids=["mixed", "single", "bare-words", "crlf"],
)
def test_whitespace_separated_paragraphs(text):
    document = Document(doc_id="paragraphs.txt", text=text)

    passages = split_passages(document)

    _check_offsets(document, passages)
    _check_order(passages)
    assert not _uncovered(document, passages)
    assert not _words_cut(document, passages)


def test_html_document_offsets_refer_to_extracted_text(tmp_path):
    paragraphs = "".join(f"<p>{s}</p>\n" for s in _long_sentences(25))
    (tmp_path / "page.html").write_text(
        "<html><head><title>Village Notes</title><style>p { margin: 0 }</style></head><body>"
        f"<h2>Notes</h2>\n{paragraphs}<script>var hidden = 'not text';</script>"
        "<p>Fish &amp; chips were served &lt;hot&gt; at the end.</p></body></html>",
        encoding="utf-8",
    )
    (document,) = read_documents([tmp_path / "page.html"])

    passages = split_passages(document, ChunkingSettings(max_words=80))

    assert len(passages) >= 2
    _check_offsets(document, passages)
    _check_order(passages)
    assert not _uncovered(document, passages)
    assert not _words_cut(document, passages)
    for passage in passages:
        assert "<p>" not in passage.text and "hidden" not in passage.text and "&amp;" not in passage.text
    assert any("Fish & chips were served <hot> at the end." in p.text for p in passages)
