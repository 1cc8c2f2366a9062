"""Replicas: several stateless `claimcheck serve` processes over one index (a shared FAISS directory, or the
directory's passages with the vectors in one Milvus server) answer alike and reload alike (docs/deploy.md)."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import SHIPPED_SOURCES, free_port, running_server

from service.index.build import build_index
from service.runtime.embedding import Embedder

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOKEN = "replica-test-token"
NEW_DOC = {
    "id": "moon-landing",
    "title": "Apollo 11",
    "text": "Apollo 11 landed the first two people on the Moon on 20 July 1969; Neil Armstrong stepped out first.",
}
CLAIMS = ["The Security Council has fifteen members.", "Apollo 11 landed the first people on the Moon in 1969."]


@contextlib.contextmanager
def milvus_server(data_dir: Path):
    """A Milvus server (Milvus Lite's gRPC server) on a free port; yields its URI."""
    pytest.importorskip("milvus_lite", reason="the Milvus vector store is the optional extra .[milvus]")
    port = free_port()
    command = [str(Path(sys.executable).parent / "milvus-lite"), "server", "--data-dir", str(data_dir), "--host", "127.0.0.1"]
    process = subprocess.Popen([*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    uri = f"http://127.0.0.1:{port}"
    try:
        from pymilvus import MilvusClient

        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "milvus-lite server exited"
            try:
                MilvusClient(uri, timeout=2, dedicated=True).close()  # shared, it would stay open with pymilvus's pings
                break
            except Exception:
                assert time.monotonic() < deadline, "milvus-lite server not up in 60 s"
                time.sleep(0.5)
        yield uri
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(url: str) -> tuple[str, list[tuple]]:
    """The build a replica answers from, and its verdicts and evidence for CLAIMS."""
    answer = httpx.post(f"{url}/v1/verify/batch", json={"claims": CLAIMS, "top_k": 3}, timeout=120).json()
    return answer["index_build_id"], [
        (result["verdict"], result["confidence"], [(e["doc_id"], e["start"], e["end"], e["stance"]) for e in result["evidence"]])
        for result in answer["results"]
    ]


@pytest.mark.parametrize("store", ["faiss", "milvus-server"])
def test_two_replicas_over_one_index_answer_alike_and_reload_alike(tmp_path, store):
    sources = tmp_path / "sources"
    shutil.copytree(SHIPPED_SOURCES, sources)
    out = tmp_path / "index"
    embedder = Embedder()
    embedder.warm_up()
    with contextlib.ExitStack() as stack:
        vector_store = "faiss"
        if store == "milvus-server":
            vector_store = f"milvus:{stack.enter_context(milvus_server(tmp_path / 'milvus'))}"
        first = build_index([sources], out, embedder, show_progress=False, vector_store=vector_store)
        replicas = [stack.enter_context(running_server(out, tmp_path / f"replica-{n}.log", admin_token=TOKEN)) for n in range(2)]
        before = [_answers(url) for url in replicas]
        assert before[0] == before[1]
        build_id, verdicts = before[0]
        assert build_id == first.build_id
        assert verdicts[0][0] == "supported" and verdicts[1][0] == "not_enough_info"

        (sources / "apollo.jsonl").write_text(json.dumps(NEW_DOC) + "\n", encoding="utf-8")
        second = build_index([sources], out, embedder, show_progress=False, vector_store=vector_store)
        assert second.embedded_passages == 1
        # Until told, each replica keeps serving the build it loaded.
        assert _answers(replicas[0]) == before[0]
        for url in replicas:  # a rolling reload: one replica at a time
            reloaded = httpx.post(f"{url}/v1/admin/reload", headers={"authorization": f"Bearer {TOKEN}"}, timeout=120)
            assert reloaded.status_code == 200 and reloaded.json()["build_id"] == second.build_id
        after = [_answers(url) for url in replicas]
        assert after[0] == after[1]
        build_id, verdicts = after[0]
        assert build_id == second.build_id
        assert verdicts[1][2][0][0] == NEW_DOC["id"]
