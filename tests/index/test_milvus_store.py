"""Passage vectors in Milvus (Milvus Lite, embedded) instead of a FAISS file: the same answers, checked the same way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fakes import HashEmbedder

pytest.importorskip("pymilvus", reason="the Milvus vector store is the optional extra .[milvus]")

from pymilvus import MilvusClient  # noqa: E402

from service.errors import BadIndex  # noqa: E402
from service.index.build import build_index, versions_dir  # noqa: E402
from service.index.milvus_store import GRPC_OPTIONS, collection_name, connect, milvus_index_type  # noqa: E402
from service.index.reference import FAISS_FILE, MANIFEST_FILE, ReferenceIndex  # noqa: E402
from service.index.vector_store import VectorStoreError, VectorStoreSpec  # noqa: E402
from service.pipeline.retrieval import hybrid_search  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
TREATIES = REPO_ROOT / "index" / "sources"

DOCS = [
    {"id": "tides", "title": "Tides", "text": "Tides are caused mainly by the gravitational pull of the Moon on the oceans."},
    {"id": "bread", "title": "Bread", "text": "Sourdough bread is leavened by a starter of wild yeast and lactic acid bacteria."},
    {"id": "volcano", "title": "Volcanoes", "text": "A volcano erupts when magma rises through the crust and escapes as lava."},
    {"id": "moon", "title": "Moon", "text": "The Moon orbits the Earth about once every 27 days and has no atmosphere to speak of."},
]
QUERIES = ["What causes the tides?", "How is sourdough leavened?", "Lava and ash from a volcano", "moon orbit earth days"]


def _sources(folder: Path, docs=DOCS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return folder


def _ranked(index: ReferenceIndex, vectors: np.ndarray, top_k: int) -> list[list[tuple[str, int]]]:
    return [[(hit.passage.doc_id, hit.row) for hit in hits] for hits in index.search(vectors, top_k)]


@pytest.fixture
def embedder():
    return HashEmbedder()


@pytest.mark.unit
def test_milvus_build_answers_as_the_faiss_build(tmp_path, embedder):
    sources = _sources(tmp_path / "src")
    build_index([sources], tmp_path / "faiss", embedder, show_progress=False)
    summary = build_index([sources], tmp_path / "milvus", embedder, show_progress=False, vector_store=f"milvus:{tmp_path}/new/m.db")
    assert summary.vector_store == f"milvus:{tmp_path}/new/m.db" and summary.index_type == "FLAT"
    faiss_index, milvus_index = ReferenceIndex.load(tmp_path / "faiss", embedder), ReferenceIndex.load(tmp_path / "milvus", embedder)
    vectors = embedder.encode(QUERIES)
    assert _ranked(milvus_index, vectors, 4) == _ranked(faiss_index, vectors, 4)
    scores = [[hit.score for hit in hits] for hits in milvus_index.search(vectors, 4)]
    assert np.allclose(scores, [[hit.score for hit in hits] for hits in faiss_index.search(vectors, 4)], atol=1e-5)
    # More asked for than stored: both give what there is.
    assert _ranked(milvus_index, vectors[:1], 10) == _ranked(faiss_index, vectors[:1], 10)
    rows = [3, 0, 2]
    assert np.allclose(milvus_index.similarities(vectors[0], rows), faiss_index.similarities(vectors[0], rows), atol=1e-5)
    fused = [[(h.row, round(h.score, 4)) for h in hits] for hits in hybrid_search(milvus_index, QUERIES, vectors, 3)]
    assert fused == [[(h.row, round(h.score, 4)) for h in hits] for hits in hybrid_search(faiss_index, QUERIES, vectors, 3)]


@pytest.mark.unit
def test_milvus_manifest_names_the_collection_and_its_rows_and_has_no_faiss_file(tmp_path, embedder):
    out = tmp_path / "index"
    build_index([_sources(tmp_path / "src")], out, embedder, show_progress=False, vector_store=f"milvus:{tmp_path}/m.db")
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    store = manifest["vector_store"]
    assert store["kind"] == "milvus" and store["uri"] == str(tmp_path / "m.db")
    assert store["collection"] == collection_name(manifest["build_id"]) and store["row_count"] == manifest["passage_count"] == 4
    assert manifest["index_type"]["factory"] == "FLAT" and "faiss_index" not in manifest
    assert not (out / FAISS_FILE).exists() and FAISS_FILE not in manifest["files"]
    client = MilvusClient(str(tmp_path / "m.db"))
    assert store["collection"] in client.list_collections()


@pytest.mark.unit
def test_a_collection_missing_rows_is_refused_naming_it(tmp_path, embedder):
    out = tmp_path / "index"
    build_index([_sources(tmp_path / "src")], out, embedder, show_progress=False, vector_store=f"milvus:{tmp_path}/m.db")
    collection = json.loads((out / MANIFEST_FILE).read_text())["vector_store"]["collection"]
    client = MilvusClient(str(tmp_path / "m.db"))
    client.delete(collection, ids=[1])
    client.flush(collection)
    with pytest.raises(BadIndex, match=f"{collection}.*holds 3 rows, the manifest says 4"):
        ReferenceIndex.load(out, embedder)
    client.drop_collection(collection)
    with pytest.raises(BadIndex, match=f"has no collection '{collection}'"):
        ReferenceIndex.load(out, embedder)


@pytest.mark.unit
def test_a_rebuild_reuses_vectors_and_drops_collections_with_their_versions(tmp_path, embedder):
    sources, out, uri = _sources(tmp_path / "src"), tmp_path / "index", f"{tmp_path}/m.db"
    first = build_index([sources], out, embedder, show_progress=False, vector_store=f"milvus:{uri}")
    _sources(sources, DOCS + [{"id": "rain", "text": "Rain falls when droplets in clouds grow too heavy to stay aloft."}])
    second = build_index([sources], out, embedder, show_progress=False, vector_store=f"milvus:{uri}")
    assert (second.embedded_passages, second.reused_passages) == (1, 4)
    third = build_index([sources], out, embedder, show_progress=False, vector_store=f"milvus:{uri}")
    assert third.embedded_passages == 0
    kept = {path.name for path in versions_dir(out).iterdir()}
    assert kept == {second.build_id, third.build_id}
    collections = set(MilvusClient(uri).list_collections())
    assert collections == {collection_name(second.build_id), collection_name(third.build_id)}
    assert collection_name(first.build_id) not in collections
    assert ReferenceIndex.load(out, embedder).store.count == 5


@pytest.mark.unit
def test_a_build_that_fails_after_writing_the_collection_drops_it_and_keeps_the_old_index(tmp_path, embedder, monkeypatch):
    import service.index.build as build

    sources, out, uri = _sources(tmp_path / "src"), tmp_path / "index", f"{tmp_path}/m.db"
    first = build_index([sources], out, embedder, show_progress=False, vector_store=f"milvus:{uri}")
    _sources(sources, DOCS[:2])

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(build, "_point_at", fail)
    with pytest.raises(OSError, match="disk full"):
        build_index([sources], out, embedder, show_progress=False, vector_store=f"milvus:{uri}")
    assert MilvusClient(uri).list_collections() == [collection_name(first.build_id)]
    assert ReferenceIndex.load(out, embedder).build_id == first.build_id


@pytest.mark.unit
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("milvus:", "expected 'faiss' or 'milvus:URI'"),
        ("qdrant:x", "expected 'faiss' or 'milvus:URI'"),
        ("milvus:vectors.sqlite", "must end in .db"),
    ],
)
def test_a_bad_vector_store_is_refused_before_anything_is_written(tmp_path, embedder, spec, message):
    with pytest.raises(VectorStoreError, match=message):
        build_index([_sources(tmp_path / "src")], tmp_path / "index", embedder, show_progress=False, vector_store=spec)
    assert not (tmp_path / "index").exists()


def test_the_service_connection_keeps_its_own_pings_beside_another_client_of_the_same_store(tmp_path):
    """pymilvus shares a connection per address among its clients, with the first one's options: another client
    made first (pymilvus's default pings every 10 s, which a server closes as too many) must not set ours."""
    uri = str(tmp_path / "m.db")
    other = MilvusClient(uri)
    ours = connect(uri)
    try:
        assert ours._get_connection() is not other._get_connection()
        assert ours._get_connection()._grpc_options == GRPC_OPTIONS
        assert ours.list_collections() == []
    finally:
        ours.close()
        other.close()


def test_an_index_swapped_out_by_a_reload_closes_its_connection_once_nothing_uses_it(tmp_path, embedder):
    import gc

    from pymilvus.client.connection_manager import ConnectionManager

    out = tmp_path / "index"
    build_index([_sources(tmp_path / "src")], out, embedder, show_progress=False, vector_store=f"milvus:{tmp_path}/m.db")
    dedicated = ConnectionManager.get_instance()._dedicated
    before = len(dedicated)
    old = ReferenceIndex.load(out, embedder)
    new = ReferenceIndex.load(out, embedder)  # what a reload does: the new index beside the old one
    assert len(dedicated) == before + 2
    del old
    gc.collect()
    assert len(dedicated) == before + 1
    assert _ranked(new, embedder.encode(QUERIES[:1]), 1)[0][0][0] == "tides"


@pytest.mark.unit
def test_milvus_index_types():
    assert milvus_index_type("auto", 10) == "FLAT" and milvus_index_type("auto", 200_000) == "HNSW"
    assert milvus_index_type("hnsw", 10) == "HNSW"
    with pytest.raises(VectorStoreError, match="not a Milvus index type"):
        milvus_index_type("IVF4000,SQ8", 10)
    assert VectorStoreSpec.parse(" milvus:http://milvus:19530 ") == VectorStoreSpec("milvus", "http://milvus:19530")


@pytest.mark.integration
def test_seed_scenario_and_fever_dev_sample_retrieve_alike_from_faiss_and_milvus(tmp_path):
    """With exact indexes, the real embedder and the hybrid retrieval the service uses, both stores give the same
    passages in the same order: the seed article's sentences against the treaties, FEVER dev claims against a
    sample of FEVER's evidence pool."""
    from service.runtime.embedding import Embedder

    embedder = Embedder()
    embedder.warm_up()
    shutil.copy(FIXTURES / "fever_dev_sample.jsonl.gz", tmp_path / "fever.jsonl.gz")
    seed = [s.strip() for s in (FIXTURES / "news_article_ukraine_nato.txt").read_text().split("\n") if len(s.split()) > 6]
    fever = (FIXTURES / "fever_dev_sample_claims.txt").read_text().splitlines()
    for name, sources, claims in (("seed", [TREATIES], seed), ("fever", [tmp_path / "fever.jsonl.gz"], fever)):
        build_index(sources, tmp_path / f"{name}-faiss", embedder, show_progress=False)
        build_index(sources, tmp_path / f"{name}-milvus", embedder, show_progress=False, vector_store=f"milvus:{tmp_path}/{name}.db")
        faiss_index = ReferenceIndex.load(tmp_path / f"{name}-faiss", embedder)
        milvus_index = ReferenceIndex.load(tmp_path / f"{name}-milvus", embedder)
        vectors = embedder.encode(claims)
        assert len(claims) >= 10
        for faiss_hits, milvus_hits in zip(
            hybrid_search(faiss_index, claims, vectors, 10), hybrid_search(milvus_index, claims, vectors, 10), strict=True
        ):
            assert [h.row for h in milvus_hits] == [h.row for h in faiss_hits]
            assert [h.score for h in milvus_hits] == pytest.approx([h.score for h in faiss_hits], abs=1e-5)
