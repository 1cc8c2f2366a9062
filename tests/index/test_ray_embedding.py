"""Embedding a build's passages with Ray Data: the same vectors as the single-process build."""

from __future__ import annotations

import builtins
import json
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

from service.index.build import build_index
from service.index.ray_embedding import RayUnavailable
from service.index.reference import ReferenceIndex

DOCS = [
    {"id": "tides", "title": "Tides", "text": "Tides are caused mainly by the gravitational pull of the Moon on the oceans. " * 3},
    {"id": "bread", "title": "Bread", "text": "Sourdough bread is leavened by a starter of wild yeast and lactic acid bacteria."},
    {"id": "volcano", "title": "Volcanoes", "text": "A volcano erupts when magma rises through the crust and escapes as lava."},
]


def _sources(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in DOCS), encoding="utf-8")
    return folder


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("int8", [False, True], ids=["fp32", "int8"])
def test_a_local_ray_build_gives_the_vectors_of_the_single_process_build(tmp_path, int8):
    pytest.importorskip("ray.data", reason="--ray is the optional extra .[ray]")
    from service.runtime.embedding import Embedder

    embedder = Embedder(int8=int8)
    embedder.warm_up()
    sources = _sources(tmp_path / "src")
    build_index([sources, Path(__file__).resolve().parents[2] / "index" / "sources"], tmp_path / "plain", embedder, show_progress=False)
    summary = build_index(
        [sources, Path(__file__).resolve().parents[2] / "index" / "sources"], tmp_path / "ray", embedder, show_progress=False, ray=""
    )
    plain, with_ray = ReferenceIndex.load(tmp_path / "plain", embedder), ReferenceIndex.load(tmp_path / "ray", embedder)
    assert summary.embedded_passages == len(plain.passages) > 100
    assert [p.text for p in with_ray.passages] == [p.text for p in plain.passages]
    assert np.array_equal(with_ray.vectors(), plain.vectors())


@pytest.mark.unit
def test_ray_without_the_extra_says_which_extra_and_leaves_the_old_index(tmp_path, monkeypatch):
    from fakes import HashEmbedder

    embedder = HashEmbedder()
    sources, out = _sources(tmp_path / "src"), tmp_path / "index"
    first = build_index([sources], out, embedder, show_progress=False)
    (sources / "more.jsonl").write_text(json.dumps({"id": "rain", "text": "Rain falls from clouds."}) + "\n", encoding="utf-8")
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(RayUnavailable, match=r"pip install -e '\.\[ray\]'"):
        build_index([sources], out, embedder, show_progress=False, ray="")
    monkeypatch.undo()
    assert ReferenceIndex.load(out, embedder).build_id == first.build_id


class _SlowStartingRay:
    """A stand-in for the `ray` module whose `init` fails `failures` times the way a slow new node does: it starts
    a process (as Ray starts its GCS and raylet) and leaves it running."""

    def __init__(self, failures: int, error: Exception | None = None):
        self.failures, self.error = failures, error or Exception("The current node timed out during startup.")
        self.inits = self.shutdowns = 0
        self.started: list[subprocess.Popen] = []

    def init(self, **kwargs):
        self.inits += 1
        if self.inits <= self.failures:
            self.started.append(subprocess.Popen(["sleep", "60"]))
            raise self.error

    def shutdown(self):
        self.shutdowns += 1


@pytest.mark.unit
def test_a_local_ray_that_starts_too_slowly_is_started_again():
    from service.index.ray_embedding import start_ray

    ray = _SlowStartingRay(failures=1)
    start_ray(ray, None)
    assert (ray.inits, ray.shutdowns) == (2, 1)
    assert ray.started[0].wait(timeout=10) == -signal.SIGTERM  # what the slow try started does not outlive it


@pytest.mark.unit
def test_a_local_ray_that_never_starts_is_a_clear_error():
    from service.index.ray_embedding import LOCAL_START_ATTEMPTS, start_ray

    ray = _SlowStartingRay(failures=99)
    with pytest.raises(RayUnavailable, match=f"did not start after {LOCAL_START_ATTEMPTS} tries"):
        start_ray(ray, "")
    assert ray.inits == ray.shutdowns == LOCAL_START_ATTEMPTS
    assert all(process.wait(timeout=10) == -signal.SIGTERM for process in ray.started)


@pytest.mark.unit
def test_an_unreachable_cluster_is_not_retried():
    from service.index.ray_embedding import start_ray

    ray = _SlowStartingRay(failures=99, error=ConnectionError("no GCS at 10.0.0.9:6379"))
    with pytest.raises(RayUnavailable, match="cannot reach the Ray cluster at 10.0.0.9:6379"):
        start_ray(ray, "10.0.0.9:6379")
    assert ray.inits == 1
