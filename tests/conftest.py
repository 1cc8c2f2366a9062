"""Shared fixtures: one real index of the shipped sources, one loaded pipeline, one app, one real server.

Every test runs in one lane, named by its marker: `integration` (real models, the real index, a
server), `browser` (chromium) or `unit` (the rest: no server, no browser, no training; models are
fakes from tests/fakes.py or none). A test that uses a fixture below that loads real models is
`integration` whatever its module says; `make test-fast` runs `-m unit`. `slow` marks the few tests
that take tens of seconds even among integration tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
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
CLAIMCHECK = str(Path(sys.executable).parent / "claimcheck")


LANES = ("unit", "integration", "browser")
REAL_MODEL_FIXTURES = {"shipped_index", "settings", "pipeline", "client", "server"}


def pytest_collection_modifyitems(config, items):
    """Put every test in exactly one lane: integration when it uses a fixture with real models,
    unit when no lane is marked."""
    for item in items:
        marked = {lane for lane in LANES if item.get_closest_marker(lane)}
        if REAL_MODEL_FIXTURES & set(item.fixturenames) and "browser" not in marked:
            marked = {"integration"}
            item.add_marker(pytest.mark.integration)
        if not marked:
            item.add_marker(pytest.mark.unit)
        elif "unit" in marked and len(marked) > 1:
            raise pytest.UsageError(f"{item.nodeid} is marked unit but runs in the {sorted(marked - {'unit'})} lane")


@pytest.fixture(scope="session")
def shipped_index(tmp_path_factory) -> Path:
    """The default index of the shipped reference texts, built with the real build code."""
    from service.index.build import build_index
    from service.runtime.embedding import Embedder

    out = tmp_path_factory.mktemp("indexes") / "default"
    build_index([SHIPPED_SOURCES], out, Embedder(), show_progress=False)
    return out


@pytest.fixture(scope="session")
def settings(shipped_index):
    from service.config import Settings

    return Settings(index_dir=shipped_index)


@pytest.fixture(scope="session")
def pipeline(settings):
    from service.pipeline.pipeline import Pipeline

    loaded = Pipeline(settings)
    loaded.warm_up()
    yield loaded
    loaded.close()


def wait_until_ready(client, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get("/readyz").status_code != 200:
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready after {timeout} s: {client.get('/readyz').json()}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def client(settings, pipeline):
    from fastapi.testclient import TestClient

    from service.api.factory import create_app

    with TestClient(create_app(settings, pipeline)) as test_client:
        wait_until_ready(test_client)
        yield test_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("server") / "server.log"


@contextlib.contextmanager
def running_server(index_dir: Path, log_path: Path, **settings: str):
    """A real `claimcheck serve` (uvicorn) on a free port of 127.0.0.1 serving `index_dir`, with more
    CLAIMCHECK_* settings from keyword arguments; yields its URL once it is ready, and stops it."""
    port = free_port()
    env = {**os.environ, "CLAIMCHECK_INDEX_DIR": str(index_dir), "CLAIMCHECK_PORT": str(port), "HF_HUB_OFFLINE": "1"}
    env.update({f"CLAIMCHECK_{name.upper()}": value for name, value in settings.items()})
    log = open(log_path, "w")
    process = subprocess.Popen([CLAIMCHECK, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server not ready in 180 s"
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="session")
def server(shipped_index, server_log):
    """A real server on the shipped index; yields its URL."""
    with running_server(shipped_index, server_log) as url:
        yield url
