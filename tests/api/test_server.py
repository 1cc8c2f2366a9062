"""The real server: `claimcheck serve` under uvicorn, called over HTTP, and `claimcheck check`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import httpx
import pytest
from conftest import CLAIMCHECK, NATO_DOC, SEED_TEXT, free_port


def test_server_answers_over_http(server):
    with httpx.Client(base_url=server, timeout=60) as http:
        assert http.get("/healthz").json() == {"status": "alive"}
        assert http.get("/healthz", headers={"X-Request-ID": "abc123"}).headers["x-request-id"] == "abc123"
        response = http.post("/v1/check", json={"text": SEED_TEXT})
        assert response.status_code == 200
        claims = response.json()["claims"]
        assert len(claims) == 2
        assert claims[1]["verdict"] == "supported" and claims[1]["evidence"][0]["doc_id"] == NATO_DOC
        error = http.post("/v1/verify", json={"claim": ""})
        assert error.status_code == 422 and error.json()["error"]["code"] == "invalid_input"


def test_access_log_is_json_lines_with_the_request_id(server, server_log):
    started = time.perf_counter()
    answer = httpx.get(f"{server}/healthz", headers={"X-Request-ID": "trace-42"})
    wall_ms = 1000 * (time.perf_counter() - started)
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "trace-42"
    time.sleep(0.2)
    entries = [json.loads(line) for line in server_log.read_text().splitlines() if line.startswith("{")]
    [entry] = [e for e in entries if e.get("request_id") == "trace-42"]
    assert (entry["method"], entry["route"], entry["status"]) == ("GET", "/healthz", 200)
    assert isinstance(entry["ms"], float | int) and not isinstance(entry["ms"], bool)
    assert 0 <= entry["ms"] <= wall_ms + 0.05, (entry["ms"], wall_ms)  # the server's time is part of the client's (ms is rounded to 0.1)


def test_sighup_reloads_the_index(server, server_log):
    pid = int(httpx.get(f"{server}/readyz").json()["pid"])
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + 60
    while "SIGHUP reload" not in server_log.read_text():
        assert time.monotonic() < deadline, "no reload logged after SIGHUP"
        time.sleep(0.2)
    assert httpx.get(f"{server}/readyz").status_code == 200


def test_cli_check_prints_verdicts(server, tmp_path):
    paragraph = tmp_path / "paragraph.txt"
    paragraph.write_text(SEED_TEXT, encoding="utf-8")
    text = subprocess.run([CLAIMCHECK, "check", str(paragraph), "--server", server], capture_output=True, text=True, timeout=120)
    assert text.returncode == 0, text.stderr
    assert "[SUPPORTED" in text.stdout and "North Atlantic Treaty" in text.stdout
    assert "checked as:" not in text.stdout  # the seed's claims are checked as written


def test_cli_check_shows_what_a_rewritten_claim_was_checked_as(server, tmp_path):
    paragraph = tmp_path / "relative.txt"
    paragraph.write_text(
        "These pacts are weaker than Article 5 of the NATO Charter, however, which stipulates that an attack against one member"
        " is an attack against all.",
        encoding="utf-8",
    )
    text = subprocess.run([CLAIMCHECK, "check", str(paragraph), "--server", server], capture_output=True, text=True, timeout=120)
    assert text.returncode == 0, text.stderr
    assert "    checked as: Article 5 of the NATO Charter stipulates that an attack against one member" in text.stdout
    as_json = subprocess.run(
        [CLAIMCHECK, "check", "-", "--server", server, "--format", "json"],
        input=SEED_TEXT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert as_json.returncode == 0, as_json.stderr
    assert [c["verdict"] for c in json.loads(as_json.stdout)["claims"]][1] == "supported"


def test_cli_check_without_server_exits_1():
    result = subprocess.run(
        [CLAIMCHECK, "check", "-", "--server", f"http://127.0.0.1:{free_port()}"],
        input="Finland joined NATO in 2023.",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "cannot reach" in result.stderr


def test_cli_mistakes_get_a_message_not_a_traceback(server, tmp_path):
    paragraph = tmp_path / "paragraph.txt"
    paragraph.write_text(SEED_TEXT, encoding="utf-8")

    def check(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([CLAIMCHECK, "check", str(paragraph), *args], capture_output=True, text=True, timeout=120)

    for args, status, message in (
        (("--server", "notaurl"), 2, "--server 'notaurl' is not an http:// or https:// URL"),
        (("--server", "localhost:8000"), 2, "--server 'localhost:8000' is not an http:// or https:// URL"),
        (("--server", server, "--timeout", "0.001"), 1, "did not answer within 0.001 s"),
        (("--server", server, "--timeout", "-1"), 2, "must be a positive number of seconds"),
        (("--server", server, "--timeout", "soon"), 2, "'soon' is not a number of seconds"),
    ):
        result = check(*args)
        assert (result.returncode, "Traceback" in result.stderr) == (status, False), result.stderr
        assert message in result.stderr


def test_cli_output_cut_short_by_its_reader_is_no_error(server, tmp_path):
    """`claimcheck check f --format json | head`: the JSON is larger than a pipe holds, and head leaves early."""
    article = tmp_path / "article.txt"
    article.write_text(" ".join([SEED_TEXT] * 16) + " The Security Council has fifteen members.", encoding="utf-8")
    piped = subprocess.run(
        f"{CLAIMCHECK} check {article} --server {server} --format json | head -c 100",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert piped.stdout.startswith("{") and len(piped.stdout) == 100
    assert "Traceback" not in piped.stderr and "Error" not in piped.stderr, piped.stderr


def test_python_client_sync_and_async(server):
    import asyncio

    from service.client import AsyncClaimCheckClient, ClaimCheckClient, ServiceError

    with ClaimCheckClient(server) as client:
        checked = client.check(SEED_TEXT)
        assert [c.verdict for c in checked.claims][1] == "supported"
        assert client.verify("The Security Council has fifteen members.", top_k=2).evidence[1].doc_id
        batch = client.verify_batch(["Claim one is here.", "Claim two is here."], top_k=1)
        assert [r.claim for r in batch.results] == ["Claim one is here.", "Claim two is here."]
        assert client.claims(SEED_TEXT).claims[2].claim == "Do you think NATO will survive?"
        with pytest.raises(ServiceError) as caught:
            client.verify("   ")
        assert caught.value.status == 422 and caught.value.code == "invalid_input"

    async def run():
        async with AsyncClaimCheckClient(server) as client:
            return await asyncio.gather(client.verify("The treaty was signed in 1949."), client.claims("One. Two?"))

    verified, claims = asyncio.run(run())
    assert verified.verdict in {"supported", "refuted", "conflicting", "not_enough_info"}
    assert len(claims.claims) == 2


def test_python_client_retries_then_reports_unreachable():
    from service.client import ClaimCheckClient, ServiceUnreachable

    with ClaimCheckClient(f"http://127.0.0.1:{free_port()}", retries=2, backoff=0.01) as client:
        with pytest.raises(ServiceUnreachable, match="cannot reach"):
            client.verify("Anything.")
