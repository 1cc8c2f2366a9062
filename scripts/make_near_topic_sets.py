"""Regenerate the near-topic sets: scripts/make_near_topic_sets.py [--data-dir DIR].

Reads the White House documents of `background/` in the shared data, keeps the sentences the
rule of `service/evaluation/near_topic.py` keeps, splits them between dev and test by document,
samples each split with a fixed seed, drops the ids listed in
`service/evaluation/sets/near_topic_excluded.txt`, and writes `near_topic_dev.jsonl` and
`near_topic_test.jsonl` there. The same data and code give the same files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from service.evaluation.near_topic import PER_SPLIT, SEED, SETS_DIR, make_sets
from service.training.datasets import default_data_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--out", type=Path, default=SETS_DIR, help="where the sets and the exclusion list live")
    parser.add_argument("--per-split", type=int, default=PER_SPLIT, help="sentences sampled per split, before exclusions")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    print(json.dumps(make_sets(args.data_dir, args.out, args.per_split, args.seed), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
