"""Score stance readers on the held-out pairs of `scripts/train_stance.py --write-pairs`, set by set.

Each model reads the pairs as the service reads them by default (`StanceClassifier`, int8, 256
tokens). For each set: accuracy and macro-F1; a hard neutral set (#21.2, every pair neutral)
reports the share read as neutral as its accuracy. `--average` also scores the mean of the models'
probabilities, what distilling from them as teachers aims at. Readings are kept in `--cache`, so a
model is read once per pair file (a changed model folder is read again).

    scripts/evaluate_stance.py models/stance-minilm runs/stance-mpnet/model --pairs runs/pairs-hn --split dev --average
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help="stance model folders")
    parser.add_argument("--pairs", type=Path, required=True, help="folder of dev.jsonl.gz and test.jsonl.gz (--write-pairs)")
    parser.add_argument("--split", default="dev", choices=("dev", "test"))
    parser.add_argument("--average", action="store_true", help="also score the mean of the models' probabilities (two models or more)")
    parser.add_argument("--cache", type=Path, default=Path("runs/stance-readings"), help="where readings are kept")
    parser.add_argument("--out", type=Path, help="write the report here as JSON")
    args = parser.parse_args()
    if args.average and len(args.models) < 2:
        parser.error("--average needs two models or more")
    import numpy as np

    from service.training.stance import TrainingConfig, collect_pairs, read_pairs, scores_by_source, teacher_probabilities

    config = TrainingConfig(Path("."), Path("."), checkpoint_dir=args.cache)
    pairs = collect_pairs(config, args.split, read_pairs(args.pairs / f"{args.split}.jsonl.gz"))
    readings = {str(model): np.array(teacher_probabilities(replace(config, teacher_dirs=(model,)), pairs)) for model in args.models}
    if args.average:
        readings["average of " + ", ".join(readings)] = np.mean(list(readings.values()), axis=0)
    report = {"pairs": str(args.pairs), "split": args.split, "models": {}}
    for name, read in readings.items():
        report["models"][name] = rows = scores_by_source(pairs, read.tolist())
        print(name)
        for source, row in rows.items():
            print(f"  {source:22s} {row['pairs']:5d} pairs  accuracy {row['accuracy']:.3f}  macro-F1 {row['macro_f1']:.3f}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
