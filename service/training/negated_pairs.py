"""Negated claims for the stance cross-encoder: the same evidence, the claim with one "not" put in.

A stance reader learns from its sets that a "not" in the claim goes with `refutes`: FEVER's and
COVID-Fact's refuted claims are often made by negating a true one, and few of their claims with a
"not" are supported. So it reads "Ukraine would not become a member of NATO during the upcoming
summit" as refuted by a sentence that only says the summit raises hope for Ukraine. Each labelled
pair gives a second one with the claim negated (`negated`) and the label turned (`NEGATED_LABEL`):
evidence that supports a claim refutes its negation, and a passage that settles neither settles
neither. Evidence that refutes a claim supports its negation only when the claim says one thing:
"X was Venezuelan and lived there for 20 years" is refuted when either part is false, and so is its
negation "X was not Venezuelan and lived there ...", so a refuted claim with a coordination ("and",
"or", "but") gets no negated pair, nor does a COVID-Fact counter-claim (made by changing a word
anywhere in the claim, not always the main verb's). The negated claims teach a "not" that does
not mean `refutes`.

The negation is put in by the parse (`negated`): after the main verb's first auxiliary ("has
signed" -> "has not signed"), after a copula ("is" -> "is not"), or with "do" before a verb in the
simple present or past ("signed" -> "did not sign"). Claims that already negate, that are
questions, or whose main verb the rule cannot reach get no negated pair.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from service.pipeline.polarity import NEGATION, OTHER_NEGATIONS
from service.training.datasets import StancePair

NEGATED_LABEL = {"supports": "refutes", "refutes": "supports", "neutral": "neutral"}
DO_SUPPORT = {"VBD": "did", "VBZ": "does", "VBP": "do"}
COUNTER_CLAIM_SOURCES = frozenset({"covidfact"})  # refuted claims made by changing any word


def negated_source(source: str) -> str:
    """The `source` of a set's negated pairs."""
    return f"negated-{source}"


def is_negated_source(source: str) -> bool:
    """Whether pairs of this `source` are negated pairs: a distillation run trains them on their gold
    label alone, since the teachers share the bias they are there to remove."""
    return source.startswith(negated_source(""))


def negated(doc, refuted: bool = False) -> str | None:
    """The claim of a spaCy `doc` with its main verb negated, or None when the rule cannot negate it
    (nor, when the claim is `refuted`, when it has a coordination: see the module's docstring)."""
    text = doc.text
    if NEGATION.search(text) or OTHER_NEGATIONS.search(text) or text.rstrip().endswith("?"):
        return None
    if refuted and any(token.dep_ == "cc" for token in doc):
        return None
    roots = [token for token in doc if token.dep_ == "ROOT"]
    if len(roots) != 1:
        return None
    root = roots[0]
    auxiliaries = [child for child in root.children if child.dep_ in ("aux", "auxpass") and child.i < root.i]
    if auxiliaries:
        after = auxiliaries[0]
        if after.lower_ == "to":
            return None
        return _insert(text, after.idx + len(after.text), " not")
    if root.lemma_ == "be" and root.tag_ in ("VBZ", "VBP", "VBD"):
        return _insert(text, root.idx + len(root.text), " not")
    if root.tag_ in DO_SUPPORT and root.pos_ == "VERB" and root.lemma_.isalpha():
        do = DO_SUPPORT[root.tag_]
        if root.i == 0:
            do = do.capitalize()
        return text[: root.idx] + f"{do} not {root.lemma_.lower()}" + text[root.idx + len(root.text) :]
    return None


def _insert(text: str, at: int, words: str) -> str:
    return text[:at] + words + text[at:]


def negated_pairs(
    pairs: Iterable[StancePair], nlp, share: float, seed: int = 0, unturned: frozenset[str] = COUNTER_CLAIM_SOURCES
) -> list[StancePair]:
    """A negated pair (source `negated-<source>`) for about `share` of the labelled `pairs`, chosen by a
    hash of the claim (the same claims whatever the order), each claim parsed once; the refuted pairs of the
    `unturned` sources get none."""
    chosen = [
        pair
        for pair in pairs
        if pair.stance in NEGATED_LABEL
        and not (pair.stance == "refutes" and pair.source in unturned)
        and _chosen(pair.hypothesis, share, seed)
    ]
    claims = sorted({pair.hypothesis for pair in chosen})
    docs = dict(zip(claims, nlp.pipe(claims, batch_size=256), strict=True))
    negations = [negated(docs[pair.hypothesis], refuted=pair.stance == "refutes") for pair in chosen]
    return [
        StancePair(pair.premise, negation, NEGATED_LABEL[pair.stance], negated_source(pair.source))
        for pair, negation in zip(chosen, negations, strict=True)
        if negation is not None
    ]


def _chosen(claim: str, share: float, seed: int) -> bool:
    digest = hashlib.sha256(f"{seed}:{claim}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def add_negated_pairs(directory: Path, share: float, seed: int = 0, unturned: frozenset[str] = COUNTER_CLAIM_SOURCES) -> dict[str, int]:
    """Add the negated pairs of about `share` of the labelled train pairs in `directory` (written by
    `--write-pairs`) to its train pairs, replacing any it held, and record them in its `pairs.json`.
    Dev and test keep their own pairs. Returns the pairs added per source."""
    import spacy

    from service.pipeline.claims.language import SPACY_MODEL
    from service.training.stance import PAIRS_SETTINGS, read_pairs, write_pairs

    settings_file = directory / PAIRS_SETTINGS
    if not settings_file.is_file():
        raise ValueError(f"{directory} has no {PAIRS_SETTINGS}: write the pairs with --write-pairs first")
    train = [pair for pair in read_pairs(directory / "train.jsonl.gz") if not is_negated_source(pair.source)]
    added = negated_pairs(train, spacy.load(SPACY_MODEL, disable=["ner"]), share, seed, unturned)
    write_pairs(train + added, directory / "train.jsonl.gz")
    settings = json.loads(settings_file.read_text())
    settings["pairs"]["train"] = Counter(pair.source for pair in train + added)
    counts = Counter(pair.source for pair in added)
    settings["negated_pairs"] = {"share": share, "seed": seed, "unturned": sorted(unturned), "pairs": counts}
    settings_file.write_text(json.dumps(settings, indent=2) + "\n")
    return dict(counts)
