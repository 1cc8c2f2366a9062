"""The curated subset a CPU run of the base-size reader trains on: balanced across the sets, sentences first."""

from __future__ import annotations

import random
from collections import Counter

from service.training.datasets import StancePair
from service.training.stance import CURATED_SHARES, SENTENCE_CHARS, curated_subset


def pairs() -> list[StancePair]:
    made = []
    for source in [*CURATED_SHARES, "unlisted"]:
        for number in range(400):
            premise = ("A short sentence. " if number % 2 else "A long passage. " * 40) + f"{source} {number}"
            made.append(StancePair(premise, f"claim {number}", ("supports", "refutes", "neutral")[number % 3], source))
    return made


def test_each_set_gives_its_share_sentences_first_and_unlisted_sets_nothing():
    chosen = curated_subset(pairs(), 1000, random.Random(0))
    counts = Counter(p.source for p in chosen)
    assert counts == {source: int(share * 1000) for source, share in CURATED_SHARES.items()}
    for source, count in counts.items():
        short = sum(len(p.premise) <= SENTENCE_CHARS for p in chosen if p.source == source)
        assert short == min(count, 200)  # the 200 sentence-level pairs of each set come before any passage


def test_a_set_with_fewer_pairs_than_its_share_gives_what_it_has_and_the_choice_is_repeatable():
    few = [p for p in pairs() if p.source != "snli" or p.hypothesis in ("claim 1", "claim 3")]
    chosen = curated_subset(few, 1000, random.Random(0))
    assert Counter(p.source for p in chosen)["snli"] == 2
    assert chosen == curated_subset(few, 1000, random.Random(0))
    assert chosen != curated_subset(few, 1000, random.Random(1))


def test_shares_given_replace_the_default_ones():
    chosen = curated_subset(pairs(), 1000, random.Random(0), {"unlisted": 0.1, "snli": 0.2})
    assert Counter(p.source for p in chosen) == {"unlisted": 100, "snli": 200}
