"""End-to-end evaluation of verdicts, evidence retrieval and calibration (scripts/evaluate.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from service.config import REPO_ROOT, Settings
from service.evaluation import near_topic
from service.index.build import build_index
from service.pipeline.pipeline import Pipeline
from service.results import VERDICTS, Evidence
from service.training.datasets import (
    STANCE_OF_VERDICT,
    ClaimExample,
    healthver_pairs,
    index_corpus,
    read_jsonl,
)
from service.training.scoring import classification_report, decisive_precision, expected_calibration_error


def load_custom(claims_path: Path, corpus_path: Path) -> tuple[str, list[ClaimExample], list[dict]]:
    """A set in the simple form: claims `{"claim", "label", "evidence_ids"}` and a corpus JSONL."""
    claims = []
    for number, row in enumerate(read_jsonl(claims_path)):
        if row["label"] not in VERDICTS:
            raise ValueError(f"{claims_path}:{number + 1}: label {row['label']!r} is not one of {VERDICTS}")
        claims.append(
            ClaimExample(
                "custom", str(row.get("id", number)), row["claim"], row["label"], "custom", [str(e) for e in row.get("evidence_ids", [])]
            )
        )
    return claims_path.stem, claims, list(read_jsonl(corpus_path))


def dump_sentence_passages(row: dict) -> int:
    """How many best-retrieved passages a `--dump` row's claim had read sentence by sentence."""
    return row.get("sentence_passages", 3)  # dumps older than the field read 3


def dump_reading(row: dict) -> tuple[int, int | None]:
    """How a `--dump` row's claim had its passages read: `sentence_passages` and `max_sentences_read_whole`."""
    return dump_sentence_passages(row), row.get("max_sentences_read_whole")


def dumped(evidence: Evidence) -> dict:
    """One evidence passage as a `--dump` row keeps it: what the verdict stage reads, and where it is."""
    return {
        "doc_id": evidence.doc_id,
        "section": evidence.section,
        "retrieval_rank": evidence.retrieval_rank,
        "retrieval_score": evidence.retrieval_score,
        "claim_similarity": evidence.claim_similarity,
        "claim_coverage": evidence.claim_coverage,
        "negation_consistent": evidence.negation_consistent,
        "stance_probs": evidence.stance_probs,
        "other_subject": evidence.other_subject,
        "sentence": evidence.sentence.text if evidence.sentence else None,
    }


def verdict_settings(pipeline: Pipeline) -> dict:
    """What a report's verdicts were read with: the stance model and runtime, the head or the rule, the operating
    point, the negation check and the cascade's second reader."""
    return {
        "stance_model": str(pipeline.stance.model_dir.name),
        "stance_backend": pipeline.stance.backend,
        "verdict_logic": "head" if pipeline.verdict_head else "rule",
        "operating_point": pipeline.operating_point._asdict(),
        "negation_check": pipeline.settings.negation_check,
        "max_sentences_read_whole": pipeline.settings.whole_reading_limit,
        "rereader": str(pipeline.rereader.model_dir.name) if pipeline.rereader is not None else None,
    }


def verify_all(pipeline: Pipeline, claims: list[str], top_k: int) -> tuple[list, float]:
    """Every claim verified through the service's code path, 32 at a time, and the seconds it took;
    loads the pipeline's models and index first and stops its worker after."""
    pipeline.warm_up()
    try:
        started = time.perf_counter()
        results = []
        for start in range(0, len(claims), 32):
            results += pipeline.verify(claims[start : start + 32], top_k).results
        return results, time.perf_counter() - started
    finally:
        pipeline.close()


def write_dump(path: Path, rows: list[dict], results: list, settings: Settings) -> None:
    """A `--dump` file: each claim's row with its verdict, confidence and evidence as the verdict stage read it, and how
    its passages were read (`settings`)."""
    reading = {"sentence_passages": settings.sentence_passages, "max_sentences_read_whole": settings.whole_reading_limit}
    with open(path, "w", encoding="utf-8") as handle:
        for row, result in zip(rows, results, strict=True):
            dumped_row = {**row, "verdict": result.verdict, "confidence": result.confidence, **reading}
            handle.write(json.dumps({**dumped_row, "evidence": [dumped(e) for e in result.evidence]}, ensure_ascii=False) + "\n")


def dumped_evidence(row: dict, voters: int) -> list[Evidence]:
    """The evidence of one claim of a `--dump` file, as the verdict stage reads it; raises
    ValueError when the dump read fewer passages sentence by sentence than `voters` (the
    service reads the sentences of every voting passage)."""
    read = dump_sentence_passages(row)
    if read < voters:
        raise ValueError(
            f"this dump read the sentences of {read} passage(s) per claim, fewer than the {voters} voters asked for; "
            f"dump again with CLAIMCHECK_VERDICT_PASSAGES={voters}"
        )
    return [
        Evidence(
            e["doc_id"],
            None,
            None,
            "",
            0,
            0,
            e["retrieval_score"],
            e["retrieval_rank"],
            max(probs, key=probs.get),
            probs,
            claim_similarity=e.get("claim_similarity"),
            claim_coverage=e.get("claim_coverage"),
            negation_consistent=e.get("negation_consistent"),
            other_subject=e.get("other_subject"),
        )
        for e in row["evidence"]
        for probs in [e["stance_probs"]]
    ]


def evaluate_claims(
    name: str, split: str, claims: list[ClaimExample], corpus: list[dict], index_dir: Path, top_k: int, dump: Path | None = None
) -> dict:
    """Index `corpus`, verify every claim through the pipeline, and score the verdicts; with
    `dump`, also write each claim's gold label, verdict and evidence scores there (JSONL)."""
    pipeline = Pipeline(Settings(index_dir=index_dir))
    build = index_corpus(corpus, index_dir, pipeline.embedder, name)
    results, seconds = verify_all(pipeline, [c.claim for c in claims], top_k)
    if dump is not None:
        rows = [{"claim": c.claim, "gold": c.verdict, "gold_ids": c.evidence_ids} for c in claims]
        write_dump(dump, rows, results, pipeline.settings)
    gold = [c.verdict for c in claims]
    guess = [r.verdict for r in results]
    correct = [g == p for g, p in zip(gold, guess, strict=True)]
    with_evidence = [(c, r) for c, r in zip(claims, results, strict=True) if c.evidence_ids]
    retrieved = [[e.doc_id for e in sorted(r.evidence, key=lambda e: e.retrieval_rank)] for _, r in with_evidence]
    report = {
        "dataset": name,
        "split": split,
        "claims": len(claims),
        "passage_pool": {"documents": build.documents, "passages": build.passages},
        **classification_report(gold, guess, VERDICTS),
        "evidence_recall": {
            f"@{k}": round(
                float(np.mean([bool(set(c.evidence_ids) & set(ids[:k])) for (c, _), ids in zip(with_evidence, retrieved, strict=True)])), 4
            )
            if with_evidence
            else None
            for k in (1, 5)
        },
        "ece": round(expected_calibration_error([r.confidence for r in results], correct), 4),
        **decisive_precision(gold, guess),
        "claims_per_second": round(len(claims) / seconds, 2) if seconds else None,
        "top_k": top_k,
        **verdict_settings(pipeline),
    }
    return report


def evaluate_healthver_pairs(data_dir: Path, split: str) -> dict:
    """HealthVer is a pair-level set: the stance model's label for each (evidence, claim) pair,
    scored against the gold label (Supports/Refutes/Neutral)."""
    from service.pipeline.stance import StanceClassifier

    pairs = healthver_pairs(data_dir, split)
    classifier = StanceClassifier.configured(Settings())
    classifier.warm_up()
    started = time.perf_counter()
    probabilities = classifier.predict([(p.premise, p.hypothesis) for p in pairs])
    seconds = time.perf_counter() - started
    verdict_of_stance = {stance: verdict for verdict, stance in STANCE_OF_VERDICT.items()}
    gold = [verdict_of_stance[p.stance] for p in pairs]
    guess = [verdict_of_stance[max(probs, key=probs.get)] for probs in probabilities]
    return {
        "dataset": "healthver",
        "split": split,
        "pairs": len(pairs),
        **classification_report(gold, guess, VERDICTS),
        "pairs_per_second": round(len(pairs) / seconds, 2),
        "stance_model": classifier.model_dir.name,
        "stance_backend": classifier.backend,
    }


def evaluate_default_index_set(
    name: str, split: str, index_dir: Path, top_k: int, dump: Path | None = None, limit: int | None = None
) -> dict:
    """The near-topic or the treaty-settled set (`service/evaluation/near_topic.py`), its first
    `limit` claims when given, verified over the default index, built from `index/sources/` into
    `index_dir` with the project's build code; with `dump`, also write each claim's verdict and
    evidence there (JSONL)."""
    if name == "near-topic":
        claims = near_topic.load_near_topic(split)
    elif name == "treaty-settled":
        claims = near_topic.load_treaty_settled(split)
    else:
        raise ValueError(f"unknown data set {name!r}")
    claims = claims[:limit] if limit else claims
    pipeline = Pipeline(Settings(index_dir=index_dir))
    build = build_index([REPO_ROOT / "index" / "sources"], index_dir, pipeline.embedder)
    results, seconds = verify_all(pipeline, [c["claim"] for c in claims], top_k)
    if dump is not None:
        write_dump(dump, claims, results, pipeline.settings)
    if name == "near-topic":
        scores = near_topic.near_topic_report(claims, results)
    else:
        gold, guess = [c["label"] for c in claims], [r.verdict for r in results]
        correct = [g == p for g, p in zip(gold, guess, strict=True)]
        scores = {
            **classification_report(gold, guess, VERDICTS),
            "ece": round(expected_calibration_error([r.confidence for r in results], correct), 4),
            **near_topic.treaty_settled_report(claims, results),
        }
    return {
        "dataset": name,
        "split": split,
        **scores,
        "passage_pool": {"index": "index/sources", "documents": build.documents, "passages": build.passages},
        "claims_per_second": round(len(claims) / seconds, 2) if seconds else None,
        "top_k": top_k,
        **verdict_settings(pipeline),
    }
