"""Speed benchmark: prints one JSON report, everything measured in one run on this machine.

- end to end: `/v1/verify` and `/v1/check` over a real server on 127.0.0.1, at concurrency 1
  and 8, and `/v1/verify/batch` with 16 claims a call: claims/s, p50/p95 latency; the
  server's peak resident memory;
- the limit: the bare forward passes the same work needs (one embedding per claim, and the
  cross-encoder pairs the service reads for it: top_k passages whole plus the sentences of
  the best-retrieved `verdict_passages`) at the best batch size, run the fastest way we know (batches side
  by side, one core each: faster than each call spread over the cores), and the efficiency
  ratio (model-only time / end-to-end time);
- a naive pipeline with the same models doing the same work (`SentenceTransformer.encode`
  per claim, a flat FAISS search each, `CrossEncoder.predict` per pair) and our speed-up, beside
  the limit's own speed-up over it: what the service would reach if it lost nothing around the forward passes;
- index build passages/s against the bare embedding throughput of the same passages (best of 3 each, alternated),
  with fp32 and with int8 passage embedding.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
CLAIMS = [
    "An armed attack against one NATO member is considered an attack against them all.",
    "The North Atlantic Treaty was signed in Washington in 1949.",
    "Any party may leave the North Atlantic Treaty one year after giving notice of denunciation.",
    "The Parties will consult together whenever the security of any of them is threatened.",
    "New members can join NATO only with the unanimous agreement of the existing Parties.",
    "The Security Council of the United Nations has fifteen members.",
    "The UN Charter gives every member state the inherent right of self-defence.",
    "The General Assembly may discuss any question within the scope of the Charter.",
    "The Secretary-General is appointed by the General Assembly upon the recommendation of the Security Council.",
    "The International Court of Justice is the principal judicial organ of the United Nations.",
    "Members of the United Nations must settle their international disputes by peaceful means.",
    "The Economic and Social Council consists of fifty-four members.",
    "The Charter was signed in San Francisco in June 1945.",
    "NATO members are obliged to maintain their capacity to resist armed attack.",
    "The treaty's English and French texts are equally authentic.",
    "The Trusteeship Council supervises trust territories.",
]
PARAGRAPH = (
    "Ukraine formally applied to join the US-led alliance in September 2022. Article 5 of the NATO Charter stipulates "
    "that an attack against one member must be treated as an attack against the alliance as a whole. The treaty was "
    "signed in Washington in April 1949 by twelve countries. Any party may leave the treaty one year after giving notice. "
    "Do you think NATO will survive? The United Nations Charter was signed in San Francisco in June 1945, and it gives "
    "every member state the inherent right of individual or collective self-defence until the Security Council acts. "
    "The Security Council has fifteen members, five of them permanent. Members must settle their disputes by peaceful "
    "means. The General Assembly may discuss any question within the scope of the Charter. Critics say the alliance is "
    "obsolete, but that is a matter of opinion."
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _load(url: str, path: str, bodies: list[dict], concurrency: int, claims_per_request: int) -> dict:
    latencies: list[float] = []

    def call(body: dict) -> None:
        started = time.perf_counter()
        response = http.post(url + path, json=body)
        response.raise_for_status()
        latencies.append(time.perf_counter() - started)

    with httpx.Client(timeout=300, limits=httpx.Limits(max_connections=concurrency)) as http:
        call(bodies[0])  # warm-up
        latencies.clear()
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(call, bodies))
        seconds = time.perf_counter() - started
    return {
        "requests": len(bodies),
        "concurrency": concurrency,
        "claims_per_second": round(len(bodies) * claims_per_request / seconds, 2),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * _percentile(latencies, 0.95), 1),
        "seconds": round(seconds, 2),
    }


def _start_server(index_dir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "CLAIMCHECK_INDEX_DIR": str(index_dir), "CLAIMCHECK_PORT": str(port), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "claimcheck"), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return server, url
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("the server did not become ready in 300 s")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _readings(claims: list[str], index, embedder, top_k: int) -> list:
    """The stance readings the service makes for `claims` (same passages, same sentences)."""
    from service.config import Settings
    from service.pipeline.retrieval import retrieve
    from service.pipeline.stance import stance_readings

    settings = Settings()
    hits = retrieve(embedder, [(index, claims, top_k)])
    return stance_readings(claims, hits, settings.sentence_passages, settings.whole_reading_limit)


def _model_only(claims: list[str], index_dir: Path, top_k: int) -> dict:
    """Bare forward passes for the verify work: one embedding per claim and the stance pairs
    the service reads for it (each passage whole, and the sentences of the best-retrieved `verdict_passages`;
    long passages by their sentences only)."""
    from service.config import Settings
    from service.index.reference import ReferenceIndex
    from service.pipeline.stance import StanceClassifier
    from service.runtime.embedding import Embedder

    embedder = Embedder()
    embedder.warm_up()
    stance = StanceClassifier.configured(Settings())
    stance.warm_up()
    index = ReferenceIndex.load(index_dir, embedder)
    pairs = [reading.pair for reading in _readings(claims, index, embedder, top_k)]
    best = None
    for batch_size in (2, 4, 8, 16, 32, 64):
        embedder.batch_size, stance.batch_size = batch_size, batch_size
        started = time.perf_counter()
        embedder.encode(claims)
        stance.predict(pairs)
        seconds = time.perf_counter() - started
        if best is None or seconds < best[1]:
            best = (batch_size, seconds)
    return {
        "best_batch_size": best[0],
        "seconds": round(best[1], 3),
        "claims_per_second": round(len(claims) / best[1], 2),
        "pairs": len(pairs),
    }


def _naive(claims: list[str], index_dir: Path, top_k: int) -> dict:
    """The obvious pipeline doing the same work: one encode per claim, one flat search each,
    one `CrossEncoder.predict` per stance reading."""
    import faiss
    import torch
    from sentence_transformers import CrossEncoder, SentenceTransformer

    from service.config import Settings
    from service.index.reference import ReferenceIndex
    from service.runtime.embedding import Embedder, packaged_embedding_model_path

    index = ReferenceIndex.load(index_dir)
    flat = faiss.IndexFlatIP(index.store.dimension)
    flat.add(index.vectors())
    encoder = SentenceTransformer(packaged_embedding_model_path(), device="cpu")
    cross = CrossEncoder(str(Settings().stance_model_dir), device="cpu", max_length=256, model_kwargs={"dtype": torch.float32})
    embedder = Embedder()
    embedder.warm_up()
    readings = _readings(claims, index, embedder, top_k)  # which sentences to read; not timed
    started = time.perf_counter()
    for number, claim in enumerate(claims):
        vector = encoder.encode([claim], normalize_embeddings=True)
        flat.search(vector, top_k)
        for reading in readings:
            if reading.claim == number:
                cross.predict([reading.pair])
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "claims_per_second": round(len(claims) / seconds, 2), "pairs": len(readings)}


BUILD_ROUNDS = 3


def _index_build(index_dir: Path) -> dict:
    """Build passages/s against the bare embedder's on the same passages, for fp32 and int8 passage embedding."""
    from service.index.reference import ReferenceIndex, embedding_input
    from service.runtime.embedding import Embedder

    index = ReferenceIndex.load(index_dir)
    texts = [embedding_input(p, index.documents[p.doc_id].title) for p in index.passages]
    report: dict = {"rounds": BUILD_ROUNDS, "passages": len(texts)}
    for precision in ("fp32", "int8"):
        embedder = Embedder(int8=precision == "int8")
        embedder.warm_up()
        build, bare = _build_and_bare(embedder, texts)
        report[precision] = {
            "build_passages_per_second": round(build, 2),
            "bare_embedding_passages_per_second": round(bare, 2),
            "build_over_bare": round(build / bare, 3),
        }
    fastest = max(report[p]["bare_embedding_passages_per_second"] for p in ("fp32", "int8"))
    report["int8_build_over_fastest_bare"] = round(report["int8"]["build_passages_per_second"] / fastest, 3)
    return report


def _build_and_bare(embedder, texts: list[str]) -> tuple[float, float]:
    from service.index.build import build_index

    build_seconds, bare_seconds = [], []
    for _ in range(BUILD_ROUNDS):  # alternated, best of each: neither gets the other's warm-up
        with tempfile.TemporaryDirectory() as scratch:
            summary = build_index([REPO / "index" / "sources"], Path(scratch) / "index", embedder, show_progress=False)
        build_seconds.append(summary.seconds)
        started = time.perf_counter()
        embedder.encode(texts)
        bare_seconds.append(time.perf_counter() - started)
    return summary.passages / min(build_seconds), len(texts) / min(bare_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--index-dir", type=Path, default=None, help="index to serve (default: build the shipped sources into a temporary folder)"
    )
    parser.add_argument("--rounds", type=int, default=4, help="times each claim is sent")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--save", action="store_true", help="save the report in docs/results/speed.json and regenerate docs/benchmarks.md")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as scratch:
        index_dir = args.index_dir
        if index_dir is None:
            from service.index.build import build_index
            from service.runtime.embedding import Embedder

            index_dir = Path(scratch) / "index"
            build_index([REPO / "index" / "sources"], index_dir, Embedder(), show_progress=False)
        claims = CLAIMS * args.rounds
        report: dict = {"top_k": args.top_k, "claims": len(claims), "cpus": os.cpu_count()}
        server, url = _start_server(index_dir)
        try:
            verify_bodies = [{"claim": claim, "top_k": args.top_k} for claim in claims]
            check_bodies = [{"text": PARAGRAPH, "top_k": args.top_k}] * (2 * args.rounds)
            claims_in_paragraph = len(httpx.post(url + "/v1/check", json=check_bodies[0], timeout=300).json()["claims"])
            report["verify"] = [_load(url, "/v1/verify", verify_bodies, c, 1) for c in (1, 8)]
            batch_bodies = [{"claims": CLAIMS, "top_k": args.top_k}] * args.rounds
            report["verify_batch_16"] = _load(url, "/v1/verify/batch", batch_bodies, 1, len(CLAIMS))
            report["check_150_words"] = [_load(url, "/v1/check", check_bodies, c, claims_in_paragraph) for c in (1, 8)]
            report["check_150_words_claims"] = claims_in_paragraph
            report["server_peak_rss_mb"] = _peak_rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=60)
        report["model_only"] = _model_only(claims, index_dir, args.top_k)
        end_to_end = {run["concurrency"]: run["claims_per_second"] for run in report["verify"]}
        report["efficiency_ratio"] = {
            f"concurrency_{c}": round(cps / report["model_only"]["claims_per_second"], 3) for c, cps in end_to_end.items()
        }
        report["naive"] = _naive(CLAIMS, index_dir, args.top_k)
        report["speedup_over_naive"] = {
            f"concurrency_{c}": round(cps / report["naive"]["claims_per_second"], 2) for c, cps in end_to_end.items()
        }
        report["limit_over_naive"] = round(report["model_only"]["claims_per_second"] / report["naive"]["claims_per_second"], 2)
        report["index_build"] = _index_build(index_dir)
    print(json.dumps(report, indent=2))
    if args.save:
        from service.evaluation.benchmarks import save_report

        save_report("speed", report)


if __name__ == "__main__":
    main()
