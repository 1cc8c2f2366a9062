"""The checking pipeline, one module or sub-package per stage: claims (split text into standalone,
check-worthy claims), retrieval (dense and BM25 search, fused), stance (does a passage support the
claim?) and verdict (one verdict per claim, with a confidence); pipeline.py composes them."""
