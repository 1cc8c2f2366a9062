"""Average the weights of stance models fine-tuned from the same base; see models/stance-minilm/README.md.

usage: average_stance_models.py --out DIR [--pairs PAIRS] MODEL_DIR:WEIGHT MODEL_DIR:WEIGHT ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from service.training.stance import average_models, seed_warning


def member(text: str) -> tuple[Path, float]:
    """An argparse type: FOLDER:WEIGHT."""
    folder, _, weight = text.rpartition(":")
    try:
        value = float(weight)
    except ValueError:
        value = None
    if not folder or value is None:
        raise argparse.ArgumentTypeError(f"expected FOLDER:WEIGHT, got {text!r}")
    return Path(folder), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("members", nargs="+", type=member, help="FOLDER:WEIGHT of each model; the weights sum to 1")
    parser.add_argument("--out", type=Path, required=True, help="where to write the averaged fp16 model")
    parser.add_argument("--pairs", type=Path, default=None, help="pair files (train_stance.py --write-pairs) to score the average on")
    args = parser.parse_args()
    report = average_models(args.members, args.out, args.pairs)
    print(json.dumps({"seed_check": report["seed_check"], "evaluation": report.get("evaluation", {})}, indent=2))
    if warning := seed_warning(report):
        print(warning, file=sys.stderr)


if __name__ == "__main__":
    main()
