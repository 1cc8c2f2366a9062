"""Measure PDF text extraction: pypdf against pdfminer.six on PDFs made here from the shipped treaties.

scripts/bench_documents.py [--rounds 3] [--save]

The PDFs are printed by chromium (one column, two columns) and written by fpdf2 (a TrueType font with a running
header and page numbers; a core Type 1 font), so the text each should give back is known: the treaty's Markdown
less its heading marks. Fidelity is word-level, after NFKC folding on both sides (both libraries give the "fi"
ligature glyphs of the fonts): the share of the true words found in order (recall), and the share of extracted
words that are not in that order (junk: glued, split, misordered or running-header words). Speed is the median of
`--rounds` whole-file extractions, in pages per second. The build's own reader (`service.index.formats.read_pdf`:
pypdf, then running headers, footers and page numbers dropped) is measured alongside. `--save` stores the report
for docs/benchmarks.md (docs/results/documents.json).
"""

from __future__ import annotations

import argparse
import difflib
import html
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import unicodedata
from pathlib import Path

from service.config import REPO_ROOT

SOURCES = REPO_ROOT / "index" / "sources"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
WORD = re.compile(r"\w+(?:[’'.,-]\w+)*")


def _blocks(markdown: str) -> list[tuple[int, str]]:
    """(heading level or 0, text) of each block of a Markdown file."""
    blocks = []
    for block in re.split(r"\n\s*\n", markdown):
        block = " ".join(block.split())
        if not block:
            continue
        heading = re.match(r"(#{1,6})\s*(.*)", block)
        blocks.append((len(heading.group(1)), heading.group(2)) if heading else (0, block))
    return blocks


def _truth(blocks: list[tuple[int, str]]) -> str:
    return "\n".join(text for _, text in blocks)


def _chromium_pdf(blocks, out: Path, columns: int) -> None:
    body = "".join(f"<h{level}>{html.escape(text)}</h{level}>" if level else f"<p>{html.escape(text)}</p>" for level, text in blocks)
    style = f"body{{font-family:serif;font-size:11pt;column-count:{columns};text-align:justify}}"
    page = out.with_suffix(".html")
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{style}</style></head><body>{body}</body></html>")
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", f"--print-to-pdf={out}", str(page)],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _fpdf_pdf(blocks, out: Path, truetype: bool) -> None:
    from fpdf import FPDF

    class Report(FPDF):
        def header(self):
            self.set_font(family, size=8)
            self.cell(0, 6, "Reference documents: treaties", align="C", new_x="LMARGIN", new_y="NEXT")

        def footer(self):
            self.set_y(-12)
            self.set_font(family, size=8)
            self.cell(0, 6, f"Page {self.page_no()}", align="C")

    pdf = Report(format="A4")
    if truetype:
        pdf.add_font("DejaVu", fname=str(DEJAVU))
        family = "DejaVu"
    else:
        family = "Helvetica"
    pdf.add_page()
    for level, text in blocks:
        if not truetype:
            text = text.encode("latin-1", "replace").decode("latin-1")
        pdf.set_font(family, size=15 - level if level else 10)
        pdf.multi_cell(0, 5, text, align="J" if not level else "L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.output(str(out))


def _pypdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


def _pdfminer_pages(path: Path) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    return ["".join(box.get_text() for box in page if isinstance(box, LTTextContainer)) for page in extract_pages(path)]


def _claimcheck_pages(path: Path) -> list[str]:
    from service.index.formats import read_pdf

    extracted = read_pdf(path)
    ends = [*extracted.pages[1:], len(extracted.text)]
    return [extracted.text[start:end] for start, end in zip(extracted.pages, ends, strict=True)]


def _fidelity(truth: str, extracted: str) -> dict:
    """In-order word recall and the share of extracted words outside that order."""
    true_words = WORD.findall(unicodedata.normalize("NFKC", truth).lower())
    got = WORD.findall(unicodedata.normalize("NFKC", extracted).lower())
    matcher = difflib.SequenceMatcher(None, true_words, got, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return {"word_recall": round(matched / len(true_words), 4), "junk_words": round(1 - matched / len(got), 4) if got else 1.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--save", action="store_true", help="save docs/results/documents.json and regenerate docs/benchmarks.md")
    args = parser.parse_args()
    import pdfminer
    import pypdf

    extractors = {
        f"pypdf {pypdf.__version__}": _pypdf_pages,
        f"pdfminer.six {pdfminer.__version__}": _pdfminer_pages,
        "claimcheck (pypdf, running lines dropped)": _claimcheck_pages,
    }
    charter = _blocks((SOURCES / "un_charter_en.md").read_text(encoding="utf-8"))
    treaty = _blocks((SOURCES / "north_atlantic_treaty_1949_en.md").read_text(encoding="utf-8"))
    makers = [
        ("UN Charter, chromium, one column", charter, lambda b, p: _chromium_pdf(b, p, 1)),
        ("UN Charter, chromium, two columns", charter, lambda b, p: _chromium_pdf(b, p, 2)),
        ("UN Charter, fpdf2, TrueType, header and page numbers", charter, lambda b, p: _fpdf_pdf(b, p, truetype=True)),
        ("North Atlantic Treaty, fpdf2, Helvetica", treaty, lambda b, p: _fpdf_pdf(b, p, truetype=False)),
    ]
    if not shutil.which("chromium"):
        makers = [m for m in makers if "chromium" not in m[0]]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for number, (name, blocks, make) in enumerate(makers):
            path = Path(folder) / f"{number}.pdf"
            make(blocks, path)
            for extractor, pages_of in extractors.items():
                times, pages = [], []
                for _ in range(args.rounds):
                    started = time.perf_counter()
                    pages = pages_of(path)
                    times.append(time.perf_counter() - started)
                seconds = statistics.median(times)
                row = {"pdf": name, "extractor": extractor, "pages": len(pages), "kb": round(path.stat().st_size / 1024)}
                row |= _fidelity(_truth(blocks), "\n".join(pages)) | {"pages_per_second": round(len(pages) / seconds, 1)}
                rows.append(row)
                print(row, flush=True)
    report = {"pdf_extraction": rows, "rounds": args.rounds, "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2)}
    if args.save:
        from service.evaluation.benchmarks import save_report

        print(save_report("documents", report))


if __name__ == "__main__":
    main()
