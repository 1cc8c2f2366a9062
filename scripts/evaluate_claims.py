"""Evaluate check-worthiness on CheckThat! 2024 English (dev-test by default) and time extraction.

Prints one JSON report: F1 of the positive class, precision, recall and average precision at
the shipped model's threshold, and claim extraction speed (sentences/s) over the same
sentences joined into paragraphs, through the same ClaimExtractor the service uses.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from service.checkworthiness_training import binary_scores, featurize
from service.claims import ClaimExtractor, load_spacy
from service.config import Settings
from service.datasets import CT24_FILES, ct24_sentences, default_data_dir
from service.embedding import Embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--split", default="dev-test", choices=tuple(CT24_FILES))
    parser.add_argument("--model-dir", type=Path, default=Settings().checkworthiness_model_dir)
    args = parser.parse_args()
    embedder = Embedder()
    extractor = ClaimExtractor(embedder, args.model_dir)
    extractor.warm_up()
    texts, labels = ct24_sentences(args.data_dir, args.split)
    embeddings, features = featurize(texts, load_spacy(), embedder)
    probabilities = extractor.scorer.predict(embeddings, features)
    report = {"split": f"CT24 English {args.split}", **binary_scores(np.asarray(labels), probabilities, extractor.threshold)}
    paragraphs = [" ".join(texts[i : i + 8]) for i in range(0, len(texts), 8)]
    extractor.extract(paragraphs[0])
    started = time.perf_counter()
    sentences = sum(len(extractor.extract(paragraph)) for paragraph in paragraphs)
    seconds = time.perf_counter() - started
    report["extraction"] = {"sentences": sentences, "seconds": round(seconds, 2), "sentences_per_second": round(sentences / seconds, 1)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
