"""Small real PDF, Word and HTML files made inside the tests: no binary fixtures.

`pdf_bytes` is a tiny hand-written PDF writer (Helvetica text, one line per text line, an optional outline); the
encrypted copy is made by pypdf and the Word files by python-docx, the libraries the build reads them with.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field


@dataclass
class Bookmark:
    """An outline entry: `title` pointing at 1-based `page`, with its own children."""

    title: str
    page: int
    children: list[Bookmark] = field(default_factory=list)


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_bytes(pages: list[list[str]], outline: list[Bookmark] = (), image_only: bool = False) -> bytes:
    """A PDF whose page n shows the lines `pages[n]` top to bottom; with `image_only` each page is a grey picture
    and no text (what a scanner makes)."""
    objects: list[bytes] = []  # object n + 1

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def reserve() -> int:
        return add(b"")

    catalog, page_tree, font = (
        reserve(),
        reserve(),
        add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"),
    )
    page_ids = []
    for lines in pages:
        if image_only:
            pixels = bytes(range(64, 128))
            content = b"q 400 0 0 500 100 150 cm BI /W 8 /H 8 /CS /G /BPC 8 ID " + pixels + b" EI Q"
        else:
            shown = b" T* ".join(_pdf_string(line) + b" Tj" for line in lines)
            content = b"BT /F1 11 Tf 14 TL 72 740 Td " + shown + b" ET"
        stream = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R /Resources << /Font << /F1 %d 0 R >> >> >>"
                % (page_tree, stream, font)
            )
        )
    objects[page_tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % p for p in page_ids), len(page_ids))
    outline_root = reserve() if outline else None

    def add_items(items: list[Bookmark], parent: int) -> tuple[int, int, int]:
        ids = [reserve() for _ in items]
        total = len(items)
        for n, (item, own) in enumerate(zip(items, ids, strict=True)):
            entries = b"/Title %s /Parent %d 0 R /Dest [%d 0 R /XYZ 0 792 0]" % (_pdf_string(item.title), parent, page_ids[item.page - 1])
            if n:
                entries += b" /Prev %d 0 R" % ids[n - 1]
            if n + 1 < len(ids):
                entries += b" /Next %d 0 R" % ids[n + 1]
            if item.children:
                first, last, count = add_items(item.children, own)
                entries += b" /First %d 0 R /Last %d 0 R /Count %d" % (first, last, count)
                total += count
            objects[own - 1] = b"<< " + entries + b" >>"
        return ids[0], ids[-1], total

    extra = b""
    if outline_root:
        first, last, count = add_items(list(outline), outline_root)
        objects[outline_root - 1] = b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>" % (first, last, count)
        extra = b" /Outlines %d 0 R" % outline_root
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R%s >>" % (page_tree, extra)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref))
    return out.getvalue()


def encrypted_pdf_bytes(pdf: bytes, user_password: str) -> bytes:
    """`pdf` encrypted with AES-128 by pypdf; an empty `user_password` opens without one (permissions only)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(blocks: list[tuple[str, str]], title: str | None = None) -> bytes:
    """A Word file of (style, text) paragraphs in order ("Title", "Heading 1", "Normal", ...); style "Table" makes a
    table whose rows are the text's lines and cells its " | "-separated parts."""
    import docx

    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    for style, text in blocks:
        if style == "Table":
            rows = [line.split(" | ") for line in text.split("\n")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for row, cells in zip(table.rows, rows, strict=True):
                for cell, value in zip(row.cells, cells, strict=True):
                    cell.text = value
        else:
            document.add_paragraph(text, style=style)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_xml_bytes(body_xml: str) -> bytes:
    """A Word file whose body is `body_xml`, WordprocessingML with the `w:` prefix bound: for what python-docx does not
    write itself, such as tracked changes, content controls and fields."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    section = document.element.body[-1]  # the body's last child, its w:sectPr
    for element in list(parse_xml(f"<w:body {nsdecls('w')}>{body_xml}</w:body>")):
        section.addprevious(element)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
