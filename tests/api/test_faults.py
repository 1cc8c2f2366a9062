"""Faults: corrupt indexes refused by a reload, builds killed with SIGKILL, and a reload storm under
load. The old index keeps serving, nothing is half-swapped, and no request fails."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import REFUTED_CLAIM, running_server, wait_until_ready
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.api.factory import create_app
from service.index.build import build_index, versions_dir
from service.index.reference import FAISS_FILE, MANIFEST_FILE, PASSAGES_FILE, VECTORS_FILE, ReferenceIndex

BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_index.py"
TOKEN = "storm-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TOPICS = [
    ("lighthouse", "A lighthouse guides ships at night with a bright rotating lamp on the coast."),
    ("volcano", "A volcano erupts when molten rock rises through the crust and escapes as lava."),
    ("bread", "Sourdough bread is leavened by wild yeast and lactic acid bacteria in a starter."),
    ("treaty", "A treaty is a written agreement between states that binds them under international law."),
    ("tides", "Tides are caused mainly by the gravitational pull of the Moon on the oceans."),
]
CLAIMS = [
    "Lighthouses guide ships at night.",
    "Volcanoes erupt lava.",
    "Sourdough is leavened by wild yeast.",
    "Treaties bind states under international law.",
    "The Moon causes the tides.",
]


def _write_corpus(folder: Path, prefix: str) -> tuple[Path, set[str]]:
    """One document per topic, ids `<prefix>-<topic>`, worded differently per prefix."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": f"{prefix}-{topic}", "title": f"{prefix} {topic}", "text": f"In the {prefix} notes: {text}"} for topic, text in TOPICS]
    path = folder / f"{prefix}.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path, {row["id"] for row in rows}


# --- a corrupt index is refused by a reload; the old one keeps serving ------------------------------


def _truncate_faiss(directory: Path) -> None:
    data = (directory / FAISS_FILE).read_bytes()
    (directory / FAISS_FILE).write_bytes(data[: len(data) // 2])


def _miscount_passages(directory: Path) -> None:
    manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["passage_count"] += 1
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("corrupt", [_truncate_faiss, _miscount_passages], ids=["truncated faiss", "wrong passage count"])
def test_reload_refuses_a_corrupt_index_and_keeps_serving(settings, pipeline, shipped_index, tmp_path, corrupt):
    broken = tmp_path / "broken"
    shutil.copytree(shipped_index.resolve(), broken)
    corrupt(broken)
    refusing = settings.model_copy(update={"admin_token": SecretStr(TOKEN), "index_dir": broken})
    with TestClient(create_app(refusing, pipeline)) as admin:
        wait_until_ready(admin)
        live = admin.get("/v1/index").json()["build_id"]
        response = admin.post("/v1/admin/reload", headers=AUTH)
        assert response.status_code == 409, response.text
        assert response.json()["error"]["code"] == "bad_index" and str(broken) in response.json()["error"]["message"]
        assert admin.get("/v1/index").json()["build_id"] == live
        assert admin.post("/v1/verify", json={"claim": REFUTED_CLAIM}).json()["verdict"] == "refuted"


def _truncate_vectors(directory: Path) -> None:
    data = (directory / VECTORS_FILE).read_bytes()
    (directory / VECTORS_FILE).write_bytes(data[: len(data) // 2])


def _alter_a_passage(directory: Path) -> None:
    """Swap the case of one letter of the first passage's text: same size, still valid JSON, a passage
    store that loads without complaint unless its checksum is checked."""
    data = bytearray((directory / PASSAGES_FILE).read_bytes())
    at = data.index(b'"text": "') + len(b'"text": "')
    while not chr(data[at]).isalpha():
        at += 1
    data[at] ^= 0x20
    (directory / PASSAGES_FILE).write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("corrupt", "file", "why"),
    [(_truncate_vectors, VECTORS_FILE, "bytes, the manifest says"), (_alter_a_passage, PASSAGES_FILE, "SHA-256")],
    ids=["vectors.npy cut to half", "passages.jsonl altered, same size"],
)
def test_reload_refuses_an_index_file_that_does_not_match_its_manifest(settings, pipeline, shipped_index, tmp_path, corrupt, file, why):
    broken = tmp_path / "broken"
    shutil.copytree(shipped_index.resolve(), broken)
    manifest = json.loads((broken / MANIFEST_FILE).read_text(encoding="utf-8"))
    size = (broken / file).stat().st_size
    corrupt(broken)
    assert ((broken / file).stat().st_size == size) == (corrupt is _alter_a_passage)
    manifest["build_id"] = "corrupt-copy"  # the manifest is not among the files it checks: only the build id tells the two apart
    (broken / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    refusing = settings.model_copy(update={"admin_token": SecretStr(TOKEN), "index_dir": broken})
    with TestClient(create_app(refusing, pipeline)) as admin:
        wait_until_ready(admin)
        live = admin.get("/v1/index").json()["build_id"]
        assert live != "corrupt-copy"
        response = admin.post("/v1/admin/reload", headers=AUTH)
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "bad_index" and str(broken / file) in error["message"] and why in error["message"], error
        assert "rebuild the index" in error["message"]
        assert admin.get("/v1/index").json()["build_id"] == live
        answer = admin.post("/v1/verify", json={"claim": REFUTED_CLAIM})
        assert answer.status_code == 200 and answer.json()["verdict"] == "refuted"
        batch = admin.post("/v1/verify/batch", json={"claims": [REFUTED_CLAIM]}).json()  # this answer names its index
        assert batch["index_build_id"] == live and batch["results"][0]["verdict"] == "refuted"


# --- a real server on an index directory that the tests rebuild --------------------------------------


@pytest.fixture(scope="module")
def served(pipeline, tmp_path_factory):
    """A real server with the admin token on an index dir first built from corpus "alpha"; yields
    (url, index dir, {build id: doc ids of its corpus}, the corpora's doc ids and sources by prefix)."""
    root = tmp_path_factory.mktemp("served")
    corpora = {prefix: _write_corpus(root / "sources", prefix) for prefix in ("alpha", "beta")}
    out = root / "index"
    builds = {build_index([corpora["alpha"][0]], out, pipeline.embedder, show_progress=False).build_id: corpora["alpha"][1]}
    with running_server(out, root / "server.log", admin_token=TOKEN) as url:
        yield url, out, builds, corpora


def _serving(url: str) -> str:
    return httpx.get(f"{url}/v1/index", timeout=30).json()["build_id"]


def _evidence_docs(result: dict) -> set[str]:
    return {evidence["doc_id"] for evidence in result["evidence"]}


# --- SIGKILL during a build ----------------------------------------------------------------------------


def _write_big_corpus(path: Path, documents: int) -> None:
    rows = (
        {"id": f"harbour-{i}", "text": f"Harbour {i} has a lighthouse whose keeper is called Keeper{i}; it was built in {1700 + i}."}
        for i in range(documents)
    )
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def _drain(stream, into: bytearray) -> None:
    for chunk in iter(lambda: stream.read1(4096), b""):
        into.extend(chunk)


def _build_then_kill(sources: Path, out: Path, kill_when) -> None:
    """Run scripts/build_index.py and SIGKILL it once `kill_when(seconds, stderr so far)` is true."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [sys.executable, str(BUILD_SCRIPT), str(sources), "--out", str(out)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=out.parent)
    stderr = bytearray()
    reader = threading.Thread(target=_drain, args=(process.stderr, stderr))
    reader.start()
    started = time.monotonic()
    try:
        while not kill_when(time.monotonic() - started, stderr.decode(errors="replace")):
            assert process.poll() is None, f"the build ended before the kill: {stderr.decode(errors='replace')[-2000:]}"
            assert time.monotonic() - started < 120, "kill moment not reached in 120 s"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
        reader.join(timeout=30)
    assert process.returncode == -signal.SIGKILL


def _mid_embedding(seconds: float, stderr: str) -> bool:
    return re.search(r"embedding passages:.*?\b[1-9]\d*/\d+", stderr) is not None


def test_sigkilled_build_leaves_the_old_index_serving_and_the_rerun_succeeds(served, pipeline, tmp_path):
    url, out, builds, corpora = served
    alpha_sources, alpha_docs = corpora["alpha"]
    old = build_index([alpha_sources], out, pipeline.embedder, show_progress=False).build_id
    builds[old] = alpha_docs
    assert httpx.post(f"{url}/v1/admin/reload", headers=AUTH, timeout=60).json()["build_id"] == old
    big = tmp_path / "big.jsonl"
    _write_big_corpus(big, 300)

    for kill_when in (lambda seconds, stderr: seconds > 1.0, _mid_embedding):
        _build_then_kill(big, out, kill_when)
        assert ReferenceIndex.load(out, pipeline.embedder).build_id == old
        assert _serving(url) == old
        reloaded = httpx.post(f"{url}/v1/admin/reload", headers=AUTH, timeout=60)
        assert reloaded.status_code == 200 and reloaded.json()["build_id"] == old
        answer = httpx.post(f"{url}/v1/verify", json={"claim": CLAIMS[0], "top_k": 3}, timeout=60)
        assert answer.status_code == 200 and _evidence_docs(answer.json()) <= alpha_docs

    rerun = build_index([big], out, pipeline.embedder, show_progress=False)  # the killed builds' lock does not block it
    new = ReferenceIndex.load(out, pipeline.embedder)
    assert new.build_id == rerun.build_id != old and new.manifest["document_count"] == len(new.documents) == 300
    (hits,) = new.search(pipeline.embedder.encode(["Who keeps the lighthouse of harbour 123?"]), 3)
    assert "harbour-123" in {hit.passage.doc_id for hit in hits}
    assert not [p for p in versions_dir(out).iterdir() if p.name.startswith(".")]
    assert not list(out.parent.glob(f".{out.name}.link-*"))
    assert httpx.post(f"{url}/v1/admin/reload", headers=AUTH, timeout=60).json()["build_id"] == new.build_id
    answer = httpx.post(f"{url}/v1/verify", json={"claim": "Harbour 123 has a lighthouse.", "top_k": 3}, timeout=60).json()
    assert any(doc.startswith("harbour-") for doc in _evidence_docs(answer))


# --- a reload storm under load -------------------------------------------------------------------------


def _client_loop(url: str, stop: threading.Event, answers: list, failures: list, seed: int) -> None:
    """Alternate /v1/verify and /v1/verify/batch until `stop`, keeping every answer."""
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=120) as http:
        while not stop.is_set():
            batch = rng.random() < 0.5
            try:
                if batch:
                    response = http.post("/v1/verify/batch", json={"claims": rng.sample(CLAIMS, 2), "top_k": 3})
                else:
                    response = http.post("/v1/verify", json={"claim": rng.choice(CLAIMS), "top_k": 3})
            except httpx.HTTPError as error:
                failures.append(repr(error))
                continue
            if response.status_code != 200:
                failures.append(f"{response.status_code}: {response.text[:300]}")
                continue
            answers.append(response.json())


def test_reload_storm_loses_no_request_and_never_mixes_indexes(served, pipeline):
    url, out, builds, corpora = served
    first = build_index([corpora["alpha"][0]], out, pipeline.embedder, show_progress=False).build_id
    builds[first] = corpora["alpha"][1]
    assert httpx.post(f"{url}/v1/admin/reload", headers=AUTH, timeout=60).json()["build_id"] == first
    pid = httpx.get(f"{url}/readyz", timeout=30).json()["pid"]
    stop, answers, failures = threading.Event(), [], []
    clients = [threading.Thread(target=_client_loop, args=(url, stop, answers, failures, seed)) for seed in range(4)]
    for thread in clients:
        thread.start()
    started, swaps, sighups = time.monotonic(), 0, 0
    try:
        while time.monotonic() - started < 12 or swaps < 4:
            assert time.monotonic() - started < 90, f"only {swaps} swaps in 90 s"
            sources, docs = corpora["beta" if swaps % 2 == 0 else "alpha"]
            build_id = build_index([sources], out, pipeline.embedder, show_progress=False).build_id
            builds[build_id] = docs
            if swaps % 3 == 1:
                os.kill(pid, signal.SIGHUP)
                deadline = time.monotonic() + 60
                while _serving(url) != build_id:
                    assert time.monotonic() < deadline, "SIGHUP did not swap the index in 60 s"
                    time.sleep(0.05)
                sighups += 1
            else:
                reloaded = httpx.post(f"{url}/v1/admin/reload", headers=AUTH, timeout=60)
                assert reloaded.status_code == 200 and reloaded.json()["build_id"] == build_id, reloaded.text
            swaps += 1
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=120)

    assert not failures, failures[:5]
    assert sighups >= 1 and len(answers) >= 10
    seen = {"alpha": 0, "beta": 0}
    for answer in answers:
        results = answer.get("results", [answer])
        assert len(results) == (2 if "results" in answer else 1), answer  # a batch of two, or one verify
        docs = set().union(*(_evidence_docs(result) for result in results))
        assert all(len(result["evidence"]) == 3 for result in results), answer
        owners = [prefix for prefix in seen if docs <= corpora[prefix][1]]
        assert len(owners) == 1, f"evidence from more than one index: {sorted(docs)}"
        seen[owners[0]] += 1
        if "index_build_id" in answer:
            assert docs <= builds[answer["index_build_id"]], (answer["index_build_id"], docs)
    assert seen["alpha"] and seen["beta"], seen
