"""Train the stance cross-encoder from the packaged MiniLM weights (or another base, `--base`); see models/stance-minilm/README.md."""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections import Counter
from pathlib import Path

from service.training.corpus_pairs import NEWS_CAP, add_corpus_pairs
from service.training.datasets import default_data_dir
from service.training.hard_neutrals import EVAL_CAP, SET_ALIASES, SET_SOURCES, TRAIN_CAP, parse_sets, save_split_pairs_with_hard_neutrals
from service.training.negated_pairs import add_negated_pairs
from service.training.reading_pairs import READING_SETS, add_reading_pairs
from service.training.stance import TrainingConfig, base_description, run, save_split_pairs, seed_warning

REPO = Path(__file__).resolve().parent.parent


def positive_float(text: str) -> float:
    """An argparse type: a number above zero."""
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above zero, got {text}")
    return value


def hard_neutral_sets(text: str) -> tuple[str, ...]:
    """An argparse type: a comma-separated list of hard-neutral sets (service/training/hard_neutrals.py)."""
    try:
        return parse_sets(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def reading_claims(text: str) -> tuple[str, int]:
    """An argparse type: SET=CLAIMS, a reading set (service/training/reading_pairs.py) and a count above zero."""
    name, _, number = text.partition("=")
    if name not in READING_SETS or not number.isdigit() or int(number) == 0:
        raise argparse.ArgumentTypeError(f"expected SET=CLAIMS with SET one of {', '.join(READING_SETS)} and CLAIMS above 0, got {text!r}")
    return name, int(number)


def source_share(text: str) -> tuple[str, float]:
    """An argparse type: SOURCE=FRACTION, a pair source and its share of the curated subset (above 0, at most 1)."""
    name, _, number = text.partition("=")
    try:
        share = float(number)
    except ValueError:
        share = math.nan
    if not name or not 0 < share <= 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected SOURCE=FRACTION with FRACTION above 0 and at most 1, got {text!r}")
    return name, share


def share_of_pairs(text: str) -> float:
    """An argparse type: a share above 0 and at most 1."""
    share = float(text)
    if not 0 < share <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share in (0, 1]")
    return share


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number, zero or more."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {text}")
    return value


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
    parser.add_argument("--batch-size", type=int, default=TrainingConfig.batch_size)
    parser.add_argument("--max-steps", type=int, default=None, help="train the first N batches of the epochs only")
    parser.add_argument(
        "--time-budget-minutes",
        type=positive_float,
        default=None,
        help="stop training after this long (data, saving and evaluation not counted), the learning rate decayed to zero by then",
    )
    parser.add_argument("--hard-neutrals", type=int, default=TrainingConfig.hard_neutrals, help="mined neutrals per FEVER claim")
    parser.add_argument("--base", type=Path, default=None, help="a local base model folder (e.g. all-mpnet-base-v2)")
    parser.add_argument(
        "--teacher",
        type=Path,
        nargs="+",
        default=(),
        help="distil: learn these stance models' averaged probabilities, mixed with a labelled pair's gold label (--teacher-weight)",
    )
    parser.add_argument(
        "--teacher-weight", type=float, default=TrainingConfig.teacher_weight, help="the teacher's share of a labelled pair's target"
    )
    parser.add_argument("--seed", type=int, default=TrainingConfig.seed, help="shuffles, the curated subset, initial weights")
    parser.add_argument("--pairs", type=Path, default=None, help="train on the pair files --write-pairs saved instead of collecting them")
    parser.add_argument(
        "--pooling",
        choices=("first", "mean"),
        default=TrainingConfig.pooling,
        help="classify the first token (transformers' head, the shipped MiniLM) or the mean token vector (for --base on a CPU)",
    )
    parser.add_argument("--max-train-pairs", type=int, default=None, help="train on a curated subset of this many pairs (CPU runs)")
    parser.add_argument(
        "--checkpoint-dir", type=Path, default=None, help="save a checkpoint here every 10 minutes, and resume from it when started again"
    )
    parser.add_argument("--write-pairs", type=Path, default=None, help="collect every split's pairs into this folder and stop")
    set_names = ", ".join([*SET_SOURCES, *SET_ALIASES])
    parser.add_argument(
        "--hard-neutral-sets",
        type=hard_neutral_sets,
        default=(),
        help=f"with --write-pairs: add these hard neutral sets ({set_names}; comma-separated) to every split's pairs (default: none)",
    )
    parser.add_argument(
        "--hard-neutral-train-sets",
        type=hard_neutral_sets,
        default=None,
        help="of those, the sets that also go into train (default: all of them; 'none' keeps them to dev and test, for a baseline)",
    )
    parser.add_argument(
        "--hard-neutral-cap", type=non_negative_int, default=TRAIN_CAP, help="at most this many train pairs per hard neutral set"
    )
    parser.add_argument(
        "--hard-neutral-eval-cap",
        type=non_negative_int,
        default=EVAL_CAP,
        help="at most this many dev and this many test pairs per hard neutral set",
    )
    parser.add_argument(
        "--reading-pairs",
        type=reading_claims,
        nargs="+",
        default=(),
        metavar="SET=CLAIMS",
        help=f"with --write-pairs: add to train the unlabelled pairs the service reads for up to CLAIMS train claims of each set"
        f" ({', '.join(READING_SETS)}), for distillation (service/training/reading_pairs.py)",
    )
    parser.add_argument(
        "--negated-pairs",
        type=share_of_pairs,
        default=None,
        metavar="SHARE",
        help="with --write-pairs: add to train, for about this share of the labelled train pairs, the pair with the claim"
        " negated and the label turned (service/training/negated_pairs.py; measured in docs/training.md)",
    )
    parser.add_argument(
        "--corpus-pairs",
        type=non_negative_int,
        default=None,
        metavar="NEWS_SENTENCES",
        help="with --write-pairs: add to train the pairs made from the shipped treaties' own sentences (less the articles the"
        " treaty-settled benchmark cites) and from this many news sentences of the background statements' train split"
        f" (service/training/corpus_pairs.py; {NEWS_CAP} in docs/training.md)",
    )
    parser.add_argument(
        "--share",
        type=source_share,
        nargs="+",
        default=None,
        metavar="SOURCE=FRACTION",
        help="with --max-train-pairs: each pair source's share of the subset, replacing the default shares (unnamed sources: none)",
    )
    args = parser.parse_args()
    if len(dict(args.reading_pairs)) < len(args.reading_pairs):
        parser.error("--reading-pairs names each set once")
    if args.reading_pairs and args.write_pairs is None:
        parser.error("--reading-pairs adds pairs to the files --write-pairs saves: write them, then train with --pairs --teacher")
    if args.negated_pairs is not None and args.write_pairs is None:
        parser.error("--negated-pairs adds pairs to the files --write-pairs saves: write them, then train with --pairs")
    if args.corpus_pairs is not None and args.write_pairs is None:
        parser.error("--corpus-pairs adds pairs to the files --write-pairs saves: write them, then train with --pairs")
    if args.share and args.max_train_pairs is None:
        parser.error("--share sets the shares of the curated subset: give --max-train-pairs")
    shares = dict(args.share or ())
    if args.share and (len(shares) < len(args.share) or sum(shares.values()) > 1 + 1e-9):
        parser.error("--share names each source once, and the shares add up to at most 1")
    if (args.hard_neutral_sets or args.hard_neutral_train_sets) and args.write_pairs is None:
        parser.error("--hard-neutral-sets adds pairs to the files --write-pairs saves: write them, then train with --pairs")
    if args.hard_neutral_train_sets and set(args.hard_neutral_train_sets) - set(args.hard_neutral_sets):
        parser.error("--hard-neutral-train-sets must be among --hard-neutral-sets")
    if args.base is not None and args.init_from is not None:
        parser.error("--init-from continues a trained model: its base is that model's, so --base would be ignored")
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
        batch_size=args.batch_size,
        max_steps=args.max_steps,
        time_budget_minutes=args.time_budget_minutes,
        hard_neutrals=args.hard_neutrals,
        base_model_dir=args.base,
        **({"base_model": base_description(args.base)} if args.base is not None else {}),
        pairs_dir=args.pairs,
        pooling=args.pooling,
        max_train_pairs=args.max_train_pairs,
        checkpoint_dir=args.checkpoint_dir,
        teacher_dirs=tuple(args.teacher),
        teacher_weight=args.teacher_weight,
        seed=args.seed,
        curated_shares=shares or None,
    )
    if args.write_pairs is not None and args.hard_neutral_sets:
        written = save_split_pairs_with_hard_neutrals(
            config,
            args.write_pairs,
            args.hard_neutral_sets,
            args.hard_neutral_train_sets,
            args.hard_neutral_cap,
            args.hard_neutral_eval_cap,
        )
    elif args.write_pairs is not None:
        written = save_split_pairs(config, args.write_pairs)
    if args.write_pairs is not None:
        if args.reading_pairs:
            with tempfile.TemporaryDirectory() as scratch:
                added = add_reading_pairs(args.write_pairs, args.data_dir, dict(args.reading_pairs), Path(scratch))
            written["train"] += Counter(added)
        if args.negated_pairs is not None:
            written["train"] += Counter(add_negated_pairs(args.write_pairs, args.negated_pairs, args.seed))
        if args.corpus_pairs is not None:
            written["train"] += Counter(add_corpus_pairs(args.write_pairs, args.data_dir, args.corpus_pairs, args.seed))
        for split, counts in written.items():
            print(f"{split}: {sum(counts.values())} pairs, {dict(counts)}")
        return
    report = run(config)
    print(json.dumps(report, indent=2))
    if warning := seed_warning(report):
        print(warning, file=sys.stderr)


if __name__ == "__main__":
    main()
