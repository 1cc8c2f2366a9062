"""Fit the confidence calibration (Platt scaling per verdict) on dev-split evaluation dumps.

Run `scripts/evaluate.py SET --split dev --dump DUMP.jsonl` for each set first, then
`scripts/calibrate.py DUMP.jsonl [...]`: it decides each dumped claim again with the verdict
settings in force (`CLAIMCHECK_VERDICT_PASSAGES`, `CLAIMCHECK_STRONG_STANCE`, or their defaults),
fits on the raw verdict probabilities, prints the dev ECE before and after, and writes
`calibration.json` beside the stance model (the service applies it at start-up). Never pass
test-split dumps: the calibration is reported on test.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from service.calibration import fit_calibration
from service.config import Settings
from service.datasets import read_jsonl
from service.evaluation import dumped_evidence
from service.scoring import expected_calibration_error
from service.verdict import decide


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dumps", nargs="+", type=Path, help="JSONL dumps of dev-split evaluations (scripts/evaluate.py --dump)")
    parser.add_argument("--model-dir", type=Path, default=None, help="where to write calibration.json (default: the stance model's folder)")
    args = parser.parse_args()
    settings = Settings()
    verdicts, raw, correct, sources = [], [], [], {}
    for dump in args.dumps:
        rows = list(read_jsonl(dump))
        sources[dump.name] = len(rows)
        for row in rows:
            evidence = dumped_evidence(row, settings.verdict_passages)
            result = decide("", None, None, evidence, settings.verdict_passages, settings.strong_stance)
            verdicts.append(result.verdict)
            raw.append(result.confidence)
            correct.append(result.verdict == row["gold"])
    calibration = fit_calibration(verdicts, raw, correct)
    calibrated = [calibration.apply(v, p) for v, p in zip(verdicts, raw, strict=True)]
    report = {
        "claims": len(verdicts),
        "dumps": sources,
        "verdict_passages": settings.verdict_passages,
        "strong_stance": settings.strong_stance,
        "dev_ece_before": round(expected_calibration_error(raw, correct), 4),
        "dev_ece_after": round(expected_calibration_error(calibrated, correct), 4),
        "by_verdict": calibration.by_verdict,
        "default": calibration.default,
    }
    fitted_on = {k: v for k, v in report.items() if k not in ("by_verdict", "default")}
    report["written"] = str(calibration.save(args.model_dir or settings.stance_model_dir, fitted_on))
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
