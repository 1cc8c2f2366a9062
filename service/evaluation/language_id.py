"""The English check (service/pipeline/claims/language.py) against lingua-language-detector (scripts/compare_language_id.py).

Three measures on the sets the check was built against: the share of English sentences taken for another
language (CT24 dev and dev-test, and samples of FEVER, Climate-FEVER, COVID-Fact and HealthVer claims), the
share of other-language sentences found (spaCy's example sentences for 21 languages), and how English
sentences with a translation or a quotation in another language inside them are read (MIXED: all English).
lingua is not a dependency: the script measures it when it can import it.
"""

from __future__ import annotations

import importlib.util
import random
import time
from collections.abc import Callable
from pathlib import Path

from service.training import datasets

FOREIGN_CODES = (
    "de",
    "es",
    "fr",
    "it",
    "nl",
    "pt",
    "sv",
    "da",
    "nb",
    "fi",
    "pl",
    "cs",
    "ro",
    "hu",
    "tr",
    "hr",
    "id",
    "ru",
    "uk",
    "el",
    "ca",
)
MIXED = (
    "The Security Council has fifteen members (le Conseil de sécurité compte quinze membres).",
    "NATO was founded in 1949 (die NATO wurde 1949 gegründet).",
    "The alliance has 32 members (la alianza tiene 32 miembros).",
    "Article 5 says an attack on one is an attack on all (« une attaque contre l'un est une attaque contre tous »).",
    "Macron said the alliance was 'en état de mort cérébrale' in 2019.",
    "The UN Charter was signed in San Francisco (la Charte des Nations unies a été signée à San Francisco) in 1945.",
)
SAMPLE = 1500


def english_sets(data_dir: Path) -> dict[str, list[str]]:
    """English sentences by set: CT24 dev and dev-test whole, the others a seeded sample of SAMPLE claims."""
    rng = random.Random(0)
    sets = {"ct24": datasets.ct24_sentences(data_dir, "dev")[0] + datasets.ct24_sentences(data_dir, "dev-test")[0]}
    for name, read in (
        ("fever", datasets.fever_claims),
        ("climate-fever", datasets.climate_fever_claims),
        ("covidfact", datasets.covidfact_claims),
    ):
        claims = read(data_dir)
        rng.shuffle(claims)
        sets[name] = [claim.claim for claim in claims[:SAMPLE]]
    sets["healthver"] = sorted({pair.hypothesis for pair in datasets.healthver_pairs(data_dir, "test")})[:SAMPLE]
    return sets


def foreign_sentences() -> list[tuple[str, str]]:
    """(language code, sentence) of spaCy's example sentences in FOREIGN_CODES."""
    import spacy

    found = []
    for code in FOREIGN_CODES:
        path = Path(spacy.__file__).parent / "lang" / code / "examples.py"
        if path.is_file():
            spec = importlib.util.spec_from_file_location(f"_examples_{code}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            found += [(code, sentence) for sentence in module.sentences]
    return found


def measure(is_foreign: Callable[[str], bool], english: dict[str, list[str]], foreign: list[tuple[str, str]]) -> dict:
    """The three measures for one detector, and its time per sentence."""
    started, count = time.perf_counter(), 0
    report: dict = {"english_taken_for_foreign": {}}
    for name, sentences in english.items():
        report["english_taken_for_foreign"][name] = round(sum(map(is_foreign, sentences)) / len(sentences), 4)
        count += len(sentences)
    report["foreign_found"] = round(sum(is_foreign(sentence) for _, sentence in foreign) / len(foreign), 3)
    report["mixed_read_as_english"] = f"{sum(not is_foreign(sentence) for sentence in MIXED)}/{len(MIXED)}"
    count += len(foreign) + len(MIXED)
    report["ms_per_sentence"] = round(1000 * (time.perf_counter() - started) / count, 3)
    return report
