"""Schemathesis against the app's own OpenAPI: generated requests, valid or not, never get a 5xx,
and every error answer is the contract's `{"error": {"code", "message"}}`."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr
from schemathesis import GenerationMode

from service.api.factory import create_app
from service.app import app

# Small limits keep every generated request cheap: long texts, big batches and large top_k get a 413/422.
LIMITS = {
    "max_text_chars": 300,
    "max_claim_chars": 200,
    "max_batch_claims": 3,
    "max_claims_per_request": 3,
    "default_top_k": 2,
    "max_top_k": 3,
}
OPENAPI_PATHS = app.openapi()["paths"]
OPERATIONS = [(method.upper(), path) for path, operations in OPENAPI_PATHS.items() for method in operations]
WITH_BODY = [(method, path) for method, path in OPERATIONS if "requestBody" in OPENAPI_PATHS[path][method.lower()]]


@pytest.fixture(scope="module")
def api_schema(settings, pipeline):
    """The OpenAPI of an app on the shared pipeline; the admin token is set, so generated
    Authorization headers are checked (and never match) instead of the endpoint being off."""
    limited = settings.model_copy(update={**LIMITS, "admin_token": SecretStr("not-guessable-7f3a9c")})
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(limited, pipeline))


def _fuzz(api_schema, method: str, path: str, mode: GenerationMode, examples: int) -> None:
    """Call the operation with up to `examples` generated cases (reproducibly) and check each answer."""

    @hypothesis_settings(max_examples=examples, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(case=api_schema[path][method].as_strategy(generation_mode=mode))
    def call(case):
        response = case.call()
        assert response.status_code < 500, f"{case.method} {case.path} -> {response.status_code}: {response.text[:500]}"
        if not 200 <= response.status_code < 300:
            body = response.json()
            assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
            assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str), body
            assert "Traceback" not in response.text

    call()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_valid_requests(api_schema, method, path):
    _fuzz(api_schema, method, path, GenerationMode.POSITIVE, 15)


@pytest.mark.parametrize(("method", "path"), WITH_BODY)
def test_invalid_requests(api_schema, method, path):
    _fuzz(api_schema, method, path, GenerationMode.NEGATIVE, 25)
