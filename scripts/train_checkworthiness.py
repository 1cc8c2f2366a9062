"""Fine-tune the check-worthiness classifier on CheckThat! 2024 English; writes models/checkworthiness/."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from service.config import Settings
from service.training.checkworthiness import TrainingConfig, calibrate, train
from service.training.datasets import default_data_dir

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="public data sets (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "checkworthiness")
    parser.add_argument("--epochs", type=int, default=TrainingConfig.epochs)
    parser.add_argument("--learning-rate", type=float, default=TrainingConfig.learning_rate)
    parser.add_argument(
        "--tuning-from-id",
        type=int,
        default=TrainingConfig.tuning_from_id,
        help="train sentences from this Sentence_id on (default: the 2016 debates) are held out to fit calibration and threshold",
    )
    parser.add_argument("--layers", type=int, help="keep only the base model's first N transformer layers (default: all 6)")
    parser.add_argument(
        "--backend",
        default=Settings().checkworthiness_backend,
        choices=("onnx-int8", "onnx", "torch"),
        help="the runtime whose scores the calibration and threshold are fitted on (default: the service's)",
    )
    parser.add_argument(
        "--calibrate-only", action="store_true", help="no training: fit the calibration and threshold of the model in --out again"
    )
    args = parser.parse_args()
    if args.calibrate_only:
        print(json.dumps(calibrate(args.out, args.data_dir, args.backend), indent=2))
        return
    config = TrainingConfig(
        data_dir=args.data_dir,
        output_dir=args.out,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        tuning_from_id=args.tuning_from_id,
        layers=args.layers,
        backend=args.backend,
    )
    print(json.dumps(train(config), indent=2))


if __name__ == "__main__":
    main()
