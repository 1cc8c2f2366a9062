"""Soak test of a running server: concurrent clients for a while, then one JSON report.

    .venv/bin/python scripts/soak.py --clients 16 --seconds 600 --url http://127.0.0.1:8000

Each client loops over `/v1/verify` (one claim), `/v1/check` (a short paragraph) and `/v1/claims`
until the time is up. The report gives the requests, the errors by status, p50/p95/p99 latency,
the throughput, and the server's resident memory (VmRSS of the pid that `/readyz` names, or
`--pid`) after a warm-up of the same load (`--warm-up` seconds, so that start-up growth is not
counted as a leak), every 10 seconds, and at the end. `--save` stores the report for
docs/benchmarks.md. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
from tqdm import tqdm

CLAIMS = [
    "An armed attack against one NATO member is considered an attack against them all.",
    "The North Atlantic Treaty was signed in Washington in 1949.",
    "Any party may leave the North Atlantic Treaty one year after giving notice of denunciation.",
    "The Security Council of the United Nations has fifteen members.",
    "The UN Charter gives every member state the inherent right of self-defence.",
    "The Charter was signed in San Francisco in June 1945.",
    "Members of the United Nations must settle their international disputes by peaceful means.",
    "NATO was founded in 1975 by six countries.",
]
PARAGRAPHS = [
    "Finland joined NATO in April 2023. Sweden followed in March 2024. Do you think more will join?",
    "The Security Council has fifteen members, five of them permanent. The General Assembly meets every year.",
    "The North Atlantic Treaty was signed in 1949 by twelve countries. Critics say the alliance is obsolete.",
    "Members must settle their disputes by peaceful means. The Charter was signed in San Francisco in 1945.",
]
ENDPOINTS = {
    "/v1/verify": (0.5, lambda rng: {"claim": rng.choice(CLAIMS)}),
    "/v1/check": (0.3, lambda rng: {"text": rng.choice(PARAGRAPHS)}),
    "/v1/claims": (0.2, lambda rng: {"text": rng.choice(PARAGRAPHS)}),
}


def rss_mb(pid: int) -> float | None:
    """The resident memory of `pid` in MiB from /proc, or None where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


def _client(url: str, deadline: float, seed: int, timeout: float, samples: list) -> None:
    """One client: requests back to back until `deadline`, appending (endpoint, status, seconds)."""
    rng = random.Random(seed)
    paths, weights = list(ENDPOINTS), [weight for weight, _ in ENDPOINTS.values()]
    with httpx.Client(base_url=url, timeout=timeout) as http:
        while time.monotonic() < deadline:
            path = rng.choices(paths, weights)[0]
            started = time.perf_counter()
            try:
                status: int | str = http.post(path, json=ENDPOINTS[path][1](rng)).status_code
            except httpx.HTTPError as error:
                status = type(error).__name__
            samples.append((path, status, time.perf_counter() - started))


def _latency_ms(seconds: list[float]) -> dict:
    if not seconds:
        return {}
    p50, p95, p99 = np.percentile(np.array(seconds) * 1000, [50, 95, 99])
    return {"p50": round(float(p50), 1), "p95": round(float(p95), 1), "p99": round(float(p99), 1), "max": round(1000 * max(seconds), 1)}


def _endpoint_summary(samples: list, path: str) -> dict:
    seconds = [s for p, _, s in samples if p == path]
    return {"requests": len(seconds), "latency_ms": _latency_ms(seconds)}


def soak(
    url: str,
    clients: int = 16,
    seconds: float = 600,
    pid: int | None = None,
    timeout: float = 120,
    progress: bool = True,
    warm_up: float = 30,
) -> dict:
    """Run `clients` concurrent clients against the server at `url` for `seconds` (after
    `warm_up` seconds of the same load, not counted); return the report."""
    with httpx.Client(base_url=url, timeout=timeout) as http:
        ready = http.get("/readyz")
        ready.raise_for_status()
        pid = pid or ready.json().get("pid")
        for path, (_, body) in ENDPOINTS.items():
            http.post(path, json=body(random.Random(0))).raise_for_status()
    if warm_up > 0:
        warm_deadline = time.monotonic() + warm_up
        warmers = [
            threading.Thread(target=_client, args=(url, warm_deadline, -1 - seed, timeout, []), daemon=True) for seed in range(clients)
        ]
        for thread in warmers:
            thread.start()
        for thread in warmers:
            thread.join()
    rss_start = rss_mb(pid) if pid else None
    rss_samples = [rss_start]
    samples: list = []
    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=_client, args=(url, deadline, seed, timeout, samples), daemon=True) for seed in range(clients)]
    for thread in threads:
        thread.start()
    bar_format = "{desc}: {percentage:3.0f}%|{bar}| {n}/{total} s{postfix}"
    with tqdm(total=round(seconds), desc=f"soak, {clients} clients", bar_format=bar_format, disable=not progress) as bar:
        while any(thread.is_alive() for thread in threads):
            time.sleep(1)
            bar.n = min(round(time.monotonic() - started), bar.total)
            bar.set_postfix(requests=len(samples), errors=sum(1 for _, status, _ in samples if status != 200))
            if pid and bar.n % 10 == 0 and len(rss_samples) <= bar.n // 10:
                rss_samples.append(rss_mb(pid))
    elapsed = time.monotonic() - started
    rss_end = rss_mb(pid) if pid else None
    errors = Counter(str(status) for _, status, _ in samples if status != 200)
    return {
        "url": url,
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(samples),
        "errors": dict(errors),
        "error_rate": round(sum(errors.values()) / len(samples), 4) if samples else None,
        "throughput_rps": round(len(samples) / elapsed, 2),
        "latency_ms": _latency_ms([s for _, _, s in samples]),
        "by_endpoint": {path: _endpoint_summary(samples, path) for path in ENDPOINTS},
        "server": {
            "pid": pid,
            "rss_start_mb": rss_start,
            "rss_end_mb": rss_end,
            "rss_growth_pct": round(100 * (rss_end - rss_start) / rss_start, 1) if rss_start and rss_end else None,
            "rss_peak_mb": max((m for m in rss_samples + [rss_end] if m is not None), default=None),
            "rss_every_10_s_mb": rss_samples,
        },
        "warm_up_seconds": warm_up,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Soak test of a running claimcheck server; prints one JSON report.")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--pid", type=int, default=None, help="server pid for memory readings (default: the one /readyz names)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per request")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--warm-up", type=float, default=30, help="seconds of the same load before memory is first read")
    parser.add_argument("--save", action="store_true", help="store the report in docs/results/soak.json and regenerate docs/benchmarks.md")
    args = parser.parse_args(argv)
    try:
        report = soak(args.url, args.clients, args.seconds, args.pid, args.timeout, progress=not args.quiet, warm_up=args.warm_up)
    except httpx.HTTPError as error:
        print(f"soak: the server at {args.url} is not ready or fails its warm-up requests: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    if args.save:
        from service.evaluation.benchmarks import save_report

        save_report("soak", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
