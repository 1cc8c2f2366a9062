"""The pairs the service reads, for distilling a stance reader into MiniLM (#22.2).

For the claims of one split of a claim set (FEVER, Climate-FEVER, COVID-Fact), the set's passage
pool is indexed with the project's build code and each claim retrieves its passages as
`POST /v1/verify` does (`retrieve`, `stance_readings`): every passage whole and each sentence of
the best-ranked ones, long passages by their sentences only. Readings of passages under the
relevance floor are left out (the verdict counts those as neutral whatever they read). No set labels these readings, so each pair is
`UNLABELLED`: a distillation run (`scripts/train_stance.py --teacher`) learns the teachers'
probabilities for it and nothing else.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from service.training.datasets import UNLABELLED, StancePair

READING_SETS = ("fever", "climate-fever", "covidfact")


def reading_source(name: str) -> str:
    """The `source` of a set's reading pairs."""
    return f"reading-{name}"


def reading_pairs(name: str, data_dir: Path, claims_limit: int, index_dir: Path) -> list[StancePair]:
    """The pairs the service reads for up to `claims_limit` train claims of set `name` (a fixed,
    hash-ordered choice; claim texts that also occur in the set's dev or test split are skipped)."""
    from service.training.datasets import load_dataset
    from service.training.hard_neutrals import order_key

    held_out = {c.claim for split in ("dev", "test") for c in load_dataset(name, data_dir, split)[1]}
    _, claims, corpus = load_dataset(name, data_dir, "train")
    texts = sorted({c.claim for c in claims} - held_out, key=lambda text: order_key("reading", name, text))[:claims_limit]
    return readings(texts, corpus, index_dir, reading_source(name))


def readings(claims: list[str], corpus: list[dict], index_dir: Path, source: str) -> list[StancePair]:
    """Index `corpus` (documents as the build script reads them) in `index_dir` and return the
    distinct pairs the service reads for `claims` over it (the service's top_k, sentence passages
    and relevance floor), each UNLABELLED."""
    from service.config import Settings
    from service.index.reference import ReferenceIndex
    from service.pipeline.retrieval import retrieve
    from service.pipeline.stance import stance_readings
    from service.runtime.embedding import Embedder
    from service.training.datasets import index_corpus

    settings = Settings()
    embedder = Embedder()
    embedder.warm_up()
    index_corpus(corpus, index_dir, embedder, source)
    index = ReferenceIndex.load(index_dir, embedder)
    pairs, seen = [], set()
    for start in range(0, len(claims), 256):
        batch = claims[start : start + 256]
        hits = retrieve(embedder, [(index, batch, settings.default_top_k)])
        for reading in stance_readings(batch, hits, settings.sentence_passages, settings.whole_reading_limit):
            if round(hits[reading.claim][reading.hit].score, 4) < settings.min_relevance or reading.pair in seen:
                continue
            seen.add(reading.pair)
            pairs.append(StancePair(reading.pair[0], reading.pair[1], UNLABELLED, source))
        print(f"{source}: {min(start + 256, len(claims))}/{len(claims)} claims, {len(pairs)} pairs", flush=True)
    return pairs


def add_reading_pairs(directory: Path, data_dir: Path, claims_per_set: dict[str, int], scratch: Path) -> dict[str, int]:
    """Add the reading pairs of each set's train claims (up to its count in `claims_per_set`) to
    the train pairs in `directory` (written by `--write-pairs`), replacing any it held and leaving
    out those a labelled train pair already asks; record them in its `pairs.json` with the reading
    settings. Dev and test keep their labelled pairs only. Returns the pairs added per source."""
    from service.config import Settings
    from service.training.stance import PAIRS_SETTINGS, read_pairs, write_pairs

    unknown = set(claims_per_set) - set(READING_SETS)
    if unknown:
        raise ValueError(f"no reading pairs for {sorted(unknown)}: the sets are {', '.join(READING_SETS)}")
    settings_file = directory / PAIRS_SETTINGS
    if not settings_file.is_file():
        raise ValueError(f"{directory} has no {PAIRS_SETTINGS}: write the pairs with --write-pairs first")
    train = [pair for pair in read_pairs(directory / "train.jsonl.gz") if pair.stance != UNLABELLED]
    labelled = {(pair.premise, pair.hypothesis) for pair in train}
    added = {}
    for name, limit in claims_per_set.items():
        pairs = [p for p in reading_pairs(name, data_dir, limit, scratch / name / "index") if (p.premise, p.hypothesis) not in labelled]
        added[reading_source(name)] = len(pairs)
        train += pairs
    write_pairs(train, directory / "train.jsonl.gz")
    service = Settings()
    settings = json.loads(settings_file.read_text())
    settings["pairs"]["train"] = Counter(pair.source for pair in train)
    settings["reading_pairs"] = {
        "claims_per_set": claims_per_set,
        "pairs": added,
        "top_k": service.default_top_k,
        "sentence_passages": service.sentence_passages,
        "max_sentences_read_whole": service.whole_reading_limit,
        "min_relevance": service.min_relevance,
    }
    settings_file.write_text(json.dumps(settings, indent=2) + "\n")
    return added
