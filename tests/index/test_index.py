"""Building the reference index with the real MiniLM embedder and FAISS: manifest, search, reuse, atomicity, checks on load."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fakes import HashEmbedder

from service.errors import BadIndex, SourceError
from service.index.ann import IndexTypeError, auto_index_type, build_faiss_index, new_faiss_index
from service.index.build import KEPT_OLD_VERSIONS, BuildLocked, build_index, versions_dir
from service.index.reference import (
    DOCUMENTS_FILE,
    FAISS_FILE,
    MANIFEST_FILE,
    PASSAGES_FILE,
    VECTORS_FILE,
    ReferenceIndex,
)
from service.index.sources import read_documents
from service.runtime.embedding import Embedder

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "scripts" / "build_index.py"

TIDES_MD = """# Ocean tides

Tides are the regular rise and fall of the sea level along the coast.
They are caused mainly by the gravitational pull of the Moon on the oceans.
"""
TIDES_MD_CHANGED = """# Ocean tides

Tides are the regular rise and fall of the sea level along the coast.
The Sun also pulls on the oceans, which makes spring tides higher at full moon.
"""
BREAD = {
    "id": "bread",
    "title": "Sourdough bread",
    "url": "https://example.org/bread",
    "date": "2021-03-04",
    "lang": "en",
    "text": "Sourdough bread is baked from flour, water and salt, leavened by a starter of wild yeast and lactic acid bacteria.",
}
VOLCANO = {
    "id": 42,
    "title": "Volcanoes",
    "text": "A volcano erupts when molten rock called magma rises through the crust and escapes as lava and ash.",
}


@pytest.fixture(scope="module")
def embedder():
    """The build and load logic does not depend on the model: a deterministic fake embeds."""
    return HashEmbedder()


@pytest.fixture(scope="module")
def real_embedder():
    """The packaged model, for indexes built by the build script itself."""
    embedder = Embedder()
    embedder.warm_up()
    return embedder


def _write_sources(folder: Path, tides: str = TIDES_MD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tides.md").write_text(tides, encoding="utf-8")
    rows = [json.dumps(BREAD), json.dumps(VOLCANO)]
    (folder / "notes.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def _append_malformed_line(folder: Path) -> int:
    """Append a malformed line to notes.jsonl and return its line number."""
    path = folder / "notes.jsonl"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"id": "broken", "text": "no closing quote}\n')
    return len(path.read_text(encoding="utf-8").splitlines())


def _snapshot(out: Path) -> dict[str, str]:
    """Target of `out` plus the SHA-256 of every file under what it points at, and the versions listing."""
    resolved = out.resolve()
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(resolved.iterdir())}
    return {"target": str(resolved), "versions": sorted(p.name for p in versions_dir(out).iterdir()), **files}


def _rows(index: ReferenceIndex) -> list[tuple]:
    return [(p.doc_id, p.start, p.end, p.text, p.section) for p in index.passages]


def _top_doc(index: ReferenceIndex, embedder: Embedder, query: str) -> tuple[str, str]:
    (hits,) = index.search(embedder.encode([query]), 3)
    assert hits
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))
    return hits[0].passage.doc_id, hits[0].passage.text


@pytest.fixture(scope="module")
def built(embedder, tmp_path_factory):
    """One index built from the small corpus, shared by the read-only tests."""
    root = tmp_path_factory.mktemp("built")
    sources = _write_sources(root / "sources")
    out = root / "index"
    summary = build_index([sources], out, embedder, show_progress=False)
    return sources, out, summary


# --- a build -----------------------------------------------------------------------------------------


def test_build_writes_a_complete_manifest(built, embedder):
    sources, out, summary = built
    documents = read_documents([sources])

    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))

    for name in (MANIFEST_FILE, FAISS_FILE, VECTORS_FILE, PASSAGES_FILE, DOCUMENTS_FILE):
        assert (out / name).is_file()
    stored_passages = [json.loads(line) for line in (out / PASSAGES_FILE).read_text(encoding="utf-8").splitlines()]
    assert manifest["passage_count"] == summary.passages == len(stored_passages) >= 3
    assert manifest["document_count"] == summary.documents == 3
    assert summary.embedded_passages == summary.passages and summary.reused_passages == 0
    assert manifest["build_id"] == summary.build_id
    assert manifest["embedding_model"]["name"] == embedder.name
    assert manifest["embedding_model"]["dimension"] == embedder.dimension
    assert manifest["documents"] == {d.doc_id: d.content_hash for d in documents}
    assert set(manifest["documents"]) == {"tides.md", "bread", "42"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in manifest["documents"].values())
    assert len(set(manifest["documents"].values())) == 3
    assert manifest["faiss_index"] == "IndexFlatIP"
    assert manifest["index_type"] == {"factory": "Flat", "requested": "auto", "search_params": {}, "build_params": {}}
    built_at = datetime.fromisoformat(manifest["built_at"])
    assert built_at.tzinfo is not None
    assert abs(datetime.now(UTC) - built_at) < timedelta(minutes=30)
    texts = {d.doc_id: d.text for d in documents}
    for row in stored_passages:
        assert texts[row["doc_id"]][row["start"] : row["end"]] == row["text"]


def test_built_index_loads_and_finds_the_matching_passage(built, embedder):
    _, out, summary = built

    index = ReferenceIndex.load(out, embedder)

    assert index.build_id == summary.build_id
    assert index.store.count == len(index.passages) == summary.passages
    assert index.vectors().shape == (summary.passages, embedder.dimension)
    assert np.allclose(np.linalg.norm(index.vectors(), axis=1), 1.0, atol=1e-4)
    assert _top_doc(index, embedder, "What makes the sea level rise and fall at the coast?")[0] == "tides.md"
    doc_id, text = _top_doc(index, embedder, "How is sourdough bread leavened?")
    assert doc_id == "bread" and "wild yeast" in text
    assert _top_doc(index, embedder, "Why does a volcano erupt lava and ash?")[0] == "42"
    bread = index.documents["bread"]
    assert (bread.title, bread.url, bread.date, bread.metadata) == (BREAD["title"], BREAD["url"], BREAD["date"], {"lang": "en"})
    assert index.documents["42"].title == "Volcanoes"


# --- rebuilds --------------------------------------------------------------------------------------------


def test_rebuild_of_unchanged_sources_embeds_nothing(embedder, tmp_path):
    sources = _write_sources(tmp_path / "sources")
    out = tmp_path / "index"
    first = build_index([sources], out, embedder, show_progress=False)
    before = ReferenceIndex.load(out, embedder)
    before_vectors = before.vectors()

    second = build_index([sources], out, embedder, show_progress=False)
    third = build_index([sources], out, embedder, show_progress=False)

    assert second.embedded_passages == 0 and third.embedded_passages == 0
    assert second.reused_passages == second.passages == first.passages
    after = ReferenceIndex.load(out, embedder)
    assert after.build_id == third.build_id != first.build_id
    assert _rows(after) == _rows(before)
    assert np.array_equal(after.vectors(), before_vectors)
    assert after.manifest["documents"] == before.manifest["documents"]
    assert _top_doc(after, embedder, "How is sourdough bread leavened?")[0] == "bread"
    # Old versions do not pile up.
    complete = [p for p in versions_dir(out).iterdir() if not p.name.startswith(".")]
    assert len(complete) <= 1 + KEPT_OLD_VERSIONS


def test_changing_one_document_re_embeds_only_its_passages(embedder, tmp_path):
    sources = _write_sources(tmp_path / "sources")
    out = tmp_path / "index"
    build_index([sources], out, embedder, show_progress=False)
    before = ReferenceIndex.load(out, embedder)
    before_vectors = before.vectors()

    _write_sources(sources, tides=TIDES_MD_CHANGED)
    summary = build_index([sources], out, embedder, show_progress=False)

    after = ReferenceIndex.load(out, embedder)
    after_vectors = after.vectors()
    changed = [i for i, p in enumerate(after.passages) if p.doc_id == "tides.md"]
    assert changed
    assert summary.embedded_passages == len(changed)
    assert summary.reused_passages == len(after.passages) - len(changed) > 0
    assert after.manifest["documents"]["tides.md"] != before.manifest["documents"]["tides.md"]
    for doc_id in ("bread", "42"):
        assert after.manifest["documents"][doc_id] == before.manifest["documents"][doc_id]
        old = [i for i, p in enumerate(before.passages) if p.doc_id == doc_id]
        new = [i for i, p in enumerate(after.passages) if p.doc_id == doc_id]
        assert [_rows(before)[i] for i in old] == [_rows(after)[i] for i in new]
        assert np.array_equal(before_vectors[old], after_vectors[new])
    assert any("Sun also pulls" in after.passages[i].text for i in changed)
    doc_id, text = _top_doc(after, embedder, "Why are spring tides higher at full moon?")
    assert doc_id == "tides.md" and "spring tides" in text


# --- failures leave the previous index alone -------------------------------------------------------------


def test_failed_build_leaves_previous_index_untouched(embedder, tmp_path):
    sources = _write_sources(tmp_path / "sources")
    out = tmp_path / "index"
    first = build_index([sources], out, embedder, show_progress=False)
    snapshot = _snapshot(out)
    bad_line = _append_malformed_line(sources)

    with pytest.raises(SourceError) as caught:
        build_index([sources], out, embedder, show_progress=False)

    assert f"notes.jsonl:{bad_line}" in str(caught.value)
    assert _snapshot(out) == snapshot
    index = ReferenceIndex.load(out, embedder)
    assert index.build_id == first.build_id
    assert len(index.passages) == first.passages


def test_stale_temporary_directory_from_a_killed_build_is_cleaned(embedder, tmp_path):
    sources = _write_sources(tmp_path / "sources")
    out = tmp_path / "index"
    first = build_index([sources], out, embedder, show_progress=False)
    stale = versions_dir(out) / ".20000101T000000-deadbeef.tmp"
    stale.mkdir()
    (stale / FAISS_FILE).write_bytes(b"\x00garbage from a killed build")
    (stale / PASSAGES_FILE).write_text('{"doc_id": "half', encoding="utf-8")
    stale_link = out.parent / f".{out.name}.link-deadbeef"  # killed between making the link and renaming it
    stale_link.symlink_to(stale)

    second = build_index([sources], out, embedder, show_progress=False)

    assert not stale.exists() and not stale_link.is_symlink()
    index = ReferenceIndex.load(out, embedder)
    assert index.build_id == second.build_id != first.build_id
    assert out.resolve().parent == versions_dir(out).resolve()
    assert not any(p.name.endswith(".tmp") for p in versions_dir(out).iterdir())


def test_build_is_refused_while_another_holds_the_lock(embedder, tmp_path):
    sources = _write_sources(tmp_path / "sources")
    out = tmp_path / "index"
    first = build_index([sources], out, embedder, show_progress=False)
    snapshot = _snapshot(out)

    with open(out.parent / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BuildLocked):
            build_index([sources], out, embedder, show_progress=False)
        assert _snapshot(out) == snapshot
        fcntl.flock(lock, fcntl.LOCK_UN)

    second = build_index([sources], out, embedder, show_progress=False)
    assert second.build_id != first.build_id
    assert ReferenceIndex.load(out, embedder).build_id == second.build_id


# --- corrupt indexes are refused on load -----------------------------------------------------------------


@pytest.fixture
def index_copy(built, tmp_path):
    """A private, writable copy of the built index's files."""
    _, out, _ = built
    copy = tmp_path / "copy"
    shutil.copytree(out.resolve(), copy)
    return copy


def test_intact_copy_loads(index_copy, embedder, built):
    assert ReferenceIndex.load(index_copy, embedder).build_id == built[2].build_id


def test_truncated_faiss_file_is_refused(index_copy, embedder):
    path = index_copy / FAISS_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(BadIndex):
        ReferenceIndex.load(index_copy, embedder)


def test_manifest_with_wrong_passage_count_is_refused(index_copy, embedder):
    path = index_copy / MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["passage_count"] += 1
    path.write_text(json.dumps(manifest), encoding="utf-8")

    with pytest.raises(BadIndex, match="passage"):
        ReferenceIndex.load(index_copy, embedder)


def test_missing_manifest_is_refused(index_copy, embedder):
    (index_copy / MANIFEST_FILE).unlink()

    with pytest.raises(BadIndex):
        ReferenceIndex.load(index_copy, embedder)


def test_missing_directory_is_refused(tmp_path, embedder):
    with pytest.raises(BadIndex):
        ReferenceIndex.load(tmp_path / "nowhere", embedder)


def test_passage_store_shorter_than_faiss_index_is_refused(index_copy, embedder):
    path = index_copy / PASSAGES_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")

    with pytest.raises(BadIndex):
        ReferenceIndex.load(index_copy, embedder)


# --- every file is checked against the manifest's checksums ----------------------------------------------

INDEX_FILES = (FAISS_FILE, VECTORS_FILE, PASSAGES_FILE, DOCUMENTS_FILE)
REUSE_WARNING = "the previous index's vectors.npy does not match its manifest: re-embedding every document"


def _warnings(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name.startswith("claimcheck") and record.levelno >= logging.WARNING]


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_last_byte(path: Path) -> None:
    """One bit of the last byte changed: same size. For vectors.npy, one float of the last vector; np.load reads it."""
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def _alter_passage_text(path: Path) -> None:
    """Swap the case of one letter of the first passage's text: same size, valid JSON, loads without a checksum."""
    data = bytearray(path.read_bytes())
    at = data.index(b'"text": "') + len(b'"text": "')
    while not chr(data[at]).isalpha():
        at += 1
    data[at] ^= 0x20
    path.write_bytes(bytes(data))


def _edit_manifest(directory: Path, edit) -> None:
    path = directory / MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_manifest_records_size_and_sha256_of_every_file(built):
    _, out, _ = built
    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))

    on_disk = {p.name for p in out.resolve().iterdir()} - {MANIFEST_FILE}
    assert set(manifest["files"]) == on_disk >= set(INDEX_FILES)
    for name, entry in manifest["files"].items():
        data = (out / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}, name


@pytest.mark.parametrize("name", INDEX_FILES)
@pytest.mark.parametrize(
    ("corrupt", "why"),
    [
        (_truncate, r"\d+ bytes, the manifest says \d+: the file is truncated or was changed"),
        (_flip_last_byte, "SHA-256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}: the file is corrupt or was changed"),
    ],
    ids=["truncated", "altered"],
)
def test_a_file_that_does_not_match_the_manifest_is_refused_naming_it(index_copy, embedder, name, corrupt, why):
    size = (index_copy / name).stat().st_size
    corrupt(index_copy / name)
    assert ((index_copy / name).stat().st_size == size) == (corrupt is _flip_last_byte)

    with pytest.raises(BadIndex, match=re.escape(str(index_copy / name)) + ": " + why) as caught:
        ReferenceIndex.load(index_copy, embedder)

    assert type(caught.value) is BadIndex and caught.value.file == name  # BadIndex itself: the API answers it with 409
    assert "rebuild the index" in str(caught.value)


def test_an_altered_passage_that_still_parses_is_refused(index_copy, embedder):
    _alter_passage_text(index_copy / PASSAGES_FILE)

    with pytest.raises(BadIndex, match=f"{PASSAGES_FILE}: SHA-256") as caught:
        ReferenceIndex.load(index_copy, embedder)
    assert caught.value.file == PASSAGES_FILE


@pytest.mark.parametrize("name", INDEX_FILES)
def test_a_missing_file_is_refused_naming_it(index_copy, embedder, name):
    (index_copy / name).unlink()

    with pytest.raises(BadIndex, match=re.escape(f"{index_copy / name}: missing")) as caught:
        ReferenceIndex.load(index_copy, embedder)
    assert caught.value.file == name


def test_sizes_are_checked_before_any_file_is_hashed(index_copy, embedder, monkeypatch):
    import service.index.reference

    _truncate(index_copy / VECTORS_FILE)

    def no_hashing(path):
        raise AssertionError(f"hashed {path} before checking every size")

    monkeypatch.setattr(service.index.reference, "file_checksum", no_hashing)
    with pytest.raises(BadIndex, match="bytes, the manifest says"):
        ReferenceIndex.load(index_copy, embedder)


def test_an_extra_file_the_manifest_lists_is_checked_too(index_copy, embedder):
    notes = b"written by a later build\n"
    (index_copy / "notes.txt").write_bytes(notes)
    _edit_manifest(index_copy, lambda m: m["files"].update({"notes.txt": {"sha256": "0" * 64, "bytes": len(notes)}}))

    with pytest.raises(BadIndex, match="notes.txt: SHA-256"):
        ReferenceIndex.load(index_copy, embedder)


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["files"].pop(VECTORS_FILE),
        lambda m: m.update(files=["index.faiss"]),
        lambda m: m["files"][PASSAGES_FILE].update(bytes="12"),
        lambda m: m["files"][PASSAGES_FILE].update(sha256="not a hash"),
        lambda m: m["files"].update({"../outside": m["files"][PASSAGES_FILE]}),
    ],
    ids=["a file not listed", "not an object", "bytes not a number", "not a sha256", "a path outside"],
)
def test_a_malformed_files_entry_is_refused(index_copy, embedder, edit):
    _edit_manifest(index_copy, edit)

    with pytest.raises(BadIndex, match="'files'"):
        ReferenceIndex.load(index_copy, embedder)


def test_an_old_manifest_without_checksums_loads_with_a_warning(index_copy, embedder, built, caplog):
    _edit_manifest(index_copy, lambda m: m.pop("files"))

    with caplog.at_level(logging.WARNING, logger="claimcheck"):
        index = ReferenceIndex.load(index_copy, embedder)

    assert index.build_id == built[2].build_id and len(index.passages) == built[2].passages
    assert "records no file checksums" in caplog.text and "cannot be verified" in caplog.text


def test_an_intact_index_loads_without_a_warning(index_copy, embedder, caplog):
    with caplog.at_level(logging.WARNING, logger="claimcheck"):
        ReferenceIndex.load(index_copy, embedder)
    assert not _warnings(caplog)


@pytest.mark.parametrize("corrupt", [_truncate, _flip_last_byte], ids=["truncated", "altered"])
def test_a_rebuild_over_corrupt_vectors_re_embeds_every_document_and_says_why(embedder, tmp_path, caplog, corrupt):
    sources = _write_sources(tmp_path / "sources")
    out = tmp_path / "index"
    first = build_index([sources], out, embedder, show_progress=False)
    corrupt(out / VECTORS_FILE)

    with caplog.at_level(logging.WARNING, logger="claimcheck"):
        second = build_index([sources], out, embedder, show_progress=False)

    assert REUSE_WARNING in caplog.text
    assert second.embedded_passages == second.passages == first.passages and second.reused_passages == 0
    rebuilt = ReferenceIndex.load(out, embedder)
    assert rebuilt.build_id == second.build_id
    assert np.allclose(np.linalg.norm(rebuilt.vectors(), axis=1), 1.0, atol=1e-4)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="claimcheck"):
        third = build_index([sources], out, embedder, show_progress=False)  # the rebuilt index is reused again, quietly
    assert third.embedded_passages == 0 and not _warnings(caplog)


def test_a_first_build_says_nothing_about_a_previous_index(embedder, tmp_path, caplog):
    sources = _write_sources(tmp_path / "sources")
    with caplog.at_level(logging.WARNING, logger="claimcheck"):
        build_index([sources], tmp_path / "index", embedder, show_progress=False)
    assert not _warnings(caplog)


# --- the command line ----------------------------------------------------------------------------------------


def _run_build_script(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.integration
def test_build_script_summary_and_error_exit(tmp_path, real_embedder):
    sources = _write_sources(tmp_path / "sources")
    out = tmp_path / "index"

    done = _run_build_script(str(sources), "--out", str(out), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    summary_line = done.stdout.strip().splitlines()[-1]
    counts = re.search(r"(\d+) documents, (\d+) passages", summary_line)
    assert counts, summary_line
    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["document_count"] == 3
    assert (int(counts[1]), int(counts[2])) == (manifest["document_count"], manifest["passage_count"])
    snapshot = _snapshot(out)
    bad_line = _append_malformed_line(sources)

    failed = _run_build_script(str(sources), "--out", str(out), "--quiet", cwd=tmp_path)

    assert failed.returncode == 2
    assert f"notes.jsonl:{bad_line}" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert _snapshot(out) == snapshot
    assert ReferenceIndex.load(out, real_embedder).build_id == manifest["build_id"]


@pytest.mark.integration
def test_build_script_says_on_stderr_why_it_re_embeds_over_corrupt_vectors(tmp_path, real_embedder):
    sources = _write_sources(tmp_path / "sources")
    out = tmp_path / "index"
    build_index([sources], out, real_embedder, show_progress=False)
    _truncate(out / VECTORS_FILE)

    done = _run_build_script(str(sources), "--out", str(out), "--quiet", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert REUSE_WARNING in done.stderr
    assert ", 0 reused)" in done.stdout
    assert ReferenceIndex.load(out, real_embedder).vectors().shape[0] == json.loads((out / MANIFEST_FILE).read_text())["passage_count"]


@pytest.mark.integration
def test_an_index_built_inside_its_source_folder_is_not_read_as_a_source(tmp_path, real_embedder):
    sources = _write_sources(tmp_path / "sources")
    (sources / "budget.csv").write_text("year,amount\n2024,1\n", encoding="utf-8")
    out = sources / "index"
    first = _run_build_script(str(sources), "--out", str(out), "--quiet", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "left out 1 file(s) of other types: " in first.stderr and "budget.csv" in first.stderr
    second = _run_build_script(str(sources), "--out", str(out), "--quiet", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "(0 embedded," in second.stdout
    assert json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))["document_count"] == 3


@pytest.mark.integration
def test_an_index_inside_a_source_reached_by_a_symlink_or_dots_is_not_read_and_the_source_itself_is_refused(tmp_path, real_embedder):
    sources = _write_sources(tmp_path / "sources")
    (tmp_path / "link").symlink_to(sources)
    out = sources / "index"
    for source, target in ((sources, out), (tmp_path / "link", out), (sources, sources / ".." / "sources" / "index")):
        built = _run_build_script(str(source), "--out", str(target), "--quiet", cwd=tmp_path)
        assert built.returncode == 0, built.stderr
    assert json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))["document_count"] == 3
    refused = _run_build_script(str(sources), "--out", str(sources), "--quiet", cwd=tmp_path)
    assert refused.returncode == 2 and "the index needs a folder of its own" in refused.stderr, refused.stderr


def test_existing_folder_that_is_not_an_index_is_never_replaced(embedder, tmp_path):
    sources = _write_sources(tmp_path / "src")
    out = tmp_path / "notes"
    out.mkdir()
    (out / "user_notes.txt").write_text("precious")

    with pytest.raises(BadIndex, match="not an index"):
        build_index([sources], out, embedder, show_progress=False)

    assert (out / "user_notes.txt").read_text() == "precious"


def test_a_build_that_fails_while_swapping_leaves_the_previous_index(embedder, tmp_path, monkeypatch):
    import service.index.build

    sources = _write_sources(tmp_path / "sources")
    out = tmp_path / "index"
    first = build_index([sources], out, embedder, show_progress=False)
    snapshot = _snapshot(out)
    (sources / "extra.md").write_text("# Extra\n\nA new document about lighthouses.\n", encoding="utf-8")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(service.index.build, "_point_at", fail)
    with pytest.raises(OSError, match="disk full"):
        build_index([sources], out, embedder, show_progress=False)

    assert _snapshot(out) == snapshot
    assert ReferenceIndex.load(out, embedder).build_id == first.build_id


def test_sources_without_documents_are_refused(embedder, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.csv").write_text("a,b\n")

    with pytest.raises(SourceError, match="no documents"):
        build_index([empty], tmp_path / "index", embedder, show_progress=False)
    assert not (tmp_path / "index").exists()


def test_malformed_passage_store_is_refused(index_copy, embedder):
    (index_copy / PASSAGES_FILE).write_text('["not", "an", "object"]\n' * 3, encoding="utf-8")

    with pytest.raises(BadIndex):
        ReferenceIndex.load(index_copy, embedder)


# --- index types -------------------------------------------------------------------------------------------

COLOURS = ("red", "amber", "green", "blue", "violet", "grey")
ANIMALS = ("heron", "badger", "otter", "lynx", "falcon", "newt", "hare")
PLACES = ("the mill pond", "Harlow ridge", "the salt marsh", "Kestrel wood", "the old quarry")


@pytest.fixture(scope="module")
def generated(embedder, tmp_path_factory):
    """A flat index of 300 generated one-sentence documents; tests rebuild copies of it, reusing its vectors."""
    root = tmp_path_factory.mktemp("generated")
    sources = root / "sources"
    sources.mkdir()
    rows = [
        {
            "id": f"record-{i}",
            "text": f"Survey record {i}: a {COLOURS[i % 6]} {ANIMALS[i % 7]} was seen at {PLACES[i % 5]} "
            f"in {1850 + i}, weighing {3 + i * 7 % 97} kilograms.",
        }
        for i in range(300)
    ]
    (sources / "records.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    build_index([sources], root / "index", embedder, show_progress=False)
    return root


@pytest.fixture
def generated_copy(generated, tmp_path):
    copy = tmp_path / "generated"
    shutil.copytree(generated, copy, symlinks=True)
    return copy / "sources", copy / "index"


@pytest.mark.parametrize(
    ("index_type", "faiss_class", "param"),
    [("HNSW32", "IndexHNSWFlat", "efSearch"), ("IVF32,Flat", "IndexIVFFlat", "nprobe")],
)
def test_approximate_index_types_load_and_find_the_exact_passage(generated_copy, embedder, index_type, faiss_class, param):
    sources, out = generated_copy

    summary = build_index([sources], out, embedder, show_progress=False, index_type=index_type)

    manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert summary.embedded_passages == 0 and summary.reused_passages == summary.passages == 300
    assert summary.index_type == manifest["index_type"]["factory"] == manifest["index_type"]["requested"] == index_type
    assert manifest["faiss_index"] == faiss_class
    assert list(manifest["index_type"]["search_params"]) == [param]
    assert manifest["index_type"]["build_params"]
    manifest["index_type"]["search_params"][param] = 7  # the manifest's value is the one applied on load
    (out / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    index = ReferenceIndex.load(out, embedder)
    assert type(index.store.index).__name__ == faiss_class
    assert (index.store.index.hnsw.efSearch if param == "efSearch" else index.store.index.nprobe) == 7
    for row in (0, 137, 299):
        passage = index.passages[row]
        vector = embedder.encode([passage.text])
        (hits,) = index.search(vector, 5)
        assert hits[0].passage == passage and hits[0].score > 0.99
        assert len(hits) == 5
        assert index.similarities(vector[0], [hit.row for hit in hits]).tolist() == pytest.approx([hit.score for hit in hits], abs=1e-4)


def test_auto_index_type_is_exact_for_small_corpora_and_approximate_for_large():
    assert auto_index_type(0) == auto_index_type(300) == auto_index_type(99_999) == "Flat"
    assert auto_index_type(100_000) == auto_index_type(1_999_999) == "HNSW32"
    assert auto_index_type(10_000_000) == "IVF12648,SQ8"


def test_trained_index_type_from_synthetic_vectors():
    vectors = np.random.default_rng(0).standard_normal((2000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    built = build_faiss_index(vectors, "IVF16,SQ8")

    assert built.index.ntotal == 2000 and built.index.is_trained
    assert built.search_params == {"nprobe": 16} and built.build_params == {"training_vectors": 2000}
    _, rows = built.index.search(vectors[[5, 1234]], 1)
    assert rows[:, 0].tolist() == [5, 1234]
    with pytest.raises(IndexTypeError, match="needs at least 256 passages .* product quantizer, the corpus has 100"):
        new_faiss_index("IVF4,PQ48", 384, 100)


def test_an_index_type_the_corpus_cannot_train_fails_clearly_and_keeps_the_old_index(generated_copy, embedder, tmp_path):
    sources, out = generated_copy
    snapshot = _snapshot(out)

    failed = _run_build_script(str(sources), "--out", str(out), "--index-type", "IVF4096,Flat", "--quiet", cwd=tmp_path)

    assert failed.returncode == 2
    assert "--index-type 'IVF4096,Flat' needs at least 4096 passages to train its 4096 IVF lists, the corpus has 300" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert _snapshot(out) == snapshot
    assert ReferenceIndex.load(out, embedder).manifest["index_type"]["factory"] == "Flat"


@pytest.mark.parametrize(
    ("index_type", "message"),
    [
        ("HNSW-ish", "not a usable FAISS factory string"),
        ("PQ50", "multiple of the number of subquantizers"),
        ("IDMap,Flat", "add_with_ids"),
    ],
)
def test_unusable_index_types_are_refused_and_leave_the_old_index(generated_copy, embedder, index_type, message):
    sources, out = generated_copy
    snapshot = _snapshot(out)

    with pytest.raises(IndexTypeError, match=message):
        build_index([sources], out, embedder, show_progress=False, index_type=index_type)

    assert _snapshot(out) == snapshot


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"faiss_index": "IndexHNSWFlat"}, "IndexFlatIP"),
        ({"index_type": {"factory": "Flat", "search_params": {"nprobe": 8}}}, "search parameters"),
    ],
)
def test_manifest_that_misdescribes_the_faiss_file_is_refused(index_copy, embedder, change, message):
    path = index_copy / MANIFEST_FILE
    path.write_text(json.dumps({**json.loads(path.read_text(encoding="utf-8")), **change}), encoding="utf-8")

    with pytest.raises(BadIndex, match=message):
        ReferenceIndex.load(index_copy, embedder)


@pytest.mark.integration
def test_int8_passage_embedding_is_recorded_close_to_fp32_served_by_fp32_queries_and_not_mixed_on_reuse(tmp_path, real_embedder):
    sources = _write_sources(tmp_path / "src")
    int8 = Embedder(int8=True)
    int8.warm_up()
    build_index([sources], tmp_path / "fp32", real_embedder, show_progress=False)
    first = build_index([sources], tmp_path / "int8", int8, show_progress=False)
    fp32_index, int8_index = ReferenceIndex.load(tmp_path / "fp32", real_embedder), ReferenceIndex.load(tmp_path / "int8", real_embedder)
    assert json.loads((tmp_path / "int8" / MANIFEST_FILE).read_text())["embedding_model"]["passages"] == "int8"
    assert fp32_index.manifest["embedding_model"]["passages"] == "fp32"
    cosines = (fp32_index.vectors() * int8_index.vectors()).sum(axis=1)
    assert cosines.min() > 0.98 and not np.array_equal(fp32_index.vectors(), int8_index.vectors())
    assert _top_doc(int8_index, real_embedder, "What pulls on the oceans to make tides?")[0] == "tides.md"
    assert build_index([sources], tmp_path / "int8", int8, show_progress=False).embedded_passages == 0
    switched = build_index([sources], tmp_path / "int8", real_embedder, show_progress=False)
    assert switched.embedded_passages == first.passages  # fp32 asked for: nothing of the int8 build is reused
