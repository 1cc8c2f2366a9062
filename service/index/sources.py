"""Reading reference documents from `.jsonl` (also gzip-compressed, `.jsonl.gz`), `.txt`, `.md` and `.html` sources."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from service.errors import SourceError

SUPPORTED_SUFFIXES = (".jsonl", ".jsonl.gz", ".txt", ".md", ".html", ".htm")
_DOUBLE_SUFFIXES = tuple(s for s in SUPPORTED_SUFFIXES if s.count(".") > 1)
_KNOWN_JSONL_FIELDS = {"id", "text", "title", "url", "date"}


@dataclass
class Document:
    """One reference document; passage offsets refer to `text`."""

    doc_id: str
    text: str
    title: str | None = None
    url: str | None = None
    date: str | None = None
    metadata: dict = field(default_factory=dict)
    source: str = ""

    @property
    def content_hash(self) -> str:
        """SHA-256 over what the embeddings depend on (title and text)."""
        return hashlib.sha256(f"{self.title or ''}\x00{self.text}".encode()).hexdigest()


def find_source_files(source: Path, exclude: tuple[Path, ...] = ()) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(file, root) pairs to read from a file or a folder walked recursively, in a stable order, and the files of
    other types the folder holds, left out. Hidden files and folders, and anything under an `exclude` folder (a
    build's own output), are not listed."""
    if not source.exists():
        raise SourceError(str(source), "no such file or folder")
    if source.is_file():
        if source_suffix(source) not in SUPPORTED_SUFFIXES:
            raise SourceError(str(source), f"unsupported file type (expected one of {', '.join(SUPPORTED_SUFFIXES)})")
        return [(source, source.parent)], []
    files = _walk(source, exclude)
    return [(path, source) for path in files if source_suffix(path) in SUPPORTED_SUFFIXES], [
        path for path in files if source_suffix(path) not in SUPPORTED_SUFFIXES
    ]


def source_suffix(path: Path) -> str:
    """The file type of `path`, lower-case: `.jsonl.gz` for a compressed JSONL file (`Path.suffix` would say `.gz`),
    else the last suffix."""
    name = path.name.lower()
    return next((suffix for suffix in _DOUBLE_SUFFIXES if name.endswith(suffix) and len(name) > len(suffix)), path.suffix.lower())


def _walk(folder: Path, exclude: tuple[Path, ...]) -> list[Path]:
    excluded = [Path(e).resolve() for e in exclude]  # resolved: "corpus/../corpus/index", or a source given by a symlink
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and not any(path.resolve().is_relative_to(e) for e in excluded)
    )


def read_sources(sources: list[Path], exclude: tuple[Path, ...] = ()) -> tuple[list[Document], list[Path]]:
    """All documents of `sources` (less anything under `exclude`), and the files of other types left out of its
    folders; a bad file or line raises SourceError naming it."""
    documents: list[Document] = []
    left_out: list[Path] = []
    seen: dict[str, str] = {}
    for source in sources:
        readable, unsupported = find_source_files(Path(source), exclude)
        left_out += unsupported
        for path, root in readable:
            for document in _read_file(path, root):
                if document.doc_id in seen:
                    raise SourceError(document.source, f"duplicate document id {document.doc_id!r} (first seen in {seen[document.doc_id]})")
                seen[document.doc_id] = document.source
                documents.append(document)
    if not documents:
        raise SourceError(", ".join(str(s) for s in sources), f"no documents found (supported files: {', '.join(SUPPORTED_SUFFIXES)})")
    return documents, left_out


def read_documents(sources: list[Path]) -> list[Document]:
    """All documents of `sources`; a bad file or line raises SourceError naming it."""
    return read_sources(sources)[0]


def _read_text(path: Path) -> str:
    """The UTF-8 text of `path`, decompressed first when it is a `.gz` file; line ends read as "\\n" either way."""
    compressed = path.name.lower().endswith(".gz")
    try:
        if not compressed:
            return path.read_text(encoding="utf-8")
        # What read_text's universal newlines do to a plain file, so both read alike.
        return _gunzip(path).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as error:
        where = " of the decompressed text" if compressed else ""
        raise SourceError(str(path), f"not valid UTF-8 at byte {error.start}{where}") from error
    except OSError as error:
        raise SourceError(str(path), f"cannot read file: {error.strerror or error}") from error


def _gunzip(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as stream:
            return stream.read()
    except gzip.BadGzipFile as error:  # not gzip at all, or a failed CRC or length check
        raise SourceError(str(path), f"not a valid gzip file ({error})") from error
    except EOFError as error:
        raise SourceError(str(path), "truncated gzip file (it ends before the end of its compressed data)") from error
    except zlib.error as error:
        raise SourceError(str(path), f"corrupt gzip data ({error})") from error


def _read_file(path: Path, root: Path) -> Iterator[Document]:
    suffix = source_suffix(path)
    if suffix in (".jsonl", ".jsonl.gz"):
        yield from _read_jsonl(path)
        return
    raw = _read_text(path)
    doc_id = path.relative_to(root).as_posix()
    if suffix in (".html", ".htm"):
        text, title = html_to_text(raw)
    else:
        text, title = raw, _first_heading(raw) if suffix == ".md" else None
    if not text.strip():
        raise SourceError(str(path), "document has no text")
    yield Document(doc_id=doc_id, text=text, title=title or path.stem, source=str(path))


def _read_jsonl(path: Path) -> Iterator[Document]:
    # JSON strings may hold U+2028 and friends unescaped: split on newlines only.
    for number, line in enumerate(_read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise SourceError(str(path), f"invalid JSON: {error.msg} (column {error.colno})", line=number) from error
        if not isinstance(row, dict):
            raise SourceError(str(path), "expected a JSON object", line=number)
        doc_id = row.get("id")
        if isinstance(doc_id, bool) or not isinstance(doc_id, str | int | float) or (isinstance(doc_id, str) and not doc_id.strip()):
            raise SourceError(str(path), 'missing or invalid "id" (a non-empty string or a number)', line=number)
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            raise SourceError(str(path), 'missing or empty "text" (a non-empty string)', line=number)
        for key in ("title", "url", "date"):
            if row.get(key) is not None and not isinstance(row[key], str):
                raise SourceError(str(path), f'"{key}" must be a string', line=number)
        yield Document(
            doc_id=_id_string(doc_id),
            text=text,
            title=row.get("title"),
            url=row.get("url"),
            date=row.get("date"),
            metadata={k: v for k, v in row.items() if k not in _KNOWN_JSONL_FIELDS},
            source=where,
        )


def _id_string(doc_id: str | int | float) -> str:
    """A document id as a string: numbers as their decimal form (12, 1.5)."""
    if isinstance(doc_id, float):
        return str(int(doc_id)) if doc_id.is_integer() else format(doc_id, "f").rstrip("0")
    return str(doc_id)


def _first_heading(markdown: str) -> str | None:
    match = re.search(r"^#{1,6}\s*(\S.*?)\s*#*\s*$", markdown, flags=re.MULTILINE)
    return match.group(1) if match else None


_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "hr",
    "dd",
    "dt",
    "title",
}
_SKIPPED_TAGS = {"script", "style", "noscript", "template", "head"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        elif tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag in _SKIPPED_TAGS and self._skip_depth:
            self._skip_depth -= 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if self._in_title:
            self.title.append(data)
        elif not self._skip_depth:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str | None]:
    """Visible text of an HTML page (blocks separated by blank lines) and its <title>."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    text = "".join(extractor.parts)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    title = " ".join("".join(extractor.title).split()) or None
    return text, title
