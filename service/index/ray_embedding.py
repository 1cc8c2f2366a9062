"""Embedding a big corpus's passages with Ray Data, across the machines of a Ray cluster (or a local Ray).

The driver cuts the passages into the same chunks the single-process build embeds one `Embedder.encode`
call at a time (`service.index.build.embedding_chunks`), and each Ray actor embeds whole chunks with the same
model, batch size and number of streams, so a text meets the same batch neighbours as in the single-process
build and its vector is the same. Needs the optional extra `.[ray]`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np

from service.errors import ClaimCheckError


class RayUnavailable(ClaimCheckError):
    """`--ray` without the extra installed, or a cluster that cannot be reached."""

    code = "ray_unavailable"


class _ChunkEmbedder:
    """A Ray Data actor: one embedder, loaded once, embedding a chunk per row."""

    def __init__(self, model_path: str, batch_size: int, max_seq_length: int, streams: int, int8: bool):
        from service.runtime.embedding import Embedder

        self.embedder = Embedder(model_path, batch_size=batch_size, max_seq_length=max_seq_length, threads=streams, int8=int8)
        self.embedder.warm_up()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = [self.embedder.encode(json.loads(texts)).astype(np.float32).tobytes() for texts in batch["texts"]]
        return {"chunk": batch["chunk"], "vectors": np.array(vectors, dtype=object)}


LOCAL_START_ATTEMPTS = 3


def start_ray(ray, address: str | None) -> None:
    """`ray.init` for a build: connect to the cluster at `address`, or start a local Ray when it is None or empty.

    A new local node that registers too slowly (Ray waits 30 s, a fixed limit; a cold start on a loaded 2-core
    machine can take longer) is started again, up to `LOCAL_START_ATTEMPTS` times, after the processes the slow
    try started are stopped (Ray leaves them running: the failed node was never registered for `ray.shutdown`).
    A cluster that cannot be reached, or a local Ray that never starts, is a `RayUnavailable`."""
    where = address or "a new local Ray"
    attempts = 1 if address else LOCAL_START_ATTEMPTS
    for attempt in range(1, attempts + 1):
        before = _child_processes()
        try:
            ray.init(address=address or None, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
            return
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise RayUnavailable(f"cannot reach the Ray cluster at {where}: {error}") from error
        except Exception as error:  # Ray raises a bare Exception when its new node misses the startup deadline
            if "timed out during startup" not in str(error):
                raise
            ray.shutdown()
            _stop(_child_processes() - before)
            if attempt == attempts:
                raise RayUnavailable(f"{where} did not start after {attempts} tries: {error}") from error
            logging.getLogger("claimcheck").warning("%s was slow to start (try %d of %d); starting it again", where, attempt, attempts)


def _child_processes() -> set[int]:
    """The process ids of this process's children (read from Linux's /proc; none elsewhere)."""
    me, children = str(os.getpid()), set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (name)": state, parent pid, ...
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and fields[1] == me:
            children.add(int(stat.parent.name))
    return children


def _stop(processes: set[int]) -> None:
    """Terminate these processes, those already gone aside."""
    for pid in processes:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass


def embed_with_ray(
    embedder,
    texts: list[str],
    chunks: list[np.ndarray],
    address: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Vectors of `texts` (row n = text n), embedded chunk by chunk (`chunks`: arrays of text rows) by Ray actors
    configured as `embedder`, on the Ray cluster at `address` (a local Ray when None)."""
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise RayUnavailable("--ray needs the optional extra: pip install -e '.[ray]'") from error
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # the build's own progress bar says how far it is
    ray.data.DataContext.get_current().enable_progress_bars = False
    started_here = not ray.is_initialized()
    if started_here:
        start_ray(ray, address)
    try:
        streams = embedder.streams
        workers = max(1, int(ray.cluster_resources().get("CPU", 1)) // streams)
        items = [{"chunk": n, "texts": json.dumps([texts[i] for i in rows])} for n, rows in enumerate(chunks)]
        dataset = ray.data.from_items(items, override_num_blocks=max(1, min(len(items), 4 * workers))).map_batches(
            _ChunkEmbedder,
            fn_constructor_kwargs={
                "model_path": embedder.model_path,
                "batch_size": embedder.batch_size,
                "max_seq_length": embedder.max_seq_length,
                "streams": streams,
                "int8": embedder.int8,
            },
            batch_size=1,
            num_cpus=streams,
            concurrency=workers,
        )
        vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
        for row in dataset.iter_rows():
            rows = chunks[int(row["chunk"])]
            vectors[rows] = np.frombuffer(row["vectors"], dtype=np.float32).reshape(len(rows), embedder.dimension)
            if progress is not None:
                progress(len(rows))
        return vectors
    finally:
        if started_here:
            ray.shutdown()
