"""The OpenAPI description: every JSON request body and every JSON 200 answer carries an example,
and the examples are real answers that still validate against the models."""

from __future__ import annotations

import inspect
import re

import pytest
from conftest import SHIPPED_SOURCES
from pydantic import BaseModel

from service.api import openapi_examples, schemas
from service.api.factory import create_app

SPEC = create_app().openapi()
OPERATIONS = [(method.upper(), path, operation) for path, item in SPEC["paths"].items() for method, operation in item.items()]
WITH_BODY = [(method, path, operation) for method, path, operation in OPERATIONS if "requestBody" in operation]
MODELS = [
    model
    for _, model in inspect.getmembers(schemas, inspect.isclass)
    if issubclass(model, BaseModel) and model.__module__ == schemas.__name__
]


def is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def examples_of(media: dict) -> list:
    """The examples of an OpenAPI media type object: its own, or its schema's."""
    found = [media["example"]] if "example" in media else [entry["value"] for entry in media.get("examples", {}).values()]
    schema = resolve(media.get("schema", {}))
    return found + schema.get("examples", []) + ([schema["example"]] if "example" in schema else [])


def test_the_walk_sees_every_endpoint():
    names = {f"{method} {path}" for method, path, _ in OPERATIONS}
    assert {"POST /v1/check", "POST /v1/verify/batch", "GET /v1/index", "GET /healthz", "GET /readyz"} <= names


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_every_json_request_body_and_answer_has_an_example(method, path, operation):
    bodies = operation.get("requestBody", {}).get("content", {})
    for media_type, media in bodies.items():
        if is_json(media_type):
            assert examples_of(media), f"{method} {path}: the {media_type} request body has no example"
    answers = operation["responses"].get("200", {}).get("content", {})
    for media_type, media in answers.items():
        if is_json(media_type):
            assert examples_of(media), f"{method} {path}: the 200 {media_type} answer has no example"


def body_models() -> set[str]:
    """The models that are a whole request body or answer of some operation (not just a part of one):
    each must carry its own examples."""
    names = set()
    for _, _, operation in OPERATIONS:
        contents = [operation.get("requestBody", {}).get("content", {})]
        contents += [answer.get("content", {}) for answer in operation["responses"].values()]
        for content in contents:
            for media_type, media in content.items():
                if is_json(media_type) and "$ref" in media.get("schema", {}):
                    names.add(media["schema"]["$ref"].rsplit("/", 1)[-1])
    return names


BODY_MODELS = [model for model in MODELS if model.__name__ in body_models()]


def test_the_body_models_are_found():
    names = {model.__name__ for model in BODY_MODELS}
    assert {"CheckRequest", "CheckResponse", "VerifyRequest", "ClaimResultOut", "VerifyBatchRequest", "ErrorResponse"} <= names
    assert "EvidenceOut" not in names  # a part of answers, described by its fields


@pytest.mark.parametrize("model", BODY_MODELS, ids=lambda model: model.__name__)
def test_model_examples_validate(model):
    examples = (model.model_config.get("json_schema_extra") or {}).get("examples", [])
    assert examples, f"{model.__name__} has no examples"
    for example in examples:
        model.model_validate(example)


def test_example_evidence_is_real_text_of_the_shipped_documents():
    for evidence in (openapi_examples.SECURITY_COUNCIL_EVIDENCE, openapi_examples.FINLAND_EVIDENCE):
        document = (SHIPPED_SOURCES / evidence["doc_id"]).read_text(encoding="utf-8")
        assert document[evidence["start"] : evidence["end"]] == evidence["text"]
        assert document[evidence["sentence"]["start"] : evidence["sentence"]["end"]] == evidence["sentence"]["text"]


def test_examples_without_a_model_have_the_keys_of_the_real_answers(client):
    """/healthz, /readyz and /v1/index answer plain dicts: their examples must keep up with them."""
    for path, example in [
        ("/healthz", openapi_examples.ALIVE),
        ("/readyz", openapi_examples.READY),
        ("/v1/index", openapi_examples.INDEX_MANIFEST),
    ]:
        answer = client.get(path).json()
        assert set(example) == set(answer), path
        assert {key: type(value) for key, value in example.items()} == {key: type(value) for key, value in answer.items()}, path


@pytest.mark.parametrize(("method", "path", "operation"), WITH_BODY, ids=[f"{m} {p}" for m, p, _ in WITH_BODY])
def test_request_examples_are_answered(client, method, path, operation):
    """Each request example, sent as it is to the real app, gets a 200."""
    for media in operation["requestBody"]["content"].values():
        for example in examples_of(media):
            response = client.request(method, path, json=example)
            assert response.status_code == 200, f"{method} {path} {example}: {response.text}"
            if path == "/v1/claimreview":
                answer = response.json()
                assert set(answer) == set(openapi_examples.CLAIM_REVIEW)
                assert answer["claimReviewed"] == openapi_examples.CLAIM_REVIEW["claimReviewed"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_pages_load_nothing_from_the_internet(client, page):
    """The service runs offline: its API pages use scripts and styles it serves itself."""
    answer = client.get(page)
    assert answer.status_code == 200
    html = answer.text
    assert "://" not in html
    assets = re.findall(r"""(?:src|href)=["'](/[^"']+)["']""", html)
    assert any(asset.endswith(".js") for asset in assets)
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset


def test_a_skip_reason_the_client_does_not_know_yet_is_still_read():
    """The contract lists skip reasons "for example": a newer server may add one, and an older client must read it."""
    answer = {"claims": [], "skipped": [{"start": 0, "end": 4, "reason": "a_reason_added_later", "message": "m"}]}
    answer |= {"index_build_id": "b", "seconds": 0.1}
    parsed = schemas.CheckResponse.model_validate(answer)
    assert parsed.skipped[0].reason == "a_reason_added_later"
