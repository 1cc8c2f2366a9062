"""Building an index directory from source documents: chunk, embed (reusing unchanged documents' vectors), write.

`--out DIR` is a symbolic link to `DIR.versions/<build id>/`; a build writes a new version
beside the old one and swaps the link with one atomic rename, so a reader sees either the old
index or the new one, never a mixture, and a killed build leaves the old one untouched. With
`--vector-store milvus:URI` the vectors go to a new Milvus collection per build instead of
`index.faiss`; the rest of the directory, and the swap, are the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from service.errors import BadIndex, ClaimCheckError
from service.index.ann import (
    AUTO,
    AnnIndex,
    auto_index_type,
    build_faiss_index,
    new_faiss_index,
)
from service.index.passages import ChunkingSettings, Passage, split_passages
from service.index.reference import (
    DOCUMENTS_FILE,
    FAISS_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    PASSAGES_FILE,
    VECTORS_FILE,
    DocumentInfo,
    ReferenceIndex,
    embedding_input,
    file_checksum,
)
from service.index.sources import Document, LeftOut, read_sources
from service.index.vector_store import FAISS, MILVUS, VectorStoreSpec
from service.runtime.embedding import Embedder

KEPT_OLD_VERSIONS = 1

log = logging.getLogger("claimcheck")


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
    vector_store: str = FAISS  # "faiss", or "milvus:URI"
    unsupported_files: list[str] = field(default_factory=list)  # left out of the source folders for their type
    unreadable_files: list[LeftOut] = field(default_factory=list)  # PDF, Word and HTML files left out: scanned, encrypted, broken, ...

    @property
    def left_out(self) -> dict[str, int]:
        """How many files were left out, by why: "unsupported_type" or a reason of service.index.formats.REASONS."""
        return _left_out_counts(self.unsupported_files, self.unreadable_files)

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
    were made with the same model and chunking; empty otherwise. The previous index's files are
    checked against its manifest's checksums first (by `ReferenceIndex.load`); one that does not
    match is reported (logged as a warning: stderr for the build script) and nothing is reused."""
    if not (out / MANIFEST_FILE).is_file():
        return {}  # no previous index: nothing to say
    try:
        previous = ReferenceIndex.load(out, embedder)
        vectors = previous.vectors()
    except BadIndex as error:
        if (file := getattr(error, "file", None)) is not None:  # missing, or not the size or SHA-256 of the manifest
            log.warning("the previous index's %s does not match its manifest: re-embedding every document (%s)", file, error)
        else:
            log.warning("the previous index at %s cannot be reused: re-embedding every document (%s)", out, error)
        return {}
    if previous.manifest.get("chunking") != asdict(chunking):
        return {}
    if previous.manifest["embedding_model"].get("passages", "fp32") != passage_precision(embedder):
        return {}  # vectors of the other precision: the build was asked for these
    rows_by_doc: dict[str, list[int]] = {}
    for row, passage in enumerate(previous.passages):
        rows_by_doc.setdefault(passage.doc_id, []).append(row)
    reusable = {}
    for doc_id, content_hash in previous.manifest.get("documents", {}).items():
        rows = rows_by_doc.get(doc_id, [])
        reusable[content_hash] = ([previous.passages[r] for r in rows], vectors[rows])
    return reusable


def passage_precision(embedder: Embedder) -> str:
    """How the build's embedder computes passage vectors: "int8" (`--passage-embedding int8`) or "fp32"."""
    return "int8" if getattr(embedder, "int8", False) else "fp32"


def embedding_chunks(embedder: Embedder, texts: list[str]) -> list[np.ndarray]:
    """The rows of `texts` in the groups one `Embedder.encode` call embeds: texts of like lengths (they pad as little
    as in one call), many batches each (the cores wait for a call's last batch)."""
    order = np.argsort([-len(text) for text in texts], kind="stable")
    step = embedder.batch_size * 16
    return [order[start : start + step] for start in range(0, len(texts), step)]


def _embed_with_progress(embedder: Embedder, texts: list[str], show_progress: bool, ray: str | None = None) -> np.ndarray:
    from tqdm import tqdm

    chunks = embedding_chunks(embedder, texts)
    where = "" if ray is None else f" with Ray ({ray or 'local'})"
    with tqdm(total=len(texts), desc=f"embedding passages{where}", unit="passage", disable=not show_progress) as bar:
        if ray is not None and texts:
            from service.index.ray_embedding import embed_with_ray

            return embed_with_ray(embedder, texts, chunks, address=ray or None, progress=bar.update)
        vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
        for chunk in chunks:
            vectors[chunk] = embedder.encode([texts[i] for i in chunk])
            bar.update(len(chunk))
    return vectors


def _index_with_progress(vectors: np.ndarray, factory: str, show_progress: bool) -> AnnIndex:
    from tqdm import tqdm

    with tqdm(total=len(vectors), desc=f"indexing ({factory})", unit="passage", disable=not show_progress) as bar:
        return build_faiss_index(vectors, factory, progress=bar.update)


def _milvus_with_progress(uri: str, name: str, vectors: np.ndarray, index_type: str, show_progress: bool) -> dict:
    from tqdm import tqdm

    from service.index.milvus_store import write_collection

    with tqdm(total=len(vectors), desc=f"writing to Milvus ({name})", unit="passage", disable=not show_progress) as bar:
        return write_collection(uri, name, vectors, index_type, progress=bar.update)


def build_index(
    sources: list[Path],
    out: Path,
    embedder: Embedder,
    chunking: ChunkingSettings | None = None,
    show_progress: bool = True,
    index_type: str = AUTO,
    vector_store: str = FAISS,
    ray: str | None = None,
) -> BuildSummary:
    """Build the index of `sources` into `out`, atomically; unchanged documents are not re-embedded.

    `vector_store` is "faiss" (a file in the index directory) or "milvus:URI" (`service.index.milvus_store`).
    `index_type` is a FAISS factory string ("Flat", "HNSW32", "IVF4000,SQ8", ...), with Milvus one of its index
    types (FLAT, HNSW, IVF_FLAT, ...), or "auto", which picks one by passage count. `ray` embeds with Ray Data
    (`service.index.ray_embedding`) on the cluster at that address, "" for a local Ray. Any error (a bad source
    line, an index type the corpus cannot train, a full disk, a kill) leaves the index already at `out` as it was.
    """
    started = time.perf_counter()
    chunking = chunking or ChunkingSettings()
    store = VectorStoreSpec.parse(vector_store)
    if store.kind == MILVUS:
        from service.index.milvus_store import connect, resolve_uri

        store = VectorStoreSpec(MILVUS, resolve_uri(store.uri))
    out = Path(out).absolute()
    for source in sources:
        if out.resolve() == Path(source).resolve() or Path(source).resolve().is_relative_to(out.resolve()):
            raise BadIndex(f"{out} is (or holds) the source folder {source}: the index needs a folder of its own")
    own_output = (out, versions_dir(out))  # an --out inside a source folder is not read as sources on the next build
    documents, unsupported, unreadable = read_sources([Path(s) for s in sources], own_output)
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
                    passages.append(Passage(document.doc_id, passage.start, passage.end, passage.text, passage.section, passage.page))
                    row_vectors.append(vector)
                continue
            for passage in split_passages(document, chunking):
                to_embed.append(len(passages))
                embed_texts.append(embedding_input(passage, document.title))
                passages.append(passage)
                row_vectors.append(None)
        # An impossible index type, or a store that cannot be reached, is refused before embedding.
        if store.kind == MILVUS:
            from service.index.milvus_store import milvus_index_type

            factory = milvus_index_type(index_type, len(passages))
            connect(store.uri).close()
        else:
            factory = auto_index_type(len(passages)) if index_type == AUTO else index_type
            new_faiss_index(factory, embedder.dimension, len(passages))
        new_vectors = _embed_with_progress(embedder, embed_texts, show_progress, ray)
        for row, vector in zip(to_embed, new_vectors, strict=True):
            row_vectors[row] = vector
        vectors = (
            np.stack(row_vectors).astype(np.float32, copy=False) if row_vectors else np.zeros((0, embedder.dimension), dtype=np.float32)
        )
        del row_vectors, new_vectors, reusable  # at a million passages each copy is 1.5 GB
        build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        if store.kind == MILVUS:
            from service.index.milvus_store import collection_name

            ann = None
            store_record = _milvus_with_progress(store.uri, collection_name(build_id), vectors, index_type, show_progress)
            index_record = {
                "factory": factory,
                "requested": index_type,
                "search_params": store_record["search_params"],
                "build_params": store_record["index_params"],
            }
        else:
            ann = _index_with_progress(vectors, factory, show_progress)
            store_record = {"kind": FAISS}
            index_record = {
                "factory": factory,
                "requested": index_type,
                "search_params": ann.search_params,
                "build_params": ann.build_params,
            }
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
                "passages": passage_precision(embedder),
            },
            **({"faiss_index": type(ann.index).__name__} if ann is not None else {}),
            "index_type": index_record,
            "vector_store": store_record,
            "chunking": asdict(chunking),
            "sources": [str(s) for s in sources],
            "document_count": len(documents),
            "passage_count": len(passages),
            "corpus_hash": hashlib.sha256("".join(sorted(d.content_hash for d in documents)).encode()).hexdigest(),
            "documents": {d.doc_id: d.content_hash for d in documents},
            "left_out": _left_out_counts(unsupported, unreadable),
        }
        try:
            version_dir = _write_version(out, build_id, manifest, ann.index if ann else None, vectors, passages, documents)
            try:
                _point_at(out, version_dir)
            except BaseException:
                shutil.rmtree(version_dir, ignore_errors=True)
                raise
        except BaseException:
            _drop_collection(store_record)
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
        vector_store=FAISS if store.kind == FAISS else f"{MILVUS}:{store.uri}",
        unsupported_files=[str(path) for path in unsupported],
        unreadable_files=unreadable,
    )


def _left_out_counts(unsupported: list, unreadable: list[LeftOut]) -> dict[str, int]:
    counts = {"unsupported_type": len(unsupported)} if unsupported else {}
    for file in unreadable:
        counts[file.reason] = counts.get(file.reason, 0) + 1
    return counts


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
    if faiss_index is not None:  # None: the vectors are searched in Milvus
        faiss.write_index(faiss_index, str(tmp / FAISS_FILE))
    with open(tmp / VECTORS_FILE, "wb") as handle:
        np.save(handle, vectors)
    _write_json_lines(tmp / PASSAGES_FILE, (asdict(p) for p in passages))
    _write_json_lines(
        tmp / DOCUMENTS_FILE,
        (asdict(DocumentInfo(d.doc_id, d.title, d.url, d.date, d.metadata)) for d in documents),
    )
    # The size and SHA-256 of every file written, read back from disk: what `ReferenceIndex.load` checks.
    files = {path.name: file_checksum(path) for path in sorted(tmp.iterdir()) if path.is_file() and path.name != MANIFEST_FILE}
    manifest = {**manifest, "files": files}
    # The manifest is written last: a version directory without one is incomplete.
    (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name in (FAISS_FILE, VECTORS_FILE, MANIFEST_FILE):
        if not (tmp / name).exists():
            continue
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
            _drop_collection(_stored_vector_store(path))
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _stored_vector_store(version_dir: Path) -> dict:
    """The `vector_store` of a version directory's manifest; {} when it has none or cannot be read."""
    try:
        return json.loads((version_dir / MANIFEST_FILE).read_text(encoding="utf-8")).get("vector_store", {})
    except (OSError, ValueError, AttributeError):
        return {}


def _drop_collection(record: dict) -> None:
    """Drop the Milvus collection a `vector_store` record names (nothing to do for FAISS)."""
    if isinstance(record, dict) and record.get("kind") == MILVUS and record.get("uri") and record.get("collection"):
        from service.index.milvus_store import drop_collection

        drop_collection(record["uri"], record["collection"])
