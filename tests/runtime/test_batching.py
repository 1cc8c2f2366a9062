"""The micro-batcher: logic around the models, tested with fake handlers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.errors import DeadlineExceeded, Overloaded
from service.runtime.batching import MicroBatcher


def far() -> float:
    return time.monotonic() + 30


class Recorder:
    """A handler that records each batch it gets and can be held until released."""

    def __init__(self):
        self.batches: list[list] = []
        self.release = threading.Event()
        self.release.set()
        self.started = threading.Event()

    def __call__(self, works):
        self.batches.append(list(works))
        self.started.set()
        self.release.wait(10)
        return [work * 10 for work in works]


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def batcher(recorder):
    running = MicroBatcher({"double": recorder}, max_queued=4, max_batch_weight=3, window_s=0.05)
    running.start()
    yield running
    recorder.release.set()
    running.stop()


def test_one_job_gets_its_own_result(batcher, recorder):
    assert batcher.run("double", 4, 1, far()) == 40
    assert recorder.batches == [[4]]


def test_concurrent_jobs_share_one_batch_up_to_the_batch_weight(batcher, recorder):
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda n: batcher.run("double", n, 1, far()), [1, 2, 3]))
    assert results == [10, 20, 30]
    assert sorted(work for batch in recorder.batches for work in batch) == [1, 2, 3]
    assert len(recorder.batches) == 1, recorder.batches


def test_an_exception_answered_for_one_job_reaches_that_caller_only():
    refusing = MicroBatcher({"check": lambda works: [ValueError(f"no {w}") if w < 0 else w for w in works]}, 8, 8, window_s=0.2)
    refusing.start()
    try:
        with ThreadPoolExecutor(2) as pool:
            bad, good = pool.submit(refusing.run, "check", -1, 1, far()), pool.submit(refusing.run, "check", 5, 1, far())
            assert good.result(5) == 5
            with pytest.raises(ValueError, match="no -1"):
                bad.result(5)
    finally:
        refusing.stop()


def test_a_full_queue_refuses_at_once_but_an_empty_one_takes_any_job(batcher, recorder):
    recorder.release.clear()
    with ThreadPoolExecutor(4) as pool:
        running = pool.submit(batcher.run, "double", 1, 1, far())
        assert recorder.started.wait(5)
        waiting = pool.submit(batcher.run, "double", 2, 4, far())  # the queue is empty: accepted
        time.sleep(0.1)
        assert batcher.queued_weight == 4
        started = time.monotonic()
        with pytest.raises(Overloaded, match="busy"):
            batcher.run("double", 3, 1, far())
        assert time.monotonic() - started < 1
        recorder.release.set()
        assert running.result(5) == 10 and waiting.result(5) == 20
    assert batcher.queued_weight == 0


def test_a_job_past_its_deadline_is_dropped_unstarted(batcher, recorder):
    recorder.release.clear()
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(batcher.run, "double", 1, 1, far())
        assert recorder.started.wait(5)
        with pytest.raises(DeadlineExceeded, match="time budget"):
            batcher.run("double", 2, 1, time.monotonic() + 0.2)
        recorder.release.set()
        assert running.result(5) == 10
    time.sleep(0.1)
    assert [work for batch in recorder.batches for work in batch] == [1]


def test_a_failing_handler_fails_every_job_of_its_batch_and_the_worker_goes_on():
    calls = []

    def flaky(works):
        calls.append(list(works))
        if len(calls) == 1:
            raise ValueError("model exploded")
        return works

    batcher = MicroBatcher({"echo": flaky}, max_queued=10, max_batch_weight=10, window_s=0)
    batcher.start()
    try:
        with pytest.raises(ValueError, match="exploded"):
            batcher.run("echo", "a", 1, far())
        assert batcher.run("echo", "b", 1, far()) == "b"
    finally:
        batcher.stop()


def test_jobs_of_different_kinds_go_to_their_own_handlers():
    batcher = MicroBatcher({"upper": lambda ws: [w.upper() for w in ws], "length": lambda ws: [len(w) for w in ws]}, 10, 10, 0.02)
    batcher.start()
    try:
        with ThreadPoolExecutor(2) as pool:
            upper = pool.submit(batcher.run, "upper", "abc", 1, far())
            length = pool.submit(batcher.run, "length", "abcd", 1, far())
            assert (upper.result(5), length.result(5)) == ("ABC", 4)
        with pytest.raises(ValueError, match="no handler"):
            batcher.run("unknown", "x", 1, far())
    finally:
        batcher.stop()


def test_waiting_on_the_event_loop_holds_no_thread_and_keeps_the_limits(recorder):
    """`run_async`: a hundred callers wait on one event loop; the queue limit refuses the
    rest at once, a caller past its deadline gives up, and its unstarted job is dropped."""
    import asyncio

    threads_before, threads_while_waiting = threading.active_count(), []
    batcher = MicroBatcher({"double": recorder}, max_queued=61, max_batch_weight=100, window_s=0.0)
    batcher.start()
    recorder.release.clear()

    async def scenario():
        first = asyncio.ensure_future(batcher.run_async("double", 0, 1, far()))
        while not recorder.started.is_set():
            await asyncio.sleep(0.01)
        late = asyncio.ensure_future(batcher.run_async("double", 1000, 1, time.monotonic() + 0.2))
        waiting = [asyncio.ensure_future(batcher.run_async("double", n, 1, far())) for n in range(1, 100)]
        await asyncio.sleep(0.1)
        threads_while_waiting.append(threading.active_count())
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)  # released below, from a thread
        return await first, outcomes, await asyncio.gather(late, return_exceptions=True)

    threading.Timer(0.5, recorder.release.set).start()  # the second thread
    try:
        first, outcomes, [late] = asyncio.run(scenario())
    finally:
        recorder.release.set()
        batcher.stop()
    answered = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Overloaded)]
    assert first == 0 and len(answered) == 60 and len(refused) == 39 and len(answered) + len(refused) == 99
    assert answered == [n * 10 for n in range(1, 61)]
    assert isinstance(late, DeadlineExceeded)
    assert 1000 not in [work for batch in recorder.batches for work in batch]  # dropped before it started
    assert threads_while_waiting[0] <= threads_before + 2  # the worker and the release timer, not one per caller
