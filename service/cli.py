"""The `claimcheck` command: serve, build-index, check."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from service.errors import ClaimCheckError
from service.index.sources import SUPPORTED_SUFFIXES


def _build_index_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    from service.index.ann import AUTO, FLAT_MAX_VECTORS, HNSW_MAX_VECTORS

    parser.add_argument(
        "sources",
        nargs="+",
        type=Path,
        help=".jsonl, .jsonl.gz, .txt, .md, .html, .pdf or .docx files, or folders of them (walked recursively)",
    )
    parser.add_argument("--out", required=True, type=Path, help="index directory to write (replaced atomically)")
    parser.add_argument(
        "--index-type",
        default=AUTO,
        metavar="FACTORY",
        help="FAISS index factory string: Flat (exact), HNSW32, IVF4000,Flat, IVF4000,SQ8, IVF4000,PQ48, ... "
        f"(default {AUTO}: Flat below {FLAT_MAX_VECTORS:,} passages, HNSW32 below {HNSW_MAX_VECTORS:,}, "
        "IVF{4 sqrt(passages)},SQ8 above); with Milvus one of FLAT, HNSW, IVF_FLAT, IVF_SQ8, HNSW_SQ "
        f"({AUTO}: FLAT below {FLAT_MAX_VECTORS:,}, HNSW above); recorded in the manifest with its search parameters",
    )
    parser.add_argument(
        "--vector-store",
        default="faiss",
        metavar="STORE",
        help="where the passage vectors are searched: faiss (default: a file in the index directory) or milvus:URI, "
        "URI a Milvus Lite file (./milvus.db: one process at a time) or http(s)://host:port of a Milvus server; "
        "needs pip install -e '.[milvus]'",
    )
    parser.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="embed with Ray Data on the Ray cluster at ADDRESS (--ray=ray://host:10001, or --ray=host:6379 from a cluster node), "
        "or on a local Ray without ADDRESS; the same vectors as without; needs pip install -e '.[ray]'",
    )
    parser.add_argument(
        "--passage-embedding",
        choices=("fp32", "int8"),
        default="fp32",
        help="fp32 (default), or int8: about 1.5 times faster on CPU, vectors a little off the fp32 ones "
        "(docs/index-building.md); recorded in the manifest, and a rebuild in the other precision re-embeds",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _run_build_index(args: argparse.Namespace) -> int:
    from service.index.build import build_index
    from service.runtime.embedding import Embedder

    try:
        summary = build_index(
            args.sources,
            args.out,
            Embedder(int8=args.passage_embedding == "int8"),
            show_progress=not args.quiet,
            index_type=args.index_type,
            vector_store=args.vector_store,
            ray=args.ray,
        )
    except (ClaimCheckError, OSError) as error:
        print(f"build-index: error: {error}", file=sys.stderr)
        print("build-index: the previous index (if any) was left untouched", file=sys.stderr)
        return 2
    print(
        f"Built {summary.out} ({summary.build_id}): {summary.documents} documents, {summary.passages} passages "
        f"({summary.embedded_passages} embedded, {summary.reused_passages} reused) in {summary.seconds:.1f} s, "
        f"{summary.passages_per_second:.1f} passages/s embedded, index type {summary.index_type} in {summary.vector_store}"
    )
    if skipped := summary.unsupported_files:
        listed = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        print(
            f"build-index: left out {len(skipped)} file(s) of other types: {listed} (read: {', '.join(SUPPORTED_SUFFIXES)})",
            file=sys.stderr,
        )
    if unreadable := summary.unreadable_files:
        from service.index.formats import REASONS

        counts = ", ".join(f"{summary.left_out[reason]} {why}" for reason, why in REASONS.items() if reason in summary.left_out)
        print(f"build-index: left out {len(unreadable)} file(s) that cannot be read ({counts}):", file=sys.stderr)
        for file in unreadable:
            print(f"  {file.path}: {file.message}", file=sys.stderr)
    return 0


def build_index_main(argv: list[str] | None = None) -> int:
    """Entry point of scripts/build_index.py."""
    parser = _build_index_parser(argparse.ArgumentParser(prog="build_index.py", description="Build the reference index."))
    return _run_build_index(parser.parse_args(argv))


class JsonLogFormatter(logging.Formatter):
    """One JSON object per log line, with the request fields the access log adds."""

    FIELDS = ("request_id", "method", "route", "status", "ms")

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        entry.update({field: getattr(record, field) for field in self.FIELDS if hasattr(record, field)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.config import Settings

    settings = Settings()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("claimcheck")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    uvicorn.run("service.app:app", host=args.host or settings.host, port=args.port or settings.port, log_level="info", access_log=False)
    return 0


def _run_check(args: argparse.Namespace) -> int:
    from service.client import BadServiceURL, ClaimCheckClient, ServiceError, ServiceTimeout, ServiceUnreachable

    try:
        text = sys.stdin.read() if args.file in (None, "-") else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"claimcheck: cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    try:
        with ClaimCheckClient(args.server, timeout=args.timeout, retries=1) as client:
            result = client.check(text)
    except ServiceUnreachable as error:
        print(f"claimcheck: {error.message}; start it with `make serve`", file=sys.stderr)
        return 1
    except BadServiceURL as error:
        print(f"claimcheck: --server {error.message}", file=sys.stderr)
        return 2
    except ServiceTimeout as error:
        print(f"claimcheck: {error.message}; a long text takes longer: raise --timeout", file=sys.stderr)
        return 1
    except ServiceError as error:
        print(f"claimcheck: the service answered {error.status} ({error.code}): {error.message}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(result.model_dump_json(indent=2))
        return 0
    if not result.claims:
        print("No check-worthy claims found.")
    for claim in result.claims:
        print(f"[{claim.verdict.upper()} {claim.confidence:.2f}] {claim.claim}")
        if claim.checked_as and " ".join(claim.checked_as.split()) != " ".join(claim.claim.split()):
            print(f"    checked as: {claim.checked_as}")
        for evidence in claim.evidence[:1]:
            source = evidence.title or evidence.doc_id
            quote = " ".join((evidence.sentence.text if evidence.sentence else evidence.text).split())
            where = ", ".join(part for part in (source, evidence.section, f"p. {evidence.page}" if evidence.page else None) if part)
            print(f"    {evidence.stance} ({where}): {quote[:240]}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `claimcheck` command."""
    parser = argparse.ArgumentParser(prog="claimcheck", description="Check claims against your own reference documents.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the HTTP service")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(run=_run_serve)
    _build_index_parser(commands.add_parser("build-index", help="build the reference index")).set_defaults(run=_run_build_index)
    check = commands.add_parser("check", help="check a file or standard input against a running service")
    check.add_argument("file", nargs="?", default=None, help="text file, or - for standard input")
    check.add_argument("--server", default="http://127.0.0.1:8000")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--timeout", type=_positive_seconds, default=120.0, help="seconds to wait for the answer (default 120)")
    check.set_defaults(run=_run_check)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # `claimcheck check f | head`: the reader left, which is no error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {value}")
    return seconds
