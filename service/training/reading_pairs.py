"""The pairs the service reads, for distilling a stance reader into MiniLM (#22.2).

For the claims of one split of a claim set (FEVER, Climate-FEVER, COVID-Fact), the set's passage
pool is indexed with the project's build code and each claim retrieves its passages as
`POST /v1/verify` does (`retrieve`, `stance_readings`): every passage whole and each sentence of
the best-ranked ones. Readings of passages under the relevance floor are left out (the verdict
counts those as neutral whatever they read). No set labels these readings, so each pair is
`UNLABELLED`: a distillation run (`scripts/train_stance.py --teacher`) learns the teachers'
probabilities for it and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from service.training.datasets import StancePair

UNLABELLED = "unlabelled"  # a pair's stance when only a teacher can say it
READING_SETS = ("fever", "climate-fever", "covidfact")
ORDER_SALT = "claimcheck-reading-pairs-v1"


def reading_source(name: str) -> str:
    """The `source` of a set's reading pairs."""
    return f"reading-{name}"


def reading_pairs(name: str, data_dir: Path, split: str, claims_limit: int, index_dir: Path, top_k: int = 5) -> list[StancePair]:
    """The distinct (passage or sentence, claim) pairs the service reads for up to `claims_limit`
    claims of `split` of set `name` (a fixed, hash-ordered choice), above the relevance floor."""
    from service.evaluation.harness import load_dataset

    _, claims, corpus = load_dataset(name, data_dir, split)
    texts = sorted({c.claim for c in claims}, key=lambda text: hashlib.sha256((ORDER_SALT + text).encode()).hexdigest())[:claims_limit]
    return readings(texts, corpus, index_dir, reading_source(name), top_k)


def readings(claims: list[str], corpus: list[dict], index_dir: Path, source: str, top_k: int = 5) -> list[StancePair]:
    """Index `corpus` (documents as the build script reads them) in `index_dir` and return the
    distinct pairs the service reads for `claims` over it, above the relevance floor, unlabelled."""
    from service.config import Settings
    from service.index.build import build_index
    from service.index.reference import ReferenceIndex
    from service.pipeline.retrieval import retrieve
    from service.pipeline.stance import stance_readings
    from service.runtime.embedding import Embedder

    index_dir.parent.mkdir(parents=True, exist_ok=True)
    corpus_file = index_dir.parent / f"{source}-corpus.jsonl"
    corpus_file.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in corpus), encoding="utf-8")
    settings = Settings(index_dir=index_dir)
    embedder = Embedder()
    embedder.warm_up()
    build_index([corpus_file], index_dir, embedder)
    index = ReferenceIndex.load(index_dir, embedder)
    pairs, seen = [], set()
    for start in range(0, len(claims), 256):
        batch = claims[start : start + 256]
        hits = retrieve(embedder, [(index, batch, top_k)])
        for reading in stance_readings(batch, hits, settings.sentence_passages):
            if round(hits[reading.claim][reading.hit].score, 4) < settings.min_relevance or reading.pair in seen:
                continue
            seen.add(reading.pair)
            pairs.append(StancePair(reading.pair[0], reading.pair[1], UNLABELLED, source))
        print(f"{source}: {min(start + 256, len(claims))}/{len(claims)} claims, {len(pairs)} pairs", flush=True)
    return pairs


def add_reading_pairs(directory: Path, data_dir: Path, claims_per_set: dict[str, int], scratch: Path) -> dict[str, int]:
    """Add the reading pairs of each set's `train` claims (up to its count in `claims_per_set`) to
    the train pairs in `directory` (written by `--write-pairs`), replacing any it held, and record
    them in its `pairs.json`; dev and test keep their labelled pairs only. Returns pairs per set."""
    from service.training.stance import PAIRS_SETTINGS, read_pairs, write_pairs

    unknown = set(claims_per_set) - set(READING_SETS)
    if unknown:
        raise ValueError(f"no reading pairs for {sorted(unknown)}: the sets are {', '.join(READING_SETS)}")
    settings_file = directory / PAIRS_SETTINGS
    if not settings_file.is_file():
        raise ValueError(f"{directory} has no {PAIRS_SETTINGS}: write the pairs with --write-pairs first")
    train = [pair for pair in read_pairs(directory / "train.jsonl.gz") if pair.stance != UNLABELLED]
    added = {}
    for name, limit in claims_per_set.items():
        pairs = reading_pairs(name, data_dir, "train", limit, scratch / name / "index")
        added[reading_source(name)] = len(pairs)
        train += pairs
    write_pairs(train, directory / "train.jsonl.gz")
    settings = json.loads(settings_file.read_text())
    settings["reading_pairs"] = {"claims_per_set": claims_per_set, "pairs": added}
    settings_file.write_text(json.dumps(settings, indent=2) + "\n")
    return added
