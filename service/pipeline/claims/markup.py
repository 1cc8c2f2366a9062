"""A plain-text view of submitted text that keeps every offset: markup and list bullets blanked out.

`mask` returns a string as long as the input in which HTML-ish tags (escaped ones too: "&lt;p&gt;"), comments,
script and style elements, list bullets, Markdown marks (headings, "===" underlines, "> " quotes, table rules
and pipes, "**" emphasis, link targets: "[text](url)" reads "text"), transcript speaker labels (two or more
lines opening with "MS. JEAN-PIERRE:", "Q:"...) and long runs of symbols are spaces, and so are invisible
format characters (zero-width spaces, bidi marks, byte-order marks) except inside a word; a character entity
between words reads as the character it stands for ("2023 &amp; 2024" as "2023     & 2024"); a run of 100
characters without a space gets one, so an offset into the masked text is an offset into the original.
`blocks` cuts it where no sentence runs on: blank lines, block-level tags, list items, speaker
turns, headings and table cells. `widened` moves a span's ends out of any entity they fall in.
"""

from __future__ import annotations

import html
import re

_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_ELEMENT_OPENING = re.compile(r"<(script|style)(?=[\s/>])[^<>]{0,1000}>", re.I)  # blanked with their content
_KEPT_ENTITIES = {"<", ">"}  # "&lt;b&gt;" decoded would read as markup: left for `plain` to decode
_TAG = re.compile(r"<!--.*?(?:-->|\Z)|</?([A-Za-z][A-Za-z0-9:-]{0,30})(?:\s[^<>]{0,1000})?/?>", re.S)
# "&lt;p&gt;", "&lt;a href=&quot;...&quot;&gt;": markup shown as text, blanked but no block's end (it may be mentioned)
_ESCAPED_TAG = re.compile(r"&lt;/?[A-Za-z][A-Za-z0-9:-]{0,30}(?:\s(?:[^<>&]|&quot;|&#39;|&amp;){0,200})?/?&gt;")
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "footer", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
}  # fmt: skip
_BULLET = re.compile(r"^[ \t]*(?:[-*+•◦▪▫‣⁃·–—]|\(?\d{1,3}[.)]|\(?[a-z][)])(?=[ \t])", re.M)
# Markdown. An ATX heading, "## Title ##": its marks are blanked and it is its own block.
_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})(?=[ \t])[^\n]*?(?:[ \t](#+))?[ \t\r]*$", re.M)
# The rule under a table's header ("|---|:---:|", "--- | ---"), and a line with a cell border ("| 1949 | 12 |")
_TABLE_RULE = re.compile(r"^(?=[^\n]*\|)(?=[^\n]*-{3})[ \t|:-]+\r?$", re.M)
_OUTER_PIPES_ROW = re.compile(r"^[ \t]*\|[^\n]*\|[ \t\r]*$", re.M)
# "Title\n=====" or "Title\n-----": the underline is blanked and ends the block
_SETEXT_UNDERLINE = re.compile(r"(?<=\S)[ \t]*\r?\n[ \t]{0,3}(?:={3,}|-{3,})[ \t]*(?=\r?\n|$)")
_QUOTE_MARK = re.compile(r"^[ \t]{0,3}(?:>(?![ \t]*\d)[ \t]?)+", re.M)  # "> " opening a quoted line; ">50%" is no quote
# "**bold**", "_italic_": not inside words, paths or file names ("snake_case", "/var/_cache_/", "__init__.py")
_EMPHASIS = re.compile(
    r"(?<![\w*/])(\*\*?)(?=[^\s*])[^\n]{0,300}?(?<=[^\s*])\1(?![\w*/]|\.\w)"
    r"|(?<![\w_/])(__?)(?=[^\s_])[^\n]{0,300}?(?<=[^\s_])\2(?![\w_/]|\.\w)"
)
# "[text](url "title")", "![alt](url)": the brackets and the target are blanked; a URL may hold one level of parentheses
_LINK = re.compile(r"(!?\[)[^\[\]\n]{1,300}(\]\((?:[^()\s]|\([^()\s]{0,200}\)){1,1000}(?:\s+\"[^\"\n]{0,200}\")?\))")
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
    """`text` with tags, comments, scripts, styles, bullets, speaker labels, symbol runs and invisible characters
    between words replaced by spaces, entities between words decoded, long runs broken by a space, and the
    offsets where a block ends."""
    masked = list(text)
    breaks = [match.start() for match in _BLANK_LINE.finditer(text)]
    for start, end in _elements(text):
        masked[start:end] = " " * (end - start)
        breaks.append(start)
    for match in _TAG.finditer(text):
        masked[match.start() : match.end()] = " " * (match.end() - match.start())
        if match.group(1) and match.group(1).lower() in _BLOCK_TAGS:
            breaks.append(match.start())
    for match in _ESCAPED_TAG.finditer(text):
        masked[match.start() : match.end()] = " " * (match.end() - match.start())
    for match in (*_BULLET.finditer(text), *_speaker_labels(text)):
        masked[match.start() : match.end()] = " " * (match.end() - match.start())
        breaks.append(match.start())
    for match in _HEADING.finditer(text):
        for group in (1, 2):
            masked[match.start(group) : match.end(group)] = " " * (match.end(group) - match.start(group))
        breaks += [match.start(), match.end()]
    for match in _SETEXT_UNDERLINE.finditer(text):
        masked[match.start() : match.end()] = " " * (match.end() - match.start())
        breaks += [match.start(), match.end()]
    previous_quote_line = -2
    for match in _QUOTE_MARK.finditer(text):
        masked[match.start() : match.end()] = " " * (match.end() - match.start())
        if text.rfind("\n", 0, match.start()) != previous_quote_line:  # a quote starts: it runs on into no sentence before it
            breaks.append(match.start())
        previous_quote_line = text.find("\n", match.end())
    for match in _EMPHASIS.finditer(text):
        mark = match.group(1) or match.group(2)
        masked[match.start() : match.start() + len(mark)] = " " * len(mark)
        masked[match.end() - len(mark) : match.end()] = " " * len(mark)
    for match in _LINK.finditer(text):
        for group in (1, 2):
            masked[match.start(group) : match.end(group)] = " " * (match.end(group) - match.start(group))
    rules, rows = _tables(text)
    for start, end in rules:
        masked[start:end] = " " * (end - start)
        breaks += [start, end]
    for start, end in rows:
        breaks += [start, end]
        for pipe in range(start, end):
            if text[pipe] == "|":
                masked[pipe] = " "
                breaks.append(pipe)
    for match in (*_SYMBOL_RUN.finditer(text), *_INVISIBLE_OUTSIDE_WORD.finditer(text)):
        masked[match.start() : match.end()] = " " * (match.end() - match.start())
    for match in _ENTITY.finditer(text):
        if masked[match.start()] == "&" and (decoded := _decoded(text, match)) is not None:
            masked[match.start() : match.end()] = decoded
    for match in _UNBROKEN.finditer(text):
        masked[match.end() - 1] = " "
    return "".join(masked), sorted(breaks)


def headings_and_cells(text: str) -> list[tuple[int, int]]:
    """(start, end) of each Markdown ATX heading's title and each table cell of `text`, in order: places where
    a phrase with no verb is a title or a value, not a sentence."""
    spans = [(match.end(1), match.start(2) if match.group(2) else match.end()) for match in _HEADING.finditer(text)]
    for start, end in _tables(text)[1]:
        pipes = [start - 1] + [i for i in range(start, end) if text[i] == "|"] + [end]
        spans += [(a + 1, b) for a, b in zip(pipes, pipes[1:], strict=False) if text[a + 1 : b].strip()]
    return sorted(spans)


def _tables(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(start, end) of the lines of Markdown tables: the rules under their headers, and their rows. A row has a
    border at both ends ("| a | b |"), or belongs to a table without them: the line above a rule, and the lines
    after it that hold a "|", up to the first that does not."""
    rules = [(m.start(), m.end()) for m in _TABLE_RULE.finditer(text)]
    rows = {(m.start(), m.end()) for m in _OUTER_PIPES_ROW.finditer(text)}
    for start, end in rules:
        above_end = start - 1
        above_start = text.rfind("\n", 0, max(above_end, 0)) + 1
        if above_end > above_start and "|" in text[above_start:above_end]:
            rows.add((above_start, above_end))
        line_start = end + 1
        while line_start < len(text):
            line_end = text.find("\n", line_start)
            line_end = len(text) if line_end < 0 else line_end
            line = text[line_start:line_end]
            if "|" not in line or not line.strip() or _TABLE_RULE.fullmatch(line):
                break
            rows.add((line_start, line_end))
            line_start = line_end + 1
    return rules, sorted(rows - set(rules))


def widened(text: str, start: int, end: int) -> tuple[int, int]:
    """`start`-`end` with each end moved out of a character entity of `text` it falls inside ("&quot;"):
    `mask` puts an entity's character at one of its ends, so a span of the masked text may cut one. An entity
    `mask` left as it is ("&A1;", unknown; "AT&amp;T", inside a word) reads as text, and a span may end inside it."""
    for match in _ENTITY.finditer(text, max(0, start - 40), min(len(text), end + 40)):
        if _decoded(text, match) is None:
            continue
        if match.start() < start < match.end():
            start = match.start()
        if match.start() < end < match.end():
            end = match.end()
    return start, end


def _elements(text: str) -> list[tuple[int, int]]:
    """(start, end) of each script or style element with its content; one never closed is left (its
    opening tag alone is blanked as a tag), so that text mentioning "<style>" keeps what follows."""
    lowered, found, position = text.lower(), [], 0
    unclosed_after: dict[str, int] = {}  # no closing tag of this name after this offset: the search is linear
    for match in _ELEMENT_OPENING.finditer(text):
        name = match.group(1).lower()
        if match.start() < position or match.end() >= unclosed_after.get(name, len(text) + 1):
            continue
        closing = lowered.find(f"</{name}", match.end())
        end = lowered.find(">", closing) if closing >= 0 else -1
        if end < 0:
            unclosed_after[name] = match.end()
            continue
        found.append((match.start(), end + 1))
        position = end + 1
    return found


def _decoded(text: str, entity: re.Match) -> str | None:
    """What the character entity `entity` reads as in the masked text, as wide as it is: its character,
    padded with spaces on the side away from the word it touches, or only spaces for a space or an
    invisible character. None inside a word ("AT&amp;T", "Bundes&shy;wehr"), where spaces would split
    the word, and for an entity HTML does not know or "&lt;"/"&gt;": the entity stays, for `plain` to decode."""
    character = html.unescape(entity.group())
    start, end = entity.span()
    after_word = start > 0 and text[start - 1].isalnum()
    if len(character) != 1 or character in _KEPT_ENTITIES or (after_word and end < len(text) and text[end].isalnum()):
        return None
    if character.isspace() or _INVISIBLE_ANYWHERE.fullmatch(character):
        return " " * (end - start)
    return character + " " * (end - start - 1) if after_word else " " * (end - start - 1) + character


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
