"""Score stance readers on the held-out pairs of `scripts/train_stance.py --write-pairs`, set by set.

Each model reads the pairs as the service reads them (`StanceClassifier`: int8 by default, 256
tokens). For each set: accuracy and macro-F1; the hard neutral sets (#21.2, every pair neutral)
report the share read as neutral as their accuracy. `--average` also scores the mean of the
models' probabilities (what distilling from several teachers aims at). Probabilities are kept in
`--cache` so a model is read once per pair file.

    scripts/evaluate_stance.py models/stance-minilm runs/stance-mpnet/model --pairs runs/pairs-hn --split dev --average
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help="stance model folders")
    parser.add_argument("--pairs", type=Path, required=True, help="folder of dev.jsonl.gz and test.jsonl.gz (--write-pairs)")
    parser.add_argument("--split", default="dev", choices=("dev", "test"))
    parser.add_argument("--average", action="store_true", help="also score the mean of the models' probabilities")
    parser.add_argument("--cache", type=Path, default=Path("runs/stance-probabilities"), help="where read probabilities are kept")
    parser.add_argument("--out", type=Path, help="write the report here as JSON")
    args = parser.parse_args()
    from service.training.scoring import classification_report
    from service.training.stance import STANCE_LABELS, TrainingConfig, collect_pairs, read_pairs

    pairs = collect_pairs(TrainingConfig(Path("."), Path(".")), args.split, read_pairs(args.pairs / f"{args.split}.jsonl.gz"))
    sources = sorted({pair.source.split("-retrieved")[0] for pair in pairs})
    members = {str(model): probabilities(model, pairs, args.cache) for model in args.models}
    if args.average and len(members) > 1:
        members["average of " + ", ".join(members)] = np.mean(list(members.values()), axis=0)
    report = {"pairs": str(args.pairs), "split": args.split, "models": {}}
    for name, read in members.items():
        rows = {}
        for source in sources:
            chosen = [i for i, pair in enumerate(pairs) if pair.source.split("-retrieved")[0] == source]
            scores = classification_report(
                [pairs[i].stance for i in chosen], [STANCE_LABELS[int(np.argmax(read[i]))] for i in chosen], STANCE_LABELS
            )
            rows[source] = {"pairs": len(chosen), "accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"]}
        report["models"][name] = rows
        print(name)
        for source, row in rows.items():
            print(f"  {source:22s} {row['pairs']:5d} pairs  accuracy {row['accuracy']:.3f}  macro-F1 {row['macro_f1']:.3f}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def probabilities(model_dir: Path, pairs: list, cache_dir: Path) -> np.ndarray:
    """The model's stance probabilities for each pair (STANCE_LABELS order), read once and cached by model and pairs."""
    from service.pipeline.stance import StanceClassifier
    from service.training.stance import STANCE_LABELS

    weights = max((model_dir / name for name in ("model.safetensors", "model.onnx")), key=lambda p: p.is_file())
    read_pairs = [(p.premise, p.hypothesis) for p in pairs]
    key = hashlib.sha256(json.dumps([str(model_dir.resolve()), weights.stat().st_mtime_ns, read_pairs]).encode())
    cache = cache_dir / f"{model_dir.name}-{key.hexdigest()[:16]}.npy"
    if cache.is_file():
        return np.load(cache)
    reader = StanceClassifier(model_dir)
    reader.warm_up()
    started, read = time.perf_counter(), []
    for start in range(0, len(pairs), 256):
        read += reader.predict(read_pairs[start : start + 256])
        rate = len(read) / (time.perf_counter() - started)
        print(f"{model_dir}: {len(read)}/{len(pairs)} pairs, {rate:.0f}/s", file=sys.stderr, flush=True)
    result = np.array([[row[label] for label in STANCE_LABELS] for row in read], dtype=np.float32)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(cache, result)
    return result


if __name__ == "__main__":
    sys.exit(main())
