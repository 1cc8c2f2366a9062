"""Readers for the public training and evaluation sets in `../shared/data`, with fixed splits.

Only the training, evaluation and benchmark scripts use this module; the service never does.
Every set is split once, by claim, with a fixed seed: a claim's split is a pure function of
its dataset name and id, so every script agrees on it without shipping split files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from service.config import REPO_ROOT

SPLIT_SEED = "claimcheck-splits-v1"
TRAIN_FRACTION, DEV_FRACTION = 0.8, 0.1

VERDICT_OF_LABEL = {
    "SUPPORTS": "supported",
    "SUPPORTED": "supported",
    "Supports": "supported",
    "REFUTES": "refuted",
    "REFUTED": "refuted",
    "Refutes": "refuted",
    "NOT ENOUGH INFO": "not_enough_info",
    "NOT_ENOUGH_INFO": "not_enough_info",
    "Neutral": "not_enough_info",
    "DISPUTED": "conflicting",
}
STANCE_OF_VERDICT = {"supported": "supports", "refuted": "refutes", "not_enough_info": "neutral"}
STANCE_OF_NLI = {"entailment": "supports", "contradiction": "refutes", "neutral": "neutral"}


def default_data_dir() -> Path:
    """`CLAIMCHECK_DATA_DIR`, else `../shared/data` beside the repository."""
    configured = os.environ.get("CLAIMCHECK_DATA_DIR")
    if configured:
        return Path(configured)
    return REPO_ROOT.parent / "shared" / "data"


def split_of(dataset: str, key: object) -> str:
    """The fixed split ("train", "dev" or "test") of one claim of `dataset`."""
    digest = hashlib.sha256(f"{SPLIT_SEED}:{dataset}:{key}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    if position < TRAIN_FRACTION:
        return "train"
    return "dev" if position < TRAIN_FRACTION + DEV_FRACTION else "test"


_FEVER_TOKENS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}", "``": '"', "''": '"'}


def detokenize_fever(text: str) -> str:
    """Turn FEVER's tokenised Wikipedia text back into ordinary prose."""
    for token, char in _FEVER_TOKENS.items():
        text = text.replace(token, char)
    text = re.sub(r"\s+([.,;:!?%)\]}])", r"\1", text)
    text = re.sub(r"([(\[{$])\s+", r"\1", text)
    text = re.sub(r'"\s+(.*?)\s+"', r'"\1"', text)
    text = re.sub(r"\s+('s|n't|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip()


@dataclass
class ClaimExample:
    """One labelled claim with the ids and texts of its gold evidence."""

    dataset: str
    claim_id: str
    claim: str
    verdict: str
    split: str
    evidence_ids: list[str] = field(default_factory=list)
    evidence_texts: list[str] = field(default_factory=list)


UNLABELLED = "unlabelled"  # a StancePair's stance when only a teacher can say it (distillation)


@dataclass
class StancePair:
    """One (evidence, claim) pair with its stance label (or UNLABELLED), for training the cross-encoder."""

    premise: str
    hypothesis: str
    stance: str
    source: str


def read_jsonl(path: Path) -> Iterator[dict]:
    """The JSON objects of a JSONL file, skipping blank lines."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def fever_corpus(data_dir: Path) -> list[dict]:
    """FEVER's gold-evidence passage pool as `{"id", "text", "title"}` documents."""
    return [
        {
            "id": row["id"],
            "text": detokenize_fever(row["text"]),
            "title": detokenize_fever(" / ".join(row["pages"]).replace("_", " ")),
        }
        for row in read_jsonl(data_dir / "fever" / "corpus_evidence_passages.jsonl")
    ]


def fever_claims(data_dir: Path) -> list[ClaimExample]:
    """FEVER 1.0 paper-dev claims, split by claim id."""
    examples = []
    for row in read_jsonl(data_dir / "fever" / "fever_paper_dev.jsonl"):
        passage_id = row.get("evidence_passage_id")
        examples.append(
            ClaimExample(
                dataset="fever",
                claim_id=str(row["id"]),
                claim=row["claim"],
                verdict=VERDICT_OF_LABEL[row["label"]],
                split=split_of("fever", row["id"]),
                evidence_ids=[passage_id] if passage_id else [],
                evidence_texts=[detokenize_fever(row["evidence_text"])] if row.get("evidence_text") else [],
            )
        )
    return examples


def climate_fever_claims(data_dir: Path) -> list[ClaimExample]:
    """Climate-FEVER claims (DISPUTED becomes `conflicting`), split by claim id."""
    examples = []
    for row in read_jsonl(data_dir / "climate-fever" / "climate-fever.jsonl"):
        relevant = [e for e in row["evidences"] if e["evidence_label"] != "NOT_ENOUGH_INFO"]
        examples.append(
            ClaimExample(
                dataset="climate-fever",
                claim_id=str(row["claim_id"]),
                claim=row["claim"],
                verdict=VERDICT_OF_LABEL[row["claim_label"]],
                split=split_of("climate-fever", row["claim_id"]),
                evidence_ids=[e["evidence_id"] for e in relevant],
                evidence_texts=[e["evidence"] for e in relevant],
            )
        )
    return examples


def climate_fever_pairs(data_dir: Path, split: str) -> list[StancePair]:
    """Climate-FEVER evidence-level (sentence, claim) pairs of one split."""
    pairs = []
    for row in read_jsonl(data_dir / "climate-fever" / "climate-fever.jsonl"):
        if split_of("climate-fever", row["claim_id"]) != split:
            continue
        for evidence in row["evidences"]:
            stance = STANCE_OF_VERDICT[VERDICT_OF_LABEL[evidence["evidence_label"]]]
            pairs.append(StancePair(evidence["evidence"], row["claim"], stance, "climate-fever"))
    return pairs


def covidfact_claims(data_dir: Path) -> list[ClaimExample]:
    """COVID-Fact claims, split by source article so a claim and its counter-claim stay together."""
    corpus_ids = {row["text"]: row["id"] for row in read_jsonl(data_dir / "covidfact" / "corpus_evidence_sentences.jsonl")}
    examples = []
    for number, row in enumerate(read_jsonl(data_dir / "covidfact" / "COVIDFACT_dataset.jsonl")):
        examples.append(
            ClaimExample(
                dataset="covidfact",
                claim_id=str(number),
                claim=row["claim"],
                verdict=VERDICT_OF_LABEL[row["label"]],
                split=split_of("covidfact", row["gold_source"]),
                evidence_ids=[corpus_ids[text] for text in row["evidence"] if text in corpus_ids],
                evidence_texts=list(row["evidence"]),
            )
        )
    return examples


def healthver_pairs(data_dir: Path, split: str) -> list[StancePair]:
    """HealthVer (evidence, claim) pairs: the official test file is `test`; the official dev
    file is split by claim into `train` and `dev`."""
    pairs = []
    for file_name in ("healthver_dev.csv", "healthver_test.csv"):
        with open(data_dir / "healthver" / file_name, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if file_name == "healthver_test.csv":
                    row_split = "test"
                else:
                    row_split = "dev" if split_of("healthver", row["claim"].strip()) != "train" else "train"
                if row_split == split:
                    stance = STANCE_OF_VERDICT[VERDICT_OF_LABEL[row["label"]]]
                    pairs.append(StancePair(row["evidence"], row["claim"].strip(), stance, "healthver"))
    return pairs


def snli_pairs(data_dir: Path, split: str) -> list[StancePair]:
    """SNLI pairs: `test` is the official test set; the training subset is split 95/5 into
    `train` and `dev` by pair id."""
    if split == "test":
        rows = read_jsonl(data_dir / "snli" / "snli_test.jsonl")
    else:
        rows = (
            row
            for row in read_jsonl(data_dir / "snli" / "snli_train_100k.jsonl")
            if ("dev" if int(hashlib.sha256(f"{SPLIT_SEED}:snli:{row['pair_id']}".encode()).hexdigest(), 16) % 20 == 0 else "train")
            == split
        )
    return [
        StancePair(row["premise"], row["hypothesis"], STANCE_OF_NLI[row["label"]], "snli") for row in rows if row["label"] in STANCE_OF_NLI
    ]


CT24_FILES = {
    "train": "CT24_checkworthy_english_train.tsv",
    "dev": "CT24_checkworthy_english_dev.tsv",
    "dev-test": "CT24_checkworthy_english_dev-test.tsv",
}


def ct24_sentences(data_dir: Path, split: str, ids: range | None = None) -> tuple[list[str], list[int]]:
    """CheckThat! 2024 English check-worthiness sentences of one official split and their labels
    (1 = Yes); only those whose `Sentence_id` is in `ids` when given. The ids number the sentences
    debate by debate, so a range of ids is a run of whole debates (from 30000 on: 2016 ones; all of
    dev-test's ids are above train's)."""
    with open(data_dir / "checkworthiness" / "ct24_english" / CT24_FILES[split], encoding="utf-8", newline="") as handle:
        rows = [
            row for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE) if ids is None or int(row["Sentence_id"]) in ids
        ]
    return [row["Text"] for row in rows], [int(row["class_label"].strip() == "Yes") for row in rows]


FNC1_DIR = Path("stance-extra") / "fnc1"


def read_fnc1(data_dir: Path) -> tuple[dict[str, str], list[dict]]:
    """FNC-1's competition test set: the article bodies by `Body ID`, and the (headline, body)
    rows `{"Headline", "Body ID", "Stance"}` (stance unrelated, discuss, agree or disagree). It has
    no split of its own: see `service/training/hard_neutrals.py` for the one the project uses."""
    folder = data_dir / FNC1_DIR
    with open(folder / "competition_test_bodies.csv", encoding="utf-8", newline="") as handle:
        bodies = {row["Body ID"]: row["articleBody"] for row in csv.DictReader(handle)}
    with open(folder / "competition_test_stances.csv", encoding="utf-8", newline="") as handle:
        stances = list(csv.DictReader(handle))
    return bodies, stances


def load_dataset(name: str, data_dir: Path, split: str) -> tuple[str, list[ClaimExample], list[dict]]:
    """Claims of one split of a built-in set and the passage pool to index."""
    if name == "fever":
        claims, corpus = fever_claims(data_dir), fever_corpus(data_dir)
    elif name == "climate-fever":
        claims = climate_fever_claims(data_dir)
        corpus = [
            {"id": row["id"], "text": row["text"], "title": row["article"]}
            for row in read_jsonl(data_dir / "climate-fever" / "corpus_evidence_sentences.jsonl")
        ]
    elif name == "covidfact":
        claims = covidfact_claims(data_dir)
        corpus = list(read_jsonl(data_dir / "covidfact" / "corpus_evidence_sentences.jsonl"))
    else:
        raise ValueError(f"unknown data set {name!r}")
    return name, [c for c in claims if c.split == split], corpus


def index_corpus(corpus: list[dict], index_dir: Path, embedder, name: str):
    """Build the index of `corpus` (documents as the build script reads them) in `index_dir`,
    through a `NAME-corpus.jsonl` file beside it; returns the build's summary."""
    from service.index.build import build_index

    index_dir.parent.mkdir(parents=True, exist_ok=True)
    corpus_file = index_dir.parent / f"{name}-corpus.jsonl"
    with open(corpus_file, "w", encoding="utf-8") as handle:
        for row in corpus:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return build_index([corpus_file], index_dir, embedder)
