"""A plain-text view of submitted text that keeps every offset: markup and list bullets blanked out.

`mask` returns a string as long as the input in which character entities between words read as
the character they stand for ("2023 &amp; 2024" as "2023     & 2024", "&lt;p&gt;" as a tag), and
HTML-ish tags, comments, scripts and styles, list bullets,
transcript speaker labels (two or more lines opening with "MS. JEAN-PIERRE:", "Q:"...) and long
runs of symbols are spaces, and so are invisible format characters (zero-width spaces, bidi
marks, byte-order marks) except inside a word; a run of 100 characters without a space gets
one, so an offset into the masked text is an offset into the original. `blocks` cuts it where no sentence runs
on: blank lines, block-level tags, list items and speaker turns.
"""

from __future__ import annotations

import html
import re

_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_SCRIPT = re.compile(r"<(script|style)\b[^>]{0,1000}>.*?(?:</\1\s*>|\Z)", re.S | re.I)
_TAG = re.compile(r"<!--.*?(?:-->|\Z)|</?([A-Za-z][A-Za-z0-9:-]{0,30})(?:\s[^<>]{0,1000})?/?>", re.S)
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "footer", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "script", "section", "style", "table", "td", "th",
    "tr", "ul",
}  # fmt: skip
_BULLET = re.compile(r"^[ \t]*(?:[-*+•◦▪▫‣⁃·–—]|\(?\d{1,3}[.)]|\(?[a-z][)])(?=[ \t])", re.M)
_SPEAKER = re.compile(r"^[ \t]*([^\W\d_][\w'’.-]*(?:[ \t]+[\w'’.-]+){0,3})(?:[ \t]*\([^()\n]{1,40}\))?:(?=[ \t])", re.M)
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_SYMBOL_RUN = re.compile(r"[^\w\s]{32,}")  # rules, ASCII art
_INVISIBLE = "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_WORDISH = "\\w'’\u0300-\u036f"  # letters, digits, apostrophes, combining accents: inside a word
# "1949.\u200b Finland"; possessive, so a run inside a word ("NA\u200b\u200bTO") is never split by backtracking
_INVISIBLE_OUTSIDE_WORD = re.compile(rf"(?<![{_WORDISH}{_INVISIBLE}])[{_INVISIBLE}]+|[{_INVISIBLE}]++(?![{_WORDISH}])")
_INVISIBLE_ANYWHERE = re.compile(rf"[{_INVISIBLE}]+")
# "in 2023\u200b." masks to "in 2023 ."; any space before a word-ending . , ; is dropped from the text read
_SPACE_BEFORE_STOP = re.compile(r" (?=[.,;][\"'”’)\]]*(?:\s|$))")
_UNBROKEN = re.compile(r"\S{100}")  # longer than any word: spaCy's tokenizer can take quadratic time over it


def mask(text: str) -> tuple[str, list[int]]:
    """`text` with entities decoded, tags, comments, scripts, styles, bullets, speaker labels, symbol runs and
    invisible characters between words replaced by spaces, long runs broken by one, and the offsets where a block ends."""
    text = _entities_decoded(text)
    masked = list(text)
    breaks = [match.start() for match in _BLANK_LINE.finditer(text)]
    for match in (*_SCRIPT.finditer(text), *_TAG.finditer(text)):
        masked[match.start() : match.end()] = " " * (match.end() - match.start())
        if match.group(1) and match.group(1).lower() in _BLOCK_TAGS:
            breaks.append(match.start())
    for match in (*_BULLET.finditer(text), *_speaker_labels(text)):
        masked[match.start() : match.end()] = " " * (match.end() - match.start())
        breaks.append(match.start())
    for match in (*_SYMBOL_RUN.finditer(text), *_INVISIBLE_OUTSIDE_WORD.finditer(text)):
        masked[match.start() : match.end()] = " " * (match.end() - match.start())
    for match in _UNBROKEN.finditer(text):
        masked[match.end() - 1] = " "
    return "".join(masked), sorted(breaks)


def _entities_decoded(text: str) -> str:
    """`text` with each character entity that is not inside a word replaced by the character it stands for,
    padded with spaces on the side away from the word it touches; a space or an invisible character becomes
    spaces. Inside a word ("AT&amp;T") an entity stays: spaces would split the word. `plain` decodes it."""
    decoded = list(text)
    for match in _ENTITY.finditer(text):
        character = html.unescape(match.group())
        if len(character) != 1:  # not an entity HTML knows
            continue
        width = match.end() - match.start()
        after_word = match.start() > 0 and text[match.start() - 1].isalnum()
        if character.isspace() or _INVISIBLE_ANYWHERE.fullmatch(character):
            replacement = " " * width
        elif after_word and match.end() < len(text) and text[match.end()].isalnum():
            continue
        elif after_word:
            replacement = character + " " * (width - 1)
        else:
            replacement = " " * (width - 1) + character
        decoded[match.start() : match.end()] = replacement
    return "".join(decoded)


def _speaker_labels(text: str) -> list[re.Match]:
    """Line-opening labels in capitals ("MS. JEAN-PIERRE:", "Q:"), when there are at least two:
    one alone ("USA: ...") is more likely the subject of its sentence than a transcript's speaker."""
    labels = [match for match in _SPEAKER.finditer(text) if match.group(1).isupper()]
    return labels if len(labels) >= 2 else []


def blocks(masked: str, breaks: list[int]) -> list[tuple[int, int]]:
    """(start, end) of each non-blank stretch of `masked` between two breaks, whitespace trimmed."""
    spans = []
    for start, end in zip([0, *breaks], [*breaks, len(masked)], strict=True):
        piece = masked[start:end]
        stripped = piece.strip()
        if stripped:
            first = start + len(piece) - len(piece.lstrip())
            spans.append((first, first + len(stripped)))
    return spans


def plain(masked_span: str) -> str:
    """A masked span as the text to read: entities decoded, invisible characters dropped, runs of whitespace
    made one space, none before a full stop, comma or semicolon that ends a word."""
    return _SPACE_BEFORE_STOP.sub("", " ".join(_INVISIBLE_ANYWHERE.sub("", html.unescape(masked_span)).split()))
