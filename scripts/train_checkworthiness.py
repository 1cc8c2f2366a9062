"""Train the check-worthiness model on CheckThat! 2024 English; writes models/checkworthiness/model.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from service.checkworthiness_training import train, write_model_card
from service.datasets import default_data_dir

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="public data sets (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "checkworthiness")
    args = parser.parse_args()
    print(json.dumps(train(args.data_dir, args.out), indent=2))
    write_model_card(args.out)


if __name__ == "__main__":
    main()
