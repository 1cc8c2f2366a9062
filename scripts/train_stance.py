"""Train the stance cross-encoder from the packaged MiniLM weights; see models/stance-minilm/README.md."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from service.datasets import default_data_dir
from service.stance_training import TrainingConfig, run

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--data-dir", type=Path, default=default_data_dir(), help="folder of the public data sets (default: ../shared/data)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "models" / "stance-minilm", help="where to write the fp16 model")
    parser.add_argument("--snli-pairs", type=int, default=TrainingConfig.snli_pairs)
    parser.add_argument("--epochs", type=int, default=TrainingConfig.epochs)
    parser.add_argument("--max-length", type=int, default=TrainingConfig.max_length)
    parser.add_argument("--learning-rate", type=float, default=TrainingConfig.learning_rate)
    parser.add_argument("--init-from", type=Path, default=None, help="continue from this model instead of the base weights")
    parser.add_argument("--snli-skip", type=int, default=0, help="skip this many SNLI pairs of the fixed shuffle")
    parser.add_argument("--neutral-keep", type=float, default=1.0, help="fraction of non-SNLI neutral pairs kept")
    parser.add_argument("--gold-repeats", type=int, default=1, help="times each FEVER gold-evidence pair is seen")
    parser.add_argument("--warmup-fraction", type=float, default=TrainingConfig.warmup_fraction)
    args = parser.parse_args()
    config = TrainingConfig(
        data_dir=args.data_dir,
        output_dir=args.out,
        snli_pairs=args.snli_pairs,
        epochs=args.epochs,
        max_length=args.max_length,
        learning_rate=args.learning_rate,
        warmup_fraction=args.warmup_fraction,
        init_from=args.init_from,
        snli_skip=args.snli_skip,
        neutral_keep=args.neutral_keep,
        gold_repeats=args.gold_repeats,
    )
    report = run(config)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
