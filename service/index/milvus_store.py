"""Passage vectors in a Milvus collection: written by a build with `--vector-store milvus:URI`, searched by the service.

URI is a local Milvus Lite file (`./milvus.db`: embedded, one process at a time) or `http(s)://host:port` of a
Milvus server or cluster. Each build writes a collection of its own (`claimcheck_<build id>`), so the previous
build's collection keeps serving until the index directory's link is swapped, as with FAISS; a collection is
dropped with its version directory. Needs the optional extra `.[milvus]` (pymilvus, milvus-lite).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np

from service.index.ann import AUTO, FLAT_MAX_VECTORS, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, ivf_lists, ivf_nprobe
from service.index.vector_store import MILVUS, VectorStoreError

ROW_FIELD = "row"
VECTOR_FIELD = "vector"
METRIC = "IP"
INSERT_BATCH = 10_000
HNSW_M = 32
INDEX_TYPES = ("FLAT", "HNSW", "IVF_FLAT", "IVF_SQ8", "HNSW_SQ")
# pymilvus pings an idle connection every 10 s; a gRPC server that keeps gRPC's default policy (Milvus Lite's, in
# the service's own process too) answers a second such ping by closing the connection ("too_many_pings"), and the
# service would lose its index. Pings at the default policy's 5-minute floor, during calls only, suit every server.
# pymilvus shares one connection per address and token among its clients, with the options of the first client made:
# ours is dedicated, so that another client of the same server in the process (a probe, a script) cannot give it
# the 10 s pings.
GRPC_OPTIONS = {"grpc.keepalive_time_ms": 300_000, "grpc.keepalive_permit_without_calls": False}

log = logging.getLogger("claimcheck")


def collection_name(build_id: str) -> str:
    """The collection a build writes: Milvus names take letters, digits and underscores."""
    return "claimcheck_" + "".join(c if c.isalnum() else "_" for c in build_id)


def is_server(uri: str) -> bool:
    """Whether `uri` names a Milvus server (http(s)://host:port) rather than a Milvus Lite file."""
    return uri.startswith(("http://", "https://"))


def resolve_uri(uri: str) -> str:
    """A server URI as given; a Milvus Lite file as an absolute path (the service may start in another folder)."""
    if is_server(uri):
        return uri
    if not uri.endswith(".db"):
        raise VectorStoreError(f"milvus:{uri}: a Milvus Lite file name must end in .db (or give http(s)://host:port of a server)")
    return str(Path(uri).expanduser().absolute())


def connect(uri: str):
    """A MilvusClient for `uri`; raises VectorStoreError saying what is wrong (extra not installed, file held by
    another process, server unreachable)."""
    try:
        from pymilvus import MilvusClient
    except ImportError as error:
        raise VectorStoreError("the Milvus vector store needs the optional extra: pip install -e '.[milvus]'") from error
    if not is_server(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)  # a new Milvus Lite file's folder, as a build's --out
    try:
        return MilvusClient(uri, grpc_options=GRPC_OPTIONS, dedicated=True)
    except Exception as error:  # pymilvus raises its own exception types, and grpc's, for one cause: no connection
        if is_server(uri):
            raise VectorStoreError(f"cannot connect to the Milvus server at {uri}: {error}") from error
        raise VectorStoreError(
            f"cannot open the Milvus Lite file {uri}: Milvus Lite lets one process at a time open a file, and another one "
            "(a running service?) may hold it. Stop it, or serve from a Milvus server: "
            f"`milvus-lite server --data-dir {uri} --port 19530` and milvus:http://127.0.0.1:19530 ({error})"
        ) from error


def milvus_index_type(requested: str, count: int) -> str:
    """The Milvus index type for `--index-type` (`auto`: exact FLAT below FLAT_MAX_VECTORS passages, HNSW above)."""
    if requested == AUTO:
        return "FLAT" if count < FLAT_MAX_VECTORS else "HNSW"
    if requested.upper() not in INDEX_TYPES:
        raise VectorStoreError(f"--index-type {requested!r} is not a Milvus index type; with Milvus use one of {', '.join(INDEX_TYPES)}")
    return requested.upper()


def index_and_search_params(index_type: str, count: int) -> tuple[dict, dict]:
    """Build and search parameters for `index_type`, the same choices as the FAISS build makes."""
    if index_type.startswith("HNSW"):
        return {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}, {"ef": HNSW_EF_SEARCH}
    if index_type.startswith("IVF"):
        lists = ivf_lists(count)
        return {"nlist": lists}, {"nprobe": ivf_nprobe(lists)}
    return {}, {}


def write_collection(uri: str, name: str, vectors: np.ndarray, requested_type: str, progress: Callable[[int], None] | None = None) -> dict:
    """Create collection `name` at `uri` holding `vectors` (primary key = row), index and load it, and return what the
    manifest records of it; a failure drops the half-written collection and raises VectorStoreError."""
    from pymilvus import DataType

    count, dimension = vectors.shape
    index_type = milvus_index_type(requested_type, count)
    index_params, search_params = index_and_search_params(index_type, count)
    client = connect(uri)
    try:
        if client.has_collection(name):
            raise VectorStoreError(f"milvus:{uri} already holds a collection {name!r}")
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(ROW_FIELD, DataType.INT64, is_primary=True)
        schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=int(dimension))
        client.create_collection(name, schema=schema)
        try:
            for start in range(0, count, INSERT_BATCH):
                batch = vectors[start : start + INSERT_BATCH]
                client.insert(name, [{ROW_FIELD: start + n, VECTOR_FIELD: vector.tolist()} for n, vector in enumerate(batch)])
                if progress is not None:
                    progress(len(batch))
            client.flush(name)
            params = client.prepare_index_params()
            params.add_index(field_name=VECTOR_FIELD, index_type=index_type, metric_type=METRIC, params=index_params)
            client.create_index(name, params)
            client.load_collection(name)
            rows = row_count(client, name)
            if rows != count:
                raise VectorStoreError(f"milvus:{uri} collection {name!r} holds {rows} rows after writing {count}")
        except Exception as error:
            client.drop_collection(name)
            if isinstance(error, VectorStoreError):
                raise
            raise VectorStoreError(f"writing the vectors to milvus:{uri} failed: {error}") from error
    finally:
        client.close()
    return {
        "kind": MILVUS,
        "uri": uri,
        "collection": name,
        "index_type": index_type,
        "metric": METRIC,
        "index_params": index_params,
        "search_params": search_params,
        "row_count": count,
    }


def row_count(client, name: str) -> int:
    return int(client.get_collection_stats(name)["row_count"])


def drop_collection(uri: str, name: str) -> None:
    """Drop collection `name` (an old build's); logs and goes on when the store cannot be reached."""
    try:
        client = connect(uri)
        try:
            if client.has_collection(name):
                client.drop_collection(name)
        finally:
            client.close()
    except Exception as error:  # a stale collection is a leak, not a reason to fail the build that replaced it
        log.warning("could not drop the old Milvus collection %s at %s: %s", name, uri, error)


class MilvusStore:
    """The Milvus collection a manifest's `vector_store` names, checked to hold the rows the manifest records."""

    def __init__(self, record: dict, dimension: int):
        self.uri = record["uri"]
        self.collection = record["collection"]
        self._dimension = dimension
        self._search_params = {"metric_type": record.get("metric", METRIC), "params": dict(record.get("search_params", {}))}
        self.client = connect(self.uri)
        # Closed when the store goes: a reload swaps the index while requests may still search the old one, and its
        # dedicated connection would otherwise stay open for the life of the process.
        self._closer = weakref.finalize(self, self.client.close)
        try:
            if not self.client.has_collection(self.collection):
                raise VectorStoreError(f"milvus:{self.uri} has no collection {self.collection!r}; rebuild the index")
            self.client.load_collection(self.collection)
            self._count = row_count(self.client, self.collection)
            if self._count != record.get("row_count"):
                raise VectorStoreError(
                    f"milvus:{self.uri} collection {self.collection!r} holds {self._count} rows, "
                    f"the manifest says {record.get('row_count')}; rebuild the index"
                )
        except BaseException:
            self._closer()
            raise

    @property
    def count(self) -> int:
        return self._count

    @property
    def dimension(self) -> int:
        return self._dimension

    def search(self, vectors: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = np.full((len(vectors), top_k), -np.inf, dtype=np.float32)
        rows = np.full((len(vectors), top_k), -1, dtype=np.int64)
        results = self.client.search(
            self.collection,
            data=np.asarray(vectors, dtype=np.float32).tolist(),
            limit=top_k,
            anns_field=VECTOR_FIELD,
            search_params=self._search_params,
            output_fields=[ROW_FIELD],
        )
        for n, hits in enumerate(results):
            for rank, hit in enumerate(hits[:top_k]):
                rows[n, rank] = hit[ROW_FIELD] if ROW_FIELD in hit else hit["id"]
                scores[n, rank] = hit["distance"]
        return scores, rows

    def stored_vectors(self, rows: list[int]) -> np.ndarray:
        found = self.client.get(self.collection, ids=[int(row) for row in rows], output_fields=[VECTOR_FIELD])
        by_row = {int(entity[ROW_FIELD]): entity[VECTOR_FIELD] for entity in found}
        missing = [row for row in rows if row not in by_row]
        if missing:
            raise VectorStoreError(f"milvus:{self.uri} collection {self.collection!r} lacks rows {missing[:5]}")
        return np.asarray([by_row[row] for row in rows], dtype=np.float32).reshape(len(rows), self._dimension)

    def close(self) -> None:
        self._closer()
