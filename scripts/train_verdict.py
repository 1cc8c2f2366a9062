"""Fit the verdict head on dev-split evaluation dumps; prints one JSON report and writes
`verdict_head.json` beside the stance model (the service loads it at start-up).

Run `scripts/evaluate.py SET --split dev --top-k 5 --dump DUMP.jsonl` for each set first, with
the stance model and runtime the head is for, then `scripts/train_verdict.py DUMP.jsonl [...]`.
The report gives, per set, the head's out-of-fold verdicts (5 folds) at each number of passages
read beside the fixed rule's: accuracy, macro-F1 and the calibration error of the confidence.
Never pass test-split dumps: the head is reported on test.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from service.config import Settings
from service.evaluation.harness import dump_reading, dumped_evidence
from service.pipeline.verdict import VerdictHead, weights_fingerprint
from service.training.datasets import read_jsonl
from service.training.verdict import REGULARISATION, cross_validated, fit_head


def main() -> int:
    settings = Settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dumps", nargs="+", type=Path, help="JSONL dumps of dev-split evaluations (scripts/evaluate.py --dump)")
    parser.add_argument("--model-dir", type=Path, default=settings.stance_model_dir, help="the stance model the dumps were made with")
    parser.add_argument(
        "--rereader-dir",
        type=Path,
        default=settings.stance_rereader_model_dir,
        help="the cascade's second reader the dumps were made with (default: the service's, CLAIMCHECK_STANCE_REREADER_MODEL_DIR)",
    )
    parser.add_argument("--no-rereader", action="store_true", help="the dumps were made without a second reader, whatever the service runs")
    parser.add_argument("--backend", default=settings.stance_backend, help="the runtime the dumps were made with (default: the service's)")
    parser.add_argument("--c", type=float, default=REGULARISATION, help="inverse L2 strength of the logistic regressions")
    args = parser.parse_args()
    rereader = None if args.no_rereader else args.rereader_dir
    if rereader is not None and weights_fingerprint(rereader) is None:
        parser.error(f"--rereader-dir {rereader} has no model.safetensors")
    if len({dump.stem for dump in args.dumps}) < len(args.dumps):
        parser.error("two dumps have the same file name; the report names sets by it")
    sets, read = {}, set()
    for dump in args.dumps:
        rows = list(read_jsonl(dump))
        read |= {dump_reading(row) for row in rows}
        sets[dump.stem] = [(row["gold"], dumped_evidence(row, 0)) for row in rows]
    if len(read) != 1:
        parser.error(
            f"the dumps read their passages in different ways (sentence_passages, max_sentences_read_whole: {sorted(read, key=str)});"
            " dump them all with the same settings"
        )
    sentence_passages, max_sentences_read_whole = read.pop()
    if sentence_passages != settings.sentence_passages:
        print(
            f"note: the dumps read {sentence_passages} passage(s) sentence by sentence; the service reads {settings.sentence_passages}",
            file=sys.stderr,
        )
    if max_sentences_read_whole != settings.whole_reading_limit:
        print(
            f"note: the dumps read passages of more than {max_sentences_read_whole} sentences by sentence only;"
            f" the service does from {settings.whole_reading_limit}",
            file=sys.stderr,
        )
    report = {"dev_out_of_fold": cross_validated(sets, sentence_passages, c=args.c, min_relevance=settings.min_relevance)}
    head = fit_head(
        [example for examples in sets.values() for example in examples], sentence_passages, c=args.c, min_relevance=settings.min_relevance
    )
    head = replace(
        head,
        stance_weights=weights_fingerprint(args.model_dir),
        stance_backend=args.backend,
        max_sentences_read_whole=max_sentences_read_whole,
        rereader_weights=weights_fingerprint(rereader) if rereader is not None else None,
    )
    previous = VerdictHead.load(args.model_dir)
    if previous is not None and previous.operating_point:  # kept, not silently dropped: choose it again for this head
        head = replace(head, operating_point=previous.operating_point)
        print(
            f"note: kept the previous head's operating point {previous.operating_point}; choose it again for this head with"
            " scripts/choose_operating_point.py --write",
            file=sys.stderr,
        )
    fitted_on = {
        "dumps": {dump.name: len(sets[dump.stem]) for dump in args.dumps},
        "c": args.c,
        "min_relevance": settings.min_relevance,
        **report,
    }
    report["written"] = str(head.save(args.model_dir, fitted_on))
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
