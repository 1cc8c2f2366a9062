"""Choose the verdict rule's settings on dev-split evaluation dumps; prints one JSON report.

Run `CLAIMCHECK_VERDICT_PASSAGES=3 scripts/evaluate.py SET --split dev --dump DUMP.jsonl` for
each set first (the service reads the sentences of the voting passages only, so the dumps must
have read as many passages as the most voters tried), then `scripts/tune_verdict.py DUMP.jsonl [...]`.
For each (`verdict_passages`, `strong_stance`) pair it re-decides every dumped claim with
service/pipeline/verdict.py and scores accuracy and macro-F1 per set; the pair with the best mean
macro-F1 over the sets wins (each set counts the same, whatever its size). Never pass
test-split dumps: the settings are reported on test.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from service.evaluation.harness import dumped_evidence
from service.pipeline.verdict import decide
from service.results import VERDICTS
from service.training.datasets import read_jsonl
from service.training.scoring import classification_report

PASSAGES = (1, 2, 3)
STRONG = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dumps", nargs="+", type=Path, help="JSONL dumps of dev-split evaluations (scripts/evaluate.py --dump)")
    args = parser.parse_args()
    sets = {dump.stem: [(row["gold"], dumped_evidence(row, max(PASSAGES))) for row in read_jsonl(dump)] for dump in args.dumps}
    grid = []
    for passages in PASSAGES:
        for strong in STRONG:
            scores = {}
            for name, rows in sets.items():
                predicted = [decide("", None, None, evidence, passages, strong).verdict for _, evidence in rows]
                report = classification_report([gold for gold, _ in rows], predicted, VERDICTS)
                scores[name] = {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"]}
            mean = sum(s["macro_f1"] for s in scores.values()) / len(scores)
            grid.append({"verdict_passages": passages, "strong_stance": strong, "mean_macro_f1": round(mean, 4), "by_set": scores})
    grid.sort(key=lambda row: -row["mean_macro_f1"])
    json.dump({"claims": {name: len(rows) for name, rows in sets.items()}, "best": grid[0], "top": grid[1:6]}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
