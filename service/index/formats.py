"""Reading PDF files, saved web pages and Word files into a document's text, pages and headings.

Each reader turns a file into blocks (a heading or a paragraph each) and `assemble` joins them with blank lines
into the document's text, which every passage offset refers to, recording where each page starts (PDF) and where
each heading sits with its section path ("Chapter V / Article 23"). A file that cannot be read raises
`Unreadable` with why, and the build leaves it out. The libraries are the `documents` extra; without it a source
of these types is a SourceError naming the extra.
"""

from __future__ import annotations

import codecs
import contextlib
import importlib
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

EXTRA = "documents"

NO_TEXT_LAYER = "no_text_layer"
ENCRYPTED = "encrypted"
BROKEN = "broken"
ONLY_BOILERPLATE = "only_boilerplate"
NO_TEXT = "no_text"
NEEDS_EXTRA = "needs_extra"
REASONS = {
    NO_TEXT_LAYER: "no text layer (scanned)",
    ENCRYPTED: "encrypted",
    BROKEN: "broken",
    ONLY_BOILERPLATE: "only boilerplate",
    NO_TEXT: "no text",
    NEEDS_EXTRA: f"needs the '{EXTRA}' extra",
}

_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_PAGE_LABEL = re.compile(r"page\s+\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?", re.IGNORECASE)
_BARE_PAGE_NUMBER = re.compile(r"(\d{1,4})(?:\s*(?:of|/)\s*\d{1,4})?|[-–—]\s*(\d{1,4})\s*[-–—]")
_NUMBER = re.compile(r"(?<!\d)\d{1,4}(?!\d)")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted Word file (or an old .doc) is an OLE container, not a zip
# Charset labels a browser reads as another encoding (the WHATWG Encoding Standard), by Python's codec name: a
# page that says Latin-1 or ASCII is read as Windows-1252 (its quotes and dashes, bytes 0x80-0x9f), a <meta> that
# says UTF-16 can only be in a page that is not UTF-16.
_BROWSER_ENCODINGS = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "iso8859-9": "cp1254",
    "tis-620": "cp874",
    "iso8859-11": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "utf-16": "utf-8",
    "utf-16-le": "utf-8",
    "utf-16-be": "utf-8",
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


class Unreadable(Exception):
    """A file the build leaves out: `reason` is one of REASONS, `message` says what is wrong."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Heading:
    """A heading of a document: `text[start:end]` (empty when the heading is not in the text, such as a PDF
    bookmark not found on its page) and the section path it opens."""

    start: int
    end: int
    section: str


@dataclass
class Block:
    """A paragraph (`level` None) or a heading: level 0 the document's own title, 1 to 9 the heading levels."""

    text: str
    level: int | None = None
    in_text: bool = True  # False: a heading that opens a section but is not in the text (a bookmark not found on its page)


@dataclass
class Extracted:
    """What a reader made of a file."""

    text: str
    title: str | None
    url: str | None = None
    date: str | None = None
    pages: list[int] | None = None  # the offset where each page starts (PDF)
    headings: list[Heading] | None = None


def _require(module: str, path: Path):
    try:
        return importlib.import_module(module)
    except ImportError as error:  # left out like an unreadable file: the folder's other documents still build
        raise Unreadable(
            NEEDS_EXTRA, f"reading {path.suffix.lower()} files needs the '{EXTRA}' extra: pip install 'claimcheck[{EXTRA}]' ({error})"
        ) from error


def _words(text: str) -> str:
    return " ".join(text.split())


def _same(a: str, b: str) -> bool:
    return _words(a).casefold() == _words(b).casefold()


def assemble(pages: list[list[Block]], title: str | None, paged: bool) -> tuple[str, list[int] | None, list[Heading]]:
    """The text of `pages` of blocks (blank lines between blocks), the start of each page when `paged`, and the
    headings with their section paths. A heading's path is its own text under the open headings of higher levels;
    the document's title (a level-0 block, or a first heading that reads as `title`) opens a section of its own
    and is no part of the paths below it."""
    parts: list[str] = []
    length = 0
    starts: list[int] = []
    waiting_pages = 0  # pages with no block yet: they start where the next block does
    headings: list[Heading] = []
    waiting_headings: list[str] = []  # headings not found in the text: they sit where the next block starts
    open_headings: list[tuple[int, str]] = []
    for blocks in pages:
        waiting_pages += 1
        for block in blocks:
            section = None
            if block.level is not None:
                level = (
                    0 if block.level == 0 or (not headings and not waiting_headings and title and _same(block.text, title)) else block.level
                )
                name = _words(block.text)
                if level == 0:
                    open_headings = []
                    section = name
                else:
                    while open_headings and open_headings[-1][0] >= level:
                        open_headings.pop()
                    open_headings.append((level, name))
                    section = " / ".join(text for _, text in open_headings)
                if not block.in_text:
                    waiting_headings.append(section)
                    continue
            start = length + (2 if parts else 0)
            parts.append(block.text)
            length = start + len(block.text)
            starts += [start] * waiting_pages
            waiting_pages = 0
            headings += [Heading(start, start, waiting) for waiting in waiting_headings]
            waiting_headings = []
            if section is not None:
                headings.append(Heading(start, length, section))
    starts += [length] * waiting_pages
    headings += [Heading(length, length, waiting) for waiting in waiting_headings]
    return "\n\n".join(parts), (starts if paged else None), headings


# --- PDF ----------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet(logger: str):
    """The library's warnings about a damaged file stay out of the build's output: the file is reported instead."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def read_pdf(path: Path) -> Extracted:
    """The text of a PDF's text layer, page by page (page starts recorded), with its bookmarks as headings."""
    pypdf = _require("pypdf", path)
    with _quiet("pypdf"):
        try:
            reader = pypdf.PdfReader(path)
            if reader.is_encrypted and not reader.decrypt(""):
                raise Unreadable(ENCRYPTED, "encrypted: it opens only with a password; save a copy without one and build again")
            page_lines = [_page_lines(page.extract_text() or "") for page in reader.pages]
            bookmarks = _bookmarks(reader)
            title = _pdf_title(reader, bookmarks)
        except (Unreadable, OSError):
            raise
        except Exception as error:  # the library's errors on a damaged file are of many kinds; each leaves the file out
            raise Unreadable(BROKEN, f"broken or not a PDF ({type(error).__name__}: {error})") from error
    if not page_lines:
        raise Unreadable(BROKEN, "the PDF has no pages")
    if not any(re.search(r"\w", line) for lines in page_lines for line in lines):
        raise Unreadable(NO_TEXT_LAYER, f"no text layer in its {len(page_lines)} page(s) (a scan?): run OCR on it and build again")
    page_lines = _drop_running_lines(page_lines)
    if not any(re.search(r"\w", line) for lines in page_lines for line in lines):
        raise Unreadable(
            NO_TEXT_LAYER,
            f"no text in its {len(page_lines)} page(s) but running headers and page numbers (a scan a PDF tool stamped?): "
            "run OCR on it and build again",
        )
    pages = [_page_blocks(lines, [b for b in bookmarks if b[0] == number]) for number, lines in enumerate(page_lines)]
    text, starts, headings = assemble(pages, title, paged=True)
    return Extracted(text=text, title=title, pages=starts, headings=headings)


def _page_lines(text: str) -> list[str]:
    text = text.translate(_LIGATURES).replace("\r\n", "\n").replace("\r", "\n")
    lines = [re.sub(r"[^\S\n]+", " ", line).strip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _pdf_title(reader, bookmarks: list[tuple[int, int, str]]) -> str | None:
    """The title in the PDF's metadata, unless it is a file name ("Microsoft Word - report.docx"); else the one
    top-level bookmark of an outline that has others below it."""
    title = _words(str((reader.metadata or {}).get("/Title") or ""))
    if title and not re.search(r"\.(docx?|pdf|odt|rtf|txt)$|^microsoft word\b|^untitled$", title, re.IGNORECASE):
        return title
    top = [name for _, level, name in bookmarks if level == 1]
    return top[0] if len(top) == 1 and len(bookmarks) > 1 else None


def _bookmarks(reader) -> list[tuple[int, int, str]]:
    """(page index, level, title) of every outline entry that points at a page, in outline order, then by page."""
    found: list[tuple[int, int, str]] = []

    def walk(items, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            with contextlib.suppress(Exception):  # an entry pointing nowhere is left out, not the whole outline
                page = reader.get_destination_page_number(item)
                title = _words(str(item.title or ""))
                if page is not None and page >= 0 and title:
                    found.append((page, level, title))

    with contextlib.suppress(Exception):
        walk(reader.outline, 1)
    return sorted(found, key=lambda entry: entry[0])


def _drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Pages less their running headers and footers, from a page's top or bottom two lines: a page label ("Page 7",
    "Page 7 of 30"), a line that is only the page's printed number ("7", "7 / 30", "- 7 -"), and, in a PDF of three
    pages or more, a line that recurs on 60% of the pages with text, as it is or with the page's printed number
    aside. Other numbers count: a total row at the foot of every page, or "Article 4" at the top of one, is text."""
    numbers = _printed_page_numbers(pages)

    def keys(line: str, number: int | None) -> set[str]:
        words = _words(line).casefold()
        return {words, re.sub(rf"(?<!\d){number}(?!\d)", "#", words) if number is not None else words}

    recurring: set[tuple[str, str]] = set()
    with_text = [(lines, number) for lines, number in zip(pages, numbers, strict=True) if lines]
    if len(with_text) >= 3:
        counts: Counter[tuple[str, str]] = Counter()
        for lines, number in with_text:
            for edge, candidates in (("top", lines[:2]), ("bottom", lines[-2:])):
                counts.update((edge, found) for found in set().union(*(keys(line, number) for line in candidates)))
        recurring = {edge_key for edge_key, count in counts.items() if count >= max(3, 0.6 * len(with_text))}

    def running(line: str, edge: str, number: int | None) -> bool:
        words = _words(line)
        if _PAGE_LABEL.fullmatch(words):
            return True
        bare = _BARE_PAGE_NUMBER.fullmatch(words)
        return bool(bare and int(bare.group(1) or bare.group(2)) == number) or any((edge, k) in recurring for k in keys(line, number))

    kept = []
    for lines, number in zip(pages, numbers, strict=True):
        lines = list(lines)
        for _ in range(2):
            if lines and running(lines[0], "top", number):
                lines.pop(0)
            if lines and running(lines[-1], "bottom", number):
                lines.pop()
        kept.append(lines)
    return kept


def _printed_page_numbers(pages: list[list[str]]) -> list[int | None]:
    """The number printed on each page, where the pages agree on one: its position plus an offset that a number in
    the top or bottom two lines shows on 60% of the pages with text and on two at least (a one-page PDF: 1). None
    for all pages when they do not agree."""
    with_text = [(position, lines) for position, lines in enumerate(pages, start=1) if lines]
    if len(with_text) == 1:
        return list(range(1, len(pages) + 1))
    offsets: Counter[int] = Counter()
    for position, lines in with_text:
        offsets.update({int(found) - position for line in lines[:2] + lines[-2:] for found in _NUMBER.findall(line)})
    agreed = [(count, -abs(offset), offset) for offset, count in offsets.items() if count >= max(2, 0.6 * len(with_text))]
    if not agreed:
        return [None] * len(pages)
    offset = max(agreed)[2]
    return [position + offset for position in range(1, len(pages) + 1)]


def _page_blocks(lines: list[str], bookmarks: list[tuple[int, int, str]]) -> list[Block]:
    """A page's lines as blocks: each bookmark's title, found on the page after the one before it (across up to
    three lines), becomes a heading block. A title not found opens its section at the top of the page when no
    heading before it was found there, else after the page's text."""
    blocks: list[Block] = []
    after_text: list[Block] = []
    body_from = 0

    def body(until: int) -> None:
        paragraph = "\n".join(lines[body_from:until]).strip("\n")
        if paragraph:
            blocks.append(Block(re.sub(r"\n{2,}", "\n\n", paragraph)))

    for _, level, title in bookmarks:
        found = next(
            (
                (i, j)
                for i in range(body_from, len(lines))
                for j in range(i + 1, min(i + 4, len(lines) + 1))
                if _same(" ".join(lines[i:j]), title)
            ),
            None,
        )
        if found is None:
            (after_text if body_from else blocks).append(Block(title, level, in_text=False))
            continue
        body(found[0])
        blocks.append(Block(" ".join(lines[found[0] : found[1]]), level))
        body_from = found[1]
    body(len(lines))
    return blocks + after_text


# --- web pages ----------------------------------------------------------------------------------------------


def read_html(path: Path) -> Extracted:
    """The main text of a saved web page (menus, banners, footers, comments left out), its headings, and its
    title, date and canonical URL from the page's metadata."""
    trafilatura = _require("trafilatura", path)
    raw = path.read_bytes()
    if not raw.strip():
        raise Unreadable(NO_TEXT, "the file is empty")
    html = _decode_html(raw)
    with _quiet("trafilatura"), _quiet("htmldate"):
        try:
            found = trafilatura.bare_extraction(
                html,
                with_metadata=True,
                include_comments=False,
                include_tables=True,
                include_images=False,
                favor_precision=True,
                date_extraction_params={"extensive_search": False, "original_date": True},
            )
        except Exception as error:  # trafilatura's parser errors on malformed markup are of many kinds
            raise Unreadable(BROKEN, f"the page cannot be parsed ({type(error).__name__}: {error})") from error
    blocks = _xml_blocks(found.body) if found is not None and found.body is not None else []
    if not any(block.text for block in blocks if block.level is None):
        raise Unreadable(ONLY_BOILERPLATE, "no main text: the page is menus, banners, links and footers only")
    title = _words(found.title or "") or None
    text, _, headings = assemble([blocks], title, paged=False)
    return Extracted(text=text, title=title, url=found.url or None, date=found.date or None, headings=headings)


def _decode_html(raw: bytes) -> str:
    """The page's text in the charset it declares (a byte-order mark or a <meta> charset, read as a browser reads
    the label), else UTF-8."""
    for mark, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if raw.startswith(mark):
            return raw[len(mark) :].decode(encoding, errors="replace")
    declared = _META_CHARSET.search(raw[:4096])
    label = declared.group(1).decode("ascii") if declared else None
    if label:
        with contextlib.suppress(LookupError):
            name = codecs.lookup(label).name
            return raw.decode(_BROWSER_ENCODINGS.get(name, name), errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        declares = f"declares an unknown charset {label!r}" if label else "declares no charset"
        raise Unreadable(BROKEN, f"not valid UTF-8 at byte {error.start}, and the page {declares}") from error


def _xml_blocks(element) -> list[Block]:
    """Blocks of trafilatura's XML body: headings, paragraphs, quotes, list items and table rows."""
    for line_break in element.iter("lb"):
        line_break.tail = "\n" + (line_break.tail or "")
    blocks: list[Block] = []

    def text_of(node) -> str:
        return "\n".join(line for line in (_words(part) for part in "".join(node.itertext()).split("\n")) if line)

    def walk(node) -> None:
        tag = node.tag
        if tag == "head":
            level = re.fullmatch(r"h([1-6])", node.get("rend") or "")
            blocks.append(Block(_words("".join(node.itertext())), int(level.group(1)) if level else 2))
        elif tag == "row":
            blocks.append(Block(" | ".join(text_of(cell) for cell in node if cell.tag == "cell")))
        elif tag in ("list", "table", "div", "body", "doc", "main"):
            for child in node:
                walk(child)
        elif tag != "graphic":
            blocks.append(Block(text_of(node)))

    walk(element)
    return [block for block in blocks if block.text.strip(" |")]


# --- Word ---------------------------------------------------------------------------------------------------


def read_docx(path: Path) -> Extracted:
    """The paragraphs and table rows of a Word file's body in order, those in content controls too, headings by
    their styles (Title, Heading 1 to 9, or a style with an outline level); tracked changes as if accepted (an
    insertion read, a deletion not); headers, footers, footnotes, comments and text boxes left out."""
    docx = _require("docx", path)
    with open(path, "rb") as handle:
        if handle.read(len(_OLE_MAGIC)) == _OLE_MAGIC:
            raise Unreadable(
                ENCRYPTED, "encrypted (password-protected), or an old binary .doc named .docx: save it as .docx without a password"
            )
    try:
        document = docx.Document(str(path))
        blocks = [block for element in _docx_body_items(document.element.body) for block in _docx_blocks(element, document)]
        title = _words(document.core_properties.title or "") or next((b.text for b in blocks if b.level == 0), None)
    except OSError:
        raise
    except Exception as error:  # python-docx's errors on a damaged zip or XML are of many kinds
        raise Unreadable(BROKEN, f"broken or not a Word file ({type(error).__name__}: {error})") from error
    if not any(block.level is None for block in blocks):
        raise Unreadable(NO_TEXT, "no text in the document's body")
    text, _, headings = assemble([blocks], title, paged=False)
    return Extracted(text=text, title=title, headings=headings)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Runs under these are not in the text as Word shows it with its changes accepted (deleted or moved-away runs), or
# belong to a text box (a drawing's own paragraphs, and their fallback copy for older readers).
_DOCX_HIDDEN_RUNS = {f"{_W}del", f"{_W}moveFrom", f"{_W}txbxContent", f"{_W}p"}


def _docx_body_items(container):
    """The paragraphs (w:p) and tables (w:tbl) of a body or table cell in order, those inside a block content
    control (w:sdt) or custom XML included."""
    for child in container:
        if child.tag in (f"{_W}p", f"{_W}tbl"):
            yield child
        elif child.tag == f"{_W}sdt":
            for content in child.iterchildren(f"{_W}sdtContent"):
                yield from _docx_body_items(content)
        elif child.tag == f"{_W}customXml":
            yield from _docx_body_items(child)


def _docx_text(paragraph) -> str:
    """A w:p's text: its runs (those in hyperlinks, tracked insertions, inline content controls, fields and smart
    tags included), lines kept, words spaced once."""
    runs = []
    for run in paragraph.iter(f"{_W}r"):
        ancestor = run.getparent()
        while ancestor is not paragraph and ancestor.tag not in _DOCX_HIDDEN_RUNS and not ancestor.tag.endswith("}Fallback"):
            ancestor = ancestor.getparent()
        if ancestor is paragraph:
            runs.append(run.text)  # python-docx's run text: w:t, tabs, line breaks, no-break hyphens
    return "\n".join(line for line in (_words(part) for part in "".join(runs).split("\n")) if line)


def _docx_blocks(element, document) -> list[Block]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    if element.tag == f"{_W}tbl":
        rows = []
        for row in Table(element, document).rows:
            cells, seen = [], set()
            for cell in row.cells:  # a merged cell comes back once per grid column it spans
                if id(cell._tc) not in seen:
                    seen.add(id(cell._tc))
                    cells.append(_docx_cell_text(cell._tc))
            if any(cells):
                rows.append(Block(" | ".join(cells)))
        return rows
    text = _docx_text(element)
    return [Block(text, _heading_level(Paragraph(element, document).style))] if text else []


def _docx_cell_text(cell) -> str:
    """A table cell's paragraphs (and nested tables' cells) on one line."""
    parts = []
    for element in _docx_body_items(cell):
        if element.tag == f"{_W}p":
            parts.append(_docx_text(element))
        else:
            parts += [_docx_cell_text(nested) for nested in element.iter(f"{_W}tc") if nested.getparent().getparent() is element]
    return _words(" ".join(parts))


def _heading_level(style) -> int | None:
    """0 for the Title style, N for Heading N or a style with outline level N - 1 (or based on one), else None."""
    for _ in range(10):
        if style is None:
            return None
        name = (style.name or "").casefold()
        if name == "title":
            return 0
        if match := re.fullmatch(r"heading ([1-9])", name):
            return int(match.group(1))
        outline = style.element.xpath("./w:pPr/w:outlineLvl/@w:val")
        if outline and outline[0].isdigit() and int(outline[0]) < 9:
            return int(outline[0]) + 1
        style = style.base_style
    return None
