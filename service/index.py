"""The reference index: a directory with a FAISS index, a passage store and a manifest.

Layout of an index directory (validated on load):

- `manifest.json`: format version, build id and time, embedding model and dimension,
  chunking settings, document and passage counts, the content hash of every document;
- `index.faiss`: inner-product FAISS index over normalised passage vectors, row n = passage n, of the
  type the manifest's `index_type` names (a FAISS factory string, chosen by `--index-type` or by
  corpus size, see `service.ann`) with the search parameters it records;
- `vectors.npy`: the same vectors, so a rebuild reuses those of unchanged documents;
- `passages.jsonl`: line n is passage n (`doc_id`, `start`, `end`, `section`, `text`);
- `documents.jsonl`: one line per document (`doc_id`, `title`, `url`, `date`, `metadata`).

`--out DIR` is a symbolic link to `DIR.versions/<build id>/`; a build writes a new version
beside the old one and swaps the link with one atomic rename, so a reader sees either the old
index or the new one, never a mixture, and a killed build leaves the old one untouched.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from service.ann import AUTO, AnnIndex, apply_search_params, auto_index_type, build_faiss_index, enable_reconstruction, new_faiss_index
from service.embedding import Embedder
from service.errors import BadIndex, ClaimCheckError
from service.lexical import LexicalIndex
from service.passages import ChunkingSettings, Passage, split_passages
from service.sources import Document, read_sources

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
FAISS_FILE = "index.faiss"
VECTORS_FILE = "vectors.npy"
PASSAGES_FILE = "passages.jsonl"
DOCUMENTS_FILE = "documents.jsonl"
KEPT_OLD_VERSIONS = 1


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
            passages = [Passage(**row) for row in _read_jsonl(resolved / PASSAGES_FILE)]
            documents = {row["doc_id"]: DocumentInfo(**row) for row in _read_jsonl(resolved / DOCUMENTS_FILE)}
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


def _read_jsonl(path: Path) -> list[dict]:
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except (OSError, json.JSONDecodeError) as error:
        raise BadIndex(f"{path}: unreadable ({error})") from error


@dataclass
class BuildSummary:
    """What a build did; printed at its end."""

    out: str
    build_id: str
    documents: int
    passages: int
    embedded_passages: int
    reused_passages: int
    seconds: float
    index_type: str
    unsupported_files: list[str] = field(default_factory=list)  # left out of the source folders for their type

    @property
    def passages_per_second(self) -> float:
        return self.embedded_passages / self.seconds if self.seconds else 0.0


class BuildLocked(ClaimCheckError):
    """Another build is writing the same index directory."""

    code = "build_locked"


@contextlib.contextmanager
def _build_lock(out: Path):
    lock_path = out.parent / f".{out.name}.lock"
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise BuildLocked(f"another build is writing {out} (lock {lock_path})") from error
        yield


def _previous_vectors(out: Path, embedder: Embedder, chunking: ChunkingSettings) -> dict[str, tuple[list[Passage], np.ndarray]]:
    """Passages and vectors of the current index at `out`, by document content hash, when they
    were made with the same model and chunking; empty otherwise."""
    try:
        previous = ReferenceIndex.load(out, embedder)
        vectors = previous.vectors()
    except BadIndex:
        return {}
    if previous.manifest.get("chunking") != asdict(chunking):
        return {}
    rows_by_doc: dict[str, list[int]] = {}
    for row, passage in enumerate(previous.passages):
        rows_by_doc.setdefault(passage.doc_id, []).append(row)
    reusable = {}
    for doc_id, content_hash in previous.manifest.get("documents", {}).items():
        rows = rows_by_doc.get(doc_id, [])
        reusable[content_hash] = ([previous.passages[r] for r in rows], vectors[rows])
    return reusable


def _embed_with_progress(embedder: Embedder, texts: list[str], show_progress: bool) -> np.ndarray:
    from tqdm import tqdm

    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    order = np.argsort([-len(text) for text in texts], kind="stable")  # chunks of like lengths pad as little as one call
    step = embedder.batch_size * 16  # chunks of many batches: the cores wait for a chunk's last batch
    with tqdm(total=len(texts), desc="embedding passages", unit="passage", disable=not show_progress) as bar:
        for start in range(0, len(texts), step):
            chunk = order[start : start + step]
            vectors[chunk] = embedder.encode([texts[i] for i in chunk])
            bar.update(len(chunk))
    return vectors


def _index_with_progress(vectors: np.ndarray, factory: str, show_progress: bool) -> AnnIndex:
    from tqdm import tqdm

    with tqdm(total=len(vectors), desc=f"indexing ({factory})", unit="passage", disable=not show_progress) as bar:
        return build_faiss_index(vectors, factory, progress=bar.update)


def build_index(
    sources: list[Path],
    out: Path,
    embedder: Embedder,
    chunking: ChunkingSettings | None = None,
    show_progress: bool = True,
    index_type: str = AUTO,
) -> BuildSummary:
    """Build the index of `sources` into `out`, atomically; unchanged documents are not re-embedded.

    `index_type` is a FAISS factory string ("Flat", "HNSW32", "IVF4000,SQ8", ...) or "auto", which
    picks one by passage count (`service.ann.auto_index_type`). Any error (a bad source line, an
    index type the corpus cannot train, a full disk, a kill) leaves the index already at `out` as it was.
    """
    started = time.perf_counter()
    chunking = chunking or ChunkingSettings()
    out = Path(out).absolute()
    for source in sources:
        if out.resolve() == Path(source).resolve() or Path(source).resolve().is_relative_to(out.resolve()):
            raise BadIndex(f"{out} is (or holds) the source folder {source}: the index needs a folder of its own")
    own_output = (out, versions_dir(out))  # an --out inside a source folder is not read as sources on the next build
    documents, unsupported = read_sources([Path(s) for s in sources], own_output)
    out.parent.mkdir(parents=True, exist_ok=True)
    embedder.warm_up()
    if out.exists() and not out.is_symlink() and any(out.iterdir()) and not (out / MANIFEST_FILE).is_file():
        raise BadIndex(f"{out} exists and is not an index (no {MANIFEST_FILE}); refusing to replace it")
    with _build_lock(out):
        reusable = _previous_vectors(out, embedder, chunking)
        passages: list[Passage] = []
        row_vectors: list[np.ndarray | None] = []
        to_embed: list[int] = []
        embed_texts: list[str] = []
        for document in documents:
            reused = reusable.get(document.content_hash)
            if reused is not None:
                for passage, vector in zip(reused[0], reused[1], strict=True):
                    passages.append(Passage(document.doc_id, passage.start, passage.end, passage.text, passage.section))
                    row_vectors.append(vector)
                continue
            for passage in split_passages(document, chunking):
                to_embed.append(len(passages))
                embed_texts.append(embedding_input(passage, document.title))
                passages.append(passage)
                row_vectors.append(None)
        factory = auto_index_type(len(passages)) if index_type == AUTO else index_type
        new_faiss_index(factory, embedder.dimension, len(passages))  # refuses an impossible type before embedding
        new_vectors = _embed_with_progress(embedder, embed_texts, show_progress)
        for row, vector in zip(to_embed, new_vectors, strict=True):
            row_vectors[row] = vector
        vectors = (
            np.stack(row_vectors).astype(np.float32, copy=False) if row_vectors else np.zeros((0, embedder.dimension), dtype=np.float32)
        )
        del row_vectors, new_vectors, reusable  # at a million passages each copy is 1.5 GB
        ann = _index_with_progress(vectors, factory, show_progress)
        build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        manifest = {
            "format_version": FORMAT_VERSION,
            "build_id": build_id,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 3),
            "embedding_model": {
                "name": embedder.name,
                "dimension": embedder.dimension,
                "normalized": True,
                "metric": "inner_product",
            },
            "faiss_index": type(ann.index).__name__,
            "index_type": {
                "factory": factory,
                "requested": index_type,
                "search_params": ann.search_params,
                "build_params": ann.build_params,
            },
            "chunking": asdict(chunking),
            "sources": [str(s) for s in sources],
            "document_count": len(documents),
            "passage_count": len(passages),
            "corpus_hash": hashlib.sha256("".join(sorted(d.content_hash for d in documents)).encode()).hexdigest(),
            "documents": {d.doc_id: d.content_hash for d in documents},
        }
        version_dir = _write_version(out, build_id, manifest, ann.index, vectors, passages, documents)
        try:
            _point_at(out, version_dir)
        except BaseException:
            shutil.rmtree(version_dir, ignore_errors=True)
            raise
        _remove_old_versions(out, keep=version_dir)
    return BuildSummary(
        out=str(out),
        build_id=build_id,
        documents=len(documents),
        passages=len(passages),
        embedded_passages=len(embed_texts),
        reused_passages=len(passages) - len(embed_texts),
        seconds=round(time.perf_counter() - started, 3),
        index_type=factory,
        unsupported_files=[str(path) for path in unsupported],
    )


def versions_dir(out: Path) -> Path:
    return out.parent / f"{out.name}.versions"


def _write_json_lines(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _write_version(out, build_id, manifest, faiss_index, vectors, passages, documents: list[Document]) -> Path:
    import faiss

    versions = versions_dir(out)
    versions.mkdir(exist_ok=True)
    tmp = versions / f".{build_id}.tmp"
    tmp.mkdir()
    faiss.write_index(faiss_index, str(tmp / FAISS_FILE))
    with open(tmp / VECTORS_FILE, "wb") as handle:
        np.save(handle, vectors)
    _write_json_lines(tmp / PASSAGES_FILE, (asdict(p) for p in passages))
    _write_json_lines(
        tmp / DOCUMENTS_FILE,
        (asdict(DocumentInfo(d.doc_id, d.title, d.url, d.date, d.metadata)) for d in documents),
    )
    # The manifest is written last: a version directory without one is incomplete.
    (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name in (FAISS_FILE, MANIFEST_FILE):
        with open(tmp / name, "rb") as handle:
            os.fsync(handle.fileno())
    final = versions / build_id
    os.rename(tmp, final)
    _fsync_dir(versions)
    return final


def _fsync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _point_at(out: Path, version_dir: Path) -> None:
    """Make `out` a symlink to `version_dir` with one atomic rename."""
    if out.exists() and not out.is_symlink():
        # A plain index directory (copied by hand): move it into the versions folder. This one
        # step is not atomic; every later build is.
        os.rename(out, versions_dir(out) / f"moved-{uuid.uuid4().hex[:8]}")
    link_tmp = out.parent / f".{out.name}.link-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(version_dir, out.parent), link_tmp)
    os.replace(link_tmp, out)
    _fsync_dir(out.parent)


def _remove_old_versions(out: Path, keep: Path) -> None:
    """Delete all but the newest KEPT_OLD_VERSIONS versions besides `keep`, and stale temporaries."""
    versions = versions_dir(out)
    complete = sorted((p for p in versions.iterdir() if p != keep and not p.name.startswith(".")), key=lambda p: p.stat().st_mtime)
    stale = [p for p in versions.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
    stale += list(out.parent.glob(f".{out.name}.link-*"))  # left by a build killed between link and rename
    for path in complete[:-KEPT_OLD_VERSIONS] + stale:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
