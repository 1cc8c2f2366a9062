"""A few Prometheus metrics, kept in process and written in the text exposition format."""

from __future__ import annotations

import threading
from collections import Counter

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Request counts and latencies by endpoint, claims checked and verdict counts."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.latency_buckets: Counter[tuple[str, float]] = Counter()
        self.latency_sum: Counter[str] = Counter()
        self.latency_count: Counter[str] = Counter()
        self.verdicts: Counter[str] = Counter()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            self.latency_sum[route] += seconds
            self.latency_count[route] += 1
            for bound in LATENCY_BUCKETS:
                if seconds <= bound:
                    self.latency_buckets[(route, bound)] += 1

    def observe_verdicts(self, verdicts: list[str]) -> None:
        with self._lock:
            self.verdicts.update(verdicts)

    def render(self, passages: int | None, documents: int | None, load_seconds: float | None) -> str:
        """The metrics in Prometheus text format."""
        lines = [
            "# HELP claimcheck_requests_total HTTP requests by method, route and status.",
            "# TYPE claimcheck_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), count in sorted(self.requests.items()):
                lines.append(f'claimcheck_requests_total{{method="{method}",route="{route}",status="{status}"}} {count}')
            lines += [
                "# HELP claimcheck_request_seconds Request latency by route.",
                "# TYPE claimcheck_request_seconds histogram",
            ]
            for route in sorted(self.latency_count):
                for bound in LATENCY_BUCKETS:
                    lines.append(
                        f'claimcheck_request_seconds_bucket{{route="{route}",le="{bound}"}} {self.latency_buckets[(route, bound)]}'
                    )
                lines.append(f'claimcheck_request_seconds_bucket{{route="{route}",le="+Inf"}} {self.latency_count[route]}')
                lines.append(f'claimcheck_request_seconds_sum{{route="{route}"}} {self.latency_sum[route]:.6f}')
                lines.append(f'claimcheck_request_seconds_count{{route="{route}"}} {self.latency_count[route]}')
            lines += [
                "# HELP claimcheck_claims_checked_total Claims given a verdict.",
                "# TYPE claimcheck_claims_checked_total counter",
                f"claimcheck_claims_checked_total {sum(self.verdicts.values())}",
                "# HELP claimcheck_verdicts_total Verdicts given, by verdict.",
                "# TYPE claimcheck_verdicts_total counter",
            ]
            for verdict in ("supported", "refuted", "conflicting", "not_enough_info"):
                lines.append(f'claimcheck_verdicts_total{{verdict="{verdict}"}} {self.verdicts[verdict]}')
        if passages is not None:
            lines += [
                "# HELP claimcheck_index_passages Passages in the served index.",
                "# TYPE claimcheck_index_passages gauge",
                f"claimcheck_index_passages {passages}",
                "# HELP claimcheck_index_documents Documents in the served index.",
                "# TYPE claimcheck_index_documents gauge",
                f"claimcheck_index_documents {documents}",
            ]
        if load_seconds is not None:
            lines += [
                "# HELP claimcheck_model_load_seconds Time taken to load the models and the index at start-up.",
                "# TYPE claimcheck_model_load_seconds gauge",
                f"claimcheck_model_load_seconds {load_seconds}",
            ]
        return "\n".join(lines) + "\n"
