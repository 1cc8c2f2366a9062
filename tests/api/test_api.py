"""Every endpoint of the contract, with good and bad input, through the real app and models."""

from __future__ import annotations

import gzip
import json
import re
import time

import pytest
from conftest import NATO_DOC, REFUTED_CLAIM, SEED_TEXT, wait_until_ready
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.api.factory import create_app

JSON = {"content-type": "application/json"}


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"] and "Traceback" not in body["error"]["message"]
    return body["error"]


def assert_claim_result(result: dict) -> None:
    assert result["verdict"] in {"supported", "refuted", "conflicting", "not_enough_info"}
    assert 0.0 <= result["confidence"] <= 1.0
    for evidence in result["evidence"]:
        assert evidence["stance"] in {"supports", "refutes", "neutral"}
        assert set(evidence["stance_probs"]) == {"supports", "refutes", "neutral"}
        assert sum(evidence["stance_probs"].values()) == pytest.approx(1.0, abs=1e-3)
        assert evidence["end"] > evidence["start"] >= 0


def test_seed_scenario_check(client):
    response = client.post("/v1/check", json={"text": SEED_TEXT})
    assert response.status_code == 200, response.text
    claims = response.json()["claims"]
    assert [c["claim"] for c in claims] == [SEED_TEXT[c["start"] : c["end"]] for c in claims]
    assert not any(c["claim"].endswith("?") for c in claims), "the question must not be checked"
    article5 = next(c for c in claims if c["claim"].startswith("Article 5"))
    assert_claim_result(article5)
    assert article5["verdict"] == "supported", article5
    best = article5["evidence"][0]
    assert best["doc_id"] == NATO_DOC and best["stance"] == "supports"
    assert "an armed attack against one or more of them" in best["text"]
    assert best["section"] == "Article 5"
    assert 0.0 <= article5["checkworthiness"] <= 1.0


def test_seed_scenario_refuted_claim(client):
    response = client.post("/v1/verify", json={"claim": REFUTED_CLAIM})
    assert response.status_code == 200, response.text
    result = response.json()
    assert_claim_result(result)
    assert result["verdict"] == "refuted", result
    assert result["start"] is None and result["end"] is None
    conflicting = [e for e in result["evidence"] if e["stance"] == "refutes"]
    assert any(e["doc_id"] == NATO_DOC and "armed attack against one or more of them" in e["text"] for e in conflicting)


OFF_TOPIC = ["the", "asdf qwerty", "The moon is made of cheese.", "Those are three false statements in a row, folks."]


@pytest.mark.parametrize("claim", OFF_TOPIC)
def test_a_claim_the_reference_texts_are_not_about_gets_not_enough_info(client, claim):
    result = client.post("/v1/verify", json={"claim": claim}).json()
    assert result["verdict"] == "not_enough_info"
    assert len(result["evidence"]) == 5  # the default top_k: the passages are there, ...
    assert all(e["retrieval_score"] < 0.25 for e in result["evidence"])  # ... but none of them counted


def test_evidence_offsets_locate_text_in_the_source_document(client, shipped_index):
    result = client.post(
        "/v1/verify", json={"claim": "Members of the United Nations settle disputes by peaceful means.", "top_k": 3}
    ).json()
    from conftest import SHIPPED_SOURCES

    assert len(result["evidence"]) == 3
    for evidence in result["evidence"]:
        document = (SHIPPED_SOURCES / evidence["doc_id"]).read_text(encoding="utf-8")
        assert document[evidence["start"] : evidence["end"]] == evidence["text"]
        sentence = evidence["sentence"]
        if sentence is not None:
            assert document[sentence["start"] : sentence["end"]] == sentence["text"]
            assert evidence["start"] <= sentence["start"] < sentence["end"] <= evidence["end"]


def test_claims_lists_every_candidate_with_offsets(client):
    response = client.post("/v1/claims", json={"text": SEED_TEXT})
    assert response.status_code == 200
    claims = response.json()["claims"]
    assert len(claims) == 3
    for claim in claims:
        assert SEED_TEXT[claim["start"] : claim["end"]] == claim["claim"]
        assert 0.0 <= claim["checkworthiness"] <= 1.0
    assert claims[2]["claim"] == "Do you think NATO will survive?"
    assert claims[2]["checkworthiness"] < 0.5 < claims[1]["checkworthiness"]
    assert [claim["checkworthy"] for claim in claims] == [True, True, False]


def test_check_checks_exactly_the_claims_marked_checkworthy(client):
    text = SEED_TEXT + " Any party may leave the treaty one year after giving notice. The weather in Brussels was nice."
    candidates = client.post("/v1/claims", json={"text": text}).json()["claims"]
    checked = client.post("/v1/check", json={"text": text, "top_k": 1}).json()["claims"]
    assert 0 < len(checked) < len(candidates)
    assert [(c["start"], c["end"]) for c in checked] == [(c["start"], c["end"]) for c in candidates if c["checkworthy"]]


def test_a_configured_threshold_decides_checkworthy_and_what_check_checks(client, pipeline, monkeypatch):
    candidates = client.post("/v1/claims", json={"text": SEED_TEXT}).json()["claims"]
    cut = max(c["checkworthiness"] for c in candidates)  # a claim exactly at the threshold is checked
    monkeypatch.setattr(pipeline, "settings", pipeline.settings.model_copy(update={"checkworthiness_threshold": cut}))
    marked = client.post("/v1/claims", json={"text": SEED_TEXT}).json()["claims"]
    assert [c["checkworthy"] for c in marked] == [c["checkworthiness"] == cut for c in candidates]
    assert sum(c["checkworthy"] for c in marked) == 1
    checked = client.post("/v1/check", json={"text": SEED_TEXT, "top_k": 1}).json()["claims"]
    assert [c["claim"] for c in checked] == [c["claim"] for c in marked if c["checkworthy"]]


def test_verify_batch_keeps_order_and_top_k(client):
    claims = [REFUTED_CLAIM, "The United Nations has a Security Council."]
    response = client.post("/v1/verify/batch", json={"claims": claims, "top_k": 2})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["claim"] for r in results] == claims
    assert all(len(r["evidence"]) == 2 for r in results)


def _same_answer(ours, theirs, tolerance: float = 1e-3) -> bool:
    """Equal JSON, numbers within `tolerance` (padding changes fp32 sums by about 1e-6, which can
    move an int8 activation by one step)."""
    if isinstance(ours, dict):
        return isinstance(theirs, dict) and ours.keys() == theirs.keys() and all(_same_answer(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list):
        return isinstance(theirs, list) and len(ours) == len(theirs) and all(map(_same_answer, ours, theirs))
    if isinstance(ours, float) or isinstance(theirs, float):
        return abs(ours - theirs) <= tolerance
    return ours == theirs


def test_a_claim_gets_the_same_answer_alone_and_in_a_batch(client):
    """Batch mates (and their padding) must never move an answer. Dynamic int8 quantization fails
    this: it scales activations per batch, which flipped 25 of 385 HealthVer stances."""
    claims = [
        REFUTED_CLAIM,
        "The United Nations has a Security Council.",
        "Article 5 says an attack on one member in Europe or North America is an attack on all, and the Parties will assist it.",
        "NATO was founded in 1949.",
    ]
    together = client.post("/v1/verify/batch", json={"claims": claims, "top_k": 3}).json()["results"]
    for claim, batched in zip(claims, together, strict=True):
        alone = client.post("/v1/verify", json={"claim": claim, "top_k": 3}).json()
        assert _same_answer(batched, alone), (batched, alone)


@pytest.fixture
def model_work(pipeline, monkeypatch):
    """What reaches the models: every claim sent to retrieval, and the number of (passage, claim)
    pairs sent to the stance model, by the shared pipeline's worker."""
    import service.pipeline.pipeline as pipeline_module

    retrieved, stance_pairs = [], []
    retrieve, predict = pipeline_module.retrieve, pipeline.stance.predict

    def counting_retrieve(embedder, jobs, vectors=None):
        retrieved.extend(claim for _, claims, _ in jobs for claim in claims)
        return retrieve(embedder, jobs, vectors)

    def counting_predict(pairs):
        stance_pairs.append(len(pairs))
        return predict(pairs)

    monkeypatch.setattr(pipeline_module, "retrieve", counting_retrieve)
    monkeypatch.setattr(pipeline.stance, "predict", counting_predict)
    return retrieved, stance_pairs


def test_a_batch_computes_each_distinct_claim_once_and_answers_every_position(client, model_work):
    retrieved, stance_pairs = model_work
    security_council = "The United Nations has a Security Council."
    claims = [REFUTED_CLAIM, security_council, REFUTED_CLAIM, REFUTED_CLAIM]
    response = client.post("/v1/verify/batch", json={"claims": claims, "top_k": 3})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert retrieved == [REFUTED_CLAIM, security_council]
    pairs_for_the_batch = sum(stance_pairs)

    retrieved.clear()
    stance_pairs.clear()
    alone = {claim: client.post("/v1/verify", json={"claim": claim, "top_k": 3}).json() for claim in (REFUTED_CLAIM, security_council)}
    assert retrieved == [REFUTED_CLAIM, security_council] and sum(stance_pairs) == pairs_for_the_batch > 0
    assert [result["claim"] for result in results] == claims
    assert results[0] == results[2] == results[3]
    for claim, result in zip(claims, results, strict=True):
        assert_claim_result(result)
        assert len(result["evidence"]) == 3
        assert _same_answer(result, alone[claim]), (result, alone[claim])


def test_repeated_claims_get_results_of_their_own(pipeline, model_work):
    retrieved, _ = model_work
    results = pipeline.verify([REFUTED_CLAIM, REFUTED_CLAIM], top_k=2).results
    assert retrieved == [REFUTED_CLAIM]
    first, second = results
    assert first == second and first.evidence  # the same content ...
    assert first is not second and first.evidence is not second.evidence  # ... in separate objects
    assert all(ours is not theirs for ours, theirs in zip(first.evidence, second.evidence, strict=True))
    assert first.evidence[0].stance_probs is not second.evidence[0].stance_probs


def test_a_sentence_repeated_in_a_text_is_checked_once_and_answered_at_each_place(client, model_work):
    retrieved, _ = model_work
    sentence = SEED_TEXT[: SEED_TEXT.index(".") + 1]  # "Ukraine formally applied to join ... in September 2022."
    text = f"{sentence} {sentence}"
    response = client.post("/v1/check", json={"text": text, "top_k": 2})
    assert response.status_code == 200, response.text
    claims = response.json()["claims"]
    assert [(claim["start"], claim["end"]) for claim in claims] == [(0, len(sentence)), (len(sentence) + 1, len(text))]
    assert retrieved == [sentence]
    first, second = ({key: value for key, value in claim.items() if key not in ("start", "end")} for claim in claims)
    assert first == second and first["claim"] == sentence


def test_check_of_text_without_checkworthy_claims_is_empty(client):
    response = client.post("/v1/check", json={"text": "Hello everyone! What do you think?"})
    assert response.status_code == 200
    assert response.json()["claims"] == []


@pytest.mark.parametrize(("path", "body"), [("/v1/verify", {"claim": "🎉🎉 ?!"}), ("/v1/verify/batch", {"claims": ["Fine claim.", "..."]})])
def test_a_claim_with_no_letter_or_digit_is_422(client, path, body):
    message = assert_error(client.post(path, json=body), 422)["message"]
    assert message == ("claim" if path == "/v1/verify" else "claims.1") + " has no letter or digit to check"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/check", {"text": "   "}),
        ("/v1/claims", {"text": ""}),
        ("/v1/verify", {"claim": " \n "}),
        ("/v1/verify/batch", {"claims": ["fine claim", "  "]}),
        ("/v1/verify/batch", {"claims": ["&nbsp;"]}),
        ("/v1/check", {"text": "\u00a0\u2003\u200b&nbsp;"}),  # str.strip() leaves the zero-width space and the entity
    ],
)
def test_blank_input_is_422(client, path, body):
    assert_error(client.post(path, json=body), 422)
    message = assert_error(client.post(path, json=body), 422)["message"]
    if path == "/v1/verify/batch":
        assert message == f"claims.{len(body['claims']) - 1} is blank"
    if path == "/v1/verify":
        assert message == "claim is blank"


@pytest.mark.parametrize(
    "body",
    [
        {"claim": "x", "top_k": 0},
        {"claim": "x", "top_k": 51},
        {"claim": "x", "top_k": "five"},
        {"claim": "x", "top_k": "5"},
        {"claim": "x", "top_k": True},
        {"claim": "x", "top_k": 2.0},
        {"claim": 42},
        {"claim": ["a"]},
        {},
        [],
    ],
)
def test_malformed_verify_requests_are_422_with_reason(client, body):
    error = assert_error(client.post("/v1/verify", json=body), 422)
    assert error["code"] == "invalid_request"


def test_unpaired_surrogate_is_422(client):
    response = client.post("/v1/verify", content=b'{"claim": "unpaired \\ud800 surrogate"}', headers={"content-type": "application/json"})
    assert "surrogate" in assert_error(response, 422)["message"]


def test_invalid_json_is_422(client):
    response = client.post("/v1/check", content=b'{"text": "abc"', headers={"content-type": "application/json"})
    assert assert_error(response, 422)["message"] == "the request body is not valid JSON (the error is at character 14)"


def test_a_body_sent_without_the_json_content_type_is_422_saying_so(client):
    response = client.post("/v1/verify", content=b'{"claim": "NATO has 32 members."}', headers={"content-type": "text/plain"})
    assert "content-type: application/json" in assert_error(response, 422)["message"]
    sent_as_json = client.post("/v1/verify", json=["NATO has 32 members."])  # the header was right: no advice about it
    assert "content-type" not in assert_error(sent_as_json, 422)["message"]


def test_body_over_limit_is_413(client):
    body = json.dumps({"text": "word " * 300_000}).encode()
    assert len(body) > 1_000_000
    assert_error(client.post("/v1/check", content=body, headers={"content-type": "application/json"}), 413)


def test_streamed_body_over_limit_is_413(client):
    def chunks():
        yield b'{"text": "'
        for _ in range(120):
            yield b"word " * 2000
        yield b'"}'

    assert_error(client.post("/v1/check", content=chunks(), headers={"content-type": "application/json"}), 413)


def test_limits_from_settings(settings, pipeline):
    limited = settings.model_copy(update={"max_text_chars": 60, "max_claim_chars": 20, "max_batch_claims": 2, "max_claims_per_request": 1})
    with TestClient(create_app(limited, pipeline)) as small:
        wait_until_ready(small)
        assert "limit" in assert_error(small.post("/v1/check", json={"text": "a" * 61}), 413)["message"]
        assert_error(small.post("/v1/claims", json={"text": "a" * 61}), 413)
        assert_error(small.post("/v1/verify", json={"claim": "a" * 21}), 413)
        assert_error(small.post("/v1/verify/batch", json={"claims": ["a", "b", "c"]}), 413)
        two_claims = "Finland joined NATO in April 2023. Sweden joined in 2024."
        assert "check-worthy claims" in assert_error(small.post("/v1/check", json={"text": two_claims}), 413)["message"]
    few_tokens = settings.model_copy(update={"max_text_tokens": 12})
    with TestClient(create_app(few_tokens, pipeline)) as small:
        wait_until_ready(small)
        assert small.post("/v1/claims", json={"text": "<p>Finland joined NATO in April 2023.</p>"}).status_code == 200
        message = assert_error(small.post("/v1/check", json={"text": "a " * 13}), 413)["message"]
        assert "13 words and symbols" in message and "CLAIMCHECK_MAX_TEXT_TOKENS" in message
        assert_error(small.post("/v1/claims", json={"text": two_claims * 2}), 413)


def test_unknown_route_and_wrong_method(client):
    assert_error(client.get("/v1/nothing"), 404)
    assert_error(client.get("/v1/verify"), 405)


def test_operations_endpoints(client, shipped_index):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    manifest = client.get("/v1/index").json()
    assert manifest["document_count"] == 2 and manifest["passage_count"] > 10
    assert manifest["embedding_model"]["dimension"] == 384
    client.post("/v1/verify", json={"claim": REFUTED_CLAIM})
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert 'claimcheck_requests_total{method="POST",route="/v1/verify",status="200"}' in metrics.text
    assert "claimcheck_index_passages" in metrics.text
    page = client.get("/")
    assert page.status_code == 200 and "<textarea" in page.text
    for path in ("/", "/healthz", "/readyz"):  # uptime probes send HEAD
        assert client.head(path).status_code == 200
    assert client.get("/openapi.json").json()["paths"].keys() >= {"/v1/check", "/v1/claims", "/v1/verify", "/v1/verify/batch"}


def request_counts(metrics_text: str) -> dict[tuple[str, str, int], int]:
    """claimcheck_requests_total by (method, route, status)."""
    counts = {}
    for method, route, status, count in re.findall(
        r'^claimcheck_requests_total\{method="([^"]*)",route="([^"]*)",status="(\d+)"\} (\d+)$', metrics_text, re.MULTILINE
    ):
        counts[(method, route, int(status))] = int(count)
    return counts


def test_metrics_count_each_answer_under_the_route_it_was_for(settings, pipeline):
    """The API docs count under their own paths, and answers given before routing (413, 415) under
    the route the request was for; only a path that no route has is "unmatched"."""
    from service.api.factory import DOCS_ASSETS_URL

    small = settings.model_copy(update={"max_body_bytes": 1000})
    with TestClient(create_app(small, pipeline)) as fresh:
        wait_until_ready(fresh)
        for path in ("/openapi.json", "/docs", "/redoc", f"{DOCS_ASSETS_URL}/swagger-ui.css"):
            assert fresh.get(path).status_code == 200, path
        assert fresh.get(f"{DOCS_ASSETS_URL}/no-such-file.js").status_code == 404
        assert_error(fresh.post("/v1/check", content=b'{"text": "' + b"x" * 2000 + b'"}', headers=JSON), 413)
        assert_error(fresh.post("/v1/verify/batch", content=iter([b'{"claims": ["', b"x" * 2000, b'"]}']), headers=JSON), 413)
        compressed = gzip.compress(json.dumps({"claim": REFUTED_CLAIM}).encode())
        assert_error(fresh.post("/v1/verify", content=compressed, headers={**JSON, "content-encoding": "gzip"}), 415)
        assert_error(fresh.get("/v1/verify"), 405)
        assert_error(fresh.get("/v1/no-such-route-a1b2c3"), 404)
        metrics = fresh.get("/metrics").text
    counts = request_counts(metrics)
    for expected in [
        ("GET", "/openapi.json", 200),
        ("GET", "/docs", 200),
        ("GET", "/redoc", 200),
        ("GET", DOCS_ASSETS_URL, 200),
        ("GET", DOCS_ASSETS_URL, 404),
        ("POST", "/v1/check", 413),
        ("POST", "/v1/verify/batch", 413),
        ("POST", "/v1/verify", 415),
        ("GET", "/v1/verify", 405),
        ("GET", "unmatched", 404),
    ]:
        assert counts.get(expected) == 1, (expected, counts)
    assert [key for key in counts if key[1] == "unmatched"] == [("GET", "unmatched", 404)]
    assert "a1b2c3" not in metrics and "no-such-file" not in metrics and "swagger-ui.css" not in metrics
    assert 'claimcheck_request_seconds_count{route="/openapi.json"} 1' in metrics


def test_admin_reload(settings, pipeline, shipped_index, tmp_path, caplog):
    with TestClient(create_app(settings, pipeline)) as disabled:
        wait_until_ready(disabled)
        assert_error(disabled.post("/v1/admin/reload", headers={"Authorization": "Bearer anything"}), 403)
    for blank in ("", "  "):  # an empty CLAIMCHECK_ADMIN_TOKEN disables admin; it is not an empty password
        with TestClient(create_app(settings.model_copy(update={"admin_token": SecretStr(blank)}), pipeline)) as disabled:
            wait_until_ready(disabled)
            for presented in ("Bearer ", "Bearer", f"Bearer {blank}"):
                assert_error(disabled.post("/v1/admin/reload", headers={"Authorization": presented}), 403)

    with TestClient(create_app(settings.model_copy(update={"admin_token": SecretStr("s3cret")}), pipeline)) as admin:
        wait_until_ready(admin)
        assert_error(admin.post("/v1/admin/reload"), 401)
        assert_error(admin.post("/v1/admin/reload", headers={"Authorization": "Bearer wrong"}), 401)
        with caplog.at_level("INFO", logger="claimcheck"):
            response = admin.post("/v1/admin/reload", headers={"Authorization": "Bearer s3cret"})
        assert response.status_code == 200 and response.json()["passage_count"] > 10
        assert f"admin reload: now serving index {response.json()['build_id']}" in caplog.text

    live = pipeline.index.build_id
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    refusing = settings.model_copy(update={"admin_token": SecretStr("s3cret"), "index_dir": broken})
    with TestClient(create_app(refusing, pipeline)) as admin:
        wait_until_ready(admin)
        caplog.clear()
        error = assert_error(admin.post("/v1/admin/reload", headers={"Authorization": "Bearer s3cret"}), 409)
        assert "manifest" in error["message"]
        assert f"admin reload refused, the old index keeps serving: {error['message']}" in caplog.text
        assert admin.get("/v1/index").json()["build_id"] == live
        assert admin.post("/v1/verify", json={"claim": REFUTED_CLAIM}).status_code == 200


def test_reload_recovers_a_service_that_started_without_an_index(settings, shipped_index, tmp_path):
    target = tmp_path / "served"
    starting = settings.model_copy(update={"index_dir": target, "admin_token": SecretStr("s3cret")})
    with TestClient(create_app(starting)) as client:
        deadline = time.monotonic() + 120
        while not client.app.state.load_error and time.monotonic() < deadline:
            time.sleep(0.1)
        assert_error(client.get("/readyz"), 503)
        target.symlink_to(shipped_index.resolve())
        response = client.post("/v1/admin/reload", headers={"Authorization": "bearer s3cret"})
        assert response.status_code == 200, response.text
        assert client.get("/readyz").status_code == 200
        assert client.post("/v1/verify", json={"claim": "The Security Council has fifteen members."}).status_code == 200


def test_not_ready_without_an_index(settings, tmp_path):
    missing = settings.model_copy(update={"index_dir": tmp_path / "no-index-here"})
    with TestClient(create_app(missing)) as client:
        deadline = time.monotonic() + 120
        while not client.app.state.load_error and time.monotonic() < deadline:
            time.sleep(0.1)
        error = assert_error(client.get("/readyz"), 503)
        assert "no index" in error["message"]
        assert_error(client.post("/v1/verify", json={"claim": "Anything."}), 503)
        assert client.get("/healthz").status_code == 200


def test_claimreview_export_uses_schema_org_fields(client):
    response = client.post(
        "/v1/claimreview",
        json={"claim": REFUTED_CLAIM, "author": "Example Desk", "url": "https://example.org/r/1", "claim_author": "A. Speaker"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    review = response.json()
    assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == REFUTED_CLAIM
    assert review["author"] == {"@type": "Organization", "name": "Example Desk"}
    rating = review["reviewRating"]
    assert rating["@type"] == "Rating" and rating["worstRating"] <= rating["ratingValue"] <= rating["bestRating"]
    assert rating["alternateName"]
    assert review["itemReviewed"]["@type"] == "Claim" and review["itemReviewed"]["author"]["name"] == "A. Speaker"
    assert len(review["datePublished"]) == 10 and review["url"] == "https://example.org/r/1"
    verdict = client.post("/v1/verify", json={"claim": REFUTED_CLAIM}).json()["verdict"]
    from service.api.claimreview import RATINGS

    assert (rating["ratingValue"], rating["alternateName"]) == RATINGS[verdict]
    assert_error(client.post("/v1/claimreview", json={"claim": ""}), 422)


@pytest.fixture
def held_verify(pipeline, monkeypatch):
    """The shared pipeline's verify batches held until the test releases them (the real
    handler then runs), with room for one waiting claim in the queue."""
    import threading

    release, started = threading.Event(), threading.Event()
    real = pipeline.batcher.handlers["verify"]

    def held(works):
        started.set()
        release.wait(30)
        return real(works)

    monkeypatch.setitem(pipeline.batcher.handlers, "verify", held)
    monkeypatch.setattr(pipeline.batcher, "max_queued", 1)
    yield started, release
    release.set()


def test_a_full_work_queue_answers_429_at_once_and_loses_nothing(client, held_verify):
    from concurrent.futures import ThreadPoolExecutor

    started, release = held_verify
    post = lambda claim: client.post("/v1/verify", json={"claim": claim, "top_k": 2})  # noqa: E731
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(post, "NATO was founded in 1949.")
        assert started.wait(30)
        waiting = pool.submit(post, "The UN Charter was signed in San Francisco.")
        deadline = time.monotonic() + 10
        while client.app.state.pipeline.batcher.queued_weight < 1:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        refused = post("The Security Council has fifteen members.")
        error = assert_error(refused, 429)
        assert error["code"] == "overloaded" and refused.headers["Retry-After"] == "1"
        release.set()
        assert running.result(60).status_code == 200 and waiting.result(60).status_code == 200


def test_more_waiting_requests_than_server_threads_reach_the_queue_limit(client, held_verify, monkeypatch):
    """Requests wait for the model worker on the event loop, not in a 40-thread pool: with room
    for 50 queued claims, 60 simultaneous requests give 50 answers and 9 immediate 429s."""
    from concurrent.futures import ThreadPoolExecutor

    started, release = held_verify
    monkeypatch.setattr(client.app.state.pipeline.batcher, "max_queued", 50)
    post = lambda n: client.post("/v1/verify", json={"claim": f"NATO had {n} members in 2024.", "top_k": 1})  # noqa: E731
    with ThreadPoolExecutor(60) as pool:
        running = pool.submit(post, 0)
        assert started.wait(30)
        others = [pool.submit(post, n) for n in range(1, 60)]
        deadline = time.monotonic() + 20
        while sum(future.done() for future in others) < 9:
            assert time.monotonic() < deadline, "the refusals did not come at once"
            time.sleep(0.05)
        assert client.app.state.pipeline.batcher.queued_weight == 50
        release.set()
        statuses = sorted(future.result(120).status_code for future in others)
    assert running.result(60).status_code == 200
    assert statuses == [200] * 50 + [429] * 9


def test_a_request_past_its_time_budget_answers_429(client, held_verify, monkeypatch):
    monkeypatch.setattr(client.app.state.pipeline.settings, "request_timeout_s", 0.3)
    started = time.monotonic()
    error = assert_error(client.post("/v1/verify", json={"claim": "NATO was founded in 1949."}), 429)
    assert error["code"] == "deadline_exceeded" and "time budget" in error["message"]
    assert time.monotonic() - started < 5
