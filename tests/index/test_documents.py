"""PDF, Word and web-page sources, made in the test: text, pages, sections and offsets; the files that cannot be
read are named and left out while the build goes on; a page number reaches the evidence, the API and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from document_files import Bookmark, docx_bytes, docx_xml_bytes, encrypted_pdf_bytes, pdf_bytes
from fakes import HashEmbedder, KeywordStance, SentenceSplitter

from service.errors import SourceError
from service.index.build import build_index
from service.index.passages import split_passages
from service.index.reference import PASSAGES_FILE, ReferenceIndex
from service.index.sources import read_documents, read_sources

REPORT_PAGES = [
    ["Alliance report 2024", "The alliance grew to thirty-two members in 2024.", "Finland joined the alliance in April 2023.", "1"],
    ["Enlargement", "Sweden joined the alliance in March 2024 after Hungary ratified the protocol.", "2"],
    ["Collective defence", "Article 5", "An armed attack against one member is an attack against them all.", "3"],
]
REPORT_OUTLINE = [
    Bookmark(
        "Alliance report 2024",
        1,
        [Bookmark("Enlargement", 2), Bookmark("Collective defence", 3, [Bookmark("Article 5", 3)]), Bookmark("Annex: budgets", 3)],
    )
]

NEWS_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Allies pledge air defence | Example News</title>
<link rel="canonical" href="https://news.example.org/2024/07/10/air-defence">
<meta property="og:title" content="Allies pledge new air defence for Ukraine">
<meta property="article:published_time" content="2024-07-10T09:30:00Z">
</head><body>
<div id="cookie-banner">We use cookies to improve your experience. Accept all cookies or manage your settings.</div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li></ul></nav></header>
<main><article>
<h1>Allies pledge new air defence for Ukraine</h1>
<p>Leaders meeting in Washington on Wednesday agreed to send five additional strategic air defence systems to Ukraine.</p>
<p>The systems include Patriot batteries from Germany, the Netherlands and Romania, and components promised by Italy.</p>
<h2>What the summit decided</h2>
<p>The declaration describes the path of Ukraine to membership as irreversible, but sets no date for an invitation.</p>
<h3>Funding</h3>
<p>Members pledged a baseline of at least 40 billion euros in military assistance within the next year.</p>
</article></main>
<aside><h3>Most read</h3><ul><li><a href="/a">Storm hits coast</a></li><li><a href="/b">Election results live</a></li></ul></aside>
<footer><p>Copyright 2024 Example News. All rights reserved.</p><p><a href="/privacy">Privacy policy</a></p></footer>
</body></html>
"""
BOILERPLATE_PAGE = """<html><head><title>Example News</title></head><body>
<div id="cookie-banner">We use cookies. Accept all cookies or manage settings.</div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav>
<footer><p>Copyright 2024 Example News. All rights reserved.</p><p><a href="/privacy">Privacy policy</a></p></footer>
</body></html>"""

MEMO = [
    ("Title", "Defence budget memo"),
    ("Normal", "This memo sets out the defence budget for the coming year."),
    ("Heading 1", "Spending"),
    ("Normal", "The ministry will spend 4 billion euros on equipment."),
    ("Heading 2", "Air defence"),
    ("Normal", "Two new radar systems will be bought in the spring."),
    ("Table", "Item | Cost\nRadar systems | 1.2 billion euros"),
    ("Heading 1", "Income"),
    ("Normal", "Taxes on fuel will rise by two cents a litre."),
]


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def _page_of(document, offset: int) -> int:
    return sum(1 for start in document.pages if start <= offset)


def _check_passages(document) -> list:
    passages = split_passages(document)
    assert passages
    for passage in passages:
        assert document.text[passage.start : passage.end] == passage.text
    return passages


# --- PDF --------------------------------------------------------------------------------------------------


def test_pdf_text_pages_and_bookmark_sections(tmp_path):
    path = _write(tmp_path / "report.pdf", pdf_bytes(REPORT_PAGES, REPORT_OUTLINE))

    (document,) = read_documents([path])

    assert document.doc_id == "report.pdf"
    assert document.title == "Alliance report 2024"  # no metadata title: the outline's one top-level bookmark
    assert len(document.pages) == 3 and document.pages[0] == 0
    for number, lines in enumerate(REPORT_PAGES, start=1):
        for line in lines[:-1]:  # the last line, the page number, is dropped
            offset = document.text.index(line)
            assert _page_of(document, offset) == number, line
        assert f"\n{lines[-1]}\n" not in f"\n{document.text}\n"
    passages = _check_passages(document)
    by_text = {p.text.split("\n")[-1]: p for p in passages}
    sweden = by_text["Sweden joined the alliance in March 2024 after Hungary ratified the protocol."]
    assert (sweden.page, sweden.section) == (2, "Enlargement")
    attack = by_text["An armed attack against one member is an attack against them all."]
    assert (attack.page, attack.section) == (3, "Collective defence / Article 5")
    assert attack.text.startswith("Collective defence\n\nArticle 5\n\n")  # heading lines stay with their passage, set apart
    first = passages[0]
    assert (first.page, first.section) == (1, "Alliance report 2024")
    for passage in passages:  # a passage never runs across a page break
        assert _page_of(document, passage.start) == _page_of(document, passage.end - 1) == passage.page


def test_pdf_passages_break_at_pages_even_inside_a_section(tmp_path):
    topics = iter(["fishing", "ports", "roads", "schools", "water", "rail", "taxes", "parks", "housing", "power", "waste", "health"])
    pages = [[f"On page {page} the council discussed {next(topics)} at length." for _ in range(4)] for page in (1, 2, 3)]
    pages[0].insert(0, "Minutes of the council")
    pages[1].append("Annex")  # a heading at the foot of page 2, its text on page 3
    outline = [Bookmark("Minutes of the council", 1), Bookmark("Annex", 2)]
    path = _write(tmp_path / "minutes.pdf", pdf_bytes(pages, outline))

    (document,) = read_documents([path])
    passages = _check_passages(document)

    assert [(p.page, p.section) for p in passages] == [(1, "Minutes of the council"), (2, "Minutes of the council"), (3, "Annex")]
    assert passages[0].text.startswith("Minutes of the council\n\nOn page 1 the council discussed fishing")
    assert passages[2].text.startswith("On page 3 the council discussed housing")  # the heading's line stays on page 2
    assert "Annex" not in "".join(p.text for p in passages)
    for passage, page in zip(passages, (1, 2, 3), strict=True):
        assert all(f"page {other}" not in passage.text for other in {1, 2, 3} - {page})


def test_pdf_without_outline_has_pages_and_no_sections(tmp_path):
    path = _write(tmp_path / "plain.pdf", pdf_bytes([["First page text here."], ["Second page text here."]]))

    (document,) = read_documents([path])
    passages = _check_passages(document)

    assert document.title == "plain"
    assert [(p.page, p.section, p.text) for p in passages] == [(1, None, "First page text here."), (2, None, "Second page text here.")]


def test_pdf_running_headers_and_page_numbers_are_dropped(tmp_path):
    pages = [
        ["Ministry of Defence - Annual Report", f"Paragraph on page {n} about the {word} programme.", f"Page {n} of 4"]
        for n, word in enumerate(("radar", "frigate", "training", "housing"), start=1)
    ]
    path = _write(tmp_path / "annual.pdf", pdf_bytes(pages))

    (document,) = read_documents([path])

    assert "Annual Report" not in document.text and "of 4" not in document.text
    assert document.text.split("\n\n") == [
        f"Paragraph on page {n} about the {w} programme." for n, w in enumerate(("radar", "frigate", "training", "housing"), 1)
    ]


def test_a_bookmark_not_found_on_its_page_opens_its_section_there(tmp_path):
    path = _write(tmp_path / "report.pdf", pdf_bytes(REPORT_PAGES, REPORT_OUTLINE))

    (document,) = read_documents([path])

    (annex,) = [h for h in document.headings if h.section == "Annex: budgets"]
    assert annex.start == annex.end == len(document.text)  # after the last line of page 3, where the search stood
    assert "Annex" not in document.text


def test_lines_that_only_look_like_running_lines_are_kept(tmp_path):
    """A total row at the foot of every page, an article heading at the top of every page, and a bare figure or a
    fraction at a page's edge are text: only the numbers that follow the pages (here 1 to 4) are page numbers."""
    budget = [
        ["Spending of region North", "Schools 120", "Total 560", "1"],
        ["Spending of region South", "Schools 210", "Total 670", "2"],
        ["Spending of region East", "Schools 95", "Total 515", "3"],
        ["Turnout in the last two elections:", "2019", "3/4", "4"],
    ]
    treaty = [
        ["Article 1", "The parties undertake to settle disputes by peaceful means.", "Article 2", "They will consult together."],
        ["Article 4", "The parties will consult together whenever one of them is threatened."],
        ["Article 7", "This treaty does not affect the rights of the parties under the Charter."],
    ]
    _write(tmp_path / "budget.pdf", pdf_bytes(budget))
    _write(tmp_path / "treaty.pdf", pdf_bytes(treaty))

    texts = {document.doc_id: document.text for document in read_documents([tmp_path])}

    assert texts["budget.pdf"].split("\n\n") == ["\n".join(lines[:-1]) for lines in budget]
    assert texts["treaty.pdf"].split("\n\n") == ["\n".join(lines) for lines in treaty]


def test_a_pdf_with_nothing_but_running_lines_is_left_out(tmp_path):
    """A scanned court filing whose pages a PDF tool stamped with a header and a page number has no text of its own."""
    stamp = "Case 1:23-cv-04101 Document 12 Filed 03/04/24"
    pages = [[stamp, f"Page {n} of 3"] for n in (1, 2, 3)]
    _write(tmp_path / "good.pdf", pdf_bytes([["A readable page about the treaty."]]))
    bad = _write(tmp_path / "filing.pdf", pdf_bytes(pages))

    documents, _, left_out = read_sources([tmp_path])

    assert [d.doc_id for d in documents] == ["good.pdf"]
    assert [(u.path, u.reason) for u in left_out] == [(str(bad), "no_text_layer")]
    assert "running headers and page numbers" in left_out[0].message


def test_pdf_encrypted_without_a_user_password_is_read(tmp_path):
    path = _write(tmp_path / "permissions.pdf", encrypted_pdf_bytes(pdf_bytes(REPORT_PAGES), user_password=""))

    (document,) = read_documents([path])

    assert "Sweden joined the alliance in March 2024" in document.text
    assert len(document.pages) == 3


@pytest.mark.parametrize(
    ("name", "make", "reason", "message"),
    [
        ("scan.pdf", lambda: pdf_bytes([["x"], ["y"]], image_only=True), "no_text_layer", "no text layer in its 2 page(s)"),
        ("secret.pdf", lambda: encrypted_pdf_bytes(pdf_bytes(REPORT_PAGES), user_password="secret"), "encrypted", "password"),
        ("cut.pdf", lambda: pdf_bytes(REPORT_PAGES)[:400], "broken", "broken or not a PDF"),
        ("garbage.pdf", lambda: b"%PDF-1.7\nthis is not a PDF body at all", "broken", "broken or not a PDF"),
        ("empty.pdf", lambda: b"", "broken", "broken or not a PDF"),
    ],
    ids=["scanned", "encrypted", "truncated", "garbage", "empty"],
)
def test_a_pdf_that_cannot_be_read_is_left_out_and_named(tmp_path, name, make, reason, message):
    _write(tmp_path / "sources" / "good.pdf", pdf_bytes([["A readable page about the treaty."]]))
    bad = _write(tmp_path / "sources" / name, make())

    documents, unsupported, left_out = read_sources([tmp_path / "sources"])

    assert [d.doc_id for d in documents] == ["good.pdf"]
    assert unsupported == []
    assert [(u.path, u.reason) for u in left_out] == [(str(bad), reason)]
    assert message in left_out[0].message


def test_a_source_of_only_unreadable_files_fails_naming_them(tmp_path):
    scan = _write(tmp_path / "scan.pdf", pdf_bytes([["x"]], image_only=True))

    with pytest.raises(SourceError) as caught:
        read_documents([tmp_path])

    assert "no documents found" in str(caught.value) and str(scan) in str(caught.value) and "no text layer" in str(caught.value)


@pytest.mark.parametrize(("name", "module"), [("a.pdf", "pypdf"), ("a.docx", "docx"), ("a.html", "trafilatura")])
def test_without_the_documents_extra_a_build_from_such_a_file_says_which_extra(tmp_path, monkeypatch, name, module):
    path = _write(tmp_path / name, b"anything")
    (tmp_path / "notes.md").write_text("# Notes\n\nThe tide turns twice a day.\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, module, None)  # what an environment without the package gives: ImportError

    with pytest.raises(SourceError) as caught:  # the file alone: nothing to build, and why
        read_documents([path])
    assert str(path) in str(caught.value)
    assert "pip install 'claimcheck[documents]'" in str(caught.value)

    documents, _, left_out = read_sources([tmp_path])  # in a folder: left out, the folder's other documents read
    assert [d.doc_id for d in documents] == ["notes.md"]
    assert [(entry.path, entry.reason) for entry in left_out] == [(str(path), "needs_extra")]
    assert "pip install 'claimcheck[documents]'" in left_out[0].message


def test_the_service_and_the_build_import_without_the_documents_extra():
    """A clone installed without the extra still serves: nothing but reading such a source imports its libraries."""
    blocked = ("pypdf", "docx", "trafilatura")
    code = f"import sys\nsys.modules.update(dict.fromkeys({blocked!r}))\nimport service.app, service.cli, service.index.build\n"

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])

    assert done.returncode == 0, done.stderr


# --- web pages --------------------------------------------------------------------------------------------


def test_web_page_keeps_its_main_text_and_metadata(tmp_path):
    _write(tmp_path / "news" / "air-defence.html", NEWS_PAGE)

    (document,) = read_documents([tmp_path / "news"])

    assert document.doc_id == "air-defence.html"
    assert document.title == "Allies pledge new air defence for Ukraine"  # og:title, not the <title> with the site name
    assert document.url == "https://news.example.org/2024/07/10/air-defence"
    assert document.date == "2024-07-10"
    assert document.pages is None
    for kept in ("agreed to send five additional strategic air defence systems", "40 billion euros", "What the summit decided"):
        assert kept in document.text
    for dropped in ("cookies", "Home", "Sport", "Storm hits coast", "Most read", "Copyright", "Privacy"):
        assert dropped not in document.text
    passages = _check_passages(document)
    sections = {p.text.split("\n")[-1]: p.section for p in passages}
    assert sections["Members pledged a baseline of at least 40 billion euros in military assistance within the next year."] == (
        "What the summit decided / Funding"
    )
    assert passages[0].section == "Allies pledge new air defence for Ukraine"  # the title heading, no part of paths below
    assert all(p.page is None for p in passages)


def test_web_page_without_metadata_has_no_url_or_date(tmp_path):
    path = _write(
        tmp_path / "note.htm", "<html><body><article><p>The council met on Tuesday and agreed a budget.</p></article></body></html>"
    )

    (document,) = read_documents([path])

    assert (document.title, document.url, document.date) == ("note", None, None)
    assert document.text == "The council met on Tuesday and agreed a budget."


def test_an_all_boilerplate_page_is_left_out_and_named(tmp_path):
    _write(tmp_path / "article.html", NEWS_PAGE)
    bad = _write(tmp_path / "home.html", BOILERPLATE_PAGE)

    documents, _, left_out = read_sources([tmp_path])

    assert [d.doc_id for d in documents] == ["article.html"]
    assert [(u.path, u.reason) for u in left_out] == [(str(bad), "only_boilerplate")]
    assert "no main text" in left_out[0].message


@pytest.mark.parametrize("content", [b"", b" \n\t\n"])
def test_an_empty_web_page_is_left_out_as_empty(tmp_path, content):
    _write(tmp_path / "article.html", NEWS_PAGE)
    bad = _write(tmp_path / "saved.html", content)

    _, _, left_out = read_sources([tmp_path])

    assert [(u.path, u.reason, u.message) for u in left_out] == [(str(bad), "no_text", "the file is empty")]


def test_web_page_in_its_declared_charset(tmp_path):
    page = '<html><head><meta charset="windows-1252"></head><body><p>The café in Zürich closed in 1999 — for good.</p></body></html>'
    path = _write(tmp_path / "cafe.html", page.encode("windows-1252"))

    (document,) = read_documents([path])

    assert document.text == "The café in Zürich closed in 1999 — for good."


@pytest.mark.parametrize("label", ["iso-8859-1", "ISO_8859-1", "latin1", "us-ascii"])
def test_web_page_labelled_latin_1_or_ascii_is_read_as_windows_1252_as_browsers_do(tmp_path, label):
    """Old pages declare iso-8859-1 and use Windows quotes and dashes (bytes 0x80-0x9f): a browser shows them, so
    the text has them, not C1 control characters."""
    page = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={label}"></head><body><article><p>'
    quote = "The minister said \u201cwe will not raise taxes\u201d \u2014 a promise broken in 2019, caf\u00e9 owners said."
    path = _write(tmp_path / "quote.html", (page + quote + "</p></article></body></html>").encode("cp1252"))

    (document,) = read_documents([path])

    assert document.text == quote


def test_web_page_declaring_an_unknown_charset_is_named_for_it(tmp_path):
    _write(tmp_path / "good.html", NEWS_PAGE)
    bad = _write(
        tmp_path / "odd.html",
        '<html><head><meta charset="x-klingon"></head><body><p>Caf\u00e9 at noon.</p></body></html>'.encode("latin-1"),
    )

    _, _, left_out = read_sources([tmp_path])

    assert [(u.path, u.reason) for u in left_out] == [(str(bad), "broken")]
    assert "declares an unknown charset 'x-klingon'" in left_out[0].message


def test_web_page_not_utf8_and_declaring_no_charset_is_left_out(tmp_path):
    _write(tmp_path / "good.html", NEWS_PAGE)
    bad = _write(tmp_path / "latin.html", "<html><body><p>Caf\u00e9 society met at noon.</p></body></html>".encode("latin-1"))

    _, _, left_out = read_sources([tmp_path])

    assert [(u.path, u.reason) for u in left_out] == [(str(bad), "broken")]
    assert "not valid UTF-8 at byte" in left_out[0].message


# --- Word -------------------------------------------------------------------------------------------------


def test_word_paragraphs_in_order_with_headings_as_sections(tmp_path):
    path = _write(tmp_path / "memo.docx", docx_bytes(MEMO))

    (document,) = read_documents([path])

    assert document.title == "Defence budget memo"  # its Title paragraph
    assert document.text.split("\n\n") == [
        "Defence budget memo",
        "This memo sets out the defence budget for the coming year.",
        "Spending",
        "The ministry will spend 4 billion euros on equipment.",
        "Air defence",
        "Two new radar systems will be bought in the spring.",
        "Item | Cost",
        "Radar systems | 1.2 billion euros",
        "Income",
        "Taxes on fuel will rise by two cents a litre.",
    ]
    passages = _check_passages(document)
    assert [(p.section, p.text.split("\n\n")[0]) for p in passages] == [
        ("Defence budget memo", "Defence budget memo"),
        ("Spending", "Spending"),
        ("Spending / Air defence", "Air defence"),
        ("Income", "Income"),
    ]
    assert "Radar systems | 1.2 billion euros" in passages[2].text
    assert all(p.page is None for p in passages)


def test_word_title_from_its_properties(tmp_path):
    path = _write(tmp_path / "memo.docx", docx_bytes(MEMO[1:], title="Budget 2025"))

    (document,) = read_documents([path])

    assert document.title == "Budget 2025"
    assert document.headings[0].section == "Spending"


def test_word_text_as_its_reader_sees_it_through_tracked_changes_content_controls_and_fields(tmp_path):
    """A tracked insertion is read and a tracked deletion or a moved-away run is not (the text with its changes
    accepted); paragraphs in a content control, and runs in an inline one or a field, are read in their place."""
    revision = 'w:author="Editor" w:date="2024-05-02T10:00:00Z"'
    body = (
        '<w:p><w:r><w:t xml:space="preserve">The budget for 2025 is </w:t></w:r>'
        f'<w:del w:id="1" {revision}><w:r><w:delText>four</w:delText></w:r></w:del>'
        f'<w:ins w:id="2" {revision}><w:r><w:t>five</w:t></w:r></w:ins>'
        '<w:r><w:t xml:space="preserve"> billion euros.</w:t></w:r></w:p>'
        "<w:sdt><w:sdtContent>"
        '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>The order</w:t></w:r></w:p>'
        "<w:p><w:r><w:t>The minister signed the order on 3 May.</w:t></w:r></w:p>"
        "</w:sdtContent></w:sdt>"
        '<w:p><w:r><w:t xml:space="preserve">Signed in </w:t></w:r>'
        "<w:sdt><w:sdtContent><w:r><w:t>Brussels</w:t></w:r></w:sdtContent></w:sdt>"
        '<w:r><w:t xml:space="preserve"> by </w:t></w:r>'
        '<w:fldSimple w:instr=" AUTHOR "><w:r><w:t>Jane Doe</w:t></w:r></w:fldSimple>'
        f'<w:moveFrom w:id="3" {revision}><w:r><w:t xml:space="preserve"> in May</w:t></w:r></w:moveFrom>'
        "<w:r><w:t>.</w:t></w:r></w:p>"
    )
    path = _write(tmp_path / "order.docx", docx_xml_bytes(body))

    (document,) = read_documents([path])

    assert document.text.split("\n\n") == [
        "The budget for 2025 is five billion euros.",
        "The order",
        "The minister signed the order on 3 May.",
        "Signed in Brussels by Jane Doe.",
    ]
    assert [(p.section, p.text.split("\n\n")[-1]) for p in _check_passages(document)] == [
        (None, "The budget for 2025 is five billion euros."),
        ("The order", "Signed in Brussels by Jane Doe."),
    ]


@pytest.mark.parametrize(
    ("make", "reason", "message"),
    [
        (lambda: b"PK\x03\x04 not really a zip", "broken", "broken or not a Word file"),
        (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "encrypted", "password-protected"),
        (lambda: docx_bytes([("Heading 1", "Only a heading")]), "no_text", "no text"),
    ],
    ids=["broken", "encrypted", "headings-only"],
)
def test_a_word_file_that_cannot_be_read_is_left_out_and_named(tmp_path, make, reason, message):
    _write(tmp_path / "memo.docx", docx_bytes(MEMO))
    bad = _write(tmp_path / "bad.docx", make())

    documents, _, left_out = read_sources([tmp_path])

    assert [d.doc_id for d in documents] == ["memo.docx"]
    assert [(u.path, u.reason) for u in left_out] == [(str(bad), reason)]
    assert message in left_out[0].message


# --- the build, the evidence, the API and the CLI ----------------------------------------------------------


def _corpus(folder: Path) -> Path:
    _write(folder / "report.pdf", pdf_bytes(REPORT_PAGES, REPORT_OUTLINE))
    _write(folder / "memo.docx", docx_bytes(MEMO))
    _write(folder / "news.html", NEWS_PAGE)
    _write(folder / "scan.pdf", pdf_bytes([["x"]], image_only=True))
    _write(folder / "secret.pdf", encrypted_pdf_bytes(pdf_bytes(REPORT_PAGES), user_password="secret"))
    _write(folder / "home.html", BOILERPLATE_PAGE)
    _write(folder / "budget.csv", "year,amount\n")
    return folder


def test_build_counts_what_it_left_out_and_pages_survive_build_load_and_reuse(tmp_path):
    sources = _corpus(tmp_path / "sources")
    embedder = HashEmbedder()

    summary = build_index([sources], tmp_path / "index", embedder, show_progress=False)

    assert summary.documents == 3
    assert summary.left_out == {"unsupported_type": 1, "no_text_layer": 1, "encrypted": 1, "only_boilerplate": 1}
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["left_out"] == summary.left_out
    stored = [json.loads(line) for line in (tmp_path / "index" / PASSAGES_FILE).read_text(encoding="utf-8").splitlines()]
    assert {row["page"] for row in stored if row["doc_id"] == "report.pdf"} == {1, 2, 3}
    assert {row["page"] for row in stored if row["doc_id"] != "report.pdf"} == {None}
    loaded = ReferenceIndex.load(tmp_path / "index", embedder)
    expected = [(p.doc_id, p.start, p.section, p.page) for p in loaded.passages]
    assert ("report.pdf", stored[0]["start"], "Alliance report 2024", 1) in expected

    again = build_index([sources], tmp_path / "index", embedder, show_progress=False)

    assert again.embedded_passages == 0
    assert [(p.doc_id, p.start, p.section, p.page) for p in ReferenceIndex.load(tmp_path / "index", embedder).passages] == expected


def test_a_pdf_claim_gets_evidence_with_its_page_and_section_in_the_api_answer(tmp_path):
    from service.api.schemas import EvidenceOut
    from service.config import Settings
    from service.pipeline.pipeline import Pipeline

    sources = _corpus(tmp_path / "sources")
    embedder = HashEmbedder()
    build_index([sources], tmp_path / "index", embedder, show_progress=False)
    settings = Settings(index_dir=tmp_path / "index", stance_model_dir=tmp_path / "no-model")
    pipeline = Pipeline(settings, embedder=embedder, extractor=SentenceSplitter(), stance=KeywordStance())
    pipeline.warm_up()
    try:
        [result] = pipeline.verify(["Sweden joined the alliance in March 2024."], top_k=3).results
    finally:
        pipeline.close()

    best = result.evidence[0]
    assert (best.doc_id, best.stance, best.page, best.section) == ("report.pdf", "supports", 2, "Enlargement")
    answer = EvidenceOut.model_validate(best).model_dump(mode="json")
    assert (answer["page"], answer["section"]) == (2, "Enlargement")
    others = [e for e in result.evidence if e.doc_id != "report.pdf"]
    assert all(e.page is None for e in others)


def test_build_script_reports_each_file_left_out_and_why(tmp_path, monkeypatch, capsys):
    from service import cli
    from service.runtime import embedding

    sources = _corpus(tmp_path / "sources")
    monkeypatch.setattr(embedding, "Embedder", HashEmbedder)

    code = cli.build_index_main([str(sources), "--out", str(tmp_path / "index"), "--quiet"])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert "3 documents" in out
    assert "left out 1 file(s) of other types" in err and "budget.csv" in err
    assert "left out 3 file(s) that cannot be read (1 no text layer (scanned), 1 encrypted, 1 only boilerplate):" in err
    for name, why in (("scan.pdf", "no text layer"), ("secret.pdf", "password"), ("home.html", "no main text")):
        (line,) = [line for line in err.splitlines() if line.strip().startswith(str(sources / name))]
        assert why in line


def test_check_command_prints_the_page_of_pdf_evidence(tmp_path, monkeypatch, capsys):
    from service import cli, client
    from service.api.schemas import CheckResponse

    evidence = {
        "doc_id": "report.pdf",
        "title": "Alliance report 2024",
        "url": None,
        "text": "Enlargement\n\nSweden joined the alliance in March 2024 after Hungary ratified the protocol.",
        "start": 120,
        "end": 210,
        "section": "Enlargement",
        "page": 2,
        "retrieval_score": 0.8,
        "retrieval_rank": 1,
        "stance": "supports",
        "stance_probs": {"supports": 0.9, "refutes": 0.05, "neutral": 0.05},
    }
    claim = {
        "claim": "Sweden joined in March 2024.",
        "start": 0,
        "end": 28,
        "verdict": "supported",
        "confidence": 0.9,
        "evidence": [evidence],
    }
    answer = CheckResponse.model_validate({"claims": [claim], "index_build_id": "b", "seconds": 0.1})

    class FakeClient:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def check(self, text):
            return answer

    monkeypatch.setattr(client, "ClaimCheckClient", FakeClient)
    _write(tmp_path / "claim.txt", "Sweden joined in March 2024.")

    assert cli.main(["check", str(tmp_path / "claim.txt")]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "[SUPPORTED 0.90] Sweden joined in March 2024.",
        "    supports (Alliance report 2024, Enlargement, p. 2): Enlargement Sweden joined the alliance in March 2024 after Hungary"
        " ratified the protocol.",
    ]
