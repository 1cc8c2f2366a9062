"""Reading reference documents from `.jsonl` (also gzip-compressed, `.jsonl.gz`), `.txt`, `.md`, `.html`, `.pdf` and
`.docx` sources (the last three through `service.index.formats`)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from service.errors import SourceError
from service.index.formats import Extracted, Heading, Unreadable, read_docx, read_html, read_pdf

SUPPORTED_SUFFIXES = (".jsonl", ".jsonl.gz", ".txt", ".md", ".html", ".htm", ".pdf", ".docx")
_DOUBLE_SUFFIXES = tuple(s for s in SUPPORTED_SUFFIXES if s.count(".") > 1)
_KNOWN_JSONL_FIELDS = {"id", "text", "title", "url", "date"}
_READERS = {".pdf": read_pdf, ".docx": read_docx, ".html": read_html, ".htm": read_html}


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
    pages: list[int] | None = None  # where each page starts in `text` (PDF)
    headings: list[Heading] | None = None  # the headings of a PDF, web page or Word file; None: Markdown heading lines

    @property
    def content_hash(self) -> str:
        """SHA-256 over what the passages and their embeddings depend on: title and text, and pages and headings
        where the file has them."""
        material = f"{self.title or ''}\x00{self.text}"
        if self.pages is not None or self.headings is not None:
            material += "\x00" + json.dumps([self.pages, [[h.start, h.end, h.section] for h in self.headings or []]])
        return hashlib.sha256(material.encode()).hexdigest()


@dataclass
class LeftOut:
    """A file of a supported type that could not be read and was left out of the build."""

    path: str
    reason: str  # one of service.index.formats.REASONS
    message: str


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


def read_sources(sources: list[Path], exclude: tuple[Path, ...] = ()) -> tuple[list[Document], list[Path], list[LeftOut]]:
    """All documents of `sources` (less anything under `exclude`), the files of other types left out of its
    folders, and the PDF, Word and HTML files left out because they cannot be read (scanned, encrypted, broken,
    boilerplate only); any other bad file or line raises SourceError naming it."""
    documents: list[Document] = []
    left_out: list[Path] = []
    unreadable: list[LeftOut] = []
    seen: dict[str, str] = {}
    for source in sources:
        readable, unsupported = find_source_files(Path(source), exclude)
        left_out += unsupported
        for path, root in readable:
            try:
                read = list(_read_file(path, root))
            except Unreadable as error:
                unreadable.append(LeftOut(str(path), error.reason, error.message))
                continue
            for document in read:
                if document.doc_id in seen:
                    raise SourceError(document.source, f"duplicate document id {document.doc_id!r} (first seen in {seen[document.doc_id]})")
                seen[document.doc_id] = document.source
                documents.append(document)
    if not documents:
        why = f"; left out: {'; '.join(f'{u.path}: {u.message}' for u in unreadable)}" if unreadable else ""
        raise SourceError(", ".join(str(s) for s in sources), f"no documents found (supported files: {', '.join(SUPPORTED_SUFFIXES)}){why}")
    return documents, left_out, unreadable


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
    doc_id = path.relative_to(root).as_posix()
    if suffix in _READERS:
        extracted = _extract(path, _READERS[suffix])
        yield Document(
            doc_id=doc_id,
            text=extracted.text,
            title=extracted.title or path.stem,
            url=extracted.url,
            date=extracted.date,
            source=str(path),
            pages=extracted.pages,
            headings=extracted.headings,
        )
        return
    raw = _read_text(path)
    if not raw.strip():
        raise SourceError(str(path), "document has no text")
    yield Document(doc_id=doc_id, text=raw, title=(_first_heading(raw) if suffix == ".md" else None) or path.stem, source=str(path))


def _extract(path: Path, reader) -> Extracted:
    try:
        return reader(path)
    except OSError as error:
        raise SourceError(str(path), f"cannot read file: {error.strerror or error}") from error


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
