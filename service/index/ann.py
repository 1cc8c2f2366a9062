"""FAISS indexes by factory string: the default by corpus size, training, filling and search parameters.

Passage vectors are L2-normalised, so every index uses the inner-product metric (= cosine similarity).
`build_faiss_index` is the one path from vectors and a factory string ("Flat", "HNSW32",
"IVF4000,Flat", "IVF4000,SQ8", "IVF4000,PQ48", ...) to a searchable index; the build script and
`scripts/bench_ann.py` both use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from service.errors import ClaimCheckError

AUTO = "auto"
FLAT_MAX_VECTORS = 100_000
HNSW_MAX_VECTORS = 2_000_000
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
IVF_MIN_NPROBE = 16
IVF_PROBED_SHARE = 16
TRAINING_VECTORS_PER_LIST = 64
MIN_TRAINING_SAMPLE = 65_536
ADD_BATCH = 65_536


class IndexTypeError(ClaimCheckError):
    """A FAISS factory string that cannot be built, or not from this many vectors."""

    code = "bad_index_type"


@dataclass
class AnnIndex:
    """A trained, filled FAISS index and the settings it was built and is searched with."""

    factory: str
    index: object
    search_params: dict[str, int]
    build_params: dict[str, int]


def auto_index_type(count: int) -> str:
    """The factory string `--index-type auto` picks for `count` 384-d vectors, on a laptop's few cores and memory:
    "Flat" (exact) below FLAT_MAX_VECTORS, "HNSW32" below HNSW_MAX_VECTORS, "IVF{lists},SQ8" above.
    Why, measured with scripts/bench_ann.py: docs/how-it-works.md, "Measurements behind the design"."""
    if count < FLAT_MAX_VECTORS:
        return "Flat"
    if count < HNSW_MAX_VECTORS:
        return "HNSW32"
    return f"IVF{ivf_lists(count)},SQ8"


def ivf_lists(count: int) -> int:
    """A usual number of IVF lists for `count` vectors: about 4 sqrt(count)."""
    return max(1, 4 * math.isqrt(count))


def ivf_nprobe(lists: int) -> int:
    """The IVF lists a search probes: a 16th of them, at least IVF_MIN_NPROBE (FAISS and Milvus builds alike)."""
    return min(lists, max(IVF_MIN_NPROBE, lists // IVF_PROBED_SHARE))


def new_faiss_index(factory: str, dimension: int, count: int):
    """An empty inner-product index for `factory`, checked to be trainable on `count` vectors; raises IndexTypeError."""
    import faiss

    try:
        index = faiss.IndexFlatIP(dimension) if factory == "Flat" else faiss.index_factory(dimension, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as error:
        raise IndexTypeError(
            f"--index-type {factory!r} is not a usable FAISS factory string for {dimension}-d vectors: {_faiss_message(error)}"
        ) from error
    if index.metric_type != faiss.METRIC_INNER_PRODUCT:
        raise IndexTypeError(f"--index-type {factory!r} does not search by inner product; use Flat, HNSW or IVF types")
    needed, what = _training_needs(index)
    if count < needed:
        raise IndexTypeError(
            f"--index-type {factory!r} needs at least {needed} passages to train its {what}, the corpus has {count}; "
            f"choose a smaller type or --index-type Flat (exact; the default below {FLAT_MAX_VECTORS:,} passages)"
        )
    hnsw = _hnsw(index)
    if hnsw is not None:
        hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    ivf = _ivf(index)
    for part in (_core(index), faiss.downcast_index(ivf) if ivf is not None else None):
        if hasattr(part, "do_polysemous_training"):
            # Polysemous codes only serve polysemous search, which is never used; training them takes minutes.
            part.do_polysemous_training = False
    return index


def build_faiss_index(vectors: np.ndarray, factory: str, progress: Callable[[int], None] | None = None) -> AnnIndex:
    """Train an index of type `factory` on (a sample of) `vectors`, add them all (row n = vector n) and set its search
    parameters; `progress` is called with the number of vectors added after each batch."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index = new_faiss_index(factory, vectors.shape[1], len(vectors))
    build_params = {}
    hnsw = _hnsw(index)
    if hnsw is not None:
        build_params["efConstruction"] = hnsw.efConstruction
    if not index.is_trained:
        sample = _training_sample(vectors, index)
        build_params["training_vectors"] = len(sample)
        try:
            index.train(sample)
        except RuntimeError as error:
            raise IndexTypeError(f"--index-type {factory!r} could not be trained: {_faiss_message(error)}") from error
        del sample
    for start in range(0, len(vectors), ADD_BATCH):
        try:
            index.add(vectors[start : start + ADD_BATCH])
        except RuntimeError as error:
            raise IndexTypeError(f"--index-type {factory!r} cannot hold passage vectors: {_faiss_message(error)}") from error
        if progress is not None:
            progress(min(ADD_BATCH, len(vectors) - start))
    search_params = default_search_params(index)
    apply_search_params(index, search_params)
    return AnnIndex(factory, index, search_params, build_params)


def default_search_params(index) -> dict[str, int]:
    """nprobe for IVF indexes (a 16th of the lists, at least IVF_MIN_NPROBE: recall@10 about 0.9 on the
    benchmark's data), efSearch for HNSW, nothing for Flat."""
    ivf = _ivf(index)
    if ivf is not None:
        return {"nprobe": ivf_nprobe(ivf.nlist)}
    if _hnsw(index) is not None:
        return {"efSearch": HNSW_EF_SEARCH}
    return {}


def apply_search_params(index, params: dict[str, int]) -> None:
    """Set FAISS search parameters by name (nprobe, efSearch, ...); raises RuntimeError for one the index lacks."""
    import faiss

    space = faiss.ParameterSpace()
    for name, value in params.items():
        space.set_index_parameter(index, name, value)


def enable_reconstruction(index) -> None:
    """Let `index.reconstruct` read stored vectors back (IVF indexes need a direct map for it)."""
    ivf = _ivf(index)
    if ivf is not None:
        ivf.make_direct_map()


def _faiss_message(error: RuntimeError) -> str:
    """The useful part of a FAISS C++ error: what follows 'Error: ', without the source location."""
    text = str(error).strip().splitlines()[0]
    return text.split("Error: ", 1)[-1] if "Error: " in text else text.split(": ", 1)[-1]


def _core(index):
    """The index under any pre-transforms (OPQ, PCA), downcast to its class."""
    import faiss

    index = faiss.downcast_index(index)
    while isinstance(index, faiss.IndexPreTransform):
        index = faiss.downcast_index(index.index)
    return index


def _ivf(index):
    import faiss

    return faiss.try_extract_index_ivf(index)


def _hnsw(index):
    import faiss

    core = _core(index)
    return core.hnsw if isinstance(core, faiss.IndexHNSW) else None


def _training_needs(index) -> tuple[int, str]:
    """The fewest vectors FAISS can train `index` on, and what they train."""
    import faiss

    needs = [(0, "nothing")]
    ivf = _ivf(index)
    if ivf is not None:
        needs.append((ivf.nlist, f"{ivf.nlist} IVF lists"))
    quantizer = getattr(faiss.downcast_index(ivf) if ivf is not None else _core(index), "pq", None)
    if isinstance(quantizer, faiss.ProductQuantizer):
        needs.append((quantizer.ksub, f"{quantizer.ksub}-centroid product quantizer"))
    return max(needs)


def _training_sample(vectors: np.ndarray, index) -> np.ndarray:
    """A fixed random sample of `vectors` large enough to train `index`: TRAINING_VECTORS_PER_LIST per IVF list,
    at least MIN_TRAINING_SAMPLE (all of them when there are fewer)."""
    ivf = _ivf(index)
    size = max(MIN_TRAINING_SAMPLE, TRAINING_VECTORS_PER_LIST * ivf.nlist if ivf is not None else 0)
    if size >= len(vectors):
        return vectors
    rows = np.sort(np.random.default_rng(0).choice(len(vectors), size, replace=False))
    return vectors[rows]
