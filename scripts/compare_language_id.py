"""Measure the English check against lingua-language-detector (service/evaluation/language_id.py).

lingua is not a dependency. Install it beside the project to measure it, for example
`pip install --no-deps --target /tmp/lingua lingua-language-detector` and `--lingua-path /tmp/lingua`;
without it only the English check is measured. `--save` writes docs/results/language_id.json and
regenerates docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import spacy

from service.evaluation.benchmarks import save_report
from service.evaluation.language_id import FOREIGN_CODES, english_sets, foreign_sentences, measure
from service.pipeline.claims.language import foreign_language
from service.training.datasets import default_data_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--lingua-path", type=Path, help="a folder lingua-language-detector is installed in")
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    english, foreign = english_sets(args.data_dir), foreign_sentences()
    tokenizer = spacy.blank("en")
    report: dict = {
        "english_sentences": {name: len(sentences) for name, sentences in english.items()},
        "foreign_sentences": len(foreign),
        "detectors": {
            "claimcheck (language.py)": measure(lambda text: foreign_language(tokenizer.make_doc(text)[:]) is not None, english, foreign)
        },
    }
    if args.lingua_path:
        sys.path.append(str(args.lingua_path))
        from importlib.metadata import distribution

        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        size = sum(file.size or 0 for file in distribution("lingua-language-detector").files or ())
        report["lingua_version"], report["lingua_installed_mb"] = distribution("lingua-language-detector").version, round(size / 1e6, 1)
        codes = ("en", *FOREIGN_CODES, "zh", "ar")
        few = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes]
        builders = {
            "lingua, all languages": LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models(),
            "lingua, all languages, low accuracy mode": LanguageDetectorBuilder.from_all_languages()
            .with_low_accuracy_mode()
            .with_preloaded_language_models(),
            "lingua, 24 languages, minimum relative distance 0.25": LanguageDetectorBuilder.from_languages(*few)
            .with_minimum_relative_distance(0.25)
            .with_preloaded_language_models(),
        }
        for name, builder in builders.items():
            started = time.perf_counter()
            detector = builder.build()
            loaded = round(time.perf_counter() - started, 1)

            def is_foreign(text: str, detector=detector) -> bool:
                found = detector.detect_language_of(text)
                return found is not None and found != Language.ENGLISH

            report["detectors"][name] = measure(is_foreign, english, foreign) | {"load_seconds": loaded}
    print(json.dumps(report, indent=2))
    if args.save:
        print(f"saved {save_report('language_id', report)}")


if __name__ == "__main__":
    main()
