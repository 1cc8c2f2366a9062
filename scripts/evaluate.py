"""Evaluate the whole pipeline on a labelled claim set; prints one JSON report.

The passage pool is indexed with the project's own build code and every claim is checked
through the same code path as `POST /v1/verify`. Data sets from `../shared/data`
(`--data-dir`): fever, climate-fever, covidfact, on their fixed `test` split by default, and
healthver, scored pair by pair with the stance model; or any
set given as `--claims FILE.jsonl` (`{"claim", "label", "evidence_ids"}` per line, labels
supported/refuted/conflicting/not_enough_info) with `--corpus FILE.jsonl` (documents as the
build script reads them).

Two sets of our own (`service/evaluation/sets/`, README there) run over the default index, built
from `index/sources/` (the North Atlantic Treaty and the UN Charter), on their `dev` or `test`
split: `near-topic`, White House sentences about NATO, Ukraine and Russia that the treaties
cannot settle (every verdict but not_enough_info is wrong: the report gives the share of each
verdict and the most confident wrong ones), and `treaty-settled`, claims the treaties do settle
(accuracy, accuracy on each label, precision and coverage of supported/refuted verdicts).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from service.evaluation.benchmarks import save_report
from service.evaluation.harness import (
    evaluate_claims,
    evaluate_default_index_set,
    evaluate_healthver_pairs,
    load_custom,
)
from service.training.datasets import default_data_dir, load_dataset

OWN_SETS = ("near-topic", "treaty-settled")  # over the default index of index/sources/


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "dataset",
        nargs="?",
        choices=("fever", "climate-fever", "covidfact", "healthver", *OWN_SETS),
        help="a built-in data set",
    )
    parser.add_argument("--split", default="test", choices=("train", "dev", "test"))
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--claims", type=Path, help="custom claims JSONL")
    parser.add_argument("--corpus", type=Path, help="custom corpus JSONL (with --claims)")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N claims of the split")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--index-dir", type=Path, default=None, help="where to build the pool's index (default: a temporary folder)")
    parser.add_argument("--dump", type=Path, default=None, help="write each claim's verdict and evidence scores to this JSONL file")
    parser.add_argument("--save", action="store_true", help="save the report in docs/results/ and regenerate docs/benchmarks.md")
    args = parser.parse_args()
    if args.dataset in OWN_SETS:
        if args.split not in ("dev", "test") or args.claims:
            parser.error(f"{args.dataset} has a dev and a test split and its own claims")
        with tempfile.TemporaryDirectory() as scratch:
            index_dir = args.index_dir or Path(scratch) / "index"
            return _finish(evaluate_default_index_set(args.dataset, args.split, index_dir, args.top_k, args.dump, args.limit), args.save)
    if args.dataset == "healthver":
        return _finish(evaluate_healthver_pairs(args.data_dir, args.split), args.save)
    if args.claims:
        if not args.corpus:
            parser.error("--claims needs --corpus")
        name, claims, corpus = load_custom(args.claims, args.corpus)
    elif args.dataset:
        name, claims, corpus = load_dataset(args.dataset, args.data_dir, args.split)
    else:
        parser.error("name a data set or give --claims and --corpus")
    if args.limit:
        claims = claims[: args.limit]
    with tempfile.TemporaryDirectory() as scratch:
        index_dir = args.index_dir or Path(scratch) / "index"
        report = evaluate_claims(name, args.split if not args.claims else "custom", claims, corpus, index_dir, args.top_k, args.dump)
    return _finish(report, args.save)


def _finish(report: dict, save: bool) -> int:
    json.dump(report, sys.stdout, indent=2)
    print()
    if save:
        save_report(f"{report['dataset']}-{report['split']}", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
