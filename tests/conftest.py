"""Shared fixtures: one real index of the shipped sources, one loaded pipeline, one app."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The suite sets its own configuration: a developer's CLAIMCHECK_* variables must not leak in.
for variable in [name for name in os.environ if name.startswith("CLAIMCHECK_") and name != "CLAIMCHECK_DATA_DIR"]:
    del os.environ[variable]

REPO = Path(__file__).resolve().parent.parent
SHIPPED_SOURCES = REPO / "index" / "sources"
SEED_TEXT = (
    "Ukraine formally applied to join the US-led alliance in September 2022. Article 5 of the NATO Charter "
    "stipulates that an attack against one member must be treated as an attack against the alliance as a whole. "
    "Do you think NATO will survive?"
)
REFUTED_CLAIM = "Under the North Atlantic Treaty, an armed attack against one member is not considered an attack against all of them."
NATO_DOC = "north_atlantic_treaty_1949_en.md"


@pytest.fixture(scope="session")
def shipped_index(tmp_path_factory) -> Path:
    """The default index of the shipped reference texts, built with the real build code."""
    from service.embedding import Embedder
    from service.index import build_index

    out = tmp_path_factory.mktemp("indexes") / "default"
    build_index([SHIPPED_SOURCES], out, Embedder(), show_progress=False)
    return out


@pytest.fixture(scope="session")
def settings(shipped_index):
    from service.config import Settings

    return Settings(index_dir=shipped_index)


@pytest.fixture(scope="session")
def pipeline(settings):
    from service.pipeline import Pipeline

    loaded = Pipeline(settings)
    loaded.warm_up()
    return loaded


def wait_until_ready(client, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready after {timeout} s: {client.get('/readyz').json()}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def client(settings, pipeline):
    from fastapi.testclient import TestClient

    from service.app import create_app

    with TestClient(create_app(settings, pipeline)) as test_client:
        wait_until_ready(test_client)
        yield test_client
