"""Scoring the service on held-out splits (the evaluation harness) and regenerating the benchmark
page. Used by scripts only: no runtime module imports it."""
