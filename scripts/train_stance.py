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
    args = parser.parse_args()
    config = TrainingConfig(
        data_dir=args.data_dir,
        output_dir=args.out,
        snli_pairs=args.snli_pairs,
        epochs=args.epochs,
        max_length=args.max_length,
        learning_rate=args.learning_rate,
    )
    report = run(config)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
