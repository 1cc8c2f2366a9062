"""Which readings of its passages a claim gets: whole, by sentence, and long passages by their sentences only."""

from __future__ import annotations

import pytest

from service.index.passages import Passage
from service.index.reference import SearchHit
from service.pipeline.stance import stance_readings

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
