"""Micro-batching: concurrent requests share the models' forward passes.

One worker thread owns the models. Callers queue jobs and wait for their answers; whenever the
worker is free it takes every job waiting (after a short window for more to arrive) and runs
each kind of job as one batch, so eight concurrent claims cost one batched forward pass
instead of eight. A full queue refuses new work at once (`Overloaded`), and a caller whose
time budget runs out stops waiting (`DeadlineExceeded`); its job is dropped if not yet started.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from service.errors import DeadlineExceeded, NotLoaded, Overloaded

BatchHandler = Callable[[Sequence[Any]], Sequence[Any]]
DEADLINE_MESSAGE = (
    "the request ran past its time budget (CLAIMCHECK_REQUEST_TIMEOUT_S); "
    "send fewer claims or a smaller top_k, or retry when the server is less busy"
)


@dataclass(eq=False)
class Job:
    """One caller's work: `kind` picks the handler, `weight` counts against the queue limit."""

    kind: str
    work: Any
    weight: int
    future: Future = field(default_factory=Future)


class MicroBatcher:
    """A bounded job queue served by one worker thread that runs jobs of a kind in batches.

    `handlers` maps a job kind to a function taking a list of works and returning their
    results in the same order. `max_queued` bounds the total weight waiting (a job that would
    exceed it is refused unless the queue is empty, so one large job is never refused on an
    idle server); `max_batch_weight` bounds one batch; `window_s` is how long the worker waits
    for more jobs once one has arrived.
    """

    def __init__(
        self,
        handlers: dict[str, BatchHandler],
        max_queued: int,
        max_batch_weight: int,
        window_s: float,
        on_start: Callable[[], None] | None = None,
    ):
        self.handlers = handlers
        self.max_queued = max_queued
        self.max_batch_weight = max_batch_weight
        self.window_s = window_s
        self._on_start = on_start
        self._queue: deque[Job] = deque()
        self._queued_weight = 0
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def queued_weight(self) -> int:
        """The total weight of the jobs waiting (not yet taken by the worker)."""
        return self._queued_weight

    def start(self) -> None:
        """Start the worker thread (once)."""
        with self._condition:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="claimcheck-batcher", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Let the worker finish its current batch and exit; queued jobs are cancelled."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join()

    def submit(self, kind: str, work: Any, weight: int) -> Future:
        """Queue `work` and return the future of its result; raises Overloaded at once when the
        queue is full."""
        if kind not in self.handlers:
            raise ValueError(f"no handler for jobs of kind {kind!r}")
        job = Job(kind, work, weight)
        with self._condition:
            if self._thread is None or self._stopping:
                raise RuntimeError("the batcher is not running")
            if self._queue and self._queued_weight + weight > self.max_queued:
                raise Overloaded(
                    f"the server is busy: {self._queued_weight} claims are waiting (limit {self.max_queued}, "
                    "CLAIMCHECK_MAX_QUEUED_CLAIMS); retry in a moment"
                )
            self._queue.append(job)
            self._queued_weight += weight
            self._condition.notify()
        return job.future

    def run(self, kind: str, work: Any, weight: int, deadline: float) -> Any:
        """Queue `work` and wait for its result until `deadline` (a `time.monotonic()` value);
        raises Overloaded, DeadlineExceeded, or whatever the handler raised."""
        future = self.submit(kind, work, weight)
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            future.cancel()  # succeeds only while the job waits; a running job finishes unread
            raise DeadlineExceeded(DEADLINE_MESSAGE) from None

    async def run_async(self, kind: str, work: Any, weight: int, deadline: float) -> Any:
        """`run` for the event loop: waiting takes no thread, so any number of requests can wait
        and the queue limit, not a thread pool, decides who is refused."""
        future = self.submit(kind, work, weight)  # a timeout cancels it too, if it has not started
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise DeadlineExceeded(DEADLINE_MESSAGE) from None
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():  # the caller itself was cancelled (client gone)
                raise
            raise NotLoaded("the server is shutting down; retry in a moment") from None

    def _take(self) -> list[Job]:
        """Pop the next batch: at least one job, then more while the weight allows."""
        batch = [self._queue.popleft()]
        weight = batch[0].weight
        while self._queue and weight + self._queue[0].weight <= self.max_batch_weight:
            weight += self._queue[0].weight
            batch.append(self._queue.popleft())
        self._queued_weight -= sum(job.weight for job in batch)
        return batch

    def _serve(self) -> None:
        if self._on_start is not None:
            self._on_start()
        while True:
            with self._condition:
                while not self._queue and not self._stopping:
                    self._condition.wait()
                if self._stopping:
                    for job in self._queue:
                        job.future.cancel()
                    self._queue.clear()
                    return
                window_ends = time.monotonic() + self.window_s  # let concurrent requests join this batch
                while self._queued_weight < self.max_batch_weight and not self._stopping and time.monotonic() < window_ends:
                    self._condition.wait(window_ends - time.monotonic())
                batch = self._take()
            live = [job for job in batch if job.future.set_running_or_notify_cancel()]
            for kind in dict.fromkeys(job.kind for job in live):
                self._run_kind([job for job in live if job.kind == kind])

    def _run_kind(self, jobs: list[Job]) -> None:
        try:
            results = self.handlers[jobs[0].kind]([job.work for job in jobs])
            if len(results) != len(jobs):
                raise RuntimeError(f"the {jobs[0].kind} handler answered {len(results)} results for {len(jobs)} jobs")
        except BaseException as error:  # every caller of the batch hears of the failure
            for job in jobs:
                job.future.set_exception(error)
            return
        for job, result in zip(jobs, results, strict=True):  # an exception answered for one job is raised to its caller alone
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)
