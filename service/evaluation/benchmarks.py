"""docs/benchmarks.md: one page regenerated from the saved reports of the measuring scripts.

`scripts/evaluate.py --save`, `scripts/bench.py --save`, `scripts/bench_ann.py --save`,
`scripts/bench_documents.py --save` and `scripts/soak.py --save` each write their JSON report to `docs/results/` and regenerate the page
from every report there, so no figure on it is typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

from service.config import REPO_ROOT

DOCS = REPO_ROOT / "docs"
RESULTS = DOCS / "results"
ANCHORS = {
    "fever": "KGAT 74.1%, UNC-NLP 68.0%, official baseline 50.9% label accuracy (full-Wikipedia task)",
    "climate-fever": "FEVER-trained entailment model 38.8% accuracy",
}


def save_report(name: str, report: dict, docs: Path = DOCS) -> Path:
    """Store `report` as docs/results/NAME.json and regenerate docs/benchmarks.md."""
    results = docs / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{name}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (docs / "benchmarks.md").write_text(render(results), encoding="utf-8")
    return path


def render(results: Path) -> str:
    """The whole benchmarks page from the reports in `results`."""
    reports = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(results.glob("*.json"))}
    sections = ["# Benchmarks\n\nRegenerated from the reports in `docs/results/` by the scripts that measure them (`--save`)."]
    sections.append(_verdicts({name: r for name, r in reports.items() if "accuracy" in r}))
    sections.append(_precision(reports))
    if "claims" in reports:
        sections.append(_claims(reports["claims"]))
    if "checkworthiness_head" in reports:
        sections.append(_transcripts(reports["checkworthiness_head"]))
    if "language_id" in reports:
        sections.append(_language_id(reports["language_id"]))
    if "speed" in reports:
        sections.append(_speed(reports["speed"]))
    if "soak" in reports:
        sections.append(_soak(reports["soak"]))
    sections += [_ann(report) for name, report in reports.items() if name == "ann" or name.startswith("ann-")]
    if "documents" in reports:
        sections.append(_documents(reports["documents"]))
    return "\n\n".join(sections) + "\n"


def _verdicts(reports: dict[str, dict]) -> str:
    rows = []
    for report in reports.values():
        recall = report.get("evidence_recall") or {}
        rows.append(
            f"| {report['dataset']} | {report['split']} | {report.get('claims', report.get('pairs'))} | {report['accuracy']:.3f} | "
            f"{report['macro_f1']:.3f} | {_fmt(recall.get('@1'))} | {_fmt(recall.get('@5'))} | "
            f"{_fmt(report.get('ece'))} | "
            f"{_fmt(report.get('claims_per_second') or report.get('pairs_per_second'), 1)} | {report.get('stance_backend', 'onnx')} | "
            f"{ANCHORS.get(report['dataset'], '')} |"
        )
    return (
        "## Verdicts (`scripts/evaluate.py`)\n\n"
        "Every figure is on a split the models were not trained on (fixed splits, `service/training/datasets.py`);\n"
        "the verdict head, which gives the confidence, was fitted on the dev splits. Claim sets run end to end through the\n"
        "`/v1/verify` code path over an index of the set's passage pool built with the project's build\n"
        "code; HealthVer is scored pair by pair. The FEVER pool is the evidence passages of the FEVER\n"
        "claims only, so its figures are not comparable with the full-Wikipedia anchors beside them.\n"
        "The runtime is the stance model's (`CLAIMCHECK_STANCE_BACKEND`): `onnx-int8` has int8 matrix products, `onnx` fp32.\n\n"
        "| set | split | claims/pairs | accuracy | macro-F1 | evidence R@1 | evidence R@5 | ECE | per second "
        "| runtime | published anchors |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )


def _precision(reports: dict[str, dict]) -> str:
    rows = [
        f"| {r['dataset']} | {r['split']} | {r['claims']} | {_fmt(r['decisive_coverage'])} | {_fmt(r['decisive_precision'])} |"
        for r in reports.values()
        if r.get("decisive_precision") is not None or r.get("decisive_coverage") is not None
    ]
    near = [
        f"| {r['dataset']} | {r['split']} | {r['claims']} | {_fmt(r['wrong_verdict_share'])} |"
        for r in reports.values()
        if "wrong_verdict_share" in r
    ]
    text = (
        "## Precision first (`scripts/evaluate.py`)\n\n"
        "How often a verdict that takes a side is given (coverage: the share of claims answered supported or refuted) and\n"
        "how often it is right (precision). Near-topic claims (White House sentences on NATO, Ukraine and Russia that the\n"
        "treaties cannot settle, `service/evaluation/sets/`) are all not_enough_info: any other verdict is wrong.\n\n"
        "| set | split | claims | coverage | precision |\n|---|---|---|---|---|\n" + "\n".join(rows)
    )
    if near:
        text += "\n\n| near-topic set | split | claims | wrong-verdict rate |\n|---|---|---|---|\n" + "\n".join(near)
    return text


def _claims(report: dict) -> str:
    extraction = report.get("extraction", {})
    runs = {name.replace("_", " "): run for name, run in extraction.items() if isinstance(run, dict)}
    speeds = ", ".join(f"{name}: {run['sentences_per_second']}" for name, run in runs.items())
    return (
        "## Check-worthiness and extraction (`scripts/evaluate_claims.py`)\n\n"
        f"{report.get('split')}, {report.get('sentences')} sentences, never used to train the model or fit its threshold; "
        f"threshold {report.get('threshold')} (the model's); runtime {report.get('backend', 'onnx')} "
        "(`CLAIMCHECK_CHECKWORTHINESS_BACKEND`).\n\n"
        "| F1 (check-worthy) | precision | recall | average precision |\n|---|---|---|---|\n"
        f"| {_fmt(report.get('f1'))} | {_fmt(report.get('precision'))} | {_fmt(report.get('recall'))} | "
        f"{_fmt(report.get('average_precision'))} |\n\n"
        f"Extraction (spaCy, standalone rewrites, check-worthiness), sentences per second on {report.get('cpus')} cores, "
        f"best of {extraction.get('rounds')}: {speeds} (1-minute load average {extraction.get('load_average_1min')})."
    )


def _transcripts(report: dict) -> str:
    folds = report["cross_validation"]
    rows = "\n".join(
        f"| {layout} | {len(fold['head'])} | {_fmt(fold['sentence_model_map'])} | {_fmt(fold['head_map'])} | "
        f"{min(fold['head'].values()):.3f}-{max(fold['head'].values()):.3f} |"
        for layout, fold in folds.items()
    )
    dev_test = report["ct24"]["dev_test"]
    return (
        "## Check-worthiness on transcripts (`scripts/train_checkworthiness_head.py`)\n\n"
        f"CLEF 2019 CheckThat! Task 1 training debates and speeches ({report['sentences']} sentences, {report['checked']} checked "
        "by FactCheck.org), each posted whole to the extractor as a transcript (`turns`: a speaker's turn a paragraph; `lines`: "
        "a sentence a line); a sentence's score is the highest of its claims. Mean average precision over debates (the task's "
        "measure), the context head fitted with each debate left out in turn; per debate in the model card.\n\n"
        "| posted as | debates | MAP, sentence model | MAP, with the context head | AP range with the head |\n|---|---|---|---|---|\n"
        f"{rows}\n\n"
        f"CT24 dev-test with the head (sentences alone, threshold {dev_test['threshold']}): F1 {_fmt(dev_test['f1'])}, "
        f"average precision {_fmt(dev_test['average_precision'])}."
    )


def _language_id(report: dict) -> str:
    sets = list(report["english_sentences"])
    rows = "\n".join(
        f"| {name} | " + " | ".join(_fmt(found["english_taken_for_foreign"][s], 4) for s in sets) + f" | {_fmt(found['foreign_found'])} | "
        f"{found['mixed_read_as_english']} | {found['ms_per_sentence']} | {found.get('load_seconds', '')} |"
        for name, found in report["detectors"].items()
    )
    sizes = ", ".join(f"{name} {count}" for name, count in report["english_sentences"].items())
    lingua = (
        f"lingua-language-detector {report['lingua_version']}, {report['lingua_installed_mb']} MB installed. "
        if "lingua_version" in report
        else ""
    )
    return (
        "## Language identification (`scripts/compare_language_id.py`)\n\n"
        f"English sentences taken for another language ({sizes}), other-language sentences found (spaCy's example sentences, "
        f"{report['foreign_sentences']} in 21 languages), English sentences with a translation or quotation inside read as English, "
        f"and the time per sentence on one core; load: building the detector with its models (a later lingua detector reuses "
        f"the models an earlier one loaded). {lingua}The service keeps its own check.\n\n"
        f"| detector | {' | '.join(sets)} | foreign found | mixed read as English | ms a sentence | load s |\n"
        f"|---|{'---|' * len(sets)}---|---|---|---|\n{rows}"
    )


def _speed(report: dict) -> str:
    rows = [
        f"| {label} | {run['concurrency']} | {run['claims_per_second']} | {run['p50_ms']} | {run['p95_ms']} |"
        for label, key in (
            ("`/v1/verify`", "verify"),
            ("`/v1/verify/batch`, 16 claims a call", "verify_batch_16"),
            (f"`/v1/check`, 150 words, {report.get('check_150_words_claims', '?')} check-worthy claims", "check_150_words"),
        )
        for run in ([report[key]] if isinstance(report.get(key), dict) else report.get(key, []))
    ]
    ratio = report.get("efficiency_ratio", {})
    speedup = report.get("speedup_over_naive", {})
    build = report.get("index_build", {})
    limit_row = ""
    if "limit_over_naive" in report:
        limit = "the model-only limit over the naive pipeline (the speed-up at an efficiency of 1)"
        limit_row = f"| {limit} | {report['limit_over_naive']}x |\n"
    return (
        f"## Speed (`scripts/bench.py`, {report.get('cpus')} cores, top_k {report.get('top_k')})\n\n"
        "One run. On the 2-core machines we measure on, whole runs differ by 10-25% from one another\n"
        "(throughput, p95, the naive pipeline, the model-only limit), and the efficiency ratio, which divides two of\n"
        "them, by more: compare figures from one run, and rerun before trusting a change.\n\n"
        "| endpoint | concurrency | claims/s | p50 ms | p95 ms |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "| measure | value |\n|---|---|\n"
        f"| model-only limit (same forward passes, best batch) | {report.get('model_only', {}).get('claims_per_second')} claims/s |\n"
        f"| efficiency ratio (end to end / model-only), concurrency 1 and 8 | {ratio.get('concurrency_1')}, "
        f"{ratio.get('concurrency_8')} |\n"
        f"| speed-up over the naive pipeline, concurrency 1 and 8 | {speedup.get('concurrency_1')}x, {speedup.get('concurrency_8')}x |\n"
        + limit_row
        + _build_rows(build)
        + f"| server peak resident memory | {report.get('server_peak_rss_mb')} MB |"
    )


def _build_rows(build: dict) -> str:
    """The index build's rows: build over bare embedding throughput, per passage precision where measured."""
    if "fp32" not in build:  # a report from before int8 passage embedding
        return f"| index build over bare embedding throughput | {build.get('build_over_bare')} |\n"
    rows = f"| index build rows measured apart from the rest | {build['measured_apart']} |\n" if "measured_apart" in build else ""
    rows += "".join(
        f"| index build, {p} passages: passages/s, over the bare {p} embedder | {build[p]['build_passages_per_second']}, "
        f"{build[p]['build_over_bare']} |\n"
        for p in ("fp32", "int8")
    )
    rows += f"| int8 build over the fastest bare embedder | {build.get('int8_build_over_fastest_bare')} |\n"
    for precision, corpus in build.get("background_corpus", {}).items():  # measured apart: scripts/build_index.py
        rows += (
            f"| the White House corpus with the treaties ({corpus['passages']:,} passages), {precision}: build seconds, "
            f"passages/s | {corpus['seconds']}, {corpus['passages_per_second']} |\n"
        )
    return rows


def _soak(report: dict) -> str:
    rows = []
    for key, value in report.items():
        if key == "errors":
            rows.append((key, json.dumps(value)))
        elif isinstance(value, dict) and key != "by_endpoint":
            rows += [(f"{key} {inner}", inner_value) for inner, inner_value in value.items() if not isinstance(inner_value, list)]
        elif not isinstance(value, list | dict):
            rows.append((key, value))
    return "## Soak (`scripts/soak.py`)\n\n| measure | value |\n|---|---|\n" + "\n".join(f"| {key} | {value} |" for key, value in rows)


def _ann(report: dict) -> str:
    runs = report.get("indexes", report.get("results", []))
    if isinstance(runs, dict):
        runs = [{"index_type": name, **values} for name, values in runs.items()]
    columns = sorted({key for run in runs for key in run if not isinstance(run[key], dict | list)}, key=lambda k: (k != "index_type", k))
    header = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns)
    lines = ["| " + " | ".join(str(run.get(column, "")) for column in columns) + " |" for run in runs]
    facts = ", ".join(f"{key} {value}" for key, value in report.items() if not isinstance(value, dict | list))
    size = f", {report['vectors']:,} vectors" if isinstance(report.get("vectors"), int) else ""
    return f"## Nearest-neighbour indexes{size} (`scripts/bench_ann.py`)\n\n{facts}\n\n{header}\n" + "\n".join(lines)


def _documents(report: dict) -> str:
    rows = [
        f"| {run['pdf']} | {run['pages']} | {run['extractor']} | {_fmt(run['word_recall'])} | {_fmt(run['junk_words'])} | "
        f"{run['pages_per_second']} |"
        for run in report.get("pdf_extraction", [])
    ]
    return (
        "## PDF text extraction (`scripts/bench_documents.py`)\n\n"
        "PDFs made from the shipped treaties, so the text each should give back is known: printed by chromium (one column,\n"
        "two justified columns) and written by fpdf2 (a TrueType font with a running header and page numbers; a core Type 1\n"
        "font). Word recall: the share of the true words found in order; junk: the share of extracted words outside that\n"
        "order (glued, split, misordered, or a running header's). Both after NFKC folding (both libraries give the fonts'\n"
        "ligature glyphs, which the build folds). The last reader is the build's own (`service/index/formats.py`).\n"
        f"Pages per second: median of {report.get('rounds')} whole-file runs on {report.get('cpus')} cores "
        f"(1-minute load average {report.get('load_average_1min')}).\n\n"
        "| PDF | pages | reader | word recall | junk | pages/s |\n|---|---|---|---|---|---|\n" + "\n".join(rows)
    )


def _fmt(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"
