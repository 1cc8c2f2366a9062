"""Fit the verdict head on dev-split evaluation dumps; prints one JSON report and writes
`verdict_head.json` beside the stance model (the service loads it at start-up).

Run `scripts/evaluate.py SET --split dev --top-k 5 --dump DUMP.jsonl` for each set first, with
the stance model the head is for, then `scripts/train_verdict.py DUMP.jsonl [...]`. The report
gives, per set, the head's out-of-fold verdicts (5 folds) beside the fixed rule's: accuracy,
macro-F1 and the calibration error of the confidence. Never pass test-split dumps: the head is
reported on test.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from service.config import Settings
from service.datasets import read_jsonl
from service.evaluation import dumped_evidence
from service.verdict_training import REGULARISATION, cross_validated, fit_head


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dumps", nargs="+", type=Path, help="JSONL dumps of dev-split evaluations (scripts/evaluate.py --dump)")
    parser.add_argument(
        "--model-dir", type=Path, default=None, help="where to write verdict_head.json (default: the stance model's folder)"
    )
    parser.add_argument("--c", type=float, default=REGULARISATION, help="inverse L2 strength of the logistic regressions")
    args = parser.parse_args()
    sets, read = {}, set()
    for dump in args.dumps:
        rows = list(read_jsonl(dump))
        read |= {row.get("sentence_passages", 3) for row in rows}
        sets[dump.stem] = [(row["gold"], dumped_evidence(row, 1)) for row in rows]
    if len(read) != 1:
        parser.error(
            f"the dumps read different numbers of passages sentence by sentence ({sorted(read)}); dump them all with the same settings"
        )
    sentence_passages = read.pop()
    if sentence_passages != Settings().verdict_passages:
        print(
            f"note: the dumps read {sentence_passages} passage(s) sentence by sentence; "
            f"the service is set to read {Settings().verdict_passages}",
            file=sys.stderr,
        )
    report = {"dev_out_of_fold": cross_validated(sets, sentence_passages, c=args.c)}
    head = fit_head([example for examples in sets.values() for example in examples], sentence_passages, c=args.c)
    fitted_on = {"dumps": {dump.name: len(sets[dump.stem]) for dump in args.dumps}, "c": args.c, **report}
    report["written"] = str(head.save(args.model_dir or Settings().stance_model_dir, fitted_on))
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
