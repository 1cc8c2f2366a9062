"""Reading reference documents: JSONL rows, text/Markdown/HTML files, and the errors that name file and line (PDF and
Word files, and web pages in depth: test_documents.py)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from service.errors import SourceError
from service.index.sources import find_source_files, read_documents, read_sources


def _write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _row(**fields) -> str:
    return json.dumps(fields, ensure_ascii=False)


# --- JSONL -------------------------------------------------------------------------------------


def test_jsonl_fields_ids_and_metadata(tmp_path):
    source = _write_jsonl(
        tmp_path / "docs.jsonl",
        [
            _row(
                id="treaty-1",
                text="The Parties agree to consult together.",
                title="A treaty",
                url="https://example.org/t",
                date="1949-04-04",
                lang="en",
                tags=["defence", "nato"],
                extra={"pages": 3},
            ),
            _row(id=42, text="A document whose id is a number."),
            _row(id=12345678901234567890, text="A very large numeric id."),
        ],
    )

    documents = read_documents([source])

    assert [d.doc_id for d in documents] == ["treaty-1", "42", "12345678901234567890"]
    assert all(isinstance(d.doc_id, str) for d in documents)
    first, second, _ = documents
    assert first.text == "The Parties agree to consult together."
    assert (first.title, first.url, first.date) == ("A treaty", "https://example.org/t", "1949-04-04")
    assert first.metadata == {"lang": "en", "tags": ["defence", "nato"], "extra": {"pages": 3}}
    assert second.text == "A document whose id is a number."
    assert (second.title, second.url, second.date) == (None, None, None)
    assert second.metadata == {}


def test_jsonl_text_is_kept_verbatim(tmp_path):
    text = "  Leading spaces, a tab\tand\nan embedded newline, unicode: é ∑ 漢字.  "
    source = _write_jsonl(tmp_path / "verbatim.jsonl", [_row(id="v", text=text)])

    (document,) = read_documents([source])

    assert document.text == text


def test_jsonl_blank_lines_are_skipped(tmp_path):
    source = _write_jsonl(
        tmp_path / "gaps.jsonl",
        ["", _row(id="a", text="First."), "   ", "\t", _row(id="b", text="Second."), ""],
    )

    documents = read_documents([source])

    assert [(d.doc_id, d.text) for d in documents] == [("a", "First."), ("b", "Second.")]


@pytest.mark.parametrize(
    "bad_line",
    [
        pytest.param('{"id": "x", "text": "unterminated', id="malformed-json"),
        pytest.param("[1, 2, 3]", id="array-not-object"),
        pytest.param('"just a string"', id="string-not-object"),
        pytest.param(_row(text="No id at all."), id="missing-id"),
        pytest.param(_row(id="", text="Empty id."), id="empty-id"),
        pytest.param(_row(id=True, text="Boolean id."), id="boolean-id"),
        pytest.param(_row(id="x", text="   \n\t "), id="blank-text"),
        pytest.param(_row(id="x"), id="missing-text"),
        pytest.param(_row(id="x", text=7), id="non-string-text"),
        pytest.param(_row(id="x", text="Fine text.", title=5), id="non-string-title"),
        pytest.param(_row(id="x", text="Fine text.", url=["a"]), id="non-string-url"),
    ],
)
def test_jsonl_bad_line_names_file_and_line(tmp_path, bad_line):
    # Line 1 is good, line 2 is blank (skipped but counted), line 3 is bad, line 4 is good.
    source = _write_jsonl(tmp_path / "bad.jsonl", [_row(id="ok-1", text="Fine."), "", bad_line, _row(id="ok-2", text="Fine.")])

    with pytest.raises(SourceError) as caught:
        read_documents([source])

    assert f"{source}:3" in str(caught.value)
    assert caught.value.line == 3
    assert caught.value.path == str(source)


def test_jsonl_line_numbers_count_leading_blank_lines(tmp_path):
    source = _write_jsonl(tmp_path / "late.jsonl", ["", "", "", "", "{not json"])

    with pytest.raises(SourceError) as caught:
        read_documents([source])

    assert "late.jsonl:5" in str(caught.value)
    assert "late.jsonl:4" not in str(caught.value)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_jsonl_unicode_line_separators_inside_strings(tmp_path, separator):
    source = _write_jsonl(tmp_path / "seps.jsonl", [_row(id="a", text=f"before{separator}after"), _row(id="b", text="Second row.")])

    documents = read_documents([source])

    assert [(d.doc_id, d.text) for d in documents] == [("a", f"before{separator}after"), ("b", "Second row.")]


def test_duplicate_ids_in_one_jsonl_file(tmp_path):
    source = _write_jsonl(
        tmp_path / "dups.jsonl", [_row(id="same", text="One."), _row(id="other", text="Two."), _row(id="same", text="Three.")]
    )

    with pytest.raises(SourceError) as caught:
        read_documents([source])

    message = str(caught.value)
    assert "same" in message
    assert f"{source}:3" in message


def test_duplicate_ids_across_number_and_string(tmp_path):
    # 7 and "7" are the same document id once the number becomes its decimal string.
    source = _write_jsonl(tmp_path / "numbers.jsonl", [_row(id=7, text="Number."), _row(id="7", text="String.")])

    with pytest.raises(SourceError, match="numbers.jsonl:2"):
        read_documents([source])


def test_duplicate_ids_across_sources(tmp_path):
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "notes.md").write_text(f"# Notes\n\nNotes of the {name} folder.\n", encoding="utf-8")

    with pytest.raises(SourceError, match="notes.md"):
        read_documents([tmp_path / "first", tmp_path / "second"])


# --- gzip-compressed JSONL (.jsonl.gz) -------------------------------------------------------------

GZ_LINES = [
    _row(
        id="treaty-1", text="The Parties agree to consult together.", title="A treaty", url="https://e.org/t", date="1949-04-04", lang="en"
    ),
    "",
    _row(id=42, text="A document whose id is a number, unicode: é ∑ 漢字 and a\u2028separator."),
    _row(id="tail", text="Last row, no metadata."),
]


def _write_gz(path: Path, lines: list[str]) -> Path:
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=9))
    return path


def _as_tuples(documents) -> list[tuple]:
    return [(d.doc_id, d.text, d.title, d.url, d.date, d.metadata, d.content_hash, d.source.rsplit(":", 1)[1]) for d in documents]


def test_jsonl_gz_reads_like_the_plain_file(tmp_path):
    plain = _write_jsonl(tmp_path / "docs.jsonl", GZ_LINES)
    packed = _write_gz(tmp_path / "docs.jsonl.gz", GZ_LINES)

    from_plain, from_gz = read_documents([plain]), read_documents([packed])

    assert [d.doc_id for d in from_gz] == ["treaty-1", "42", "tail"]
    assert _as_tuples(from_gz) == _as_tuples(from_plain)  # ids, text, fields, metadata, hashes and line numbers
    assert from_gz[0].metadata == {"lang": "en"}
    assert [d.source for d in from_gz] == [f"{packed}:1", f"{packed}:3", f"{packed}:4"]


def test_jsonl_gz_crlf_line_ends_read_like_a_plain_file(tmp_path):
    rows = [_row(id="a", text="First."), _row(id="b", text="Second.")]
    plain = tmp_path / "crlf.jsonl"
    plain.write_bytes(("\r\n".join(rows) + "\r\n").encode("utf-8"))
    packed = tmp_path / "crlf.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))

    assert _as_tuples(read_documents([packed])) == _as_tuples(read_documents([plain]))


@pytest.mark.parametrize("name", ["docs.jsonl.gz", "DOCS.JSONL.GZ", "docs.JSONL.gz"])
def test_jsonl_gz_is_found_in_a_folder_and_given_alone(tmp_path, name):
    root = tmp_path / "corpus"
    (root / "extra").mkdir(parents=True)
    packed = _write_gz(root / "extra" / name, GZ_LINES)
    (root / "notes.md").write_text("# Notes\n\nA note.\n", encoding="utf-8")
    (root / "archive.tar.gz").write_bytes(gzip.compress(b"not a source"))
    (root / "rows.txt.gz").write_bytes(gzip.compress(b"compressed text is not read"))

    documents, left_out, _ = read_sources([root])

    assert sorted(d.doc_id for d in documents) == ["42", "notes.md", "tail", "treaty-1"]
    assert sorted(p.name for p in left_out) == ["archive.tar.gz", "rows.txt.gz"]
    assert [d.doc_id for d in read_documents([packed])] == ["treaty-1", "42", "tail"]
    assert find_source_files(packed) == ([(packed, packed.parent)], [])


def test_jsonl_gz_and_plain_copy_side_by_side_are_duplicate_ids(tmp_path):
    _write_jsonl(tmp_path / "docs.jsonl", GZ_LINES)
    _write_gz(tmp_path / "docs.jsonl.gz", GZ_LINES)

    with pytest.raises(SourceError, match="duplicate document id 'treaty-1'"):
        read_documents([tmp_path])


@pytest.mark.parametrize(
    "bad_line",
    [
        pytest.param('{"id": "x", "text": "unterminated', id="malformed-json"),
        pytest.param(_row(text="No id at all."), id="missing-id"),
        pytest.param(_row(id="x", text="   "), id="blank-text"),
    ],
)
def test_jsonl_gz_bad_line_names_file_and_line(tmp_path, bad_line):
    source = _write_gz(tmp_path / "bad.jsonl.gz", [_row(id="ok-1", text="Fine."), "", bad_line, _row(id="ok-2", text="Fine.")])

    with pytest.raises(SourceError) as caught:
        read_documents([source])

    assert f"{source}:3" in str(caught.value)
    assert (caught.value.path, caught.value.line) == (str(source), 3)


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _flipped_crc(data: bytes) -> bytes:
    return data[:-8] + bytes([data[-8] ^ 0xFF]) + data[-7:]


def _garbled_deflate(data: bytes) -> bytes:
    return data[:10] + b"\xff" * 16 + data[26:]


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        pytest.param(_truncated, "truncated gzip file", id="truncated"),
        pytest.param(lambda data: data[:5], "truncated gzip file", id="header-only"),
        pytest.param(_flipped_crc, "not a valid gzip file", id="bad-crc"),
        pytest.param(_garbled_deflate, "corrupt gzip data", id="garbled-data"),
        pytest.param(lambda data: b'{"id": "plain", "text": "Not compressed at all."}\n', "not a valid gzip file", id="not-gzip"),
        pytest.param(lambda data: b"", "no documents found", id="empty-file"),
    ],
)
def test_broken_jsonl_gz_is_a_source_error_naming_the_file(tmp_path, damage, expected):
    lines = [_row(id=f"row-{i}", text=f"Row number {i} of a longer file, with some words to compress.") for i in range(200)]
    path = tmp_path / "broken.jsonl.gz"
    path.write_bytes(damage(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"))))

    with pytest.raises(SourceError) as caught:
        read_documents([path])

    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_jsonl_gz_with_invalid_utf8_names_the_file(tmp_path):
    path = tmp_path / "latin1.jsonl.gz"
    path.write_bytes(gzip.compress('{"id": "a", "text": "Caf\u00e9"}\n'.encode("latin-1")))

    with pytest.raises(SourceError, match="not valid UTF-8") as caught:
        read_documents([path])

    assert str(path) in str(caught.value)


# --- .txt, .md, .html ----------------------------------------------------------------------------


def test_file_ids_are_paths_relative_to_the_source_folder(tmp_path):
    root = tmp_path / "corpus"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "top.txt").write_text("A text file at the top.\n", encoding="utf-8")
    (root / "sub" / "middle.md").write_text("# Middle\n\nA Markdown file one level down.\n", encoding="utf-8")
    (root / "sub" / "deeper" / "bottom.html").write_text("<p>An HTML file two levels down.</p>", encoding="utf-8")
    _write_jsonl(root / "sub" / "rows.jsonl", [_row(id="row-1", text="A JSONL row in a subfolder.")])

    documents = {d.doc_id: d for d in read_documents([root])}

    assert set(documents) == {"top.txt", "sub/middle.md", "sub/deeper/bottom.html", "row-1"}
    assert documents["top.txt"].text == "A text file at the top.\n"
    assert documents["sub/middle.md"].text == "# Middle\n\nA Markdown file one level down.\n"
    assert documents["sub/deeper/bottom.html"].text == "An HTML file two levels down."
    assert documents["row-1"].text == "A JSONL row in a subfolder."


def test_file_id_is_the_file_name_when_the_source_is_the_file(tmp_path):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    path = nested / "single.md"
    path.write_text("# Single\n\nOne document.\n", encoding="utf-8")

    (document,) = read_documents([path])

    assert document.doc_id == "single.md"


def test_markdown_title_is_its_first_heading(tmp_path):
    path = tmp_path / "charter.md"
    path.write_text(
        "Some preamble text without a heading mark.\n\n## Charter of the   Peoples ##\n\nBody.\n\n# Later Heading\n\nMore.\n",
        encoding="utf-8",
    )

    (document,) = read_documents([path])

    assert document.title == "Charter of the   Peoples"
    assert document.text == path.read_text(encoding="utf-8")


def test_shipped_documents_titles():
    documents = {d.doc_id: d for d in read_documents([Path(__file__).resolve().parents[2] / "index" / "sources"])}

    assert documents["north_atlantic_treaty_1949_en.md"].title == "North Atlantic Treaty"
    assert documents["un_charter_en.md"].title == "Charter of the United Nations"


HTML_PAGE = """<!DOCTYPE html>
<html>
<head>
  <title>  Tidal   Forces  </title>
  <style>body { color: red; } .secret-style { display: none; }</style>
  <script>var secretScript = "do not index me";</script>
</head>
<body>
  <h1>Why the sea rises</h1>
  <p>Tides are caused by the <b>gravitational pull</b> of the Moon &amp; the Sun.</p>
  <script type="text/javascript">console.log("another hidden script");</script>
  <div>Spring tides happen at new and full moon.<br>Neap tides happen at the quarters.</div>
  <ul><li>High water.</li><li>Low water.</li></ul>
  <noscript>Please enable JavaScript.</noscript>
</body>
</html>
"""


def test_html_text_is_the_visible_text(tmp_path):
    path = tmp_path / "tides.html"
    path.write_text(HTML_PAGE, encoding="utf-8")

    (document,) = read_documents([path])

    assert document.doc_id == "tides.html"
    assert document.title == "Why the sea rises"  # the page's one <h1> comes before its <title>
    text = document.text
    for visible in (
        "Why the sea rises",
        "Tides are caused by the gravitational pull of the Moon & the Sun.",
        "Spring tides happen at new and full moon.",
        "Neap tides happen at the quarters.",
    ):
        assert visible in text
    for hidden in ("secretScript", "secret-style", "color: red", "another hidden script", "Please enable JavaScript", "Tidal"):
        assert hidden not in text
    assert "<" not in text and ">" not in text and "&amp;" not in text
    # Blocks stay apart: a <br> or a new block never glues two sentences together.
    assert "moon.Neap" not in text and "Sun.Spring" not in text
    assert text == text.strip()


def test_html_without_head(tmp_path):
    path = tmp_path / "plain.html"
    path.write_text("<html><body><p>Only a <em>single</em> paragraph.</p></body></html>", encoding="utf-8")

    (document,) = read_documents([path])

    assert document.doc_id == "plain.html"
    assert document.text == "Only a single paragraph."


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["broken.txt", "broken.md", "broken.jsonl"])
def test_invalid_utf8_names_the_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"Valid start, then \xff\xfe invalid bytes.\n")

    with pytest.raises(SourceError) as caught:
        read_documents([tmp_path])

    assert str(path) in str(caught.value)


def test_invalid_utf8_in_a_folder_names_the_file(tmp_path):
    (tmp_path / "good.md").write_text("# Good\n\nFine.\n", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    bad = tmp_path / "sub" / "latin1.txt"
    bad.write_bytes("Caf\u00e9 in Latin-1.".encode("latin-1"))

    with pytest.raises(SourceError) as caught:
        read_documents([tmp_path])

    assert str(bad) in str(caught.value)


def test_missing_source_path(tmp_path):
    missing = tmp_path / "does-not-exist"

    with pytest.raises(SourceError) as caught:
        read_documents([missing])

    assert str(missing) in str(caught.value)


@pytest.mark.parametrize("name", ["report.odt", "table.csv", "README"])
def test_unsupported_file_given_explicitly(tmp_path, name):
    path = tmp_path / name
    path.write_text("Some text.\n", encoding="utf-8")

    with pytest.raises(SourceError) as caught:
        read_documents([path])

    assert str(path) in str(caught.value)


@pytest.mark.parametrize("content", ["", "   \n\n\t\n"])
def test_blank_text_file_is_refused(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(SourceError) as caught:
        read_documents([path])

    assert str(path) in str(caught.value)


def test_html_with_no_visible_text_is_left_out_and_named(tmp_path):
    path = tmp_path / "scripts-only.html"
    path.write_text("<html><head><title>T</title><script>x()</script></head><body> </body></html>", encoding="utf-8")
    (tmp_path / "note.txt").write_text("A note.\n", encoding="utf-8")

    documents, _, left_out = read_sources([tmp_path])

    assert [d.doc_id for d in documents] == ["note.txt"]
    assert [(u.path, u.reason) for u in left_out] == [(str(path), "only_boilerplate")]


def test_jsonl_fractional_number_ids_come_back_as_their_decimal_string(tmp_path):
    source = _write_jsonl(tmp_path / "numbers.jsonl", [_row(id=1.5, text="One and a half."), _row(id=12, text="Twelve.")])

    assert [d.doc_id for d in read_documents([source])] == ["1.5", "12"]
