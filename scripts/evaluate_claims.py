"""Evaluate check-worthiness on CheckThat! 2024 English (dev-test by default) and time extraction.

Prints one JSON report: F1 of the positive class, precision, recall and average precision at
the shipped model's threshold, of the scores the service serves for each sentence posted alone,
and the speed of claim extraction (spaCy, standalone rewrites, check-worthiness) through the
same ClaimExtractor the service uses, over the same sentences joined into paragraphs of 8: one
paragraph per call (a request alone) and 8 paragraphs per call (a micro-batch of requests). Each
speed is the best of --rounds passes, in input sentences per second; the load average says how
busy the machine was meanwhile.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from service.config import Settings
from service.evaluation.benchmarks import save_report
from service.pipeline.claims.extractor import ClaimExtractor
from service.training.checkworthiness import binary_scores
from service.training.datasets import CT24_FILES, ct24_sentences, default_data_dir

PARAGRAPH_SENTENCES = 8
PARAGRAPHS_PER_BATCH = 8


def served_scores(extractor: ClaimExtractor, sentences: list[str]) -> np.ndarray:
    """What `POST /v1/claims` gives each sentence posted alone: the highest check-worthiness of its claims
    (the context head and the rules applied), 0 for a sentence with no claim."""
    return np.array([max((claim.checkworthiness for claim in e.claims), default=0.0) for e in extractor.extract_many(sentences)])


def extraction_speed(extractor: ClaimExtractor, sentences: list[str], rounds: int) -> dict:
    """Sentences per second through `extractor`, one paragraph per call and several per call."""
    paragraphs = [" ".join(sentences[i : i + PARAGRAPH_SENTENCES]) for i in range(0, len(sentences), PARAGRAPH_SENTENCES)]
    batches = [paragraphs[i : i + PARAGRAPHS_PER_BATCH] for i in range(0, len(paragraphs), PARAGRAPHS_PER_BATCH)]
    runs = {
        "one_paragraph_per_call": lambda: [extractor.extract(paragraph) for paragraph in paragraphs],
        f"{PARAGRAPHS_PER_BATCH}_paragraphs_per_call": lambda: [extractor.extract_many(batch) for batch in batches],
    }
    claims = sum(len(extraction.claims) for extraction in extractor.extract_many(paragraphs))  # also warms up
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - started)
    report: dict = {"sentences": len(sentences), "claims": claims, "rounds": rounds, "load_average_1min": round(os.getloadavg()[0], 2)}
    for name, seconds in best.items():
        report[name] = {"seconds": round(seconds, 3), "sentences_per_second": round(len(sentences) / seconds, 1)}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--split", default="dev-test", choices=tuple(CT24_FILES))
    parser.add_argument("--model-dir", type=Path, default=Settings().checkworthiness_model_dir)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the sentences; the best counts")
    parser.add_argument("--speed-only", action="store_true", help="time extraction, skip F1 and average precision")
    parser.add_argument("--save", action="store_true", help="save the report in docs/results/claims.json and regenerate docs/benchmarks.md")
    args = parser.parse_args()
    if args.save and (args.speed_only or args.split != "dev-test"):
        parser.error("--save records the full dev-test report: drop --speed-only and --split")
    settings = Settings()
    extractor = ClaimExtractor(args.model_dir, settings.checkworthiness_backend, settings.torch_threads)  # as the service runs it
    extractor.warm_up()
    texts, labels = ct24_sentences(args.data_dir, args.split)
    report: dict = {"split": f"CT24 English {args.split}", "cpus": os.cpu_count(), "backend": settings.checkworthiness_backend}
    if not args.speed_only:
        report |= binary_scores(np.asarray(labels), served_scores(extractor, texts), extractor.threshold)
    report["extraction"] = extraction_speed(extractor, texts, args.rounds)
    print(json.dumps(report, indent=2))
    if args.save:
        print(f"saved {save_report('claims', report)}")


if __name__ == "__main__":
    main()
