"""Length-grouped batches of the sequence classifier."""

from __future__ import annotations


def test_length_batches_keep_similar_lengths_together():
    from service.runtime.sequence_classifier import length_batches

    lengths = [200, 40, 190, 45, 42, 180, 41]
    batches = length_batches(lengths, batch_size=3)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert [[lengths[i] for i in batch] for batch in batches] == [[180, 190, 200], [40, 41, 42], [45]]  # costliest first
    assert length_batches([], 4) == []


def test_length_batches_leave_work_for_every_stream():
    from service.runtime.sequence_classifier import length_batches

    assert [len(batch) for batch in length_batches([50] * 6, batch_size=16, streams=2)] == [3, 3]
    assert [len(batch) for batch in length_batches([50] * 7, batch_size=16, streams=2)] == [4, 3]
    assert [len(batch) for batch in length_batches([50] * 40, batch_size=16, streams=2)] == [16, 16, 8]
