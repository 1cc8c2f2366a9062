"""Compare base models for the stance cross-encoder at equal, small training data, on a CPU.

Each base is fine-tuned with the same recipe on the same sample of training pairs (saved by
`scripts/train_stance.py --write-pairs DIR`), then scored on the same dev pairs; prints one JSON
line per base. The classifier reads the mean of the encoder's token vectors, not the first
token's: sentence-embedding bases (all-MiniLM-L6-v2, all-mpnet-base-v2) were trained to be
read that way, and a classifier on the first token stays at chance for hundreds of steps on small
data, which would compare nothing. This measures what each base learns from the same few
thousand pairs; it is not how the shipped model is trained (models/stance-minilm/README.md).

    scripts/compare_bases.py --pairs DIR --base minilm=PATH --base mpnet=PATH --learning-rate 8e-5 3e-5
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

LABELS = ["supports", "refutes", "neutral"]
SHARES = {"snli": 0.30, "fever": 0.22, "fever-retrieved": 0.15, "climate-fever": 0.13, "covidfact": 0.12, "healthver": 0.08}
DEV_SAMPLED = {"fever-retrieved": 500, "snli": 500}  # dev pairs of these sources sampled; every dev pair of the others


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, required=True, help="folder of train.jsonl.gz and dev.jsonl.gz (--write-pairs)")
    parser.add_argument("--base", action="append", required=True, help="NAME=FOLDER of a transformers model; repeat per base")
    parser.add_argument("--learning-rate", type=float, nargs="+", required=True, help="one per base, or one for all")
    parser.add_argument("--train-pairs", type=int, default=8000)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    bases = [base.split("=", 1) for base in args.base]
    if any(len(base) != 2 for base in bases):
        parser.error("--base takes NAME=FOLDER")
    rates = args.learning_rate * len(bases) if len(args.learning_rate) == 1 else args.learning_rate
    if len(rates) != len(bases):
        parser.error("give one --learning-rate for all bases, or one per base")
    import torch

    torch.set_num_threads(args.threads)
    for (name, folder), rate in zip(bases, rates, strict=True):
        print(json.dumps(compare(name, folder, rate, args.pairs, args.train_pairs, args.max_length)), flush=True)
    return 0


def compare(name: str, folder: str, learning_rate: float, pairs_dir: Path, train_pairs: int, max_length: int) -> dict:
    """Fine-tune `folder` with a mean-pooled 3-way head on a fixed sample of training pairs and score it on dev."""
    import numpy as np
    import torch
    from sklearn.metrics import accuracy_score, f1_score
    from tqdm import tqdm
    from transformers import AutoModel, AutoTokenizer

    from service.training.stance import read_pairs

    rng = random.Random(0)
    by_source = defaultdict(list)
    for pair in read_pairs(pairs_dir / "train.jsonl.gz"):
        by_source[pair.source].append(pair)
    sample = [
        p for source, share in SHARES.items() for p in rng.sample(by_source[source], min(len(by_source[source]), int(share * train_pairs)))
    ]
    rng.shuffle(sample)
    dev_all = read_pairs(pairs_dir / "dev.jsonl.gz")
    dev = [p for p in dev_all if p.source not in DEV_SAMPLED]
    for source, count in DEV_SAMPLED.items():
        of_source = [p for p in dev_all if p.source == source]
        dev += rng.sample(of_source, min(count, len(of_source)))
    tokenizer = AutoTokenizer.from_pretrained(folder)

    class MeanPooled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(folder)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(LABELS))

        def forward(self, input_ids, attention_mask, **_):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).float()
            return self.head((hidden * weights).sum(1) / weights.sum(1))

    torch.manual_seed(13)
    model = MeanPooled()

    def batches_of(pairs, size: int, shuffle: bool) -> list[list[int]]:
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i].premise) + len(pairs[i].hypothesis))
        chunks = [order[i : i + size] for i in range(0, len(order), size)]
        if shuffle:
            random.Random(13).shuffle(chunks)
        return chunks

    def encode(pairs, numbers):
        return tokenizer(
            [pairs[i].premise for i in numbers],
            [pairs[i].hypothesis for i in numbers],
            truncation="longest_first",
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        )

    chunks = batches_of(sample, 16, True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    warmup = int(0.1 * len(chunks))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: s / max(1, warmup) if s < warmup else max(0.0, (len(chunks) - s) / max(1, len(chunks) - warmup))
    )
    model.train()
    started, running = time.time(), None
    bar = tqdm(chunks, desc=name, mininterval=10, file=sys.stderr)
    for numbers in bar:
        gold = torch.tensor([LABELS.index(sample[i].stance) for i in numbers])
        loss = torch.nn.functional.cross_entropy(model(**encode(sample, numbers)), gold)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        bar.set_postfix(loss=f"{running:.3f}", refresh=False)
    train_seconds = time.time() - started
    model.eval()
    started, guesses = time.time(), [None] * len(dev)
    with torch.inference_mode():
        for numbers in batches_of(dev, 32, False):
            for i, label in zip(numbers, model(**encode(dev, numbers)).argmax(-1).tolist(), strict=True):
                guesses[i] = LABELS[label]
    by_set = defaultdict(lambda: ([], []))
    for pair, guess in zip(dev, guesses, strict=True):
        key = "fever" if pair.source.startswith("fever") else pair.source
        by_set[key][0].append(pair.stance)
        by_set[key][1].append(guess)
    scores = {
        key: {
            "pairs": len(gold),
            "accuracy": round(accuracy_score(gold, guess), 3),
            "macro_f1": round(f1_score(gold, guess, average="macro", labels=LABELS), 3),
        }
        for key, (gold, guess) in sorted(by_set.items())
    }
    fact_checking = [score["macro_f1"] for key, score in scores.items() if key != "snli"]
    return {
        "base": name,
        "folder": str(folder),
        "train_pairs": len(sample),
        "steps": len(chunks),
        "learning_rate": learning_rate,
        "max_length": max_length,
        "train_seconds": round(train_seconds),
        "dev_pairs_per_second": round(len(dev) / (time.time() - started), 1),
        "dev": scores,
        "dev_mean_macro_f1_fact_checking": round(float(np.mean(fact_checking)), 3),
    }


if __name__ == "__main__":
    raise SystemExit(main())
