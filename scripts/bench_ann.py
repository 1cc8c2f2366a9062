"""Approximate FAISS index types against the exact flat index, on synthetic sentence-embedding-like vectors.

    .venv/bin/python scripts/bench_ann.py                      # 1,000,000 vectors (heavy: see README)
    .venv/bin/python scripts/bench_ann.py --vectors 100000 --types HNSW32 IVF1264,SQ8

The vectors are 384-d and L2-normalised like all-MiniLM-L6-v2's: a Gaussian mixture of a few thousand
topic centres sharing a common direction, varied inside a low-rank subspace plus isotropic noise; the
queries are fresh draws from the same mixture, not copies of indexed vectors. Every type is built by
`service.index.ann.build_faiss_index`, the function the index build uses, with the search parameters the
build would record. Prints one JSON report on standard output (per type: build seconds, serialized
bytes, query milliseconds at batch 1 and batch 64, recall@10 against the flat index's exact top 10,
and recall and time at other search parameters; `--save` also stores it for docs/benchmarks.md);
progress and a summary table go to standard error. `--milvus URI` measures Milvus's index types the same way
through the service's own Milvus store (bytes: the Milvus Lite folder on disk; `.[milvus]` installed).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np

from service.index.ann import AUTO, apply_search_params, auto_index_type, build_faiss_index, ivf_lists

DIMENSION = 384
CHUNK = 65_536
TOP_K = 10
SWEEPS = {"nprobe": (8, 16, 32, 64, 128), "efSearch": (32, 64, 128, 256)}


class SyntheticEmbeddings:
    """Draws unit vectors from one fixed mixture: topic centres around a shared direction, a shared
    low-rank subspace of within-topic variation, isotropic noise. Tuned so that, as with MiniLM on
    varied English text, a random pair has cosine about 0.1 and a query's nearest neighbours 0.6 to 0.7."""

    def __init__(self, clusters: int, seed: int, rank: int = 48):
        rng = np.random.default_rng(seed)
        common = _normalized(rng.standard_normal((1, DIMENSION), dtype=np.float32))
        self.centres = _normalized(rng.standard_normal((clusters, DIMENSION), dtype=np.float32) / np.sqrt(DIMENSION) + 0.5 * common)
        self.basis = rng.standard_normal((rank, DIMENSION), dtype=np.float32) / np.sqrt(DIMENSION)
        sizes = rng.lognormal(0.0, 1.0, clusters)
        self.weights = sizes / sizes.sum()

    def draw(self, count: int, seed: int, progress=None) -> np.ndarray:
        """`count` vectors, made chunk by chunk into one float32 array."""
        rng = np.random.default_rng(seed)
        out = np.empty((count, DIMENSION), dtype=np.float32)
        for start in range(0, count, CHUNK):
            rows = out[start : start + CHUNK]
            topics = rng.choice(len(self.centres), size=len(rows), p=self.weights)
            rows[:] = self.centres[topics]
            rows += 0.7 * rng.standard_normal((len(rows), len(self.basis)), dtype=np.float32) @ self.basis / np.sqrt(len(self.basis))
            rows += 0.5 * rng.standard_normal(rows.shape, dtype=np.float32) / np.sqrt(DIMENSION)
            rows /= np.linalg.norm(rows, axis=1, keepdims=True)
            if progress is not None:
                progress(len(rows))
        return out


def _normalized(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _serialized_bytes(index) -> int:
    """What faiss.serialize_index would return, counted while streaming (no copy of a large index)."""
    import faiss

    total = 0

    def count(chunk: bytes) -> int:
        nonlocal total
        total += len(chunk)
        return len(chunk)

    faiss.write_index(index, faiss.PyCallbackIOWriter(count))
    return total


def _query_ms(index, queries: np.ndarray, batch: int, limit: int) -> float:
    """Milliseconds per query, searching the first `limit` queries `batch` at a time."""
    queries = queries[:limit]
    started = time.perf_counter()
    for start in range(0, len(queries), batch):
        index.search(queries[start : start + batch], TOP_K)
    return 1000 * (time.perf_counter() - started) / len(queries)


def _recall(index, queries: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of the exact top 10 found in the index's top 10."""
    _, rows = index.search(queries, TOP_K)
    return float(np.mean([len(set(found) & set(exact)) / TOP_K for found, exact in zip(rows, truth, strict=True)]))


def _measure(factory: str, vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray | None, single_queries: int):
    """Build `factory` and measure it; returns its report and its exact top 10 when `truth` is None (the flat index)."""
    from tqdm import tqdm

    with tqdm(total=len(vectors), desc=f"{factory:>16}", unit="vec", unit_scale=True, file=sys.stderr) as bar:
        started = time.perf_counter()
        built = build_faiss_index(vectors, factory, progress=bar.update)
        seconds = time.perf_counter() - started
    index = built.index
    size = _serialized_bytes(index)
    if truth is None:
        _, truth = index.search(queries, TOP_K)
    report = {
        "build_seconds": round(seconds, 2),
        "build_params": built.build_params,
        "search_params": built.search_params,
        "index_bytes": size,
        "bytes_per_vector": round(size / len(vectors), 1),
        "query_ms_batch_1": round(_query_ms(index, queries, 1, single_queries), 3),
        "query_ms_batch_64": round(_query_ms(index, queries, 64, len(queries)), 3),
        "recall_at_10": round(_recall(index, queries, truth), 4),
    }
    for name, values in SWEEPS.items():
        if name in built.search_params:
            report["sweep"] = []
            for value in values:
                apply_search_params(index, {name: value})
                ms = _query_ms(index, queries, 64, len(queries))
                report["sweep"].append(
                    {name: value, "recall_at_10": round(_recall(index, queries, truth), 4), "query_ms_batch_64": round(ms, 3)}
                )
            apply_search_params(index, built.search_params)
    return report, truth


def _measure_milvus(uri: str, index_type: str, vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray, single_queries: int):
    """Write `vectors` to a new collection of `uri` as the build does, and measure it as `_measure` does."""
    import shutil
    from pathlib import Path

    from tqdm import tqdm

    from service.index.milvus_store import MilvusStore, drop_collection, write_collection

    name = f"bench_{index_type.lower()}_{len(vectors)}"
    drop_collection(uri, name)
    with tqdm(total=len(vectors), desc=f"milvus {index_type:>9}", unit="vec", unit_scale=True, file=sys.stderr) as bar:
        started = time.perf_counter()
        record = write_collection(uri, name, vectors, index_type, progress=bar.update)
        seconds = time.perf_counter() - started
    store = MilvusStore(record, DIMENSION)
    local = Path(uri)
    size = sum(f.stat().st_size for f in local.rglob("*") if f.is_file()) if local.exists() else None
    report = {
        "build_seconds": round(seconds, 2),
        "build_params": record["index_params"],
        "search_params": record["search_params"],
        "store_bytes": size,
        "bytes_per_vector": round(size / len(vectors), 1) if size else None,
        "query_ms_batch_1": round(_query_ms(store, queries, 1, single_queries), 3),
        "query_ms_batch_64": round(_query_ms(store, queries, 64, len(queries)), 3),
        "recall_at_10": round(_recall(store, queries, truth), 4),
    }
    store.close()
    drop_collection(uri, name)
    if local.exists() and not any(local.glob("collections/*")):
        shutil.rmtree(local, ignore_errors=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=int, default=1_000_000, help="indexed vectors (default 1,000,000)")
    parser.add_argument("--queries", type=int, default=1000, help="held-out query vectors (default 1000)")
    parser.add_argument("--single-queries", type=int, default=200, help="queries timed one at a time (default 200)")
    parser.add_argument("--clusters", type=int, default=4000, help="topic centres of the mixture (default 4000)")
    parser.add_argument(
        "--types",
        nargs="+",
        default=None,
        help="types to compare with Flat (default: HNSW32, IVF{4 sqrt N},Flat, IVF{4 sqrt N},SQ8, IVF{4 sqrt N},PQ48, auto's pick)",
    )
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1), help="FAISS OpenMP threads (default: up to 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--milvus", metavar="URI", help="also measure Milvus FLAT and HNSW at URI (a .db file for Milvus Lite)")
    parser.add_argument(
        "--save",
        action="store_true",
        help="save the report in docs/results/ann.json (ann-N.json for N vectors) and regenerate docs/benchmarks.md",
    )
    args = parser.parse_args()

    import faiss
    from tqdm import tqdm

    faiss.omp_set_num_threads(args.threads)
    lists = ivf_lists(args.vectors)
    types = args.types or ["HNSW32", f"IVF{lists},Flat", f"IVF{lists},SQ8", f"IVF{lists},PQ48"]
    auto = auto_index_type(args.vectors)
    types = list(dict.fromkeys(t for t in [*types, auto] if t not in ("Flat", AUTO)))
    mixture = SyntheticEmbeddings(args.clusters, args.seed)
    with tqdm(total=args.vectors, desc="generating", unit="vec", unit_scale=True, file=sys.stderr) as bar:
        vectors = mixture.draw(args.vectors, args.seed + 1, progress=bar.update)
    queries = mixture.draw(args.queries, args.seed + 2)

    results = {}
    results["Flat"], truth = _measure("Flat", vectors, queries, None, args.single_queries)
    for factory in types:
        results[factory], _ = _measure(factory, vectors, queries, truth, args.single_queries)
    if args.milvus:
        for index_type in ("FLAT", "HNSW"):
            results[f"milvus {index_type}"] = _measure_milvus(args.milvus, index_type, vectors, queries, truth, args.single_queries)
    report = {
        "vectors": args.vectors,
        "dimension": DIMENSION,
        "queries": args.queries,
        "clusters": args.clusters,
        "threads": args.threads,
        "faiss": faiss.__version__,
        "auto_index_type": auto,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "indexes": results,
    }
    print(json.dumps(report, indent=2))
    if args.save:
        from service.evaluation.benchmarks import save_report

        save_report("ann" if args.vectors == 1_000_000 else f"ann-{args.vectors}", report)
    print(f"\n{'type':>20} {'build s':>9} {'MB':>8} {'ms b=1':>8} {'ms b=64':>8} {'recall@10':>9}", file=sys.stderr)
    for factory, row in results.items():
        print(
            f"{factory + (' (auto)' if factory == auto else ''):>20} {row['build_seconds']:>9.1f} "
            f"{(row.get('index_bytes') or row.get('store_bytes') or 0) / 2**20:>8.1f} "
            f"{row['query_ms_batch_1']:>8.3f} {row['query_ms_batch_64']:>8.3f} {row['recall_at_10']:>9.4f}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
