"""The reference index: a directory with a FAISS index, a passage store and a manifest.

Layout of an index directory (validated on load):

- `manifest.json`: format version, build id and time, embedding model and dimension,
  chunking settings, document and passage counts, the content hash of every document, and
  `files`: the SHA-256 and size in bytes of every other file of the directory, checked on load
  (a manifest without `files`, from an older build, loads with a warning that it cannot be checked);
- `index.faiss`: inner-product FAISS index over normalised passage vectors, row n = passage n, of the
  type the manifest's `index_type` names (a FAISS factory string, chosen by `--index-type` or by
  corpus size, see `service.index.ann`) with the search parameters it records; absent when the manifest's
  `vector_store` names a Milvus collection instead (`service.index.milvus_store`), whose row count it records;
- `vectors.npy`: the same vectors, so a rebuild reuses those of unchanged documents;
- `passages.jsonl`: line n is passage n (`doc_id`, `start`, `end`, `section`, `page` (a PDF's, else null), `text`);
- `documents.jsonl`: one line per document (`doc_id`, `title`, `url`, `date`, `metadata`).

Written by service/index/build.py.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.errors import BadIndex
from service.index.ann import (
    apply_search_params,
    enable_reconstruction,
)
from service.index.lexical import LexicalIndex
from service.index.passages import Passage
from service.index.vector_store import FAISS, MILVUS, FaissStore, VectorStore, VectorStoreError
from service.runtime.embedding import Embedder

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
FAISS_FILE = "index.faiss"
VECTORS_FILE = "vectors.npy"
PASSAGES_FILE = "passages.jsonl"
DOCUMENTS_FILE = "documents.jsonl"
# Files every manifest with `files` must list (less the FAISS file when the vectors are in Milvus); a build lists
# every file it wrote besides the manifest.
INDEX_FILES = (FAISS_FILE, VECTORS_FILE, PASSAGES_FILE, DOCUMENTS_FILE)
_HASH_CHUNK = 1 << 20

log = logging.getLogger("claimcheck")


def corrupt_file(file: str, message: str) -> BadIndex:
    """The BadIndex of a file of an index directory that is missing or does not match the size or SHA-256 its
    manifest records, with the file's name as its `file` attribute. (A BadIndex itself, not a subclass: the
    HTTP layer maps exact error classes to status codes, BadIndex to 409.)"""
    error = BadIndex(message)
    error.file = file
    return error


def file_checksum(path: Path) -> dict:
    """`{"sha256": hex digest, "bytes": size}` of the file at `path`, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while read := handle.readinto(buffer):
            digest.update(view[:read])
            size += read
    return {"sha256": digest.hexdigest(), "bytes": size}


@dataclass
class DocumentInfo:
    """What the index keeps of a document besides its passages."""

    doc_id: str
    title: str | None
    url: str | None
    date: str | None
    metadata: dict


@dataclass
class SearchHit:
    """One retrieved passage with its inner-product score."""

    passage: Passage
    score: float
    row: int  # the passage's row in the index


def embedding_input(passage: Passage, title: str | None) -> str:
    """What the embedder sees for a passage: the document title, then the passage without
    Markdown heading marks."""
    body = re.sub(r"^\s{0,3}#{1,6}\s*", "", passage.text, flags=re.MULTILINE)
    return f"{title}: {body}" if title else body


class ReferenceIndex:
    """A loaded, validated index directory, with a BM25 index of its passages built on load."""

    def __init__(self, directory: Path, manifest: dict, store: VectorStore, passages: list[Passage], documents: dict[str, DocumentInfo]):
        self.directory = directory
        self.manifest = manifest
        self.store = store
        self.passages = passages
        self.documents = documents
        self.lexical = LexicalIndex([embedding_input(p, documents[p.doc_id].title) for p in passages])

    @property
    def build_id(self) -> str:
        return self.manifest["build_id"]

    @classmethod
    def load(cls, directory: Path, embedder: Embedder | None = None) -> ReferenceIndex:
        """Load and validate `directory`; raises BadIndex saying what is wrong."""
        resolved = Path(directory).resolve()
        manifest_path = resolved / MANIFEST_FILE
        if not manifest_path.is_file():
            raise BadIndex(f"no index at {directory} (missing {MANIFEST_FILE}); build one with scripts/build_index.py")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise BadIndex(f"{manifest_path}: unreadable manifest ({error})") from error
        for key in ("format_version", "build_id", "embedding_model", "passage_count", "document_count"):
            if key not in manifest:
                raise BadIndex(f"{manifest_path}: manifest lacks {key!r}")
        if manifest["format_version"] != FORMAT_VERSION:
            raise BadIndex(f"{manifest_path}: index format {manifest['format_version']}, this version reads {FORMAT_VERSION}; rebuild it")
        model = manifest["embedding_model"]
        if not isinstance(model, dict):
            raise BadIndex(f"{manifest_path}: 'embedding_model' must be an object")
        if embedder is not None and (model.get("name") != embedder.name or model.get("dimension") != embedder.dimension):
            raise BadIndex(
                f"index embedded with {model.get('name')} ({model.get('dimension')} dims), "
                f"the service uses {embedder.name} ({embedder.dimension} dims); rebuild the index"
            )
        store_record = vector_store_record(resolved, manifest)
        verify_files(resolved, manifest)
        try:
            passages = [Passage(**row) for row in read_jsonl(resolved / PASSAGES_FILE)]
            documents = {row["doc_id"]: DocumentInfo(**row) for row in read_jsonl(resolved / DOCUMENTS_FILE)}
        except (TypeError, KeyError) as error:
            raise BadIndex(f"{resolved}: malformed passage or document store ({error})") from error
        expected = manifest["passage_count"]
        if len(documents) != manifest["document_count"]:
            raise BadIndex(f"{resolved}: manifest says {manifest['document_count']} documents, document store has {len(documents)}")
        if any(p.doc_id not in documents for p in passages):
            raise BadIndex(f"{resolved}: passage store names documents the document store lacks")
        store = _open_store(resolved, manifest, store_record)
        if not (store.count == len(passages) == expected):
            store.close()
            what = "FAISS index" if store_record["kind"] == FAISS else f"Milvus collection {store_record['collection']!r}"
            raise BadIndex(f"{resolved}: manifest says {expected} passages, {what} has {store.count}, passage store has {len(passages)}")
        return cls(resolved, manifest, store, passages, documents)

    def search(self, vectors: np.ndarray, top_k: int) -> list[list[SearchHit]]:
        """The `top_k` best passages for each query vector, best first."""
        top_k = min(top_k, len(self.passages))
        if len(vectors) == 0 or top_k == 0:
            return [[] for _ in range(len(vectors))]
        scores, rows = self.store.search(vectors, top_k)
        return [
            [SearchHit(self.passages[row], float(score), int(row)) for score, row in zip(score_row, row_ids, strict=True) if row >= 0]
            for score_row, row_ids in zip(scores, rows, strict=True)
        ]

    def similarities(self, vector: np.ndarray, rows: list[int]) -> np.ndarray:
        """Inner product of one query vector with the stored vectors of `rows` (as `search` scores them)."""
        if not rows:
            return np.zeros(0, dtype=np.float32)
        return self.store.stored_vectors(rows) @ vector

    def vectors(self) -> np.ndarray:
        """The stored passage vectors (row n = passage n); raises BadIndex if they do not match."""
        try:
            vectors = np.load(self.directory / VECTORS_FILE)
        except (OSError, ValueError) as error:
            raise BadIndex(f"{self.directory / VECTORS_FILE}: unreadable ({error})") from error
        if vectors.shape != (len(self.passages), self.store.dimension):
            raise BadIndex(f"{self.directory / VECTORS_FILE}: shape {vectors.shape}, expected {(len(self.passages), self.store.dimension)}")
        return vectors


def vector_store_record(directory: Path, manifest: dict) -> dict:
    """The manifest's `vector_store`, checked for shape; manifests older than it describe a FAISS file."""
    record = manifest.get("vector_store", {"kind": FAISS})
    if not isinstance(record, dict) or record.get("kind") not in (FAISS, MILVUS):
        raise BadIndex(f"{directory / MANIFEST_FILE}: 'vector_store' must be an object whose 'kind' is {FAISS!r} or {MILVUS!r}")
    if record["kind"] == MILVUS:
        for key, kind in (("uri", str), ("collection", str), ("row_count", int), ("search_params", dict)):
            if not isinstance(record.get(key), kind):
                raise BadIndex(f"{directory / MANIFEST_FILE}: 'vector_store' lacks {key!r}")
    return record


def _open_store(directory: Path, manifest: dict, record: dict) -> VectorStore:
    """The FAISS file of `directory` or the Milvus collection the manifest names, checked against the manifest."""
    dimension = manifest["embedding_model"].get("dimension")
    if record["kind"] == MILVUS:
        from service.index.milvus_store import MilvusStore

        try:
            return MilvusStore(record, dimension)
        except VectorStoreError as error:
            raise BadIndex(f"{directory}: {error}") from error
    import faiss

    try:
        faiss_index = faiss.read_index(str(directory / FAISS_FILE))
    except RuntimeError as error:
        raise BadIndex(f"{directory / FAISS_FILE}: unreadable FAISS index ({str(error).splitlines()[0]})") from error
    if faiss_index.d != dimension:
        raise BadIndex(f"{directory}: FAISS index has dimension {faiss_index.d}, manifest says {dimension}")
    _apply_index_type(directory, manifest, faiss_index)
    enable_reconstruction(faiss_index)
    return FaissStore(faiss_index)


def verify_files(directory: Path, manifest: dict) -> None:
    """Check every file the manifest's `files` lists against the size and SHA-256 recorded there: all sizes
    first (cheap), then the hashes, read in 1 MiB chunks. Raises BadIndex naming the first file that is
    missing or differs (made by `corrupt_file`: its `file` attribute is the name), or saying what is wrong
    with a malformed `files`. A manifest without `files` (an index built before they were recorded) is
    accepted with a logged warning that its files cannot be verified."""
    files = manifest.get("files")
    if files is None:
        log.warning(
            "%s: the manifest records no file checksums (an index built by an older version): its files cannot be "
            "verified; rebuild the index to have them checked on load",
            directory,
        )
        return
    if not isinstance(files, dict):
        raise BadIndex(f"{directory / MANIFEST_FILE}: 'files' must be an object of file name to sha256 and bytes")
    for name, entry in files.items():
        if (
            not isinstance(name, str)
            or name in ("", ".", "..", MANIFEST_FILE)
            or "/" in name
            or "\0" in name
            or not isinstance(entry, dict)
            or not isinstance(entry.get("bytes"), int)
            or isinstance(entry.get("bytes"), bool)
            or entry["bytes"] < 0
            or not isinstance(entry.get("sha256"), str)
            or not re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])
        ):
            raise BadIndex(f"{directory / MANIFEST_FILE}: malformed 'files' entry {name!r}: {entry!r}")
    in_milvus = manifest.get("vector_store", {}).get("kind") == MILVUS
    for name in INDEX_FILES:
        if name not in files and not (in_milvus and name == FAISS_FILE):
            raise BadIndex(f"{directory / MANIFEST_FILE}: 'files' lists no checksum for {name}; rebuild the index")
    for name in files:
        path = directory / name
        try:
            info = path.stat()
        except FileNotFoundError:
            raise corrupt_file(name, f"{path}: missing, the manifest lists it; rebuild the index") from None
        except OSError as error:
            raise corrupt_file(name, f"{path}: unreadable ({error}); rebuild the index") from error
        if not stat.S_ISREG(info.st_mode):
            raise corrupt_file(name, f"{path}: not a regular file, the manifest lists one; rebuild the index")
        if info.st_size != files[name]["bytes"]:
            raise corrupt_file(
                name,
                f"{path}: {info.st_size} bytes, the manifest says {files[name]['bytes']}: "
                "the file is truncated or was changed; rebuild the index",
            )
    for name in files:
        path = directory / name
        try:
            actual = file_checksum(path)
        except OSError as error:
            raise corrupt_file(name, f"{path}: unreadable ({error}); rebuild the index") from error
        if actual["sha256"] != files[name]["sha256"] or actual["bytes"] != files[name]["bytes"]:
            raise corrupt_file(
                name,
                f"{path}: SHA-256 {actual['sha256']}, the manifest says {files[name]['sha256']}: "
                "the file is corrupt or was changed; rebuild the index",
            )


def _apply_index_type(directory: Path, manifest: dict, faiss_index) -> None:
    """Check the FAISS file against the manifest's index type and set the search parameters it records; raises
    BadIndex. Manifests older than `index_type` describe a flat index."""
    import faiss

    index_type = manifest.get("index_type", {"factory": "Flat", "search_params": {}})
    if not isinstance(index_type, dict) or not isinstance(index_type.get("search_params"), dict):
        raise BadIndex(f"{directory}: 'index_type' must be an object with 'search_params'")
    expected = manifest.get("faiss_index", "IndexFlatIP")
    if type(faiss_index).__name__ != expected:
        raise BadIndex(f"{directory}: manifest says {FAISS_FILE} is an {expected}, it holds an {type(faiss_index).__name__}")
    if faiss_index.metric_type != faiss.METRIC_INNER_PRODUCT or not faiss_index.is_trained:
        raise BadIndex(f"{directory}: {FAISS_FILE} is not a trained inner-product index")
    try:
        apply_search_params(faiss_index, index_type["search_params"])
    except (RuntimeError, TypeError) as error:
        raise BadIndex(
            f"{directory}: search parameters {index_type['search_params']} do not apply to {index_type.get('factory')}"
        ) from error


def read_jsonl(path: Path) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except (OSError, json.JSONDecodeError) as error:
        raise BadIndex(f"{path}: unreadable ({error})") from error
