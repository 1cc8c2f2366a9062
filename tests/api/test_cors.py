"""CORS: off unless CLAIMCHECK_CORS_ORIGINS lists origins, and then only for those."""

from __future__ import annotations

import pytest
from conftest import wait_until_ready
from fastapi.testclient import TestClient

from service.api.factory import create_app
from service.config import Settings

DESK = "https://desk.example"
OTHER = "https://evil.example"


def preflight(client: TestClient, origin: str):
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    return client.options("/v1/verify", headers=headers)


@pytest.fixture(scope="module")
def cors_client(settings, pipeline):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLAIMCHECK_CORS_ORIGINS", f'["{DESK}"]')
        origins = Settings().cors_origins
    assert origins == [DESK]
    with TestClient(create_app(settings.model_copy(update={"cors_origins": origins}), pipeline)) as client:
        wait_until_ready(client)
        yield client


def test_cors_is_off_by_default(client):
    response = client.post("/v1/claims", json={"text": "NATO was founded in 1949."}, headers={"Origin": DESK})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    denied = preflight(client, DESK)
    assert denied.status_code >= 400 and "access-control-allow-origin" not in denied.headers


def test_configured_origin_is_allowed_and_others_are_not(cors_client):
    allowed = cors_client.post("/v1/claims", json={"text": "NATO was founded in 1949."}, headers={"Origin": DESK})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == DESK
    granted = preflight(cors_client, DESK)
    assert granted.status_code == 200 and granted.headers["access-control-allow-origin"] == DESK
    assert "POST" in granted.headers["access-control-allow-methods"]

    other = cors_client.post("/v1/claims", json={"text": "NATO was founded in 1949."}, headers={"Origin": OTHER})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    refused = preflight(cors_client, OTHER)
    assert refused.status_code == 400 and refused.headers.get("access-control-allow-origin") != OTHER
    assert refused.json()["error"]["code"] == "cors_refused" and "origin" in refused.json()["error"]["message"]


def test_refusals_before_the_app_carry_cors_headers_so_a_browser_can_read_them(cors_client):
    too_large = cors_client.post("/v1/verify", content=b"x" * 2_000_000, headers={"Origin": DESK, "content-type": "application/json"})
    compressed = cors_client.post("/v1/verify", content=b"\x1f\x8b", headers={"Origin": DESK, "content-encoding": "gzip"})
    assert (too_large.status_code, compressed.status_code) == (413, 415)
    assert too_large.headers["access-control-allow-origin"] == compressed.headers["access-control-allow-origin"] == DESK
