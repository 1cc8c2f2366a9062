"""Write a copy of a stance or check-worthiness model folder with compact weights (4 or 8 bits).

Matrices are stored as integers with one fp16 scale per group of values in a row, everything else
in fp16 (service/runtime/compact_weights.py); the service and the training scripts load the copy
as they load any model folder. Score the copy before serving it: refit the verdict head on its dev
dumps, since its readings differ a little from the original's.

    scripts/compact_model.py runs/stance-mpnet/model --out runs/stance-mpnet/compact --bits 4
    scripts/evaluate_stance.py runs/stance-mpnet/model runs/stance-mpnet/compact --pairs runs/pairs --split dev
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from service.runtime.compact_weights import WEIGHTS_FILE, write_compact


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path, help="a model folder (config.json, model.safetensors, tokenizer)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the compact copy")
    parser.add_argument("--bits", type=int, choices=(4, 8), default=4)
    parser.add_argument("--group", type=int, default=64, help="values sharing one scale, along each row")
    args = parser.parse_args()
    if not (args.model_dir / WEIGHTS_FILE).is_file():
        parser.error(f"{args.model_dir} has no {WEIGHTS_FILE}")
    try:
        out = write_compact(args.model_dir, args.out, args.bits, args.group)
    except ValueError as error:
        parser.error(str(error))
    before, after = ((folder / WEIGHTS_FILE).stat().st_size / 1e6 for folder in (args.model_dir, out))
    print(f"{out / WEIGHTS_FILE}: {after:.1f} MB ({args.bits} bits, groups of {args.group}), from {before:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
