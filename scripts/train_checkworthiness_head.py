"""Fit the check-worthiness context head (service/pipeline/claims/context_head.py) on CLEF 2019 debates.

Posts each of the 19 CLEF 2019 CheckThat! Task 1 training debates to the claim extractor as a
transcript, measures the task's mean average precision over debates by leaving each debate out in
turn (the sentence model alone, and the head fitted on the other 18), fits the head on all 19,
Platt-scales it and chooses its threshold on the CheckThat! 2024 debates held out of the sentence
model's training, reports CT24 dev and dev-test, and, unless --dry-run, writes `context_head.json`
beside the model (with the report), the model card, and docs/results/checkworthiness_head.json (and so
docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from service.config import Settings
from service.evaluation.benchmarks import save_report
from service.pipeline.claims.context_head import HEAD_FILE
from service.pipeline.claims.extractor import ClaimExtractor
from service.training.checkworthiness import write_model_card
from service.training.checkworthiness_head import (
    LAYOUTS,
    average_precision,
    calibrate_on_ct24,
    clef2019_debates,
    filled,
    fitted_head,
    leave_debates_out,
    posted,
    sentence_rows,
)
from service.training.datasets import default_data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--model-dir", type=Path, default=Settings().checkworthiness_model_dir)
    parser.add_argument(
        "--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS), help="how debates are posted; the head is fitted on the first"
    )
    parser.add_argument("--l2", type=float, default=1.0, help="ridge penalty of the regression on standardised features")
    parser.add_argument("--dry-run", action="store_true", help="measure and print, write nothing")
    args = parser.parse_args()
    started = time.time()
    settings = Settings()
    extractor = ClaimExtractor(args.model_dir, settings.checkworthiness_backend, settings.torch_threads)
    extractor.warm_up()
    debates = clef2019_debates(args.data_dir)
    report: dict = {
        "debates": len(debates),
        "sentences": sum(len(d.labels) for d in debates),
        "checked": int(sum(d.labels.sum() for d in debates)),
    }
    report |= {"l2": args.l2, "backend": settings.checkworthiness_backend, "fitted_on_layout": args.layouts[0], "cross_validation": {}}
    fitted_rows = None
    for layout in args.layouts:
        rows = []
        for debate in debates:
            text, spans = posted(debate, layout)
            rows += sentence_rows(extractor, [text], [spans])
        sentence_model = {d.name: round(average_precision(d.labels, filled(r)[:, 0]), 4) for d, r in zip(debates, rows, strict=True)}
        head = leave_debates_out(debates, rows, args.l2)
        report["cross_validation"][layout] = {
            "sentence_model": sentence_model,
            "head": head,
            "sentence_model_map": round(float(np.mean(list(sentence_model.values()))), 4),
            "head_map": round(float(np.mean(list(head.values()))), 4),
        }
        print(layout, json.dumps(report["cross_validation"][layout]), flush=True)
        fitted_rows = fitted_rows if fitted_rows is not None else rows
    head = fitted_head(debates, fitted_rows, args.l2)
    report["ct24"] = calibrate_on_ct24(extractor, head, args.data_dir)
    report["seconds"] = round(time.time() - started, 1)
    report["cpus"] = os.cpu_count()
    print(json.dumps(report, indent=2))
    if not args.dry_run:
        (args.model_dir / HEAD_FILE).write_text(head.to_json(report), encoding="utf-8")
        write_model_card(args.model_dir)
        print(f"wrote {args.model_dir / HEAD_FILE} and the model card; saved {save_report('checkworthiness_head', report)}")


if __name__ == "__main__":
    main()
