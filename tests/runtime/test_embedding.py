"""The sentence embedder on the packaged model."""

from __future__ import annotations

import numpy as np
import pytest

from service.runtime.embedding import Embedder

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def embedder():
    embedder = Embedder()
    embedder.warm_up()
    return embedder


def test_repeated_texts_are_embedded_once_and_keep_their_rows(embedder):
    texts = ["Article 5 is the core of the alliance.", "The Charter was signed in San Francisco.", "Article 5 is the core of the alliance."]
    vectors = embedder.encode(texts)
    assert vectors.shape == (3, embedder.encode(texts[:1]).shape[1])
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_allclose(vectors[:2], embedder.encode(texts[:2]), atol=1e-6)
