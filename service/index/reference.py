"""The reference index: a directory with a FAISS index, a passage store and a manifest.

Layout of an index directory (validated on load):

- `manifest.json`: format version, build id and time, embedding model and dimension,
  chunking settings, document and passage counts, the content hash of every document;
- `index.faiss`: inner-product FAISS index over normalised passage vectors, row n = passage n, of the
  type the manifest's `index_type` names (a FAISS factory string, chosen by `--index-type` or by
  corpus size, see `service.index.ann`) with the search parameters it records;
- `vectors.npy`: the same vectors, so a rebuild reuses those of unchanged documents;
- `passages.jsonl`: line n is passage n (`doc_id`, `start`, `end`, `section`, `text`);
- `documents.jsonl`: one line per document (`doc_id`, `title`, `url`, `date`, `metadata`).

Written by service/index/build.py.
"""

from __future__ import annotations

import json
import re
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
from service.runtime.embedding import Embedder

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
FAISS_FILE = "index.faiss"
VECTORS_FILE = "vectors.npy"
PASSAGES_FILE = "passages.jsonl"
DOCUMENTS_FILE = "documents.jsonl"


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

    def __init__(self, directory: Path, manifest: dict, faiss_index, passages: list[Passage], documents: dict[str, DocumentInfo]):
        self.directory = directory
        self.manifest = manifest
        self.faiss_index = faiss_index
        self.passages = passages
        self.documents = documents
        self.lexical = LexicalIndex([embedding_input(p, documents[p.doc_id].title) for p in passages])

    @property
    def build_id(self) -> str:
        return self.manifest["build_id"]

    @classmethod
    def load(cls, directory: Path, embedder: Embedder | None = None) -> ReferenceIndex:
        """Load and validate `directory`; raises BadIndex saying what is wrong."""
        import faiss

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
        try:
            faiss_index = faiss.read_index(str(resolved / FAISS_FILE))
        except RuntimeError as error:
            raise BadIndex(f"{resolved / FAISS_FILE}: unreadable FAISS index ({str(error).splitlines()[0]})") from error
        try:
            passages = [Passage(**row) for row in read_jsonl(resolved / PASSAGES_FILE)]
            documents = {row["doc_id"]: DocumentInfo(**row) for row in read_jsonl(resolved / DOCUMENTS_FILE)}
        except (TypeError, KeyError) as error:
            raise BadIndex(f"{resolved}: malformed passage or document store ({error})") from error
        expected = manifest["passage_count"]
        if not (faiss_index.ntotal == len(passages) == expected):
            raise BadIndex(
                f"{resolved}: manifest says {expected} passages, FAISS index has {faiss_index.ntotal}, passage store has {len(passages)}"
            )
        if len(documents) != manifest["document_count"]:
            raise BadIndex(f"{resolved}: manifest says {manifest['document_count']} documents, document store has {len(documents)}")
        if faiss_index.d != model.get("dimension"):
            raise BadIndex(f"{resolved}: FAISS index has dimension {faiss_index.d}, manifest says {model.get('dimension')}")
        _apply_index_type(resolved, manifest, faiss_index)
        enable_reconstruction(faiss_index)
        if any(p.doc_id not in documents for p in passages):
            raise BadIndex(f"{resolved}: passage store names documents the document store lacks")
        return cls(resolved, manifest, faiss_index, passages, documents)

    def search(self, vectors: np.ndarray, top_k: int) -> list[list[SearchHit]]:
        """The `top_k` best passages for each query vector, best first."""
        top_k = min(top_k, len(self.passages))
        if len(vectors) == 0 or top_k == 0:
            return [[] for _ in range(len(vectors))]
        scores, rows = self.faiss_index.search(np.ascontiguousarray(vectors, dtype=np.float32), top_k)
        return [
            [SearchHit(self.passages[row], float(score), int(row)) for score, row in zip(score_row, row_ids, strict=True) if row >= 0]
            for score_row, row_ids in zip(scores, rows, strict=True)
        ]

    def similarities(self, vector: np.ndarray, rows: list[int]) -> np.ndarray:
        """Inner product of one query vector with the stored vectors of `rows` (as `search` scores them)."""
        if not rows:
            return np.zeros(0, dtype=np.float32)
        return self.faiss_index.reconstruct_batch(np.asarray(rows, dtype=np.int64)) @ vector

    def vectors(self) -> np.ndarray:
        """The stored passage vectors (row n = passage n); raises BadIndex if they do not match."""
        try:
            vectors = np.load(self.directory / VECTORS_FILE)
        except (OSError, ValueError) as error:
            raise BadIndex(f"{self.directory / VECTORS_FILE}: unreadable ({error})") from error
        if vectors.shape != (len(self.passages), self.faiss_index.d):
            raise BadIndex(f"{self.directory / VECTORS_FILE}: shape {vectors.shape}, expected {(len(self.passages), self.faiss_index.d)}")
        return vectors


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
