"""Hostile input: broken bytes, wrong types, huge or deeply nested bodies, odd characters. The answer
is a correct 200 or a 4xx with the contract's error body, never a 5xx, a crash or a traceback."""

from __future__ import annotations

import gzip
import json
import socket
import time
import zlib
from urllib.parse import urlsplit

import pytest
from conftest import REFUTED_CLAIM

JSON = {"content-type": "application/json"}
TEXT_ENDPOINTS = ["/v1/check", "/v1/claims"]
POST_ENDPOINTS = ["/v1/check", "/v1/claims", "/v1/verify", "/v1/verify/batch", "/v1/claimreview"]
GOOD_BODY = {
    "/v1/check": {"text": REFUTED_CLAIM},
    "/v1/claims": {"text": REFUTED_CLAIM},
    "/v1/verify": {"claim": REFUTED_CLAIM},
    "/v1/verify/batch": {"claims": [REFUTED_CLAIM]},
    "/v1/claimreview": {"claim": REFUTED_CLAIM},
}


def assert_error(response, *statuses: int) -> dict:
    """A 4xx from `statuses` with exactly the contract's error body and no traceback."""
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body["error"]


def assert_offsets(text: str, claims: list[dict]) -> None:
    for claim in claims:
        assert text[claim["start"] : claim["end"]] == claim["claim"], claim


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize("raw", [b'{"text": "caf\xe9 \xff\xfe", "claim": "\xc3\x28"}', b"\xff\xfe\x00{", b"\x80" * 64])
def test_invalid_utf8_is_4xx(client, path, raw):
    error = assert_error(client.post(path, content=raw, headers=JSON), 422)
    assert error["code"] == "invalid_request" and error["message"].startswith("the request body is not valid JSON")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        *[(path, {"text": value}) for path in TEXT_ENDPOINTS for value in (42, 4.2, ["a"], None, {"t": "x"}, True)],
        *[("/v1/check", {"text": "Fine text.", "top_k": value}) for value in ("5", 2.5, 2.0, True, [3], {"k": 1}, 10**30, -1)],
        *[("/v1/verify", {"claim": value}) for value in (7, None, ["a claim"], False)],
        ("/v1/verify/batch", {"claims": "one claim"}),
        ("/v1/verify/batch", {"claims": [1, 2]}),
        ("/v1/verify/batch", {"claims": [None]}),
        ("/v1/verify/batch", {"claims": []}),
        ("/v1/claimreview", {"claim": "NATO was founded in 1949.", "author": 5}),
        ("/v1/claimreview", {"claim": "NATO was founded in 1949.", "url": ["x"]}),
        ("/v1/check", "just a string"),
        ("/v1/check", 12),
        ("/v1/check", None),
    ],
)
def test_wrong_json_types_are_422(client, path, body):
    assert_error(client.post(path, content=json.dumps(body), headers=JSON), 422)


def test_ten_megabyte_body_is_413(client):
    body = b'{"text": "' + b"x" * 10_000_000 + b'"}'
    assert_error(client.post("/v1/check", content=body, headers=JSON), 413)


def test_ten_megabyte_chunked_body_is_413_on_the_real_server(server):
    """Streamed without a Content-Length: the server answers 413 once the limit is passed,
    without reading all 10 MB first."""
    url = urlsplit(server)
    head = f"POST /v1/check HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"x" * 65536
    sent = 0
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(head.encode() + b'a\r\n{"text": "\r\n')
        try:
            while sent < 10_000_000:
                sock.sendall(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            sock.sendall(b'2\r\n"}\r\n0\r\n\r\n')
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed the connection before the end: that is the point
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"413", answer[:300]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "too_large"


@pytest.mark.parametrize("nested", [b"[" * 100_000, b'{"text": ' + b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000])
def test_deeply_nested_json_is_422_saying_so(client, nested):
    error = assert_error(client.post("/v1/check", content=nested, headers=JSON), 422)
    assert error["code"] == "too_deeply_nested"
    assert error["message"].startswith("the request body is JSON nested too deeply") and "levels" in error["message"]
    assert client.get("/healthz").status_code == 200


def test_json_nested_a_little_is_read_and_not_called_too_deep(client):
    error = assert_error(client.post("/v1/check", content=b'{"text": ' + b"[" * 50 + b"]" * 50 + b"}", headers=JSON), 422)
    assert error["code"] == "invalid_request" and "nested" not in error["message"]


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("br", lambda body: body), ("GZIP, identity", gzip.compress)],
)
def test_a_compressed_body_is_415_asking_for_plain_json(client, path, encoding, compress):
    body = compress(json.dumps(GOOD_BODY[path]).encode())
    error = assert_error(client.post(path, content=body, headers={**JSON, "content-encoding": encoding}), 415)
    assert error["code"] == "unsupported_encoding"
    assert "compressed" in error["message"] and "send the JSON uncompressed" in error["message"]


def test_a_compressed_body_sent_in_chunks_is_415(client):
    body = gzip.compress(json.dumps(GOOD_BODY["/v1/verify"]).encode())
    chunks = iter([body[:10], body[10:]])  # no Content-Length: Transfer-Encoding: chunked
    assert_error(client.post("/v1/verify", content=chunks, headers={**JSON, "content-encoding": "gzip"}), 415)


def test_identity_encoding_and_an_encoding_without_a_body_are_accepted(client):
    plain = json.dumps(GOOD_BODY["/v1/claims"]).encode()
    assert client.post("/v1/claims", content=plain, headers={**JSON, "content-encoding": "identity"}).status_code == 200
    assert client.get("/healthz", headers={"content-encoding": "gzip"}).status_code == 200


# Texts with odd characters around and inside claims; each must be answered with offsets into it.
ODD_TEXTS = {
    "nul and controls": "\x00The North Atlantic Treaty was signed in 1949.\x07 The United Nations has a Security Council.\x1b[0m\x7f",
    "nul inside": "The Security\x00 Council has fifteen members. NATO was founded in Washington.",
    "tabs and breaks": "\tThe treaty was signed in 1949.\r\n\x0bThe Charter created the\x0c Security Council.\x85\u2028Done.",
    "bidi marks": "\u202eThe North Atlantic Treaty was signed in 1949.\u202c \u200fThe United Nations has a Security Council.\u200e",
    "isolates": "\u2067NATO\u2069 was founded in 1949. \u2066The Charter\u2069 was signed in San Francisco.",
    "zero width": "\ufeffThe\u200b North\u200d Atlantic\u200c Treaty was signed in 1949.\u2060 The Security Council has fifteen members.",
    "astral": "\U0001f600 The North Atlantic Treaty was signed in 1949. \U0001d54f The Security Council has fifteen members. \U0001f1fa",
    "combining": "Tha\u0301t tre\u0301aty\u0335 was signed in 1949. Z\u0351\u0352\u0353a\u0354lgo\u0355 text is here.",
}


@pytest.mark.parametrize("text", ODD_TEXTS.values(), ids=ODD_TEXTS.keys())
def test_odd_characters_are_answered_with_exact_offsets(client, text):
    claims = client.post("/v1/claims", json={"text": text})
    assert claims.status_code == 200, claims.text
    assert claims.json()["claims"]
    assert_offsets(text, claims.json()["claims"])
    checked = client.post("/v1/check", json={"text": text, "top_k": 1})
    assert checked.status_code == 200, checked.text
    assert_offsets(text, checked.json()["claims"])
    verified = client.post("/v1/verify", json={"claim": text, "top_k": 1})
    assert verified.status_code == 200, verified.text
    assert verified.json()["claim"] == text


def test_escaped_surrogate_pair_is_one_character(client):
    raw = b'{"text": "\\ud83d\\ude00 The North Atlantic Treaty was signed in 1949."}'
    response = client.post("/v1/claims", content=raw, headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json()["claims"]
    assert_offsets(json.loads(raw)["text"], response.json()["claims"])


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/v1/check", b'{"text": "lone \\ud800 high"}'),
        ("/v1/claims", b'{"text": "lone \\udfff low"}'),
        ("/v1/claims", b'{"text": "reversed \\udc00\\ud800 pair"}'),
        ("/v1/verify", b'{"claim": "\\ud800"}'),
        ("/v1/verify/batch", b'{"claims": ["fine", "bad \\udbff"]}'),
        ("/v1/claimreview", b'{"claim": "bad \\ud800"}'),
        ("/v1/claimreview", b'{"claim": "NATO was founded in 1949.", "author": "bad \\ud800"}'),
        ("/v1/claimreview", b'{"claim": "NATO was founded in 1949.", "url": "https://x/\\udfff"}'),
        ("/v1/claimreview", b'{"claim": "NATO was founded in 1949.", "claim_author": "\\udc00"}'),
    ],
)
def test_lone_surrogates_are_422(client, path, raw):
    assert "surrogate" in assert_error(client.post(path, content=raw, headers=JSON), 422)["message"]


@pytest.mark.parametrize("path", TEXT_ENDPOINTS)
def test_ten_thousand_tiny_sentences_are_answered_in_bounded_time(client, path):
    text = "A. " * 10_000
    started = time.monotonic()
    response = client.post(path, json={"text": text})
    seconds = time.monotonic() - started
    if response.status_code == 200:
        assert_offsets(text, response.json()["claims"])
    else:
        assert_error(response, 413, 422, 429)
    assert seconds < 60, f"{path} took {seconds:.1f} s"


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", json.dumps({"text": REFUTED_CLAIM})),
        ("application/x-www-form-urlencoded", "text=The+treaty+was+signed+in+1949."),
        ("multipart/form-data; boundary=xyz", '--xyz\r\nContent-Disposition: form-data; name="text"\r\n\r\nabc\r\n--xyz--\r\n'),
        ("application/xml", "<text>abc</text>"),
        ("application/json; charset=latin-1", '{"text": "caf\xe9"}'),
        ("", json.dumps({"text": REFUTED_CLAIM})),
    ],
)
def test_wrong_content_type_is_4xx(client, content_type, content):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/v1/claims", content=content.encode("latin-1"), headers=headers)
    if response.status_code != 200:
        assert_error(response, 400, 415, 422)


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize("headers", [JSON, {}])
def test_empty_body_is_422(client, path, headers):
    assert_error(client.post(path, content=b"", headers=headers), 422)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/nothing", 404),
        ("POST", "/v2/check", 404),
        ("GET", "/v1/check/../../etc/passwd", 404),
        ("GET", "/%00", 404),
        ("GET", "/v1/" + "a" * 5000, 404),
        ("DELETE", "/v1/check", 405),
        ("PUT", "/v1/verify", 405),
        ("PATCH", "/v1/verify/batch", 405),
        ("GET", "/v1/claims", 405),
        ("GET", "/v1/admin/reload", 405),
        ("POST", "/healthz", 405),
        ("DELETE", "/v1/index", 405),
        ("OPTIONS", "/v1/check", 405),
    ],
)
def test_unknown_paths_and_methods(client, method, path, status):
    assert_error(client.request(method, path), status)


def test_every_endpoint_still_works_after_the_abuse(client):
    for path, body in GOOD_BODY.items():
        assert client.post(path, json=body).status_code == 200, path
