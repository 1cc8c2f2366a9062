"""Which readings of its passages a claim gets: whole, by sentence, and long passages by their sentences only."""

from __future__ import annotations

import pytest

from service.index.passages import Passage
from service.index.reference import SearchHit
from service.pipeline.stance import Reading, most_decisive, stance_readings

LONG = "One is here. Two is there. Three is near. Four is far."


def _hits(*texts: str) -> list[SearchHit]:
    return [SearchHit(Passage(f"doc-{n}", 0, len(text), text), 0.5, n) for n, text in enumerate(texts)]


@pytest.mark.unit
@pytest.mark.parametrize("limit", [None, 0, 1, 3, 4])
def test_every_passage_gets_a_reading_and_a_long_one_only_its_sentences_whatever_its_rank(limit):
    texts = (LONG, "", "A single sentence here.", LONG)  # the best passage is read by sentence too; the last is not
    readings = stance_readings(["A claim."], [_hits(*texts)], sentence_passages=1, max_sentences_read_whole=limit)
    by_hit = {rank: [r.span for r in readings if r.hit == rank] for rank in range(len(texts))}
    assert by_hit[1] == by_hit[2] == [None]  # empty or one sentence: read whole, so every passage has a reading
    sentences = [(0, 12), (13, 26), (27, 41), (42, 54)]
    if limit is None or limit >= 4:
        assert by_hit[0] == [None, *sentences] and by_hit[3] == [None]
    else:  # too long to read whole, whatever the rank
        assert by_hit[0] == by_hit[3] == sentences


def _probs(side: float) -> dict[str, float]:
    return {"supports": side, "refutes": 0.0, "neutral": 1 - side}


@pytest.mark.unit
def test_a_sentence_that_decides_a_better_passage_does_not_decide_another_of_the_same_claim():
    """Overlapping windows share a sentence: shown and counted once, the later passage takes its next reading."""
    shared, first, second = "Shared is here.", "First is here.", "Second is there."
    readings = [
        Reading(0, 0, (0, 14), (first, "c")),
        Reading(0, 0, (15, 30), (shared, "c")),
        Reading(0, 1, (0, 15), (shared, "c")),
        Reading(0, 1, (16, 32), (second, "c")),
        Reading(1, 0, (0, 15), (shared, "d")),  # another claim may be decided by it again
    ]
    best = most_decisive(readings, [_probs(0.2), _probs(0.9), _probs(0.9), _probs(0.4), _probs(0.8)])
    assert best[(0, 0)][0].pair[0] == shared
    assert best[(0, 1)][0].pair[0] == second and best[(0, 1)][1] == _probs(0.4)
    assert best[(1, 0)][0].pair[0] == shared


@pytest.mark.unit
def test_a_passage_held_in_a_better_one_or_holding_its_deciding_sentence_is_not_read_twice():
    sentence, other = "Shared is here.", "Other is there."
    whole = f"{sentence} {other}"
    readings = [
        Reading(0, 0, None, (whole, "c")),  # read whole: the passage decides by all of its text
        Reading(0, 1, (0, 15), (sentence, "c")),  # a sentence held in it
        Reading(0, 1, (16, 31), ("Third is near.", "c")),
        Reading(0, 2, None, (whole, "c")),  # the corpus holds the passage twice, with no other reading
    ]
    best = most_decisive(readings, [_probs(0.9), _probs(0.9), _probs(0.1), _probs(0.9)])
    assert best[(0, 1)][0].pair[0] == "Third is near."
    assert best[(0, 2)][0].pair[0] == whole  # nothing else to read: it keeps its only reading


@pytest.mark.unit
def test_ties_go_to_the_first_reading_and_every_passage_is_decided():
    readings = [Reading(0, rank, None, (f"Passage {rank}.", "c")) for rank in range(3)]
    readings.insert(1, Reading(0, 0, (0, 10), ("Passage 0", "c")))  # held in the whole reading, as decisive
    best = most_decisive(readings, [_probs(0.5)] * 4)
    assert set(best) == {(0, 0), (0, 1), (0, 2)}
    assert best[(0, 0)][0].span is None
